"""One websocket connection to one exchange: connect, subscribe, read, reconnect.

The reader only parses and stores: each valid quote replaces the previous one of its symbol in
a pending map (conflation) and wakes the dispatcher task, which calls `on_update`. A slow or
awaiting consumer therefore never stalls the socket reader; it just sees the latest quote of
each symbol when it comes back (`stats.conflated` counts the quotes it never saw).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Any

from bot.feeds.errors import BadFeedArgs, UnknownExchange, is_retryable
from bot.feeds.parsers import FrameParser, make_parser
from bot.feeds.protocol import KeepAlive, keepalive, subscribe_messages
from bot.feeds.staleness import LatestQuotes
from bot.feeds.transport import Connect, Connection, websockets_connect
from bot.feeds.types import Exchange, FeedStats, Quote, SeqRule, SequenceGap
from bot.retry import backoff_delays

__all__ = ["FeedClient", "FeedState", "make_feed"]

OnUpdate = Callable[[Quote], Awaitable[object] | None]


class FeedState(Enum):
    CONNECTED = 1
    SUBSCRIBED = 2  # subscribe frames sent
    DISCONNECTED = 3  # every symbol of the feed is stale from here until its next quote
    CONNECT_FAILED = 4  # a connection attempt failed with a retryable error; backing off


class FeedClient:
    """Feed of one exchange over one websocket; `await run()` until cancelled.

    Reconnects with capped exponential backoff and full jitter (`bot.retry.backoff_delays`);
    the backoff restarts after a connection that delivered at least one quote. Non-retryable
    errors (a rejected subscription, a 4xx handshake) end `run()` with that error.
    """

    def __init__(
        self,
        exchange: Exchange | str,
        url: str,
        symbols: Sequence[str],
        *,
        stale_after_ns: int,
        on_update: OnUpdate | None = None,
        connect: Connect = websockets_connect,
        backoff_base_s: float = 0.25,
        backoff_cap_s: float = 30.0,
        channel: str | None = None,
        seq_rule: SeqRule | None = None,
        on_gap: Callable[[SequenceGap], None] | None = None,
        on_state: Callable[[FeedState], None] | None = None,
        rng: random.Random | None = None,
        keepalive_s: float | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        exchange = _exchange(exchange)
        if not symbols:
            raise BadFeedArgs(f"{exchange}: a feed needs at least one symbol")
        if len(set(symbols)) != len(symbols):
            raise BadFeedArgs(f"{exchange}: duplicate symbols in {list(symbols)}")
        if not 0.0 < backoff_base_s <= backoff_cap_s:
            raise BadFeedArgs(
                f"{exchange}: backoff needs 0 < base <= cap, got base={backoff_base_s}s cap={backoff_cap_s}s"
            )
        self.exchange = exchange
        self.url = url
        self.symbols: tuple[str, ...] = tuple(symbols)
        self.name = f"feed.{exchange}"
        self.stats = FeedStats()
        self.quotes = LatestQuotes(self.symbols, stale_after_ns)
        self._subscribe = subscribe_messages(exchange, self.symbols, channel)
        self._keepalive: KeepAlive = keepalive(exchange)
        if keepalive_s is not None:
            self._keepalive = KeepAlive(self._keepalive.message, keepalive_s)
        self._on_update = on_update
        self._on_state = on_state
        self._connect = connect
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._rng = rng
        self._clock = clock
        self._pending: dict[str, Quote] = {}
        self._wake = asyncio.Event()
        self._parser: FrameParser = make_parser(
            exchange,
            self.symbols,
            self._on_quote,
            stats=self.stats,
            seq_rule=seq_rule,
            on_gap=on_gap,
            on_invalid=self.quotes.invalidate,
        )

    # -- staleness API (the detector consults these) ---------------------------------------------

    def is_stale(self, symbol: str, now_ns: int | None = None) -> bool:
        """True if `symbol` has no valid quote, or its last one is older than `stale_after_ns`
        at `now_ns` (monotonic ns; default: now). Disconnects and one-sided books make it stale
        at once."""
        return self.quotes.is_stale(symbol, self._clock() if now_ns is None else now_ns)

    def stale_symbols(self, now_ns: int | None = None) -> frozenset[str]:
        """The subset of this feed's symbols that `is_stale` at `now_ns`."""
        return self.quotes.stale_symbols(self._clock() if now_ns is None else now_ns)

    def handle_frame(self, frame: bytes | str, recv_ns: int | None = None) -> None:
        """Feed one raw frame as if it came off the socket (replaying recorded sessions, benches)."""
        self._parser.handle(frame, self._clock() if recv_ns is None else recv_ns)

    # -- running ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect and stream until cancelled; raises only non-retryable errors."""
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._dispatch_loop(), name=f"{self.name}.dispatch")
                tg.create_task(self._connection_loop(), name=f"{self.name}.connection")
        except BaseExceptionGroup as group:
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise

    def _state(self, state: FeedState) -> None:
        if self._on_state is not None:
            self._on_state(state)

    async def _connection_loop(self) -> None:
        base_s, cap_s = self._backoff
        delays = backoff_delays(base_s, cap_s, self._rng)
        while True:
            quotes_before = self.stats.quotes
            try:
                conn = await self._connect(self.url)
            except Exception as err:
                if not is_retryable(err):
                    raise
                self.stats.connect_failures += 1
                self._state(FeedState.CONNECT_FAILED)
            else:
                await self._session(conn)
            if self.stats.quotes > quotes_before:
                delays = backoff_delays(base_s, cap_s, self._rng)
            delay = next(delays)
            self.stats.last_backoff_s = delay
            await asyncio.sleep(delay)

    async def _session(self, conn: Connection) -> None:
        """Subscribe and read until the connection fails; retryable failures return normally."""
        self.stats.connects += 1
        self._parser.reset()
        self._state(FeedState.CONNECTED)
        pinger: asyncio.Task[None] | None = None
        try:
            for message in self._subscribe:
                await conn.send(message)
                self.stats.subscribes_sent += 1
            self._state(FeedState.SUBSCRIBED)
            if self._keepalive.message is not None:
                pinger = asyncio.create_task(self._ping_loop(conn), name=f"{self.name}.ping")
            await self._read_loop(conn)
        except Exception as err:
            if not is_retryable(err):
                raise
        finally:
            if pinger is not None:
                pinger.cancel()
                await asyncio.gather(pinger, return_exceptions=True)
            self.stats.disconnects += 1
            self.quotes.invalidate_all()
            self._pending.clear()
            self._state(FeedState.DISCONNECTED)
            # Closing a dead socket may raise or hang on the closing handshake; neither matters.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 1.0)

    async def _read_loop(self, conn: Connection) -> None:
        recv = conn.recv
        handle = self._parser.handle
        clock = self._clock
        while True:
            frame = await recv()
            handle(frame, clock())

    async def _ping_loop(self, conn: Connection) -> None:
        message = self._keepalive.message
        assert message is not None
        while True:
            await asyncio.sleep(self._keepalive.interval_s)
            await conn.send(message)

    # -- delivery ----------------------------------------------------------------------------------

    def _on_quote(self, quote: Quote) -> None:
        self.quotes.update(quote)
        pending = self._pending
        n = len(pending)
        pending[quote.symbol] = quote
        if len(pending) == n:
            self.stats.conflated += 1
        self._wake.set()

    async def _dispatch_loop(self) -> None:
        wake = self._wake
        stats = self.stats
        on_update = self._on_update
        while True:
            await wake.wait()
            wake.clear()
            batch = self._pending
            self._pending = {}
            if on_update is None:
                continue
            for quote in batch.values():
                stats.delivered += 1
                result = on_update(quote)
                if result is not None and inspect.isawaitable(result):
                    await result


def make_feed(exchange: str, url: str, symbols: list[str], **options: Any) -> FeedClient:
    """Build the feed client for `exchange` ("binance" | "coinbase" | "okx" | "bybit").

    `url` is the exchange's websocket endpoint (Binance: the `/stream` combined endpoint or `/ws`),
    `symbols` the exchange's own symbols (e.g. "SOLUSDC", "SOL-USD", "SOL-USDC", "SOLUSDC"),
    `channel` overrides the default stream (OKX: "bbo-tbt" or "tickers"); `keepalive_s` overrides
    the app-level ping interval of OKX/Bybit (20 s). See `FeedClient`.
    """
    return FeedClient(exchange, url, symbols, **options)


def _exchange(exchange: Exchange | str) -> Exchange:
    try:
        return Exchange(exchange)
    except ValueError as err:
        raise UnknownExchange(str(exchange), tuple(x.value for x in Exchange)) from err
