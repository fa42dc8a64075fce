"""A PumpSwap pool on an in-process LiteSVM running our pumpswap.so at PumpSwap's program id.

One LiteSVM hosts many independent cases: each case writes a fresh pool (new base mint, so new PDAs),
its GlobalConfig / FeeConfig, fee accounts and a fresh funded user, then sends one transaction built by
the bot's own builders (strategies.venues.pumpswap). Every swap runs in the real runtime: sigverify, the
sBPF VM executing pumpswap.so, CPIs into the real SPL Token program.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass
from typing import Any

from cpmm_env import TxOutcome, _custom_code
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata

from localnet.programs import program_path
from localnet.programs import pumpswap_accounts as pa
from localnet.programs.cpmm_accounts import account, token_account_data
from strategies.venues import pumpswap as ps

_U64 = struct.Struct("<Q")


class Chain:
    """LiteSVM with pumpswap.so loaded at the real program id."""

    def __init__(self) -> None:
        self.svm = LiteSVM()
        self.svm.add_program(pa.PROGRAM_ID, program_path("pumpswap").read_bytes())

    def write(self, accounts: dict[Pubkey, Any]) -> None:
        for key, acc in accounts.items():
            self.svm.set_account(key, acc)

    def data(self, key: Pubkey) -> bytes:
        acc = self.svm.get_account(key)
        return b"" if acc is None else bytes(acc.data)

    def owner(self, key: Pubkey) -> Pubkey:
        acc = self.svm.get_account(key)
        assert acc is not None
        return acc.owner

    def amount(self, key: Pubkey) -> int:
        return int(_U64.unpack_from(self.data(key), 64)[0])

    def send(self, ixs: list[Instruction], signers: list[Keypair]) -> TxOutcome:
        tx = Transaction(signers, Message(ixs, signers[0].pubkey()), self.svm.latest_blockhash())
        res = self.svm.send_transaction(tx)
        if isinstance(res, FailedTransactionMetadata):
            meta, err = res.meta(), res.err()
            return TxOutcome(
                False, _custom_code(err), str(err), meta.compute_units_consumed(), tuple(meta.logs())
            )
        return TxOutcome(True, None, None, res.compute_units_consumed(), tuple(res.logs()))


@dataclass
class Case:
    """One pool and user, as written to the chain, with the accounts a swap names."""

    setup: pa.PoolSetup
    user: Keypair
    user_base: Pubkey
    user_quote: Pubkey
    accounts: ps.SwapAccounts
    cashback_ata: Pubkey | None

    @property
    def pool(self) -> Pubkey:
        return self.setup.pool

    def watched(self) -> dict[str, Pubkey]:
        """Every token account a swap may move."""
        s = self.setup
        out = {
            "user_base": self.user_base,
            "user_quote": self.user_quote,
            "base_vault": s.fields.pool_base_token_account,
            "quote_vault": s.fields.pool_quote_token_account,
            "protocol": s.fee_recipient_ata(self.accounts.protocol_fee_recipient),
            "buyback": s.fee_recipient_ata(self.accounts.buyback_fee_recipient),
            "creator": s.creator_vault_ata,
        }
        if self.cashback_ata is not None:
            out["cashback"] = self.cashback_ata
        return out


def seed_case(
    chain: Chain,
    rng: random.Random,
    *,
    user_base: int,
    user_quote: int,
    **pool_args: Any,
) -> Case:
    """Write a fresh pool (``pa.make_pool(**pool_args)``) and a funded user holding the given amounts."""
    pool_args.setdefault("base_mint", Pubkey.new_unique())
    setup = pa.make_pool(**pool_args)
    chain.write(setup.accounts)
    user = Keypair()
    f = setup.fields
    quote_program = setup.quote_token_program
    base_acc, quote_acc = Pubkey.new_unique(), Pubkey.new_unique()
    chain.write({
        user.pubkey(): account(b"", Pubkey.default(), lamports=10_000_000_000),
        base_acc: account(token_account_data(f.base_mint, user.pubkey(), user_base), setup.base_token_program),
        quote_acc: account(token_account_data(f.quote_mint, user.pubkey(), user_quote), quote_program),
    })  # fmt: skip
    cashback = None
    if f.is_cashback_coin:
        accumulator = pa.user_volume_accumulator(user.pubkey())
        cashback = pa.ata(accumulator, f.quote_mint, quote_program)
        chain.write({cashback: account(token_account_data(f.quote_mint, accumulator, 0), quote_program)})
    g = setup.global_fields
    recipients = (
        [g.reserved_fee_recipient, *g.reserved_fee_recipients]
        if f.is_mayhem_mode
        else g.protocol_fee_recipients
    )
    accounts = ps.SwapAccounts(
        user=user.pubkey(),
        user_base_token_account=base_acc,
        user_quote_token_account=quote_acc,
        base_token_program=setup.base_token_program,
        quote_token_program=quote_program,
        protocol_fee_recipient=rng.choice(recipients),
        buyback_fee_recipient=rng.choice(g.buyback_fee_recipients),
    )
    return Case(setup, user, base_acc, quote_acc, accounts, cashback)


@dataclass(frozen=True)
class View:
    """The pool as the bot reads it back from the chain: decoded state, vault balances, fee rates."""

    pool: ps.PumpPool
    global_config: ps.GlobalConfig
    base_reserve: int
    quote_reserve: int
    fees: ps.Fees


def read_view(chain: Chain, case: Case) -> View:
    s = case.setup
    pool = ps.decode_pool(chain.data(s.pool), chain.owner(s.pool))
    config = ps.decode_global_config(chain.data(s.global_config), chain.owner(s.global_config))
    fee_config = ps.decode_fee_config(chain.data(s.fee_config), chain.owner(s.fee_config))
    base = chain.amount(pool.pool_base_token_account)
    quote = chain.amount(pool.pool_quote_token_account)
    supply = ps.read_mint_supply(chain.data(pool.base_mint))
    return View(pool, config, base, quote, ps.pool_fees(pool, config, fee_config, supply, base, quote))


def snapshot(chain: Chain, case: Case) -> dict[str, int]:
    return {name: chain.amount(key) for name, key in case.watched().items()}


def buy_ix(case: Case, view: View, base_out: int, max_quote_in: int) -> Instruction:
    return ps.build_buy_ix(
        pool_address=case.pool, pool=view.pool, accounts=case.accounts, base_amount_out=base_out,
        max_quote_amount_in=max_quote_in,
    )  # fmt: skip


def exact_quote_in_ix(case: Case, view: View, spend: int, min_base_out: int) -> Instruction:
    return ps.build_buy_exact_quote_in_ix(
        pool_address=case.pool, pool=view.pool, accounts=case.accounts, spendable_quote_in=spend,
        min_base_amount_out=min_base_out,
    )  # fmt: skip


def sell_ix(case: Case, view: View, base_in: int, min_quote_out: int) -> Instruction:
    return ps.build_sell_ix(
        pool_address=case.pool, pool=view.pool, accounts=case.accounts, base_amount_in=base_in,
        min_quote_amount_out=min_quote_out,
    )  # fmt: skip


def expected_after(
    before: dict[str, int], view: View, quote: ps.PumpBuy | ps.PumpSell, case: Case
) -> dict[str, int]:
    """Balances after a swap that settles exactly as `quote` (the bot's exact quote)."""
    after = dict(before)
    buyback = ps.buyback_fee(quote.protocol_fee, view.global_config)
    creator = "cashback" if case.cashback_ata is not None else "creator"
    if isinstance(quote, ps.PumpBuy):
        after["user_quote"] -= quote.user_quote_amount_in
        after["user_base"] += quote.base_amount_out
        after["quote_vault"] += quote.quote_amount_in + quote.lp_fee
        after["base_vault"] -= quote.base_amount_out
    else:
        after["user_base"] -= quote.base_amount_in
        after["user_quote"] += quote.user_quote_amount_out
        after["base_vault"] += quote.base_amount_in
        after["quote_vault"] -= quote.quote_amount_out - quote.lp_fee
    after["protocol"] += quote.protocol_fee - buyback
    after["buyback"] += buyback
    after[creator] += quote.coin_creator_fee
    return after
