"""`solarb status` against a running bot on localnet: uptime, the cluster's slot against the bot's,
endpoints and their health, pools by state, routes by state, trades in flight, PnL today, kill switch."""

from __future__ import annotations

import asyncio
import contextlib
import json

import orjson
import pytest

from bot.app import Mode
from bot.cli import main
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.logs import Log
from bot.runtime import Bot
from localnet.scenarios import demo

pytestmark = pytest.mark.localnet


async def test_status_of_a_running_bot(localnet, tmp_path, capsys):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])
    log_path = tmp_path / "bot.jsonl"
    text = demo.config_toml(localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"), str(log_path))
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(text)
    log = Log(log_path, console="never")
    bot = Bot(parse_config(text), Mode(send=True, live=False), wallet, log)
    bot.status_port = 0  # any free port
    task = asyncio.create_task(bot.run())
    try:
        async with asyncio.timeout(60):
            while not [r for r in (orjson.loads(x) for x in log_path.read_bytes().splitlines()) if
                       r["event"] == "trade_confirmed"] if log_path.exists() else True:  # fmt: skip
                await asyncio.sleep(0.05)
        code = await asyncio.to_thread(
            main, ["status", "-c", str(cfg_path), "--port", str(bot.status_port), "--json"]
        )
        doc = json.loads(capsys.readouterr().out)
        code_text = await asyncio.to_thread(
            main, ["status", "-c", str(cfg_path), "--port", str(bot.status_port)]
        )
        text_out = capsys.readouterr().out
    finally:
        await bot.shutdown()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, BaseExceptionGroup):
            await task
        await bot.close()
        log.close()
    assert code == 0 and code_text == 0
    assert doc["running"] and doc["uptime_s"] > 0 and doc["wallet"] == str(wallet.pubkey)
    assert doc["slot"]["bot"] > 0 and doc["slot"]["cluster"] >= doc["slot"]["bot"] - 5
    assert [e["name"] for e in doc["endpoints"]] == ["localnet"] and doc["endpoints"][0]["state"]
    assert (
        sum(doc["pools"]["counts"].values()) == len(demo.pool_addresses())
        and doc["pools"]["counts"]["live"] > 0
    )
    assert doc["routes"]["active"] > 0 and doc["trades"]["landed"] >= 1
    assert doc["pnl_today"]["realized_lamports"] > 0 and doc["pnl_today"]["trades"] >= 1
    assert doc["kill_switch"] == {"tripped": False, "reason": ""}
    assert isinstance(doc["in_flight"], list)
    assert "kill      not tripped" in text_out and "routes    active" in text_out


def test_status_without_a_bot_is_one_line(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[status]\nport = 9\n")
    assert main(["status", "-c", str(cfg)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no bot answers" in err[0]
    cfg.write_text("")
    assert main(["status", "-c", str(cfg)]) == 2
    assert "[status] port is 0" in capsys.readouterr().err
