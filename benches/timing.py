"""Shared timing helpers for the benchmarks: chunked per-item cost, percentiles, report rows.

Timing each item alone mostly measures the clock, so items are timed in chunks and the per-item cost
is chunk time / chunk size. Subject and floor run interleaved, round by round, so the machine's speed
drift (up to 2.7x within a minute here) hits both alike; report the ratio, not only absolute numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

CHUNK = 100


def time_chunks(fn: Callable[[Any], object], items: Sequence[Any], out: list[float], chunk: int = CHUNK) -> None:
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
