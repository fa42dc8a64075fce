"""Constant-product screening kernels: numba == pure-Python reference, and the documented margin holds
against the exact integer quotes (Raydium CPMM and AMM v4)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.venues import cp_kernels as k
from strategies.venues import raydium_amm_v4 as amm
from strategies.venues import raydium_cpmm as cpmm
from strategies.venues.errors import QuoteError

amount = st.floats(min_value=1.0, max_value=2.0**63, allow_nan=False)
keep = st.floats(min_value=0.9, max_value=1.0)


@settings(max_examples=300, deadline=None)
@given(amount, amount, amount, keep)
def test_single_hop_kernels_equal_references(x: float, r_in: float, r_out: float, fee_keep: float) -> None:
    assert k.cp_out(x, r_in, r_out, fee_keep) == pytest.approx(
        k.cp_out_ref(x, r_in, r_out, fee_keep), rel=1e-14
    )
    assert k.cp_marginal_price_after(x, r_in, r_out, fee_keep) == pytest.approx(
        k.cp_marginal_price_after_ref(x, r_in, r_out, fee_keep), rel=1e-14
    )
    assert k.cp_hop_rounding_units(r_in, r_out) == k.cp_hop_rounding_units_ref(r_in, r_out)


@settings(max_examples=300, deadline=None)
@given(amount, amount, amount, keep, amount, amount, keep)
def test_two_pool_kernels_equal_references(
    x: float, a_in: float, a_out: float, ka: float, b_in: float, b_out: float, kb: float
) -> None:
    args = (a_in, a_out, ka, b_in, b_out, kb)
    assert k.cp_optimal_input_two_pools(*args) == pytest.approx(
        k.cp_optimal_input_two_pools_ref(*args), rel=1e-12
    )
    assert k.cp_two_pool_profit(x, *args) == pytest.approx(
        k.cp_two_pool_profit_ref(x, *args), rel=1e-12, abs=1e-3
    )
    assert k.cp_two_pool_profit_lower(x, *args) == pytest.approx(
        k.cp_two_pool_profit_lower_ref(x, *args), rel=1e-12, abs=1e-3
    )


def test_marginal_price_is_the_derivative_of_cp_out() -> None:
    r_in, r_out, fee_keep, x = 4e12, 9e11, 0.9975, 3e9
    h = 1e3
    numeric = (k.cp_out(x + h, r_in, r_out, fee_keep) - k.cp_out(x - h, r_in, r_out, fee_keep)) / (2 * h)
    assert k.cp_marginal_price_after(x, r_in, r_out, fee_keep) == pytest.approx(numeric, rel=1e-6)
    assert k.cp_marginal_price_after(0.0, r_in, r_out, fee_keep) == pytest.approx(fee_keep * r_out / r_in)


def test_closed_form_optimum_matches_a_numeric_search() -> None:
    args = (1e12, 2e12, 0.9975, 2e12, 1.03e12, 0.997)
    x_star = k.cp_optimal_input_two_pools(*args)
    assert x_star > 0
    lo, hi = 0.0, 1e12  # golden-section search on the float profit
    g = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        if k.cp_two_pool_profit(m1, *args) < k.cp_two_pool_profit(m2, *args):
            lo = m1
        else:
            hi = m2
    assert x_star == pytest.approx((lo + hi) / 2, rel=1e-6)
    # No arbitrage (prices agree after fees): no input.
    assert k.cp_optimal_input_two_pools(1e12, 2e12, 0.9975, 2e12, 1e12, 0.9975) == 0.0


def _exact_cycle(x: int, a: tuple[int, int, int], b: tuple[int, int, int]) -> int | None:
    """Exact integer output of the cycle: hop A on CPMM (rate per 1e6), hop B on AMM v4 (num/10000)."""
    try:
        y = cpmm.swap_base_input(x, a[0], a[1], a[2], 120_000, 40_000).amount_out
        return amm.swap_base_in(y, b[0], b[1], b[2], 10_000).amount_out
    except QuoteError:
        return None


def _check_margin(x: int, a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    ka, kb = 1.0 - a[2] / 1e6, 1.0 - b[2] / 1e4
    args = (float(a[0]), float(a[1]), ka, float(b[0]), float(b[1]), kb)
    lower = k.cp_two_pool_profit_lower(float(x), *args)
    z_float = k.cp_two_pool_profit(float(x), *args) + x
    exact = _exact_cycle(x, a, b)
    if exact is None:  # the program rejects the trade: the kernel must not have accepted it
        assert lower <= 0, (x, a, b, lower)
        return False
    assert exact <= z_float * (1 + k.CP_MARGIN_REL) + 1e-6, (x, a, b)  # the float never under-promises
    assert exact >= lower + x, (x, a, b, exact, lower)  # and never over-promises by more than the margin
    if lower > 0:
        assert exact - x > 0
    return lower > 0


def _near_arb(rng: random.Random) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    a_in = int(10 ** rng.uniform(3, 18.5))
    a_out = int(10 ** rng.uniform(3, 18.5))
    b_in = max(1, int(a_out * rng.uniform(0.5, 2.0)))
    b_out = max(1, int(b_in * a_in / a_out * (1 + rng.uniform(-0.01, 0.05))))
    return (a_in, a_out, rng.choice([0, 100, 2500, 10_000])), (b_in, min(b_out, 2**62), rng.choice([0, 25]))


def test_margin_holds_on_seeded_random_cycles() -> None:
    rng = random.Random(20261122)
    accepted = 0
    for _ in range(3_000):
        a, b = _near_arb(rng)
        ka, kb = 1.0 - a[2] / 1e6, 1.0 - b[2] / 1e4
        x_star = k.cp_optimal_input_two_pools(float(a[0]), float(a[1]), ka, float(b[0]), float(b[1]), kb)
        for x in (int(x_star), int(x_star * rng.uniform(0.01, 3.0)), rng.randint(1, 1_000)):
            if 1 <= x <= 2**62:
                accepted += _check_margin(x, a, b)
    assert accepted >= 1_000  # the bound is tight enough to accept most real opportunities


@settings(max_examples=500, deadline=None)
@given(
    st.integers(1_000, 2**62),
    st.integers(1_000, 2**62),
    st.floats(0.5, 2.0),
    st.floats(-0.01, 0.05),
    st.sampled_from([0, 1, 2500, 10_000, 99_999]),
    st.sampled_from([0, 25, 30]),
    st.floats(0.0, 3.0),
)
def test_kernel_never_accepts_what_the_exact_quotes_reject(
    a_in: int, a_out: int, b_scale: float, spread: float, rate_a: int, rate_b: int, size: float
) -> None:
    b_in = max(1, int(a_out * b_scale))
    b_out = min(max(1, int(b_in * a_in / a_out * (1 + spread))), 2**62)
    a, b = (a_in, a_out, rate_a), (b_in, b_out, rate_b)
    x_star = k.cp_optimal_input_two_pools(
        float(a_in), float(a_out), 1 - rate_a / 1e6, float(b_in), float(b_out), 1 - rate_b / 1e4
    )
    x = int(x_star * size)
    if 1 <= x <= 2**62:
        _check_margin(x, a, b)


def test_warm_compiles_every_kernel() -> None:
    k.warm()
    for name in (
        "cp_out",
        "cp_marginal_price_after",
        "cp_optimal_input_two_pools",
        "cp_two_pool_profit_lower",
    ):
        assert getattr(k, name).signatures, name
