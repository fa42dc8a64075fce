"""RpcSender against loopback endpoints: the same bytes written to every chosen endpoint before any
reply is awaited, the prepared sendTransaction body, per-endpoint outcomes fed back to the pool's health
(429 with Retry-After, 500, garbage, a hang), connections opened at start-up, and HTTPS through the raw
transport with a self-signed test certificate."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from rpc_fakes import FakeEndpoint, dead_url

from rpc import errors
from rpc.client import RpcClient
from rpc.http import HttpTransport
from rpc.pool import EndpointConfig, EndpointPool
from rpc.submit import RpcSender, signature_of

DATA = Path(__file__).parent / "data"
# A syntactically valid signed transaction: 1 signature of 64 bytes, then a (fake) message.
TX = bytes([1]) + bytes(range(64)) + b"message"
SIG = signature_of(TX)


def _tx(n: int) -> bytes:
    return bytes([1]) + n.to_bytes(8, "little") * 8 + b"message"


class ThreadEndpoints:
    """Endpoints served by blocking sockets on a thread, so they receive bytes while the event loop
    is blocked: proof that a write happened inside the call that made it, not on a later loop pass."""

    def __init__(self, n: int) -> None:
        self.listeners = [socket.create_server(("127.0.0.1", 0)) for _ in range(n)]
        self.urls = [f"http://127.0.0.1:{s.getsockname()[1]}/" for s in self.listeners]
        self.received: list[bytearray] = [bytearray() for _ in range(n)]
        self.answer = threading.Event()
        self._conns: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._serve, args=(i,), daemon=True) for i in range(n)]
        for t in self._threads:
            t.start()

    def _serve(self, i: int) -> None:
        conn, _ = self.listeners[i].accept()
        self._conns.append(conn)
        buf = self.received[i]
        while not _complete(buf):
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
        self.answer.wait(10)
        req = orjson.loads(bytes(buf[buf.find(b"\r\n\r\n") + 4 :]))
        msg = orjson.dumps({"jsonrpc": "2.0", "result": SIG, "id": req["id"]})
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(msg), msg))

    def close(self) -> None:
        self.answer.set()
        for s in self.listeners + self._conns:
            s.close()


def _complete(buf: bytearray) -> bool:
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = int(bytes(buf[:end]).lower().split(b"content-length:")[1].split(b"\r\n")[0])
    return len(buf) >= end + 4 + length


async def test_write_all_puts_the_bytes_on_every_socket_before_returning() -> None:
    eps = ThreadEndpoints(3)
    pool = EndpointPool(
        [EndpointConfig(f"e{i}", u, priority=i, connections=1) for i, u in enumerate(eps.urls)]
    )
    sender = RpcSender(pool, fan_out=3)
    try:
        assert await sender.connect() == {}
        pending = sender.write_all(TX)
        time.sleep(0.3)  # blocks the event loop: only bytes already written can arrive
        assert all(_complete(buf) for buf in eps.received)
        bodies = [bytes(buf[buf.find(b"\r\n\r\n") + 4 :]) for buf in eps.received]
        assert len(set(bodies)) == 1  # the same request to all three
        req = orjson.loads(bodies[0])
        assert req["method"] == "sendTransaction"
        assert req["params"][1] == {"encoding": "base64", "skipPreflight": True, "maxRetries": 0}
        assert bodies[0] == sender.template.body(TX, req["id"])
        eps.answer.set()
        result = await pending.wait()
        assert result.ok and result.signature == SIG and result.accepted == ("e0", "e1", "e2")
        assert all(not o.deferred and o.latency_s > 0 for o in result.outcomes)
        assert sender.stats.deferred_writes == 0 and sender.stats.accepted == 1
    finally:
        eps.close()
        await pool.close()


async def test_each_endpoint_outcome_is_typed_and_fed_to_health() -> None:
    fakes = [
        await FakeEndpoint(m, retry_after=b"30").start() for m in ("429", "500", "garbage", "hang", "ok")
    ]
    pool = EndpointPool(
        [EndpointConfig(f.mode, f.url, priority=i, timeout_s=0.3) for i, f in enumerate(fakes)]
    )
    sender = RpcSender(pool, fan_out=5)
    try:
        pending = sender.write_all(TX)
        first = await pending.first_accepted()  # as soon as "ok" answered, before "hang" times out
        assert first.name == "ok" and first.accepted and not pending.done()
        result = await pending.wait()
        by = {o.name: o for o in result.outcomes}
        assert result.accepted == ("ok",)
        assert isinstance(by["429"].error, errors.RateLimited) and by["429"].error.retry_after_s == 30.0
        assert type(by["500"].error) is errors.HttpStatusError and by["500"].error.status == 500
        assert isinstance(by["garbage"].error, errors.MalformedResponse)
        assert isinstance(by["hang"].error, errors.Timeout)
        snap = {s.name: s for s in pool.snapshot()}
        assert 29.0 < snap["429"].backoff_s <= 30.0 and not snap["429"].usable
        assert snap["500"].consecutive_failures == 1 and snap["hang"].consecutive_failures == 1
        assert snap["ok"].consecutive_failures == 0 and snap["ok"].error_rate == 0.0
        assert [s.name for s in pool.snapshot()][-1] == "429"
        # The backed-off endpoint is not written again while its Retry-After runs.
        before = fakes[0].count("sendTransaction")
        await sender.send(_tx(2))
        assert fakes[0].count("sendTransaction") == before
    finally:
        await sender.aclose()
        await pool.close()
        for f in fakes:
            await f.stop()


async def test_retry_after_as_http_date_is_honoured_then_the_endpoint_is_used_again() -> None:
    # An HTTP-date has whole seconds: this asks for 1.2 to 2.2 s.
    when = email.utils.formatdate(time.time() + 2.2, usegmt=True).encode()
    async with FakeEndpoint("429", retry_after=when) as limited, FakeEndpoint("ok") as good:
        pool = EndpointPool(
            [EndpointConfig("limited", limited.url, priority=0), EndpointConfig("good", good.url, priority=1)]
        )
        sender = RpcSender(pool, fan_out=1)
        with pytest.raises(errors.AllEndpointsFailed) as info:
            await sender.send(_tx(1))  # goes to "limited" (priority 0) and is refused
        assert list(info.value.errors) == ["limited"]
        assert 1.0 < (pool.by_name("limited").health.backoff_until or 0) - time.monotonic() <= 2.2
        limited.mode = "ok"
        sent_during = []
        for i in range(3):
            sent_during.append((await sender.send(_tx(10 + i))).accepted)
        assert sent_during == [("good",)] * 3 and limited.count("sendTransaction") == 1
        backoff = pool.by_name("limited").health.backoff_until
        assert backoff is not None
        await asyncio.sleep(max(0.0, backoff - time.monotonic()) + 0.05)
        assert (await sender.send(_tx(20))).accepted == ("limited",)
        await pool.close()


async def test_no_endpoint_taking_it_or_none_to_write_to_is_one_typed_error() -> None:
    async with FakeEndpoint("500") as bad, FakeEndpoint("429", retry_after=b"60") as limited:
        pool = EndpointPool(
            [EndpointConfig("bad", bad.url), EndpointConfig("limited", limited.url, priority=1)]
        )
        sender = RpcSender(pool, fan_out=2)
        with pytest.raises(errors.AllEndpointsFailed) as info:
            await sender.write_all(TX).first_accepted()
        assert set(info.value.errors) == {"bad", "limited"} and errors.is_retryable(info.value)
        bad.mode = "429"
        with pytest.raises(errors.AllEndpointsFailed):
            await sender.send(_tx(2))
        # Both are backed off now: nothing is written, and the error says why for each.
        with pytest.raises(errors.AllEndpointsFailed) as info:
            await sender.send(_tx(3))
        assert all(isinstance(e, errors.EndpointUnavailable) for e in info.value.errors.values())
        assert "backed off" in str(info.value) and sender.stats.no_endpoint == 1
        assert bad.count("sendTransaction") == 2 and limited.count("sendTransaction") == 1
        await pool.close()


async def test_connect_opens_connections_at_start_up_and_reports_the_dead() -> None:
    async with FakeEndpoint("ok") as good:
        dead = await dead_url("/secret-path")
        pool = EndpointPool(
            [EndpointConfig("good", good.url, connections=2), EndpointConfig("dead", dead, priority=1)]
        )
        sender = RpcSender(pool, fan_out=2)
        failed = await sender.connect(timeout_s=1.0)
        assert list(failed) == ["dead"] and isinstance(failed["dead"], errors.TransportError)
        assert good.connections == 2 and pool.by_name("dead").health.consecutive_failures == 1
        transport = pool.by_name("good").client.transport
        assert isinstance(transport, HttpTransport) and transport.connects == 2
        result = await sender.send(TX)
        assert result.accepted == ("good",) and transport.connects == 2  # no handshake on the send
        await pool.close()
        only_dead = EndpointPool([EndpointConfig("d1", dead), EndpointConfig("d2", dead)])
        with pytest.raises(errors.AllEndpointsFailed):
            await RpcSender(only_dead).connect(timeout_s=1.0)
        await only_dead.close()


async def test_busy_connection_defers_the_write_and_wrong_signature_is_malformed() -> None:
    async with FakeEndpoint("ok") as good:
        pool = EndpointPool([EndpointConfig("good", good.url, connections=1)])
        sender = RpcSender(pool, fan_out=1)
        await sender.connect()
        a, b = sender.write_all(_tx(1)), sender.write_all(_tx(2))  # one connection: the second waits
        ra, rb = await a.wait(), await b.wait()
        assert ra.ok and rb.ok and not ra.outcomes[0].deferred and rb.outcomes[0].deferred
        assert sender.stats.deferred_writes == 1 and good.count("sendTransaction") == 2
        await pool.close()

    class WrongSig(FakeEndpoint):
        async def _answer(self, req: Any, body: bytes) -> bytes:
            return orjson.dumps({"jsonrpc": "2.0", "result": SIG, "id": req["id"]})

    async with WrongSig("ok") as liar:
        pool = EndpointPool([EndpointConfig("liar", liar.url)])
        with pytest.raises(errors.AllEndpointsFailed) as info:
            await RpcSender(pool).send(_tx(5))
        assert isinstance(info.value.errors["liar"], errors.MalformedResponse)
        await pool.close()
    with pytest.raises(errors.MalformedResponse):
        RpcSender(pool).write_all(b"\x00short")


async def test_a_cancelled_waiter_does_not_stop_collection_and_aclose_does() -> None:
    async with FakeEndpoint("hang") as hang:
        pool = EndpointPool([EndpointConfig("hang", hang.url, timeout_s=10.0)])
        sender = RpcSender(pool)
        pending = sender.write_all(TX)
        waiter = asyncio.create_task(pending.wait())
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert sender.in_flight == 1 and not pending.done()
        await sender.aclose()
        assert sender.in_flight == 0
        await pool.close()


def _server_tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(DATA / "tls-test-cert.pem", DATA / "tls-test-key.pem")
    return ctx


async def test_https_with_hostname_verification() -> None:
    # tls-test-*.pem: a self-signed certificate for localhost/127.0.0.1, for these loopback tests only.
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                body = await reader.readexactly(length)
                req_id = body.split(b'"id":')[1].split(b",")[0]
                msg = b'{"jsonrpc":"2.0","result":777,"id":%s}' % req_id
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(msg), msg))
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=_server_tls())
    port = server.sockets[0].getsockname()[1]
    trust = ssl.create_default_context(cafile=str(DATA / "tls-test-cert.pem"))
    transport = HttpTransport(f"https://localhost:{port}/", ssl_context=trust)
    async with RpcClient(f"https://localhost:{port}/", transport=transport) as client:
        assert await client.get_slot() == 777
        assert await client.get_slot() == 777
    assert transport.connects == 1
    # The system trust store does not know this certificate: a typed transport error.
    untrusted = HttpTransport(f"https://localhost:{port}/")
    with pytest.raises(errors.TransportError):
        await untrusted.request(b"{}", 2.0)
    await untrusted.close()
    server.close()
