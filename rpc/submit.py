"""Submission: the small `Sender` interface and `RpcSender`, a sendTransaction fan-out.

The bot hands signed wire bytes to a `Sender` and gets the signature back; production senders
(several raw RPC endpoints, Jito bundles) implement the same one-method Protocol later.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Protocol

from solders.signature import Signature

from rpc.errors import AllEndpointsFailed, MalformedResponse, RpcError, TransportError
from rpc.pool import Endpoint, EndpointPool, Role
from rpc.requests import send_transaction


class Sender(Protocol):
    """Anything that can submit a signed transaction."""

    async def send(self, tx_bytes: bytes) -> str:
        """Submit signed wire bytes; return the base58 signature or raise a typed `RpcError`."""
        ...


def signature_of(tx_bytes: bytes) -> str:
    """The base58 first signature of a signed wire transaction (what sendTransaction returns)."""
    # Wire format: compact-u16 signature count, then 64-byte signatures; a count < 128 is one byte.
    if len(tx_bytes) < 65 or not 0 < tx_bytes[0] < 0x80:
        raise MalformedResponse(f"not a signed wire transaction ({len(tx_bytes)} bytes)")
    return str(Signature.from_bytes(tx_bytes[1:65]))


@dataclass(slots=True)
class SendStats:
    sends: int = 0
    succeeded: int = 0
    failed: int = 0
    rate_limited_skips: int = 0
    straggler_errors: int = 0


class RpcSender:
    """sendTransaction (base64, skipPreflight) to the top ``fan_out`` endpoints of ``role``
    concurrently; the first success wins. Endpoints whose rate limit is exhausted are skipped.

    Requests still in flight after the winner are left to finish (cancelling them would drop their
    keep-alive connections); they are owned here, their failures counted, `drain` waits for them and
    `aclose` cancels them. Cancelling `send` itself cancels every request of that send.
    """

    def __init__(
        self,
        pool: EndpointPool,
        *,
        fan_out: int = 2,
        role: Role = Role.SEND,
        max_retries: int | None = 0,
        timeout_s: float | None = None,
    ) -> None:
        if fan_out < 1:
            raise ValueError(f"fan_out must be >= 1, got {fan_out}")
        self.pool = pool
        self.fan_out = fan_out
        self.role = role
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.stats = SendStats()
        self._stragglers: set[asyncio.Task[str]] = set()

    def _targets(self) -> list[Endpoint]:
        chosen: list[Endpoint] = []
        for ep in self.pool.for_role(self.role):
            if len(chosen) == self.fan_out:
                break
            if ep.try_acquire():
                chosen.append(ep)
            else:
                self.stats.rate_limited_skips += 1
        return chosen

    async def send(self, tx_bytes: bytes) -> str:
        """Send to the chosen endpoints; the first signature returned, else `AllEndpointsFailed`."""
        self.stats.sends += 1
        targets = self._targets()
        if not targets:
            self.stats.failed += 1
            raise AllEndpointsFailed({})
        # Encoded once (base64 of the bytes) and shared by every endpoint.
        call = send_transaction(tx_bytes, skip_preflight=True, max_retries=self.max_retries)
        if len(targets) == 1:
            ep = targets[0]
            try:
                sig = await ep.client.call(call, timeout_s=self.timeout_s)
            except RpcError as err:
                self.stats.failed += 1
                raise AllEndpointsFailed({ep.name: err}) from err
            self.stats.succeeded += 1
            return sig
        # Done-callbacks and one shared future: asyncio.wait would cost ~20 µs more per send here.
        loop = asyncio.get_running_loop()
        first: asyncio.Future[str] = loop.create_future()
        errors: dict[str, RpcError] = {}
        left = len(targets)

        def on_done(task: asyncio.Task[str], name: str) -> None:
            nonlocal left
            left -= 1
            self._stragglers.discard(task)
            if task.cancelled():
                exc: BaseException | None = TransportError(name, "send cancelled")
            else:
                exc = task.exception()
            if exc is None:
                if not first.done():
                    first.set_result(task.result())
                return
            if first.done():
                self.stats.straggler_errors += 1
                return
            if not isinstance(exc, RpcError):
                first.set_exception(exc)  # a bug, not an endpoint failure: surface it as is
                return
            errors[name] = exc
            if left == 0:
                failure = AllEndpointsFailed(errors)
                failure.__cause__ = next(iter(errors.values()))
                first.set_exception(failure)

        tasks = []
        for ep in targets:
            task = loop.create_task(ep.client.call(call, timeout_s=self.timeout_s))
            task.add_done_callback(functools.partial(on_done, name=ep.name))
            self._stragglers.add(task)
            tasks.append(task)
        try:
            sig = await first
        except AllEndpointsFailed:
            self.stats.failed += 1
            raise
        except asyncio.CancelledError:
            for task in tasks:  # this send's requests only, not earlier sends' stragglers
                task.cancel()
            raise
        self.stats.succeeded += 1
        return sig

    async def drain(self) -> None:
        """Wait (without cancelling) until requests still in flight after earlier wins finish."""
        while self._stragglers:
            await asyncio.gather(*list(self._stragglers), return_exceptions=True)

    @property
    def in_flight(self) -> int:
        """Requests still in flight after an earlier send already won."""
        return len(self._stragglers)

    async def aclose(self) -> None:
        """Cancel and collect requests still in flight."""
        stragglers = list(self._stragglers)
        for task in stragglers:
            task.cancel()
        await asyncio.gather(*stragglers, return_exceptions=True)
