"""Float64 screening kernels for Orca Whirlpool (CLMM), callable from other numba code.

numba has no int128 and u64 wraps silently, so screening runs in float64 over ticks packed by the caller
and every decision that moves money is re-checked with `orca_whirlpool.quote_swap` (exact integers).

Packed ticks (`pack_ticks`): a float64 array of shape (k, 3), rows `[tick_index, sqrt_price, liquidity_net]`
in ascending tick order, where sqrt_price = sqrt_price_x64 / 2⁶⁴ (a real number, sqrt of B per A). A pool
owns rows `lo..hi-1` of a shared array. `end_sqrt` is the far edge of the tick arrays the swap will be
given (`swap_edges`): the exact quote fails when it runs past it, so the kernel rejects such sizes.

The walk mirrors the program: fee taken from the input (exact-in keeps amount·(1 − fee_rate/1e6) on net),
a→b crosses initialized ticks with index <= tick_current (descending, liquidity −= net), b→a ticks with
index > tick_current (ascending, liquidity += net).

Conservative margin (`wp_conservative_out`):
  * float rounding: `WP_MARGIN_REL` = 1e-9 of the output. A step is a few float64 operations
    (~1e-16 relative each) and tick sqrt prices / liquidities are rounded once to 53 bits, so 1e-9 leaves
    several orders of magnitude of room even for u64-sized amounts over hundreds of steps;
  * integer rounding of the program, per step (initialized tick crossed + the final partial step): the
    output is floored (1 unit), the step input and its fee are each rounded up (2 input units, worth at
    most 2·r output units, r = the marginal out-per-in rate at the start, which only falls during a swap),
    and the next sqrt price is rounded by one Q64.64 ulp against the user (worth L/2⁶⁴ of token B, or
    L/(2⁶⁴·P²) of token A; L = the largest liquidity met on the walk): `wp_margin_units`.
So exact_out >= float_out·(1 − REL) − wp_margin_units(...); the kernel also rejects a size whose float
walk comes within 2·steps input units (and REL) of the last array's edge. tests/venues/test_orca_kernels.py checks with
hypothesis that a conservative output never exceeds the exact one and that nothing the exact quote
rejects is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from strategies.jit import njit
from strategies.venues import whirlpool_math as wm
from strategies.venues.whirlpool_math import tick_array_start_indexes

if TYPE_CHECKING:  # orca_whirlpool's adapter packs rows with this module: no import cycle at run time
    from strategies.venues.orca_whirlpool import TickArray, Whirlpool

F64Array = npt.NDArray[np.float64]

WP_MARGIN_REL = 1e-9
_Q64 = float(1 << 64)
_FEE_DEN = 1_000_000.0


# --- jitted kernels ----------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def wp_price(sqrt_price: float) -> float:
    """Price of token A in token B (raw units) from a real sqrt price."""
    return sqrt_price * sqrt_price


@njit(cache=True, nogil=True)
def wp_sqrt_price_from_x64(sqrt_price_x64_hi: float, sqrt_price_x64_lo: float) -> float:
    """Real sqrt price from the two 64-bit halves of the Q64.64 value (numba has no int128)."""
    return sqrt_price_x64_hi + sqrt_price_x64_lo / 18446744073709551616.0


@njit(cache=True, nogil=True)
def _walk(
    ticks: F64Array,
    lo: int,
    hi: int,
    tick_current: int,
    sqrt_price: float,
    liquidity: float,
    fee_rate: float,
    a_to_b: bool,
    end_sqrt: float,
    amount_in: float,
) -> tuple[float, float, int, float]:
    remaining = amount_in * (1.0 - fee_rate / _FEE_DEN)
    out = 0.0
    sp = sqrt_price
    liq = liquidity
    liq_max = liquidity
    steps = 0
    if a_to_b:
        i = hi - 1
        while i >= lo and ticks[i, 0] > tick_current:
            i -= 1
    else:
        i = lo
        while i < hi and ticks[i, 0] <= tick_current:
            i += 1
    while True:
        at_edge = False
        if a_to_b:
            if i >= lo and ticks[i, 1] >= end_sqrt:
                target = ticks[i, 1]
            else:
                target = end_sqrt
                at_edge = True
        else:
            if i < hi and ticks[i, 1] <= end_sqrt:
                target = ticks[i, 1]
            else:
                target = end_sqrt
                at_edge = True
        steps += 1
        if liq > 0.0:
            if a_to_b:
                need = liq * (1.0 / target - 1.0 / sp)
                if remaining < need:
                    if at_edge and remaining >= need * (1.0 - WP_MARGIN_REL) - 2.0 * steps:
                        return -1.0, sp, steps, liq_max
                    new_sp = 1.0 / (1.0 / sp + remaining / liq)
                    out += liq * (sp - new_sp)
                    return out, new_sp, steps, liq_max
                out += liq * (sp - target)
            else:
                need = liq * (target - sp)
                if remaining < need:
                    if at_edge and remaining >= need * (1.0 - WP_MARGIN_REL) - 2.0 * steps:
                        return -1.0, sp, steps, liq_max
                    new_sp = sp + remaining / liq
                    out += liq * (1.0 / sp - 1.0 / new_sp)
                    return out, new_sp, steps, liq_max
                out += liq * (1.0 / sp - 1.0 / target)
            remaining -= need
        sp = target
        if at_edge:
            return -1.0, sp, steps, liq_max
        if a_to_b:
            liq -= ticks[i, 2]
            i -= 1
        else:
            liq += ticks[i, 2]
            i += 1
        if liq < 0.0:
            liq = 0.0
        if liq > liq_max:
            liq_max = liq


@njit(cache=True, nogil=True)
def wp_swap_in(
    ticks: F64Array,
    lo: int,
    hi: int,
    tick_current: int,
    sqrt_price: float,
    liquidity: float,
    fee_rate: float,
    a_to_b: bool,
    end_sqrt: float,
    amount_in: float,
) -> tuple[float, float, int]:
    """Approximate exact-in swap: (amount_out, sqrt_price_after, steps); amount_out = -1.0 when rejected.

    `steps` counts initialized ticks crossed plus the final partial step (for the margin).
    """
    out, sp, steps, _liq_max = _walk(
        ticks, lo, hi, tick_current, sqrt_price, liquidity, fee_rate, a_to_b, end_sqrt, amount_in
    )
    return out, sp, steps


@njit(cache=True, nogil=True)
def wp_margin_units(sqrt_price: float, fee_rate: float, a_to_b: bool, steps: int, liq_max: float) -> float:
    """Output units the program's integer rounding can cost over `steps` steps (module docstring)."""
    keep = 1.0 - fee_rate / _FEE_DEN
    inv_p2 = 1.0 / (sqrt_price * sqrt_price)
    if a_to_b:
        rate = keep * sqrt_price * sqrt_price
        ulp_cost = liq_max / 18446744073709551616.0
    else:
        rate = keep * inv_p2
        ulp_cost = liq_max / 18446744073709551616.0 * inv_p2
    return steps * (1.0 + 2.0 * rate + 2.0 * ulp_cost)


@njit(cache=True, nogil=True)
def wp_conservative_out(
    ticks: F64Array,
    lo: int,
    hi: int,
    tick_current: int,
    sqrt_price: float,
    liquidity: float,
    fee_rate: float,
    a_to_b: bool,
    end_sqrt: float,
    amount_in: float,
) -> float:
    """A lower bound of the exact output for `amount_in` (see the module docstring); -1.0 if rejected."""
    out, _sp, steps, liq_max = _walk(
        ticks, lo, hi, tick_current, sqrt_price, liquidity, fee_rate, a_to_b, end_sqrt, amount_in
    )
    if out < 0.0:
        return -1.0
    lower = out * (1.0 - WP_MARGIN_REL) - wp_margin_units(sqrt_price, fee_rate, a_to_b, steps, liq_max)
    return lower if lower > 0.0 else 0.0


@njit(cache=True, nogil=True)
def wp_marginal_rate_after(
    ticks: F64Array,
    lo: int,
    hi: int,
    tick_current: int,
    sqrt_price: float,
    liquidity: float,
    fee_rate: float,
    a_to_b: bool,
    end_sqrt: float,
    amount_in: float,
) -> float:
    """Marginal output per unit of input (after fee) once `amount_in` has been swapped; -1.0 if rejected."""
    out, sp, _steps, _liq_max = _walk(
        ticks, lo, hi, tick_current, sqrt_price, liquidity, fee_rate, a_to_b, end_sqrt, amount_in
    )
    if out < 0.0:
        return -1.0
    keep = 1.0 - fee_rate / _FEE_DEN
    return keep * sp * sp if a_to_b else keep / (sp * sp)


# --- pure-Python reference of the same float algorithm (written independently, for the property test) ---


def swap_in_ref(
    ticks: Sequence[tuple[int, float, float]],
    tick_current: int,
    sqrt_price: float,
    liquidity: float,
    fee_rate: float,
    a_to_b: bool,
    end_sqrt: float,
    amount_in: float,
) -> tuple[float, float, int]:
    """Reference for `wp_swap_in` over a list of (tick, sqrt, net) rows in ascending tick order."""
    if a_to_b:
        path = [(s, -n) for t, s, n in reversed(ticks) if t <= tick_current and s >= end_sqrt]
    else:
        path = [(s, n) for t, s, n in ticks if t > tick_current and s <= end_sqrt]
    segments = [*path, (end_sqrt, None)]
    remaining = amount_in * (1.0 - fee_rate / _FEE_DEN)
    out, sp, liq = 0.0, sqrt_price, liquidity
    for steps, (target, delta) in enumerate(segments, start=1):
        if liq > 0.0:
            if a_to_b:
                need = liq * (1.0 / target - 1.0 / sp)
            else:
                need = liq * (target - sp)
            if remaining < need:
                if delta is None and remaining >= need * (1.0 - WP_MARGIN_REL) - 2.0 * steps:
                    return -1.0, sp, steps
                if a_to_b:
                    new_sp = 1.0 / (1.0 / sp + remaining / liq)
                    return out + liq * (sp - new_sp), new_sp, steps
                new_sp = sp + remaining / liq
                return out + liq * (1.0 / sp - 1.0 / new_sp), new_sp, steps
            out += liq * (sp - target) if a_to_b else liq * (1.0 / sp - 1.0 / target)
            remaining -= need
        sp = target
        if delta is None:
            return -1.0, sp, steps
        liq = max(liq + delta, 0.0)
    raise AssertionError("unreachable: the edge segment always returns")


# --- packing (cold path: on tick-array updates, not per price update) --------------------------------


def pack_ticks(tick_arrays: Sequence[TickArray], tick_spacing: int) -> F64Array:
    """Rows [tick, sqrt_price, liquidity_net] of the initialized ticks, ascending, deduplicated by tick."""
    rows: dict[int, tuple[float, float]] = {}
    for array in tick_arrays:
        for k, tick in enumerate(array.ticks):
            if tick.initialized:
                index = array.start_tick_index + k * tick_spacing
                rows[index] = (wm.sqrt_price_from_tick_index(index) / _Q64, float(tick.liquidity_net))
    out = np.empty((len(rows), 3), dtype=np.float64)
    for r, index in enumerate(sorted(rows)):
        out[r, 0] = index
        out[r, 1], out[r, 2] = rows[index]
    return out


def swap_edges(pool: Whirlpool) -> tuple[float, float]:
    """(end_sqrt a→b, end_sqrt b→a): where the exact swap runs out of its three tick arrays."""
    ts = pool.tick_spacing
    width = wm.TICK_ARRAY_SIZE * ts
    down = tick_array_start_indexes(pool.tick_current_index, ts, True)
    up = tick_array_start_indexes(pool.tick_current_index, ts, False)
    low_tick = max(down[-1], wm.MIN_TICK_INDEX)
    high_tick = min(up[-1] + width - 1, wm.MAX_TICK_INDEX)
    return (
        wm.sqrt_price_from_tick_index(low_tick) / _Q64,
        wm.sqrt_price_from_tick_index(high_tick) / _Q64,
    )


class ScreeningInputs(NamedTuple):
    """Everything the kernels need for one pool, as floats (build on pool / tick-array updates)."""

    ticks: F64Array
    tick_current: int
    sqrt_price: float
    liquidity: float
    fee_rate: float
    end_sqrt_a_to_b: float
    end_sqrt_b_to_a: float


def screening_inputs(pool: Whirlpool, tick_arrays: Sequence[TickArray]) -> ScreeningInputs:
    """Pack a decoded pool and its tick arrays (both directions) for the kernels.

    Call as `wp_swap_in(s.ticks, 0, len(s.ticks), s.tick_current, s.sqrt_price, s.liquidity, s.fee_rate,
    a_to_b, s.end_sqrt_a_to_b if a_to_b else s.end_sqrt_b_to_a, amount)`.
    """
    down, up = swap_edges(pool)
    return ScreeningInputs(
        pack_ticks(tick_arrays, pool.tick_spacing),
        pool.tick_current_index,
        pool.sqrt_price / _Q64,
        float(pool.liquidity),
        float(pool.fee_rate),
        down,
        up,
    )


def warm() -> None:
    """Compile (or load from numba's cache) every kernel of this module."""
    ticks = np.array([[-10.0, 0.9995, 5.0], [10.0, 1.0005, -5.0]], dtype=np.float64)
    for a_to_b in (True, False):
        wp_swap_in(ticks, 0, 2, 0, 1.0, 1e6, 3000.0, a_to_b, 0.99 if a_to_b else 1.01, 10.0)
        wp_conservative_out(ticks, 0, 2, 0, 1.0, 1e6, 3000.0, a_to_b, 0.99 if a_to_b else 1.01, 10.0)
        wp_marginal_rate_after(ticks, 0, 2, 0, 1.0, 1e6, 3000.0, a_to_b, 0.99 if a_to_b else 1.01, 10.0)
    wp_margin_units(1.0, 3000.0, True, 1, 1e6)
    wp_price(1.0)
    wp_sqrt_price_from_x64(1.0, 0.0)
