"""The guard every transaction carries: it reverts unless it ends at least all costs + min_profit up.

Leg k's amount_in is leg k-1's min_out, so no leg can spend inventory the previous leg did not
produce; the last leg's min_out is at least amount_in + costs (base fee, priority fee, tip, valued in
the start token) + min_profit. A landed transaction therefore never loses more than its fee.
"""

from __future__ import annotations

from strategies.opportunity import Opportunity


class GuardError(ValueError):
    """The opportunity cannot be expressed as a guarded transaction (it would not clear the guard)."""


def plan_amounts(
    opp: Opportunity, min_profit_token: int, cost_token: int | None = None
) -> list[tuple[int, int]]:
    """(amount_in, min_out) per leg, chained and guarded. Raises GuardError instead of planning a loss.

    `cost_token` is the trade's cost in the start token when the executor priced it again (a proven
    compute limit); default: the opportunity's own."""
    cost = opp.cost_token if cost_token is None else cost_token
    if not opp.legs:
        raise GuardError("opportunity without legs")
    if opp.start_token != opp.end_token:
        raise GuardError("only cycles are guarded by amounts; CEX-DEX trades need the inventory path")
    plan: list[tuple[int, int]] = []
    amount_in = opp.amount_in
    last = len(opp.legs) - 1
    for k, leg in enumerate(opp.legs):
        min_out = leg.min_out
        if k == last:
            floor = opp.amount_in + cost + min_profit_token
            if leg.amount_out < floor:
                raise GuardError(
                    f"route {opp.route_id}: exact out {leg.amount_out} < amount_in + costs + min_profit {floor}"
                )
            min_out = max(min_out, floor)
        if min_out <= 0 or min_out > leg.amount_out:
            raise GuardError(f"route {opp.route_id} leg {k}: min_out {min_out} outside (0, {leg.amount_out}]")
        plan.append((amount_in, min_out))
        amount_in = min_out
    return plan
