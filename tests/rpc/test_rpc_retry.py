"""rpc.retry: capped exponential full-jitter delays, predicate-driven retry, cancellation."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpc import errors
from rpc.retry import backoff_delays, retry, retry_after_floor


@settings(max_examples=50, deadline=None)
@given(
    base=st.floats(min_value=0.001, max_value=1.0),
    factor=st.floats(min_value=1.0, max_value=1000.0),
    seed=st.integers(0, 2**32),
)
def test_delays_stay_within_capped_exponential_envelope(base: float, factor: float, seed: int) -> None:
    cap = base * factor
    delays = list(itertools.islice(backoff_delays(base, cap, random.Random(seed)), 80))
    for n, d in enumerate(delays):
        assert 0.0 <= d <= min(cap, base * 2**n) * (1 + 1e-12)


def test_delays_jitter_and_reach_the_cap() -> None:
    delays = list(itertools.islice(backoff_delays(0.01, 1.0, random.Random(1)), 400))
    late = delays[20:]
    assert max(late) > 0.9  # full jitter spans up to the cap
    assert min(late) < 0.1  # ... and down towards zero
    with pytest.raises(ValueError):
        next(backoff_delays(0.0, 1.0))


async def test_retry_retries_retryable_then_succeeds() -> None:
    slept: list[float] = []
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise errors.Timeout("e", 1.0)
        return "done"

    async def fake_sleep(d: float) -> None:
        slept.append(d)

    got = await retry(
        flaky, is_retryable=errors.is_retryable, base_s=0.1, cap_s=1.0, rng=random.Random(3), sleep=fake_sleep
    )
    assert got == "done" and calls == 3 and len(slept) == 2


async def test_retry_stops_on_non_retryable_and_on_max_attempts() -> None:
    calls = 0

    async def bad() -> None:
        nonlocal calls
        calls += 1
        raise errors.InvalidParams(-32602, "bad")

    with pytest.raises(errors.InvalidParams):
        await retry(bad, is_retryable=errors.is_retryable, base_s=0.001, cap_s=0.001)
    assert calls == 1

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise errors.TransportError("e", "refused")

    calls = 0
    with pytest.raises(errors.TransportError):
        await retry(down, is_retryable=errors.is_retryable, base_s=0.001, cap_s=0.002, max_attempts=4)
    assert calls == 4


async def test_retry_honours_retry_after_floor() -> None:
    slept: list[float] = []

    async def limited() -> int:
        if not slept:
            raise errors.RateLimited("e", 429, 2.5)
        return 1

    async def fake_sleep(d: float) -> None:
        slept.append(d)

    await retry(
        limited,
        is_retryable=errors.is_retryable,
        base_s=0.01,
        cap_s=0.1,
        min_delay_s=retry_after_floor,
        sleep=fake_sleep,
    )
    assert slept == [2.5]


async def test_retry_is_cancellable_during_backoff() -> None:
    async def down() -> None:
        raise errors.TransportError("e", "refused")

    task = asyncio.create_task(
        retry(down, is_retryable=errors.is_retryable, base_s=30.0, cap_s=60.0, rng=random.Random(0))
    )
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_is_retryable_classification() -> None:
    assert errors.is_retryable(errors.HttpStatusError("e", 503, None))
    assert not errors.is_retryable(errors.HttpStatusError("e", 403, None))
    assert not errors.is_retryable(errors.MalformedResponse("x"))
    assert not errors.is_retryable(errors.SignatureVerifyFailed(-32003, "sig"))
    assert not errors.is_retryable(errors.BlockhashNotFound(-32002, "bh", {"err": "BlockhashNotFound"}))
    assert errors.is_retryable(
        errors.AllEndpointsFailed({"a": errors.Timeout("a", 1), "b": errors.MalformedResponse("x")})
    )
    assert not errors.is_retryable(ValueError("not ours"))
