"""Errors of the CEX feed package: one root (`FeedError`), typed variants carrying data."""

from __future__ import annotations

import asyncio


class FeedError(Exception):
    """Root of every error raised by `bot.feeds`. `str(err)` is one line."""


class UnknownExchange(FeedError):
    """The exchange name is not one of the supported venues."""

    def __init__(self, exchange: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown CEX exchange {exchange!r}; expected one of {', '.join(known)}")
        self.exchange = exchange


class BadFeedArgs(FeedError):
    """A feed was built with impossible arguments (no symbols, too many streams, ...)."""


class MalformedFrame(FeedError):
    """A frame could not be decoded into the exchange's message shape."""

    def __init__(self, exchange: str, reason: str) -> None:
        super().__init__(f"{exchange}: malformed frame: {reason}")
        self.exchange = exchange
        self.reason = reason


class TransportClosed(FeedError):
    """The websocket closed (by the peer, the network or us)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"websocket closed (code={code}): {reason}")
        self.code = code
        self.reason = reason


class ConnectFailed(FeedError):
    """Opening the websocket failed (DNS, TCP, TLS, HTTP handshake)."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"cannot connect to {url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class SubscribeRejected(FeedError):
    """The exchange answered our subscribe with an error message."""

    def __init__(self, exchange: str, message: str) -> None:
        super().__init__(f"{exchange}: subscription rejected: {message}")
        self.exchange = exchange
        self.message = message


def is_retryable(err: BaseException) -> bool:
    """True for failures a reconnect can cure: closed sockets, network errors, 5xx/429 handshakes.

    A rejected subscription or a 4xx handshake (bad URL, bad symbol) will fail the same way again.
    """
    if isinstance(err, ConnectFailed):
        return err.status is None or err.status == 429 or err.status >= 500
    return isinstance(err, TransportClosed | OSError | asyncio.TimeoutError | EOFError)
