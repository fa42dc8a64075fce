from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.execution.guard import GuardError, plan_amounts
from strategies.opportunity import Opportunity, OpportunityLeg


def opp(amount_in: int, outs: list[int], mins: list[int], cost: int) -> Opportunity:
    legs = []
    x = amount_in
    for o, m in zip(outs, mins):
        legs.append(
            OpportunityLeg(
                pool=len(legs),
                kind=1,
                direction=0,
                token_in=0,
                token_out=0,
                amount_in=x,
                amount_out=o,
                min_out=m,
            )
        )
        x = o
    return Opportunity(
        route_id=7,
        route_type=0,
        start_token=0,
        end_token=0,
        legs=tuple(legs),
        amount_in=amount_in,
        amount_out=outs[-1],
        cu_limit=200_000,
        cost_lamports=cost,
        cost_token=cost,
        expected_net_profit=outs[-1] - amount_in - cost,
        slot=1,
        recv_ns=0,
        estimated_net_profit=0.0,
    )


@settings(max_examples=300, deadline=None)
@given(
    amount_in=st.integers(1, 10**15),
    outs=st.lists(st.integers(1, 10**16), min_size=1, max_size=3),
    slip=st.integers(0, 500),
    cost=st.integers(0, 10**6),
    min_profit=st.integers(0, 10**6),
)
def test_plan_is_chained_and_guarded(amount_in, outs, slip, cost, min_profit):
    mins = [o * (10_000 - slip) // 10_000 for o in outs]
    o = opp(amount_in, outs, mins, cost)
    floor = amount_in + cost + min_profit
    if outs[-1] < floor or any(m <= 0 for m in mins[:-1]):
        with pytest.raises(GuardError):
            plan_amounts(o, min_profit)
        return
    plan = plan_amounts(o, min_profit)
    assert plan[0][0] == amount_in
    for k in range(1, len(plan)):
        assert plan[k][0] == plan[k - 1][1]  # no leg spends what the previous did not produce
    assert plan[-1][1] >= floor  # the last leg reverts unless all costs + min_profit are made
    assert all(0 < m <= out for (_, m), out in zip(plan, outs))


def test_fee_dominated_is_refused():
    with pytest.raises(GuardError, match="amount_in \\+ costs"):
        plan_amounts(opp(1_000_000, [1_004_000], [1_004_000], 5_000), 0)
    assert plan_amounts(opp(1_000_000, [1_006_000], [1_006_000], 5_000), 1_000) == [(1_000_000, 1_006_000)]
