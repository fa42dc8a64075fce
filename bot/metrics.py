"""Prometheus `/metrics`, off the hot path: a collector reads the stats objects the bot already keeps.

Nothing on the hot path changes for metrics: every value is read at scrape time from the counters the
stages keep anyway (`CacheWriter.stats`, `PubSubClient.stats`, `Engine.stats`, `Executor.stats`,
`RpcSender.stats`, `EndpointPool.snapshot()`). The server runs on the bot's event loop
(`asyncio.start_server`), so a scrape reads those objects between two callbacks, never concurrently
with a writer; a scrape costs about a millisecond every scrape interval.

Latency histograms are cumulative as Prometheus expects, built at scrape time from the executor's
bounded records of recent trades (`decision_to_signed_ns`, `send_to_confirm_ns`): each scrape folds in
the entries added since the previous one (when more than the record holds arrived in between, the
excess is counted in `solarb_latency_samples_dropped_total`).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

# Upper bounds in seconds: decision -> signed sits in tens of µs; send -> confirmed in hundreds of ms.
SIGN_BUCKETS = (20e-6, 50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3)
CONFIRM_BUCKETS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 30.0, 60.0)


@dataclass
class _Folded:
    """A cumulative histogram fed from a bounded record of the latest samples (ns) and their total."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total_s: float = 0.0
    seen: int = 0
    dropped: int = 0

    def fold(self, record: Sequence[int], total: int) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)
        new = total - self.seen
        if new <= 0:
            return
        take = min(new, len(record))
        self.dropped += new - take
        for ns in list(record)[len(record) - take :]:
            s = ns / 1e9
            self.counts[bisect.bisect_left(self.bounds, s)] += 1
            self.total_s += s
        self.seen = total

    def family(self, name: str, doc: str) -> HistogramMetricFamily:
        acc, buckets = 0, []
        for bound, n in zip((*self.bounds, float("inf")), self.counts or [0] * (len(self.bounds) + 1)):
            acc += n
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), acc))
        return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=self.total_s)


class BotCollector(Collector):
    """Everything a running `bot.runtime.Bot` counts, read when scraped. `source()` returns the bot
    (its `trading` part may still be None during start-up: those metrics are then absent)."""

    def __init__(self, source: Callable[[], Any]) -> None:
        self._source = source
        self._sign = _Folded(SIGN_BUCKETS)
        self._confirm = _Folded(CONFIRM_BUCKETS)

    def collect(self) -> Iterator[Metric]:
        bot = self._source()
        w, ps = bot.writer.stats, bot.pubsub.stats
        yield _counter("solarb_account_updates", "account updates applied to the cache", w.updates)
        yield _counter("solarb_cache_rows_written", "pool rows rewritten", w.writes)
        refused = CounterMetricFamily("solarb_updates_refused", "account updates not applied, by reason",
                                      labels=["reason"])  # fmt: skip
        for reason in ("stale", "wrong_owner", "malformed", "unknown_key"):
            refused.add_metric([reason], getattr(w, reason))
        yield refused
        yield _counter("solarb_pubsub_notifications", "PubSub notifications parsed", ps.notifications)
        yield _counter("solarb_pubsub_malformed_frames", "PubSub frames that did not parse", ps.malformed)
        yield _counter("solarb_pubsub_reconnects", "PubSub reconnections", max(0, ps.connects - 1))
        yield _gauge("solarb_slot", "latest slot notified", bot.clock.slot)
        yield from self._endpoints(bot)
        trading = bot.trading
        if trading is None:
            return
        eng, ex = trading.engine.stats, trading.executor.stats
        yield _counter("solarb_evaluations", "detector evaluations (dirty pools and tokens)", eng.evaluations)
        yield _counter("solarb_candidates", "detector candidates sent to the exact confirm", eng.candidates)
        yield _counter("solarb_signals", "CEX-DEX signals reported (not traded)", eng.signals)
        yield _counter(
            "solarb_opportunities", "confirmed opportunities handed to execution", ex.opportunities
        )
        yield _counter("solarb_signed", "transactions signed", ex.signed)
        yield _counter("solarb_sends", "transactions written to the send endpoints", ex.sent + ex.send_failed)
        yield _counter("solarb_rebroadcasts", "rebroadcasts of the same bytes", ex.rebroadcasts)
        yield _counter("solarb_landings", "transactions that landed and succeeded", ex.confirmed)
        yield _counter("solarb_simulated", "dry-run simulations", ex.simulated)
        failures = CounterMetricFamily("solarb_failures", "trades that failed, by reason", labels=["reason"])
        for reason, n in {**{"reverted": 0, "expired": 0}, **ex.failed_by_reason}.items():
            failures.add_metric([reason], n)
        failures.add_metric(["send_failed"], ex.send_failed)
        failures.add_metric(["unconfirmed"], ex.unconfirmed)
        yield failures
        refusals = CounterMetricFamily("solarb_opportunities_refused", "opportunities not signed, by gate",
                                       labels=["gate"])  # fmt: skip
        for gate in ("stale", "duplicate", "no_template", "guard_refused", "rate_limited", "halted", "risk_refused",
                     "no_blockhash", "stale_blockhash", "journal_failed"):  # fmt: skip
            refusals.add_metric([gate], getattr(ex, gate))
        yield refusals
        yield _counter("solarb_realized_pnl_lamports", "realized PnL since start (may fall)", ex.realized_lamports,
                       gauge=True)  # fmt: skip
        yield _counter("solarb_fees_lamports", "fees paid since start", ex.fees_lamports)
        yield _counter("solarb_tips_lamports", "tips paid since start", ex.tips_lamports)
        yield _gauge(
            "solarb_sol_balance_lamports", "payer SOL (refreshed after trades)", trading.executor.sol_lamports
        )
        yield _gauge("solarb_in_flight", "trades that can still land", len(trading.executor.in_flight))
        yield _gauge("solarb_kill_switch", "1 while the kill switch holds (no trade is signed)",
                     1 if trading.executor.halted_reason else 0)  # fmt: skip
        self._sign.fold(ex.decision_to_signed_ns, ex.signed)
        yield self._sign.family("solarb_decision_to_signed_seconds", "decision -> signed transaction")
        self._confirm.fold(ex.send_to_confirm_ns, ex.send_to_confirm_samples)
        yield self._confirm.family(
            "solarb_send_to_confirmed_seconds", "written -> landed (confirmed or reverted)"
        )
        yield _counter("solarb_latency_samples_dropped", "latency samples folded in too late to count",
                       self._sign.dropped + self._confirm.dropped)  # fmt: skip

    @staticmethod
    def _endpoints(bot: Any) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "solarb_endpoint_usable", "1 when the endpoint would be asked now", labels=["endpoint"]
        )
        lat = GaugeMetricFamily("solarb_endpoint_latency_seconds", "last probe latency", labels=["endpoint"])
        lag = GaugeMetricFamily(
            "solarb_endpoint_slot_lag", "slots behind the best endpoint", labels=["endpoint"]
        )
        fails = GaugeMetricFamily(
            "solarb_endpoint_consecutive_failures", "failures in a row", labels=["endpoint"]
        )
        err = GaugeMetricFamily("solarb_endpoint_error_rate", "recent error rate", labels=["endpoint"])
        for st in bot.endpoints.snapshot():
            up.add_metric([st.name], 1.0 if st.usable else 0.0)
            if st.latency_s is not None:
                lat.add_metric([st.name], st.latency_s)
            lag.add_metric([st.name], st.slot_lag)
            fails.add_metric([st.name], st.consecutive_failures)
            err.add_metric([st.name], st.error_rate)
        yield from (up, lat, lag, fails, err)


def _counter(name: str, doc: str, value: float, *, gauge: bool = False) -> Metric:
    return GaugeMetricFamily(name, doc, value=value) if gauge else CounterMetricFamily(name, doc, value=value)


def _gauge(name: str, doc: str, value: float) -> Metric:
    return GaugeMetricFamily(name, doc, value=value)


def registry_for(source: Callable[[], Any]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BotCollector(source))
    return registry


async def serve_metrics(
    registry: CollectorRegistry, host: str, port: int, ready: Callable[[int], None] | None = None
) -> None:
    """Serve ``GET /metrics`` (Prometheus text format 0.0.4) on the running loop until cancelled;
    ``ready(port)`` once listening (port 0 binds a free one)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b""
            if path.split(b"?")[0] == b"/metrics":
                body, status = generate_latest(registry), b"200 OK"
                ctype = b"text/plain; version=0.0.4; charset=utf-8"
            else:
                body, status, ctype = b"not found: GET /metrics\n", b"404 Not Found", b"text/plain"
            writer.write(b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                         % (status, ctype, len(body), body))  # fmt: skip
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, host, port)
    if ready is not None:
        ready(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()
