"""Decision -> signed bytes: the executor's synchronous hot path against a sign-only floor.

`python -m benches.bench_execution [--n N] [--rounds R] [--json]`

Routes (compiled once with their lookup table, as the set-up phase does): a 3-leg Raydium CPMM cycle,
and a 3-leg cycle whose first leg is an Orca Whirlpool swap (then CPMM, AMM v4), both with compute budget
and tip. Per opportunity the executor runs its gates, plans guarded amounts, patches amounts / min-outs /
CU limit and price / tip / blockhash into the template and signs; for the Whirlpool route it first points
the swap at the three tick arrays of the opportunity's tick (drawn across the compiled window, so the
triple changes from one opportunity to the next).
  floor     - `Keypair.sign_message` of the same message bytes (the signature alone);
  hot       - `Executor.sign_opportunity`, CPMM route (everything the hot path does);
  hot_wp    - `Executor.sign_opportunity`, Whirlpool route (the same plus the tick-array patch);
  choose_wp - `RouteTemplate.choose_accounts` alone (the tick-array patch);
  naive     - `MessageV0.try_compile` + `VersionedTransaction(msg, [kp])` of the CPMM route's instructions
              (what building from scratch per trade would cost);
  rebuild   - `compile_template` of the Whirlpool route around a tick outside the window (what the
              executor schedules off the hot path when the price leaves it; tick-array PDAs cached).
Reported: p50 / p99 µs and ratios to the floor at p50.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import time
from pathlib import Path

import numpy as np
import orjson
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from benches.timing import summary, time_chunks
from bot.execution.executor import BlockhashCache, ExecPolicy, Executor
from bot.execution.templates import compile_template, lookup_addresses, route_instructions
from bot.keys import Wallet
from strategies import layout
from strategies.opportunity import Opportunity, OpportunityLeg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "execution"))
from test_templates import three_leg
from test_whirlpool_templates import TICK0, WIDTH, route_with


class _NoLog:
    def __getattr__(self, name: str):
        return lambda *a, **k: None


def _compile(route, pools, atas, kp, tip):
    ixs, _ = route_instructions(route, pools, kp.pubkey(), atas, tip)
    alt = AddressLookupTableAccount(Pubkey.new_unique(), lookup_addresses(ixs, kp.pubkey()))
    tmpl, keys = compile_template(route, pools, kp.pubkey(), atas, [alt], tip)
    return ixs, alt, tmpl, keys


def _executor(kp, templates, starts):
    market = layout.allocate(3, 3).market
    layout.write_token(market, 0, is_sol=True, balance=10**12, max_notional=10**12)
    return Executor(
        wallet=Wallet(kp), templates=templates, params=market, route_pools={r: (0, 1, 2) for r in templates},
        start_accounts=starts, rpc=None, pubsub=None, sender=None,  # type: ignore[arg-type]
        blockhash=BlockhashCache(bytes(range(32)), 100, 1, time.monotonic_ns()),
        policy=ExecPolicy(dry_run=False, min_profit_lamports=10_000, budget_ns=10**7, max_trades_per_minute=10**9,
                          tip_lamports=5_000, blockhash_max_age_ns=10**15),
        log=_NoLog(),
    )  # fmt: skip


def _opportunities(route_id: int, kinds: tuple[int, ...], ticks: list[int], rng) -> list[Opportunity]:
    opps = []
    for tick in ticks:
        a = int(rng.integers(10**8, 10**10))
        outs = [a * 3, a * 2, a + 200_000 + int(rng.integers(0, 10**6))]
        legs, x = [], a
        for k, o in enumerate(outs):
            legs.append(OpportunityLeg(k, kinds[k], 0, k, (k + 1) % 3, x, o, o, tick if k == 0 else 0))
            x = o
        opps.append(Opportunity(route_id, 0, 0, 0, tuple(legs), a, outs[-1], 260_000, 31_000, 31_000,
                                outs[-1] - a - 31_000, 1, 0, 0.0))  # fmt: skip
    return opps


def setup():
    kp = Keypair()
    tip = Pubkey.new_unique()
    route, pools, atas = three_leg(("cpmm", "cpmm", "cpmm"))
    ixs, alt, tmpl, keys = _compile(route, pools, atas, kp, tip)
    wp_route, wp_pools, wp_atas = route_with(("wp", "cpmm", "amm"))
    wp_route = dataclasses.replace(wp_route, route_id=1)
    _, wp_alt, wp_tmpl, wp_keys = _compile(wp_route, wp_pools, wp_atas, kp, tip)
    ex = _executor(kp, {0: tmpl, 1: wp_tmpl}, {0: (atas[0], keys.index(atas[0])),
                                                1: (wp_atas[0], wp_keys.index(wp_atas[0]))})  # fmt: skip
    rng = np.random.default_rng(7)
    # Ticks across the compiled window (the array of TICK0 and either neighbour): the triple changes.
    ticks = [int(t) for t in rng.integers(TICK0 - WIDTH - 100, TICK0 + 2 * WIDTH - 100, 4096)]
    kinds = (layout.KIND_RAYDIUM_CPMM,) * 3
    wp_kinds = (layout.KIND_ORCA_WHIRLPOOL, layout.KIND_RAYDIUM_CPMM, layout.KIND_RAYDIUM_AMM_V4)
    rebuild = (wp_route, wp_pools, wp_atas, kp, tip, wp_alt)
    return (ex, _opportunities(0, kinds, [0] * 4096, rng), _opportunities(1, wp_kinds, ticks, rng), kp,
            bytes(tmpl._buf), ixs, alt, wp_tmpl, ticks, rebuild)  # fmt: skip


def run(n: int, rounds: int) -> dict[str, dict[str, float]]:
    ex, opps, wp_opps, kp, msg, ixs, alt, wp_tmpl, ticks, rebuild = setup()
    opps = (opps * (n // len(opps) + 1))[:n]
    wp_opps = (wp_opps * (n // len(wp_opps) + 1))[:n]
    tick_rows = [[t, 0, 0] for t in ticks]
    bh = Hash(bytes(range(32)))
    wp_route, wp_pools, wp_atas, _, tip, wp_alt = rebuild
    far = [TICK0 + k * WIDTH for k in range(3, 3 + max(4, n // 200))]
    res: dict[str, list[float]] = {k: [] for k in ("floor", "hot", "hot_wp", "choose_wp", "naive", "rebuild")}
    for _ in range(rounds):
        gc.disable()
        try:
            time_chunks(lambda _o: kp.sign_message(msg), opps, res["floor"], chunk=10)
            time_chunks(ex.sign_opportunity, opps, res["hot"], chunk=10)
            time_chunks(ex.sign_opportunity, wp_opps, res["hot_wp"], chunk=10)
            time_chunks(wp_tmpl.choose_accounts, tick_rows, res["choose_wp"], chunk=10)
            time_chunks(
                lambda _o: VersionedTransaction(MessageV0.try_compile(kp.pubkey(), ixs, [alt], bh), [kp]),
                opps[: n // 4],
                res["naive"],
                chunk=10,
            )
            time_chunks(lambda t: compile_template(wp_route, wp_pools, kp.pubkey(), wp_atas, [wp_alt], tip,
                                                   [t, 0, 0]), far, res["rebuild"], chunk=2)  # fmt: skip
        finally:
            gc.enable()
    # Correctness after timing: every opportunity was signed (none fell outside the window), and the last
    # signed transactions verify.
    for opp in (opps[-1], wp_opps[-1]):
        tx = ex.sign_opportunity(opp)
        assert tx is not None
        VersionedTransaction.from_bytes(tx).verify_with_results()
    st = ex.stats
    assert st.off_window == 0 and st.signed == rounds * 2 * (n // 10 * 10) + 2, st
    return {k: {q: v / 1000 if q != "n" else v for q, v in summary(xs).items()} for k, xs in res.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = run(args.n, args.rounds)
    if args.json:
        print(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        return
    f = out["floor"]["p50"]
    print(f"{'path':<10} {'p50 µs':>8} {'p99 µs':>8} {'× floor':>8}")
    for name, s in out.items():
        print(f"{name:<10} {s['p50']:>8.1f} {s['p99']:>8.1f} {s['p50'] / f:>8.2f}")


if __name__ == "__main__":
    main()
