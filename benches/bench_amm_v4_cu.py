"""Compute units per swap of localnet's Raydium AMM v4 program (amm_v4.so), per instruction form.

`python -m benches.bench_amm_v4_cu [--swaps N] [--seed S] [--json]`

N random pools (reserves, need_take_pnl, swap fee, direction drawn from a seeded RNG) in one in-process
LiteSVM; for each instruction form (tags 16/17 with 8 accounts, tags 9/11 with 17 accounts, and with 18)
and each instruction (base in, base out), one swap per pool, amounts sized at 0.1-1 % of the reserve so
every swap settles. CUs come from the transaction metadata; the SPL Token program's share is read from
its "consumed X of Y" log lines (two Transfer CPIs per swap).

Reported per form and instruction: p50 / p90 / max total CU, the token program's p50 share (the floor:
what two transfers cost whatever the AMM does), our own p50 share (total - token), and total/floor.
"""

from __future__ import annotations

import random
from dataclasses import fields
from typing import Any

from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey

from benches import compute_units
from benches.compute_units import cu_row, send_measured
from localnet.programs import amm_v4_accounts as aa
from localnet.programs import program_path
from localnet.programs.cpmm_accounts import TOKEN_PROGRAM_ID, account, token_account_data
from strategies.venues import raydium_amm_v4 as rv

FORMS = {"tags 16/17, 8 accounts": (False, False), "tags 9/11, 17 accounts": (True, False),
         "tags 9/11, 18 accounts": (True, True)}  # fmt: skip


class Bench:
    def __init__(self) -> None:
        self.svm = LiteSVM()
        self.svm.add_program(aa.PROGRAM_ID, program_path("amm_v4").read_bytes())

    def swap(self, rng: random.Random, legacy: bool, target_orders: bool, base_in: bool) -> tuple[int, int]:
        """One random pool, one settling swap; returns (total CU, token program CU)."""
        coin_mint, pc_mint = Pubkey.new_unique(), Pubkey.new_unique()
        coin, pc = rng.randrange(10**9, 10**17), rng.randrange(10**9, 10**17)
        pnl_coin, pnl_pc = rng.randrange(0, 10**8), rng.randrange(0, 10**8)
        num, den = rng.choice([(25, 10_000), (30, 10_000), (1, 1_000), (4, 10_000)])
        setup = aa.make_pool(coin_mint=coin_mint, pc_mint=pc_mint, coin_reserve=coin, pc_reserve=pc,
                             need_take_pnl_coin=pnl_coin, need_take_pnl_pc=pnl_pc, swap_fee_numerator=num,
                             swap_fee_denominator=den, market=Pubkey.new_unique())  # fmt: skip
        for key, acc in setup.accounts.items():
            self.svm.set_account(key, acc)
        payer, user_coin, user_pc = Keypair(), Pubkey.new_unique(), Pubkey.new_unique()
        self.svm.set_account(payer.pubkey(), account(b"", Pubkey.default(), lamports=10**10))
        for user, mint in ((user_coin, coin_mint), (user_pc, pc_mint)):
            self.svm.set_account(
                user, account(token_account_data(mint, payer.pubkey(), 10**18), TOKEN_PROGRAM_ID)
            )
        info = rv.decode_amm_info(bytes(setup.accounts[setup.amm].data), aa.PROGRAM_ID)
        c2p = rng.random() < 0.5
        r_in, r_out = (coin, pc) if c2p else (pc, coin)
        market = rv.MarketAccounts(
            **{f.name: getattr(setup.market, f.name) for f in fields(rv.MarketAccounts)}
        )
        common: dict[str, Any] = {"pool_address": setup.amm, "info": info, "user_owner": payer.pubkey(),
                                  "user_source": user_coin if c2p else user_pc,
                                  "user_destination": user_pc if c2p else user_coin,
                                  "market": market if legacy else None,
                                  "with_target_orders": target_orders}  # fmt: skip
        if base_in:
            q = rv.swap_base_in(r_in * rng.randrange(1, 10) // 1000, r_in, r_out, num, den)
            ix = rv.build_swap_base_in_ix(**common, amount_in=q.amount_in, min_out=q.amount_out)
        else:
            q = rv.swap_base_out(r_out * rng.randrange(1, 10) // 1000, r_in, r_out, num, den)
            ix = rv.build_swap_base_out_ix(**common, max_in=q.amount_in, amount_out=q.amount_out)
        return send_measured(self.svm, ix, payer)


def run(swaps: int, seed: int) -> dict[str, Any]:
    bench = Bench()
    rng = random.Random(seed)
    report: dict[str, Any] = {}
    for form, (legacy, target_orders) in FORMS.items():
        for instruction, base_in in (("base in", True), ("base out", False)):
            totals, tokens = [], []
            for _ in range(swaps):
                total, token = bench.swap(rng, legacy, target_orders, base_in)
                totals.append(total)
                tokens.append(token)
            report[f"{instruction} ({form})"] = cu_row(totals, tokens)
    return report


def main() -> None:
    compute_units.main(__doc__ or "", run, "instruction (form)", "swaps per form and instruction")


if __name__ == "__main__":
    main()
