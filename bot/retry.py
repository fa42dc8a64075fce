"""One retry/backoff helper for the whole bot: capped exponential backoff with full jitter.

Full jitter (delay drawn uniformly from [0, min(cap, base * 2**attempt)]) spreads reconnecting
clients apart, so a venue restart does not see every client come back in the same millisecond.
Cancellation is plain asyncio: `retry` only awaits `fn()` and `asyncio.sleep`, so cancelling the
calling task stops it at once and propagates `CancelledError`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

__all__ = ["RetryExhausted", "backoff_delays", "retry"]


class RetryExhausted(Exception):
    """`max_attempts` calls all failed with retryable errors; `__cause__` is the last error."""

    def __init__(self, attempts: int, last: BaseException) -> None:
        super().__init__(f"gave up after {attempts} attempts: {last!r}")
        self.attempts = attempts
        self.last = last


def backoff_delays(base_s: float, cap_s: float, rng: random.Random | None = None) -> Iterator[float]:
    """Endless delays in seconds: attempt k sleeps uniform(0, min(cap_s, base_s * 2**k)).

    Every delay is <= cap_s. Pass a seeded `random.Random` for reproducible delays in tests.
    Start a new generator to reset the backoff (e.g. after a connection that worked).
    """
    if base_s <= 0 or cap_s <= 0:
        raise ValueError(f"backoff base_s and cap_s must be > 0, got base_s={base_s} cap_s={cap_s}")
    draw = (rng or random.Random()).uniform
    ceiling = min(base_s, cap_s)
    while True:
        yield draw(0.0, ceiling)
        # Doubling stops at the cap, so the float never overflows however long we retry.
        ceiling = min(cap_s, ceiling * 2.0)


async def retry(
    fn: Callable[[], Awaitable[T]],
    *,
    is_retryable: Callable[[BaseException], bool],
    base_s: float,
    cap_s: float,
    max_attempts: int | None = None,
    rng: random.Random | None = None,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Await `fn()` until it returns; retry errors for which `is_retryable(err)` is true.

    Non-retryable errors propagate unchanged. After `max_attempts` failed calls (None = forever)
    raises `RetryExhausted` from the last error. `on_retry(attempt, err, delay_s)` is called before
    each sleep (attempt counts from 1).
    """
    if max_attempts is not None and max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1 or None, got {max_attempts}")
    delays = backoff_delays(base_s, cap_s, rng)
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn()
        except Exception as err:
            if not is_retryable(err):
                raise
            if max_attempts is not None and attempt >= max_attempts:
                raise RetryExhausted(attempt, err) from err
            delay = next(delays)
            if on_retry is not None:
                on_retry(attempt, err, delay)
            await asyncio.sleep(delay)
