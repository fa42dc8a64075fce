"""Property: kernel + exact confirm == pure-Python reference + exact confirm, on random states."""

from __future__ import annotations

import numpy as np
from detector_market import build_market
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies import costs, detector, layout
from strategies import reference_detector as ref
from strategies.confirm import confirm_best

MINTS = ("SOL", "A", "B", "C")


@st.composite
def markets(draw, pumpswap=False):
    """Random CPMM / AMM v4 markets; with `pumpswap`, PumpSwap rows too (screened as constant product,
    confirmed with PumpSwap's exact quotes on the row's three fee rates)."""
    n_tokens = draw(st.integers(2, 4))
    mints = MINTS[:n_tokens]
    # true prices in SOL per raw unit; pools deviate from them by up to +-3 %
    price = {m: 1.0 if m == "SOL" else draw(st.floats(1e-4, 1e3)) for m in mints}
    n_pools = draw(st.integers(2, 7))
    pools = []
    pump_rates = {}  # pool -> PumpSwap (lp, protocol, creator) bps, each rounded on its own by the confirm
    for i in range(n_pools):
        a, b = draw(st.lists(st.sampled_from(mints), min_size=2, max_size=2, unique=True))
        depth_sol = draw(st.floats(1e6, 1e13))
        skew = draw(st.floats(-0.03, 0.03))
        ra = max(1, int(depth_sol / price[a]))
        rb = max(1, int(depth_sol / price[b] * (1.0 + skew)))
        pick = draw(st.integers(0, 2 if pumpswap else 1))
        pick = 2 if pick == 1 and not pumpswap else pick
        if pick == 0:
            kind, num, den = layout.KIND_RAYDIUM_AMM_V4, draw(st.integers(0, 100)), 10_000
        elif pick == 1:
            rates = pump_rates[i] = tuple(draw(st.integers(0, 100)) for _ in range(3))
            kind, num, den = layout.KIND_PUMPSWAP, sum(rates), 10_000
        else:
            kind, num, den = layout.KIND_RAYDIUM_CPMM, draw(st.integers(0, 10_000)), 1_000_000
        pools.append((kind, a, b, min(ra, 2**63), min(rb, 2**63), num, den))
    model = costs.CostModel(
        cu_price_micro_lamports=draw(st.integers(0, 200_000)),
        tip_lamports=draw(st.integers(0, 100_000)),
        min_profit_lamports=draw(st.integers(0, 50_000)),
        min_profit_bps=draw(st.floats(0, 20)),
        depth_frac=draw(st.floats(0.001, 0.5)),
        search_iterations=draw(st.integers(5, 60)),
    )
    sol_usd = draw(st.floats(10, 1000))
    usd = {m: price[m] * sol_usd / 1e9 * draw(st.floats(0.97, 1.03)) for m in mints}
    balances = {m: draw(st.integers(0, 10**16)) for m in mints}
    base = draw(st.lists(st.sampled_from(mints), max_size=2, unique=True))
    cex = draw(st.lists(st.sampled_from(mints), max_size=n_tokens, unique=True))
    m = build_market(pools, base=base, cex=cex, usd=usd, balances=balances, model=model, sol_usd=sol_usd)
    for i, (lp, protocol, creator) in pump_rates.items():
        m.cache.pools_u[i, layout.U_PUMP_LP_BPS : layout.U_PUMP_CREATOR_BPS + 1] = (lp, protocol, creator)
    for i in range(n_pools):
        flags = draw(st.sampled_from([layout.FLAG_TRADABLE] * 4 + [0, layout.FLAG_SETTLING | 1]))
        layout.set_flags(m.cache, i, tradable=bool(flags & 1), settling=bool(flags & 2))
    for mint, t in m.table.token_index.items():
        layout.write_token(m.market, t, inventory_max=draw(st.sampled_from([0, balances[mint] + 10**9])))
    m.market[layout.M_FORCE_SEARCH] = float(draw(st.booleans()))
    return m


def _outputs(market):
    return market[layout.N_PARAMS : layout.TOKENS_OFFSET].copy()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markets(pumpswap=True))
def test_kernel_and_confirm_equal_reference(m):
    found = 0
    for pool in range(m.arrays.pools_f.shape[0]):
        best_k = detector.detect(m.cache.state, m.table.graph, pool)
        k_out = _outputs(m.market)
        opp_k = confirm_best(m.cache, m.table, pool, 30)
        best_r = ref.detect(m.cache.state, m.table.graph, pool)
        assert best_k == best_r
        # same algorithm, same float operations: bit-for-bit equal outputs
        assert np.array_equal(k_out, _outputs(m.market))
        opp_r = confirm_best(m.cache, m.table, pool, 30)
        assert opp_k == opp_r
        if opp_k is not None:
            found += 1
            assert opp_k.legs[0].amount_in == opp_k.amount_in
            assert all(leg.min_out <= leg.amount_out for leg in opp_k.legs)
            assert opp_k.expected_net_profit > 0
    best_k = detector.detect_all(m.cache.state, m.table.graph)
    k_out = _outputs(m.market)
    assert best_k == ref.detect_all(m.cache.state, m.table.graph)
    assert np.array_equal(k_out, _outputs(m.market))
    for token in range(len(m.table.mints)):
        best_k = detector.detect_token(m.cache.state, m.table.graph, token)
        k_out = _outputs(m.market)
        assert best_k == ref.detect_token(m.cache.state, m.table.graph, token)
        assert np.array_equal(k_out, _outputs(m.market))
        assert best_k < 0 or m.table.routes[best_k].route_type == 1  # CEX-DEX only


@settings(max_examples=60, deadline=None)
@given(markets())
def test_float_screen_tracks_exact_confirm(m):
    """When the exact confirm accepts, the kernel's float net is the exact net up to rounding units."""
    m.market[layout.M_FORCE_SEARCH] = 0.0
    for pool in range(m.arrays.pools_f.shape[0]):
        if detector.detect(*m.args(), pool) < 0:
            continue
        opp = confirm_best(m.cache, m.table, pool, 0)
        if opp is None:
            continue
        est = m.market[layout.O_NET_PROFIT]
        # each floor/ceil of the exact math loses < 1 unit of that leg's token (plus the fee ceil and
        # the floor of amount_in): value those units in the start token along the route
        slack = 3.0 + sum(3.0 * opp.amount_in / max(leg.amount_out, 1) for leg in opp.legs)
        assert abs(est - opp.expected_net_profit) <= slack + 1e-9 * m.market[layout.O_GROSS_OUT]


@settings(max_examples=60, deadline=None)
@given(markets(pumpswap=True))
def test_float_screen_of_pumpswap_legs_is_within_its_fee_model_error(m):
    """PumpSwap's fees sit on the quote side (on top of a buy's curve input, off a sell's output); the
    screen takes them off the input at keep = 1 - f: off by f^2 on buys, by at most f x (leg input /
    input reserve) <= f x depth_frac on sells, per leg, relative to the gross."""
    m.market[layout.M_FORCE_SEARCH] = 0.0
    depth = m.market[layout.M_DEPTH_FRAC]
    for pool in range(m.arrays.pools_f.shape[0]):
        if detector.detect(*m.args(), pool) < 0:
            continue
        opp = confirm_best(m.cache, m.table, pool, 0)
        if opp is None:
            continue
        est = m.market[layout.O_NET_PROFIT]
        slack = 3.0 + sum(3.0 * opp.amount_in / max(leg.amount_out, 1) for leg in opp.legs)
        model = 0.0
        for leg in opp.legs:
            if leg.kind == layout.KIND_PUMPSWAP:
                f = float(m.cache.pools_u[leg.pool, layout.U_FEE_NUM]) / 1e4
                model += f * f + f * depth
        assert abs(est - opp.expected_net_profit) <= slack + (model + 1e-9) * m.market[layout.O_GROSS_OUT]
