"""HttpTransport against a hand-written loopback HTTP server, for what a real node cannot produce:
429 + Retry-After, 5xx, chunked bodies, dropped connections, slow responses, idle closes."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpc import errors
from rpc.client import RpcClient
from rpc.http import HttpTransport, parse_retry_after

Handler = Callable[[asyncio.StreamWriter, bytes, int], Awaitable[bool]]


class FakeServer:
    """Reads HTTP/1.1 POSTs (Content-Length framed); ``handler`` writes the answer and returns
    False to close the connection. Counts connections and the peak of concurrent requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.heads: list[bytes] = []
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> FakeServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/rpc"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.requests += 1
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                try:
                    keep = await self.handler(writer, body, self.requests)
                finally:
                    self.in_flight -= 1
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (
        extra,
        len(body),
        body,
    )


def echo_slot(body: bytes) -> bytes:
    # Answer with the request's id so RpcClient's id check passes.
    req_id = body.split(b'"id":')[1].split(b",")[0]
    return b'{"jsonrpc":"2.0","result":1234,"id":' + req_id + b"}"


async def test_keep_alive_reuses_one_connection_and_sends_proper_head() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        w.write(ok(echo_slot(body)))
        return True

    async with FakeServer(h) as srv:
        async with RpcClient(srv.url, timeout_s=2.0, connections=2) as client:
            for _ in range(5):
                assert await client.get_slot() == 1234
        assert srv.connections == 1 and srv.requests == 5
        head = srv.heads[0]
        assert head.startswith(b"POST /rpc HTTP/1.1\r\n")
        assert b"\r\nHost: 127.0.0.1:" in head and b"\r\nConnection: keep-alive\r\n" in head
        assert b"\r\nContent-Type: application/json\r\n" in head


async def test_429_with_retry_after_is_rate_limited() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        msg = b'{"jsonrpc":"2.0","error":{"code":429,"message":"Too many requests"}}'
        w.write(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: %d\r\n\r\n%s"
            % (len(msg), msg)
        )
        return True

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url)
        with pytest.raises(errors.RateLimited) as info:
            await t.request(b"{}", 2.0)
        assert info.value.status == 429 and info.value.retry_after_s == 3.0
        assert errors.is_retryable(info.value)
        await t.close()


async def test_500_is_http_status_error_and_retryable() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        w.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops")
        return True

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url)
        with pytest.raises(errors.HttpStatusError) as info:
            await t.request(b"{}", 2.0)
        assert info.value.status == 500 and info.value.body == b"oops" and info.value.retry_after_s is None
        assert not isinstance(info.value, errors.RateLimited) and errors.is_retryable(info.value)
        await t.close()


async def test_chunked_body_split_across_writes_with_extension_and_trailer() -> None:
    payload = b'{"jsonrpc":"2.0","result":"' + b"x" * 5000 + b'","id":1}'

    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        pieces = [payload[:7], payload[7:4100], payload[4100:]]
        for i, p in enumerate(pieces):
            ext = b";name=v" if i == 1 else b""
            frame = b"%x%s\r\n%s\r\n" % (len(p), ext, p)
            # Dribble the frame to exercise the incremental parser.
            for k in range(0, len(frame), 1500):
                w.write(frame[k : k + 1500])
                await w.drain()
                await asyncio.sleep(0)
        w.write(b"0\r\nX-Trailer: yes\r\n\r\n" if n == 1 else b"0\r\n\r\n")
        return True

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url, connections=1)
        assert await t.request(b"{}", 2.0) == payload
        assert await t.request(b"{}", 2.0) == payload  # the stream stayed in step after the trailer
        assert srv.connections == 1
        await t.close()


async def test_interim_100_and_close_delimited_body() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        w.write(b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n{"a":1}')
        return False

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url)
        assert await t.request(b"{}", 2.0) == b'{"a":1}'
        assert await t.request(b"{}", 2.0) == b'{"a":1}'
        assert srv.connections == 2
        await t.close()


async def test_drop_mid_response_is_transport_error() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        w.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial')
        await w.drain()
        return False

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url)
        with pytest.raises(errors.TransportError):
            await t.request(b"{}", 2.0)
        await t.close()


async def test_server_closing_idle_connection_is_replaced_transparently() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        w.write(ok(b'{"n":%d}' % n))
        await w.drain()
        return False  # close after every response, without announcing it

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url, connections=1)
        assert await t.request(b"{}", 2.0) == b'{"n":1}'
        await asyncio.sleep(0.05)  # let the close reach us
        assert await t.request(b"{}", 2.0) == b'{"n":2}'
        # Even if the close races the next write, the request is re-sent once on a fresh socket.
        assert await t.request(b"{}", 2.0) == b'{"n":3}'
        assert srv.connections == 3
        await t.close()


async def test_connection_close_header_is_honoured() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        w.write(ok(b"{}", b"Connection: close\r\n"))
        return True  # the server would keep it; the client must not reuse it

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url, connections=1)
        await t.request(b"{}", 2.0)
        await t.request(b"{}", 2.0)
        assert srv.connections == 2
        await t.close()


async def test_slow_response_times_out_then_a_fresh_connection_works() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        if n == 1:
            await asyncio.sleep(0.5)
        w.write(ok(b'{"n":%d}' % n))
        return True

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url, connections=1)
        with pytest.raises(errors.Timeout) as info:
            await t.request(b"{}", 0.05)
        assert info.value.timeout_s == 0.05 and errors.is_retryable(info.value)
        # The timed-out connection is discarded (its late answer would desync the stream).
        assert await t.request(b"{}", 2.0) == b'{"n":2}'
        assert srv.connections == 2
        await t.close()


async def test_a_shorter_timeout_fires_before_an_earlier_longer_one() -> None:
    # One watchdog timer serves all in-flight requests: it must re-arm for an earlier deadline.
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        await asyncio.sleep(0.3 if body == b"long" else 1.0)
        w.write(ok(body))
        return True

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url, connections=2)
        long = asyncio.create_task(t.request(b"long", 2.0))
        await asyncio.sleep(0.02)
        with pytest.raises(errors.Timeout):
            await t.request(b"short", 0.05)
        assert not long.done()  # the short one expired on its own deadline, well before 0.3 s
        assert await long == b"long"
        await t.close()


async def test_concurrent_requests_use_the_pool_without_exceeding_it() -> None:
    release = asyncio.Event()

    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        if n <= 2:
            await release.wait()
        w.write(ok(b'{"n":%d}' % n))
        return True

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url, connections=2)
        tasks = [asyncio.create_task(t.request(b"{}", 5.0)) for _ in range(4)]
        for _ in range(50):
            if srv.in_flight == 2:
                break
            await asyncio.sleep(0.01)
        assert srv.in_flight == 2  # two requests proceed at once, on two connections
        release.set()
        got = await asyncio.gather(*tasks)
        assert sorted(got) == [b'{"n":%d}' % i for i in range(1, 5)]
        assert srv.connections == 2 and srv.peak_in_flight == 2
        await t.close()


async def test_waiting_for_a_busy_pool_respects_the_timeout() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        await asyncio.sleep(0.3)
        w.write(ok(b"{}"))
        return True

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url, connections=1)
        first = asyncio.create_task(t.request(b"{}", 2.0))
        await asyncio.sleep(0.02)
        with pytest.raises(errors.Timeout):
            await t.request(b"{}", 0.05)
        assert await first == b"{}"
        await t.close()


async def test_garbage_and_refused_are_transport_errors() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        w.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        return True

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url)
        with pytest.raises(errors.TransportError):
            await t.request(b"{}", 2.0)
        await t.close()
    # A port nobody listens on.
    srv2 = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = srv2.sockets[0].getsockname()[1]
    srv2.close()
    await srv2.wait_closed()
    t = HttpTransport(f"http://127.0.0.1:{port}")
    with pytest.raises(errors.TransportError):
        await t.request(b"{}", 2.0)


def test_retry_after_forms() -> None:
    assert parse_retry_after(b" 7 ") == 7.0
    assert parse_retry_after(b"Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after(b"soon") is None
    with pytest.raises(ValueError):
        HttpTransport("ws://x")


class _NullTransport:
    """Stands in for the socket under a `_Conn` fed by hand (no network: framing only)."""

    def __init__(self) -> None:
        self.aborted = False

    def write(self, data: bytes) -> None:
        pass

    def abort(self) -> None:
        self.aborted = True


class _Owner:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def _on_conn_lost(self, conn: object) -> None:
        pass


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(min_size=0, max_size=3000),
    chunk_sizes=st.lists(st.integers(1, 700), min_size=1, max_size=8),
    cuts=st.lists(st.integers(0, 4000), max_size=12),
    chunked=st.booleans(),
)
def test_framing_survives_any_split_of_the_byte_stream(
    body: bytes, chunk_sizes: list[int], cuts: list[int], chunked: bool
) -> None:
    from rpc.http import _Conn

    if chunked:
        parts, i, k = [], 0, 0
        while i < len(body):
            n = chunk_sizes[k % len(chunk_sizes)]
            parts.append(b"%x\r\n%s\r\n" % (len(body[i : i + n]), body[i : i + n]))
            i, k = i + n, k + 1
        wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(parts) + b"0\r\n\r\n"
    else:
        wire = ok(body)
    points = sorted({c % (len(wire) + 1) for c in cuts} | {0, len(wire)})
    loop = asyncio.new_event_loop()
    try:
        conn = _Conn(_Owner(loop))  # type: ignore[arg-type]
        conn.connection_made(_NullTransport())  # type: ignore[arg-type]
        for _ in range(2):  # twice: the connection must be back in step after a response
            fut = conn.start(b"req")
            for a, b in itertools.pairwise(points):
                conn.data_received(wire[a:b])
            assert fut.done() and fut.result().body == body and fut.result().status == 200
            assert conn.usable
    finally:
        loop.close()


async def test_a_cancelled_request_drops_its_socket_so_its_late_answer_reaches_nobody() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        await asyncio.sleep(0.1 if n == 1 else 0)
        w.write(ok(body))
        return True

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url, connections=1)
        first = asyncio.create_task(t.request(b"first", 5.0))
        await asyncio.sleep(0.02)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await t.request(b"second", 5.0) == b"second"  # not the late answer to "first"
        assert t.connects == 2
        await t.close()


async def test_write_now_and_connect() -> None:
    async def h(w: asyncio.StreamWriter, body: bytes, n: int) -> bool:
        w.write(ok(body))
        return True

    async with FakeServer(h) as srv:
        t = HttpTransport(srv.url, connections=2)
        assert t.write_now(b"x", 1.0) is None  # nothing open yet
        assert await t.connect() == 2 and await t.connect() == 0 and srv.connections == 2
        a, b = t.write_now(b"a", 1.0), t.write_now(b"b", 1.0)
        assert a is not None and b is not None and t.write_now(b"c", 1.0) is None  # both busy
        assert [await t.response(a), await t.response(b)] == [b"a", b"b"]
        assert await t.request(b"d", 1.0) == b"d" and t.connects == 2
        await t.close()
