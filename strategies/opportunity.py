"""The Opportunity record: one confirmed, exactly quoted trade handed from the detector to execution."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OpportunityLeg:
    """One exactly quoted swap: pool row, kind (layout.KIND_*), direction (routes.DIR_*), tokens and
    integer amounts. `min_out` is the slippage floor to put in the instruction; `tick` the pool's
    current tick the quote ran at (CLMM: which tick arrays the swap is given; 0 for other kinds)."""

    pool: int
    kind: int
    direction: int
    token_in: int
    token_out: int
    amount_in: int
    amount_out: int
    min_out: int
    tick: int = 0


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A trade that cleared the exact confirm.

    Amounts are raw units of the route's start token unless named otherwise. `expected_net_profit` =
    final out (CEX-DEX routes: marked to market at the CEX price) - amount_in - `cost_token`.
    `slot` / `recv_ns` are those of the cache update that triggered the detection (monotonic ns).
    `estimated_net_profit` is the kernel's float screening estimate, kept for diagnostics.
    """

    route_id: int
    route_type: int  # routes.ROUTE_CYCLE or routes.ROUTE_CEX
    start_token: int
    end_token: int
    legs: tuple[OpportunityLeg, ...]
    amount_in: int
    amount_out: int  # exact out of the last leg, in end-token raw units
    cu_limit: int
    cost_lamports: int
    cost_token: int
    expected_net_profit: int
    slot: int
    recv_ns: int
    estimated_net_profit: float
