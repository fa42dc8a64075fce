"""`solarb check --connect` asks each endpoint getHealth/getSlot (real localnet) and reports a dead one."""

from __future__ import annotations

import asyncio

import pytest

from bot.cli import main
from bot.keys import write_new_keypair

pytestmark = pytest.mark.localnet


async def test_check_connect(localnet, tmp_path, capsys):
    write_new_keypair(tmp_path / "k.json")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[keys]\npayer = "{tmp_path / "k.json"}"\n'
        f'[[rpc.endpoints]]\nname = "local"\nhttp = "{localnet.rpc_url}"\n'
        '[[rpc.endpoints]]\nname = "dead"\nhttp = "http://127.0.0.1:9"\ntimeout_ms = 500\nroles = ["read"]\n'
    )
    code = await asyncio.to_thread(main, ["check", "-c", str(cfg), "--connect"])
    out = capsys.readouterr().out
    assert code == 1  # one endpoint is down
    local = next(line for line in out.splitlines() if line.startswith("connect   local"))
    assert "health ok" in local and "latency" in local
    assert "FAILED" in next(line for line in out.splitlines() if line.startswith("connect   dead"))
