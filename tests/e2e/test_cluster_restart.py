"""The cluster is killed and restarted on the same ports with lower slot numbers (as a reset cluster, or a
fail-over to a node far behind, looks): the bot says so in one line, reconnects, and rebuilds its cache
from the new node instead of dropping its state as older than what it held."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from test_living_market import chain_rows, events, until

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.logs import Log
from bot.runtime import Bot
from localnet.scenarios import demo
from localnet.server import Localnet

pytestmark = pytest.mark.localnet


async def test_a_restarted_cluster_with_lower_slots_rebuilds_the_cache(tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    net = Localnet(rpc_port=0, slot_ms=10)
    demo.seed(net, [wallet.pubkey])
    await net.start()
    log_path = tmp_path / "bot.jsonl"
    text = demo.config_toml(net.rpc_url, net.ws_url, str(tmp_path / "bot.json"), str(log_path))
    log = Log(log_path, console="never")
    bot = Bot(parse_config(text), Mode(send=True, live=False), wallet, log)
    task = asyncio.create_task(bot.run())
    net2 = None
    try:
        await until(lambda: len(events(log_path, "trade_confirmed")) >= 2, 60, "trades")
        await until(lambda: bot.clock.slot > 200, 30, "slots beyond the regression margin")
        rpc_port, ws_port = net.rpc_port, net.ws_port
        await net.stop()
        # The new node: the demo's state from scratch (the trades above undone), slots from 0.
        net2 = Localnet(rpc_port=rpc_port, ws_port=ws_port, slot_ms=10)
        demo.seed(net2, [wallet.pubkey])
        await net2.start()
        await until(lambda: bool(events(log_path, "cluster_slot_regressed")), 30, "the regression line")
        async with asyncio.timeout(20):
            while True:
                u, _ticks = await chain_rows(bot, net2.rpc_url)
                if all(
                    (bot.cache.pools_u[e.idx] == u[e.idx]).all() for e in bot.writer.pools if not e.refused
                ):
                    break
                await asyncio.sleep(0.2)
    finally:
        await bot.shutdown(timeout_s=2)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, BaseExceptionGroup):
            await task
        await bot.close()
        log.close()
        if net2 is not None:
            await net2.stop()
    (line,) = events(log_path, "cluster_slot_regressed")
    assert line["slot"] < line["was"]
