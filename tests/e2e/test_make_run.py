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
from rpc.client import RpcClient

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


async def test_make_run_entry_point(tmp_path):
    port = free_port_pair()
    wallet = write_new_keypair(tmp_path / "bot.json")
    cfg = (REPO / "config.toml").read_text()
    cfg = cfg.replace("http://127.0.0.1:8899", f"http://127.0.0.1:{port}").replace(
        "ws://127.0.0.1:8900", f"ws://127.0.0.1:{port + 1}")
    cfg = cfg.replace('payer = "keys/localnet.json"', f'payer = "{tmp_path / "bot.json"}"')
    cfg = cfg.replace('path = "logs/solarb.jsonl"', f'path = "{tmp_path / "bot.jsonl"}"')
    cfg = re.sub(r"slot_ms = \d+", "slot_ms = 50", cfg)
    (tmp_path / "config.toml").write_text(cfg)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "-c", str(tmp_path / "config.toml"), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    stop = threading.Event()
    events: list[dict] = []
    seen_legs: set[int] = set()
    done = threading.Event()
    sent: dict[str, int] = {}

    def tail() -> None:
        for rec in follow_records(tmp_path / "bot.jsonl", stop, poll_s=0.02):
            events.append(rec)
            if rec["event"] == "trade_sent":
                sent[rec["signature"]] = rec["legs"]
            if rec["event"] == "trade_confirmed":
                seen_legs.add(sent[rec["signature"]])
            if {2, 3} <= seen_legs or rec["event"] in ("stopped", "task_failed"):
                done.set()

    reader = threading.Thread(target=tail, daemon=True)
    reader.start()
    try:
        assert await asyncio.to_thread(done.wait, 120), [e["event"] for e in events]
        assert {2, 3} <= seen_legs, [e for e in events if e["level"] != "info"]
        running = next(e for e in events if e["event"] == "running")

        def settled() -> bool:  # every sent trade has its outcome logged (no landing in between)
            ended = {e["signature"] for e in list(events)
                     if e["event"] in ("trade_confirmed", "trade_reverted", "trade_unconfirmed")}
            return set(sent) <= ended

        for _ in range(300):
            if settled():
                break
            await asyncio.sleep(0.1)
        async with RpcClient(f"http://127.0.0.1:{port}") as rpc:
            wsol = next(e for e in events if e["event"] == "wsol_ready")
            assert wsol["balance"] > 0
            from spl.token.instructions import get_associated_token_address

            ata = get_associated_token_address(wallet.pubkey, demo.NATIVE_MINT)
            res = await rpc.get_multiple_accounts([str(wallet.pubkey), str(ata)], commitment="confirmed")
            now_total = sum(a.lamports for a in res.accounts if a is not None)
        realized = [e for e in events if e["event"] in ("trade_confirmed", "trade_reverted")]
        assert all(e["realized_net"] == e["expected_net"] for e in realized if e["event"] == "trade_confirmed")
        assert now_total - running["wallet_lamports"] == sum(e["realized_net"] for e in realized)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        stop.set()
        reader.join(5)
    assert proc.returncode == 0, err.decode()[-2000:]
    log = [orjson.loads(x) for x in (tmp_path / "bot.jsonl").read_bytes().splitlines()]
    assert [e["event"] for e in log][-3:] == ["summary", "localnet_stopped", "stopped"]
