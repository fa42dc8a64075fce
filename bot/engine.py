"""The engine: dirty pools in, confirmed opportunities out.

The market-data callback only marks a pool dirty (O(1), no allocation after warm-up); this task runs
the jitted detector once per dirty pool (conflated: N updates of one pool between runs cost one
evaluation), confirms the best candidate with the exact integer quotes, and hands it to execution.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from strategies import confirm, detector, layout
from strategies import routes as R
from strategies.opportunity import Opportunity


@dataclass(slots=True)
class EngineStats:
    evaluations: int = 0
    candidates: int = 0
    confirmed: int = 0


class Engine:
    def __init__(
        self,
        cache: layout.Cache,
        table: R.RouteTable,
        *,
        slippage_bps: int,
        on_opportunity: Callable[[Opportunity], object],
    ) -> None:
        self.cache = cache
        self.table = table
        self.slippage_bps = slippage_bps
        self.on_opportunity = on_opportunity
        self.stats = EngineStats()
        self._detect = detector.direct_detect()
        self._dirty = np.zeros(len(cache.pools_i), dtype=np.bool_)
        self._queue: collections.deque[int] = collections.deque()
        self._dirty_tokens = np.zeros(len(table.mints), dtype=np.bool_)
        self._token_queue: collections.deque[int] = collections.deque()
        self._wake = asyncio.Event()

    def on_pool(self, idx: int) -> None:
        """Market-data callback: the pool's cache row changed."""
        if not self._dirty[idx]:
            self._dirty[idx] = True
            self._queue.append(idx)
            self._wake.set()

    def on_token(self, token: int) -> None:
        """Price callback: the token's CEX price moved; its CEX-DEX routes need a look."""
        if not self._dirty_tokens[token]:
            self._dirty_tokens[token] = True
            self._token_queue.append(token)
            self._wake.set()

    def evaluate_token(self, token: int) -> Opportunity | None:
        self.stats.evaluations += 1
        route = detector.detect_token(self.cache.state, self.table.graph, token)
        if route < 0:
            return None
        self.stats.candidates += 1
        # A price tick has no pool update: the route's pool carries the state's slot and receive time.
        opp = confirm.confirm_best(self.cache, self.table, self.table.routes[route].legs[0].pool, self.slippage_bps)
        if opp is not None:
            self.stats.confirmed += 1
        return opp

    def evaluate(self, idx: int) -> Opportunity | None:
        """Screen the routes touching pool `idx`; confirm and return the best, if any clears."""
        self.stats.evaluations += 1
        route = self._detect(self.cache.state, self.table.graph, idx)
        if route < 0:
            return None
        self.stats.candidates += 1
        opp = confirm.confirm_best(self.cache, self.table, idx, self.slippage_bps)
        if opp is not None:
            self.stats.confirmed += 1
        return opp

    def evaluate_all(self) -> None:
        """Every pool once (start-up, after a parameter change)."""
        for idx in range(len(self._dirty)):
            self.on_pool(idx)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                idx = self._queue.popleft()
                self._dirty[idx] = False
                opp = self.evaluate(idx)
                if opp is not None:
                    self.on_opportunity(opp)
            while self._token_queue:
                token = self._token_queue.popleft()
                self._dirty_tokens[token] = False
                opp = self.evaluate_token(token)
                if opp is not None:
                    self.on_opportunity(opp)
            # Let the socket readers run between batches.
            await asyncio.sleep(0)
