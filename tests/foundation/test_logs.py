"""Structured logs: shape, non-blocking enqueue with counted drops, rotation, and `solarb logs`."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson

from bot.cli import main
from bot.commands.logs import follow_records, read_records
from bot.logs import Log


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
