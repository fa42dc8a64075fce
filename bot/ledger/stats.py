"""What `solarb report` computes from booked trades: counts, PnL, failures by reason, latency percentiles.

Pure functions over `Trade` records; integers stay integers (lamports, ns). Percentiles are nearest-rank
(the smallest value with at least q% of the sample at or below it), so each one is a measured value.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.ledger.model import Outcome, Trade

STAGES = (
    ("decision_to_sign_ns", "decision → signed"),
    ("sign_to_send_ns", "signed → sent"),
    ("send_to_confirm_ns", "sent → confirmed"),
)


def percentile(sorted_values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile of an ascending, non-empty sequence."""
    if not sorted_values:
        raise ValueError("percentile of an empty sample")
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True, slots=True)
class Latency:
    stage: str
    label: str
    n: int
    p50: int
    p90: int
    p99: int
    max: int


@dataclass(frozen=True, slots=True)
class Summary:
    trades: int
    landed: int
    reverted: int
    expired: int
    realized_lamports: int
    fee_lamports: int
    tip_lamports: int
    expected_landed_lamports: int  # what the landed trades were expected to make
    realized_landed_lamports: int  # what they made
    failures: tuple[tuple[str, int], ...]  # (reason, count), most frequent first
    latency: tuple[Latency, ...]
    first_ns: int
    last_ns: int

    @property
    def landing_rate(self) -> float:
        """Share of sent trades that landed and did what they should (display only)."""
        return self.landed / self.trades if self.trades else 0.0


def failure_reason(t: Trade) -> str:
    if t.outcome is Outcome.EXPIRED:
        return "expired (blockhash too old before landing)"
    return f"reverted: {t.error or 'no error text'}"


def summarize(trades: Sequence[Trade]) -> Summary:
    counts = Counter(t.outcome for t in trades)
    failures = Counter(failure_reason(t) for t in trades if t.outcome is not Outcome.LANDED)
    latency = []
    for attr, label in STAGES:
        values = sorted(v for t in trades if (v := getattr(t, attr)) is not None)
        if values:
            latency.append(
                Latency(
                    attr,
                    label,
                    len(values),
                    percentile(values, 50),
                    percentile(values, 90),
                    percentile(values, 99),
                    values[-1],
                )
            )
    landed = [t for t in trades if t.outcome is Outcome.LANDED]
    return Summary(
        trades=len(trades),
        landed=counts[Outcome.LANDED],
        reverted=counts[Outcome.REVERTED],
        expired=counts[Outcome.EXPIRED],
        realized_lamports=sum(int(t.realized_lamports or 0) for t in trades),
        fee_lamports=sum(t.fee_lamports for t in trades),
        tip_lamports=sum(t.tip_lamports for t in trades),
        expected_landed_lamports=sum(t.expected_net_lamports for t in landed),
        realized_landed_lamports=sum(int(t.realized_lamports or 0) for t in landed),
        failures=tuple(sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))),
        latency=tuple(latency),
        first_ns=min((t.recorded_ns for t in trades), default=0),
        last_ns=max((t.recorded_ns for t in trades), default=0),
    )


def cumulative_pnl(trades: Sequence[Trade]) -> tuple[list[int], list[int]]:
    """(recorded_ns, running realized PnL in lamports) after each trade, in booking order."""
    times, running, total = [], [], 0
    for t in sorted(trades, key=lambda t: t.recorded_ns):
        total += int(t.realized_lamports or 0)
        times.append(t.recorded_ns)
        running.append(total)
    return times, running


def format_lamports(lamports: int) -> str:
    """Signed SOL with all nine decimals, then the exact lamports: +0.000123456 SOL (123456)."""
    sign = "-" if lamports < 0 else "+"
    whole, frac = divmod(abs(lamports), 1_000_000_000)
    return f"{sign}{whole}.{frac:09d} SOL ({lamports})"


def format_ns(ns: int) -> str:
    if ns < 1_000:
        return f"{ns} ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.1f} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.2f} s"
