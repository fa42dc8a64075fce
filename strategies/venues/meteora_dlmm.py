"""Meteora DLMM: account decoders, bin-array bitmaps, PDAs, the exact swap quote and swap builders.

Layouts restated from the program IDL (lb_clmm 0.12.0, shipped as `idl.json` in `@meteora-ag/dlmm`
1.9.14 and MeteoraAg/dlmm-sdk `idls/dlmm.json`; protocols.md §4): `LbPair` (904 bytes, bytemuck),
`BinArray` (10,136 bytes: 70 bins of 144 bytes), `BinArrayBitmapExtension` (1,576 bytes). The bitmap walk
follows the SDK's `findNextBinArrayIndexWithLiquidity` (helpers/binArray.ts) and commons
`get_bin_array_pubkeys_for_swap`; the swap loop follows `DLMM.swapQuote` / `swapQuoteExactOut`
(index.ts) and commons `quote_exact_in` / `quote_exact_out`; integer rules live in
`strategies.venues.dlmm_math`.

Quote-only: execution waits for a reference program. Refused rather than approximated (`Unmodelled`):
disabled pairs, pairs before their activation point, unknown enum values, Token-2022 mints with a
transfer fee or hook, and any bin on the swap path that holds limit-order liquidity.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from strategies import layout
from strategies.venues import dlmm_math as dm
from strategies.venues.base import (
    ROLE_TICK_ARRAY,
    ROLE_VAULT_A,
    ROLE_VAULT_B,
    AccountFetch,
    AccountSlot,
    Dependency,
    FetchedAccount,
    MissingAccount,
    PoolContext,
    SwapLeg,
    Venue,
)
from strategies.venues.errors import (
    AmountCalcOverflow,
    BinArrayMissing,
    DecodeError,
    InsufficientLiquidity,
    InvalidInput,
    RefusalReason,
    Unmodelled,
)
from strategies.venues.spl import (
    MEMO_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    Mint,
    decode_mint,
    ensure_mint_modelled,
    read_token_amount,
)

DLMM_PROGRAM_ID = Pubkey.from_string("LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo")
CLOCK_SYSVAR_ID = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")

LB_PAIR_DISCRIMINATOR = bytes.fromhex("210b3162b565b10d")
BIN_ARRAY_DISCRIMINATOR = bytes.fromhex("5c8e5cdc059446b5")
BITMAP_EXTENSION_DISCRIMINATOR = bytes.fromhex("506f7c7137ed1205")
SWAP_DISCRIMINATOR = bytes.fromhex("f8c69e91e17587c8")
SWAP2_DISCRIMINATOR = bytes.fromhex("414b3f4ceb5b5b88")
SWAP_EXACT_OUT_DISCRIMINATOR = bytes.fromhex("fa49652126cf4bb8")
SWAP_EXACT_OUT2_DISCRIMINATOR = bytes.fromhex("2bd7f784893cf351")

LB_PAIR_SIZE = 904
BIN_ARRAY_SIZE = 10_136
BITMAP_EXTENSION_SIZE = 1_576
BIN_SIZE = 144
MAX_BIN_PER_ARRAY = 70
BIN_ARRAY_BITMAP_SIZE = 512  # the pair's own bitmap covers array indexes -512..511
EXTENSION_BITMAP_SIZE = 12  # the extension adds 12 x 512 indexes on each side
MIN_EXTENSION_INDEX = -BIN_ARRAY_BITMAP_SIZE * (EXTENSION_BITMAP_SIZE + 1)
MAX_EXTENSION_INDEX = BIN_ARRAY_BITMAP_SIZE * (EXTENSION_BITMAP_SIZE + 1) - 1

# Enum values (IDL types PairType, PairStatus, ActivationType, TokenProgramFlags; SDK constants
# FunctionType and CollectFeeMode).
PAIR_TYPE_PERMISSIONLESS = 0
PAIR_TYPE_PERMISSION = 1
PAIR_TYPE_CUSTOMIZABLE_PERMISSIONLESS = 2
PAIR_TYPE_PERMISSIONLESS_V2 = 3
STATUS_ENABLED = 0
ACTIVATION_SLOT = 0
ACTIVATION_TIMESTAMP = 1
FUNCTION_UNDETERMINED = 0  # limit orders on unless a reward is initialised
FUNCTION_LIQUIDITY_MINING = 1
FUNCTION_LIMIT_ORDER = 2
COLLECT_FEE_INPUT_ONLY = 0
COLLECT_FEE_ONLY_Y = 1  # the fee is always taken in token Y: off the output when selling X
# RemainingAccountsInfo accounts_type values without payload (TransferHookMultiReward, 3, carries a u8).
ACCOUNTS_TYPE_TRANSFER_HOOK_X = 0
ACCOUNTS_TYPE_TRANSFER_HOOK_Y = 1
ACCOUNTS_TYPE_TRANSFER_HOOK_REWARD = 2
ACCOUNTS_TYPE_TRANSFER_HOOK_REFERRAL = 4

_U64 = 1 << 64
# disc; StaticParameters (40 B with disc); VariableParameters; bump, bin_step_seed, pair_type, active_id,
# bin_step, status, require_base_factor_seed, base_factor_seed, activation_type,
# creator_pool_on_off_control; mints, reserves; protocol fees; [padding]; reward infos; oracle; bitmap;
# last_updated_at; [padding]; pre-activation swap address; base key; activation point / duration;
# [padding]; creator; token program flags; version; [reserved].
_LB_PAIR = struct.Struct(
    "<8sHHHHIIiiHBBB3xIIi4xq8xB2sBiHBB2sBB32s32s32s32sQQ32x288s32s128sq32x32s32sQQ16x32sBBB21x"
)
_REWARD_INFO = struct.Struct("<32s32s32sQQQQQQ")  # mint, vault, funder, duration, end, rate(lo,hi), ...
_BIN_ARRAY_HEADER = struct.Struct("<8sqB7x32s")
# amount_x, amount_y, price(lo,hi), liquidity_supply(lo,hi), fulfilled x/y, limit-order fee ask/bid,
# fee per token x(lo,hi), y(lo,hi), open_order_amount, total_processing_order_amount,
# processed_order_remaining_amount, order_age, limit_order_ask_side.
_BIN = struct.Struct("<17QIB3x")
_BITMAP_CHUNK = struct.Struct("<8Q")
_CLOCK = struct.Struct("<QqQQq")
_SWAP_ARGS = struct.Struct("<8sQQ")
_ZERO_BIN_BYTES = bytes(BIN_SIZE)

assert _LB_PAIR.size == LB_PAIR_SIZE
assert _BIN.size == BIN_SIZE
assert _BIN_ARRAY_HEADER.size + MAX_BIN_PER_ARRAY * BIN_SIZE == BIN_ARRAY_SIZE


# --- accounts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaticParameters:
    """The pair's fee and volatility configuration (StaticParameters)."""

    base_factor: int
    filter_period: int
    decay_period: int
    reduction_factor: int
    variable_fee_control: int
    max_volatility_accumulator: int
    min_bin_id: int
    max_bin_id: int
    protocol_share: int
    base_fee_power_factor: int
    function_type: int
    collect_fee_mode: int


@dataclass(frozen=True, slots=True)
class VariableParameters:
    """The volatility state as of the pair's last swap (VariableParameters)."""

    volatility_accumulator: int
    volatility_reference: int
    index_reference: int
    last_update_timestamp: int


@dataclass(frozen=True, slots=True)
class RewardInfo:
    """One of the pair's two liquidity-mining reward slots (only `mint` matters to swaps)."""

    mint: Pubkey
    vault: Pubkey
    funder: Pubkey
    reward_duration: int
    reward_duration_end: int
    reward_rate: int
    last_update_time: int
    cumulative_seconds_with_empty_liquidity_reward: int


@dataclass(frozen=True, slots=True)
class LbPair:
    """The DLMM pair account (904 bytes). `bin_array_bitmap` is the u64[16] bitmap as one 1024-bit int:
    bit k marks bin array index k - 512 as holding liquidity."""

    parameters: StaticParameters
    v_parameters: VariableParameters
    bump_seed: int
    bin_step_seed: int
    pair_type: int
    active_id: int
    bin_step: int
    status: int
    require_base_factor_seed: int
    base_factor_seed: int
    activation_type: int
    creator_pool_on_off_control: int
    token_x_mint: Pubkey
    token_y_mint: Pubkey
    reserve_x: Pubkey
    reserve_y: Pubkey
    protocol_fee_x: int
    protocol_fee_y: int
    reward_infos: tuple[RewardInfo, RewardInfo]
    oracle: Pubkey
    bin_array_bitmap: int
    last_updated_at: int
    pre_activation_swap_address: Pubkey
    base_key: Pubkey
    activation_point: int
    pre_activation_duration: int
    creator: Pubkey
    token_mint_x_program_flag: int
    token_mint_y_program_flag: int
    version: int

    @property
    def supports_limit_orders(self) -> bool:
        """SDK `isSupportLimitOrder`: function type LimitOrder, or Undetermined with no reward set up."""
        ft = self.parameters.function_type
        if ft == FUNCTION_UNDETERMINED:
            return all(r.mint == Pubkey.default() for r in self.reward_infos)
        return ft == FUNCTION_LIMIT_ORDER

    def fee_on_input(self, swap_for_y: bool) -> bool:
        """SDK `getFeeMode`: InputOnly charges the input; OnlyY charges token Y (the output of X->Y)."""
        if self.parameters.collect_fee_mode == COLLECT_FEE_ONLY_Y:
            return not swap_for_y
        return True

    @property
    def token_x_program(self) -> Pubkey:
        """Token program of mint X from its flag (0 SPL Token, 1 Token-2022)."""
        return TOKEN_2022_PROGRAM_ID if self.token_mint_x_program_flag == 1 else TOKEN_PROGRAM_ID

    @property
    def token_y_program(self) -> Pubkey:
        """Token program of mint Y from its flag (0 SPL Token, 1 Token-2022)."""
        return TOKEN_2022_PROGRAM_ID if self.token_mint_y_program_flag == 1 else TOKEN_PROGRAM_ID


@dataclass(frozen=True, slots=True)
class Bin:
    """One bin: market-maker reserves, the stored Q64.64 price (0 until first written) and the
    limit-order fields of program 0.11+ (fulfilled/open/processing amounts, side)."""

    amount_x: int
    amount_y: int
    price: int
    liquidity_supply: int
    fulfilled_order_amount_x: int = 0
    fulfilled_order_amount_y: int = 0
    limit_order_fee_ask_side: int = 0
    limit_order_fee_bid_side: int = 0
    fee_amount_x_per_token_stored: int = 0
    fee_amount_y_per_token_stored: int = 0
    open_order_amount: int = 0
    total_processing_order_amount: int = 0
    processed_order_remaining_amount: int = 0
    order_age: int = 0
    limit_order_ask_side: int = 0

    def order_liquidity(self, swap_for_y: bool) -> int:
        """Limit-order amount a swap in this direction would fill (X->Y fills bids, Y->X fills asks)."""
        if (self.limit_order_ask_side != 0) == swap_for_y:
            return 0
        return self.open_order_amount + self.processed_order_remaining_amount


ZERO_BIN = Bin(0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class BinArray:
    """70 consecutive bins: bin id `index * 70 + k` is `bins[k]`."""

    index: int
    version: int
    lb_pair: Pubkey
    bins: tuple[Bin, ...]

    def __post_init__(self) -> None:
        if len(self.bins) != MAX_BIN_PER_ARRAY:
            raise DecodeError("BinArray", f"{len(self.bins)} bins, expected {MAX_BIN_PER_ARRAY}")

    @property
    def lower_bin_id(self) -> int:
        """First bin id of this array."""
        return self.index * MAX_BIN_PER_ARRAY


@dataclass(frozen=True, slots=True)
class BinArrayBitmapExtension:
    """Bitmaps for array indexes beyond the pair's own -512..511, each side as one 6144-bit int:
    `positive` bit i-512 marks index i (512..6655); `negative` bit -i-513 marks index i (-513..-6656)."""

    lb_pair: Pubkey
    positive: int
    negative: int


@dataclass(frozen=True, slots=True)
class Clock:
    """The Clock sysvar: a swap's volatility references use `unix_timestamp`; activation uses the slot or
    the timestamp depending on the pair's activation type."""

    slot: int
    epoch_start_timestamp: int
    epoch: int
    leader_schedule_epoch: int
    unix_timestamp: int


def _check_owner(what: str, owner: Pubkey | None, program_id: Pubkey) -> None:
    if owner is not None and owner != program_id:
        raise DecodeError(what, f"owner {owner} is not the DLMM program {program_id}")


def _check_header(what: str, data: bytes, size: int, disc: bytes) -> None:
    if len(data) != size:
        raise DecodeError(what, f"size {len(data)}, expected {size}")
    if data[:8] != disc:
        raise DecodeError(what, f"discriminator {bytes(data[:8]).hex()}, expected {disc.hex()}")


def decode_lb_pair(data: bytes, owner: Pubkey | None = None, program_id: Pubkey = DLMM_PROGRAM_ID) -> LbPair:
    """Decode an LbPair account; `owner` (the account's owner program) is checked when given."""
    _check_owner("LbPair", owner, program_id)
    _check_header("LbPair", data, LB_PAIR_SIZE, LB_PAIR_DISCRIMINATOR)
    f = _LB_PAIR.unpack(data)
    if f[21] == 0:
        raise DecodeError("LbPair", "bin_step is 0")
    rewards = tuple(
        RewardInfo(Pubkey(m), Pubkey(v), Pubkey(fu), d, e, r_lo | r_hi << 64, t, c)
        for m, v, fu, d, e, r_lo, r_hi, t, c in _REWARD_INFO.iter_unpack(f[33])
    )
    return LbPair(
        parameters=StaticParameters(*f[1:13]),
        v_parameters=VariableParameters(*f[13:17]),
        bump_seed=f[17],
        bin_step_seed=int.from_bytes(f[18], "little"),
        pair_type=f[19],
        active_id=f[20],
        bin_step=f[21],
        status=f[22],
        require_base_factor_seed=f[23],
        base_factor_seed=int.from_bytes(f[24], "little"),
        activation_type=f[25],
        creator_pool_on_off_control=f[26],
        token_x_mint=Pubkey(f[27]),
        token_y_mint=Pubkey(f[28]),
        reserve_x=Pubkey(f[29]),
        reserve_y=Pubkey(f[30]),
        protocol_fee_x=f[31],
        protocol_fee_y=f[32],
        reward_infos=(rewards[0], rewards[1]),
        oracle=Pubkey(f[34]),
        bin_array_bitmap=int.from_bytes(f[35], "little"),
        last_updated_at=f[36],
        pre_activation_swap_address=Pubkey(f[37]),
        base_key=Pubkey(f[38]),
        activation_point=f[39],
        pre_activation_duration=f[40],
        creator=Pubkey(f[41]),
        token_mint_x_program_flag=f[42],
        token_mint_y_program_flag=f[43],
        version=f[44],
    )


def decode_bin_array(
    data: bytes, owner: Pubkey | None = None, program_id: Pubkey = DLMM_PROGRAM_ID
) -> BinArray:
    """Decode a BinArray account (10,136 bytes)."""
    _check_owner("BinArray", owner, program_id)
    _check_header("BinArray", data, BIN_ARRAY_SIZE, BIN_ARRAY_DISCRIMINATOR)
    _disc, index, version, lb_pair = _BIN_ARRAY_HEADER.unpack_from(data, 0)
    view = memoryview(data)
    bins: list[Bin] = []
    for k in range(MAX_BIN_PER_ARRAY):
        pos = _BIN_ARRAY_HEADER.size + BIN_SIZE * k
        raw = view[pos : pos + BIN_SIZE]
        if raw == _ZERO_BIN_BYTES:
            bins.append(ZERO_BIN)
            continue
        v = _BIN.unpack(raw)
        bins.append(
            Bin(
                amount_x=v[0],
                amount_y=v[1],
                price=v[2] | v[3] << 64,
                liquidity_supply=v[4] | v[5] << 64,
                fulfilled_order_amount_x=v[6],
                fulfilled_order_amount_y=v[7],
                limit_order_fee_ask_side=v[8],
                limit_order_fee_bid_side=v[9],
                fee_amount_x_per_token_stored=v[10] | v[11] << 64,
                fee_amount_y_per_token_stored=v[12] | v[13] << 64,
                open_order_amount=v[14],
                total_processing_order_amount=v[15],
                processed_order_remaining_amount=v[16],
                order_age=v[17],
                limit_order_ask_side=v[18],
            )
        )
    return BinArray(index, version, Pubkey(lb_pair), tuple(bins))


def _bitmap_side(data: bytes, offset: int) -> int:
    # [[u64; 8]; 12]: chunk k covers 512 indexes, u64 j of a chunk its bits 64j..64j+63 (little endian).
    return int.from_bytes(data[offset : offset + EXTENSION_BITMAP_SIZE * 64], "little")


def decode_bitmap_extension(
    data: bytes, owner: Pubkey | None = None, program_id: Pubkey = DLMM_PROGRAM_ID
) -> BinArrayBitmapExtension:
    """Decode a BinArrayBitmapExtension account (1,576 bytes)."""
    _check_owner("BinArrayBitmapExtension", owner, program_id)
    _check_header("BinArrayBitmapExtension", data, BITMAP_EXTENSION_SIZE, BITMAP_EXTENSION_DISCRIMINATOR)
    return BinArrayBitmapExtension(
        Pubkey(bytes(data[8:40])), _bitmap_side(data, 40), _bitmap_side(data, 40 + EXTENSION_BITMAP_SIZE * 64)
    )


def decode_clock(data: bytes) -> Clock:
    """Decode the Clock sysvar account (40 bytes)."""
    if len(data) != _CLOCK.size:
        raise DecodeError("Clock sysvar", f"size {len(data)}, expected {_CLOCK.size}")
    return Clock(*_CLOCK.unpack(data))


# --- PDAs -----------------------------------------------------------------------------------------


def bin_array_address(lb_pair: Pubkey, index: int, program_id: Pubkey = DLMM_PROGRAM_ID) -> Pubkey:
    """PDA of a bin array: seeds ["bin_array", lb_pair, index as i64 LE]."""
    seeds = [b"bin_array", bytes(lb_pair), index.to_bytes(8, "little", signed=True)]
    return Pubkey.find_program_address(seeds, program_id)[0]


def bitmap_extension_address(lb_pair: Pubkey, program_id: Pubkey = DLMM_PROGRAM_ID) -> Pubkey:
    """PDA of the pair's BinArrayBitmapExtension: seeds ["bitmap", lb_pair]."""
    return Pubkey.find_program_address([b"bitmap", bytes(lb_pair)], program_id)[0]


def oracle_address(lb_pair: Pubkey, program_id: Pubkey = DLMM_PROGRAM_ID) -> Pubkey:
    """PDA of the pair's Oracle: seeds ["oracle", lb_pair] (also stored in `LbPair.oracle`)."""
    return Pubkey.find_program_address([b"oracle", bytes(lb_pair)], program_id)[0]


def event_authority_address(program_id: Pubkey = DLMM_PROGRAM_ID) -> Pubkey:
    """Anchor event-CPI authority: seeds ["__event_authority"]."""
    return Pubkey.find_program_address([b"__event_authority"], program_id)[0]


# --- bin-array bitmaps ----------------------------------------------------------------------------


def bin_array_index(bin_id: int) -> int:
    """Index of the array holding `bin_id` (floor division, also for negative ids)."""
    return bin_id // MAX_BIN_PER_ARRAY


def _highest_bit_at_most(bits: int, pos: int) -> int | None:
    masked = bits & ((1 << (pos + 1)) - 1)
    return masked.bit_length() - 1 if masked else None


def _lowest_bit_at_least(bits: int, pos: int) -> int | None:
    masked = bits >> pos
    return pos + (masked & -masked).bit_length() - 1 if masked else None


def _next_in_extension(ext: BinArrayBitmapExtension, start: int, swap_for_y: bool) -> int | None:
    """Nearest marked index from `start` (inclusive) in the swap direction, within `start`'s side of the
    extension; None when that side has none left in this direction."""
    if start > 0:
        p = start - BIN_ARRAY_BITMAP_SIZE
        found = _highest_bit_at_most(ext.positive, p) if swap_for_y else _lowest_bit_at_least(ext.positive, p)
        return None if found is None else found + BIN_ARRAY_BITMAP_SIZE
    q = -start - 1 - BIN_ARRAY_BITMAP_SIZE  # negative side: larger q = lower index
    found = _lowest_bit_at_least(ext.negative, q) if swap_for_y else _highest_bit_at_most(ext.negative, q)
    return None if found is None else -(found + BIN_ARRAY_BITMAP_SIZE) - 1


def next_bin_array_index(
    pair: LbPair, ext: BinArrayBitmapExtension | None, swap_for_y: bool, start_index: int
) -> int | None:
    """The nearest bin array with liquidity from `start_index` (inclusive) in the swap direction
    (X->Y moves down), searching the pair's bitmap and then the extension; None when there is none
    (or the search needs the extension and it is absent)."""
    start = start_index
    while True:
        if not -BIN_ARRAY_BITMAP_SIZE <= start < BIN_ARRAY_BITMAP_SIZE:
            if ext is None or not MIN_EXTENSION_INDEX <= start <= MAX_EXTENSION_INDEX:
                return None
            found = _next_in_extension(ext, start, swap_for_y)
            if found is not None:
                return found
            if (start < 0) == swap_for_y:  # moving away from the pair's bitmap: nothing further out
                return None
            start = -BIN_ARRAY_BITMAP_SIZE if start < 0 else BIN_ARRAY_BITMAP_SIZE - 1
            continue
        offset = start + BIN_ARRAY_BITMAP_SIZE
        if swap_for_y:
            found = _highest_bit_at_most(pair.bin_array_bitmap, offset)
            if found is not None:
                return found - BIN_ARRAY_BITMAP_SIZE
            start = -BIN_ARRAY_BITMAP_SIZE - 1
        else:
            found = _lowest_bit_at_least(pair.bin_array_bitmap, offset)
            if found is not None:
                return found - BIN_ARRAY_BITMAP_SIZE
            start = BIN_ARRAY_BITMAP_SIZE


def swap_bin_array_indexes(
    pair: LbPair, ext: BinArrayBitmapExtension | None, swap_for_y: bool, count: int = 3
) -> list[int]:
    """The first `count` bin arrays with liquidity a swap in this direction walks, starting at the active
    bin's array (SDK `getBinArrayForSwap`, commons `get_bin_array_pubkeys_for_swap`)."""
    out: list[int] = []
    start = bin_array_index(pair.active_id)
    step = -1 if swap_for_y else 1
    while len(out) < count:
        found = next_bin_array_index(pair, ext, swap_for_y, start)
        if found is None:
            break
        out.append(found)
        start = found + step
    return out


def swap_bin_array_addresses(
    lb_pair: Pubkey,
    pair: LbPair,
    ext: BinArrayBitmapExtension | None,
    swap_for_y: bool,
    count: int = 3,
    program_id: Pubkey = DLMM_PROGRAM_ID,
) -> list[Pubkey]:
    """PDAs of `swap_bin_array_indexes`: the bin arrays to fetch for a quote, in swap order."""
    return [
        bin_array_address(lb_pair, i, program_id)
        for i in swap_bin_array_indexes(pair, ext, swap_for_y, count)
    ]


def watch_bin_array_indexes(
    pair: LbPair, ext: BinArrayBitmapExtension | None, per_side: int = 3
) -> list[int]:
    """Bin arrays to follow for this pair: the first `per_side` with liquidity in each direction from the
    active bin, ascending. Re-derive on every LbPair update (the active bin and bitmaps move)."""
    return sorted(
        set(swap_bin_array_indexes(pair, ext, True, per_side))
        | set(swap_bin_array_indexes(pair, ext, False, per_side))
    )


def watch_bin_array_addresses(
    lb_pair: Pubkey,
    pair: LbPair,
    ext: BinArrayBitmapExtension | None,
    per_side: int = 3,
    program_id: Pubkey = DLMM_PROGRAM_ID,
) -> list[Pubkey]:
    """PDAs of `watch_bin_array_indexes`."""
    return [bin_array_address(lb_pair, i, program_id) for i in watch_bin_array_indexes(pair, ext, per_side)]


def needs_bitmap_extension(pair: LbPair) -> bool:
    """True when the active bin lies outside the pair's own bitmap (the extension must be read)."""
    return not -BIN_ARRAY_BITMAP_SIZE <= bin_array_index(pair.active_id) < BIN_ARRAY_BITMAP_SIZE


# --- refusals -------------------------------------------------------------------------------------


def ensure_lb_pair_modelled(
    pair: LbPair, *, clock: Clock, mint_x: Mint | None = None, mint_y: Mint | None = None
) -> None:
    """Raise `Unmodelled` for pairs whose swaps this module does not reproduce exactly.

    Disabled pairs, pairs before their activation point (any pair type: the SDK only gates permissioned
    ones, a future activation point elsewhere is refused to be safe), enum values we do not know,
    and Token-2022 mints with a transfer fee or hook (a Token-2022 flag without its mint is refused too).
    Limit-order bins are refused per swap by the quote, where they are met.
    """
    s = pair.parameters
    if pair.status != STATUS_ENABLED:
        raise Unmodelled(RefusalReason.SWAP_DISABLED, f"pair status {pair.status}")
    for name, value, known in (
        ("function_type", s.function_type, (0, 1, 2)),
        ("collect_fee_mode", s.collect_fee_mode, (0, 1)),
        ("activation_type", pair.activation_type, (0, 1)),
        ("pair_type", pair.pair_type, (0, 1, 2, 3)),
        ("token_mint_x_program_flag", pair.token_mint_x_program_flag, (0, 1)),
        ("token_mint_y_program_flag", pair.token_mint_y_program_flag, (0, 1)),
    ):
        if value not in known:
            raise Unmodelled(RefusalReason.DLMM_UNSUPPORTED_MODE, f"{name} {value}")
    point = clock.slot if pair.activation_type == ACTIVATION_SLOT else clock.unix_timestamp
    if point < pair.activation_point:
        raise Unmodelled(RefusalReason.NOT_OPEN_YET, f"activation point {pair.activation_point}, now {point}")
    for label, flag, mint in (
        ("token X", pair.token_mint_x_program_flag, mint_x),
        ("token Y", pair.token_mint_y_program_flag, mint_y),
    ):
        if mint is not None:
            ensure_mint_modelled(mint, label)
        elif flag == 1:
            raise Unmodelled(
                RefusalReason.TOKEN2022_UNKNOWN_EXTENSION, f"{label} is Token-2022; mint not read"
            )


# --- exact swap -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DlmmQuote:
    """Result of an exact DLMM swap (what the program would do).

    amount_in includes the fee when it is charged on the input; amount_out is what the user receives.
    `fee` is the whole trading fee, charged in the input token when `fee_on_input` else in the output
    token; `protocol_fee` and `lp_fee` are the shares the SDK reports (protocol_fee includes exact-out
    rounding surplus). `bin_array_indexes` are the arrays the swap walks, in order: pass their PDAs as
    the swap's remaining accounts. `max_variable_fee_rate` is the largest variable fee rate applied.
    """

    amount_in: int
    amount_out: int
    fee: int
    protocol_fee: int
    lp_fee: int
    fee_on_input: bool
    swap_for_y: bool
    exact_in: bool
    start_active_id: int
    end_active_id: int
    bins_filled: int
    volatility_accumulator: int
    max_variable_fee_rate: int
    bin_array_indexes: tuple[int, ...]

    @property
    def bins_crossed(self) -> int:
        """How many bins the active id moved."""
        return abs(self.end_active_id - self.start_active_id)


def _references(pair: LbPair, now: int) -> dm.References:
    s, v = pair.parameters, pair.v_parameters
    return dm.update_references(
        active_id=pair.active_id,
        volatility_accumulator=v.volatility_accumulator,
        volatility_reference=v.volatility_reference,
        index_reference=v.index_reference,
        last_update_timestamp=v.last_update_timestamp,
        filter_period=s.filter_period,
        decay_period=s.decay_period,
        reduction_factor=s.reduction_factor,
        now=now,
    )


def _swap(
    pair: LbPair,
    bin_arrays: Mapping[int, BinArray],
    amount: int,
    *,
    swap_for_y: bool,
    now: int,
    exact_in: bool,
    ext: BinArrayBitmapExtension | None,
    allow_partial_fill: bool,
) -> DlmmQuote:
    if not 0 < amount < _U64:
        raise InvalidInput(f"amount {amount} must be in 1..2^64-1")
    if ext is None and needs_bitmap_extension(pair):
        raise InvalidInput("the active bin lies beyond the pair's bitmap: supply the bitmap extension")
    s = pair.parameters
    refs = _references(pair, now)
    va = refs.volatility_accumulator
    base_rate = dm.base_fee_rate(s.base_factor, pair.bin_step, s.base_fee_power_factor)
    fee_on_input = pair.fee_on_input(swap_for_y)
    limit_orders = pair.supports_limit_orders
    step = -1 if swap_for_y else 1
    active = pair.active_id
    left = amount
    total_in = total_out = fee = protocol = lp = 0
    filled = max_var = 0
    used: list[int] = []
    while left > 0:
        index = next_bin_array_index(pair, ext, swap_for_y, bin_array_index(active))
        array = None if index is None else bin_arrays.get(index)
        if index is None or array is None:
            if allow_partial_fill and exact_in:
                break
            if index is None:
                raise InsufficientLiquidity(f"no bin array with liquidity beyond bin {active}")
            raise BinArrayMissing(index)
        if index not in used:
            used.append(index)
        lower = array.lower_bin_id
        upper = lower + MAX_BIN_PER_ARRAY - 1
        if not lower <= active <= upper:  # jump over arrays without liquidity
            active = upper if swap_for_y else lower
        while True:
            if not dm.MIN_BIN_ID <= active <= dm.MAX_BIN_ID:
                raise InsufficientLiquidity(f"bin {active} is outside the program's bin range")
            b = array.bins[active - lower]
            if limit_orders and b.order_liquidity(swap_for_y):
                raise Unmodelled(
                    RefusalReason.DLMM_LIMIT_ORDER, f"bin {active} (bin array version {array.version})"
                )
            max_out = b.amount_y if swap_for_y else b.amount_x
            if max_out:
                va = dm.volatility_accumulator_at(
                    active, refs.volatility_reference, refs.index_reference, s.max_volatility_accumulator
                )
                var_rate = dm.variable_fee_rate(s.variable_fee_control, va, pair.bin_step)
                rate = dm.total_fee_rate(base_rate, var_rate)
                price = b.price or dm.price_from_id(active, pair.bin_step)
                run = dm.bin_exact_in if exact_in else dm.bin_exact_out
                r = run(left, max_out, price, rate, s.protocol_share, swap_for_y, fee_on_input)
                if r.amount_in if exact_in else r.amount_out:
                    left -= r.amount_in if exact_in else r.amount_out
                    total_in += r.amount_in
                    total_out += r.amount_out
                    fee += r.fee
                    protocol += r.protocol_fee + r.protocol_surplus
                    lp += r.lp_fee
                    filled += 1
                    max_var = max(max_var, var_rate)
            if left == 0:
                break
            active += step
            if not lower <= active <= upper:
                break
    if total_in >= _U64 or total_out >= _U64:
        raise AmountCalcOverflow(f"swap totals in {total_in} / out {total_out} exceed u64")
    if exact_in and filled == 0:
        raise InsufficientLiquidity("no bin on the swap path holds liquidity")
    return DlmmQuote(
        amount_in=total_in,
        amount_out=total_out if exact_in else amount,
        fee=fee,
        protocol_fee=protocol,
        lp_fee=lp,
        fee_on_input=fee_on_input,
        swap_for_y=swap_for_y,
        exact_in=exact_in,
        start_active_id=pair.active_id,
        end_active_id=active,
        bins_filled=filled,
        volatility_accumulator=va,
        max_variable_fee_rate=max_var,
        bin_array_indexes=tuple(used),
    )


def swap_exact_in(
    pair: LbPair,
    bin_arrays: Mapping[int, BinArray],
    amount_in: int,
    *,
    swap_for_y: bool,
    now: int,
    bitmap_extension: BinArrayBitmapExtension | None = None,
    allow_partial_fill: bool = False,
) -> DlmmQuote:
    """Exact-in swap on explicit state (`bin_arrays` maps array index -> decoded array, `now` is the
    clock's unix timestamp). Without `allow_partial_fill`, running out of liquidity or of supplied
    arrays raises; with it the quote stops there (amount_in is then what was consumed)."""
    return _swap(
        pair,
        bin_arrays,
        amount_in,
        swap_for_y=swap_for_y,
        now=now,
        exact_in=True,
        ext=bitmap_extension,
        allow_partial_fill=allow_partial_fill,
    )


def swap_exact_out(
    pair: LbPair,
    bin_arrays: Mapping[int, BinArray],
    amount_out: int,
    *,
    swap_for_y: bool,
    now: int,
    bitmap_extension: BinArrayBitmapExtension | None = None,
) -> DlmmQuote:
    """Exact-out swap on explicit state: the input needed to receive `amount_out`."""
    return _swap(
        pair,
        bin_arrays,
        amount_out,
        swap_for_y=swap_for_y,
        now=now,
        exact_in=False,
        ext=bitmap_extension,
        allow_partial_fill=False,
    )


def quote_swap(
    pair: LbPair,
    bin_arrays: Mapping[int, BinArray],
    amount: int,
    *,
    swap_for_y: bool,
    clock: Clock,
    exact_in: bool = True,
    bitmap_extension: BinArrayBitmapExtension | None = None,
    mint_x: Mint | None = None,
    mint_y: Mint | None = None,
) -> DlmmQuote:
    """Exact quote with the refusals of `ensure_lb_pair_modelled` (and limit-order bins on the path)."""
    ensure_lb_pair_modelled(pair, clock=clock, mint_x=mint_x, mint_y=mint_y)
    return _swap(
        pair,
        bin_arrays,
        amount,
        swap_for_y=swap_for_y,
        now=clock.unix_timestamp,
        exact_in=exact_in,
        ext=bitmap_extension,
        allow_partial_fill=False,
    )


def quote_from_accounts(
    lb_pair_address: Pubkey,
    lb_pair_data: bytes,
    bin_array_data: Sequence[bytes],
    amount: int,
    *,
    swap_for_y: bool,
    clock: Clock,
    exact_in: bool = True,
    bitmap_extension_data: bytes | None = None,
    mint_x_data: tuple[bytes, Pubkey | None] | None = None,
    mint_y_data: tuple[bytes, Pubkey | None] | None = None,
    program_id: Pubkey = DLMM_PROGRAM_ID,
) -> DlmmQuote:
    """`solarb quote` entry: the exact quote from raw account bytes.

    Fetch the LbPair, its bitmap-extension PDA (`bitmap_extension_address`; pass None when it does not
    exist), both mints (data, owner program) and the Clock sysvar (`decode_clock`), then the arrays of
    `swap_bin_array_addresses(...)`. A swap that walks further raises `BinArrayMissing(index)`: fetch
    `bin_array_address(lb_pair, index)` and quote again. Every bin array must belong to `lb_pair_address`.
    """
    pair = decode_lb_pair(lb_pair_data)
    ext = None if bitmap_extension_data is None else decode_bitmap_extension(bitmap_extension_data)
    if ext is not None and ext.lb_pair != lb_pair_address:
        raise DecodeError("BinArrayBitmapExtension", f"belongs to {ext.lb_pair}, not {lb_pair_address}")
    arrays: dict[int, BinArray] = {}
    for data in bin_array_data:
        array = decode_bin_array(data)
        if array.lb_pair != lb_pair_address:
            raise DecodeError(
                "BinArray", f"index {array.index} belongs to {array.lb_pair}, not {lb_pair_address}"
            )
        arrays[array.index] = array
    mint_x = None if mint_x_data is None else decode_mint(*mint_x_data)
    mint_y = None if mint_y_data is None else decode_mint(*mint_y_data)
    return quote_swap(
        pair,
        arrays,
        amount,
        swap_for_y=swap_for_y,
        clock=clock,
        exact_in=exact_in,
        bitmap_extension=ext,
        mint_x=mint_x,
        mint_y=mint_y,
    )


def fee_rates(pair: LbPair, now: int) -> tuple[int, int, int]:
    """(base, variable, total) fee rates in parts of 1e9 for a swap starting now at the active bin."""
    s = pair.parameters
    refs = _references(pair, now)
    va = dm.volatility_accumulator_at(
        pair.active_id, refs.volatility_reference, refs.index_reference, s.max_volatility_accumulator
    )
    base = dm.base_fee_rate(s.base_factor, pair.bin_step, s.base_fee_power_factor)
    var = dm.variable_fee_rate(s.variable_fee_control, va, pair.bin_step)
    return base, var, dm.total_fee_rate(base, var)


def price_of_bin(bin_id: int, bin_step: int) -> float:
    """Raw price (token Y units per token X unit) of a bin, for display and screening only."""
    return dm.price_from_id(bin_id, bin_step) / float(dm.ONE_Q64)


# --- instruction builders -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SwapAccounts:
    """Accounts of a DLMM swap (names as the IDL's `swap` / `swap2`); None = optional account absent."""

    lb_pair: Pubkey
    bin_array_bitmap_extension: Pubkey | None
    reserve_x: Pubkey
    reserve_y: Pubkey
    user_token_in: Pubkey
    user_token_out: Pubkey
    token_x_mint: Pubkey
    token_y_mint: Pubkey
    oracle: Pubkey
    host_fee_in: Pubkey | None
    user: Pubkey
    token_x_program: Pubkey
    token_y_program: Pubkey
    event_authority: Pubkey


def swap_accounts_for(
    lb_pair_address: Pubkey,
    pair: LbPair,
    user: Pubkey,
    user_token_in: Pubkey,
    user_token_out: Pubkey,
    *,
    with_bitmap_extension: bool = False,
    host_fee_in: Pubkey | None = None,
    program_id: Pubkey = DLMM_PROGRAM_ID,
) -> SwapAccounts:
    """Accounts for a swap on `pair`; pass `with_bitmap_extension` when the extension account exists
    (the swap may need it), token programs follow the pair's flags."""
    return SwapAccounts(
        lb_pair=lb_pair_address,
        bin_array_bitmap_extension=(
            bitmap_extension_address(lb_pair_address, program_id) if with_bitmap_extension else None
        ),
        reserve_x=pair.reserve_x,
        reserve_y=pair.reserve_y,
        user_token_in=user_token_in,
        user_token_out=user_token_out,
        token_x_mint=pair.token_x_mint,
        token_y_mint=pair.token_y_mint,
        oracle=pair.oracle,
        host_fee_in=host_fee_in,
        user=user,
        token_x_program=pair.token_x_program,
        token_y_program=pair.token_y_program,
        event_authority=event_authority_address(program_id),
    )


def _u64_arg(name: str, value: int) -> int:
    if not 0 <= value < _U64:
        raise ValueError(f"{name} {value} does not fit u64")
    return value


def _remaining_accounts_info(slices: Sequence[tuple[int, int]]) -> bytes:
    # Borsh RemainingAccountsInfo { slices: Vec<{accounts_type: AccountsType, length: u8}> }.
    out = bytearray(struct.pack("<I", len(slices)))
    for accounts_type, length in slices:
        if accounts_type not in (
            ACCOUNTS_TYPE_TRANSFER_HOOK_X,
            ACCOUNTS_TYPE_TRANSFER_HOOK_Y,
            ACCOUNTS_TYPE_TRANSFER_HOOK_REWARD,
            ACCOUNTS_TYPE_TRANSFER_HOOK_REFERRAL,
        ):
            raise ValueError(f"accounts_type {accounts_type} is not a payload-free AccountsType")
        if not 0 <= length <= 255:
            raise ValueError(f"slice length {length} does not fit u8")
        out += bytes((accounts_type, length))
    return bytes(out)


def _swap_metas(
    a: SwapAccounts,
    bin_arrays: Sequence[Pubkey],
    program_id: Pubkey,
    *,
    with_memo: bool,
    user_is_writable: bool,
) -> list[AccountMeta]:
    def optional(key: Pubkey | None) -> AccountMeta:
        # Anchor optional account: absent = the program id, read-only.
        return AccountMeta(program_id, False, False) if key is None else AccountMeta(key, False, True)

    metas = [
        AccountMeta(a.lb_pair, False, True),
        optional(a.bin_array_bitmap_extension),
        AccountMeta(a.reserve_x, False, True),
        AccountMeta(a.reserve_y, False, True),
        AccountMeta(a.user_token_in, False, True),
        AccountMeta(a.user_token_out, False, True),
        AccountMeta(a.token_x_mint, False, False),
        AccountMeta(a.token_y_mint, False, False),
        AccountMeta(a.oracle, False, True),
        optional(a.host_fee_in),
        AccountMeta(a.user, True, user_is_writable),
        AccountMeta(a.token_x_program, False, False),
        AccountMeta(a.token_y_program, False, False),
    ]
    if with_memo:
        metas.append(AccountMeta(MEMO_PROGRAM_ID, False, False))
    metas += [AccountMeta(a.event_authority, False, False), AccountMeta(program_id, False, False)]
    metas.extend(AccountMeta(k, False, True) for k in bin_arrays)
    return metas


def _build(
    disc: bytes,
    args: tuple[tuple[str, int], tuple[str, int]],
    accounts: SwapAccounts,
    bin_arrays: Sequence[Pubkey],
    slices: Sequence[tuple[int, int]] | None,
    user_is_writable: bool,
    program_id: Pubkey,
) -> Instruction:
    """One swap instruction: `slices` None = the v1 layout (SPL Token only, no memo program, no
    RemainingAccountsInfo), else the *2 layout."""
    if slices is None and (
        accounts.token_x_program != TOKEN_PROGRAM_ID or accounts.token_y_program != TOKEN_PROGRAM_ID
    ):
        raise ValueError("swap / swap_exact_out take SPL Token mints only; use the *2 variants")
    (a_name, a), (b_name, b) = args
    data = _SWAP_ARGS.pack(disc, _u64_arg(a_name, a), _u64_arg(b_name, b))
    if slices is not None:
        data += _remaining_accounts_info(slices)
    metas = _swap_metas(
        accounts, bin_arrays, program_id, with_memo=slices is not None, user_is_writable=user_is_writable
    )
    return Instruction(program_id, data, metas)


def build_swap_ix(
    accounts: SwapAccounts,
    bin_arrays: Sequence[Pubkey],
    *,
    amount_in: int,
    min_amount_out: int,
    user_is_writable: bool = False,
    program_id: Pubkey = DLMM_PROGRAM_ID,
) -> Instruction:
    """DLMM `swap` (exact in; 15 accounts + bin arrays in swap order as remaining accounts).

    The user signs; it is writable in the message when it also pays the fee (`user_is_writable`)."""
    args = (("amount_in", amount_in), ("min_amount_out", min_amount_out))
    return _build(SWAP_DISCRIMINATOR, args, accounts, bin_arrays, None, user_is_writable, program_id)


def build_swap2_ix(
    accounts: SwapAccounts,
    bin_arrays: Sequence[Pubkey],
    *,
    amount_in: int,
    min_amount_out: int,
    remaining_accounts_slices: Sequence[tuple[int, int]] = (),
    user_is_writable: bool = False,
    program_id: Pubkey = DLMM_PROGRAM_ID,
) -> Instruction:
    """DLMM `swap2` (exact in; 16 accounts incl. the memo program, then bin arrays in swap order).

    `remaining_accounts_slices` describes transfer-hook accounts placed before the bin arrays; pools
    with hooks are refused, so it is normally empty.
    """
    args = (("amount_in", amount_in), ("min_amount_out", min_amount_out))
    return _build(
        SWAP2_DISCRIMINATOR,
        args,
        accounts,
        bin_arrays,
        remaining_accounts_slices,
        user_is_writable,
        program_id,
    )


def build_swap_exact_out_ix(
    accounts: SwapAccounts,
    bin_arrays: Sequence[Pubkey],
    *,
    max_in_amount: int,
    out_amount: int,
    user_is_writable: bool = False,
    program_id: Pubkey = DLMM_PROGRAM_ID,
) -> Instruction:
    """DLMM `swap_exact_out` (same accounts as `swap`)."""
    args = (("max_in_amount", max_in_amount), ("out_amount", out_amount))
    return _build(
        SWAP_EXACT_OUT_DISCRIMINATOR, args, accounts, bin_arrays, None, user_is_writable, program_id
    )


def build_swap_exact_out2_ix(
    accounts: SwapAccounts,
    bin_arrays: Sequence[Pubkey],
    *,
    max_in_amount: int,
    out_amount: int,
    remaining_accounts_slices: Sequence[tuple[int, int]] = (),
    user_is_writable: bool = False,
    program_id: Pubkey = DLMM_PROGRAM_ID,
) -> Instruction:
    """DLMM `swap_exact_out2` (same accounts as `swap2`)."""
    args = (("max_in_amount", max_in_amount), ("out_amount", out_amount))
    return _build(
        SWAP_EXACT_OUT2_DISCRIMINATOR,
        args,
        accounts,
        bin_arrays,
        remaining_accounts_slices,
        user_is_writable,
        program_id,
    )


# --- venue adapter --------------------------------------------------------------------------------

# A quote that keeps walking past the arrays fetched asks for the next ones, at most this many rounds.
MAX_QUOTE_ROUNDS = 16


@dataclass(frozen=True, slots=True)
class ExactState:
    """What an exact DLMM quote needs besides the cache: the pair, its bin arrays by index, the bitmap
    extension (None when the pair has none) and the clock's unix time."""

    pair: LbPair
    bin_arrays: Mapping[int, BinArray]
    bitmap_extension: BinArrayBitmapExtension | None
    now: int


def _clock_or_now(pair: LbPair, clock_account: tuple[Pubkey, bytes] | None, now_unix: int) -> Clock:
    """The Clock sysvar as fetched; without it (dump directories) the caller's time, unless the pair
    activates at a slot still to be checked."""
    if clock_account is not None:
        return decode_clock(clock_account[1])
    if pair.activation_type == ACTIVATION_SLOT and pair.activation_point > 0:
        raise MissingAccount(CLOCK_SYSVAR_ID, "Clock sysvar (the pair activates at a slot)")
    return Clock(slot=0, epoch_start_timestamp=0, epoch=0, leader_schedule_epoch=0, unix_timestamp=now_unix)


def _next_indexes(pair: LbPair, ext: BinArrayBitmapExtension | None, swap_for_y: bool, start: int,
                  count: int = 3) -> list[int]:  # fmt: skip
    """Up to `count` arrays with liquidity from `start` (inclusive) in the swap direction."""
    out: list[int] = []
    step = -1 if swap_for_y else 1
    while len(out) < count:
        found = next_bin_array_index(pair, ext, swap_for_y, start)
        if found is None:
            break
        out.append(found)
        start = found + step
    return out


class Adapter:
    """Meteora DLMM for the registry: quoted exactly (`solarb quote`), never traded nor priced yet.

    The watch set is the pair, its two reserves and the bin arrays around the active bin (`tick_arrays`,
    as Whirlpool tick arrays follow the price); the confirm stage would quote on an `ExactState`.
    """

    venue = Venue.meteora_dlmm
    pool_account_size = LB_PAIR_SIZE
    pool_account_sizes: tuple[int, ...] = (LB_PAIR_SIZE,)
    mint_offsets = (88, 120)  # token_x_mint, token_y_mint
    executable: str | None = "DLMM pools are quoted but not traded yet (no reference program on localnet)"
    cache_exact = False  # exact quotes need the pair and its bin arrays (`ExactState`)
    priced = False  # no DLMM screening math in the detector: never tradable

    swap_forms: tuple[str, ...] = ()
    slippage_errors: frozenset[int] = frozenset()
    tick_capacity = 0

    def pool_keys(self, data: bytes) -> bytes:
        # Mints and reserves (88..216) and the oracle (552..584) never change.
        return bytes(data[88:216]) + bytes(data[552:584])

    def decode_static(self, data: bytes, program_id: Pubkey) -> LbPair:
        return decode_lb_pair(data, program_id, program_id)

    def read_dynamic(self, data: bytes) -> LbPair:
        # The whole pair (active bin, bitmap, volatility state): DLMM rows are never priced, so this
        # is not a hot path.
        return decode_lb_pair(data)

    def mints(self, static: LbPair) -> tuple[Pubkey, Pubkey]:
        return static.token_x_mint, static.token_y_mint

    def dependencies(self, static: LbPair, program_id: Pubkey) -> list[Dependency]:
        return [
            Dependency(static.reserve_x, ROLE_VAULT_A, static.token_x_program),
            Dependency(static.reserve_y, ROLE_VAULT_B, static.token_y_program),
        ]

    def tick_arrays(
        self, static: LbPair, dynamic: LbPair, pool: Pubkey, program_id: Pubkey
    ) -> dict[int, Pubkey]:
        """The bin arrays with liquidity nearest the active bin, both directions (array index -> PDA);
        none when the active bin lies beyond the pair's own bitmap (the extension is not watched)."""
        indexes = watch_bin_array_indexes(dynamic, None) if not needs_bitmap_extension(dynamic) else []
        return {i: bin_array_address(pool, i, program_id) for i in indexes}

    def decode_account(self, role: int, data: bytes, ctx: PoolContext, tick_start: int) -> Any:
        if role == ROLE_VAULT_A:
            return read_token_amount(data, ctx.mint_a_raw)
        if role == ROLE_VAULT_B:
            return read_token_amount(data, ctx.mint_b_raw)
        if role == ROLE_TICK_ARRAY:
            if not data:  # not created: no liquidity there
                return None
            array = decode_bin_array(data, ctx.program_id, ctx.program_id)
            if array.lb_pair != ctx.address or array.index != tick_start:
                raise DecodeError(
                    "BinArray", f"index {array.index} of {array.lb_pair} watched as {tick_start}"
                )
            return array
        raise DecodeError("DLMM dependency", f"no account of role {role}")

    def settling(
        self, pool: AccountSlot, deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot]
    ) -> bool:
        return any(t.slot > pool.slot for t in ticks)

    def write_row(self, cache: layout.Cache, idx: int, static: LbPair, pool: AccountSlot,
                  deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot], slot: int, recv_ns: int,
                  now_unix: int) -> bool:  # fmt: skip
        clock = Clock(
            slot=slot, epoch_start_timestamp=0, epoch=0, leader_schedule_epoch=0, unix_timestamp=now_unix
        )
        ensure_lb_pair_modelled(pool.value, clock=clock)
        return False  # no DLMM rows (`priced`)

    def quote_in(
        self, cache: layout.Cache, idx: int, a_to_b: bool, amount_in: int, state: Any
    ) -> tuple[int, int]:
        st: ExactState = state
        q = swap_exact_in(st.pair, st.bin_arrays, amount_in, swap_for_y=a_to_b, now=st.now,
                          bitmap_extension=st.bitmap_extension)  # fmt: skip
        return q.amount_out, q.bins_crossed

    def quote_out(self, cache: layout.Cache, idx: int, a_to_b: bool, amount_out: int, state: Any) -> int:
        st: ExactState = state
        q = swap_exact_out(st.pair, st.bin_arrays, amount_out, swap_for_y=a_to_b, now=st.now,
                           bitmap_extension=st.bitmap_extension)  # fmt: skip
        return q.amount_in

    def form_accounts(self, static: Any, form: str) -> tuple[Pubkey, ...]:
        return ()

    def quote_state(self, static: Any, pool: AccountSlot, deps: Mapping[int, AccountSlot],
                    ticks: Sequence[AccountSlot], address: Pubkey) -> None:  # fmt: skip
        return None  # the cache row is the exact state (or the venue does not trade)

    def swap_leg(self, static: LbPair, pool: Pubkey, program_id: Pubkey, payer: Pubkey, source: Pubkey,
                 destination: Pubkey, a_to_b: bool, deps: Mapping[int, Any], *, form: str | None = None,
                 accounts: Mapping[Pubkey, FetchedAccount] | None = None) -> SwapLeg:  # fmt: skip
        raise NotImplementedError(self.executable)

    def compute_units(self) -> int:
        return 120_000

    def quote_report(self, pool: Pubkey, pool_data: bytes, owner: Pubkey, fetch: AccountFetch,
                     amount_in: int, a_to_b: bool, now_unix: int) -> dict[str, Any]:  # fmt: skip
        """Round 1: both mints, the Clock sysvar and the bitmap-extension PDA; round 2: the first bin
        arrays with liquidity in the swap direction; further rounds while the swap walks past them
        (`BinArrayMissing`), as `quote_from_accounts` describes. a = X, so a -> b sells X for Y."""
        pair = decode_lb_pair(pool_data, owner, owner)
        ext_key = bitmap_extension_address(pool, owner)
        mx, my, clock_account, ext_account = fetch(
            [pair.token_x_mint, pair.token_y_mint, CLOCK_SYSVAR_ID, ext_key]
        )
        if mx is None:
            raise MissingAccount(pair.token_x_mint, "token_x_mint")
        if my is None:
            raise MissingAccount(pair.token_y_mint, "token_y_mint")
        clock = _clock_or_now(pair, clock_account, now_unix)
        ext_data: bytes | None = None
        ext = None
        if ext_account is not None and ext_account[1]:  # the pair has a bitmap extension
            ext_data = ext_account[1]
            ext = decode_bitmap_extension(ext_data, ext_account[0], owner)
        swap_for_y = a_to_b
        arrays: dict[int, bytes] = {}
        missing: dict[int, Pubkey] = {}  # fetched, absent: an error only if the swap reaches them
        todo = _next_indexes(pair, ext, swap_for_y, bin_array_index(pair.active_id))
        for _ in range(MAX_QUOTE_ROUNDS):
            keys = [bin_array_address(pool, i, owner) for i in todo]
            for index, key, acc in zip(todo, keys, fetch(keys), strict=True):
                if acc is None:
                    missing[index] = key
                    continue
                decode_bin_array(acc[1], acc[0], owner)  # owner, size and discriminator
                arrays[index] = acc[1]
            try:
                q = quote_from_accounts(
                    pool, pool_data, list(arrays.values()), amount_in, swap_for_y=swap_for_y, clock=clock,
                    bitmap_extension_data=ext_data, mint_x_data=(mx[1], mx[0]), mint_y_data=(my[1], my[0]),
                    program_id=owner,
                )  # fmt: skip
                break
            except BinArrayMissing as err:
                if err.index in missing:
                    raise MissingAccount(missing[err.index], f"bin array {err.index}") from err
                if err.index in arrays:
                    raise
                todo = _next_indexes(pair, ext, swap_for_y, err.index)
        else:
            raise InsufficientLiquidity(f"the swap walks more than {MAX_QUOTE_ROUNDS} rounds of bin arrays")
        mint_x, mint_y = decode_mint(mx[1], mx[0]), decode_mint(my[1], my[0])
        scale = 10.0 ** (mint_x.decimals - mint_y.decimals)
        base, variable, total = fee_rates(pair, clock.unix_timestamp)
        return {
            "venue": self.venue.name,
            "pool": str(pool),
            "a_to_b": a_to_b,
            "mint_in": str(pair.token_x_mint if a_to_b else pair.token_y_mint),
            "mint_out": str(pair.token_y_mint if a_to_b else pair.token_x_mint),
            "amount_in": q.amount_in,
            "amount_out": q.amount_out,
            "fee": q.fee,
            "fee_token": "in" if q.fee_on_input else "out",
            "protocol_fee": q.protocol_fee,
            "lp_fee": q.lp_fee,
            "fee_rate_start": {
                "base": base,
                "variable": variable,
                "total": total,
                "precision": dm.FEE_PRECISION,
            },
            "max_variable_fee_rate": q.max_variable_fee_rate,
            "price_before": price_of_bin(q.start_active_id, pair.bin_step) * scale,
            "price_after": price_of_bin(q.end_active_id, pair.bin_step) * scale,
            "price_unit": "token B per token A (decimal-adjusted)",
            "active_id_before": q.start_active_id,
            "active_id_after": q.end_active_id,
            "bins_crossed": q.bins_crossed,
            "bins_filled": q.bins_filled,
            "bin_arrays": [str(bin_array_address(pool, i, owner)) for i in q.bin_array_indexes],
            "ticks_crossed": q.bins_crossed,
        }


ADAPTER = Adapter()
