"""Pure-Python reference of `strategies.detector`: the same algorithm, operation for operation.

Same routes (the packed `graph`), same incremental evaluation (only the routes touching the updated
pool), same float64 sizing (Möbius closed form for all-constant-product routes, golden-section search
otherwise), same caps, costs and thresholds, same tie rule. It reads the same arrays and writes the same
output slots, so property tests can demand bit-for-bit agreement with the kernel; benchmarks use it as
the same-algorithm baseline.
"""

from __future__ import annotations

import math

from strategies import layout as L
from strategies import routes as R
from strategies.venues.cp_kernels import cp_out_ref
from strategies.venues.whirlpool_kernels import wp_swap_in

_WP_SWAP_IN = wp_swap_in.py_func  # the kernel's own code, run by the interpreter

INVPHI = 0.6180339887498949

_Result = tuple[bool, float, float, float, float, float, float]
_SKIP: _Result = (False, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def lamports_per_unit(state: L.F64Array, token: int) -> float:
    """Lamport value of one raw unit of `token` (1.0 for SOL; 0.0 when no price)."""
    base = L.TOKENS_OFFSET + token * L.TOKEN_WIDTH
    if state[base + L.T_IS_SOL] != 0.0:
        return 1.0
    sol = state[L.M_SOL_USD]
    usd = state[base + L.T_USD_PER_UNIT]
    if not (sol > 0.0 and usd > 0.0):
        return 0.0
    return float(usd * 1e9 / sol)


def _pool_base(state: L.F64Array, pool: int) -> int:
    return int(state[L.M_POOLS_OFFSET]) + pool * L.POOL_F_WIDTH


def leg_out(state: L.F64Array, pool: int, direction: int, x: float) -> float:
    """Float output of one constant-product leg for input `x`."""
    pb = _pool_base(state, pool)
    if direction == R.DIR_A_TO_B:
        r_in = state[pb + L.F_RES_A]
        r_out = state[pb + L.F_RES_B]
    else:
        r_in = state[pb + L.F_RES_B]
        r_out = state[pb + L.F_RES_A]
    return float(cp_out_ref(x, r_in, r_out, state[pb + L.F_FEE_KEEP]))


def _leg(graph: L.I32Array, ro: int, k: int) -> tuple[int, int]:
    """(pool row, direction) of leg k of the route row at `ro` (packed as pool << 1 | direction)."""
    leg = int(graph[ro + R.R_LEG + k])
    return leg >> 1, leg & R.LEG_DIR_MASK


def chain_out(state: L.F64Array, graph: L.I32Array, ro: int, n_legs: int, x: float) -> float:
    """Float output of the route whose row starts at `ro` for input `x`."""
    y = x
    for k in range(n_legs):
        y = leg_out(state, *_leg(graph, ro, k), y)
    return y


def _leg_state(state: L.F64Array, graph: L.I32Array, ro: int, k: int) -> tuple[float, float, float, float]:
    """(r_in, 1/r_in, r_out, fee_keep) of leg k of the route row at `ro` (CLMM: virtual reserves)."""
    pool, direction = _leg(graph, ro, k)
    pb = _pool_base(state, pool)
    if int(state[pb + L.F_GATE]) == L.KIND_ORCA_WHIRLPOOL:
        # virtual reserves at the current price (a: L / sqrt P, b: L sqrt P), for the depth cap
        sp = state[pb + L.F_SQRT_PRICE]
        liq = state[pb + L.F_LIQUIDITY]
        if direction == R.DIR_A_TO_B:
            r_in, r_out = liq / sp, liq * sp
        else:
            r_in, r_out = liq * sp, liq / sp
        return r_in, 1.0 / r_in, r_out, state[pb + L.F_FEE_KEEP]
    if direction == R.DIR_A_TO_B:
        return (
            state[pb + L.F_RES_A],
            state[pb + L.F_INV_RES_A],
            state[pb + L.F_RES_B],
            state[pb + L.F_FEE_KEEP],
        )
    return state[pb + L.F_RES_B], state[pb + L.F_INV_RES_B], state[pb + L.F_RES_A], state[pb + L.F_FEE_KEEP]


def route_out(state: L.F64Array, graph: L.I32Array, ro: int, x: float) -> tuple[float, int]:
    """(float output, initialized ticks crossed) of the route row at `ro`, any pool kinds; -1.0 output
    when a CLMM leg runs past its tick arrays. CLMM legs run `whirlpool_kernels.wp_swap_in`'s plain
    Python function (`py_func`), the very code the kernel compiles."""
    ticks_off = int(state[L.M_TICKS_OFFSET])
    rows = int(state[L.M_TICKS_ROWS])
    ticks = state[ticks_off : ticks_off + rows * L.TICK_WIDTH].reshape((rows, L.TICK_WIDTH))
    y = x
    crossed = 0
    for k in range(int(graph[ro + R.R_META]) & R.META_NLEGS_MASK):
        pool, direction = _leg(graph, ro, k)
        pb = _pool_base(state, pool)
        a_to_b = direction == R.DIR_A_TO_B
        if int(state[pb + L.F_GATE]) == L.KIND_ORCA_WHIRLPOOL:
            row = int(state[pb + L.F_TICKS_ROW])
            out, _sp, steps = _WP_SWAP_IN(
                ticks,
                row,
                row + int(state[pb + L.F_TICKS_N]),
                int(state[pb + L.F_TICK_CURRENT]),
                state[pb + L.F_SQRT_PRICE],
                state[pb + L.F_LIQUIDITY],
                state[pb + L.F_FEE_RATE],
                a_to_b,
                state[pb + L.F_END_SQRT_AB] if a_to_b else state[pb + L.F_END_SQRT_BA],
                y,
            )
            if out < 0.0:
                return -1.0, crossed
            crossed += int(steps) - 1
            y = out
        else:
            y = leg_out(state, *_leg(graph, ro, k), y)
    return float(y), crossed


def _golden_section(
    state: L.F64Array, graph: L.I32Array, ro: int, n_legs: int, ratio: float, cap: float, clmm: bool
) -> tuple[float, float, float, int]:
    """(x, ratio * out(x), out(x), ticks crossed at x) after a fixed-iteration golden-section search of
    ratio*out(x) - x on [0, cap]."""

    def out(t: float) -> tuple[float, int]:
        return route_out(state, graph, ro, t) if clmm else (chain_out(state, graph, ro, n_legs, t), 0)

    a = 0.0
    b = cap
    c = b - INVPHI * (b - a)
    d = a + INVPHI * (b - a)
    fc = ratio * out(c)[0] - c
    fd = ratio * out(d)[0] - d
    for _ in range(max(int(state[L.M_SEARCH_ITERS]), 0)):
        if fc > fd:
            b = d
            d = c
            fd = fc
            c = b - INVPHI * (b - a)
            fc = ratio * out(c)[0] - c
        else:
            a = c
            c = d
            fc = fd
            d = a + INVPHI * (b - a)
            fd = ratio * out(d)[0] - d
    x = 0.5 * (a + b)
    y, crossed = out(x)
    return x, ratio * y, y, crossed


def evaluate_route(state: L.F64Array, graph: L.I32Array, route: int) -> _Result:
    """(ok, amount_in, gross_out, net, net_lamports, cu_limit, cost_token) of one route."""
    ro = int(graph[R.G_ROUTES_OFF]) + route * R.ROUTE_WIDTH
    meta = int(graph[ro + R.R_META])
    if meta & R.META_DISABLED:
        return _SKIP
    n_legs = meta & R.META_NLEGS_MASK
    start = int(graph[ro + R.R_START])
    end = int(graph[ro + R.R_END])
    sbase = L.TOKENS_OFFSET + start * L.TOKEN_WIDTH
    cap = min(state[sbase + L.T_BALANCE], state[sbase + L.T_MAX_NOTIONAL])
    if not cap > 0.0:  # also rejects NaN
        return _SKIP
    cu = state[L.M_CU_BASE]
    k_coef = 1.0
    e_coef = 0.0
    has_clmm = False
    for k in range(n_legs):
        pool, direction = _leg(graph, ro, k)
        pb = _pool_base(state, pool)
        kind = int(state[pb + L.F_GATE])  # 0 unless tradable and not settling
        if kind == L.KIND_ORCA_WHIRLPOOL:
            has_clmm = True
            cu += state[L.M_CU_LEG + kind]
            sp = state[pb + L.F_SQRT_PRICE]
            if not (sp > 0.0 and state[pb + L.F_LIQUIDITY] > 0.0):
                return _SKIP
            if direction == R.DIR_A_TO_B:
                k_coef = k_coef * (state[pb + L.F_FEE_KEEP] * sp * sp)
            else:
                k_coef = k_coef * (state[pb + L.F_FEE_KEEP] / (sp * sp))
        elif kind == L.KIND_RAYDIUM_CPMM or kind == L.KIND_RAYDIUM_AMM_V4 or kind == L.KIND_PUMPSWAP:
            cu += state[L.M_CU_LEG + kind]
            if direction == R.DIR_A_TO_B:
                r_in = state[pb + L.F_RES_A]
                inv_in = state[pb + L.F_INV_RES_A]
                r_out = state[pb + L.F_RES_B]
            else:
                r_in = state[pb + L.F_RES_B]
                inv_in = state[pb + L.F_INV_RES_B]
                r_out = state[pb + L.F_RES_A]
            if not (r_in > 0.0 and r_out > 0.0):
                return _SKIP
            gk = state[pb + L.F_FEE_KEEP] * k_coef * inv_in
            k_coef = gk * r_out
            e_coef = e_coef + gk
        else:
            return _SKIP  # not usable (gate 0)
    ratio = 1.0
    is_cex = meta >> R.META_TYPE_SHIFT == R.ROUTE_CEX
    if is_cex:
        ebase = L.TOKENS_OFFSET + end * L.TOKEN_WIDTH
        usd_in = state[sbase + L.T_USD_PER_UNIT]
        usd_out = state[ebase + L.T_USD_PER_UNIT]
        if not (usd_in > 0.0 and usd_out > 0.0):
            return _SKIP
        ratio = usd_out / usd_in
        if not math.isfinite(ratio):
            return _SKIP
    kk = ratio * k_coef
    screen = state[L.M_FORCE_SEARCH] == 0.0
    closed_form = screen and not has_clmm
    if screen and not kk > 1.0:
        return _SKIP  # unprofitable at any size, before any cost: the common case, kept cheap
    room = 0.0
    if is_cex:
        inv_max = state[ebase + L.T_INV_MAX]
        if inv_max > 0.0:
            room = inv_max - state[ebase + L.T_BALANCE]
            if not room > 0.0:
                return _SKIP
    lpu = lamports_per_unit(state, start)
    if not (lpu > 0.0 and math.isfinite(lpu)):
        return _SKIP
    depth = state[L.M_DEPTH_FRAC]
    if closed_form:
        # unconstrained optimum, then each cap shrinks x only where violated (see the kernel)
        x = min((math.sqrt(kk) - 1.0) / e_coef, cap)
        kc = 1.0
        ec = 0.0
        for k in range(n_legs):
            r_in, inv_in, r_out, fee_keep = _leg_state(state, graph, ro, k)
            y_lim = depth * r_in
            if kc * x > y_lim * (1.0 + ec * x):
                x = y_lim / (kc - ec * y_lim)
            gk = fee_keep * kc * inv_in
            kc = gk * r_out
            ec = ec + gk
        if room > 0.0 and k_coef * x > room * (1.0 + e_coef * x):
            x = room / (k_coef - e_coef * room)
        gross = kk * x / (1.0 + e_coef * x)
    else:
        kc = 1.0
        ec = 0.0
        for k in range(n_legs):
            r_in, inv_in, r_out, fee_keep = _leg_state(state, graph, ro, k)
            y_lim = depth * r_in
            if kc > ec * y_lim:
                cap = min(cap, y_lim / (kc - ec * y_lim))
            gk = fee_keep * kc * inv_in
            kc = gk * r_out
            ec = ec + gk
        if room > 0.0 and not has_clmm and k_coef > e_coef * room:
            cap = min(cap, room / (k_coef - e_coef * room))
        x, gross, y, crossed = _golden_section(state, graph, ro, n_legs, ratio, cap, has_clmm)
        if has_clmm:
            cu += crossed * state[L.M_CU_PER_TICK]
            if y < 0.0 or (room > 0.0 and y > room):
                return _SKIP  # past the tick arrays' edge, or over the inventory room
    if not x >= 1.0:
        return _SKIP
    cu = min(cu, state[L.M_CU_MAX])
    fee_lamports = (
        state[L.M_SIGNATURE_LAMPORTS]
        + math.ceil(state[L.M_CU_PRICE_MICRO] * cu / 1e6)
        + state[L.M_TIP_LAMPORTS]
    )
    net_l = (gross - x) * lpu - fee_lamports
    if not net_l > 0.0 or net_l < state[L.M_MIN_PROFIT_LAMPORTS]:
        return _SKIP
    if net_l * 1e4 < state[L.M_MIN_PROFIT_BPS] * x * lpu:
        return _SKIP
    return (
        True,
        float(x),
        float(gross),
        float(net_l / lpu),
        float(net_l),
        float(cu),
        float(fee_lamports / lpu),
    )


def _scan(state: L.F64Array, graph: L.I32Array, base: int, lo: int, hi: int) -> int:
    best = -1
    best_x = best_gross = best_net = best_net_l = best_cu = best_cost = 0.0
    for j in range(lo, hi):
        route = int(graph[base + j * R.ROUTE_WIDTH + R.R_ID])
        ok, x, gross, net, net_l, cu, cost = evaluate_route(state, graph, route)
        if ok and (best < 0 or net_l > best_net_l):
            best, best_x, best_gross, best_net = route, x, gross, net
            best_net_l, best_cu, best_cost = net_l, cu, cost
    state[L.O_ROUTE] = float(best)
    state[L.O_AMOUNT_IN] = best_x
    state[L.O_GROSS_OUT] = best_gross
    state[L.O_NET_PROFIT] = best_net
    state[L.O_NET_LAMPORTS] = best_net_l
    state[L.O_CU_LIMIT] = best_cu
    state[L.O_COST_TOKEN] = best_cost
    state[L.O_EVALUATED] = float(hi - lo)
    return best


def detect(state: L.F64Array, graph: L.I32Array, pool: int) -> int:
    """Evaluate the routes touching `pool`; best route id (or -1), details in state[O_*]."""
    ip = int(graph[R.G_INDPTR_OFF])
    return _scan(state, graph, int(graph[R.G_IDS_OFF]), int(graph[ip + pool]), int(graph[ip + pool + 1]))


def detect_all(state: L.F64Array, graph: L.I32Array) -> int:
    """Evaluate every route; best route id (or -1), details in state[O_*]."""
    return _scan(state, graph, int(graph[R.G_ROUTES_OFF]), 0, int(graph[R.G_N_ROUTES]))


def detect_token(state: L.F64Array, graph: L.I32Array, token: int) -> int:
    """Evaluate the CEX-DEX routes buying or selling `token`; best route id (or -1), details in state[O_*]."""
    ip = int(graph[R.G_TOK_INDPTR_OFF])
    return _scan(
        state, graph, int(graph[R.G_TOK_IDS_OFF]), int(graph[ip + token]), int(graph[ip + token + 1])
    )
