"""An AMM v4 pool on a chain running our amm_v4.so at Raydium AMM v4's program id.

Same chains as the CPMM tests (cpmm_env: `LocalnetChain` over JSON-RPC, `SvmChain` in process). Pool state
is written directly, so one chain hosts thousands of independent examples: each `seed` rewrites the
AmmInfo, both vaults and both user accounts and makes a fresh fee payer (who owns the user accounts), so
every transaction has a distinct signature. The OpenBook placeholder accounts (market, open orders,
queues, market vaults) and the target orders account are written once.

Swap instructions come from the bot's own builders (strategies.venues.raydium_amm_v4) in one of three
forms: "v2" (tags 16/17, 8 accounts), "legacy" (tags 9/11, 17 accounts), "legacy18" (with target_orders).
"""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path
from typing import Any

from cpmm_env import Chain, LocalnetChain, SvmChain, TxOutcome
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from localnet.programs import amm_v4_accounts as aa
from localnet.programs import program_path
from localnet.programs.cpmm_accounts import TOKEN_PROGRAM_ID, account, mint_data, token_account_data
from strategies.venues import raydium_amm_v4 as rv

_U64 = struct.Struct("<Q")
FORMS = ("v2", "legacy", "legacy18")

__all__ = ["FORMS", "AmmV4Env", "LocalnetChain", "SvmChain", "TxOutcome", "amm_v4_chain", "market_accounts"]


def amm_v4_chain(net: Any, client: Any, program: Path | None = None) -> LocalnetChain:
    """A localnet chain with amm_v4.so (or the ``program`` build) at AMM v4's program id."""
    return LocalnetChain(net, client, aa.PROGRAM_ID, program or program_path("amm_v4"))


def market_accounts(keys: aa.MarketKeys) -> rv.MarketAccounts:
    """The bot's `MarketAccounts` for the placeholder market ``keys`` (same field names)."""
    return rv.MarketAccounts(**{f.name: getattr(keys, f.name) for f in dataclasses.fields(rv.MarketAccounts)})


class AmmV4Env:
    """One AMM v4 pool (AmmInfo, two vaults, OpenBook placeholders) and a user with two token accounts."""

    def __init__(self, chain: Chain, program_id: Pubkey = aa.PROGRAM_ID) -> None:
        self.chain = chain
        self.program_id = program_id
        self.coin_mint, self.pc_mint = Pubkey.new_unique(), Pubkey.new_unique()
        setup = aa.make_pool(
            coin_mint=self.coin_mint, pc_mint=self.pc_mint, coin_reserve=0, pc_reserve=0,
            market=Pubkey.new_unique(), program_id=program_id,
        )  # fmt: skip
        for key, acc in setup.accounts.items():
            chain.set_account(key, acc)
        self.setup = setup
        self.amm, self.authority = setup.amm, setup.authority
        self.coin_vault, self.pc_vault = setup.coin_vault, setup.pc_vault
        self.user_coin, self.user_pc = Pubkey.new_unique(), Pubkey.new_unique()
        self.market = market_accounts(setup.market)
        self.payer = Keypair()

    # --- state writers ---
    def set(self, pubkey: Pubkey, data: bytes, owner: Pubkey) -> None:
        self.chain.set_account(pubkey, account(data, owner))

    def set_token(self, address: Pubkey, mint: Pubkey, owner: Pubkey, amount: int) -> None:
        self.set(address, token_account_data(mint, owner, amount), TOKEN_PROGRAM_ID)

    def set_mint(self, mint: Pubkey, decimals: int) -> None:
        self.set(mint, mint_data(decimals), TOKEN_PROGRAM_ID)

    def fresh_payer(self) -> Keypair:
        """A new funded fee payer (and user owner): every example's transaction gets a distinct signature."""
        self.payer = Keypair()
        self.chain.set_account(self.payer.pubkey(), account(b"", Pubkey.default(), lamports=10_000_000_000))
        return self.payer

    def seed(
        self, *, coin_vault: int, pc_vault: int, user_coin: int, user_pc: int, **fields: Any
    ) -> aa.AmmInfoFields:
        """Write AmmInfo (setup fields with ``fields`` replaced), vaults and user accounts; fresh payer."""
        info = self.set_amm(**fields)
        self.set_token(self.coin_vault, self.coin_mint, self.authority, coin_vault)
        self.set_token(self.pc_vault, self.pc_mint, self.authority, pc_vault)
        payer = self.fresh_payer()
        self.set_token(self.user_coin, self.coin_mint, payer.pubkey(), user_coin)
        self.set_token(self.user_pc, self.pc_mint, payer.pubkey(), user_pc)
        return info

    def set_amm(self, **fields: Any) -> aa.AmmInfoFields:
        """Rewrite only AmmInfo: the setup's fields with ``fields`` replaced (user, payer and vaults stay)."""
        info = dataclasses.replace(self.setup.fields, **fields)
        self.set(self.amm, aa.amm_info_data(info), self.program_id)
        return info

    # --- readers (over the chain's read path: RPC for localnet) ---
    async def snapshot(self) -> dict[str, Any]:
        """Balances of both vaults and both user accounts, and the raw AmmInfo bytes."""
        raw = await self.chain.get_many(
            [self.coin_vault, self.pc_vault, self.user_coin, self.user_pc, self.amm]
        )
        amounts = [None if d is None else int(_U64.unpack_from(d, 64)[0]) for d in raw[:4]]
        snap: dict[str, Any] = dict(zip(("coin_vault", "pc_vault", "user_coin", "user_pc"), amounts))
        snap["amm"] = raw[4]
        return snap

    async def info(self) -> rv.AmmInfo:
        """The pool as the bot's decoder reads it back over the chain."""
        (data,) = await self.chain.get_many([self.amm])
        assert data is not None
        return rv.decode_amm_info(data, self.program_id, self.program_id)

    # --- instructions (the bot's builders) ---
    def swap_ix(
        self, info: rv.AmmInfo, form: str, base_in: bool, coin_to_pc: bool, arg0: int, arg1: int
    ) -> Instruction:
        """A swap in ``form``; arg0/arg1 = amount_in/min_out (base in) or max_in/amount_out (base out)."""
        common: dict[str, Any] = {
            "pool_address": self.amm, "info": info, "user_owner": self.payer.pubkey(),
            "user_source": self.user_coin if coin_to_pc else self.user_pc,
            "user_destination": self.user_pc if coin_to_pc else self.user_coin,
            "market": None if form == "v2" else self.market, "with_target_orders": form == "legacy18",
            "program_id": self.program_id,
        }  # fmt: skip
        if base_in:
            return rv.build_swap_base_in_ix(**common, amount_in=arg0, min_out=arg1)
        return rv.build_swap_base_out_ix(**common, max_in=arg0, amount_out=arg1)

    async def send(self, ix: Instruction, signers: list[Keypair] | None = None) -> TxOutcome:
        return await self.chain.send(ix, signers or [self.payer])
