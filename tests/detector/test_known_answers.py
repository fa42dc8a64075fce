"""Hand-computed cases: closed-form optimum, costs, thresholds, fee/cost domination, gates, caps."""

from __future__ import annotations

import math

import pytest

from strategies import costs, detector, layout
from strategies import routes as R
from strategies.confirm import confirm_best, exact_leg_out

AMM = layout.KIND_RAYDIUM_AMM_V4
CPMM = layout.KIND_RAYDIUM_CPMM
E12 = 10**12


def run(m, pool: int = 0, slippage_bps: int = 0):
    best = detector.detect(*m.args(), pool)
    return best, confirm_best(m.cache, m.table, pool, slippage_bps)


def exact_profit(m, route_id: int, amount: int) -> int:
    x = amount
    for leg in m.table.routes[route_id].legs:
        x = exact_leg_out(m.arrays, leg.pool, leg.direction, x)
    return x - amount


def two_pools(make_market, rb1: int, fee=(25, 10_000), kind=AMM, **kw):
    return make_market(
        [(kind, "SOL", "TOK", E12, E12, *fee), (kind, "SOL", "TOK", E12, rb1, *fee)], base=("SOL",), **kw
    )


def test_identical_pools_have_no_opportunity(make_market):
    m = two_pools(make_market, E12)
    best, opp = run(m)
    assert best == -1 and opp is None
    assert m.market[layout.O_ROUTE] == -1.0
    assert m.market[layout.O_EVALUATED] == 2.0  # both 2-leg cycles starting in SOL


def test_two_pool_optimum_matches_textbook_closed_form(make_market):
    m = two_pools(make_market, 1_020_000_000_000)
    best, opp = run(m)
    assert opp is not None
    route = m.table.routes[best]
    # buy TOK where it is cheap (pool 1 has more TOK), sell it in pool 0
    assert [leg.pool for leg in route.legs] == [1, 0]
    g = 1 - 25 / 10_000
    r1i, r1o, r2i, r2o = E12, 1_020_000_000_000, E12, E12
    x_star = (math.sqrt(g * g * r1i * r1o * r2i * r2o) - r1i * r2i) / (g * r2i + g * g * r1o)
    assert m.market[layout.O_AMOUNT_IN] == pytest.approx(x_star, rel=1e-12)
    assert opp.amount_in == math.floor(x_star)
    # exact integer profit at the chosen size beats nearby sizes (the optimum is real, not a float artefact)
    p0 = exact_profit(m, best, opp.amount_in)
    for f in (0.99, 0.995, 1.005, 1.01):
        assert p0 >= exact_profit(m, best, int(opp.amount_in * f))
    assert opp.expected_net_profit == p0 - opp.cost_token
    assert opp.slot == 100 and opp.recv_ns == 1_000  # trigger pool 0's update


def test_cost_model_cu_priority_fee_and_tip(make_market):
    model = costs.CostModel(cu_price_micro_lamports=1_000, tip_lamports=10_000)
    m = two_pools(make_market, 1_020_000_000_000, model=model)
    _, opp = run(m)
    assert opp is not None
    assert opp.cu_limit == 20_000 + 45_000 + 45_000
    # 5,000 per signature + ceil(1,000 x 110,000 / 1e6) = 110 + tip
    assert opp.cost_lamports == 5_000 + 110 + 10_000
    assert opp.cost_token == opp.cost_lamports  # start token is SOL: 1 unit = 1 lamport
    assert costs.priority_fee_lamports(1, 1) == 1  # ceil, never floor
    assert costs.priority_fee_lamports(999_999, 1) == 1
    assert costs.priority_fee_lamports(1_000_001, 1) == 2


def test_fee_dominated_mispricing_is_not_an_opportunity(make_market):
    # 0.4 % price gap, 0.25 % fee on each of two legs: gamma^2 * 1.004 < 1
    m = two_pools(make_market, 1_004_000_000_000, model=costs.CostModel(signatures=0))
    m.market[layout.M_SIGNATURE_LAMPORTS] = 0.0
    assert run(m) == (-1, None)
    # control: the same gap with 0.01 % fees is an opportunity
    m = two_pools(make_market, 1_004_000_000_000, fee=(1, 10_000))
    best, opp = run(m)
    assert best >= 0 and opp is not None


def test_cost_dominated_small_pools(make_market):
    # 1 SOL pools with a 0.3 % gap: gross profit ~ R (sqrt(1.003) - 1)^2 ~ 2,000 lamports < 5,000 fee
    pools = [
        (AMM, "SOL", "TOK", 10**9, 10**9, 1, 10_000),
        (AMM, "SOL", "TOK", 10**9, 1_003_000_000, 1, 10_000),
    ]
    m = make_market(pools, base=("SOL",))
    assert m.market[layout.M_SIGNATURE_LAMPORTS] == 5_000.0
    assert run(m) == (-1, None)
    m.market[layout.M_SIGNATURE_LAMPORTS] = 0.0
    _, opp = run(m)
    assert opp is not None and 0 < opp.expected_net_profit + opp.cost_token < 5_000


def test_just_below_threshold(make_market):
    m = two_pools(make_market, 1_020_000_000_000)
    _, opp = run(m)
    assert opp is not None
    n = opp.expected_net_profit
    m.market[layout.M_MIN_PROFIT_LAMPORTS] = float(n)
    _, at = run(m)
    assert at is not None and at.expected_net_profit == n
    m.market[layout.M_MIN_PROFIT_LAMPORTS] = float(n + 1)
    assert run(m)[1] is None
    # relative threshold: exactly at the achieved bps passes, just above does not
    m.market[layout.M_MIN_PROFIT_LAMPORTS] = 0.0
    bps = n * 10_000 / opp.amount_in
    m.market[layout.M_MIN_PROFIT_BPS] = bps * (1 - 1e-9)
    assert run(m)[1] is not None
    m.market[layout.M_MIN_PROFIT_BPS] = bps * (1 + 1e-6)
    assert run(m)[1] is None


def test_settling_pool_never_yields_phantom_arbitrage(make_market):
    m = two_pools(make_market, 1_020_000_000_000)
    layout.set_flags(m.arrays, 1, tradable=True, settling=True)
    assert run(m, pool=1) == (-1, None)
    layout.set_flags(m.arrays, 1, tradable=False, settling=False)
    assert run(m, pool=1) == (-1, None)
    layout.set_flags(m.arrays, 1, tradable=True, settling=False)
    assert run(m, pool=1)[1] is not None


def test_caps_balance_and_depth(make_market):
    m = two_pools(make_market, 1_020_000_000_000, balances={"SOL": 1_000_000_000})
    _, opp = run(m)
    assert opp is not None and opp.amount_in == 1_000_000_000
    m = two_pools(make_market, 1_020_000_000_000)
    m.market[layout.M_DEPTH_FRAC] = 0.001
    _, opp = run(m)
    assert opp is not None and opp.amount_in <= E12 * 0.001
    # second leg's input (TOK) is also capped at 0.1 % of pool 0's TOK reserve
    assert opp.legs[1].amount_in <= E12 * 0.001 + 1


def test_min_outs_slippage_and_break_even(make_market):
    m = two_pools(make_market, 1_020_000_000_000)
    _, opp = run(m, slippage_bps=50)
    assert opp is not None
    first, last = opp.legs
    assert first.min_out == first.amount_out * 9_950 // 10_000
    assert last.min_out == max(last.amount_out * 9_950 // 10_000, opp.amount_in + opp.cost_token)
    assert last.amount_in == first.amount_out


def test_cex_dex_one_leg_closed_form_and_inventory_cap(make_market):
    # pool prices SOL at 150 USDC, CEX at 153: buy SOL with USDC on the DEX
    pools = [(CPMM, "SOL", "USDC", 1_000 * 10**9, 150_000 * 10**6, 2_500, 1_000_000)]
    usd = {"SOL": 153.0 / 1e9, "USDC": 1.0 / 1e6}
    m = make_market(pools, cex=("SOL", "USDC"), usd=usd, sol_usd=153.0)
    best, opp = run(m)
    assert opp is not None and opp.route_type == R.ROUTE_CEX
    assert (opp.start_token, opp.end_token) == (m.table.token_index["USDC"], m.table.token_index["SOL"])
    g = 1 - 0.0025
    p = usd["SOL"] / usd["USDC"]
    r_in, r_out = 150_000 * 10**6, 1_000 * 10**9
    x_star = (math.sqrt(p * g * r_in * r_out) - r_in) / g
    assert m.market[layout.O_AMOUNT_IN] == pytest.approx(x_star, rel=1e-12)
    value = math.floor(opp.amount_out * p)
    assert opp.expected_net_profit == value - opp.amount_in - opp.cost_token
    # cost in USDC units: 5,000 lamports + CU fees at 153 USD/SOL
    assert opp.cost_token == math.ceil(opp.cost_lamports / (usd["USDC"] * 1e9 / 153.0))
    # inventory limit on SOL: the bought amount stays within the room left
    sol = m.table.token_index["SOL"]
    room = 2 * 10**9
    layout.write_token(m.market, sol, inventory_max=10**15 + room)
    _, capped = run(m)
    assert capped is not None and capped.amount_out <= room + 1
    # a CEX tick re-prices the token's CEX-DEX routes without a pool update
    layout.write_token(m.market, sol, inventory_max=0, usd_per_unit=150.0 / 1e9)  # now at the pool price
    assert detector.detect_token(*m.args(), sol) == -1
    layout.write_token(m.market, sol, usd_per_unit=153.0 / 1e9)
    assert detector.detect_token(*m.args(), sol) == m.table.routes[best].route_id
    # no CEX price -> no CEX route
    layout.write_token(m.market, sol, usd_per_unit=0.0)
    assert run(m) == (-1, None)


def test_three_leg_cycle_closed_form_is_optimal_and_matches_search(make_market):
    pools = [
        (AMM, "SOL", "A", E12, 2 * E12, 25, 10_000),
        (CPMM, "A", "B", 2 * E12, 3 * E12, 2_500, 1_000_000),
        (AMM, "B", "SOL", 3 * E12, 1_030_000_000_000, 25, 10_000),
    ]
    m = make_market(pools, base=("SOL",))
    best, opp = run(m)
    assert opp is not None and len(opp.legs) == 3
    assert [leg.pool for leg in opp.legs] == [0, 1, 2]
    p0 = exact_profit(m, best, opp.amount_in)
    for f in (0.98, 0.995, 1.005, 1.02):
        assert p0 >= exact_profit(m, best, int(opp.amount_in * f))
    closed = m.market[layout.O_AMOUNT_IN]
    m.market[layout.M_FORCE_SEARCH] = 1.0
    assert detector.detect(*m.args(), 0) == best
    assert m.market[layout.O_AMOUNT_IN] == pytest.approx(closed, rel=1e-6)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 0.0])
def test_bad_prices_and_balances_never_crash_nor_trade(make_market, bad):
    pools = [(CPMM, "SOL", "USDC", 1_000 * 10**9, 150_000 * 10**6, 2_500, 1_000_000)]
    usd = {"SOL": 153.0 / 1e9, "USDC": 1.0 / 1e6}
    for field in ("sol_usd", "usdc_price", "balance"):
        m = make_market(pools, cex=("SOL", "USDC"), usd=usd, sol_usd=153.0)
        usdc = m.table.token_index["USDC"]
        if field == "sol_usd":
            m.market[layout.M_SOL_USD] = bad
        elif field == "usdc_price":
            m.market[layout.token_slot(usdc, layout.T_USD_PER_UNIT)] = bad
        else:
            m.market[layout.token_slot(usdc, layout.T_BALANCE)] = bad
        _, opp = run(m)
        if field == "balance" and bad == float("inf"):
            # an infinite balance caps nothing: the max notional still bounds the trade
            assert opp is None or opp.amount_in <= m.market[layout.token_slot(usdc, layout.T_MAX_NOTIONAL)]
        else:
            assert opp is None or opp.start_token != usdc, field
