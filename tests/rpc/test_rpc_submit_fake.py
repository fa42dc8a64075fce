"""RpcSender fan-out against loopback fake endpoints, for answers a real node does not give on
demand (429, 500, a hang), and HTTPS through the raw transport with a self-signed test certificate."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from rpc import errors
from rpc.client import RpcClient
from rpc.http import HttpTransport
from rpc.pool import EndpointConfig, EndpointPool
from rpc.submit import RpcSender, signature_of

DATA = Path(__file__).parent / "data"
# A syntactically valid signed transaction: 1 signature of 64 bytes, then a (fake) message.
TX = bytes([1]) + bytes(range(64)) + b"message"
SIG = signature_of(TX)


async def _endpoint(behaviour: str) -> tuple[asyncio.Server, str]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                body = await reader.readexactly(length)
                req_id = body.split(b'"id":')[1].split(b",")[0]
                if behaviour == "ok":
                    msg = b'{"jsonrpc":"2.0","result":"%s","id":%s}' % (SIG.encode(), req_id)
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(msg), msg))
                elif behaviour == "429":
                    writer.write(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n")
                elif behaviour == "500":
                    writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
                else:  # hang
                    await asyncio.sleep(30)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def _pool(*behaviours: str, timeout_s: float = 2.0) -> tuple[EndpointPool, list[asyncio.Server]]:
    servers, configs = [], []
    for i, b in enumerate(behaviours):
        server, url = await _endpoint(b)
        servers.append(server)
        configs.append(EndpointConfig(f"{b}-{i}", url, priority=i, timeout_s=timeout_s))
    return EndpointPool(configs), servers


async def test_first_success_wins_over_failing_endpoints() -> None:
    pool, servers = await _pool("429", "500", "ok")
    sender = RpcSender(pool, fan_out=3)
    assert await sender.send(TX) == SIG
    await sender.drain()
    assert sender.stats.succeeded == 1 and sender.in_flight == 0
    await pool.close()
    for s in servers:
        s.close()


async def test_all_failing_endpoints_give_one_typed_error_each() -> None:
    # 1 s: the hanging endpoint times out; the others must answer within it even on a loaded CI machine.
    pool, servers = await _pool("429", "500", "hang", timeout_s=1.0)
    sender = RpcSender(pool, fan_out=3)
    with pytest.raises(errors.AllEndpointsFailed) as info:
        await sender.send(TX)
    by_name = info.value.errors
    assert isinstance(by_name["429-0"], errors.RateLimited) and by_name["429-0"].retry_after_s == 1.0
    assert type(by_name["500-1"]) is errors.HttpStatusError and by_name["500-1"].status == 500
    assert isinstance(by_name["hang-2"], errors.Timeout)
    assert errors.is_retryable(info.value) and sender.stats.failed == 1
    await pool.close()
    for s in servers:
        s.close()


async def test_fan_out_limit_and_rate_limits_pick_the_targets() -> None:
    pool, servers = await _pool("500", "ok", "ok")
    # fan_out=1: only the top-ranked endpoint is tried, and it fails.
    with pytest.raises(errors.AllEndpointsFailed) as info:
        await RpcSender(pool, fan_out=1).send(TX)
    assert list(info.value.errors) == ["500-0"]
    limited = EndpointPool(
        [
            EndpointConfig("a", pool.by_name("500-0").config.http_url, rate_limit_rps=0.001, burst=1),
            EndpointConfig("b", pool.by_name("ok-1").config.http_url, priority=1),
        ]
    )
    sender = RpcSender(limited, fan_out=1)
    with pytest.raises(errors.AllEndpointsFailed):
        await sender.send(TX)  # "a" takes its only token and fails
    assert await sender.send(TX) == SIG  # "a" has no token left: skipped, "b" sends
    assert sender.stats.rate_limited_skips == 1
    await pool.close()
    await limited.close()
    for s in servers:
        s.close()


async def test_cancelling_a_send_cancels_its_requests() -> None:
    pool, servers = await _pool("hang", "hang", timeout_s=10.0)
    sender = RpcSender(pool, fan_out=2)
    task = asyncio.create_task(sender.send(TX))
    await asyncio.sleep(0.05)
    assert sender.in_flight == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert sender.in_flight == 0
    await pool.close()
    for s in servers:
        s.close()


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
