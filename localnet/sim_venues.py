"""Swap builders of the market simulator: one small entry per venue whose reference program runs on localnet.

An entry finds its pools among the accounts its program owns, reads a pool's price and reserves from the
chain, and builds a swap-exact-in instruction with the venue module's own exact quote (strategies.venues),
so a noise trader's `min_out` is what the program will pay, less the trader's slippage tolerance.

Every venue whose reference program runs on localnet (localnet/programs): Raydium CPMM, Raydium AMM v4,
Orca Whirlpool and PumpSwap. Adding a venue is one more class with `discover`, `view` and `build` and one
more line in `VENUES`.

`PoolView.reserve_a` / `reserve_b` are what a trade is sized against (a share of the input reserve) and
what the wallets are funded from: the vaults less the fees owed for the constant-product venues, the
virtual reserves of the active liquidity (L / sqrt P, L * sqrt P) for a Whirlpool, whose vaults hold the
liquidity of every range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from localnet.chain import Chain
from strategies.venues import orca_whirlpool as wp
from strategies.venues import pumpswap as ps
from strategies.venues import raydium_amm_v4 as amm
from strategies.venues import raydium_cpmm as cpmm
from strategies.venues import whirlpool_math as wm
from strategies.venues.errors import VenueError
from strategies.venues.spl import decode_mint, read_token_amount

__all__ = [
    "VENUES",
    "AmmV4Venue",
    "CpmmVenue",
    "PoolView",
    "PumpSwapVenue",
    "SimPool",
    "SwapVenue",
    "WhirlpoolVenue",
]

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
    static: Any  # the venue's decoded, never-changing part (CPMM: the AmmConfig; None when it has none)


@dataclass(frozen=True, slots=True)
class PoolView:
    """A pool as it is right now: raw reserves and the decoded state a swap needs."""

    reserve_a: int
    reserve_b: int
    state: Any
    raw_price: float | None = None  # B raw units per A raw unit, when the reserves' ratio is not the price

    def price(self, pool: SimPool) -> float:
        """Token B per token A in whole tokens (screening only: a float)."""
        raw = self.reserve_b / self.reserve_a if self.raw_price is None else self.raw_price
        return raw * 10.0 ** (pool.decimals_a - pool.decimals_b)


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


def _decimals(chain: Chain, mint: Pubkey) -> int:
    acc = chain.get_account(mint)
    if acc is None:
        raise VenueError(f"mint {mint} does not exist")
    return decode_mint(bytes(acc.data), acc.owner).decimals


def _min_out(quote: int, slippage_bps: int) -> int:
    return quote * (BPS - slippage_bps) // BPS


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
        min_out = _min_out(quote.amount_out, slippage_bps)
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


class AmmV4Venue:
    """Raydium AMM v4: the coin is A, the pc B; reserves are the vaults less the PnL owed (`reserves`).
    Swaps are SwapBaseIn in its 8-account form (tag 16), the direction given by the user accounts' mints."""

    name = "raydium_amm_v4"
    program_id = amm.PROGRAM_ID

    def discover(self, chain: Chain, address: Pubkey) -> SimPool | None:
        acc = chain.get_account(address)
        if acc is None or len(acc.data) != amm.AMM_INFO_SIZE:
            return None  # target orders and other program accounts share the owner
        try:
            info = amm.decode_amm_info(bytes(acc.data), acc.owner, self.program_id)
        except VenueError:
            return None
        return SimPool(
            self.name,
            address,
            info.coin_vault_mint,
            info.pc_vault_mint,
            info.coin_decimals,
            info.pc_decimals,
            None,
        )

    def view(self, chain: Chain, pool: SimPool) -> PoolView | None:
        acc = chain.get_account(pool.address)
        if acc is None:
            return None
        try:
            info = amm.decode_amm_info(bytes(acc.data), acc.owner, self.program_id)
            amm.check_tradable(info, chain.block_times[chain.slot])
            coin, pc = amm.reserves(
                info,
                _token_amount(chain, info.coin_vault, info.coin_vault_mint),
                _token_amount(chain, info.pc_vault, info.pc_vault_mint),
            )
        except VenueError:
            return None
        if coin == 0 or pc == 0:
            return None
        return PoolView(coin, pc, info)

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
        info = view.state
        r_in, r_out = (view.reserve_a, view.reserve_b) if a_to_b else (view.reserve_b, view.reserve_a)
        try:
            quote = amm.swap_base_in(
                amount_in, r_in, r_out, info.swap_fee_numerator, info.swap_fee_denominator
            )
        except VenueError:
            return None
        ix = amm.build_swap_base_in_ix(
            pool_address=pool.address,
            info=info,
            user_source=source,
            user_destination=destination,
            user_owner=owner,
            amount_in=amount_in,
            min_out=_min_out(quote.amount_out, slippage_bps),
            program_id=self.program_id,
        )
        return ix, quote.amount_out


@dataclass(frozen=True, slots=True)
class WhirlpoolState:
    """A Whirlpool now and the tick arrays a swap from its current tick may use, in either direction."""

    pool: wp.Whirlpool
    arrays: dict[int, wp.TickArray]  # start index -> decoded array (a missing one passes as empty)


class WhirlpoolVenue:
    """Orca Whirlpool: token A and B as the pool orders them; the exact quote walks the three tick arrays
    the program is given (`swap_tick_arrays`), so crossing initialized ticks is priced as the program does.
    Sized against the virtual reserves of the active liquidity."""

    name = "orca_whirlpool"
    program_id = wp.WHIRLPOOL_PROGRAM_ID

    def discover(self, chain: Chain, address: Pubkey) -> SimPool | None:
        acc = chain.get_account(address)
        if acc is None or len(acc.data) != wp.WHIRLPOOL_SIZE:
            return None  # tick arrays, positions and configs share the owner
        try:
            state = wp.decode_whirlpool(bytes(acc.data), acc.owner, self.program_id)
            wp.ensure_whirlpool_modelled(state)
            dec_a, dec_b = _decimals(chain, state.token_mint_a), _decimals(chain, state.token_mint_b)
        except VenueError:
            return None
        return SimPool(self.name, address, state.token_mint_a, state.token_mint_b, dec_a, dec_b, None)

    def view(self, chain: Chain, pool: SimPool) -> PoolView | None:
        acc = chain.get_account(pool.address)
        if acc is None:
            return None
        try:
            state = wp.decode_whirlpool(bytes(acc.data), acc.owner, self.program_id)
            wp.ensure_whirlpool_modelled(state)
            arrays: dict[int, wp.TickArray] = {}
            for a_to_b in (True, False):
                for start in wm.tick_array_start_indexes(
                    state.tick_current_index, state.tick_spacing, a_to_b
                ):
                    if start in arrays:
                        continue
                    array_acc = chain.get_account(wp.tick_array_address(pool.address, start, self.program_id))
                    if array_acc is not None and array_acc.owner == self.program_id:
                        array = wp.decode_tick_array(bytes(array_acc.data), array_acc.owner, self.program_id)
                        if array.whirlpool == pool.address and array.start_tick_index == start:
                            arrays[start] = array
        except VenueError:
            return None
        if state.liquidity == 0 or state.sqrt_price == 0:
            return None
        # Virtual reserves of the active liquidity: x = L / sqrt P, y = L * sqrt P (sqrt P in Q64.64).
        reserve_a = (state.liquidity << 64) // state.sqrt_price
        reserve_b = state.liquidity * state.sqrt_price >> 64
        if reserve_a == 0 or reserve_b == 0:
            return None
        raw_price = wp.price_from_sqrt_price(state.sqrt_price)
        return PoolView(reserve_a, reserve_b, WhirlpoolState(state, arrays), raw_price)

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
        state: WhirlpoolState = view.state
        arrays = wp.swap_tick_arrays(state.pool, state.arrays, a_to_b, pool.address)
        try:
            quote = wp.quote_swap(state.pool, arrays, amount_in, a_to_b=a_to_b)
        except VenueError:
            return None
        if quote.amount_in != amount_in or quote.amount_out == 0:
            return None  # a partial fill: the price limit (the arrays' end) came first
        account_a, account_b = (source, destination) if a_to_b else (destination, source)
        accounts = wp.swap_accounts_for(
            pool.address, state.pool, owner, account_a, account_b, a_to_b, self.program_id
        )
        ix = wp.build_swap_ix(
            accounts,
            amount=amount_in,
            other_amount_threshold=_min_out(quote.amount_out, slippage_bps),
            sqrt_price_limit=wm.NO_EXPLICIT_SQRT_PRICE_LIMIT,
            amount_specified_is_input=True,
            a_to_b=a_to_b,
            program_id=self.program_id,
        )
        return ix, quote.amount_out


@dataclass(frozen=True, slots=True)
class PumpSwapState:
    """A PumpSwap pool now: the pool, its GlobalConfig and the fee rates the next swap pays."""

    pool: ps.PumpPool
    global_config: ps.GlobalConfig
    fees: ps.Fees
    base_vault: int
    quote_vault: int


class PumpSwapVenue:
    """PumpSwap: the base mint is A, the quote (wSOL in the demo) B. A -> B is `sell`, B -> A is
    `buy_exact_quote_in` (an exact input in quote; it may spend a little less than offered). The fee tier
    is chosen on the pre-swap market cap (`pool_fees`, from the base mint's supply and the FeeConfig);
    the protocol and buyback fee recipients are the GlobalConfig's first (any listed one is valid)."""

    name = "pumpswap"
    program_id = ps.PROGRAM_ID

    def discover(self, chain: Chain, address: Pubkey) -> SimPool | None:
        acc = chain.get_account(address)
        if acc is None or len(acc.data) not in (*ps.POOL_LAYOUT_SIZES, ps.POOL_ACCOUNT_NEW_SIZE):
            return None
        try:
            state = ps.decode_pool(bytes(acc.data), acc.owner, self.program_id)
            dec_a, dec_b = _decimals(chain, state.base_mint), _decimals(chain, state.quote_mint)
        except VenueError:
            return None  # the GlobalConfig and other accounts share the owner
        return SimPool(self.name, address, state.base_mint, state.quote_mint, dec_a, dec_b, None)

    def view(self, chain: Chain, pool: SimPool) -> PoolView | None:
        acc = chain.get_account(pool.address)
        g_key, f_key = ps.global_config_pda(self.program_id), ps.fee_config_pda(self.program_id)
        g_acc, f_acc, mint_acc = (
            chain.get_account(g_key),
            chain.get_account(f_key),
            chain.get_account(pool.mint_a),
        )
        if acc is None or g_acc is None or mint_acc is None:
            return None
        try:
            state = ps.decode_pool(bytes(acc.data), acc.owner, self.program_id)
            if ps.needs_extend(state.data_len):
                return None  # a swap would need extend_account first
            global_config = ps.decode_global_config(bytes(g_acc.data), g_acc.owner, self.program_id)
            fee_config = None if f_acc is None else ps.decode_fee_config(bytes(f_acc.data), f_acc.owner)
            base_mint = decode_mint(bytes(mint_acc.data), mint_acc.owner)
            ps.check_tradable(global_config, base_mint)
            base = _token_amount(chain, state.pool_base_token_account, state.base_mint)
            quote = _token_amount(chain, state.pool_quote_token_account, state.quote_mint)
            fees = ps.pool_fees(state, global_config, fee_config, base_mint.supply, base, quote)
        except VenueError:
            return None
        effective = ps.effective_quote_reserve(quote, state.virtual_quote_reserves)
        if base == 0 or quote == 0 or effective <= 0:
            return None
        # Priced on the effective quote reserve (vault + virtual reserves), as the swap is.
        return PoolView(base, quote, PumpSwapState(state, global_config, fees, base, quote), effective / base)

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
        s: PumpSwapState = view.state
        virtual = s.pool.virtual_quote_reserves
        try:
            if a_to_b:
                expected = ps.sell_base_input(amount_in, s.base_vault, s.quote_vault, s.fees, virtual)
                out = expected.user_quote_amount_out
            else:
                bought = ps.buy_exact_quote_in(amount_in, s.base_vault, s.quote_vault, s.fees, virtual)
                out = bought.base_amount_out
            base_program, quote_program = ps.token_programs(pool.address, s.pool)
            recipients = ps.protocol_fee_recipients(s.global_config, s.pool.is_mayhem_mode)
            protocol = next(k for k in recipients if k != Pubkey.default())
            buyback = next(k for k in s.global_config.buyback_fee_recipients if k != Pubkey.default())
        except (VenueError, StopIteration):
            return None
        if out == 0:
            return None
        user_base, user_quote = (source, destination) if a_to_b else (destination, source)
        accounts = ps.SwapAccounts(
            user=owner,
            user_base_token_account=user_base,
            user_quote_token_account=user_quote,
            base_token_program=base_program,
            quote_token_program=quote_program,
            protocol_fee_recipient=protocol,
            buyback_fee_recipient=buyback,
        )
        min_out = _min_out(out, slippage_bps)
        if a_to_b:
            ix = ps.build_sell_ix(
                pool_address=pool.address,
                pool=s.pool,
                accounts=accounts,
                base_amount_in=amount_in,
                min_quote_amount_out=min_out,
                program_id=self.program_id,
            )
        else:  # track_volume off: noise traders earn no volume rewards (the accumulator is never touched)
            ix = ps.build_buy_exact_quote_in_ix(
                pool_address=pool.address,
                pool=s.pool,
                accounts=accounts,
                spendable_quote_in=amount_in,
                min_base_amount_out=min_out,
                track_volume=False,
                program_id=self.program_id,
            )
        return ix, out


VENUES: tuple[SwapVenue, ...] = (CpmmVenue(), AmmV4Venue(), WhirlpoolVenue(), PumpSwapVenue())
