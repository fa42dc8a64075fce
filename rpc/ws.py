"""The websocket under `rpc.pubsub.PubSubClient`, behind one small interface; two implementations.

- ``websockets`` (15, compression off): frames are queued by the library's reader task and pulled by
  ours with ``recv``: one task switch and a queue per message.
- ``picows`` (Cython, a listener on the protocol's ``data_received``): every complete message is handed
  to ``on_message`` synchronously from the socket callback, no queue and no task switch. Measured here
  it reads a frame in about a third of websockets' time (shared/notes/hot-path-floors.md; the
  `solarb bench --e2e` harness measures both in one run).

Both hand messages over as bytes (text frames too: the JSON decoders take bytes). A connection that
ends raises `WsClosed` from `serve` and `send_text`; `open_ws` raises `WsOpenFailed` for what the
handshake refused and lets `OSError` / `TimeoutError` through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Literal, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

Transport = Literal["websockets", "picows"]
TRANSPORTS: tuple[Transport, ...] = ("websockets", "picows")
OnMessage = Callable[[bytes], None]


class WsClosed(Exception):
    """The connection ended (peer close, abort, protocol error); the reason as text."""


class WsOpenFailed(Exception):
    """The websocket handshake failed (bad URL, HTTP status, not a websocket endpoint)."""


class WsSocket(Protocol):
    """One open websocket, as the PubSub client uses it."""

    async def send_text(self, data: bytes) -> None:
        """Send one text frame (UTF-8 bytes). Raises `WsClosed`."""
        ...

    async def serve(self, on_message: OnMessage) -> None:
        """Deliver every message to ``on_message`` until the connection ends; raises `WsClosed` then."""
        ...

    def abort(self) -> None:
        """Drop the socket at once, without a close handshake."""
        ...

    async def close(self) -> None:
        """Close with a handshake (bounded); idempotent."""
        ...


class _WebsocketsSocket:
    __slots__ = ("_ws",)

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    async def send_text(self, data: bytes) -> None:
        try:
            await self._ws.send(data, text=True)
        except ConnectionClosed as err:
            raise WsClosed(repr(err)) from err

    async def serve(self, on_message: OnMessage) -> None:
        recv = self._ws.recv
        try:
            while True:
                on_message(await recv(decode=False))
        except ConnectionClosed as err:
            raise WsClosed(repr(err)) from err

    def abort(self) -> None:
        self._ws.transport.abort()

    async def close(self) -> None:
        await self._ws.close()


async def _open_websockets(
    url: str, open_timeout_s: float, ping_interval_s: float | None, max_bytes: int
) -> WsSocket:
    try:
        ws = await connect(
            url,
            compression=None,  # permessage-deflate costs 13-16 µs per frame here
            proxy=None,
            open_timeout=open_timeout_s,
            ping_interval=ping_interval_s,
            max_size=max_bytes,
            close_timeout=1.0,
        )
    except (InvalidHandshake, InvalidURI) as err:
        raise WsOpenFailed(repr(err)) from err
    except ConnectionClosed as err:
        raise WsClosed(repr(err)) from err
    return _WebsocketsSocket(ws)


# ---- picows -------------------------------------------------------------------------------------------
# Imported lazily: a process that never selects it does not load the extension.


def _picows_listener_class() -> type[Any]:
    import picows

    text, binary, cont, close = (picows.WSMsgType.TEXT, picows.WSMsgType.BINARY,
                                 picows.WSMsgType.CONTINUATION, picows.WSMsgType.CLOSE)  # fmt: skip

    class Listener(picows.WSListener):
        """Complete messages to ``on_message``; fragmented ones are assembled (RFC 6455 §5.4)."""

        def __init__(self, max_bytes: int) -> None:
            self.on_message: OnMessage = lambda data: None
            self.max_bytes = max_bytes
            self.parts: list[bytes] | None = None
            self.size = 0
            self.closed_reason = ""

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            kind = frame.msg_type
            if kind is text or kind is binary:
                if frame.fin:
                    self.on_message(frame.get_payload_as_bytes())
                    return
                self.parts, self.size = [frame.get_payload_as_bytes()], frame.payload_size
            elif kind is cont:
                if self.parts is None:
                    self._fail(transport, "continuation frame without a message")
                    return
                self.parts.append(frame.get_payload_as_bytes())
                self.size += frame.payload_size
                if self.size > self.max_bytes:
                    self._fail(transport, f"message over {self.max_bytes} bytes")
                    return
                if frame.fin:
                    parts, self.parts = self.parts, None
                    self.on_message(b"".join(parts))
            elif kind is close:
                self.closed_reason = f"peer closed ({frame.get_close_code()})"
                transport.send_close(frame.get_close_code())
                transport.disconnect()

        def _fail(self, transport: Any, reason: str) -> None:
            self.closed_reason = reason
            transport.send_close(picows.WSCloseCode.PROTOCOL_ERROR)
            transport.disconnect(graceful=False)

    return Listener


_LISTENER: type[Any] | None = None


class _PicowsSocket:
    __slots__ = ("_listener", "_transport")

    def __init__(self, transport: Any, listener: Any) -> None:
        self._transport = transport
        self._listener = listener

    async def send_text(self, data: bytes) -> None:
        import picows

        if self._transport.is_disconnected or self._transport.is_close_frame_sent:
            raise WsClosed("send on a closed connection")
        self._transport.send(picows.WSMsgType.TEXT, data)

    async def serve(self, on_message: OnMessage) -> None:
        self._listener.on_message = on_message
        try:
            await self._transport.wait_disconnected()
        except Exception as err:  # picows re-raises what made it disconnect (a protocol error)
            raise WsClosed(repr(err)) from err
        finally:
            self._listener.on_message = lambda data: None
        raise WsClosed(self._listener.closed_reason or "connection closed")

    def abort(self) -> None:
        self._transport.disconnect(graceful=False)

    async def close(self) -> None:
        import picows

        transport = self._transport
        if transport.is_disconnected:
            return
        if not transport.is_close_frame_sent:
            transport.send_close(picows.WSCloseCode.OK)
        transport.disconnect()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await transport.wait_disconnected()


async def _open_picows(
    url: str, open_timeout_s: float, ping_interval_s: float | None, max_bytes: int
) -> WsSocket:
    import picows

    global _LISTENER
    if _LISTENER is None:
        _LISTENER = _picows_listener_class()
    listener_class = _LISTENER
    ping_s = 10.0 if ping_interval_s is None else ping_interval_s
    try:
        async with asyncio.timeout(open_timeout_s):
            transport, listener = await picows.ws_connect(
                lambda: listener_class(max_bytes),
                url,
                websocket_handshake_timeout=open_timeout_s,
                enable_auto_ping=ping_interval_s is not None,
                auto_ping_idle_timeout=ping_s,
                auto_ping_reply_timeout=ping_s,
                max_frame_size=max_bytes,
                max_redirects=0,
                logger_name="rpc.pubsub",
            )
    except picows.WSError as err:
        raise WsOpenFailed(repr(err)) from err
    except picows.WSInvalidURL as err:
        raise WsOpenFailed(repr(err)) from err
    return _PicowsSocket(transport, listener)


async def open_ws(
    transport: Transport,
    url: str,
    *,
    open_timeout_s: float = 10.0,
    ping_interval_s: float | None = 20.0,
    max_bytes: int = 64 * 1024 * 1024,
) -> WsSocket:
    """Open ``url`` with the chosen library. Raises `WsOpenFailed`, `OSError` or `TimeoutError`."""
    if transport == "picows":
        return await _open_picows(url, open_timeout_s, ping_interval_s, max_bytes)
    if transport == "websockets":
        return await _open_websockets(url, open_timeout_s, ping_interval_s, max_bytes)
    raise ValueError(f"unknown websocket transport {transport!r} (expected one of {', '.join(TRANSPORTS)})")
