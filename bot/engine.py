"""The engine: dirty pools in, confirmed opportunities out.

Producers (account updates, slot releases, finished trades, CEX price ticks) only mark a pool or a
token dirty in `Dirty` (O(1), no allocation after warm-up); the first mark schedules one drain on the
event loop (`call_soon`: it runs as soon as the reader's callback returns, without waking a task
through an `asyncio.Event`, which cost about 16 µs here, p99 45-95 µs). The drain runs the jitted
detector once per dirty pool (conflated: N updates of one pool between drains cost one evaluation),
confirms the best candidate with the exact integer quotes, and hands cycles to execution. CEX-DEX candidates (a
pool's price against the CEX mid, net of every cost) are reported as signals: there is no inventory
path to trade them yet.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from strategies import confirm, detector, layout
from strategies import routes as R
from strategies.opportunity import Opportunity


class Dirty:
    """What changed since the engine last looked: pools and CEX-priced tokens, conflated."""

    def __init__(self, n_pools: int) -> None:
        self._pools = np.zeros(n_pools, dtype=np.bool_)
        self.pool_queue: collections.deque[int] = collections.deque()
        self._tokens: set[int] = set()
        self.token_queue: collections.deque[int] = collections.deque()
        self._wake: Callable[[], None] = _nothing  # the running engine's scheduler (`Engine.run`)

    def set_waker(self, wake: Callable[[], None] | None) -> None:
        """Called on every new mark (the engine schedules its drain); None: marks only queue."""
        self._wake = wake or _nothing

    def mark_pool(self, idx: int) -> None:
        """The pool's cache row changed (or its trade ended): its routes need a look."""
        if not self._pools[idx]:
            self._pools[idx] = True
            self.pool_queue.append(idx)
            self._wake()

    def mark_token(self, token: int) -> None:
        """The token's CEX price moved: its CEX-DEX routes need a look."""
        if token not in self._tokens:
            self._tokens.add(token)
            self.token_queue.append(token)
            self._wake()

    def mark_all(self) -> None:
        """Every pool once (start-up, a parameter such as the SOL price moved)."""
        for idx in range(len(self._pools)):
            self.mark_pool(idx)

    def take_pool(self) -> int:
        idx = self.pool_queue.popleft()
        self._pools[idx] = False
        return idx

    def take_token(self) -> int:
        token = self.token_queue.popleft()
        self._tokens.discard(token)
        return token


@dataclass(slots=True)
class EngineStats:
    evaluations: int = 0
    candidates: int = 0
    confirmed: int = 0
    signals: int = 0  # CEX-DEX opportunities reported, not traded


class Engine:
    def __init__(
        self,
        cache: layout.Cache,
        table: R.RouteTable,
        dirty: Dirty,
        *,
        slippage_bps: int,
        on_opportunity: Callable[[Opportunity], object],
        on_signal: Callable[[Opportunity], object] = lambda opp: None,
        clmm_quote: confirm.ClmmQuote | None = None,
    ) -> None:
        self.cache = cache
        self.table = table
        self.dirty = dirty
        self.slippage_bps = slippage_bps
        self.on_opportunity = on_opportunity
        self.on_signal = on_signal
        # Exact quotes of the legs whose cache row is only the screening state (CLMM): the cache writer's
        # decoded pool and tick arrays (`CacheWriter.quote`).
        self.clmm_quote = clmm_quote
        self.stats = EngineStats()
        self._detect = detector.direct_detect()

    def _confirm(self, route: int, trigger_pool: int) -> Opportunity | None:
        """Confirm the kernel's candidate: its route, amount and estimate, read at once from the output
        slots the kernel call just wrote (the trigger pool carries the state's slot and receive time)."""
        self.stats.candidates += 1
        cache = self.cache
        market = cache.market
        opp = confirm.confirm(
            cache, self.table, route, float(market[layout.O_AMOUNT_IN]),
            slot=int(cache.pools_i[trigger_pool, layout.I_SLOT]),
            recv_ns=int(cache.pools_i[trigger_pool, layout.I_RECV_NS]),
            slippage_bps=self.slippage_bps, estimated_net_profit=float(market[layout.O_NET_PROFIT]),
            clmm_quote=self.clmm_quote,
        )  # fmt: skip
        if opp is not None:
            self.stats.confirmed += 1
        return opp

    def evaluate(self, idx: int) -> Opportunity | None:
        """Screen the routes touching pool `idx`; confirm and return the best, if any clears."""
        self.stats.evaluations += 1
        route = self._detect(self.cache.state, self.table.graph, idx)
        return None if route < 0 else self._confirm(route, idx)

    def evaluate_token(self, token: int) -> Opportunity | None:
        """Screen the CEX-DEX routes of a token whose CEX price moved."""
        self.stats.evaluations += 1
        route = detector.detect_token(self.cache.state, self.table.graph, token)
        return None if route < 0 else self._confirm(route, self.table.routes[route].legs[0].pool)

    def _hand_over(self, opp: Opportunity | None) -> None:
        if opp is None:
            return
        if opp.route_type == R.ROUTE_CEX:
            self.stats.signals += 1
            self.on_signal(opp)
        else:
            self.on_opportunity(opp)

    def drain(self) -> None:
        """Evaluate everything marked so far (pools, then CEX-priced tokens) and hand the results over."""
        dirty = self.dirty
        while dirty.pool_queue:
            self._hand_over(self.evaluate(dirty.take_pool()))
        while dirty.token_queue:
            self._hand_over(self.evaluate_token(dirty.take_token()))

    async def run(self) -> None:
        """Drain whenever something is marked, until cancelled. An error in a drain ends `run` with it
        (the runtime's TaskGroup sees it), as a failure inside a task would."""
        loop = asyncio.get_running_loop()
        failed: asyncio.Future[None] = loop.create_future()
        scheduled = False

        def drain() -> None:
            nonlocal scheduled
            scheduled = False
            try:
                self.drain()
            except BaseException as err:
                if not failed.done():
                    failed.set_exception(err)

        def wake() -> None:
            nonlocal scheduled
            if not scheduled:  # one drain per batch of marks: the socket readers run between drains
                scheduled = True
                loop.call_soon(drain)

        self.dirty.set_waker(wake)
        wake()  # whatever was marked before the engine started
        try:
            await failed
        finally:
            self.dirty.set_waker(None)


def _nothing() -> Any:
    return None
