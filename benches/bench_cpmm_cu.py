"""Compute units per swap of localnet's CPMM program (cpmm.so), per instruction.

`python -m benches.bench_cpmm_cu [--swaps N] [--seed S] [--json]`

N random pools (reserves, fees owed, fee rates, direction drawn from a seeded RNG) in one in-process
LiteSVM; for each instruction (swap_base_input, swap_base_output) and each oracle path (first swap after
the observation was created: it initializes the TWAP slot; a swap 15+ s after the last observation: it
computes both prices and writes a new slot), one swap per pool, amounts sized at 0.1-1 % of the reserve
so every swap settles. CUs come from the transaction metadata; the SPL Token program's share is read from
its "consumed X of Y" log lines (two TransferChecked CPIs per swap).

Reported per instruction and path: p50 / p90 / max total CU, the token program's p50 share (the floor:
what two transfers cost whatever the AMM does), our own p50 share (total - token), and total/floor.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from typing import Any

from solders.clock import Clock
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata

from benches.timing import cu_summary, print_cu_table
from localnet.programs import cpmm_accounts as ca
from localnet.programs import program_path
from strategies.venues import raydium_cpmm as rc

NOW = 1_750_000_000
TOKEN_CONSUMED = re.compile(r"Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA consumed (\d+) of")


class Bench:
    def __init__(self) -> None:
        self.svm = LiteSVM()
        self.svm.add_program(ca.PROGRAM_ID, program_path("cpmm").read_bytes())
        self.svm.set_clock(Clock(slot=1, epoch_start_timestamp=NOW, epoch=1, leader_schedule_epoch=1,
                                 unix_timestamp=NOW))  # fmt: skip
        self.authority, self.bump = ca.authority()

    def put(self, key: Pubkey, data: bytes, owner: Pubkey) -> None:
        self.svm.set_account(key, ca.account(data, owner))

    def swap(self, rng: random.Random, instruction: str, observed_before: bool) -> tuple[int, int]:
        """One random pool, one settling swap; returns (total CU, token program CU)."""
        mint0, mint1 = sorted([Pubkey.new_unique(), Pubkey.new_unique()], key=bytes)
        config, pool, vault0, vault1, obs = (Pubkey.new_unique() for _ in range(5))
        payer, user0, user1 = Keypair(), Pubkey.new_unique(), Pubkey.new_unique()
        r0, r1 = rng.randrange(10**9, 10**17), rng.randrange(10**9, 10**17)
        owed = [rng.randrange(0, 10**8) for _ in range(4)]
        trade, protocol, fund = rng.choice([100, 2500, 10_000, 40_000]), 120_000, 40_000
        fields = ca.PoolFields(amm_config=config, token_0_vault=vault0, token_1_vault=vault1, token_0_mint=mint0,
                               token_1_mint=mint1, observation_key=obs, auth_bump=self.bump,
                               protocol_fees_token_0=owed[0], fund_fees_token_0=owed[1],
                               protocol_fees_token_1=owed[2], fund_fees_token_1=owed[3])  # fmt: skip
        self.put(mint0, ca.mint_data(9), ca.TOKEN_PROGRAM_ID)
        self.put(mint1, ca.mint_data(6), ca.TOKEN_PROGRAM_ID)
        self.put(config, ca.amm_config_data(trade, protocol, fund), ca.PROGRAM_ID)
        self.put(pool, ca.pool_data(fields), ca.PROGRAM_ID)
        observation = bytearray(ca.observation_data(pool))
        if observed_before:
            observation[8] = 1  # initialized, slot 0 stamped at time 0: the next swap writes slot 1
        self.put(obs, bytes(observation), ca.PROGRAM_ID)
        self.put(
            vault0, ca.token_account_data(mint0, self.authority, r0 + owed[0] + owed[1]), ca.TOKEN_PROGRAM_ID
        )
        self.put(
            vault1, ca.token_account_data(mint1, self.authority, r1 + owed[2] + owed[3]), ca.TOKEN_PROGRAM_ID
        )
        self.put(user0, ca.token_account_data(mint0, payer.pubkey(), 10**18), ca.TOKEN_PROGRAM_ID)
        self.put(user1, ca.token_account_data(mint1, payer.pubkey(), 10**18), ca.TOKEN_PROGRAM_ID)
        self.svm.set_account(payer.pubkey(), ca.account(b"", Pubkey.default(), lamports=10**10))
        zfo = rng.random() < 0.5
        decoded = rc.decode_pool(ca.pool_data(fields), ca.PROGRAM_ID)
        r_in, r_out = (r0, r1) if zfo else (r1, r0)
        common: dict[str, Any] = {"pool_address": pool, "pool": decoded, "payer": payer.pubkey(),
                                  "user_input_account": user0 if zfo else user1,
                                  "user_output_account": user1 if zfo else user0, "zero_for_one": zfo}  # fmt: skip
        if instruction == "swap_base_input":
            q = rc.swap_base_input(r_in * rng.randrange(1, 10) // 1000, r_in, r_out, trade, protocol, fund)
            ix = rc.build_swap_base_input_ix(**common, amount_in=q.amount_in, min_out=q.amount_out)
        else:
            q = rc.swap_base_output(r_out * rng.randrange(1, 10) // 1000, r_in, r_out, trade, protocol, fund)
            ix = rc.build_swap_base_output_ix(**common, max_in=q.amount_in, amount_out=q.amount_out)
        tx = Transaction([payer], Message([ix], payer.pubkey()), self.svm.latest_blockhash())
        res = self.svm.send_transaction(tx)
        if isinstance(res, FailedTransactionMetadata):
            raise RuntimeError(f"swap failed: {res.err()} {list(res.meta().logs())}")
        token = sum(int(m.group(1)) for line in res.logs() if (m := TOKEN_CONSUMED.search(line)))
        return int(res.compute_units_consumed()), token


def run(swaps: int, seed: int) -> dict[str, Any]:
    bench = Bench()
    rng = random.Random(seed)
    report: dict[str, Any] = {}
    for instruction in ("swap_base_input", "swap_base_output"):
        for path, observed in (("observation init", False), ("observation update", True)):
            totals, tokens = [], []
            for _ in range(swaps):
                total, token = bench.swap(rng, instruction, observed)
                totals.append(total)
                tokens.append(token)
            report[f"{instruction} ({path})"] = cu_summary(totals, tokens)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=200, help="swaps per instruction and path")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    report = run(args.swaps, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print_cu_table("instruction (oracle path)", report)


if __name__ == "__main__":
    main()
