"""Property tests: malformed, truncated and wrong-type frames are counted and skipped, never crash."""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.feeds import Exchange, FeedStats, Quote, SubscribeRejected, make_parser

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])

SYMBOLS = {
    Exchange.BINANCE: ["BNBUSDT"],
    Exchange.COINBASE: ["BTC-USD"],
    Exchange.OKX: ["BTC-USDT"],
    Exchange.BYBIT: ["BTCUSDT"],
}


def _compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _load():
    bn = json.loads((FIXTURES / "binance_spot_ws_samples.json").read_text())
    frames = [
        (Exchange.BINANCE, bn["bookTicker_raw"]),
        (Exchange.BINANCE, bn["combined_bookTicker"]),
        (Exchange.COINBASE, json.loads((FIXTURES / "nautilus_coinbase_ws_ticker.json").read_text())),
        (Exchange.OKX, json.loads((FIXTURES / "nautilus_okx_ws_bbo_tbt.json").read_text())),
        (Exchange.OKX, json.loads((FIXTURES / "nautilus_okx_ws_tickers.json").read_text())),
        (Exchange.BYBIT, json.loads((FIXTURES / "nautilus_bybit_ws_orderbook_snapshot.json").read_text())),
    ]
    return frames


VALID = _load()


def _parser(venue):
    out: list[Quote] = []
    stats = FeedStats()
    return make_parser(venue, SYMBOLS[venue], out.append, stats=stats), out, stats


def _check_quotes(out: list[Quote]) -> None:
    for q in out:
        assert 0.0 < q.bid <= q.ask < math.inf and not math.isnan(q.bid_qty + q.ask_qty)


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))
    yield path


def _replace(obj, path, value):
    if not path:
        return value
    copy = json.loads(json.dumps(obj))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


# Replacing one of these containers can leave a valid frame with no ticker / no data row.
EMPTYABLE = {("events",), ("events", 0), ("events", 0, "tickers"), ("data",)}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(which=st.integers(0, len(VALID) - 1), data=st.data())
def test_truncated_frames_are_malformed(which, data):
    venue, obj = VALID[which]
    frame = _compact(obj)
    cut = data.draw(st.integers(0, len(frame) - 1))
    parser, out, stats = _parser(venue)
    parser.handle(frame[:cut], 1)
    assert stats.frames == 1 and stats.malformed == 1 and out == []


@settings(max_examples=400, deadline=None)
@given(which=st.integers(0, len(VALID) - 1), data=st.data(), value=json_values)
def test_wrong_type_values_never_crash(which, data, value):
    venue, obj = VALID[which]
    leaves = list(_leaves(obj))
    path = data.draw(st.sampled_from(leaves))
    parser, out, stats = _parser(venue)
    with contextlib.suppress(SubscribeRejected):
        parser.handle(_compact(_replace(obj, path, value)), 1)
    assert stats.frames == 1
    _check_quotes(out)
    # Every frame ends somewhere: a quote, a count, or dropped by a rule; only an emptied
    # container (no tickers / no data rows) legitimately yields nothing.
    accounted = (
        stats.quotes
        + stats.malformed
        + stats.rejected
        + stats.one_sided
        + stats.unknown_symbol
        + stats.control
    )
    assert accounted >= 1 or stats.out_of_order or path in EMPTYABLE


@settings(max_examples=300, deadline=None)
@given(venue=st.sampled_from(list(Exchange)), frame=st.binary(max_size=200) | st.text(max_size=200))
def test_random_bytes_never_crash(venue, frame):
    parser, out, stats = _parser(venue)
    with contextlib.suppress(SubscribeRejected):
        parser.handle(frame, 1)
    assert stats.frames == 1
    _check_quotes(out)


def test_valid_frames_still_parse_after_garbage():
    for venue, obj in VALID:
        parser, out, stats = _parser(venue)
        for junk in (b"", b"{", b"[]", b"null", b'{"data":5}', b"\xff\xfe", "\u2603"):
            parser.handle(junk, 1)
        parser.handle(_compact(obj), 2)
        assert stats.malformed == 7, venue
        assert len(out) == 1 and out[0].recv_ns == 2
