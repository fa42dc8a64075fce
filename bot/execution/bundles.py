"""Writers the executor hands signed bytes to: Jito bundles, and bundles plus RPC at once.

The executor's writer contract (`Executor(sender=...)`) is `write_all(tx) -> pending` with
`await pending.wait()` giving a result that has `ok`, `errors` and `accepted` (`rpc.submit.SendResult`).
A bundle is one transaction whose tip is inside it (guarded: a reverted trade pays no tip), sent to
every configured block engine at once; it lands all-or-nothing, so a trade whose guard fails lands
nothing at all (no fee). Rebroadcasting the same bytes resends the same bundle (same id: it lands once).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from rpc.errors import AllEndpointsFailed, RpcError
from rpc.jito import JitoSender


@dataclass(frozen=True, slots=True)
class BundleResult:
    """What the block engines said about one bundle (the shape of `rpc.submit.SendResult`)."""

    signature: str
    accepted: tuple[str, ...]
    errors: dict[str, RpcError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.accepted)


class PendingBundle:
    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Task[BundleResult]) -> None:
        self._task = task

    async def wait(self) -> BundleResult:
        return await asyncio.shield(self._task)


class BundleWriter:
    """`write_all` for Jito: the bundle request starts in this event-loop pass (no await)."""

    def __init__(self, jito: JitoSender) -> None:
        self.jito = jito
        self._tasks: set[asyncio.Task[BundleResult]] = set()

    def write_all(self, tx_bytes: bytes) -> PendingBundle:
        task = asyncio.get_running_loop().create_task(self._send(tx_bytes), name="send-bundle")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return PendingBundle(task)

    async def _send(self, tx_bytes: bytes) -> BundleResult:
        try:
            sig = await self.jito.send(tx_bytes)
        except AllEndpointsFailed as err:
            return BundleResult("", (), dict(err.errors))
        except RpcError as err:
            return BundleResult("", (), {"block engine": err})
        return BundleResult(sig, tuple(c.url for c in self.jito.clients))

    async def aclose(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for c in self.jito.clients:
            await c.close()


class PendingBoth:
    __slots__ = ("_bundle", "_rpc")

    def __init__(self, rpc: Any, bundle: PendingBundle) -> None:
        self._rpc = rpc
        self._bundle = bundle

    async def wait(self) -> BundleResult:
        rpc, bundle = await asyncio.gather(self._rpc.wait(), self._bundle.wait())
        return BundleResult(bundle.signature or rpc.signature, (*rpc.accepted, *bundle.accepted),
                            {**rpc.errors, **bundle.errors})  # fmt: skip


class BothWriter:
    """The same bytes to the RPC send endpoints and as a bundle to the block engines."""

    def __init__(self, rpc: Any, bundles: BundleWriter) -> None:
        self.rpc = rpc
        self.bundles = bundles

    def write_all(self, tx_bytes: bytes) -> PendingBoth:
        return PendingBoth(self.rpc.write_all(tx_bytes), self.bundles.write_all(tx_bytes))
