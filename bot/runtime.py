"""The composition root at run time: build everything from the config, supervise the tasks, stop cleanly.

Start-up (cold): endpoints, RPC and PubSub clients, the cache writer and the account feed (built at
once, each complete) -> fetched pools and what they depend on -> routes (`plan_routes`, pure) -> cache
and market vector (`write_parameters`, pure) -> set-up phase (token accounts, wSOL, lookup tables, one
precompiled template per route) -> executor and engine (`Trading`, built complete) -> tasks.
Tasks (one TaskGroup, each named): PubSub reader, tick-array retargeting, engine, slot/blockhash
refresher, priority-fee refresher, CEX feeds. Shutdown: cancel -> drain trades in flight -> close clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.pubkey import Pubkey

from bot.accounts import AccountFeed
from bot.app import Mode
from bot.cache import CacheWriter, PoolEntry
from bot.config import Config
from bot.engine import Dirty, Engine
from bot.errors import RuntimeFailure
from bot.execution import prove
from bot.execution import setup as execsetup
from bot.execution.bundles import BothWriter, BundleWriter
from bot.execution.dryrun import SetupPlan, setup_count, with_setup
from bot.execution.executor import BlockhashCache, ExecPolicy, Executor
from bot.execution.message import RouteTemplate
from bot.execution.rebuild import TemplateRebuilder
from bot.execution.templates import lookup_addresses, route_instructions
from bot.feeds import FeedClient
from bot.keys import Wallet
from bot.ledger import Ledger, RiskGates, RiskLimits, plan_lookup_tables
from bot.prices import Prices, build_feeds
from bot.status import StatusServer, collect
from rpc.errors import RpcError
from rpc.jito import JitoClient, JitoSender
from rpc.pool import EndpointConfig as PoolEndpointConfig
from rpc.pool import EndpointPool, PoolClient, Role
from rpc.pubsub import PubSubClient
from rpc.submit import RpcSender
from strategies import costs, layout
from strategies import routes as R
from strategies.opportunity import Opportunity
from strategies.venues import spl
from strategies.venues.base import Venue

WSOL = str(execsetup.WSOL_MINT)
# A slot this far below the newest seen is not reordering: the cluster restarted or the node is another.
SLOT_REGRESSION = 64


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

    def reset(self) -> None:
        """Forget the newest slot (the cluster restarted with lower slot numbers)."""
        self.slot = 0

    async def wait_slot(self, slot: int) -> int:
        if self.slot >= slot:
            return self.slot
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append((slot, fut))
        return await fut


def plan_routes(cfg: Config, writer: CacheWriter) -> R.RouteTable:
    """Pure bootstrap: the routes over the configured pools as fetched (config + decoded accounts).

    Rows whose pool did not load get unique placeholder mints, so they join no route. CEX-DEX routes
    (signals only) are built over the tokens a configured feed prices, when `cex_dex` is on."""
    specs = [
        R.PoolSpec(e.kind, str(e.mint_a), str(e.mint_b)) if e.static is not None
        else R.PoolSpec(e.kind, f"missing-{e.idx}-a", f"missing-{e.idx}-b")
        for e in writer.pools
    ]  # fmt: skip
    base = [WSOL if t == "SOL" else cfg.mint(t) for t in cfg.strategy.base_tokens]
    cex: list[str] = []
    if cfg.strategy.cex_dex:
        for pair in cfg.feeds.symbols.values():
            for asset in pair.split("/", 1):
                mint = WSOL if asset == "SOL" else cfg.tokens.get(asset)
                if mint is not None and mint not in cex:
                    cex.append(mint)
    return R.build_routes(specs, base_mints=base, cex_mints=cex)


def write_parameters(cfg: Config, cache: layout.Cache, table: R.RouteTable) -> None:
    """Pure: the cost model, thresholds and per-token caps into the cache's market vector."""
    mv = cache.market
    costs.CostModel(
        cu_price_micro_lamports=cfg.execution.cu_price_micro_lamports,
        tip_lamports=cfg.execution.tip_lamports if cfg.execution.tip_policy != "none" else 0,
        min_profit_lamports=cfg.strategy.min_profit_lamports,
        min_profit_bps=float(cfg.strategy.min_profit_bps),
        slippage_bps=cfg.execution.slippage_bps,
    ).write_to(mv)
    for t, mint in enumerate(table.mints):
        layout.write_token(mv, t, is_sol=mint == WSOL, max_notional=cfg.strategy.max_notional_lamports)


@dataclass(slots=True, eq=False)
class Trading:
    """Everything the trading loop needs, built complete after the set-up phase."""

    cache: layout.Cache
    table: R.RouteTable
    prices: Prices
    feeds: list[FeedClient]
    atas: dict[int, Pubkey]
    executor: Executor
    engine: Engine


class Bot:
    """The composition root. `run()` builds the parts in order (endpoints and clients at once; routes,
    cache, set-up, executor and engine once the accounts are fetched) and supervises their tasks."""

    def __init__(self, cfg: Config, mode: Mode, wallet: Wallet, log: Any) -> None:
        self.cfg = cfg
        self.mode = mode
        self.wallet = wallet
        self.log = log
        eps = cfg.endpoints()
        self.endpoints = EndpointPool([
            PoolEndpointConfig(
                name=ep.name, http_url=ep.http, ws_url=ep.ws, priority=ep.priority,
                roles=frozenset(Role(r) for r in ep.roles if r != "bundle"),
                rate_limit_rps=float(ep.rate_limit_rps) or None, timeout_s=ep.timeout_ms / 1e3,
            )
            for ep in eps if set(ep.roles) - {"bundle"}
        ])  # fmt: skip
        # Jito block engines (endpoints with the bundle role): bundles, and the tip accounts.
        engines = [JitoClient(ep.http, timeout_s=ep.timeout_ms / 1e3) for ep in eps if "bundle" in ep.roles]
        self.jito = JitoSender(engines) if engines else None
        read = next(ep for ep in eps if "read" in ep.roles)
        # Reads go to the healthiest read endpoint and fail over; each switch is logged once.
        self.rpc = PoolClient(self.endpoints, role=Role.READ, on_switch=self._on_read_switch)
        self.sender = RpcSender(self.endpoints, fan_out=cfg.execution.send_fan_out)
        self.bundles = BundleWriter(self.jito) if self.jito is not None else None
        mode_ = cfg.execution.send_mode
        self.writer_out: Any = (self.sender if mode_ == "rpc" or self.bundles is None
                                else self.bundles if mode_ == "bundle" else BothWriter(self.sender, self.bundles))  # fmt: skip
        self.programs = cfg.programs()
        self.clock = SlotClock()
        self.blockhash = BlockhashCache()
        self.blockhash_ready = asyncio.Event()
        self.writer = CacheWriter(on_refusal=self._on_refusal, on_unusable=self._on_unusable,
                                  on_recovered=self._on_recovered)  # fmt: skip
        for p in cfg.pools:
            venue = Venue[p.venue]
            self.writer.add_pool(venue, p.address, self.programs[p.venue])
        self.dirty = Dirty(len(cfg.pools))
        self.accounts = AccountFeed(self.writer, self.rpc, commitment=cfg.rpc.commitment,
                                    on_pool=self.dirty.mark_pool, on_error=self._on_feed_error)  # fmt: skip
        reads = sorted((ep for ep in eps if "read" in ep.roles and ep.ws), key=lambda ep: ep.priority)
        self.pubsub = PubSubClient(
            [ep.ws for ep in reads] or read.ws,
            on_account=self.accounts.on_account,
            on_error=lambda err: self._on_feed_error(
                "pubsub_error", {"error": str(err), "kind": type(err).__name__}
            ),
            on_resubscribed=self.accounts.snapshot,
            on_slot=self._on_slot,
            transport=cfg.rpc.ws_transport,  # type: ignore[arg-type]  # the config's choices are rpc.ws.TRANSPORTS
        )
        self.ledger = Ledger.from_config(cfg.ledger)
        self.gates = RiskGates(self.ledger, RiskLimits(
            max_notional_lamports=cfg.strategy.max_notional_lamports, max_in_flight=cfg.risk.max_in_flight,
            min_sol_lamports=cfg.risk.sol_reserve_lamports, max_daily_loss_lamports=cfg.risk.max_daily_loss_lamports,
            price_band_bps=cfg.risk.price_band_bps, quarantine_after_reverts=cfg.risk.quarantine_after_reverts,
        ))  # fmt: skip
        self._engine_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._signal_logged: dict[int, int] = {}  # route -> monotonic ns of its last CEX-DEX signal line
        self._slippage: dict[int, dict[int, frozenset[int]]] = {}  # route -> instruction -> slippage codes
        self.trading: Trading | None = None  # set once by `run`, complete (None until then)
        self.prover: prove.Prover | None = None  # set by the set-up phase (prepare_execution)
        self.rebuild: TemplateRebuilder | None = None  # set by the set-up phase (CLMM legs' templates)
        self.sol_at_start = 0
        self._wallet_low = False  # the last wallet_low / wallet_funded said (one line per change)
        self.started = time.monotonic()
        self.status_port: int | None = None  # tests: 0 asks for any free port (the config's port otherwise)
        self.dry_plan: SetupPlan | None = None  # dry-run: what a first real trade would have to set up

    # ---- what run() built -------------------------------------------------------------------------
    def _running(self) -> Trading:
        if self.trading is None:
            raise RuntimeError("the bot is not running yet")
        return self.trading

    @property
    def cache(self) -> layout.Cache:
        return self._running().cache

    @property
    def table(self) -> R.RouteTable:
        return self._running().table

    @property
    def executor(self) -> Executor:
        return self._running().executor

    # ---- callbacks --------------------------------------------------------------------------------
    def _on_refusal(self, entry: PoolEntry, reason: str) -> None:
        self.log.warning("pool_refused", pool=str(entry.address), venue=entry.venue.name, reason=reason)

    def _slot_regressed(self, slot: int) -> None:
        """The cluster's slots went back (a restarted cluster, a fail-over to a node far behind): the
        latest-slot rule would drop the new node's state as old and the cache would mix both. Say so, stop
        signing until a fresh blockhash, forget every slot held, and rebuild the cache from a snapshot."""
        self.log.error("cluster_slot_regressed", slot=slot, was=self.clock.slot,
                       effect="cache rebuilt from the node's current state; no signing until a fresh blockhash")  # fmt: skip
        self.clock.reset()
        self.blockhash.blockhash = b""
        self.writer.reset_slots()
        self.blockhash_ready.clear()
        loop = asyncio.get_running_loop()
        task = loop.create_task(self.accounts.snapshot(), name="resnapshot-after-regression")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_unusable(self, entry: PoolEntry, reason: str) -> None:
        self.log.warning("pool_unusable", pool=str(entry.address), venue=entry.venue.name, reason=reason,
                         effect="not traded until a good update arrives")  # fmt: skip

    def _on_recovered(self, entry: PoolEntry, reason: str) -> None:
        self.log.info("pool_recovered", pool=str(entry.address), venue=entry.venue.name, was=reason)

    def _on_read_switch(self, old: str | None, new: str, reason: str) -> None:
        self.log.warning("read_endpoint_switched", previous=old, endpoint=new, reason=reason)

    def _on_feed_error(self, event: str, fields: dict[str, Any]) -> None:
        self.log.warning(event, **fields)

    def _on_slot(self, slot: int, parent: int, root: int) -> None:
        if self.clock.slot and slot + SLOT_REGRESSION < self.clock.slot:
            self._slot_regressed(slot)
        self.clock.on_slot(slot, parent, root)
        for idx in self.writer.on_slot(slot, time.monotonic_ns()):
            self.dirty.mark_pool(idx)

    def _on_signal(self, opp: Opportunity) -> None:
        """A CEX-DEX opportunity: logged (at most once a second per route), never traded."""
        now = time.monotonic_ns()
        if now - self._signal_logged.get(opp.route_id, -(10**18)) < 1_000_000_000:
            return
        self._signal_logged[opp.route_id] = now
        leg = opp.legs[0]
        entry = self.writer.pools[leg.pool]
        table = self._running().table
        self.log.info(
            "cex_dex_signal", route=opp.route_id, pool=str(entry.address), venue=entry.venue.name,
            sell_mint=table.mints[opp.start_token], buy_mint=table.mints[opp.end_token], amount_in=opp.amount_in,
            amount_out=opp.amount_out, expected_net=opp.expected_net_profit, cost_lamports=opp.cost_lamports,
            executed=False,
        )  # fmt: skip

    async def mint_decimals(self, mints: list[str]) -> dict[str, int]:
        res = await self.rpc.get_multiple_accounts(mints, commitment="confirmed")
        out: dict[str, int] = {}
        for m, acc in zip(mints, res.accounts, strict=True):
            decimals = spl.read_mint_decimals(acc.data) if acc is not None else None
            if decimals is not None:
                out[m] = decimals
        return out

    # ---- start-up ---------------------------------------------------------------------------------
    async def bootstrap(self) -> R.RouteTable:
        """Fetch the pools and what they depend on; the routes over them (pure `plan_routes`)."""
        try:
            health = await self.rpc.get_health()
        except RpcError as err:
            raise RuntimeFailure(f"cannot reach the RPC endpoint ({err}); is the cluster running?") from err
        self.log.info("rpc_ok", health=health)
        await self.accounts.fetch_pools()
        for e in self.writer.pools:
            if e.static is None:
                self.log.warning(
                    "pool_unavailable", pool=str(e.address), reason="account missing or not decodable"
                )
        if all(e.static is None for e in self.writer.pools):
            raise RuntimeFailure(
                f"none of the {len(self.writer.pools)} configured pools exists on {self.cfg.cluster.name} "
                f"(first: {self.writer.pools[0].address}); check [[pools]] and the cluster (`solarb pools -u URL`)")  # fmt: skip
        table = plan_routes(self.cfg, self.writer)
        await self.accounts.fetch_dependencies()
        self.log.info("routes_built", pools=len(self.writer.pools), routes=table.n_routes, tokens=len(table.mints),
                      two_leg=sum(len(r.legs) == 2 and r.route_type == R.ROUTE_CYCLE for r in table.routes),
                      three_leg=sum(len(r.legs) == 3 for r in table.routes),
                      cex_dex=sum(r.route_type == R.ROUTE_CEX for r in table.routes))  # fmt: skip
        return table

    async def wire(self, table: R.RouteTable) -> Trading:
        """Cache, prices, set-up phase, templates, executor and engine: everything the loop needs."""
        cfg = self.cfg
        # The cache uses the route table's token numbering; writing starts now.
        cache = layout.allocate(len(self.writer.pools), len(table.mints), tick_rows=self.writer.tick_rows())
        self.writer.attach(cache, table.token_index)
        write_parameters(cfg, cache, table)
        decimals = await self.mint_decimals([m for m in table.mints if not m.startswith("missing-")])
        prices = Prices(cfg, cache.market, table.token_index, decimals, on_token=self.dirty.mark_token,
                        on_sol_price=self.dirty.mark_all)  # fmt: skip
        feeds = build_feeds(cfg, prices)
        atas, templates, route_pools, start_accounts, tip = await self.prepare_execution(cache, table)
        pools_i = cache.pools_i
        dry = not self.mode.send
        executor = Executor(
            wallet=self.wallet, templates=templates, params=cache.market, route_pools=route_pools,
            start_accounts=start_accounts, rpc=self.rpc, pubsub=self.pubsub,
            sender=self.writer_out, blockhash=self.blockhash,
            policy=ExecPolicy(
                dry_run=dry, min_profit_lamports=cfg.strategy.min_profit_lamports,
                budget_ns=cfg.execution.budget_ms * 1_000_000, max_trades_per_minute=cfg.risk.max_trades_per_minute,
                tip_lamports=cfg.execution.tip_lamports if tip is not None else 0,
                tip_policy=cfg.execution.tip_policy if tip is not None else "none",
                tip_share_bps=cfg.execution.tip_share_bps, tip_cap_lamports=cfg.execution.tip_cap_lamports,
                rebroadcast_s=cfg.execution.rebroadcast_ms / 1e3,
            ),
            log=self.log, route_keys={r.route_id: self.route_key(r) for r in table.routes},
            start_mints={r.route_id: table.mints[r.start_token] for r in table.routes},
            start_tokens={r.route_id: r.start_token for r in table.routes},
            pool_slots=lambda pools: tuple(int(pools_i[p, layout.I_SLOT]) for p in pools),
            current_slot=lambda: self.clock.slot, journal=None if dry else self.ledger, gates=self.gates,
            instance=cfg.ledger.instance, on_release=self.dirty.mark_pool, guard_revert=self.is_guard_revert,
            on_quarantine=lambda route: self.disable_route(table, route),
            on_unquarantine=lambda route: self.disable_route(table, route, False),
            dry_setup=(lambda opp, tx: self.simulation_with_setup(table, opp, tx)) if dry else None,
            prover=self.prover,
            rebuild=self.rebuild,
        )  # fmt: skip
        if not templates and not any(r.route_type == R.ROUTE_CEX for r in table.routes):
            raise RuntimeFailure(
                f"no tradable route over the {len(self.writer.pools)} pools ({table.n_routes} routes built, none "
                "executable): a 2-leg cycle needs two pools of one pair, a 3-leg cycle a loop through a base token "
                "([strategy] base_tokens); add pools with `solarb pools`")  # fmt: skip
        # Routes that cannot trade are out of detection, so they never shadow one that can: cycles without a
        # template (too long, a token account missing, too large) and routes the ledger quarantined.
        quarantined = {q.route_id for q in self.ledger.quarantined()}
        for r in table.routes:
            if (r.route_type == R.ROUTE_CYCLE and r.route_id not in templates) or self.route_key(
                r
            ) in quarantined:
                table.set_disabled(r.route_id)
        engine = Engine(cache, table, self.dirty, slippage_bps=cfg.execution.slippage_bps,
                        on_opportunity=executor.on_opportunity, on_signal=self._on_signal,
                        clmm_quote=self.writer.quote)  # fmt: skip
        return Trading(cache, table, prices, feeds, atas, executor, engine)

    async def prepare_execution(
        self, cache: layout.Cache, table: R.RouteTable
    ) -> tuple[dict[int, Pubkey], dict[int, RouteTemplate], dict[int, tuple[int, ...]],
               dict[int, tuple[Pubkey, int]], Pubkey | None]:  # fmt: skip
        """Token accounts, wSOL, lookup tables and one template per route (set-up phase)."""
        cfg, log, pools = self.cfg, self.log, self.writer.pools
        mints = [Pubkey.from_string(m) for m in table.mints if not m.startswith("missing-")]
        dry = not self.mode.send
        sol = (await self.rpc.get_balance(str(self.wallet.pubkey), commitment="confirmed")).lamports
        if sol == 0:
            raise RuntimeFailure(
                f"wallet {self.wallet.pubkey} holds no SOL, so it cannot pay a fee even to simulate: fund it "
                f"(devnet/localnet: requestAirdrop, e.g. `solana airdrop 2 {self.wallet.pubkey} -u devnet`, or "
                f"`solarb localnet --fund {self.wallet.pubkey}`)")  # fmt: skip
        if dry:
            # Dry-run sends nothing, set-up included: each simulation carries the set-up a first real trade
            # would need (idempotent token accounts, the wSOL wrap), its rent reported apart.
            existing = await execsetup.existing_token_accounts(self.rpc, self.wallet, mints)
            atas = execsetup.associated_token_accounts(self.wallet, mints)
            missing = {m: a for m, a in atas.items() if m not in existing}
            wsol_acc = atas.get(execsetup.WSOL_MINT)
            wsol_amount = 0
            if wsol_acc is not None and execsetup.WSOL_MINT in existing:
                acc = (await self.rpc.get_account_info(str(wsol_acc), commitment="confirmed")).account
                wsol_amount = spl.token_amount_or_zero(acc.data if acc is not None else None)
            rent = await self.rpc.get_minimum_balance_for_rent_exemption(spl.TOKEN_ACCOUNT_SIZE)
            self.dry_plan = SetupPlan(missing, execsetup.WSOL_MINT, wsol_acc, wsol_amount, rent)
            if missing:
                log.info("dry_run_setup", missing_token_accounts=[str(m) for m in missing],
                         effect="each simulation creates them first (idempotent) and wraps the SOL it trades; "
                                "their rent is reported apart from the trade's profit")  # fmt: skip
        else:
            atas = await execsetup.ensure_token_accounts(self.rpc, self.pubsub, self.wallet, mints)
        by_token = {table.token_index[str(m)]: a for m, a in atas.items()}
        if WSOL in table.token_index and execsetup.WSOL_MINT in atas and not dry:
            wsol = await execsetup.wrap_sol(
                self.rpc,
                self.pubsub,
                self.wallet,
                atas[execsetup.WSOL_MINT],
                working=cfg.execution.working_balance_lamports,
                reserve=cfg.risk.sol_reserve_lamports,
            )
            log.info("wsol_ready", balance=wsol, reserve=cfg.risk.sol_reserve_lamports)
        self.sol_at_start = await self.refresh_balances(cache.market, by_token)
        if dry and self.dry_plan is not None and WSOL in table.token_index:
            # What the first real run would wrap: the working balance, never the SOL reserve.
            plan = self.dry_plan
            wrap = max(0, min(cfg.execution.working_balance_lamports - plan.wsol_amount,
                              self.sol_at_start - cfg.risk.sol_reserve_lamports))  # fmt: skip
            layout.write_token(cache.market, table.token_index[WSOL], balance=plan.wsol_amount + wrap)
        tip = await self.tip_account()
        # Routes longer than max_legs get no template, so execution never takes them.
        usable = [
            r
            for r in table.routes
            if r.route_type == R.ROUTE_CYCLE
            and len(r.legs) <= cfg.strategy.max_legs
            and all(pools[leg.pool].static is not None for leg in r.legs)
            and all(leg.token_in in by_token and leg.token_out in by_token for leg in r.legs)
        ]
        addresses: dict[Pubkey, None] = {}
        for r in usable:
            ixs, _ = route_instructions(r, pools, self.wallet.pubkey, by_token, tip)
            for a in lookup_addresses(ixs, self.wallet.pubkey):
                addresses.setdefault(a, None)
        alts = [] if dry else await self.lookup_tables(list(addresses))
        templates: dict[int, RouteTemplate] = {}
        route_pools: dict[int, tuple[int, ...]] = {}
        start_accounts: dict[int, tuple[Pubkey, int]] = {}
        # Each template is simulated before its route may trade (bot/execution/prove.py): a form the
        # program rejects falls back to the venue's next one; a route no form passes is disabled.
        prover = self.prover = prove.Prover(
            self.rpc, self.wallet, pools, cache, table, by_token, tip, alts, None if dry else self.lookup_tables,
            addresses, log, setup=(lambda r, amount, tx: self.probe_with_setup(table, r, amount, tx)) if dry else None,
            quote_state=self.writer.quote_state,
        )  # fmt: skip
        for r in usable:
            proof = await prover.prove(r)
            if proof.template is None or proof.keys is None:
                continue  # disabled or excluded (logged)
            templates[r.route_id] = proof.template
            route_pools[r.route_id] = tuple(leg.pool for leg in r.legs)
            self._slippage[r.route_id] = self._slippage_codes(r)
            start = by_token[r.start_token]
            start_accounts[r.route_id] = (start, proof.keys.index(start))
        self.rebuild = TemplateRebuilder(table, pools, self.wallet.pubkey, by_token, prover.alts, tip, prover)
        log.info("templates_ready", routes=len(templates), proven=len(templates) - len(prover.unproven),
                 unproven=sorted(prover.unproven), disabled=len(usable) - len(templates),
                 lookup_tables=len(prover.alts), addresses=len(prover.addresses),
                 max_tx_bytes=max((t.tx_size for t in templates.values()), default=0),
                 units={str(rid): u for rid, u in sorted(prover.units.items())},
                 cu_limits={str(rid): t.cu_limit for rid, t in sorted(templates.items())})  # fmt: skip
        return by_token, templates, route_pools, start_accounts, tip

    async def lookup_tables(self, addresses: list[Pubkey]) -> list[AddressLookupTableAccount]:
        """Tables holding `addresses`: reuse what earlier runs created (recorded in the ledger, still on
        chain and active), extend one that has room, create tables only for what is left."""
        ledger, me = self.ledger, str(self.wallet.pubkey)
        records = ledger.lookup_tables(authority=me)
        onchain = await execsetup.load_lookup_tables(
            self.rpc, self.wallet, [r.address for r in records if r.active]
        )
        for r in records:
            if r.active and r.address not in onchain:
                ledger.mark_lookup_table_closed(r.address)  # gone (closed, or another cluster's)
        live = [r for r in records if r.address in onchain]
        reuse, missing = plan_lookup_tables(live, [str(a) for a in addresses], me)
        alts = [onchain[r.address] for r in reuse]
        todo = [Pubkey.from_string(a) for a in missing]
        extended = created = 0
        if todo:
            spare = [
                t for t in onchain.values() if len(t.addresses) + len(todo) <= execsetup.ALT_MAX_ADDRESSES
            ]
            if spare:
                table = await execsetup.extend_lookup_table(self.rpc, self.pubsub, self.wallet, spare[0], todo,
                                                            self.clock.wait_slot)  # fmt: skip
                alts = [t for t in alts if t.key != table.key] + [table]
                ledger.record_lookup_table(str(table.key), me, [str(a) for a in table.addresses])
                extended = 1
            else:
                new = await execsetup.create_lookup_tables(self.rpc, self.pubsub, self.wallet, todo,
                                                           self.clock.wait_slot)  # fmt: skip
                for table in new:
                    ledger.record_lookup_table(str(table.key), me, [str(a) for a in table.addresses])
                alts += new
                created = len(new)
        ledger.touch_lookup_tables([str(t.key) for t in alts])
        self.log.info("lookup_tables", reused=len(reuse), extended=extended, created=created,
                      addresses=len(addresses))  # fmt: skip
        return alts

    def _slippage_codes(self, route: R.Route) -> dict[int, frozenset[int]]:
        """Instruction index -> the custom error codes of that leg's own slippage check."""
        out: dict[int, frozenset[int]] = {}
        at = 2  # after SetComputeUnitLimit and SetComputeUnitPrice
        for leg in route.legs:
            adapter = self.writer.pools[leg.pool].adapter
            at += 1  # one instruction per leg (templates.build_leg)
            out[at - 1] = adapter.slippage_errors
        return out

    def is_guard_revert(self, route_id: int, err: Any) -> bool:
        """True when a transaction failed on one of its swaps' own slippage checks (a min-out): the state
        moved before it landed (competition), not a wrong model."""
        try:
            index, detail = err["InstructionError"]
            code = detail["Custom"]
        except (TypeError, KeyError, ValueError):
            return False
        return code in self._slippage.get(route_id, {}).get(index, frozenset())

    async def tip_account(self) -> Pubkey | None:
        """Where tips go: the configured accounts, else the block engine's getTipAccounts (one, chosen at
        random as Jito advises, to spread write locks); None without a tip policy."""
        ex = self.cfg.execution
        if ex.tip_policy == "none":
            return None
        accounts = list(ex.tip_accounts)
        if not accounts and self.jito is not None:
            try:
                accounts = await self.jito.clients[0].get_tip_accounts()
            except RpcError as err:
                raise RuntimeFailure(f"cannot read the block engine's tip accounts ({err}); set "
                                     "[execution] tip_accounts") from err  # fmt: skip
            self.log.info("tip_accounts", accounts=len(accounts))
        if not accounts:
            raise RuntimeFailure(
                "no tip account: set [execution] tip_accounts or configure a bundle endpoint"
            )
        return Pubkey.from_string(random.choice(accounts))

    def simulation_with_setup(
        self, table: R.RouteTable, opp: Opportunity, tx: bytes
    ) -> tuple[bytes, int, int] | None:
        """Dry-run: the trade's transaction with the set-up a first real trade would need, or None."""
        plan = self.dry_plan
        if plan is None:
            return None
        route = table.routes[opp.route_id]
        mints = [
            Pubkey.from_string(table.mints[t]) for leg in route.legs for t in (leg.token_in, leg.token_out)
        ]
        start = Pubkey.from_string(table.mints[route.start_token])
        if not plan.needed(mints) and not (start == plan.wsol_mint and plan.wsol_amount < opp.amount_in):
            return None
        return with_setup(tx, self.wallet, plan, mints, start, opp.amount_in)

    def probe_with_setup(self, table: R.RouteTable, route: R.Route, amount_in: int,
                         tx: bytes) -> tuple[bytes, bytes, bytes, int] | None:  # fmt: skip
        """Dry-run proving: the probe with the set-up a fresh wallet needs, the set-up alone, the
        compute-budget instructions alone, and how many instructions the set-up adds."""
        plan = self.dry_plan
        if plan is None:
            return None
        mints = [
            Pubkey.from_string(table.mints[t]) for leg in route.legs for t in (leg.token_in, leg.token_out)
        ]
        start = Pubkey.from_string(table.mints[route.start_token])
        if not plan.needed(mints) and not (start == plan.wsol_mint and plan.wsol_amount < amount_in):
            return None
        full, _, _ = with_setup(tx, self.wallet, plan, mints, start, amount_in)
        alone, _, _ = with_setup(tx, self.wallet, plan, mints, start, amount_in, swaps=False)
        budget, _, _ = with_setup(
            tx, self.wallet, plan, mints, start, amount_in, swaps=False, include_setup=False
        )
        return full, alone, budget, setup_count(full, tx)

    def disable_route(self, table: R.RouteTable, route_id: int, disabled: bool = True) -> None:
        """Take a quarantined route out of detection (or back in) and look at its pools again."""
        table.set_disabled(route_id, disabled)
        for leg in table.routes[route_id].legs:
            self.dirty.mark_pool(leg.pool)

    def route_key(self, route: R.Route) -> str:
        """A route's name that survives restarts (the ledger's quarantine and journal use it): its legs as
        pool address and direction."""
        return ">".join(f"{self.writer.pools[leg.pool].address}:{leg.direction}" for leg in route.legs)

    async def refresh_balances(self, market: layout.F64Array, by_token: dict[int, Pubkey]) -> int:
        """Token balances cap amount_in (market vector); read off the hot path. Returns the payer's SOL."""
        keys = [str(self.wallet.pubkey), *(str(a) for a in by_token.values())]
        res = await self.rpc.get_multiple_accounts(keys, commitment="processed")
        payer, *accounts = res.accounts
        for t, acc in zip(by_token, accounts, strict=True):
            amount = spl.token_amount_or_zero(acc.data if acc is not None else None)
            layout.write_token(market, t, balance=amount)
        return payer.lamports if payer is not None else 0

    async def wallet_lamports(self) -> int:
        """SOL plus wrapped SOL of the wallet (what SOL-start cycles change)."""
        keys = [str(self.wallet.pubkey)]
        if self.trading is not None:
            wsol = self.trading.atas.get(self.trading.table.token_index.get(WSOL, -1))
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
            self.blockhash.fetched_ns = time.monotonic_ns()
            self.blockhash_ready.set()

    async def refresh_priority_fee(self, market: layout.F64Array, period_s: float = 2.0) -> None:
        """Percentile policy: a percentile of recent prioritization fees for the pools we write, capped."""
        cfg = self.cfg.execution
        accounts = [str(p.address) for p in self.writer.pools][:128]
        while True:
            try:
                fees = sorted(
                    f.prioritization_fee for f in await self.rpc.get_recent_prioritization_fees(accounts)
                )
            except RpcError as err:
                self.log.warning("priority_fee_refresh_failed", error=str(err))
                fees = []
            if fees:
                market[layout.M_CU_PRICE_MICRO] = float(
                    percentile_fee(fees, cfg.cu_price_percentile, cfg.cu_price_cap_micro_lamports)
                )
            await asyncio.sleep(period_s * (0.9 + 0.2 * random.random()))

    async def after_trades(self, trading: Trading, period_s: float = 2.0) -> None:
        """Keep balances current (cold path): after trades land, and every `period_s` besides, since the
        wallet also changes under the bot (the operator withdraws, another program of theirs spends)."""
        landed = trading.executor.landed
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(period_s):
                    await landed.wait()
            landed.clear()
            try:
                sol = await self.refresh_balances(trading.cache.market, trading.atas)
            except RpcError:
                continue
            trading.executor.sol_lamports = sol
            if self.mode.send:
                self._wallet_check(trading, sol)

    def _wallet_check(self, trading: Trading, sol: int) -> None:
        """One line when the wallet can no longer pay for a trade (the risk gate then refuses every
        send), one when it can again."""
        floor = (
            self.cfg.risk.sol_reserve_lamports
            + costs.LAMPORTS_PER_SIGNATURE
            + trading.executor.policy.tip_lamports
        )
        low = sol < floor
        if low == self._wallet_low:
            return
        self._wallet_low = low
        if low:
            self.log.warning(
                "wallet_low", wallet=str(self.wallet.pubkey), lamports=sol, needed_lamports=floor,
                fix=f"send SOL to {self.wallet.pubkey}; nothing is sent while it holds less than {floor} "
                "lamports (risk.sol_reserve_lamports plus one trade's fee and tip)",
            )  # fmt: skip
        else:
            self.log.info("wallet_funded", wallet=str(self.wallet.pubkey), lamports=sol)

    async def watch_frames(self, trading: Trading, period_s: float = 1.0) -> None:
        """One line per second at most for each source of malformed frames (PubSub, each CEX feed):
        what arrived broken since the last line; the frames were counted and skipped, nothing acted on them."""
        seen: dict[str, int] = {}
        while True:
            await asyncio.sleep(period_s)
            sources = [("pubsub", self.pubsub.stats.malformed)]
            sources += [(f"{f.exchange.value}", f.stats.malformed) for f in trading.feeds]
            for name, total in sources:
                new = total - seen.get(name, 0)
                seen[name] = total
                if new > 0:
                    self.log.warning("malformed_frames", source=name, frames=new, total=total,
                                     action="skipped (counted); the feed goes on")  # fmt: skip

    async def report_stats(self, trading: Trading, period_s: float = 30.0) -> None:
        """One `stats` record per period: what flowed through each stage (counters since start)."""
        while True:
            await asyncio.sleep(period_s)
            m, ex, eng = self.writer.stats, trading.executor.stats, trading.engine.stats
            ps = self.pubsub.stats
            lat = sorted(ex.decision_to_signed_ns) if ex.decision_to_signed_ns else []
            self.log.info(
                "stats", slot=self.clock.slot, notifications=ps.notifications, malformed_frames=ps.malformed,
                reconnects=max(0, ps.connects - 1), updates=m.updates, stale_updates=m.stale, settling=m.settling,
                rows_written=m.writes, evaluations=eng.evaluations, candidates=eng.candidates,
                signals=eng.signals, opportunities=ex.opportunities, sent=ex.sent, confirmed=ex.confirmed,
                reverted=ex.reverted, simulated=ex.simulated, realized_lamports=ex.realized_lamports,
                sign_p50_us=lat[len(lat) // 2] // 1000 if lat else None,
                sign_p99_us=lat[min(len(lat) - 1, len(lat) * 99 // 100)] // 1000 if lat else None,
            )  # fmt: skip

    async def run(
        self, ready: Callable[[], Awaitable[None] | None] | None = None, *, autotrade: bool = True
    ) -> None:
        """Build, set up, and run until cancelled. `autotrade=False` builds the engine but leaves driving
        it to the caller (tests that need to act between decision and landing)."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.pubsub.run(), name="pubsub")
            tg.create_task(
                self.endpoints.run_probing(self.cfg.rpc.probe_interval_ms / 1e3), name="endpoint-probe"
            )
            if self.cfg.runtime.metrics_port:
                from bot.metrics import registry_for, serve_metrics

                rt = self.cfg.runtime
                tg.create_task(
                    serve_metrics(registry_for(lambda: self), rt.metrics_host, rt.metrics_port),
                    name="metrics",
                )
            await self.pubsub.slot_subscribe()
            table = await self.bootstrap()
            await self.accounts.subscribe_all(self.pubsub)
            await self.pubsub.wait_ready(30)
            await self.clock.wait_slot(1)
            if self.clock.slot == 0:
                await self.clock.wait_slot(1)
            tg.create_task(self.refresh_blockhash(), name="blockhash")
            if self.mode.send:
                failed = await self.sender.connect()
                for name, err in failed.items():
                    self.log.warning("send_endpoint_down", endpoint=name, error=str(err))
            trading = self.trading = await self.wire(table)
            trading.executor.sol_lamports = self.sol_at_start
            await self.blockhash_ready.wait()  # no trading without a blockhash to sign with
            halted = self.gates.halted()
            if halted is not None:
                trading.executor.halt(halted.reason)
            pools_of_key = {self.route_key(r): tuple(leg.pool for leg in r.legs) for r in table.routes}
            if not self.mode.send:
                pass  # dry-run: nothing of ours is in flight, and nothing is sent
            elif reconciled := await trading.executor.reconcile(pools_of_key):
                self.log.info("reconciled", transactions=reconciled)
            start_lamports = await self.wallet_lamports()  # before the engine runs: no trade in between
            tg.create_task(self.accounts.run_retargeting(self.pubsub), name="tick-arrays")
            tg.create_task(self.after_trades(trading), name="balances")
            tg.create_task(self.report_stats(trading), name="stats")
            tg.create_task(self.watch_frames(trading), name="frames")
            if self.cfg.execution.cu_price_policy == "percentile":
                tg.create_task(self.refresh_priority_fee(trading.cache.market), name="priority-fee")
            for i, feed in enumerate(trading.feeds):
                tg.create_task(feed.run(), name=f"feed-{i}-{feed.exchange.value}")
            if trading.feeds:
                tg.create_task(trading.prices.run_staleness(trading.feeds), name="price-staleness")
            if self.cfg.status.port or self.status_port is not None:
                server = StatusServer(
                    lambda: collect(self, self.started),
                    self.cfg.status.host,
                    self.status_port if self.status_port is not None else self.cfg.status.port,
                )
                self.status_port = await server.start()
                tg.create_task(server.serve_forever(), name="status")
                self.log.info(
                    "status_endpoint", url=f"http://{self.cfg.status.host}:{self.status_port}/status"
                )
            if autotrade:
                self._engine_task = tg.create_task(trading.engine.run(), name="engine")
                self.dirty.mark_all()
            self.log.info(
                "running",
                mode=self.mode.name,
                routes=len(trading.executor.templates),
                wallet_lamports=start_lamports,
            )
            if ready is not None:
                maybe = ready()
                if maybe is not None:
                    await maybe

    async def shutdown(self, timeout_s: float = 20.0) -> None:
        """Stop detecting, then wait for trades in flight while the PubSub reader still runs (their
        confirmations arrive through it) and record each outcome; what is left stays in the journal."""
        if self._engine_task is not None:
            self._engine_task.cancel()
        if self.trading is not None:
            await self.trading.executor.drain(timeout_s)

    async def close(self) -> None:
        if self.trading is not None:
            await self.trading.executor.drain()
        await self.pubsub.close()
        await self.sender.aclose()
        if self.bundles is not None:
            await self.bundles.aclose()
        await self.endpoints.close()
        self.ledger.close()


async def run_bot(
    cfg: Config, mode: Mode, wallet: Wallet, log: Any, *, stop: asyncio.Event | None = None
) -> dict[str, Any]:
    """Run until `stop` is set (or forever); a task failure ends the run as one `RuntimeFailure` line.
    Returns the run's summary (also logged as the `summary` record)."""
    started = time.monotonic()
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
        if not task.done():
            log.info("stopping", effect="detection stopped; waiting for trades in flight")
            await bot.shutdown()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, BaseExceptionGroup):
            await task
        await bot.close()
        summary = run_summary(bot, time.monotonic() - started)
        log.info("summary", **summary)
    return summary


def _pct(values: Any, q: int, scale: int) -> float | None:
    data = sorted(values)
    if not data:
        return None
    return round(float(data[min(len(data) - 1, len(data) * q // 100)]) / scale, 1)


def run_summary(bot: Bot, uptime_s: float) -> dict[str, Any]:
    """What a trader reads at a glance when the bot stops."""
    trading = bot.trading
    if trading is None:
        return {"uptime_s": round(uptime_s, 1), "trading": False}
    st, eng = trading.executor.stats, trading.engine.stats
    return {
        "uptime_s": round(uptime_s, 1),
        "opportunities": st.opportunities,
        "signals": eng.signals,
        "simulated": st.simulated,
        "sent": st.sent + st.send_failed,
        "landed": st.confirmed,
        "reverted": st.reverted,
        "expired": st.expired,
        "unconfirmed": st.unconfirmed,
        "failed_by_reason": dict(st.failed_by_reason),
        "refused": {"stale": st.stale, "duplicate": st.duplicate, "risk": st.risk_refused,
                    "guard": st.guard_refused, "rate_limited": st.rate_limited, "stale_blockhash": st.stale_blockhash},
        "realized_lamports": st.realized_lamports,
        "realized_sol": st.realized_lamports / 1e9,
        "fees_lamports": st.fees_lamports,
        "tips_lamports": st.tips_lamports,
        "by_legs": {str(k): v for k, v in st.confirmed_by_legs.items()},
        "decision_to_signed_us": {"p50": _pct(st.decision_to_signed_ns, 50, 1000),
                                  "p99": _pct(st.decision_to_signed_ns, 99, 1000)},
        "send_to_confirm_ms": {"p50": _pct(st.send_to_confirm_ns, 50, 1_000_000),
                               "p99": _pct(st.send_to_confirm_ns, 99, 1_000_000)},
        # Kept for the tests and tools that read the earlier summary fields.
        "confirmed": st.confirmed,
        "send_failed": st.send_failed,
    }  # fmt: skip


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a few aligned lines for the console."""
    if not summary.get("trading", True):
        return f"solarb stopped after {summary['uptime_s']} s before trading started"
    lat, conf = summary["decision_to_signed_us"], summary["send_to_confirm_ms"]
    failed = ", ".join(f"{k} {v}" for k, v in summary["failed_by_reason"].items()) or "none"
    return "\n".join([
        f"solarb summary  uptime {summary['uptime_s']} s",
        f"  opportunities {summary['opportunities']}   sent {summary['sent']}   landed {summary['landed']}   "
        f"failed {failed}   simulated {summary['simulated']}   CEX-DEX signals {summary['signals']}",
        f"  realized PnL  {summary['realized_sol']:+.9f} SOL ({summary['realized_lamports']:+,} lamports)   "
        f"fees {summary['fees_lamports']:,}   tips {summary['tips_lamports']:,} lamports",
        f"  latency       decision->signed p50 {lat['p50']} us p99 {lat['p99']} us   "
        f"send->confirmed p50 {conf['p50']} ms p99 {conf['p99']} ms",
    ])  # fmt: skip


def percentile_fee(sorted_fees: list[int], percentile: int, cap: int) -> int:
    """The `percentile`-th of recent prioritization fees (nearest rank, sorted input), capped."""
    if not sorted_fees:
        return 0
    rank = max(0, -(-len(sorted_fees) * percentile // 100) - 1)
    return min(sorted_fees[rank], cap)


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc
