"""The composition root at run time: build everything from the config, supervise the tasks, stop cleanly.

Start-up (cold): endpoints -> pools and what they depend on -> routes -> cache and market vector ->
set-up phase (token accounts, wSOL, lookup tables, one precompiled template per route) -> tasks.
Tasks (one TaskGroup, each named): PubSub reader, tick-array retargeting, engine, slot/blockhash
refresher, priority-fee refresher. Shutdown: cancel -> drain trades in flight -> close clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from solders.hash import Hash
from solders.pubkey import Pubkey

from bot.app import Mode
from bot.config import Config
from bot.engine import Engine
from bot.errors import RuntimeFailure
from bot.execution import setup as execsetup
from bot.execution.executor import BlockhashCache, ExecPolicy, Executor
from bot.execution.message import TxTooLarge
from bot.execution.templates import compile_template, lookup_addresses, route_instructions
from bot.keys import Wallet
from bot.market import Market, PoolEntry
from bot.marketdata import MarketData
from bot.prices import Prices
from rpc.client import RpcClient
from rpc.errors import RpcError
from rpc.pool import EndpointConfig as PoolEndpointConfig
from rpc.pool import EndpointPool, Role
from rpc.submit import RpcSender
from strategies import costs, layout
from strategies import routes as R

WSOL = str(execsetup.WSOL_MINT)


@dataclass(slots=True)
class SlotClock:
    """Slot notifications -> the latest slot, awaitable (`wait_slot`), and a per-slot wake-up."""

    slot: int = 0
    tick: asyncio.Event = field(default_factory=asyncio.Event)
    _waiters: list[tuple[int, asyncio.Future[int]]] = field(default_factory=list)

    def on_slot(self, slot: int, parent: int, root: int) -> None:
        if slot <= self.slot:
            return
        self.slot = slot
        self.tick.set()
        if self._waiters:
            ready = [w for w in self._waiters if w[0] <= slot]
            self._waiters = [w for w in self._waiters if w[0] > slot]
            for _, fut in ready:
                if not fut.done():
                    fut.set_result(slot)

    async def wait_slot(self, slot: int) -> int:
        if self.slot >= slot:
            return self.slot
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append((slot, fut))
        return await fut


class Bot:
    """Everything the running bot owns. Build with `await Bot.start(...)`, run with `run()`."""

    def __init__(self, cfg: Config, mode: Mode, wallet: Wallet, log: Any) -> None:
        self.cfg = cfg
        self.mode = mode
        self.wallet = wallet
        self.log = log
        eps = cfg.endpoints()
        self.pool = EndpointPool([
            PoolEndpointConfig(
                name=ep.name, http_url=ep.http, ws_url=ep.ws, priority=ep.priority,
                roles=frozenset(Role(r) for r in ep.roles), rate_limit_rps=float(ep.rate_limit_rps) or None,
                timeout_s=ep.timeout_ms / 1e3,
            )
            for ep in eps
        ])
        read = next(ep for ep in eps if "read" in ep.roles)
        self.rpc = RpcClient(read.http, timeout_s=read.timeout_ms / 1e3)
        self.ws_url = read.ws
        self.programs = cfg.programs()
        self.cache: layout.Cache | None = None  # allocated once the tokens are known
        self.market = Market(on_refusal=self._on_refusal)
        for p in cfg.pools:
            self.market.add_pool(p.venue, p.address, self.programs[p.venue])
        self.clock = SlotClock()
        self.blockhash = BlockhashCache()
        self.blockhash_ready = asyncio.Event()
        self.engine: Engine | None = None
        self.executor: Executor | None = None
        self.md = MarketData(
            self.market, self.rpc, self.ws_url, commitment=cfg.rpc.commitment,
            on_pool=self._on_pool, on_error=self._on_md_error, on_slot=self._on_slot,
        )
        self.table: R.RouteTable | None = None
        self.prices: Prices | None = None
        self._atas: dict[int, Pubkey] = {}
        self.market_vec: layout.F64Array | None = None

    # ---- callbacks --------------------------------------------------------------------------------
    def _on_refusal(self, entry: PoolEntry, reason: str) -> None:
        self.log.warning("pool_refused", pool=str(entry.address), venue=entry.venue, reason=reason)

    def _on_md_error(self, event: str, fields: dict[str, Any]) -> None:
        self.log.warning(event, **fields)

    def _on_pool(self, idx: int) -> None:
        if self.engine is not None:
            self.engine.on_pool(idx)

    def _on_slot(self, slot: int, parent: int, root: int) -> None:
        self.clock.on_slot(slot, parent, root)
        for idx in self.market.on_slot(slot, time.monotonic_ns()):
            self._on_pool(idx)

    def _on_token(self, token: int) -> None:
        if self.engine is not None:
            self.engine.on_token(token)

    def _on_sol_price(self) -> None:
        if self.engine is not None:
            self.engine.evaluate_all()

    async def mint_decimals(self, mints: list[str]) -> dict[str, int]:
        res = await self.rpc.get_multiple_accounts(mints, commitment="confirmed")
        return {m: acc.data[44] for m, acc in zip(mints, res.accounts, strict=True)
                if acc is not None and len(acc.data) >= 45}

    # ---- start-up ---------------------------------------------------------------------------------
    async def build(self) -> None:
        cfg, log = self.cfg, self.log
        try:
            health = await self.rpc.get_health()
        except RpcError as err:
            raise RuntimeFailure(f"cannot reach the RPC endpoint ({err}); is the cluster running?") from err
        log.info("rpc_ok", health=health)
        await self.md.fetch([p.pool_key for p in self.market.pools])
        missing = [str(p.address) for p in self.market.pools if p.static is None]
        for address in missing:
            log.warning("pool_unavailable", pool=address, reason="account missing or not decodable")
        # Routes: rows whose pool did not load get unique placeholder mints, so they join no route.
        specs = [
            R.PoolSpec(e.kind, str(e.mint_a), str(e.mint_b)) if e.static is not None
            else R.PoolSpec(e.kind, f"missing-{e.idx}-a", f"missing-{e.idx}-b")
            for e in self.market.pools
        ]
        base = [cfg.mint(t) if t != "SOL" else WSOL for t in cfg.strategy.base_tokens]
        table = R.build_routes(specs, base_mints=base)
        self.table = table
        deps = [k for e in self.market.pools for k in self.market.dependencies(e)]
        await self.md.fetch(deps)
        # The cache uses the route table's token numbering; writing starts now.
        self.cache = cache = layout.allocate(len(self.market.pools), len(table.mints))
        self.market.attach(cache, table.token_index)
        mv = cache.market
        decimals = await self.mint_decimals([m for m in table.mints if not m.startswith("missing-")])
        self.prices = Prices(cfg, mv, table.token_index, decimals, on_token=self._on_token,
                             on_sol_price=self._on_sol_price)
        costs.CostModel(
            cu_price_micro_lamports=cfg.execution.cu_price_micro_lamports,
            tip_lamports=cfg.execution.tip_lamports if cfg.execution.tip_policy == "fixed" else 0,
            min_profit_lamports=cfg.strategy.min_profit_lamports,
            min_profit_bps=float(cfg.strategy.min_profit_bps),
            slippage_bps=cfg.execution.slippage_bps,
        ).write_to(mv)
        for t, mint in enumerate(table.mints):
            layout.write_token(mv, t, is_sol=mint == WSOL, max_notional=cfg.strategy.max_notional_lamports)
        self.market_vec = mv
        log.info("routes_built", pools=len(self.market.pools), routes=table.n_routes, tokens=len(table.mints),
                 two_leg=sum(len(r.legs) == 2 for r in table.routes), three_leg=sum(len(r.legs) == 3 for r in table.routes))

    async def prepare_execution(self) -> None:
        """Token accounts, wSOL, lookup tables and one template per route (set-up phase)."""
        assert self.table is not None and self.market_vec is not None
        cfg, log, table = self.cfg, self.log, self.table
        mints = [Pubkey.from_string(m) for m in table.mints if not m.startswith("missing-")]
        dry = not self.mode.send
        if dry:
            # Dry-run sends nothing, set-up included: use what the wallet already has, say what is missing.
            atas = await execsetup.existing_token_accounts(self.rpc, self.wallet, mints)
            for m in mints:
                if m not in atas:
                    log.warning("token_account_missing", mint=str(m), effect="routes through this token are excluded",
                                fix="create it (spl-token create-account) or run once without dry-run")
        else:
            atas = await execsetup.ensure_token_accounts(self.rpc, self.md.pubsub, self.wallet, mints)
        by_token = {table.token_index[str(m)]: a for m, a in atas.items()}
        if WSOL in table.token_index and execsetup.WSOL_MINT in atas and not dry:
            wsol = await execsetup.wrap_sol(
                self.rpc, self.md.pubsub, self.wallet, atas[execsetup.WSOL_MINT],
                working=cfg.execution.working_balance_lamports, reserve=cfg.risk.sol_reserve_lamports,
            )
            log.info("wsol_ready", balance=wsol, reserve=cfg.risk.sol_reserve_lamports)
        await self.refresh_balances(by_token)
        tip = Pubkey.from_string(cfg.execution.tip_accounts[0]) if cfg.execution.tip_policy == "fixed" else None
        # Routes longer than max_legs get no template, so execution never takes them.
        usable = [r for r in table.routes if r.route_type == R.ROUTE_CYCLE and len(r.legs) <= cfg.strategy.max_legs
                  and all(self.market.pools[leg.pool].static is not None for leg in r.legs)
                  and all(leg.token_in in by_token and leg.token_out in by_token for leg in r.legs)]
        addresses: dict[Pubkey, None] = {}
        for r in usable:
            ixs, _ = route_instructions(r, self.market.pools, self.wallet.pubkey, by_token, tip)
            for a in lookup_addresses(ixs, self.wallet.pubkey):
                addresses.setdefault(a, None)
        alts = [] if dry else await execsetup.create_lookup_tables(
            self.rpc, self.md.pubsub, self.wallet, list(addresses), self.clock.wait_slot)
        templates, route_pools, start_accounts = {}, {}, {}
        for r in usable:
            try:
                tmpl, keys = compile_template(r, self.market.pools, self.wallet.pubkey, by_token, alts, tip)
            except TxTooLarge as err:
                log.warning("route_excluded", route=r.route_id, reason=str(err))
                continue
            templates[r.route_id] = tmpl
            route_pools[r.route_id] = tuple(leg.pool for leg in r.legs)
            start = by_token[r.start_token]
            start_accounts[r.route_id] = (start, keys.index(start))
        log.info("templates_ready", routes=len(templates), lookup_tables=len(alts), addresses=len(addresses),
                 max_tx_bytes=max((t.tx_size for t in templates.values()), default=0))
        sender = RpcSender(self.pool, fan_out=1)
        self.executor = Executor(
            wallet=self.wallet, templates=templates, market=self.market_vec, route_pools=route_pools,
            start_accounts=start_accounts, rpc=self.rpc, pubsub=self.md.pubsub, sender=sender,
            blockhash=self.blockhash,
            policy=ExecPolicy(
                dry_run=not self.mode.send, min_profit_lamports=cfg.strategy.min_profit_lamports,
                budget_ns=cfg.execution.budget_ms * 1_000_000, max_trades_per_minute=cfg.risk.max_trades_per_minute,
                max_daily_loss_lamports=cfg.risk.max_daily_loss_lamports,
                tip_lamports=cfg.execution.tip_lamports if tip is not None else 0,
            ),
            log=log,
        )
        self._atas = by_token

    async def refresh_balances(self, by_token: dict[int, Pubkey] | None = None) -> None:
        """Token balances cap amount_in (market vector); read off the hot path."""
        by_token = by_token or self._atas
        assert self.market_vec is not None
        res = await self.rpc.get_multiple_accounts([str(a) for a in by_token.values()], commitment="processed")
        for t, acc in zip(by_token, res.accounts, strict=True):
            amount = int.from_bytes(acc.data[64:72], "little") if acc is not None and len(acc.data) >= 72 else 0
            layout.write_token(self.market_vec, t, balance=amount)

    async def wallet_lamports(self) -> int:
        """SOL plus wrapped SOL of the wallet (what SOL-start cycles change)."""
        keys = [str(self.wallet.pubkey)]
        wsol = self._atas.get(self.table.token_index.get(WSOL, -1)) if self.table is not None else None
        if wsol is not None:
            keys.append(str(wsol))
        res = await self.rpc.get_multiple_accounts(keys, commitment="processed")
        return sum(acc.lamports for acc in res.accounts if acc is not None)

    # ---- tasks ------------------------------------------------------------------------------------
    async def refresh_blockhash(self) -> None:
        """Blockhash and lastValidBlockHeight, refreshed every slot (slot notifications), off the hot path."""
        while True:
            await self.clock.tick.wait()
            self.clock.tick.clear()
            try:
                bh = await self.rpc.get_latest_blockhash(commitment="confirmed")
            except RpcError as err:
                self.log.warning("blockhash_refresh_failed", error=str(err))
                continue
            self.blockhash.blockhash = bytes(Hash.from_string(bh.blockhash))
            self.blockhash.last_valid_block_height = bh.last_valid_block_height
            self.blockhash.slot = bh.slot
            self.blockhash_ready.set()

    async def refresh_priority_fee(self, period_s: float = 2.0) -> None:
        """Percentile policy: a percentile of recent prioritization fees for the pools we write, capped."""
        cfg = self.cfg.execution
        assert self.market_vec is not None
        accounts = [str(p.address) for p in self.market.pools][:128]
        while True:
            try:
                fees = sorted(f.prioritization_fee for f in await self.rpc.get_recent_prioritization_fees(accounts))
            except RpcError as err:
                self.log.warning("priority_fee_refresh_failed", error=str(err))
                fees = []
            if fees:
                self.market_vec[layout.M_CU_PRICE_MICRO] = float(
                    percentile_fee(fees, cfg.cu_price_percentile, cfg.cu_price_cap_micro_lamports))
            await asyncio.sleep(period_s * (0.9 + 0.2 * random.random()))

    async def after_trades(self) -> None:
        """Keep balances current after trades land (cold path)."""
        assert self.executor is not None
        landed = self.executor.landed
        while True:
            await landed.wait()
            landed.clear()
            with contextlib.suppress(RpcError):
                await self.refresh_balances()

    async def report_stats(self, period_s: float = 30.0) -> None:
        """One `stats` record per period: what flowed through each stage (counters since start)."""
        while True:
            await asyncio.sleep(period_s)
            m, ex = self.market.stats, self.executor.stats if self.executor else None
            eng = self.engine.stats if self.engine else None
            ps = self.md.pubsub.stats
            lat = sorted(ex.decision_to_signed_ns) if ex and ex.decision_to_signed_ns else []
            self.log.info(
                "stats", slot=self.clock.slot, notifications=ps.notifications, malformed_frames=ps.malformed,
                reconnects=max(0, ps.connects - 1), updates=m.updates, stale_updates=m.stale, settling=m.settling,
                rows_written=m.writes, evaluations=eng.evaluations if eng else 0,
                candidates=eng.candidates if eng else 0, opportunities=ex.opportunities if ex else 0,
                sent=ex.sent if ex else 0, confirmed=ex.confirmed if ex else 0, reverted=ex.reverted if ex else 0,
                simulated=ex.simulated if ex else 0, realized_lamports=ex.realized_lamports if ex else 0,
                sign_p50_us=lat[len(lat) // 2] // 1000 if lat else None,
                sign_p99_us=lat[min(len(lat) - 1, len(lat) * 99 // 100)] // 1000 if lat else None,
            )

    async def run(self, ready: Callable[[], Awaitable[None] | None] | None = None, *, autotrade: bool = True) -> None:
        """Build, set up, and run until cancelled. `autotrade=False` builds the engine but leaves driving
        it to the caller (tests that need to act between decision and landing)."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.md.pubsub.run(), name="pubsub")
            await self.md.pubsub.slot_subscribe()
            await self.build()
            await self.md.subscribe_all()
            await self.md.pubsub.wait_ready(30)
            await self.clock.wait_slot(1)
            if self.clock.slot == 0:
                await self.clock.wait_slot(1)
            tg.create_task(self.refresh_blockhash(), name="blockhash")
            await self.prepare_execution()
            await self.blockhash_ready.wait()  # no trading without a blockhash to sign with
            start_lamports = await self.wallet_lamports()  # before the engine runs: no trade in between
            assert self.table is not None and self.market_vec is not None and self.executor is not None
            assert self.cache is not None
            self.engine = Engine(self.cache, self.table,
                                 slippage_bps=self.cfg.execution.slippage_bps,
                                 on_opportunity=self.executor.on_opportunity)
            self.executor.on_release = self.engine.on_pool
            tg.create_task(self.md.run_retargeting(), name="tick-arrays")
            tg.create_task(self.after_trades(), name="balances")
            tg.create_task(self.report_stats(), name="stats")
            if self.cfg.execution.cu_price_policy == "percentile":
                tg.create_task(self.refresh_priority_fee(), name="priority-fee")
            assert self.prices is not None
            for i, feed in enumerate(self.prices.feeds):
                tg.create_task(feed.run(), name=f"feed-{i}-{feed.venue.value}")
            if self.prices.feeds:
                tg.create_task(self.prices.run_staleness(), name="price-staleness")
            if autotrade:
                tg.create_task(self.engine.run(), name="engine")
                self.engine.evaluate_all()
            self.log.info("running", mode=self.mode.name, routes=len(self.executor.templates),
                          wallet_lamports=start_lamports)
            if ready is not None:
                maybe = ready()
                if maybe is not None:
                    await maybe

    async def close(self) -> None:
        if self.executor is not None:
            await self.executor.drain()
        await self.md.pubsub.close()
        await self.rpc.close()
        await self.pool.close()


async def run_bot(cfg: Config, mode: Mode, wallet: Wallet, log: Any, *, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or forever); a task failure ends the run as one `RuntimeFailure` line."""
    bot = Bot(cfg, mode, wallet, log)
    task = asyncio.create_task(bot.run(), name="bot")
    try:
        if stop is None:
            await task
        else:
            stopper = asyncio.create_task(stop.wait(), name="stop")
            done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if task in done:
                task.result()
    except BaseExceptionGroup as group:
        first = _first_leaf(group)
        log.error("task_failed", error=repr(first))
        if isinstance(first, RuntimeFailure):
            raise first from None
        raise RuntimeFailure(f"the bot stopped: {first}") from first
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, BaseExceptionGroup):
            await task
        await bot.close()
        if bot.executor is not None:
            st = bot.executor.stats
            log.info("summary", confirmed=st.confirmed, reverted=st.reverted, simulated=st.simulated,
                     send_failed=st.send_failed, realized_lamports=st.realized_lamports,
                     by_legs={str(k): v for k, v in st.confirmed_by_legs.items()})


def percentile_fee(sorted_fees: list[int], percentile: int, cap: int) -> int:
    """The `percentile`-th of recent prioritization fees (nearest rank, sorted input), capped."""
    if not sorted_fees:
        return 0
    rank = max(0, -(-len(sorted_fees) * percentile // 100) - 1)
    return min(sorted_fees[rank], cap)


def _first_leaf(group: BaseExceptionGroup) -> BaseException:  # type: ignore[type-arg]
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc
