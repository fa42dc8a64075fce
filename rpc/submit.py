"""Submission: `RpcSender` writes the same signed bytes to the top-k healthy send endpoints of an
`EndpointPool` in one event-loop pass, then collects every reply and feeds it back to the pool.

Why this shape: a signed transaction is deduplicated by its signature, so fanning the same bytes out to
several endpoints only costs their bandwidth and wins whichever path reaches the leader first. Writing
all of them before awaiting anything puts only a socket write between the first endpoint and the
last; the replies (only "the node took it") are cold-path accounting. The body comes from a
prepared `rpc.requests.SendTemplate` (skipPreflight, maxRetries 0: we rebroadcast ourselves rather
than let a node's retry queue decide), so per transaction only its base64 is inserted.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Protocol

from solders.signature import Signature

from rpc.errors import AllEndpointsFailed, EndpointUnavailable, MalformedResponse, RpcError
from rpc.http import Exchange, HttpTransport
from rpc.pool import Endpoint, EndpointPool, Role
from rpc.requests import SendTemplate


class Sender(Protocol):
    """Anything that can submit a signed transaction."""

    async def send(self, tx_bytes: bytes) -> SendResult:
        """Submit signed wire bytes; a `SendResult` if any endpoint took them, else a typed `RpcError`."""
        ...


def signature_of(tx_bytes: bytes) -> str:
    """The base58 first signature of a signed wire transaction (what sendTransaction returns)."""
    # Wire format: compact-u16 signature count, then 64-byte signatures; a count < 128 is one byte.
    if len(tx_bytes) < 65 or not 0 < tx_bytes[0] < 0x80:
        raise MalformedResponse(f"not a signed wire transaction ({len(tx_bytes)} bytes)")
    return str(Signature.from_bytes(tx_bytes[1:65]))


@dataclass(frozen=True, slots=True)
class EndpointOutcome:
    """What one endpoint did with a send: took it (``error`` None) or failed with a typed error."""

    name: str
    endpoint: str  # redacted URL
    error: RpcError | None
    latency_s: float  # from the write to the reply or the failure
    deferred: bool  # no idle connection at write time: written once one was free or opened

    @property
    def accepted(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class SendResult:
    """Every endpoint's outcome for one signed transaction, in the order they were written."""

    signature: str
    outcomes: tuple[EndpointOutcome, ...]
    written_ns: int  # time.monotonic_ns() once the bytes were handed to every socket

    @property
    def accepted(self) -> tuple[str, ...]:
        """Names of the endpoints that took the transaction."""
        return tuple(o.name for o in self.outcomes if o.error is None)

    @property
    def ok(self) -> bool:
        return any(o.error is None for o in self.outcomes)

    @property
    def errors(self) -> dict[str, RpcError]:
        return {o.name: o.error for o in self.outcomes if o.error is not None}


@dataclass(slots=True)
class SendStats:
    """Counters, read by monitoring; never reset by the sender."""

    sends: int = 0
    accepted: int = 0  # sends that at least one endpoint took
    failed: int = 0  # sends that no endpoint took
    no_endpoint: int = 0  # sends with nothing to write to (all backed off / rate limited)
    endpoint_errors: int = 0
    deferred_writes: int = 0
    rate_limited_skips: int = 0


class PendingSend:
    """A transaction written by `RpcSender.write_all`; ``await pending.wait()`` gives its `SendResult`.

    Collecting the replies belongs to the sender (cancelling a waiter does not stop it, so every reply
    still reaches the pool's health); `RpcSender.aclose` cancels what is left.
    """

    __slots__ = ("_first", "_signature", "_task", "_tx", "targets", "written_ns")

    def __init__(
        self,
        tx: bytes,
        targets: int,
        written_ns: int,
        task: asyncio.Task[SendResult],
        first: asyncio.Future[EndpointOutcome],
    ) -> None:
        self._tx = tx
        self._signature: str | None = None
        self.targets = targets
        self.written_ns = written_ns
        self._task = task
        self._first = first

    @property
    def signature(self) -> str:
        """The transaction's base58 signature (computed on first use: base58 is not free)."""
        if self._signature is None:
            self._signature = signature_of(self._tx)
        return self._signature

    def done(self) -> bool:
        return self._task.done()

    async def wait(self) -> SendResult:
        """Every endpoint's outcome (each bounded by its timeout)."""
        return await asyncio.shield(self._task)

    async def first_accepted(self) -> EndpointOutcome:
        """The first endpoint that took the transaction, as soon as it answered; `AllEndpointsFailed`
        once every endpoint failed (the other replies are still collected)."""
        return await asyncio.shield(self._first)


class RpcSender:
    """sendTransaction of the same signed bytes to the top ``fan_out`` candidates of ``role``
    (`EndpointPool.candidates`: healthy first, never a backed-off one; an endpoint whose local rate
    limit is spent is skipped for the next).

    ``await connect()`` at start-up opens every send endpoint's connections, so the first trade pays no
    handshake. On the hot path `write_all` writes synchronously; `send` is `write_all` + `wait`.
    ``timeout_s`` overrides each endpoint's own timeout for the reply.
    """

    def __init__(
        self,
        pool: EndpointPool,
        *,
        fan_out: int = 3,
        role: Role = Role.SEND,
        timeout_s: float | None = None,
        template: SendTemplate | None = None,
    ) -> None:
        if fan_out < 1:
            raise ValueError(f"fan_out must be >= 1, got {fan_out}")
        self.pool = pool
        self.fan_out = fan_out
        self.role = role
        self.timeout_s = timeout_s
        self.template = template or SendTemplate(skip_preflight=True, max_retries=0)
        self.stats = SendStats()
        self._ids = itertools.count(1)
        self._collecting: set[asyncio.Task[SendResult]] = set()
        # Endpoints whose transport can write synchronously (the raw HTTP one; tests may inject others).
        self._raw: dict[str, HttpTransport] = {
            ep.name: t for ep in pool.endpoints if isinstance(t := ep.client.transport, HttpTransport)
        }

    async def connect(self, *, timeout_s: float = 5.0) -> dict[str, RpcError]:
        """Open the connections of every ``role`` endpoint now. Failures are fed to the pool's health
        and returned by endpoint name (for a start-up log line); `AllEndpointsFailed` if none connected."""
        eps = self.pool.ranked(self.role)
        results = await asyncio.gather(
            *(self._connect_one(ep, timeout_s) for ep in eps), return_exceptions=True
        )
        failed: dict[str, RpcError] = {}
        for ep, res in zip(eps, results, strict=True):
            if isinstance(res, RpcError):
                self.pool.record_failure(ep, res)
                failed[ep.name] = res
            elif isinstance(res, BaseException):
                raise res
        if eps and len(failed) == len(eps):
            raise AllEndpointsFailed(failed) from next(iter(failed.values()))
        return failed

    async def _connect_one(self, ep: Endpoint, timeout_s: float) -> None:
        transport = self._raw.get(ep.name)
        if transport is not None:
            await transport.connect(timeout_s=timeout_s)

    def write_all(self, tx_bytes: bytes) -> PendingSend:
        """Hand the signed bytes to the chosen endpoints' sockets now (no await) and start collecting
        the replies. An endpoint without an idle connection is written as soon as one is free."""
        if len(tx_bytes) < 65 or not 0 < tx_bytes[0] < 0x80:
            signature_of(tx_bytes)  # raises the typed error
        stats = self.stats
        stats.sends += 1
        req_id = next(self._ids)
        body = self.template.body(tx_bytes, req_id)
        targets: list[Endpoint] = []
        for ep in self.pool.candidates(self.role):
            if ep.try_acquire():
                targets.append(ep)
                if len(targets) == self.fan_out:
                    break
            else:
                stats.rate_limited_skips += 1
        writes: list[tuple[Endpoint, Exchange | None, float]] = []
        raw = self._raw
        timeout = self.timeout_s
        for ep in targets:
            t = raw.get(ep.name)
            ex = None if t is None else t.write_now(body, timeout or ep.config.timeout_s)
            writes.append((ep, ex, time.perf_counter()))
        written_ns = time.monotonic_ns()
        loop = asyncio.get_running_loop()
        first: asyncio.Future[EndpointOutcome] = loop.create_future()
        task = loop.create_task(
            self._collect(tx_bytes, req_id, body, writes, written_ns, first), name="send-replies"
        )
        self._collecting.add(task)
        task.add_done_callback(self._collecting.discard)
        return PendingSend(tx_bytes, len(targets), written_ns, task, first)

    async def send(self, tx_bytes: bytes) -> SendResult:
        """`write_all` and wait for every reply. `AllEndpointsFailed` (one error per endpoint) when no
        endpoint took the transaction, or when there was none to write to."""
        result = await self.write_all(tx_bytes).wait()
        if result.ok:
            return result
        raise self._failure(result)

    def _failure(self, result: SendResult) -> AllEndpointsFailed:
        """No endpoint took it: each one's error, or why each was not asked."""
        errors = result.errors
        if not errors:
            for ep in self.pool.ranked(self.role):
                errors[ep.name] = EndpointUnavailable(ep.endpoint, self.pool.why(ep))
        failure = AllEndpointsFailed(errors)
        failure.__cause__ = next(iter(errors.values()), None)
        return failure

    async def _collect(
        self,
        tx: bytes,
        req_id: int,
        body: bytes,
        writes: list[tuple[Endpoint, Exchange | None, float]],
        written_ns: int,
        first: asyncio.Future[EndpointOutcome],
    ) -> SendResult:
        sig = signature_of(tx)
        try:
            outcomes = await asyncio.gather(*(self._reply(sig, req_id, body, first, *w) for w in writes))
        except BaseException:
            first.cancel()  # cancelled (aclose) before any endpoint answered; no-op once done
            raise
        result = SendResult(sig, tuple(outcomes), written_ns)
        if not first.done():
            first.set_exception(self._failure(result))
            first.exception()  # retrieved: nobody may be waiting for it
        stats = self.stats
        if not writes:
            stats.no_endpoint += 1
        if result.ok:
            stats.accepted += 1
        else:
            stats.failed += 1
        return result

    async def _reply(
        self,
        sig: str,
        req_id: int,
        body: bytes,
        first: asyncio.Future[EndpointOutcome],
        ep: Endpoint,
        ex: Exchange | None,
        t0: float,
    ) -> EndpointOutcome:
        timeout = self.timeout_s or ep.config.timeout_s
        transport = ep.client.transport
        error: RpcError | None = None
        try:
            if ex is not None:
                assert isinstance(transport, HttpTransport)
                reply = await transport.response(ex)
            else:
                self.stats.deferred_writes += 1
                reply = await transport.request(body, timeout)
            got = self.template.parse(reply, req_id)
            if got != sig:
                error = MalformedResponse(
                    f"{ep.endpoint}: sendTransaction returned signature {got}, not {sig}"
                )
        except RpcError as err:
            error = err
        outcome = EndpointOutcome(ep.name, ep.endpoint, error, time.perf_counter() - t0, ex is None)
        if error is None:
            self.pool.record_success(ep)
            if not first.done():
                first.set_result(outcome)
        else:
            self.stats.endpoint_errors += 1
            self.pool.record_failure(ep, error)
        return outcome

    @property
    def in_flight(self) -> int:
        """Sends whose replies are still being collected."""
        return len(self._collecting)

    async def drain(self) -> None:
        """Wait (without cancelling) until every send's replies are collected."""
        while self._collecting:
            await asyncio.gather(*list(self._collecting), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel and collect what is still in flight (the pool closes the connections)."""
        left = list(self._collecting)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
