"""The health model without a network: EWMAs, back-off from Retry-After, the circuit breaker, the
tiers the pool ranks by, and the pool's ranking, candidates and snapshot on a fake clock."""

from __future__ import annotations

import pytest

from rpc import errors
from rpc.health import BreakerState, EndpointHealth, HealthPolicy, Tier, fails_over, is_endpoint_fault
from rpc.pool import EndpointConfig, EndpointPool, Role

POLICY = HealthPolicy(failure_threshold=3, cooldown_s=2.0, max_slot_lag=5, default_backoff_s=0.5)


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def refused() -> errors.TransportError:
    return errors.TransportError("http://h:1", "connect failed")


def test_breaker_opens_after_consecutive_failures_half_opens_and_closes_on_success() -> None:
    h = EndpointHealth(POLICY)
    now = 0.0
    h.on_failure(refused(), now)
    h.on_success(now)  # a success in between resets the count
    for _ in range(2):
        h.on_failure(refused(), now)
    assert h.state(now) is BreakerState.CLOSED and h.consecutive_failures == 2
    h.on_failure(errors.Timeout("http://h:1", 1.0), now)
    assert h.state(now) is BreakerState.OPEN and h.tier(now) is Tier.OPEN
    assert h.next_change() == 2.0
    assert h.state(1.99) is BreakerState.OPEN and h.state(2.0) is BreakerState.HALF_OPEN
    # Half-open: one failure re-opens for a whole new cool-down.
    h.on_failure(refused(), 2.5)
    assert h.state(2.5) is BreakerState.OPEN and h.state(4.4) is BreakerState.OPEN
    assert h.state(4.5) is BreakerState.HALF_OPEN and h.tier(4.5) is Tier.HALF_OPEN
    h.on_success(4.6)
    assert h.state(4.6) is BreakerState.CLOSED and h.consecutive_failures == 0


def test_429_backs_off_for_retry_after_without_opening_the_breaker() -> None:
    h = EndpointHealth(POLICY)
    h.on_failure(errors.RateLimited("http://h:1", 429, 3.0), 10.0)
    assert h.backed_off(12.9) and not h.backed_off(13.0)
    assert h.tier(11.0) is Tier.BACKED_OFF and h.state(11.0) is BreakerState.CLOSED
    assert h.rate_limited == 1 and h.consecutive_failures == 0 and h.error_rate == pytest.approx(0.2)
    # Without Retry-After: exponential from default_backoff_s, reset by a success.
    h2 = EndpointHealth(POLICY)
    lengths = []
    for t in (0.0, 10.0, 20.0):
        h2.on_failure(errors.RateLimited("http://h:1", 429, None), t)
        assert h2.backoff_until is not None
        lengths.append(h2.backoff_until - t)
    assert lengths == [0.5, 1.0, 2.0]
    h2.on_success(30.0)
    h2.on_failure(errors.RateLimited("http://h:1", 429, None), 40.0)
    assert h2.backoff_until == 40.5
    # A Retry-After of a day is capped; a 503 with Retry-After backs off and counts for the breaker.
    h3 = EndpointHealth(POLICY)
    h3.on_failure(errors.RateLimited("http://h:1", 429, 86400.0), 0.0)
    assert h3.backoff_until == POLICY.max_backoff_s
    h4 = EndpointHealth(POLICY)
    h4.on_failure(errors.HttpStatusError("http://h:1", 503, 4.0), 0.0)
    assert h4.backoff_until == 4.0 and h4.consecutive_failures == 1


def test_error_rate_and_slot_lag_degrade_and_latency_is_an_ewma() -> None:
    h = EndpointHealth(POLICY)
    h.on_probe(0.010, 100)
    h.on_probe(0.020, 101)
    assert h.latency_s == pytest.approx(0.7 * 0.010 + 0.3 * 0.020) and h.slot == 101
    assert h.tier(0.0) is Tier.GOOD
    h.slot_lag = 6
    assert h.tier(0.0) is Tier.DEGRADED and "slot lag 6" in h.describe(0.0)
    h.slot_lag = 0
    for k in range(4):  # failures interleaved with successes: the breaker stays closed
        h.on_failure(refused(), float(k))
        h.on_failure(refused(), float(k))
        h.on_success(float(k))
    assert h.state(5.0) is BreakerState.CLOSED
    assert h.error_rate > POLICY.max_error_rate and h.tier(5.0) is Tier.DEGRADED
    for _ in range(10):
        h.on_success(6.0)
    assert h.tier(6.0) is Tier.GOOD


def test_what_counts_as_the_endpoints_fault() -> None:
    assert is_endpoint_fault(refused()) and is_endpoint_fault(errors.Timeout("e", 1))
    assert is_endpoint_fault(errors.HttpStatusError("e", 500, None))
    assert is_endpoint_fault(errors.MalformedResponse("garbage"))
    assert is_endpoint_fault(errors.NodeBehind(-32005, "behind", {"numSlotsBehind": 9}))
    assert not is_endpoint_fault(errors.InvalidParams(-32602, "bad"))
    assert not is_endpoint_fault(errors.PreflightFailed(-32002, "sim failed"))
    assert fails_over(errors.MinContextSlotNotReached(-32016, "not yet", {"contextSlot": 5}))
    assert not fails_over(errors.InvalidParams(-32602, "bad"))
    with pytest.raises(ValueError):
        HealthPolicy(failure_threshold=0)


def _pool(clock: FakeClock) -> EndpointPool:
    return EndpointPool(
        [
            EndpointConfig("a", "http://127.0.0.1:1/key-aaaa", priority=0),
            EndpointConfig("b", "http://127.0.0.1:2", priority=1),
            EndpointConfig("c", "http://127.0.0.1:3", priority=2, roles=frozenset({Role.READ})),
        ],
        policy=POLICY,
        clock=clock,
    )


def test_pool_ranks_by_tier_then_priority_and_recovers_when_time_passes() -> None:
    clock = FakeClock()
    pool = _pool(clock)
    names = lambda eps: [e.name for e in eps]  # noqa: E731
    assert names(pool.ranked(Role.READ)) == ["a", "b", "c"] and names(pool.ranked(Role.SEND)) == ["a", "b"]
    a = pool.by_name("a")
    pool.record_failure(a, errors.RateLimited(a.endpoint, 429, 1.5))
    assert names(pool.ranked(Role.SEND)) == ["b", "a"] and names(pool.candidates(Role.SEND)) == ["b"]
    clock.t += 1.5  # the back-off ends: re-ranked lazily on the next look
    assert names(pool.candidates(Role.SEND)) == ["a", "b"]
    for _ in range(3):
        pool.record_failure(a, refused())
    assert names(pool.candidates(Role.READ)) == ["b", "c"]
    b = pool.by_name("b")
    for _ in range(3):
        pool.record_failure(b, refused())
    # Every send endpoint's circuit is open: open circuits are the last resort, best ranked first.
    assert names(pool.candidates(Role.SEND)) == ["a", "b"] and names(pool.candidates(Role.READ)) == ["c"]
    clock.t += 2.0
    assert names(pool.candidates(Role.SEND)) == ["a", "b"]  # both half-open now, by priority
    pool.record_success(b)
    assert names(pool.candidates(Role.SEND)) == ["b", "a"]
    # JSON-RPC application errors are answers: they close nothing and open nothing.
    pool.record_failure(a, errors.InvalidParams(-32602, "bad"))
    assert pool.by_name("a").health.state(clock.t) is BreakerState.CLOSED


def test_snapshot_reports_every_endpoint_redacted() -> None:
    clock = FakeClock()
    pool = _pool(clock)
    a = pool.by_name("a")
    pool.record_failure(a, errors.RateLimited(a.endpoint, 429, 2.0))
    pool.by_name("b").health.on_probe(0.004, 77)
    snap = {s.name: s for s in pool.snapshot()}
    assert [s.name for s in pool.snapshot()] == ["b", "c", "a"]
    sa = snap["a"]
    assert sa.endpoint == "http://127.0.0.1:1/…redacted" and "key-aaaa" not in repr(sa)
    assert sa.backoff_until == clock.t + 2.0 and sa.backoff_s == 2.0 and not sa.usable
    assert sa.state is BreakerState.CLOSED and sa.rank == 2 and "backed off" in sa.why
    assert snap["b"].latency_s == 0.004 and snap["b"].slot == 77 and snap["b"].usable
    assert snap["b"].backoff_until is None and snap["b"].roles == ("read", "send")
    assert "key-aaaa" not in repr(a.config)


def test_token_bucket_and_config_validation() -> None:
    from rpc.pool import TokenBucket

    clock = FakeClock()
    bucket = TokenBucket(rate=10.0, burst=3, clock=clock)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_s() == pytest.approx(0.1)
    clock.t += 0.25
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
    with pytest.raises(ValueError):
        TokenBucket(rate=0.0, burst=1)
    with pytest.raises(ValueError):
        EndpointPool([EndpointConfig("x", "http://h"), EndpointConfig("x", "http://h")])
    pool = EndpointPool([EndpointConfig("a", "http://127.0.0.1:1", rate_limit_rps=2.0, burst=1)], clock=clock)
    ep = pool.by_name("a")
    assert ep.try_acquire() and not ep.try_acquire()
    clock.t += 0.5
    assert ep.try_acquire()
