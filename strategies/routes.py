"""Routes, built once at start-up from the configured pools, packed for the detector kernel.

Input: the pools in cache-row order as `PoolSpec(kind, mint_a, mint_b)` (row i of the cache is
`pools[i]`), the base mints (start tokens of 3-leg cycles) and the CEX mints (tokens with a CEX price).

Routes generated:
* 2-leg cycles: for every two pools sharing the same pair {A, B}: S -> O on one pool and O -> S on the
  other, in both orders. Start tokens S: the pair's tokens that are base mints, or both if neither is.
* 3-leg cycles through each base mint S: S -> X -> Y -> S over three distinct pools, X, Y distinct and
  not S, both directions (each is a separate route).
* CEX-DEX: for every pool whose two tokens both have a CEX price, one single-leg route per direction
  (an inventory trade marked to market at the CEX price, not an arbitrage).

Everything is packed into one int32 vector `graph` so the kernel takes a single array for the topology:
a header, the route rows by route id, then a pool -> routes CSR index whose entries are *copies* of the
route rows (each starting with the route id): one update reads its routes as one contiguous block,
which keeps the incremental cost flat as the pool count grows past the CPU caches. A route row is 6
ints (24 bytes: id, type and leg count in one int, start and end tokens, each leg as pool << 1 | dir),
so a typical update's routes span a few cache lines. A second CSR index, token -> CEX-DEX routes
buying or selling it, serves CEX price ticks the same way. Last, one fixed-size, 64-byte-aligned block
per pool, addressed by the pool index alone: a head row (`H_*`: its CSR range, the distinct pool rows
and token rows its routes read) followed by a copy of its CSR entries when they fit (`INLINE_ROUTES`).
`detector.detect` prefetches the block and every listed row at once, then evaluates the inline copy:
one update touches one block of the graph, with no dependent load in front of its route rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from strategies import layout

ROUTE_CYCLE = 0
ROUTE_CEX = 1
MAX_LEGS = 3

DIR_A_TO_B = 0
DIR_B_TO_A = 1

# ---- graph header ---------------------------------------------------------------------------------
G_N_ROUTES = 0
G_N_POOLS = 1
G_ROUTES_OFF = 2
G_INDPTR_OFF = 3
G_IDS_OFF = 4  # CSR entries: ROUTE_WIDTH ints each (a copy of the route row)
G_N_TOKENS = 5
G_TOK_INDPTR_OFF = 6  # token -> CEX-DEX routes buying or selling it (re-price on a CEX tick)
G_TOK_IDS_OFF = 7  # entries as for pools
G_HEADS_OFF = 8  # pool blocks (below), POOL_BLOCK_WIDTH ints each, the region 64-byte aligned
G_HEADER = 16

# ---- route row columns ----------------------------------------------------------------------------
R_ID = 0
R_META = 1  # number of legs | route type << META_TYPE_SHIFT
R_START = 2  # start token index (amount_in and profit are in this token)
R_END = 3  # token received by the last leg (== R_START for cycles)
R_LEG = 4  # R_LEG + k: leg k as pool row << 1 | direction (DIR_A_TO_B / DIR_B_TO_A); -1 if unused
ROUTE_WIDTH = R_LEG + MAX_LEGS
META_NLEGS_MASK = 3
META_TYPE_SHIFT = 2
META_DISABLED = 1 << 30  # set by `RouteTable.disable` in every copy of the row: the kernels skip the route
LEG_DIR_MASK = 1  # leg & LEG_DIR_MASK: direction; leg >> 1: pool row

# ---- pool block: head row (one cache line) + inline copy of the pool's CSR entries ---------------
# `detect` prefetches the whole block (its address depends on the pool alone), reads the head, then
# prefetches every pool row and token row the routes read before evaluating the first route: the cache
# misses overlap instead of being met a route or two at a time (the out-of-order window spans only a
# few routes of the evaluation loop).
H_LO = 0  # the pool's CSR entry range (equal to the indptr's)
H_HI = 1
H_N_POOLS = 2  # pool rows listed from H_ROWS
H_N_TOKENS = 3  # token rows listed right after them; both lists truncated to fit (prefetch is a hint)
H_INLINE = 4  # 1: the H_HI - H_LO entries are copied right after the head row; 0: read them in the CSR
H_ROWS = 5
HEAD_WIDTH = 16
INLINE_ROUTES = 16  # pools with more routes keep them in the CSR only
POOL_BLOCK_WIDTH = HEAD_WIDTH + INLINE_ROUTES * ROUTE_WIDTH  # 448 bytes, a multiple of 64


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """One configured pool: its kind (layout.KIND_*) and its two mints (a, b as in the pool)."""

    kind: int
    mint_a: str
    mint_b: str


@dataclass(frozen=True, slots=True)
class Leg:
    """One swap of a route: `pool` row, direction, and the tokens in and out."""

    pool: int
    direction: int
    token_in: int
    token_out: int


@dataclass(frozen=True, slots=True)
class Route:
    """A decoded route row."""

    route_id: int
    route_type: int
    start_token: int
    end_token: int
    legs: tuple[Leg, ...]


@dataclass(frozen=True, slots=True)
class RouteTable:
    """All routes: the packed `graph` for the kernel, the token table, and Python views for cold paths."""

    graph: layout.I32Array
    mints: tuple[str, ...]  # token index -> mint
    token_index: dict[str, int]
    routes: tuple[Route, ...]

    @property
    def n_routes(self) -> int:
        return len(self.routes)

    def set_disabled(self, route_id: int, disabled: bool = True) -> None:
        """Take a route out of detection (quarantined, or no transaction can express it) or back in:
        the flag goes into every copy of its row (route rows, pool and token CSR entries, inline blocks),
        so the detector picks the best route that can trade. Cold path."""
        g = self.graph
        for off in self._row_copies(route_id):
            if disabled:
                g[off + R_META] |= META_DISABLED
            else:
                g[off + R_META] &= ~META_DISABLED

    def is_disabled(self, route_id: int) -> bool:
        return bool(
            self.graph[int(self.graph[G_ROUTES_OFF]) + route_id * ROUTE_WIDTH + R_META] & META_DISABLED
        )

    def _row_copies(self, route_id: int) -> list[int]:
        g = self.graph
        out = [int(g[G_ROUTES_OFF]) + route_id * ROUTE_WIDTH]
        for region_lo, region_hi in (
            (int(g[G_IDS_OFF]), int(g[G_TOK_INDPTR_OFF])),
            (int(g[G_TOK_IDS_OFF]), int(g[G_HEADS_OFF])),
        ):
            out += [o for o in range(region_lo, region_hi, ROUTE_WIDTH) if g[o + R_ID] == route_id]
        heads_off = int(g[G_HEADS_OFF])
        for pool in {leg.pool for leg in self.routes[route_id].legs}:
            block = heads_off + pool * POOL_BLOCK_WIDTH
            if g[block + H_INLINE]:
                n = int(g[block + H_HI] - g[block + H_LO])
                first = block + HEAD_WIDTH
                out += [
                    first + k * ROUTE_WIDTH for k in range(n) if g[first + k * ROUTE_WIDTH + R_ID] == route_id
                ]
        return out

    def routes_of_pool(self, pool: int) -> layout.I32Array:
        """Route ids touching `pool` (a view into the CSR index)."""
        g = self.graph
        indptr = int(g[G_INDPTR_OFF])
        ids = int(g[G_IDS_OFF])
        lo = int(g[indptr + pool])
        hi = int(g[indptr + pool + 1])
        return g[ids + lo * ROUTE_WIDTH + R_ID : ids + hi * ROUTE_WIDTH : ROUTE_WIDTH]

    def routes_of_token(self, token: int) -> layout.I32Array:
        """CEX-DEX route ids buying or selling `token` (what a CEX price tick of it re-prices)."""
        g = self.graph
        indptr = int(g[G_TOK_INDPTR_OFF])
        ids = int(g[G_TOK_IDS_OFF])
        lo = int(g[indptr + token])
        hi = int(g[indptr + token + 1])
        return g[ids + lo * ROUTE_WIDTH + R_ID : ids + hi * ROUTE_WIDTH : ROUTE_WIDTH]


def _leg(pool: int, specs: Sequence[PoolSpec], tokens: dict[str, int], token_in: int) -> Leg:
    spec = specs[pool]
    a, b = tokens[spec.mint_a], tokens[spec.mint_b]
    if token_in == a:
        return Leg(pool, DIR_A_TO_B, a, b)
    return Leg(pool, DIR_B_TO_A, b, a)


def build_routes(
    pools: Sequence[PoolSpec],
    base_mints: Sequence[str] = (),
    cex_mints: Sequence[str] = (),
) -> RouteTable:
    """Build every route over `pools` (see module docstring) and pack the kernel's `graph` vector."""
    tokens: dict[str, int] = {}
    for spec in pools:
        if spec.kind not in layout.KINDS:
            raise ValueError(f"unknown pool kind {spec.kind}")
        if spec.mint_a == spec.mint_b:
            raise ValueError(f"pool with identical mints {spec.mint_a}")
        for mint in (spec.mint_a, spec.mint_b):
            tokens.setdefault(mint, len(tokens))
    base = [tokens[m] for m in dict.fromkeys(base_mints) if m in tokens]
    base_set = set(base)
    cex = {tokens[m] for m in cex_mints if m in tokens}

    pair_pools: dict[tuple[int, int], list[int]] = {}
    token_pools: dict[int, list[int]] = {}
    for i, spec in enumerate(pools):
        a, b = tokens[spec.mint_a], tokens[spec.mint_b]
        pair_pools.setdefault((min(a, b), max(a, b)), []).append(i)
        token_pools.setdefault(a, []).append(i)
        token_pools.setdefault(b, []).append(i)

    def other(pool: int, token: int) -> int:
        spec = pools[pool]
        a = tokens[spec.mint_a]
        return tokens[spec.mint_b] if token == a else a

    built: list[tuple[int, int, int, tuple[Leg, ...]]] = []  # (type, start, end, legs)
    # 2-leg cycles
    for (t0, t1), members in pair_pools.items():
        starts = [t for t in (t0, t1) if t in base_set] or [t0, t1]
        for s in starts:
            o = t1 if s == t0 else t0
            for p in members:
                for q in members:
                    if p != q:
                        legs: tuple[Leg, ...] = (_leg(p, pools, tokens, s), _leg(q, pools, tokens, o))
                        built.append((ROUTE_CYCLE, s, s, legs))
    # 3-leg cycles through base tokens
    for s in base:
        for p1 in token_pools.get(s, ()):
            x = other(p1, s)
            for p2 in token_pools.get(x, ()):
                if p2 == p1:
                    continue
                y = other(p2, x)
                if y == s:
                    continue
                for p3 in pair_pools.get((min(y, s), max(y, s)), ()):
                    if p3 in (p1, p2):
                        continue
                    legs = (
                        _leg(p1, pools, tokens, s),
                        _leg(p2, pools, tokens, x),
                        _leg(p3, pools, tokens, y),
                    )
                    built.append((ROUTE_CYCLE, s, s, legs))
    # CEX-DEX single legs
    for i, spec in enumerate(pools):
        a, b = tokens[spec.mint_a], tokens[spec.mint_b]
        if a in cex and b in cex:
            built.append((ROUTE_CEX, a, b, (Leg(i, DIR_A_TO_B, a, b),)))
            built.append((ROUTE_CEX, b, a, (Leg(i, DIR_B_TO_A, b, a),)))

    return _pack(pools, tokens, built)


def _pack(
    pools: Sequence[PoolSpec],
    tokens: dict[str, int],
    built: list[tuple[int, int, int, tuple[Leg, ...]]],
) -> RouteTable:
    n_pools, n_routes = len(pools), len(built)
    per_pool: list[list[int]] = [[] for _ in range(n_pools)]
    routes: list[Route] = []
    rows = np.full((n_routes, ROUTE_WIDTH), -1, dtype=np.int32)
    for rid, (rtype, start, end, legs) in enumerate(built):
        routes.append(Route(rid, rtype, start, end, legs))
        rows[rid, R_ID] = rid
        rows[rid, R_META] = len(legs) | rtype << META_TYPE_SHIFT
        rows[rid, R_START] = start
        rows[rid, R_END] = end
        for k, leg in enumerate(legs):
            rows[rid, R_LEG + k] = leg.pool << 1 | leg.direction
            if rid not in per_pool[leg.pool][-1:]:
                per_pool[leg.pool].append(rid)
    indptr = np.zeros(n_pools + 1, dtype=np.int32)
    for i, ids in enumerate(per_pool):
        indptr[i + 1] = indptr[i] + len(ids)
    flat_ids = np.array([rid for ids in per_pool for rid in ids], dtype=np.int32)
    entries = rows[flat_ids].reshape(-1) if n_routes else np.zeros(0, dtype=np.int32)
    n_tokens = len(tokens)
    per_token: list[list[int]] = [[] for _ in range(n_tokens)]
    for r in routes:
        if r.route_type == ROUTE_CEX:
            per_token[r.start_token].append(r.route_id)
            per_token[r.end_token].append(r.route_id)
    tok_indptr = np.zeros(n_tokens + 1, dtype=np.int32)
    for t, ids in enumerate(per_token):
        tok_indptr[t + 1] = tok_indptr[t] + len(ids)
    tok_ids = np.array([rid for ids in per_token for rid in ids], dtype=np.int32)
    tok_entries = rows[tok_ids].reshape(-1) if tok_ids.size else np.zeros(0, dtype=np.int32)

    routes_off = G_HEADER
    indptr_off = routes_off + n_routes * ROUTE_WIDTH
    ids_off = indptr_off + n_pools + 1
    tok_indptr_off = ids_off + entries.shape[0]
    tok_ids_off = tok_indptr_off + n_tokens + 1
    heads_off = tok_ids_off + tok_entries.shape[0]
    size = heads_off + n_pools * POOL_BLOCK_WIDTH
    # Each head row must be exactly one cache line: allocate with slack and start the vector where the
    # block region lands on a 64-byte boundary (a view into the buffer, still C-contiguous).
    buf = np.zeros(size + HEAD_WIDTH, dtype=np.int32)
    shift = (-(buf.ctypes.data + heads_off * 4) % 64) // 4
    graph = buf[shift : shift + size]
    graph[G_N_ROUTES] = n_routes
    graph[G_N_POOLS] = n_pools
    graph[G_ROUTES_OFF] = routes_off
    graph[G_INDPTR_OFF] = indptr_off
    graph[G_IDS_OFF] = ids_off
    graph[G_N_TOKENS] = n_tokens
    graph[G_TOK_INDPTR_OFF] = tok_indptr_off
    graph[G_TOK_IDS_OFF] = tok_ids_off
    graph[routes_off:indptr_off] = rows.reshape(-1)
    graph[indptr_off:ids_off] = indptr
    graph[ids_off:tok_indptr_off] = entries
    graph[tok_indptr_off:tok_ids_off] = tok_indptr
    graph[tok_ids_off:heads_off] = tok_entries
    graph[G_HEADS_OFF] = heads_off
    heads = graph[heads_off:].reshape(n_pools, POOL_BLOCK_WIDTH)
    room = HEAD_WIDTH - H_ROWS
    for i, ids in enumerate(per_pool):
        t_pools = list(dict.fromkeys(leg.pool for rid in ids for leg in routes[rid].legs))[:room]
        t_tokens = list(
            dict.fromkeys(t for rid in ids for t in (routes[rid].start_token, routes[rid].end_token))
        )
        t_tokens = t_tokens[: room - len(t_pools)]
        heads[i, H_LO] = indptr[i]
        heads[i, H_HI] = indptr[i + 1]
        heads[i, H_N_POOLS] = len(t_pools)
        heads[i, H_N_TOKENS] = len(t_tokens)
        heads[i, H_ROWS : H_ROWS + len(t_pools) + len(t_tokens)] = t_pools + t_tokens
        if len(ids) <= INLINE_ROUTES:
            heads[i, H_INLINE] = 1
            heads[i, HEAD_WIDTH : HEAD_WIDTH + len(ids) * ROUTE_WIDTH] = rows[ids].reshape(-1)
    mints = tuple(tokens)
    return RouteTable(graph, mints, dict(tokens), tuple(routes))
