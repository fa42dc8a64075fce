"""Golden tests: the venues' documented sample messages through the real parsers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.feeds import (
    Exchange,
    FeedStats,
    MalformedFrame,
    Quote,
    SeqRule,
    SequenceGap,
    SubscribeRejected,
    make_parser,
)
from bot.feeds.parsers import parse_rfc3339_ns
from bot.feeds.protocol import subscribe_messages

RECV = 123_456_789


def run(venue, symbols, frames, **kw):
    out: list[Quote] = []
    gaps: list[SequenceGap] = []
    invalid: list[str] = []
    stats = FeedStats()
    p = make_parser(
        venue, symbols, out.append, stats=stats, on_gap=gaps.append, on_invalid=invalid.append, **kw
    )
    for i, f in enumerate(frames):
        p.handle(f, RECV + i)
    return out, stats, gaps, invalid


def binance_entry(fixture_bytes, key) -> bytes:
    return json.dumps(json.loads(fixture_bytes("binance_spot_ws_samples.json"))[key]).encode()


@pytest.mark.parametrize("key", ["bookTicker_raw", "combined_bookTicker"])
def test_binance_bookticker(fixture_bytes, key):
    frame = binance_entry(fixture_bytes, key)
    out, stats, _, _ = run(Exchange.BINANCE, ["BNBUSDT"], [frame])
    assert stats.malformed == 0 and stats.quotes == 1
    (q,) = out
    assert q.exchange is Exchange.BINANCE
    assert q.symbol == "BNBUSDT"
    assert q.bid == 25.3519 and q.bid == float("25.35190000")
    assert q.ask == 25.3652
    assert q.bid_qty == 31.21
    assert q.ask_qty == 40.66
    assert q.exch_ts_ns == 0  # bookTicker carries no event time
    assert q.recv_ns == RECV
    assert q.seq == 400900217


def test_binance_symbol_is_callers_object_and_case_insensitive(fixture_bytes):
    mine = "".join(["bnb", "usdt"])  # lower case, as a config might give it
    out, _, _, _ = run(Exchange.BINANCE, [mine], [binance_entry(fixture_bytes, "combined_bookTicker")])
    assert out[0].symbol is mine


def test_binance_control_and_unknown(fixture_bytes):
    frames = [
        binance_entry(fixture_bytes, "subscribe_response"),
        binance_entry(fixture_bytes, "combined_bookTicker"),
    ]
    out, stats, _, _ = run(Exchange.BINANCE, ["ETHUSDT"], frames)
    assert out == [] and stats.control == 1 and stats.unknown_symbol == 1 and stats.malformed == 0
    # A trade payload on a bookTicker feed is the wrong shape: counted, skipped.
    _, stats, _, _ = run(Exchange.BINANCE, ["BNBBTC"], [binance_entry(fixture_bytes, "combined_trade")])
    assert stats.malformed == 1 and stats.quotes == 0


def test_binance_error_answer_raises():
    with pytest.raises(SubscribeRejected):
        run(Exchange.BINANCE, ["BNBUSDT"], [b'{"code": 2, "msg": "Invalid request", "id": 1}'])


def test_coinbase_ticker(fixture_bytes):
    out, stats, gaps, _ = run(
        Exchange.COINBASE, ["BTC-USD"], [fixture_bytes("nautilus_coinbase_ws_ticker.json")]
    )
    assert stats.malformed == 0 and gaps == []
    (q,) = out
    assert q.exchange is Exchange.COINBASE and q.symbol == "BTC-USD"
    assert q.bid == 68900.00 and q.ask == 68901.00
    assert q.bid_qty == 1.5 and q.ask_qty == 0.5
    # 2026-04-07T14:30:03Z
    assert q.exch_ts_ns == 1_775_572_203_000_000_000
    assert q.seq == 12
    assert q.recv_ns == RECV


def test_rfc3339_nanoseconds():
    t = dt.datetime(2023, 2, 9, 20, 32, 50, tzinfo=dt.UTC)
    base = int(t.timestamp()) * 1_000_000_000
    assert parse_rfc3339_ns("2023-02-09T20:32:50.714964855Z") == base + 714_964_855
    assert parse_rfc3339_ns("2023-02-09T20:32:50.7Z") == base + 700_000_000
    assert parse_rfc3339_ns("2023-02-09T20:32:50Z") == base


@settings(max_examples=300, deadline=None)
@given(
    t=st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1)),
    extra=st.integers(0, 999),
    digits=st.integers(0, 9),
)
def test_rfc3339_matches_datetime(t, extra, digits):
    whole = int(t.replace(tzinfo=dt.UTC, microsecond=0).timestamp())  # exact for whole seconds
    ns = whole * 10**9 + t.microsecond * 1000 + extra
    frac = f"{t.microsecond:06d}{extra:03d}"[:digits]
    text = t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if digits else "") + "Z"
    expect = ns - ns % 10 ** (9 - digits)
    assert parse_rfc3339_ns(text) == expect


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "2026-04-07T14:30:03",
        "2026-04-07T14:30:03.Z",
        "2026-13-07T14:30:03Z",
        "2026-04-07T24:30:03Z",
        "2026-04-07T14:30:03.1a2Z",
        "2026-04-07T14:30:03+00:00",
    ],
)
def test_rfc3339_rejects(bad):
    with pytest.raises(MalformedFrame):
        parse_rfc3339_ns(bad)


def test_okx_bbo_tbt(fixture_bytes):
    out, stats, _, _ = run(Exchange.OKX, ["BTC-USDT"], [fixture_bytes("nautilus_okx_ws_bbo_tbt.json")])
    assert stats.malformed == 0
    (q,) = out
    assert q.exchange is Exchange.OKX and q.symbol == "BTC-USDT"
    assert q.bid == 8476.97 and q.ask == 8476.98
    assert q.bid_qty == 256.0 and q.ask_qty == 415.0
    assert q.exch_ts_ns == 1_597_026_383_085_000_000
    assert q.seq == 123456


def test_okx_tickers(fixture_bytes):
    out, stats, _, _ = run(Exchange.OKX, ["BTC-USDT"], [fixture_bytes("nautilus_okx_ws_tickers.json")])
    assert stats.malformed == 0
    (q,) = out
    assert q.bid == 8888.88 and q.ask == 9999.99
    assert q.bid_qty == 5.0 and q.ask_qty == 11.0
    assert q.exch_ts_ns == 1_597_026_383_085_000_000
    assert q.seq == -1  # tickers carries no sequence


def test_okx_pong_and_event():
    frames = [b"pong", b'{"event":"subscribe","arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"connId":"a"}']
    out, stats, _, _ = run(Exchange.OKX, ["BTC-USDT"], frames)
    assert out == [] and stats.control == 2 and stats.malformed == 0
    with pytest.raises(SubscribeRejected):
        run(Exchange.OKX, ["BTC-USDT"], [b'{"event":"error","code":"60012","msg":"Invalid request"}'])


def test_bybit_snapshot_then_delta(fixture_bytes):
    snap = fixture_bytes("nautilus_bybit_ws_orderbook_snapshot.json")
    delta = fixture_bytes("nautilus_bybit_ws_orderbook_delta.json")
    out, stats, gaps, invalid = run(Exchange.BYBIT, ["BTCUSDT"], [snap, delta])
    assert stats.malformed == 0 and gaps == []
    (q,) = out  # the delta deletes the only ask: one-sided, no quote
    assert q.exchange is Exchange.BYBIT and q.symbol == "BTCUSDT"
    assert q.bid == 27450.00 and q.ask == 27451.00
    assert q.bid_qty == 0.5 and q.ask_qty == 0.75
    assert q.exch_ts_ns == 1_709_891_679_000_000_000
    assert q.seq == 123456789
    assert stats.one_sided == 1 and invalid == ["BTCUSDT"]


def test_bybit_delta_updates_bid_size(fixture_bytes):
    snap = fixture_bytes("nautilus_bybit_ws_orderbook_snapshot.json")
    delta = json.loads(fixture_bytes("nautilus_bybit_ws_orderbook_delta.json"))
    delta["data"]["a"] = [["27451.00", "0"], ["27452.00", "2.5"]]  # replace the deleted ask
    out, _, _, _ = run(Exchange.BYBIT, ["BTCUSDT"], [snap, json.dumps(delta).encode()])
    q = out[-1]
    assert (q.bid, q.bid_qty, q.ask, q.ask_qty) == (27450.0, 0.4, 27452.0, 2.5)
    assert q.exch_ts_ns == 1_709_891_679_500_000_000 and q.seq == 123456790


def bybit_snap(u: int, bid: str = "10", ask: str = "11") -> bytes:
    return json.dumps(
        {
            "topic": "orderbook.1.X",
            "type": "snapshot",
            "ts": 1,
            "data": {"s": "X", "b": [[bid, "1"]], "a": [[ask, "1"]], "u": u, "seq": u},
        }
    ).encode()


def test_bybit_sequence_gap_repeat_restart_and_regression():
    frames = [
        bybit_snap(5),
        bybit_snap(6),
        bybit_snap(6),
        bybit_snap(9),
        bybit_snap(8),
        bybit_snap(1),
        bybit_snap(2),
    ]
    out, stats, gaps, _ = run(Exchange.BYBIT, ["X"], frames)
    assert [q.seq for q in out] == [5, 6, 6, 9, 1, 2]
    assert gaps == [SequenceGap(Exchange.BYBIT, "X", 7, 9, RECV + 3)]
    assert gaps[0].missed == 2
    assert stats.gaps == 1 and stats.gap_missed == 2 and stats.out_of_order == 1


def test_binance_monotonic_rule_drops_regressions_only():
    def f(u):
        return json.dumps({"u": u, "s": "X", "b": "1", "B": "1", "a": "2", "A": "1"}).encode()

    out, stats, gaps, _ = run(Exchange.BINANCE, ["X"], [f(10), f(15), f(15), f(12), f(16)])
    assert [q.seq for q in out] == [10, 15, 16]
    assert gaps == [] and stats.out_of_order == 2
    out, stats, gaps, _ = run(Exchange.BINANCE, ["X"], [f(10), f(11), f(14)], seq_rule=SeqRule.CONTIGUOUS)
    assert [(g.expected, g.received) for g in gaps] == [(12, 14)]


def test_coinbase_connection_sequence_gap(fixture_bytes):
    msg = json.loads(fixture_bytes("nautilus_coinbase_ws_ticker.json"))
    frames = []
    for n in (12, 13, 15):
        msg["sequence_num"] = n
        frames.append(json.dumps(msg).encode())
    out, stats, gaps, _ = run(Exchange.COINBASE, ["BTC-USD"], frames)
    assert stats.gaps == 1 and stats.gap_missed == 1
    assert len(out) == 3
    assert [(g.symbol, g.expected, g.received) for g in gaps] == [("", 14, 15)]


@pytest.mark.parametrize(
    ("bid", "ask", "field"),
    [
        ("0", "2", "one_sided"),
        ("3", "2", "rejected"),
        ("nan", "2", "rejected"),
        ("1", "inf", "rejected"),
        ("-1", "2", "rejected"),
    ],
)
def test_unusable_prices_invalidate_the_symbol(bid, ask, field):
    frame = json.dumps({"u": 1, "s": "X", "b": bid, "B": "1", "a": ask, "A": "1"}).encode()
    out, stats, _, invalid = run(Exchange.BINANCE, ["X"], [frame])
    assert out == [] and getattr(stats, field) == 1 and invalid == ["X"]


def test_subscribe_messages():
    assert json.loads(subscribe_messages(Exchange.BINANCE, ["SOLUSDC", "BNBUSDT"])[0]) == {
        "method": "SUBSCRIBE",
        "params": ["solusdc@bookTicker", "bnbusdt@bookTicker"],
        "id": 1,
    }
    cb = [json.loads(m) for m in subscribe_messages(Exchange.COINBASE, ["SOL-USD"])]
    assert cb == [
        {"type": "subscribe", "product_ids": ["SOL-USD"], "channel": "ticker"},
        {"type": "subscribe", "channel": "heartbeats"},
    ]
    assert json.loads(subscribe_messages(Exchange.OKX, ["SOL-USDC"], "tickers")[0]) == {
        "op": "subscribe",
        "args": [{"channel": "tickers", "instId": "SOL-USDC"}],
    }
    by = [json.loads(m) for m in subscribe_messages(Exchange.BYBIT, [f"S{i}" for i in range(12)])]
    assert [len(m["args"]) for m in by] == [10, 2] and by[0]["args"][0] == "orderbook.1.S0"
