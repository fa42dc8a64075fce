"""`Ledger`: the journal, trades, risk state and lookup tables, over SQLite or PostgreSQL.

Every method is one database transaction and returns only after it committed, so what a method
reports is on disk (SQLite: fsynced; PostgreSQL: committed on the server). Methods block: the runtime
calls them off the event loop's hot path (set-up, the submit task, reconciliation). One `Ledger` may be
shared by threads (a lock serializes its connection); several processes may share one database.

Trades and their PnL are booked by `record_trade`, which in the same transaction resolves the
transaction's journal row and adds to the day's realized PnL: a crash leaves either all three or none,
and booking a signature twice (two instances reconciling the same row) books it once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.ledger.config import LedgerConfig
from bot.ledger.errors import JournalConflict, LedgerInvalid
from bot.ledger.model import (
    UNRESOLVED,
    DailyPnl,
    JournalEntry,
    JournalState,
    KillSwitch,
    LookupTableRecord,
    Outcome,
    Quarantine,
    Trade,
    realized_lamports_of,
    utc_day,
)
from bot.ledger.schema import META_TABLE, MIGRATIONS, SCHEMA_VERSION, statements
from bot.ledger.store import PostgresStore, SqliteStore, Store, Tx

_PG_MIGRATION_LOCK = 0x501A2B  # pg_advisory_xact_lock key: instances starting together migrate one at a time

_JOURNAL_COLS = (
    "signature, instance, route_id, opportunity_id, signed_tx, blockhash, last_valid_block_height, "
    "expected_net_lamports, created_ns, state, error, slot, updated_ns"
)
_TRADE_COLS = (
    "signature, instance, route_id, opportunity_id, outcome, error, slot, mint, pre_amount, post_amount, "
    "pre_lamports, post_lamports, fee_lamports, tip_lamports, expected_net_lamports, realized_lamports, legs, "
    "amount_in, decision_to_sign_ns, sign_to_send_ns, send_to_confirm_ns, decided_ns, recorded_ns, day"
)
_LUT_COLS = "address, authority, addresses, created_ns, last_used_ns, deactivated_slot, closed_ns"


@dataclass(frozen=True, slots=True)
class RiskState:
    """The risk state read in one transaction: what `RiskGates.refresh` and `solarb risk` show."""

    kill_switch: KillSwitch
    quarantined: tuple[Quarantine, ...]
    daily: DailyPnl


def wall_clock_ns() -> int:
    return time.time_ns()


def is_postgres_target(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://")) or "dbname=" in target or "host=" in target


class Ledger:
    def __init__(
        self, store: Store, *, instance: str = "default", clock: Callable[[], int] = wall_clock_ns
    ) -> None:
        """Wrap an open store and bring its schema up to date. `clock` is wall-clock ns since the epoch:
        it stamps records and decides the UTC day (tests inject one)."""
        self._store = store
        self.instance = instance
        self.clock = clock
        self._lock = threading.Lock()
        self._migrate()

    # ---- opening ------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        target: str,
        *,
        instance: str = "default",
        create: bool = True,
        synchronous: str = "full",
        clock: Callable[[], int] = wall_clock_ns,
    ) -> Ledger:
        """A SQLite file path, or a PostgreSQL DSN (postgresql://... or key=value with host=/dbname=).
        `create=False` refuses a missing SQLite file (read-only commands must not make an empty one).
        `synchronous`: "full" (durable across power loss) or "normal" (across process crashes only)."""
        if synchronous not in ("full", "normal"):
            raise ValueError(f"synchronous must be full or normal, not {synchronous!r}")
        store: Store = (
            PostgresStore(target, synchronous=synchronous)
            if is_postgres_target(target)
            else SqliteStore(target, create=create, synchronous=synchronous)
        )
        try:
            return cls(store, instance=instance, clock=clock)
        except BaseException:
            store.close()
            raise

    @classmethod
    def from_config(
        cls, cfg: LedgerConfig, *, create: bool = True, clock: Callable[[], int] = wall_clock_ns
    ) -> Ledger:
        return cls.open(
            cfg.target, instance=cfg.instance, create=create, synchronous=cfg.synchronous, clock=clock
        )

    @property
    def dialect(self) -> str:
        return self._store.dialect

    @property
    def where(self) -> str:
        return self._store.where

    def close(self) -> None:
        with self._lock:
            self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self._lock, self._store.tx(write=True) as tx:
            if self._store.dialect == "postgres":
                tx.rows("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
            tx.run(META_TABLE)
            row = tx.rows("SELECT value FROM ledger_meta WHERE key = 'schema_version'")
            version = int(row[0][0]) if row else 0
            if version > SCHEMA_VERSION:
                raise LedgerInvalid(
                    f"ledger {self._store.where}: schema version {version} is newer than this solarb knows "
                    f"({SCHEMA_VERSION}); upgrade solarb"
                )
            for number, ddl in MIGRATIONS:
                if number <= version:
                    continue
                for stmt in statements(ddl, self._store.dialect):
                    tx.run(stmt)
                tx.run(
                    "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(number),),
                )

    def schema_version(self) -> int:
        with self._lock, self._store.tx(write=False) as tx:
            return int(tx.rows("SELECT value FROM ledger_meta WHERE key = 'schema_version'")[0][0])

    def _read(self, fn: Callable[[Tx], Any]) -> Any:
        with self._lock, self._store.tx(write=False) as tx:
            return fn(tx)

    def _write(self, fn: Callable[[Tx], Any]) -> Any:
        with self._lock, self._store.tx(write=True) as tx:
            return fn(tx)

    # ---- journal (issue 14) ---------------------------------------------------------------------
    def write_journal(self, entry: JournalEntry) -> JournalEntry:
        """Journal a signed transaction as in flight; durable when this returns, so send after it.
        The entry is stamped with this instance and the clock when it has neither."""
        now = self.clock()
        row = replace(
            entry,
            instance=entry.instance or self.instance,
            created_ns=entry.created_ns or now,
            state=JournalState.IN_FLIGHT,
            error="",
            slot=None,
            updated_ns=now,
        )

        def write(tx: Tx) -> None:
            n = tx.run(
                f"INSERT INTO journal ({_JOURNAL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (signature) DO NOTHING",
                (
                    row.signature,
                    row.instance,
                    row.route_id,
                    row.opportunity_id,
                    bytes(row.signed_tx),
                    row.blockhash,
                    row.last_valid_block_height,
                    row.expected_net_lamports,
                    row.created_ns,
                    row.state.value,
                    row.error,
                    row.slot,
                    row.updated_ns,
                ),
            )
            if n == 0:
                raise JournalConflict(
                    f"signature {row.signature} is already journalled (a transaction is signed once)"
                )

        self._write(write)
        return row

    def journal_entry(self, signature: str) -> JournalEntry | None:
        rows = self._read(
            lambda tx: tx.rows(f"SELECT {_JOURNAL_COLS} FROM journal WHERE signature = ?", (signature,))
        )
        return _journal(rows[0]) if rows else None

    def in_flight(self, *, all_instances: bool = False) -> list[JournalEntry]:
        """Unresolved rows (in flight or unknown), oldest first: what a restart reconciles before trading.
        Only this instance's rows unless `all_instances`."""
        sql = f"SELECT {_JOURNAL_COLS} FROM journal WHERE state IN ('in_flight', 'unknown')"
        params: tuple[Any, ...] = ()
        if not all_instances:
            sql += " AND instance = ?"
            params = (self.instance,)
        rows = self._read(lambda tx: tx.rows(sql + " ORDER BY created_ns, signature", params))
        return [_journal(r) for r in rows]

    def journal_for_opportunity(self, opportunity_id: str) -> list[JournalEntry]:
        """Every journalled transaction of one opportunity, oldest first: sign no new one while any of
        them is unresolved (it can still land)."""
        rows = self._read(
            lambda tx: tx.rows(
                f"SELECT {_JOURNAL_COLS} FROM journal WHERE opportunity_id = ? ORDER BY created_ns, signature",
                (opportunity_id,),
            )
        )
        return [_journal(r) for r in rows]

    def mark_unknown(self, signature: str, error: str = "") -> None:
        """The outcome could not be learnt (shutdown timeout, node unreachable): left for reconciliation."""
        now = self.clock()

        def write(tx: Tx) -> None:
            n = tx.run(
                "UPDATE journal SET state = 'unknown', error = ?, updated_ns = ? "
                "WHERE signature = ? AND state IN ('in_flight', 'unknown')",
                (error, now, signature),
            )
            if n == 0:
                raise self._no_transition(tx, signature, JournalState.UNKNOWN)

        self._write(write)

    def _no_transition(self, tx: Tx, signature: str, to: JournalState) -> JournalConflict:
        rows = tx.rows("SELECT state FROM journal WHERE signature = ?", (signature,))
        if not rows:
            return JournalConflict(f"signature {signature} is not in the journal")
        return JournalConflict(f"signature {signature} is already {rows[0][0]}; it cannot become {to.value}")

    # ---- trades ---------------------------------------------------------------------------------
    def record_trade(self, trade: Trade) -> Trade | None:
        """Book a trade's outcome and PnL; resolve its journal row; add to the day's realized PnL.

        Returns the booked trade (instance, `realized_lamports`, `recorded_ns` and UTC `day` filled), or
        None when this signature was booked already. ValueError when the PnL cannot be derived.
        """
        now = self.clock()
        booked = replace(
            trade,
            outcome=Outcome(trade.outcome),
            realized_lamports=realized_lamports_of(trade),
            instance=trade.instance or self.instance,
            recorded_ns=now,
            day=utc_day(now),
        )
        realized = booked.realized_lamports
        assert realized is not None

        def write(tx: Tx) -> Trade | None:
            n = tx.run(
                f"INSERT INTO trades ({_TRADE_COLS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (signature) DO NOTHING",
                (
                    booked.signature,
                    booked.instance,
                    booked.route_id,
                    booked.opportunity_id,
                    booked.outcome.value,
                    booked.error,
                    booked.slot,
                    booked.mint,
                    str(booked.pre_amount),
                    str(booked.post_amount),
                    booked.pre_lamports,
                    booked.post_lamports,
                    booked.fee_lamports,
                    booked.tip_lamports,
                    booked.expected_net_lamports,
                    realized,
                    booked.legs,
                    str(booked.amount_in),
                    booked.decision_to_sign_ns,
                    booked.sign_to_send_ns,
                    booked.send_to_confirm_ns,
                    booked.decided_ns,
                    booked.recorded_ns,
                    booked.day,
                ),
            )
            if n == 0:
                return None
            tx.run(
                "INSERT INTO daily_pnl (day, realized_lamports, trades) VALUES (?, ?, 1) "
                "ON CONFLICT (day) DO UPDATE SET realized_lamports = daily_pnl.realized_lamports + "
                "excluded.realized_lamports, trades = daily_pnl.trades + 1",
                (booked.day, realized),
            )
            tx.run(
                "UPDATE journal SET state = ?, error = ?, slot = ?, updated_ns = ? "
                "WHERE signature = ? AND state IN ('in_flight', 'unknown')",
                (booked.outcome.value, booked.error, booked.slot, now, booked.signature),
            )
            return booked

        result: Trade | None = self._write(write)
        return result

    def trades(self, *, since_ns: int | None = None, until_ns: int | None = None) -> list[Trade]:
        """Booked trades in booking order, optionally within [since_ns, until_ns) of `recorded_ns`."""
        sql = f"SELECT {_TRADE_COLS} FROM trades WHERE 1 = 1"
        params: list[int] = []
        if since_ns is not None:
            sql += " AND recorded_ns >= ?"
            params.append(since_ns)
        if until_ns is not None:
            sql += " AND recorded_ns < ?"
            params.append(until_ns)
        return [_trade(r) for r in self._read(lambda tx: tx.rows(sql + " ORDER BY recorded_ns, id", params))]

    def realized_total(self) -> int:
        """Sum of every booked trade's realized PnL, lamports."""
        rows = self._read(lambda tx: tx.rows("SELECT COALESCE(SUM(realized_lamports), 0) FROM trades"))
        return int(rows[0][0])

    # ---- daily PnL --------------------------------------------------------------------------------
    def mark(self, marked_lamports: int) -> None:
        """This instance's latest marked-to-market PnL of its inventory for today (UTC): replaces the last."""
        now = self.clock()
        self._write(
            lambda tx: tx.run(
                "INSERT INTO daily_mark (day, instance, marked_lamports, updated_ns) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (day, instance) DO UPDATE SET marked_lamports = excluded.marked_lamports, "
                "updated_ns = excluded.updated_ns",
                (utc_day(now), self.instance, int(marked_lamports), now),
            )
        )

    def daily_pnl(self, day: str | None = None) -> DailyPnl:
        """Realized + marked PnL of one UTC day (default: today by the clock), over every instance."""
        d = day or utc_day(self.clock())
        result: DailyPnl = self._read(lambda tx: _daily(tx, d))
        return result

    def daily_history(self) -> list[DailyPnl]:
        def read(tx: Tx) -> list[DailyPnl]:
            days = {r[0] for r in tx.rows("SELECT day FROM daily_pnl")} | {
                r[0] for r in tx.rows("SELECT day FROM daily_mark")
            }
            return [_daily(tx, d) for d in sorted(days)]

        result: list[DailyPnl] = self._read(read)
        return result

    # ---- kill switch ------------------------------------------------------------------------------
    def kill_switch(self) -> KillSwitch:
        result: KillSwitch = self._read(_kill_switch)
        return result

    def trip_kill_switch(self, reason: str) -> KillSwitch:
        """Stop sending, everywhere this ledger is shared. A switch already tripped keeps its first reason.
        Returns the switch as it now is."""
        now = self.clock()

        def write(tx: Tx) -> KillSwitch:
            tx.run(
                "UPDATE kill_switch SET tripped = 1, reason = ?, since_ns = ?, instance = ? WHERE id = 1 AND tripped = 0",
                (reason, now, self.instance),
            )
            return _kill_switch(tx)

        result: KillSwitch = self._write(write)
        return result

    def reset_kill_switch(self) -> KillSwitch:
        """Clear the kill switch; returns it as it was before."""

        def write(tx: Tx) -> KillSwitch:
            before = _kill_switch(tx)
            tx.run(
                "UPDATE kill_switch SET tripped = 0, reason = '', since_ns = 0, instance = '' WHERE id = 1"
            )
            return before

        result: KillSwitch = self._write(write)
        return result

    # ---- route quarantine ------------------------------------------------------------------------
    def quarantine(self, route_id: str, reason: str) -> Quarantine:
        """Quarantine a route; one already quarantined keeps its first reason. Returns the record."""
        now = self.clock()

        def write(tx: Tx) -> Quarantine:
            tx.run(
                "INSERT INTO quarantine (route_id, reason, since_ns, instance) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (route_id) DO NOTHING",
                (route_id, reason, now, self.instance),
            )
            r = tx.rows(
                "SELECT route_id, reason, since_ns, instance FROM quarantine WHERE route_id = ?", (route_id,)
            )[0]
            return Quarantine(r[0], r[1], int(r[2]), r[3])

        result: Quarantine = self._write(write)
        return result

    def quarantined(self) -> list[Quarantine]:
        return list(self._read(_quarantined))

    def unquarantine(self, route_id: str) -> bool:
        """Release a route (and forget its revert streak). False when it was not quarantined."""

        def write(tx: Tx) -> bool:
            n = tx.run("DELETE FROM quarantine WHERE route_id = ?", (route_id,))
            tx.run("DELETE FROM route_reverts WHERE route_id = ?", (route_id,))
            return n > 0

        result: bool = self._write(write)
        return result

    def count_revert(self, route_id: str) -> int:
        """One more consecutive revert of `route_id`; returns the streak."""
        now = self.clock()

        def write(tx: Tx) -> int:
            tx.run(
                "INSERT INTO route_reverts (route_id, consecutive, updated_ns) VALUES (?, 1, ?) "
                "ON CONFLICT (route_id) DO UPDATE SET consecutive = route_reverts.consecutive + 1, "
                "updated_ns = excluded.updated_ns",
                (route_id, now),
            )
            return int(tx.rows("SELECT consecutive FROM route_reverts WHERE route_id = ?", (route_id,))[0][0])

        result: int = self._write(write)
        return result

    def clear_reverts(self, route_id: str) -> None:
        """The route landed: its revert streak ends."""
        self._write(lambda tx: tx.run("DELETE FROM route_reverts WHERE route_id = ?", (route_id,)))

    def revert_streaks(self) -> dict[str, int]:
        rows = self._read(lambda tx: tx.rows("SELECT route_id, consecutive FROM route_reverts"))
        return {r[0]: int(r[1]) for r in rows}

    def risk_state(self, day: str | None = None) -> RiskState:
        """Kill switch, quarantined routes and the day's PnL (default today), read together."""
        d = day or utc_day(self.clock())
        result: RiskState = self._read(
            lambda tx: RiskState(_kill_switch(tx), tuple(_quarantined(tx)), _daily(tx, d))
        )
        return result

    # ---- lookup tables -----------------------------------------------------------------------------
    def record_lookup_table(
        self, address: str, authority: str, addresses: Sequence[str]
    ) -> LookupTableRecord:
        """Record a table set-up created or extended (its full content, in order); marks it used now."""
        now = self.clock()
        content = " ".join(addresses)

        def write(tx: Tx) -> LookupTableRecord:
            tx.run(
                f"INSERT INTO lookup_tables ({_LUT_COLS}) VALUES (?, ?, ?, ?, ?, NULL, NULL) "
                "ON CONFLICT (address) DO UPDATE SET addresses = excluded.addresses, "
                "last_used_ns = excluded.last_used_ns",
                (address, authority, content, now, now),
            )
            return _lut(tx.rows(f"SELECT {_LUT_COLS} FROM lookup_tables WHERE address = ?", (address,))[0])

        result: LookupTableRecord = self._write(write)
        return result

    def lookup_tables(
        self, authority: str | None = None, *, include_closed: bool = False
    ) -> list[LookupTableRecord]:
        sql = f"SELECT {_LUT_COLS} FROM lookup_tables WHERE 1 = 1"
        params: list[str] = []
        if authority is not None:
            sql += " AND authority = ?"
            params.append(authority)
        if not include_closed:
            sql += " AND closed_ns IS NULL"
        rows = self._read(lambda tx: tx.rows(sql + " ORDER BY created_ns, address", params))
        return [_lut(r) for r in rows]

    def touch_lookup_tables(self, addresses: Iterable[str]) -> None:
        """The runtime uses these tables now (set-up reused them; call again while running)."""
        now = self.clock()
        batch = [(now, a) for a in addresses]

        def write(tx: Tx) -> None:
            for params in batch:
                tx.run("UPDATE lookup_tables SET last_used_ns = ? WHERE address = ?", params)

        self._write(write)

    def mark_lookup_table_deactivated(self, address: str, slot: int) -> None:
        self._write(
            lambda tx: tx.run(
                "UPDATE lookup_tables SET deactivated_slot = ? WHERE address = ?", (slot, address)
            )
        )

    def mark_lookup_table_closed(self, address: str) -> None:
        now = self.clock()
        self._write(
            lambda tx: tx.run("UPDATE lookup_tables SET closed_ns = ? WHERE address = ?", (now, address))
        )


# ---- row decoding ---------------------------------------------------------------------------------
def _journal(r: tuple[Any, ...]) -> JournalEntry:
    return JournalEntry(
        signature=r[0],
        instance=r[1],
        route_id=r[2],
        opportunity_id=r[3],
        signed_tx=bytes(r[4]),
        blockhash=r[5],
        last_valid_block_height=int(r[6]),
        expected_net_lamports=int(r[7]),
        created_ns=int(r[8]),
        state=JournalState(r[9]),
        error=r[10],
        slot=None if r[11] is None else int(r[11]),
        updated_ns=int(r[12]),
    )


def _opt(v: Any) -> int | None:
    return None if v is None else int(v)


def _trade(r: tuple[Any, ...]) -> Trade:
    return Trade(
        signature=r[0],
        instance=r[1],
        route_id=r[2],
        opportunity_id=r[3],
        outcome=Outcome(r[4]),
        error=r[5],
        slot=_opt(r[6]),
        mint=r[7],
        pre_amount=int(r[8]),
        post_amount=int(r[9]),
        pre_lamports=int(r[10]),
        post_lamports=int(r[11]),
        fee_lamports=int(r[12]),
        tip_lamports=int(r[13]),
        expected_net_lamports=int(r[14]),
        realized_lamports=int(r[15]),
        legs=int(r[16]),
        amount_in=int(r[17]),
        decision_to_sign_ns=_opt(r[18]),
        sign_to_send_ns=_opt(r[19]),
        send_to_confirm_ns=_opt(r[20]),
        decided_ns=int(r[21]),
        recorded_ns=int(r[22]),
        day=r[23],
    )


def _lut(r: tuple[Any, ...]) -> LookupTableRecord:
    return LookupTableRecord(
        address=r[0],
        authority=r[1],
        addresses=tuple(r[2].split()),
        created_ns=int(r[3]),
        last_used_ns=int(r[4]),
        deactivated_slot=_opt(r[5]),
        closed_ns=_opt(r[6]),
    )


def _kill_switch(tx: Tx) -> KillSwitch:
    r = tx.rows("SELECT tripped, reason, since_ns, instance FROM kill_switch WHERE id = 1")[0]
    return KillSwitch(bool(r[0]), r[1], int(r[2]), r[3])


def _quarantined(tx: Tx) -> list[Quarantine]:
    rows = tx.rows("SELECT route_id, reason, since_ns, instance FROM quarantine ORDER BY since_ns, route_id")
    return [Quarantine(r[0], r[1], int(r[2]), r[3]) for r in rows]


def _daily(tx: Tx, day: str) -> DailyPnl:
    realized = tx.rows("SELECT realized_lamports, trades FROM daily_pnl WHERE day = ?", (day,))
    marked = tx.rows("SELECT COALESCE(SUM(marked_lamports), 0) FROM daily_mark WHERE day = ?", (day,))
    r, n = (int(realized[0][0]), int(realized[0][1])) if realized else (0, 0)
    return DailyPnl(day=day, realized_lamports=r, marked_lamports=int(marked[0][0]), trades=n)


__all__ = ["UNRESOLVED", "Ledger", "RiskState", "is_postgres_target"]
