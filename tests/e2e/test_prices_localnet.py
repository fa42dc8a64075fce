"""CEX prices through the running bot: a real websocket feed (localnet's CEX server) sets the SOL price in
the detector's market vector; when the feed dies the price is zeroed as stale, and comes back after the
reconnect."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.logs import Log
from bot.runtime import Bot
from localnet.cex_server import CexFeedServer
from localnet.market_path import PathPoint
from localnet.scenarios import demo
from strategies import layout

pytestmark = pytest.mark.localnet


async def wait_until(cond, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


async def test_sol_price_from_cex_feed_and_staleness(localnet, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])
    path = [PathPoint(i, 150.0 + i, 150.2 + i) for i in range(100)]
    async with CexFeedServer("binance", {"SOLUSDC": path}) as server:
        text = demo.config_toml(
            localnet.rpc_url,
            localnet.ws_url,
            str(tmp_path / "bot.json"),
            str(tmp_path / "bot.jsonl"),
            dry_run=True,
        )
        text += (
            f'\n[feeds]\nstale_after_ms = 200\n[feeds.symbols]\nSOLUSDC = "SOL/USDC"\n'
            f'[[feeds.cex]]\nvenue = "binance"\nurl = "{server.url}"\nsymbols = ["SOLUSDC"]\n'
        )
        cfg = parse_config(text)
        log = Log(tmp_path / "bot.jsonl", console="never")
        bot = Bot(cfg, Mode(send=False, live=False), wallet, log)
        ready = asyncio.Event()
        task = asyncio.create_task(bot.run(ready.set, autotrade=False))
        try:
            await asyncio.wait(
                {task, asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED
            )
            if task.done():
                task.result()
            market = bot.cache.market
            await server.wait_subscribed(1)
            await server.step(1)
            await wait_until(lambda: market[layout.M_SOL_USD] == pytest.approx(150.1))
            server.kill_clients()
            await wait_until(lambda: market[layout.M_SOL_USD] == 0.0)  # stale while disconnected
            await server.wait_subscribed(2)
            await server.step(1)
            await wait_until(lambda: market[layout.M_SOL_USD] == pytest.approx(151.1))
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await bot.close()
            log.close()
