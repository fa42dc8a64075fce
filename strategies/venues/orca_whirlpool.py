"""Orca Whirlpool: account decoders, the exact swap quote, PDAs and swap-instruction builders.

Layouts and rules are restated from protocols.md §3 (orca-so/whirlpools @630c0e01):
`state/whirlpool.rs` (653-byte pool), `state/tick.rs` / `state/fixed_tick_array.rs` (9,988-byte
FixedTickArray), `state/dynamic_tick_array.rs` (variable-size DynamicTickArray), `manager/swap_manager.rs`
(swap loop), `util/swap_tick_sequence.rs` (next initialized tick), `util/sparse_swap.rs` (which tick arrays
a swap uses) and `instructions/swap.rs`, `instructions/v2/swap.rs` (account order). Integer math lives in
`strategies.venues.whirlpool_math`.
"""

from __future__ import annotations

import dataclasses
import functools
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from strategies import layout
from strategies.venues import whirlpool_kernels as wk
from strategies.venues import whirlpool_math as wm
from strategies.venues.base import (
    AccountFetch,
    AccountSlot,
    Dependency,
    FetchedAccount,
    MissingAccount,
    PoolContext,
    PriceAccounts,
    SwapLeg,
    Venue,
    retarget_leg,
)
from strategies.venues.errors import (
    AmountCalcOverflow,
    AmountRemainingOverflow,
    DecodeError,
    InvalidSqrtPriceLimitDirection,
    LiquidityOverflow,
    LiquidityUnderflow,
    PartialFill,
    RefusalReason,
    SqrtPriceOutOfBounds,
    StatePending,
    TickArraySequenceInvalid,
    TickArraySequenceInvalidIndex,
    Unmodelled,
    ZeroTradableAmount,
)
from strategies.venues.spl import MEMO_PROGRAM_ID, TOKEN_PROGRAM_ID, Mint, decode_mint, ensure_mint_modelled
from strategies.venues.whirlpool_math import tick_array_start_index as tick_array_start_index
from strategies.venues.whirlpool_math import tick_array_start_indexes as tick_array_start_indexes

WHIRLPOOL_PROGRAM_ID = Pubkey.from_string("whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc")

WHIRLPOOL_DISCRIMINATOR = bytes.fromhex("3f95d10ce1806309")
FIXED_TICK_ARRAY_DISCRIMINATOR = bytes.fromhex("4561bdbe6e0742bb")
DYNAMIC_TICK_ARRAY_DISCRIMINATOR = bytes.fromhex("11d8f68ee1c7da38")
SWAP_DISCRIMINATOR = bytes.fromhex("f8c69e91e17587c8")
SWAP_V2_DISCRIMINATOR = bytes.fromhex("2b04ed0b1ac91e62")

WHIRLPOOL_SIZE = 653
FIXED_TICK_ARRAY_SIZE = 9988
TICK_SIZE = 113
DYNAMIC_TICK_ARRAY_MIN_SIZE = 60 + wm.TICK_ARRAY_SIZE
DYNAMIC_TICK_ARRAY_MAX_SIZE = 60 + wm.TICK_ARRAY_SIZE * TICK_SIZE
# RemainingAccountsInfo accounts_type for supplemental tick arrays (util/v2/remaining_accounts_utils.rs).
ACCOUNTS_TYPE_SUPPLEMENTAL_TICK_ARRAYS = 6

_U128 = 1 << 128
_U64 = 1 << 64
_Q64 = float(1 << 64)

# disc, config, bump, tick_spacing, fee_tier_index, fee_rate, protocol_fee_rate, liquidity(lo,hi),
# sqrt_price(lo,hi), tick, protocol fees a/b, mint_a, vault_a, fgg_a(lo,hi), mint_b, vault_b, fgg_b(lo,hi),
# reward_last_updated, reward infos (3 x 128 bytes).
_WHIRLPOOL = struct.Struct("<8s32sBHHHHQQQQiQQ32s32sQQ32s32sQQQ384s")
_REWARD_INFO = struct.Struct("<32s32s32sQQQQ")
# initialized, liquidity_net(lo, signed hi), liquidity_gross, fee growth a, b, 3 reward growths (lo, hi).
_TICK = struct.Struct("<BQqQQQQQQQQQQQQ")
_TICK_BODY = struct.Struct("<QqQQQQQQQQQQQQ")  # a DynamicTickArray entry after its tag byte
_I32 = struct.Struct("<i")
_BITMAP = struct.Struct("<QQ")
_SWAP_ARGS = struct.Struct("<8sQQQQ??")
_ZERO_TICK_BYTES = bytes(TICK_SIZE)

assert _WHIRLPOOL.size == WHIRLPOOL_SIZE
assert _TICK.size == TICK_SIZE


@dataclass(frozen=True, slots=True)
class RewardInfo:
    """One of the pool's three liquidity-mining reward slots."""

    mint: Pubkey
    vault: Pubkey
    authority: Pubkey
    emissions_per_second_x64: int
    growth_global_x64: int


@dataclass(frozen=True, slots=True)
class Whirlpool:
    """The Whirlpool pool account (653 bytes)."""

    whirlpools_config: Pubkey
    whirlpool_bump: int
    tick_spacing: int
    fee_tier_index: int
    fee_rate: int
    protocol_fee_rate: int
    liquidity: int
    sqrt_price: int
    tick_current_index: int
    protocol_fee_owed_a: int
    protocol_fee_owed_b: int
    token_mint_a: Pubkey
    token_vault_a: Pubkey
    fee_growth_global_a: int
    token_mint_b: Pubkey
    token_vault_b: Pubkey
    fee_growth_global_b: int
    reward_last_updated_timestamp: int
    reward_infos: tuple[RewardInfo, RewardInfo, RewardInfo]

    @property
    def is_adaptive_fee(self) -> bool:
        """Pools whose fee tier index differs from the tick spacing carry a variable (oracle) fee."""
        return self.fee_tier_index != self.tick_spacing

    @property
    def is_full_range_only(self) -> bool:
        """Splash pools (tick_spacing >= 32768) only allow full-range positions."""
        return self.tick_spacing >= wm.FULL_RANGE_ONLY_TICK_SPACING_THRESHOLD


@dataclass(frozen=True, slots=True)
class Tick:
    """One tick of a tick array (fixed or dynamic layout)."""

    initialized: bool
    liquidity_net: int
    liquidity_gross: int
    fee_growth_outside_a: int
    fee_growth_outside_b: int
    reward_growths_outside: tuple[int, int, int]


ZERO_TICK = Tick(False, 0, 0, 0, 0, (0, 0, 0))


@dataclass(frozen=True, slots=True)
class TickArray:
    """A decoded tick array: 88 ticks starting at `start_tick_index` (fixed or dynamic account)."""

    start_tick_index: int
    whirlpool: Pubkey
    ticks: tuple[Tick, ...]
    is_dynamic: bool = False

    # Sorted offsets of the initialized ticks, computed once so the swap loop can bisect instead of scan.
    init_offsets: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.ticks) != wm.TICK_ARRAY_SIZE:
            raise DecodeError("TickArray", f"{len(self.ticks)} ticks, expected {wm.TICK_ARRAY_SIZE}")
        object.__setattr__(self, "init_offsets", tuple(i for i, t in enumerate(self.ticks) if t.initialized))

    def initialized_offsets(self) -> tuple[int, ...]:
        """Offsets (0..87) of the initialized ticks."""
        return self.init_offsets


def empty_tick_array(start_tick_index: int, whirlpool: Pubkey | None = None) -> TickArray:
    """A tick array with no initialized tick: how the program treats a not-yet-created array PDA."""
    return TickArray(start_tick_index, whirlpool or Pubkey.default(), (ZERO_TICK,) * wm.TICK_ARRAY_SIZE)


def _check_owner(what: str, owner: Pubkey | None, program_id: Pubkey) -> None:
    if owner is not None and owner != program_id:
        raise DecodeError(what, f"owner {owner} is not the Whirlpool program {program_id}")


def decode_whirlpool(
    data: bytes, owner: Pubkey | None = None, program_id: Pubkey = WHIRLPOOL_PROGRAM_ID
) -> Whirlpool:
    """Decode a Whirlpool account; `owner` (the account's owner program) is checked when given."""
    _check_owner("Whirlpool", owner, program_id)
    if len(data) != WHIRLPOOL_SIZE:
        raise DecodeError("Whirlpool", f"size {len(data)}, expected {WHIRLPOOL_SIZE}")
    f = _WHIRLPOOL.unpack(data)
    if f[0] != WHIRLPOOL_DISCRIMINATOR:
        raise DecodeError(
            "Whirlpool", f"discriminator {f[0].hex()}, expected {WHIRLPOOL_DISCRIMINATOR.hex()}"
        )
    tick_spacing = f[3]
    if tick_spacing == 0:
        raise DecodeError("Whirlpool", "tick_spacing is 0")
    rewards_raw = f[23]
    rewards = tuple(
        RewardInfo(Pubkey(m), Pubkey(v), Pubkey(a), e_lo | e_hi << 64, g_lo | g_hi << 64)
        for m, v, a, e_lo, e_hi, g_lo, g_hi in _REWARD_INFO.iter_unpack(rewards_raw)
    )
    return Whirlpool(
        whirlpools_config=Pubkey(f[1]),
        whirlpool_bump=f[2],
        tick_spacing=tick_spacing,
        fee_tier_index=f[4],
        fee_rate=f[5],
        protocol_fee_rate=f[6],
        liquidity=f[7] | f[8] << 64,
        sqrt_price=f[9] | f[10] << 64,
        tick_current_index=f[11],
        protocol_fee_owed_a=f[12],
        protocol_fee_owed_b=f[13],
        token_mint_a=Pubkey(f[14]),
        token_vault_a=Pubkey(f[15]),
        fee_growth_global_a=f[16] | f[17] << 64,
        token_mint_b=Pubkey(f[18]),
        token_vault_b=Pubkey(f[19]),
        fee_growth_global_b=f[20] | f[21] << 64,
        reward_last_updated_timestamp=f[22],
        reward_infos=(rewards[0], rewards[1], rewards[2]),
    )


# Hot path: only the fields a swap changes, one precompiled unpack (no Pubkey or dataclass construction).
_SWAP_STATE = struct.Struct(
    "<HH2xQQQQi"
)  # fee_tier_index, fee_rate, [protocol_fee_rate], liquidity, sqrt, tick


def read_whirlpool_swap_state(data: bytes) -> tuple[int, int, int, int, int]:
    """(sqrt_price, liquidity, tick_current_index, fee_rate, fee_tier_index) from Whirlpool bytes.

    For per-update cache writes where the full `decode_whirlpool` (pubkeys, reward infos) is not needed;
    checks size and discriminator like the full decoder.
    """
    if len(data) != WHIRLPOOL_SIZE or data[:8] != WHIRLPOOL_DISCRIMINATOR:
        raise DecodeError("Whirlpool", f"size {len(data)} or discriminator {bytes(data[:8]).hex()} mismatch")
    fee_tier_index, fee_rate, l_lo, l_hi, s_lo, s_hi, tick = _SWAP_STATE.unpack_from(data, 43)
    return s_lo | s_hi << 64, l_lo | l_hi << 64, tick, fee_rate, fee_tier_index


def _tick_from_body(initialized: bool, v: tuple[int, ...]) -> Tick:
    return Tick(
        initialized,
        v[0] | v[1] << 64,
        v[2] | v[3] << 64,
        v[4] | v[5] << 64,
        v[6] | v[7] << 64,
        (v[8] | v[9] << 64, v[10] | v[11] << 64, v[12] | v[13] << 64),
    )


def decode_fixed_tick_array(
    data: bytes, owner: Pubkey | None = None, program_id: Pubkey = WHIRLPOOL_PROGRAM_ID
) -> TickArray:
    """Decode a FixedTickArray account (9,988 bytes)."""
    _check_owner("FixedTickArray", owner, program_id)
    if len(data) != FIXED_TICK_ARRAY_SIZE:
        raise DecodeError("FixedTickArray", f"size {len(data)}, expected {FIXED_TICK_ARRAY_SIZE}")
    if data[:8] != FIXED_TICK_ARRAY_DISCRIMINATOR:
        raise DecodeError("FixedTickArray", f"discriminator {data[:8].hex()}")
    start = _I32.unpack_from(data, 8)[0]
    ticks: list[Tick] = []
    view = memoryview(data)
    for k in range(wm.TICK_ARRAY_SIZE):
        pos = 12 + TICK_SIZE * k
        raw = view[pos : pos + TICK_SIZE]
        if raw == _ZERO_TICK_BYTES:
            ticks.append(ZERO_TICK)
            continue
        v = _TICK.unpack(raw)
        if v[0] > 1:
            raise DecodeError("FixedTickArray", f"tick {k} initialized flag is {v[0]}")
        ticks.append(_tick_from_body(v[0] == 1, v[1:]))
    whirlpool = Pubkey(bytes(view[12 + TICK_SIZE * wm.TICK_ARRAY_SIZE :]))
    return TickArray(start, whirlpool, tuple(ticks), is_dynamic=False)


def decode_dynamic_tick_array(
    data: bytes, owner: Pubkey | None = None, program_id: Pubkey = WHIRLPOOL_PROGRAM_ID
) -> TickArray:
    """Decode a DynamicTickArray: header, u128 bitmap, then 88 entries (tag 0, or tag 1 + 112 bytes)."""
    _check_owner("DynamicTickArray", owner, program_id)
    size = len(data)
    if not DYNAMIC_TICK_ARRAY_MIN_SIZE <= size <= DYNAMIC_TICK_ARRAY_MAX_SIZE:
        raise DecodeError(
            "DynamicTickArray",
            f"size {size}, expected {DYNAMIC_TICK_ARRAY_MIN_SIZE}..{DYNAMIC_TICK_ARRAY_MAX_SIZE}",
        )
    if data[:8] != DYNAMIC_TICK_ARRAY_DISCRIMINATOR:
        raise DecodeError("DynamicTickArray", f"discriminator {data[:8].hex()}")
    start = _I32.unpack_from(data, 8)[0]
    whirlpool = Pubkey(data[12:44])
    lo, hi = _BITMAP.unpack_from(data, 44)
    bitmap = lo | hi << 64
    ticks: list[Tick] = []
    pos = 60
    for k in range(wm.TICK_ARRAY_SIZE):
        if pos >= size:
            raise DecodeError("DynamicTickArray", f"data ends at tick {k} ({size} bytes)")
        tag = data[pos]
        pos += 1
        if tag == 0:
            if bitmap >> k & 1:
                raise DecodeError("DynamicTickArray", f"bitmap marks tick {k} initialized but its tag is 0")
            ticks.append(ZERO_TICK)
            continue
        if tag != 1:
            raise DecodeError("DynamicTickArray", f"tick {k} tag is {tag}")
        if not bitmap >> k & 1:
            raise DecodeError("DynamicTickArray", f"tick {k} has data but its bitmap bit is clear")
        if pos + _TICK_BODY.size > size:
            raise DecodeError("DynamicTickArray", f"tick {k} runs past the end ({size} bytes)")
        ticks.append(_tick_from_body(True, _TICK_BODY.unpack_from(data, pos)))
        pos += _TICK_BODY.size
    if pos != size and any(data[pos:]):
        raise DecodeError("DynamicTickArray", f"{size - pos} non-zero trailing bytes")
    return TickArray(start, whirlpool, tuple(ticks), is_dynamic=True)


def decode_tick_array(
    data: bytes, owner: Pubkey | None = None, program_id: Pubkey = WHIRLPOOL_PROGRAM_ID
) -> TickArray:
    """Decode either tick-array layout, chosen by discriminator."""
    disc = bytes(data[:8])
    if disc == FIXED_TICK_ARRAY_DISCRIMINATOR:
        return decode_fixed_tick_array(data, owner, program_id)
    if disc == DYNAMIC_TICK_ARRAY_DISCRIMINATOR:
        return decode_dynamic_tick_array(data, owner, program_id)
    raise DecodeError("TickArray", f"discriminator {disc.hex()} is neither fixed nor dynamic")


# --- PDAs and tick-array selection ------------------------------------------------------------


def tick_array_address(
    whirlpool: Pubkey, start_tick_index: int, program_id: Pubkey = WHIRLPOOL_PROGRAM_ID
) -> Pubkey:
    """PDA of a tick array: seeds ["tick_array", whirlpool, decimal start index]."""
    seeds = [b"tick_array", bytes(whirlpool), str(start_tick_index).encode()]
    return Pubkey.find_program_address(seeds, program_id)[0]


def oracle_address(whirlpool: Pubkey, program_id: Pubkey = WHIRLPOOL_PROGRAM_ID) -> Pubkey:
    """PDA of the pool's Oracle account: seeds ["oracle", whirlpool]."""
    return Pubkey.find_program_address([b"oracle", bytes(whirlpool)], program_id)[0]


def swap_tick_arrays(
    pool: Whirlpool, available: dict[int, TickArray], a_to_b: bool, whirlpool_address: Pubkey | None = None
) -> list[TickArray]:
    """The tick-array sequence the program builds for this swap.

    `available` maps start index -> decoded array; a start missing from it is treated as its PDA passed
    uninitialized (how our builders always pass the three PDAs), i.e. an empty array.
    """
    return [
        available.get(s) or empty_tick_array(s, whirlpool_address)
        for s in tick_array_start_indexes(pool.tick_current_index, pool.tick_spacing, a_to_b)
    ]


# --- exact swap ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WhirlpoolQuote:
    """Result of an exact Whirlpool swap (what the program would do).

    amount_in includes the fee; fee_amount is the total fee in the input token, protocol_fee its protocol
    share. next_* are the pool's post-swap values; ticks_crossed counts initialized ticks crossed.
    """

    amount_a: int
    amount_b: int
    amount_in: int
    amount_out: int
    fee_amount: int
    protocol_fee: int
    next_liquidity: int
    next_tick_index: int
    next_sqrt_price: int
    next_fee_growth_global: int
    ticks_crossed: int
    a_to_b: bool
    amount_specified_is_input: bool


def _next_initialized_tick(
    arrays: Sequence[TickArray], tick_index: int, tick_spacing: int, a_to_b: bool, array_index: int
) -> tuple[int, int, Tick | None]:
    """util/swap_tick_sequence.rs `get_next_initialized_tick_index`: (array index, tick, tick if found)."""
    width = wm.TICK_ARRAY_SIZE * tick_spacing
    search = tick_index
    n = len(arrays)
    while True:
        if array_index >= n:
            raise TickArraySequenceInvalidIndex(f"no tick array at position {array_index}")
        array = arrays[array_index]
        start = array.start_tick_index
        lower, upper = (
            (start, start + width) if a_to_b else (start - tick_spacing, start + width - tick_spacing)
        )
        if not lower <= search < upper:
            raise TickArraySequenceInvalid(f"tick {search} outside array starting at {start}")
        offset = (search - start) // tick_spacing
        init = array.init_offsets
        if init:
            if a_to_b:  # inclusive of the current offset, moving left
                j = bisect_right(init, offset) - 1
                if j >= 0:
                    found = init[j]
                    return array_index, start + found * tick_spacing, array.ticks[found]
            else:  # exclusive of the current offset, moving right
                j = bisect_left(init, offset + 1)
                if j < len(init):
                    found = init[j]
                    return array_index, start + found * tick_spacing, array.ticks[found]
        if a_to_b and start <= wm.MIN_TICK_INDEX:
            return array_index, wm.MIN_TICK_INDEX, None
        if not a_to_b and start + width > wm.MAX_TICK_INDEX:
            return array_index, wm.MAX_TICK_INDEX, None
        if array_index + 1 == n:
            return array_index, (start if a_to_b else start + width - 1), None
        search = start - 1 if a_to_b else start + width - 1
        array_index += 1


def swap_exact(
    *,
    sqrt_price: int,
    tick_current_index: int,
    liquidity: int,
    tick_spacing: int,
    fee_rate: int,
    protocol_fee_rate: int,
    fee_growth_global_input: int,
    tick_arrays: Sequence[TickArray],
    amount: int,
    sqrt_price_limit: int,
    amount_specified_is_input: bool,
    a_to_b: bool,
) -> WhirlpoolQuote:
    """manager/swap_manager.rs `swap` for a static-fee pool, on explicit state (used by tests and vectors).

    `tick_arrays` is the ordered sequence (see `swap_tick_arrays`). Raises the `QuoteError` subclass named
    after the program's error.
    """
    limit = sqrt_price_limit
    if limit == wm.NO_EXPLICIT_SQRT_PRICE_LIMIT:
        limit = wm.MIN_SQRT_PRICE_X64 if a_to_b else wm.MAX_SQRT_PRICE_X64
    if not wm.MIN_SQRT_PRICE_X64 <= limit <= wm.MAX_SQRT_PRICE_X64:
        raise SqrtPriceOutOfBounds(f"sqrt price limit {limit}")
    if (a_to_b and limit > sqrt_price) or (not a_to_b and limit < sqrt_price):
        raise InvalidSqrtPriceLimitDirection(f"limit {limit} vs price {sqrt_price}")
    if amount == 0:
        raise ZeroTradableAmount()
    is_input = amount_specified_is_input
    remaining = amount
    calculated = 0
    curr_sqrt = sqrt_price
    curr_tick = tick_current_index
    curr_liq = liquidity
    protocol_fee = 0
    fee_sum = 0
    fee_growth = fee_growth_global_input
    array_index = 0
    crossed = 0
    while remaining > 0 and limit != curr_sqrt:
        next_array_index, next_tick, tick = _next_initialized_tick(
            tick_arrays, curr_tick, tick_spacing, a_to_b, array_index
        )
        next_tick_sqrt = wm.sqrt_price_from_tick_index(next_tick)
        target = max(limit, next_tick_sqrt) if a_to_b else min(limit, next_tick_sqrt)
        step_in, step_out, step_price, step_fee = wm.compute_swap_step(
            remaining, fee_rate, curr_liq, curr_sqrt, target, is_input, a_to_b
        )
        if is_input:
            remaining -= step_in + step_fee
            calculated += step_out
        else:
            remaining -= step_out
            calculated += step_in + step_fee
        if remaining < 0:
            raise AmountRemainingOverflow()
        if calculated >= _U64:
            raise AmountCalcOverflow()
        fee_sum += step_fee
        if fee_sum >= _U64:
            raise AmountCalcOverflow("fee sum")
        lp_fee = step_fee
        if protocol_fee_rate > 0:
            delta = step_fee * protocol_fee_rate // wm.PROTOCOL_FEE_RATE_MUL_VALUE
            lp_fee -= delta
            protocol_fee = (protocol_fee + delta) % _U64
        if curr_liq > 0:
            fee_growth = (fee_growth + (lp_fee << 64) // curr_liq) % _U128
        if step_price == next_tick_sqrt:
            if tick is not None:
                net = -tick.liquidity_net if a_to_b else tick.liquidity_net
                curr_liq += net
                if curr_liq < 0:
                    raise LiquidityUnderflow(f"crossing tick {next_tick}")
                if curr_liq >= _U128:
                    raise LiquidityOverflow(f"crossing tick {next_tick}")
                crossed += 1
            start = tick_arrays[next_array_index].start_tick_index
            offset = (next_tick - start) // tick_spacing
            if (a_to_b and offset == 0) or (not a_to_b and offset == wm.TICK_ARRAY_SIZE - 1):
                array_index = next_array_index + 1
            else:
                array_index = next_array_index
            curr_tick = next_tick - 1 if a_to_b else next_tick
        elif step_price != curr_sqrt:
            curr_tick = wm.tick_index_from_sqrt_price(step_price)
        curr_sqrt = step_price
    if remaining > 0 and not is_input and sqrt_price_limit == wm.NO_EXPLICIT_SQRT_PRICE_LIMIT:
        raise PartialFill(f"{remaining} of {amount} unfilled")
    if a_to_b == is_input:
        amount_a, amount_b = amount - remaining, calculated
    else:
        amount_a, amount_b = calculated, amount - remaining
    amount_in, amount_out = (amount_a, amount_b) if a_to_b else (amount_b, amount_a)
    return WhirlpoolQuote(
        amount_a=amount_a,
        amount_b=amount_b,
        amount_in=amount_in,
        amount_out=amount_out,
        fee_amount=fee_sum,
        protocol_fee=protocol_fee,
        next_liquidity=curr_liq,
        next_tick_index=curr_tick,
        next_sqrt_price=curr_sqrt,
        next_fee_growth_global=fee_growth,
        ticks_crossed=crossed,
        a_to_b=a_to_b,
        amount_specified_is_input=is_input,
    )


def ensure_whirlpool_modelled(
    pool: Whirlpool, mint_a: Mint | None = None, mint_b: Mint | None = None
) -> None:
    """Raise `Unmodelled` for adaptive-fee pools and Token-2022 mints with a transfer fee or hook."""
    if pool.is_adaptive_fee:
        raise Unmodelled(
            RefusalReason.WHIRLPOOL_ADAPTIVE_FEE,
            f"fee_tier_index {pool.fee_tier_index} != tick_spacing {pool.tick_spacing}",
        )
    if mint_a is not None:
        ensure_mint_modelled(mint_a, "token A")
    if mint_b is not None:
        ensure_mint_modelled(mint_b, "token B")


def quote_swap(
    pool: Whirlpool,
    tick_arrays: Sequence[TickArray],
    amount: int,
    *,
    a_to_b: bool,
    amount_specified_is_input: bool = True,
    sqrt_price_limit: int = wm.NO_EXPLICIT_SQRT_PRICE_LIMIT,
    mint_a: Mint | None = None,
    mint_b: Mint | None = None,
) -> WhirlpoolQuote:
    """Exact quote for a swap on `pool` using the ordered `tick_arrays` (see `swap_tick_arrays`).

    Refuses unmodelled pools (`Unmodelled`); raises `QuoteError` subclasses where the program would fail.
    """
    ensure_whirlpool_modelled(pool, mint_a, mint_b)
    if not tick_arrays:
        raise TickArraySequenceInvalid("no tick arrays")
    return swap_exact(
        sqrt_price=pool.sqrt_price,
        tick_current_index=pool.tick_current_index,
        liquidity=pool.liquidity,
        tick_spacing=pool.tick_spacing,
        fee_rate=pool.fee_rate,
        protocol_fee_rate=pool.protocol_fee_rate,
        fee_growth_global_input=pool.fee_growth_global_a if a_to_b else pool.fee_growth_global_b,
        tick_arrays=tick_arrays,
        amount=amount,
        sqrt_price_limit=sqrt_price_limit,
        amount_specified_is_input=amount_specified_is_input,
        a_to_b=a_to_b,
    )


def price_from_sqrt_price(sqrt_price_x64: int) -> float:
    """Raw price (token B units per token A unit) for display and screening only."""
    return float(sqrt_price_x64 * sqrt_price_x64) / float(1 << 128)


# --- instruction builders -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SwapAccounts:
    """Accounts of a Whirlpool swap (same names as instructions/swap.rs)."""

    token_authority: Pubkey
    whirlpool: Pubkey
    token_owner_account_a: Pubkey
    token_vault_a: Pubkey
    token_owner_account_b: Pubkey
    token_vault_b: Pubkey
    tick_array_0: Pubkey
    tick_array_1: Pubkey
    tick_array_2: Pubkey
    oracle: Pubkey


def swap_accounts_for(
    pool_address: Pubkey,
    pool: Whirlpool,
    authority: Pubkey,
    owner_account_a: Pubkey,
    owner_account_b: Pubkey,
    a_to_b: bool,
    program_id: Pubkey = WHIRLPOOL_PROGRAM_ID,
) -> SwapAccounts:
    """Accounts for a swap on `pool`, deriving the three tick-array PDAs and the oracle PDA.

    When fewer than three arrays exist in the swap direction (range ends) the last one is repeated.
    """
    starts = tick_array_start_indexes(pool.tick_current_index, pool.tick_spacing, a_to_b)
    pdas = [tick_array_address(pool_address, s, program_id) for s in starts]
    while len(pdas) < 3:
        pdas.append(pdas[-1])
    return SwapAccounts(
        token_authority=authority,
        whirlpool=pool_address,
        token_owner_account_a=owner_account_a,
        token_vault_a=pool.token_vault_a,
        token_owner_account_b=owner_account_b,
        token_vault_b=pool.token_vault_b,
        tick_array_0=pdas[0],
        tick_array_1=pdas[1],
        tick_array_2=pdas[2],
        oracle=oracle_address(pool_address, program_id),
    )


# Where `build_swap_ix` keeps what a template patches: amount and threshold in its data, the three tick
# arrays in its account list.
SWAP_AMOUNT_OFFSET = 8
SWAP_THRESHOLD_OFFSET = 16
SWAP_TICK_ARRAY_POSITIONS = (7, 8, 9)


def swap_array_keys(tick_spacing: int, a_to_b: bool, tick: int) -> tuple[int, int, int]:
    """Start indexes of the three tick arrays a swap from `tick` is given (the last repeated at the ends
    of the tick range, as `swap_accounts_for`)."""
    starts = tick_array_start_indexes(tick, tick_spacing, a_to_b)
    while len(starts) < 3:
        starts.append(starts[-1])
    return starts[0], starts[1], starts[2]


def swap_array_window(tick_spacing: int, a_to_b: bool, tick: int) -> tuple[int, ...]:
    """Every array `swap_array_keys` names for a tick in the array holding `tick` or either neighbour:
    what a template built at `tick` carries, so a move of up to one array needs no rebuild."""
    width = wm.TICK_ARRAY_SIZE * tick_spacing
    base = tick_array_start_index(tick, tick_spacing)
    # Each array's first and last tick: b->a swaps from the last tick slot start one array up.
    probes = (t for s in (base - width, base, base + width) for t in (s, s + width - 1))
    keys = {k for t in probes if wm.MIN_TICK_INDEX <= t <= wm.MAX_TICK_INDEX
            for k in swap_array_keys(tick_spacing, a_to_b, t)}  # fmt: skip
    return tuple(sorted(keys))


@functools.lru_cache(maxsize=4096)
def cached_tick_array_address(whirlpool: Pubkey, program_id: Pubkey, start_tick_index: int) -> Pubkey:
    """`tick_array_address`, remembered (a PDA search costs tens of µs; templates rebuild off the hot path)."""
    return tick_array_address(whirlpool, start_tick_index, program_id)


def _swap_args(
    disc: bytes, amount: int, threshold: int, sqrt_price_limit: int, is_input: bool, a_to_b: bool
) -> bytes:
    if not (0 <= amount < _U64 and 0 <= threshold < _U64 and 0 <= sqrt_price_limit < _U128):
        raise ValueError("swap amounts must fit u64 and the sqrt price limit u128")
    return _SWAP_ARGS.pack(
        disc, amount, threshold, sqrt_price_limit & (_U64 - 1), sqrt_price_limit >> 64, is_input, a_to_b
    )


def build_swap_ix(
    accounts: SwapAccounts,
    *,
    amount: int,
    other_amount_threshold: int,
    sqrt_price_limit: int,
    amount_specified_is_input: bool,
    a_to_b: bool,
    authority_is_signer: bool = True,
    authority_is_writable: bool = False,
    oracle_is_writable: bool = False,
    token_program: Pubkey = TOKEN_PROGRAM_ID,
    program_id: Pubkey = WHIRLPOOL_PROGRAM_ID,
) -> Instruction:
    """Whirlpool `swap` (42-byte data, 11 accounts).

    `other_amount_threshold` is the minimum out (exact-in) or maximum in (exact-out). The authority is
    writable when it is also the fee payer; pass the oracle writable for adaptive-fee pools.
    """
    data = _swap_args(
        SWAP_DISCRIMINATOR,
        amount,
        other_amount_threshold,
        sqrt_price_limit,
        amount_specified_is_input,
        a_to_b,
    )
    a = accounts
    metas = [
        AccountMeta(token_program, False, False),
        AccountMeta(a.token_authority, authority_is_signer, authority_is_writable),
        AccountMeta(a.whirlpool, False, True),
        AccountMeta(a.token_owner_account_a, False, True),
        AccountMeta(a.token_vault_a, False, True),
        AccountMeta(a.token_owner_account_b, False, True),
        AccountMeta(a.token_vault_b, False, True),
        AccountMeta(a.tick_array_0, False, True),
        AccountMeta(a.tick_array_1, False, True),
        AccountMeta(a.tick_array_2, False, True),
        AccountMeta(a.oracle, False, oracle_is_writable),
    ]
    return Instruction(program_id, data, metas)


def build_swap_v2_ix(
    accounts: SwapAccounts,
    *,
    token_mint_a: Pubkey,
    token_mint_b: Pubkey,
    amount: int,
    other_amount_threshold: int,
    sqrt_price_limit: int,
    amount_specified_is_input: bool,
    a_to_b: bool,
    token_program_a: Pubkey = TOKEN_PROGRAM_ID,
    token_program_b: Pubkey = TOKEN_PROGRAM_ID,
    supplemental_tick_arrays: Sequence[Pubkey] = (),
    authority_is_signer: bool = True,
    authority_is_writable: bool = False,
    oracle_is_writable: bool = True,
    program_id: Pubkey = WHIRLPOOL_PROGRAM_ID,
) -> Instruction:
    """Whirlpool `swap_v2` (15 accounts + up to 3 supplemental tick arrays as remaining accounts)."""
    if len(supplemental_tick_arrays) > 3:
        raise ValueError("at most 3 supplemental tick arrays")
    data = _swap_args(
        SWAP_V2_DISCRIMINATOR,
        amount,
        other_amount_threshold,
        sqrt_price_limit,
        amount_specified_is_input,
        a_to_b,
    )
    if supplemental_tick_arrays:
        # Some(RemainingAccountsInfo { slices: vec![{accounts_type, length}] }) in Borsh.
        data += (
            bytes([1])
            + struct.pack("<I", 1)
            + bytes([ACCOUNTS_TYPE_SUPPLEMENTAL_TICK_ARRAYS, len(supplemental_tick_arrays)])
        )
    else:
        data += b"\x00"
    a = accounts
    metas = [
        AccountMeta(token_program_a, False, False),
        AccountMeta(token_program_b, False, False),
        AccountMeta(MEMO_PROGRAM_ID, False, False),
        AccountMeta(a.token_authority, authority_is_signer, authority_is_writable),
        AccountMeta(a.whirlpool, False, True),
        AccountMeta(token_mint_a, False, False),
        AccountMeta(token_mint_b, False, False),
        AccountMeta(a.token_owner_account_a, False, True),
        AccountMeta(a.token_vault_a, False, True),
        AccountMeta(a.token_owner_account_b, False, True),
        AccountMeta(a.token_vault_b, False, True),
        AccountMeta(a.tick_array_0, False, True),
        AccountMeta(a.tick_array_1, False, True),
        AccountMeta(a.tick_array_2, False, True),
        AccountMeta(a.oracle, False, oracle_is_writable),
    ]
    metas.extend(AccountMeta(k, False, True) for k in supplemental_tick_arrays)
    return Instruction(program_id, data, metas)


# ---- venue adapter (strategies.venues.base.VenueAdapter) ------------------------------------------
# Compute units of one swap leg on localnet's reference program (benches/bench_whirlpool_cu.py, `swap`,
# 60 swaps per row): 22.6k p50 / 27.8k max with no tick crossed, 43.5k max when the three tick arrays are
# not created yet (the program derives each PDA to accept it); about 3k p50 per initialized tick crossed,
# under 4k at the worst (282k max at 64 crossings, 105k max at 16 in dynamic arrays).
# The leg estimate covers the uncreated-array worst case so the limit needs no account lookups; the
# per-tick constant is `costs.CostModel.cu_per_tick` (only CLMM legs cross ticks). Mainnet's program
# costs more: simulation measures it (base.VenueAdapter.compute_units).
CU_SWAP_LEG = 50_000
CU_PER_TICK_CROSSED = 4_000
# Ticks one pool can put in the cache: every watched array full (6 arrays: 3 each way, `tick_arrays`).
MAX_WATCHED_ARRAYS = 6


@dataclass(frozen=True, slots=True)
class ExactState:
    """What an exact Whirlpool quote needs beyond the cache: the pool at its current state and the
    decoded tick arrays by start index (missing = not created = empty)."""

    address: Pubkey
    pool: Whirlpool
    arrays: Mapping[int, TickArray]


@dataclass(frozen=True, slots=True)
class WatchedTickArray:
    """A watched tick array as the cache writer holds it: the decode, and its initialized ticks packed
    for the screening kernels (`whirlpool_kernels.pack_ticks`), once per update of the array rather
    than on every price update."""

    array: TickArray
    packed: wk.F64Array


def current_state(static: Whirlpool, dynamic: tuple[int, int, int, int, int]) -> Whirlpool:
    """The static decode with the fields that move with trading replaced by the latest values."""
    sqrt_price, liquidity, tick, fee_rate, fee_tier_index = dynamic
    return dataclasses.replace(static, sqrt_price=sqrt_price, liquidity=liquidity, tick_current_index=tick,
                               fee_rate=fee_rate, fee_tier_index=fee_tier_index)  # fmt: skip


def swap_starts(tick: int, tick_spacing: int) -> list[int]:
    """Start indexes of every array a swap from `tick` uses, both directions, ascending."""
    return sorted({*tick_array_start_indexes(tick, tick_spacing, True),
                   *tick_array_start_indexes(tick, tick_spacing, False)})  # fmt: skip


class Adapter:
    """Orca Whirlpool for the registry: the pool account prices itself; its tick arrays follow the
    current tick (both directions' three arrays are watched). The cache row is the screening state
    (`layout.write_clmm_pool`); exact quotes run on `quote_state` (the decoded pool and arrays)."""

    venue = Venue.orca_whirlpool
    pool_account_size = 653  # protocols.md: exact size of the pool account
    pool_account_sizes: tuple[int, ...] = (653,)
    mint_offsets = (101, 181)  # where the pool account holds mint a and mint b
    executable: str | None = None
    cache_exact = False  # exact quotes need the decoded pool and tick arrays (`ExactState`)
    priced = True
    tick_capacity = MAX_WATCHED_ARRAYS * wm.TICK_ARRAY_SIZE
    swap_forms: tuple[str, ...] = ("swap",)  # exact-in `swap` (protocols.md §3.3)
    slippage_errors = frozenset({6036, 6037})  # AmountOutBelowMinimum, AmountInAboveMaximum (errors.rs)

    def pool_keys(self, data: bytes) -> bytes:
        # Mints, vaults and tick spacing never change; the full decode happens once.
        return b""

    def decode_static(self, data: bytes, program_id: Pubkey) -> Whirlpool:
        return decode_whirlpool(data, program_id, program_id)

    def read_dynamic(self, data: bytes) -> tuple[int, int, int, int, int]:
        return read_whirlpool_swap_state(data)

    def mints(self, static: Whirlpool) -> tuple[Pubkey, Pubkey]:
        return static.token_mint_a, static.token_mint_b

    def dependencies(self, static: Whirlpool, program_id: Pubkey) -> list[Dependency]:
        return []

    def tick_arrays(
        self, static: Whirlpool, dynamic: Any, pool: Pubkey, program_id: Pubkey
    ) -> dict[int, Pubkey]:
        """The arrays a swap from the current tick needs, both directions."""
        return {
            s: tick_array_address(pool, s, program_id) for s in swap_starts(dynamic[2], static.tick_spacing)
        }

    def decode_account(self, role: int, data: bytes, ctx: PoolContext, tick_start: int) -> WatchedTickArray:
        if not data:  # not created yet: system-owned and empty, a valid "no ticks" state
            array = empty_tick_array(tick_start, ctx.address)
        else:
            array = decode_tick_array(data, ctx.program_id, ctx.program_id)
            if array.start_tick_index != tick_start or array.whirlpool != ctx.address:
                raise DecodeError("TickArray", f"holds start {array.start_tick_index} of pool {array.whirlpool}, "
                                  f"expected start {tick_start} of {ctx.address}")  # fmt: skip
        return WatchedTickArray(array, wk.pack_ticks((array,), ctx.static.tick_spacing))

    def settling(
        self, pool: AccountSlot, deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot]
    ) -> bool:
        return any(t.slot > pool.slot for t in ticks)

    def write_row(self, cache: layout.Cache, idx: int, static: Whirlpool, pool: AccountSlot,
                  deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot], slot: int, recv_ns: int,
                  now_unix: int) -> bool:  # fmt: skip
        state = current_state(static, pool.value)
        ensure_whirlpool_modelled(state)
        held: dict[int, WatchedTickArray] = {t.value.array.start_tick_index: t.value for t in ticks
                                             if t.value is not None}  # fmt: skip
        parts = []
        for start in swap_starts(state.tick_current_index, state.tick_spacing):
            watched = held.get(start)
            if watched is None:
                raise StatePending(f"tick array {start} of the current tick is not loaded yet")
            parts.append(watched.packed)
        down, up = wk.swap_edges(state)
        return layout.write_clmm_pool(
            cache, idx, state.sqrt_price / _Q64, float(state.liquidity), state.tick_current_index, state.fee_rate,
            np.concatenate(parts), down, up, slot, recv_ns,
        )  # fmt: skip

    def quote_state(self, static: Whirlpool, pool: AccountSlot, deps: Mapping[int, AccountSlot],
                    ticks: Sequence[AccountSlot], address: Pubkey) -> ExactState:  # fmt: skip
        arrays = {t.value.array.start_tick_index: t.value.array for t in ticks if t.value is not None}
        return ExactState(address, current_state(static, pool.value), arrays)

    def quote_in(
        self, cache: layout.Cache, idx: int, a_to_b: bool, amount_in: int, state: Any
    ) -> tuple[int, int]:
        st: ExactState = state
        arrays = swap_tick_arrays(st.pool, dict(st.arrays), a_to_b, st.address)
        q = quote_swap(st.pool, arrays, amount_in, a_to_b=a_to_b)
        return q.amount_out, q.ticks_crossed

    def quote_out(self, cache: layout.Cache, idx: int, a_to_b: bool, amount_out: int, state: Any) -> int:
        st: ExactState = state
        arrays = swap_tick_arrays(st.pool, dict(st.arrays), a_to_b, st.address)
        return quote_swap(
            st.pool, arrays, amount_out, a_to_b=a_to_b, amount_specified_is_input=False
        ).amount_in

    def form_accounts(self, static: Whirlpool, form: str) -> tuple[Pubkey, ...]:
        return ()

    def swap_leg(self, static: Whirlpool, pool: Pubkey, program_id: Pubkey, payer: Pubkey, source: Pubkey,
                 destination: Pubkey, a_to_b: bool, deps: Mapping[int, Any], *, form: str | None = None,
                 accounts: Mapping[Pubkey, FetchedAccount] | None = None) -> SwapLeg:  # fmt: skip
        """Exact-in `swap` with no price limit; its three tick arrays follow the price (`PriceAccounts`:
        chosen per opportunity from the current tick, within a window of arrays around `static`'s)."""
        account_a, account_b = (source, destination) if a_to_b else (destination, source)
        swap_accounts = swap_accounts_for(pool, static, payer, account_a, account_b, a_to_b, program_id)
        ix = build_swap_ix(swap_accounts, amount=1, other_amount_threshold=1, sqrt_price_limit=wm.NO_EXPLICIT_SQRT_PRICE_LIMIT,
                           amount_specified_is_input=True, a_to_b=a_to_b, program_id=program_id)  # fmt: skip
        ts = static.tick_spacing
        price_accounts = PriceAccounts(
            positions=SWAP_TICK_ARRAY_POSITIONS, window=(),
            select=functools.partial(swap_array_keys, ts, a_to_b),
            around=functools.partial(swap_array_window, ts, a_to_b),
            address=functools.partial(cached_tick_array_address, pool, program_id),
        )  # fmt: skip
        leg = SwapLeg((ix,), (SWAP_AMOUNT_OFFSET, SWAP_THRESHOLD_OFFSET), price_accounts)
        return retarget_leg(leg, static.tick_current_index)

    def compute_units(self) -> int:
        return CU_SWAP_LEG

    def quote_report(self, pool: Pubkey, pool_data: bytes, owner: Pubkey, fetch: AccountFetch,
                     amount_in: int, a_to_b: bool, now_unix: int) -> dict[str, Any]:  # fmt: skip
        """Decode the pool, fetch mints and the swap's tick arrays, quote exactly."""
        state = decode_whirlpool(pool_data, owner)
        starts = tick_array_start_indexes(state.tick_current_index, state.tick_spacing, a_to_b)
        array_keys = [tick_array_address(pool, s, owner) for s in starts]
        # One round trip: both mints and the swap's tick arrays.
        fetched = fetch([state.token_mint_a, state.token_mint_b, *array_keys])
        for key, acc in zip((state.token_mint_a, state.token_mint_b), fetched[:2], strict=True):
            if acc is None:
                raise MissingAccount(key, "mint")
        (ma_owner, ma), (mb_owner, mb) = fetched[0], fetched[1]  # type: ignore[misc]
        mint_a, mint_b = decode_mint(ma, ma_owner), decode_mint(mb, mb_owner)
        available: dict[int, TickArray] = {}
        missing: list[str] = []
        for start, key, acc in zip(starts, array_keys, fetched[2:], strict=True):
            if acc is None or (not acc[1] and acc[0] != owner):
                missing.append(str(key))  # not created yet: the program treats it as empty
                continue
            array = decode_tick_array(acc[1], acc[0], owner)
            if array.whirlpool != pool or array.start_tick_index != start:
                raise DecodeError("TickArray", f"{key} belongs to another pool or start")
            available[start] = array
        arrays = swap_tick_arrays(state, available, a_to_b, pool)
        q = quote_swap(state, arrays, amount_in, a_to_b=a_to_b, mint_a=mint_a, mint_b=mint_b)

        def price(sqrt_price_x64: int) -> float:
            return price_from_sqrt_price(sqrt_price_x64) * 10.0 ** (mint_a.decimals - mint_b.decimals)

        return {
            "venue": self.venue.name,
            "pool": str(pool),
            "a_to_b": a_to_b,
            "mint_in": str(state.token_mint_a if a_to_b else state.token_mint_b),
            "mint_out": str(state.token_mint_b if a_to_b else state.token_mint_a),
            "amount_in": q.amount_in,
            "amount_out": q.amount_out,
            "fee": q.fee_amount,
            "protocol_fee": q.protocol_fee,
            "fee_rate": state.fee_rate,
            "price_before": price(state.sqrt_price),
            "price_after": price(q.next_sqrt_price),
            "price_unit": "token B per token A (decimal-adjusted)",
            "sqrt_price_before": str(state.sqrt_price),
            "sqrt_price_after": str(q.next_sqrt_price),
            "tick_before": state.tick_current_index,
            "tick_after": q.next_tick_index,
            "ticks_crossed": q.ticks_crossed,
            "tick_arrays": [str(k) for k in array_keys],
            "missing_tick_arrays": missing,
        }


ADAPTER = Adapter()
