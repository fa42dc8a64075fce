"""Shared timing helpers for the benchmarks: chunked per-item cost, percentiles, report rows.

Timing each item alone mostly measures the clock, so items are timed in chunks and the per-item cost
is chunk time / chunk size. Subject and floor run interleaved, round by round, so the machine's speed
drift (up to 2.7x within a minute here) hits both alike; report the ratio, not only absolute numbers.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

CHUNK = 100


def time_chunks(
    fn: Callable[[Any], object], items: Sequence[Any], out: list[float], chunk: int = CHUNK
) -> None:
    clock = time.perf_counter_ns
    for start in range(0, len(items) - chunk + 1, chunk):
        part = items[start : start + chunk]
        t0 = clock()
        for item in part:
            fn(item)
        out.append((clock() - t0) / chunk)


def pct(xs: Sequence[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q / 100.0 * len(s)))]


def summary(xs: Sequence[float]) -> dict[str, float]:
    return {"p50": pct(xs, 50), "p90": pct(xs, 90), "p99": pct(xs, 99), "n": float(len(xs))}


def cu_summary(totals: Sequence[int], tokens: Sequence[int]) -> dict[str, float]:
    """Compute units of a program's swaps: total percentiles, the SPL Token program's median share (the
    floor: what the transfers cost whatever the program does), the program's own median and total/floor."""
    floor = statistics.median(tokens)
    return {
        "p50": pct(totals, 50), "p90": pct(totals, 90), "max": max(totals), "token_program_p50": floor,
        "own_p50": statistics.median(t - k for t, k in zip(totals, tokens, strict=True)),
        "ratio_to_floor": statistics.median(totals) / floor, "n": float(len(totals)),
    }  # fmt: skip


def print_cu_table(title: str, report: dict[str, dict[str, float]]) -> None:
    """One row per case of `cu_summary` results."""
    width = max(len(title), *(len(name) for name in report))
    print(f"{title:{width}} {'p50':>7} {'p90':>7} {'max':>7} {'token':>7} {'own':>7} {'x floor':>8}")
    for name, r in report.items():
        print(f"{name:{width}} {r['p50']:>7.0f} {r['p90']:>7.0f} {r['max']:>7.0f} {r['token_program_p50']:>7.0f} "
              f"{r['own_p50']:>7.0f} {r['ratio_to_floor']:>8.2f}")  # fmt: skip
