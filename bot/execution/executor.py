"""From an Opportunity to signed bytes (hot path), then send or simulate, track and account (cold path).

Hot path (`on_opportunity`, synchronous, no I/O, no logging): drop stale or duplicate opportunities,
apply the risk gates, plan guarded amounts, patch the route's precompiled message and sign it. The
signed bytes go to a tracked task that either simulates them (dry-run: never sends) or hands them to
the `Sender`, waits for confirmation and books the realized profit from the transaction's own
balances (fee included).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from solders.pubkey import Pubkey

from bot.execution.guard import GuardError, plan_amounts
from bot.execution.message import RouteTemplate
from bot.keys import Wallet
from rpc.client import RpcClient
from rpc.errors import RpcError
from rpc.pubsub import PubSubClient
from rpc.submit import Sender, signature_of
from strategies import costs, layout
from strategies.opportunity import Opportunity
from strategies.venues.spl import token_amount_or_zero

CONFIRM_POLL_S = 0.4  # getTransaction polling when a signature subscription is refused (one slot)


@dataclass(slots=True)
class BlockhashCache:
    """Latest blockhash (raw 32 bytes) and its lastValidBlockHeight; refreshed every slot off the hot path."""

    blockhash: bytes = b""
    last_valid_block_height: int = 0
    slot: int = 0


@dataclass(slots=True)
class ExecStats:
    opportunities: int = 0
    stale: int = 0
    duplicate: int = 0
    no_template: int = 0
    guard_refused: int = 0
    rate_limited: int = 0
    halted: int = 0
    no_blockhash: int = 0
    signed: int = 0
    simulated: int = 0
    sent: int = 0
    send_failed: int = 0
    confirmed: int = 0
    reverted: int = 0
    unconfirmed: int = 0
    realized_lamports: int = 0  # sum over confirmed and reverted trades (fees of reverts included)
    confirmed_by_legs: dict[int, int] = field(default_factory=dict)  # legs -> confirmed trades
    decision_to_signed_ns: collections.deque[int] = field(default_factory=lambda: collections.deque(maxlen=4096))


@dataclass(frozen=True, slots=True)
class ExecPolicy:
    dry_run: bool
    min_profit_lamports: int
    budget_ns: int
    max_trades_per_minute: int
    max_daily_loss_lamports: int
    tip_lamports: int = 0
    confirm_timeout_s: float = 60.0


class Executor:
    def __init__(
        self,
        *,
        wallet: Wallet,
        templates: Mapping[int, RouteTemplate],
        params: layout.F64Array,
        route_pools: Mapping[int, tuple[int, ...]],
        start_accounts: Mapping[int, tuple[Pubkey, int]],
        rpc: RpcClient,
        pubsub: PubSubClient,
        sender: Sender,
        blockhash: BlockhashCache,
        policy: ExecPolicy,
        log: Any,
        on_release: Callable[[int], None] = lambda pool: None,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.wallet = wallet
        self.templates = templates
        self.params = params  # the cache's market vector: prices, costs, balances
        self.route_pools = route_pools
        # route id -> (start-token account, its index in the route's transaction account list)
        self.start_accounts = start_accounts
        self.rpc = rpc
        self.pubsub = pubsub
        self.sender = sender
        self.blockhash = blockhash
        self.policy = policy
        self.log = log
        self.clock = clock
        self.stats = ExecStats()
        self._busy_pools: set[int] = set()
        self._sends: collections.deque[int] = collections.deque()  # monotonic ns of sends in the last minute
        self._tasks: set[asyncio.Task[None]] = set()
        self.halted = False
        self.landed = asyncio.Event()  # set after every trade that landed (confirmed or reverted)
        self.on_release = on_release  # a pool whose trade ended: evaluate it again

    # ---- hot path -------------------------------------------------------------------------------
    def on_opportunity(self, opp: Opportunity, decided_ns: int | None = None) -> bytes | None:
        """Gate, plan, patch and sign, then hand the bytes to a tracked submit task. Returns the bytes or None.

        The opportunity was computed on the cache's latest state, so its age is measured from the
        decision (`decided_ns`, default now), not from the triggering update: a decision that waited
        longer than the execution budget is dropped (the engine re-evaluates on the next update).
        """
        tx = self.sign_opportunity(opp, decided_ns)
        if tx is None:
            return None
        pools = self.route_pools.get(opp.route_id, ())
        now = self.clock()
        self._busy_pools.update(pools)
        self._sends.append(now)
        task = asyncio.get_running_loop().create_task(
            self._submit(opp, tx, pools, now - opp.recv_ns), name=f"trade-route-{opp.route_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return tx

    def sign_opportunity(self, opp: Opportunity, decided_ns: int | None = None) -> bytes | None:
        """The synchronous hot path: gates, guarded plan, patch, sign. No I/O, no logging."""
        st = self.stats
        st.opportunities += 1
        t0 = self.clock()
        if decided_ns is not None and t0 - decided_ns > self.policy.budget_ns:
            st.stale += 1
            return None
        if self.halted:
            st.halted += 1
            return None
        pools = self.route_pools.get(opp.route_id, ())
        if any(p in self._busy_pools for p in pools):
            st.duplicate += 1  # a trade on these pools is in flight: its landing changes the state
            return None
        tmpl = self.templates.get(opp.route_id)
        if tmpl is None:
            st.no_template += 1
            return None
        window = t0 - 60_000_000_000
        while self._sends and self._sends[0] < window:
            self._sends.popleft()
        if len(self._sends) >= self.policy.max_trades_per_minute:
            st.rate_limited += 1
            return None
        if not self.blockhash.blockhash:
            st.no_blockhash += 1
            return None
        lpu = layout.lamports_per_unit(self.params, opp.start_token)
        try:
            min_profit_token = costs.lamports_to_token_ceil(self.policy.min_profit_lamports, lpu)
            plan = plan_amounts(opp, min_profit_token)
        except (GuardError, ValueError):
            st.guard_refused += 1
            return None
        cu_price = int(self.params[layout.M_CU_PRICE_MICRO])
        tmpl.patch(self.blockhash.blockhash, plan, opp.cu_limit, cu_price, self.policy.tip_lamports)
        tx = tmpl.sign(self.wallet.keypair)
        st.signed += 1
        st.decision_to_signed_ns.append(self.clock() - t0)
        return tx

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("trade_task_failed", task=task.get_name(), error=repr(task.exception()))

    # ---- cold path ------------------------------------------------------------------------------
    async def _submit(self, opp: Opportunity, tx: bytes, pools: tuple[int, ...], latency_ns: int) -> None:
        try:
            if self.policy.dry_run:
                await self._simulate(opp, tx)
            else:
                await self._send_and_track(opp, tx, latency_ns)
        finally:
            self._busy_pools.difference_update(pools)
            # Updates that arrived while these pools were busy were skipped as duplicates: look again.
            for p in pools:
                self.on_release(p)

    async def _simulate(self, opp: Opportunity, tx: bytes) -> None:
        account, _ = self.start_accounts[opp.route_id]
        pre = await self.rpc.get_account_info(str(account), commitment="processed")
        try:
            sim = await self.rpc.simulate_transaction(
                tx, replace_recent_blockhash=True, commitment="processed", accounts=[str(account)]
            )
        except RpcError as err:
            self.log.warning("simulate_failed", route=opp.route_id, error=str(err))
            return
        self.stats.simulated += 1
        before = token_amount_or_zero(pre.account.data if pre.account else None)
        after = token_amount_or_zero(sim.accounts[0].data if sim.accounts and sim.accounts[0] else None)
        simulated_net = None if sim.err is not None else after - before - opp.cost_token
        self.log.info(
            "simulated", route=opp.route_id, legs=len(opp.legs), amount_in=opp.amount_in,
            expected_net=opp.expected_net_profit, simulated_net=simulated_net, err=sim.err,
            units=sim.units_consumed, cu_limit=opp.cu_limit, logs=sim.logs[-8:],
        )

    async def _send_and_track(self, opp: Opportunity, tx: bytes, latency_ns: int) -> None:
        sig = signature_of(tx)
        # The transaction goes out first. Awaiting the subscription's acknowledgement (a websocket round trip,
        # milliseconds to a remote node) before sending would spend the execution budget; the subscription
        # request follows within the same event-loop pass. A confirmed-level subscription made after the
        # transaction was processed is still notified: the node checks subscribed signatures against each
        # newly confirmed bank (agave rpc_subscriptions), and localnet keeps events until finalized.
        subscribing = asyncio.get_running_loop().create_task(
            self.pubsub.signature_subscribe(sig, "confirmed"), name=f"confirm-{sig[:8]}")
        try:
            await self.sender.send(tx)
        except RpcError as err:
            _drop_subscription(subscribing)
            self.stats.send_failed += 1
            self.log.warning("send_failed", route=opp.route_id, signature=sig, error=str(err))
            return
        except BaseException:
            _drop_subscription(subscribing)
            raise
        self.stats.sent += 1
        self.log.info(
            "trade_sent", route=opp.route_id, signature=sig, legs=len(opp.legs), amount_in=opp.amount_in,
            expected_net=opp.expected_net_profit, cu_limit=opp.cu_limit, update_to_send_us=latency_ns // 1000,
        )
        try:
            async with asyncio.timeout(self.policy.confirm_timeout_s):
                try:
                    fut = await subscribing
                except RpcError as err:  # the subscription was refused: poll the transaction instead
                    self.log.warning("confirm_by_polling", route=opp.route_id, signature=sig, error=str(err))
                    while await self.rpc.get_transaction(sig, commitment="confirmed") is None:
                        await asyncio.sleep(CONFIRM_POLL_S)
                else:
                    await fut
        except TimeoutError:
            _drop_subscription(subscribing)
            self.stats.unconfirmed += 1
            self.log.warning("trade_unconfirmed", route=opp.route_id, signature=sig)
            return
        rec = await self.rpc.get_transaction(sig, commitment="confirmed")
        if rec is None:
            self.stats.unconfirmed += 1
            self.log.warning("trade_unconfirmed", route=opp.route_id, signature=sig)
            return
        _, idx = self.start_accounts[opp.route_id]
        # From the transaction's own balances: the start token's change, minus the fee valued in it.
        # For SOL-start cycles (wSOL moves lamports with its amount) this is payer + wSOL lamports exactly.
        token_delta = rec.token_delta(idx)
        lpu = layout.lamports_per_unit(self.params, opp.start_token)
        fee_paid = rec.pre_balances[0] - rec.post_balances[0]
        if lpu == 1.0:
            realized = token_delta - fee_paid
        elif lpu > 0.0:
            realized = token_delta - costs.lamports_to_token_ceil(fee_paid, lpu)
        else:
            realized = token_delta  # no SOL price to value the fee in this token; logged separately
        self.stats.realized_lamports += realized
        if rec.err is None:
            self.stats.confirmed += 1
            self.stats.confirmed_by_legs[len(opp.legs)] = self.stats.confirmed_by_legs.get(len(opp.legs), 0) + 1
            self.log.info("trade_confirmed", route=opp.route_id, signature=sig, slot=rec.slot, fee=rec.fee,
                          expected_net=opp.expected_net_profit, realized_net=realized,
                          units=rec.compute_units_consumed)
        else:
            self.stats.reverted += 1
            self.log.warning("trade_reverted", route=opp.route_id, signature=sig, slot=rec.slot, fee=rec.fee,
                             err=str(rec.err), realized_net=realized, logs=rec.log_messages[-6:])
        self.landed.set()
        if -self.stats.realized_lamports > self.policy.max_daily_loss_lamports:
            self.halted = True
            self.log.error("halted", reason="max_daily_loss_lamports reached", realized=self.stats.realized_lamports)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for trades in flight (shutdown), then cancel what is left."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)


def _drop_subscription(subscribing: asyncio.Task[asyncio.Future[Any]]) -> None:
    """Stop waiting for a signature: cancel the subscribe request, or the notification it returned."""
    if not subscribing.done():
        subscribing.cancel()
    elif not subscribing.cancelled() and subscribing.exception() is None:
        subscribing.result().cancel()

