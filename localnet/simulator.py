"""The market simulator: noise-trader wallets swapping through localnet's reference programs, leaning on a
random-walk reference price that the local CEX feed server quotes, so pool prices lag the CEX and each
other and arbitrage keeps appearing.

    sim = Simulator(net, Reference(demo.REFERENCE, seed=7, step_s=1 / 20), rate=20, seed=7)
    sim.step()                        # one trade now (tests), or
    await sim.run()                   # at most `rate` trades a second until cancelled

One step:
  1. the reference advances one GBM step (sigma = vol * sqrt(step_s), so volatility per second does not
     depend on the rate);
  2. four draws pick a pool, a wallet, a direction and a size. The direction leans towards the reference:
     with d the log-deviation of the pool price from the reference, the trader sells the pool's
     expensive side with probability 1 / (1 + exp(-d / pull)) (a coin flip at d = 0). The size is a
     log-normal share of the input reserve (median `size_median_bps`, capped at `size_cap_bps`), at most
     90% of the wallet's balance;
  3. the venue's swap builder (localnet.sim_venues) quotes the swap exactly and builds it; the wallet signs
     it with the chain's current blockhash and it is submitted as sendTransaction is (signature verified,
     preflight, executed), so it lands, or is counted failed.
The draws are made every step, whatever the pool state, so the same seed gives the same trades whenever
the chain state is the same (a bot trading in between changes the state, hence later sizes and sides).
A step never runs within `1 / rate` seconds of the previous one, and a late step is not made up for.

`Market` runs the simulator and the CEX feed server as tasks next to the localnet server
(`python -m localnet --scenario demo --simulate --cex-port 9443`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import math
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from localnet.cex_server import CexFeedServer
from localnet.chain import NATIVE_MINT, TOKEN_PROGRAM
from localnet.cli import MAX_RATE
from localnet.errors import ListenError, LoadError, RpcFault
from localnet.market_path import GbmWalk, PathPoint
from localnet.server import Localnet, pack_token_account
from localnet.sim_venues import VENUES, SimPool, SwapVenue

__all__ = ["Market", "Reference", "ReferenceAsset", "SimParams", "Simulator", "Trade"]

WALLETS = 4
FEE_LAMPORTS = 10 * 10**9  # each wallet's SOL for transaction fees
FUND_MULTIPLE = 10  # each wallet holds this many times the largest pool reserve of every pool token
RENT_165 = 2_039_280  # rent-exempt minimum of a 165-byte token account
_PPM = 1_000_000


@dataclass(frozen=True, slots=True)
class ReferenceAsset:
    """A token's reference price in USD: a random walk quoted on the CEX as `symbol`, or fixed (symbol None)."""

    symbol: str | None
    mint: Pubkey
    usd: float


@dataclass(frozen=True, slots=True)
class SimParams:
    """How the noise traders trade (the defaults keep the demo's pools within a few % of the reference)."""

    size_median_bps: float = 20.0  # of the input reserve
    size_sigma: float = 0.8  # of the log of the size
    size_cap_bps: float = 200.0
    pull_bps: float = 100.0  # deviation from the reference at which 73% of trades push back
    slippage_bps: int = 100
    keep_trades: int = 10_000  # the last trades kept in `Simulator.trades`


@dataclass(frozen=True, slots=True)
class Trade:
    """One step. `signature` is set when the swap landed; `error` says why it did not (or was skipped)."""

    step: int
    pool: Pubkey
    wallet: int
    a_to_b: bool
    amount_in: int
    expected_out: int
    signature: str | None
    error: str | None

    @property
    def landed(self) -> bool:
        return self.signature is not None


class Reference:
    """The reference prices: one GBM walk per CEX symbol (own seeded stream each), fixed prices otherwise."""

    def __init__(
        self,
        assets: Sequence[ReferenceAsset],
        *,
        seed: int,
        step_s: float,
        vol_per_sqrt_s: float = 0.002,
        spread_bps: float = 2.0,
    ) -> None:
        if not assets:
            raise LoadError("the market simulator needs reference prices (a scenario with REFERENCE)")
        sigma = vol_per_sqrt_s * math.sqrt(step_s)
        self.assets = tuple(assets)
        self._walks = {
            a.mint: GbmWalk(seed=f"solarb-sim/{seed}/reference/{a.symbol}", s0=a.usd, sigma_per_step=sigma)
            for a in assets
            if a.symbol is not None
        }
        self._fixed = {a.mint: a.usd for a in assets if a.symbol is None}
        self._quoted = [(a.symbol, self._walks[a.mint]) for a in assets if a.symbol is not None]
        self._step_ns = round(step_s * 1e9)
        self._half_spread = spread_bps * 1e-4 / 2.0
        self.steps = 0

    def step(self) -> None:
        for walk in self._walks.values():
            walk.step()
        self.steps += 1

    def usd(self, mint: Pubkey) -> float | None:
        walk = self._walks.get(mint)
        return walk.mid if walk is not None else self._fixed.get(mint)

    def fair(self, mint_a: Pubkey, mint_b: Pubkey) -> float | None:
        """Token B per token A, or None when either has no reference price."""
        a, b = self.usd(mint_a), self.usd(mint_b)
        return None if a is None or b is None else a / b

    def quotes(self) -> list[tuple[str, PathPoint]]:
        """The CEX quote of every symbol now (t_ns: the reference's own time, steps * step_s)."""
        t_ns, h = self.steps * self._step_ns, self._half_spread
        return [
            (symbol, PathPoint(t_ns, walk.mid * (1.0 - h), walk.mid * (1.0 + h)))
            for symbol, walk in self._quoted
        ]


def _address(label: str) -> Keypair:
    return Keypair.from_seed(hashlib.sha256(f"solarb-sim/{label}".encode()).digest())


def check_rate(rate: float) -> float:
    if not (math.isfinite(rate) and 0 < rate <= MAX_RATE):
        raise LoadError(
            f"simulator rate (--simulate-rate) must be a number in (0, {MAX_RATE:g}] swaps per second, "
            f"got {rate}"
        )
    return rate


class Simulator:
    """Noise traders on every pool of a known venue (localnet.sim_venues) found on `net`'s chain.

    Creating it funds the wallets (SOL for fees by airdrop, token balances set directly)."""

    def __init__(
        self,
        net: Localnet,
        reference: Reference,
        *,
        rate: float,
        seed: int,
        params: SimParams = SimParams(),
        venues: Sequence[SwapVenue] = VENUES,
    ) -> None:
        self.rate = check_rate(rate)
        self.net = net
        self.chain = net.chain
        self.reference = reference
        self.params = params
        self._venues = {v.name: v for v in venues}
        self.pools = self._discover(venues)
        if not self.pools:
            raise LoadError(
                f"the market simulator found no pool of {', '.join(self._venues)} on the chain "
                "(seed one, e.g. --scenario demo)"
            )
        self._rng = random.Random(f"solarb-sim/{seed}/trades")
        self.wallets = [_address(f"wallet/{i}") for i in range(WALLETS)]
        self._owners = [w.pubkey() for w in self.wallets]
        self._accounts: dict[tuple[int, Pubkey], Pubkey] = {}
        self.steps = self.landed = self.failed = self.skipped = 0
        self.trades: deque[Trade] = deque(maxlen=params.keep_trades)
        self._fund()

    def token_account(self, wallet: int, mint: Pubkey) -> Pubkey:
        """Wallet `wallet`'s token account of `mint`."""
        return self._accounts[(wallet, mint)]

    def _discover(self, venues: Sequence[SwapVenue]) -> list[SimPool]:
        pools: list[SimPool] = []
        for venue in venues:
            for key in sorted(self.chain.accounts_owned_by(venue.program_id), key=bytes):
                pool = venue.discover(self.chain, key)
                if pool is not None:
                    pools.append(pool)
        return pools

    def _fund(self) -> None:
        largest: dict[Pubkey, int] = {}
        for pool in self.pools:
            view = self._venues[pool.venue].view(self.chain, pool)
            if view is None:
                continue
            for mint, reserve in ((pool.mint_a, view.reserve_a), (pool.mint_b, view.reserve_b)):
                largest[mint] = max(largest.get(mint, 0), reserve)
        for i, owner in enumerate(self._owners):
            if self.net.balance(owner) < FEE_LAMPORTS // 2:
                self.net.airdrop(owner, FEE_LAMPORTS)
            for mint in sorted(largest, key=bytes):
                account = _address(f"wallet/{i}/{mint}").pubkey()
                self._accounts[(i, mint)] = account
                amount = FUND_MULTIPLE * largest[mint]
                if mint == NATIVE_MINT:  # a native account: lamports = rent reserve + amount
                    data = pack_token_account(mint, owner, amount, native_rent=RENT_165)
                    self.net.set_account(account, lamports=RENT_165 + amount, data=data, owner=TOKEN_PROGRAM)
                else:
                    self.net.create_token_account(mint, owner, amount, address=account)

    # ------------------------------------------------------------------ trading
    def step(self) -> Trade:
        """Advance the reference and make one trade now."""
        k = self.steps
        self.steps += 1
        self.reference.step()
        rng = self._rng
        i_pool, i_wallet, u, g = (
            rng.randrange(len(self.pools)),
            rng.randrange(len(self.wallets)),
            rng.random(),
            rng.gauss(0.0, 1.0),
        )
        pool = self.pools[i_pool]
        venue = self._venues[pool.venue]
        view = venue.view(self.chain, pool)
        if view is None:
            return self._skip(k, pool, i_wallet, "pool not tradable now")
        fair = self.reference.fair(pool.mint_a, pool.mint_b)
        deviation = 0.0 if fair is None else math.log(view.price(pool) / fair)
        z = max(-50.0, min(50.0, deviation / (self.params.pull_bps * 1e-4)))
        a_to_b = u < 1.0 / (1.0 + math.exp(-z))  # selling A lowers the price of A in B
        mint_in, mint_out, reserve_in = (
            (pool.mint_a, pool.mint_b, view.reserve_a)
            if a_to_b
            else (pool.mint_b, pool.mint_a, view.reserve_b)
        )
        p = self.params
        share_ppm = int(min(p.size_cap_bps, p.size_median_bps * math.exp(p.size_sigma * g)) * 100)
        source, destination = self._accounts[(i_wallet, mint_in)], self._accounts[(i_wallet, mint_out)]
        balance = self.net.token_amount(source)
        amount_in = min(reserve_in * share_ppm // _PPM, balance * 9 // 10)
        if amount_in <= 0:
            return self._skip(k, pool, i_wallet, f"size 0 (wallet balance {balance})")
        wallet, owner = self.wallets[i_wallet], self._owners[i_wallet]
        built = venue.build(pool, view, owner, source, destination, a_to_b, amount_in, p.slippage_bps)
        if built is None:
            return self._skip(k, pool, i_wallet, f"{pool.venue} rejects a swap of {amount_in}")
        ix, expected_out = built
        tx = VersionedTransaction(Message.new_with_blockhash([ix], owner, self.chain.blockhash), [wallet])
        signature: str | None = None
        error: str | None = None
        try:  # exactly what sendTransaction does with these bytes
            signature = self.net.methods.send_transaction(
                [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}], None
            )
            self.landed += 1
        except RpcFault as err:
            error = err.message
            self.failed += 1
        trade = Trade(k, pool.address, i_wallet, a_to_b, amount_in, expected_out, signature, error)
        self.trades.append(trade)
        return trade

    def _skip(self, k: int, pool: SimPool, wallet: int, why: str) -> Trade:
        self.skipped += 1
        trade = Trade(k, pool.address, wallet, False, 0, 0, None, why)
        self.trades.append(trade)
        return trade

    async def run(self, *, steps: int | None = None) -> None:
        """Step until cancelled (or `steps` times): one step per `1 / rate` seconds at most, and a late step
        (a busy event loop) is not made up for: the rate is a bound, never a burst."""
        period = 1.0 / self.rate
        next_at = time.monotonic()
        done = 0
        while steps is None or done < steps:
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            started = time.monotonic()
            self.step()
            done += 1
            next_at = max(next_at, started) + period

    def summary(self) -> str:
        return f"steps={self.steps} landed={self.landed} failed={self.failed} skipped={self.skipped}"


class Market:
    """The simulator and/or the CEX feed server next to a localnet server, as named tasks.

    With a simulator, its steps advance the reference; without one, the CEX loop advances it every
    `cex_interval_s`. The CEX server (Binance format) quotes the reference every `cex_interval_s`."""

    def __init__(
        self,
        net: Localnet,
        assets: Sequence[ReferenceAsset],
        *,
        simulate: bool,
        rate: float,
        seed: int,
        cex_port: int | None,
        host: str = "127.0.0.1",
        cex_interval_s: float = 0.1,
    ) -> None:
        check_rate(rate)
        if cex_port is not None and not 0 <= cex_port <= 65535:
            raise LoadError(f"--cex-port must be 0..65535, got {cex_port}")
        self.reference = Reference(assets, seed=seed, step_s=1.0 / rate if simulate else cex_interval_s)
        self.simulator = Simulator(net, self.reference, rate=rate, seed=seed) if simulate else None
        self.cex: CexFeedServer | None = None
        if cex_port is not None:
            symbols = self.reference.quotes()
            if not symbols:
                raise LoadError("--cex-port: the scenario's reference prices have no CEX symbol")
            self.cex = CexFeedServer("binance", {s: [p] for s, p in symbols}, host=host, port=cex_port)
        self._interval = cex_interval_s
        self.tasks: list[asyncio.Task[None]] = []

    @property
    def cex_url(self) -> str | None:
        return self.cex.url if self.cex is not None else None

    async def start(self) -> None:
        if self.cex is not None:
            try:
                await self.cex.start()
            except OSError as err:
                raise ListenError(
                    f"cannot listen on {self.cex.host}:{self.cex.port} (--cex-port): {err}"
                ) from err
            self.tasks.append(asyncio.create_task(self._quote(), name="localnet-cex-quotes"))
        if self.simulator is not None:
            self.tasks.append(asyncio.create_task(self.simulator.run(), name="localnet-market-simulator"))

    async def _quote(self) -> None:
        assert self.cex is not None
        while True:
            if self.simulator is None:
                self.reference.step()
            for symbol, point in self.reference.quotes():
                await self.cex.publish(symbol, point)
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        if self.cex is not None:
            await self.cex.stop()


def reference_of_scenario(name: str) -> tuple[ReferenceAsset, ...]:
    """A scenario module's REFERENCE rows (symbol or None, mint, USD price) as ReferenceAssets."""
    import importlib

    rows = getattr(importlib.import_module(f"localnet.scenarios.{name}"), "REFERENCE", ())
    return tuple(ReferenceAsset(symbol, mint, usd) for symbol, mint, usd in rows)
