"""Exact confirm of the detector's best candidate with the venues' integer quotes.

The kernel sizes in float64; here the candidate's amount is floored to raw units and every leg is
quoted with the venue module's exact on-chain math on the cache's exact integers (`pools_u`). Costs
are recomputed exactly (`strategies.costs`), thresholds re-checked on the exact net, and min-outs set:
each leg's min-out is its exact out less `slippage_bps`, and the last leg's min-out is never below
break-even (amount_in + costs for cycles), so a trade that would lose money reverts on chain.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from strategies import costs, layout
from strategies import routes as R
from strategies.opportunity import Opportunity, OpportunityLeg
from strategies.venues import registry
from strategies.venues.errors import QuoteError

ClmmQuote = Callable[[int, bool, int], tuple[int, int]]
"""Exact CLMM quote supplied by the caller, who holds the decoded pool and its tick arrays:
(pool row, a_to_b, amount_in) -> (amount_out, initialized ticks crossed), e.g. from
`orca_whirlpool.quote_swap(...).amount_out / .ticks_crossed`. Raises the venue's `QuoteError`."""


def exact_leg_out(cache: layout.Cache, pool: int, direction: int, amount_in: int) -> int:
    """Exact output of one leg whose exact state is the cache row (constant-product venues), with the
    venue's integer quote. Raises the venue's `QuoteError`; ValueError for a venue whose exact state
    is not in the cache."""
    adapter = registry.by_kind(int(cache.pools_i[pool, layout.I_KIND]))
    if not adapter.cache_exact:
        raise ValueError(f"pool {pool}: {adapter.venue.name} quotes need the decoded pool state")
    return adapter.quote_in(cache, pool, direction == R.DIR_A_TO_B, amount_in, None)[0]


def confirm(
    cache: layout.Cache,
    table: R.RouteTable,
    route_id: int,
    amount_in: float,
    *,
    slot: int,
    recv_ns: int,
    slippage_bps: int,
    estimated_net_profit: float = 0.0,
    clmm_quote: ClmmQuote | None = None,
) -> Opportunity | None:
    """Exactly quote `route_id` at floor(`amount_in`); the Opportunity, or None if it does not clear.

    None when: the amount floors to 0, a venue rejects a leg (`QuoteError`), a CLMM leg has no
    `clmm_quote`, the start token has no price, or the exact net profit misses a threshold.
    """
    if not 0 <= slippage_bps < 10_000:
        raise ValueError(f"slippage_bps must be in [0, 10000), got {slippage_bps}")
    market = cache.market
    amount = math.floor(amount_in)
    if amount < 1:
        return None
    route = table.routes[route_id]
    kinds = tuple(int(cache.pools_i[leg.pool, layout.I_KIND]) for leg in route.legs)
    outs: list[int] = []
    x = amount
    ticks_crossed = 0
    try:
        for leg, kind in zip(route.legs, kinds):
            adapter = registry.by_kind(kind)
            a_to_b = leg.direction == R.DIR_A_TO_B
            if adapter.cache_exact:
                x, crossed = adapter.quote_in(cache, leg.pool, a_to_b, x, None)
            elif clmm_quote is None:
                return None
            else:
                x, crossed = clmm_quote(leg.pool, a_to_b, x)
            ticks_crossed += crossed
            outs.append(x)
    except QuoteError:
        return None
    lpu = layout.lamports_per_unit(market, route.start_token)
    if not (lpu > 0.0 and math.isfinite(lpu)):
        return None
    cu_limit = costs.estimate_cu_limit(market, kinds, ticks_crossed)
    cost_l = costs.cost_lamports(market, cu_limit)
    cost_tok = costs.lamports_to_token_ceil(cost_l, lpu)
    min_profit_tok = costs.lamports_to_token_ceil(int(market[layout.M_MIN_PROFIT_LAMPORTS]), lpu)
    final = outs[-1]
    break_even_out = amount + cost_tok
    if route.route_type == R.ROUTE_CEX:
        # Marked to market at the CEX price: value of the bought tokens in start-token units.
        usd_in = market[layout.token_slot(route.start_token, layout.T_USD_PER_UNIT)]
        usd_out = market[layout.token_slot(route.end_token, layout.T_USD_PER_UNIT)]
        if not (usd_in > 0.0 and usd_out > 0.0):
            return None
        ratio = float(usd_out / usd_in)
        if not math.isfinite(ratio):
            return None
        value_out = math.floor(final * ratio)
        break_even_out = math.ceil(break_even_out / ratio)
    else:
        value_out = final
    net = value_out - amount - cost_tok
    if not costs.passes_thresholds(net, amount, min_profit_tok, float(market[layout.M_MIN_PROFIT_BPS])):
        return None
    legs: list[OpportunityLeg] = []
    leg_in = amount
    last = len(route.legs) - 1
    keep = 10_000 - slippage_bps
    for k, leg in enumerate(route.legs):
        out = outs[k]
        min_out = out * keep // 10_000
        if k == last and min_out < break_even_out:
            min_out = break_even_out
        legs.append(
            OpportunityLeg(
                leg.pool,
                kinds[k],
                leg.direction,
                leg.token_in,
                leg.token_out,
                leg_in,
                out,
                min_out,
                int(cache.pools_i[leg.pool, layout.I_TICK]),
            )
        )
        leg_in = out
    # Positional (the field order of Opportunity): built once per confirmed candidate, on the hot path.
    return Opportunity(route_id, route.route_type, route.start_token, route.end_token, tuple(legs), amount, final,
                       cu_limit, cost_l, cost_tok, net, slot, recv_ns, estimated_net_profit)  # fmt: skip


def confirm_best(
    cache: layout.Cache,
    table: R.RouteTable,
    trigger_pool: int,
    slippage_bps: int,
    clmm_quote: ClmmQuote | None = None,
) -> Opportunity | None:
    """Confirm the candidate the last `detect` call left in market[O_*], triggered by `trigger_pool`."""
    market = cache.market
    route_id = int(market[layout.O_ROUTE])
    if route_id < 0:
        return None
    return confirm(
        cache,
        table,
        route_id,
        float(market[layout.O_AMOUNT_IN]),
        slot=int(cache.pools_i[trigger_pool, layout.I_SLOT]),
        recv_ns=int(cache.pools_i[trigger_pool, layout.I_RECV_NS]),
        slippage_bps=slippage_bps,
        estimated_net_profit=float(market[layout.O_NET_PROFIT]),
        clmm_quote=clmm_quote,
    )
