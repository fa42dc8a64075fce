"""A CPMM swap guarded by its min_out, in a Jito bundle on localnet's block engine: the bundle pays its tip in
a first transaction and swaps through cpmm.so in the second. With min_out one unit above the exact quote the
swap fails and the whole bundle lands nothing (the tip transaction that had succeeded is undone); with
min_out at the quote it lands and moves exactly what the quote says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from cpmm_env import CpmmEnv, LocalnetChain
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from localnet.block_engine import MAINNET_TIP_ACCOUNTS
from localnet.programs.cpmm_errors import CpmmError
from rpc.client import RpcClient
from rpc.jito import JitoClient
from strategies.venues import raydium_cpmm as rc

pytestmark = pytest.mark.localnet

TIP = Pubkey.from_string(MAINNET_TIP_ACCOUNTS[1])
TIP_LAMPORTS = 20_000
AMOUNT_IN = 3_000_000
FEE = 5_000
RATES = (2_500, 120_000, 40_000)  # trade, protocol, fund (per 1e6)


@pytest.fixture
async def setup(localnet_factory: Any) -> AsyncIterator[tuple[Any, CpmmEnv, JitoClient]]:
    net = await localnet_factory(block_engine=True)
    net.pause_clock()
    async with RpcClient(net.rpc_url) as client, JitoClient(net.bundle_url) as engine:
        yield net, CpmmEnv(LocalnetChain(net, client)), engine


def signed(ixs: list[Any], payer: Keypair, net: Any) -> bytes:
    msg = Message.new_with_blockhash(ixs, payer.pubkey(), net.chain.blockhash)
    return bytes(VersionedTransaction(msg, [payer]))


async def bundle_of_tip_then_swap(
    net: Any, env: CpmmEnv, engine: JitoClient, min_out: int
) -> tuple[str, str]:
    """Send [tip, swap(min_out)] as a bundle, produce the next slot; (bundle id, its inflight status)."""
    payer = env.payer
    pool = rc.decode_pool(await env.pool_bytes(), env.program_id)
    swap = rc.build_swap_base_input_ix(
        pool_address=env.pool, pool=pool, payer=payer.pubkey(), user_input_account=env.user0,
        user_output_account=env.user1, zero_for_one=True, amount_in=AMOUNT_IN, min_out=min_out,
    )  # fmt: skip
    tip = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=TIP, lamports=TIP_LAMPORTS))
    bid = await engine.send_bundle([signed([tip], payer, net), signed([swap], payer, net)])
    net.advance_slots(1)
    (status,) = (await engine.get_inflight_bundle_statuses([bid])).statuses
    return bid, status.status


async def seeded_quote(env: CpmmEnv) -> rc.CpmmSwap:
    """Seed the pool and a funded user; the exact quote of swapping AMOUNT_IN of token 0."""
    env.seed(
        vault0=10**12,
        vault1=4 * 10**11,
        user0=10**9,
        user1=0,
        trade=RATES[0],
        protocol=RATES[1],
        fund=RATES[2],
    )
    snap = await env.snapshot()
    pool = rc.decode_pool(snap["pool"], env.program_id)
    r_in, r_out = rc.reserves(pool, snap["vault0"], snap["vault1"])
    return rc.swap_base_input(AMOUNT_IN, r_in, r_out, *RATES)


async def test_swap_below_its_min_out_voids_the_whole_bundle(setup: tuple[Any, CpmmEnv, JitoClient]) -> None:
    net, env, engine = setup
    q = await seeded_quote(env)
    tip_before = net.balance(TIP)

    bid, status = await bundle_of_tip_then_swap(net, env, engine, min_out=q.amount_out + 1)

    assert status == "Failed"
    assert f"custom program error: {CpmmError.EXCEEDED_SLIPPAGE:#x}" in net.block_engine.bundle(bid).reason
    after = await env.snapshot()
    assert (after["vault0"], after["vault1"], after["user0"], after["user1"]) == (
        10**12,
        4 * 10**11,
        10**9,
        0,
    )
    assert net.balance(env.payer.pubkey()) == 10_000_000_000  # neither fee nor tip
    assert net.balance(TIP) == tip_before
    assert (await engine.get_bundle_statuses([bid])).statuses == [None]


async def test_swap_at_its_min_out_lands_with_the_tip(setup: tuple[Any, CpmmEnv, JitoClient]) -> None:
    net, env, engine = setup
    q = await seeded_quote(env)
    tip_before = net.balance(TIP)

    bid, status = await bundle_of_tip_then_swap(net, env, engine, min_out=q.amount_out)

    assert status == "Landed"
    after = await env.snapshot()
    assert after["vault0"] == 10**12 + AMOUNT_IN and after["vault1"] == 4 * 10**11 - q.amount_out
    assert after["user0"] == 10**9 - AMOUNT_IN and after["user1"] == q.amount_out
    assert after["protocol_0"] == q.protocol_fee and after["fund_0"] == q.fund_fee
    assert net.balance(env.payer.pubkey()) == 10_000_000_000 - TIP_LAMPORTS - 2 * FEE
    assert net.balance(TIP) == tip_before + TIP_LAMPORTS
    (landed,) = (await engine.get_bundle_statuses([bid])).statuses
    assert landed is not None and landed.slot == net.slot and len(landed.transactions) == 2
