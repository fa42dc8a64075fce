"""Structured logs: shape, non-blocking enqueue with counted drops, rotation, and `solarb logs`."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson

from bot.cli import main
from bot.commands.logs import Follower, follow_records, read_records
from bot.logs import Log, RotatingFile


def _records(path: Path) -> list[dict]:
    return list(read_records(path))


def test_record_shape(tmp_path):
    p = tmp_path / "l.jsonl"
    log = Log(p, console="never")
    log.info("opportunity", route=3, profit=1234)
    log.debug("hidden")  # below the default level
    log.close()
    (rec,) = _records(p)
    assert list(rec)[:4] == ["ts", "ts_ns", "level", "event"]
    assert rec["event"] == "opportunity" and rec["route"] == 3 and rec["level"] == "info"
    assert rec["ts"].endswith("Z") and len(rec["ts"]) == len("2026-01-01T00:00:00.000000Z")
    assert abs(rec["ts_ns"] - time.time_ns()) < 60e9


def test_stalled_writer_never_blocks_and_drops_are_reported(tmp_path):
    gate = threading.Event()
    seen: list[bytes] = []

    def stalled_sink(line: bytes) -> None:
        gate.wait()  # the writer thread is stuck here until the test releases it
        seen.append(line)

    log = Log(None, console="never", queue_size=100, sink=stalled_sink)
    for i in range(5_000):
        log.info("tick", i=i)  # would hang forever if emit could block
    assert log.dropped >= 5_000 - 100 - 2  # the writer may have taken 1-2 before stalling
    gate.set()
    log.close()
    recs = [orjson.loads(x) for x in seen]
    dropped = [r for r in recs if r["event"] == "log_dropped"]
    assert sum(r["count"] for r in dropped) == log.dropped
    assert len([r for r in recs if r["event"] == "tick"]) == 5_000 - log.dropped


def test_rotation_keeps_backups(tmp_path):
    p = tmp_path / "l.jsonl"
    log = Log(p, console="never", max_bytes=10_000, backups=3)
    for i in range(1_000):
        log.info("tick", i=i, pad="x" * 50)
    log.close()
    assert (tmp_path / "l.jsonl.1").exists() and (tmp_path / "l.jsonl.3").exists()
    assert not (tmp_path / "l.jsonl.4").exists()
    idx = [r["i"] for r in _records(p)]
    assert idx == sorted(idx) and idx[-1] == 999


def _write_sample(p: Path) -> None:
    log = Log(p, console="never", level="debug")
    log.debug("slot", slot=1)
    log.info("opportunity", route="7", profit=10)
    log.warning("opportunity", route="8", profit=-1)
    log.error("send_failed", route="7")
    log.close()


def test_logs_command_filters(tmp_path, capsys):
    p = tmp_path / "l.jsonl"
    _write_sample(p)

    def run(*args: str) -> list[dict]:
        assert main(["logs", str(p), "--json", *args]) == 0
        return [orjson.loads(x) for x in capsys.readouterr().out.splitlines()]

    assert [r["event"] for r in run("--event", "opportunity")] == ["opportunity", "opportunity"]
    assert [r["level"] for r in run("--level", "warning")] == ["warning", "error"]
    assert [r["event"] for r in run("--where", "route=7")] == ["opportunity", "send_failed"]
    assert [r["event"] for r in run("--event", "send_*", "--event", "slot")] == ["slot", "send_failed"]
    assert len(run("--since", "10m")) == 4
    assert run("--since", "2999-01-01T00:00:00Z") == []
    assert main(["logs", str(p)]) == 0
    text = capsys.readouterr().out
    assert "OPPORTUNITY" not in text and "opportunity" in text and "route=7" in text


def test_logs_command_bad_args(tmp_path, capsys):
    p = tmp_path / "l.jsonl"
    _write_sample(p)
    assert main(["logs", str(p), "--since", "yesterday"]) == 2
    assert main(["logs", str(p), "--where", "novalue"]) == 2
    assert main(["logs", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.count("\n") == 3


def test_follow_across_rotation(tmp_path):
    p = tmp_path / "l.jsonl"
    stop = threading.Event()
    got: list[int] = []
    done = threading.Event()
    total = 2_000

    def reader() -> None:
        for rec in follow_records(p, stop, poll_s=0.005):
            got.append(rec["i"])
            if len(got) == total:
                done.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    log = Log(p, console="never", max_bytes=20_000, backups=50, queue_size=total + 10)
    for i in range(total):
        log.info("tick", i=i, pad="y" * 40)
        if i % 200 == 0:
            time.sleep(0.02)  # let the follower catch up so it sees several rotations live
    log.close()
    done.wait(20)
    stop.set()
    t.join(5)
    assert (tmp_path / "l.jsonl.3").exists()
    missing = sorted(set(range(total)) - set(got))
    assert got == list(range(total)), (len(got), missing[:20], len(missing))


# The follower driven step by step against the real writer's RotatingFile (no thread, no timing):
# between two steps the follower is paused, as when `solarb logs -f` sits behind a slow pipe.


def _write(w: RotatingFile, start: int, stop: int) -> None:
    for i in range(start, stop):
        w.write(orjson.dumps({"i": i, "pad": "z" * 40}) + b"\n")
    w.flush()


def _drain(f: Follower) -> list[int]:
    got: list[int] = []
    for _ in range(10_000):
        got += [r["i"] for r in f.poll()]
        if f.idle:
            return got
    raise AssertionError("the follower never caught up")


def _backups(tmp_path: Path) -> int:
    return len(list(tmp_path.glob("l.jsonl.*")))


def test_follower_catches_up_across_many_rotations_between_two_steps(tmp_path, capsys):
    p = tmp_path / "l.jsonl"
    w = RotatingFile(p, max_bytes=1_000, backups=100)  # about 16 records a file
    _write(w, 0, 50)
    f = Follower(p)
    got = _drain(f)  # starts at the oldest backup
    assert got == list(range(50)) and _backups(tmp_path) >= 2
    before = _backups(tmp_path)
    _write(w, 50, 250)  # paused on the live file while it rotates about 12 times
    assert _backups(tmp_path) - before >= 10
    for _ in range(4):
        got += [r["i"] for r in f.poll()]
    assert 50 < len(got) < 250  # partway through the backups written meanwhile
    before = _backups(tmp_path)
    _write(w, 250, 450)  # paused inside a backup while the log rotates again about 12 times
    assert _backups(tmp_path) - before >= 10
    got += _drain(f)
    f.close()
    assert got == list(range(450))  # each record once, in order
    assert capsys.readouterr().err == ""


def test_follower_emits_a_line_once_it_is_whole(tmp_path):
    p = tmp_path / "l.jsonl"
    w = RotatingFile(p, max_bytes=10_000, backups=3)
    line = orjson.dumps({"i": 1}) + b"\n"
    w.write(orjson.dumps({"i": 0}) + b"\n" + line[:5])
    w.flush()  # the writer is mid-line
    f = Follower(p)
    assert _drain(f) == [0]
    w.write(line[5:])
    w.flush()
    assert _drain(f) == [1]
    w.write(orjson.dumps({"i": 2}))  # a last line the writer never ended, then rotation
    w.rotate()
    _write(w, 3, 4)
    assert _drain(f) == [2, 3]  # neither lost nor glued to the next file's first line
    f.close()


def test_follower_warns_once_when_rotation_deletes_a_file_it_had_not_read(tmp_path, capsys):
    p = tmp_path / "l.jsonl"
    w = RotatingFile(p, max_bytes=10**9, backups=2)  # rotated by hand: each file is 10 records
    for start in (0, 10):
        _write(w, start, start + 10)
        w.rotate()
    _write(w, 20, 30)  # .2 = 0-9, .1 = 10-19, live = 20-29
    f = Follower(p)
    got = [r["i"] for r in f.poll()] + [r["i"] for r in f.poll()]
    assert got == list(range(10))  # it read .2 and knows .1 and the live file are next
    for start in (30, 40):
        w.rotate()
        _write(w, start, start + 10)  # deletes 0-9 (open, so still read) then 10-19 (never opened)
    got += _drain(f)
    assert got == [*range(10), *range(20, 50)]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("solarb logs: 1 rotated log file deleted unread"), err
    _write(w, 50, 55)
    assert _drain(f) == list(range(50, 55))
    assert capsys.readouterr().err == ""  # said once
    f.close()


def test_follower_says_when_it_cannot_tell_how_much_was_lost(tmp_path, capsys):
    p = tmp_path / "l.jsonl"
    w = RotatingFile(p, max_bytes=10**9, backups=2)
    _write(w, 0, 10)
    w.rotate()
    _write(w, 10, 20)  # .1 = 0-9, live = 10-19
    f = Follower(p)
    assert f.poll() == [] and [r["i"] for r in f.poll()] == list(range(10))  # knows the live file is next
    for start in (20, 30, 40, 50):
        w.rotate()
        _write(w, start, start + 10)  # deletes 10-19 (known, never opened) and 20-29 (never seen)
    assert _drain(f) == list(range(30, 60))
    (err,) = capsys.readouterr().err.splitlines()
    assert err.startswith("solarb logs: 1 or more rotated log files deleted unread"), err
    for start in (60, 70, 80):
        w.rotate()  # paused on the live file through three rotations: with two backups it is gone,
        _write(w, start, start + 10)  # and whether a file was skipped after it cannot be told
    assert _drain(f) == list(range(60, 90))
    (err,) = capsys.readouterr().err.splitlines()
    assert "rotated past all its 2 backups" in err and "may be missing" in err, err
    f.close()
