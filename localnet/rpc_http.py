"""HTTP/1.1 JSON-RPC 2.0 transport on a raw asyncio.Protocol (keep-alive, pipelining, batches).

A frameworks-free server keeps the per-request overhead small enough for sendTransaction to run near
LiteSVM's own speed. Requests on one connection are answered in order; handlers are synchronous and run
on the event loop, so transactions are processed one at a time, in arrival order. With verify workers
(`OrderedSends`), sendTransaction signature checks that would queue up run in other processes while the
event loop still applies every transaction itself, in arrival order.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson

from localnet.errors import INTERNAL_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, RpcFault
from localnet.rpc_methods import RpcMethods, Verified

MAX_HEADER = 16 * 1024
MAX_BODY = 50 * 1024 * 1024
_PARSE_ERROR: bytes = orjson.dumps(
    {"jsonrpc": "2.0", "error": {"code": PARSE_ERROR, "message": "Parse error"}, "id": None}
)
_OK_JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    405: b"Method Not Allowed",
    413: b"Payload Too Large",
    431: b"Request Header Fields Too Large",
    501: b"Not Implemented",
}
_INVALID_REQUEST = {
    "jsonrpc": "2.0",
    "error": {"code": INVALID_REQUEST, "message": "Invalid request"},
    "id": None,
}


def handle_body(methods: RpcMethods, body: bytes) -> bytes:
    """One HTTP body (single request or batch) -> the response body (b"" for notifications only)."""
    try:
        req = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _PARSE_ERROR
    return handle_parsed(methods, req)


def handle_parsed(methods: RpcMethods, req: Any, verified: Verified | None = None) -> bytes:
    """handle_body after JSON parsing; `verified`: a single sendTransaction's signatures, verified elsewhere."""
    if isinstance(req, list):
        if not req:
            return orjson.dumps(_INVALID_REQUEST)
        out = [r for r in (handle_one(methods, item) for item in req) if r is not None]
        return orjson.dumps(out) if out else b""
    resp = handle_one(methods, req, verified)
    return orjson.dumps(resp) if resp is not None else b""


def handle_one(methods: RpcMethods, req: Any, verified: Verified | None = None) -> dict[str, Any] | None:
    if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
        rid = req.get("id") if isinstance(req, dict) and isinstance(req.get("id"), (int, str)) else None
        return {"jsonrpc": "2.0", "error": _INVALID_REQUEST["error"], "id": rid}
    rid = req.get("id")
    notification = "id" not in req
    method = req["method"]
    params = req.get("params")
    try:
        if params is None:
            params = []
        elif not isinstance(params, list):
            raise RpcFault(-32602, "Invalid params: invalid type: map, expected a sequence.")
        fn = methods.table.get(method)
        if fn is None:
            raise RpcFault(METHOD_NOT_FOUND, "Method not found")
        result = fn(params) if verified is None else methods.send_transaction(params, verified)
    except RpcFault as fault:
        return None if notification else {"jsonrpc": "2.0", "error": fault.to_obj(), "id": rid}
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # a handler bug (or a pyo3 PanicException) must not take the server down
        print(f"localnet: internal error in {method}: {type(err).__name__}: {err}", file=sys.stderr)
        return (
            None
            if notification
            else {"jsonrpc": "2.0", "error": {"code": INTERNAL_ERROR, "message": "Internal error"}, "id": rid}
        )
    return None if notification else {"jsonrpc": "2.0", "result": result, "id": rid}


# After a sendTransaction from a second connection, transactions go to the verify workers for this long.
SHARED_SEND_WINDOW = 0.002

# Long enough to span a client's turnaround between two requests (tens of microseconds), short enough
# that a server between bursts sleeps almost all the time.
DEFAULT_BUSY_POLL_US = 300.0


class BusyPoll:
    """Keep the event loop polling (never sleeping in epoll_wait) for `window_us` after the last request.

    On a virtual machine a sleeping process pays for its wake-up: measured here, a getSlot round trip over
    one connection costs the server ~70-90 us of CPU when its loop sleeps between requests and the rate
    nearly doubles when it does not. A self-rescheduling `call_soon` makes the loop poll with a zero
    timeout; after `window_us` without a request it stops and the loop sleeps as usual, so an idle server
    costs nothing. 0 disables it.
    """

    __slots__ = ("active", "last", "loop", "window")

    def __init__(self, window_us: float) -> None:
        self.window = window_us / 1e6
        self.last = 0.0
        self.active = False
        self.loop: asyncio.AbstractEventLoop | None = None

    def touch(self) -> None:
        """A request arrived: (re)start the window."""
        if not self.window:
            return
        self.last = time.perf_counter()
        if not self.active:
            self.active = True
            if self.loop is None:
                self.loop = asyncio.get_running_loop()
            self.loop.call_soon(self._spin)

    def _spin(self) -> None:
        if time.perf_counter() - self.last < self.window and self.loop is not None:
            self.loop.call_soon(self._spin)
        else:
            self.active = False


class WriteBatch:
    """Replies produced while the loop handles one round of readable sockets, written at the end of that
    round (`call_soon` runs after the round's I/O callbacks). With many connections a client then finds
    several replies per wake-up instead of being woken once per reply, which on a 2-core machine frees
    CPU for the server; one connection's pipelined replies go out in one write."""

    def __init__(self, busy_poll: BusyPoll | None = None) -> None:
        self.pending: list[HttpRpcProtocol] = []
        self.busy_poll = busy_poll

    def add(self, proto: HttpRpcProtocol) -> None:
        if not self.pending:
            asyncio.get_running_loop().call_soon(self.flush)
            if self.busy_poll is not None:
                self.busy_poll.touch()
        self.pending.append(proto)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for proto in pending:
            proto.flush()


class _Pending:
    """One request waiting in OrderedSends' arrival-order queue."""

    __slots__ = ("close", "later", "proto", "raw", "ready", "req", "seq", "verified")

    def __init__(
        self, proto: HttpRpcProtocol, req: Any, raw: bytes | None, close: bool, seq: int, ready: bool
    ) -> None:
        self.proto = proto
        self.req = req
        self.raw = raw  # the transaction's bytes (decoded once, here)
        self.close = close
        self.seq = seq
        self.ready = ready  # its signatures are verified (or it needs no verification)
        self.verified: Verified | None = None
        self.later: Callable[[], None] | None = None  # a non-JSON reply, written in its turn


class OrderedSends:
    """sendTransaction with its ed25519 checks in worker processes (`VerifyPool`), applied in arrival order.

    Rules: a transaction is applied only once its own signatures are verified and every transaction that
    arrived before it has been applied (one global FIFO); a connection with a request in the FIFO queues
    its later requests behind it, so its replies keep request order. The workers are used only when
    transactions wait: a sendTransaction with nothing queued runs inline exactly as without workers (a
    sequential client's latency does not grow) when it is the first of its event-loop round and a single
    connection has been sending for SHARED_SEND_WINDOW; the next ones of the same round (pipelined), every
    one while several connections send, and every one while the FIFO is not empty go to the workers.
    Reads from connections with nothing queued are answered at once, as before.
    """

    _WRITES = frozenset(("sendTransaction", "requestAirdrop"))

    def __init__(self, methods: RpcMethods, workers: int, spin_us: float = 0.0) -> None:
        from localnet.verify_pool import VerifyPool

        self.methods = methods
        self.pool = VerifyPool(workers, self._on_result, spin_us)
        self.fifo: deque[_Pending] = deque()
        self.waiting: dict[int, _Pending] = {}  # seq -> entry submitted to a worker
        self.unsent: deque[_Pending] = deque()  # need verification, every worker busy
        self._seq = 0
        self._sends_this_round = 0
        self._last_sender: HttpRpcProtocol | None = None
        self._shared_until = 0.0  # until then, more than one connection is sending transactions
        self._scheduled = False

    def start(self) -> None:
        self.pool.start()

    async def close(self) -> None:
        await self.pool.close()
        self.fifo.clear()
        self.waiting.clear()
        self.unsent.clear()

    def submit(self, proto: HttpRpcProtocol, body: bytes, close: bool) -> None:
        """One POST body of `proto`: answered now or queued (see the class docstring)."""
        try:
            req = orjson.loads(body)
        except orjson.JSONDecodeError:
            req = _PARSE_ERROR
        is_send = isinstance(req, dict) and req.get("method") == "sendTransaction"
        if not self.fifo:
            if not is_send:
                proto.reply_json(self._answer(req, None), close)
                return
            now = time.perf_counter()
            if proto is not self._last_sender:
                if self._last_sender is not None:
                    self._shared_until = now + SHARED_SEND_WINDOW
                self._last_sender = proto
            if now >= self._shared_until and self._sends_this_round == 0:
                # One connection sending alone, one request at a time: inline, the lowest latency.
                self._sends_this_round = 1
                self._schedule()  # resets the round's count
                proto.reply_json(self._answer(req, None), close)
                return
        elif (
            not proto.pending
            and not is_send
            and not isinstance(req, list)
            and not (isinstance(req, dict) and req.get("method") in self._WRITES)
        ):
            proto.reply_json(self._answer(req, None), close)  # a read: answered concurrently
            return
        self._seq += 1
        raw = self.methods.send_transaction_bytes(req.get("params")) if is_send else None
        entry = _Pending(proto, req, raw, close, self._seq, raw is None or not self.pool.alive)
        proto.pending += 1
        if close:
            proto.closing = True  # parse nothing after a Connection: close request, as the inline path
        self.fifo.append(entry)
        if not entry.ready:
            assert raw is not None
            if self.pool.submit(entry.seq, raw):
                self.waiting[entry.seq] = entry
            else:
                self.unsent.append(entry)  # every worker busy: handed over when one frees up
        self._schedule()

    def submit_later(self, proto: HttpRpcProtocol, reply: Callable[[], None]) -> None:
        """A reply that must wait for this connection's queued requests (e.g. GET /health behind them)."""
        self._seq += 1
        entry = _Pending(proto, None, None, False, self._seq, True)
        entry.later = reply
        proto.pending += 1
        self.fifo.append(entry)
        self._schedule()

    def _answer(self, req: Any, verified: Verified | None) -> bytes:
        if isinstance(req, bytes):  # the parse error reply itself
            return req
        return handle_parsed(self.methods, req, verified)

    def _on_result(self, seq: int, ok: tuple[bool, ...] | None, signature: str) -> None:
        entry = self.waiting.pop(seq, None)
        if entry is None:
            return
        # ok None (malformed, or a worker lost): verified inline when applied
        if ok is not None and entry.raw is not None:
            entry.verified = Verified(ok, signature, entry.raw)
        entry.raw = None
        entry.ready = True
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        """End of a loop round: apply what is ready, in order; hand waiting transactions to workers."""
        self._scheduled = False
        self._sends_this_round = 0
        fifo = self.fifo
        while fifo and fifo[0].ready:
            entry = fifo.popleft()
            proto = entry.proto
            proto.pending -= 1
            if entry.later is not None:
                entry.later()
                continue
            proto.join_batch()  # before the handler: its reply goes out ahead of the notifications it triggers
            proto.reply_json(self._answer(entry.req, entry.verified), entry.close)
        pool = self.pool
        unsent = self.unsent
        while unsent:
            entry = unsent[0]
            if not pool.alive:
                entry.ready = True
            elif pool.submit(entry.seq, entry.raw or b""):
                self.waiting[entry.seq] = entry
            else:
                break
            unsent.popleft()
        pool.flush()
        if fifo and fifo[0].ready:
            self._schedule()  # the pool died under us: its entries became ready


class HttpRpcProtocol(asyncio.Protocol):
    """One client connection: parse HTTP/1.1 requests from the byte stream and answer each."""

    def __init__(
        self,
        methods: RpcMethods,
        connections: set[HttpRpcProtocol],
        batch: WriteBatch | None = None,
        sends: OrderedSends | None = None,
        routes: dict[bytes, Any] | None = None,
    ) -> None:
        self.methods = methods
        # Other JSON-RPC method tables by POST path (the block engine's /api/v1/bundles); every other path is RPC.
        self.routes = routes
        self.connections = connections
        self.batch = batch
        self.sends = sends
        self.pending = 0  # requests of this connection queued in `sends`
        self.closing = False  # a queued request carries Connection: close
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.out: list[bytes] = []
        self.queued = False  # registered with the batch for the current loop round
        self.continued = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transport is not a subclass
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.transport = None
        self.out.clear()

    def flush(self) -> None:
        """Write the replies held for this connection (in request order)."""
        self.queued = False
        out = self.out
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
        out.clear()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        if not self.buf:
            # Common case: one whole request in one segment. Parse it in place (no buffer copies).
            end = data.find(b"\r\n\r\n")
            if end >= 0:
                req = self._head(data[:end])
                if req is None:
                    return
                method, path, close, length = req
                if len(data) == end + 4 + length:
                    self._dispatch(method, path, data[end + 4 :], close)
                    return
        self.buf += data
        while self.transport is not None and not self.closing:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEADER:
                    self._reply(431, b"", close=True)
                return
            head = bytes(self.buf[:end])
            req = self._head(head)
            if req is None:
                return
            method, path, close, length = req
            total = end + 4 + length
            if len(self.buf) < total:
                # curl sends `Expect: 100-continue` for bodies over 1 KiB and waits for this go-ahead.
                if (
                    not self.continued
                    and b"\r\nexpect: 100-continue" in head.lower()
                    and self.transport is not None
                ):
                    self.continued = True
                    self.flush()  # earlier pipelined replies go first
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            self.continued = False
            body = bytes(self.buf[end + 4 : total])
            del self.buf[:total]
            self._dispatch(method, path, body, close)

    def _head(self, raw: bytes) -> tuple[bytes, bytes, bool, int] | None:
        """(method, path, close, content length) of a request head (lower-cased), or None after an error
        reply (which closes the connection)."""
        head = raw.lower()
        line_end = head.find(b"\r\n")
        parts = (head if line_end < 0 else head[:line_end]).split(b" ")
        if len(parts) != 3:
            self._reply(400, b"", close=True)
            return None
        method, path, version = parts
        length = 0
        cl = head.find(b"\r\ncontent-length:")
        if cl >= 0:
            value_end = head.find(b"\r\n", cl + 17)
            try:
                length = int(head[cl + 17 : value_end if value_end >= 0 else None])
            except ValueError:
                self._reply(400, b"", close=True)
                return None
        conn = head.find(b"\r\nconnection:")
        conn_value = b""
        if conn >= 0:
            value_end = head.find(b"\r\n", conn + 13)
            conn_value = head[conn + 13 : value_end if value_end >= 0 else None].strip()
        close = conn_value == b"close" or (version == b"http/1.0" and conn_value != b"keep-alive")
        te = head.find(b"\r\ntransfer-encoding:")
        if (
            te >= 0
            and b"chunked"
            in head[te : head.find(b"\r\n", te + 2) if head.find(b"\r\n", te + 2) >= 0 else None]
        ):
            self._reply(501, b"", close=True)  # clients send Content-Length for JSON-RPC
            return None
        if length < 0:
            self._reply(400, b"", close=True)
            return None
        if length > MAX_BODY:
            self._reply(413, b"", close=True)
            return None
        return method, path, close, length

    def _dispatch(self, method: bytes, path: bytes, body: bytes, close: bool) -> None:
        if self.batch is not None and not self.queued:
            # Queued before the handler runs, so this reply is written ahead of whatever the handler
            # schedules (e.g. the PubSub notifications a transaction triggers), as an immediate write was.
            self.queued = True
            self.batch.add(self)
        if method == b"post":
            if (
                self.routes is not None
                and (table := self.routes.get(path.split(b"?", 1)[0].rstrip(b"/"))) is not None
            ):
                self._routed(table, body, close)
            elif self.sends is not None:
                self.sends.submit(self, body, close)
            else:
                self._reply(200, handle_body(self.methods, body), close=close)
        elif self.pending and self.sends is not None:
            # Behind this connection's queued requests: answered in its turn.
            self.sends.submit_later(self, lambda: self._plain(method, path, close))
            if close:
                self.closing = True
        else:
            self._plain(method, path, close)

    def _routed(self, table: Any, body: bytes, close: bool) -> None:
        """A POST to a routed path: answered in this connection's turn (behind its queued sends)."""
        if self.pending and self.sends is not None:
            self.sends.submit_later(self, lambda: self._reply(200, handle_body(table, body), close=close))
            if close:
                self.closing = True
        else:
            self._reply(200, handle_body(table, body), close=close)

    def _plain(self, method: bytes, path: bytes, close: bool) -> None:
        """The reply to a request other than POST."""
        self.join_batch()
        if method == b"get" and path.split(b"?")[0] == b"/health":
            self._reply(200, b"ok", close=close, ctype=b"text/plain")
        else:
            self._reply(
                405,
                b"Used HTTP Method is not allowed. POST or OPTIONS is required",
                close=close,
                ctype=b"text/plain",
            )

    def join_batch(self) -> None:
        if self.batch is not None and not self.queued and self.transport is not None:
            self.queued = True
            self.batch.add(self)

    def reply_json(self, body: bytes, close: bool) -> None:
        """A POST's 200 reply (also for requests answered later by OrderedSends)."""
        self._reply(200, body, close=close)

    def _reply(self, status: int, body: bytes, *, close: bool, ctype: bytes = b"application/json") -> None:
        if self.transport is None:
            return
        if status == 200 and ctype == b"application/json" and not close:
            data = b"%s%d\r\n\r\n%s" % (_OK_JSON_HEAD, len(body), body)
        else:
            reason = _REASONS.get(status, b"Error")
            data = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n%s" % (
                status,
                reason,
                ctype,
                len(body),
                b"Connection: close\r\n" if close else b"",
                body,
            )
        self.out.append(data)
        if close or self.batch is None:
            self.flush()
        elif not self.queued:
            self.queued = True
            self.batch.add(self)
        if close:
            self.transport.close()
            self.transport = None
