"""Market data against the real localnet: real SPL transfers move the vaults, PubSub notifies, the cache
follows; forced disconnects (with updates during the gap) end with the cache equal to the chain."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from spl.token.instructions import TransferParams, transfer

from bot.accounts import AccountFeed
from bot.cache import CacheWriter
from rpc.client import RpcClient
from rpc.pubsub import PubSubClient
from strategies import layout
from strategies.venues import raydium_cpmm as cpmm

pytestmark = pytest.mark.localnet

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
TOKEN = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")


def amm_config(trade: int) -> bytes:
    return (
        cpmm.CONFIG_DISCRIMINATOR
        + struct.pack("<BBHQQQQ", 1, 0, 0, trade, 0, 0, 0)
        + bytes(64)
        + struct.pack("<Q", 0)
        + bytes(120)
    )


class Pool:
    """The real mainnet pool bytes, pointed at vaults/mints/config we create on localnet."""

    def __init__(self, net, owner: Keypair) -> None:
        doc = json.loads((FIXTURES / "ipv4sq_raydium_cpmm_pool_Q2sPH.json").read_text())
        raw = bytearray(base64.b64decode(doc["account_data_base64"]))
        self.mint0 = net.create_mint(authority=owner.pubkey(), decimals=9)
        self.mint1 = net.create_mint(authority=owner.pubkey(), decimals=6)
        self.vault0 = net.create_token_account(self.mint0, owner=owner.pubkey(), amount=10**12)
        self.vault1 = net.create_token_account(self.mint1, owner=owner.pubkey(), amount=10**12)
        self.config = Keypair().pubkey()
        net.set_account(self.config, lamports=10**7, data=amm_config(2500), owner=cpmm.PROGRAM_ID)
        raw[8:40] = bytes(self.config)
        raw[72:104], raw[104:136] = bytes(self.vault0), bytes(self.vault1)
        raw[168:200], raw[200:232] = bytes(self.mint0), bytes(self.mint1)
        raw[373:381] = struct.pack("<Q", 0)  # open_time: open
        self.address = Keypair().pubkey()
        net.set_account(self.address, lamports=10**7, data=bytes(raw), owner=cpmm.PROGRAM_ID)
        self.decoded = cpmm.decode_pool(bytes(raw), cpmm.PROGRAM_ID)
        self.sink0 = net.create_token_account(self.mint0, owner=owner.pubkey())
        self.sink1 = net.create_token_account(self.mint1, owner=owner.pubkey())

    def truth(self, net) -> tuple[int, int]:
        return cpmm.reserves(self.decoded, net.token_amount(self.vault0), net.token_amount(self.vault1))


async def send_transfers(net, rpc: RpcClient, owner: Keypair, moves) -> None:
    ixs = [
        transfer(TransferParams(program_id=TOKEN, source=src, dest=dst, owner=owner.pubkey(), amount=amount))
        for src, dst, amount in moves
    ]
    bh = await rpc.get_latest_blockhash()
    from solders.hash import Hash

    msg = MessageV0.try_compile(owner.pubkey(), ixs, [], Hash.from_string(bh.blockhash))
    tx = VersionedTransaction(msg, [owner])
    await rpc.send_transaction(bytes(tx))


async def wait_for(cond, changed: asyncio.Event, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            changed.clear()
            await changed.wait()


async def test_cache_follows_chain_through_forced_disconnects(localnet, ws_transport):
    owner = Keypair()
    localnet.airdrop(owner.pubkey(), 10**10)
    pool = Pool(localnet, owner)
    changed = asyncio.Event()
    market = CacheWriter(layout.allocate(1, 2), now_unix=lambda: 2_000_000_000)
    entry = market.add_pool("raydium_cpmm", str(pool.address), str(cpmm.PROGRAM_ID))
    async with RpcClient(localnet.rpc_url) as rpc:
        md = AccountFeed(market, rpc, on_pool=lambda idx: changed.set())
        pubsub = PubSubClient(
            localnet.ws_url,
            on_account=md.on_account,
            on_error=lambda err: None,
            on_resubscribed=md.snapshot,
            backoff_base_s=0.01,
            backoff_cap_s=0.05,
            transport=ws_transport,
        )
        await md.bootstrap()
        assert market.exact_state(entry.idx) == pool.truth(localnet), (
            market.stats,
            [(w.role, w.slot, w.value is not None) for w in market.watched],
            md.missing_accounts,
        )
        await md.subscribe_all(pubsub)
        task = asyncio.create_task(pubsub.run())
        try:
            await pubsub.wait_ready(5)
            for round_ in range(3):
                # A swap-like move: both vaults change in one transaction.
                await send_transfers(
                    localnet,
                    rpc,
                    owner,
                    [(pool.vault0, pool.sink0, 1_000 + round_), (pool.vault1, pool.sink1, 7_000 + round_)],
                )
                await wait_for(lambda: market.exact_state(entry.idx) == pool.truth(localnet), changed)
                assert layout.is_usable(market.arrays, entry.idx)
                # Forced disconnect, and more moves while the client is away.
                before = md.snapshots
                pubsub.reconnect()
                await send_transfers(
                    localnet, rpc, owner, [(pool.vault0, pool.sink0, 11), (pool.vault1, pool.sink1, 13)]
                )
                await send_transfers(
                    localnet, rpc, owner, [(pool.sink0, pool.vault0, 5), (pool.sink1, pool.vault1, 3)]
                )
                await wait_for(lambda b=before: md.snapshots > b, changed_on_snapshot(md, pubsub), 10)
                await wait_for(lambda: market.exact_state(entry.idx) == pool.truth(localnet), changed)
                assert layout.is_usable(market.arrays, entry.idx)
            assert pubsub.stats.connects >= 4
            assert market.stats.malformed == 0 and market.stats.wrong_owner == 0
        finally:
            await pubsub.close()
            task.cancel()
            with __import__("contextlib").suppress(asyncio.CancelledError):
                await task


def changed_on_snapshot(md: AccountFeed, pubsub: PubSubClient) -> asyncio.Event:
    """An event set after every completed snapshot (wraps AccountFeed.snapshot)."""
    ev = asyncio.Event()
    original = md.snapshot

    async def wrapped() -> None:
        await original()
        ev.set()

    pubsub.on_resubscribed = wrapped
    return ev
