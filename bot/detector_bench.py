"""`solarb bench`: the detector's per-update latency and throughput against its pure-Python reference.

For each pool count N a synthetic market is built from clusters of three pairs (SOL/X, SOL/Y, X/Y) with
`--per-pair` pools each (CPMM and AMM v4 mixed; slightly mispriced reserves; CEX prices on every token),
so the number of routes touching one pool stays constant while N grows: the incremental cost must not
grow with N.
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
from typing import Any

import numpy as np
from numba import njit

from bot.commands.bench import legend
from bot.errors import RuntimeFailure, UsageError
from strategies import detector, layout, synthetic
from strategies import reference_detector as ref
from strategies import routes as R
from strategies.confirm import confirm_best
from strategies.synthetic import Synthetic


def build_synthetic(n_pools: int, seed: int, per_pair: int = 2) -> Synthetic:
    """`strategies.synthetic.build_synthetic`, with a bad `--per-pair` as a usage error."""
    try:
        return synthetic.build_synthetic(n_pools, seed, per_pair)
    except ValueError as err:
        raise UsageError(str(err)) from None


@njit("int64(float64[::1], int32[::1], int64)", cache=True)
def _floor_call(state: Any, graph: Any, pool: Any) -> int:
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
    pu = syn.cache.pools_u
    layout.write_cp_pool(
        syn.cache,
        p,
        ra,
        rb,
        int(pu[p, layout.U_FEE_NUM]),
        int(pu[p, layout.U_FEE_DEN]),
        slot=slot,
        recv_ns=slot,
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
    st, g = syn.cache.state, syn.table.graph
    clock = time.perf_counter_ns
    samples = []
    for slot, upd in enumerate(updates, start=10):
        _apply(syn, upd, slot)
        pool = upd[0]
        t0 = clock()
        call(st, g, pool)
        samples.append(clock() - t0)
    return samples


def _throughput(call: Any, syn: Synthetic, pools: list[int]) -> float:
    """Updates per second of back-to-back detect calls (no per-call timer)."""
    st, g = syn.cache.state, syn.table.graph
    t0 = time.perf_counter_ns()
    for p in pools:
        call(st, g, p)
    return len(pools) / ((time.perf_counter_ns() - t0) / 1e9)


def _check(syn: Synthetic, updates: list[tuple[int, int, int]]) -> tuple[int, int]:
    """Replay updates through kernel and reference; raise on any disagreement. (checked, found)."""
    st, g = syn.cache.state, syn.table.graph
    out = slice(layout.N_PARAMS, layout.TOKENS_OFFSET)
    found = 0
    for slot, upd in enumerate(updates, start=10**6):
        _apply(syn, upd, slot)
        best_k = detector.detect(st, g, upd[0])
        out_k = syn.cache.market[out].copy()
        opp_k = confirm_best(syn.cache, syn.table, upd[0], 30)
        best_r = ref.detect(st, g, upd[0])
        if best_k != best_r or not np.array_equal(out_k, syn.cache.market[out]):
            raise RuntimeFailure(
                f"kernel and reference disagree on pool {upd[0]}: route {best_k} vs {best_r}"
            )
        if opp_k != confirm_best(syn.cache, syn.table, upd[0], 30):
            raise RuntimeFailure(f"confirmed opportunities differ on pool {upd[0]}")
        found += opp_k is not None
    return len(updates), found


MODES = ("floor", "kernel", "kernel_direct", "reference")
BLOCK = 500  # updates per timed block; the reference runs BLOCK // REF_DIVISOR of them
REF_DIVISOR = 20


def bench(counts: list[int], n_updates: int, seed: int, per_pair: int = 2) -> dict[str, Any]:
    """Benchmark every pool count; modes and pool counts are interleaved block by block so the host's
    speed swings hit all of them alike. Returns the JSON-ready document."""
    detector.warm()
    direct = detector.direct_detect()
    calls = {
        "floor": _floor_call,
        "kernel": detector.detect,
        "kernel_direct": direct,
        "reference": ref.detect,
    }
    syns = [build_synthetic(n, seed, per_pair) for n in counts]
    # Each mode gets its own update stream: a mode must not find the cache lines warmed by the mode
    # timed just before it on the same pools.
    streams = [_updates(syn, n_updates * len(MODES), seed + 1) for syn in syns]
    per_mode = [{m: stream[k :: len(MODES)] for k, m in enumerate(MODES)} for stream in streams]
    updates = [pm["kernel_direct"] for pm in per_mode]
    samples: list[dict[str, list[int]]] = [{m: [] for m in MODES} for _ in syns]
    for syn, upd in zip(syns, updates):  # warm caches and branch predictors
        for mode in MODES:
            _time(calls[mode], syn, upd[:50])
    for start in range(0, n_updates, BLOCK):
        for i, syn in enumerate(syns):
            for mode in MODES:
                block = per_mode[i][mode][start : start + BLOCK]
                part = block[: max(1, len(block) // REF_DIVISOR)] if mode == "reference" else block
                samples[i][mode].extend(_time(calls[mode], syn, part))
    rows: list[dict[str, Any]] = []
    for i, syn in enumerate(syns):
        pools = [u[0] for u in updates[i]]
        tput = _throughput(direct, syn, pools)
        tput_ref = _throughput(ref.detect, syn, pools[: max(10, len(pools) // REF_DIVISOR)])
        t0 = time.perf_counter_ns()
        for _ in range(10):
            detector.detect_all(syn.cache.state, syn.table.graph)
        full_scan_us = (time.perf_counter_ns() - t0) / 10 / 1e3
        g = syn.table.graph
        per_pool = np.diff(g[int(g[R.G_INDPTR_OFF]) :][: len(syn.base_reserves) + 1])
        checked, found = _check(syn, updates[i][:300])  # correctness, after all timing of this count
        pct = {m: _percentiles(samples[i][m]) for m in MODES}
        rows.append(
            {
                "pools": len(syn.base_reserves),
                "routes": syn.table.n_routes,
                "routes_per_update_mean": float(per_pool.mean()),
                **pct,
                "samples": {m: len(samples[i][m]) for m in MODES},
                "ratio_p50": pct["reference"]["p50_us"] / pct["kernel"]["p50_us"],
                "ratio_p50_direct": pct["reference"]["p50_us"] / pct["kernel_direct"]["p50_us"],
                "throughput_per_s": tput,
                "throughput_ratio": tput / tput_ref,
                "full_scan_us": full_scan_us,
                "checked_updates": checked,
                "opportunities_confirmed": found,
            }
        )
    # Control for the growth: the largest market, updates restricted to as many pools as the smallest
    # market has, interleaved with the smallest market's own updates. Same work, same cache working
    # set, only the total pool count differs.
    small, big = syns[0], syns[-1]
    n_hot = len(small.base_reserves)
    hot_stream = [u for u in _updates(big, n_updates * 20, seed + 2) if u[0] < n_hot][:n_updates]
    small_ups = per_mode[0]["kernel_direct"]
    same_small: list[int] = []
    same_big: list[int] = []
    for start in range(0, min(len(hot_stream), len(small_ups)), BLOCK):
        same_small.extend(_time(direct, small, small_ups[start : start + BLOCK]))
        same_big.extend(_time(direct, big, hot_stream[start : start + BLOCK]))
    same_working_set = {
        "pools_updated": n_hot,
        "smallest_market_p50_us": _percentiles(same_small)["p50_us"],
        "largest_market_p50_us": _percentiles(same_big)["p50_us"],
    }
    first, last = rows[0], rows[-1]
    return {
        "same_working_set": same_working_set,
        "incremental_growth_same_working_set": same_working_set["largest_market_p50_us"]
        / same_working_set["smallest_market_p50_us"],
        "runs": rows,
        "min_ratio_p50": min(r["ratio_p50"] for r in rows),
        "min_ratio_p50_direct": min(r["ratio_p50_direct"] for r in rows),
        "incremental_growth_p50": last["kernel_direct"]["p50_us"] / first["kernel_direct"]["p50_us"],
        "incremental_growth_p50_net_of_floor": (last["kernel_direct"]["p50_us"] - last["floor"]["p50_us"])
        / max(first["kernel_direct"]["p50_us"] - first["floor"]["p50_us"], 1e-9),
        "note": "floor = empty jitted call with the same arguments (dispatcher) + timer, same run",
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
    """`solarb bench` (parsed arguments in, exit code out)."""
    counts = _parse_pools(args.pools)
    if args.updates < BLOCK:
        raise UsageError(f"--updates must be >= {BLOCK}")
    doc = bench(counts, args.updates, args.seed, args.per_pair)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(
        f"{'pools':>7} {'routes':>7} {'r/upd':>6} {'floor':>6} {'kernel p50/p99 µs':>18} "
        f"{'direct p50/p99 µs':>18} {'ref p50 µs':>10} {'ratio':>6} {'direct':>6} {'updates/s':>10} "
        f"{'full scan µs':>12} {'opps':>5}"
    )
    for r in doc["runs"]:
        print(
            f"{r['pools']:>7} {r['routes']:>7} {r['routes_per_update_mean']:>6.1f} {r['floor']['p50_us']:>6.2f} "
            f"{r['kernel']['p50_us']:>8.2f} / {r['kernel']['p99_us']:>7.2f} "
            f"{r['kernel_direct']['p50_us']:>8.2f} / {r['kernel_direct']['p99_us']:>7.2f} "
            f"{r['reference']['p50_us']:>10.1f} {r['ratio_p50']:>5.0f}x {r['ratio_p50_direct']:>5.0f}x "
            f"{r['throughput_per_s']:>10.0f} {r['full_scan_us']:>12.1f} {r['opportunities_confirmed']:>5}"
        )
    print(
        f"kernel vs same-algorithm reference (p50): >= {doc['min_ratio_p50']:.0f}x via the dispatcher, "
        f">= {doc['min_ratio_p50_direct']:.0f}x via the direct entry point; incremental p50 at "
        f"{doc['runs'][-1]['pools']} pools = {doc['incremental_growth_p50']:.2f}x that at {doc['runs'][0]['pools']} "
        f"({doc['incremental_growth_p50_net_of_floor']:.2f}x net of the call floor); with the same "
        f"{doc['same_working_set']['pools_updated']} pools updated in both markets: "
        f"{doc['incremental_growth_same_working_set']:.2f}x (the rest is cache misses). "
        "Correctness checked after timing."
    )
    print(legend())
    return 0
