"""Whirlpool screening kernels: numba vs pure-Python reference, and conservative vs the exact quote."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.pubkey import Pubkey

from strategies.venues import orca_whirlpool as orca
from strategies.venues import whirlpool_kernels as k
from strategies.venues import whirlpool_math as wm
from strategies.venues.errors import QuoteError

_P = Pubkey.default()


def _random_pool(seed: int) -> tuple[orca.Whirlpool, dict[int, orca.TickArray]]:
    """A static-fee pool with random positions around the price, ticks over the five nearby arrays."""
    rng = random.Random(seed)
    ts = rng.choice([1, 4, 8, 16, 64, 128])
    width = wm.TICK_ARRAY_SIZE * ts
    cur = rng.randint(-200_000, 200_000)
    base = orca.tick_array_start_index(cur, ts)
    nets: dict[int, int] = {}
    active = rng.choice([0, rng.randint(1, 2**40)])
    spread = rng.choice([ts * 4, ts * 20, width // 3, width])
    for _ in range(rng.randint(2, 16)):
        a = (cur + rng.randint(-spread, spread)) // ts * ts
        b = (cur + rng.randint(-spread, spread)) // ts * ts
        lower, upper = max(min(a, b), base - 2 * width), min(max(a, b), base + 3 * width - ts)
        if lower >= upper:
            continue
        liq = rng.randint(1, 2**45)
        nets[lower] = nets.get(lower, 0) + liq
        nets[upper] = nets.get(upper, 0) - liq
        if lower <= cur < upper:
            active += liq
    lo_sp, hi_sp = wm.sqrt_price_from_tick_index(cur), wm.sqrt_price_from_tick_index(cur + 1)
    sqrt_price = lo_sp if rng.random() < 0.2 else rng.randint(lo_sp, hi_sp - 1)
    arrays: dict[int, orca.TickArray] = {}
    for j in range(-2, 3):
        start = base + j * width
        ticks = [orca.ZERO_TICK] * wm.TICK_ARRAY_SIZE
        for idx, net in nets.items():
            if start <= idx < start + width:
                ticks[(idx - start) // ts] = orca.Tick(True, net, abs(net), 0, 0, (0, 0, 0))
        arrays[start] = orca.TickArray(start, _P, tuple(ticks))
    fee = rng.choice([0, 100, 500, 3000, 10000, 60000])
    pool = orca.Whirlpool(
        _P,
        255,
        ts,
        ts,
        fee,
        rng.choice([0, 1300]),
        active,
        sqrt_price,
        cur,
        0,
        0,
        _P,
        _P,
        0,
        _P,
        _P,
        0,
        0,
        (orca.RewardInfo(_P, _P, _P, 0, 0),) * 3,  # type: ignore[arg-type]
    )
    return pool, arrays


def _amount(pool: orca.Whirlpool, a_to_b: bool, rel: float) -> int:
    """An input size relative to the pool's depth (10^rel of L in sqrt-price units), within u64."""
    sp = pool.sqrt_price / 2.0**64
    depth = float(max(pool.liquidity, 2**30)) * (1.0 / sp if a_to_b else sp)
    return int(min(max(1.0, depth * 10.0**rel), 2.0**63))


def _kernel_args(pool: orca.Whirlpool, arrays: dict[int, orca.TickArray], a_to_b: bool) -> tuple:
    packed = k.pack_ticks(list(arrays.values()), pool.tick_spacing)
    down, up = k.swap_edges(pool)
    return (
        packed,
        0,
        packed.shape[0],
        pool.tick_current_index,
        pool.sqrt_price / 2.0**64,
        float(pool.liquidity),
        float(pool.fee_rate),
        a_to_b,
        down if a_to_b else up,
    )


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), a_to_b=st.booleans(), log_amount=st.floats(0.0, 19.0))
def test_kernel_matches_reference(seed: int, a_to_b: bool, log_amount: float) -> None:
    pool, arrays = _random_pool(seed)
    args = _kernel_args(pool, arrays, a_to_b)
    amount = float(int(10**log_amount))
    got = k.wp_swap_in(*args, amount)
    rows = [(int(r[0]), float(r[1]), float(r[2])) for r in args[0]]
    ref = k.swap_in_ref(rows, *args[3:], amount)
    assert got[2] == ref[2]
    assert got[0] == ref[0] or abs(got[0] - ref[0]) <= 1e-12 * max(abs(ref[0]), 1.0)
    assert abs(got[1] - ref[1]) <= 1e-12 * abs(ref[1])


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), a_to_b=st.booleans(), rel=st.floats(-5.0, 0.0))
def test_kernel_never_accepts_beyond_the_exact_quote(seed: int, a_to_b: bool, rel: float) -> None:
    pool, arrays = _random_pool(seed)
    args = _kernel_args(pool, arrays, a_to_b)
    amount = _amount(pool, a_to_b, rel)
    lower = k.wp_conservative_out(*args, float(amount))
    out, _sp, steps = k.wp_swap_in(*args, float(amount))
    try:
        exact = orca.quote_swap(pool, orca.swap_tick_arrays(pool, arrays, a_to_b), amount, a_to_b=a_to_b)
    except QuoteError:
        assert lower < 0.0, "kernel accepted a size the program rejects"
        return
    if lower < 0.0:
        return  # conservative rejection near the arrays' edge is allowed
    assert lower <= exact.amount_out, (lower, exact.amount_out)
    # The same margin bounds the error in both directions.
    liq_max = k._walk(*args, float(amount))[3]
    units = k.wp_margin_units(args[4], float(pool.fee_rate), a_to_b, steps, liq_max)
    assert exact.amount_out <= out * (1 + k.WP_MARGIN_REL) + units
    assert steps >= exact.ticks_crossed + 1


def test_screening_inputs_match_manual_packing() -> None:
    pool, arrays = _random_pool(11)
    s = k.screening_inputs(pool, list(arrays.values()))
    for a_to_b in (True, False):
        args = _kernel_args(pool, arrays, a_to_b)
        edge = s.end_sqrt_a_to_b if a_to_b else s.end_sqrt_b_to_a
        mine = (s.ticks, 0, len(s.ticks), s.tick_current, s.sqrt_price, s.liquidity, s.fee_rate, a_to_b, edge)
        assert np.array_equal(mine[0], args[0]) and mine[1:] == args[1:]


def test_marginal_rate_and_price_helpers() -> None:
    pool, arrays = _random_pool(7)
    args = _kernel_args(pool, arrays, True)
    sp = args[4]
    assert k.wp_price(sp) == sp * sp
    r0 = k.wp_marginal_rate_after(*args, 1.0)
    r1 = k.wp_marginal_rate_after(*args, 1e6)
    assert r0 > 0 and (r1 < 0 or r1 <= r0)  # rate falls with size (or the size is rejected)
    hi, lo = divmod(pool.sqrt_price, 1 << 64)
    assert abs(k.wp_sqrt_price_from_x64(float(hi), float(lo)) - sp) <= 1e-15 * sp
    k.warm()
    assert isinstance(k.pack_ticks([], 8), np.ndarray)
