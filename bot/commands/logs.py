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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from bot.errors import UsageError
from bot.logs import LEVELS, format_record

DEFAULT_PATH = "logs/solarb.jsonl"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?) ?([a-z]+)$")
# The unit spellings people type: 10s, 10sec, 10m, 10min, 2h, 2hr, 2hours, 1d, 1day, 1days ...
_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}


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
    m = _DURATION.match(text.strip().lower())
    if m and m.group(2) in _UNITS:
        return now_ns - int(float(m.group(1)) * _UNITS[m.group(2)] * 1e9)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected a duration like 30s, 10min, 2h, 1d or an ISO-8601 time"
        ) from None
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


FileId = tuple[int, int]  # (st_dev, st_ino): a file's identity whatever its name
_CHUNK = 1 << 20  # bytes read per step: a 50 MB backup is not read into memory at once
_BACKUP_SUFFIX = re.compile(r"[0-9]+")


class Follower:
    """Follows a size-rotated log like `tail -F`, by inode, so no record is lost or repeated.

    It starts at the oldest backup. Each `poll` step reads the next chunk of the current file; at its
    end, if the live file is another one, it walks the backups by inode, finishes the current file (the
    writer closes a file before it renames it) and moves to the file rotated right after it, so it
    catches up across any number of rotations between two steps. It holds only the file it reads: a
    file it knew of but had not opened yet, deleted meanwhile by rotation (more rotations than backups),
    is lost, and `warn` says so once with the count.
    """

    def __init__(self, path: Path, warn: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.idle = False  # the last step found nothing to do: wait before the next one
        self._warn = warn or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._fh: BinaryIO | None = None
        self._id: FileId = (0, 0)
        self._pending = b""  # the last line so far: the writer may be mid-write
        self._ahead: list[FileId] = []  # files rotated after ours, oldest first, as of the last walk

    def poll(self) -> list[dict[str, Any]]:
        """One step: the next records of the current file, or a move to the file rotated after it."""
        out: list[dict[str, Any]] = []
        self.idle = True
        if self._fh is not None:
            chunk = self._fh.read(_CHUNK)
            if chunk:
                self.idle = False
                self._take(chunk, out)
                return out
            if self._is_live():
                return out
        chain = _chain(self.path)
        if not chain or chain[-1][1] != self.path:
            return out  # mid-rotation, or no log yet: look again next step
        ids = [fid for fid, _ in chain]
        ours = self._fh is not None and self._id in ids
        newer = chain[ids.index(self._id) + 1 :] if ours else chain  # ours deleted: all that is left is newer
        if not newer:
            return out
        self._note_lost(
            [fid for fid, _ in newer], ours_gone=self._fh is not None and not ours, backups=len(ids) - 1
        )
        self._ahead = [fid for fid, _ in newer]
        nxt = _open(*newer[0])
        if nxt is None:
            return out  # renamed again since the walk: walk again next step
        if self._fh is not None:
            self._take(self._fh.read(), out)  # ours is complete now: its last bytes
            self._take(b"\n", out)  # and its last line, even without a newline
            self._fh.close()
        self._fh, self._id, self._pending = nxt, self._ahead.pop(0), b""
        self.idle = False
        return out

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _take(self, chunk: bytes, out: list[dict[str, Any]]) -> None:
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        for line in lines:
            rec = parse_line(line)
            if rec is not None:
                out.append(rec)

    def _is_live(self) -> bool:
        assert self._fh is not None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        if (st.st_dev, st.st_ino) != self._id:
            return False
        if st.st_size < self._fh.tell():  # truncated in place: start over
            self._fh.seek(0)
            self._pending = b""
        return True

    def _note_lost(self, newer: list[FileId], *, ours_gone: bool, backups: int) -> None:
        # The known files that survived come first in `newer`, in order; a known one found elsewhere
        # is a new file that was given a deleted one's inode number.
        lost, i, newest_kept = 0, 0, not ours_gone
        for fid in self._ahead:
            newest_kept = i < len(newer) and newer[i] == fid
            if newest_kept:
                i += 1
            else:
                lost += 1
        if lost:
            files = "file" if lost == 1 and newest_kept else "files"
            more = "" if newest_kept else " or more"
            self._warn(
                f"solarb logs: {lost}{more} rotated log {files} deleted unread (the log rotated more times than"
                f" its {backups} backups while this follower was behind): their records are missing"
            )
        elif not newest_kept and backups:
            self._warn(
                f"solarb logs: the log rotated past all its {backups} backups while this follower was behind:"
                " records written in between may be missing"
            )


def _scan(path: Path) -> list[tuple[FileId, Path]]:
    """The log's files oldest first, by the backup number in their names, then the live file."""
    prefix = f"{path.name}."
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return []
    numbers = sorted(
        (
            int(n[len(prefix) :])
            for n in names
            if n.startswith(prefix) and _BACKUP_SUFFIX.fullmatch(n[len(prefix) :])
        ),
        reverse=True,
    )
    out = []
    for p in [*(path.with_name(f"{prefix}{n}") for n in numbers), path]:
        try:
            st = os.stat(p)
        except FileNotFoundError:
            continue
        out.append(((st.st_dev, st.st_ino), p))
    return out


def _chain(path: Path) -> list[tuple[FileId, Path]] | None:
    """The log's files oldest first as they were at one instant, or None while a rotation moves them.

    Rotation only moves a file to a higher number, so a name that shows the same file in two scans in a
    row showed it all along: two equal scans are the state at the instant between them.
    """
    first = _scan(path)
    return first if _scan(path) == first else None


def _open(fid: FileId, path: Path) -> BinaryIO | None:
    """`path` opened if it is still the file `fid`."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - the follower closes it when it moves on
    except FileNotFoundError:
        return None
    st = os.fstat(fh.fileno())
    if (st.st_dev, st.st_ino) != fid:
        fh.close()
        return None
    return fh


def follow_records(path: Path, stop: threading.Event, poll_s: float = 0.1) -> Iterator[dict[str, Any]]:
    """Yield every record of `path` and its backups, oldest first, then new ones as they are written.

    Polls like `tail -F` (the stdlib offers no file-change notification) until `stop` is set.
    """
    follower = Follower(path)
    try:
        while not stop.is_set():
            yield from follower.poll()
            if follower.idle:
                stop.wait(poll_s)
    finally:
        follower.close()


def register(sub: Any) -> None:
    p = sub.add_parser(
        "logs",
        help="read, filter and follow the structured logs",
        description="Print the bot's JSON-lines logs as aligned text (or raw JSON), filtered.",
    )
    p.add_argument("path", nargs="?", default=DEFAULT_PATH, help=f"log file (default {DEFAULT_PATH})")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new records, across rotation")
    p.add_argument(
        "--event", action="append", default=[], metavar="E", help="only this event (glob; repeatable)"
    )
    p.add_argument("--level", choices=list(LEVELS), help="only this level and above")
    p.add_argument(
        "--since", metavar="T", help="only records newer than 30s / 10m (10min) / 2h / 1d or an ISO-8601 time"
    )
    p.add_argument(
        "--where", action="append", default=[], metavar="K=V", help="only records whose field K equals V"
    )
    p.add_argument("--json", action="store_true", help="print raw JSON lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    flt = Filter(
        events=tuple(args.event),
        min_level=LEVELS[args.level] if args.level else 0,
        since_ns=parse_since(args.since, time.time_ns()) if args.since is not None else 0,
        where=parse_where(args.where),
    )
    path = Path(args.path)
    if not args.follow and not log_files(path):
        raise UsageError(f"{path}: no such log file (pass the path, or run the bot first)")
    color = sys.stdout.isatty()
    out = sys.stdout

    def show(rec: dict[str, Any]) -> None:
        if flt.match(rec):
            out.write(
                orjson.dumps(rec).decode() + "\n" if args.json else format_record(rec, color=color) + "\n"
            )

    # A closed stdout (`| head`) raises BrokenPipeError, which bot.cli.main turns into a quiet exit.
    if args.follow:
        for rec in follow_records(path, threading.Event()):
            show(rec)
            out.flush()
    else:
        for rec in read_records(path):
            show(rec)
    return 0
