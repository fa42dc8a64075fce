"""The ledger's records: journal entries, trades, risk state and lookup tables.

Money is integers. Lamport amounts fit a signed 64-bit column (the whole SOL supply is about 6e17
lamports); raw token amounts are u64 on chain and can exceed it, so the ledger keeps them as decimal
text and does their arithmetic in Python.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

WSOL_MINT = "So11111111111111111111111111111111111111112"
NS_PER_DAY = 86_400_000_000_000


class JournalState(enum.StrEnum):
    """A journalled transaction: `in_flight` until its outcome is known; `unknown` stays to be reconciled."""

    IN_FLIGHT = "in_flight"
    LANDED = "landed"
    REVERTED = "reverted"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


UNRESOLVED = (JournalState.IN_FLIGHT, JournalState.UNKNOWN)


class Outcome(enum.StrEnum):
    """How a sent trade ended: it landed and did what it should, it landed and failed (fee paid), or its
    blockhash's lastValidBlockHeight passed without it landing."""

    LANDED = "landed"
    REVERTED = "reverted"
    EXPIRED = "expired"


def utc_day(wall_ns: int) -> str:
    """The UTC calendar day of a wall-clock time in ns since the epoch, as YYYY-MM-DD."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=wall_ns // NS_PER_DAY)).isoformat()


def format_utc(wall_ns: int) -> str:
    """A wall-clock time as YYYY-MM-DD HH:MM:SS UTC (display)."""
    return dt.datetime.fromtimestamp(wall_ns / 1e9, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def day_start_ns(day: str) -> int:
    """Wall-clock ns at 00:00 UTC of `day` (YYYY-MM-DD)."""
    return (dt.date.fromisoformat(day) - dt.date(1970, 1, 1)).days * NS_PER_DAY


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A signed transaction written durably before its first send, so a restart can rebroadcast or
    reconcile it. `signed_tx` is the exact wire bytes; `created_ns` is wall-clock ns."""

    signature: str
    route_id: str
    opportunity_id: str
    signed_tx: bytes
    blockhash: str
    last_valid_block_height: int
    expected_net_lamports: int
    created_ns: int
    instance: str = ""
    state: JournalState = JournalState.IN_FLIGHT
    error: str = ""
    slot: int | None = None
    updated_ns: int = 0


@dataclass(frozen=True, slots=True)
class Trade:
    """One sent trade and what it did, from the transaction's own pre/post balances.

    `mint` is the route's start token; `pre_amount` / `post_amount` its raw balance in the wallet's
    token account, `pre_lamports` / `post_lamports` the fee payer's SOL (fee and tip come out of it).
    `realized_lamports` is the wallet's change valued in lamports: for a wSOL start it is exactly
    (post_amount - pre_amount) + (post_lamports - pre_lamports) and the ledger computes it when omitted;
    for any other start token the caller values the token change and passes the total.
    Timings are ns (monotonic differences); None where a stage did not happen. `decided_ns` is the
    wall-clock time of the decision; the ledger stamps `recorded_ns` and `day` (UTC) when it books it.
    """

    signature: str
    route_id: str
    opportunity_id: str
    outcome: Outcome
    mint: str = WSOL_MINT
    pre_amount: int = 0
    post_amount: int = 0
    pre_lamports: int = 0
    post_lamports: int = 0
    fee_lamports: int = 0
    tip_lamports: int = 0
    expected_net_lamports: int = 0
    realized_lamports: int | None = None
    error: str = ""
    slot: int | None = None
    legs: int = 0
    amount_in: int = 0
    decision_to_sign_ns: int | None = None
    sign_to_send_ns: int | None = None
    send_to_confirm_ns: int | None = None
    decided_ns: int = 0
    instance: str = ""
    recorded_ns: int = 0
    day: str = ""

    @property
    def token_delta(self) -> int:
        return self.post_amount - self.pre_amount

    @property
    def sol_delta(self) -> int:
        return self.post_lamports - self.pre_lamports


def realized_lamports_of(trade: Trade) -> int:
    """The trade's PnL in lamports; ValueError when it cannot be derived or contradicts the balances."""
    if trade.mint == WSOL_MINT:
        exact = trade.token_delta + trade.sol_delta
        if trade.realized_lamports is not None and trade.realized_lamports != exact:
            raise ValueError(
                f"trade {trade.signature}: realized_lamports {trade.realized_lamports} != wSOL change "
                f"{trade.token_delta} + SOL change {trade.sol_delta}"
            )
        return exact
    if trade.realized_lamports is None:
        raise ValueError(
            f"trade {trade.signature}: start token {trade.mint} is not wSOL; pass realized_lamports"
        )
    return trade.realized_lamports


@dataclass(frozen=True, slots=True)
class KillSwitch:
    """Tripped until `solarb risk reset`; `reason` says why, `since_ns` is wall-clock ns."""

    tripped: bool
    reason: str = ""
    since_ns: int = 0
    instance: str = ""


@dataclass(frozen=True, slots=True)
class Quarantine:
    """A route the bot will not trade until `solarb risk reset --route ID`."""

    route_id: str
    reason: str
    since_ns: int
    instance: str = ""


@dataclass(frozen=True, slots=True)
class DailyPnl:
    """One UTC day: realized PnL of the trades booked that day plus the latest marks (unrealized PnL of
    inventory) of every instance. `loss` is what the daily limit is compared with."""

    day: str
    realized_lamports: int
    marked_lamports: int
    trades: int = 0

    @property
    def total_lamports(self) -> int:
        return self.realized_lamports + self.marked_lamports

    @property
    def loss_lamports(self) -> int:
        return max(0, -self.total_lamports)


@dataclass(frozen=True, slots=True)
class LookupTableRecord:
    """An address lookup table created by set-up. `deactivated_slot` / `closed_ns` are set by cleanup."""

    address: str
    authority: str
    addresses: tuple[str, ...]
    created_ns: int
    last_used_ns: int
    deactivated_slot: int | None = None
    closed_ns: int | None = None

    @property
    def active(self) -> bool:
        return self.deactivated_slot is None and self.closed_ns is None


def plan_lookup_tables(
    tables: list[LookupTableRecord], needed: list[str], authority: str
) -> tuple[list[LookupTableRecord], list[str]]:
    """Which recorded active tables of `authority` to reuse for `needed`, and the addresses none holds.

    Greedy: the table covering most still-uncovered addresses first, until no table adds any. The
    returned missing addresses keep the order of `needed` (set-up appends them to a new table).
    """
    left = dict.fromkeys(needed)
    pool = [t for t in tables if t.active and t.authority == authority]
    chosen: list[LookupTableRecord] = []
    while left and pool:
        best = max(pool, key=lambda t: sum(1 for a in t.addresses if a in left))
        gain = [a for a in best.addresses if a in left]
        if not gain:
            break
        chosen.append(best)
        pool.remove(best)
        for a in gain:
            del left[a]
    return chosen, list(left)
