"""Per-exchange wire rules, as pure functions: subscribe messages and keep-alive (protocols.md §9)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from bot.feeds.errors import BadFeedArgs
from bot.feeds.types import Exchange

__all__ = ["DEFAULT_CHANNEL", "KeepAlive", "keepalive", "subscribe_messages"]

_json = msgspec.json.Encoder()

# Binance: at most 1024 streams per connection and 5 inbound messages per second.
_BINANCE_MAX_STREAMS = 1024
# Bybit spot: at most 10 topics per subscribe request.
_BYBIT_ARGS_PER_REQUEST = 10

DEFAULT_CHANNEL: dict[Exchange, str] = {
    Exchange.BINANCE: "bookTicker",
    Exchange.COINBASE: "ticker",
    Exchange.OKX: "bbo-tbt",
    Exchange.BYBIT: "orderbook.1",
}

_CHANNELS: dict[Exchange, frozenset[str]] = {
    Exchange.BINANCE: frozenset(("bookTicker",)),
    Exchange.COINBASE: frozenset(("ticker", "ticker_batch")),
    Exchange.OKX: frozenset(("bbo-tbt", "tickers")),
    Exchange.BYBIT: frozenset(("orderbook.1",)),
}


def subscribe_messages(exchange: Exchange, symbols: Sequence[str], channel: str | None = None) -> list[str]:
    """The text frames to send right after connecting, in order."""
    if not symbols:
        raise BadFeedArgs(f"{exchange}: no symbols to subscribe")
    channel = channel or DEFAULT_CHANNEL[exchange]
    if channel not in _CHANNELS[exchange]:
        raise BadFeedArgs(
            f"{exchange}: unsupported channel {channel!r}; use one of {sorted(_CHANNELS[exchange])}"
        )
    if exchange is Exchange.BINANCE:
        if len(symbols) > _BINANCE_MAX_STREAMS:
            raise BadFeedArgs(f"binance: {len(symbols)} streams > {_BINANCE_MAX_STREAMS} per connection")
        params = [f"{s.lower()}@{channel}" for s in symbols]
        return [_json.encode({"method": "SUBSCRIBE", "params": params, "id": 1}).decode()]
    if exchange is Exchange.COINBASE:
        # The heartbeats channel keeps the connection open when a product is quiet.
        return [
            _json.encode({"type": "subscribe", "product_ids": list(symbols), "channel": channel}).decode(),
            _json.encode({"type": "subscribe", "channel": "heartbeats"}).decode(),
        ]
    if exchange is Exchange.OKX:
        args = [{"channel": channel, "instId": s} for s in symbols]
        return [_json.encode({"op": "subscribe", "args": args}).decode()]
    topics = [f"{channel}.{s}" for s in symbols]
    return [
        _json.encode({"op": "subscribe", "args": topics[i : i + _BYBIT_ARGS_PER_REQUEST]}).decode()
        for i in range(0, len(topics), _BYBIT_ARGS_PER_REQUEST)
    ]


class KeepAlive(msgspec.Struct, frozen=True):
    """An application-level ping the client must send every `interval_s` (None: no app ping)."""

    message: str | None
    interval_s: float


def keepalive(exchange: Exchange) -> KeepAlive:
    """Binance pings us (websockets answers the protocol pings itself); Coinbase is kept alive by
    the heartbeats channel; OKX wants the text "ping" before 30 s of silence; Bybit wants
    {"op":"ping"} about every 20 s."""
    if exchange is Exchange.OKX:
        return KeepAlive("ping", 20.0)
    if exchange is Exchange.BYBIT:
        return KeepAlive('{"op":"ping"}', 20.0)
    return KeepAlive(None, 0.0)
