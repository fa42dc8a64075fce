"""Meteora DLMM integer math: bin prices, the dynamic fee and the swap inside one bin.

Restated from the official sources (no code copied): `@meteora-ag/dlmm` 1.9.14 `helpers/u64xu64_math.ts`
(`pow`), `helpers/math.ts` (`getQPriceFromId`, `mulShr`, `shlDiv`), `helpers/fee.ts` (base, variable and
total fee, `getExcludedFeeAmount` / `getIncludedFeeAmount`, `splitFee`), `helpers/bin.ts`
(`swapExactInQuoteAtBin`, `swapExactOutQuoteAtBin`) and `DLMM.updateReference` /
`updateVolatilityAccumulator`; the same rules as MeteoraAg/dlmm-sdk `commons/src/quote.rs`,
`extensions/lb_pair.rs` and `math/u64x64_math.rs`. Prices are Q64.64 (`SCALE_OFFSET` 64), fee rates are
parts of `FEE_PRECISION` (1e9), capped at `MAX_FEE_RATE` (1e8 = 10 %).

Amounts are Python ints checked against u64 where the program casts (`AmountCalcOverflow`).
Limit-order liquidity is not modelled here: the quote loop refuses bins that hold it.
"""

from __future__ import annotations

from typing import NamedTuple

from strategies.venues.errors import AmountCalcOverflow

SCALE_OFFSET = 64
ONE_Q64 = 1 << SCALE_OFFSET
BASIS_POINT_MAX = 10_000
FEE_PRECISION = 1_000_000_000
MAX_FEE_RATE = 100_000_000
MAX_BIN_ID = 443_636
MIN_BIN_ID = -443_636
# u64x64_math::pow returns 0 beyond this exponent (the price underflows Q64.64).
MAX_EXPONENTIAL = 0x80000

_U64 = 1 << 64
U64_MAX = _U64 - 1
_U128_MAX = (1 << 128) - 1


def _u64(value: int, what: str) -> int:
    if value > U64_MAX:
        raise AmountCalcOverflow(f"{what} {value} does not fit u64")
    return value


# --- bin price ------------------------------------------------------------------------------------


def pow_q64(base: int, exp: int) -> int:
    """Q64.64 `base ** exp` by squaring, as u64x64_math::pow (19 exponent bits, inverted for base >= 1)."""
    if exp == 0:
        return ONE_Q64
    invert = exp < 0
    exp = -exp if invert else exp
    if exp > MAX_EXPONENTIAL:
        return 0
    squared = base
    result = ONE_Q64
    if squared >= result:  # work with a base below one so every product stays inside u128
        squared = _U128_MAX // squared
        invert = not invert
    for bit in range(19):
        if exp >> bit & 1:
            result = result * squared >> SCALE_OFFSET
        squared = squared * squared >> SCALE_OFFSET
    if result == 0:
        return 0
    return _U128_MAX // result if invert else result


def price_from_id(bin_id: int, bin_step: int) -> int:
    """Q64.64 price of bin `bin_id`: (1 + bin_step / 10000) ** bin_id (token Y per token X, raw units)."""
    base = ONE_Q64 + (bin_step << SCALE_OFFSET) // BASIS_POINT_MAX
    return pow_q64(base, bin_id)


def amount_out_for(amount_in: int, price: int, swap_for_y: bool) -> int:
    """Output of `amount_in` at one bin's price, rounded down (X->Y multiplies, Y->X divides)."""
    if swap_for_y:
        return _u64(amount_in * price >> SCALE_OFFSET, "amount out")
    return _u64((amount_in << SCALE_OFFSET) // price, "amount out")


def amount_in_for(amount_out: int, price: int, swap_for_y: bool) -> int:
    """Input that buys `amount_out` at one bin's price, rounded up."""
    if swap_for_y:
        return _u64(-((-amount_out << SCALE_OFFSET) // price), "amount in")
    return _u64(-(-amount_out * price >> SCALE_OFFSET), "amount in")


# --- dynamic fee ----------------------------------------------------------------------------------


def base_fee_rate(base_factor: int, bin_step: int, base_fee_power_factor: int) -> int:
    """base_factor * bin_step * 10 * 10**power, in parts of FEE_PRECISION (before the cap)."""
    return base_factor * bin_step * 10 * int(10**base_fee_power_factor)


def variable_fee_rate(variable_fee_control: int, volatility_accumulator: int, bin_step: int) -> int:
    """ceil(variable_fee_control * (volatility_accumulator * bin_step)**2 / 1e11); 0 when the control is 0."""
    if variable_fee_control == 0:
        return 0
    v_fee = variable_fee_control * (volatility_accumulator * bin_step) ** 2
    return (v_fee + 99_999_999_999) // 100_000_000_000


def total_fee_rate(base_rate: int, variable_rate: int) -> int:
    """Base plus variable fee, capped at MAX_FEE_RATE."""
    return min(base_rate + variable_rate, MAX_FEE_RATE)


def fee_from_included(amount_with_fee: int, rate: int) -> int:
    """Fee contained in an amount that already includes it: ceil(amount * rate / 1e9)."""
    return _u64((amount_with_fee * rate + FEE_PRECISION - 1) // FEE_PRECISION, "fee")


def include_fee(amount: int, rate: int) -> int:
    """Smallest amount whose fee-excluded part is `amount`: ceil(amount * 1e9 / (1e9 - rate))."""
    denominator = FEE_PRECISION - rate
    return _u64((amount * FEE_PRECISION + denominator - 1) // denominator, "fee-included amount")


def protocol_share_of(fee: int, protocol_share: int) -> int:
    """floor(fee * protocol_share / 10000): the protocol's part of a fee earned by market-maker liquidity."""
    return fee * protocol_share // BASIS_POINT_MAX


class References(NamedTuple):
    """The volatility state the swap starts from (after `update_references`)."""

    volatility_accumulator: int
    volatility_reference: int
    index_reference: int


def update_references(
    *,
    active_id: int,
    volatility_accumulator: int,
    volatility_reference: int,
    index_reference: int,
    last_update_timestamp: int,
    filter_period: int,
    decay_period: int,
    reduction_factor: int,
    now: int,
) -> References:
    """Once per swap: after `filter_period` seconds the reference moves to the active bin and the
    volatility reference decays (va * reduction_factor / 10000), or resets after `decay_period`."""
    elapsed = now - last_update_timestamp
    if elapsed >= filter_period:
        index_reference = active_id
        if elapsed < decay_period:
            volatility_reference = volatility_accumulator * reduction_factor // BASIS_POINT_MAX
        else:
            volatility_reference = 0
    return References(volatility_accumulator, volatility_reference, index_reference)


def volatility_accumulator_at(
    bin_id: int, volatility_reference: int, index_reference: int, max_volatility_accumulator: int
) -> int:
    """Per bin swapped in: reference + |index_reference - bin| * 10000, capped at the maximum."""
    return min(
        volatility_reference + abs(index_reference - bin_id) * BASIS_POINT_MAX, max_volatility_accumulator
    )


# --- one bin --------------------------------------------------------------------------------------


class BinSwap(NamedTuple):
    """What one bin contributes: input taken (with fee), output paid (net of fee), the trading fee, the
    protocol's share of it, the liquidity providers' share, and (exact-out only) the rounding surplus
    the SDK's quote books to the protocol.

    `lp_fee` is `fee - protocol_fee`, except when nothing entered the bin (an input so small the fee
    took all of it): then the SDK splits nothing and reports 0 for both shares.
    """

    amount_in: int
    amount_out: int
    fee: int
    protocol_fee: int
    lp_fee: int
    protocol_surplus: int


def bin_exact_in(
    amount_in: int,
    max_amount_out: int,
    price: int,
    rate: int,
    protocol_share: int,
    swap_for_y: bool,
    fee_on_input: bool,
) -> BinSwap:
    """Swap up to `amount_in` against one bin holding `max_amount_out` of the output token.

    The fee comes off the input (fee_on_input) or off the output; a bin that cannot absorb the whole
    input takes exactly what drains it and recomputes the fee on that part.
    """
    fee = 0
    net_in = amount_in
    if fee_on_input:
        fee = fee_from_included(amount_in, rate)
        net_in = amount_in - fee
    drain_in = amount_in_for(max_amount_out, price, swap_for_y)
    if net_in >= drain_in:
        filled_in, out = drain_in, max_amount_out
    else:
        filled_in, out = net_in, amount_out_for(net_in, price, swap_for_y)
    taken = amount_in
    if filled_in < net_in:  # the bin ran dry: charge only what went in
        if fee_on_input:
            taken = include_fee(filled_in, rate)
            fee = taken - filled_in
        else:
            taken = filled_in
    if not fee_on_input:
        fee = fee_from_included(out, rate)
        out -= fee
    if filled_in == 0:
        return BinSwap(taken, out, fee, 0, 0, 0)
    protocol = protocol_share_of(fee, protocol_share)
    return BinSwap(taken, out, fee, protocol, fee - protocol, 0)


def bin_exact_out(
    amount_out: int,
    max_amount_out: int,
    price: int,
    rate: int,
    protocol_share: int,
    swap_for_y: bool,
    fee_on_input: bool,
) -> BinSwap:
    """Buy `amount_out` from one bin, or drain it when it holds less (then `amount_out` is what it has).

    The input is sized with rounding up, then re-run as an exact-in swap; output above the request by
    more than one unit is the protocol's (`protocol_surplus`), as the SDK's quote books it.
    """
    gross_out = amount_out if fee_on_input else include_fee(amount_out, rate)
    if gross_out >= max_amount_out:
        return bin_exact_in(U64_MAX, max_amount_out, price, rate, protocol_share, swap_for_y, fee_on_input)
    net_in = amount_in_for(gross_out, price, swap_for_y)
    gross_in = include_fee(net_in, rate) if fee_on_input else net_in
    r = bin_exact_in(gross_in, max_amount_out, price, rate, protocol_share, swap_for_y, fee_on_input)
    surplus = r.amount_out - amount_out
    return r._replace(amount_out=amount_out, protocol_surplus=surplus if surplus > 1 else 0)
