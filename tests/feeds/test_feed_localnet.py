"""Feed clients against the local CEX feed server over real websockets on loopback.

No timing assertions: every wait is on an event or future; `asyncio.timeout` is only a hang guard.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.feeds import (
    FeedState,
    Quote,
    SeqRule,
    SequenceGap,
    SubscribeRejected,
    make_feed,
    picows_connect,
    websockets_connect,
)
from bot.retry import backoff_delays
from localnet.cex_server import CexFeedServer
from localnet.market_path import gbm_path

pytestmark = pytest.mark.localnet

SYMBOLS = {
    "binance": ["SOLUSDC", "BNBUSDT"],
    "coinbase": ["SOL-USD", "BTC-USD"],
    "okx": ["SOL-USDC", "BTC-USDT"],
    "bybit": ["SOLUSDC", "BTCUSDT"],
}
STALE_NS = 2_000_000_000
BASE_S, CAP_S = 0.02, 0.1
GUARD_S = 10.0


class Recorder:
    """Collects what the feed reports and lets the test await conditions on it."""

    def __init__(self) -> None:
        self.updates: list[Quote] = []
        self.gaps: list[SequenceGap] = []
        self.states: list[FeedState] = []
        self._changed = asyncio.Event()

    def on_update(self, q: Quote) -> None:
        self.updates.append(q)
        self._changed.set()

    def on_gap(self, g: SequenceGap) -> None:
        self.gaps.append(g)
        self._changed.set()

    def on_state(self, s: FeedState) -> None:
        self.states.append(s)
        self._changed.set()

    async def until(self, pred) -> None:
        async with asyncio.timeout(GUARD_S):
            while not pred():
                self._changed.clear()
                await self._changed.wait()

    def latest(self, symbol: str) -> Quote | None:
        return next((q for q in reversed(self.updates) if q.symbol == symbol), None)


def _paths(symbols):
    return {s: gbm_path(seed=i + 1, n=50, s0=100.0 + 50 * i) for i, s in enumerate(symbols)}


def _has_sent(rec: Recorder, server: CexFeedServer, symbols) -> bool:
    for s in symbols:
        q = rec.latest(s)
        if q is None or (q.seq != server.last_sent[s][0] and server.venue != "coinbase"):
            return False
        if q.bid != float(server.last_sent[s][1]):
            return False
    return True


@pytest.mark.parametrize("venue", ["binance", "coinbase", "okx", "bybit"])
async def test_reconnect_resubscribe_staleness_and_gap(venue, ws_transport):
    symbols = SYMBOLS[venue]
    rec = Recorder()
    # The local server numbers every symbol contiguously; Binance/OKX default to the monotonic
    # rule (their real numbering skips), so ask for the contiguous check here.
    rule = SeqRule.CONTIGUOUS if venue in ("binance", "okx") else None
    async with CexFeedServer(venue, _paths(symbols)) as server:
        feed = make_feed(
            venue,
            server.url,
            symbols,
            stale_after_ns=STALE_NS,
            on_update=rec.on_update,
            on_gap=rec.on_gap,
            on_state=rec.on_state,
            backoff_base_s=BASE_S,
            backoff_cap_s=CAP_S,
            seq_rule=rule,
            rng=random.Random(7),
            connect=picows_connect if ws_transport == "picows" else websockets_connect,
        )
        task = asyncio.create_task(feed.run())
        try:
            async with asyncio.timeout(GUARD_S):
                await server.wait_subscribed(1)
            assert feed.stale_symbols() == frozenset(symbols)  # nothing received yet
            await server.step()
            await rec.until(lambda: _has_sent(rec, server, symbols))
            for s in symbols:
                q = rec.latest(s)
                seq, bid, ask = server.last_sent[s]
                assert (q.bid, q.ask, q.bid_qty) == (float(bid), float(ask), 1.5)
                assert q.seq == (seq if venue != "coinbase" else q.seq) and q.recv_ns > 0
                assert not feed.is_stale(s)
                # Staleness is judged on the monotonic receive time.
                assert not feed.is_stale(s, q.recv_ns + STALE_NS)
                assert feed.is_stale(s, q.recv_ns + STALE_NS + 1)
            assert feed.stats.malformed == 0 and feed.stats.gaps == 0

            # Kill every socket mid-stream: all symbols are stale at once, until fresh quotes come.
            assert server.kill_clients() == 1
            await rec.until(lambda: FeedState.DISCONNECTED in rec.states)
            assert feed.stale_symbols() == frozenset(symbols)
            async with asyncio.timeout(GUARD_S):
                await server.wait_subscribed(2)
            assert feed.stats.connects == 2 and feed.stats.disconnects == 1
            # Resubscribed with the very same frames.
            assert server.subscriptions[1] == server.subscriptions[0] != []
            # The first connection delivered quotes, so the backoff restarted: first delay.
            assert feed.stats.last_backoff_s == next(backoff_delays(BASE_S, CAP_S, random.Random(7)))
            assert feed.stats.last_backoff_s <= CAP_S
            assert feed.stale_symbols() == frozenset(symbols)
            await server.step()
            await rec.until(lambda: _has_sent(rec, server, symbols))
            assert feed.stale_symbols() == frozenset()

            # A sequence gap is detected and reported.
            server.inject_gap(symbols[0], 3)
            await server.step()
            await rec.until(lambda: rec.gaps and _has_sent(rec, server, symbols))
            (gap,) = rec.gaps
            assert gap.missed == 3 and gap.received - gap.expected == 3
            assert gap.symbol == ("" if venue == "coinbase" else symbols[0])
            assert feed.stats.gaps == 1 and feed.stats.gap_missed == 3
            assert feed.stats.malformed == 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


class CountingConnection:
    """The real websockets connection, counting frames as the reader takes them."""

    def __init__(self, conn, on_frame) -> None:
        self._conn, self._on_frame = conn, on_frame

    async def send(self, message: str) -> None:
        await self._conn.send(message)

    async def recv(self):
        frame = await self._conn.recv()
        self._on_frame()
        return frame

    async def close(self) -> None:
        await self._conn.close()


async def test_slow_consumer_never_blocks_the_reader_and_gets_the_latest():
    frames_seen = 0
    frames_event = asyncio.Event()

    def on_frame():
        nonlocal frames_seen
        frames_seen += 1
        frames_event.set()

    async def connect(url):
        return CountingConnection(await websockets_connect(url), on_frame)

    release = asyncio.get_running_loop().create_future()
    first_call = asyncio.Event()
    delivered: list[Quote] = []

    async def on_update(q: Quote) -> None:
        delivered.append(q)
        first_call.set()
        await release  # a consumer stuck on something slow

    async with CexFeedServer("binance", _paths(["SOLUSDC"])) as server:
        feed = make_feed(
            "binance", server.url, ["SOLUSDC"], stale_after_ns=STALE_NS, on_update=on_update, connect=connect
        )
        task = asyncio.create_task(feed.run())
        try:
            async with asyncio.timeout(GUARD_S):
                await server.wait_subscribed(1)
                await server.step()
                await first_call.wait()
                first_seq = server.last_sent["SOLUSDC"][0]
                await server.step(19)
                # ack + 20 quotes: the reader took them all while the consumer was blocked.
                while frames_seen < 21:
                    frames_event.clear()
                    await frames_event.wait()
            assert feed.stats.quotes == 20 and feed.stats.delivered == 1
            assert feed.quotes.get("SOLUSDC").seq == server.last_sent["SOLUSDC"][0]
            release.set_result(None)
            async with asyncio.timeout(GUARD_S):
                while len(delivered) < 2:
                    first_call.clear()
                    await first_call.wait()
            assert [q.seq for q in delivered] == [first_seq, server.last_sent["SOLUSDC"][0]]
            assert feed.stats.conflated == 18
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_rejected_subscription_ends_run():
    async with CexFeedServer("binance", _paths(["SOLUSDC"])) as server:
        feed = make_feed("binance", server.url, ["NOPEUSDT"], stale_after_ns=STALE_NS)
        with pytest.raises(SubscribeRejected):
            async with asyncio.timeout(GUARD_S):
                await feed.run()


async def test_raw_binance_endpoint():
    async with CexFeedServer("binance", _paths(["SOLUSDC"])) as server:
        rec = Recorder()
        url = server.url.replace("/stream", "/ws")
        feed = make_feed("binance", url, ["SOLUSDC"], stale_after_ns=STALE_NS, on_update=rec.on_update)
        task = asyncio.create_task(feed.run())
        try:
            async with asyncio.timeout(GUARD_S):
                await server.wait_subscribed(1)
            await server.step()
            await rec.until(lambda: _has_sent(rec, server, ["SOLUSDC"]))
            assert feed.stats.control == 1 and feed.stats.malformed == 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("venue", ["okx", "bybit"])
async def test_app_level_keepalive_pings(venue):
    symbols = SYMBOLS[venue][:1]
    async with CexFeedServer(venue, _paths(symbols)) as server:
        rec = Recorder()
        feed = make_feed(
            venue, server.url, symbols, stale_after_ns=STALE_NS, on_update=rec.on_update, keepalive_s=0.01
        )
        task = asyncio.create_task(feed.run())
        try:
            async with asyncio.timeout(GUARD_S):
                await server.wait_pings(2)
            await server.step()
            await rec.until(lambda: _has_sent(rec, server, symbols))
            # The stream is ordered: both pongs came before this quote. ack + 2 pongs at least.
            assert feed.stats.control >= 3 and feed.stats.malformed == 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_server_down_at_start_then_up():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rec = Recorder()
    feed = make_feed(
        "bybit",
        f"ws://127.0.0.1:{port}/v5/public/spot",
        ["SOLUSDC"],
        stale_after_ns=STALE_NS,
        on_update=rec.on_update,
        on_state=rec.on_state,
        backoff_base_s=BASE_S,
        backoff_cap_s=CAP_S,
    )
    task = asyncio.create_task(feed.run())
    try:
        await rec.until(lambda: rec.states.count(FeedState.CONNECT_FAILED) >= 2)
        assert feed.stats.connects == 0 and feed.stale_symbols() == frozenset({"SOLUSDC"})
        assert 0.0 <= feed.stats.last_backoff_s <= CAP_S
        async with CexFeedServer("bybit", _paths(["SOLUSDC"]), port=port) as server:
            async with asyncio.timeout(GUARD_S):
                await server.wait_subscribed(1)
            await server.step()
            await rec.until(lambda: _has_sent(rec, server, ["SOLUSDC"]))
            assert feed.stats.connects == 1 and not feed.is_stale("SOLUSDC")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_replay_file_drives_the_server(tmp_path):
    from localnet.market_path import load_replay

    csv = tmp_path / "path.csv"
    csv.write_text("t_ns,bid,ask\n0,101.25,101.5\n1000,101.3,101.55\n")
    path = load_replay(csv)
    rec = Recorder()
    async with CexFeedServer("okx", {"SOL-USDC": path}) as server:
        feed = make_feed("okx", server.url, ["SOL-USDC"], stale_after_ns=STALE_NS, on_update=rec.on_update)
        task = asyncio.create_task(feed.run())
        try:
            async with asyncio.timeout(GUARD_S):
                await server.wait_subscribed(1)
            for expected in [(101.25, 101.5), (101.3, 101.55), (101.25, 101.5)]:  # wraps around
                await server.step()
                await rec.until(lambda: _has_sent(rec, server, ["SOL-USDC"]))
                q = rec.latest("SOL-USDC")
                assert (q.bid, q.ask) == expected
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
