"""The command line's rough edges (issue 17): --version, output piped into `head`, `logs --since` units,
and the bench table's legend. Each refusal is one line on stderr with exit code 2."""

from __future__ import annotations

import subprocess
import time
import tomllib

import orjson
import pytest
from cli_env import REPO, one_line, solarb, solarb_argv, solarb_env

from bot.cli import main
from bot.commands import bench
from bot.commands.logs import parse_since

SIGPIPE_EXIT = 128 + 13


def test_version_is_the_pyproject_version():
    proc = solarb("--version")
    want = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert proc.returncode == 0 and proc.stdout.strip() == f"solarb {want}", proc


def _write_log(path, n: int) -> None:
    now = time.time_ns()
    recs = (orjson.dumps({"ts": "2026-01-01T00:00:00.000000Z", "ts_ns": now - i, "level": "info",
                          "event": "tick", "i": i}) for i in range(n))  # fmt: skip
    path.write_bytes(b"\n".join(recs) + b"\n")


def test_logs_into_head_exits_quietly(tmp_path):
    """A real shell pipeline: head reads one line and exits; solarb must not print a traceback."""
    log = tmp_path / "big.jsonl"
    _write_log(log, 50_000)  # far more than a pipe buffer holds, so writes hit the closed pipe
    cmd = " ".join(solarb_argv("logs", str(log))) + " | head -1"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True,
                          env=solarb_env(), timeout=120)  # fmt: skip
    assert proc.stdout.count("\n") == 1 and "tick" in proc.stdout
    assert proc.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored" line
    assert proc.returncode == SIGPIPE_EXIT  # what pipefail reports for `cat big | head -1` too


def test_quote_into_head_exits_quietly():
    fixtures = REPO / "tests" / "fixtures" / "shared"
    argv = solarb_argv("quote", "--accounts", str(fixtures), "--pool", "EgxU92G34jw6QDG9RuTX9StFg1PmHuDqkRKAE5kVEiZ4",
                       "--amount-in", "5000000000")  # fmt: skip
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", " ".join(argv) + " | head -1"], capture_output=True,
                          text=True, env=solarb_env(), timeout=120)  # fmt: skip
    assert proc.stdout == "{\n"
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert all(
        line.startswith("solarb: warning:") for line in proc.stderr.splitlines()
    )  # missing tick arrays
    assert proc.returncode in (0, SIGPIPE_EXIT)  # 0 when head has not exited before quote's last write


@pytest.mark.parametrize("argv", [["--version"], ["logs", "LOG", "--json"], ["bench", "--help"]])
def test_reader_gone_before_any_output(tmp_path, argv):
    """stdout closed before the command writes anything: small outputs fail at the last flush."""
    log = tmp_path / "small.jsonl"
    _write_log(log, 3)
    argv = [str(log) if a == "LOG" else a for a in argv]
    proc = subprocess.Popen(solarb_argv(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=solarb_env())  # fmt: skip
    proc.stdout.close()  # the reader is gone
    err = proc.stderr.read().decode()
    proc.wait(60)
    proc.stderr.close()
    assert err == "" and proc.returncode in (0, SIGPIPE_EXIT), err


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10), ("10sec", 10), ("10m", 600), ("10min", 600), ("10 mins", 600), ("2h", 7200),
     ("2hours", 7200), ("2hr", 7200), ("1d", 86400), ("1day", 86400), ("1.5h", 5400), ("10MIN", 600)],
)  # fmt: skip
def test_since_units(text, seconds):
    now = 1_000_000 * 10**9
    assert parse_since(text, now) == now - seconds * 10**9


@pytest.mark.parametrize("garbage", ["10parsecs", "min", "10", "-5m", "10m5s", "yesterday", ""])
def test_since_garbage_is_one_line_exit_2(tmp_path, garbage):
    log = tmp_path / "l.jsonl"
    _write_log(log, 1)
    proc = solarb("logs", str(log), f"--since={garbage}")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "--since" in one_line(proc) and "10min" in one_line(proc)


def test_since_10min_filters(tmp_path, capsys):
    log = tmp_path / "l.jsonl"
    now = time.time_ns()
    recs = [{"ts_ns": now - 20 * 60 * 10**9, "level": "info", "event": "old"},
            {"ts_ns": now - 60 * 10**9, "level": "info", "event": "new"}]  # fmt: skip
    log.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs))
    assert main(["logs", str(log), "--since", "10min", "--json"]) == 0
    assert [orjson.loads(line)["event"] for line in capsys.readouterr().out.splitlines()] == ["new"]


def test_bench_explains_its_columns(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = capsys.readouterr().out
    for name, meaning in bench.COLUMNS:
        assert f"{name} " in out and meaning in out
    # every column of the table header is explained
    assert main(["bench", "--pools", "10", "--updates", "500"]) == 0
    table = capsys.readouterr().out
    header = table.splitlines()[0]
    for name, _ in bench.COLUMNS:
        assert name.split()[0] in header
    assert "columns:" in table
