"""Whirlpool (CLMM) legs: kernel == reference on random states, and the exact confirm with the venue's
quote on the real devnet pool fixture with initialized ticks near the price."""

from __future__ import annotations

import base64
import json
import math
import os
from pathlib import Path

import numpy as np
from detector_market import Market
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import costs, detector, layout
from strategies import reference_detector as ref
from strategies import routes as R
from strategies.confirm import confirm_best
from strategies.venues import orca_whirlpool as ow
from strategies.venues import whirlpool_kernels as wk

FIXTURE = Path(os.environ["SOLARB_FIXTURES"]) / "orca_rpr_whirlpool.json"
WP = layout.KIND_ORCA_WHIRLPOOL
AMM = layout.KIND_RAYDIUM_AMM_V4


def _outputs(m: Market) -> np.ndarray:
    return m.market[layout.N_PARAMS : layout.TOKENS_OFFSET].copy()


def _market_with(
    wp_inputs: wk.ScreeningInputs, cp_reserves: tuple[int, int], mints: tuple[str, str], *, base: str
) -> Market:
    specs = [R.PoolSpec(WP, *mints), R.PoolSpec(AMM, *mints)]
    table = R.build_routes(specs, base_mints=(base,))
    cache = layout.allocate(2, len(table.mints), tick_rows=64)
    costs.CostModel().write_to(cache.market)
    cache.market[layout.M_SOL_USD] = 150.0
    a, b = table.token_index[mints[0]], table.token_index[mints[1]]
    layout.register_pool(cache, 0, WP, a, b, tick_capacity=64)
    s = wp_inputs
    layout.write_clmm_pool(
        cache, 0, s.sqrt_price, s.liquidity, s.tick_current, int(s.fee_rate), s.ticks,
        s.end_sqrt_a_to_b, s.end_sqrt_b_to_a, slot=7, recv_ns=70,
    )  # fmt: skip
    layout.set_flags(cache, 0, tradable=True, settling=False)
    layout.register_pool(cache, 1, AMM, a, b)
    layout.write_cp_pool(cache, 1, cp_reserves[0], cp_reserves[1], 25, 10_000, slot=8, recv_ns=80)
    layout.set_flags(cache, 1, tradable=True, settling=False)
    for mint, t in table.token_index.items():
        layout.write_token(cache.market, t, balance=10**18, max_notional=10**18, is_sol=mint == base)
    return Market(cache, table)


def _synthetic_inputs(
    tick_current: int, spacing: int, liq: float, fee_rate: int, offsets: list[int]
) -> wk.ScreeningInputs:
    """Float screening inputs around `tick_current`: initialized ticks at `offsets` spacings away
    (crossing any of them adds liquidity in both directions)."""
    rows = []
    for o in sorted(set(offsets)):
        t = (tick_current // spacing + o) * spacing
        rows.append((t, 1.0001 ** (t / 2), (liq / 4) if t > tick_current else -(liq / 4)))
    rows.sort()
    ticks = np.array(rows, dtype=np.float64).reshape(-1, 3)
    sp = 1.0001 ** ((tick_current + 0.5) / 2)
    width = 88 * spacing
    return wk.ScreeningInputs(
        ticks, tick_current, sp, liq, float(fee_rate),
        1.0001 ** ((tick_current - 3 * width) / 2), 1.0001 ** ((tick_current + 3 * width) / 2),
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    tick=st.integers(-50_000, 50_000),
    spacing=st.sampled_from([1, 8, 64]),
    liq=st.floats(1e9, 1e15),
    fee_rate=st.integers(0, 10_000),
    offsets=st.lists(st.integers(-20, 20).filter(lambda o: o != 0), max_size=8),
    skew=st.floats(-0.05, 0.05),
    depth=st.floats(1e9, 1e13),
    search_iters=st.integers(5, 60),
)
def test_clmm_routes_kernel_equals_reference(
    tick, spacing, liq, fee_rate, offsets, skew, depth, search_iters
):
    s = _synthetic_inputs(tick, spacing, liq, fee_rate, offsets)
    price = s.sqrt_price**2  # b per a
    m = _market_with(s, (int(depth), max(1, int(depth * price * (1 + skew)))), ("A", "B"), base="A")
    m.market[layout.M_SEARCH_ITERS] = float(search_iters)
    for pool in (0, 1):
        best_k = detector.detect(*m.args(), pool)
        k_out = _outputs(m)
        best_r = ref.detect(*m.args(), pool)
        assert best_k == best_r
        assert np.array_equal(k_out, _outputs(m))
        # without the caller's exact CLMM quote, a route through the Whirlpool is never confirmed
        assert best_k < 0 or confirm_best(m.cache, m.table, pool, 30) is None


def _fixture_pool() -> tuple[ow.Whirlpool, dict[int, ow.TickArray]]:
    raw = json.loads(FIXTURE.read_text())
    pool = ow.decode_whirlpool(base64.b64decode(raw["account"]["data"][0]))
    ts, cur, liq = pool.tick_spacing, pool.tick_current_index, pool.liquidity
    arrays: dict[int, ow.TickArray] = {}
    # initialized ticks a few spacings either side of the price: the optimal swap crosses some of them
    for a_to_b in (True, False):
        for start in ow.tick_array_start_indexes(cur, ts, a_to_b):
            ticks = list(ow.ZERO_TICK for _ in range(88))
            for k in range(88):
                t = start + k * ts
                if 0 < abs(t - cur) <= 6 * ts and (t - cur) % (2 * ts) < ts:
                    net = liq // 3 if t > cur else -(liq // 3)
                    ticks[k] = ow.Tick(True, net, abs(net), 0, 0, (0, 0, 0))
            arrays[start] = ow.TickArray(start, Pubkey_default(), tuple(ticks))
    return pool, arrays


def Pubkey_default():
    from solders.pubkey import Pubkey

    return Pubkey.default()


def test_whirlpool_vs_amm_cycle_confirmed_with_exact_quote():
    pool, arrays = _fixture_pool()
    inputs = wk.screening_inputs(pool, list(arrays.values()))
    price = inputs.sqrt_price**2  # raw b per raw a
    mints = (str(pool.token_mint_a), str(pool.token_mint_b))
    # the AMM (about as deep) prices token a 4 % higher than the Whirlpool: buy a on the Whirlpool,
    # sell it on the AMM; the optimal size moves the Whirlpool's price over initialized ticks
    ra = 2 * 10**17
    m = _market_with(inputs, (ra, int(ra * price * 1.04)), mints, base=mints[1])
    best = detector.detect(*m.args(), 0)
    assert best >= 0
    route = m.table.routes[best]
    assert [leg.pool for leg in route.legs] == [0, 1] and route.legs[0].direction == R.DIR_B_TO_A
    estimate = m.market[layout.O_NET_PROFIT]

    def clmm_quote(idx: int, a_to_b: bool, amount: int) -> tuple[int, int]:
        assert idx == 0
        q = ow.quote_swap(pool, ow.swap_tick_arrays(pool, arrays, a_to_b), amount, a_to_b=a_to_b)
        return q.amount_out, q.ticks_crossed

    opp = confirm_best(m.cache, m.table, 0, 30, clmm_quote=clmm_quote)
    assert opp is not None and opp.expected_net_profit > 0
    crossed = clmm_quote(0, False, opp.amount_in)[1]
    assert crossed > 0  # the sized trade walks over initialized ticks
    assert opp.cu_limit == 20_000 + ow.CU_SWAP_LEG + 45_000 + ow.CU_PER_TICK_CROSSED * crossed
    assert m.market[layout.O_CU_LIMIT] == opp.cu_limit  # the float walk saw the same ticks
    # float screen vs exact: within rounding (a few units per step) and a 1e-6 relative band
    assert abs(estimate - opp.expected_net_profit) <= 1e-6 * opp.amount_out + 50
    # the golden-section size is the exact optimum up to tiny relative steps

    def exact_profit(amount: int) -> int:
        out_a = clmm_quote(0, False, amount)[0]
        from strategies.confirm import exact_leg_out

        return exact_leg_out(m.cache, 1, R.DIR_A_TO_B, out_a) - amount

    p0 = exact_profit(opp.amount_in)
    for f in (0.98, 0.995, 1.005, 1.02):
        assert p0 >= exact_profit(int(opp.amount_in * f))
    # kernel == reference on the same state
    k_out = _outputs(m)
    assert ref.detect(*m.args(), 0) == best and np.array_equal(k_out, _outputs(m))
    assert math.isfinite(estimate)
