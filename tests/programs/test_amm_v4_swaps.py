"""Property tests on localnet: swaps through amm_v4.so move exactly what the bot's exact quote predicts.

Oracle: ``strategies.venues.raydium_amm_v4`` (the bot's own quote math and instruction builders); this
file has no quote arithmetic of its own. Each test runs one localnet server for all its examples: an
example rewrites the AmmInfo, vaults and user accounts, sends one transaction over JSON-RPC with the bot's
`rpc.RpcClient` (skipPreflight, so failed swaps land and are checked for leaving state untouched) and
reads the result back over JSON-RPC. Every instruction form runs 500 examples per instruction, both
directions drawn at random: "v2" (tags 16/17, 8 accounts) and "legacy" (tags 9/11, 17 or 18 accounts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from amm_v4_env import AmmV4Env, TxOutcome, amm_v4_chain
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from localnet.programs.amm_v4_accounts import RECENT_EPOCH_OFFSET
from localnet.programs.amm_v4_errors import AmmV4Error as E
from rpc.client import RpcClient
from strategies.venues import raydium_amm_v4 as rv
from strategies.venues.errors import AmountCalcOverflow, InsufficientLiquidity, VenueError, ZeroTradableAmount

pytestmark = pytest.mark.localnet

U64_MAX = (1 << 64) - 1
TOKEN_OVERFLOW = 14  # SPL Token's TokenError::Overflow: the destination balance would pass u64

# Program errors expected for each oracle refusal.
EXPECTED_CODE: dict[type[VenueError], set[int]] = {
    ZeroTradableAmount: {E.INVALID_INPUT},
    # out >= output reserve; or (base in) an empty input reserve with a zero net input: a division by 0
    InsufficientLiquidity: {E.INSUFFICIENT_FUNDS, E.CHECKED_DIV_OVERFLOW},
    # base out: amount_in beyond u64 (or its u128 intermediate); the input vault passing u64
    AmountCalcOverflow: {E.CONVERSION_FAILURE, E.CHECKED_MUL_OVERFLOW, TOKEN_OVERFLOW},
}


def log_uniform(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Integers spread over magnitudes (bit length uniform), so small and huge values both appear."""
    return st.integers(lo.bit_length(), hi.bit_length()).flatmap(
        lambda b: st.integers(max(lo, (1 << b) >> 1), min(hi, (1 << b) - 1))
    )


PNL = st.one_of(st.just(0), log_uniform(1, 1 << 40))
# Mostly ordinary reserves, sometimes empty, sometimes so large the input vault nears u64.
RESERVE = st.one_of(
    *[log_uniform(1, 1 << 62)] * 8, st.just(0), st.integers(U64_MAX - (1 << 42), U64_MAX - (1 << 40))
)
AMOUNT = log_uniform(1, 1 << 62)


@st.composite
def swap_fee(draw: st.DrawFn) -> tuple[int, int]:
    """(numerator, denominator) with numerator < denominator: common pools, then any fraction."""
    common = st.sampled_from([(25, 10_000), (0, 10_000), (30, 10_000), (9_999, 10_000), (1, 2), (0, 1)])
    den = draw(st.one_of(st.integers(1, 10**6), st.integers(1, U64_MAX)))
    # numerators spread over magnitudes: mostly small fees (so most swaps have an output), some near 100 %
    num = st.just(0) if den == 1 else st.one_of(st.just(0), log_uniform(1, den - 1))
    return draw(st.one_of(common, st.tuples(num, st.just(den))))


@st.composite
def pool_case(draw: st.DrawFn) -> dict[str, Any]:
    """Reserves and need_take_pnl per side, the swap fee, a direction and (legacy) the 18-account list."""
    num, den = draw(swap_fee())
    return {
        "coin": draw(RESERVE), "pc": draw(RESERVE), "pnl_coin": draw(PNL), "pnl_pc": draw(PNL),
        "num": num, "den": den, "coin_to_pc": draw(st.booleans()), "target_orders": draw(st.booleans()),
    }  # fmt: skip


PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
SLIPPAGE = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
FORM_PARAMS = pytest.mark.parametrize("family", ["v2", "legacy"])


@pytest.fixture
async def env(localnet: Any) -> AsyncIterator[AmmV4Env]:
    async with RpcClient(localnet.rpc_url) as client:
        yield AmmV4Env(amm_v4_chain(localnet, client))


def form_of(family: str, c: dict[str, Any]) -> str:
    return family if family == "v2" else ("legacy18" if c["target_orders"] else "legacy")


def oracle_reserves(c: dict[str, Any]) -> tuple[int, int]:
    """(reserve_in, reserve_out) of the case; checked against `rv.reserves` on the seeded pool."""
    return (c["coin"], c["pc"]) if c["coin_to_pc"] else (c["pc"], c["coin"])


def fee(c: dict[str, Any]) -> tuple[int, int]:
    return c["num"], c["den"]


async def seed(
    env: AmmV4Env, c: dict[str, Any], user_in: int, user_out: int
) -> tuple[rv.AmmInfo, dict[str, Any]]:
    """Lay out the case; return the pool as the bot's decoder reads it back over RPC, and a snapshot."""
    c2p = c["coin_to_pc"]
    env.seed(
        coin_vault=c["coin"] + c["pnl_coin"], pc_vault=c["pc"] + c["pnl_pc"],
        user_coin=user_in if c2p else user_out, user_pc=user_out if c2p else user_in,
        need_take_pnl_coin=c["pnl_coin"], need_take_pnl_pc=c["pnl_pc"],
        swap_fee_numerator=c["num"], swap_fee_denominator=c["den"],
    )  # fmt: skip
    snap = await env.snapshot()
    info = rv.decode_amm_info(snap["amm"], env.program_id, env.program_id)
    coin, pc = rv.reserves(info, snap["coin_vault"], snap["pc_vault"])
    assert ((coin, pc) if c2p else (pc, coin)) == oracle_reserves(c)
    return info, snap


async def assert_settled(env: AmmV4Env, before: dict[str, Any], c2p: bool, q: rv.AmmSwap) -> None:
    after = await env.snapshot()
    i, o = ("coin", "pc") if c2p else ("pc", "coin")
    expect = dict(before)
    expect[f"{i}_vault"] += q.amount_in
    expect[f"{o}_vault"] -= q.amount_out
    expect[f"user_{i}"] -= q.amount_in
    expect[f"user_{o}"] += q.amount_out
    keys = ("coin_vault", "pc_vault", "user_coin", "user_pc")
    assert {k: after[k] for k in keys} == {k: expect[k] for k in keys}
    # AmmInfo: only recent_epoch may change on a SwapOnly pool.
    epoch = slice(RECENT_EPOCH_OFFSET, RECENT_EPOCH_OFFSET + 8)
    assert after["amm"][: epoch.start] + after["amm"][epoch.stop :] == (
        before["amm"][: epoch.start] + before["amm"][epoch.stop :]
    )
    event("settled as quoted")


async def assert_refused(env: AmmV4Env, before: dict[str, Any], out: TxOutcome, codes: set[int]) -> None:
    assert not out.ok, "the program accepted a swap the quote refuses"
    assert out.custom_error in codes, (out.custom_error, codes, out.error)
    assert await env.snapshot() == before, "state moved on a failed swap"
    event(f"refused with {out.custom_error}")


@FORM_PARAMS
@PROPERTY
@given(c=pool_case(), amount_in=AMOUNT, extra=st.integers(0, 1 << 40))
async def test_swap_base_in_settles_exactly_as_quoted(
    env: AmmV4Env, family: str, c: dict[str, Any], amount_in: int, extra: int
) -> None:
    info, before = await seed(env, c, user_in=amount_in + extra, user_out=extra)
    form, c2p = form_of(family, c), c["coin_to_pc"]
    try:
        q = rv.swap_base_in(amount_in, *oracle_reserves(c), *fee(c))
    except VenueError as err:
        out = await env.send(env.swap_ix(info, form, True, c2p, amount_in, 0))
        await assert_refused(env, before, out, EXPECTED_CODE[type(err)])
        return
    # minimum_amount_out exactly at the quote: the boundary passes.
    out = await env.send(env.swap_ix(info, form, True, c2p, amount_in, q.amount_out))
    if before["coin_vault" if c2p else "pc_vault"] + q.amount_in > U64_MAX:
        # The quote sees reserves only; the vault also holds need_take_pnl, so its u64 limit is lower.
        await assert_refused(env, before, out, {TOKEN_OVERFLOW})
        return
    assert out.ok, out.error
    await assert_settled(env, before, c2p, q)


@FORM_PARAMS
@PROPERTY
@given(c=pool_case(), data=st.data(), extra=st.integers(0, 1 << 40))
async def test_swap_base_out_settles_exactly_as_quoted(
    env: AmmV4Env, family: str, c: dict[str, Any], data: st.DataObject, extra: int
) -> None:
    r_in, r_out = oracle_reserves(c)
    # Mostly outputs the pool can pay (so most examples settle), sometimes anything at all.
    inside = log_uniform(1, r_out - 1) if r_out > 1 else AMOUNT
    amount_out = data.draw(st.one_of(inside, inside, inside, AMOUNT, st.just(0)), label="amount_out")
    try:
        q: rv.AmmSwap | None = rv.swap_base_out(amount_out, r_in, r_out, *fee(c))
        refusal: VenueError | None = None
    except VenueError as err:
        q, refusal = None, err
    # On a refusal the user holds all a token account can, so only the refusal itself can fail the swap.
    user_in = min(q.amount_in + extra, U64_MAX) if q is not None else U64_MAX
    info, before = await seed(env, c, user_in=user_in, user_out=extra)
    form, c2p = form_of(family, c), c["coin_to_pc"]
    # max_amount_in exactly at the quote: the boundary passes.
    out = await env.send(env.swap_ix(info, form, False, c2p, q.amount_in if q else U64_MAX, amount_out))
    if refusal is not None:
        await assert_refused(env, before, out, EXPECTED_CODE[type(refusal)])
        return
    assert q is not None
    if before["coin_vault" if c2p else "pc_vault"] + q.amount_in > U64_MAX:
        await assert_refused(env, before, out, {TOKEN_OVERFLOW})
        return
    assert out.ok, out.error
    await assert_settled(env, before, c2p, q)


@FORM_PARAMS
@SLIPPAGE
@given(c=pool_case(), amount=AMOUNT)
async def test_slippage_limits_trigger_one_unit_past_the_quote(
    env: AmmV4Env, family: str, c: dict[str, Any], amount: int
) -> None:
    form, c2p = form_of(family, c), c["coin_to_pc"]
    try:
        qi: rv.AmmSwap | None = rv.swap_base_in(amount, *oracle_reserves(c), *fee(c))
    except VenueError:
        qi = None
    if qi is not None:
        info, before = await seed(env, c, user_in=amount, user_out=0)
        out = await env.send(env.swap_ix(info, form, True, c2p, amount, qi.amount_out + 1))
        await assert_refused(env, before, out, {E.EXCEEDED_SLIPPAGE})
    try:
        qo = rv.swap_base_out(amount, *oracle_reserves(c), *fee(c))
    except VenueError:
        return
    info, before = await seed(env, c, user_in=qo.amount_in, user_out=0)
    out = await env.send(env.swap_ix(info, form, False, c2p, qo.amount_in - 1, amount))
    await assert_refused(env, before, out, {E.EXCEEDED_SLIPPAGE})
