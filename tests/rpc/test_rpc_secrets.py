"""An RPC URL's API key never shows in any error, message or status the ``rpc`` package produces.

The key sits in each position providers use (path, query, user-info), also as a value substituted from
``${ENV}`` the way the config loader does; every failure path is driven on loopback (connection
refused, 429, 500, garbage, no answer, a dropped connection, PubSub connect failures) through every
public entry point (RpcClient, PoolClient, RpcSender, probing, snapshot, PubSubClient). Each error is
checked in str and repr, with its whole __cause__ / __context__ chain and the errors it carries.
"""

from __future__ import annotations

import asyncio
import os
import string
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from rpc_fakes import FakeEndpoint

from rpc import errors
from rpc.client import RpcClient
from rpc.http import HttpTransport
from rpc.pool import EndpointConfig, EndpointPool, PoolClient
from rpc.pubsub import PubSubClient
from rpc.submit import RpcSender, signature_of

KEY = "sk-live-9f8e7d6c5b4a3f2e1d0c"
ENV_KEY = "Zm9vYmFy-cXV4_aGVsbG8gd29ybGQ"  # what ${SOLARB_TEST_RPC_KEY} expands to
ENV_NAME = "SOLARB_TEST_RPC_KEY"
SECRETS = (KEY, ENV_KEY)
TX = bytes([1]) + bytes(range(64)) + b"message"

# Where a provider puts the key; {port} and the key are filled in per test.
POSITIONS = {
    "path": "http://127.0.0.1:{port}/v2/{key}",
    "query": "http://127.0.0.1:{port}/?api-key={key}&cluster=mainnet",
    "userinfo": "http://solarb:{key}@127.0.0.1:{port}/",
    "all": "http://u:{key}@127.0.0.1:{port}/{key}/rpc?token={key}",
}


def _url(position: str, port: int, key: str, scheme: str = "http") -> str:
    if key == ENV_KEY:  # substituted like the config loader does with ${ENV_VAR}
        os.environ[ENV_NAME] = ENV_KEY
        template = POSITIONS[position].replace("{key}", "${" + ENV_NAME + "}")
        url = string.Template(template.replace("{port}", str(port))).substitute(os.environ)
    else:
        url = POSITIONS[position].format(port=port, key=key)
    return url.replace("http://", f"{scheme}://", 1)


def _chain(err: BaseException, seen: set[int] | None = None) -> Iterator[BaseException]:
    seen = set() if seen is None else seen
    if id(err) in seen:
        return
    seen.add(id(err))
    yield err
    nested: list[BaseException | None] = [err.__cause__, err.__context__]
    if isinstance(err, errors.AllEndpointsFailed):
        nested += list(err.errors.values())
    nested.append(getattr(err, "cause", None))
    for sub in nested:
        if isinstance(sub, BaseException):
            yield from _chain(sub, seen)


def assert_clean(*things: Any) -> int:
    """No secret in the str/repr of anything given (errors: with their chains and tracebacks)."""
    checked = 0
    for thing in things:
        texts = [str(thing), repr(thing)]
        if isinstance(thing, BaseException):
            texts.append("".join(traceback.format_exception(thing)))
            for e in _chain(thing):
                texts += [str(e), repr(e), *(repr(a) for a in e.args)]
                checked += 1
        for text in texts:
            for secret in SECRETS:
                assert secret not in text, f"secret leaked in {type(thing).__name__}: {text}"
    return checked


# Each position with the literal key, and all positions at once with the ${ENV}-substituted one.
CASES = pytest.mark.parametrize(
    ("position", "key"),
    [("path", KEY), ("query", KEY), ("userinfo", KEY), ("all", ENV_KEY)],
    ids=["path", "query", "userinfo", "all-env"],
)
T = 0.1  # timeout for the endpoint that never answers


async def _raises(coro: Any) -> BaseException:
    try:
        await coro
    except errors.RpcError as err:
        return err
    raise AssertionError("expected an RpcError")


@CASES
async def test_no_failure_path_shows_the_key(position: str, key: str) -> None:
    fakes = {
        m: await FakeEndpoint(m, retry_after=b"30").start()
        for m in ("429", "500", "garbage", "hang", "close")
    }
    dead = FakeEndpoint("ok")
    await dead.start()
    dead_port = dead.port
    await dead.stop()  # nobody listens there now: connection refused
    urls = {m: _url(position, f.port, key) for m, f in fakes.items()} | {
        "refused": _url(position, dead_port, key)
    }
    found: list[Any] = []
    try:
        # One client per failure, straight.
        for url in urls.values():
            client = RpcClient(url, timeout_s=T)
            found.append(await _raises(client.get_slot()))
            found.append(await _raises(client.send_transaction(TX)))
            await client.close()
            transport = HttpTransport(url)
            try:
                await transport.request(b"{}", T)  # garbage is a fine HTTP answer: it raises no error here
            except errors.RpcError as err:
                found.append(err)
            await transport.close()
        # Through the pool: reads, probes, sends, start-up connects, the snapshot and switch reasons.
        configs = [EndpointConfig(m, u, priority=i, timeout_s=T) for i, (m, u) in enumerate(urls.items())]
        pool = EndpointPool(configs)
        reasons: list[str] = []
        reader = PoolClient(pool, on_switch=lambda old, new, why: reasons.append(why))
        found.append(await _raises(reader.get_health()))
        found.append(await _raises(reader.get_slot()))
        await pool.probe(timeout_s=T)
        sender = RpcSender(pool, fan_out=len(urls))
        try:
            await sender.connect(timeout_s=T)
        except errors.RpcError as err:
            found.append(err)
        pool2 = EndpointPool([EndpointConfig(m, u, timeout_s=T) for m, u in urls.items()])
        result = await RpcSender(pool2, fan_out=len(urls)).write_all(TX).wait()
        found += [o.error for o in result.outcomes if o.error is not None]
        found.append(result)
        found.append(await _raises(RpcSender(pool2, fan_out=len(urls)).send(TX)))
        found += [pool.snapshot(), pool2.snapshot(), reasons, configs]
        found += [h.last_error for ep in pool.endpoints if (h := ep.health).last_error is not None]
        await pool.close()
        await pool2.close()
        # Bad URLs are refused with the URL redacted.
        with pytest.raises(ValueError) as bad:
            HttpTransport(_url(position, 1, key, scheme="ftp"))
        found.append(bad.value)
        assert signature_of(TX)  # (the transaction itself is fine)
    finally:
        for f in fakes.values():
            await f.stop()
    kinds = {type(e).__name__ for e in found if isinstance(e, BaseException)}
    assert {"TransportError", "Timeout", "RateLimited", "HttpStatusError", "MalformedResponse"} <= kinds, (
        kinds
    )
    assert {"AllEndpointsFailed", "ValueError"} <= kinds
    assert assert_clean(*found) > 40


async def _forbidding_server() -> tuple[asyncio.Server, int]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@CASES
async def test_pubsub_connect_failures_do_not_show_the_key(position: str, key: str) -> None:
    server, port = await _forbidding_server()
    dead = FakeEndpoint("ok")
    await dead.start()
    dead_port = dead.port
    await dead.stop()
    urls = [
        _url(position, dead_port, key, scheme="ws"),  # refused
        _url(position, port, key, scheme="ws"),  # handshake answered 403
        _url(position, dead_port, key, scheme="http"),  # not a ws:// URL at all (InvalidURI quotes it)
    ]
    found: list[Any] = []
    try:
        for url in urls:
            errs: list[errors.RpcError] = []
            client = PubSubClient(
                url, on_account=lambda *a: None, on_error=errs.append, backoff_base_s=0.01, backoff_cap_s=0.02
            )
            task = asyncio.create_task(client.run())
            found.append(await _raises(client.wait_ready(0.2)))
            await client.close()
            await asyncio.wait_for(task, 5)
            assert errs, url
            found += errs
    finally:
        server.close()
    assert {type(e).__name__ for e in found} >= {"TransportError", "Timeout"}
    assert assert_clean(*found) >= 6
