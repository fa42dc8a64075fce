"""The project's one retry/backoff helper: capped exponential backoff with full jitter.

Full jitter (delay drawn uniformly from ``[0, min(cap, base * 2**n)]``) spreads reconnect storms of
many clients better than equal or no jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
Both helpers are cancellable: cancellation interrupts the sleep and propagates unchanged.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


def backoff_delays(base_s: float, cap_s: float, rng: random.Random | None = None) -> Iterator[float]:
    """Yield an endless sequence of delays: the n-th is uniform in ``[0, min(cap_s, base_s * 2**n)]``."""
    if base_s <= 0 or cap_s < base_s:
        raise ValueError(f"backoff needs 0 < base_s <= cap_s, got base_s={base_s} cap_s={cap_s}")
    uniform = (rng or random.Random()).uniform
    ceiling = base_s
    while True:
        yield uniform(0.0, ceiling)
        # Stop doubling once capped so the exponent never overflows on long outages.
        if ceiling < cap_s:
            ceiling = min(cap_s, ceiling * 2.0)


async def retry(
    fn: Callable[[], Awaitable[T]],
    *,
    is_retryable: Callable[[BaseException], bool],
    base_s: float,
    cap_s: float,
    max_attempts: int | None = None,
    rng: random.Random | None = None,
    min_delay_s: Callable[[BaseException], float | None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Await ``fn()`` until it succeeds, sleeping a jittered backoff between retryable failures.

    A failure that ``is_retryable`` rejects, or the last of ``max_attempts`` (None: unbounded), is
    re-raised unchanged. ``min_delay_s(err)`` may impose a floor on the next delay (e.g. a server's
    Retry-After). Only ``Exception`` is retried: cancellation always propagates at once.
    """
    if max_attempts is not None and max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
    delays = backoff_delays(base_s, cap_s, rng)
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn()
        except Exception as err:
            if not is_retryable(err) or (max_attempts is not None and attempt >= max_attempts):
                raise
            delay = next(delays)
            if min_delay_s is not None:
                floor = min_delay_s(err)
                if floor is not None and floor > delay:
                    delay = floor
            await sleep(delay)


def retry_after_floor(err: BaseException) -> float | None:
    """A ``min_delay_s`` for `retry`: honour an HTTP error's Retry-After when the server sent one."""
    value = getattr(err, "retry_after_s", None)
    return float(value) if isinstance(value, (int, float)) else None
