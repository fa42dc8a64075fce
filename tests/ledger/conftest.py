"""Ledger fixtures: a throwaway PostgreSQL server for the session, and `open_ledger` over both backends.

The server is Debian's postgresql (installed by `make postgres`, which `make test` runs), started as the
`postgres` user when we are root (the server refuses to run as root) in a fresh directory under /tmp,
listening only on a unix socket there. `fsync=off`: the cluster is thrown away after the session and
the tests re-open connections, they do not crash the server. Each test gets its own schema.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.ledger import Ledger


class _Clock:
    """A wall clock the test moves by hand (ns since the epoch)."""

    def __init__(self, start_ns: int) -> None:
        self.now = start_ns

    def __call__(self) -> int:
        return self.now

    def advance(self, ns: int) -> None:
        self.now += ns


def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """conninfo of a running throwaway server (no dbname)."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql: run `make postgres`")
    root = Path(tempfile.mkdtemp(prefix="solarb-pg-"))
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    data = root / "data"

    def run(*cmd: str) -> None:
        subprocess.run([*as_pg, *cmd], check=True, capture_output=True, timeout=120)

    try:
        run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "solarb",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-k {root} -c listen_addresses='' -c fsync=off -c max_connections=50",
            "start",
        )
    except subprocess.CalledProcessError as err:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"cannot start PostgreSQL: {err.stderr.decode()[-2000:]} {log[-2000:]}")
    try:
        yield f"host={root} user=solarb"
    finally:
        subprocess.run(
            [*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


_schema_numbers = itertools.count()


@pytest.fixture
def pg_dsn(postgres_server: str) -> Iterator[str]:
    """A fresh, empty schema on the session's server, first in the DSN's search_path (a database per
    test costs 0.3 s to create; a schema isolates the ledger's tables just as well)."""
    import psycopg

    name = f"ledger_test_{next(_schema_numbers)}"
    with psycopg.connect(f"{postgres_server} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    yield f"{postgres_server} dbname=postgres options='-c search_path={name}'"
    with psycopg.connect(f"{postgres_server} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture
def clock() -> _Clock:
    # 2026-05-20 12:00:00 UTC
    return _Clock(1_779_278_400 * 10**9)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ledger_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where the test's ledger lives: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        return str(tmp_path / "ledger.sqlite3")
    dsn: str = request.getfixturevalue("pg_dsn")
    return dsn


@pytest.fixture
def open_ledger(ledger_target: str, clock: _Clock) -> Iterator[Callable[..., Ledger]]:
    """`open_ledger(**kw)` opens (again) the test's ledger; every one opened is closed after the test."""
    opened: list[Ledger] = []

    def make(**kw: Any) -> Ledger:
        kw.setdefault("clock", clock)
        led = Ledger.open(ledger_target, **kw)
        opened.append(led)
        return led

    yield make
    for led in opened:
        led.close()
