"""SQLite-only behaviour: crash safety under SIGKILL, file modes, files that are not ledgers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ledger import JournalState, Ledger, LedgerInvalid, LedgerNotFound

ROOT = Path(__file__).resolve().parents[2]

# Journals rows one after another and says each signature once its write returned; the parent kills it.
CHILD = """
import sys, time
from bot.ledger import Ledger, JournalEntry
led = Ledger.open(sys.argv[1])
n = int(sys.argv[2])
for i in range(n if n > 0 else 10**9):
    sig = f"sig{i:06d}"
    led.write_journal(JournalEntry(sig, "route-1", f"opp{i}", b"\\x00signed" + bytes([i % 256]) * 300, "bh",
                                   1_000 + i, 7, 0))
    sys.stdout.write(sig + "\\n")
    sys.stdout.flush()
time.sleep(60)
"""


def _child(path: Path, n: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(n)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )


def _kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def test_journal_row_survives_sigkill_right_after_the_write(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    proc = _child(path, 1)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "sig000000"
    _kill(proc)
    # The row is in the write-ahead log, not yet checkpointed into the main file: reopening replays it.
    assert (tmp_path / "ledger.sqlite3-wal").stat().st_size > 0
    with Ledger.open(str(path)) as led:
        got = led.journal_entry("sig000000")
        assert got is not None and got.state is JournalState.IN_FLIGHT
        assert got.signed_tx == b"\x00signed" + b"\x00" * 300 and got.last_valid_block_height == 1_000
        assert [e.signature for e in led.in_flight()] == ["sig000000"]


def test_sigkill_during_a_stream_of_writes_loses_no_acknowledged_row(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    proc = _child(path, 0)
    assert proc.stdout is not None
    acknowledged = [proc.stdout.readline().strip() for _ in range(40)]
    _kill(proc)  # most likely in the middle of the next write
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    with Ledger.open(str(path)) as led:
        present = {e.signature for e in led.in_flight()}
    assert set(acknowledged) <= present
    assert len(present) in (len(acknowledged), len(acknowledged) + 1)  # at most the unacknowledged next row


def test_files_are_private(tmp_path):
    path = tmp_path / "sub" / "ledger.sqlite3"
    with Ledger.open(str(path)) as led:
        led.trip_kill_switch("x")
        names = sorted(p.name for p in path.parent.iterdir())
        assert names == ["ledger.sqlite3", "ledger.sqlite3-shm", "ledger.sqlite3-wal"]
        for p in path.parent.iterdir():
            assert p.stat().st_mode & 0o777 == 0o600, p


def test_an_existing_world_readable_ledger_is_tightened(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    Ledger.open(str(path)).close()
    os.chmod(path, 0o644)
    Ledger.open(str(path)).close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_wal_mode_and_full_sync(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    with Ledger.open(str(path)) as led:
        mode = led._read(lambda tx: tx.rows("PRAGMA journal_mode"))[0][0]
        sync = led._read(lambda tx: tx.rows("PRAGMA synchronous"))[0][0]
    assert (mode, sync) == ("wal", 2)  # 2 = FULL


def test_a_missing_ledger_is_not_created_by_readers(tmp_path):
    path = tmp_path / "nope.sqlite3"
    with pytest.raises(LedgerNotFound, match="no such file"):
        Ledger.open(str(path), create=False)
    assert not path.exists()


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[ledger]\npath = 'x'\n" * 100)
    with pytest.raises(LedgerInvalid, match="not a SQLite database") as info:
        Ledger.open(str(path), create=False)
    assert "\n" not in str(info.value)


def test_a_foreign_sqlite_database_gets_the_schema_added(tmp_path):
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE unrelated (x INTEGER)")
    conn.commit()
    conn.close()
    with Ledger.open(str(path)) as led:
        assert led.schema_version() == 1
