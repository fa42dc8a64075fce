"""`make run`'s entry point (`solarb run -c config.toml` with `[localnet] start = true`) as a user runs it:
a child cluster seeded with the demo, the bot trading on it, Ctrl-C stopping both. Trades confirm and
the wallet's balance change (read from the cluster over RPC) equals the logged realized profit."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import threading
from pathlib import Path

import orjson
import pytest

from bot.commands.logs import follow_records
from bot.keys import write_new_keypair
from localnet.scenarios import demo

pytestmark = [pytest.mark.localnet, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
        with socket.socket() as b:
            try:
                b.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port pair")


def test_config_toml_lists_the_demo_pools():
    text = (REPO / "config.toml").read_text()
    for address in demo.pool_addresses().values():
        assert address in text


def make_run_config(tmp_path: Path) -> tuple[Path, int]:
    """config.toml as `make run` uses it, on free ports, with this test's key, log and ledger."""
    port = free_port_pair()
    write_new_keypair(tmp_path / "bot.json")
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        cex_port, status_port = a.getsockname()[1], b.getsockname()[1]
    cfg = (REPO / "config.toml").read_text()
    cfg = cfg.replace("http://127.0.0.1:8899", f"http://127.0.0.1:{port}").replace(
        "ws://127.0.0.1:8900", f"ws://127.0.0.1:{port + 1}"
    )
    cfg = cfg.replace("cex_port = 9443", f"cex_port = {cex_port}").replace(
        "ws://127.0.0.1:9443/stream", f"ws://127.0.0.1:{cex_port}/stream"
    )
    cfg = re.sub(r"(\[status\]\nport = )\d+", rf"\g<1>{status_port}", cfg)
    cfg = cfg.replace('payer = "keys/localnet.json"', f'payer = "{tmp_path / "bot.json"}"')
    cfg = cfg.replace('path = "logs/solarb.jsonl"', f'path = "{tmp_path / "bot.jsonl"}"')
    cfg = cfg.replace("[ledger]", "[ledger_unused]") if "[ledger]" in cfg else cfg
    cfg += f'\n[ledger]\npath = "{tmp_path / "ledger.sqlite3"}"\n'
    cfg = re.sub(r"slot_ms = \d+", "slot_ms = 50", cfg)
    (tmp_path / "config.toml").write_text(cfg)
    return tmp_path / "config.toml", port


async def test_make_run_entry_point(tmp_path):
    """The `make run` command with stdout piped: progress, trades over the whole run (the simulator keeps
    moving the pools), Ctrl-C, and the summary; every trade realizes its expected net."""
    config, _port = make_run_config(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "-c", str(config), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    stop = threading.Event()
    events: list[dict] = []

    def tail() -> None:
        for rec in follow_records(tmp_path / "bot.jsonl", stop, poll_s=0.02):
            events.append(rec)

    reader = threading.Thread(target=tail, daemon=True)
    reader.start()
    try:
        async with asyncio.timeout(120):
            while not any(e["event"] == "running" for e in events):
                if proc.returncode is not None:
                    raise AssertionError((await proc.stderr.read()).decode()[-2000:])
                await asyncio.sleep(0.1)
        running_at = next(e for e in events if e["event"] == "running")["ts_ns"]
        await asyncio.sleep(20)  # the demo's first opportunities, then the noise traders' ones
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = await asyncio.wait_for(proc.communicate(), 90)
        stop.set()
        reader.join(5)
    assert proc.returncode == 0, err.decode()[-2000:]
    log = [orjson.loads(x) for x in (tmp_path / "bot.jsonl").read_bytes().splitlines()]
    assert [e["event"] for e in log][-3:] == ["summary", "localnet_stopped", "stopped"]
    confirmed = [e for e in log if e["event"] == "trade_confirmed"]
    assert confirmed and all(e["realized_net"] == e["expected_net"] for e in confirmed)
    # Trades keep confirming over the whole run, not only at start.
    late = [e for e in confirmed if e["ts_ns"] > running_at + 12 * 10**9]
    assert late, [(e["ts_ns"] - running_at) // 10**6 for e in confirmed]
    legs = {e["legs"] for e in log if e["event"] == "trade_sent"}
    assert {2, 3} <= legs
    text = out.decode()
    for needle in ("routes_built", "templates_ready", "running", "trade_sent", "trade_confirmed", "solarb summary",
                   "realized PnL"):  # fmt: skip
        assert needle in text, needle
    summary = next(e for e in log if e["event"] == "summary")
    landed = [e for e in log if e["event"] in ("trade_confirmed", "trade_reverted")]
    assert summary["realized_lamports"] == sum(e["realized_net"] for e in landed) > 0
    from bot.ledger import Ledger

    with Ledger.open(str(tmp_path / "ledger.sqlite3"), instance="default", create=False) as led:
        assert led.realized_total() == summary["realized_lamports"]


async def test_a_killed_bot_does_not_orphan_its_cluster(tmp_path):
    config, port = make_run_config(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "-c", str(config), cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(120):
            while (
                not (tmp_path / "bot.jsonl").exists()
                or b'"running"' not in (tmp_path / "bot.jsonl").read_bytes()
            ):
                await asyncio.sleep(0.1)
    finally:
        proc.kill()  # kill -9: no clean-up in the bot at all
        await proc.wait()
    async with asyncio.timeout(15):  # the cluster child follows its parent (parent-death signal)
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) != 0:
                    break
            await asyncio.sleep(0.1)
