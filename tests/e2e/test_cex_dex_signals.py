"""`cex_dex = true` on the demo with a real CEX feed (localnet's server): a pool priced away from the CEX
mid is reported as a `cex_dex_signal` net of every cost, and nothing is sent for it."""

from __future__ import annotations

import asyncio
import contextlib

import orjson
import pytest

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.logs import Log
from bot.runtime import Bot
from localnet.cex_server import CexFeedServer
from localnet.market_path import PathPoint
from localnet.scenarios import demo

pytestmark = pytest.mark.localnet


def events(path, name):
    if not path.exists():
        return []
    return [r for r in (orjson.loads(x) for x in path.read_bytes().splitlines()) if r["event"] == name]


async def test_cex_dex_signal_logged_and_never_sent(localnet, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])
    dusd = str(demo.MINTS["dUSD"][0])
    sol = [PathPoint(i, 150.0, 150.2) for i in range(50)]
    usd = [PathPoint(i, 0.9999, 1.0001) for i in range(50)]
    log_path = tmp_path / "bot.jsonl"
    async with CexFeedServer("binance", {"SOLUSDC": sol, "DUSDUSDC": usd}) as server:
        text = demo.config_toml(localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"), str(log_path))
        text = text.replace("[tokens]\n", f'[tokens]\ndUSD = "{dusd}"\n')
        text = text.replace("[strategy]\n", "[strategy]\ncex_dex = true\n")
        text += (
            '\n[feeds]\n[feeds.symbols]\nSOLUSDC = "SOL/USDC"\nDUSDUSDC = "dUSD/USDC"\n'
            f'[[feeds.cex]]\nvenue = "binance"\nurl = "{server.url}"\nsymbols = ["SOLUSDC", "DUSDUSDC"]\n'
        )
        cfg = parse_config(text)
        log = Log(log_path, console="never")
        bot = Bot(cfg, Mode(send=True, live=False), wallet, log)
        ready = asyncio.Event()
        task = asyncio.create_task(bot.run(ready.set))
        try:
            await asyncio.wait(
                {task, asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED
            )
            if task.done():
                task.result()
            await server.wait_subscribed(1)
            async with asyncio.timeout(30):
                while not events(log_path, "cex_dex_signal"):
                    await server.step(1)
                    await asyncio.sleep(0.05)
            await bot.executor.drain()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await bot.close()
            log.close()
    signals = events(log_path, "cex_dex_signal")
    assert signals and all(s["executed"] is False and s["expected_net"] > 0 for s in signals)
    # Cheap dUSD on P2 (156 per SOL against a 150.1 CEX mid): sell SOL there.
    p2 = demo.pool_addresses()["P2"]
    assert any(
        s["pool"] == p2 and s["sell_mint"] == str(demo.NATIVE_MINT) and s["buy_mint"] == dusd for s in signals
    ), signals
    cex_routes = {r.route_id for r in bot.table.routes if len(r.legs) == 1}
    assert cex_routes and not any(e["route"] in cex_routes for e in events(log_path, "trade_sent"))
    assert bot.trading.engine.stats.signals >= len(signals)
