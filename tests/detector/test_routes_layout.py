"""Route generation, the pool -> routes CSR index, and the cache writers."""

from __future__ import annotations

import numpy as np
import pytest

from strategies import layout
from strategies import routes as R

CP = layout.KIND_RAYDIUM_CPMM
AMM = layout.KIND_RAYDIUM_AMM_V4


def test_two_leg_cycles_start_in_base_tokens_or_both():
    specs = [R.PoolSpec(CP, "SOL", "X"), R.PoolSpec(AMM, "X", "SOL"), R.PoolSpec(CP, "SOL", "X")]
    with_base = R.build_routes(specs, base_mints=("SOL",))
    # 3 pools on one pair: 3 * 2 ordered pairs, start SOL only
    assert with_base.n_routes == 6
    assert all(r.start_token == with_base.token_index["SOL"] for r in with_base.routes)
    no_base = R.build_routes(specs)
    assert no_base.n_routes == 12  # both start tokens
    for r in no_base.routes:
        a, b = r.legs
        assert a.token_in == r.start_token and a.token_out == b.token_in and b.token_out == r.start_token
        assert a.pool != b.pool


def test_three_leg_cycles_through_base_and_cex_routes():
    specs = [R.PoolSpec(CP, "SOL", "A"), R.PoolSpec(CP, "A", "B"), R.PoolSpec(AMM, "B", "SOL")]
    t = R.build_routes(specs, base_mints=("SOL",), cex_mints=("SOL", "A"))
    cycles = [r for r in t.routes if r.route_type == R.ROUTE_CYCLE]
    cex = [r for r in t.routes if r.route_type == R.ROUTE_CEX]
    assert sorted(tuple(leg.pool for leg in r.legs) for r in cycles) == [(0, 1, 2), (2, 1, 0)]
    for r in cycles:
        toks = [r.start_token] + [leg.token_out for leg in r.legs]
        assert toks[0] == toks[-1] == t.token_index["SOL"] and len(set(toks[:-1])) == 3
    # only pool 0 has both tokens priced on a CEX: one route per direction
    assert [(r.legs[0].pool, r.start_token, r.end_token) for r in cex] == [
        (0, t.token_index["SOL"], t.token_index["A"]),
        (0, t.token_index["A"], t.token_index["SOL"]),
    ]


def test_csr_index_lists_exactly_the_routes_touching_each_pool():
    specs = [
        R.PoolSpec(CP, "SOL", "A"),
        R.PoolSpec(AMM, "SOL", "A"),
        R.PoolSpec(CP, "A", "B"),
        R.PoolSpec(AMM, "B", "SOL"),
        R.PoolSpec(CP, "C", "D"),
    ]
    t = R.build_routes(specs, base_mints=("SOL",), cex_mints=("SOL", "A", "B"))
    for pool in range(len(specs)):
        expected = [r.route_id for r in t.routes if any(leg.pool == pool for leg in r.legs)]
        assert t.routes_of_pool(pool).tolist() == expected
    assert t.routes_of_pool(4).size == 0  # C/D pool: no cycle, no CEX price
    for mint, token in t.token_index.items():
        expected = [
            r.route_id
            for r in t.routes
            if r.route_type == R.ROUTE_CEX and token in (r.start_token, r.end_token)
        ]
        assert t.routes_of_token(token).tolist() == expected, mint
    assert t.routes_of_token(t.token_index["C"]).size == 0
    g = t.graph
    rows = g[g[R.G_ROUTES_OFF] : g[R.G_INDPTR_OFF]].reshape(-1, R.ROUTE_WIDTH)
    for r in t.routes:
        assert rows[r.route_id, R.R_META] & R.META_NLEGS_MASK == len(r.legs)
        assert rows[r.route_id, R.R_START] == r.start_token


def test_pool_blocks_list_the_csr_range_every_row_the_routes_read_and_copy_the_entries():
    specs = [
        R.PoolSpec(CP, "SOL", "A"),
        R.PoolSpec(AMM, "SOL", "A"),
        R.PoolSpec(CP, "A", "B"),
        R.PoolSpec(AMM, "B", "SOL"),
        R.PoolSpec(CP, "C", "D"),
    ]
    t = R.build_routes(specs, base_mints=("SOL",), cex_mints=("SOL", "A", "B"))
    g = t.graph
    heads_off = int(g[R.G_HEADS_OFF])
    assert (g.ctypes.data + 4 * heads_off) % 64 == 0  # one cache line per head row
    indptr = int(g[R.G_INDPTR_OFF])
    for pool in range(len(specs)):
        h = g[heads_off + pool * R.POOL_BLOCK_WIDTH : heads_off + (pool + 1) * R.POOL_BLOCK_WIDTH]
        lo, hi = int(g[indptr + pool]), int(g[indptr + pool + 1])
        assert (h[R.H_LO], h[R.H_HI]) == (lo, hi)
        # small pools carry a copy of their CSR entries right after the head row
        assert h[R.H_INLINE] == 1
        ids = int(g[R.G_IDS_OFF])
        inline = h[R.HEAD_WIDTH : R.HEAD_WIDTH + (hi - lo) * R.ROUTE_WIDTH]
        assert inline.tolist() == g[ids + lo * R.ROUTE_WIDTH : ids + hi * R.ROUTE_WIDTH].tolist()
        mine = [r for r in t.routes if any(leg.pool == pool for leg in r.legs)]
        n_p, n_t = int(h[R.H_N_POOLS]), int(h[R.H_N_TOKENS])
        assert sorted(h[R.H_ROWS : R.H_ROWS + n_p].tolist()) == sorted(
            {leg.pool for r in mine for leg in r.legs}
        )
        tokens = {tok for r in mine for tok in (r.start_token, r.end_token)}
        assert sorted(h[R.H_ROWS + n_p : R.H_ROWS + n_p + n_t].tolist()) == sorted(tokens)
    # legs are packed as pool << 1 | direction
    entries = g[int(g[R.G_IDS_OFF]) :][: int(g[indptr + len(specs)]) * R.ROUTE_WIDTH].reshape(
        -1, R.ROUTE_WIDTH
    )
    for row in entries:
        legs = t.routes[int(row[R.R_ID])].legs
        assert [(int(v) >> 1, int(v) & R.LEG_DIR_MASK) for v in row[R.R_LEG : R.R_LEG + len(legs)]] == [
            (leg.pool, leg.direction) for leg in legs
        ]


def test_bad_pool_specs_are_rejected():
    with pytest.raises(ValueError, match="identical mints"):
        R.build_routes([R.PoolSpec(CP, "A", "A")])
    with pytest.raises(ValueError, match="unknown pool kind"):
        R.build_routes([R.PoolSpec(99, "A", "B")])


def test_writers_version_latest_slot_wins_and_flags():
    arrays = layout.allocate(2, 2)
    layout.register_pool(arrays, 1, AMM, 0, 1)
    v0 = arrays.pools_i[1, layout.I_VERSION]
    assert not layout.is_usable(arrays, 1)
    assert layout.write_cp_pool(arrays, 1, 2**63 + 5, 7, 25, 10_000, slot=10, recv_ns=123)
    assert int(arrays.pools_u[1, layout.U_RES_A]) == 2**63 + 5  # u64 kept exactly
    assert arrays.pools_f[1, layout.F_FEE_KEEP] == 1 - 25 / 10_000
    assert arrays.pools_i[1, layout.I_VERSION] == v0 + 1
    assert not layout.write_cp_pool(arrays, 1, 1, 1, 25, 10_000, slot=9, recv_ns=999)  # older slot
    assert arrays.pools_i[1, layout.I_RECV_NS] == 123 and arrays.pools_u[1, layout.U_RES_B] == 7
    assert layout.write_cp_pool(arrays, 1, 3, 4, 25, 10_000, slot=10, recv_ns=124)  # same slot: write
    assert arrays.pools_f[1, layout.F_GATE] == 0.0
    layout.set_flags(arrays, 1, tradable=True, settling=False)
    assert layout.is_usable(arrays, 1) and arrays.pools_i[1, layout.I_VERSION] == v0 + 3
    assert arrays.pools_f[1, layout.F_GATE] == float(AMM)  # the kernel's view of the gate
    layout.set_flags(arrays, 1, tradable=True, settling=True)
    assert not layout.is_usable(arrays, 1) and arrays.pools_f[1, layout.F_GATE] == 0.0
    # pools_f and market are views into the one state vector the kernel reads
    assert np.shares_memory(arrays.pools_f, arrays.state) and np.shares_memory(arrays.market, arrays.state)
    with pytest.raises(ValueError, match="bad fee"):
        layout.write_cp_pool(arrays, 1, 3, 4, 10, 10, slot=11, recv_ns=0)
    assert np.all(arrays.pools_i[0] == 0)  # other rows untouched


def test_market_vector_tokens_and_prices():
    market = layout.allocate(4, 3).market
    assert layout.n_tokens_of(market) == 3 and market[layout.O_ROUTE] == -1.0
    layout.write_token(market, 2, balance=5, usd_per_unit=2e-6)
    assert market[layout.token_slot(2, layout.T_BALANCE)] == 5.0
    assert layout.lamports_per_unit(market, 2) == 0.0  # no SOL price yet
    market[layout.M_SOL_USD] = 200.0
    assert layout.lamports_per_unit(market, 2) == pytest.approx(10.0)
    layout.write_token(market, 0, is_sol=True)
    assert layout.lamports_per_unit(market, 0) == 1.0


def test_kernel_equals_reference_on_inline_and_csr_pools():
    """Dense pools (more than INLINE_ROUTES routes) are evaluated from the CSR, the others from the copy in
    their block: both paths agree bit for bit with the reference, which reads the CSR."""
    from detector_market import build_market

    from strategies import detector
    from strategies import reference_detector as ref

    dense = [
        (CP if i % 2 else AMM, "SOL", "A", 10**12, 10**12 + i * 3 * 10**9, 25, 10_000) for i in range(10)
    ]
    sparse = [
        (CP, "SOL", "B", 10**12, 2 * 10**12, 2_500, 1_000_000),
        (AMM, "B", "SOL", 2 * 10**12, 10**12 + 10**10, 25, 10_000),
    ]
    m = build_market(dense + sparse, base=("SOL",))
    state, g = m.args()
    heads_off = int(g[R.G_HEADS_OFF])
    inline = [int(g[heads_off + p * R.POOL_BLOCK_WIDTH + R.H_INLINE]) for p in range(len(dense + sparse))]
    assert inline == [0] * len(dense) + [1] * len(sparse)
    out = slice(layout.N_PARAMS, layout.TOKENS_OFFSET)
    found = []
    for pool in range(len(inline)):
        best = detector.detect(state, g, pool)
        got = state[out].copy()
        assert ref.detect(state, g, pool) == best
        assert np.array_equal(got, state[out])
        assert got[layout.O_EVALUATED - layout.N_PARAMS] == m.table.routes_of_pool(pool).size
        found.append(best >= 0)
    assert any(found[: len(dense)]) and any(found[len(dense) :])
