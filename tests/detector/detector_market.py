"""Shared builders for the detector tests: a small market from plain Python values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from strategies import costs, layout
from strategies import routes as R


@dataclass
class Market:
    cache: layout.Cache
    table: R.RouteTable

    @property
    def arrays(self) -> layout.Cache:
        return self.cache

    @property
    def market(self) -> np.ndarray:
        return self.cache.market

    def args(self) -> tuple[np.ndarray, np.ndarray]:
        return self.cache.state, self.table.graph


def build_market(
    pools: Sequence[tuple[int, str, str, int, int, int, int]],
    *,
    base: Sequence[str] = (),
    cex: Sequence[str] = (),
    sol_mint: str = "SOL",
    balances: dict[str, int] | None = None,
    usd: dict[str, float] | None = None,
    model: costs.CostModel | None = None,
    sol_usd: float = 150.0,
) -> Market:
    """pools: (kind, mint_a, mint_b, reserve_a, reserve_b, fee_num, fee_den), all usable at slot 100."""
    specs = [R.PoolSpec(kind, a, b) for kind, a, b, *_ in pools]
    table = R.build_routes(specs, base_mints=base, cex_mints=cex)
    arrays = layout.allocate(len(specs), len(table.mints))
    market = arrays.market
    (model or costs.CostModel()).write_to(market)
    market[layout.M_SOL_USD] = sol_usd
    for i, (kind, a, b, ra, rb, num, den) in enumerate(pools):
        layout.register_pool(arrays, i, kind, table.token_index[a], table.token_index[b])
        layout.write_cp_pool(arrays, i, ra, rb, num, den, slot=100 + i, recv_ns=1_000 + i)
        layout.set_flags(arrays, i, tradable=True, settling=False)
    balances = balances if balances is not None else {m: 10**15 for m in table.mints}
    for mint, t in table.token_index.items():
        layout.write_token(
            market,
            t,
            balance=balances.get(mint, 0),
            max_notional=balances.get(mint, 0),
            is_sol=mint == sol_mint,
            usd_per_unit=(usd or {}).get(mint, 0.0),
        )
    return Market(arrays, table)
