"""Dry-run on localnet: opportunities are simulated (replaceRecentBlockhash) and logged with their
simulated profit; nothing is ever sent — not even set-up transactions."""

from __future__ import annotations

import asyncio
import contextlib

import orjson
import pytest
from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction
from spl.token.instructions import get_associated_token_address

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.logs import Log
from bot.runtime import Bot
from localnet.scenarios import demo
from localnet.server import pack_token_account
from rpc.client import RpcClient

pytestmark = pytest.mark.localnet
TOKEN = demo.ca.TOKEN_PROGRAM_ID


async def test_dry_run_simulates_and_sends_nothing(localnet, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])
    # The wallet already holds its token accounts and 50 wrapped SOL (dry-run creates nothing).
    for mint, _ in demo.MINTS.values():
        localnet.create_token_account(
            mint, wallet.pubkey, 0, address=get_associated_token_address(wallet.pubkey, mint)
        )
    wsol = get_associated_token_address(wallet.pubkey, demo.NATIVE_MINT)
    amount = 50 * 10**9
    localnet.set_account(
        wsol,
        Account(
            demo.RENT_165 + amount,
            pack_token_account(demo.NATIVE_MINT, wallet.pubkey, amount, native_rent=demo.RENT_165),
            TOKEN,
            False,
            0,
        ),
    )
    sends = 0
    original = localnet.methods.table["sendTransaction"]

    def counting(params):
        nonlocal sends
        sends += 1
        return original(params)

    localnet.methods.table["sendTransaction"] = counting  # the server's own dispatch table
    tx_count = localnet.chain.tx_count
    log_path = tmp_path / "bot.jsonl"
    cfg = parse_config(
        demo.config_toml(
            localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"), str(log_path), dry_run=True
        )
    )
    log = Log(log_path, console="never")
    bot = Bot(cfg, Mode(send=False, live=False), wallet, log)
    task = asyncio.create_task(bot.run())
    try:
        async with asyncio.timeout(60):
            while bot.trading is None or bot.executor.stats.simulated < 2:
                await asyncio.sleep(0.02)
                if task.done():
                    task.result()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bot.close()
        log.close()
    assert sends == 0 and localnet.chain.tx_count == tx_count
    # The counter does see a send (so the zero above is real): one plain transfer through the server.
    async with RpcClient(localnet.rpc_url) as rpc:
        bh = await rpc.get_latest_blockhash()
        ix = transfer(TransferParams(from_pubkey=wallet.pubkey, to_pubkey=Keypair().pubkey(), lamports=10**6))
        msg = MessageV0.try_compile(wallet.pubkey, [ix], [], Hash.from_string(bh.blockhash))
        await rpc.send_transaction(bytes(VersionedTransaction(msg, [wallet.keypair])))
    assert sends == 1
    recs = [orjson.loads(x) for x in log_path.read_bytes().splitlines()]
    sims = [r for r in recs if r["event"] == "simulated"]
    assert sims and all(r["err"] is None for r in sims), sims
    # The simulation settles exactly as the exact quotes predicted.
    assert all(r["simulated_net"] == r["expected_net"] for r in sims), sims
    assert all(r["units"] and r["units"] <= r["cu_limit"] for r in sims)
