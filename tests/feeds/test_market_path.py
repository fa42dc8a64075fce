from __future__ import annotations

import math

import pytest

from bot.feeds import BadFeedArgs, UnknownExchange, make_feed
from localnet.market_path import gbm_path, load_replay


def test_gbm_is_seeded_and_well_formed():
    a = gbm_path(seed=3, n=500, s0=150.0, spread_bps=4.0)
    assert a == gbm_path(seed=3, n=500, s0=150.0, spread_bps=4.0)
    assert a != gbm_path(seed=4, n=500, s0=150.0, spread_bps=4.0)
    assert a[0].bid == pytest.approx(150.0 * (1 - 2e-4)) and a[0].ask == pytest.approx(150.0 * (1 + 2e-4))
    for p in a:
        assert 0 < p.bid < p.ask < math.inf
        assert (p.ask - p.bid) / ((p.ask + p.bid) / 2) == pytest.approx(4e-4, rel=1e-9)
    assert [p.t_ns for p in a[:3]] == [0, 100_000_000, 200_000_000]


def test_replay_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("t_ns,bid,ask\n0,1,2\n5,abc,2\n")
    with pytest.raises(ValueError, match=r"bad.csv:3"):
        load_replay(bad)
    crossed = tmp_path / "crossed.csv"
    crossed.write_text("0,3,2\n")
    with pytest.raises(ValueError, match="bid <= ask"):
        load_replay(crossed)


def test_make_feed_argument_errors():
    with pytest.raises(UnknownExchange, match="kraken"):
        make_feed("kraken", "ws://x", ["A"], stale_after_ns=1)
    with pytest.raises(BadFeedArgs):
        make_feed("binance", "ws://x", [], stale_after_ns=1)
    with pytest.raises(BadFeedArgs):
        make_feed("binance", "ws://x", ["A", "A"], stale_after_ns=1)
    with pytest.raises(BadFeedArgs, match="channel"):
        make_feed("okx", "ws://x", ["A"], stale_after_ns=1, channel="books")
    with pytest.raises(ValueError):
        make_feed("okx", "ws://x", ["A"], stale_after_ns=0)
    with pytest.raises(BadFeedArgs, match="backoff"):
        make_feed("okx", "ws://x", ["A"], stale_after_ns=1, backoff_base_s=2.0, backoff_cap_s=1.0)
