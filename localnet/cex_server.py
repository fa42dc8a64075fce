"""Local CEX websocket feed server speaking Binance, Coinbase, OKX or Bybit market-data formats.

Driven by one price path per symbol (`localnet.market_path`: seeded GBM or a replay file). Tests
call `step()` to publish the next point of every subscribed symbol and wait on
`wait_subscribed(n)`; `interval_s` streams on its own instead; `publish(symbol, point)` sends a point
from a live source (the market simulator, localnet.simulator). `kill_clients()` aborts every
client socket mid-stream (no close handshake, like a network drop) and `inject_gap(symbol, k)`
makes the next message of `symbol` skip k sequence numbers.

Binance's combined-stream format (`{"stream", "data"}`) is the default; a `/ws` path gets raw
bookTicker payloads. Formats follow protocols.md §9 and the fixtures in shared/fixtures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from localnet.market_path import PathPoint, gbm_path, load_replay

__all__ = ["VENUES", "CexFeedServer", "main", "render_frame"]

VENUES = ("binance", "coinbase", "okx", "bybit")
_SEQ_START = 1000
_QTY = "1.50000000"


@dataclass
class _Client:
    ws: ServerConnection
    raw: bool  # Binance `/ws` endpoint: payloads without the combined wrapper
    symbols: set[str] = field(default_factory=set)
    conn_seq: int = 0  # Coinbase numbers every message of a connection


class CexFeedServer:
    """One venue's market-data websocket on 127.0.0.1. Use `async with` or start()/stop()."""

    def __init__(
        self,
        venue: str = "binance",
        paths: Mapping[str, Sequence[PathPoint]] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        interval_s: float | None = None,
    ) -> None:
        if venue not in VENUES:
            raise ValueError(f"unknown venue {venue!r}; expected one of {', '.join(VENUES)}")
        self.venue = venue
        self.paths: dict[str, Sequence[PathPoint]] = dict(paths or {"SOLUSDC": gbm_path(seed=1, n=1000)})
        self.host = host
        self.port = port
        self.interval_s = interval_s
        self._server: Server | None = None
        self._streamer: asyncio.Task[None] | None = None
        self._clients: list[_Client] = []
        self._index: dict[str, int] = dict.fromkeys(self.paths, 0)
        self._seq: dict[str, int] = dict.fromkeys(self.paths, _SEQ_START)
        self._gap: dict[str, int] = {}
        self._conn_gap = 0
        self._changed = asyncio.Condition()
        self.connections = 0  # connections accepted so far
        self.subscribe_rounds = 0  # connections that completed a subscription
        self.subscriptions: list[list[str]] = []  # raw subscribe frames, one list per connection
        self.pings = 0
        self.last_sent: dict[str, tuple[int, str, str]] = {}  # symbol -> (seq, bid text, ask text)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> CexFeedServer:
        self._server = await serve(self._handle, self.host, self.port, compression=None)
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        if self.interval_s is not None:
            self._streamer = asyncio.create_task(self._stream(self.interval_s), name="cex_server.stream")
        return self

    async def stop(self) -> None:
        if self._streamer is not None:
            self._streamer.cancel()
            await asyncio.gather(self._streamer, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> CexFeedServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The URL a client of this venue would use (Binance: the combined-stream endpoint)."""
        path = {"binance": "/stream", "coinbase": "/", "okx": "/ws/v5/public", "bybit": "/v5/public/spot"}
        return f"ws://{self.host}:{self.port}{path[self.venue]}"

    # -- test hooks --------------------------------------------------------------------------------

    def kill_clients(self) -> int:
        """Abort every client socket now (TCP reset, no close frame). Returns how many."""
        n = 0
        for client in self._clients:
            transport = client.ws.transport
            if transport is not None and not transport.is_closing():
                transport.abort()
                n += 1
        return n

    async def inject_raw(self, frame: str | bytes) -> int:
        """Send `frame` as it is (malformed JSON, wrong types, truncated) to every subscribed client."""
        n = 0
        for client in list(self._clients):
            if client.symbols:
                with contextlib.suppress(ConnectionClosed):
                    await client.ws.send(frame)
                    n += 1
        return n

    def inject_gap(self, symbol: str, skip: int = 1) -> None:
        """The next message of `symbol` skips `skip` sequence numbers (Coinbase: the connection's)."""
        if self.venue == "coinbase":
            self._conn_gap += skip
        else:
            self._gap[symbol] = self._gap.get(symbol, 0) + skip

    async def wait_subscribed(self, rounds: int) -> None:
        """Return once `rounds` connections in total have subscribed."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.subscribe_rounds >= rounds)

    async def wait_pings(self, pings: int) -> None:
        """Return once `pings` app-level pings (OKX "ping", Bybit {"op":"ping"}) were answered."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.pings >= pings)

    async def _count_ping(self) -> None:
        async with self._changed:
            self.pings += 1
            self._changed.notify_all()

    async def step(self, n: int = 1) -> int:
        """Publish the next `n` path points of every symbol to its subscribers; returns frames sent."""
        sent = 0
        for _ in range(n):
            for symbol, path in self.paths.items():
                i = self._index[symbol]
                self._index[symbol] = (i + 1) % len(path)
                sent += await self._publish(symbol, path[i])
        return sent

    async def publish(self, symbol: str, point: PathPoint) -> int:
        """Publish `point` for `symbol` now, from a live source (the market simulator's reference price)."""
        if symbol not in self.paths:
            raise ValueError(f"unknown symbol {symbol!r}; this server quotes {', '.join(self.paths)}")
        return await self._publish(symbol, point)

    # -- internals ---------------------------------------------------------------------------------

    async def _stream(self, interval_s: float) -> None:
        while True:
            await self.step()
            await asyncio.sleep(interval_s)

    async def _handle(self, ws: ServerConnection) -> None:
        client = _Client(
            ws, raw=self.venue == "binance" and ws.request is not None and ws.request.path.startswith("/ws")
        )
        self._clients.append(client)
        self.connections += 1
        frames: list[str] = []
        self.subscriptions.append(frames)
        try:
            async for message in ws:
                text = message if isinstance(message, str) else message.decode()
                await self._on_client_message(client, text, frames)
        except ConnectionClosed:
            pass
        finally:
            self._clients.remove(client)

    async def _on_client_message(self, client: _Client, text: str, frames: list[str]) -> None:
        if text == "ping" and self.venue == "okx":
            await client.ws.send("pong")
            await self._count_ping()
            return
        try:
            msg = json.loads(text)
        except ValueError:
            await client.ws.send(self._error(f"bad json: {text[:40]}"))
            return
        if self.venue == "bybit" and msg.get("op") == "ping":
            pong = {"success": True, "ret_msg": "pong", "conn_id": "local", "req_id": "", "op": "ping"}
            await client.ws.send(json.dumps(pong))
            await self._count_ping()
            return
        symbols = self._requested_symbols(msg)
        if symbols is None:
            await client.ws.send(self._error(f"unsupported request: {text[:60]}"))
            return
        unknown = [s for s in symbols if s not in self.paths]
        if unknown:
            await client.ws.send(self._error(f"unknown symbols {unknown}"))
            return
        frames.append(text)
        client.symbols.update(symbols)
        await client.ws.send(self._ack(client, msg))
        if symbols or self.venue != "coinbase":
            async with self._changed:
                self.subscribe_rounds += 1
                self._changed.notify_all()

    def _requested_symbols(self, msg: dict[str, Any]) -> list[str] | None:
        if self.venue == "binance":
            if msg.get("method") != "SUBSCRIBE":
                return None
            return [p.split("@", 1)[0].upper() for p in msg.get("params", [])]
        if self.venue == "coinbase":
            if msg.get("type") != "subscribe":
                return None
            # The heartbeats channel subscribes no product.
            return list(msg.get("product_ids", [])) if msg.get("channel") != "heartbeats" else []
        if msg.get("op") != "subscribe":
            return None
        if self.venue == "okx":
            return [a["instId"] for a in msg.get("args", [])]
        return [a.rsplit(".", 1)[1] for a in msg.get("args", [])]

    def _ack(self, client: _Client, msg: dict[str, Any]) -> str:
        if self.venue == "binance":
            return json.dumps({"result": None, "id": msg.get("id")})
        if self.venue == "coinbase":
            client.conn_seq += 1
            return json.dumps(
                {
                    "channel": "subscriptions",
                    "client_id": "",
                    "timestamp": _rfc3339(time.time_ns()),
                    "sequence_num": client.conn_seq,
                    "events": [{"subscriptions": {msg.get("channel", ""): sorted(client.symbols)}}],
                }
            )
        if self.venue == "okx":
            return json.dumps({"event": "subscribe", "arg": msg["args"][0], "connId": "local"})
        return json.dumps(
            {"success": True, "ret_msg": "", "conn_id": "local", "req_id": "", "op": "subscribe"}
        )

    def _error(self, text: str) -> str:
        if self.venue == "binance":
            return json.dumps({"code": 2, "msg": text, "id": None})
        if self.venue == "coinbase":
            return json.dumps({"type": "error", "message": text})
        if self.venue == "okx":
            return json.dumps({"event": "error", "code": "60012", "msg": text})
        return json.dumps({"success": False, "ret_msg": text, "conn_id": "local", "op": "subscribe"})

    async def _publish(self, symbol: str, point: PathPoint) -> int:
        seq = self._seq[symbol] + 1 + self._gap.pop(symbol, 0)
        self._seq[symbol] = seq
        bid, ask = f"{point.bid:.8f}", f"{point.ask:.8f}"
        self.last_sent[symbol] = (seq, bid, ask)
        now_ns = time.time_ns()
        sent = 0
        for client in list(self._clients):
            if symbol not in client.symbols:
                continue
            frame = self._frame(client, symbol, seq, bid, ask, now_ns)
            with contextlib.suppress(ConnectionClosed):
                await client.ws.send(frame)
                sent += 1
        return sent

    def _frame(self, client: _Client, symbol: str, seq: int, bid: str, ask: str, now_ns: int) -> str:
        if self.venue == "coinbase":
            client.conn_seq += 1 + self._conn_gap
            self._conn_gap = 0
            seq = client.conn_seq
        return render_frame(self.venue, symbol, seq, bid, ask, now_ns, raw=client.raw)


def render_frame(
    venue: str, symbol: str, seq: int, bid: str, ask: str, now_ns: int, *, raw: bool = False
) -> str:
    """One market-data frame in `venue`'s format (Coinbase: `seq` is the connection's number)."""
    ms = now_ns // 1_000_000
    if venue == "binance":
        data = {"u": seq, "s": symbol, "b": bid, "B": _QTY, "a": ask, "A": _QTY}
        return json.dumps(data if raw else {"stream": f"{symbol.lower()}@bookTicker", "data": data})
    if venue == "coinbase":
        ticker = {
            "type": "ticker",
            "product_id": symbol,
            "price": bid,
            "best_bid": bid,
            "best_bid_quantity": _QTY,
            "best_ask": ask,
            "best_ask_quantity": _QTY,
        }
        return json.dumps(
            {
                "channel": "ticker",
                "client_id": "",
                "timestamp": _rfc3339(now_ns),
                "sequence_num": seq,
                "events": [{"type": "update", "tickers": [ticker]}],
            }
        )
    if venue == "okx":
        row = {
            "asks": [[ask, _QTY, "0", "1"]],
            "bids": [[bid, _QTY, "0", "1"]],
            "ts": str(ms),
            "seqId": seq,
        }
        return json.dumps({"arg": {"channel": "bbo-tbt", "instId": symbol}, "data": [row]})
    data = {"s": symbol, "b": [[bid, _QTY]], "a": [[ask, _QTY]], "u": seq, "seq": seq}
    return json.dumps(
        {"topic": f"orderbook.1.{symbol}", "type": "snapshot", "ts": ms, "data": data, "cts": ms}
    )


def _rfc3339(t_ns: int) -> str:
    secs, frac = divmod(t_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m localnet.cex_server --venue binance --symbols SOLUSDC --port 9443`."""
    ap = argparse.ArgumentParser(prog="localnet.cex_server", description=__doc__.splitlines()[0])
    ap.add_argument("--venue", choices=VENUES, default="binance")
    ap.add_argument("--symbols", nargs="+", default=["SOLUSDC"])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--interval-ms", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--replay", help="CSV of t_ns,bid,ask rows used for every symbol instead of GBM")
    args = ap.parse_args(argv)
    if args.replay:
        path = load_replay(args.replay)
        paths = dict.fromkeys(args.symbols, path)
    else:
        paths = {s: gbm_path(seed=args.seed + i, n=100_000) for i, s in enumerate(args.symbols)}

    async def serve_forever() -> None:
        async with CexFeedServer(
            args.venue, paths, port=args.port, interval_s=args.interval_ms / 1000
        ) as srv:
            print(f"{args.venue} feed on {srv.url} symbols={','.join(args.symbols)}", flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
