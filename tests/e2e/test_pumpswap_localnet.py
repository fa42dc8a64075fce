"""CPMM <-> PumpSwap cycles through the whole bot on localnet: our cpmm.so and pumpswap.so at the real
program ids, the demo's P5 (CPMM SOL/dPUMP) and S1 (PumpSwap dPUMP/SOL) pools.

The bot loads S1 through the PumpSwap adapter (vaults, GlobalConfig, FeeConfig, mints), the detector
screens it as a constant-product row, the confirm quotes it exactly, and the executor's guarded
transaction lands. The realized profit (the wallet's own balances) equals the expected net, and the
PumpSwap vaults and fee accounts move exactly as the exact quote says, at the fee tier picked here from
the mainnet schedule (not by the module under test).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

import orjson
import pytest
from solders.account import Account

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.logs import Log
from bot.runtime import Bot
from localnet.programs import pumpswap_accounts as pa
from localnet.scenarios import demo
from localnet.server import pack_token_account
from strategies import confirm, detector, layout
from strategies import routes as R
from strategies.venues import pumpswap as ps

pytestmark = pytest.mark.localnet
SOL = 10**9
DPUMP = demo.MINTS["dPUMP"][0]
S1 = demo._pumpswap_pool(DPUMP)
BASE_VAULT, QUOTE_VAULT = pa.ata(S1, DPUMP), pa.ata(S1, demo.NATIVE_MINT)
PROTOCOL = pa.ata(demo.address("pumpswap/protocol/0"), demo.NATIVE_MINT)
BUYBACK = pa.ata(demo.address("pumpswap/buyback/0"), demo.NATIVE_MINT)
CREATOR = pa.ata(pa.creator_vault_authority(demo.address("pumpswap/S1/coin_creator")), demo.NATIVE_MINT)
WATCHED = (BASE_VAULT, QUOTE_VAULT, PROTOCOL, BUYBACK, CREATOR)


def _fees(base: int, quote: int) -> ps.Fees:
    """The canonical pool's tier at this state: market cap = quote x supply / base, mainnet schedule."""
    cap = quote * demo.PUMP_SUPPLY // base
    chosen = pa.MAINNET_FEE_TIERS[0][1]
    for threshold, fees in pa.MAINNET_FEE_TIERS:
        if threshold <= cap:
            chosen = fees
    return ps.Fees(*chosen)


async def _start(localnet, tmp_path, seed_more=None):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])
    if seed_more is not None:
        seed_more(localnet)
    log_path = tmp_path / "bot.jsonl"
    cfg = parse_config(
        demo.config_toml(localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"), str(log_path))
    )
    log = Log(log_path, console="never")
    bot = Bot(cfg, Mode(send=True, live=False), wallet, log)
    ready = asyncio.Event()
    task = asyncio.create_task(bot.run(ready.set, autotrade=False))
    await asyncio.wait({task, asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    return bot, task, log, log_path


async def _stop(bot, task, log) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await bot.close()
    log.close()


def _events(log_path, name):
    return [r for r in (orjson.loads(x) for x in log_path.read_bytes().splitlines()) if r["event"] == name]


def _opportunity(bot: Bot):
    """The detector's best route through S1, exactly confirmed."""
    idx = next(e.idx for e in bot.writer.pools if e.address == S1)
    assert layout.is_usable(bot.cache, idx)
    assert detector.detect(bot.cache.state, bot.table.graph, idx) >= 0
    opp = confirm.confirm_best(bot.cache, bot.table, idx, slippage_bps=0)
    assert opp is not None
    return idx, opp


async def _land(bot: Bot, opp) -> None:
    ex = bot.executor
    assert ex.on_opportunity(opp) is not None
    await asyncio.wait(set(ex._tasks))


async def test_cpmm_to_pumpswap_sell_realizes_the_expected_net(localnet, tmp_path):
    bot, task, log, log_path = await _start(localnet, tmp_path)
    try:
        idx, opp = _opportunity(bot)
        kinds = [leg.kind for leg in opp.legs]
        assert kinds == [layout.KIND_RAYDIUM_CPMM, layout.KIND_PUMPSWAP]
        sell = opp.legs[1]
        assert sell.pool == idx and sell.direction == R.DIR_A_TO_B  # dPUMP (base) -> SOL: `sell`
        before = {k: localnet.token_amount(k) for k in WATCHED}
        await _land(bot, opp)
        after = {k: localnet.token_amount(k) for k in WATCHED}
    finally:
        await _stop(bot, task, log)
    (landed,) = _events(log_path, "trade_confirmed")
    assert (
        landed["realized_net"] == landed["expected_net"] >= opp.expected_net_profit > 0
    )  # repriced at the proven CU limit
    base, quote = before[BASE_VAULT], before[QUOTE_VAULT]
    fees = _fees(base, quote)
    assert fees == ps.Fees(20, 5, 95)  # 1,000 SOL market cap: the demo's documented tier
    q = ps.sell_base_input(sell.amount_in, base, quote, fees)
    assert sell.amount_out == q.user_quote_amount_out
    buyback = q.protocol_fee * 5_000 // 10_000  # GlobalFields' buyback_basis_points
    assert {k: after[k] - before[k] for k in WATCHED} == {
        BASE_VAULT: sell.amount_in,
        QUOTE_VAULT: -(q.quote_amount_out - q.lp_fee),  # the LP fee stays in the pool
        PROTOCOL: q.protocol_fee - buyback,
        BUYBACK: buyback,
        CREATOR: q.coin_creator_fee,
    }


def _cheap_on_pumpswap(net) -> None:
    """S1 holds 240M dPUMP for 100 SOL (2.4M per SOL): cheaper than P5's 2.08M, buy it on PumpSwap."""
    acc = net.get_account(BASE_VAULT)
    data = pack_token_account(DPUMP, S1, 240_000_000 * demo.USD)
    net.set_account(BASE_VAULT, Account(acc.lamports, data, acc.owner, False, 0))


async def test_pumpswap_buy_then_cpmm_realizes_the_net_of_what_the_buy_spent(localnet, tmp_path):
    bot, task, log, log_path = await _start(localnet, tmp_path, _cheap_on_pumpswap)
    try:
        _, opp = _opportunity(bot)
        assert [leg.kind for leg in opp.legs] == [layout.KIND_PUMPSWAP, layout.KIND_RAYDIUM_CPMM]
        buy = opp.legs[0]
        assert buy.direction == R.DIR_B_TO_A  # SOL -> dPUMP: `buy_exact_quote_in`
        before = {k: localnet.token_amount(k) for k in WATCHED}
        await _land(bot, opp)
        after = {k: localnet.token_amount(k) for k in WATCHED}
    finally:
        await _stop(bot, task, log)
    base, quote = before[BASE_VAULT], before[QUOTE_VAULT]
    q = ps.buy_exact_quote_in(buy.amount_in, base, quote, _fees(base, quote))
    assert buy.amount_out == q.base_amount_out
    # buy_exact_quote_in spends at most its budget: what it leaves unspent of amount_in stays in the wallet.
    unspent = buy.amount_in - q.user_quote_amount_in
    assert 0 <= unspent <= 2
    (landed,) = _events(log_path, "trade_confirmed")
    assert landed["realized_net"] == landed["expected_net"] + unspent
    assert landed["expected_net"] >= opp.expected_net_profit > 0  # repriced at the proven CU limit
    buyback = q.protocol_fee * 5_000 // 10_000
    assert {k: after[k] - before[k] for k in WATCHED} == {
        BASE_VAULT: -q.base_amount_out,
        QUOTE_VAULT: q.quote_amount_in + q.lp_fee,
        PROTOCOL: q.protocol_fee - buyback,
        BUYBACK: buyback,
        CREATOR: q.coin_creator_fee,
    }
    assert (
        struct.unpack_from("<Q", bytes(localnet.get_account(QUOTE_VAULT).data), 64)[0] == after[QUOTE_VAULT]
    )
