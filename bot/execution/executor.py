"""From an Opportunity to signed bytes (hot path), then send or simulate, track and account (cold path).

Hot path (`on_opportunity`, synchronous, no I/O, no logging): drop stale or duplicate opportunities,
apply the risk gates, refuse a blockhash too close to the end of its validity, plan guarded amounts,
patch the route's precompiled message and sign it; journal the signed bytes durably (ledger) and write
them to every healthy send endpoint in the same pass. A tracked task then rebroadcasts the same bytes
until they land or their blockhash expires, confirms them (signatureSubscribe, getSignatureStatuses as
the fallback), books the outcome from the transaction's own balances (ledger, risk gates: quarantine,
kill switch) and releases the subscription. Dry-run simulates instead and sends nothing.

No duplicate or lost trades: a route's pools are busy while one of its transactions can still land,
so no second transaction is signed for them; the journal row is written before the first byte leaves;
after a restart `reconcile` resolves every journalled transaction before trading resumes.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from solders.hash import Hash
from solders.pubkey import Pubkey

from bot.execution.guard import GuardError, plan_amounts
from bot.execution.message import RouteTemplate, Signer
from bot.execution.prove import Proof, ProofState
from bot.keys import Wallet
from bot.ledger import JournalEntry, LedgerError, Outcome, Trade
from bot.ledger.model import WSOL_MINT
from bot.ledger.risk import Booked, RiskGates
from rpc.client import RpcMethods
from rpc.errors import RpcError
from rpc.pubsub import PubSubClient
from rpc.requests import TransactionRecord
from rpc.submit import signature_of
from strategies import costs, layout
from strategies.opportunity import Opportunity
from strategies.venues.spl import token_amount_or_zero

CONFIRM_POLL_S = 0.4  # getSignatureStatuses polling when no notification came (about one slot)
# A blockhash is valid for 150 blocks after the one it names (protocols.md §6). Blocks are at most one per
# slot, so a blockhash fetched `n` slots ago has at least 150 - n blocks left; we sign only with one that
# keeps at least BLOCKHASH_MIN_REMAINING (time to rebroadcast and land).
BLOCKHASH_VALID_BLOCKS = 150
BLOCKHASH_MIN_REMAINING = 100
RATE_WINDOW_S = 60  # max_trades_per_minute counts the sends of this many seconds


Rebuild = Callable[[int, Sequence[int]], tuple[RouteTemplate, int]]
"""(route id, the pool's current tick per leg) -> the route's template compiled around those ticks and
its start account's index in the new account list (`bot.execution.rebuild.TemplateRebuilder`)."""


class Writer(Protocol):
    """Writes signed bytes to the send endpoints (`rpc.submit.RpcSender`)."""

    def write_all(self, tx_bytes: bytes) -> Any: ...


class Journal(Protocol):
    """Where in-flight transactions are kept durably (`bot.ledger.Ledger`)."""

    def write_journal(self, entry: JournalEntry) -> JournalEntry: ...
    def mark_unknown(self, signature: str, error: str = "") -> None: ...
    def in_flight(self, *, all_instances: bool = False) -> list[JournalEntry]: ...


class Prover(Protocol):
    """Proves route templates by simulation (`bot.execution.prove.Prover`)."""

    unproven: set[int]

    def is_guard_error(self, route_id: int, template: RouteTemplate, err: Any) -> bool: ...
    def unprove(self, route_id: int) -> None: ...
    async def reprove(self, route_id: int) -> Proof: ...
    def form_of(self, pool: int) -> str: ...


class Pricing(NamedTuple):
    """What a signed trade requests and costs: its compute limit, the cost in lamports and in the
    start token, and the expected net profit after that cost."""

    cu_limit: int
    cost_lamports: int
    cost_token: int
    expected_net: int


REPROVE_AFTER_S = 5.0  # an unproven route's opportunity schedules a simulation at most this often


@dataclass(slots=True)
class BlockhashCache:
    """Latest blockhash (raw 32 bytes), its lastValidBlockHeight and the slot it was read at; refreshed
    every slot off the hot path. `fetched_ns` is the monotonic time of the read."""

    blockhash: bytes = b""
    last_valid_block_height: int = 0
    slot: int = 0
    fetched_ns: int = 0


@dataclass(slots=True)
class ExecStats:
    opportunities: int = 0
    stale: int = 0
    duplicate: int = 0
    no_template: int = 0
    unproven: int = 0  # its template waits for a simulation (start-up could not, or a non-guard revert)
    off_window: int = 0  # a CLMM leg's tick arrays outside its template's window: rebuilt off the hot path
    rebuilt: int = 0
    guard_refused: int = 0
    rate_limited: int = 0
    halted: int = 0
    risk_refused: int = 0
    no_blockhash: int = 0
    stale_blockhash: int = 0
    journal_failed: int = 0
    signed: int = 0
    simulated: int = 0
    sent: int = 0
    rebroadcasts: int = 0
    send_failed: int = 0  # first write reached no endpoint (still rebroadcast until expiry)
    confirmed: int = 0
    reverted: int = 0
    expired: int = 0
    unconfirmed: int = 0  # outcome unknown at shutdown (left in the journal)
    reconciled: int = 0
    realized_lamports: int = 0  # sum over confirmed and reverted trades (fees of reverts included)
    fees_lamports: int = 0
    tips_lamports: int = 0
    confirmed_by_legs: dict[int, int] = field(default_factory=dict)  # legs -> confirmed trades
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    decision_to_signed_ns: collections.deque[int] = field(
        default_factory=lambda: collections.deque(maxlen=4096)
    )
    send_to_confirm_ns: collections.deque[int] = field(default_factory=lambda: collections.deque(maxlen=4096))
    send_to_confirm_samples: int = 0  # appended to send_to_confirm_ns so far (metrics fold the new ones)


@dataclass(frozen=True, slots=True)
class ExecPolicy:
    dry_run: bool
    min_profit_lamports: int
    budget_ns: int
    max_trades_per_minute: int
    tip_lamports: int = 0  # the fixed tip, or the share policy's floor (what the detector's costs include)
    tip_policy: str = "none"
    tip_share_bps: int = 0
    tip_cap_lamports: int = 0
    confirm_timeout_s: float = 90.0
    rebroadcast_s: float = 0.4
    blockhash_min_remaining: int = BLOCKHASH_MIN_REMAINING
    blockhash_max_age_ns: int = 60_000_000_000  # and never one read longer ago than this (stalled source)


@dataclass(slots=True, eq=False)
class InFlight:
    """One signed transaction that can still land."""

    signature: str
    route_id: int
    route_key: str
    tx: bytes
    pools: tuple[int, ...]
    last_valid_block_height: int
    blockhash_slot: int
    expected_net: int
    amount_in: int
    legs: int
    start_token: int
    decided_ns: int
    signed_ns: int
    written_ns: int = 0
    pool_slots: tuple[int, ...] = ()  # the pools' cache slots at the decision (unchanged-state check)
    update_ns: int = 0  # receive time of the account update the decision was made on (0: none, e.g. start-up)
    cost_lamports: int = 0
    tip_lamports: int = 0
    start_index: int = -1  # the start account's index in this transaction's account list (-1: the route's)


class Executor:
    def __init__(
        self,
        *,
        wallet: Wallet,
        templates: Mapping[int, RouteTemplate],
        params: layout.F64Array,
        route_pools: Mapping[int, tuple[int, ...]],
        start_accounts: Mapping[int, tuple[Pubkey, int]],
        rpc: RpcMethods,
        pubsub: PubSubClient,
        sender: Writer,
        blockhash: BlockhashCache,
        policy: ExecPolicy,
        log: Any,
        route_keys: Mapping[int, str] | None = None,
        start_mints: Mapping[int, str] | None = None,
        start_tokens: Mapping[int, int] | None = None,
        pool_slots: Callable[[tuple[int, ...]], tuple[int, ...]] = lambda pools: (),
        current_slot: Callable[[], int] = lambda: 0,
        journal: Journal | None = None,
        gates: RiskGates | None = None,
        instance: str = "",
        on_release: Callable[[int], None] = lambda pool: None,
        guard_revert: Callable[[int, Any], bool] = lambda route, err: False,
        on_quarantine: Callable[[int], None] = lambda route: None,
        on_unquarantine: Callable[[int], None] = lambda route: None,
        dry_setup: Callable[[Opportunity, bytes], tuple[bytes, int, int] | None] | None = None,
        rebuild: Rebuild | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
        wall_clock: Callable[[], int] = time.time_ns,
        prover: Prover | None = None,
    ) -> None:
        self.wallet = wallet
        self._signer = Signer(wallet.keypair)  # the signing key, prepared once
        self.templates = dict(templates)  # a route proven again with another form gets a new template
        self.params = params  # the cache's market vector: prices, costs, balances
        self.route_pools = route_pools
        # route id -> (start-token account, its index in the route's transaction account list)
        self.start_accounts = dict(start_accounts)
        # Routes that may not trade until a simulation proves them (shared with the prover).
        self.prover = prover
        self.unproven: set[int] = prover.unproven if prover is not None else set()
        self._proving: dict[int, int] = {}  # route -> monotonic ns its last simulation was scheduled
        self.last_pricing = Pricing(0, 0, 0, 0)  # of the last signed trade (read right after signing)
        # route id -> a key that survives restarts (pool addresses and directions): quarantine, journal
        self.route_keys = route_keys if route_keys is not None else {r: str(r) for r in templates}
        self.start_mints = start_mints or {}
        self.start_tokens = start_tokens or {}
        self.rpc = rpc
        self.pubsub = pubsub
        self.sender = sender
        self.blockhash = blockhash
        self.policy = policy
        self.log = log
        self.pool_slots = pool_slots
        self.current_slot = current_slot
        self.journal = journal
        self.gates = gates
        self.instance = instance
        self.on_release = on_release  # a pool whose trade ended: evaluate it again
        self.guard_revert = (
            guard_revert  # (route, transaction error) -> failed on a swap's own slippage check
        )
        self.on_quarantine = on_quarantine  # a route was quarantined: take it out of detection
        self.on_unquarantine = on_unquarantine  # ...and back in when it is proven again
        # dry-run: (opportunity, signed bytes) -> (bytes with the first trade's set-up, wrapped, rent) or None
        self.dry_setup = dry_setup
        # A template whose CLMM leg needs tick arrays outside its window is rebuilt by this, off the hot path.
        self.rebuild = rebuild
        self._rebuilding: set[int] = set()
        self.clock = clock
        self.wall_clock = wall_clock
        self.stats = ExecStats()
        self.sol_lamports = 0  # the payer's SOL, refreshed off the hot path (risk gate: SOL for fees)
        self._busy_pools: set[int] = set()
        # Sends per second over the last minute, a fixed ring (no allocation per trade): [second, count].
        self._sends = [[-1, 0] for _ in range(RATE_WINDOW_S)]
        self._sends_second = -1  # the second `_sends_total` was summed at
        self._sends_total = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.in_flight: dict[str, InFlight] = {}
        self._refusals_logged: set[tuple[int, str]] = set()
        self.landed = asyncio.Event()  # set after every trade that landed (confirmed or reverted)
        self.halted_reason = ""
        self._tip = 0  # the tip of the transaction signed last

    # ---- hot path -------------------------------------------------------------------------------
    def on_opportunity(self, opp: Opportunity, decided_ns: int | None = None) -> bytes | None:
        """Gate, plan, patch, sign, journal and write. Returns the signed bytes or None.

        The opportunity was computed on the cache's latest state, so its age is measured from the
        decision (`decided_ns`, default now), not from the triggering update: a decision that waited
        longer than the execution budget is dropped (the engine re-evaluates on the next update).
        """
        decided = self.clock() if decided_ns is None else decided_ns
        tx = self.sign_opportunity(opp, decided)
        if tx is None:
            return None
        signed_ns = self.clock()
        route = opp.route_id
        sig = signature_of(tx)
        pools = self.route_pools.get(route, ())
        bh = self.blockhash
        priced = self.last_pricing
        flight = InFlight(
            sig, route, self.route_keys.get(route, str(route)), tx, pools, bh.last_valid_block_height, bh.slot,
            priced.expected_net, opp.amount_in, len(opp.legs), opp.start_token, decided, signed_ns,
            pool_slots=self.pool_slots(pools), cost_lamports=priced.cost_lamports, tip_lamports=self._tip,
            update_ns=opp.recv_ns,
            start_index=self.start_accounts.get(route, (None, -1))[1],
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        if self.policy.dry_run:
            self._track(
                loop.create_task(self._simulate(opp, tx, priced), name=f"simulate-route-{route}"), pools
            )
            self._busy_pools.update(pools)
            return tx
        if not self._journal(flight):
            return None
        pending = self.sender.write_all(tx)  # the same bytes to the top healthy endpoints, this pass
        flight.written_ns = self.clock()
        self.in_flight[sig] = flight
        self._busy_pools.update(pools)
        bucket = self._sends[(second := signed_ns // 1_000_000_000) % RATE_WINDOW_S]
        if bucket[0] != second:
            bucket[0], bucket[1] = second, 0
        bucket[1] += 1
        self._sends_total += 1
        self._track(loop.create_task(self._land(flight, pending), name=f"trade-route-{route}"), pools)
        return tx

    def sign_opportunity(self, opp: Opportunity, decided_ns: int | None = None) -> bytes | None:
        """The synchronous hot path: gates, guarded plan, patch, sign. No I/O, no logging."""
        st = self.stats
        st.opportunities += 1
        t0 = self.clock()
        if decided_ns is not None and t0 - decided_ns > self.policy.budget_ns:
            st.stale += 1
            return None
        if self.halted_reason:
            st.halted += 1
            return None
        route = opp.route_id
        pools = self.route_pools.get(route, ())
        busy = self._busy_pools
        if any(p in busy for p in pools):
            st.duplicate += 1  # a trade on these pools can still land: its landing changes the state
            return None
        tmpl = self.templates.get(route)
        if tmpl is None:
            st.no_template += 1
            return None
        if route in self.unproven:
            st.unproven += 1
            self._schedule_proof(route, t0)
            return None
        if self._recent_sends(t0 // 1_000_000_000) >= self.policy.max_trades_per_minute:
            st.rate_limited += 1
            return None
        bh = self.blockhash
        if not bh.blockhash:
            st.no_blockhash += 1
            return None
        age_slots = self.current_slot() - bh.slot
        if (age_slots > BLOCKHASH_VALID_BLOCKS - self.policy.blockhash_min_remaining
                or t0 - bh.fetched_ns > self.policy.blockhash_max_age_ns):  # fmt: skip
            st.stale_blockhash += 1  # its source stalled: never sign with a nearly expired blockhash
            return None
        params = self.params
        lpu = layout.lamports_per_unit(params, opp.start_token)
        gates = self.gates
        if gates is not None:
            notional = int(opp.amount_in * lpu) if lpu > 0.0 else 0
            pool_price, cex_price = self._worst_band(opp)
            refusal = gates.check(
                self.route_keys.get(route, str(route)), notional_lamports=notional, in_flight=len(self.in_flight),
                sol_balance_lamports=self.sol_lamports, cost_lamports=opp.cost_lamports, pool_price=pool_price,
                cex_price=cex_price,
            )  # fmt: skip
            if refusal is not None:
                st.risk_refused += 1
                self._defer_refusal_log(route, str(refusal.gate), str(refusal))
                return None
        cu_price = int(params[layout.M_CU_PRICE_MICRO])
        policy = self.policy
        tip = policy.tip_lamports
        try:
            min_profit_token = costs.lamports_to_token_ceil(policy.min_profit_lamports, lpu)
            priced = self._price(opp, tmpl, lpu, min_profit_token)
            if priced is None:
                st.guard_refused += 1
                return None
            if policy.tip_policy == "share":
                # The costs priced the floor; the share of the profit above it is paid out of that profit, and
                # the guard rises by the difference so the trade still ends min_profit up after the tip.
                gross = int(priced.expected_net * lpu) + policy.tip_lamports if lpu > 0.0 else 0
                tip = costs.tip_lamports("share", gross, policy.tip_lamports, policy.tip_cap_lamports,
                                         policy.tip_share_bps)  # fmt: skip
                min_profit_token += costs.lamports_to_token_ceil(tip - policy.tip_lamports, lpu)
            plan = plan_amounts(opp, min_profit_token, priced.cost_token)
        except (GuardError, ValueError):
            st.guard_refused += 1
            return None
        self._tip = tip
        if tmpl.follows_price and not tmpl.choose_accounts([leg.tick for leg in opp.legs]):
            st.off_window += 1  # the price left the window of tick arrays the template carries
            self._rebuild_later(route, tuple(leg.tick for leg in opp.legs))
            return None
        tmpl.patch(bh.blockhash, plan, priced.cu_limit, cu_price, tip)
        tx = tmpl.sign(self._signer)
        self.last_pricing = priced
        st.signed += 1
        st.decision_to_signed_ns.append(self.clock() - t0)
        return tx

    def _price(
        self, opp: Opportunity, tmpl: RouteTemplate, lpu: float, min_profit_token: int
    ) -> Pricing | None:
        """The trade's compute limit and cost. A proven template requests its measured limit, and the
        priority fee is charged on the limit requested: the cost is recomputed on it (at the current
        CU price) and the thresholds checked again on the net that results; None if it no longer
        clears. Without a proven limit the opportunity's own estimate and cost stand."""
        if not tmpl.cu_limit or tmpl.follows_price:
            # A CLMM leg's CU grows with the ticks it crosses, which the opportunity's estimate counts
            # (confirm) and a probe's proof does not: such routes keep the estimate.
            return Pricing(opp.cu_limit, opp.cost_lamports, opp.cost_token, opp.expected_net_profit)
        # (A CLMM leg's CU grows with the ticks it crosses: when one gets a template, its per-tick CU
        # goes on top of the limit proven at the probe's size.)
        params = self.params
        cost_l = costs.cost_lamports(params, tmpl.cu_limit)
        cost_tok = costs.lamports_to_token_ceil(cost_l, lpu)
        net = opp.expected_net_profit + opp.cost_token - cost_tok
        if not costs.passes_thresholds(
            net, opp.amount_in, min_profit_token, float(params[layout.M_MIN_PROFIT_BPS])
        ):
            return None
        return Pricing(tmpl.cu_limit, cost_l, cost_tok, net)

    def _schedule_proof(self, route: int, now_ns: int) -> None:
        """An unproven route's opportunity: simulate its template again, off the hot path (at most one
        simulation in flight per route, and one every REPROVE_AFTER_S)."""
        if self.prover is None:
            return
        last = self._proving.get(route)
        if last is not None and (last < 0 or now_ns - last < REPROVE_AFTER_S * 1e9):
            return
        self._proving[route] = -1  # in flight
        loop = asyncio.get_running_loop()
        loop.call_soon(
            lambda: self._track(loop.create_task(self._reprove(route), name=f"prove-route-{route}"), ())
        )

    def _unprove(self, flight: InFlight, err: Any) -> None:
        """A revert that was not the guard's: the template may be what broke. No trade on this route
        until a simulation proves it again."""
        if self.prover is None:
            return
        self.prover.unprove(flight.route_id)
        self.log.warning("route_unproven", route=flight.route_id, route_key=flight.route_key, reason=f"reverted: {err}",
                         effect="simulated again before it trades again")  # fmt: skip
        self._proving.pop(flight.route_id, None)
        self._schedule_proof(flight.route_id, self.clock())

    async def _reprove(self, route: int) -> None:
        assert self.prover is not None
        pools = self.route_pools.get(route, ())
        forms_before = [self.prover.form_of(p) for p in pools]
        try:
            proof = await self.prover.reprove(route)
        finally:
            self._proving[route] = self.clock()
        if proof.state is ProofState.PROVEN and proof.template is not None and proof.keys is not None:
            if [self.prover.form_of(p) for p in pools] != forms_before:
                # The program changed and the route now uses the form it accepts: the revert that
                # quarantined it was the old form's, so the quarantine is lifted (said in one line).
                self._lift_quarantine(route, "proven again in another instruction form")
            self.templates[route] = proof.template
            account, _ = self.start_accounts[route]
            self.start_accounts[route] = (account, proof.keys.index(account))
            for pool in self.route_pools.get(route, ()):
                self.on_release(pool)  # its opportunities were dropped while unproven: look again
        elif proof.state in (ProofState.DISABLED, ProofState.EXCLUDED):
            self.templates.pop(route, None)  # never traded again in this run

    def _lift_quarantine(self, route: int, why: str) -> None:
        key = self.route_keys.get(route, str(route))
        if self.gates is None or self.journal is None:
            return
        try:
            lifted = self.gates.ledger.unquarantine(key)
            self.gates.refresh()
        except (LedgerError, OSError) as err:
            self.log.error("ledger_failed", route=route, error=str(err))
            return
        if lifted:
            self.log.warning("route_released", route=route, route_key=key, reason=why)
            self.on_unquarantine(route)

    def _rebuild_later(self, route: int, ticks: tuple[int, ...]) -> None:
        if self.rebuild is None or route in self._rebuilding:
            return
        self._rebuilding.add(route)
        asyncio.get_running_loop().call_soon(self._rebuild_now, route, ticks)

    def _rebuild_now(self, route: int, ticks: tuple[int, ...]) -> None:
        """Cold path: compile the route's template around the ticks of the opportunity that missed."""
        self._rebuilding.discard(route)
        assert self.rebuild is not None
        try:
            tmpl, start_index = self.rebuild(route, ticks)
        except ValueError as err:  # TxTooLarge: the route stays off until the price comes back
            self._defer_refusal_log(route, "template", str(err))
            return
        self.templates[route] = tmpl
        account, _ = self.start_accounts[route]
        self.start_accounts[route] = (account, start_index)
        self.stats.rebuilt += 1
        for pool in self.route_pools.get(route, ()):
            self.on_release(pool)  # look again with the new template

    def _recent_sends(self, now_s: int) -> int:
        """Sends in the rate window, counted by whole seconds (reaching back 60 to 61 s: conservative);
        re-summed once per second, so the gate costs O(1) per opportunity."""
        if now_s != self._sends_second:
            self._sends_second = now_s
            oldest = now_s - RATE_WINDOW_S
            self._sends_total = sum(n for second, n in self._sends if second > oldest)
        return self._sends_total

    def _worst_band(self, opp: Opportunity) -> tuple[float | None, float | None]:
        """(pool price, CEX price) of the leg whose pool price deviates most from the CEX mid, both in
        raw units of token b per raw unit of token a; (None, None) where no leg has two CEX prices."""
        params = self.params
        worst: tuple[float, float, float] | None = None
        for leg in opp.legs:
            usd_in = params[layout.token_slot(leg.token_in, layout.T_USD_PER_UNIT)]
            usd_out = params[layout.token_slot(leg.token_out, layout.T_USD_PER_UNIT)]
            if not (usd_in > 0.0 and usd_out > 0.0) or leg.amount_in <= 0:
                continue
            pool = leg.amount_out / leg.amount_in  # out per in at the traded size (includes fee and impact)
            cex = float(usd_in / usd_out)
            dev = abs(pool - cex) / cex
            if worst is None or dev > worst[0]:
                worst = (dev, pool, cex)
        return (None, None) if worst is None else (worst[1], worst[2])

    def _defer_refusal_log(self, route: int, gate: str, reason: str) -> None:
        mark = (route, gate)
        if mark not in self._refusals_logged:
            self._refusals_logged.add(mark)
            asyncio.get_running_loop().call_soon(lambda: self.log.warning("trade_refused", route=route, gate=gate,
                                                                           reason=reason))  # fmt: skip

    def _journal(self, flight: InFlight) -> bool:
        """Write the in-flight row durably before the first send; False (nothing sent) if the ledger fails."""
        if self.journal is None:
            return True
        bh = self.blockhash
        try:
            self.journal.write_journal(JournalEntry(
                signature=flight.signature, route_id=flight.route_key, opportunity_id=f"{flight.route_key}@{bh.slot}",
                signed_tx=flight.tx, blockhash=str(Hash(bh.blockhash)),
                last_valid_block_height=flight.last_valid_block_height, expected_net_lamports=flight.expected_net,
                created_ns=self.wall_clock(), instance=self.instance,
            ))  # fmt: skip
        except (LedgerError, OSError) as err:
            self.stats.journal_failed += 1
            why = str(err)
            asyncio.get_running_loop().call_soon(lambda: self.log.error(
                "journal_failed", route=flight.route_id, error=why, effect="not sent"))  # fmt: skip
            return False
        return True

    def _track(self, task: asyncio.Task[None], pools: tuple[int, ...]) -> None:
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self._busy_pools.difference_update(pools)
            # Updates that arrived while these pools were busy were skipped as duplicates: look again.
            for p in pools:
                self.on_release(p)
            if not t.cancelled() and t.exception() is not None:
                self.log.error("trade_task_failed", task=t.get_name(), error=repr(t.exception()))

        task.add_done_callback(done)

    # ---- cold path ------------------------------------------------------------------------------
    async def _simulate(self, opp: Opportunity, tx: bytes, priced: Pricing) -> None:
        account, _ = self.start_accounts[opp.route_id]
        pre = await self.rpc.get_account_info(str(account), commitment="processed")
        prepared = self.dry_setup(opp, tx) if self.dry_setup is not None else None
        wrapped, setup_rent = (prepared[1], prepared[2]) if prepared is not None else (0, 0)
        try:
            sim = await self.rpc.simulate_transaction(
                prepared[0] if prepared is not None else tx, replace_recent_blockhash=True, commitment="processed",
                accounts=[str(account)],
            )  # fmt: skip
        except RpcError as err:
            self.log.warning("simulate_failed", route=opp.route_id, error=str(err))
            return
        self.stats.simulated += 1
        before = token_amount_or_zero(pre.account.data if pre.account else None)
        after = token_amount_or_zero(sim.accounts[0].data if sim.accounts and sim.accounts[0] else None)
        # The trade's own profit: what the start account gained beyond what was wrapped into it, less the
        # fees; the one-off set-up (token-account rent) is reported apart.
        simulated_net = None if sim.err is not None else after - before - wrapped - priced.cost_token
        self.log.info(
            "simulated", route=opp.route_id, legs=len(opp.legs), amount_in=opp.amount_in,
            expected_net=priced.expected_net, simulated_net=simulated_net, err=sim.err,
            units=sim.units_consumed, cu_limit=priced.cu_limit, setup=prepared is not None, wrapped=wrapped,
            setup_rent_lamports=setup_rent, logs=sim.logs[-8:],
        )  # fmt: skip

    async def _land(self, flight: InFlight, pending: Any) -> None:
        """Confirm one journalled transaction: subscribe, rebroadcast until it lands or expires, book it."""
        sig = flight.signature
        try:
            subscribing = asyncio.get_running_loop().create_task(
                self._subscribe(sig), name=f"confirm-{sig[:8]}"
            )
            first = await pending.wait() if pending is not None else None
            if pending is None:  # an earlier run's transaction (reconcile): not sent again as a new trade
                self.log.info(
                    "trade_tracking", route=flight.route_id, signature=sig, route_key=flight.route_key
                )
            elif first is not None and not first.ok:
                self.stats.send_failed += 1
                errors = {name: str(e) for name, e in first.errors.items()}
                self.log.warning("send_failed", route=flight.route_id, signature=sig, errors=errors,
                                 effect="rebroadcast until the blockhash expires")  # fmt: skip
            else:
                self.stats.sent += 1
                self.log.info(
                    "trade_sent", route=flight.route_id, signature=sig, legs=flight.legs, amount_in=flight.amount_in,
                    expected_net=flight.expected_net, decision_to_send_us=(flight.written_ns - flight.decided_ns) // 1000,
                    update_age_us=(flight.written_ns - flight.update_ns) // 1000 if flight.update_ns > 0 else None,
                    accepted=list(first.accepted) if first is not None else [],
                )  # fmt: skip
            rec = await self._await_landing(flight, subscribing)
            if rec is None:
                return
            await self._book(flight, rec)
        finally:
            self.in_flight.pop(sig, None)
            self._unsubscribe(sig)

    async def _subscribe(self, sig: str) -> asyncio.Future[Any] | None:
        try:
            return await self.pubsub.signature_subscribe(sig, "confirmed")
        except RpcError as err:
            self.log.warning("confirm_by_polling", signature=sig, error=str(err))
            return None

    def _unsubscribe(self, sig: str) -> None:
        unsubscribe = getattr(self.pubsub, "signature_unsubscribe", None)
        if unsubscribe is not None:
            task = asyncio.get_running_loop().create_task(unsubscribe(sig), name=f"unsubscribe-{sig[:8]}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _await_landing(
        self, flight: InFlight, subscribing: asyncio.Task[Any]
    ) -> TransactionRecord | None:
        """The landed transaction's record; None when it expired or its outcome stays unknown."""
        sig = flight.signature
        deadline = time.monotonic() + self.policy.confirm_timeout_s
        notified: asyncio.Future[Any] | None = None
        while True:
            if notified is None and subscribing.done() and not subscribing.cancelled():
                notified = subscribing.result()
            waits: list[asyncio.Future[Any]] = [notified] if notified is not None else [subscribing]
            await asyncio.wait(waits, timeout=self.policy.rebroadcast_s)
            if notified is not None and notified.done():
                rec = await self._record(sig)
                if rec is not None:
                    return rec
            status = await self._status(sig)
            if status is not None and status.confirmation_status in ("confirmed", "finalized"):
                rec = await self._record(sig)
                if rec is not None:
                    return rec
            if await self._expired(flight):
                status = await self._status(sig)  # last look: it may have landed in the final blocks
                if status is not None:
                    continue
                await self._book_expired(flight)
                return None
            if time.monotonic() > deadline:
                self.stats.unconfirmed += 1
                self._mark_unknown(flight, "no outcome before confirm_timeout_s")
                return None
            if status is None and not self.policy.dry_run:
                self.sender.write_all(flight.tx)  # same bytes: a duplicate is dropped by the cluster
                self.stats.rebroadcasts += 1

    async def _status(self, sig: str) -> Any:
        try:
            res = await self.rpc.get_signature_statuses([sig])
        except RpcError:
            return None
        return res.statuses[0] if res.statuses else None

    async def _record(self, sig: str) -> TransactionRecord | None:
        try:
            return await self.rpc.get_transaction(sig, commitment="confirmed")
        except RpcError:
            return None

    async def _expired(self, flight: InFlight) -> bool:
        """True once the cluster's block height passed the blockhash's lastValidBlockHeight."""
        if self.current_slot() - flight.blockhash_slot <= BLOCKHASH_VALID_BLOCKS:
            return False  # block height moves at most one per slot: it cannot have passed yet
        try:
            return await self.rpc.get_block_height(commitment="confirmed") > flight.last_valid_block_height
        except RpcError:
            return False

    def _mark_unknown(self, flight: InFlight, why: str) -> None:
        self.log.warning("trade_unconfirmed", route=flight.route_id, signature=flight.signature, reason=why,
                         effect="left in the journal; reconciled at the next start")  # fmt: skip
        if self.journal is not None:
            try:
                self.journal.mark_unknown(flight.signature, why)
            except (LedgerError, OSError) as err:
                self.log.error("journal_failed", signature=flight.signature, error=str(err))

    async def _book_expired(self, flight: InFlight) -> None:
        self.stats.expired += 1
        self._count_failure("expired")
        self.log.warning("trade_expired", route=flight.route_id, signature=flight.signature,
                         last_valid_block_height=flight.last_valid_block_height)  # fmt: skip
        self._book_trade(flight, Trade(
            signature=flight.signature, route_id=flight.route_key, opportunity_id=flight.route_key,
            outcome=Outcome.EXPIRED, mint=self._start_mint(flight), expected_net_lamports=flight.expected_net,
            legs=flight.legs, amount_in=flight.amount_in, instance=self.instance, realized_lamports=0,
            decided_ns=self.wall_clock(),
        ), unchanged=False)  # fmt: skip

    def _start_mint(self, flight: InFlight) -> str:
        return self.start_mints.get(flight.route_id, WSOL_MINT)

    def _count_failure(self, reason: str) -> None:
        self.stats.failed_by_reason[reason] = self.stats.failed_by_reason.get(reason, 0) + 1

    async def _book(self, flight: InFlight, rec: TransactionRecord) -> None:
        """Realized PnL from the transaction's own balances: the start token's change, and the payer's
        SOL change (fee and tip) valued in it."""
        st = self.stats
        idx = flight.start_index
        if idx < 0:
            _, idx = self.start_accounts.get(flight.route_id, (None, -1))
        token_delta = rec.token_delta(idx) if idx >= 0 else 0
        pre_amount = next((r.amount for r in rec.pre_token_balances if r.account_index == idx), 0)
        post_amount = next((r.amount for r in rec.post_token_balances if r.account_index == idx), 0)
        lpu = layout.lamports_per_unit(self.params, flight.start_token) if flight.start_token >= 0 else 0.0
        sol_delta = rec.post_balances[0] - rec.pre_balances[0]  # -(fee + tip)
        if lpu == 1.0:
            realized = token_delta + sol_delta  # wSOL start: lamports exactly
            realized_lamports = realized
        elif lpu > 0.0:
            realized = token_delta - costs.lamports_to_token_ceil(-sol_delta, lpu)
            realized_lamports = int(token_delta * lpu) + sol_delta
        else:
            realized = token_delta  # no SOL price to value the fee in this token; logged separately
            realized_lamports = sol_delta
        st.realized_lamports += realized_lamports
        st.fees_lamports += rec.fee
        reverted = rec.err is not None
        tip = 0 if reverted else flight.tip_lamports
        st.tips_lamports += tip
        confirm_ns = self.clock() - flight.written_ns if flight.written_ns else None
        if confirm_ns is not None:
            st.send_to_confirm_ns.append(confirm_ns)
            st.send_to_confirm_samples += 1
        unchanged = (
            reverted and bool(flight.pool_slots) and self.pool_slots(flight.pools) == flight.pool_slots
        )
        guard = reverted and self.guard_revert(flight.route_id, rec.err)
        if not reverted:
            st.confirmed += 1
            st.confirmed_by_legs[flight.legs] = st.confirmed_by_legs.get(flight.legs, 0) + 1
            self.log.info("trade_confirmed", route=flight.route_id, signature=flight.signature, slot=rec.slot,
                          fee=rec.fee, tip=tip, expected_net=flight.expected_net, realized_net=realized,
                          units=rec.compute_units_consumed)  # fmt: skip
        else:
            st.reverted += 1
            self._count_failure("reverted")
            self.log.warning("trade_reverted", route=flight.route_id, signature=flight.signature, slot=rec.slot,
                             fee=rec.fee, err=str(rec.err), realized_net=realized, pool_state_unchanged=unchanged,
                             guard=guard,
                             logs=rec.log_messages[-6:])  # fmt: skip
            tmpl = self.templates.get(flight.route_id)
            if self.prover is not None and tmpl is not None and not self.prover.is_guard_error(
                    flight.route_id, tmpl, rec.err):  # fmt: skip
                self._unprove(flight, rec.err)
        self.landed.set()
        self._book_trade(flight, Trade(
            signature=flight.signature, route_id=flight.route_key, opportunity_id=flight.route_key,
            outcome=Outcome.REVERTED if reverted else Outcome.LANDED, mint=self._start_mint(flight),
            pre_amount=pre_amount, post_amount=post_amount, pre_lamports=rec.pre_balances[0],
            post_lamports=rec.post_balances[0], fee_lamports=rec.fee, tip_lamports=tip,
            expected_net_lamports=flight.expected_net,
            realized_lamports=None if self._start_mint(flight) == WSOL_MINT else realized_lamports,
            error=str(rec.err) if reverted else "", slot=rec.slot, legs=flight.legs, amount_in=flight.amount_in,
            decision_to_sign_ns=flight.signed_ns - flight.decided_ns,
            sign_to_send_ns=flight.written_ns - flight.signed_ns if flight.written_ns else None,
            send_to_confirm_ns=confirm_ns, decided_ns=self.wall_clock(), instance=self.instance,
        ), unchanged=unchanged, guard=guard)  # fmt: skip

    def _book_trade(self, flight: InFlight, trade: Trade, *, unchanged: bool, guard: bool = False) -> None:
        """Ledger + risk rules: a quarantined route or a tripped kill switch is said in one line."""
        if self.gates is None:
            return
        try:
            booked: Booked | None = self.gates.record_trade(
                trade, pool_state_unchanged=unchanged, guard_revert=guard
            )
        except (LedgerError, OSError, ValueError) as err:
            self.log.error("ledger_failed", signature=trade.signature, error=str(err))
            return
        if booked is None:
            return
        if booked.quarantined is not None:
            self.log.error("route_quarantined", route=flight.route_id, route_key=flight.route_key,
                           reason=booked.quarantined.reason,
                           fix=f"solarb risk reset --route {flight.route_key}")  # fmt: skip
            if flight.route_id >= 0:
                self.on_quarantine(flight.route_id)
        if booked.tripped is not None:
            self.halt(booked.tripped.reason)

    def halt(self, reason: str) -> None:
        """The kill switch: no transaction is signed until `solarb risk reset` (and a restart)."""
        if not self.halted_reason:
            self.halted_reason = reason
            self.log.error("halted", reason=reason, fix="solarb risk reset, then start the bot again")

    # ---- start-up and shutdown ------------------------------------------------------------------
    async def reconcile(self, pools_of_key: Mapping[str, tuple[int, ...]]) -> int:
        """Resolve every journalled transaction of an earlier run before trading: book what landed, expire
        what can no longer land, and keep tracking (pools busy) what still can. Returns rows handled."""
        if self.journal is None:
            return 0
        rows = self.journal.in_flight()
        ids = {key: r for r, key in self.route_keys.items()}
        for row in rows:
            route = ids.get(row.route_id, -1)
            pools = pools_of_key.get(row.route_id, ())
            flight = InFlight(
                row.signature, route, row.route_id, row.signed_tx, pools, row.last_valid_block_height, 0,
                row.expected_net_lamports, 0, len(pools), self.start_tokens.get(route, -1), 0, 0,
            )  # fmt: skip
            self.stats.reconciled += 1
            self.log.info("reconcile", signature=row.signature, route_key=row.route_id, state=str(row.state))
            status = await self._status(row.signature)
            if status is None:
                try:
                    expired = (
                        await self.rpc.get_block_height(commitment="confirmed") > row.last_valid_block_height
                    )
                except RpcError:
                    expired = False
                if expired:
                    await self._book_expired(flight)
                    continue
            self.in_flight[row.signature] = flight
            self._busy_pools.update(pools)
            self._track(asyncio.get_running_loop().create_task(self._land(flight, None),
                                                                name=f"reconcile-{row.signature[:8]}"), pools)  # fmt: skip
        return len(rows)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Shutdown: wait for trades in flight (confirmations need the PubSub reader still running), then
        leave what is left in the journal as unknown and cancel it."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
            for flight in list(self.in_flight.values()):
                self.stats.unconfirmed += 1
                self._mark_unknown(flight, "still in flight at shutdown")
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
