"""Swap builders of the market simulator: one small entry per venue whose reference program runs on localnet.

An entry finds its pools among the accounts its program owns, reads a pool's price and reserves from the
chain, and builds a swap-exact-in instruction with the venue module's own exact quote (strategies.venues),
so a noise trader's `min_out` is what the program will pay, less the trader's slippage tolerance.

Today: Raydium CPMM (localnet/programs/cpmm.c). Adding a venue is one more class with `discover`,
`view` and `build` and one more line in `VENUES`: e.g. AMM v4 decodes `AmmInfo`
(strategies.venues.raydium_amm_v4.decode_amm_info), takes reserves from its two vaults minus the PnL owed
(`reserves`), quotes with `swap_base_in` and builds with `build_swap_base_in_ix`, once localnet has an AMM
v4 program and the demo seeds its pools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from localnet.chain import Chain
from strategies.venues import raydium_cpmm as cpmm
from strategies.venues.errors import VenueError
from strategies.venues.spl import read_token_amount

__all__ = ["VENUES", "CpmmVenue", "PoolView", "SimPool", "SwapVenue"]

BPS = 10_000


@dataclass(frozen=True, slots=True)
class SimPool:
    """A pool the simulator trades: prices are quoted as token B per token A."""

    venue: str
    address: Pubkey
    mint_a: Pubkey
    mint_b: Pubkey
    decimals_a: int
    decimals_b: int
    static: Any  # the venue's decoded, never-changing part (CPMM: the AmmConfig)


@dataclass(frozen=True, slots=True)
class PoolView:
    """A pool as it is right now: raw reserves and the decoded state a swap needs."""

    reserve_a: int
    reserve_b: int
    state: Any

    def price(self, pool: SimPool) -> float:
        """Token B per token A in whole tokens (screening only: a float)."""
        return (self.reserve_b / 10.0**pool.decimals_b) / (self.reserve_a / 10.0**pool.decimals_a)


class SwapVenue(Protocol):
    name: str
    program_id: Pubkey

    def discover(self, chain: Chain, address: Pubkey) -> SimPool | None:
        """The pool at `address` (owned by `program_id`), or None when the account is not a tradable pool."""
        ...

    def view(self, chain: Chain, pool: SimPool) -> PoolView | None:
        """Current reserves, or None when the pool cannot be traded right now."""
        ...

    def build(
        self,
        pool: SimPool,
        view: PoolView,
        owner: Pubkey,
        source: Pubkey,
        destination: Pubkey,
        a_to_b: bool,
        amount_in: int,
        slippage_bps: int,
    ) -> tuple[Instruction, int] | None:
        """(swap instruction, exact expected output), or None when the program would reject the swap."""
        ...


def _token_amount(chain: Chain, vault: Pubkey, mint: Pubkey) -> int:
    acc = chain.get_account(vault)
    if acc is None:
        raise VenueError(f"vault {vault} does not exist")
    return read_token_amount(bytes(acc.data), bytes(mint))


class CpmmVenue:
    """Raydium CPMM: token 0 is A, token 1 is B; reserves are the vaults less the fees owed."""

    name = "raydium_cpmm"
    program_id = cpmm.PROGRAM_ID

    def discover(self, chain: Chain, address: Pubkey) -> SimPool | None:
        acc = chain.get_account(address)
        if acc is None or len(acc.data) != cpmm.POOL_SIZE:
            return None  # observations and configs share the owner
        try:
            pool = cpmm.decode_pool(bytes(acc.data), acc.owner, self.program_id)
            config_acc = chain.get_account(pool.amm_config)
            if config_acc is None:
                return None
            config = cpmm.decode_amm_config(bytes(config_acc.data), config_acc.owner, self.program_id)
        except VenueError:
            return None
        return SimPool(
            self.name,
            address,
            pool.token_0_mint,
            pool.token_1_mint,
            pool.mint_0_decimals,
            pool.mint_1_decimals,
            config,
        )

    def view(self, chain: Chain, pool: SimPool) -> PoolView | None:
        acc = chain.get_account(pool.address)
        if acc is None:
            return None
        try:
            state = cpmm.decode_pool(bytes(acc.data), acc.owner, self.program_id)
            cpmm.check_tradable(state, pool.static, chain.block_times[chain.slot])
            r0, r1 = cpmm.reserves(
                state,
                _token_amount(chain, state.token_0_vault, state.token_0_mint),
                _token_amount(chain, state.token_1_vault, state.token_1_mint),
            )
        except VenueError:
            return None
        if r0 == 0 or r1 == 0:
            return None
        return PoolView(r0, r1, state)

    def build(
        self,
        pool: SimPool,
        view: PoolView,
        owner: Pubkey,
        source: Pubkey,
        destination: Pubkey,
        a_to_b: bool,
        amount_in: int,
        slippage_bps: int,
    ) -> tuple[Instruction, int] | None:
        config = pool.static
        r_in, r_out = (view.reserve_a, view.reserve_b) if a_to_b else (view.reserve_b, view.reserve_a)
        try:
            quote = cpmm.swap_base_input(
                amount_in, r_in, r_out, config.trade_fee_rate, config.protocol_fee_rate, config.fund_fee_rate
            )
        except VenueError:
            return None
        min_out = quote.amount_out * (BPS - slippage_bps) // BPS
        ix = cpmm.build_swap_base_input_ix(
            pool_address=pool.address,
            pool=view.state,
            payer=owner,
            user_input_account=source,
            user_output_account=destination,
            zero_for_one=a_to_b,
            amount_in=amount_in,
            min_out=min_out,
            program_id=self.program_id,
        )
        return ix, quote.amount_out


VENUES: tuple[SwapVenue, ...] = (CpmmVenue(),)
