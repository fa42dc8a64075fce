"""Whirlpool legs on localnet (our Whirlpool program at Orca's id, the demo's W1 / W2 pools): a
CPMM <-> Whirlpool cycle and a 3-leg route whose Whirlpool leg crosses initialized ticks land with realized
profit equal to the expected net; when a rival moves the price into another tick array between decision
and landing, the transaction reverts on its guard and only the fee is lost."""

from __future__ import annotations

import asyncio
import time

import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from test_guard_localnet import events, fund_native, land, started_bot, stop_bot

from bot.runtime import Bot
from localnet.scenarios import demo
from rpc.client import RpcClient
from strategies import confirm, layout
from strategies import routes as R
from strategies.venues import orca_whirlpool as ow
from strategies.venues import whirlpool_math as wm

pytestmark = pytest.mark.localnet
SOL = 10**9


def pool_index(bot: Bot, name: str) -> int:
    address = demo.pool_addresses()[name]
    return next(e.idx for e in bot.writer.pools if str(e.address) == address)


def route_over(bot: Bot, *names: str) -> R.Route:
    pools = tuple(pool_index(bot, n) for n in names)
    return next(r for r in bot.table.routes if tuple(leg.pool for leg in r.legs) == pools)


def best_confirmed(bot: Bot, route: R.Route):
    """The route exactly quoted (the Whirlpool leg on the bot's decoded pool and tick arrays) at the most
    profitable of a few sizes."""
    opps = [
        confirm.confirm(
            bot.cache,
            bot.table,
            route.route_id,
            amount * SOL,
            slot=0,
            recv_ns=time.monotonic_ns(),
            slippage_bps=0,
            clmm_quote=bot.writer.quote,
        )
        for amount in (0.5, 1, 2, 3, 5, 8)
    ]
    opps = [o for o in opps if o is not None]
    assert opps, "the demo's mispricing makes this route profitable"
    return max(opps, key=lambda o: o.expected_net_profit)


def whirlpool_leg(bot: Bot, opp):
    (leg,) = [leg for leg in opp.legs if bot.writer.pools[leg.pool].venue.name == "orca_whirlpool"]
    return leg


async def test_whirlpool_cycles_land_with_realized_profit_equal_to_expected(localnet, tmp_path):
    bot, task, log, log_path = await started_bot(localnet, tmp_path)
    try:
        two = best_confirmed(bot, route_over(bot, "P2", "W1"))
        leg = whirlpool_leg(bot, two)
        assert bot.writer.quote(leg.pool, leg.direction == R.DIR_A_TO_B, leg.amount_in)[0] == leg.amount_out
        await land(bot, two)
        three = best_confirmed(bot, route_over(bot, "P3", "W2", "P1"))
        leg = whirlpool_leg(bot, three)
        out, crossed = bot.writer.quote(leg.pool, leg.direction == R.DIR_A_TO_B, leg.amount_in)
        assert out == leg.amount_out and crossed >= 2  # the sized trade walks over initialized ticks
        await land(bot, three)
        # The engine's own path: the kernel screens the CLMM row, confirm quotes on the decoded state.
        w1 = pool_index(bot, "W1")
        for _ in range(500):  # until the cache holds W1 after the first trade
            if bot.cache.pools_i[w1, layout.I_TICK] != two.legs[1].tick and layout.is_usable(bot.cache, w1):
                break
            await asyncio.sleep(0.01)
        engine = bot.trading.engine
        found = engine.evaluate(w1)
        assert found is not None and w1 in [leg.pool for leg in found.legs]
        await land(bot, found)
    finally:
        await stop_bot(bot, task, log)
    confirmed = events(log_path, "trade_confirmed")
    assert not events(log_path, "trade_reverted") and len(confirmed) == 3
    assert engine.stats.confirmed == 1
    for rec, opp in zip(confirmed, (two, three, found), strict=True):
        assert rec["realized_net"] == rec["expected_net"] == opp.expected_net_profit > 0
        assert rec["units"] <= opp.cu_limit
    # The CU limit paid for counts the ticks the Whirlpool leg crosses.
    assert three.cu_limit > two.cu_limit


async def rival_buys_a_on_whirlpool(net, rpc: RpcClient, bot: Bot, pool_idx: int, to_tick: int) -> None:
    """Another trader buys token a on a Whirlpool (b -> a) until the price reaches `to_tick`."""
    rival = Keypair()
    net.airdrop(rival.pubkey(), 10 * SOL)
    entry = bot.writer.pools[pool_idx]
    pool = ow.decode_whirlpool(bytes(net.get_account(entry.address).data))
    assert pool.token_mint_a == demo.NATIVE_MINT
    dst = fund_native(net, rival.pubkey(), 0)
    src = net.create_token_account(pool.token_mint_b, rival.pubkey(), 10**13)
    accounts = ow.swap_accounts_for(entry.address, pool, rival.pubkey(), dst, src, False)
    ix = ow.build_swap_ix(accounts, amount=10**13, other_amount_threshold=0, amount_specified_is_input=True,
                          sqrt_price_limit=wm.sqrt_price_from_tick_index(to_tick), a_to_b=False)  # fmt: skip
    bh = await rpc.get_latest_blockhash()
    tx = VersionedTransaction(
        MessageV0.try_compile(rival.pubkey(), [ix], [], Hash.from_string(bh.blockhash)), [rival]
    )
    await rpc.send_transaction(bytes(tx), skip_preflight=False)


async def test_price_moving_into_another_tick_array_reverts_on_the_guard_costing_only_the_fee(
    localnet, tmp_path
):
    bot, task, log, log_path = await started_bot(localnet, tmp_path)
    try:
        opp = best_confirmed(bot, route_over(bot, "P2", "W1"))  # its W1 leg buys SOL: the price goes up
        leg = whirlpool_leg(bot, opp)
        assert leg.direction == R.DIR_B_TO_A
        w1 = bot.writer.pools[leg.pool]
        width = wm.TICK_ARRAY_SIZE * w1.static.tick_spacing
        before = await bot.wallet_lamports()
        next_array = ow.tick_array_start_index(leg.tick, w1.static.tick_spacing) + width
        async with RpcClient(localnet.rpc_url) as rpc:
            await rival_buys_a_on_whirlpool(localnet, rpc, bot, leg.pool, next_array + 40)
        moved = ow.decode_whirlpool(bytes(localnet.get_account(w1.address).data)).tick_current_index
        assert ow.tick_array_start_index(moved, w1.static.tick_spacing) == next_array
        await land(bot, opp)  # signed from the decision: the tick arrays and min-outs of the old price
        after = await bot.wallet_lamports()
        # The bot follows: once its cache holds W1 in the new array (tick arrays retargeted), the same
        # template serves W1 -> P1 with the arrays of the new tick (patched account indexes).
        for _ in range(500):
            if (
                layout.is_usable(bot.cache, leg.pool)
                and int(bot.cache.pools_i[leg.pool, layout.I_TICK]) == moved
            ):
                break
            await asyncio.sleep(0.01)
        back = best_confirmed(bot, route_over(bot, "W1", "P1"))
        assert whirlpool_leg(bot, back).tick == moved
        await land(bot, back)
    finally:
        await stop_bot(bot, task, log)
    (rev,) = events(log_path, "trade_reverted")
    (ok,) = events(log_path, "trade_confirmed")
    assert rev["realized_net"] == -rev["fee"] == after - before
    # AmountOutBelowMinimum (Whirlpool 6036 = 0x1794): the last leg's min-out is the break-even guard.
    assert "6036" in rev["err"] or "0x1794" in " ".join(rev["logs"])
    assert ok["realized_net"] == ok["expected_net"] == back.expected_net_profit > 0
    assert bot.executor.stats.rebuilt == 0  # within the compiled window: patched, not recompiled


def test_demo_pubkey_order_puts_sol_first_in_w1():
    """The revert scenario relies on W1's token a being SOL (the program orders mints bytewise)."""
    assert bytes(demo.NATIVE_MINT) < bytes(Pubkey.from_string(str(demo.MINTS["dUSD"][0])))
