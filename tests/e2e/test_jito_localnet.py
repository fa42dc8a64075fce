"""The Jito path on localnet's block engine: the guarded transaction (its tip inside) goes out as a bundle,
lands atomically with the realized profit equal to the expected net; a bundle whose guard fails lands
nothing at all (no fee, no tip), and the ledger records the trade as expired."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import orjson
import pytest

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.ledger import Ledger
from bot.logs import Log
from bot.runtime import Bot
from localnet.scenarios import demo
from rpc.client import RpcClient
from strategies import confirm

pytestmark = pytest.mark.localnet
SOL = 10**9
TIP = 20_000


def events(path: Path, name: str) -> list[dict]:
    return [r for r in (orjson.loads(x) for x in path.read_bytes().splitlines()) if r["event"] == name]


async def started(net, tmp_path: Path, wallet) -> tuple[Bot, asyncio.Task, Log, Path]:
    log_path = tmp_path / "bot.jsonl"
    text = demo.config_toml(net.rpc_url, net.ws_url, str(tmp_path / "bot.json"), str(log_path))
    text = text.replace(
        "[tokens]",
        f'[[rpc.endpoints]]\nname = "jito"\nhttp = "{net.bundle_url}"\nroles = ["bundle"]\n[tokens]',
        1,
    )
    text = text.replace("[execution]\n", f'[execution]\nsend_mode = "bundle"\ntip_policy = "fixed"\ntip_lamports = {TIP}\n'
                                         "slippage_bps = 0\n")  # fmt: skip
    log = Log(log_path, console="never")
    bot = Bot(parse_config(text), Mode(send=True, live=False), wallet, log)
    ready = asyncio.Event()
    task = asyncio.create_task(bot.run(ready.set, autotrade=False))
    await asyncio.wait({task, asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    return bot, task, log, log_path


async def stop(bot: Bot, task: asyncio.Task, log: Log) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await bot.close()
    log.close()


def two_leg(bot: Bot):
    for route in bot.table.routes:
        if len(route.legs) == 2:
            opp = confirm.confirm(bot.cache, bot.table, route.route_id, 2.0 * SOL, slot=0, recv_ns=time.monotonic_ns(),
                                  slippage_bps=0)  # fmt: skip
            if opp is not None:
                return opp
    raise AssertionError("the demo has a 2-leg opportunity")


async def test_bundle_lands_atomically_with_its_tip(localnet_factory, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    net = await localnet_factory(slot_ms=10, block_engine=True, seed=lambda n: demo.seed(n, [wallet.pubkey]))
    bot, task, log, log_path = await started(net, tmp_path, wallet)
    try:
        opp = two_leg(bot)
        before = await bot.wallet_lamports()
        tx = bot.executor.on_opportunity(opp)
        assert tx is not None
        await asyncio.wait(set(bot.executor._tasks), timeout=30)
        after = await bot.wallet_lamports()
        sig = events(log_path, "trade_sent")[0]["signature"]
        bundle = net.block_engine.bundle(bot.jito.bundle_ids[sig])
    finally:
        await stop(bot, task, log)
    (ok,) = events(log_path, "trade_confirmed")
    assert (
        ok["realized_net"] == ok["expected_net"] == after - before
    )  # expected: repriced at the proven CU limit
    assert ok["tip"] == TIP and bundle.status == "Landed" and bundle.tip == TIP


async def test_a_bundle_whose_guard_fails_lands_nothing(localnet_factory, tmp_path):
    from test_guard_localnet import rival_swap

    wallet = write_new_keypair(tmp_path / "bot.json")
    net = await localnet_factory(slot_ms=10, block_engine=True, seed=lambda n: demo.seed(n, [wallet.pubkey]))
    bot, task, log, log_path = await started(net, tmp_path, wallet)
    try:
        opp = two_leg(bot)
        before = await bot.wallet_lamports()
        async with RpcClient(net.rpc_url) as rpc:
            await rival_swap(net, rpc, bot, opp.legs[0].pool, 200 * SOL)  # the gap closes first
        assert bot.executor.on_opportunity(opp) is not None
        await asyncio.wait(set(bot.executor._tasks), timeout=60)
        after = await bot.wallet_lamports()
        sig = events(log_path, "trade_sent")[0]["signature"]
        bundle = net.block_engine.bundle(bot.jito.bundle_ids[sig])
    finally:
        await stop(bot, task, log)
    assert after == before  # no fee, no tip: the bundle never landed
    assert not events(log_path, "trade_confirmed") and not events(log_path, "trade_reverted")
    assert events(log_path, "trade_expired") and bundle.status == "Failed"
    with Ledger.open(str(log_path) + ".ledger.sqlite3", instance="default", create=False) as led:
        (trade,) = led.trades()
        assert trade.signature == sig and trade.outcome == "expired" and trade.realized_lamports == 0
