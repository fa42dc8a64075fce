"""Decision -> signed bytes: the executor's synchronous hot path against a sign-only floor.

`python -m benches.bench_execution [--n N] [--rounds R] [--json]`

Route: a 3-leg Raydium CPMM cycle with compute budget and tip, compiled once with its lookup table
(what the set-up phase does). Per opportunity the executor runs its gates, plans guarded amounts,
patches amounts / min-outs / CU limit and price / tip / blockhash into the template and signs.
  floor  - `Keypair.sign_message` of the same message bytes (the signature alone);
  hot    - `Executor.sign_opportunity` (everything the hot path does);
  naive  - `MessageV0.try_compile` + `VersionedTransaction(msg, [kp])` of the same instructions
           (what building from scratch per trade would cost).
Reported: p50 / p99 µs and ratios to the floor at p50.
"""

from __future__ import annotations

import argparse
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


class _NoLog:
    def __getattr__(self, name: str):
        return lambda *a, **k: None


def setup():
    route, pools, atas = three_leg(("cpmm", "cpmm", "cpmm"))
    kp = Keypair()
    tip = Pubkey.new_unique()
    ixs, _ = route_instructions(route, pools, kp.pubkey(), atas, tip)
    alt = AddressLookupTableAccount(Pubkey.new_unique(), lookup_addresses(ixs, kp.pubkey()))
    tmpl, keys = compile_template(route, pools, kp.pubkey(), atas, [alt], tip)
    market = layout.allocate(3, 3).market
    layout.write_token(market, 0, is_sol=True, balance=10**12, max_notional=10**12)
    ex = Executor(
        wallet=Wallet(kp), templates={0: tmpl}, params=market, route_pools={0: (0, 1, 2)},
        start_accounts={0: (atas[0], keys.index(atas[0]))}, rpc=None, pubsub=None, sender=None,  # type: ignore[arg-type]
        blockhash=BlockhashCache(bytes(range(32)), 100, 1, fetched_ns=time.monotonic_ns()),
        policy=ExecPolicy(dry_run=False, min_profit_lamports=10_000, budget_ns=10**7,
                          max_trades_per_minute=10**9, tip_lamports=5_000),
        log=_NoLog(),
    )
    rng = np.random.default_rng(7)
    opps = []
    for _ in range(4096):
        a = int(rng.integers(10**8, 10**10))
        outs = [a * 3, a * 2, a + 200_000 + int(rng.integers(0, 10**6))]
        legs, x = [], a
        for k, o in enumerate(outs):
            legs.append(OpportunityLeg(k, 1, 0, k, (k + 1) % 3, x, o, o))
            x = o
        opps.append(Opportunity(0, 0, 0, 0, tuple(legs), a, outs[-1], 260_000, 31_000, 31_000,
                                outs[-1] - a - 31_000, 1, 0, 0.0))
    msg = bytes(tmpl._buf)
    return ex, opps, kp, msg, ixs, alt


def run(n: int, rounds: int) -> dict[str, dict[str, float]]:
    ex, opps, kp, msg, ixs, alt = setup()
    opps = (opps * (n // len(opps) + 1))[:n]
    bh = Hash(bytes(range(32)))
    res: dict[str, list[float]] = {"floor": [], "hot": [], "naive": []}
    signed = 0
    for _ in range(rounds):
        gc.disable()
        try:
            time_chunks(lambda _o: kp.sign_message(msg), opps, res["floor"], chunk=10)
            time_chunks(ex.sign_opportunity, opps, res["hot"], chunk=10)
            time_chunks(lambda _o: VersionedTransaction(MessageV0.try_compile(kp.pubkey(), ixs, [alt], bh), [kp]),
                        opps[: n // 4], res["naive"], chunk=10)
        finally:
            gc.enable()
    # Correctness after timing: the last signed transaction verifies and carries the last plan.
    tx = ex.sign_opportunity(opps[-1])
    assert tx is not None
    VersionedTransaction.from_bytes(tx).verify_with_results()
    signed = ex.stats.signed
    assert signed == rounds * (len(opps) // 10 * 10) + 1, (signed, ex.stats)
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
    print(f"{'path':<8} {'p50 µs':>8} {'p99 µs':>8} {'× floor':>8}")
    for name, s in out.items():
        print(f"{name:<8} {s['p50']:>8.1f} {s['p99']:>8.1f} {s['p50'] / f:>8.2f}")


if __name__ == "__main__":
    main()
