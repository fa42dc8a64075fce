"""Detector benchmark as a plain script: `python -m benches.bench_detector [--pools ...] [--json]`.

Same measurement as `solarb bench` (kernel via dispatcher and direct entry point, pure-Python reference
and call floor interleaved in the same run, correctness after timing), plus the kernel body alone: a
jitted driver calls `detect` for random pools with no Python in between, which separates the
algorithm's per-update cost from the cache pollution of an interpreter between calls.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
from numba import njit

from bot.detector_bench import bench, build_synthetic
from strategies import detector


# Not cached: it carries the kernels' machine code, and strategies.jit keys the cache on their sources only.
@njit(cache=False)
def _drive(state: Any, graph: Any, pools: Any) -> int:
    s = 0
    for i in range(pools.shape[0]):
        s += detector.detect(state, graph, pools[i])
    return s


def body_ns(n_pools: int, seed: int, per_pair: int, n: int = 100_000, repeats: int = 5) -> float:
    """Best-of-`repeats` mean ns per update of the kernel body (random pools, no Python between)."""
    syn = build_synthetic(n_pools, seed, per_pair)
    pools = np.random.default_rng(seed).integers(0, len(syn.base_reserves), n).astype(np.int64)
    _drive(syn.cache.state, syn.table.graph, pools[:10])
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        _drive(syn.cache.state, syn.table.graph, pools)
        best = min(best, (time.perf_counter_ns() - t0) / n)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pools", default="10,100,1000,10000")
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-pair", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    counts = [int(x) for x in args.pools.split(",")]
    doc = bench(counts, args.updates, args.seed, args.per_pair)
    body = {str(n): body_ns(n, args.seed, args.per_pair) for n in counts}
    doc["kernel_body_ns_per_update"] = body
    doc["kernel_body_growth"] = body[str(counts[-1])] / body[str(counts[0])]
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    for r, n in zip(doc["runs"], counts):
        print(
            f"{r['pools']:>6} pools {r['routes']:>6} routes  kernel p50 {r['kernel']['p50_us']:.2f} µs "
            f"(direct {r['kernel_direct']['p50_us']:.2f}, floor {r['floor']['p50_us']:.2f})  reference p50 "
            f"{r['reference']['p50_us']:.1f} µs  ratio {r['ratio_p50']:.0f}x / direct {r['ratio_p50_direct']:.0f}x  "
            f"body {body[str(n)]:.0f} ns/update"
        )
    print(f"kernel body growth {counts[-1]} vs {counts[0]} pools: {doc['kernel_body_growth']:.2f}x")


if __name__ == "__main__":
    main()
