"""`/metrics` serves valid Prometheus text, read from the stats objects at scrape time: the text is
parsed with prometheus_client's own parser, over a real socket, on the bot's kind of event loop."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from prometheus_client.parser import text_string_to_metric_families

from bot.cache import CacheWriter
from bot.engine import EngineStats
from bot.execution.executor import ExecStats
from bot.metrics import registry_for, serve_metrics
from bot.runtime import SlotClock
from rpc.pool import EndpointConfig, EndpointPool
from rpc.pubsub import PubSubClient


async def _scrape(port: int, path: str = "/metrics") -> tuple[str, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode(), body.decode()


def _bot() -> SimpleNamespace:
    ex, eng = ExecStats(), EngineStats()
    executor = SimpleNamespace(
        stats=ex, sol_lamports=7_000_000_000, in_flight={"sig": object()}, halted_reason=""
    )
    return SimpleNamespace(
        writer=CacheWriter(),
        pubsub=PubSubClient("ws://127.0.0.1:1", on_account=lambda *a: None, on_error=lambda e: None),
        clock=SlotClock(slot=4242),
        endpoints=EndpointPool(
            [EndpointConfig("a", "http://127.0.0.1:1"), EndpointConfig("b", "http://127.0.0.1:2")]
        ),
        trading=SimpleNamespace(engine=SimpleNamespace(stats=eng), executor=executor),
    )


async def test_metrics_are_valid_prometheus_text_read_at_scrape_time() -> None:
    bot = _bot()
    ex = bot.trading.executor.stats
    bot.writer.stats.updates = 1_234
    ex.opportunities, ex.signed, ex.confirmed, ex.sent = 9, 3, 2, 3
    ex.failed_by_reason["reverted"] = 1
    ex.realized_lamports = -5_000
    ex.decision_to_signed_ns.extend([30_000, 60_000, 3_000_000])
    server, port = await _start(bot)
    try:
        head, text = await _scrape(port)
        assert head.startswith("HTTP/1.1 200") and "text/plain; version=0.0.4" in head
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        value = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in fams.values() for s in f.samples}
        assert value[("solarb_account_updates_total", ())] == 1_234
        assert value[("solarb_landings_total", ())] == 2
        assert value[("solarb_failures_total", (("reason", "reverted"),))] == 1
        assert value[("solarb_realized_pnl_lamports", ())] == -5_000
        assert value[("solarb_slot", ())] == 4242 and value[("solarb_in_flight", ())] == 1
        assert value[("solarb_kill_switch", ())] == 0
        assert {k[1] for k in value if k[0] == "solarb_endpoint_usable"} == {
            (("endpoint", "a"),),
            (("endpoint", "b"),),
        }
        assert fams["solarb_decision_to_signed_seconds"].type == "histogram"
        assert value[("solarb_decision_to_signed_seconds_count", ())] == 3
        assert value[("solarb_decision_to_signed_seconds_bucket", (("le", "5e-05"),))] == 1
        assert value[("solarb_decision_to_signed_seconds_bucket", (("le", "0.002"),))] == 2
        # Values are read when scraped; the histogram folds in only what was added since.
        ex.signed += 1
        ex.decision_to_signed_ns.append(10_000)
        bot.trading.executor.halted_reason = "daily loss"
        _, text = await _scrape(port)
        value = {(s.name, tuple(sorted(s.labels.items()))): s.value
                 for f in text_string_to_metric_families(text) for s in f.samples}  # fmt: skip
        assert value[("solarb_decision_to_signed_seconds_count", ())] == 4
        assert value[("solarb_decision_to_signed_seconds_bucket", (("le", "2e-05"),))] == 1
        assert value[("solarb_kill_switch", ())] == 1
        head, _ = await _scrape(port, "/other")
        assert head.startswith("HTTP/1.1 404")
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
        await bot.endpoints.close()


async def test_metrics_before_trading_starts_have_no_trading_families() -> None:
    bot = _bot()
    bot.trading = None
    server, port = await _start(bot)
    try:
        _, text = await _scrape(port)
        names = {f.name for f in text_string_to_metric_families(text)}
        assert "solarb_account_updates" in names and "solarb_landings" not in names
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
        await bot.endpoints.close()


async def _start(bot: SimpleNamespace) -> tuple[asyncio.Task[None], int]:
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(
        serve_metrics(registry_for(lambda: bot), "127.0.0.1", 0, ready=bound.set_result)
    )
    return server, await asyncio.wait_for(bound, 5)
