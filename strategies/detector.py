"""The jitted arbitrage detector: float64 screening and sizing over the cache arrays.

Entry points (compiled eagerly with fixed signatures, `cache=True`):

* `detect(pools_f, pools_i, graph, market, pool) -> int` — incremental: evaluates only the routes that
  touch `pool` (the CSR index in `graph`), writes the best candidate into the market vector's output
  slots (`layout.O_*`) and returns its route id, or -1. Allocates nothing.
* `detect_all(pools_f, pools_i, graph, market) -> int` — same over every route (start-up, CEX price
  ticks, periodic refresh).
* `direct_detect()` — `detect`'s compiled entry point, which skips the dispatcher's type resolution
  (about half the call overhead at this size); same arguments, no type checks: pass exactly
  C-contiguous float64[:, :], int64[:, :], int64[:], float64[:], int.

Per route: every leg's pool must be usable (tradable, not settling) and priced; the transaction cost
(signatures, priority fee on the estimated CU limit, tip) is valued in the start token at the current
SOL price. Sizing: for all-constant-product routes the composition of the legs is a Möbius map
out(x) = K x / (1 + E x), so the optimum of ratio*out(x) - x is x* = (sqrt(ratio K) - 1) / E (closed
form, also for 3 legs); otherwise a golden-section search with a fixed iteration count on the concave
profit over [0, cap]. Caps: start-token balance, max notional, every leg's input <= depth_frac x that
leg's input reserve, and (CEX-DEX) the bought token's inventory limit. Thresholds: net >= the absolute
minimum (lamports, converted) and >= min bps of amount_in. The best route is the one with the highest
net profit valued in lamports; ties keep the first evaluated.

`strategies.reference_detector` is the same algorithm in plain Python, operation for operation, so
the two agree bit for bit (property-tested).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from strategies import layout as L
from strategies import routes as R

INVPHI = 0.6180339887498949  # (sqrt(5) - 1) / 2, golden-section step

_SKIP = (False, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

_DETECT_SIG = "int64(float64[:, ::1], int64[:, ::1], int64[::1], float64[::1], int64)"
_DETECT_ALL_SIG = "int64(float64[:, ::1], int64[:, ::1], int64[::1], float64[::1])"


@njit(cache=True, nogil=True)
def lamports_per_unit(market: Any, token: Any) -> float:
    """Lamport value of one raw unit of `token` (1.0 for SOL; 0.0 when no price)."""
    base = L.TOKENS_OFFSET + token * L.TOKEN_WIDTH
    if market[base + L.T_IS_SOL] != 0.0:
        return 1.0
    sol = market[L.M_SOL_USD]
    usd = market[base + L.T_USD_PER_UNIT]
    if sol <= 0.0 or usd <= 0.0:
        return 0.0
    return float(usd * 1e9 / sol)


@njit(cache=True, nogil=True)
def leg_out(pools_f: Any, pools_i: Any, pool: Any, direction: Any, x: Any) -> float:
    """Float output of one leg for input `x`; -1.0 for a pool kind without a float model yet."""
    kind = pools_i[pool, L.I_KIND]
    if kind == L.KIND_RAYDIUM_CPMM or kind == L.KIND_RAYDIUM_AMM_V4:
        if direction == R.DIR_A_TO_B:
            r_in = pools_f[pool, L.F_RES_A]
            r_out = pools_f[pool, L.F_RES_B]
        else:
            r_in = pools_f[pool, L.F_RES_B]
            r_out = pools_f[pool, L.F_RES_A]
        gx = pools_f[pool, L.F_FEE_KEEP] * x
        return float(r_out * gx / (r_in + gx))
    return -1.0


@njit(cache=True, nogil=True)
def chain_out(pools_f: Any, pools_i: Any, graph: Any, ro: Any, n_legs: Any, x: Any) -> float:
    """Float output of the route whose row starts at `ro` for input `x`."""
    y = x
    for k in range(n_legs):
        y = leg_out(pools_f, pools_i, graph[ro + R.R_POOL + k], graph[ro + R.R_DIR + k], y)
    return float(y)


@njit(cache=True, nogil=True)
def evaluate_route(pools_f: Any, pools_i: Any, graph: Any, market: Any, route: Any) -> Any:
    """(ok, amount_in, gross_out, net, net_lamports, cu_limit, cost_token) of one route."""
    ro = graph[R.G_ROUTES_OFF] + route * R.ROUTE_WIDTH
    n_legs = graph[ro + R.R_NLEGS]
    start = graph[ro + R.R_START]
    end = graph[ro + R.R_END]
    sbase = L.TOKENS_OFFSET + start * L.TOKEN_WIDTH
    cap = min(market[sbase + L.T_BALANCE], market[sbase + L.T_MAX_NOTIONAL])
    if cap <= 0.0:
        return _SKIP
    depth = market[L.M_DEPTH_FRAC]
    cu = market[L.M_CU_BASE]
    k_coef = 1.0
    e_coef = 0.0
    all_cp = True
    for k in range(n_legs):
        pool = graph[ro + R.R_POOL + k]
        if (pools_i[pool, L.I_FLAGS] & L.USABLE_MASK) != L.FLAG_TRADABLE:
            return _SKIP
        kind = pools_i[pool, L.I_KIND]
        cu += market[L.M_CU_LEG + kind]
        if kind == L.KIND_RAYDIUM_CPMM or kind == L.KIND_RAYDIUM_AMM_V4:
            if graph[ro + R.R_DIR + k] == R.DIR_A_TO_B:
                r_in = pools_f[pool, L.F_RES_A]
                r_out = pools_f[pool, L.F_RES_B]
            else:
                r_in = pools_f[pool, L.F_RES_B]
                r_out = pools_f[pool, L.F_RES_A]
            if r_in <= 0.0 or r_out <= 0.0:
                return _SKIP
            y_lim = depth * r_in
            if k == 0:
                cap = min(cap, y_lim)
            elif k_coef > e_coef * y_lim:
                cap = min(cap, y_lim / (k_coef - e_coef * y_lim))
            gk = pools_f[pool, L.F_FEE_KEEP] * k_coef
            k_coef = gk * r_out / r_in
            e_coef = e_coef + gk / r_in
        else:
            # CLMM legs plug in here (float kernel over packed ticks); unmodelled until then.
            all_cp = False
            return _SKIP
    ratio = 1.0
    if graph[ro + R.R_TYPE] == R.ROUTE_CEX:
        ebase = L.TOKENS_OFFSET + end * L.TOKEN_WIDTH
        usd_in = market[sbase + L.T_USD_PER_UNIT]
        usd_out = market[ebase + L.T_USD_PER_UNIT]
        if usd_in <= 0.0 or usd_out <= 0.0:
            return _SKIP
        ratio = usd_out / usd_in
        inv_max = market[ebase + L.T_INV_MAX]
        if inv_max > 0.0:
            room = inv_max - market[ebase + L.T_BALANCE]
            if room <= 0.0:
                return _SKIP
            if k_coef > e_coef * room:
                cap = min(cap, room / (k_coef - e_coef * room))
    lpu = lamports_per_unit(market, start)
    if lpu <= 0.0:
        return _SKIP
    cu = min(cu, market[L.M_CU_MAX])
    fee_lamports = (
        market[L.M_SIGNATURE_LAMPORTS]
        + math.ceil(market[L.M_CU_PRICE_MICRO] * cu / 1e6)
        + market[L.M_TIP_LAMPORTS]
    )
    cost = fee_lamports / lpu
    if all_cp and market[L.M_FORCE_SEARCH] == 0.0:
        kk = ratio * k_coef
        if kk <= 1.0:
            return _SKIP
        x = min((math.sqrt(kk) - 1.0) / e_coef, cap)
    else:
        a = 0.0
        b = cap
        c = b - INVPHI * (b - a)
        d = a + INVPHI * (b - a)
        fc = ratio * chain_out(pools_f, pools_i, graph, ro, n_legs, c) - c
        fd = ratio * chain_out(pools_f, pools_i, graph, ro, n_legs, d) - d
        for _ in range(int(market[L.M_SEARCH_ITERS])):
            if fc > fd:
                b = d
                d = c
                fd = fc
                c = b - INVPHI * (b - a)
                fc = ratio * chain_out(pools_f, pools_i, graph, ro, n_legs, c) - c
            else:
                a = c
                c = d
                fc = fd
                d = a + INVPHI * (b - a)
                fd = ratio * chain_out(pools_f, pools_i, graph, ro, n_legs, d) - d
        x = 0.5 * (a + b)
    if x < 1.0:
        return _SKIP
    gross = ratio * chain_out(pools_f, pools_i, graph, ro, n_legs, x)
    net = gross - x - cost
    if net <= 0.0 or net < market[L.M_MIN_PROFIT_LAMPORTS] / lpu:
        return _SKIP
    if net * 1e4 < market[L.M_MIN_PROFIT_BPS] * x:
        return _SKIP
    return (True, x, gross, net, net * lpu, cu, cost)


@njit(cache=True, nogil=True)
def _scan(pools_f: Any, pools_i: Any, graph: Any, market: Any, lo: Any, hi: Any, use_index: Any) -> Any:
    ids = graph[R.G_IDS_OFF]
    best = -1
    best_x = 0.0
    best_gross = 0.0
    best_net = 0.0
    best_net_l = 0.0
    best_cu = 0.0
    best_cost = 0.0
    for j in range(lo, hi):
        route = graph[ids + j] if use_index else j
        ok, x, gross, net, net_l, cu, cost = evaluate_route(pools_f, pools_i, graph, market, route)
        if ok and (best < 0 or net_l > best_net_l):
            best = route
            best_x = x
            best_gross = gross
            best_net = net
            best_net_l = net_l
            best_cu = cu
            best_cost = cost
    market[L.O_ROUTE] = float(best)
    market[L.O_AMOUNT_IN] = best_x
    market[L.O_GROSS_OUT] = best_gross
    market[L.O_NET_PROFIT] = best_net
    market[L.O_NET_LAMPORTS] = best_net_l
    market[L.O_CU_LIMIT] = best_cu
    market[L.O_COST_TOKEN] = best_cost
    market[L.O_EVALUATED] = float(hi - lo)
    return best


@njit(_DETECT_SIG, cache=True, nogil=True)
def detect(pools_f: Any, pools_i: Any, graph: Any, market: Any, pool: Any) -> int:
    """Evaluate the routes touching `pool`; best route id (or -1), details in market[O_*]."""
    ip = graph[R.G_INDPTR_OFF]
    return _scan(pools_f, pools_i, graph, market, graph[ip + pool], graph[ip + pool + 1], True)  # type: ignore[no-any-return]


@njit(_DETECT_ALL_SIG, cache=True, nogil=True)
def detect_all(pools_f: Any, pools_i: Any, graph: Any, market: Any) -> int:
    """Evaluate every route; best route id (or -1), details in market[O_*]."""
    return _scan(pools_f, pools_i, graph, market, 0, graph[R.G_N_ROUTES], False)  # type: ignore[no-any-return]


def direct_detect() -> Any:
    """`detect`'s compiled entry point (no dispatcher type resolution; exact argument types only)."""
    return detect.overloads[detect.signatures[0]].entry_point  # type: ignore[attr-defined]


def warm() -> None:
    """Load (or compile into numba's cache) every kernel of this module."""
    specs = [
        R.PoolSpec(L.KIND_RAYDIUM_CPMM, "A", "B"),
        R.PoolSpec(L.KIND_RAYDIUM_AMM_V4, "A", "B"),
    ]
    table = R.build_routes(specs, base_mints=("A",), cex_mints=("A", "B"))
    arrays = L.allocate(len(specs))
    market = L.allocate_market(len(table.mints))
    for i in range(len(specs)):
        L.register_pool(arrays, i, specs[i].kind, 0, 1)
        L.write_cp_pool(arrays, i, 10**12, 10**12 + i * 10**10, 25, 10_000, 1, 0)
        L.set_flags(arrays, i, tradable=True, settling=False)
    L.write_token(market, 0, balance=10**9, max_notional=10**9, is_sol=True)
    detect(arrays.pools_f, arrays.pools_i, table.graph, market, np.int64(0))
    detect_all(arrays.pools_f, arrays.pools_i, table.graph, market)
    market[L.M_FORCE_SEARCH] = 1.0
    detect(arrays.pools_f, arrays.pools_i, table.graph, market, np.int64(0))
