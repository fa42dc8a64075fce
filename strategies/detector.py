"""The jitted arbitrage detector: float64 screening and sizing over the cache arrays.

Entry points (compiled eagerly with fixed signatures, `cache=True`: `strategies.jit` keys numba's cache
on every kernel source and the layout constants, so an edit anywhere recompiles), over the cache's
single float64 `state` vector (`layout.allocate`) and the routes' int32 `graph` vector
(`routes.build_routes`):

* `detect(state, graph, pool) -> int` — incremental: evaluates only the routes that touch `pool` (the
  CSR index in `graph`), writes the best candidate into the output slots (`layout.O_*`, read them via
  `cache.market`) and returns its route id, or -1. Allocates nothing.
* `detect_token(state, graph, token) -> int` — same over the CEX-DEX routes buying or selling `token`
  (call it when that token's CEX price moves).
* `detect_all(state, graph) -> int` — same over every route (start-up, SOL price moves, refresh).
* `direct_detect()` — `detect`'s compiled entry point, which skips the dispatcher's type resolution;
  same arguments, no type checks: pass exactly a C-contiguous float64[:], int32[:] and an int.

The entry points keep the GIL (no `nogil`): releasing and re-acquiring it costs a sizeable part of a
~1 µs update, and only the event loop's thread calls the detector.

Memory per update (`routes` packs the graph for it): `detect` reads the pool's fixed-size block of the
graph (its address depends on the pool alone), prefetches it and every pool row and token row listed
in its head row, then evaluates the route entries copied in the block. The cache misses of a cold
update thus overlap, and the cost per update stays nearly flat as the market grows.

Per route: every leg's pool must be usable (`F_GATE`: tradable, not settling) and priced. First a
cheap screen: the product of the legs' spot rates (fees included) times the CEX ratio is the marginal
profit rate at size 0; the profit is concave in size, so a rate <= 1 means no opportunity at any size
and the route is dropped before any cost is computed (the common case). Sizing: for all-constant-
product routes the composition of the legs is a Möbius map out(x) = K x / (1 + E x), so the optimum of
ratio*out(x) - x is x* = (sqrt(ratio K) - 1) / E (closed form, also for 3 legs); routes with a Whirlpool
leg use a golden-section search with a fixed iteration count on [0, cap], walking the packed ticks
with `whirlpool_kernels.wp_swap_in` (its ticks crossed raise the CU estimate). Caps: start-token
balance, max notional, every leg's input <= depth_frac x that leg's input reserve (CLMM: virtual
reserves at the current price), and (CEX-DEX) the bought token's inventory room. Costs: signatures,
ceil(priority price x CU limit / 1e6), tip, in lamports, valued in the start token at the current SOL
price. Thresholds: net >= the absolute minimum and >= min bps of amount_in, compared in lamports. The
best route has the highest net profit in lamports; ties keep the first evaluated. NaN/inf inputs never
pass a check.

Constant-product kinds (`layout.CP_KINDS`) include PumpSwap: x*y=k on the base vault and the quote vault
plus its virtual reserves, screened with keep = 1 - total fee bps / 1e4 on the input. The program
charges its fees on the quote side (on top of a buy's curve input, keep 1 / (1 + f); off a sell's
output), so the screen is off by about f² of the amount (f = 0.3 %: 1e-5) and by f x (the leg's share
of the reserve) on sells; the confirm quotes exactly (`pumpswap.Adapter.quote_in`).

`strategies.reference_detector` is the same algorithm in plain Python, operation for operation, so
the two agree bit for bit (property-tested).
"""

from __future__ import annotations

import math
from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from strategies import layout as L
from strategies import routes as R
from strategies.jit import njit
from strategies.venues.cp_kernels import cp_out
from strategies.venues.whirlpool_kernels import wp_swap_in

INVPHI = 0.6180339887498949  # (sqrt(5) - 1) / 2, golden-section step


def _prefetch_typing(typingctx: Any, arr: Any, idx: Any) -> Any:
    """`prefetch(arr, idx)`: hint the CPU to fetch the cache line of `arr[idx]` (LLVM's `llvm.prefetch`: read, keep in all
    levels, data cache). Never faults, returns nothing, no bounds check: a hint only."""
    sig = types.void(arr, idx)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = builder.gep(ary.data, [context.cast(builder, args[1], idxty, types.intp)])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


prefetch: Any = intrinsic(_prefetch_typing)

_DETECT_SIG = "int64(float64[::1], int32[::1], int64)"
_DETECT_ALL_SIG = "int64(float64[::1], int32[::1])"


@njit(cache=True, error_model="numpy")
def route_out(state: Any, graph: Any, ro: Any, x: Any) -> Any:
    """(float output, initialized ticks crossed) of the route row at `ro` for input `x`, any pool kinds;
    output -1.0 when a CLMM leg runs past the edge of its tick arrays. Called for CLMM routes only: it
    takes the arrays as arguments (refcount traffic the constant-product path avoids)."""
    pools_off = int(state[L.M_POOLS_OFFSET])
    ticks_off = int(state[L.M_TICKS_OFFSET])
    rows = int(state[L.M_TICKS_ROWS])
    ticks = state[ticks_off : ticks_off + rows * L.TICK_WIDTH].reshape((rows, L.TICK_WIDTH))
    y = x
    crossed = 0
    for k in range(graph[ro + R.R_META] & R.META_NLEGS_MASK):
        pb = pools_off + (graph[ro + R.R_LEG + k] >> 1) * L.POOL_F_WIDTH
        a_to_b = (graph[ro + R.R_LEG + k] & R.LEG_DIR_MASK) == R.DIR_A_TO_B
        if int(state[pb + L.F_GATE]) == L.KIND_ORCA_WHIRLPOOL:
            row = int(state[pb + L.F_TICKS_ROW])
            out, _sp, steps = wp_swap_in(
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
            crossed += steps - 1  # steps = initialized ticks crossed + the final partial step
            y = out
        elif a_to_b:
            y = cp_out(y, state[pb + L.F_RES_A], state[pb + L.F_RES_B], state[pb + L.F_FEE_KEEP])
        else:
            y = cp_out(y, state[pb + L.F_RES_B], state[pb + L.F_RES_A], state[pb + L.F_FEE_KEEP])
    return y, crossed


@njit(cache=True, error_model="numpy")
def _scan(state: Any, graph: Any, base: Any, lo: Any, hi: Any) -> int:
    """Evaluate the route rows lo..hi of the block at `base` (route table or a CSR's entries); write the
    best to state[O_*].

    One function on purpose: numba increfs/decrefs array arguments around helper calls (and around
    its own IR-level inlining), which cost more than the route arithmetic itself here.
    """
    pools_off = int(state[L.M_POOLS_OFFSET])
    sol_usd = state[L.M_SOL_USD]
    force_search = state[L.M_FORCE_SEARCH] != 0.0
    iters = max(int(state[L.M_SEARCH_ITERS]), 0)
    best = -1
    best_x = 0.0
    best_gross = 0.0
    best_net = 0.0
    best_net_l = 0.0
    best_cu = 0.0
    best_cost = 0.0
    for j in range(lo, hi):
        ro = base + j * R.ROUTE_WIDTH
        route = graph[ro + R.R_ID]
        meta = graph[ro + R.R_META]
        if meta & R.META_DISABLED:  # quarantined, or not executable: never the candidate
            continue
        n_legs = meta & R.META_NLEGS_MASK
        start = graph[ro + R.R_START]
        sbase = L.TOKENS_OFFSET + start * L.TOKEN_WIDTH
        cap = min(state[sbase + L.T_BALANCE], state[sbase + L.T_MAX_NOTIONAL])
        if not cap > 0.0:  # also rejects NaN
            continue
        # Pass 1: usable legs, CU, and the route's Möbius map out(x) = K x / (1 + E x).
        cu = state[L.M_CU_BASE]
        k_coef = 1.0
        e_coef = 0.0
        usable = True
        has_clmm = False
        for k in range(n_legs):
            pb = pools_off + (graph[ro + R.R_LEG + k] >> 1) * L.POOL_F_WIDTH
            kind = int(state[pb + L.F_GATE])  # 0 unless tradable and not settling
            if kind == L.KIND_ORCA_WHIRLPOOL:
                # CLMM leg: only its spot rate (fee included) here, for the marginal screen below.
                has_clmm = True
                cu += state[L.M_CU_LEG + kind]
                sp = state[pb + L.F_SQRT_PRICE]
                if not (sp > 0.0 and state[pb + L.F_LIQUIDITY] > 0.0):
                    usable = False
                    break
                if (graph[ro + R.R_LEG + k] & R.LEG_DIR_MASK) == R.DIR_A_TO_B:
                    k_coef = k_coef * (state[pb + L.F_FEE_KEEP] * sp * sp)
                else:
                    k_coef = k_coef * (state[pb + L.F_FEE_KEEP] / (sp * sp))
                continue
            if not (kind == L.KIND_RAYDIUM_CPMM or kind == L.KIND_RAYDIUM_AMM_V4 or kind == L.KIND_PUMPSWAP):
                usable = False
                break
            cu += state[L.M_CU_LEG + kind]
            if (graph[ro + R.R_LEG + k] & R.LEG_DIR_MASK) == R.DIR_A_TO_B:
                r_in = state[pb + L.F_RES_A]
                inv_in = state[pb + L.F_INV_RES_A]
                r_out = state[pb + L.F_RES_B]
            else:
                r_in = state[pb + L.F_RES_B]
                inv_in = state[pb + L.F_INV_RES_B]
                r_out = state[pb + L.F_RES_A]
            if not (r_in > 0.0 and r_out > 0.0):
                usable = False
                break
            gk = state[pb + L.F_FEE_KEEP] * k_coef * inv_in
            k_coef = gk * r_out
            e_coef = e_coef + gk
        if not usable:
            continue
        ratio = 1.0
        is_cex = (meta >> R.META_TYPE_SHIFT) == R.ROUTE_CEX
        ebase = L.TOKENS_OFFSET + graph[ro + R.R_END] * L.TOKEN_WIDTH
        if is_cex:
            usd_in = state[sbase + L.T_USD_PER_UNIT]
            usd_out = state[ebase + L.T_USD_PER_UNIT]
            if not (usd_in > 0.0 and usd_out > 0.0):
                continue
            ratio = usd_out / usd_in
        if not math.isfinite(ratio):
            continue
        kk = ratio * k_coef  # marginal profit rate at size 0 (for CP-only routes also the Möbius K)
        if not force_search and not kk > 1.0:
            continue  # unprofitable at any size (concave), before any cost: the common case, kept cheap
        room = 0.0
        if is_cex:
            inv_max = state[ebase + L.T_INV_MAX]
            if inv_max > 0.0:
                room = inv_max - state[ebase + L.T_BALANCE]
                if not room > 0.0:
                    continue
        # lamports per raw unit of the start token (1 for SOL), as layout.lamports_per_unit
        if state[sbase + L.T_IS_SOL] != 0.0:
            lpu = 1.0
        else:
            usd = state[sbase + L.T_USD_PER_UNIT]
            if not (sol_usd > 0.0 and usd > 0.0):
                continue
            lpu = usd * 1e9 / sol_usd
            if not math.isfinite(lpu):
                continue
        depth = state[L.M_DEPTH_FRAC]
        if not force_search and not has_clmm:
            # Unconstrained optimum, then each cap shrinks x only where violated: leg k's input is the
            # prefix map kc x / (1 + ec x) <= depth * r_in (checked by multiplication, divided only
            # when binding); the CEX route's bought amount stays within the inventory room.
            x = min((math.sqrt(kk) - 1.0) / e_coef, cap)
            kc = 1.0
            ec = 0.0
            for k in range(n_legs):
                pb = pools_off + (graph[ro + R.R_LEG + k] >> 1) * L.POOL_F_WIDTH
                if (graph[ro + R.R_LEG + k] & R.LEG_DIR_MASK) == R.DIR_A_TO_B:
                    r_in = state[pb + L.F_RES_A]
                    inv_in = state[pb + L.F_INV_RES_A]
                    r_out = state[pb + L.F_RES_B]
                else:
                    r_in = state[pb + L.F_RES_B]
                    inv_in = state[pb + L.F_INV_RES_B]
                    r_out = state[pb + L.F_RES_A]
                y_lim = depth * r_in
                if kc * x > y_lim * (1.0 + ec * x):
                    x = y_lim / (kc - ec * y_lim)
                gk = state[pb + L.F_FEE_KEEP] * kc * inv_in
                kc = gk * r_out
                ec = ec + gk
            if room > 0.0 and k_coef * x > room * (1.0 + e_coef * x):
                x = room / (k_coef - e_coef * room)
            gross = kk * x / (1.0 + e_coef * x)
        else:
            # Caps as an interval bound (same prefix maps, divided out). A CLMM leg counts with its
            # virtual reserves at the current price (a: L / sqrt P, b: L sqrt P) for the depth cap.
            kc = 1.0
            ec = 0.0
            for k in range(n_legs):
                pb = pools_off + (graph[ro + R.R_LEG + k] >> 1) * L.POOL_F_WIDTH
                if int(state[pb + L.F_GATE]) == L.KIND_ORCA_WHIRLPOOL:
                    sp = state[pb + L.F_SQRT_PRICE]
                    liq = state[pb + L.F_LIQUIDITY]
                    if (graph[ro + R.R_LEG + k] & R.LEG_DIR_MASK) == R.DIR_A_TO_B:
                        r_in = liq / sp
                        r_out = liq * sp
                    else:
                        r_in = liq * sp
                        r_out = liq / sp
                    inv_in = 1.0 / r_in
                elif (graph[ro + R.R_LEG + k] & R.LEG_DIR_MASK) == R.DIR_A_TO_B:
                    r_in = state[pb + L.F_RES_A]
                    inv_in = state[pb + L.F_INV_RES_A]
                    r_out = state[pb + L.F_RES_B]
                else:
                    r_in = state[pb + L.F_RES_B]
                    inv_in = state[pb + L.F_INV_RES_B]
                    r_out = state[pb + L.F_RES_A]
                y_lim = depth * r_in
                if kc > ec * y_lim:
                    cap = min(cap, y_lim / (kc - ec * y_lim))
                gk = state[pb + L.F_FEE_KEEP] * kc * inv_in
                kc = gk * r_out
                ec = ec + gk
            if room > 0.0 and not has_clmm and k_coef > e_coef * room:
                cap = min(cap, room / (k_coef - e_coef * room))
            # Golden-section search on the concave ratio*out(x) - x over [0, cap], fixed iterations.
            # One evaluation site (the leg loop below) so nothing is called per point.
            a = 0.0
            b = cap
            c = b - INVPHI * (b - a)
            d = a + INVPHI * (b - a)
            fc = 0.0
            fd = 0.0
            x = 0.0
            gross = 0.0
            t = c
            pending = 0  # 0/1: initial c/d, 2: new c, 3: new d, 4: final x
            it = 0
            ticks_crossed = 0
            while True:
                if has_clmm:
                    y, ticks_crossed = route_out(state, graph, ro, t)
                else:
                    y = t
                    for k in range(n_legs):
                        pb = pools_off + (graph[ro + R.R_LEG + k] >> 1) * L.POOL_F_WIDTH
                        if (graph[ro + R.R_LEG + k] & R.LEG_DIR_MASK) == R.DIR_A_TO_B:
                            r_in = state[pb + L.F_RES_A]
                            r_out = state[pb + L.F_RES_B]
                        else:
                            r_in = state[pb + L.F_RES_B]
                            r_out = state[pb + L.F_RES_A]
                        y = cp_out(y, r_in, r_out, state[pb + L.F_FEE_KEEP])
                if pending == 4:
                    gross = ratio * y
                    if has_clmm:
                        cu += ticks_crossed * state[L.M_CU_PER_TICK]
                        if y < 0.0 or (room > 0.0 and y > room):
                            x = 0.0  # past the tick arrays' edge, or over the inventory room: skip
                    break
                f = ratio * y - t
                if pending == 0:
                    fc = f
                    t = d
                    pending = 1
                    continue
                if pending == 1 or pending == 3:
                    fd = f
                else:
                    fc = f
                if it == iters:
                    x = 0.5 * (a + b)
                    t = x
                    pending = 4
                    continue
                it += 1
                if fc > fd:
                    b = d
                    d = c
                    fd = fc
                    c = b - INVPHI * (b - a)
                    t = c
                    pending = 2
                else:
                    a = c
                    c = d
                    fc = fd
                    d = a + INVPHI * (b - a)
                    t = d
                    pending = 3
        if not x >= 1.0:
            continue
        cu = min(cu, state[L.M_CU_MAX])
        fee_lamports = (
            state[L.M_SIGNATURE_LAMPORTS]
            + math.ceil(state[L.M_CU_PRICE_MICRO] * cu / 1e6)
            + state[L.M_TIP_LAMPORTS]
        )
        # thresholds valued in lamports: no division on the way to a rejection
        net_l = (gross - x) * lpu - fee_lamports
        if not net_l > 0.0 or net_l < state[L.M_MIN_PROFIT_LAMPORTS]:
            continue
        if net_l * 1e4 < state[L.M_MIN_PROFIT_BPS] * x * lpu:
            continue
        if best < 0 or net_l > best_net_l:
            best = route
            best_x = x
            best_gross = gross
            best_net = net_l / lpu
            best_net_l = net_l
            best_cu = cu
            best_cost = fee_lamports / lpu
    state[L.O_ROUTE] = float(best)
    state[L.O_AMOUNT_IN] = best_x
    state[L.O_GROSS_OUT] = best_gross
    state[L.O_NET_PROFIT] = best_net
    state[L.O_NET_LAMPORTS] = best_net_l
    state[L.O_CU_LIMIT] = best_cu
    state[L.O_COST_TOKEN] = best_cost
    state[L.O_EVALUATED] = float(hi - lo)
    return best


@njit(_DETECT_SIG, cache=True, error_model="numpy")
def detect(state: Any, graph: Any, pool: Any) -> int:
    """Evaluate the routes touching `pool`; best route id (or -1), details in state[O_*]."""
    # The pool's block (address from the pool alone: no dependent load in front of it) holds its head
    # row, listing the pool and token rows its routes read, and usually a copy of its route entries.
    # Prefetch it all first, so the misses of a cold update overlap instead of being met a route or two
    # at a time by the out-of-order window.
    h = graph[R.G_HEADS_OFF] + pool * R.POOL_BLOCK_WIDTH
    for e in range(h, h + R.POOL_BLOCK_WIDTH, 16):  # 16 int32 per 64-byte line
        prefetch(graph, e)
    pools_off = int(state[L.M_POOLS_OFFSET])
    r0 = h + R.H_ROWS
    r1 = r0 + graph[h + R.H_N_POOLS]
    for i in range(r0, r1):
        pb = pools_off + graph[i] * L.POOL_F_WIDTH
        prefetch(state, pb)  # the row need not start a line: fetch both lines the CP columns may span
        prefetch(state, pb + L.F_GATE)
    for i in range(r1, r1 + graph[h + R.H_N_TOKENS]):
        tb = L.TOKENS_OFFSET + graph[i] * L.TOKEN_WIDTH
        prefetch(state, tb)
        prefetch(state, tb + L.T_INV_MAX)
    lo = graph[h + R.H_LO]
    hi = graph[h + R.H_HI]
    if graph[h + R.H_INLINE] != 0:
        base = h + R.HEAD_WIDTH
        hi = hi - lo
        lo = 0
    else:
        base = graph[R.G_IDS_OFF]
        e1 = base + hi * R.ROUTE_WIDTH
        for e in range(base + lo * R.ROUTE_WIDTH, e1, 16):
            prefetch(graph, e)
    return _scan(state, graph, base, lo, hi)  # one call site: one copy of the loop in the code


@njit(_DETECT_ALL_SIG, cache=True, error_model="numpy")
def detect_all(state: Any, graph: Any) -> int:
    """Evaluate every route; best route id (or -1), details in state[O_*]."""
    return _scan(state, graph, graph[R.G_ROUTES_OFF], 0, graph[R.G_N_ROUTES])


@njit(_DETECT_SIG, cache=True, error_model="numpy")
def detect_token(state: Any, graph: Any, token: Any) -> int:
    """Evaluate the CEX-DEX routes buying or selling `token` (after its CEX price moved)."""
    ip = graph[R.G_TOK_INDPTR_OFF]
    return _scan(state, graph, graph[R.G_TOK_IDS_OFF], graph[ip + token], graph[ip + token + 1])


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
    cache = L.allocate(len(specs), len(table.mints))
    for i in range(len(specs)):
        L.register_pool(cache, i, specs[i].kind, 0, 1)
        L.write_cp_pool(cache, i, 10**12, 10**12 + i * 10**10, 25, 10_000, 1, 0)
        L.set_flags(cache, i, tradable=True, settling=False)
    L.write_token(cache.market, 0, balance=10**9, max_notional=10**9, is_sol=True)
    detect(cache.state, table.graph, 0)
    detect_all(cache.state, table.graph)
    detect_token(cache.state, table.graph, 0)
    cache.market[L.M_FORCE_SEARCH] = 1.0
    detect(cache.state, table.graph, 0)
