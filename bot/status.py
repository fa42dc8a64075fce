"""The running bot's state for `solarb status`: a read-only JSON endpoint on loopback, off the hot path.

`GET /status` answers one JSON object built at request time from the objects the bot already keeps
(stats, the endpoint pool's health, the cache writer's pools, the route table, the executor's trades in
flight, the ledger's risk state): uptime, the cluster's slot against the bot's own, endpoints and their
health, pools (live, settling, refused, unusable), routes (active, quarantined, disabled, unproven),
trades in flight, PnL today, the kill switch. Nothing is computed per update.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from strategies import layout
from strategies import routes as R

MAX_REQUEST = 8192


async def collect(bot: Any, started: float) -> dict[str, Any]:
    """The status document (cold path): the cluster's slot asked now, the rest from memory."""
    trading = bot.trading
    endpoints = [dataclasses.asdict(s) for s in bot.endpoints.snapshot()]
    try:
        cluster_slot = await asyncio.wait_for(bot.rpc.get_slot(commitment="processed"), 2.0)
    except Exception:
        cluster_slot = max((s["slot"] or 0 for s in endpoints), default=0)
    doc: dict[str, Any] = {
        "uptime_s": round(time.monotonic() - started, 1),
        "mode": bot.mode.name,
        "wallet": str(bot.wallet.pubkey),
        "slot": {"bot": bot.clock.slot, "cluster": cluster_slot, "behind": max(0, cluster_slot - bot.clock.slot)},
        "endpoints": [{k: e[k] for k in ("name", "endpoint", "roles", "rank", "state", "usable", "latency_s",
                                         "error_rate", "slot_lag", "backoff_s", "why")} for e in endpoints],
        "running": trading is not None,
    }  # fmt: skip
    pools = []
    counts = {"live": 0, "settling": 0, "refused": 0, "unusable": 0, "missing": 0}
    arrays = bot.writer.arrays
    for e in bot.writer.pools:
        if e.static is None:
            state = "missing"
        elif e.refused:
            state = "refused"
        elif e.unusable:
            state = "unusable"
        elif arrays is not None and int(arrays.pools_i[e.idx, layout.I_FLAGS]) & layout.FLAG_SETTLING:
            state = "settling"
        else:
            state = "live"
        counts[state] += 1
        pools.append({"pool": str(e.address), "venue": e.venue.name, "state": state,
                      "why": e.refused or e.unusable or ""})  # fmt: skip
    doc["pools"] = {"counts": counts, "pools": pools}
    risk = bot.ledger.risk_state()
    doc["kill_switch"] = {"tripped": risk.kill_switch.tripped, "reason": risk.kill_switch.reason}
    doc["pnl_today"] = {"day": risk.daily.day, "realized_lamports": risk.daily.realized_lamports,
                        "marked_lamports": risk.daily.marked_lamports, "trades": risk.daily.trades}  # fmt: skip
    if trading is None:
        return doc
    table, ex = trading.table, trading.executor
    quarantined = {q.route_id for q in risk.quarantined}
    routes = {"active": 0, "quarantined": 0, "disabled": 0, "unproven": 0, "signals_only": 0}
    for r in table.routes:
        if r.route_type == R.ROUTE_CEX:
            routes["signals_only"] += 1
        elif bot.route_key(r) in quarantined:
            routes["quarantined"] += 1
        elif table.is_disabled(r.route_id) or r.route_id not in ex.templates:
            routes["disabled"] += 1
        elif r.route_id in ex.unproven:
            routes["unproven"] += 1
        else:
            routes["active"] += 1
    doc["routes"] = routes
    doc["in_flight"] = [{"signature": f.signature, "route": f.route_id, "expected_net": f.expected_net}
                        for f in ex.in_flight.values()]  # fmt: skip
    st = ex.stats
    doc["trades"] = {"opportunities": st.opportunities, "sent": st.sent, "landed": st.confirmed,
                     "reverted": st.reverted, "expired": st.expired, "realized_lamports": st.realized_lamports}  # fmt: skip
    doc["halted"] = ex.halted_reason
    return doc


class StatusServer:
    """HTTP/1.1 on loopback: `GET /status` -> the JSON document; anything else -> 404."""

    def __init__(
        self, build: Callable[[], Awaitable[dict[str, Any]]], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.build = build
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            if len(line) >= 2 and line[0] == "GET" and line[1] == "/status":
                body, status = orjson.dumps(await self.build(), default=str), b"200 OK"
            else:
                body, status = b'{"error": "not found: GET /status"}', b"404 Not Found"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)  # fmt: skip
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
