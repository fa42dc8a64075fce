"""`solarb logs`: read, filter and follow the bot's JSON-lines logs."""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bot.errors import UsageError
from bot.logs import LEVELS, format_record

DEFAULT_PATH = "logs/solarb.jsonl"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Filter:
    events: tuple[str, ...] = ()
    min_level: int = 0
    since_ns: int = 0
    where: tuple[tuple[str, str], ...] = ()

    def match(self, rec: dict[str, Any]) -> bool:
        if self.events and not any(fnmatch.fnmatchcase(str(rec.get("event", "")), e) for e in self.events):
            return False
        if LEVELS.get(str(rec.get("level", "")), 0) < self.min_level:
            return False
        if self.since_ns and int(rec.get("ts_ns", 0) or 0) < self.since_ns:
            return False
        for key, want in self.where:
            if key not in rec:
                return False
            got = rec[key]
            text = got if isinstance(got, str) else orjson.dumps(got).decode()
            if text != want:
                return False
        return True


def parse_since(text: str, now_ns: int) -> int:
    m = _DURATION.match(text)
    if m:
        return now_ns - int(float(m.group(1)) * _UNITS[m.group(2)] * 1e9)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {text!r}: expected a duration like 30s, 10m, 2h, 1d or an ISO-8601 time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1e9)


def parse_where(items: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--where {item!r}: expected key=value, e.g. --where route=3")
        out.append((key, value))
    return tuple(out)


def parse_line(line: bytes) -> dict[str, Any] | None:
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return rec if isinstance(rec, dict) else None


def log_files(path: Path) -> list[Path]:
    """Rotated backups oldest first, then the live file."""
    backups = []
    i = 1
    while (p := path.with_name(f"{path.name}.{i}")).exists():
        backups.append(p)
        i += 1
    return [*reversed(backups), path] if path.exists() else list(reversed(backups))


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    for p in log_files(path):
        with open(p, "rb") as fh:
            for line in fh:
                rec = parse_line(line)
                if rec is not None:
                    yield rec


def follow_records(
    path: Path, stop: threading.Event, poll_s: float = 0.1, start_offset: int = 0
) -> Iterator[dict[str, Any]]:
    """Yield records appended to `path` from `start_offset`, across rotations.

    Polls like `tail -F` (the stdlib offers no file-change notification). When the live file's inode
    changes, the old file is drained, then every backup written since (the rotated files newer than
    ours, found by inode) is read in order, then the new live file: several rotations between two
    polls lose nothing as long as the backups still exist.
    """
    queue: list[Any] = []  # open files still to read, oldest first; the last one is followed
    pending = b""
    while not stop.is_set():
        if not queue:
            try:
                fh = open(path, "rb")  # noqa: SIM115 - closed on rotation or exit
            except FileNotFoundError:
                stop.wait(poll_s)
                continue
            fh.seek(start_offset)
            start_offset = 0
            queue.append(fh)
        fh = queue[0]
        chunk = fh.read()
        if chunk:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                rec = parse_line(line)
                if rec is not None:
                    yield rec
            continue
        if len(queue) > 1:  # a finished backup: move on to the next newer file
            queue.pop(0).close()
            continue
        inode = os.fstat(fh.fileno()).st_ino
        try:
            st = os.stat(path)
        except FileNotFoundError:
            stop.wait(poll_s)  # between the rename and the new file: look again shortly
            continue
        rotated = st.st_ino != inode or st.st_size < fh.tell()
        if not rotated:
            stop.wait(poll_s)
            continue
        if st.st_ino == inode:  # truncated in place: start over
            fh.seek(0)
            continue
        queue.extend(_newer_files(path, inode))
        if len(queue) == 1:  # truncated in place, or the live file is gone for now
            queue.pop(0).close()
    for fh in queue:
        fh.close()


def _newer_files(path: Path, inode: int) -> list[Any]:
    """Open the backups rotated after the file with `inode` (newest last), then the live file."""
    found: list[tuple[int, Path]] = []
    i = 1
    while (p := path.with_name(f"{path.name}.{i}")).exists():
        try:
            found.append((os.stat(p).st_ino, p))
        except FileNotFoundError:
            break
        i += 1
    newer = []
    for ino, p in found:  # .1 (newest) upwards
        if ino == inode:
            break
        newer.append(p)
    out = []
    for p in [*reversed(newer), path]:
        try:
            out.append(open(p, "rb"))  # noqa: SIM115
        except FileNotFoundError:
            continue
    return out


def register(sub: Any) -> None:
    p = sub.add_parser(
        "logs",
        help="read, filter and follow the structured logs",
        description="Print the bot's JSON-lines logs as aligned text (or raw JSON), filtered.",
    )
    p.add_argument("path", nargs="?", default=DEFAULT_PATH, help=f"log file (default {DEFAULT_PATH})")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new records, across rotation")
    p.add_argument("--event", action="append", default=[], metavar="E", help="only this event (glob; repeatable)")
    p.add_argument("--level", choices=list(LEVELS), help="only this level and above")
    p.add_argument("--since", metavar="T", help="only records newer than 10m / 2h / 1d or an ISO-8601 time")
    p.add_argument("--where", action="append", default=[], metavar="K=V", help="only records whose field K equals V")
    p.add_argument("--json", action="store_true", help="print raw JSON lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    flt = Filter(
        events=tuple(args.event),
        min_level=LEVELS[args.level] if args.level else 0,
        since_ns=parse_since(args.since, time.time_ns()) if args.since else 0,
        where=parse_where(args.where),
    )
    path = Path(args.path)
    if not args.follow and not log_files(path):
        raise UsageError(f"{path}: no such log file (pass the path, or run the bot first)")
    color = sys.stdout.isatty()
    out = sys.stdout

    def show(rec: dict[str, Any]) -> None:
        if flt.match(rec):
            out.write(orjson.dumps(rec).decode() + "\n" if args.json else format_record(rec, color=color) + "\n")

    try:
        if args.follow:
            files = log_files(path)
            offset = 0
            for p in files:
                data = p.read_bytes()
                if p == path:
                    data = data[: data.rfind(b"\n") + 1]
                    offset = len(data)
                for line in data.splitlines():
                    rec = parse_line(line)
                    if rec is not None:
                        show(rec)
            out.flush()
            for rec in follow_records(path, threading.Event(), start_offset=offset):
                show(rec)
                out.flush()
        else:
            for rec in read_records(path):
                show(rec)
    except BrokenPipeError:
        return 0
    return 0
