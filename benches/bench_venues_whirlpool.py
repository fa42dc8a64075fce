"""Per-call cost of the Whirlpool code: exact integer quote vs the float screening kernel, with floors.

`python -m benches.bench_venues_whirlpool [--rounds R] [--json]`

Pairs, each timed in chunks (per-call cost = chunk time / chunk size), all loops interleaved round by
round so host drift hits them alike:
  exact_quote_0x / _Nx  - `quote_swap` (Python ints) on a swap crossing no / several initialized ticks;
  floor_py             - an empty Python call with the same arguments (what any Python quote pays);
  kernel_py            - `wp_swap_in` called from Python (numba dispatcher overhead dominates);
  floor_njit           - an empty jitted function with the same argument types;
  kernel_loop          - `wp_conservative_out` inside a jitted loop, per pool (what the detector pays);
  decode_pool / read_swap_state / decode_fixed_tick_array - full decoders and the hot-path reader
                         vs `floor_unpack`, the bare precompiled unpack of the pool bytes.
Reported: p50 / p90 / p99 ns per call and the ratio to its floor at p50.
"""

from __future__ import annotations

import argparse
import gc
import json
import struct
import time
from collections.abc import Callable

import numpy as np
from numba import njit
from solders.pubkey import Pubkey

from benches.timing import summary
from strategies.venues import orca_whirlpool as orca
from strategies.venues import whirlpool_kernels as k
from strategies.venues import whirlpool_math as wm

POOLS = 1_000


@njit(cache=True)
def _empty10(
    t: np.ndarray, lo: int, hi: int, c: int, s: float, lq: float, f: float, d: bool, e: float, a: float
) -> float:
    return a


# Not cached: it carries the kernels' machine code, and strategies.jit keys the cache on their sources only.
@njit(cache=False)
def _loop_conservative(ticks: np.ndarray, state: np.ndarray, amount: float) -> float:
    acc = 0.0
    for i in range(state.shape[0]):
        r = state[i]
        acc += k.wp_conservative_out(
            ticks, 0, ticks.shape[0], int(r[0]), r[1], r[2], r[3], True, r[4], amount
        )
    return acc


def _floor_py(pool: object, arrays: object, amount: int, a_to_b: bool) -> object:
    return pool


def _state() -> tuple[orca.Whirlpool, list[orca.TickArray], int, int]:
    """A ts=64 pool at tick 0 with an initialized tick every 64 ticks below the price (a->b crosses them)."""
    ts, cur = 64, 100
    p = Pubkey.default()
    nets = {t: 5 * 10**10 for t in range(-64 * 60, 0, 64)}
    arrays = []
    for start in orca.tick_array_start_indexes(cur, ts, True):
        ticks = [orca.ZERO_TICK] * wm.TICK_ARRAY_SIZE
        for idx, net in nets.items():
            if start <= idx < start + wm.TICK_ARRAY_SIZE * ts:
                ticks[(idx - start) // ts] = orca.Tick(True, net, net, 0, 0, (0, 0, 0))
        arrays.append(orca.TickArray(start, p, tuple(ticks)))
    pool = orca.Whirlpool(
        p,
        255,
        ts,
        ts,
        3000,
        1300,
        5 * 10**12,
        wm.sqrt_price_from_tick_index(cur) + 12345,
        cur,
        0,
        0,
        p,
        p,
        0,
        p,
        p,
        0,
        0,
        (orca.RewardInfo(p, p, p, 0, 0),) * 3,  # type: ignore[arg-type]
    )
    small = 10**6  # stays between ticks
    large = 2 * 10**11  # crosses several initialized ticks
    return pool, arrays, small, large


def run(rounds: int) -> dict[str, dict[str, float]]:
    pool, arrays, small, large = _state()
    q0 = orca.quote_swap(pool, arrays, small, a_to_b=True)
    qn = orca.quote_swap(pool, arrays, large, a_to_b=True)
    assert q0.ticks_crossed == 0 and qn.ticks_crossed >= 3, (q0.ticks_crossed, qn.ticks_crossed)
    packed = k.pack_ticks(arrays, pool.tick_spacing)
    down, _up = k.swap_edges(pool)
    sp, liq, fee = pool.sqrt_price / 2.0**64, float(pool.liquidity), float(pool.fee_rate)
    args = (packed, 0, packed.shape[0], pool.tick_current_index, sp, liq, fee, True, down)
    state = np.tile(np.array([[pool.tick_current_index, sp, liq, fee, down]]), (POOLS, 1))
    k.warm()
    _empty10(*args, float(large))
    _loop_conservative(packed, state, float(large))
    pool_bytes = bytes(bytearray(orca.WHIRLPOOL_DISCRIMINATOR) + bytes(orca.WHIRLPOOL_SIZE - 8))
    pool_bytes = pool_bytes[:41] + struct.pack("<HH", 64, 64) + pool_bytes[45:]
    array_bytes = bytearray(orca.FIXED_TICK_ARRAY_SIZE)
    array_bytes[:8] = orca.FIXED_TICK_ARRAY_DISCRIMINATOR
    for off in range(0, 88, 8):  # 11 initialized ticks
        struct.pack_into("<BQq", array_bytes, 12 + 113 * off, 1, 10**9, 0)
    array_data = bytes(array_bytes)
    unpack = orca._WHIRLPOOL.unpack

    loops: dict[str, tuple[Callable[[], object], int]] = {
        "floor_py": (lambda: _floor_py(pool, arrays, large, True), 200),
        "exact_quote_0x": (lambda: orca.quote_swap(pool, arrays, small, a_to_b=True), 50),
        "exact_quote_Nx": (lambda: orca.quote_swap(pool, arrays, large, a_to_b=True), 20),
        "floor_njit": (lambda: _empty10(*args, float(large)), 200),
        "kernel_py": (lambda: k.wp_swap_in(*args, float(large)), 200),
        "floor_unpack": (lambda: unpack(pool_bytes), 200),
        "decode_pool": (lambda: orca.decode_whirlpool(pool_bytes), 100),
        "read_swap_state": (lambda: orca.read_whirlpool_swap_state(pool_bytes), 200),
        "decode_fixed_tick_array": (lambda: orca.decode_fixed_tick_array(array_data), 10),
    }
    samples: dict[str, list[float]] = {name: [] for name in loops}
    samples["kernel_loop"] = []
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for _ in range(rounds):
            for name, (fn, chunk) in loops.items():
                t0 = clock()
                for _ in range(chunk):
                    fn()
                samples[name].append((clock() - t0) / chunk)
            t0 = clock()
            _loop_conservative(packed, state, float(large))
            samples["kernel_loop"].append((clock() - t0) / POOLS)
    finally:
        gc.enable()
    report = {name: summary(xs) for name, xs in samples.items()}
    floors = {
        "exact_quote_0x": "floor_py",
        "exact_quote_Nx": "floor_py",
        "kernel_py": "floor_njit",
        "decode_pool": "floor_unpack",
        "read_swap_state": "floor_unpack",
        "decode_fixed_tick_array": "floor_unpack",
    }
    for name, floor in floors.items():
        report[name]["ratio_p50"] = report[name]["p50"] / report[floor]["p50"]
    report["exact_quote_Nx"]["ticks_crossed"] = float(qn.ticks_crossed)
    report["kernel_loop"]["vs_exact_Nx_p50"] = report["exact_quote_Nx"]["p50"] / report["kernel_loop"]["p50"]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    ns = parser.parse_args()
    report = run(ns.rounds)
    if ns.json:
        print(json.dumps(report, indent=2))
        return
    for name, s in report.items():
        extra = "".join(f"  {k_}={v:.2f}" for k_, v in s.items() if k_ not in ("p50", "p90", "p99", "n"))
        print(f"{name:<26} p50 {s['p50']:>10.0f} ns  p90 {s['p90']:>10.0f}  p99 {s['p99']:>10.0f}{extra}")


if __name__ == "__main__":
    main()
