"""Normalized values the feeds hand downstream. Nothing past `bot.feeds` sees JSON."""

from __future__ import annotations

from enum import Enum, StrEnum

import msgspec


class Exchange(StrEnum):
    BINANCE = "binance"
    COINBASE = "coinbase"
    OKX = "okx"
    BYBIT = "bybit"


class Quote(msgspec.Struct, frozen=True, gc=False):
    """Top of book of one symbol on one exchange, as received.

    `symbol` is the exchange's own symbol (e.g. "SOLUSDC", "SOL-USD"), interned: the same str object
    as the one given to the feed. `exch_ts_ns` is the exchange's event time in Unix ns, 0 when the
    exchange sends none (Binance bookTicker). `recv_ns` is `time.monotonic_ns()` taken when the frame
    came off the socket: staleness is judged on it, never on the exchange clock. `seq` is the
    exchange's sequence number (Binance/Bybit `u`, OKX `seqId`, Coinbase `sequence_num`), -1 if none.
    Sizes are in base units, 0.0 when the exchange sends none.
    """

    exchange: Exchange
    symbol: str
    bid: float
    ask: float
    bid_qty: float
    ask_qty: float
    exch_ts_ns: int
    recv_ns: int
    seq: int


class SeqRule(Enum):
    """How a exchange's sequence numbers are checked, per symbol (Coinbase: per connection)."""

    NONE = 0
    # Numbers only grow but may skip (Binance bookTicker `u` is the whole book's update id, which
    # also advances on deeper-level changes that bookTicker does not push): a decrease or repeat is
    # out of order and dropped; a skip is normal.
    MONOTONIC = 1
    # Numbers grow by exactly 1: a skip is a gap (messages lost), reported and counted.
    CONTIGUOUS = 2


class SequenceGap(msgspec.Struct, frozen=True, gc=False):
    """Messages were lost: `expected` was due, `received` arrived (missed = received - expected)."""

    exchange: Exchange
    symbol: str  # "" when the exchange numbers the whole connection (Coinbase)
    expected: int
    received: int
    recv_ns: int

    @property
    def missed(self) -> int:
        return self.received - self.expected


class FeedStats:
    """Counters of one feed client (plain ints: the reader bumps them without allocating)."""

    __slots__ = (
        "conflated",
        "connect_failures",
        "connects",
        "control",
        "delivered",
        "disconnects",
        "frames",
        "gap_missed",
        "gaps",
        "last_backoff_s",
        "malformed",
        "one_sided",
        "out_of_order",
        "quotes",
        "rejected",
        "subscribes_sent",
        "unknown_symbol",
    )

    def __init__(self) -> None:
        self.frames = 0  # frames received
        self.quotes = 0  # valid quotes parsed
        self.delivered = 0  # quotes handed to on_update
        self.conflated = 0  # quotes replaced by a newer one of the same symbol before delivery
        self.malformed = 0  # frames that did not decode (bad JSON, wrong types, truncated)
        self.rejected = 0  # decoded but unusable prices (non-finite, <= 0, crossed)
        self.one_sided = 0  # book with an empty side: symbol marked stale
        self.unknown_symbol = 0  # quotes for symbols we did not subscribe
        self.control = 0  # acks, pongs, heartbeats, subscription confirmations
        self.out_of_order = 0  # sequence went backwards or repeated: dropped
        self.gaps = 0  # sequence skips (CONTIGUOUS rule)
        self.gap_missed = 0  # total messages missed over all gaps
        self.connects = 0
        self.connect_failures = 0
        self.disconnects = 0
        self.subscribes_sent = 0
        self.last_backoff_s = 0.0

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__slots__}
