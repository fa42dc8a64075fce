"""The websocket transport behind one small interface: `websockets` 15 (the default) or picows.

A transport is an async callable `connect(url) -> Connection`; tests and other clients plug in
through the feed's constructor. Errors come out as `bot.feeds.errors` types. `picows_connect` runs
over `rpc.ws` (the PubSub client's picows socket): messages arrive from the socket callback into a
bounded buffer that `recv` takes from.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from bot.feeds.errors import ConnectFailed, TransportClosed
from rpc.ws import WsClosed, WsOpenFailed, WsSocket, open_ws

__all__ = [
    "Connect",
    "Connection",
    "PicowsConnection",
    "WebsocketsConnection",
    "picows_connect",
    "websockets_connect",
]


class Connection(Protocol):
    """One open websocket."""

    async def send(self, message: str) -> None:
        """Send one text frame. Raises TransportClosed."""
        ...

    async def recv(self) -> bytes | str:
        """Next message (text frames may come as UTF-8 bytes). Raises TransportClosed."""
        ...

    async def close(self) -> None:
        """Close; idempotent."""
        ...


Connect = Callable[[str], Awaitable[Connection]]


class WebsocketsConnection:
    """`websockets` client connection adapted to `Connection`."""

    __slots__ = ("_ws",)

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    async def send(self, message: str) -> None:
        try:
            await self._ws.send(message)
        except ConnectionClosed as err:
            raise TransportClosed(err.rcvd.code if err.rcvd else None, str(err)) from err

    async def recv(self) -> bytes | str:
        try:
            # decode=False hands text frames over as bytes: the JSON decoders take bytes, and we
            # skip a UTF-8 decode per frame.
            return await self._ws.recv(decode=False)
        except ConnectionClosed as err:
            raise TransportClosed(err.rcvd.code if err.rcvd else None, str(err)) from err

    async def close(self) -> None:
        await self._ws.close()


async def websockets_connect(
    url: str,
    *,
    open_timeout_s: float = 10.0,
    ping_interval_s: float | None = 20.0,
    ping_timeout_s: float | None = 20.0,
    max_size: int = 1 << 22,
) -> WebsocketsConnection:
    """Open `url` with permessage-deflate off (it costs 13-16 µs per frame, hot-path-floors.md).

    Protocol-level pings every `ping_interval_s` detect a dead TCP path; pings from the exchange
    (Binance) are answered by `websockets` itself.
    """
    try:
        ws = await connect(
            url,
            compression=None,
            open_timeout=open_timeout_s,
            ping_interval=ping_interval_s,
            ping_timeout=ping_timeout_s,
            max_size=max_size,
        )
    except InvalidStatus as err:
        raise ConnectFailed(url, f"HTTP {err.response.status_code}", err.response.status_code) from err
    except InvalidURI as err:
        raise ConnectFailed(url, f"invalid URI: {err}", 400) from err
    except (InvalidHandshake, websockets.exceptions.WebSocketException) as err:
        raise ConnectFailed(url, str(err)) from err
    except (OSError, TimeoutError) as err:
        raise ConnectFailed(url, f"{type(err).__name__}: {err}") from err
    return WebsocketsConnection(ws)


class PicowsConnection:
    """A picows socket (`rpc.ws`) adapted to `Connection`. The reader never waits on the consumer: a
    consumer more than `max_queued` messages behind loses the connection (`TransportClosed`), and the
    feed's reconnect and resubscribe take over."""

    __slots__ = ("_closed", "_max", "_queue", "_serving", "_sock", "_waiter")

    def __init__(self, sock: WsSocket, max_queued: int = 10_000) -> None:
        self._sock = sock
        self._queue: collections.deque[bytes] = collections.deque()
        self._max = max_queued
        self._waiter: asyncio.Future[None] | None = None
        self._closed: TransportClosed | None = None
        self._serving = asyncio.get_running_loop().create_task(self._serve(), name="picows-feed-reader")

    async def _serve(self) -> None:
        try:
            await self._sock.serve(self._on_message)
        except WsClosed as err:
            self._fail(TransportClosed(None, str(err)))

    def _on_message(self, data: bytes) -> None:
        if len(self._queue) >= self._max:
            self._fail(TransportClosed(None, f"consumer more than {self._max} messages behind"))
            self._sock.abort()
            return
        self._queue.append(data)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, err: TransportClosed) -> None:
        if self._closed is None:
            self._closed = err
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def send(self, message: str) -> None:
        if self._closed is not None:
            raise self._closed
        try:
            await self._sock.send_text(message.encode())
        except WsClosed as err:
            raise TransportClosed(None, str(err)) from err

    async def recv(self) -> bytes | str:
        while not self._queue:
            if self._closed is not None:
                raise self._closed
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._queue.popleft()

    async def close(self) -> None:
        self._fail(TransportClosed(1000, "closed by us"))
        with contextlib.suppress(Exception):
            await self._sock.close()
        self._serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._serving


async def picows_connect(
    url: str,
    *,
    open_timeout_s: float = 10.0,
    ping_interval_s: float | None = 20.0,
    max_size: int = 1 << 22,
) -> PicowsConnection:
    """Open `url` with picows (no compression; protocol pings every `ping_interval_s`, exchange pings
    answered by picows)."""
    try:
        sock = await open_ws("picows", url, open_timeout_s=open_timeout_s, ping_interval_s=ping_interval_s,
                             max_bytes=max_size)  # fmt: skip
    except WsOpenFailed as err:
        status = _status_of(str(err))
        raise ConnectFailed(url, str(err), status) from err
    except (OSError, TimeoutError, WsClosed) as err:
        raise ConnectFailed(url, f"{type(err).__name__}: {err}") from err
    return PicowsConnection(sock)


def _status_of(text: str) -> int | None:
    """The HTTP status a refused handshake quoted ("... status 429 ..."), if any."""
    import re

    m = re.search(r"\b([1-5]\d\d)\b", text)
    return int(m.group(1)) if m else None
