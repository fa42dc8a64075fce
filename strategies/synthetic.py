"""A synthetic market for benchmarks and property tests: pure, seeded, constant routes per pool."""

from __future__ import annotations

import random
from dataclasses import dataclass

from strategies import costs, layout
from strategies import routes as R
from strategies.venues.base import Venue


@dataclass
class Synthetic:
    cache: layout.Cache
    table: R.RouteTable
    base_reserves: list[tuple[int, int]]


def build_synthetic(n_pools: int, seed: int, per_pair: int = 2) -> Synthetic:
    """A market of about `n_pools` pools with a constant number of routes per pool.

    Clusters of three pairs (SOL/X, SOL/Y, X/Y) with `per_pair` pools each (CPMM and AMM v4
    alternating, reserves mispriced by up to 1 %), SOL the base token, every token CEX-priced.
    """
    if per_pair < 1:
        raise ValueError(f"--per-pair must be >= 1, got {per_pair}")
    rng = random.Random(seed)
    per_cluster = 3 * per_pair
    n_clusters = max(1, -(-n_pools // per_cluster))
    specs: list[R.PoolSpec] = []
    reserves: list[tuple[int, int]] = []
    price: dict[str, float] = {"SOL": 1.0}  # lamports per raw unit
    kinds = (Venue.raydium_cpmm, Venue.raydium_amm_v4)
    fees = {Venue.raydium_cpmm: (2_500, 1_000_000), Venue.raydium_amm_v4: (25, 10_000)}
    for c in range(n_clusters):
        x, y = f"X{c}", f"Y{c}"
        price[x] = 10 ** rng.uniform(-3, 2)
        price[y] = 10 ** rng.uniform(-3, 2)
        for a, b in (("SOL", x), (y, "SOL"), (x, y)):
            for k in range(per_pair):
                depth = 10 ** rng.uniform(11, 13)  # 100 .. 10,000 SOL of value per side
                skew = rng.uniform(-0.01, 0.01)
                specs.append(R.PoolSpec(kinds[(k + c) % 2], a, b))
                reserves.append((int(depth / price[a]) + 1, int(depth / price[b] * (1 + skew)) + 1))
    table = R.build_routes(specs, base_mints=("SOL",), cex_mints=tuple(price))
    arrays = layout.allocate(len(specs), len(table.mints))
    market = arrays.market
    costs.CostModel(cu_price_micro_lamports=10_000, tip_lamports=10_000, min_profit_lamports=10_000).write_to(
        market
    )
    sol_usd = 150.0
    market[layout.M_SOL_USD] = sol_usd
    for i, spec in enumerate(specs):
        ta, tb = table.token_index[spec.mint_a], table.token_index[spec.mint_b]
        layout.register_pool(arrays, i, spec.kind, ta, tb)
        num, den = fees[Venue(spec.kind)]
        layout.write_cp_pool(arrays, i, reserves[i][0], reserves[i][1], num, den, slot=1, recv_ns=0)
        layout.set_flags(arrays, i, tradable=True, settling=False)
    for mint, t in table.token_index.items():
        units = int(1e11 / price[mint])
        layout.write_token(
            market,
            t,
            balance=units,
            max_notional=units,
            usd_per_unit=price[mint] * sol_usd / 1e9 * rng.uniform(0.995, 1.005),
            is_sol=mint == "SOL",
        )
    return Synthetic(arrays, table, reserves)
