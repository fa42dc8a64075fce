"""A hand-written misbehaving JSON-RPC endpoint on loopback, for what a real node does not do on demand:
answer 429 with Retry-After, 500, garbage, nothing at all, or a slot far behind.

`FakeEndpoint` reads real HTTP/1.1 POSTs. In mode ``"ok"`` it forwards each body to ``upstream`` (a
real localnet) and returns the node's reply, or, without an upstream, answers getSlot / getHealth /
sendTransaction itself. ``mode`` can be changed at any time: that is how an endpoint "heals".
It records every request's method and arrival time.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from solders.signature import Signature

from rpc.http import HttpTransport

MODES = ("ok", "429", "500", "garbage", "hang", "lag", "close")


@dataclass
class Seen:
    method: str
    arrived_ns: int
    body: bytes = field(repr=False)


class FakeEndpoint:
    def __init__(
        self,
        mode: str = "ok",
        *,
        upstream: str | None = None,
        retry_after: bytes = b"1",
        slot: int = 1000,
        lag_slots: int = 500,
        path: str = "",
    ) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.retry_after = retry_after
        self.slot = slot
        self.lag_slots = lag_slots
        self.path = path
        self.seen: list[Seen] = []
        self.connections = 0
        self._upstream = HttpTransport(upstream, connections=4) if upstream else None
        self._server: asyncio.Server | None = None
        self._stopping = asyncio.Event()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def methods(self) -> list[str]:
        return [s.method for s in self.seen]

    def count(self, method: str) -> int:
        return sum(1 for s in self.seen if s.method == method)

    async def start(self) -> FakeEndpoint:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._stopping.set()  # releases hanging requests
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._upstream is not None:
            await self._upstream.close()

    async def __aenter__(self) -> FakeEndpoint:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                body = await reader.readexactly(length)
                arrived = time.monotonic_ns()
                req = orjson.loads(body)
                method = "batch" if isinstance(req, list) else req.get("method", "?")
                self.seen.append(Seen(method, arrived, body))
                mode = self.mode
                if mode == "close":
                    break
                if mode == "hang":
                    await self._stopping.wait()
                    break
                if mode == "429":
                    writer.write(
                        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: %s\r\nContent-Length: 0\r\n\r\n"
                        % self.retry_after
                    )
                elif mode == "500":
                    msg = b"internal error"
                    writer.write(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(msg), msg)
                    )
                elif mode == "garbage":
                    msg = b"<html>not json</html>"
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(msg), msg))
                else:
                    msg = await self._answer(req, body)
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(msg), msg))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, req: Any, body: bytes) -> bytes:
        method = req.get("method") if isinstance(req, dict) else "batch"
        if self._upstream is not None:
            reply = await self._upstream.request(body, 10.0)
            if self.mode == "lag" and method == "getSlot":
                slot = orjson.loads(reply)["result"]
                return orjson.dumps(
                    {"jsonrpc": "2.0", "result": max(0, slot - self.lag_slots), "id": req["id"]}
                )
            return reply
        if method == "getSlot":
            result: object = self.slot - (self.lag_slots if self.mode == "lag" else 0)
        elif method == "getHealth":
            result = "ok"
        elif method == "sendTransaction":
            params = req["params"]
            assert isinstance(params, list)
            tx = base64.b64decode(params[0])
            result = str(Signature.from_bytes(tx[1:65]))
        else:
            return orjson.dumps(
                {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": req["id"]}
            )
        return orjson.dumps({"jsonrpc": "2.0", "result": result, "id": req["id"]})


async def dead_url(path: str = "") -> str:
    """A loopback URL nobody listens on (connection refused)."""
    srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    srv.close()
    await srv.wait_closed()
    return f"http://127.0.0.1:{port}{path}"
