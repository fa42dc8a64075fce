"""`PubSubClient`: one persistent Solana PubSub websocket per endpoint, reconnecting and resubscribing.

Frames become typed callback arguments at the edge (orjson + pybase64): downstream code never sees
JSON. Callbacks run on the reader, so they must be cheap and must not block; a callback that raises
is reported through ``on_error`` and the reader carries on. Message shapes follow the Solana PubSub
reference (solana.com/docs/rpc/websocket): a subscribe request is answered with an integer
subscription id, then ``<kind>Notification`` frames carry ``params.subscription`` and
``params.result``.

After every (re)connection all live subscriptions are re-sent; once the node has acknowledged them
``on_resubscribed`` is called so the caller can snapshot state (getMultipleAccounts) and close the
gap in which notifications were missed.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import inspect
import itertools
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pybase64

from rpc.errors import (
    CallbackFailed,
    RpcError,
    SubscriptionFailed,
    Timeout,
    TransportError,
    json_rpc_error,
)
from rpc.redact import redact_text, redact_url, secret_parts
from rpc.requests import Commitment, Filter
from rpc.retry import backoff_delays
from rpc.ws import TRANSPORTS, Transport, WsClosed, WsOpenFailed, WsSocket, open_ws

OnAccount = Callable[[int, int, bytes, str, int], None]
"""``on_account(key, slot, data, owner_b58, lamports)``."""
OnProgram = Callable[[int, int, str, bytes, str, int], None]
"""``on_program(key, slot, pubkey_b58, data, owner_b58, lamports)``."""
OnSlot = Callable[[int, int, int], None]
"""``on_slot(slot, parent, root)``."""
OnSignature = Callable[[str, int, Any], None]
"""``on_signature(signature_b58, slot, err)``; ``err`` is None when the transaction succeeded."""
OnError = Callable[[RpcError], None]

_ACCOUNT, _PROGRAM, _SIGNATURE, _SLOT = "account", "program", "signature", "slot"


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """The outcome of a signatureSubscribe: the slot it reached the commitment in, and its error."""

    slot: int
    err: Any


@dataclass(slots=True)
class PubSubStats:
    """Counters, read by monitoring; never reset by the client."""

    frames: int = 0
    notifications: int = 0
    malformed: int = 0
    unknown_subscription: int = 0
    callback_errors: int = 0
    subscription_errors: int = 0
    connects: int = 0
    disconnects: int = 0


@dataclass(slots=True, eq=False)
class _Sub:
    kind: str
    key: int
    method: str
    unsubscribe_method: str
    params: list[Any]
    sub_id: int | None = None
    orphan_id: int | None = None
    signature: str = ""
    result: asyncio.Future[SignatureResult] | None = None


@dataclass(slots=True, eq=False)
class _Pending:
    sub: _Sub | None
    future: asyncio.Future[Any] = field(repr=False)


class PubSubClient:
    """Solana PubSub over one websocket. ``transport`` picks the library (`rpc.ws`): "picows" hands
    each frame to the parser straight from the socket callback; "websockets" (compression off:
    permessage-deflate costs 13-16 µs per frame here) reads through its queue. Run `run` as a
    supervised task; cancel it or call `close` to stop.
    """

    def __init__(
        self,
        ws_url: str | Sequence[str],
        *,
        on_account: OnAccount,
        on_error: OnError,
        on_slot: OnSlot | None = None,
        on_signature: OnSignature | None = None,
        on_program: OnProgram | None = None,
        on_resubscribed: Callable[[], Awaitable[None] | None] | None = None,
        backoff_base_s: float = 0.05,
        backoff_cap_s: float = 5.0,
        ack_timeout_s: float = 10.0,
        open_timeout_s: float = 10.0,
        ping_interval_s: float | None = 20.0,
        max_frame_bytes: int = 64 * 1024 * 1024,
        rng: random.Random | None = None,
        transport: Transport = "picows",
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(
                f"unknown websocket transport {transport!r} (expected one of {', '.join(TRANSPORTS)})"
            )
        self.transport: Transport = transport
        # Several URLs (in order of preference): a connection that cannot be opened moves to the next.
        self._urls = [ws_url] if isinstance(ws_url, str) else list(ws_url)
        if not self._urls:
            raise ValueError("PubSubClient needs at least one websocket URL")
        self._url_index = 0
        self._secrets = tuple(part for url in self._urls for part in secret_parts(url))
        self.on_account = on_account
        self.on_error = on_error
        self.on_slot = on_slot
        self.on_signature = on_signature
        self.on_program = on_program
        self.on_resubscribed = on_resubscribed
        self.stats = PubSubStats()
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._ack_timeout_s = ack_timeout_s
        self._open_timeout_s = open_timeout_s
        self._ping_interval_s = ping_interval_s
        self._max_frame_bytes = max_frame_bytes
        self._rng = rng
        self._ids = itertools.count(1)
        self._sig_keys = itertools.count(1)
        self._desired: dict[tuple[str, int], _Sub] = {}
        self._active: dict[int, _Sub] = {}
        self._pending: dict[int, _Pending] = {}
        self._ws: WsSocket | None = None
        self._closing = False
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()

    @property
    def ws_url(self) -> str:
        """The URL in use (or tried next)."""
        return self._urls[self._url_index]

    @property
    def endpoint(self) -> str:
        """How errors name this endpoint: scheme, host and port only (`rpc.redact.redact_url`)."""
        return redact_url(self.ws_url)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True once the current connection's resubscriptions are acknowledged."""
        return self._ready.is_set()

    async def wait_ready(self, timeout_s: float | None = None) -> None:
        """Wait until connected and resubscribed (`Timeout` after ``timeout_s``)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._ready.wait()
        except TimeoutError:
            raise Timeout(self.endpoint, timeout_s or 0.0) from None

    async def run(self) -> None:
        """Connect, resubscribe, read; on any disconnect report it and reconnect with backoff."""
        base_s, cap_s = self._backoff
        delays = backoff_delays(base_s, cap_s, self._rng)
        while not self._closing:
            opened = False
            try:
                ws = await open_ws(
                    self.transport,
                    self.ws_url,
                    open_timeout_s=self._open_timeout_s,
                    ping_interval_s=self._ping_interval_s,
                    max_bytes=self._max_frame_bytes,
                )
                self.stats.connects += 1
                opened = True
                delays = backoff_delays(base_s, cap_s, self._rng)
                try:
                    await self._session(ws)
                finally:
                    await self._close_socket(ws)
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, WsOpenFailed, WsClosed) as err:
                if not self._closing:
                    # Library messages may quote the URL (websockets' InvalidURI does): scrub them.
                    self.on_error(
                        TransportError(self.endpoint, f"pubsub connection: {self._scrub(repr(err))}")
                    )
            finally:
                self._on_disconnect()
            if not opened and len(self._urls) > 1:
                self._url_index = (self._url_index + 1) % len(self._urls)  # fail over to the next URL
            if not self._closing:
                # Interruptible by close(): no reason to sit out a long backoff on shutdown.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(next(delays)):
                        await self._stop.wait()

    @staticmethod
    async def _close_socket(ws: WsSocket) -> None:
        """Close handshake (bounded); a socket that cannot close cleanly is dropped."""
        try:
            await ws.close()
        except asyncio.CancelledError:
            ws.abort()
            raise
        except Exception:
            ws.abort()

    async def close(self) -> None:
        """Stop: close the socket; `run` returns. Pending signature awaitables are cancelled."""
        self._closing = True
        self._stop.set()
        ws = self._ws
        if ws is not None:
            await ws.close()
        for sub in self._desired.values():
            if sub.result is not None and not sub.result.done():
                sub.result.cancel()

    def _scrub(self, text: str) -> str:
        return redact_text(text, self.ws_url, self._secrets)

    def reconnect(self) -> None:
        """Abort the current socket without a close handshake (e.g. the stream went stale).

        `run` then reconnects, resubscribes everything and calls ``on_resubscribed``.
        """
        ws = self._ws
        if ws is not None:
            ws.abort()

    async def _session(self, ws: WsSocket) -> None:
        # Set the socket and snapshot the desired set in one synchronous step: a subscription added
        # later is sent by its own call, one added before is in this batch, never both.
        self._ws = ws
        batch = list(self._desired.values())
        resubscribe = asyncio.create_task(self._resubscribed(ws, batch), name="pubsub-resubscribe")
        try:
            await ws.serve(self._on_frame)  # returns only by raising WsClosed
        finally:
            resubscribe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await resubscribe

    async def _resubscribed(self, ws: WsSocket, batch: list[_Sub]) -> None:
        results = await asyncio.gather(
            *(self._send_subscribe(ws, sub) for sub in batch), return_exceptions=True
        )
        for sub, res in zip(batch, results):
            if isinstance(res, Timeout):
                ws.abort()  # a node that does not answer subscriptions is dead to us
                return
            if isinstance(res, TransportError):
                return  # the connection dropped; the next one resubscribes
            if isinstance(res, SubscriptionFailed):
                if self._desired.get((sub.kind, sub.key)) is sub:
                    del self._desired[(sub.kind, sub.key)]
                self.stats.subscription_errors += 1
                self.on_error(res)
            elif isinstance(res, BaseException):
                raise res
        self._ready.set()
        if self.on_resubscribed is not None:
            try:
                maybe = self.on_resubscribed()
                if inspect.isawaitable(maybe):
                    await maybe
            except Exception as err:
                self.stats.callback_errors += 1
                self.on_error(CallbackFailed("resubscribed", err))

    def _on_disconnect(self) -> None:
        if self._ws is not None:
            self.stats.disconnects += 1
        self._ws = None
        self._ready.clear()
        self._active.clear()
        for sub in self._desired.values():
            sub.sub_id = None
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(TransportError(self.endpoint, "pubsub connection closed"))

    # -- subscriptions ----------------------------------------------------------------------------

    async def account_subscribe(
        self, pubkey_b58: str, key: int, commitment: Commitment = "confirmed"
    ) -> None:
        """Watch one account; notifications call ``on_account(key, ...)``.

        When connected, returns after the node acknowledged (or raises `SubscriptionFailed`);
        otherwise the subscription is sent on connect and covered by ``on_resubscribed``.
        Subscribing an existing key replaces its subscription.
        """
        params = [pubkey_b58, {"encoding": "base64", "commitment": commitment}]
        await self._add(_Sub(_ACCOUNT, key, "accountSubscribe", "accountUnsubscribe", params))

    async def program_subscribe(
        self,
        program_b58: str,
        key: int,
        *,
        filters: Sequence[Filter] = (),
        commitment: Commitment = "confirmed",
    ) -> None:
        """Watch every account of a program matching ``filters``; calls ``on_program(key, ...)``."""
        if self.on_program is None:
            raise ValueError("program_subscribe needs on_program= in the PubSubClient constructor")
        cfg: dict[str, Any] = {"encoding": "base64", "commitment": commitment}
        if filters:
            cfg["filters"] = list(filters)
        await self._add(_Sub(_PROGRAM, key, "programSubscribe", "programUnsubscribe", [program_b58, cfg]))

    async def slot_subscribe(self) -> None:
        """Slot notifications to ``on_slot(slot, parent, root)``."""
        if self.on_slot is None:
            raise ValueError("slot_subscribe needs on_slot= in the PubSubClient constructor")
        await self._add(_Sub(_SLOT, 0, "slotSubscribe", "slotUnsubscribe", []))

    async def signature_subscribe(
        self, signature_b58: str, commitment: Commitment = "confirmed"
    ) -> asyncio.Future[SignatureResult]:
        """Watch one transaction; returns a future resolved with its `SignatureResult`.

        The node drops the subscription after notifying. After a reconnect the subscription is
        re-sent; if the transaction landed during the gap, check it with getSignatureStatuses.
        """
        fut: asyncio.Future[SignatureResult] = asyncio.get_running_loop().create_future()
        sub = _Sub(
            _SIGNATURE,
            next(self._sig_keys),
            "signatureSubscribe",
            "signatureUnsubscribe",
            [signature_b58, {"commitment": commitment}],
            signature=signature_b58,
            result=fut,
        )
        await self._add(sub)
        return fut

    async def signature_unsubscribe(self, signature_b58: str) -> None:
        """Stop watching a transaction (its trade ended without a notification, or the caller gave up):
        the subscription is not re-sent on reconnect and its late acknowledgement is not counted."""
        for ident, sub in list(self._desired.items()):
            if ident[0] == _SIGNATURE and sub.signature == signature_b58:
                await self._remove(ident)

    async def account_unsubscribe(self, key: int) -> None:
        await self._remove((_ACCOUNT, key))

    async def program_unsubscribe(self, key: int) -> None:
        await self._remove((_PROGRAM, key))

    async def slot_unsubscribe(self) -> None:
        await self._remove((_SLOT, 0))

    @property
    def subscription_count(self) -> int:
        """Subscriptions the client keeps alive across reconnects."""
        return len(self._desired)

    async def _add(self, sub: _Sub) -> None:
        ident = (sub.kind, sub.key)
        if ident in self._desired:
            await self._remove(ident)
        self._desired[ident] = sub
        ws = self._ws
        if ws is None:
            return
        try:
            await self._send_subscribe(ws, sub)
        except TransportError:
            return  # the connection dropped: the reconnect resubscribes it
        except SubscriptionFailed:
            if self._desired.get(ident) is sub:
                del self._desired[ident]
            raise

    async def _remove(self, ident: tuple[str, int]) -> None:
        sub = self._desired.pop(ident, None)
        if sub is None:
            return
        if sub.result is not None and not sub.result.done():
            sub.result.cancel()
        sub_id, sub.sub_id = sub.sub_id, None
        ws = self._ws
        if sub_id is None or ws is None:
            return  # not acknowledged yet: its requester unsubscribes it when the ack arrives
        self._active.pop(sub_id, None)
        # Failure is harmless: the node forgets subscriptions with the connection anyway.
        with contextlib.suppress(RpcError):
            await self._request(ws, None, sub.unsubscribe_method, [sub_id])

    def _send_subscribe(self, ws: WsSocket, sub: _Sub) -> Awaitable[None]:
        return self._request(ws, sub, sub.method, sub.params)

    async def _request(self, ws: WsSocket, sub: _Sub | None, method: str, params: list[Any]) -> None:
        req_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = _Pending(sub, fut)
        body = orjson.dumps({"jsonrpc": "2.0", "id": req_id, "method": method, "params": params})
        try:
            await ws.send_text(body)
        except WsClosed as err:
            self._pending.pop(req_id, None)
            raise TransportError(self.endpoint, f"send failed: {self._scrub(repr(err))}") from err
        try:
            async with asyncio.timeout(self._ack_timeout_s):
                await fut
        except TimeoutError:
            raise Timeout(self.endpoint, self._ack_timeout_s) from None
        except RpcError as err:
            if sub is None:
                raise
            raise SubscriptionFailed(method, sub.key, err) from err
        finally:
            # Nobody will wait for this reply any more (answered, timed out or cancelled).
            self._pending.pop(req_id, None)
        if sub is not None and sub.orphan_id is not None:
            orphan, sub.orphan_id = sub.orphan_id, None
            with contextlib.suppress(RpcError):
                await self._request(ws, None, sub.unsubscribe_method, [orphan])

    # -- reading ----------------------------------------------------------------------------------

    def _on_frame(self, frame: str | bytes) -> None:
        stats = self.stats
        stats.frames += 1
        try:
            msg = orjson.loads(frame)
            method = msg.get("method")
            if method is None:
                self._on_reply(msg)
                return
            params = msg["params"]
            sub = self._active.get(params["subscription"])
            if sub is None:
                stats.unknown_subscription += 1
                return
            result = params["result"]
            if method == "accountNotification":
                kind = _ACCOUNT
                slot = result["context"]["slot"]
                value = result["value"]
                data = _b64(value["data"])
                owner, lamports = value["owner"], value["lamports"]
            elif method == "programNotification":
                kind = _PROGRAM
                slot = result["context"]["slot"]
                value = result["value"]
                account = value["account"]
                pubkey, data = value["pubkey"], _b64(account["data"])
                owner, lamports = account["owner"], account["lamports"]
                if type(pubkey) is not str:
                    raise TypeError("pubkey is not a string")
            elif method == "slotNotification":
                kind = _SLOT
                slot, parent, root = result["slot"], result["parent"], result["root"]
                owner, lamports = "", 0
            elif method == "signatureNotification":
                kind = _SIGNATURE
                slot, err = result["context"]["slot"], result["value"]["err"]
                owner, lamports = "", 0
            else:
                stats.malformed += 1
                return
            if type(slot) is not int or type(owner) is not str or type(lamports) is not int:
                raise TypeError("slot/owner/lamports of the wrong type")
        except (
            orjson.JSONDecodeError,
            AttributeError,
            KeyError,
            TypeError,
            IndexError,
            ValueError,
            binascii.Error,
        ):
            stats.malformed += 1
            return
        stats.notifications += 1
        # Parsing is done: anything raised from here on is the caller's callback, not the frame.
        try:
            if kind is _ACCOUNT:
                self.on_account(sub.key, slot, data, owner, lamports)
            elif kind is _PROGRAM:
                self.on_program(sub.key, slot, pubkey, data, owner, lamports)  # type: ignore[misc]
            elif kind is _SLOT:
                self.on_slot(slot, parent, root)  # type: ignore[misc]
            else:
                self._on_signature(sub, slot, err)
        except Exception as exc:
            stats.callback_errors += 1
            self.on_error(CallbackFailed(method, exc))

    def _on_signature(self, sub: _Sub, slot: int, err: Any) -> None:
        # The node removes a signature subscription once it has notified.
        self._desired.pop((sub.kind, sub.key), None)
        if sub.sub_id is not None:
            self._active.pop(sub.sub_id, None)
        if sub.result is not None and not sub.result.done():
            sub.result.set_result(SignatureResult(slot, err))
        if self.on_signature is not None:
            self.on_signature(sub.signature, slot, err)

    def _on_reply(self, msg: dict[str, Any]) -> None:
        pending = self._pending.pop(msg.get("id"), None)  # type: ignore[arg-type]
        if pending is None:
            self.stats.malformed += 1
            return
        if pending.future.done():
            return
        error = msg.get("error")
        if error is not None:
            try:
                exc: RpcError = json_rpc_error(
                    int(error["code"]), str(error.get("message", "")), error.get("data")
                )
            except (KeyError, TypeError, ValueError, AttributeError):
                exc = json_rpc_error(0, f"malformed error object {error!r}")
            pending.future.set_exception(exc)
            return
        result = msg.get("result")
        sub = pending.sub
        if sub is not None:
            if type(result) is not int:
                pending.future.set_exception(
                    json_rpc_error(0, f"subscription id {result!r} is not an integer")
                )
                return
            self._on_ack(sub, result)
        pending.future.set_result(result)

    def _on_ack(self, sub: _Sub, sub_id: int) -> None:
        if self._desired.get((sub.kind, sub.key)) is not sub:
            # Unsubscribed (or replaced) while the request was in flight: the requester drops it.
            sub.orphan_id = sub_id
            return
        sub.sub_id = sub_id
        self._active[sub_id] = sub


def _b64(data: Any) -> bytes:
    if type(data) is not list or len(data) != 2 or data[1] != "base64":
        raise ValueError("account data is not [base64, 'base64']")
    return pybase64.b64decode(data[0], validate=True)
