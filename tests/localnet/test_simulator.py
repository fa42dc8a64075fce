"""The market simulator on a real localnet with the demo scenario: its swaps land (counted at the chain) and
pay exactly the quoted amount, prices move and follow the reference without running away, the same seed
gives the same trades, the rate is a bound even after a stalled event loop, and the CLI / `[localnet]`
wiring starts it with the CEX feed next to the cluster."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import subprocess
import sys
import time

import pytest
import websockets
from solana.rpc.async_api import AsyncClient
from solders.pubkey import Pubkey
from solders.signature import Signature

from bot.cluster import ClusterProcess
from bot.config import parse_config
from bot.errors import ConfigError
from localnet.scenarios import demo
from localnet.server import _pick_ports  # (a free rpc/ws port pair)
from localnet.sim_venues import VENUES
from localnet.simulator import Reference, Simulator, reference_of_scenario

pytestmark = pytest.mark.localnet

RATE = 20.0


async def demo_net(localnet_factory):
    return await localnet_factory(seed=lambda net: demo.seed(net, []), slot_ms=20.0)


def simulator(net, seed: int = 7, *, rate: float = RATE, vol: float = 0.002) -> Simulator:
    reference = Reference(reference_of_scenario("demo"), seed=seed, step_s=1 / rate, vol_per_sqrt_s=vol)
    return Simulator(net, reference, rate=rate, seed=seed)


def landed_swaps(net, sim: Simulator) -> list:
    """Transactions at the chain signed by a simulator wallet through a venue's program, executed without error."""
    owners = {w.pubkey() for w in sim.wallets}
    programs = {v.program_id for v in VENUES}
    return [
        rec
        for rec in net.chain.txs.values()
        if rec.keys[0] in owners and programs & set(rec.keys) and rec.err is None
    ]


def swaps_by_venue(net, sim: Simulator) -> dict[str, int]:
    """Landed simulator swaps per venue, counted at the chain by the program each transaction calls."""
    counts = dict.fromkeys((v.name for v in VENUES), 0)
    for rec in landed_swaps(net, sim):
        for venue in VENUES:
            if venue.program_id in rec.keys:
                counts[venue.name] += 1
    return counts


def prices(sim: Simulator) -> dict[Pubkey, float]:
    out = {}
    for pool in sim.pools:
        view = sim._venues[pool.venue].view(sim.chain, pool)
        assert view is not None
        out[pool.address] = view.price(pool)
    return out


def deviations(sim: Simulator) -> dict[Pubkey, float]:
    """log(pool price / reference price) of every pool."""
    by_address = {p.address: p for p in sim.pools}
    return {
        a: math.log(price / sim.reference.fair(by_address[a].mint_a, by_address[a].mint_b))
        for a, price in prices(sim).items()
    }


async def test_swaps_land_pay_the_quote_and_move_prices(localnet_factory):
    net = await demo_net(localnet_factory)
    sim = simulator(net)
    assert {(p.venue, str(p.address)) for p in sim.pools} == set(demo.pool_venues().values())
    before = prices(sim)
    for _ in range(60):
        trade = sim.step()
        assert trade.landed, trade.error
        rec = net.transaction(Signature.from_string(trade.signature))
        assert rec is not None and rec.err is None
        pool = next(p for p in sim.pools if p.address == trade.pool)
        out_account = sim.token_account(trade.wallet, pool.mint_b if trade.a_to_b else pool.mint_a)
        i = rec.keys.index(out_account)
        pre = next(tb.amount for tb in rec.pre_token if tb.index == i)
        post = next(tb.amount for tb in rec.post_token if tb.index == i)
        assert post - pre == trade.expected_out  # the builder's quote is the program's payout, exactly
    swaps = landed_swaps(net, sim)
    assert len(swaps) == sim.landed == 60 and sim.failed == sim.skipped == 0
    by_venue = swaps_by_venue(net, sim)
    assert sum(by_venue.values()) == 60 and min(by_venue.values()) > 0, by_venue  # every venue trades
    after = prices(sim)
    traded = {t.pool for t in sim.trades}
    assert len(traded) >= 8
    assert all(after[a] != before[a] for a in traded)


async def test_same_seed_same_trades_other_seed_other_trades(localnet_factory):
    def run(net, seed: int) -> tuple[list[tuple], dict[Pubkey, float]]:
        sim = simulator(net, seed)
        for _ in range(60):
            sim.step()
        return [
            (t.pool, t.wallet, t.a_to_b, t.amount_in, t.expected_out, t.landed) for t in sim.trades
        ], prices(sim)

    a = run(await demo_net(localnet_factory), 7)
    b = run(await demo_net(localnet_factory), 7)
    c = run(await demo_net(localnet_factory), 8)
    assert len(a[0]) == 60 and all(t[-1] for t in a[0])
    assert a == b
    assert a[0] != c[0] and a[1] != c[1]


async def test_rate_is_a_bound_and_a_stall_is_not_made_up(localnet_factory):
    net = await demo_net(localnet_factory)
    rate, stall_s = 50.0, 0.4
    sim = simulator(net, rate=rate)
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    task = asyncio.create_task(sim.run())
    loop.call_later(0.3, time.sleep, stall_s)  # the event loop is blocked: no step can run meanwhile
    await asyncio.sleep(1.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    elapsed = time.monotonic() - started
    count = len(landed_swaps(net, sim))
    assert count == sim.steps
    # Steps are at least 1/rate apart except the one right after the stall; catching up on the missed steps
    # would add rate * stall_s = 20 transactions.
    assert 5 <= count <= 2 + rate * (elapsed - stall_s), (count, elapsed)
    # run(steps=n) stops after n steps.
    await sim.run(steps=3)
    assert len(landed_swaps(net, sim)) == count + 3


async def test_pools_follow_a_moving_reference_within_a_band(localnet_factory):
    net = await demo_net(localnet_factory)
    # A volatile reference (1% per sqrt second; 36 simulated seconds, ~60 trades a pool): seed 7 takes SOL
    # from 150 to ~160.
    sim = simulator(net, 7, vol=0.01)
    start = prices(sim)
    worst = 0.0
    for _ in range(720):
        sim.step()
        worst = max(worst, max(abs(d) for d in deviations(sim).values()))
    sol = sim.reference.usd(demo.NATIVE_MINT)
    assert abs(math.log(sol / 150.0)) > 0.05  # the reference really moved
    assert worst < 0.10  # no pool ever ran away from it
    end, final = prices(sim), deviations(sim)
    by_address = {p.address: p for p in sim.pools}
    for address, d in final.items():
        assert abs(d) < 0.04, (address, d)
        fair = sim.reference.fair(by_address[address].mint_a, by_address[address].mint_b)
        if abs(math.log(fair / start[address])) > 0.03:  # moved: the pool followed it
            assert abs(end[address] - fair) < abs(end[address] - start[address])
    assert sim.landed == 720
    assert min(swaps_by_venue(net, sim).values()) >= 30  # every venue took part (PumpSwap has one pool)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_localnet_config_starts_the_simulator_and_cex_feed_in_the_cluster():
    port, cex_port = _pick_ports("127.0.0.1")[0], _free_port()
    cfg = parse_config(
        demo.config_toml(
            f"http://127.0.0.1:{port}",
            f"ws://127.0.0.1:{port + 1}",
            "k.json",
            "l.jsonl",
            cex_url=f"ws://127.0.0.1:{cex_port}/stream",
        )
        + f"\n[localnet]\nstart = true\nslot_ms = 20\nsimulate = true\nsimulate_rate = 40\n"
        f"simulate_seed = 3\ncex_port = {cex_port}\n"
    )
    lc = cfg.localnet
    cluster = await ClusterProcess.spawn(
        cfg.endpoints()[0].http,
        slot_ms=lc.slot_ms,
        scenario=lc.scenario,
        fund=[],
        simulate=lc.simulate,
        simulate_rate=lc.simulate_rate,
        simulate_seed=lc.simulate_seed,
        cex_port=lc.cex_port,
    )
    try:
        feed = cfg.feeds.cex[0]
        async with websockets.connect(feed.url) as ws:
            params = [f"{s.lower()}@bookTicker" for s in feed.symbols]
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": params, "id": 1}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"result": None, "id": 1}
            mids: dict[str, float] = {}
            while len(mids) < 2:
                data = json.loads(await asyncio.wait_for(ws.recv(), 5))["data"]
                mids[data["s"]] = (float(data["b"]) + float(data["a"])) / 2
        assert 140 < mids["SOLUSDC"] < 160 and 0.45 < mids["JUPUSDC"] < 0.55
        async with AsyncClient(cfg.endpoints()[0].http) as client:
            pools = [Pubkey.from_string(a) for a in demo.pool_addresses().values()]
            async with asyncio.timeout(20):
                while True:  # the simulator's swaps show up in the pools' signature lists
                    counts = [len((await client.get_signatures_for_address(p)).value) for p in pools]
                    if sum(counts) >= 8:
                        break
                    await asyncio.sleep(0.1)
    finally:
        rc = await cluster.stop()
    assert rc == 0
    summary = (await cluster.proc.stdout.read()).decode()
    assert "localnet simulator steps=" in summary and "failed=0" in summary


def test_simulate_keys_need_start():
    base = demo.config_toml("http://127.0.0.1:8899", "ws://127.0.0.1:8900", "k.json", "l.jsonl")
    for key in ("simulate = true", "cex_port = 9443"):
        with pytest.raises(ConfigError, match=r"\[localnet\] (simulate|cex_port): only with start = true"):
            parse_config(base + f"\n[localnet]\n{key}\n")
    with pytest.raises(ConfigError, match="simulate_rate"):
        parse_config(base + "\n[localnet]\nstart = true\nsimulate = true\nsimulate_rate = 500\n")


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--simulate"], "--scenario"),
        (["--scenario", "demo", "--simulate", "--simulate-rate", "0"], "--simulate-rate"),
        (["--scenario", "demo", "--cex-port", "70000"], "--cex-port"),
    ],
)
def test_bad_simulator_flags_are_one_line_usage_errors(flags, needle):
    res = subprocess.run(
        [sys.executable, "-m", "localnet", "--rpc-port", "0", *flags],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and needle in res.stderr, res.stderr


@pytest.mark.parametrize("venue", [v.name for v in VENUES])
async def test_a_garbage_pool_is_skipped_and_the_others_keep_trading(localnet_factory, venue):
    net = await demo_net(localnet_factory)
    sim = simulator(net)
    broken = next(p.address for p in sim.pools if p.venue == venue)
    acc = net.get_account(broken)
    net.set_account(broken, lamports=acc.lamports, data=bytes(len(acc.data)), owner=acc.owner)
    trades = [sim.step() for _ in range(30)]
    on_broken = [t for t in trades if t.pool == broken]
    assert on_broken and all(not t.landed and t.error == "pool not tradable now" for t in on_broken)
    assert all(t.landed for t in trades if t.pool != broken)
    assert sim.skipped == len(on_broken) and sim.landed == 30 - len(on_broken)
