"""Orca Whirlpool integer math, bit-exact with the on-chain program (plain Python ints).

Facts restated from orca-so/whirlpools @630c0e01 (protocols.md §3.4): `math/tick_math.rs`
(tick <-> sqrt price), `math/token_math.rs` (amount deltas, next sqrt price), `math/bit_math.rs`
(mul/div helpers) and `math/swap_math.rs` (one swap step). The program works in u64/u128/U256; here every
place where it would overflow, down-cast or divide by zero raises the `QuoteError` subclass named after
the program's own `ErrorCode`, so callers and the official vectors see the same failure.
"""

from __future__ import annotations

from functools import lru_cache

from strategies.venues.errors import (
    DivideByZero,
    MultiplicationOverflow,
    MultiplicationShiftRightOverflow,
    NumberDownCastError,
    QuoteError,
    SqrtPriceOutOfBounds,
    TokenMaxExceeded,
    TokenMinSubceeded,
)

U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1
_Q64_MASK = U64_MAX
_U192 = 1 << 192

MIN_TICK_INDEX = -443636
MAX_TICK_INDEX = 443636
MIN_SQRT_PRICE_X64 = 4295048016
MAX_SQRT_PRICE_X64 = 79226673515401279992447579055
TICK_ARRAY_SIZE = 88
FULL_RANGE_ONLY_TICK_SPACING_THRESHOLD = 32768
FEE_RATE_MUL_VALUE = 1_000_000
PROTOCOL_FEE_RATE_MUL_VALUE = 10_000
# The swap instruction's `sqrt_price_limit == 0` means "no explicit limit".
NO_EXPLICIT_SQRT_PRICE_LIMIT = 0

# tick_math.rs: sqrt(1.0001)^(2^k) factors. Non-negative ticks start from Q96 and multiply with a
# 96-bit right shift (then drop 32 bits to Q64); negative ticks work in Q64 with a 64-bit shift.
_POS_ODD_START_Q96 = 79232123823359799118286999567
_POS_EVEN_START_Q96 = 1 << 96
_POS_FACTORS_Q96 = (
    (2, 79236085330515764027303304731),
    (4, 79244008939048815603706035061),
    (8, 79259858533276714757314932305),
    (16, 79291567232598584799939703904),
    (32, 79355022692464371645785046466),
    (64, 79482085999252804386437311141),
    (128, 79736823300114093921829183326),
    (256, 80248749790819932309965073892),
    (512, 81282483887344747381513967011),
    (1024, 83390072131320151908154831281),
    (2048, 87770609709833776024991924138),
    (4096, 97234110755111693312479820773),
    (8192, 119332217159966728226237229890),
    (16384, 179736315981702064433883588727),
    (32768, 407748233172238350107850275304),
    (65536, 2098478828474011932436660412517),
    (131072, 55581415166113811149459800483533),
    (262144, 38992368544603139932233054999993551),
)
_NEG_ODD_START_Q64 = 18445821805675392311
_NEG_EVEN_START_Q64 = 1 << 64
_NEG_FACTORS_Q64 = (
    (2, 18444899583751176498),
    (4, 18443055278223354162),
    (8, 18439367220385604838),
    (16, 18431993317065449817),
    (32, 18417254355718160513),
    (64, 18387811781193591352),
    (128, 18329067761203520168),
    (256, 18212142134806087854),
    (512, 17980523815641551639),
    (1024, 17526086738831147013),
    (2048, 16651378430235024244),
    (4096, 15030750278693429944),
    (8192, 12247334978882834399),
    (16384, 8131365268884726200),
    (32768, 3584323654723342297),
    (65536, 696457651847595233),
    (131072, 26294789957452057),
    (262144, 37481735321082),
)
# log_b(2) in Q32 and the error margins of the 14-bit log2 approximation (tick_math.rs).
_LOG_B_2_X32 = 59543866431248
_BIT_PRECISION = 14
_LOG_B_P_ERR_MARGIN_LOWER_X64 = 184467440737095516
_LOG_B_P_ERR_MARGIN_UPPER_X64 = 15793534762490258745


# Pure function of a bounded domain; quotes hit the same initialized ticks again and again.
@lru_cache(maxsize=1 << 16)
def sqrt_price_from_tick_index(tick: int) -> int:
    """Q64.64 sqrt price of a tick, computed with the program's own fixed-point steps and truncations."""
    if tick >= 0:
        if tick > MAX_TICK_INDEX:
            raise NumberDownCastError(f"tick {tick} above {MAX_TICK_INDEX}")
        ratio = _POS_ODD_START_Q96 if tick & 1 else _POS_EVEN_START_Q96
        for bit, factor in _POS_FACTORS_Q96:
            if tick & bit:
                ratio = (ratio * factor) >> 96
        return ratio >> 32
    abs_tick = -tick
    ratio = _NEG_ODD_START_Q64 if abs_tick & 1 else _NEG_EVEN_START_Q64
    for bit, factor in _NEG_FACTORS_Q64:
        if abs_tick & bit:
            ratio = (ratio * factor) >> 64
    return ratio


def tick_index_from_sqrt_price(sqrt_price_x64: int) -> int:
    """Tick index t with sqrt_price(t) <= sqrt_price < sqrt_price(t + 1), as the program approximates it."""
    msb = sqrt_price_x64.bit_length() - 1
    log2p_integer_x32 = (msb - 64) << 32
    bit = 0x8000_0000_0000_0000
    precision = 0
    log2p_fraction_x64 = 0
    r = sqrt_price_x64 >> (msb - 63) if msb >= 64 else sqrt_price_x64 << (63 - msb)
    while bit > 0 and precision < _BIT_PRECISION:
        r *= r
        is_r_more_than_two = r >> 127
        r >>= 63 + is_r_more_than_two
        log2p_fraction_x64 += bit * is_r_more_than_two
        bit >>= 1
        precision += 1
    log2p_x32 = log2p_integer_x32 + (log2p_fraction_x64 >> 32)
    logbp_x64 = log2p_x32 * _LOG_B_2_X32
    tick_low = (logbp_x64 - _LOG_B_P_ERR_MARGIN_LOWER_X64) >> 64
    tick_high = (logbp_x64 + _LOG_B_P_ERR_MARGIN_UPPER_X64) >> 64
    if tick_low == tick_high:
        return tick_low
    return tick_high if sqrt_price_from_tick_index(tick_high) <= sqrt_price_x64 else tick_low


def get_amount_delta_a(sqrt_price_0: int, sqrt_price_1: int, liquidity: int, round_up: bool) -> int:
    """Token A between two sqrt prices: L·(Pu − Pl)·2⁶⁴ / (Pu·Pl), u64 result."""
    lower, upper = (
        (sqrt_price_1, sqrt_price_0) if sqrt_price_0 > sqrt_price_1 else (sqrt_price_0, sqrt_price_1)
    )
    product = liquidity * (upper - lower)
    # The program shifts a U256 left by one 64-bit word; the top word must be zero.
    if product >= _U192:
        raise MultiplicationOverflow("amount delta A numerator")
    quotient, remainder = divmod(product << 64, upper * lower)
    if round_up and remainder:
        quotient += 1
    if quotient > U128_MAX:
        raise NumberDownCastError("amount delta A")
    if quotient > U64_MAX:
        raise TokenMaxExceeded("amount delta A")
    return quotient


def get_amount_delta_b(sqrt_price_0: int, sqrt_price_1: int, liquidity: int, round_up: bool) -> int:
    """Token B between two sqrt prices: L·(Pu − Pl) / 2⁶⁴, u64 result."""
    diff = sqrt_price_0 - sqrt_price_1 if sqrt_price_0 > sqrt_price_1 else sqrt_price_1 - sqrt_price_0
    if liquidity == 0 or diff == 0:
        return 0
    product = liquidity * diff
    if product > U128_MAX:
        raise MultiplicationShiftRightOverflow("amount delta B")
    result = product >> 64
    if round_up and product & _Q64_MASK:
        if result == U64_MAX:
            raise MultiplicationOverflow("amount delta B rounding")
        return result + 1
    return result


def get_next_sqrt_price_from_a_round_up(sqrt_price: int, liquidity: int, amount: int, is_input: bool) -> int:
    """P' = ceil(L·2⁶⁴·P / (L·2⁶⁴ ± P·amount)), bounded to [MIN, MAX] sqrt price."""
    if amount == 0:
        return sqrt_price
    product = sqrt_price * amount
    lp = liquidity * sqrt_price
    if lp >= _U192:
        raise MultiplicationOverflow("next sqrt price from A numerator")
    liquidity_shifted = liquidity << 64
    if not is_input and liquidity_shifted <= product:
        raise DivideByZero("next sqrt price from A: output exceeds liquidity")
    denominator = liquidity_shifted + product if is_input else liquidity_shifted - product
    quotient, remainder = divmod(lp << 64, denominator)
    if remainder:
        quotient += 1
    if quotient > U128_MAX:
        raise NumberDownCastError("next sqrt price from A")
    if quotient < MIN_SQRT_PRICE_X64:
        raise TokenMinSubceeded("next sqrt price from A")
    if quotient > MAX_SQRT_PRICE_X64:
        raise TokenMaxExceeded("next sqrt price from A")
    return quotient


def get_next_sqrt_price_from_b_round_down(
    sqrt_price: int, liquidity: int, amount: int, is_input: bool
) -> int:
    """P' = P ± amount·2⁶⁴/L, the delta floored for input and ceiled for output."""
    if liquidity == 0:
        raise DivideByZero("next sqrt price from B: zero liquidity")
    delta, remainder = divmod(amount << 64, liquidity)
    if is_input:
        result = sqrt_price + delta
        if result > U128_MAX:
            raise SqrtPriceOutOfBounds("next sqrt price from B overflows")
        return result
    if remainder:
        delta += 1
    result = sqrt_price - delta
    if result < 0:
        raise SqrtPriceOutOfBounds("next sqrt price from B underflows")
    return result


def get_next_sqrt_price(sqrt_price: int, liquidity: int, amount: int, is_input: bool, a_to_b: bool) -> int:
    """Next sqrt price after adding/removing `amount` of the specified token."""
    if is_input == a_to_b:
        return get_next_sqrt_price_from_a_round_up(sqrt_price, liquidity, amount, is_input)
    return get_next_sqrt_price_from_b_round_down(sqrt_price, liquidity, amount, is_input)


def _fixed_delta(p0: int, p1: int, liquidity: int, is_input: bool, a_to_b: bool) -> int:
    if a_to_b == is_input:
        return get_amount_delta_a(p0, p1, liquidity, is_input)
    return get_amount_delta_b(p0, p1, liquidity, is_input)


def _try_fixed_delta(p0: int, p1: int, liquidity: int, is_input: bool, a_to_b: bool) -> int | None:
    """Like `_fixed_delta` but None when the delta exceeds u64 (swap_math.rs `try_get_amount_fixed_delta`)."""
    try:
        if a_to_b == is_input:
            return get_amount_delta_a(p0, p1, liquidity, is_input)
        return get_amount_delta_b(p0, p1, liquidity, is_input)
    except (MultiplicationOverflow, NumberDownCastError, TokenMaxExceeded, MultiplicationShiftRightOverflow):
        return None


def _unfixed_delta(p0: int, p1: int, liquidity: int, is_input: bool, a_to_b: bool) -> int:
    if a_to_b == is_input:
        return get_amount_delta_b(p0, p1, liquidity, not is_input)
    return get_amount_delta_a(p0, p1, liquidity, not is_input)


def compute_swap_step(
    amount_remaining: int,
    fee_rate: int,
    liquidity: int,
    sqrt_price_current: int,
    sqrt_price_target: int,
    amount_specified_is_input: bool,
    a_to_b: bool,
) -> tuple[int, int, int, int]:
    """One swap step toward `sqrt_price_target`: returns (amount_in, amount_out, next_sqrt_price, fee)."""
    is_input = amount_specified_is_input
    initial_fixed = _try_fixed_delta(sqrt_price_current, sqrt_price_target, liquidity, is_input, a_to_b)
    amount_calc = (
        amount_remaining * (FEE_RATE_MUL_VALUE - fee_rate) // FEE_RATE_MUL_VALUE
        if is_input
        else amount_remaining
    )
    if initial_fixed is not None and amount_calc >= initial_fixed:
        next_sqrt_price = sqrt_price_target
    else:
        next_sqrt_price = get_next_sqrt_price(sqrt_price_current, liquidity, amount_calc, is_input, a_to_b)
    is_max_swap = next_sqrt_price == sqrt_price_target
    unfixed = _unfixed_delta(sqrt_price_current, next_sqrt_price, liquidity, is_input, a_to_b)
    if not is_max_swap or initial_fixed is None:
        fixed = _fixed_delta(sqrt_price_current, next_sqrt_price, liquidity, is_input, a_to_b)
    else:
        fixed = initial_fixed
    if is_input:
        amount_in, amount_out = fixed, unfixed
    else:
        amount_in, amount_out = unfixed, fixed
        if amount_out > amount_remaining:
            amount_out = amount_remaining
    if is_input and not is_max_swap:
        fee = amount_remaining - amount_in
    else:
        denominator = FEE_RATE_MUL_VALUE - fee_rate
        if denominator <= 0:
            raise DivideByZero("fee rate >= 100%")
        fee = -(-amount_in * fee_rate // denominator)
        if fee > U64_MAX:
            raise NumberDownCastError("step fee")
    return amount_in, amount_out, next_sqrt_price, fee


def floor_div(a: int, b: int) -> int:
    """Floor division (the program's `floor_division`); Python's // already floors."""
    return a // b


def is_valid_start_tick(start_tick_index: int, tick_spacing: int) -> bool:
    """`Tick::check_is_valid_start_tick`: a multiple of the array width, or the left-edge array start."""
    ticks_in_array = TICK_ARRAY_SIZE * tick_spacing
    if start_tick_index < MIN_TICK_INDEX or start_tick_index > MAX_TICK_INDEX:
        if start_tick_index > MIN_TICK_INDEX:
            return False
        # Rust `%` keeps the dividend's sign.
        rem = -((-MIN_TICK_INDEX) % ticks_in_array)
        return start_tick_index == MIN_TICK_INDEX - (rem + ticks_in_array)
    return start_tick_index % ticks_in_array == 0


def tick_array_start_index(tick_index: int, tick_spacing: int) -> int:
    """Start tick of the array holding `tick_index` (floor division, also for negative ticks)."""
    width = TICK_ARRAY_SIZE * tick_spacing
    return tick_index // width * width


def tick_array_start_indexes(tick_current_index: int, tick_spacing: int, a_to_b: bool) -> list[int]:
    """The (up to 3) array starts a swap uses, as util/sparse_swap.rs `get_start_tick_indexes`."""
    width = TICK_ARRAY_SIZE * tick_spacing
    base = tick_current_index // width * width
    if a_to_b:
        offsets: tuple[int, ...] = (0, -1, -2)
    elif tick_current_index + tick_spacing >= base + width:
        offsets = (1, 2, 3)
    else:
        offsets = (0, 1, 2)
    starts = (base + o * width for o in offsets)
    return [s for s in starts if is_valid_start_tick(s, tick_spacing)]


__all__ = [
    "FEE_RATE_MUL_VALUE",
    "MAX_SQRT_PRICE_X64",
    "MAX_TICK_INDEX",
    "MIN_SQRT_PRICE_X64",
    "MIN_TICK_INDEX",
    "NO_EXPLICIT_SQRT_PRICE_LIMIT",
    "PROTOCOL_FEE_RATE_MUL_VALUE",
    "TICK_ARRAY_SIZE",
    "QuoteError",
    "compute_swap_step",
    "get_amount_delta_a",
    "get_amount_delta_b",
    "get_next_sqrt_price",
    "is_valid_start_tick",
    "sqrt_price_from_tick_index",
    "tick_array_start_index",
    "tick_array_start_indexes",
    "tick_index_from_sqrt_price",
]
