"""Compute units per swap of localnet's PumpSwap program (pumpswap.so), per instruction and pool kind.

`python -m benches.bench_pumpswap_cu [--swaps N] [--seed S] [--json]`

N random pools per instruction (buy, buy_exact_quote_in, sell) and pool kind in one in-process LiteSVM:
reserves, base supply (so the market cap falls in any mainnet fee tier) and amounts (0.1-1 % of the
reserve, so every swap settles) drawn from a seeded RNG; the bot's own quote and builder
(strategies.venues.pumpswap) make each transaction. Kinds: a canonical pool with a coin creator
(tiered fees: 5 transfers, pool-v2 check), a canonical cashback coin (creator fee to the user's
accumulator), and a permissionless pool without coin creator (flat fees, 4 transfers, no pool-v2).

CUs come from the transaction metadata; the SPL Token program's share is read from its "consumed X of
Y" log lines. Reported per instruction and kind: p50 / p90 / max total CU, the token program's p50 (the
floor: what the transfers cost whatever the AMM does), our own p50 (total - token), total / floor.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from typing import Any

from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata

from benches.timing import cu_summary, print_cu_table
from localnet.programs import program_path
from localnet.programs import pumpswap_accounts as pa
from localnet.programs.cpmm_accounts import account, token_account_data
from strategies.venues import pumpswap as ps

TOKEN_CONSUMED = re.compile(r"Program Tokenkeg\w+ consumed (\d+) of")
KINDS = {
    "canonical + coin creator": {"canonical": True},
    "canonical cashback coin": {"canonical": True, "is_cashback_coin": True},
    "permissionless, no coin creator": {"canonical": False, "coin_creator": Pubkey.default()},
}


class Bench:
    def __init__(self) -> None:
        self.svm = LiteSVM()
        self.svm.add_program(pa.PROGRAM_ID, program_path("pumpswap").read_bytes())

    def write(self, accounts: dict[Pubkey, Any]) -> None:
        for key, acc in accounts.items():
            self.svm.set_account(key, acc)

    def swap(self, rng: random.Random, instruction: str, kind: dict[str, Any]) -> tuple[int, int]:
        """One random pool, one settling swap; returns (total CU, token program CU)."""
        base, quote = rng.randrange(10**13, 10**15), rng.randrange(10**10, 10**14)
        setup = pa.make_pool(base_mint=Pubkey.new_unique(), base_reserve=base, quote_reserve=quote, **kind)
        self.write(setup.accounts)
        user = Keypair()
        user_base, user_quote = Pubkey.new_unique(), Pubkey.new_unique()
        f = setup.fields
        self.write({
            user.pubkey(): account(b"", Pubkey.default(), lamports=10**10),
            user_base: account(token_account_data(f.base_mint, user.pubkey(), 10**17), pa.TOKEN_PROGRAM_ID),
            user_quote: account(token_account_data(f.quote_mint, user.pubkey(), 10**17), pa.TOKEN_PROGRAM_ID),
        })  # fmt: skip
        if f.is_cashback_coin:
            accumulator = pa.user_volume_accumulator(user.pubkey())
            cashback = pa.ata(accumulator, f.quote_mint)
            self.write(
                {cashback: account(token_account_data(f.quote_mint, accumulator, 0), pa.TOKEN_PROGRAM_ID)}
            )
        g = setup.global_fields
        accounts = ps.SwapAccounts(
            user.pubkey(), user_base, user_quote, pa.TOKEN_PROGRAM_ID, pa.TOKEN_PROGRAM_ID,
            rng.choice(g.protocol_fee_recipients), rng.choice(g.buyback_fee_recipients),
        )  # fmt: skip
        pool = ps.decode_pool(pa.pool_data(f), ps.PROGRAM_ID)
        config = ps.decode_global_config(pa.global_config_data(g), ps.PROGRAM_ID)
        fee_config = ps.decode_fee_config(pa.fee_config_data(), ps.FEE_PROGRAM_ID)
        fees = ps.pool_fees(pool, config, fee_config, 10**15, base, quote)
        common: dict[str, Any] = {"pool_address": setup.pool, "pool": pool, "accounts": accounts}
        if instruction == "buy":
            b = ps.buy_base_output(base * rng.randrange(1, 10) // 1000, base, quote, fees)
            ix = ps.build_buy_ix(
                **common, base_amount_out=b.base_amount_out, max_quote_amount_in=b.user_quote_amount_in
            )
        elif instruction == "buy_exact_quote_in":
            e = ps.buy_exact_quote_in(quote * rng.randrange(1, 10) // 1000, base, quote, fees)
            ix = ps.build_buy_exact_quote_in_ix(
                **common, spendable_quote_in=e.user_quote_amount_in, min_base_amount_out=e.base_amount_out
            )
        else:
            s = ps.sell_base_input(base * rng.randrange(1, 10) // 1000, base, quote, fees)
            ix = ps.build_sell_ix(
                **common, base_amount_in=s.base_amount_in, min_quote_amount_out=s.user_quote_amount_out
            )
        tx = Transaction([user], Message([ix], user.pubkey()), self.svm.latest_blockhash())
        res = self.svm.send_transaction(tx)
        if isinstance(res, FailedTransactionMetadata):
            raise RuntimeError(f"swap failed: {res.err()} {list(res.meta().logs())}")
        token = sum(int(m.group(1)) for line in res.logs() if (m := TOKEN_CONSUMED.search(line)))
        return int(res.compute_units_consumed()), token


def run(swaps: int, seed: int) -> dict[str, Any]:
    bench = Bench()
    rng = random.Random(seed)
    report: dict[str, Any] = {}
    for instruction in ("buy", "buy_exact_quote_in", "sell"):
        for kind_name, kind in KINDS.items():
            totals, tokens = [], []
            for _ in range(swaps):
                total, token = bench.swap(rng, instruction, kind)
                totals.append(total)
                tokens.append(token)
            report[f"{instruction} ({kind_name})"] = cu_summary(totals, tokens)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=100, help="swaps per instruction and pool kind")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    report = run(args.swaps, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print_cu_table("instruction (pool kind)", report)


if __name__ == "__main__":
    main()
