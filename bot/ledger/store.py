"""The two storage backends behind `Ledger`: one connection each, explicit transactions, `?` parameters.

SQLite (embedded default) runs in WAL mode, by default with `synchronous = FULL`. WAL with NORMAL
survives a crash of the process (kill -9 included) but "might roll back following a power loss or
system crash" (sqlite.org/pragma.html#pragma_synchronous); FULL syncs the WAL at every commit, so a
journal row that returned before the first send is still there after a power cut, which is the point of
the journal (a transaction that lands while its row is lost could be signed again). The cost is one
fsync per commit: 0.25-4 ms p50 on this machine's shared disk (1.2-1.7x a bare fdatasync of the same
bytes) against about 75 µs with NORMAL (benches/bench_ledger.py), which is why `[ledger] synchronous = "normal"` exists for a trader who accepts that risk for latency.
The database file is created 0600 (the WAL and shared-memory files take its mode, sqlite os_unix.c).

PostgreSQL (psycopg 3) serves several bot instances sharing inventory and risk limits; statements are
the same, `?` becomes `%s`. "normal" there is `synchronous_commit = off` for this session (a server
crash may lose the last commits, never corrupts). A broken connection is reopened by the next transaction.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from bot.ledger.errors import LedgerError, LedgerInvalid, LedgerNotFound

Params = Sequence[Any]


class Tx(Protocol):
    def run(self, sql: str, params: Params = ()) -> int: ...  # rows affected
    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]: ...


class Store(Protocol):
    dialect: str
    where: str  # what to name in error lines: the path, or the server without credentials

    def tx(self, *, write: bool) -> contextlib.AbstractContextManager[Tx]: ...
    def close(self) -> None: ...


# --- SQLite ---------------------------------------------------------------------------------------
class _SqliteTx:
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def run(self, sql: str, params: Params = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()


def _private_file(path: Path) -> None:
    """Create `path` 0600 if missing; tighten an existing ledger (and its WAL files) to 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(side, 0o600)


class SqliteStore:
    dialect = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        synchronous: str = "full",
        busy_timeout_s: float = 5.0,
    ) -> None:
        p = Path(path)
        self.where = str(p)
        if not p.exists() and not create:
            raise LedgerNotFound(
                f"ledger {p}: no such file (pass --ledger PATH or -c CONFIG; the bot creates it on its first run)"
            )
        try:
            _private_file(p)
        except OSError as err:
            raise LedgerError(f"ledger {p}: cannot create: {err.strerror}") from err
        try:
            # isolation_level=None: no implicit transactions; `tx` issues BEGIN / COMMIT itself.
            self._conn = sqlite3.connect(
                p, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
            )
        except sqlite3.Error as err:
            raise LedgerError(f"ledger {p}: cannot open: {err}") from err
        try:
            mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self._conn.execute(
                "PRAGMA synchronous = NORMAL" if synchronous == "normal" else "PRAGMA synchronous = FULL"
            )
        except sqlite3.DatabaseError as err:
            self._conn.close()
            raise LedgerInvalid(
                f"ledger {p}: not a SQLite database ({err}); point --ledger at the bot's ledger file"
            ) from err
        if str(mode).lower() != "wal":
            self._conn.close()
            raise LedgerError(
                f"ledger {p}: the file system refused WAL mode (got {mode}); put the ledger on a local disk"
            )

    @contextlib.contextmanager
    def tx(self, *, write: bool) -> Iterator[Tx]:
        conn = self._conn
        try:
            # IMMEDIATE takes the write lock at once, so two writers wait (busy timeout) instead of failing.
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as err:
            raise self._error(err) from err
        try:
            yield _SqliteTx(conn)
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc) from exc
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as err:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise self._error(err) from err

    def _error(self, err: sqlite3.Error) -> LedgerError | LedgerInvalid:
        if isinstance(err, sqlite3.DatabaseError) and "not a database" in str(err):
            return LedgerInvalid(
                f"ledger {self.where}: not a SQLite database; point --ledger at the bot's ledger file"
            )
        return LedgerError(f"ledger {self.where}: {err.__class__.__name__}: {err}")

    def close(self) -> None:
        self._conn.close()


# --- PostgreSQL -----------------------------------------------------------------------------------
def describe_dsn(dsn: str) -> str:
    """`postgres host:port/dbname`: the server without user or password, for error lines."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # psycopg raises ProgrammingError; never echo the DSN itself
        return "postgres <unparsable DSN>"
    host = str(parts.get("host") or "localhost")
    port = str(parts.get("port") or "5432")
    return f"postgres {host}:{port}/{parts.get('dbname') or ''}"


class _PgTx:
    __slots__ = ("_cur",)

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def run(self, sql: str, params: Params = ()) -> int:
        self._cur.execute(_pg_sql(sql), params)
        return int(self._cur.rowcount)

    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        self._cur.execute(_pg_sql(sql), params)
        return list(self._cur.fetchall())


_PG_SQL: dict[str, str] = {}


def _pg_sql(sql: str) -> str:
    # Our statements hold no '?' or '%' literals, so the placeholder swap is a plain replace.
    out = _PG_SQL.get(sql)
    if out is None:
        out = _PG_SQL[sql] = sql.replace("?", "%s")
    return out


class PostgresStore:
    dialect = "postgres"

    def __init__(self, dsn: str, *, synchronous: str = "full", connect_timeout_s: int = 5) -> None:
        import psycopg

        self._psycopg = psycopg
        self._dsn = dsn
        self._timeout = connect_timeout_s
        self._synchronous = synchronous
        self.where = describe_dsn(dsn)
        try:
            psycopg.conninfo.conninfo_to_dict(dsn)
        except psycopg.Error:
            raise LedgerInvalid(
                "[ledger] postgres_dsn: not a valid PostgreSQL connection string "
                "(expected postgresql://user:pass@host:5432/db or host=... dbname=...)"
            ) from None
        self._conn: Any = None
        self._connect()

    def _connect(self) -> Any:
        try:
            self._conn = self._psycopg.connect(self._dsn, autocommit=True, connect_timeout=self._timeout)
            if self._synchronous == "normal":
                self._conn.execute("SET synchronous_commit TO off")
        except self._psycopg.Error as err:
            raise LedgerError(f"ledger {self.where}: cannot connect: {_first_line(err)}") from err
        return self._conn

    @contextlib.contextmanager
    def tx(self, *, write: bool) -> Iterator[Tx]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            conn = self._connect()
        try:
            with conn.transaction(), conn.cursor() as cur:
                yield _PgTx(cur)
        except self._psycopg.Error as err:
            raise LedgerError(f"ledger {self.where}: {err.__class__.__name__}: {_first_line(err)}") from err

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else err.__class__.__name__
