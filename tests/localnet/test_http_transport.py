"""HTTP transport: replies are batched per event-loop round; order and connection handling must hold."""

from __future__ import annotations

import asyncio

import orjson


async def _read_reply(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, object]]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    return head, orjson.loads(await reader.readexactly(length))


def _post(body: dict[str, object], extra: bytes = b"") -> bytes:
    raw = orjson.dumps(body)
    return b"POST / HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n%s" % (extra, len(raw), raw)


async def test_many_connections_at_once_each_get_their_own_reply(localnet) -> None:
    host, port = localnet.rpc_url.removeprefix("http://").rsplit(":", 1)
    conns = [await asyncio.open_connection(host, int(port)) for _ in range(16)]
    for i, (_, writer) in enumerate(
        conns
    ):  # all written before any reply is read: one loop round serves many
        writer.write(_post({"jsonrpc": "2.0", "id": i, "method": "getHealth"}))
    for round_ in range(2):  # keep-alive: a second request on every connection
        replies = await asyncio.gather(*(_read_reply(r) for r, _ in conns))
        assert [body for _, body in replies] == [
            {"jsonrpc": "2.0", "result": "ok", "id": i} for i in range(16)
        ]
        if round_ == 0:
            for i, (_, writer) in enumerate(conns):
                writer.write(_post({"jsonrpc": "2.0", "id": i, "method": "getHealth"}))
    for _, writer in conns:
        writer.close()


async def test_pipelined_replies_in_order_then_connection_close(localnet) -> None:
    host, port = localnet.rpc_url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        _post({"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [{"commitment": "processed"}]})
        + _post({"jsonrpc": "2.0", "id": 2, "method": "nope"})
        + _post({"jsonrpc": "2.0", "id": 3, "method": "getHealth"}, b"Connection: close\r\n")
    )
    ids = []
    heads = []
    for _ in range(3):
        head, body = await _read_reply(reader)
        ids.append(body["id"])
        heads.append(head)
    assert ids == [1, 2, 3]
    assert b"connection: close" in heads[2].lower() and b"connection: close" not in heads[0].lower()
    assert await reader.read() == b""  # the server closed the connection after the last reply
    writer.close()
