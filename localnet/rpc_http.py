"""HTTP/1.1 JSON-RPC 2.0 transport on a raw asyncio.Protocol (keep-alive, pipelining, batches).

A frameworks-free server keeps the per-request overhead small enough for sendTransaction to run near
LiteSVM's own speed. Requests on one connection are answered in order; handlers are synchronous and run
on the event loop, so transactions are processed one at a time, in arrival order.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import orjson

from localnet.errors import INTERNAL_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, RpcFault
from localnet.rpc_methods import RpcMethods

MAX_HEADER = 16 * 1024
MAX_BODY = 50 * 1024 * 1024
_PARSE_ERROR = orjson.dumps({"jsonrpc": "2.0", "error": {"code": PARSE_ERROR, "message": "Parse error"}, "id": None})
_OK_JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
_REASONS = {200: b"OK", 400: b"Bad Request", 405: b"Method Not Allowed", 413: b"Payload Too Large",
            431: b"Request Header Fields Too Large", 501: b"Not Implemented"}
_INVALID_REQUEST = {"jsonrpc": "2.0", "error": {"code": INVALID_REQUEST, "message": "Invalid request"}, "id": None}


def handle_body(methods: RpcMethods, body: bytes) -> bytes:
    """One HTTP body (single request or batch) -> the response body (b"" for notifications only)."""
    try:
        req = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _PARSE_ERROR
    if isinstance(req, list):
        if not req:
            return orjson.dumps(_INVALID_REQUEST)
        out = [r for r in (handle_one(methods, item) for item in req) if r is not None]
        return orjson.dumps(out) if out else b""
    resp = handle_one(methods, req)
    return orjson.dumps(resp) if resp is not None else b""


def handle_one(methods: RpcMethods, req: Any) -> dict[str, Any] | None:
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
        result = fn(params)
    except RpcFault as fault:
        return None if notification else {"jsonrpc": "2.0", "error": fault.to_obj(), "id": rid}
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # a handler bug (or a pyo3 PanicException) must not take the server down
        print(f"localnet: internal error in {method}: {type(err).__name__}: {err}", file=sys.stderr)
        return None if notification else {"jsonrpc": "2.0", "error": {"code": INTERNAL_ERROR,
                                                                      "message": "Internal error"}, "id": rid}
    return None if notification else {"jsonrpc": "2.0", "result": result, "id": rid}


class WriteBatch:
    """Replies produced while the loop handles one round of readable sockets, written at the end of that
    round (`call_soon` runs after the round's I/O callbacks). With many connections a client then finds
    several replies per wake-up instead of being woken once per reply, which on a 2-core machine frees
    CPU for the server; one connection's pipelined replies go out in one write."""

    def __init__(self) -> None:
        self.pending: list[HttpRpcProtocol] = []

    def add(self, proto: HttpRpcProtocol) -> None:
        if not self.pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self.pending.append(proto)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for proto in pending:
            proto.flush()


class HttpRpcProtocol(asyncio.Protocol):
    """One client connection: parse HTTP/1.1 requests from the byte stream and answer each."""

    def __init__(self, methods: RpcMethods, connections: set[HttpRpcProtocol], batch: WriteBatch | None = None) -> None:
        self.methods = methods
        self.connections = connections
        self.batch = batch
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
        if not self.buf:
            # Common case: one whole request in one segment. Parse it in place (no buffer copies).
            end = data.find(b"\r\n\r\n")
            if end >= 0:
                req = self._head(data[:end])
                if req is None:
                    return
                method, path, close, length = req
                if len(data) == end + 4 + length:
                    self._dispatch(method, path, data[end + 4:], close)
                    return
        self.buf += data
        while self.transport is not None:
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
                if not self.continued and b"\r\nexpect: 100-continue" in head.lower() and self.transport is not None:
                    self.continued = True
                    self.flush()  # earlier pipelined replies go first
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            self.continued = False
            body = bytes(self.buf[end + 4:total])
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
                length = int(head[cl + 17:value_end if value_end >= 0 else None])
            except ValueError:
                self._reply(400, b"", close=True)
                return None
        conn = head.find(b"\r\nconnection:")
        conn_value = b""
        if conn >= 0:
            value_end = head.find(b"\r\n", conn + 13)
            conn_value = head[conn + 13:value_end if value_end >= 0 else None].strip()
        close = conn_value == b"close" or (version == b"http/1.0" and conn_value != b"keep-alive")
        te = head.find(b"\r\ntransfer-encoding:")
        if te >= 0 and b"chunked" in head[te:head.find(b"\r\n", te + 2) if head.find(b"\r\n", te + 2) >= 0 else None]:
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
            self._reply(200, handle_body(self.methods, body), close=close)
        elif method == b"get" and path.split(b"?")[0] == b"/health":
            self._reply(200, b"ok", close=close, ctype=b"text/plain")
        else:
            self._reply(405, b"Used HTTP Method is not allowed. POST or OPTIONS is required", close=close,
                        ctype=b"text/plain")

    def _reply(self, status: int, body: bytes, *, close: bool, ctype: bytes = b"application/json") -> None:
        if self.transport is None:
            return
        if status == 200 and ctype == b"application/json" and not close:
            data = b"%s%d\r\n\r\n%s" % (_OK_JSON_HEAD, len(body), body)
        else:
            reason = _REASONS.get(status, b"Error")
            data = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n%s" % (
                status, reason, ctype, len(body), b"Connection: close\r\n" if close else b"", body)
        self.out.append(data)
        if close or self.batch is None:
            self.flush()
        elif not self.queued:
            self.queued = True
            self.batch.add(self)
        if close:
            self.transport.close()
            self.transport = None
