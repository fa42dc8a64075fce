"""Sans-I/O frame parsers: one websocket frame in, zero or more `Quote`s out.

Each parser is built once per connection with the symbols it accepts and an `emit` callback.
`handle(frame, recv_ns)` never raises for bad input: frames that do not decode (bad JSON,
truncated, wrong types) are counted in `stats.malformed` and skipped. A exchange error answer to our
subscription raises `SubscribeRejected` (a reconnect would not cure it).

Typed msgspec decoders (`strict=False` so the venues' quoted decimals decode straight to float in
one pass) are built at import time. Message shapes: protocols.md §9 and the fixtures in
shared/fixtures (Binance spot docs, nautilus_trader test data for Coinbase/OKX/Bybit).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Sequence

import msgspec

from bot.feeds.errors import MalformedFrame, SubscribeRejected
from bot.feeds.types import Exchange, FeedStats, Quote, SeqRule, SequenceGap

__all__ = [
    "BinanceParser",
    "BybitParser",
    "CoinbaseParser",
    "FrameParser",
    "OkxParser",
    "make_parser",
    "parse_rfc3339_ns",
    "wire_symbol",
]

_INF = math.inf
_MS_NS = 1_000_000
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, MalformedFrame)

Emit = Callable[[Quote], None]
OnGap = Callable[[SequenceGap], None]
OnInvalid = Callable[[str], None]


def wire_symbol(exchange: Exchange, symbol: str) -> str:
    """The symbol as the exchange writes it inside data frames (Binance: upper case)."""
    return symbol.upper() if exchange is Exchange.BINANCE else symbol


class FrameParser:
    """Shared state and checks; subclasses implement `_parse` for one exchange's format."""

    exchange: Exchange
    default_seq_rule: SeqRule = SeqRule.NONE

    def __init__(
        self,
        symbols: Sequence[str],
        emit: Emit,
        *,
        stats: FeedStats | None = None,
        seq_rule: SeqRule | None = None,
        on_gap: OnGap | None = None,
        on_invalid: OnInvalid | None = None,
    ) -> None:
        # Wire symbol -> the caller's own str object, so every Quote carries the caller's symbol.
        self._symbols: dict[str, str] = {wire_symbol(self.exchange, s): s for s in symbols}
        self._emit = emit
        self.stats = stats if stats is not None else FeedStats()
        self.seq_rule = self.default_seq_rule if seq_rule is None else seq_rule
        self._on_gap = on_gap
        self._on_invalid = on_invalid
        self._last_seq: dict[str, int] = {}
        self._setup()

    def _setup(self) -> None:
        """Per-exchange state (subclasses)."""

    def reset(self) -> None:
        """Forget sequence state (call on reconnect: numbering restarts with the new session)."""
        self._last_seq.clear()

    def handle(self, frame: bytes | str, recv_ns: int) -> None:
        """Parse one frame; count and skip it if malformed. Raises only `SubscribeRejected`."""
        self.stats.frames += 1
        try:
            self._parse(frame, recv_ns)
        except _DECODE_ERRORS:
            self.stats.malformed += 1

    def _parse(self, frame: bytes | str, recv_ns: int) -> None:
        raise NotImplementedError

    # -- shared checks -------------------------------------------------------------------------

    def _invalidate(self, symbol: str, one_sided: bool) -> None:
        if one_sided:
            self.stats.one_sided += 1
        else:
            self.stats.rejected += 1
        if self._on_invalid is not None:
            self._on_invalid(symbol)

    def _seq_ok(self, key: str, seq: int, recv_ns: int) -> bool:
        """Apply the sequence rule for `key`; False means drop the message (out of order)."""
        rule = self.seq_rule
        if rule is SeqRule.NONE or seq < 0:
            return True
        last = self._last_seq.get(key)
        if last is None:
            self._last_seq[key] = seq
            return True
        if rule is SeqRule.MONOTONIC:
            if seq <= last:
                self.stats.out_of_order += 1
                return False
            self._last_seq[key] = seq
            return True
        # CONTIGUOUS: a repeat (Bybit re-pushes an unchanged level-1 snapshot with the same u)
        # is fine; a skip is a gap; going back is out of order.
        if seq == last + 1 or seq == last:
            self._last_seq[key] = seq
            return True
        if seq < last:
            self.stats.out_of_order += 1
            return False
        self._last_seq[key] = seq
        self.stats.gaps += 1
        self.stats.gap_missed += seq - last - 1
        if self._on_gap is not None:
            self._on_gap(SequenceGap(self.exchange, key, last + 1, seq, recv_ns))
        return True

    def _quote(
        self,
        symbol: str,
        bid: float,
        ask: float,
        bid_qty: float,
        ask_qty: float,
        exch_ts_ns: int,
        recv_ns: int,
        seq: int,
    ) -> None:
        # NaN fails every comparison, so it lands here too.
        if not (0.0 < bid <= ask < _INF):
            self._invalidate(symbol, one_sided=(bid == 0.0 or ask == 0.0))
            return
        self.stats.quotes += 1
        self._emit(Quote(self.exchange, symbol, bid, ask, bid_qty, ask_qty, exch_ts_ns, recv_ns, seq))


# -- Binance spot bookTicker (raw `/ws` or combined `/stream` form) ------------------------------


class _BnBook(msgspec.Struct):
    u: int
    s: str
    b: float
    B: float
    a: float
    A: float


class _BnFrame(msgspec.Struct):
    # Combined stream wrapper.
    stream: str | None = None
    data: _BnBook | None = None
    # Raw stream (same fields at top level).
    u: int | None = None
    s: str = ""
    b: float = 0.0
    B: float = 0.0
    a: float = 0.0
    A: float = 0.0
    # Control: {"result": null, "id": 1} or an error {"code": .., "msg": ..}.
    id: int | str | None = None
    code: int | None = None
    msg: str | None = None


_BN_DECODER = msgspec.json.Decoder(_BnFrame, strict=False)


class BinanceParser(FrameParser):
    """`<sym>@bookTicker`, raw or combined: `{"u","s","b","B","a","A"}`; no exchange time."""

    exchange = Exchange.BINANCE
    # bookTicker's `u` is the whole order book's update id: it also moves on deeper-level
    # changes bookTicker does not push, so skips are normal (protocols.md §9).
    default_seq_rule = SeqRule.MONOTONIC

    def _parse(self, frame: bytes | str, recv_ns: int) -> None:
        msg = _BN_DECODER.decode(frame)
        book = msg.data
        if book is not None:
            symbol = self._symbols.get(book.s)
            if symbol is None:
                self.stats.unknown_symbol += 1
            elif self._seq_ok(symbol, book.u, recv_ns):
                self._quote(symbol, book.b, book.a, book.B, book.A, 0, recv_ns, book.u)
            return
        if msg.u is not None:
            symbol = self._symbols.get(msg.s)
            if symbol is None:
                self.stats.unknown_symbol += 1
            elif self._seq_ok(symbol, msg.u, recv_ns):
                self._quote(symbol, msg.b, msg.a, msg.B, msg.A, 0, recv_ns, msg.u)
            return
        if msg.code is not None and msg.msg is not None:
            raise SubscribeRejected(self.exchange, f"code {msg.code}: {msg.msg}")
        if msg.id is None:
            raise MalformedFrame(self.exchange, "neither bookTicker data nor a control answer")
        self.stats.control += 1


# -- Coinbase Advanced Trade `ticker` -------------------------------------------------------------


class _CbTicker(msgspec.Struct):
    product_id: str
    best_bid: float
    best_ask: float
    best_bid_quantity: float = 0.0
    best_ask_quantity: float = 0.0


class _CbEvent(msgspec.Struct):
    tickers: list[_CbTicker] = []


class _CbFrame(msgspec.Struct):
    channel: str = ""
    timestamp: str = ""
    sequence_num: int = -1
    events: list[_CbEvent] = []
    type: str | None = None
    message: str | None = None


_CB_DECODER = msgspec.json.Decoder(_CbFrame, strict=False)
_TICKER_CHANNELS = frozenset(("ticker", "ticker_batch"))
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
# One-entry cache of the whole-second part: consecutive frames share it, so the per-frame cost is
# one slice compare plus the fraction.
_cached_prefix = ""
_cached_base_ns = 0


def _second_ns(prefix: str) -> int:
    """'YYYY-MM-DDTHH:MM:SS' -> Unix ns of that second."""
    if (
        prefix[4] != "-"
        or prefix[7] != "-"
        or prefix[10] not in "Tt"
        or prefix[13] != ":"
        or prefix[16] != ":"
    ):
        raise MalformedFrame("coinbase", f"bad timestamp {prefix!r}")
    try:
        days = _dt.date(int(prefix[0:4]), int(prefix[5:7]), int(prefix[8:10])).toordinal() - _EPOCH_ORDINAL
        hh, mm, ss = int(prefix[11:13]), int(prefix[14:16]), int(prefix[17:19])
    except ValueError as err:
        raise MalformedFrame("coinbase", f"bad timestamp {prefix!r}") from err
    if not (0 <= hh <= 23 and 0 <= mm <= 59 and 0 <= ss <= 60):
        raise MalformedFrame("coinbase", f"bad time of day {prefix!r}")
    return (days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000_000


def parse_rfc3339_ns(text: str) -> int:
    """`YYYY-MM-DDTHH:MM:SS[.fraction]Z` -> Unix ns (fraction kept to the nanosecond).

    Coinbase sends UTC times with up to 9 fraction digits; datetime would drop the last three.
    """
    n = len(text)
    if n < 20 or text[-1] not in "Zz":
        raise MalformedFrame("coinbase", f"bad timestamp {text[:40]!r}")
    global _cached_prefix, _cached_base_ns
    prefix = text[:19]
    if prefix == _cached_prefix:
        base = _cached_base_ns
    else:
        base = _second_ns(prefix)
        _cached_prefix, _cached_base_ns = prefix, base
    if n == 20:
        return base
    frac = text[20:-1]
    if text[19] != "." or not frac.isdigit() or not frac.isascii():
        raise MalformedFrame("coinbase", f"bad timestamp fraction {text[:40]!r}")
    if len(frac) >= 9:
        return base + int(frac[:9])
    return base + int(frac) * _POW10[9 - len(frac)]


_POW10: list[int] = [10**k for k in range(10)]


class CoinbaseParser(FrameParser):
    """Envelope `{channel, timestamp, sequence_num, events:[{tickers:[...]}]}`.

    `sequence_num` numbers every message of the connection (heartbeats included), so gaps are
    checked per connection and reported with symbol "". [SECONDARY: nautilus_trader's envelope and
    Coinbase's heartbeats docs; pass `seq_rule=SeqRule.NONE` if a live session shows otherwise.]
    """

    exchange = Exchange.COINBASE
    default_seq_rule = SeqRule.CONTIGUOUS

    def _parse(self, frame: bytes | str, recv_ns: int) -> None:
        msg = _CB_DECODER.decode(frame)
        if msg.type == "error":
            raise SubscribeRejected(self.exchange, msg.message or "error")
        if not msg.channel:
            raise MalformedFrame(self.exchange, "no channel")
        seq = msg.sequence_num
        if not self._seq_ok("", seq, recv_ns):
            return
        if msg.channel not in _TICKER_CHANNELS:
            self.stats.control += 1
            return
        ts = parse_rfc3339_ns(msg.timestamp) if msg.timestamp else 0
        for event in msg.events:
            for t in event.tickers:
                symbol = self._symbols.get(t.product_id)
                if symbol is None:
                    self.stats.unknown_symbol += 1
                    continue
                self._quote(
                    symbol, t.best_bid, t.best_ask, t.best_bid_quantity, t.best_ask_quantity, ts, recv_ns, seq
                )


# -- OKX v5 public `bbo-tbt` and `tickers` --------------------------------------------------------


class _OkxArg(msgspec.Struct):
    channel: str
    instId: str = ""


class _OkxData(msgspec.Struct):
    # bbo-tbt: rows [price, size, "0", orders]
    asks: list[list[float]] = []
    bids: list[list[float]] = []
    seqId: int = -1
    # tickers
    instId: str = ""
    bidPx: float | None = None
    bidSz: float = 0.0
    askPx: float | None = None
    askSz: float = 0.0
    ts: int = 0


class _OkxFrame(msgspec.Struct):
    arg: _OkxArg | None = None
    data: list[_OkxData] | None = None
    event: str | None = None
    code: str | None = None
    msg: str | None = None


_OKX_DECODER = msgspec.json.Decoder(_OkxFrame, strict=False)


class OkxParser(FrameParser):
    """`{"arg":{channel,instId},"data":[...]}`; the keep-alive answer is the bare text "pong"."""

    exchange = Exchange.OKX
    # bbo-tbt carries the book's seqId, which also moves on changes below the top level.
    default_seq_rule = SeqRule.MONOTONIC

    def _parse(self, frame: bytes | str, recv_ns: int) -> None:
        if frame == b"pong" or frame == "pong":
            self.stats.control += 1
            return
        msg = _OKX_DECODER.decode(frame)
        if msg.event is not None:
            if msg.event == "error":
                raise SubscribeRejected(self.exchange, f"code {msg.code}: {msg.msg}")
            self.stats.control += 1
            return
        arg, data = msg.arg, msg.data
        if arg is None or data is None:
            raise MalformedFrame(self.exchange, "neither data push nor event")
        symbol = self._symbols.get(arg.instId)
        if symbol is None:
            self.stats.unknown_symbol += 1
            return
        tickers = arg.channel == "tickers"
        for d in data:
            if tickers:
                bid, ask = d.bidPx, d.askPx
                if bid is None or ask is None:
                    raise MalformedFrame(self.exchange, "tickers push without bidPx/askPx")
                self._quote(symbol, bid, ask, d.bidSz, d.askSz, d.ts * _MS_NS, recv_ns, -1)
                continue
            bids, asks = d.bids, d.asks
            if not bids or not asks:
                self._invalidate(symbol, one_sided=True)
                continue
            b0, a0 = bids[0], asks[0]
            if len(b0) < 2 or len(a0) < 2:
                raise MalformedFrame(self.exchange, "book row shorter than [price, size]")
            if self._seq_ok(symbol, d.seqId, recv_ns):
                self._quote(symbol, b0[0], a0[0], b0[1], a0[1], d.ts * _MS_NS, recv_ns, d.seqId)


# -- Bybit v5 `orderbook.1.<symbol>` -------------------------------------------------------------


class _ByData(msgspec.Struct):
    s: str
    b: list[list[float]]
    a: list[list[float]]
    u: int
    seq: int = 0


class _ByFrame(msgspec.Struct):
    topic: str | None = None
    type: str | None = None
    ts: int = 0
    data: _ByData | None = None
    # control: subscribe / pong answers
    op: str | None = None
    success: bool | None = None
    ret_msg: str | None = None


_BY_DECODER = msgspec.json.Decoder(_ByFrame, strict=False)
_NAN = math.nan


class BybitParser(FrameParser):
    """Level-1 book: keeps [bid, bid_qty, ask, ask_qty] per symbol; snapshot resets, delta edits.

    Size "0" deletes a level; a delta that empties a side leaves a one-sided book, which marks the
    symbol stale instead of emitting a quote. u == 1 means the exchange restarted the book.
    """

    exchange = Exchange.BYBIT
    default_seq_rule = SeqRule.CONTIGUOUS

    def _setup(self) -> None:
        self._books: dict[str, list[float]] = {}

    def reset(self) -> None:
        super().reset()
        self._books.clear()

    def _parse(self, frame: bytes | str, recv_ns: int) -> None:
        msg = _BY_DECODER.decode(frame)
        d = msg.data
        if d is None:
            if msg.success is False:
                raise SubscribeRejected(self.exchange, msg.ret_msg or "subscribe failed")
            if msg.op is None and msg.success is None:
                raise MalformedFrame(self.exchange, "neither book data nor op answer")
            self.stats.control += 1
            return
        symbol = self._symbols.get(d.s)
        if symbol is None:
            self.stats.unknown_symbol += 1
            return
        for row in d.b:
            if len(row) < 2:
                raise MalformedFrame(self.exchange, "book row shorter than [price, size]")
        for row in d.a:
            if len(row) < 2:
                raise MalformedFrame(self.exchange, "book row shorter than [price, size]")
        snapshot = msg.type == "snapshot"
        if not snapshot and msg.type != "delta":
            raise MalformedFrame(self.exchange, f"unknown book message type {msg.type!r}")
        if d.u == 1:
            self._last_seq.pop(symbol, None)
        if not self._seq_ok(symbol, d.u, recv_ns):
            return
        book = self._books.get(symbol)
        if snapshot or book is None:
            if not snapshot:
                # A delta before any snapshot has nothing to apply to.
                self._invalidate(symbol, one_sided=True)
                return
            book = [_NAN, 0.0, _NAN, 0.0]
            self._books[symbol] = book
            # Snapshot sides are sorted best first.
            if d.b:
                book[0], book[1] = d.b[0][0], d.b[0][1]
            if d.a:
                book[2], book[3] = d.a[0][0], d.a[0][1]
        else:
            for row in d.b:
                px, sz = row[0], row[1]
                if sz == 0.0:
                    if px == book[0]:
                        book[0], book[1] = _NAN, 0.0
                else:
                    book[0], book[1] = px, sz
            for row in d.a:
                px, sz = row[0], row[1]
                if sz == 0.0:
                    if px == book[2]:
                        book[2], book[3] = _NAN, 0.0
                else:
                    book[2], book[3] = px, sz
        bid, ask = book[0], book[2]
        if bid != bid or ask != ask:  # NaN: a side is empty
            self._invalidate(symbol, one_sided=True)
            return
        self._quote(symbol, bid, ask, book[1], book[3], msg.ts * _MS_NS, recv_ns, d.u)


_PARSERS: dict[Exchange, type[FrameParser]] = {
    Exchange.BINANCE: BinanceParser,
    Exchange.COINBASE: CoinbaseParser,
    Exchange.OKX: OkxParser,
    Exchange.BYBIT: BybitParser,
}


def make_parser(
    exchange: Exchange,
    symbols: Sequence[str],
    emit: Emit,
    *,
    stats: FeedStats | None = None,
    seq_rule: SeqRule | None = None,
    on_gap: OnGap | None = None,
    on_invalid: OnInvalid | None = None,
) -> FrameParser:
    """The parser for `exchange`, accepting `symbols` (as configured) and emitting Quotes."""
    return _PARSERS[exchange](
        symbols, emit, stats=stats, seq_rule=seq_rule, on_gap=on_gap, on_invalid=on_invalid
    )
