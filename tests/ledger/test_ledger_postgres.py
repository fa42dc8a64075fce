"""PostgreSQL-only behaviour: DSN errors that keep the password out, reconnects, concurrent start-up."""

from __future__ import annotations

import threading

import psycopg
import pytest

from bot.ledger import JournalEntry, Ledger, LedgerError, LedgerInvalid
from bot.ledger.ledger import is_postgres_target


def test_targets_are_told_apart():
    assert is_postgres_target("postgresql://u:p@h/db")
    assert is_postgres_target("host=/tmp dbname=x")
    assert not is_postgres_target("data/ledger.sqlite3")


def test_a_malformed_dsn_is_one_line_without_the_dsn():
    with pytest.raises(LedgerInvalid, match="not a valid PostgreSQL connection string") as info:
        Ledger.open("host=/tmp dbname='unterminated password=hunter2")
    assert "hunter2" not in str(info.value)


def test_an_unreachable_server_names_the_host_not_the_password(tmp_path):
    with pytest.raises(LedgerError, match="cannot connect") as info:
        Ledger.open(f"postgresql://bot:hunter2@/ledger?host={tmp_path}&connect_timeout=2")
    msg = str(info.value)
    assert "hunter2" not in msg and str(tmp_path) in msg and "\n" not in msg


def test_a_dropped_connection_is_reopened(pg_dsn):
    with Ledger.open(pg_dsn) as led:
        led.trip_kill_switch("before")
        pid = led._store._conn.info.backend_pid
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(LedgerError):
            led.kill_switch()  # the transaction in progress fails: nothing pretends it succeeded
        assert led.kill_switch().reason == "before"  # the next one reconnects


def test_instances_starting_together_migrate_once(pg_dsn):
    errors: list[BaseException] = []
    ledgers: list[Ledger] = []
    lock = threading.Lock()

    def start(name: str) -> None:
        try:
            led = Ledger.open(pg_dsn, instance=name)
            with lock:
                ledgers.append(led)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=start, args=(f"i{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    for i, led in enumerate(ledgers):
        led.write_journal(JournalEntry(f"s{i}", "r", "o", b"x", "bh", 1, 0, 0))
    assert len(ledgers[0].in_flight(all_instances=True)) == 4
    for led in ledgers:
        led.close()
