"""`EndpointPool`: RPC endpoints with roles, rate limits and a ranking refreshed off the hot path.

``probe()`` (run periodically by the caller's supervisor, never on the hot path) calls getHealth and
getSlot on every endpoint, measures the round trip and the slot lag behind the best endpoint, then
re-ranks. ``for_role`` only returns the cached ranking, so the hot path pays a dict lookup.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rpc.client import RpcClient
from rpc.errors import RpcError
from rpc.requests import get_health, get_slot


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


@dataclass(slots=True)
class EndpointHealth:
    """What the last probe saw. ``latency_s`` is an EWMA of the probe round trip."""

    healthy: bool = True
    latency_s: float | None = None
    slot: int | None = None
    slot_lag: int = 0
    probes: int = 0
    failures: int = 0
    last_error: RpcError | None = None
    last_probe_monotonic: float | None = None


@dataclass(slots=True, eq=False)
class Endpoint:
    config: EndpointConfig
    client: RpcClient
    bucket: TokenBucket | None
    health: EndpointHealth = field(default_factory=EndpointHealth)

    @property
    def name(self) -> str:
        return self.config.name

    def try_acquire(self) -> bool:
        """Take a rate-limit token; False means skip this endpoint for now."""
        return self.bucket is None or self.bucket.try_take()


def rank_key(ep: Endpoint) -> tuple[int, int, int, float]:
    """Sort key: healthy first, then priority, then slot lag, then latency (unknown latency last)."""
    h = ep.health
    return (
        0 if h.healthy else 1,
        ep.config.priority,
        h.slot_lag,
        h.latency_s if h.latency_s is not None else float("inf"),
    )


class EndpointPool:
    """Endpoints by role, ranked. ``client_factory`` builds each endpoint's `RpcClient` (tests may
    pass one that injects a transport)."""

    def __init__(
        self,
        configs: Iterable[EndpointConfig],
        *,
        client_factory: Callable[[EndpointConfig], RpcClient] | None = None,
        latency_alpha: float = 0.3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        make = client_factory or (
            lambda c: RpcClient(c.http_url, timeout_s=c.timeout_s, connections=c.connections)
        )
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
            self.endpoints.append(Endpoint(cfg, make(cfg), bucket))
        self._alpha = latency_alpha
        self._clock = clock
        self._ranked: dict[Role, list[Endpoint]] = {}
        self.rerank()

    def for_role(self, role: Role) -> list[Endpoint]:
        """Endpoints serving ``role``, best first (the cached ranking; do not mutate)."""
        return self._ranked.get(role, [])

    def by_name(self, name: str) -> Endpoint:
        for ep in self.endpoints:
            if ep.name == name:
                return ep
        raise KeyError(name)

    def rerank(self) -> None:
        """Recompute the per-role rankings from the current health."""
        ranked = sorted(self.endpoints, key=rank_key)
        self._ranked = {role: [ep for ep in ranked if role in ep.config.roles] for role in Role}

    async def probe(self, *, timeout_s: float | None = None) -> None:
        """Probe every endpoint concurrently (getHealth + getSlot, timed), then re-rank."""
        await asyncio.gather(*(self._probe_one(ep, timeout_s) for ep in self.endpoints))
        slots = [ep.health.slot for ep in self.endpoints if ep.health.healthy and ep.health.slot is not None]
        best = max(slots, default=None)
        for ep in self.endpoints:
            h = ep.health
            h.slot_lag = 0 if best is None or h.slot is None else max(0, best - h.slot)
        self.rerank()

    async def run_probing(self, interval_s: float, *, timeout_s: float | None = None) -> None:
        """Probe every ``interval_s`` until cancelled (run it as a supervised task). Probing also keeps
        each endpoint's keep-alive connection warm, so the hot path rarely pays a reconnect."""
        while True:
            await self.probe(timeout_s=timeout_s)
            await asyncio.sleep(interval_s)

    async def _probe_one(self, ep: Endpoint, timeout_s: float | None) -> None:
        h = ep.health
        h.probes += 1
        h.last_probe_monotonic = self._clock()
        t0 = time.perf_counter()
        try:
            slot = await ep.client.call(get_slot(commitment="processed"), timeout_s=timeout_s)
            latency = time.perf_counter() - t0
            await ep.client.call(get_health(), timeout_s=timeout_s)
        except RpcError as err:
            h.healthy = False
            h.failures += 1
            h.last_error = err
            return
        h.healthy = True
        h.last_error = None
        h.slot = slot
        h.latency_s = latency if h.latency_s is None else (1 - self._alpha) * h.latency_s + self._alpha * latency

    async def close(self) -> None:
        await asyncio.gather(*(ep.client.close() for ep in self.endpoints))
