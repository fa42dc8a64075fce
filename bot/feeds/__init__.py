"""CEX price feeds: Binance bookTicker, Coinbase Advanced Trade ticker, OKX bbo-tbt/tickers,
Bybit orderbook.1. Frames become `Quote`s at the edge; `make_feed` builds one client."""

from bot.feeds.client import FeedClient, FeedState, make_feed
from bot.feeds.errors import (
    BadFeedArgs,
    ConnectFailed,
    FeedError,
    MalformedFrame,
    SubscribeRejected,
    TransportClosed,
    UnknownExchange,
    is_retryable,
)
from bot.feeds.parsers import FrameParser, make_parser
from bot.feeds.staleness import LatestQuotes
from bot.feeds.transport import Connect, Connection, picows_connect, websockets_connect
from bot.feeds.types import Exchange, FeedStats, Quote, SeqRule, SequenceGap

__all__ = [
    "BadFeedArgs",
    "Connect",
    "ConnectFailed",
    "Connection",
    "Exchange",
    "FeedClient",
    "FeedError",
    "FeedState",
    "FeedStats",
    "FrameParser",
    "LatestQuotes",
    "MalformedFrame",
    "Quote",
    "SeqRule",
    "SequenceGap",
    "SubscribeRejected",
    "TransportClosed",
    "UnknownExchange",
    "is_retryable",
    "make_feed",
    "make_parser",
    "picows_connect",
    "websockets_connect",
]
