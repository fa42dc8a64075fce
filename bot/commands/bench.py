"""`solarb bench`: the detector's per-update latency and throughput against its pure-Python reference.

For each pool count N a synthetic market is built from clusters of five pools (two SOL/X, one X/Y, two
SOL/Y; CPMM and AMM v4 mixed; slightly mispriced reserves; CEX prices on every token), so the number of
routes touching one pool stays constant while N grows: the incremental cost must not grow with N.
Each update perturbs one random pool's reserves (not timed), then times `detect` for that pool.
Measured in the same run: the kernel through numba's dispatcher, through the direct entry point, the
pure-Python reference (same algorithm), and the floor (an empty jitted call with the same arguments).
Correctness is asserted after timing: kernel and reference outputs bit-equal, confirmed Opportunities
equal, on a replay of updates.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from bot.errors import RuntimeFailure, UsageError
from strategies import costs, detector, layout
from strategies import reference_detector as ref
from strategies import routes as R
from strategies.confirm import confirm_best

DEFAULT_POOLS = (10, 100, 1_000, 10_000)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark the jitted detector against its pure-Python reference",
        description=(
            "Per-update detector latency (percentiles), throughput and the ratio to the same-algorithm "
            "pure-Python reference, for several pool counts; correctness is checked after timing."
        ),
    )
    p.add_argument("--pools", default=",".join(str(n) for n in DEFAULT_POOLS), help="comma-separated pool counts")
    p.add_argument("--updates", type=int, default=20_000, help="timed kernel updates per pool count")
    p.add_argument("--ref-updates", type=int, default=500, help="timed reference updates per pool count")
    p.add_argument("--seed", type=int, default=7, help="random seed of the synthetic market")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    p.set_defaults(func=run)


@dataclass
class Synthetic:
    arrays: layout.PoolArrays
    table: R.RouteTable
    market: layout.F64Array
    base_reserves: list[tuple[int, int]]


def build_synthetic(n_pools: int, seed: int) -> Synthetic:
    """A market of `n_pools` pools (rounded up to clusters of 5) with constant routes per pool."""
    rng = random.Random(seed)
    n_clusters = max(1, -(-n_pools // 5))
    specs: list[R.PoolSpec] = []
    reserves: list[tuple[int, int]] = []
    price: dict[str, float] = {"SOL": 1.0}  # lamports per raw unit
    for c in range(n_clusters):
        x, y = f"X{c}", f"Y{c}"
        price[x] = 10 ** rng.uniform(-3, 2)
        price[y] = 10 ** rng.uniform(-3, 2)
        for kind, a, b in (
            (layout.KIND_RAYDIUM_CPMM, "SOL", x),
            (layout.KIND_RAYDIUM_AMM_V4, "SOL", x),
            (layout.KIND_RAYDIUM_CPMM, x, y),
            (layout.KIND_RAYDIUM_AMM_V4, "SOL", y),
            (layout.KIND_RAYDIUM_CPMM, y, "SOL"),
        ):
            depth = 10 ** rng.uniform(11, 13)  # 100 .. 10,000 SOL of value per side
            skew = rng.uniform(-0.01, 0.01)
            specs.append(R.PoolSpec(kind, a, b))
            reserves.append((int(depth / price[a]) + 1, int(depth / price[b] * (1 + skew)) + 1))
    table = R.build_routes(specs, base_mints=("SOL",), cex_mints=tuple(price))
    arrays = layout.allocate(len(specs))
    market = layout.allocate_market(len(table.mints))
    costs.CostModel(cu_price_micro_lamports=10_000, tip_lamports=10_000, min_profit_lamports=10_000).write_to(market)
    sol_usd = 150.0
    market[layout.M_SOL_USD] = sol_usd
    for i, spec in enumerate(specs):
        a, b = table.token_index[spec.mint_a], table.token_index[spec.mint_b]
        layout.register_pool(arrays, i, spec.kind, a, b)
        num, den = (2_500, 1_000_000) if spec.kind == layout.KIND_RAYDIUM_CPMM else (25, 10_000)
        layout.write_cp_pool(arrays, i, reserves[i][0], reserves[i][1], num, den, slot=1, recv_ns=0)
        layout.set_flags(arrays, i, tradable=True, settling=False)
    for mint, t in table.token_index.items():
        units = int(1e11 / price[mint])
        layout.write_token(
            market,
            t,
            balance=units,
            max_notional=units,
            usd_per_unit=price[mint] * sol_usd / 1e9 * rng.uniform(0.995, 1.005),
            is_sol=mint == "SOL",
        )
    return Synthetic(arrays, table, market, reserves)


@njit(cache=True)
def _floor_call(pools_f: Any, pools_i: Any, graph: Any, market: Any, pool: Any) -> int:
    return pool  # type: ignore[no-any-return]


def _updates(syn: Synthetic, n: int, seed: int) -> list[tuple[int, int, int]]:
    """Pre-drawn updates: (pool, reserve_a, reserve_b) around each pool's base reserves."""
    rng = random.Random(seed)
    out = []
    n_pools = len(syn.base_reserves)
    for _ in range(n):
        p = rng.randrange(n_pools)
        ra, rb = syn.base_reserves[p]
        out.append((p, int(ra * rng.uniform(0.99, 1.01)), int(rb * rng.uniform(0.99, 1.01))))
    return out


def _apply(syn: Synthetic, upd: tuple[int, int, int], slot: int) -> None:
    p, ra, rb = upd
    pu = syn.arrays.pools_u
    layout.write_cp_pool(
        syn.arrays, p, ra, rb, int(pu[p, layout.U_FEE_NUM]), int(pu[p, layout.U_FEE_DEN]), slot=slot, recv_ns=slot
    )


def _percentiles(samples_ns: list[int]) -> dict[str, float]:
    a = np.asarray(samples_ns, dtype=np.float64) / 1e3
    return {
        "p50_us": float(np.percentile(a, 50)),
        "p90_us": float(np.percentile(a, 90)),
        "p99_us": float(np.percentile(a, 99)),
        "max_us": float(a.max()),
    }


def _time(call: Any, syn: Synthetic, updates: list[tuple[int, int, int]]) -> list[int]:
    pf, pi, g, mk = syn.arrays.pools_f, syn.arrays.pools_i, syn.table.graph, syn.market
    clock = time.perf_counter_ns
    samples = []
    for slot, upd in enumerate(updates, start=10):
        _apply(syn, upd, slot)
        pool = upd[0]
        t0 = clock()
        call(pf, pi, g, mk, pool)
        samples.append(clock() - t0)
    return samples


def _throughput(call: Any, syn: Synthetic, pools: list[int]) -> float:
    """Updates per second of back-to-back detect calls (no per-call timer)."""
    pf, pi, g, mk = syn.arrays.pools_f, syn.arrays.pools_i, syn.table.graph, syn.market
    t0 = time.perf_counter_ns()
    for p in pools:
        call(pf, pi, g, mk, p)
    return len(pools) / ((time.perf_counter_ns() - t0) / 1e9)


def _check(syn: Synthetic, updates: list[tuple[int, int, int]]) -> tuple[int, int]:
    """Replay updates through kernel and reference; raise on any disagreement. (checked, found)."""
    pf, pi, g = syn.arrays.pools_f, syn.arrays.pools_i, syn.table.graph
    found = 0
    for slot, upd in enumerate(updates, start=10**6):
        _apply(syn, upd, slot)
        mk_k, mk_r = syn.market.copy(), syn.market.copy()
        best_k = detector.detect(pf, pi, g, mk_k, upd[0])
        best_r = ref.detect(pf, pi, g, mk_r, upd[0])
        out = slice(layout.N_PARAMS, layout.TOKENS_OFFSET)
        if best_k != best_r or not np.array_equal(mk_k[out], mk_r[out]):
            raise RuntimeFailure(f"kernel and reference disagree on pool {upd[0]}: route {best_k} vs {best_r}")
        opp_k = confirm_best(syn.arrays, syn.table, mk_k, upd[0], 30)
        if opp_k != confirm_best(syn.arrays, syn.table, mk_r, upd[0], 30):
            raise RuntimeFailure(f"confirmed opportunities differ on pool {upd[0]}")
        found += opp_k is not None
    return len(updates), found


def bench_one(n_pools: int, n_updates: int, n_ref: int, seed: int) -> dict[str, Any]:
    """Benchmark one pool count; returns the JSON-ready result row."""
    syn = build_synthetic(n_pools, seed)
    updates = _updates(syn, n_updates, seed + 1)
    direct = detector.direct_detect()
    for call in (detector.detect, direct, _floor_call):  # warm caches and branch predictors
        _time(call, syn, updates[:200])
    floor = _time(_floor_call, syn, updates)
    kernel = _time(detector.detect, syn, updates)
    direct_s = _time(direct, syn, updates)
    reference = _time(ref.detect, syn, updates[:n_ref])
    pools = [u[0] for u in updates]
    tput = _throughput(direct, syn, pools)
    tput_ref = _throughput(ref.detect, syn, pools[:n_ref])
    t0 = time.perf_counter_ns()
    for _ in range(20):
        detector.detect_all(syn.arrays.pools_f, syn.arrays.pools_i, syn.table.graph, syn.market)
    full_scan_us = (time.perf_counter_ns() - t0) / 20 / 1e3
    per_pool = np.diff(syn.table.graph[syn.table.graph[R.G_INDPTR_OFF] :][: len(syn.base_reserves) + 1])
    checked, found = _check(syn, updates[: min(300, n_ref)])
    k, d, r = _percentiles(kernel), _percentiles(direct_s), _percentiles(reference)
    return {
        "pools": len(syn.base_reserves),
        "routes": syn.table.n_routes,
        "routes_per_pool_mean": float(per_pool.mean()),
        "floor": _percentiles(floor),
        "kernel": k,
        "kernel_direct": d,
        "reference": r,
        "ratio_p50": r["p50_us"] / k["p50_us"],
        "ratio_p50_direct": r["p50_us"] / d["p50_us"],
        "throughput_per_s": tput,
        "throughput_ratio": tput / tput_ref,
        "full_scan_us": full_scan_us,
        "checked_updates": checked,
        "opportunities_confirmed": found,
    }


def _parse_pools(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as err:
        raise UsageError(f"--pools must be comma-separated integers, got {text!r}") from err
    if not counts or any(n < 2 or n > 1_000_000 for n in counts):
        raise UsageError(f"--pools values must be between 2 and 1,000,000, got {text!r}")
    return counts


def run(args: argparse.Namespace) -> int:
    counts = _parse_pools(args.pools)
    if args.updates < 100 or args.ref_updates < 10:
        raise UsageError("--updates must be >= 100 and --ref-updates >= 10")
    detector.warm()
    rows = [bench_one(n, args.updates, args.ref_updates, args.seed) for n in counts]
    growth = rows[-1]["kernel_direct"]["p50_us"] / rows[0]["kernel_direct"]["p50_us"]
    doc = {
        "runs": rows,
        "min_ratio_p50": min(r["ratio_p50"] for r in rows),
        "incremental_p50_growth_largest_vs_smallest": growth,
    }
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    head = (
        f"{'pools':>7} {'routes':>7} {'r/pool':>6} {'floor p50':>9} {'kernel p50/p99 µs':>18} "
        f"{'direct p50/p99 µs':>18} {'ref p50 µs':>10} {'ratio':>6} {'updates/s':>10} {'full scan µs':>12} {'opps':>5}"
    )
    print(head)
    for r in rows:
        print(
            f"{r['pools']:>7} {r['routes']:>7} {r['routes_per_pool_mean']:>6.1f} {r['floor']['p50_us']:>9.2f} "
            f"{r['kernel']['p50_us']:>8.2f} / {r['kernel']['p99_us']:>7.2f} "
            f"{r['kernel_direct']['p50_us']:>8.2f} / {r['kernel_direct']['p99_us']:>7.2f} "
            f"{r['reference']['p50_us']:>10.1f} {r['ratio_p50']:>5.0f}x {r['throughput_per_s']:>10.0f} "
            f"{r['full_scan_us']:>12.1f} {r['opportunities_confirmed']:>5}"
        )
    print(
        f"kernel >= {doc['min_ratio_p50']:.0f}x faster than the same-algorithm reference (p50); incremental p50 at "
        f"{rows[-1]['pools']} pools is {growth:.2f}x that at {rows[0]['pools']} (correctness checked after timing)"
    )
    return 0
