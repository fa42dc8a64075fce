"""CEX prices into the detector's market vector: the SOL price (converts lamport costs into other
start tokens), each token's USD value per raw unit (CEX-DEX routes), and staleness.

A symbol with no update for `[feeds] stale_after_ms` (or whose feed disconnected) has its price zeroed:
the detector then ignores routes that need it. Prices are floats: they value and screen, never size
an on-chain amount.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.config import WSOL_MINT, Config
from bot.feeds import FeedClient, Quote
from strategies import layout


@dataclass(slots=True)
class PriceTarget:
    token: int  # route-table token index, -1 when the base is not traded (SOL price only)
    scale: float  # 1 / 10**decimals: USD per raw unit = mid * scale
    is_sol: bool


@dataclass(slots=True)
class PriceStats:
    quotes: int = 0
    stale_marks: int = 0
    targets: dict[str, PriceTarget] = field(default_factory=dict)


class Prices:
    def __init__(
        self,
        cfg: Config,
        market: layout.F64Array,
        token_index: dict[str, int],
        decimals: dict[str, int],
        *,
        on_token: Callable[[int], None] = lambda t: None,
        on_sol_price: Callable[[], None] = lambda: None,
        sol_move_bps: float = 1.0,
    ) -> None:
        self.market = market
        self.on_token = on_token
        # The SOL price values every route's lamport costs in non-SOL start tokens: a move beyond
        # `sol_move_bps` since the last re-evaluation re-prices every route (conflated by the engine).
        self.on_sol_price = on_sol_price
        self._sol_move = sol_move_bps * 1e-4
        self._sol_at_last_eval = 0.0
        self.stats = PriceStats()
        self.stale_after_ns = cfg.feeds.stale_after_ms * 1_000_000
        for sym, pair in cfg.feeds.symbols.items():
            base = pair.split("/", 1)[0]
            mint = WSOL_MINT if base == "SOL" else cfg.mint(base)
            dec = decimals.get(mint, 9 if mint == WSOL_MINT else -1)
            if dec < 0:
                continue  # not a token of any route and not SOL: nothing to price
            self.stats.targets[sym] = PriceTarget(token_index.get(mint, -1), 10.0**-dec, mint == WSOL_MINT)
        # The quote assets of USD pairs (USDC, USDT) are valued at 1 USD when a route trades them.
        for pair in cfg.feeds.symbols.values():
            quote_mint = cfg.tokens.get(pair.split("/", 1)[1])
            if quote_mint is not None and quote_mint in token_index and decimals.get(quote_mint, -1) >= 0:
                layout.write_token(
                    market, token_index[quote_mint], usd_per_unit=10.0 ** -decimals[quote_mint]
                )

    def on_quote(self, q: Quote) -> None:
        target = self.stats.targets.get(q.symbol)
        if target is None:
            return
        self.stats.quotes += 1
        mid = 0.5 * (q.bid + q.ask)
        if target.is_sol:
            self.market[layout.M_SOL_USD] = mid
            last = self._sol_at_last_eval
            if last <= 0.0 or abs(mid - last) > self._sol_move * last:
                self._sol_at_last_eval = mid
                self.on_sol_price()
        if target.token >= 0:
            layout.write_token(self.market, target.token, usd_per_unit=mid * target.scale)
            self.on_token(target.token)

    def mark_stale(self, feeds: Sequence[FeedClient]) -> None:
        """Zero the price of every stale symbol (no update within stale_after, or feed disconnected)."""
        for feed in feeds:
            for sym in feed.stale_symbols():
                target = self.stats.targets.get(sym)
                if target is None:
                    continue
                self.stats.stale_marks += 1
                if target.is_sol:
                    self.market[layout.M_SOL_USD] = 0.0
                    self._sol_at_last_eval = 0.0
                if target.token >= 0:
                    layout.write_token(self.market, target.token, usd_per_unit=0.0)

    async def run_staleness(self, feeds: Sequence[FeedClient]) -> None:
        """Staleness is a matter of time passing, so a timer judges it (a quarter of the threshold)."""
        period = max(0.01, self.stale_after_ns / 4e9)
        while True:
            await asyncio.sleep(period)
            self.mark_stale(feeds)


def build_feeds(cfg: Config, prices: Prices) -> list[FeedClient]:
    """One client per `[[feeds.cex]]` entry, each feeding `prices`."""
    return [
        FeedClient(
            f.venue, f.url, list(f.symbols), stale_after_ns=prices.stale_after_ns, on_update=prices.on_quote
        )
        for f in cfg.feeds.cex
    ]
