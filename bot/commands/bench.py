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
    p.add_argument(
        "--updates",
        type=int,
        default=None,
        help="timed kernel updates per pool count (default 20,000); e2e: updates per contender (default 2,000)",
    )
    p.add_argument("--seed", type=int, default=7, help="random seed of the synthetic market")
    p.add_argument(
        "--per-pair", type=int, default=2, help="pools per token pair in the synthetic market (route density)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    add_e2e_arguments(p)
    p.set_defaults(func=run)


def add_e2e_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--e2e", action="store_true", help="run the end-to-end hot-path harness instead (see below)"
    )
    p.add_argument(
        "--transport", default="picows", help="e2e: the transport the headline and --json top level report"
    )
    p.add_argument(
        "--gap-us", type=int, default=1_500, help="e2e: µs between two updates (contenders take turns)"
    )
    p.add_argument("--png", default="bench-e2e.png", help="e2e: latency histogram path ('' for none)")
    p.add_argument(
        "--no-rates", dest="rates", action="store_false", help="e2e: skip the sustainable-rate search"
    )
    p.add_argument("--rate-s", type=float, default=0.4, help="e2e: seconds per rate step")
    p.add_argument("--memory-updates", type=int, default=2_000, help="e2e: updates of the memory check")
    p.add_argument(
        "--profile", action="store_true", help="e2e: cProfile of the default pipeline, top 25 by own time"
    )


def run(args: argparse.Namespace) -> int:
    if args.e2e:
        from bot import e2e_bench

        args.updates = 2_000 if args.updates is None else args.updates
        return e2e_bench.run(args)
    from bot import detector_bench

    args.updates = 20_000 if args.updates is None else args.updates
    return detector_bench.run(args)
