"""Account subscriptions wired to the market state: snapshot, subscribe, follow, resnapshot.

Start-up: fetch every pool (getMultipleAccounts), learn their vaults/configs/tick arrays, fetch those,
subscribe to all of them on one persistent PubSub connection. After every (re)subscription the client
calls `snapshot`, which takes a getMultipleAccounts of everything watched, so an update missed while
disconnected is never lost (the latest-slot rule keeps whichever is newer).

The reader's callback (`on_account`) only decodes and writes the cache and marks the pool dirty for
the engine; Whirlpool tick-array changes (the set follows the current tick) are queued to a
maintenance task so the reader never waits on a subscription round trip.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from bot.market import ROLE_POOL, ROLE_TICK_ARRAY, Market
from rpc.client import RpcClient
from rpc.errors import RpcError
from rpc.pubsub import PubSubClient

MAX_ACCOUNTS_PER_CALL = 100  # getMultipleAccounts limit on public nodes


class MarketData:
    def __init__(
        self,
        market: Market,
        rpc: RpcClient,
        ws_url: str,
        *,
        commitment: str = "processed",
        on_pool: Callable[[int], None] = lambda idx: None,
        on_error: Callable[[str, dict[str, Any]], None] = lambda event, fields: None,
        on_slot: Callable[[int, int, int], None] | None = None,
        backoff_base_s: float = 0.05,
        backoff_cap_s: float = 5.0,
    ) -> None:
        self.market = market
        self.rpc = rpc
        self.commitment = commitment
        self.on_pool = on_pool
        self._report = on_error
        self.pubsub = PubSubClient(
            ws_url,
            on_account=self.on_account,
            on_error=lambda err: self._report("pubsub_error", {"error": str(err), "kind": type(err).__name__}),
            on_resubscribed=self.snapshot,
            on_slot=on_slot,
            backoff_base_s=backoff_base_s,
            backoff_cap_s=backoff_cap_s,
        )
        self._retarget: asyncio.Queue[int] = asyncio.Queue()
        self._subscribed: set[int] = set()
        self.snapshots = 0
        self.missing_accounts = 0

    # ---- hot path -------------------------------------------------------------------------------
    def on_account(self, key: int, slot: int, data: bytes, owner: str, lamports: int) -> None:
        idx = self.market.apply(key, slot, data, owner, time.monotonic_ns())
        if idx >= 0:
            self.on_pool(idx)
        w = self.market.watched[key] if 0 <= key < len(self.market.watched) else None
        if w is not None and w.role == ROLE_POOL and self.market.pools[w.pool].venue == "orca_whirlpool":
            self._retarget.put_nowait(w.pool)

    # ---- cold path --------------------------------------------------------------------------------
    async def fetch(self, keys: Sequence[int]) -> int:
        """getMultipleAccounts for `keys` (chunked) applied to the market; returns the context slot."""
        slot = 0
        watched = self.market.watched
        for i in range(0, len(keys), MAX_ACCOUNTS_PER_CALL):
            chunk = keys[i : i + MAX_ACCOUNTS_PER_CALL]
            res = await self.rpc.get_multiple_accounts(
                [watched[k].pubkey for k in chunk], commitment=self.commitment  # type: ignore[arg-type]
            )
            slot = max(slot, res.slot)
            now = time.monotonic_ns()
            for k, acc in zip(chunk, res.accounts, strict=True):
                if acc is None:
                    if watched[k].role == ROLE_TICK_ARRAY:
                        self.market.apply(k, res.slot, b"", "11111111111111111111111111111111", now)
                    else:
                        self.missing_accounts += 1
                        self._report("account_missing", {"account": watched[k].pubkey, "pool": watched[k].pool})
                    continue
                idx = self.market.apply(k, res.slot, acc.data, acc.owner, now)
                if idx >= 0:
                    self.on_pool(idx)
        return slot

    async def bootstrap(self) -> None:
        """Fetch pools, then what they depend on (vaults, configs, tick arrays)."""
        market = self.market
        await self.fetch([p.pool_key for p in market.pools])
        deps: list[int] = []
        for entry in market.pools:
            if entry.venue == "orca_whirlpool":
                market.retarget_tick_arrays(entry)
            deps.extend(market.dependencies(entry))
        await self.fetch(deps)

    async def subscribe_all(self) -> None:
        for key in self.market.watched_keys():
            await self._subscribe(key)

    async def _subscribe(self, key: int) -> None:
        if key in self._subscribed:
            return
        self._subscribed.add(key)
        await self.pubsub.account_subscribe(self.market.watched[key].pubkey, key, self.commitment)  # type: ignore[arg-type]

    async def snapshot(self) -> None:
        """After (re)subscribing: read the chain's truth for everything watched."""
        try:
            await self.fetch(sorted(self._subscribed))
            self.snapshots += 1
        except RpcError as err:
            # The next reconnect retries; meanwhile notifications keep the cache moving.
            self._report("snapshot_failed", {"error": str(err)})

    async def run_retargeting(self) -> None:
        """Maintenance task: keep each Whirlpool's tick-array subscriptions around its current tick."""
        while True:
            idx = await self._retarget.get()
            entry = self.market.pools[idx]
            add, drop = self.market.retarget_tick_arrays(entry)
            for key in drop:
                if key in self._subscribed:
                    self._subscribed.discard(key)
                    await self.pubsub.account_unsubscribe(key)
            if add:
                for key in add:
                    await self._subscribe(key)
                await self.fetch(add)
