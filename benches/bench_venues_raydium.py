"""Per-call cost of the Raydium venue code against floors measured in the same run.

`python -m benches.bench_venues_raydium [--calls N] [--rounds R] [--json]`

Groups (each timed in chunks of CHUNK calls; the per-call cost of a chunk is its time / CHUNK; all
loops of a group run interleaved round by round, so host drift hits them alike):
  quotes   - exact integer quotes (CPMM base input/output, AMM v4 base in/out) vs an empty Python
             call with the same arguments (the floor any Python quote pays);
  decode   - decode_pool (637 B), decode_amm_config (236 B), decode_amm_info (752 B) vs the bare
             precompiled `struct.unpack` of the same bytes;
  build    - swap instruction builders (CPMM 13 accounts, AMM v4 8 accounts) vs packing the data only;
  kernels  - cp_* numba kernels called from Python vs an empty jitted call with the same arguments
             (dispatcher overhead dominates), and in a jitted loop over pools (what the detector pays)
             vs the same loop doing only the loads.
Reported: p50 / p90 / p99 ns per call and the ratio to the group's floor at p50.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import struct
import time
from collections.abc import Callable

import numpy as np
from numba import njit
from solders.pubkey import Pubkey

from benches.timing import pct
from strategies.venues import cp_kernels as k
from strategies.venues import raydium_amm_v4 as amm
from strategies.venues import raydium_cpmm as cpmm

CHUNK = 200
POOLS = 1_000


def _time(fn: Callable[[], object], out: list[float], calls: int) -> None:
    clock = time.perf_counter_ns
    for _ in range(calls // CHUNK):
        t0 = clock()
        for _ in range(CHUNK):
            fn()
        out.append((clock() - t0) / CHUNK)


def _time_each(fn: Callable[[], object], out: list[float], calls: int, per: int) -> None:
    clock = time.perf_counter_ns
    for _ in range(calls):
        t0 = clock()
        fn()
        out.append((clock() - t0) / per)


def _floor6(a: int, b: int, c: int, d: int, e: int, f: int) -> int:
    return a


@njit(cache=True)
def _empty7(x: float, a: float, b: float, c: float, d: float, e: float, f: float) -> float:
    return x


@njit(cache=True)
def _loop_loads(state: np.ndarray, x: float) -> float:
    acc = 0.0
    for i in range(state.shape[0]):
        acc += state[i, 0] + state[i, 1] + state[i, 2] + state[i, 3] + state[i, 4] + state[i, 5] + x
    return acc


# Not cached: it carries the kernels' machine code, and strategies.jit keys the cache on their sources only.
@njit(cache=False)
def _loop_lower(state: np.ndarray, x: float) -> float:
    acc = 0.0
    for i in range(state.shape[0]):
        s = state[i]
        acc += k.cp_two_pool_profit_lower(x, s[0], s[1], s[2], s[3], s[4], s[5])
    return acc


# Not cached: it carries the kernels' machine code, and strategies.jit keys the cache on their sources only.
@njit(cache=False)
def _loop_optimal(state: np.ndarray, x: float) -> float:
    acc = x
    for i in range(state.shape[0]):
        s = state[i]
        acc += k.cp_optimal_input_two_pools(s[0], s[1], s[2], s[3], s[4], s[5])
    return acc


def _groups() -> dict[str, dict[str, Callable[[], object]]]:
    rng = random.Random(7)
    pool_data = bytearray(rng.randbytes(cpmm.POOL_SIZE))
    pool_data[0:8] = cpmm.POOL_DISCRIMINATOR
    pool_data[390] = 0
    pool_bytes = bytes(pool_data)
    config = bytearray(cpmm.CONFIG_SIZE)
    config[0:8] = cpmm.CONFIG_DISCRIMINATOR
    config[12:36] = struct.pack("<QQQ", 2500, 120_000, 40_000)
    config_bytes = bytes(config)
    info = bytearray(rng.randbytes(amm.AMM_INFO_SIZE))
    struct.pack_into("<QQ", info, 0, 6, 254)
    struct.pack_into("<QQ", info, 176, 25, 10_000)
    info_bytes = bytes(info)
    pool = cpmm.decode_pool(pool_bytes, cpmm.PROGRAM_ID)
    amm_info = amm.decode_amm_info(info_bytes, amm.PROGRAM_ID)
    pool_struct = struct.Struct("<8s" + "32s" * 10 + "BBBBB" + "Q" * 7 + "BB6sQQ224s")
    info_struct = struct.Struct("<" + "Q" * 29 + "16sQ16s16sQ16s16sQ" + "32s" * 9 + "64s32sQQQQ")
    addr, payer, src, dst = (Pubkey.new_unique() for _ in range(4))
    r_in, r_out = 123_456_789_012_345, 98_765_432_101_234
    cpmm.authority_pda()  # cached PDA, as in production
    state = np.empty((POOLS, 6))
    for i in range(POOLS):
        a_in, a_out = 10 ** rng.uniform(9, 15), 10 ** rng.uniform(9, 15)
        state[i] = (a_in, a_out, 0.9975, a_out, a_in * rng.uniform(0.98, 1.03), 0.9975)
    return {
        "quotes": {
            "floor: empty call, 6 ints": lambda: _floor6(1_000_000_007, r_in, r_out, 2500, 120_000, 40_000),
            "cpmm.swap_base_input": lambda: cpmm.swap_base_input(
                1_000_000_007, r_in, r_out, 2500, 120_000, 40_000
            ),
            "cpmm.swap_base_output": lambda: cpmm.swap_base_output(
                1_000_000_007, r_in, r_out, 2500, 120_000, 40_000
            ),
            "amm_v4.swap_base_in": lambda: amm.swap_base_in(1_000_000_007, r_in, r_out, 25, 10_000),
            "amm_v4.swap_base_out": lambda: amm.swap_base_out(1_000_000_007, r_in, r_out, 25, 10_000),
        },
        "decode": {
            "floor: struct.unpack 637 B": lambda: pool_struct.unpack(pool_bytes),
            "cpmm.decode_pool": lambda: cpmm.decode_pool(pool_bytes, cpmm.PROGRAM_ID),
            "cpmm.owed_fees (hot path)": lambda: cpmm.owed_fees(pool_bytes),
            "cpmm.decode_amm_config": lambda: cpmm.decode_amm_config(config_bytes, cpmm.PROGRAM_ID),
            "floor2: struct.unpack 752 B": lambda: info_struct.unpack(info_bytes),
            "amm_v4.decode_amm_info": lambda: amm.decode_amm_info(info_bytes, amm.PROGRAM_ID),
            "amm_v4.pnl_owed (hot path)": lambda: amm.pnl_owed(info_bytes),
        },
        "build": {
            "floor: encode data only": lambda: cpmm.encode_swap_base_input_data(1_000_000_007, 1),
            "cpmm.build_swap_base_input_ix": lambda: cpmm.build_swap_base_input_ix(
                pool_address=addr,
                pool=pool,
                payer=payer,
                user_input_account=src,
                user_output_account=dst,
                zero_for_one=True,
                amount_in=1_000_000_007,
                min_out=1,
            ),
            "amm_v4.build_swap_base_in_ix (v2)": lambda: amm.build_swap_base_in_ix(
                pool_address=addr,
                info=amm_info,
                user_source=src,
                user_destination=dst,
                user_owner=payer,
                amount_in=1_000_000_007,
                min_out=1,
            ),
        },
        "kernels": {
            "floor: empty njit, 7 floats": lambda: _empty7(1e9, 1e12, 2e12, 0.9975, 2e12, 1.02e12, 0.9975),
            "cp_out": lambda: k.cp_out(1e9, 1e12, 2e12, 0.9975),
            "cp_two_pool_profit_lower": lambda: k.cp_two_pool_profit_lower(
                1e9, 1e12, 2e12, 0.9975, 2e12, 1.02e12, 0.9975
            ),
            "cp_optimal_input_two_pools": lambda: k.cp_optimal_input_two_pools(
                1e12, 2e12, 0.9975, 2e12, 1.02e12, 0.9975
            ),
            f"floor: jitted loop, loads only (per pool, {POOLS})": lambda: _loop_loads(state, 1e9) and None,
            "jitted loop: cp_two_pool_profit_lower (per pool)": lambda: _loop_lower(state, 1e9) and None,
            "jitted loop: cp_optimal_input_two_pools (per pool)": lambda: _loop_optimal(state, 1e9) and None,
        },
    }


def run(calls: int, rounds: int) -> dict[str, dict[str, dict[str, float]]]:
    k.warm()
    _empty7(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    groups = _groups()
    report: dict[str, dict[str, dict[str, float]]] = {}
    gc.disable()
    try:
        for group, fns in groups.items():
            samples: dict[str, list[float]] = {name: [] for name in fns}
            for _ in range(rounds):
                for name, fn in fns.items():
                    if "per pool" in name:  # one call covers POOLS pools: time calls one by one
                        _time_each(fn, samples[name], max(50, calls // 100), POOLS)
                    else:
                        _time(fn, samples[name], calls)
            floor = None
            rows: dict[str, dict[str, float]] = {}
            for name, xs in samples.items():
                if name.startswith("floor"):
                    floor = pct(xs, 50)
                p50 = pct(xs, 50)
                rows[name] = {
                    "p50_ns": p50,
                    "p90_ns": pct(xs, 90),
                    "p99_ns": pct(xs, 99),
                    "ratio_to_floor_p50": p50 / floor if floor else float("nan"),
                }
            report[group] = rows
    finally:
        gc.enable()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="timed calls per function per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    report = run(args.calls, args.rounds)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for group, rows in report.items():
        print(f"\n[{group}]  (ratio is to the nearest floor above it)")
        print(f"{'':52s} {'p50 ns':>9s} {'p90 ns':>9s} {'p99 ns':>9s} {'x floor':>8s}")
        for name, r in rows.items():
            print(
                f"{name:52s} {r['p50_ns']:9.1f} {r['p90_ns']:9.1f} {r['p99_ns']:9.1f} "
                f"{r['ratio_to_floor_p50']:8.2f}"
            )


if __name__ == "__main__":
    main()
