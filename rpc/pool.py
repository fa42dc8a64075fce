"""`EndpointPool`: RPC endpoints with roles and rate limits, ranked by health; `PoolClient`: reads that
fail over across them.

Every answer feeds the endpoint's `rpc.health.EndpointHealth` (probes, reads through `PoolClient`,
sends through `rpc.submit.RpcSender`); the ranking is recomputed when a health tier changes and when a
back-off or a cool-down ends, so the hot path only reads a cached list. ``run_probing`` (a supervised
task of the caller, never the hot path) calls getSlot and getHealth on every endpoint that may be asked,
measures the round trip and the slot lag behind the best endpoint, and keeps keep-alive connections warm.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rpc.client import RpcClient, RpcMethods
from rpc.errors import AllEndpointsFailed, EndpointUnavailable, RpcError
from rpc.health import BreakerState, EndpointHealth, HealthPolicy, Tier, fails_over, is_endpoint_fault
from rpc.requests import Call, get_health, get_slot

T = TypeVar("T")

OnSwitch = Callable[[str | None, str, str], None]
"""``on_switch(old_name, new_name, reason)``: the preferred endpoint changed (``reason`` is redacted)."""


class Role(enum.StrEnum):
    READ = "read"
    SEND = "send"
    BUNDLE = "bundle"


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """One endpoint. Lower ``priority`` is preferred; ``rate_limit_rps`` None means unlimited."""

    name: str
    http_url: str = field(repr=False)  # may embed an API key: never in a repr
    ws_url: str | None = field(default=None, repr=False)
    priority: int = 0
    roles: frozenset[Role] = frozenset({Role.READ, Role.SEND})
    rate_limit_rps: float | None = None
    burst: int | None = None
    timeout_s: float = 5.0
    connections: int = 2


class TokenBucket:
    """Token bucket: ``rate`` tokens per second up to ``burst``. Non-blocking: callers that find it
    empty skip the endpoint instead of waiting (waiting belongs off the hot path)."""

    __slots__ = ("_clock", "_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"token bucket needs rate > 0 and burst >= 1, got {rate}, {burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def try_take(self, n: float = 1.0) -> bool:
        """Take ``n`` tokens if available now."""
        self._refill()
        if self._tokens >= n:
            self._tokens -= n
            return True
        return False

    def wait_s(self, n: float = 1.0) -> float:
        """Seconds until ``n`` tokens will be available (0 if now)."""
        self._refill()
        return max(0.0, (n - self._tokens) / self.rate)


@dataclass(slots=True, eq=False)
class Endpoint:
    config: EndpointConfig
    client: RpcClient
    bucket: TokenBucket | None
    health: EndpointHealth

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def endpoint(self) -> str:
        """The redacted URL (scheme, host, port)."""
        return self.client.endpoint

    def try_acquire(self) -> bool:
        """Take a rate-limit token; False means skip this endpoint for now."""
        return self.bucket is None or self.bucket.try_take()


@dataclass(frozen=True, slots=True)
class EndpointStatus:
    """One endpoint's health for logs, status lines and metrics (`EndpointPool.snapshot`)."""

    name: str
    endpoint: str  # redacted URL
    roles: tuple[str, ...]
    priority: int
    rank: int  # position in the overall ranking, 0 = best
    state: BreakerState
    usable: bool  # would be asked now (not backed off, circuit not open)
    latency_s: float | None
    error_rate: float
    slot: int | None
    slot_lag: int
    backoff_until: float | None  # the pool's monotonic clock; None when not backed off
    backoff_s: float  # seconds of back-off left (0 when none)
    consecutive_failures: int
    last_error: str | None  # redacted like every rpc error
    why: str  # `EndpointHealth.describe`


def rank_key(ep: Endpoint, now: float) -> tuple[int, int, int, float]:
    """Sort key: health tier, then priority, then slot lag, then latency (unknown latency last)."""
    h = ep.health
    return (
        ep.health.tier(now),
        ep.config.priority,
        h.slot_lag,
        h.latency_s if h.latency_s is not None else float("inf"),
    )


class EndpointPool:
    """Endpoints by role, ranked by health. ``client_factory`` builds each endpoint's `RpcClient`
    (tests may pass one that injects a transport); ``policy`` sets the health thresholds."""

    def __init__(
        self,
        configs: Iterable[EndpointConfig],
        *,
        client_factory: Callable[[EndpointConfig], RpcClient] | None = None,
        policy: HealthPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        make = client_factory or (
            lambda c: RpcClient(c.http_url, timeout_s=c.timeout_s, connections=c.connections)
        )
        self.policy = policy or HealthPolicy()
        self.endpoints: list[Endpoint] = []
        names: set[str] = set()
        for cfg in configs:
            if cfg.name in names:
                raise ValueError(f"duplicate endpoint name {cfg.name!r}")
            names.add(cfg.name)
            bucket = None
            if cfg.rate_limit_rps is not None:
                burst = cfg.burst if cfg.burst is not None else max(1, int(cfg.rate_limit_rps))
                bucket = TokenBucket(cfg.rate_limit_rps, burst, clock)
            self.endpoints.append(Endpoint(cfg, make(cfg), bucket, EndpointHealth(self.policy)))
        self._clock = clock
        self._ranked: dict[Role, list[Endpoint]] = {}
        self._usable: dict[Role, list[Endpoint]] = {}
        self._order: list[Endpoint] = []
        self._next_change = float("inf")
        self.rerank()

    # -- ranking (hot path: cached lists) ------------------------------------------------------------

    def ranked(self, role: Role) -> list[Endpoint]:
        """Endpoints serving ``role``, best first, backed-off ones included last (do not mutate)."""
        if self._clock() >= self._next_change:
            self.rerank()
        return self._ranked.get(role, [])

    for_role = ranked

    def candidates(self, role: Role) -> list[Endpoint]:
        """What to ask for ``role``, best first: the usable endpoints (circuit closed or half-open, not
        backed off); when there are none, the open circuits as a last resort. Never a backed-off one."""
        if self._clock() >= self._next_change:
            self.rerank()
        return self._usable.get(role, [])

    def by_name(self, name: str) -> Endpoint:
        for ep in self.endpoints:
            if ep.name == name:
                return ep
        raise KeyError(name)

    def rerank(self) -> None:
        """Recompute the per-role rankings from the current health."""
        now = self._clock()
        ranked = sorted(self.endpoints, key=lambda ep: rank_key(ep, now))
        tiers = {ep: ep.health.tier(now) for ep in ranked}
        self._order = ranked
        self._ranked = {role: [ep for ep in ranked if role in ep.config.roles] for role in Role}
        self._usable = {}
        for role, eps in self._ranked.items():
            usable = [ep for ep in eps if tiers[ep] <= Tier.HALF_OPEN]
            self._usable[role] = usable or [ep for ep in eps if tiers[ep] is Tier.OPEN]
        changes = [t for ep in self.endpoints if (t := ep.health.next_change()) is not None and t > now]
        self._next_change = min(changes, default=float("inf"))

    # -- health feedback ------------------------------------------------------------------------------

    def record_success(self, ep: Endpoint) -> None:
        """``ep`` answered (a result, or a JSON-RPC error about the request itself)."""
        now = self._clock()
        before = ep.health.tier(now)
        ep.health.on_success(now)
        if ep.health.tier(now) != before:
            self.rerank()

    def record_failure(self, ep: Endpoint, err: RpcError) -> None:
        """``ep`` gave no usable answer; JSON-RPC errors about the request count as answers."""
        if is_endpoint_fault(err):
            self._count_failure(ep, err)
        else:
            self.record_success(ep)

    def _count_failure(self, ep: Endpoint, err: RpcError) -> None:
        now = self._clock()
        before = ep.health.tier(now)
        ep.health.on_failure(err, now)
        if ep.health.tier(now) != before:
            self.rerank()

    def tier(self, ep: Endpoint) -> Tier:
        return ep.health.tier(self._clock())

    def why(self, ep: Endpoint) -> str:
        """Why ``ep`` ranks where it does now (for a log line)."""
        return ep.health.describe(self._clock())

    def snapshot(self) -> list[EndpointStatus]:
        """Every endpoint's health, best ranked first."""
        self.rerank()
        now = self._clock()
        out = []
        for rank, ep in enumerate(self._order):
            h = ep.health
            backed = h.backed_off(now)
            tier = h.tier(now)
            out.append(
                EndpointStatus(
                    name=ep.name,
                    endpoint=ep.endpoint,
                    roles=tuple(sorted(ep.config.roles)),
                    priority=ep.config.priority,
                    rank=rank,
                    state=h.state(now),
                    usable=tier <= Tier.HALF_OPEN,
                    latency_s=h.latency_s,
                    error_rate=h.error_rate,
                    slot=h.slot,
                    slot_lag=h.slot_lag,
                    backoff_until=h.backoff_until if backed else None,
                    backoff_s=max(0.0, h.backoff_until - now) if backed and h.backoff_until else 0.0,
                    consecutive_failures=h.consecutive_failures,
                    last_error=None if h.last_error is None else str(h.last_error),
                    why=h.describe(now),
                )
            )
        return out

    # -- probing (off the hot path) -------------------------------------------------------------------

    async def probe(self, *, timeout_s: float | None = None) -> None:
        """Probe concurrently every endpoint that may be asked (backed-off and cooling-down ones wait
        as they must), then set slot lags against the best slot seen and re-rank."""
        now = self._clock()
        due = [ep for ep in self.endpoints if ep.health.tier(now) not in (Tier.BACKED_OFF, Tier.OPEN)]
        await asyncio.gather(*(self._probe_one(ep, timeout_s) for ep in due))
        best = max((ep.health.slot for ep in self.endpoints if ep.health.slot is not None), default=None)
        for ep in self.endpoints:
            h = ep.health
            h.slot_lag = 0 if best is None or h.slot is None else max(0, best - h.slot)
        self.rerank()

    async def run_probing(self, interval_s: float, *, timeout_s: float | None = None) -> None:
        """Probe every ``interval_s`` until cancelled (run it as a supervised task). Probing also keeps
        each endpoint's keep-alive connection warm, so the hot path rarely pays a reconnect."""
        if interval_s <= 0:
            raise ValueError(f"probe interval must be > 0, got {interval_s}")
        while True:
            await self.probe(timeout_s=timeout_s)
            await asyncio.sleep(interval_s)

    async def _probe_one(self, ep: Endpoint, timeout_s: float | None) -> None:
        t0 = time.perf_counter()
        try:
            slot = await ep.client.call(get_slot(commitment="processed"), timeout_s=timeout_s)
            latency = time.perf_counter() - t0
        except RpcError as err:
            self._count_failure(ep, err)  # even a JSON-RPC error: a node must serve getSlot
            return
        try:
            await ep.client.call(get_health(), timeout_s=timeout_s)
        except RpcError as err:
            # A node without getHealth (some providers) is not unhealthy; one that says so is.
            if is_endpoint_fault(err):
                self._count_failure(ep, err)
                return
        ep.health.on_probe(latency, slot)
        self.record_success(ep)

    async def close(self) -> None:
        await asyncio.gather(*(ep.client.close() for ep in self.endpoints))


class PoolClient(RpcMethods):
    """Every `RpcMethods` call sent to the best candidate endpoint of ``role`` and retried on the next
    one when the endpoint failed (`rpc.health.fails_over`: connection, timeout, 429, 5xx, garbage,
    an unhealthy node); JSON-RPC application errors are raised as they are. When every candidate
    failed: `AllEndpointsFailed` with one error per endpoint tried.

    The preferred endpoint is the one that answered last; each change is reported once through
    ``on_switch(old, new, reason)`` (the first answer from a lower-ranked endpoint counts as a
    change from the top-ranked one). The pool owns the connections: `close` closes nothing.
    """

    def __init__(
        self,
        pool: EndpointPool,
        *,
        role: Role = Role.READ,
        on_switch: OnSwitch | None = None,
        timeout_s: float | None = None,
    ) -> None:
        if not pool.ranked(role):
            raise ValueError(f"the pool has no {role} endpoint")
        self.pool = pool
        self.role = role
        self.on_switch = on_switch
        self.timeout_s = timeout_s
        self.preferred: Endpoint = pool.ranked(role)[0]
        self.switches = 0

    @property
    def endpoint(self) -> str:
        """The preferred endpoint's redacted URL."""
        return self.preferred.endpoint

    async def close(self) -> None:
        """Nothing to release: the pool's `EndpointPool.close` closes the connections."""

    async def call(self, call: Call[T], *, timeout_s: float | None = None) -> T:
        """One request, failing over across the candidates."""
        timeout = timeout_s or self.timeout_s
        return await self._each(lambda client: client.call(call, timeout_s=timeout))

    async def batch(self, calls: Sequence[Call[Any]], *, timeout_s: float | None = None) -> list[Any]:
        """One JSON-RPC batch, failing over as a whole (per-call errors are results, as in `RpcClient`)."""
        timeout = timeout_s or self.timeout_s
        return await self._each(lambda client: client.batch(calls, timeout_s=timeout))

    async def _each(self, attempt: Callable[[RpcClient], Awaitable[T]]) -> T:
        failures: dict[str, RpcError] = {}
        pool = self.pool
        for ep in pool.candidates(self.role):
            if not ep.try_acquire():
                failures[ep.name] = EndpointUnavailable(ep.endpoint, "local rate limit reached")
                continue
            try:
                result = await attempt(ep.client)
            except RpcError as err:
                pool.record_failure(ep, err)
                if not fails_over(err):
                    self._served(ep, failures)
                    raise
                failures[ep.name] = err
                continue
            pool.record_success(ep)
            self._served(ep, failures)
            return result
        for ep in pool.ranked(self.role):
            if ep.name not in failures:
                failures[ep.name] = EndpointUnavailable(ep.endpoint, pool.why(ep))
        failed = AllEndpointsFailed(failures)
        raise failed from next(iter(failures.values()), None)

    def _served(self, ep: Endpoint, failures: dict[str, RpcError]) -> None:
        old = self.preferred
        if ep is old:
            return
        self.preferred = ep
        self.switches += 1
        if self.on_switch is None:
            return
        if old.name in failures:
            reason = str(failures[old.name])
        elif self.pool.tier(old) is not Tier.GOOD:
            reason = self.pool.why(old)
        else:
            reason = f"{ep.name} ranks above {old.name} again ({self.pool.why(ep)})"
        self.on_switch(old.name, ep.name, reason)
