"""Property tests on localnet: swaps through cpmm.so move exactly what the venue quote predicts.

Oracle: ``strategies.venues.raydium_cpmm`` (the bot's own exact quote and instruction builders); this
file has no quote arithmetic of its own. One localnet server hosts every example of a test: each
example rewrites the pool, config, observation, vaults and user accounts, then sends one transaction
over JSON-RPC with the bot's own `rpc.RpcClient` (skipPreflight, so failed swaps land and are checked
for leaving state untouched) and reads the result back over JSON-RPC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from cpmm_env import CpmmEnv, LocalnetChain, TxOutcome
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from solders.instruction import Instruction

from localnet.programs.cpmm_errors import CpmmError
from rpc.client import RpcClient
from strategies.venues import raydium_cpmm as rc
from strategies.venues.errors import AmountCalcOverflow, InsufficientLiquidity, VenueError, ZeroTradableAmount

pytestmark = pytest.mark.localnet

U64_MAX = (1 << 64) - 1
TOKEN_OVERFLOW = 14  # SPL Token's TokenError::Overflow: the destination balance would pass u64

# Program error expected for each oracle refusal.
EXPECTED_CODE: dict[type[VenueError], set[int]] = {
    ZeroTradableAmount: {CpmmError.REQUIRE_GT_VIOLATED},
    InsufficientLiquidity: {CpmmError.ZERO_TRADING_TOKENS},
    AmountCalcOverflow: {CpmmError.MATH_OVERFLOW, TOKEN_OVERFLOW},
}


def log_uniform(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Integers spread over magnitudes (bit length uniform), so small and huge values both appear."""
    return st.integers(lo.bit_length(), hi.bit_length()).flatmap(
        lambda b: st.integers(max(lo, (1 << b) >> 1), min(hi, (1 << b) - 1))
    )


RESERVE = log_uniform(1, 1 << 62)
OWED = st.one_of(st.just(0), log_uniform(1, 1 << 40))
AMOUNT = log_uniform(1, 1 << 62)
TRADE_RATE = st.one_of(st.sampled_from([0, 100, 2500, 10_000, 999_999]), st.integers(0, 999_999))
SHARE_RATE = st.one_of(st.sampled_from([0, 120_000, 40_000, 1_000_000]), st.integers(0, 1_000_000))


@st.composite
def pool_case(draw: st.DrawFn) -> dict[str, Any]:
    """Reserves, fees owed (protocol, fund, creator) per side, fee rates and a direction."""
    return {
        "r0": draw(RESERVE), "r1": draw(RESERVE),
        "p0": draw(OWED), "p1": draw(OWED), "f0": draw(OWED), "f1": draw(OWED), "c0": draw(OWED), "c1": draw(OWED),
        "trade": draw(TRADE_RATE), "protocol": draw(SHARE_RATE), "fund": draw(SHARE_RATE),
        "zfo": draw(st.booleans()),
    }  # fmt: skip


@pytest.fixture
async def env(localnet: Any) -> AsyncIterator[CpmmEnv]:
    async with RpcClient(localnet.rpc_url) as client:
        yield CpmmEnv(LocalnetChain(localnet, client))


PROPERTY = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
SLIPPAGE = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def rates(c: dict[str, Any]) -> tuple[int, int, int]:
    return c["trade"], c["protocol"], c["fund"]


def oracle_reserves(c: dict[str, Any]) -> tuple[int, int]:
    """(reserve_in, reserve_out) of the case; checked against `rc.reserves` on the seeded pool."""
    return (c["r0"], c["r1"]) if c["zfo"] else (c["r1"], c["r0"])


async def seed(
    env: CpmmEnv, c: dict[str, Any], user_in: int, user_out: int
) -> tuple[rc.CpmmPool, dict[str, Any]]:
    """Lay out the case; return the pool as the bot's decoder reads it back over RPC, and a snapshot."""
    zfo = c["zfo"]
    env.seed(
        vault0=c["r0"] + c["p0"] + c["f0"] + c["c0"], vault1=c["r1"] + c["p1"] + c["f1"] + c["c1"],
        user0=user_in if zfo else user_out, user1=user_out if zfo else user_in,
        trade=c["trade"], protocol=c["protocol"], fund=c["fund"],
        protocol_fees_token_0=c["p0"], protocol_fees_token_1=c["p1"],
        fund_fees_token_0=c["f0"], fund_fees_token_1=c["f1"],
        creator_fees_token_0=c["c0"], creator_fees_token_1=c["c1"],
    )  # fmt: skip
    snap = await env.snapshot()
    pool = rc.decode_pool(snap["pool"], env.program_id)
    r0, r1 = rc.reserves(pool, snap["vault0"], snap["vault1"])
    assert ((r0, r1) if zfo else (r1, r0)) == oracle_reserves(c)
    return pool, snap


def swap_in_ix(env: CpmmEnv, pool: rc.CpmmPool, zfo: bool, amount_in: int, min_out: int) -> Instruction:
    return rc.build_swap_base_input_ix(
        pool_address=env.pool, pool=pool, payer=env.payer.pubkey(),
        user_input_account=env.user0 if zfo else env.user1, user_output_account=env.user1 if zfo else env.user0,
        zero_for_one=zfo, amount_in=amount_in, min_out=min_out,
    )  # fmt: skip


def swap_out_ix(env: CpmmEnv, pool: rc.CpmmPool, zfo: bool, max_in: int, amount_out: int) -> Instruction:
    return rc.build_swap_base_output_ix(
        pool_address=env.pool, pool=pool, payer=env.payer.pubkey(),
        user_input_account=env.user0 if zfo else env.user1, user_output_account=env.user1 if zfo else env.user0,
        zero_for_one=zfo, max_in=max_in, amount_out=amount_out,
    )  # fmt: skip


async def assert_settled(env: CpmmEnv, before: dict[str, Any], zfo: bool, q: rc.CpmmSwap) -> None:
    after = await env.snapshot()
    i, o = ("0", "1") if zfo else ("1", "0")
    expect = dict(before)
    expect[f"vault{i}"] += q.amount_in
    expect[f"vault{o}"] -= q.amount_out
    expect[f"user{i}"] -= q.amount_in
    expect[f"user{o}"] += q.amount_out
    expect[f"protocol_{i}"] += q.protocol_fee
    expect[f"fund_{i}"] += q.fund_fee
    keys = ("vault0", "vault1", "user0", "user1", "protocol_0", "protocol_1", "fund_0", "fund_1")
    assert {k: after[k] for k in keys} == {k: expect[k] for k in keys}
    event("settled as quoted")


async def assert_refused(env: CpmmEnv, before: dict[str, Any], out: TxOutcome, codes: set[int]) -> None:
    assert not out.ok, "the program accepted a swap the quote refuses"
    assert out.custom_error in codes, (out.custom_error, codes, out.error)
    assert await env.snapshot() == before, "state moved on a failed swap"
    event(f"refused with {out.custom_error}")


@PROPERTY
@given(c=pool_case(), amount_in=AMOUNT, extra=st.integers(0, 1 << 40))
async def test_swap_base_input_settles_exactly_as_quoted(
    env: CpmmEnv, c: dict[str, Any], amount_in: int, extra: int
) -> None:
    pool, before = await seed(env, c, user_in=amount_in + extra, user_out=extra)
    try:
        q = rc.swap_base_input(amount_in, *oracle_reserves(c), *rates(c))
    except VenueError as err:
        out = await env.send(swap_in_ix(env, pool, c["zfo"], amount_in, 0))
        await assert_refused(env, before, out, EXPECTED_CODE[type(err)])
        return
    # minimum_amount_out exactly at the quote: the boundary passes.
    out = await env.send(swap_in_ix(env, pool, c["zfo"], amount_in, q.amount_out))
    assert out.ok, out.error
    await assert_settled(env, before, c["zfo"], q)


@PROPERTY
@given(c=pool_case(), data=st.data(), extra=st.integers(0, 1 << 40))
async def test_swap_base_output_settles_exactly_as_quoted(
    env: CpmmEnv, c: dict[str, Any], data: st.DataObject, extra: int
) -> None:
    r_in, r_out = oracle_reserves(c)
    # Mostly outputs the pool can pay (so most examples settle), sometimes anything at all.
    inside = log_uniform(1, r_out - 1) if r_out > 1 else AMOUNT
    amount_out = data.draw(st.one_of(inside, inside, inside, AMOUNT), label="amount_out")
    try:
        q: rc.CpmmSwap | None = rc.swap_base_output(amount_out, r_in, r_out, *rates(c))
        refusal: VenueError | None = None
    except VenueError as err:
        q, refusal = None, err
    # On a refusal the user holds all a token account can, so only the refusal itself can fail the swap.
    user_in = min(q.amount_in + extra, U64_MAX) if q is not None else U64_MAX
    pool, before = await seed(env, c, user_in=user_in, user_out=extra)
    # max_amount_in exactly at the quote: the boundary passes.
    out = await env.send(swap_out_ix(env, pool, c["zfo"], q.amount_in if q else U64_MAX, amount_out))
    if refusal is not None:
        await assert_refused(env, before, out, EXPECTED_CODE[type(refusal)])
        return
    assert q is not None
    if before["vault0" if c["zfo"] else "vault1"] + q.amount_in > U64_MAX:
        # The quote sees reserves only; the vault also holds owed fees, so its u64 limit is lower.
        await assert_refused(env, before, out, {TOKEN_OVERFLOW})
        return
    assert out.ok, out.error
    await assert_settled(env, before, c["zfo"], q)


@SLIPPAGE
@given(c=pool_case(), amount=AMOUNT)
async def test_slippage_limits_trigger_one_unit_past_the_quote(
    env: CpmmEnv, c: dict[str, Any], amount: int
) -> None:
    try:
        qi: rc.CpmmSwap | None = rc.swap_base_input(amount, *oracle_reserves(c), *rates(c))
    except VenueError:
        qi = None
    if qi is not None:
        pool, before = await seed(env, c, user_in=amount, user_out=0)
        out = await env.send(swap_in_ix(env, pool, c["zfo"], amount, qi.amount_out + 1))
        await assert_refused(env, before, out, {CpmmError.EXCEEDED_SLIPPAGE})
    try:
        qo = rc.swap_base_output(amount, *oracle_reserves(c), *rates(c))
    except VenueError:
        return
    pool, before = await seed(env, c, user_in=qo.amount_in, user_out=0)
    out = await env.send(swap_out_ix(env, pool, c["zfo"], qo.amount_in - 1, amount))
    await assert_refused(env, before, out, {CpmmError.EXCEEDED_SLIPPAGE})
