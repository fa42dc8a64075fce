"""The health of one RPC endpoint, from what its answers (probes, reads, sends) showed. Pure: no I/O,
the clock is passed in, so every transition is testable without a network.

- Latency: an EWMA of the probe round trip (probes only: the same getSlot everywhere, so comparable).
- Error rate: an EWMA of 0 (answered) / 1 (failed) over every outcome.
- Slot lag: slots behind the best slot any endpoint reported (set by the pool after each probe round).
- Back-off: a 429 (or any error carrying Retry-After) keeps the endpoint unused until the time the server
  asked for (RFC 9110 section 10.2.3: delta-seconds or an HTTP-date, parsed by `rpc.http`); a 429 without
  Retry-After backs off exponentially from ``default_backoff_s``.
- Circuit breaker: ``failure_threshold`` consecutive failures open it; after ``cooldown_s`` it is
  half-open (the next answer decides); a success closes it, a failure re-opens it.

`tier` orders endpoints for the pool: usable first (good, then degraded: the last answer failed, the
slot lags or the error rate is high, then half-open), then open circuits (a last resort), and backed-off endpoints never.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from rpc.errors import (
    HttpStatusError,
    MalformedResponse,
    MinContextSlotNotReached,
    NodeUnhealthy,
    RateLimited,
    RpcError,
    Timeout,
    TransportError,
)


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Tier(enum.IntEnum):
    """Rank classes, best first. Only GOOD..HALF_OPEN are used while any endpoint is in them."""

    GOOD = 0
    DEGRADED = 1  # closed circuit, but the last answer failed, slots lag or the error rate is high
    HALF_OPEN = 2  # cool-down over: one answer decides
    OPEN = 3  # cooling down: a last resort when nothing better is left
    BACKED_OFF = 4  # the server asked us to wait: never used until then


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """Thresholds of the health model."""

    latency_alpha: float = 0.3
    error_alpha: float = 0.2
    failure_threshold: int = 3
    cooldown_s: float = 5.0
    max_slot_lag: int = 10
    max_error_rate: float = 0.5
    default_backoff_s: float = 1.0
    max_backoff_s: float = 60.0  # a Retry-After of a day is a misconfigured server, not a plan

    def __post_init__(self) -> None:
        if not (0 < self.latency_alpha <= 1 and 0 < self.error_alpha <= 1):
            raise ValueError("EWMA alphas must be in (0, 1]")
        if self.failure_threshold < 1 or self.cooldown_s <= 0 or self.max_slot_lag < 0:
            raise ValueError("failure_threshold >= 1, cooldown_s > 0 and max_slot_lag >= 0 are required")
        if not 0 < self.default_backoff_s <= self.max_backoff_s:
            raise ValueError("0 < default_backoff_s <= max_backoff_s is required")


def is_endpoint_fault(err: BaseException) -> bool:
    """True when the endpoint, not the request, failed: no usable answer (connection, timeout, HTTP
    status, unparseable body) or the node says it is unhealthy. Another endpoint may answer."""
    return isinstance(err, (TransportError, Timeout, HttpStatusError, MalformedResponse, NodeUnhealthy))


def fails_over(err: BaseException) -> bool:
    """True when a read should be retried on the next endpoint: an endpoint fault, or a node that has
    not reached the requested minContextSlot yet. JSON-RPC application errors (invalid params, a
    failed simulation...) would be the same anywhere and are returned as they are."""
    return is_endpoint_fault(err) or isinstance(err, MinContextSlotNotReached)


class EndpointHealth:
    """Mutable health of one endpoint. ``now`` is the pool's monotonic clock in seconds."""

    __slots__ = (
        "_backoff_streak",
        "backoff_until",
        "consecutive_failures",
        "error_rate",
        "failures",
        "last_error",
        "latency_s",
        "opened_at",
        "policy",
        "probes",
        "rate_limited",
        "slot",
        "slot_lag",
        "successes",
    )

    def __init__(self, policy: HealthPolicy | None = None) -> None:
        self.policy = policy or HealthPolicy()
        self.latency_s: float | None = None
        self.error_rate = 0.0
        self.slot: int | None = None
        self.slot_lag = 0
        self.backoff_until: float | None = None
        self.opened_at: float | None = None  # None: the circuit is closed
        self.consecutive_failures = 0
        self.last_error: RpcError | None = None
        self.successes = 0
        self.failures = 0
        self.rate_limited = 0
        self.probes = 0
        self._backoff_streak = 0

    # -- state ------------------------------------------------------------------------------------

    def state(self, now: float) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if now >= self.opened_at + self.policy.cooldown_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def backed_off(self, now: float) -> bool:
        return self.backoff_until is not None and now < self.backoff_until

    def tier(self, now: float) -> Tier:
        if self.backed_off(now):
            return Tier.BACKED_OFF
        state = self.state(now)
        if state is BreakerState.OPEN:
            return Tier.OPEN
        if state is BreakerState.HALF_OPEN:
            return Tier.HALF_OPEN
        p = self.policy
        if self.consecutive_failures or self.slot_lag > p.max_slot_lag or self.error_rate > p.max_error_rate:
            return Tier.DEGRADED
        return Tier.GOOD

    def next_change(self) -> float | None:
        """The next time `tier` may change by itself (a back-off ending, a cool-down ending)."""
        times = [t for t in (self.backoff_until, self._cooled_at()) if t is not None]
        return min(times) if times else None

    def _cooled_at(self) -> float | None:
        return None if self.opened_at is None else self.opened_at + self.policy.cooldown_s

    def describe(self, now: float) -> str:
        """Why this endpoint ranks where it does, for a log line."""
        tier = self.tier(now)
        if tier is Tier.BACKED_OFF:
            assert self.backoff_until is not None
            return f"backed off for {self.backoff_until - now:.1f} s after: {self.last_error}"
        if tier is Tier.OPEN or tier is Tier.HALF_OPEN:
            return f"circuit {self.state(now)} after {self.consecutive_failures} failures: {self.last_error}"
        if self.consecutive_failures:
            return f"{self.consecutive_failures} failure(s) in a row: {self.last_error}"
        if self.slot_lag > self.policy.max_slot_lag:
            return f"slot lag {self.slot_lag} > {self.policy.max_slot_lag}"
        if self.error_rate > self.policy.max_error_rate:
            return f"error rate {self.error_rate:.2f} > {self.policy.max_error_rate:.2f}: {self.last_error}"
        return "healthy"

    # -- outcomes ---------------------------------------------------------------------------------

    def on_success(self, now: float) -> None:
        """The endpoint answered (a result, or a JSON-RPC error about the request)."""
        self.successes += 1
        self.error_rate *= 1.0 - self.policy.error_alpha
        self.consecutive_failures = 0
        self.opened_at = None
        self._backoff_streak = 0

    def on_failure(self, err: RpcError, now: float) -> None:
        """The endpoint gave no usable answer (see `is_endpoint_fault`)."""
        p = self.policy
        self.failures += 1
        self.last_error = err
        self.error_rate = self.error_rate * (1.0 - p.error_alpha) + p.error_alpha
        retry_after = err.retry_after_s if isinstance(err, HttpStatusError) else None
        if isinstance(err, RateLimited):
            # Over quota, not broken: wait as asked (or back off exponentially), no breaker count.
            self.rate_limited += 1
            if retry_after is None:
                retry_after = p.default_backoff_s * 2.0 ** min(self._backoff_streak, 16)
            self._backoff_streak += 1
            self._back_off(now, retry_after)
            return
        if retry_after is not None:  # e.g. 503 with Retry-After
            self._back_off(now, retry_after)
        self.consecutive_failures += 1
        state = self.state(now)
        if state is BreakerState.HALF_OPEN or (
            state is BreakerState.CLOSED and self.consecutive_failures >= p.failure_threshold
        ):
            self.opened_at = now

    def on_probe(self, latency_s: float, slot: int) -> None:
        """A probe's getSlot answered in ``latency_s`` with ``slot`` (call `on_success` too)."""
        self.probes += 1
        a = self.policy.latency_alpha
        self.latency_s = latency_s if self.latency_s is None else (1.0 - a) * self.latency_s + a * latency_s
        self.slot = slot

    def _back_off(self, now: float, seconds: float) -> None:
        until = now + min(max(0.0, seconds), self.policy.max_backoff_s)
        if self.backoff_until is None or until > self.backoff_until or self.backoff_until <= now:
            self.backoff_until = until
