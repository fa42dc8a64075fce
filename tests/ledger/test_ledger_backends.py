"""The ledger's behaviour, run against SQLite and a real PostgreSQL server alike (`backend` param)."""

from __future__ import annotations

import random

import pytest

from bot.ledger import (
    JournalConflict,
    JournalEntry,
    JournalState,
    LedgerInvalid,
    Outcome,
    Trade,
    plan_lookup_tables,
)
from bot.ledger.model import NS_PER_DAY, WSOL_MINT

USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
SECOND = 10**9


def entry(sig: str, route: str = "r1", opp: str = "o1", **kw: object) -> JournalEntry:
    fields: dict[str, object] = {
        "signature": sig,
        "route_id": route,
        "opportunity_id": opp,
        "signed_tx": bytes(range(256)) + sig.encode(),
        "blockhash": "GHtXQBsoZHVnNFa9YevAzFr17DJjgHXk3ycTKD5xD3Zi",
        "last_valid_block_height": 1_000_150,
        "expected_net_lamports": 12_345,
        "created_ns": 0,
    }
    fields.update(kw)
    return JournalEntry(**fields)  # type: ignore[arg-type]


def landed(
    sig: str, route: str = "r1", gain: int = 20_000, fee: int = 5_000, tip: int = 0, **kw: object
) -> Trade:
    """A wSOL-start trade whose wSOL account gained `gain` and whose payer paid `fee` + `tip`."""
    fields: dict[str, object] = {
        "signature": sig,
        "route_id": route,
        "opportunity_id": f"opp-{sig}",
        "outcome": Outcome.LANDED,
        "pre_amount": 5_000_000_000,
        "post_amount": 5_000_000_000 + gain,
        "pre_lamports": 2_000_000_000,
        "post_lamports": 2_000_000_000 - fee - tip,
        "fee_lamports": fee,
        "tip_lamports": tip,
        "expected_net_lamports": gain - fee - tip,
        "slot": 77,
        "legs": 2,
        "amount_in": 1_000_000_000,
        "decision_to_sign_ns": 40_000,
        "sign_to_send_ns": 90_000,
        "send_to_confirm_ns": 410_000_000,
    }
    fields.update(kw)
    return Trade(**fields)  # type: ignore[arg-type]


def reverted(
    sig: str, route: str = "r1", fee: int = 5_000, error: str = "InstructionError(2, Custom(6005))"
) -> Trade:
    return landed(sig, route, gain=0, fee=fee, outcome=Outcome.REVERTED, error=error)


# ---- journal -------------------------------------------------------------------------------------
def test_journal_survives_reopen_with_its_signed_bytes(open_ledger, clock, backend):
    led = open_ledger()
    assert led.dialect == backend
    written = led.write_journal(entry("sigA"))
    led.close()
    again = open_ledger()
    got = again.journal_entry("sigA")
    assert got == written
    assert got.signed_tx == bytes(range(256)) + b"sigA"
    assert got.created_ns == clock.now and got.state is JournalState.IN_FLIGHT and got.instance == "default"
    assert again.in_flight() == [written]


def test_journal_transitions(open_ledger):
    led = open_ledger()
    led.write_journal(entry("s1"))
    with pytest.raises(JournalConflict, match="already journalled"):
        led.write_journal(entry("s1"))
    led.mark_unknown("s1", "shutdown before confirmation")
    assert led.journal_entry("s1").state is JournalState.UNKNOWN
    led.mark_unknown("s1", "still unknown")  # unknown -> unknown: reconciliation learnt nothing new
    assert led.journal_entry("s1").error == "still unknown"
    assert [e.signature for e in led.in_flight()] == ["s1"]  # unknown rows are reconciled too

    booked = led.record_trade(reverted("s1"))
    row = led.journal_entry("s1")
    assert (
        row.state is JournalState.REVERTED
        and row.error == "InstructionError(2, Custom(6005))"
        and row.slot == 77
    )
    assert booked is not None and booked.realized_lamports == -5_000
    with pytest.raises(JournalConflict, match="already reverted"):
        led.mark_unknown("s1")
    with pytest.raises(JournalConflict, match="not in the journal"):
        led.mark_unknown("never-sent")
    assert led.in_flight() == []

    for sig, outcome in (("s2", Outcome.LANDED), ("s3", Outcome.EXPIRED)):
        led.write_journal(entry(sig))
        trade = (
            landed(sig) if outcome is Outcome.LANDED else landed(sig, gain=0, fee=0, outcome=Outcome.EXPIRED)
        )
        led.record_trade(trade)
        assert led.journal_entry(sig).state.value == outcome.value


def test_in_flight_lists_unresolved_rows_oldest_first_per_instance(open_ledger, clock):
    a = open_ledger(instance="a")
    b = open_ledger(instance="b")
    for i in range(5):
        a.write_journal(entry(f"a{i}", opp=f"oa{i}"))
        clock.advance(SECOND)
        b.write_journal(entry(f"b{i}", opp=f"ob{i}"))
        clock.advance(SECOND)
    a.record_trade(landed("a1"))
    a.mark_unknown("a3")
    assert [e.signature for e in a.in_flight()] == ["a0", "a2", "a3", "a4"]
    assert [e.signature for e in b.in_flight()] == [f"b{i}" for i in range(5)]
    assert [e.signature for e in a.in_flight(all_instances=True)] == [
        "a0",
        "b0",
        "b1",
        "a2",
        "b2",
        "a3",
        "b3",
        "a4",
        "b4",
    ]
    assert {e.instance for e in b.in_flight()} == {"b"}


def test_journal_by_opportunity(open_ledger, clock):
    led = open_ledger()
    led.write_journal(entry("first", opp="opp-7"))
    clock.advance(SECOND)
    led.write_journal(entry("other", opp="opp-8"))
    led.record_trade(landed("first", gain=0, fee=0, outcome=Outcome.EXPIRED))
    clock.advance(SECOND)
    led.write_journal(entry("retry", opp="opp-7"))
    got = led.journal_for_opportunity("opp-7")
    assert [(e.signature, e.state) for e in got] == [
        ("first", JournalState.EXPIRED),
        ("retry", JournalState.IN_FLIGHT),
    ]
    assert led.journal_for_opportunity("nothing") == []


# ---- trades and PnL --------------------------------------------------------------------------------
def test_trade_round_trips_exact_integers(open_ledger, clock):
    led = open_ledger()
    big = 2**64 - 1  # u64 raw amounts do not fit a signed 64-bit column: kept exactly
    t = landed("t1", mint=USDC, pre_amount=big - 1_000, post_amount=big, realized_lamports=6_700, tip=1_000)
    booked = led.record_trade(t)
    led.close()
    (got,) = open_ledger().trades()
    assert got == booked
    assert got.pre_amount == big - 1_000 and got.post_amount == big and got.token_delta == 1_000
    assert got.fee_lamports == 5_000 and got.tip_lamports == 1_000 and got.sol_delta == -6_000
    assert got.realized_lamports == 6_700 and got.recorded_ns == clock.now and got.day == "2026-05-20"
    assert (got.decision_to_sign_ns, got.sign_to_send_ns, got.send_to_confirm_ns) == (
        40_000,
        90_000,
        410_000_000,
    )


def test_realized_pnl_comes_from_the_balances(open_ledger):
    led = open_ledger()
    booked = led.record_trade(landed("w1", gain=20_000, fee=5_000, tip=2_000))
    assert booked.realized_lamports == 13_000  # wSOL +20,000, payer -7,000
    with pytest.raises(ValueError, match="!= wSOL change"):
        led.record_trade(landed("w2", realized_lamports=1))
    with pytest.raises(ValueError, match="pass realized_lamports"):
        led.record_trade(landed("w3", mint=USDC))
    assert [t.signature for t in led.trades()] == ["w1"]


def test_booking_a_signature_twice_books_it_once(open_ledger):
    first = open_ledger(instance="a")
    second = open_ledger(instance="b")
    first.write_journal(entry("dup"))
    assert first.record_trade(landed("dup")) is not None
    assert second.record_trade(landed("dup")) is None  # e.g. two instances reconciling the same row
    assert first.realized_total() == 15_000
    assert first.daily_pnl().trades == 1


def test_pnl_sums_equal_the_sum_of_realized(open_ledger, clock):
    rng = random.Random(16)
    led = open_ledger()
    expected_total = 0
    per_day: dict[str, int] = {}
    for i in range(60):
        clock.advance(rng.randrange(1, 6 * 3600) * SECOND)  # crosses several UTC days
        if rng.random() < 0.3:
            t = reverted(f"x{i}", fee=rng.randrange(5_000, 50_000))
        else:
            t = landed(
                f"x{i}",
                gain=rng.randrange(0, 10**7),
                fee=rng.randrange(5_000, 50_000),
                tip=rng.randrange(0, 10**5),
            )
        booked = led.record_trade(t)
        expected_total += booked.realized_lamports
        per_day[booked.day] = per_day.get(booked.day, 0) + booked.realized_lamports
    assert len(per_day) >= 3
    assert led.realized_total() == expected_total == sum(t.realized_lamports for t in led.trades())
    history = led.daily_history()
    assert {d.day: d.realized_lamports for d in history} == per_day
    assert sum(d.trades for d in history) == 60
    assert led.daily_pnl(history[0].day).realized_lamports == per_day[history[0].day]


def test_trades_window(open_ledger, clock):
    led = open_ledger()
    t0 = clock.now
    for i in range(4):
        led.record_trade(landed(f"w{i}"))
        clock.advance(SECOND)
    assert [t.signature for t in led.trades(since_ns=t0 + SECOND, until_ns=t0 + 3 * SECOND)] == ["w1", "w2"]


def test_daily_pnl_adds_every_instances_latest_mark(open_ledger, clock):
    a = open_ledger(instance="a")
    b = open_ledger(instance="b")
    a.record_trade(reverted("m1", fee=10_000))
    a.mark(-30_000)
    a.mark(-40_000)  # the latest mark replaces the last
    b.mark(5_000)
    day = a.daily_pnl()
    assert (day.realized_lamports, day.marked_lamports, day.total_lamports, day.loss_lamports) == (
        -10_000,
        -35_000,
        -45_000,
        45_000,
    )
    clock.advance(NS_PER_DAY)
    assert a.daily_pnl().loss_lamports == 0


# ---- risk state ------------------------------------------------------------------------------------
def test_kill_switch_persists_until_reset(open_ledger, clock):
    led = open_ledger(instance="a")
    assert not led.kill_switch().tripped
    tripped = led.trip_kill_switch("daily loss 100 reached")
    clock.advance(SECOND)
    again = led.trip_kill_switch("a later reason")
    assert again == tripped  # the first reason and time stay
    led.close()
    other = open_ledger(instance="b")
    ks = other.kill_switch()
    assert ks.tripped and ks.reason == "daily loss 100 reached" and ks.since_ns == clock.now - SECOND
    assert ks.instance == "a"
    assert other.reset_kill_switch() == ks
    other.close()
    assert not open_ledger().kill_switch().tripped


def test_risk_state_survives_reopen(open_ledger, clock):
    led = open_ledger()
    led.quarantine("r7", "reverted on unchanged pool state")
    assert led.count_revert("r8") == 1
    assert led.count_revert("r8") == 2
    led.record_trade(reverted("q1"))
    led.mark(-1_000)
    led.trip_kill_switch("manual")
    led.close()
    st = open_ledger().risk_state()
    assert st.kill_switch.tripped and st.kill_switch.reason == "manual"
    assert [(q.route_id, q.reason, q.since_ns) for q in st.quarantined] == [
        ("r7", "reverted on unchanged pool state", clock.now)
    ]
    assert (st.daily.realized_lamports, st.daily.marked_lamports) == (-5_000, -1_000)
    assert open_ledger().revert_streaks() == {"r8": 2}


def test_quarantine_records(open_ledger, clock):
    led = open_ledger()
    first = led.quarantine("r1", "first reason")
    clock.advance(SECOND)
    assert led.quarantine("r1", "second reason") == first
    led.quarantine("r2", "other")
    led.count_revert("r1")
    assert [q.route_id for q in led.quarantined()] == ["r1", "r2"]
    assert led.unquarantine("r1") is True
    assert led.unquarantine("r1") is False
    assert [q.route_id for q in led.quarantined()] == ["r2"]
    assert "r1" not in led.revert_streaks()  # a released route starts a fresh streak


# ---- lookup tables ---------------------------------------------------------------------------------
def _keys(n: int, tag: str) -> list[str]:
    return [f"{tag}{i:02d}Addr1111111111111111111111111111" for i in range(n)]


def test_lookup_tables_are_reused_by_a_second_run(open_ledger, clock):
    needed = _keys(30, "A")
    run1 = open_ledger()
    assert plan_lookup_tables(run1.lookup_tables("auth"), needed, "auth") == ([], needed)
    run1.record_lookup_table("Table1", "auth", needed[:20])
    rec = run1.record_lookup_table("Table1", "auth", needed)  # extended: the full content again
    assert rec.addresses == tuple(needed) and rec.created_ns == clock.now
    run1.close()

    clock.advance(3600 * SECOND)
    run2 = open_ledger()
    tables = run2.lookup_tables("auth")
    assert [t.address for t in tables] == ["Table1"] and tables[0].addresses == tuple(needed)
    more = [*needed[:10], *_keys(3, "B")]
    reuse, missing = plan_lookup_tables(tables, more, "auth")
    assert [t.address for t in reuse] == ["Table1"] and missing == _keys(3, "B")
    assert plan_lookup_tables(tables, needed, "other-authority") == ([], needed)
    run2.touch_lookup_tables(["Table1"])
    assert run2.lookup_tables()[0].last_used_ns == clock.now


def test_lookup_table_cleanup_records(open_ledger):
    led = open_ledger()
    led.record_lookup_table("T1", "auth", _keys(3, "A"))
    led.record_lookup_table("T2", "auth", _keys(3, "B"))
    led.mark_lookup_table_deactivated("T1", 9_000)
    t1 = next(t for t in led.lookup_tables() if t.address == "T1")
    assert t1.deactivated_slot == 9_000 and not t1.active
    assert plan_lookup_tables(led.lookup_tables(), _keys(3, "A"), "auth") == ([], _keys(3, "A"))
    led.mark_lookup_table_closed("T1")
    assert [t.address for t in led.lookup_tables()] == ["T2"]
    assert [t.address for t in led.lookup_tables(include_closed=True)] == ["T1", "T2"]


# ---- schema ----------------------------------------------------------------------------------------
def test_reopen_keeps_the_schema_and_refuses_a_newer_one(open_ledger):
    led = open_ledger()
    assert led.schema_version() == 1
    led._write(lambda tx: tx.run("UPDATE ledger_meta SET value = '99' WHERE key = 'schema_version'"))
    led.close()
    with pytest.raises(LedgerInvalid, match="schema version 99 is newer"):
        open_ledger()


def test_wsol_default_mint_is_the_native_mint():
    assert Trade("s", "r", "o", Outcome.LANDED).mint == WSOL_MINT
