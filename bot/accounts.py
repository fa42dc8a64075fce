"""Account subscriptions wired to the cache writer: snapshot, subscribe, follow, resnapshot.

Start-up: fetch every pool (getMultipleAccounts), learn their vaults/configs/tick arrays, fetch those,
subscribe to all of them on one persistent PubSub connection (built by the runtime and passed in).
After every (re)subscription the client calls `snapshot`, which takes a getMultipleAccounts of
everything watched, so an update missed while disconnected is never lost (the latest-slot rule keeps
whichever is newer).

The reader's callback (`on_account`) only decodes and writes the cache and marks the pool dirty for
the engine; accounts that follow a pool's price (Whirlpool tick arrays) are retargeted by a
maintenance task so the reader never waits on a subscription round trip.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from bot.cache import SYSTEM_PROGRAM_B58, CacheWriter
from rpc.client import RpcMethods
from rpc.errors import RpcError
from rpc.pubsub import PubSubClient
from strategies.venues.base import ROLE_POOL, ROLE_TICK_ARRAY

MAX_ACCOUNTS_PER_CALL = 100  # getMultipleAccounts limit on public nodes


class AccountFeed:
    """Keeps the cache writer's watched accounts current (snapshots + subscriptions)."""

    def __init__(
        self,
        writer: CacheWriter,
        rpc: RpcMethods,
        *,
        commitment: str = "processed",
        on_pool: Callable[[int], None] = lambda idx: None,
        on_error: Callable[[str, dict[str, Any]], None] = lambda event, fields: None,
    ) -> None:
        self.writer = writer
        self.rpc = rpc
        self.commitment = commitment
        self.on_pool = on_pool
        self._report = on_error
        self._retarget: asyncio.Queue[int] = asyncio.Queue()
        self._subscribed: set[int] = set()
        # Pools whose watched accounts follow their price (tick arrays): retargeted after each update.
        self._follows: set[int] = set()
        self.snapshots = 0
        self.missing_accounts = 0

    # ---- hot path -------------------------------------------------------------------------------
    def on_account(self, key: int, slot: int, data: bytes, owner: str, lamports: int) -> None:
        """PubSub reader callback (`PubSubClient(on_account=...)`)."""
        writer = self.writer
        idx = writer.apply(key, slot, data, owner, time.monotonic_ns())
        if idx >= 0:
            self.on_pool(idx)
        if 0 <= key < len(writer.watched):
            w = writer.watched[key]
            if w.role == ROLE_POOL and w.pool in self._follows:
                self._retarget.put_nowait(w.pool)

    # ---- cold path --------------------------------------------------------------------------------
    async def fetch(self, keys: Sequence[int]) -> int:
        """getMultipleAccounts for `keys` (chunked) applied to the cache; returns the context slot."""
        slot = 0
        writer = self.writer
        watched = writer.watched
        for i in range(0, len(keys), MAX_ACCOUNTS_PER_CALL):
            chunk = keys[i : i + MAX_ACCOUNTS_PER_CALL]
            res = await self.rpc.get_multiple_accounts(
                [watched[k].pubkey for k in chunk],
                commitment=self.commitment,  # type: ignore[arg-type]
            )
            slot = max(slot, res.slot)
            now = time.monotonic_ns()
            for k, acc in zip(chunk, res.accounts, strict=True):
                if acc is None:
                    if watched[k].role == ROLE_TICK_ARRAY:
                        writer.apply(k, res.slot, b"", SYSTEM_PROGRAM_B58, now)
                    else:
                        self.missing_accounts += 1
                        self._report(
                            "account_missing", {"account": watched[k].pubkey, "pool": watched[k].pool}
                        )
                    continue
                idx = writer.apply(k, res.slot, acc.data, acc.owner, now)
                if idx >= 0:
                    self.on_pool(idx)
        return slot

    async def bootstrap(self) -> None:
        """Fetch pools, then what they depend on (vaults, configs, tick arrays)."""
        await self.fetch_pools()
        await self.fetch_dependencies()

    async def fetch_pools(self) -> None:
        await self.fetch([p.pool_key for p in self.writer.pools])

    async def fetch_dependencies(self) -> None:
        writer = self.writer
        deps: list[int] = []
        for entry in writer.pools:
            if writer.follows_price(entry):
                self._follows.add(entry.idx)
                writer.retarget_tick_arrays(entry)
            deps.extend(writer.dependencies(entry))
        await self.fetch(deps)

    async def subscribe_all(self, pubsub: PubSubClient) -> None:
        for key in self.writer.watched_keys():
            await self._subscribe(pubsub, key)

    async def _subscribe(self, pubsub: PubSubClient, key: int) -> None:
        if key in self._subscribed:
            return
        self._subscribed.add(key)
        await pubsub.account_subscribe(self.writer.watched[key].pubkey, key, self.commitment)  # type: ignore[arg-type]

    async def snapshot(self) -> None:
        """After (re)subscribing (`PubSubClient(on_resubscribed=...)`): read the chain's truth for
        everything watched."""
        try:
            await self.fetch(sorted(self._subscribed))
            self.snapshots += 1
        except RpcError as err:
            # The next reconnect retries; meanwhile notifications keep the cache moving.
            self._report("snapshot_failed", {"error": str(err)})

    async def run_retargeting(self, pubsub: PubSubClient) -> None:
        """Maintenance task: keep price-following subscriptions (tick arrays) around the current price."""
        while True:
            idx = await self._retarget.get()
            entry = self.writer.pools[idx]
            add, drop = self.writer.retarget_tick_arrays(entry)
            for key in drop:
                if key in self._subscribed:
                    self._subscribed.discard(key)
                    await pubsub.account_unsubscribe(key)
            if add:
                for key in add:
                    await self._subscribe(pubsub, key)
                await self.fetch(add)
