"""The Opportunity record: one confirmed, exactly quoted trade handed from the detector to execution.

Plain classes with `__slots__` rather than frozen dataclasses: one is built per confirmed candidate on
the hot path, and a frozen dataclass's `__init__` (an `object.__setattr__` per field) costs about
3 µs for a leg and 5 µs for the Opportunity here, against well under 1 µs for these. They keep the
dataclass's interface: the same fields in the same order, positional or keyword construction,
equality by value, a readable repr. Treat them as immutable (nothing assigns to them after `confirm`).
"""

from __future__ import annotations

from typing import Any


class _Record:
    """Value semantics for a slotted record: equality, hash and repr over its fields."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()  # in constructor order

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"


class OpportunityLeg(_Record):
    """One exactly quoted swap: pool row, kind (layout.KIND_*), direction (routes.DIR_*), tokens and
    integer amounts. `min_out` is the slippage floor to put in the instruction; `tick` the pool's
    current tick the quote ran at (CLMM: which tick arrays the swap is given; 0 for other kinds)."""

    _fields = (
        "pool",
        "kind",
        "direction",
        "token_in",
        "token_out",
        "amount_in",
        "amount_out",
        "min_out",
        "tick",
    )
    __slots__ = (
        "amount_in",
        "amount_out",
        "direction",
        "kind",
        "min_out",
        "pool",
        "tick",
        "token_in",
        "token_out",
    )

    def __init__(
        self,
        pool: int,
        kind: int,
        direction: int,
        token_in: int,
        token_out: int,
        amount_in: int,
        amount_out: int,
        min_out: int,
        tick: int = 0,
    ) -> None:
        self.pool = pool
        self.kind = kind
        self.direction = direction
        self.token_in = token_in
        self.token_out = token_out
        self.amount_in = amount_in
        self.amount_out = amount_out
        self.min_out = min_out
        self.tick = tick


class Opportunity(_Record):
    """A trade that cleared the exact confirm.

    Amounts are raw units of the route's start token unless named otherwise. `expected_net_profit` =
    final out (CEX-DEX routes: marked to market at the CEX price) - amount_in - `cost_token`.
    `slot` / `recv_ns` are those of the cache update that triggered the detection (monotonic ns).
    `estimated_net_profit` is the kernel's float screening estimate, kept for diagnostics.
    """

    _fields = ("route_id", "route_type", "start_token", "end_token", "legs", "amount_in", "amount_out", "cu_limit",
               "cost_lamports", "cost_token", "expected_net_profit", "slot", "recv_ns", "estimated_net_profit")  # fmt: skip
    __slots__ = (
        "amount_in",
        "amount_out",
        "cost_lamports",
        "cost_token",
        "cu_limit",
        "end_token",
        "estimated_net_profit",
        "expected_net_profit",
        "legs",
        "recv_ns",
        "route_id",
        "route_type",
        "slot",
        "start_token",
    )

    def __init__(
        self,
        route_id: int,
        route_type: int,  # routes.ROUTE_CYCLE or routes.ROUTE_CEX
        start_token: int,
        end_token: int,
        legs: tuple[OpportunityLeg, ...],
        amount_in: int,
        amount_out: int,  # exact out of the last leg, in end-token raw units
        cu_limit: int,
        cost_lamports: int,
        cost_token: int,
        expected_net_profit: int,
        slot: int,
        recv_ns: int,
        estimated_net_profit: float,
    ) -> None:
        self.route_id = route_id
        self.route_type = route_type
        self.start_token = start_token
        self.end_token = end_token
        self.legs = legs
        self.amount_in = amount_in
        self.amount_out = amount_out
        self.cu_limit = cu_limit
        self.cost_lamports = cost_lamports
        self.cost_token = cost_token
        self.expected_net_profit = expected_net_profit
        self.slot = slot
        self.recv_ns = recv_ns
        self.estimated_net_profit = estimated_net_profit
