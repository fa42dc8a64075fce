"""The whole bot against localnet with the demo scenario: real CPMM program, real transactions.

Profitable 2-leg and 3-leg cycles execute; realized profit (from each transaction's own balances,
fee included) equals the expected net profit; the wallet's balance change equals the logged total.
"""

from __future__ import annotations

import asyncio
import contextlib

import orjson
import pytest
from spl.token.instructions import get_associated_token_address

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.logs import Log
from bot.runtime import Bot
from localnet.scenarios import demo

pytestmark = pytest.mark.localnet


def wallet_total(net, owner) -> int:
    wsol = get_associated_token_address(owner, demo.NATIVE_MINT)
    acc = net.get_account(wsol)
    return net.balance(owner) + (acc.lamports if acc is not None else 0)


async def test_demo_trades_and_pnl(localnet, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])
    log_path = tmp_path / "bot.jsonl"
    cfg = parse_config(
        demo.config_toml(localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"), str(log_path))
    )
    log = Log(log_path, console="never")
    bot = Bot(cfg, Mode(send=True, live=False), wallet, log)
    running = asyncio.Event()
    start_total = None

    async def ready() -> None:
        nonlocal start_total
        start_total = wallet_total(localnet, wallet.pubkey)
        running.set()

    task = asyncio.create_task(bot.run(ready))
    try:
        async with asyncio.timeout(60):
            await asyncio.wait(
                {task, asyncio.ensure_future(running.wait())}, return_when=asyncio.FIRST_COMPLETED
            )
            if task.done():
                task.result()
            ex = bot.executor
            # The seeded mispricings give a 2-leg and then 3-leg cycles; wait until the landed trades
            # include both and nothing is in flight (every landing sets `landed`).
            while not {2, 3} <= set(ex.stats.confirmed_by_legs):
                ex.landed.clear()
                await ex.landed.wait()
            if ex._tasks:
                await asyncio.wait(set(ex._tasks))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bot.close()
        log.close()
    recs = [orjson.loads(line) for line in log_path.read_bytes().splitlines()]
    confirmed = [r for r in recs if r["event"] == "trade_confirmed"]
    sent = {r["signature"]: r for r in recs if r["event"] == "trade_sent"}
    assert confirmed, [r["event"] for r in recs]
    legs = {sent[r["signature"]]["legs"] for r in confirmed}
    assert {2, 3} <= legs, legs
    for r in confirmed:
        assert r["realized_net"] == r["expected_net"], r
    realized_total = sum(
        r["realized_net"] for r in recs if r["event"] in ("trade_confirmed", "trade_reverted")
    )
    assert wallet_total(localnet, wallet.pubkey) - start_total == realized_total
