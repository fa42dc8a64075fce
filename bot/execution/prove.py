"""Every route's template proven by simulation before it may trade.

Programs change under a bot: an upgrade adds or drops an instruction form, or changes the accounts
it wants, and a template that compiles is then rejected on chain. So, after the set-up phase, each
route's template is simulated (`simulateTransaction`, sigVerify off, replaceRecentBlockhash) with a
small amount and min-outs of 1 (no program here refuses a min-out of 1, and a probe that size never
misses it, so the guard is not what can fail), at the maximum compute limit. Then:

* it passes: the units it consumed set the route's compute limit, `proven_cu_limit(units)` =
  units x 1.2 + 5,000, capped at 1,400,000 (the margin covers amount-dependent paths of the math and
  a program upgrade that costs a little more); the executor requests that limit and prices its
  priority fee on it;
* a leg's program rejects it: that pool's venue falls back to its next documented instruction form
  (`VenueAdapter.swap_forms`; its `form_accounts` are fetched, the lookup tables extended with the new
  form's accounts) and the route is simulated again; a route no form passes is disabled, with the
  program's error and its logs in one `route_disabled` line;
* it cannot be simulated now (no balance of the start token, a pool not quotable, the RPC down): the
  route stays unproven (`route_unproven`) and is simulated again when an opportunity comes for it.

After a route reverts with an error other than its guard's (a leg's slippage error,
`VenueAdapter.slippage_errors`), the executor marks it unproven and it is simulated again before it
may trade again (`Prover.reprove`). Everything here is the cold path.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.pubkey import Pubkey

from bot.cache import PoolEntry
from bot.execution.message import RouteTemplate, TxTooLarge
from bot.execution.templates import compile_template, lookup_addresses, route_instructions
from bot.keys import Wallet
from bot.retry import retry
from rpc.client import RpcMethods
from rpc.errors import RpcError, is_retryable
from rpc.requests import Simulation
from strategies import costs, layout
from strategies import routes as R
from strategies.venues.base import FetchedAccount
from strategies.venues.errors import QuoteError, VenueError

# The stated margin over the simulated units (see the module docstring).
CU_MARGIN_NUM, CU_MARGIN_DEN = 6, 5
CU_MARGIN_FIXED = 5_000
# The probe sells 1/10,000 of its first pool's input reserve (at most the wallet's balance); each later
# leg sells half of what the exact quote says the previous leg yields, so the probe never spends
# inventory a leg did not produce even when the pools move between quote and simulation.
PROBE_RESERVE_FRACTION = 10_000
PROBE_MIN_OUT = 1
_FIRST_SWAP_IX = 2  # instructions 0 and 1 are SetComputeUnitLimit and SetComputeUnitPrice


def proven_cu_limit(units: int) -> int:
    """The compute limit a route requests after its simulation consumed `units`."""
    return min(costs.MAX_CU_LIMIT, -(-units * CU_MARGIN_NUM // CU_MARGIN_DEN) + CU_MARGIN_FIXED)


class ProbeError(ValueError):
    """No probe amount can be planned now (no balance, a pool not quotable)."""


def probe_amounts(
    cache: layout.Cache,
    route: R.Route,
    pools: Sequence[PoolEntry],
    balance: int,
    quote_state: Callable[[int], Any] | None = None,
) -> list[tuple[int, int]]:
    """(amount_in, min_out) per leg for a probe simulation, from the cache's exact rows (or, for venues
    whose row is only the screening state, the exact state `quote_state` gives: CLMM)."""
    if balance < 1:
        raise ProbeError("the wallet holds none of the start token to simulate with")
    pu = cache.pools_u
    first = route.legs[0]
    reserve = int(pu[first.pool, layout.U_RES_A if first.direction == R.DIR_A_TO_B else layout.U_RES_B])
    # A CLMM first leg has no reserve in its row: a small part of the balance instead.
    x = min(balance, max(1, (reserve or balance) // PROBE_RESERVE_FRACTION))
    plan: list[tuple[int, int]] = []
    for k, leg in enumerate(route.legs):
        adapter = pools[leg.pool].adapter
        state = None
        if not adapter.cache_exact:
            if quote_state is None:
                raise ProbeError(f"leg {k}: no exact cache quote to size a probe with")
            state = quote_state(leg.pool)
        if int(cache.pools_i[leg.pool, layout.I_FLAGS]) & layout.USABLE_MASK != layout.FLAG_TRADABLE:
            raise ProbeError(f"leg {k}: pool {pools[leg.pool].address} is not tradable yet")
        try:
            out, _ = adapter.quote_in(cache, leg.pool, leg.direction == R.DIR_A_TO_B, x, state)
        except (QuoteError, ValueError) as err:
            raise ProbeError(f"leg {k}: pool {pools[leg.pool].address} does not quote {x}: {err}") from err
        plan.append((x, PROBE_MIN_OUT))
        x = out // 2
        if x < PROBE_MIN_OUT and k < len(route.legs) - 1:
            raise ProbeError(f"leg {k}: the probe's output {out} is too small to carry on")
    return plan


def instruction_error(err: Any) -> tuple[int, Any] | None:
    """(instruction index, its error) of an agave `InstructionError` value; None for any other error."""
    if isinstance(err, dict) and "InstructionError" in err:
        pair = err["InstructionError"]
        if isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[0], int):
            return pair[0], pair[1]
    return None


def failing_leg(err: Any, template: RouteTemplate) -> int | None:
    """The leg whose instruction failed, or None (compute budget, tip, or not an instruction's error)."""
    found = instruction_error(err)
    if found is None or found[0] < _FIRST_SWAP_IX:
        return None
    for k, last in enumerate(template.swap_ix_indexes):
        if found[0] <= last:
            return k
    return None


def is_guard_error(err: Any, template: RouteTemplate, slippage_errors: Sequence[frozenset[int]]) -> bool:
    """True when a revert is the guard working: a leg's program said its min-out was not met."""
    leg = failing_leg(err, template)
    found = instruction_error(err)
    if leg is None or found is None:
        return False
    detail = found[1]
    return isinstance(detail, dict) and detail.get("Custom") in slippage_errors[leg]


class ProofState(enum.Enum):
    PROVEN = "proven"  # simulated clean: may trade, with its measured compute limit
    UNPROVEN = "unproven"  # not simulated yet (cannot be now): may not trade until it is
    DISABLED = "disabled"  # every form was rejected by a program: never trades
    EXCLUDED = "excluded"  # cannot be built or sent (too large, a form's accounts do not decode)


@dataclass(frozen=True, slots=True)
class Proof:
    """A route's simulation outcome; `template`/`keys` are None for DISABLED and EXCLUDED routes."""

    state: ProofState
    template: RouteTemplate | None = None
    keys: list[Pubkey] | None = None
    units: int | None = None
    error: str = ""
    logs: tuple[str, ...] = ()
    tried: tuple[str, ...] = ()  # "pool:form: error" of each form a program rejected


Extend = Callable[[list[Pubkey]], Awaitable[list[AddressLookupTableAccount]]]


@dataclass(eq=False)
class Prover:
    """Simulates route templates (start-up, and again after a non-guard revert); keeps each pool's
    instruction form and the set of routes that may not trade until proven (`unproven`)."""

    rpc: RpcMethods
    wallet: Wallet
    pools: Sequence[PoolEntry]
    cache: layout.Cache
    table: R.RouteTable
    atas: Mapping[int, Pubkey]
    tip: Pubkey | None
    alts: list[AddressLookupTableAccount]
    extend: Extend | None  # lookup tables holding the given addresses (None: dry-run, no tables)
    addresses: dict[Pubkey, None]  # what the lookup tables hold for us
    log: Any
    forms: dict[int, str] = field(default_factory=dict)  # pool row -> the form its legs use
    fetched: dict[Pubkey, FetchedAccount] = field(default_factory=dict)
    unproven: set[int] = field(default_factory=set)
    units: dict[int, int] = field(default_factory=dict)  # route -> simulated units of its proof
    # Dry-run with a fresh wallet: (route, amount_in, signed probe) -> (probe with the first trade's set-up
    # in front, the set-up alone, how many instructions the set-up added) or None when none is needed.
    setup: Callable[[R.Route, int, bytes], tuple[bytes, bytes, bytes, int] | None] | None = None
    quote_state: Callable[[int], Any] | None = None  # exact state of pools whose cache row is not (CLMM)

    # ---- the executor's side ---------------------------------------------------------------------
    def is_guard_error(self, route_id: int, template: RouteTemplate, err: Any) -> bool:
        route = self.table.routes[route_id]
        return is_guard_error(
            err, template, [self.pools[leg.pool].adapter.slippage_errors for leg in route.legs]
        )

    def unprove(self, route_id: int) -> None:
        self.unproven.add(route_id)

    async def reprove(self, route_id: int) -> Proof:
        """Simulate a route again (after a revert that was not its guard's, or while unproven). When it
        passes only in another form, the other routes through that pool still carry the old one: they
        become unproven too, and are simulated again before their next trade."""
        before = {p: self.form_of(p) for p in range(len(self.pools)) if self.pools[p].static is not None}
        proof = await self.prove(self.table.routes[route_id])
        if proof.state is ProofState.PROVEN:
            self.log.info("route_proven", route=route_id, units=proof.units,
                          cu_limit=proof.template.cu_limit if proof.template else 0)  # fmt: skip
        changed = {p for p, form in before.items() if self.form_of(p) != form}
        for r in self.table.routes:
            if (
                r.route_id != route_id
                and r.route_id not in self.unproven
                and any(leg.pool in changed for leg in r.legs)
            ):
                self.unproven.add(r.route_id)
                self.log.warning("route_unproven", route=r.route_id, reason="a pool of it changed instruction form",
                                 effect="simulated again before it trades again")  # fmt: skip
        return proof

    # ---- proving ---------------------------------------------------------------------------------
    async def prove(self, route: R.Route) -> Proof:
        """Compile, simulate, fall back along each failing leg's forms; the outcome is logged (one line
        for a route that does not pass) and `unproven` kept."""
        proof = await self._prove(route)
        rid = route.route_id
        if proof.state is ProofState.PROVEN:
            self.unproven.discard(rid)
            if proof.units is not None:
                self.units[rid] = proof.units
        elif proof.state is ProofState.UNPROVEN:
            self.unproven.add(rid)
            self.log.warning("route_unproven", route=rid, reason=proof.error,
                             effect="not traded until a simulation passes (tried again on its next opportunity)")  # fmt: skip
        else:
            self.unproven.discard(rid)
            legs = [f"{self.pools[leg.pool].address}:{self.pools[leg.pool].venue.name}" for leg in route.legs]
            if proof.state is ProofState.DISABLED:
                self.log.error("route_disabled", route=rid, legs=legs, error=proof.error, logs=list(proof.logs),
                               tried=list(proof.tried), effect="never traded in this run")  # fmt: skip
            else:
                self.log.warning("route_excluded", route=rid, reason=proof.error)
        return proof

    async def _prove(self, route: R.Route) -> Proof:
        forms = {leg.pool: self.form_of(leg.pool) for leg in route.legs}
        tried: list[str] = []
        while True:
            try:
                template, keys = await self._compile(route, forms)
            except TxTooLarge as err:
                return Proof(ProofState.EXCLUDED, error=str(err), tried=tuple(tried))
            except (VenueError, ValueError, RpcError) as err:
                return Proof(
                    ProofState.EXCLUDED, error=f"cannot build the route's swaps: {err}", tried=tuple(tried)
                )
            balance = int(self.cache.market[layout.token_slot(route.start_token, layout.T_BALANCE)])
            try:
                plan = probe_amounts(self.cache, route, self.pools, balance, self.quote_state)
            except ProbeError as err:
                return Proof(ProofState.UNPROVEN, template, keys, error=str(err))
            template.patch(bytes(32), plan, costs.MAX_CU_LIMIT, 0, 0)
            probe = template.sign(self.wallet.keypair)
            prepared = self.setup(route, plan[0][0], probe) if self.setup is not None else None
            try:
                sim = await self._simulate(prepared[0] if prepared is not None else probe)
                setup_units = 0
                if prepared is not None and sim.err is None:
                    # The set-up's own units are not the route's: measured alone (with the compute-budget
                    # instructions, which the route's own transaction has too) and taken off.
                    setup_units = (await self._simulate(prepared[1])).units_consumed or 0
                    setup_units -= (await self._simulate(prepared[2])).units_consumed or 0
            except RpcError as err:
                return Proof(ProofState.UNPROVEN, template, keys, error=f"simulation failed: {err}")
            tx_err = _shift_instruction(sim.err, -prepared[3]) if prepared is not None else sim.err
            if tx_err is None:
                for leg in route.legs:
                    self.forms[leg.pool] = forms[leg.pool]
                units = (sim.units_consumed or 0) - setup_units
                template.cu_limit = proven_cu_limit(units) if units > 0 else 0
                return Proof(ProofState.PROVEN, template, keys, units=units, tried=tuple(tried))
            error, logs = _error_text(tx_err), _failing_logs(sim.logs)
            k = failing_leg(tx_err, template)
            if k is None:
                return Proof(ProofState.DISABLED, error=error, logs=logs, tried=tuple(tried))
            entry = self.pools[route.legs[k].pool]
            form = forms[entry.idx]
            tried.append(f"{entry.address}:{form}: {error}")
            following = _next_form(entry.adapter.swap_forms, form)
            if following is None:
                return Proof(ProofState.DISABLED, error=f"leg {k} ({entry.address}, form {form}): {error}",
                             logs=logs, tried=tuple(tried))  # fmt: skip
            self.log.warning("swap_form_rejected", route=route.route_id, pool=str(entry.address),
                             venue=entry.venue.name, form=form, error=error, logs=list(logs[-4:]),
                             fallback=following)  # fmt: skip
            forms[entry.idx] = following

    async def _simulate(self, tx: bytes) -> Simulation:
        def once() -> Awaitable[Simulation]:
            return self.rpc.simulate_transaction(tx, sig_verify=False, replace_recent_blockhash=True,
                                                 commitment="processed")  # fmt: skip

        return await retry(once, is_retryable=is_retryable, base_s=0.2, cap_s=2.0, max_attempts=3)

    def form_of(self, pool: int) -> str:
        """The form a pool's legs use: the last one a simulation passed with, else the venue's first."""
        found = self.forms.get(pool)
        return found if found is not None else self.pools[pool].adapter.swap_forms[0]

    async def _compile(self, route: R.Route, forms: Mapping[int, str]) -> tuple[RouteTemplate, list[Pubkey]]:
        """The route's template with `forms`: what the forms need fetched, and the lookup tables extended
        with accounts they do not hold yet (not in dry-run: it sends nothing)."""
        need = [a for leg in route.legs
                for a in self.pools[leg.pool].adapter.form_accounts(self.pools[leg.pool].static, forms[leg.pool])
                if a not in self.fetched]  # fmt: skip
        if need:
            res = await self.rpc.get_multiple_accounts([str(a) for a in need], commitment="confirmed")
            for key, acc in zip(need, res.accounts, strict=True):
                if acc is None:
                    raise ValueError(f"account {key} that the instruction form needs does not exist")
                self.fetched[key] = (Pubkey.from_string(acc.owner), acc.data)
        payer = self.wallet.pubkey
        if self.extend is not None:
            ixs, _ = route_instructions(route, self.pools, payer, self.atas, self.tip, forms, self.fetched)
            missing = [a for a in lookup_addresses(ixs, payer) if a not in self.addresses]
            if missing:
                for a in missing:
                    self.addresses[a] = None
                self.alts = await self.extend(list(self.addresses))
        return compile_template(route, self.pools, payer, self.atas, self.alts, self.tip, forms, self.fetched)


def _next_form(forms: tuple[str, ...], current: str) -> str | None:
    i = forms.index(current) + 1 if current in forms else len(forms)
    return forms[i] if i < len(forms) else None


def _failing_logs(logs: Sequence[str], limit: int = 12) -> tuple[str, ...]:
    """The logs of the failing top-level instruction (from its last "invoke [1]"), at most `limit`."""
    start = max((i for i, line in enumerate(logs) if line.endswith(" invoke [1]")), default=0)
    return tuple(logs[start : start + limit])


def _error_text(err: Any) -> str:
    """An agave error value as one short string: "instruction 2: InvalidInstructionData",
    "instruction 3: custom program error 30"."""
    found = instruction_error(err)
    if found is None:
        return str(err)
    index, detail = found
    if isinstance(detail, dict) and "Custom" in detail:
        return f"instruction {index}: custom program error {detail['Custom']}"
    return f"instruction {index}: {detail}"


def _shift_instruction(err: Any, by: int) -> Any:
    """A transaction error with its failing instruction index moved by `by` (set-up instructions in front)."""
    if (
        isinstance(err, dict)
        and isinstance(err.get("InstructionError"), list)
        and len(err["InstructionError"]) == 2
    ):
        index, detail = err["InstructionError"]
        if isinstance(index, int):
            return {"InstructionError": [index + by, detail]}
    return err
