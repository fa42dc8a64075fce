"""Latest valid quote per symbol, and the staleness rule the detector consults."""

from __future__ import annotations

from collections.abc import Iterable

from bot.feeds.types import Quote

__all__ = ["LatestQuotes"]


class LatestQuotes:
    """Latest valid `Quote` per symbol; a symbol is stale when it has none or it is too old.

    Age is measured on the monotonic receive time (`Quote.recv_ns`, `time.monotonic_ns()`), never on
    the exchange's clock. A disconnect or an unusable book (one-sided, crossed) drops the symbol's
    quote, so it reads stale at once instead of after `stale_after_ns`.
    """

    __slots__ = ("_latest", "stale_after_ns", "symbols")

    def __init__(self, symbols: Iterable[str], stale_after_ns: int) -> None:
        if stale_after_ns <= 0:
            raise ValueError(f"stale_after_ns must be > 0, got {stale_after_ns}")
        self.symbols: tuple[str, ...] = tuple(symbols)
        self.stale_after_ns = stale_after_ns
        self._latest: dict[str, Quote] = {}

    def update(self, quote: Quote) -> None:
        self._latest[quote.symbol] = quote

    def invalidate(self, symbol: str) -> None:
        self._latest.pop(symbol, None)

    def invalidate_all(self) -> None:
        self._latest.clear()

    def get(self, symbol: str) -> Quote | None:
        """The latest valid quote, stale or not (None after invalidation)."""
        return self._latest.get(symbol)

    def fresh(self, symbol: str, now_ns: int) -> Quote | None:
        """The latest quote if it is not stale at `now_ns`, else None."""
        q = self._latest.get(symbol)
        if q is None or now_ns - q.recv_ns > self.stale_after_ns:
            return None
        return q

    def is_stale(self, symbol: str, now_ns: int) -> bool:
        q = self._latest.get(symbol)
        return q is None or now_ns - q.recv_ns > self.stale_after_ns

    def stale_symbols(self, now_ns: int) -> frozenset[str]:
        """Every configured symbol that is stale at `now_ns`."""
        return frozenset(s for s in self.symbols if self.is_stale(s, now_ns))
