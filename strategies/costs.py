"""Transaction cost model and profit thresholds, in exact integers.

Net profit = out - in - costs, all in the route's start token. Costs (protocols.md §6):
* base fee: 5,000 lamports per signature;
* priority fee: ceil(micro-lamports per CU x CU limit / 1,000,000) lamports — charged on the
  *requested* limit, so the limit is estimated per opportunity (legs by kind, CLMM ticks crossed);
* the Jito tip, in lamports.
Lamports are converted into the start token at the current SOL price (`layout.lamports_per_unit`).

The detector kernel computes the same quantities in float64 for screening; `confirm` uses these exact
functions on the chosen candidate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from strategies import layout
from strategies.venues import registry
from strategies.venues.orca_whirlpool import CU_PER_TICK_CROSSED

LAMPORTS_PER_SIGNATURE = 5_000
MAX_CU_LIMIT = 1_400_000


@dataclass(frozen=True, slots=True)
class CostModel:
    """Cost parameters and thresholds; `write_to(market)` loads them into the market vector.

    `cu_per_leg` maps a pool kind (a `Venue` value) to the CU one swap leg of that kind needs
    (default: each adapter's estimate).
    `min_profit_lamports` is the absolute threshold valued in lamports (converted per start token);
    `min_profit_bps` is relative to amount_in. `depth_frac` caps each leg's input at that fraction of
    the leg's input reserve. `slippage_bps` sets the min-outs of the confirmed legs.
    """

    cu_price_micro_lamports: int = 0
    tip_lamports: int = 0
    signatures: int = 1
    cu_base: int = 20_000
    cu_per_leg: dict[int, int] = field(
        default_factory=lambda: {int(v): a.compute_units() for v, a in registry.ADAPTERS.items()}
    )
    cu_per_tick: int = CU_PER_TICK_CROSSED  # the only venue whose legs cross ticks
    cu_max: int = MAX_CU_LIMIT
    min_profit_lamports: int = 0
    min_profit_bps: float = 0.0
    depth_frac: float = 0.2
    slippage_bps: int = 10
    search_iterations: int = 48

    def write_to(self, market: layout.F64Array) -> None:
        """Copy the parameters into the market vector read by the detector kernel."""
        market[layout.M_CU_PRICE_MICRO] = float(self.cu_price_micro_lamports)
        market[layout.M_TIP_LAMPORTS] = float(self.tip_lamports)
        market[layout.M_SIGNATURE_LAMPORTS] = float(LAMPORTS_PER_SIGNATURE * self.signatures)
        market[layout.M_CU_BASE] = float(self.cu_base)
        for kind, cu in self.cu_per_leg.items():
            market[layout.M_CU_LEG + kind] = float(cu)
        market[layout.M_CU_PER_TICK] = float(self.cu_per_tick)
        market[layout.M_CU_MAX] = float(self.cu_max)
        market[layout.M_MIN_PROFIT_LAMPORTS] = float(self.min_profit_lamports)
        market[layout.M_MIN_PROFIT_BPS] = float(self.min_profit_bps)
        market[layout.M_DEPTH_FRAC] = float(self.depth_frac)
        market[layout.M_SEARCH_ITERS] = float(self.search_iterations)


def estimate_cu_limit(market: layout.F64Array, kinds: tuple[int, ...], ticks_crossed: int = 0) -> int:
    """CU limit for a transaction with one swap leg per entry of `kinds`, capped at the tx maximum."""
    cu = market[layout.M_CU_BASE]
    for kind in kinds:
        cu += market[layout.M_CU_LEG + kind]
    cu += ticks_crossed * market[layout.M_CU_PER_TICK]
    return int(min(cu, market[layout.M_CU_MAX]))


def priority_fee_lamports(cu_price_micro_lamports: int, cu_limit: int) -> int:
    """ceil(price x limit / 1e6) lamports, exact."""
    return -(-(cu_price_micro_lamports * cu_limit) // 1_000_000)


def cost_lamports(market: layout.F64Array, cu_limit: int) -> int:
    """Signature fees + priority fee + tip, in lamports, exact."""
    return (
        int(market[layout.M_SIGNATURE_LAMPORTS])
        + priority_fee_lamports(int(market[layout.M_CU_PRICE_MICRO]), cu_limit)
        + int(market[layout.M_TIP_LAMPORTS])
    )


def lamports_to_token_ceil(lamports: int, lamports_per_unit: float) -> int:
    """Raw units of a token worth at least `lamports` (rounded against us). Unknown price -> ValueError."""
    if not lamports_per_unit > 0.0 or math.isinf(lamports_per_unit):
        raise ValueError("token has no price: cannot value lamport costs in it")
    if lamports_per_unit == 1.0:
        return lamports
    return math.ceil(lamports / lamports_per_unit)


def passes_thresholds(net: int, amount_in: int, min_profit_token: int, min_profit_bps: float) -> bool:
    """True when the net profit clears both the absolute and the relative (bps) thresholds."""
    return net > 0 and net >= min_profit_token and net * 10_000 >= min_profit_bps * amount_in


TIP_POLICIES = ("none", "fixed", "share")
BPS = 10_000


def tip_lamports(policy: str, expected_profit_lamports: int, floor: int, cap: int, share_bps: int) -> int:
    """The Jito tip of one bundle, in lamports, exact.

    "none": 0. "fixed": `floor`. "share": `share_bps` / 10,000 of the expected profit (rounded down), raised
    to `floor` and lowered to `cap` (so a trade expected to earn nothing still tips `floor`: the caller
    counts the tip in the costs and drops trades it makes unprofitable). Bad parameters: ValueError.
    """
    if policy not in TIP_POLICIES:
        raise ValueError(f"tip policy {policy!r} is not one of {', '.join(TIP_POLICIES)}")
    if not 0 <= floor <= cap:
        raise ValueError(f"tip floor and cap must satisfy 0 <= floor <= cap, got floor {floor}, cap {cap}")
    if not 0 <= share_bps <= BPS:
        raise ValueError(f"tip share must be 0..{BPS} bps, got {share_bps}")
    if policy == "none":
        return 0
    if policy == "fixed":
        return floor
    share = max(expected_profit_lamports, 0) * share_bps // BPS
    return min(max(share, floor), cap)
