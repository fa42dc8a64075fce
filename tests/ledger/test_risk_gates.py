"""RiskGates over both backends: each gate, the daily loss limit and its UTC rollover (injected clock),
the kill switch across restarts, and route quarantine."""

from __future__ import annotations

import pytest
from test_ledger_backends import SECOND, landed, reverted

from bot.ledger import Gate, Outcome, RiskGates, RiskLimits
from bot.ledger.model import NS_PER_DAY

LIMITS = RiskLimits(
    max_notional_lamports=10_000_000_000,
    max_in_flight=2,
    min_sol_lamports=50_000_000,
    max_daily_loss_lamports=100_000,
    price_band_bps=500,
    quarantine_after_reverts=2,
)
OK = {"notional_lamports": 1_000_000_000, "in_flight": 0, "sol_balance_lamports": 1_000_000_000}


def loss(sig: str, lamports: int, route: str = "r1"):
    """A landed trade that lost `lamports` (paid in fee, gained nothing): it ends no revert streak."""
    return landed(sig, route, gain=0, fee=lamports)


def test_each_gate_refuses_with_its_reason(open_ledger):
    gates = RiskGates(open_ledger(), LIMITS)
    assert gates.check("r1", **OK) is None
    cases = [
        ({"notional_lamports": 10_000_000_001}, Gate.NOTIONAL, "exceeds max_notional_lamports 10000000000"),
        ({"in_flight": 2}, Gate.IN_FLIGHT, "2 trades in flight, max_in_flight is 2"),
        (
            {"sol_balance_lamports": 50_004_999, "cost_lamports": 5_000},
            Gate.SOL_BALANCE,
            "below the 50000000",
        ),
        ({"pool_price": 158.0, "cex_price": 150.0}, Gate.PRICE_BAND, "533 bps from the CEX mid 150"),
        ({"pool_price": float("nan"), "cex_price": 150.0}, Gate.PRICE_BAND, "bps from the CEX mid"),
    ]
    for change, gate, text in cases:
        refusal = gates.check("r1", **{**OK, **change})
        assert refusal is not None and refusal.gate is gate and text in refusal.reason, change
    # At the limits themselves the trade may go.
    edge = {"notional_lamports": 10_000_000_000, "in_flight": 1, "sol_balance_lamports": 50_005_000}
    assert gates.check("r1", **edge, cost_lamports=5_000, pool_price=157.5, cex_price=150.0) is None
    assert gates.check("r1", **OK, pool_price=1e9, cex_price=None) is None  # no CEX reference: no band


def test_kill_switch_trips_at_the_daily_loss_and_survives_a_restart(open_ledger, clock):
    gates = RiskGates(open_ledger(), LIMITS)
    assert gates.record_trade(loss("l1", 60_000)).tripped is None
    assert gates.check("r1", **OK) is None
    booked = gates.record_trade(loss("l2", 40_000))  # the day's loss is now 100,000 = the limit
    assert booked.tripped is not None and "daily loss 100000 lamports on 2026-05-20" in booked.tripped.reason
    refusal = gates.check("r2", **OK)
    assert refusal.gate is Gate.KILL_SWITCH and "`solarb risk reset`" in refusal.reason
    assert "max_daily_loss_lamports 100000" in refusal.reason

    # A restart (new process: new ledger connection, new gates) is still halted, a day later too.
    gates.ledger.close()
    clock.advance(NS_PER_DAY)
    restarted = RiskGates(open_ledger(), LIMITS)
    assert restarted.check("r1", **OK).gate is Gate.KILL_SWITCH
    restarted.ledger.reset_kill_switch()
    restarted.refresh()
    assert restarted.check("r1", **OK) is None  # a new day: yesterday's loss no longer counts


def test_a_reset_on_the_same_day_trips_again_while_the_loss_stands(open_ledger):
    gates = RiskGates(open_ledger(), LIMITS)
    gates.record_trade(loss("l1", 150_000))
    assert gates.check("r1", **OK).gate is Gate.KILL_SWITCH
    gates.ledger.reset_kill_switch()
    gates.refresh()
    assert gates.check("r1", **OK).gate is Gate.KILL_SWITCH


def test_the_daily_loss_rolls_over_at_the_utc_day_boundary(open_ledger, clock):
    clock.now = (clock.now // NS_PER_DAY + 1) * NS_PER_DAY - 2 * SECOND  # 23:59:58 UTC
    gates = RiskGates(open_ledger(), LIMITS)
    gates.record_trade(loss("l1", 90_000))
    assert gates.check("r1", **OK) is None
    clock.advance(4 * SECOND)  # 00:00:02 the next day: check() notices the new day by itself
    assert gates.check("r1", **OK) is None
    assert gates.state.daily.day == "2026-05-21" and gates.state.daily.loss_lamports == 0
    assert gates.record_trade(loss("l2", 90_000)).tripped is None  # 90,000 today, not 180,000
    assert gates.record_trade(loss("l3", 10_000)).tripped is not None
    assert gates.ledger.daily_pnl("2026-05-20").loss_lamports == 90_000


def test_marked_to_market_losses_count(open_ledger):
    gates = RiskGates(open_ledger(), LIMITS)
    gates.record_trade(loss("l1", 30_000))
    assert gates.mark(-60_000) is None
    assert gates.check("r1", **OK) is None
    assert gates.mark(-70_000) is not None  # 30,000 realized + 70,000 unrealized
    assert gates.check("r1", **OK).gate is Gate.KILL_SWITCH


def test_a_loss_booked_by_another_instance_counts_after_refresh(open_ledger):
    a = RiskGates(open_ledger(instance="a"), LIMITS)
    b = RiskGates(open_ledger(instance="b"), LIMITS)
    a.record_trade(loss("a1", 60_000))
    b.record_trade(loss("b1", 60_000))  # the shared day's loss is 120,000: b trips the switch
    assert b.check("r1", **OK).gate is Gate.KILL_SWITCH
    assert a.check("r1", **OK) is None  # a has not looked at the ledger since
    a.refresh()
    assert a.check("r1", **OK).gate is Gate.KILL_SWITCH


def test_revert_on_unchanged_pool_state_quarantines_at_once(open_ledger):
    gates = RiskGates(open_ledger(), LIMITS)
    booked = gates.record_trade(reverted("v1", "bad-route", error="Custom(6001)"), pool_state_unchanged=True)
    assert booked.quarantined is not None and booked.quarantined.route_id == "bad-route"
    assert "reverted on unchanged pool state (Custom(6001))" in booked.quarantined.reason
    refusal = gates.check("bad-route", **OK)
    assert refusal.gate is Gate.QUARANTINE and "`solarb risk reset --route bad-route`" in refusal.reason
    assert gates.check("other", **OK) is None


def test_consecutive_reverts_on_changed_state_quarantine_after_n(open_ledger):
    led = open_ledger()
    gates = RiskGates(led, LIMITS)
    assert gates.record_trade(reverted("c1", "r1")).quarantined is None
    assert gates.record_trade(landed("c2", "r1")).quarantined is None  # a landing ends the streak
    assert gates.record_trade(reverted("c3", "r1")).quarantined is None
    assert gates.check("r1", **OK) is None
    q = gates.record_trade(reverted("c4", "r1", error="Custom(1)")).quarantined
    assert q is not None and q.reason == "2 consecutive reverts (last: Custom(1))"
    assert gates.check("r1", **OK).gate is Gate.QUARANTINE
    # Expired trades say nothing about the route's model.
    assert gates.record_trade(landed("c5", "r2", gain=0, fee=0, outcome=Outcome.EXPIRED)).quarantined is None

    led.close()
    restarted = RiskGates(open_ledger(), LIMITS)
    assert restarted.check("r1", **OK).gate is Gate.QUARANTINE
    assert restarted.ledger.unquarantine("r1")
    restarted.refresh()
    assert restarted.check("r1", **OK) is None
    assert restarted.record_trade(reverted("c6", "r1")).quarantined is None  # the streak starts again


def test_a_streak_survives_a_restart(open_ledger):
    led = open_ledger()
    RiskGates(led, LIMITS).record_trade(reverted("s1", "r9"))
    led.close()
    again = RiskGates(open_ledger(), LIMITS)
    assert again.record_trade(reverted("s2", "r9")).quarantined is not None


def test_booking_the_same_trade_twice_changes_nothing(open_ledger):
    gates = RiskGates(open_ledger(), LIMITS)
    assert gates.record_trade(reverted("d1", "r1")) is not None
    assert gates.record_trade(reverted("d1", "r1")) is None
    assert gates.ledger.revert_streaks() == {"r1": 1}


def test_limits_are_validated():
    with pytest.raises(ValueError):
        RiskLimits(1, 1, 0, 0, 1, quarantine_after_reverts=0)
