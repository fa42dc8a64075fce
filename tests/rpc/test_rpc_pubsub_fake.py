"""PubSubClient against a hand-written websocket server, for frames a real node never sends:
malformed JSON, wrong shapes, unknown subscription ids, bad base64; plus a callback that raises."""

from __future__ import annotations

import asyncio
import base64

import orjson
from websockets.asyncio.server import ServerConnection, serve

from rpc import errors
from rpc.pubsub import PubSubClient


def _notification(sub_id: int, slot: int, data: bytes) -> bytes:
    return orjson.dumps(
        {
            "jsonrpc": "2.0",
            "method": "accountNotification",
            "params": {
                "subscription": sub_id,
                "result": {
                    "context": {"slot": slot},
                    "value": {
                        "data": [base64.b64encode(data).decode(), "base64"],
                        "executable": False,
                        "lamports": 42,
                        "owner": "Owner111",
                        "rentEpoch": 0,
                        "space": len(data),
                    },
                },
            },
        }
    )


BAD_FRAMES = [
    b"not json",
    b"[1,2,3]",
    b'{"jsonrpc":"2.0","method":"accountNotification"}',
    b'{"jsonrpc":"2.0","method":"accountNotification","params":{"subscription":77,"result":{}}}',
    b'{"jsonrpc":"2.0","method":"accountNotification","params":{"subscription":77,"result":'
    b'{"context":{"slot":"9"},"value":{"data":["AA==","base64"],"owner":"o","lamports":1}}}}',
    b'{"jsonrpc":"2.0","method":"accountNotification","params":{"subscription":77,"result":'
    b'{"context":{"slot":9},"value":{"data":["@@@","base64"],"owner":"o","lamports":1}}}}',
    b'{"jsonrpc":"2.0","method":"somethingElse","params":{"subscription":77,"result":{}}}',
    b'{"jsonrpc":"2.0","result":5,"id":999}',
]


async def test_malformed_frames_are_counted_and_skipped_and_callback_errors_surface(
    ws_transport: str,
) -> None:
    async def handler(ws: ServerConnection) -> None:
        req = orjson.loads(await ws.recv())
        assert req["method"] == "accountSubscribe"
        assert req["params"][1] == {"encoding": "base64", "commitment": "processed"}
        await ws.send(orjson.dumps({"jsonrpc": "2.0", "result": 77, "id": req["id"]}).decode())
        for frame in BAD_FRAMES:
            await ws.send(frame.decode())
        await ws.send(_notification(12345, 5, b"x").decode())  # unknown subscription id
        await ws.send(_notification(77, 6, b"boom").decode())  # the callback raises on this one
        await ws.send(_notification(77, 7, b"\x00\x01state").decode())
        await ws.wait_closed()

    got: list[tuple[int, int, bytes, str, int]] = []
    errs: list[errors.RpcError] = []
    done = asyncio.Event()

    def on_account(key: int, slot: int, data: bytes, owner: str, lamports: int) -> None:
        if data == b"boom":
            raise RuntimeError("caller bug")
        got.append((key, slot, data, owner, lamports))
        done.set()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        client = PubSubClient(
            f"ws://127.0.0.1:{port}", on_account=on_account, on_error=errs.append, transport=ws_transport
        )  # type: ignore[arg-type]
        await client.account_subscribe("Acc111", key=3, commitment="processed")  # before connecting
        task = asyncio.create_task(client.run())
        await asyncio.wait_for(done.wait(), 5)
        await client.close()
        await asyncio.wait_for(task, 5)

    assert got == [(3, 7, b"\x00\x01state", "Owner111", 42)]
    assert client.stats.malformed == len(BAD_FRAMES)
    assert client.stats.unknown_subscription == 1
    assert client.stats.callback_errors == 1
    assert len(errs) == 1 and isinstance(errs[0], errors.CallbackFailed)
    assert isinstance(errs[0].cause, RuntimeError)


async def test_unreachable_endpoint_reports_errors_and_keeps_retrying(ws_transport: str) -> None:
    errs: list[errors.RpcError] = []
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = PubSubClient(
        f"ws://127.0.0.1:{port}",
        on_account=lambda *a: None,
        on_error=errs.append,
        backoff_base_s=0.001,
        backoff_cap_s=0.005,
        transport=ws_transport,  # type: ignore[arg-type]
    )
    task = asyncio.create_task(client.run())
    for _ in range(200):
        if len(errs) >= 3:
            break
        await asyncio.sleep(0.01)
    await client.close()
    await asyncio.wait_for(task, 5)
    assert len(errs) >= 3 and all(isinstance(e, errors.TransportError) for e in errs)
    assert client.stats.connects == 0


async def test_unsubscribe_while_subscribe_in_flight_drops_the_orphan_on_the_node(ws_transport: str) -> None:
    received: list[dict[str, object]] = []
    got_subscribe = asyncio.Event()
    release_ack = asyncio.Event()
    got_unsubscribe = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        async for frame in ws:
            req = orjson.loads(frame)
            received.append(req)
            if req["method"] == "accountSubscribe":
                got_subscribe.set()
                await release_ack.wait()
                await ws.send(orjson.dumps({"jsonrpc": "2.0", "result": 55, "id": req["id"]}).decode())
                await ws.send(_notification(55, 9, b"late").decode())
            elif req["method"] == "accountUnsubscribe":
                await ws.send(orjson.dumps({"jsonrpc": "2.0", "result": True, "id": req["id"]}).decode())
                got_unsubscribe.set()

    got: list[object] = []
    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        client = PubSubClient(
            f"ws://127.0.0.1:{port}",
            on_account=lambda *a: got.append(a),
            on_error=got.append,
            transport=ws_transport,  # type: ignore[arg-type]
        )
        task = asyncio.create_task(client.run())
        await client.wait_ready(5)
        subscribing = asyncio.create_task(client.account_subscribe("Acc111", key=1))
        await asyncio.wait_for(got_subscribe.wait(), 5)
        await client.account_unsubscribe(1)  # before the node acknowledged
        release_ack.set()
        await asyncio.wait_for(subscribing, 5)
        await asyncio.wait_for(got_unsubscribe.wait(), 5)
        await client.close()
        await asyncio.wait_for(task, 5)

    assert [r["method"] for r in received] == ["accountSubscribe", "accountUnsubscribe"]
    assert received[1]["params"] == [55]
    assert got == [] and client.subscription_count == 0
    assert client.stats.unknown_subscription == 1  # the late notification is not delivered


async def test_fragmented_notification_is_assembled(ws_transport: str) -> None:
    """A message split over continuation frames (RFC 6455 §5.4) arrives whole, on either transport."""

    async def handler(ws: ServerConnection) -> None:
        req = orjson.loads(await ws.recv())
        await ws.send(orjson.dumps({"jsonrpc": "2.0", "result": 8, "id": req["id"]}).decode())
        text = _notification(8, 11, bytes(range(256)) * 8).decode()
        await ws.send([text[i : i + 97] for i in range(0, len(text), 97)])  # an iterable: one fragment each
        await ws.wait_closed()

    got: list[tuple[int, int, bytes, str, int]] = []
    done = asyncio.Event()

    def on_account(*args: object) -> None:
        got.append(args)  # type: ignore[arg-type]
        done.set()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        client = PubSubClient(
            f"ws://127.0.0.1:{port}", on_account=on_account, on_error=lambda e: None, transport=ws_transport
        )  # type: ignore[arg-type]
        await client.account_subscribe("Acc111", key=4)
        task = asyncio.create_task(client.run())
        await asyncio.wait_for(done.wait(), 5)
        await client.close()
        await asyncio.wait_for(task, 5)
    assert got == [(4, 11, bytes(range(256)) * 8, "Owner111", 42)]
    assert client.stats.malformed == 0


def test_unknown_transport_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown websocket transport"):
        PubSubClient(
            "ws://127.0.0.1:1", on_account=lambda *a: None, on_error=lambda e: None, transport="aiohttp"
        )  # type: ignore[arg-type]
