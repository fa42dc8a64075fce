"""A living market on localnet, with faults injected while the bot trades.

Noise traders (localnet.simulator) keep moving the pools of every venue whose reference program exists;
the CEX feed follows a random walk. Injected while the bot runs: PubSub sockets killed, CEX sockets
killed, the preferred RPC endpoint turning to 429 (then healing), a stalled slot clock, a pool account
overwritten with garbage (then restored), then given a wrong owner (then restored), malformed PubSub and
CEX frames, a wallet drained below what a trade needs (then funded again). After each fault the bot's cache equals the chain's state (a
fresh cache built from getMultipleAccounts). At the end: routes of every venue executed and confirmed,
realized PnL > 0 and equal to the ledger's sum and to the wallet's change, and every revert was a
guard's (a swap's own min-out): no loss beyond fees."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest
from solders.account import Account
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM
from spl.token.instructions import get_associated_token_address

from bot.accounts import AccountFeed
from bot.app import Mode
from bot.cache import CacheWriter
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.ledger import Ledger
from bot.logs import Log
from bot.runtime import Bot
from localnet.scenarios import demo
from localnet.simulator import Market, Simulator, reference_of_scenario
from rpc.client import RpcClient
from strategies import layout
from strategies.venues.base import Venue

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rpc"))
from rpc_fakes import FakeEndpoint

pytestmark = [pytest.mark.localnet, pytest.mark.slow]


def records(path: Path) -> list[dict]:
    out = []
    if path.exists():
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):
                out.append(orjson.loads(line))
    return out


def events(path: Path, name: str) -> list[dict]:
    return [r for r in records(path) if r["event"] == name]


async def until(cond, timeout: float, what: str) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not cond():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def chain_rows(bot: Bot, rpc_url: str) -> tuple[np.ndarray, np.ndarray]:
    """The cache rows a fresh writer builds from the chain's accounts now (exact integers, ticks)."""
    writer = CacheWriter(now_unix=bot.writer._now_unix)
    for e in bot.writer.pools:
        writer.add_pool(e.venue, str(e.address), str(e.program_id))
    async with RpcClient(rpc_url) as rpc:
        feed = AccountFeed(writer, rpc, commitment="processed")
        await feed.bootstrap()
        table = bot.table
        cache = layout.allocate(len(writer.pools), len(table.mints), tick_rows=writer.tick_rows())
        writer.attach(cache, table.token_index)
    return cache.pools_u.copy(), cache.pools_i[:, layout.I_TICK].copy()


async def converged(bot: Bot, rpc_url: str, sim: asyncio.Task | None, timeout: float = 10.0) -> None:
    """With the noise traders paused, the bot's cache reaches the chain's state."""
    assert sim is None or sim.done()
    async with asyncio.timeout(timeout):
        while True:
            await asyncio.sleep(0.3)  # a few slots: notifications and settling run out
            u, ticks = await chain_rows(bot, rpc_url)
            live = [e.idx for e in bot.writer.pools if not e.refused and not e.unusable]
            if all((bot.cache.pools_u[i] == u[i]).all() and bot.cache.pools_i[i, layout.I_TICK] == ticks[i]
                   for i in live):  # fmt: skip
                return


async def test_the_bot_trades_a_living_market_and_survives_faults(localnet_factory, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    net = await localnet_factory(slot_ms=20, seed=lambda n: demo.seed(n, [wallet.pubkey]))
    market = Market(net, reference_of_scenario("demo"), simulate=False, rate=20, seed=3, cex_port=0)
    await market.start()
    simulator = Simulator(net, market.reference, rate=20, seed=3)
    sim_task: asyncio.Task | None = asyncio.create_task(simulator.run())
    log_path = tmp_path / "bot.jsonl"
    bot: Bot | None = None
    task: asyncio.Task | None = None
    async with FakeEndpoint("ok", upstream=net.rpc_url) as proxy:
        text = demo.config_toml(net.rpc_url, net.ws_url, str(tmp_path / "bot.json"), str(log_path),
                                cex_url=market.cex_url)  # fmt: skip
        head, _, rest = text.partition("[[rpc.endpoints]]")
        _, _, rest = rest.partition("[tokens]")
        text = (head + f'[[rpc.endpoints]]\nname = "proxy"\nhttp = "{proxy.url}"\nws = "{net.ws_url}"\npriority = 0\n'
                f'timeout_ms = 500\n[[rpc.endpoints]]\nname = "localnet"\nhttp = "{net.rpc_url}"\nws = "{net.ws_url}"\n'
                "priority = 1\n[rpc]\nprobe_interval_ms = 100\n[tokens]" + rest)  # fmt: skip
        text = text.replace("[risk]\n", "[risk]\nquarantine_after_reverts = 100\n")
        log = Log(log_path, console="never")
        bot = Bot(parse_config(text), Mode(send=True, live=False), wallet, log)
        task = asyncio.create_task(bot.run())
        try:
            await until(lambda: len(events(log_path, "trade_confirmed")) >= 3, 60, "the first trades")
            start = events(log_path, "running")[0]["wallet_lamports"]

            async def pause_and_check() -> None:
                nonlocal sim_task
                assert sim_task is not None
                sim_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sim_task
                await converged(bot, net.rpc_url, sim_task)
                sim_task = asyncio.create_task(simulator.run())

            confirmed = len(events(log_path, "trade_confirmed"))
            # 1. PubSub sockets killed: the bot reconnects, resubscribes and resnapshots.
            for client in list(net.pubsub.clients):
                client.ws.transport.abort()
            await until(lambda: bot.pubsub.stats.connects >= 2, 20, "the PubSub reconnect")
            await pause_and_check()
            # 2. CEX sockets killed: the feed reconnects, its price goes stale meanwhile.
            assert market.cex is not None and market.cex.kill_clients() >= 1
            await market.cex.wait_subscribed(2)
            # 3. The preferred endpoint answers 429 (reads and sends fail over), then heals.
            proxy.mode = "429"
            await until(
                lambda: (
                    len(events(log_path, "trade_confirmed")) > confirmed + 2
                    and bool(events(log_path, "read_endpoint_switched"))
                ),
                60,
                "trades and reads through the 429",
            )
            proxy.mode = "ok"
            # 4. A stalled slot clock (nothing confirms, blockhashes age), then the chain moves on.
            net.pause_clock()
            await asyncio.sleep(1.0)
            net.resume_clock()
            await pause_and_check()
            # 5. A pool account overwritten with garbage: unusable at once; restored: usable again.
            key = Pubkey.from_string(demo.pool_addresses()["P3"])
            good = net.get_account(key)
            net.set_account(
                key, Account(good.lamports, b"\x00" * len(good.data), good.owner, False, 0), notify=True
            )
            await until(lambda: bool(events(log_path, "pool_unusable")), 10, "pool_unusable")
            net.set_account(key, good, notify=True)
            await until(lambda: bool(events(log_path, "pool_recovered")), 10, "pool_recovered")
            await pause_and_check()
            # 6. The same pool account given a wrong owner (its bytes unchanged): unusable; restored: usable.
            good = net.get_account(key)
            net.set_account(key, Account(good.lamports, good.data, SYSTEM_PROGRAM, False, 0), notify=True)
            await until(
                lambda: len(events(log_path, "pool_unusable")) >= 2, 10, "pool_unusable (wrong owner)"
            )
            net.set_account(key, good, notify=True)
            await until(
                lambda: len(events(log_path, "pool_recovered")) >= 2, 10, "pool_recovered (owner back)"
            )
            await pause_and_check()
            # 7. Malformed frames: PubSub (not JSON; a notification of ours with wrong types) and CEX (not
            # JSON, truncated, wrong types): counted, skipped, one line per source; nothing acted on them.
            for client in list(net.pubsub.clients):
                client.push(b"{not json")
                for sub_id in list(client.subs)[:3]:
                    client.push(
                        orjson.dumps(
                            {
                                "jsonrpc": "2.0",
                                "method": "accountNotification",
                                "params": {
                                    "subscription": sub_id,
                                    "result": {
                                        "context": {"slot": "soon"},
                                        "value": {
                                            "data": ["%%%", "base64"],
                                            "lamports": -1,
                                            "owner": 7,
                                            "executable": False,
                                        },
                                    },
                                },
                            }
                        )
                    )
            assert await market.cex.inject_raw("{not json") >= 1
            await market.cex.inject_raw('{"stream":"solusdt@bookTicker","data":{"s":"SOLUSDT","b":"1')
            await market.cex.inject_raw(
                '{"stream":"solusdt@bookTicker","data":{"u":"x","s":7,"b":[],"a":null}}'
            )
            feed_source = bot.trading.feeds[0].exchange.value
            await until(lambda: {e["source"] for e in events(log_path, "malformed_frames")} >= {"pubsub", feed_source},
                        10, "malformed_frames lines")  # fmt: skip
            await pause_and_check()
            # 8. The wallet too poor for a trade (the operator withdrew): one line, nothing sent; funded
            # again: one line, trading resumes. The SOL taken is given back exactly (the PnL check below).
            payer = net.get_account(wallet.pubkey)
            low = bot.cfg.risk.sol_reserve_lamports // 2  # still pays the fees of a trade already in flight
            taken = payer.lamports - low
            net.set_account(
                wallet.pubkey, Account(low, payer.data, payer.owner, payer.executable, payer.rent_epoch)
            )
            await until(lambda: bool(events(log_path, "wallet_low")), 10, "wallet_low")
            await asyncio.sleep(1.5)
            now_payer = net.get_account(wallet.pubkey)
            net.set_account(wallet.pubkey, Account(now_payer.lamports + taken, now_payer.data, now_payer.owner,
                                                   now_payer.executable, now_payer.rent_epoch))  # fmt: skip
            await until(lambda: bool(events(log_path, "wallet_funded")), 10, "wallet_funded")
            names = [r["event"] for r in records(log_path)]
            poor = names[names.index("wallet_low") + 1 : names.index("wallet_funded")]
            assert "trade_sent" not in poor, poor
            assert len(events(log_path, "wallet_low")) == 1
            confirmed = len(events(log_path, "trade_confirmed"))
            await until(
                lambda: len(events(log_path, "trade_confirmed")) > confirmed + 2,
                60,
                "trades after the faults",
            )
        finally:
            if sim_task is not None:
                sim_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sim_task
            await bot.shutdown()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, BaseExceptionGroup):
                await task
            await bot.close()
            log.close()
            await market.stop()
    # The wallet's change (payer + wSOL) is the sum of realized PnL, in the log and in the ledger.
    wsol = get_associated_token_address(wallet.pubkey, demo.NATIVE_MINT)
    async with RpcClient(net.rpc_url) as rpc:
        res = await rpc.get_multiple_accounts([str(wallet.pubkey), str(wsol)], commitment="confirmed")
    now = sum(a.lamports for a in res.accounts if a is not None)
    landed = events(log_path, "trade_confirmed") + events(log_path, "trade_reverted")
    with Ledger.open(str(log_path) + ".ledger.sqlite3", instance="default", create=False) as led:
        assert led.realized_total() == now - start == sum(e["realized_net"] for e in landed) > 0
    assert all(e["realized_net"] == e["expected_net"] for e in events(log_path, "trade_confirmed"))
    assert all(e["guard"] for e in events(log_path, "trade_reverted")), events(log_path, "trade_reverted")
    # Routes of every venue with a reference program executed and confirmed.
    venues = set()
    for e in events(log_path, "trade_confirmed"):
        for leg in bot.table.routes[e["route"]].legs:
            venues.add(bot.writer.pools[leg.pool].venue)
    assert venues >= {Venue.raydium_cpmm, Venue.raydium_amm_v4, Venue.orca_whirlpool, Venue.pumpswap}, venues
    assert events(log_path, "read_endpoint_switched") and bot.pubsub.stats.connects >= 2
