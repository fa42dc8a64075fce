"""`solarb bench`: the detector benchmark. The implementation (numba, the synthetic market) lives in
`bot.detector_bench` and is imported only when the command runs, so other commands start fast."""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_POOLS = (10, 100, 1_000, 10_000)


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
