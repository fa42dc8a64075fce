"""Risk on localnet: a program that rejects a route's instruction costs at most two sends per route, then
the route is quarantined and says so; the daily loss trips the kill switch, which is still tripped after a
restart; a pool account turned to garbage mid-run is unusable at once; the ledger's PnL is the wallet's
change; a second run reuses the first run's lookup table."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path

import orjson
import pytest
from solders.account import Account

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.ledger import Ledger
from bot.logs import Log
from bot.runtime import Bot
from localnet.programs import program_path
from localnet.scenarios import demo
from strategies import layout
from strategies.venues import raydium_cpmm as cpmm

pytestmark = pytest.mark.localnet


def events(path: Path, name: str) -> list[dict]:
    if not path.exists():
        return []
    return [r for r in (orjson.loads(x) for x in path.read_bytes().splitlines()) if r["event"] == name]


def config(net, tmp_path: Path, extra_risk: str = "") -> str:
    text = demo.config_toml(net.rpc_url, net.ws_url, str(tmp_path / "bot.json"), str(tmp_path / "bot.jsonl"))
    return text.replace("[risk]\n", f"[risk]\n{extra_risk}")


async def run_bot(
    bot: Bot, until, *, autotrade: bool = True, after_ready=None, timeout: float = 60.0
) -> None:
    ready = asyncio.Event()
    task = asyncio.create_task(bot.run(ready.set, autotrade=autotrade))
    try:
        await asyncio.wait({task, asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()
        if after_ready is not None:
            after_ready()
        async with asyncio.timeout(timeout):
            while not until():
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
    finally:
        if not task.done():
            await bot.shutdown()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, BaseExceptionGroup):
            await task
        await bot.close()


def start_engine(bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    bot._engine_task = loop.create_task(bot.trading.engine.run())
    bot.dirty.mark_all()


async def test_a_rejecting_program_costs_at_most_two_sends_per_route_and_trips_the_kill_switch(
    localnet_factory, tmp_path
):
    wallet = write_new_keypair(tmp_path / "bot.json")
    net = await localnet_factory(slot_ms=10, seed=lambda n: demo.seed(n, [wallet.pubkey]))
    log_path = tmp_path / "bot.jsonl"
    cfg = parse_config(config(net, tmp_path, "max_daily_loss_lamports = 10000\n"))
    log = Log(log_path, console="never")
    bot = Bot(cfg, Mode(send=True, live=False), wallet, log)

    def reject_everything() -> None:
        # The CPMM program is replaced under the running bot by one that rejects its instruction data
        # (as an upgraded program with a new instruction form would): the pools themselves do not change.
        net.add_program(cpmm.PROGRAM_ID, program_path("amm_v4"))
        start_engine(bot)

    await run_bot(
        bot, lambda: bool(events(log_path, "halted")), autotrade=False, after_ready=reject_everything
    )
    await asyncio.sleep(0.3)
    log.close()
    sends = Counter(e["route"] for e in events(log_path, "trade_sent"))
    assert sends and max(sends.values()) <= 2, sends
    quarantined = {e["route"] for e in events(log_path, "route_quarantined")}
    reverted = {e["route"] for e in events(log_path, "trade_reverted")}
    assert reverted and reverted <= quarantined
    (halt,) = events(log_path, "halted")
    assert "daily loss" in halt["reason"] and "solarb risk reset" in halt["fix"]
    # A restart does not clear the kill switch: nothing is sent.
    log2_path = tmp_path / "bot2.jsonl"
    cfg2 = parse_config(config(net, tmp_path, "max_daily_loss_lamports = 10000\n").replace(
        f'path = "{log_path}"', f'path = "{log2_path}"', 1))  # fmt: skip
    net.add_program(cpmm.PROGRAM_ID, program_path("cpmm"))  # the program is fine again: still no trade
    log2 = Log(log2_path, console="never")
    bot2 = Bot(cfg2, Mode(send=True, live=False), wallet, log2)
    await run_bot(bot2, lambda: bool(events(log2_path, "running")))
    await asyncio.sleep(0.5)
    log2.close()
    assert events(log2_path, "halted") and not events(log2_path, "trade_sent")
    with Ledger.open(str(log_path) + ".ledger.sqlite3", instance="default", create=False) as led:
        assert led.kill_switch().tripped
        assert {q.route_id for q in led.quarantined()} >= {
            bot.route_key(bot.table.routes[r]) for r in quarantined
        }


async def test_a_pool_turned_to_garbage_is_unusable_at_once(localnet_factory, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    net = await localnet_factory(slot_ms=10, seed=lambda n: demo.seed(n, [wallet.pubkey]))
    log_path = tmp_path / "bot.jsonl"
    log = Log(log_path, console="never")
    bot = Bot(parse_config(config(net, tmp_path)), Mode(send=True, live=False), wallet, log)
    p1 = demo.pool_addresses()["P1"]

    def garble() -> None:
        from solders.pubkey import Pubkey

        key = Pubkey.from_string(p1)
        acc = net.get_account(key)
        net.set_account(key, Account(acc.lamports, b"\x00" * len(acc.data), acc.owner, False, 0), notify=True)
        start_engine(bot)

    seen: list[float] = []

    def unusable_for_a_while() -> bool:  # the pool went bad, and the bot kept running 0.5 s after
        if not seen and events(log_path, "pool_unusable"):
            seen.append(asyncio.get_running_loop().time())
        return bool(seen) and asyncio.get_running_loop().time() - seen[0] > 0.5

    await run_bot(bot, unusable_for_a_while, autotrade=False, after_ready=garble)
    idx = next(e.idx for e in bot.writer.pools if str(e.address) == p1)
    assert not layout.is_usable(bot.cache, idx)
    log.close()
    (line,) = events(log_path, "pool_unusable")
    assert line["pool"] == p1 and "does not decode" in line["reason"]
    routes_through_p1 = {r.route_id for r in bot.table.routes if any(leg.pool == idx for leg in r.legs)}
    # At most 2 reverts (what was decided before the garbage arrived), nothing more in the time after it.
    through_p1 = [e for e in events(log_path, "trade_sent") if e["route"] in routes_through_p1]
    assert len(through_p1) <= 2
    assert len([e for e in events(log_path, "trade_reverted") if e["route"] in routes_through_p1]) <= 2


async def test_the_ledger_equals_the_wallet_and_a_second_run_reuses_the_lookup_table(
    localnet_factory, tmp_path
):
    from spl.token.instructions import get_associated_token_address

    from rpc.client import RpcClient

    wallet = write_new_keypair(tmp_path / "bot.json")
    net = await localnet_factory(slot_ms=10, seed=lambda n: demo.seed(n, [wallet.pubkey]))
    log_path = tmp_path / "bot.jsonl"
    log = Log(log_path, console="never")
    bot = Bot(parse_config(config(net, tmp_path)), Mode(send=True, live=False), wallet, log)
    await run_bot(bot, lambda: len(events(log_path, "trade_confirmed")) >= 3)
    log.close()
    start = events(log_path, "running")[0]["wallet_lamports"]  # payer + wSOL before the engine ran
    wsol = get_associated_token_address(wallet.pubkey, demo.NATIVE_MINT)
    async with RpcClient(net.rpc_url) as rpc:
        res = await rpc.get_multiple_accounts([str(wallet.pubkey), str(wsol)], commitment="confirmed")
    now = sum(a.lamports for a in res.accounts if a is not None)
    with Ledger.open(str(log_path) + ".ledger.sqlite3", instance="default", create=False) as led:
        realized = led.realized_total()
    assert realized == now - start
    first = events(log_path, "lookup_tables")[0]
    assert first["created"] == 1 and first["reused"] == 0
    # Run again on the same cluster and ledger: the table of the first run is reused, none created.
    log2_path = tmp_path / "bot2.jsonl"
    cfg2 = parse_config(config(net, tmp_path).replace(f'path = "{log_path}"', f'path = "{log2_path}"', 1))
    log2 = Log(log2_path, console="never")
    bot2 = Bot(cfg2, Mode(send=True, live=False), wallet, log2)
    await run_bot(bot2, lambda: bool(events(log2_path, "running")), autotrade=False)
    log2.close()
    second = events(log2_path, "lookup_tables")[0]
    assert second["reused"] == 1 and second["created"] == 0 and second["extended"] == 0
