"""AMM v4 legs end to end on localnet (our amm_v4.so at AMM v4's id, in the demo scenario), and every
template proven by simulation before it trades.

- A 2-leg CPMM <-> AMM v4 cycle and a 3-leg cycle with an AMM v4 leg execute with realized profit equal
  to the expected net.
- A program that accepts only the legacy form (tags 9/11): the bot falls back at start-up and trades.
- A program that accepts neither form: the routes through it are disabled at start-up, one
  `route_disabled` line each, and nothing is sent for them; the CPMM routes still trade.
- A program upgraded under the running bot: the route reverts with a non-guard error, is simulated
  again (falling back to the form the new program takes) and trades again.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from test_guard_localnet import events, stop_bot

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.logs import Log
from bot.runtime import Bot
from localnet.programs import amm_v4_accounts as aa
from localnet.scenarios import demo
from rpc.client import RpcClient
from strategies import confirm
from strategies.venues import raydium_amm_v4 as rv
from strategies.venues.base import Venue

pytestmark = pytest.mark.localnet
SOL = 10**9


class SendCounter:
    """Counts sendTransaction at the server's own dispatch table: all of them, and those whose transaction
    invokes the AMM v4 program (a program id is always a static key of a v0 message)."""

    def __init__(self, net) -> None:
        self.all = 0
        self.amm_v4 = 0
        self._original = net.methods.table["sendTransaction"]
        net.methods.table["sendTransaction"] = self

    def __call__(self, params):
        import base64

        self.all += 1
        try:
            tx = VersionedTransaction.from_bytes(base64.b64decode(params[0]))
        except (ValueError, TypeError, IndexError):
            tx = None
        if tx is not None:
            keys = tx.message.account_keys
            if any(keys[ix.program_id_index] == aa.PROGRAM_ID for ix in tx.message.instructions):
                self.amm_v4 += 1
        return self._original(params)


async def start_bot(net, tmp_path, *, program=None, autotrade=False):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(net, [wallet.pubkey], amm_v4_program=program)
    log_path = tmp_path / "bot.jsonl"
    cfg = parse_config(demo.config_toml(net.rpc_url, net.ws_url, str(tmp_path / "bot.json"), str(log_path)))
    log = Log(log_path, console="never")
    bot = Bot(cfg, Mode(send=True, live=False), wallet, log)
    ready = asyncio.Event()
    task = asyncio.create_task(bot.run(ready.set, autotrade=autotrade))
    await asyncio.wait({task, asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    return bot, task, log, log_path


def venues_of(bot, route):
    return [bot.writer.pools[leg.pool].venue for leg in route.legs]


def amm_v4_routes(bot):
    return [r for r in bot.table.routes if Venue.raydium_amm_v4 in venues_of(bot, r) and len(r.legs) > 1]


def opportunity(bot, legs: int, amount: int = 2 * SOL):
    """A profitable cycle of `legs` legs through an AMM v4 pool (and a CPMM one), exactly quoted."""
    for route in amm_v4_routes(bot):
        if len(route.legs) == legs and Venue.raydium_cpmm in venues_of(bot, route):
            opp = confirm.confirm(bot.cache, bot.table, route.route_id, float(amount), slot=0,
                                  recv_ns=time.monotonic_ns(), slippage_bps=0)  # fmt: skip
            if opp is not None:
                return opp
    raise AssertionError(f"the demo has a profitable {legs}-leg cycle through AMM v4")


async def land(bot, opp) -> bytes:
    tx = bot.executor.on_opportunity(opp)
    assert tx is not None, bot.executor.stats
    await asyncio.wait(set(bot.executor._tasks))
    return tx


def amm_v4_tags(tx: bytes) -> list[int]:
    msg = VersionedTransaction.from_bytes(tx).message
    keys = msg.account_keys
    return [bytes(ix.data)[0] for ix in msg.instructions if keys[ix.program_id_index] == aa.PROGRAM_ID]


async def test_cpmm_amm_v4_cycles_realize_the_expected_net(localnet, tmp_path):
    bot, task, log, log_path = await start_bot(localnet, tmp_path)
    try:
        amm_routes = {r.route_id for r in amm_v4_routes(bot)}
        # (Routes that start in a token the wallet holds none of stay unproven: not these.)
        assert not amm_routes & bot.prover.unproven and all(r in bot.executor.templates for r in amm_routes)
        two = opportunity(bot, 2)
        tx2 = await land(bot, two)
        three = opportunity(bot, 3)
        tx3 = await land(bot, three)
    finally:
        await stop_bot(bot, task, log)
    ok = {r["route"]: r for r in events(log_path, "trade_confirmed")}
    assert set(ok) == {two.route_id, three.route_id}, events(log_path, "trade_reverted")
    for r in ok.values():
        assert r["realized_net"] == r["expected_net"] > 0, r
    # The templates use the current program's short form (tags 16), with the limit the simulation measured.
    assert amm_v4_tags(tx2) and set(amm_v4_tags(tx2) + amm_v4_tags(tx3)) == {rv.TAG_SWAP_BASE_IN_V2}
    (ready,) = events(log_path, "templates_ready")
    for opp in (two, three):
        units = ready["units"][str(opp.route_id)]
        assert ready["cu_limits"][str(opp.route_id)] == -(-units * 6 // 5) + 5_000
        assert ok[opp.route_id]["units"] <= ready["cu_limits"][str(opp.route_id)]
    assert not events(log_path, "route_disabled") and not events(log_path, "swap_form_rejected")


async def test_legacy_only_program_makes_the_bot_fall_back_and_trade(localnet, tmp_path):
    program = aa.build_variant("legacy-only", tmp_path / "build")
    bot, task, log, log_path = await start_bot(localnet, tmp_path, program=program)
    try:
        amm_pools = {p.idx for p in bot.writer.pools if p.venue is Venue.raydium_amm_v4}
        assert {bot.prover.form_of(p) for p in amm_pools} == {"legacy"}
        amm_routes = {r.route_id for r in amm_v4_routes(bot)}
        # (Routes that start in a token the wallet holds none of stay unproven: not these.)
        assert not amm_routes & bot.prover.unproven and all(r in bot.executor.templates for r in amm_routes)
        tx = await land(bot, opportunity(bot, 2))
    finally:
        await stop_bot(bot, task, log)
    rejected = events(log_path, "swap_form_rejected")
    assert rejected and all(r["form"] == "v2" and r["fallback"] == "legacy" for r in rejected), rejected
    assert all("InvalidInstructionData" in r["error"] for r in rejected)
    assert not events(log_path, "route_disabled")
    (ok,) = events(log_path, "trade_confirmed")
    assert ok["realized_net"] == ok["expected_net"] > 0
    assert amm_v4_tags(tx) == [rv.TAG_SWAP_BASE_IN]  # the legacy list, with the market's accounts


async def test_program_taking_neither_form_disables_its_routes_and_gets_nothing_sent(localnet, tmp_path):
    program = aa.build_variant("neither", tmp_path / "build")
    sends = SendCounter(localnet)
    bot, task, log, log_path = await start_bot(localnet, tmp_path, program=program, autotrade=True)
    try:
        ex = bot.executor
        disabled = {r.route_id for r in amm_v4_routes(bot)}
        assert disabled and not disabled & set(ex.templates)
        async with asyncio.timeout(60):  # the CPMM cycles still trade, 2-leg and 3-leg
            while not {2, 3} <= set(ex.stats.confirmed_by_legs):
                ex.landed.clear()
                await ex.landed.wait()
            if ex._tasks:
                await asyncio.wait(set(ex._tasks))
    finally:
        await stop_bot(bot, task, log)
    lines = events(log_path, "route_disabled")
    assert sorted(r["route"] for r in lines) == sorted(disabled)  # one line per route
    for r in lines:
        assert "InvalidInstructionData" in r["error"] and r["logs"], r
        assert [t.split(":")[1] for t in r["tried"]] == ["v2", "legacy"], r
    assert sends.amm_v4 == 0 and sends.all > 0
    traded = {r["route"] for r in events(log_path, "trade_confirmed")}
    assert traded and not traded & disabled


async def test_a_program_upgraded_under_the_bot_is_proven_again_after_the_revert(localnet, tmp_path):
    bot, task, log, log_path = await start_bot(localnet, tmp_path)
    try:
        # The AMM v4 program is upgraded to a build without tags 16/17 while the bot runs.
        localnet.add_program(aa.PROGRAM_ID, aa.build_variant("legacy-only", tmp_path / "build"))
        first = opportunity(bot, 2)
        ex = bot.executor
        assert ex.on_opportunity(first) is not None
        async with asyncio.timeout(30):  # reverts: InvalidInstructionData is not the guard's error
            while not ex.stats.reverted:
                await asyncio.sleep(0.001)
        assert first.route_id in ex.unproven  # no trade on it until a simulation passes again
        async with asyncio.timeout(30):
            while first.route_id in ex.unproven or ex._tasks:
                await asyncio.sleep(0.01)
        assert first.route_id in ex.templates
        # Its AMM v4 pool now takes the legacy form: the other routes through it wait for a simulation.
        pool = next(
            leg.pool for leg in first.legs if bot.writer.pools[leg.pool].venue is Venue.raydium_amm_v4
        )
        assert bot.prover.form_of(pool) == "legacy"
        through = {r.route_id for r in bot.table.routes if any(leg.pool == pool for leg in r.legs)}
        assert through - {first.route_id} and through - {first.route_id} <= ex.unproven
        # The risk gate quarantined the route (a revert on unchanged pools); proven again in the form the
        # upgraded program takes, it was released from quarantine on its own (one line says so).
        assert not bot.gates.check(ex.route_keys[first.route_id], notional_lamports=0, in_flight=0,
                                   sol_balance_lamports=10**12)  # fmt: skip
        assert not bot.table.is_disabled(first.route_id)
        second = opportunity(bot, 2)
        assert second.route_id == first.route_id
        tx = await land(bot, second)
    finally:
        await stop_bot(bot, task, log)
    (rev,) = events(log_path, "trade_reverted")
    assert rev["route"] == first.route_id and "InvalidInstructionData" in rev["err"]
    (unproven,) = [r for r in events(log_path, "route_unproven") if r["route"] == first.route_id]
    assert "reverted" in unproven["reason"]
    assert [r["route"] for r in events(log_path, "route_proven")] == [first.route_id]
    assert [r["route"] for r in events(log_path, "route_quarantined")] == [first.route_id]
    assert [r["route"] for r in events(log_path, "route_released")] == [first.route_id]
    (ok,) = events(log_path, "trade_confirmed")
    assert ok["route"] == first.route_id and ok["realized_net"] == ok["expected_net"] > 0
    assert amm_v4_tags(tx) == [rv.TAG_SWAP_BASE_IN]


async def test_a_guard_revert_leaves_the_route_proven(localnet, tmp_path):
    bot, task, log, log_path = await start_bot(localnet, tmp_path)
    try:
        opp = opportunity(bot, 2)
        k = next(
            k for k, leg in enumerate(opp.legs) if bot.writer.pools[leg.pool].venue is Venue.raydium_amm_v4
        )
        leg = opp.legs[k]
        # Someone sells the same token into the AMM v4 pool first (through the program): our leg's
        # min-out is missed, which is the guard working.
        entry = bot.writer.pools[leg.pool]
        rival = Keypair()
        localnet.airdrop(rival.pubkey(), 10 * SOL)
        mint_in = Pubkey.from_string(bot.table.mints[leg.token_in])
        mint_out = Pubkey.from_string(bot.table.mints[leg.token_out])
        src = localnet.create_token_account(mint_in, rival.pubkey(), leg.amount_in * 10)
        dst = localnet.create_token_account(mint_out, rival.pubkey(), 0)
        ix = rv.build_swap_base_in_ix(pool_address=entry.address, info=entry.static, user_source=src,
                                      user_destination=dst, user_owner=rival.pubkey(), amount_in=leg.amount_in * 10,
                                      min_out=1)  # fmt: skip
        async with RpcClient(localnet.rpc_url) as rpc:
            bh = await rpc.get_latest_blockhash()
            msg = MessageV0.try_compile(rival.pubkey(), [ix], [], Hash.from_string(bh.blockhash))
            await rpc.send_transaction(bytes(VersionedTransaction(msg, [rival])), skip_preflight=False)
        await land(bot, opp)
    finally:
        await stop_bot(bot, task, log)
    (rev,) = events(log_path, "trade_reverted")
    assert rev["err"] == str({"InstructionError": [2 + k, {"Custom": 30}]}), rev  # AMM v4 ExceededSlippage
    assert not [r for r in events(log_path, "route_unproven") if r["route"] == opp.route_id]
    assert opp.route_id not in bot.executor.unproven
