"""Float64 screening kernels for constant-product venues (Raydium CPMM, Raydium AMM v4).

Scalar `@njit(cache=True)` functions the detector calls from its own jitted code. numba has no int128
and u64 wraps silently, so screening is done in float64 and every decision that moves money is
re-checked with the exact integer quotes (`raydium_cpmm`, `raydium_amm_v4`).

Conventions: `fee_keep = 1 − fee_rate` (CPMM: 1 − trade_fee_rate/1e6; AMM v4: 1 − num/den); reserves
and amounts are raw token units as floats.

Conservative margin (what `cp_two_pool_profit_lower` subtracts), for one constant-product hop:
  * float rounding: relative, `CP_MARGIN_REL` (1e-9) of the output: a hop is a handful of float64
    operations (~1e-15 relative each), so 1e-9 leaves six orders of magnitude of room even for
    reserves near 2^64;
  * integer rounding of the programs: the fee is rounded up (at most 1 input unit more, worth at most
    r_out/r_in output units at the spot price, an upper bound of the marginal price) and the output is
    floored (at most 1 output unit): `1 + r_out/r_in` output units per hop, carried through the next
    hop at that hop's spot price.
So exact_out >= float_out·(1 − CP_MARGIN_REL) − rounding_units, and exact_out <= float_out·(1 + REL).
The property test in tests/venues/test_raydium_cp_kernels.py checks that whenever the kernel's lower
bound says "profit > 0", the exact integer quotes agree.
"""

from __future__ import annotations

import math

from strategies.jit import njit

CP_MARGIN_REL = 1e-9


# --- pure-Python references (same algorithms, plain floats) -----------------------------------------


def cp_out_ref(x: float, r_in: float, r_out: float, fee_keep: float) -> float:
    """Output for input x: r_out·k·x / (r_in + k·x)."""
    net = x * fee_keep
    return r_out * net / (r_in + net)


def cp_marginal_price_after_ref(x: float, r_in: float, r_out: float, fee_keep: float) -> float:
    """d(out)/d(in) after x has been swapped: k·r_in·r_out / (r_in + k·x)²."""
    d = r_in + fee_keep * x
    return fee_keep * r_in * r_out / (d * d)


def cp_hop_rounding_units_ref(r_in: float, r_out: float) -> float:
    """Bound on (float − exact) output of one hop due to the program's integer rounding, in output units."""
    return 1.0 + r_out / r_in


def cp_optimal_input_two_pools_ref(
    a_in: float, a_out: float, ka: float, b_in: float, b_out: float, kb: float
) -> float:
    """Input maximising out_B(out_A(x)) − x for the cycle X→(pool A)→Y→(pool B)→X; 0 if unprofitable.

    The composition of two constant-product hops is k_a·k_b·A_out·B_out·x / (A_in·B_in + k_a·x·(B_in + k_b·A_out));
    setting its derivative to 1 gives x* = (sqrt(k_a·k_b·A_in·A_out·B_in·B_out) − A_in·B_in) / (k_a·(B_in + k_b·A_out)).
    """
    root = math.sqrt(ka * kb * a_in * a_out * b_in * b_out)
    base = a_in * b_in
    if root <= base:
        return 0.0
    return (root - base) / (ka * (b_in + kb * a_out))


def cp_two_pool_profit_ref(
    x: float, a_in: float, a_out: float, ka: float, b_in: float, b_out: float, kb: float
) -> float:
    """Float profit of the two-hop cycle (no margin)."""
    return cp_out_ref(cp_out_ref(x, a_in, a_out, ka), b_in, b_out, kb) - x


def cp_two_pool_profit_lower_ref(
    x: float, a_in: float, a_out: float, ka: float, b_in: float, b_out: float, kb: float
) -> float:
    """Conservative profit: exact integer profit is at least this (see the module docstring)."""
    y = cp_out_ref(x, a_in, a_out, ka)
    z = cp_out_ref(y, b_in, b_out, kb)
    err_y = cp_hop_rounding_units_ref(a_in, a_out)
    err_z = cp_hop_rounding_units_ref(b_in, b_out) + (b_out / b_in) * err_y
    return z * (1.0 - CP_MARGIN_REL) - err_z - x


# --- numba kernels (same algorithms) ------------------------------------------------------------------


@njit(cache=True)
def cp_out(x: float, r_in: float, r_out: float, fee_keep: float) -> float:
    """Output for input x: r_out·k·x / (r_in + k·x). Float screening only."""
    net = x * fee_keep
    return r_out * net / (r_in + net)


@njit(cache=True)
def cp_marginal_price_after(x: float, r_in: float, r_out: float, fee_keep: float) -> float:
    """Marginal price (output per input) after x has been swapped; cp_marginal_price_after(0, ...) is the spot."""
    d = r_in + fee_keep * x
    return fee_keep * r_in * r_out / (d * d)


@njit(cache=True)
def cp_hop_rounding_units(r_in: float, r_out: float) -> float:
    """Integer-rounding bound of one hop in output units: 1 + r_out/r_in."""
    return 1.0 + r_out / r_in


@njit(cache=True)
def cp_optimal_input_two_pools(
    a_in: float, a_out: float, ka: float, b_in: float, b_out: float, kb: float
) -> float:
    """Closed-form optimal input of the 2-pool cycle (see `cp_optimal_input_two_pools_ref`); 0 if none."""
    root = math.sqrt(ka * kb * a_in * a_out * b_in * b_out)
    base = a_in * b_in
    if root <= base:
        return 0.0
    return (root - base) / (ka * (b_in + kb * a_out))


@njit(cache=True)
def cp_two_pool_profit(
    x: float, a_in: float, a_out: float, ka: float, b_in: float, b_out: float, kb: float
) -> float:
    """Float profit of the two-hop cycle for input x (no margin)."""
    return cp_out(cp_out(x, a_in, a_out, ka), b_in, b_out, kb) - x


@njit(cache=True)
def cp_two_pool_profit_lower(
    x: float, a_in: float, a_out: float, ka: float, b_in: float, b_out: float, kb: float
) -> float:
    """Conservative profit of the two-hop cycle: > 0 means the exact quotes will show a profit too."""
    y = cp_out(x, a_in, a_out, ka)
    z = cp_out(y, b_in, b_out, kb)
    err_y = cp_hop_rounding_units(a_in, a_out)
    err_z = cp_hop_rounding_units(b_in, b_out) + (b_out / b_in) * err_y
    return z * (1.0 - CP_MARGIN_REL) - err_z - x


def warm() -> None:
    """Compile (or load from numba's cache) every kernel once."""
    cp_out(1.0, 2.0, 3.0, 0.9975)
    cp_marginal_price_after(1.0, 2.0, 3.0, 0.9975)
    cp_hop_rounding_units(2.0, 3.0)
    cp_optimal_input_two_pools(1e9, 2e9, 0.9975, 2e9, 1.1e9, 0.9975)
    cp_two_pool_profit(1.0, 1e9, 2e9, 0.9975, 2e9, 1.1e9, 0.9975)
    cp_two_pool_profit_lower(1.0, 1e9, 2e9, 0.9975, 2e9, 1.1e9, 0.9975)
