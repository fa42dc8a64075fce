"""bot.retry: capped exponential backoff with full jitter, predicate-driven, cancellable."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.retry import RetryExhausted, backoff_delays, retry


@settings(max_examples=200, deadline=None)
@given(
    base=st.floats(1e-3, 10.0),
    cap=st.floats(1e-3, 100.0),
    seed=st.integers(0, 2**32),
)
def test_delays_are_full_jitter_under_a_doubling_ceiling(base, cap, seed):
    rng = random.Random(seed)
    ref = random.Random(seed)
    for k, d in enumerate(itertools.islice(backoff_delays(base, cap, rng), 60)):
        ceiling = min(cap, base * 2.0**k)
        assert 0.0 <= d <= ceiling <= cap
        # Same draws as a reference uniform(0, ceiling) on the same seed.
        assert d == pytest.approx(ref.uniform(0.0, ceiling), rel=1e-12, abs=1e-15)


def test_bad_backoff_args():
    with pytest.raises(ValueError):
        next(backoff_delays(0.0, 1.0))


class Flaky(Exception):
    pass


async def test_retry_until_success_and_non_retryable_passthrough():
    calls = []

    async def fn():
        calls.append(1)
        if len(calls) < 3:
            raise Flaky
        return "ok"

    seen = []
    out = await retry(
        fn,
        is_retryable=lambda e: isinstance(e, Flaky),
        base_s=1e-4,
        cap_s=1e-3,
        on_retry=lambda a, e, d: seen.append((a, type(e), d <= 1e-3)),
    )
    assert out == "ok" and len(calls) == 3
    assert seen == [(1, Flaky, True), (2, Flaky, True)]

    async def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        await retry(boom, is_retryable=lambda e: isinstance(e, Flaky), base_s=1e-4, cap_s=1e-3)


async def test_retry_exhausted_chains_last_error():
    async def fn():
        raise Flaky("again")

    with pytest.raises(RetryExhausted) as info:
        await retry(fn, is_retryable=lambda e: True, base_s=1e-4, cap_s=1e-4, max_attempts=4)
    assert info.value.attempts == 4 and isinstance(info.value.__cause__, Flaky)


async def test_retry_is_cancellable_while_sleeping():
    sleeping = asyncio.Event()

    async def fn():
        raise Flaky

    task = asyncio.create_task(
        retry(fn, is_retryable=lambda e: True, base_s=60.0, cap_s=60.0, on_retry=lambda *a: sleeping.set())
    )
    await sleeping.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
