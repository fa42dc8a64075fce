"""CEX quotes into the market vector: per-token USD per raw unit, the SOL price, and full re-evaluation
only when SOL moves beyond the threshold."""

from __future__ import annotations

import pytest

from bot.config import WSOL_MINT, parse_config
from bot.feeds import Exchange, Quote
from bot.prices import Prices
from strategies import layout

JUP = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN"


def quote(sym: str, bid: float, ask: float) -> Quote:
    return Quote(Exchange.BINANCE, sym, bid, ask, 1.0, 1.0, 0, 0, -1)


def test_prices_and_sol_reevaluation():
    cfg = parse_config(
        f'[tokens]\nJUP = "{JUP}"\n[feeds.symbols]\nSOLUSDC = "SOL/USDC"\nJUPUSDT = "JUP/USDT"\n'
        '[[feeds.cex]]\nvenue = "binance"\nurl = "ws://127.0.0.1:1/stream"\nsymbols = ["SOLUSDC", "JUPUSDT"]\n'
    )
    market = layout.allocate(1, 2).market
    tokens = {WSOL_MINT: 0, JUP: 1}
    touched: list[int] = []
    full = []
    p = Prices(
        cfg,
        market,
        tokens,
        {WSOL_MINT: 9, JUP: 6},
        on_token=touched.append,
        on_sol_price=lambda: full.append(1),
    )
    p.on_quote(quote("JUPUSDT", 0.99, 1.01))
    assert market[layout.token_slot(1, layout.T_USD_PER_UNIT)] == pytest.approx(1.0e-6)
    assert touched == [1] and full == []
    p.on_quote(quote("SOLUSDC", 150.0, 150.2))
    assert market[layout.M_SOL_USD] == pytest.approx(150.1)
    assert layout.lamports_per_unit(market, 1) == pytest.approx(1.0e-6 * 1e9 / 150.1)
    assert full == [1]
    p.on_quote(quote("SOLUSDC", 150.0, 150.2 + 0.002))  # < 1 bps: no full re-evaluation
    assert full == [1]
    p.on_quote(quote("SOLUSDC", 151.0, 151.2))
    assert full == [1, 1]
    p.on_quote(quote("BTCUSDC", 1.0, 2.0))  # not configured: ignored
    assert p.stats.quotes == 4


def test_feeds_symbols_config_is_checked(tmp_path):
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="BASE/QUOTE"):
        parse_config('[feeds.symbols]\nSOLUSDC = "SOL-USDC"\n')
    with pytest.raises(ConfigError, match="not an alias"):
        parse_config('[feeds.symbols]\nJUPUSDC = "JUP/USDC"\n')
    with pytest.raises(ConfigError, match="no pair"):
        parse_config('[[feeds.cex]]\nvenue = "binance"\nurl = "ws://x/stream"\nsymbols = ["SOLUSDC"]\n')
