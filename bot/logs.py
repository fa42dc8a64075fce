"""Structured JSON-lines logs written by a background thread.

The caller only appends a tuple to a bounded queue (`Log.emit` never blocks and never formats): when
the queue is full the record is dropped and counted, and the writer later reports the count as a
`log_dropped` record. The writer thread serializes with orjson, rotates by size, and mirrors a
human-readable line to stderr when it is a TTY (or when asked to).

Record shape: {"ts": ISO-8601 UTC with microseconds, "ts_ns": int, "level", "event", ...fields}.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import orjson

from bot.errors import ConfigError

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_COLORS = {"debug": "\x1b[2m", "info": "\x1b[36m", "warning": "\x1b[33m", "error": "\x1b[31m"}
_RESET = "\x1b[0m"

_STOP = object()


def _default(obj: Any) -> Any:
    # Anything that is not JSON-native is logged by its str(); our types (Wallet, Pubkey) print safely.
    return str(obj)


def _field_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    try:
        return orjson.dumps(v, default=_default).decode()
    except TypeError:  # an integer beyond 64 bits (see `_dumps`): its decimal digits
        return str(v)


def format_record(rec: dict[str, Any], *, color: bool) -> str:
    """One aligned human-readable line: time, level, event, then key=value fields."""
    ts = rec.get("ts", "")
    level = str(rec.get("level", ""))
    event = str(rec.get("event", ""))
    fields = " ".join(
        f"{k}={_field_text(v)}" for k, v in rec.items() if k not in ("ts", "ts_ns", "level", "event")
    )
    lv = f"{level.upper():<7}"
    if color:
        lv = f"{_COLORS.get(level, '')}{lv}{_RESET}"
    return f"{ts[11:26] if len(ts) >= 26 else ts} {lv} {event:<24} {fields}".rstrip()


class RotatingFile:
    """Append-only file that rotates to .1, .2 ... when it exceeds max_bytes."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = _open_private(path)  # kept open for the writer's lifetime
        self._size = self._fh.tell()

    def write(self, data: bytes) -> None:
        if self._size + len(data) > self.max_bytes and self._size > 0:
            self.rotate()
        self._fh.write(data)
        self._size += len(data)

    def flush(self) -> None:
        self._fh.flush()

    def rotate(self) -> None:
        self._fh.close()
        if self.backups > 0:
            for i in range(self.backups - 1, 0, -1):
                src = self.path.with_name(f"{self.path.name}.{i}")
                if src.exists():
                    os.replace(src, self.path.with_name(f"{self.path.name}.{i + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink(missing_ok=True)
        self._fh = _open_private(self.path)
        self._size = 0

    def close(self) -> None:
        self._fh.close()


class Log:
    """The bot's logger. `emit` is safe on the hot path: O(1), no I/O, no formatting, never blocks."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        level: str = "info",
        max_bytes: int = 50_000_000,
        backups: int = 5,
        queue_size: int = 65_536,
        console: str = "auto",
        console_format: str = "human",
        stream: TextIO | None = None,
        sink: Callable[[bytes], None] | None = None,
    ) -> None:
        self.min_level = LEVELS[level]
        self.queue_size = queue_size
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.dropped = 0  # total records dropped because the queue was full
        self._reported_dropped = 0
        self._file = RotatingFile(Path(path), max_bytes, backups) if path is not None else None
        self._sink = sink
        # The console is stdout, terminal or not (docker, systemd and pipes read it too): human lines, or
        # JSON lines with console_format "json" (12-factor style). "never" keeps it quiet.
        self._stream = stream if stream is not None else sys.stdout
        tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._mirror = console in ("always", "auto")
        self._json_console = console_format == "json"
        self._color = tty and not self._json_console
        self._thread = threading.Thread(target=self._run, name="solarb-log-writer", daemon=True)
        self._thread.start()

    # -- caller side -----------------------------------------------------------------------------
    def emit(self, level: str, event: str, fields: dict[str, Any]) -> None:
        if LEVELS[level] < self.min_level:
            return
        if self._q.qsize() >= self.queue_size:
            self.dropped += 1
            return
        self._q.put((time.time_ns(), level, event, fields))

    def debug(self, event: str, **fields: Any) -> None:
        self.emit("debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self.emit("info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.emit("warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self.emit("error", event, fields)

    def close(self, timeout_s: float = 5.0) -> None:
        """Flush everything queued, report drops, and stop the writer."""
        self._q.put(_STOP)
        self._thread.join(timeout_s)

    # -- writer thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._q.get()
            batch = [item]
            # Drain what is already there so one flush serves many records.
            while len(batch) < 1024:
                try:
                    batch.append(self._q.get_nowait())
                except queue.Empty:
                    break
            stop = False
            for it in batch:
                if it is _STOP:
                    stop = True
                    continue
                self._write(*it)
            self._report_drops()
            if self._file is not None:
                self._file.flush()
            if stop:
                if self._file is not None:
                    self._file.close()
                return

    def _report_drops(self) -> None:
        dropped = self.dropped
        if dropped != self._reported_dropped:
            count = dropped - self._reported_dropped
            self._reported_dropped = dropped
            self._write(time.time_ns(), "warning", "log_dropped", {"count": count, "total": dropped})

    def _write(self, ts_ns: int, level: str, event: str, fields: dict[str, Any]) -> None:
        ts = dt.datetime.fromtimestamp(ts_ns / 1e9, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        rec = {"ts": ts, "ts_ns": ts_ns, "level": level, "event": event, **fields}
        line = _dumps(rec)
        if self._file is not None:
            self._file.write(line)
        if self._sink is not None:
            self._sink(line)
        if self._mirror:
            try:
                self._stream.write(
                    line.decode() if self._json_console else format_record(rec, color=self._color) + "\n"
                )
                self._stream.flush()
            except (OSError, ValueError):
                self._mirror = False


def open_log(cfg: Any) -> Log:
    """A `Log` from a `LoggingConfig` (its directory created if missing)."""
    try:
        return Log(
            cfg.path,
            level=cfg.level,
            max_bytes=cfg.max_bytes,
            backups=cfg.backups,
            queue_size=cfg.queue_size,
            console=cfg.console,
            console_format=getattr(cfg, "format", "human"),
        )
    except OSError as err:
        raise ConfigError(f"[logging] path: cannot open {cfg.path}: {err.strerror or err}") from err


def _dumps(rec: dict[str, Any]) -> bytes:
    """One JSON line. A value orjson refuses (an integer beyond 64 bits) is written as its decimal
    string instead of killing the writer thread, which would lose every later record."""
    try:
        return orjson.dumps(rec, default=_default, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        safe = {k: str(v) if isinstance(v, int) and not -(2**63) <= v < 2**64 else v for k, v in rec.items()}
        try:
            return orjson.dumps(safe, default=_default, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:
            return orjson.dumps({k: str(v) for k, v in rec.items()}, option=orjson.OPT_APPEND_NEWLINE)


def _open_private(path: Any) -> Any:
    """Append-open a log file readable by its owner only (0600): records name wallets, routes and
    endpoints; an existing file with looser permissions is tightened."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")
