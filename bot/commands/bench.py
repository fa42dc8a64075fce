"""`solarb bench`: the detector benchmark. The implementation (numba, the synthetic market) lives in
`bot.detector_bench` and is imported only when the command runs, so other commands start fast."""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_POOLS = (10, 100, 1_000, 10_000)
# The table's columns, shown under it and in `--help` (times are per update, in microseconds).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("pools", "pools in the synthetic market"),
    ("routes", "cycles (2 and 3 legs) over those pools"),
    ("r/upd", "routes touching one pool, on average: the work of one update"),
    ("floor", "p50 of an empty jitted call with the same arguments (the timer and dispatch cost)"),
    ("kernel p50/p99", "detector through numba's dispatcher, median / 99th percentile"),
    ("direct p50/p99", "detector through its compiled entry point (no dispatcher)"),
    ("ref p50", "the pure-Python reference of the same algorithm, median"),
    ("ratio", "ref p50 / kernel p50 (how much faster the kernel is)"),
    ("direct", "ref p50 / direct p50"),
    ("updates/s", "detector calls per second, back to back (direct entry point)"),
    ("full scan", "one pass over every route (detect_all), for comparison"),
    ("opps", "opportunities confirmed by exact quote math in the correctness replay"),
)


def legend() -> str:
    return "columns:\n" + "\n".join(f"  {name:<15} {meaning}" for name, meaning in COLUMNS)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark the jitted detector against its pure-Python reference",
        description=(
            "Per-update detector latency (percentiles), throughput and the ratio to the same-algorithm "
            "pure-Python reference, for several pool counts; correctness is checked after timing. "
            "Other benchmarks run as modules: compute units per swap of the reference programs "
            "(python -m benches.bench_cpmm_cu, benches.bench_amm_v4_cu per instruction form, "
            "benches.bench_whirlpool_cu, benches.bench_pumpswap_cu), the executor's hot path "
            "(benches.bench_execution), sending (benches.bench_send)."
        ),
        epilog=legend(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--pools", default=",".join(str(n) for n in DEFAULT_POOLS), help="comma-separated pool counts"
    )
    p.add_argument("--updates", type=int, default=20_000, help="timed kernel updates per pool count")
    p.add_argument("--seed", type=int, default=7, help="random seed of the synthetic market")
    p.add_argument(
        "--per-pair", type=int, default=2, help="pools per token pair in the synthetic market (route density)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot import detector_bench

    return detector_bench.run(args)
