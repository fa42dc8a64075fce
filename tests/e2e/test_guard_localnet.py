"""The guard on localnet: when the state moves between decision and landing the transaction reverts
and only the fee is lost; a later leg never spends inventory the previous leg did not produce."""

from __future__ import annotations

import asyncio
import contextlib
import time

import orjson
import pytest
from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.transaction import VersionedTransaction
from spl.token.instructions import get_associated_token_address

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.logs import Log
from bot.runtime import Bot
from localnet.scenarios import demo
from localnet.server import pack_token_account
from rpc.client import RpcClient
from strategies import confirm
from strategies.venues import raydium_cpmm as cpmm

pytestmark = pytest.mark.localnet
TOKEN = demo.ca.TOKEN_PROGRAM_ID
SOL = 10**9


def fund_native(net, owner, amount: int):
    ata = get_associated_token_address(owner, demo.NATIVE_MINT)
    net.set_account(
        ata,
        Account(
            demo.RENT_165 + amount,
            pack_token_account(demo.NATIVE_MINT, owner, amount, native_rent=demo.RENT_165),
            TOKEN,
            False,
            0,
        ),
    )
    return ata


async def rival_swap(net, rpc: RpcClient, bot: Bot, pool_idx: int, sol_in: int) -> None:
    """Another trader sells `sol_in` SOL into pool `pool_idx` through the real program."""
    rival = Keypair()
    net.airdrop(rival.pubkey(), 10 * SOL)
    entry = bot.writer.pools[pool_idx]
    pool = entry.static
    src = fund_native(net, rival.pubkey(), sol_in)
    other = pool.token_1_mint if pool.token_0_mint == demo.NATIVE_MINT else pool.token_0_mint
    dst = net.create_token_account(other, rival.pubkey(), 0)
    ix = cpmm.build_swap_base_input_ix(
        pool_address=entry.address,
        pool=pool,
        payer=rival.pubkey(),
        user_input_account=src,
        user_output_account=dst,
        zero_for_one=pool.token_0_mint == demo.NATIVE_MINT,
        amount_in=sol_in,
        min_out=1,
    )
    bh = await rpc.get_latest_blockhash()
    tx = VersionedTransaction(
        MessageV0.try_compile(rival.pubkey(), [ix], [], Hash.from_string(bh.blockhash)), [rival]
    )
    await rpc.send_transaction(bytes(tx), skip_preflight=False)


async def started_bot(localnet, tmp_path, *, slippage_bps: int = 0):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])
    log_path = tmp_path / "bot.jsonl"
    text = demo.config_toml(localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"), str(log_path))
    text = text.replace("[execution]\n", f"[execution]\nslippage_bps = {slippage_bps}\n")
    cfg = parse_config(text)
    log = Log(log_path, console="never")
    bot = Bot(cfg, Mode(send=True, live=False), wallet, log)
    ready = asyncio.Event()
    task = asyncio.create_task(bot.run(ready.set, autotrade=False))
    await asyncio.wait({task, asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    return bot, task, log, log_path


async def stop_bot(bot, task, log):
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await bot.close()
    log.close()


def two_leg_opportunity(bot: Bot, slippage_bps: int = 0):
    """The demo's 2-leg cycle (buy SOL-priced dUSD cheap on one pool, sell on the other), exactly quoted."""
    for route in bot.table.routes:
        if len(route.legs) == 2:
            opp = confirm.confirm(
                bot.cache,
                bot.table,
                route.route_id,
                2.0 * SOL,
                slot=0,
                recv_ns=time.monotonic_ns(),
                slippage_bps=slippage_bps,
            )
            if opp is not None:
                return opp
    raise AssertionError("the demo has a 2-leg opportunity")


async def land(bot: Bot, opp) -> dict:
    ex = bot.executor
    assert ex.on_opportunity(opp) is not None
    await asyncio.wait(set(ex._tasks))


def events(log_path, name):
    return [r for r in (orjson.loads(x) for x in log_path.read_bytes().splitlines()) if r["event"] == name]


async def test_state_moves_before_landing_reverts_and_costs_only_the_fee(localnet, tmp_path):
    bot, task, log, log_path = await started_bot(localnet, tmp_path)
    try:
        opp = two_leg_opportunity(bot)
        before = await bot.wallet_lamports()
        async with RpcClient(localnet.rpc_url) as rpc:
            # Someone closes the gap first: sells SOL into the pool our first leg buys SOL... from.
            first = opp.legs[0].pool
            await rival_swap(localnet, rpc, bot, first, 200 * SOL)
        await land(bot, opp)
        after = await bot.wallet_lamports()
    finally:
        await stop_bot(bot, task, log)
    (rev,) = events(log_path, "trade_reverted")
    assert not events(log_path, "trade_confirmed")
    assert rev["realized_net"] == -rev["fee"] == after - before
    assert "6005" in rev["err"] or "0x1775" in rev["err"] or "ExceededSlippage" in " ".join(rev["logs"])


async def test_later_leg_cannot_spend_existing_inventory(localnet, tmp_path):
    bot, task, log, log_path = await started_bot(localnet, tmp_path, slippage_bps=100)
    try:
        opp = two_leg_opportunity(bot, 100)
        mid_token = opp.legs[0].token_out
        mid_ata = bot.trading.atas[mid_token]
        inventory = 5_000_000_000  # 5,000 dUSD the wallet already holds
        acc = localnet.get_account(mid_ata)
        mint = bot.table.mints[mid_token]
        from solders.pubkey import Pubkey

        localnet.set_account(
            mid_ata,
            Account(
                acc.lamports,
                pack_token_account(Pubkey.from_string(mint), bot.wallet.pubkey, inventory),
                TOKEN,
                False,
                0,
            ),
        )
        async with RpcClient(localnet.rpc_url) as rpc:
            # A small adverse move: leg 1 still clears its min_out (1 % tolerance) but yields less.
            await rival_swap(localnet, rpc, bot, opp.legs[0].pool, 1 * SOL)
        await land(bot, opp)
        left = localnet.token_amount(mid_ata)
    finally:
        await stop_bot(bot, task, log)
    (landed,) = events(log_path, "trade_confirmed")
    # Leg 2 spent exactly leg 1's guaranteed minimum, not the planned output and not the inventory:
    # the surplus of leg 1 over its minimum stays, and the pre-existing 5,000 dUSD are untouched.
    surplus = left - inventory
    assert 0 < surplus < opp.legs[0].amount_out - opp.legs[0].min_out
    assert landed["realized_net"] < landed["expected_net"]  # leg 2 got less than planned: less SOL back


class HeldAcks:
    """The bot's real PubSub client, except that signature subscriptions are acknowledged only when the test
    says so: a remote node's slow acknowledgement, which a local cluster on loopback cannot produce."""

    def __init__(self, real) -> None:
        self.real = real
        self.release = asyncio.Event()
        self.calls = 0

    async def signature_subscribe(self, sig: str, commitment: str = "confirmed"):
        self.calls += 1
        await self.release.wait()
        return await self.real.signature_subscribe(sig, commitment)

    def __getattr__(self, name: str):
        return getattr(self.real, name)


async def test_transaction_goes_out_before_the_confirmation_subscription_is_acknowledged(localnet, tmp_path):
    from solders.signature import Signature

    from rpc.submit import signature_of

    bot, task, log, log_path = await started_bot(localnet, tmp_path)
    try:
        held = HeldAcks(bot.executor.pubsub)
        bot.executor.pubsub = held
        tx = bot.executor.on_opportunity(two_leg_opportunity(bot))
        assert tx is not None
        sig = signature_of(tx)
        for _ in range(500):  # the transaction lands while the subscription is still unacknowledged
            if localnet.transaction(Signature.from_string(sig)) is not None:
                break
            await asyncio.sleep(0.01)
        assert localnet.transaction(Signature.from_string(sig)) is not None
        assert held.calls == 1 and not held.release.is_set()
        await localnet.wait_for_slot(localnet.transaction(Signature.from_string(sig)).slot + 2)
        held.release.set()  # subscribed only after the transaction is already confirmed: still notified
        await asyncio.wait(set(bot.executor._tasks), timeout=30)
    finally:
        await stop_bot(bot, task, log)
    (ok,) = events(log_path, "trade_confirmed")
    assert ok["signature"] == sig and ok["realized_net"] == ok["expected_net"]


class RefusedSubscriptions(HeldAcks):
    """A node that refuses signature subscriptions (what a real node does when its subscription limit is hit)."""

    async def signature_subscribe(self, sig: str, commitment: str = "confirmed"):
        from rpc.errors import JsonRpcError, SubscriptionFailed

        self.calls += 1
        raise SubscriptionFailed("signatureSubscribe", 0, JsonRpcError(-32603, "Internal error"))


async def test_refused_confirmation_subscription_falls_back_to_polling(localnet, tmp_path):
    bot, task, log, log_path = await started_bot(localnet, tmp_path)
    try:
        refused = RefusedSubscriptions(bot.executor.pubsub)
        bot.executor.pubsub = refused
        assert bot.executor.on_opportunity(two_leg_opportunity(bot)) is not None
        await asyncio.wait(set(bot.executor._tasks), timeout=30)
    finally:
        await stop_bot(bot, task, log)
    assert refused.calls == 1 and len(events(log_path, "confirm_by_polling")) == 1
    (ok,) = events(log_path, "trade_confirmed")
    assert ok["realized_net"] == ok["expected_net"]
