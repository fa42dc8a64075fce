"""Pure parts of the endpoint pool: token bucket and ranking (probing runs against localnet)."""

from __future__ import annotations

import pytest

from rpc.pool import EndpointConfig, EndpointPool, Role, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_token_bucket_refills_at_rate_up_to_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10.0, burst=3, clock=clock)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_s() == pytest.approx(0.1)
    clock.t += 0.25  # 2.5 tokens
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
    clock.t += 100.0
    assert sum(bucket.try_take() for _ in range(10)) == 3  # capped at burst
    with pytest.raises(ValueError):
        TokenBucket(rate=0.0, burst=1)


def test_ranking_by_health_then_priority_then_lag_then_latency() -> None:
    pool = EndpointPool(
        [
            EndpointConfig("a", "http://127.0.0.1:1", priority=1),
            EndpointConfig("b", "http://127.0.0.1:2", priority=0, roles=frozenset({Role.READ})),
            EndpointConfig("c", "http://127.0.0.1:3", priority=1),
            EndpointConfig("d", "http://127.0.0.1:4", priority=0, roles=frozenset({Role.SEND, Role.BUNDLE})),
        ]
    )
    assert [e.name for e in pool.for_role(Role.SEND)] == ["d", "a", "c"]
    assert [e.name for e in pool.for_role(Role.BUNDLE)] == ["d"]
    pool.by_name("a").health.latency_s = 0.004
    pool.by_name("c").health.latency_s = 0.001
    pool.rerank()
    assert [e.name for e in pool.for_role(Role.SEND)] == ["d", "c", "a"]
    pool.by_name("c").health.slot_lag = 3  # lag outranks latency
    pool.by_name("d").health.healthy = False  # unhealthy goes last whatever its priority
    pool.rerank()
    assert [e.name for e in pool.for_role(Role.SEND)] == ["a", "c", "d"]
    assert [e.name for e in pool.for_role(Role.READ)] == ["b", "a", "c"]


def test_rate_limited_endpoint_and_config_validation() -> None:
    clock = FakeClock()
    pool = EndpointPool([EndpointConfig("a", "http://127.0.0.1:1", rate_limit_rps=2.0, burst=1)], clock=clock)
    ep = pool.by_name("a")
    assert ep.try_acquire() and not ep.try_acquire()
    clock.t += 0.5
    assert ep.try_acquire()
    with pytest.raises(ValueError):
        EndpointPool([EndpointConfig("x", "http://h"), EndpointConfig("x", "http://h")])
