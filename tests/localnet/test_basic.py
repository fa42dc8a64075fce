"""Smoke tests of the `localnet` fixture through unmodified solana-py clients."""

from __future__ import annotations

import orjson
import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed, Processed
from solana.rpc.websocket_api import connect
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

pytestmark = pytest.mark.localnet


async def test_airdrop_and_transfer_with_signature_subscribe(localnet) -> None:
    payer, to = Keypair(), Keypair().pubkey()
    async with AsyncClient(localnet.rpc_url) as client:
        sig = (await client.request_airdrop(payer.pubkey(), 10**9, commitment=Processed)).value
        await client.confirm_transaction(sig, commitment=Confirmed, sleep_seconds=0.02)
        assert (await client.get_balance(payer.pubkey(), commitment=Confirmed)).value == 10**9
        bh = (await client.get_latest_blockhash(Processed)).value.blockhash
        msg = MessageV0.try_compile(
            payer.pubkey(),
            [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=12_345))],
            [],
            bh,
        )
        tx = VersionedTransaction(msg, [payer])
        async with connect(localnet.ws_url) as ws:
            await ws.signature_subscribe(tx.signatures[0], commitment=Confirmed)
            sub_id = (await ws.recv())[0].result
            sent = (await client.send_transaction(tx)).value
            note = (await ws.recv())[0]
        assert sent == tx.signatures[0]
        assert note.subscription == sub_id and note.result.value.err is None
        assert localnet.balance(to) == 12_345
        assert localnet.balance(payer.pubkey()) == 10**9 - 12_345 - 5_000


async def test_stop_with_connected_clients_is_prompt() -> None:
    import asyncio
    import time

    import websockets

    from localnet.server import Localnet

    net = Localnet(rpc_port=0, slot_ms=10)
    await net.start()
    client = AsyncClient(net.rpc_url)
    assert await client.is_connected()
    ws = await websockets.connect(net.ws_url)
    await ws.send('{"jsonrpc":"2.0","id":1,"method":"slotSubscribe"}')
    await ws.recv()
    t0 = time.perf_counter()
    await net.stop()
    assert time.perf_counter() - t0 < 2.5
    with pytest.raises(websockets.ConnectionClosed):
        async with asyncio.timeout(5):
            while True:
                await ws.recv()
    await client.close()


async def test_slow_consumer_is_disconnected_not_buffered(localnet, monkeypatch) -> None:
    import asyncio

    import websockets

    import localnet.pubsub as pubsub

    monkeypatch.setattr(pubsub, "MAX_QUEUED", 20)
    target = Keypair().pubkey()
    async with websockets.connect(localnet.ws_url) as ws:
        await ws.send(
            orjson.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "accountSubscribe",
                    "params": [str(target), {"commitment": "processed"}],
                }
            ).decode()
        )
        await ws.recv()
        for i in range(50):  # 50 notifications queued before the writer can run: over the bound
            localnet.airdrop(target, 1_000 + i)
        with pytest.raises(websockets.ConnectionClosed) as info:
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008
    async with asyncio.timeout(5):  # the server's handler then drops its subscriptions
        while localnet.pubsub.by_id:
            await asyncio.sleep(0.01)


async def test_localnet_factory_seeds_slot_zero_finalized(localnet_factory) -> None:
    owner = Keypair().pubkey()
    seeded: dict = {}

    def seed(net) -> None:
        seeded["key"] = net.set_account(Keypair().pubkey(), lamports=5 * 10**8, data=b"x", owner=owner)

    net = await localnet_factory(slot_ms=50, seed=seed)
    async with AsyncClient(net.rpc_url) as client:  # default commitment: finalized
        assert (await client.get_balance(seeded["key"])).value == 5 * 10**8
