"""Property tests: swaps through cpmm.so move exactly what the venue quote predicts.

Oracle: ``strategies.venues.raydium_cpmm`` (the bot's own exact quote and instruction builders); this
file has no quote arithmetic of its own. One LiteSVM instance hosts every example: each example
rewrites the pool, config, observation, vaults and user accounts, then sends one real transaction.
"""

from __future__ import annotations

import pytest
from cpmm_env import CpmmEnv
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from localnet.programs.cpmm_errors import CpmmError
from strategies.venues import raydium_cpmm as rc
from strategies.venues.errors import AmountCalcOverflow, InsufficientLiquidity, VenueError, ZeroTradableAmount

# Program error expected for each oracle refusal. Token program error 14 = Overflow (vault would pass u64).
EXPECTED_CODE: dict[type[VenueError], set[int]] = {
    ZeroTradableAmount: {CpmmError.REQUIRE_GT_VIOLATED},
    InsufficientLiquidity: {CpmmError.ZERO_TRADING_TOKENS},
    AmountCalcOverflow: {CpmmError.MATH_OVERFLOW, 14},
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
def pool_case(draw: st.DrawFn) -> dict[str, int | bool]:
    return {
        "r0": draw(RESERVE),
        "r1": draw(RESERVE),
        "p0": draw(OWED),
        "p1": draw(OWED),
        "f0": draw(OWED),
        "f1": draw(OWED),
        "c0": draw(OWED),
        "c1": draw(OWED),
        "trade": draw(TRADE_RATE),
        "protocol": draw(SHARE_RATE),
        "fund": draw(SHARE_RATE),
        "zero_for_one": draw(st.booleans()),
    }


@pytest.fixture(scope="module")
def env() -> CpmmEnv:
    return CpmmEnv()


PROPERTY = settings(
    max_examples=900,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _seed(
    env: CpmmEnv, c: dict[str, int | bool], user_in: int, user_out: int
) -> tuple[rc.CpmmPool, int, int]:
    """Lay out the case; returns the decoded pool and the (reserve_in, reserve_out) the oracle sees."""
    zfo = bool(c["zero_for_one"])
    v0 = int(c["r0"]) + int(c["p0"]) + int(c["f0"]) + int(c["c0"])
    v1 = int(c["r1"]) + int(c["p1"]) + int(c["f1"]) + int(c["c1"])
    env.seed(
        vault0=v0,
        vault1=v1,
        user0=user_in if zfo else user_out,
        user1=user_out if zfo else user_in,
        trade=int(c["trade"]),
        protocol=int(c["protocol"]),
        fund=int(c["fund"]),
        protocol_fees_token_0=int(c["p0"]),
        protocol_fees_token_1=int(c["p1"]),
        fund_fees_token_0=int(c["f0"]),
        fund_fees_token_1=int(c["f1"]),
        creator_fees_token_0=int(c["c0"]),
        creator_fees_token_1=int(c["c1"]),
    )
    pool = rc.decode_pool(env.pool_bytes(), env.program_id)
    r0, r1 = rc.reserves(pool, env.token_amount(env.vault0), env.token_amount(env.vault1))
    return pool, (r0 if zfo else r1), (r1 if zfo else r0)


def _assert_settled(env: CpmmEnv, before: tuple[int, ...], zfo: bool, q: rc.CpmmSwap) -> None:
    v0, v1, u0, u1, p0, p1, f0, f1, _ = before
    d_in, d_out = q.amount_in, q.amount_out
    assert env.token_amount(env.vault0) == v0 + (d_in if zfo else -d_out)
    assert env.token_amount(env.vault1) == v1 + (-d_out if zfo else d_in)
    assert env.token_amount(env.user0) == u0 + (-d_in if zfo else d_out)
    assert env.token_amount(env.user1) == u1 + (d_out if zfo else -d_in)
    fees = env.fees_owed()
    side = "0" if zfo else "1"
    other = "1" if zfo else "0"
    expect = {"protocol_0": p0, "protocol_1": p1, "fund_0": f0, "fund_1": f1}
    expect[f"protocol_{side}"] += q.protocol_fee
    expect[f"fund_{side}"] += q.fund_fee
    assert fees == expect, (fees, expect)
    assert fees[f"protocol_{other}"] == expect[f"protocol_{other}"]
    event("settled as quoted")


def _assert_refused(env: CpmmEnv, before: tuple[int, ...], out: object, codes: set[int]) -> None:
    assert not out.ok, "the program accepted a swap the quote refuses"  # type: ignore[attr-defined]
    assert out.custom_error in codes, (out.custom_error, codes, out.logs)  # type: ignore[attr-defined]
    assert env.snapshot() == before, "state moved on a failed swap"
    event(f"refused with {out.custom_error}")  # type: ignore[attr-defined]


@PROPERTY
@given(c=pool_case(), amount_in=AMOUNT, extra=st.integers(0, 1 << 40))
def test_swap_base_input_settles_exactly_as_quoted(
    env: CpmmEnv, c: dict[str, int | bool], amount_in: int, extra: int
) -> None:
    zfo = bool(c["zero_for_one"])
    pool, r_in, r_out = _seed(env, c, user_in=amount_in + extra, user_out=extra)
    before = env.snapshot()
    try:
        q = rc.swap_base_input(amount_in, r_in, r_out, int(c["trade"]), int(c["protocol"]), int(c["fund"]))
    except VenueError as err:
        ix = rc.build_swap_base_input_ix(
            pool_address=env.pool,
            pool=pool,
            payer=env.payer.pubkey(),
            user_input_account=env.user0 if zfo else env.user1,
            user_output_account=env.user1 if zfo else env.user0,
            zero_for_one=zfo,
            amount_in=amount_in,
            min_out=0,
        )
        _assert_refused(env, before, env.send(ix), EXPECTED_CODE[type(err)])
        return
    # min_out exactly at the quote: the boundary must pass.
    ix = rc.build_swap_base_input_ix(
        pool_address=env.pool,
        pool=pool,
        payer=env.payer.pubkey(),
        user_input_account=env.user0 if zfo else env.user1,
        user_output_account=env.user1 if zfo else env.user0,
        zero_for_one=zfo,
        amount_in=amount_in,
        min_out=q.amount_out,
    )
    out = env.send(ix)
    assert out.ok, (out.error, out.logs)
    _assert_settled(env, before, zfo, q)


@PROPERTY
@given(c=pool_case(), data=st.data(), extra=st.integers(0, 1 << 40))
def test_swap_base_output_settles_exactly_as_quoted(
    env: CpmmEnv, c: dict[str, int | bool], data: st.DataObject, extra: int
) -> None:
    zfo = bool(c["zero_for_one"])
    r_out_of_case = int(c["r1"] if zfo else c["r0"])
    # Mostly outputs the pool can pay (so most examples settle), sometimes anything at all.
    inside = log_uniform(1, r_out_of_case - 1) if r_out_of_case > 1 else AMOUNT
    amount_out = data.draw(st.one_of(inside, inside, inside, AMOUNT), label="amount_out")
    try:
        r_in_guess = int(c["r0"] if zfo else c["r1"])
        r_out_guess = int(c["r1"] if zfo else c["r0"])
        q = rc.swap_base_output(
            amount_out, r_in_guess, r_out_guess, int(c["trade"]), int(c["protocol"]), int(c["fund"])
        )
        user_in = min(q.amount_in + extra, (1 << 64) - 1)
    except VenueError:
        q = None
        user_in = (1 << 63) + extra
    pool, r_in, r_out = _seed(env, c, user_in=user_in, user_out=extra)
    assert (r_in, r_out) == (r_in_guess, r_out_guess)
    before = env.snapshot()
    max_in = q.amount_in if q is not None else (1 << 64) - 1
    ix = rc.build_swap_base_output_ix(
        pool_address=env.pool,
        pool=pool,
        payer=env.payer.pubkey(),
        user_input_account=env.user0 if zfo else env.user1,
        user_output_account=env.user1 if zfo else env.user0,
        zero_for_one=zfo,
        max_in=max_in,
        amount_out=amount_out,
    )
    out = env.send(ix)
    if q is None:
        try:
            rc.swap_base_output(amount_out, r_in, r_out, int(c["trade"]), int(c["protocol"]), int(c["fund"]))
        except VenueError as err:
            _assert_refused(env, before, out, EXPECTED_CODE[type(err)])
            return
        raise AssertionError("oracle result changed between calls")
    vault_in = before[0] if zfo else before[1]
    if vault_in + q.amount_in > (1 << 64) - 1:
        # The quote sees reserves only; the vault also holds owed fees, so its u64 limit is lower.
        _assert_refused(env, before, out, {14})
        return
    # max_in exactly at the quote: the boundary must pass.
    assert out.ok, (out.error, out.logs)
    _assert_settled(env, before, zfo, q)


SLIPPAGE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SLIPPAGE
@given(c=pool_case(), amount=AMOUNT)
def test_slippage_limits_trigger_one_unit_past_the_quote(
    env: CpmmEnv, c: dict[str, int | bool], amount: int
) -> None:
    zfo = bool(c["zero_for_one"])
    r_in, r_out = (int(c["r0"]), int(c["r1"])) if zfo else (int(c["r1"]), int(c["r0"]))
    args = (r_in, r_out, int(c["trade"]), int(c["protocol"]), int(c["fund"]))
    accounts = {
        "user_input_account": env.user0 if zfo else env.user1,
        "user_output_account": env.user1 if zfo else env.user0,
        "zero_for_one": zfo,
    }
    try:
        qi = rc.swap_base_input(amount, *args)
    except VenueError:
        qi = None
    if qi is not None and qi.amount_out < (1 << 64) - 1:
        pool, *_ = _seed(env, c, user_in=amount, user_out=0)
        before = env.snapshot()
        ix = rc.build_swap_base_input_ix(
            pool_address=env.pool,
            pool=pool,
            payer=env.payer.pubkey(),
            **accounts,
            amount_in=amount,
            min_out=qi.amount_out + 1,
        )
        _assert_refused(env, before, env.send(ix), {CpmmError.EXCEEDED_SLIPPAGE})
    try:
        qo = rc.swap_base_output(amount, *args)
    except VenueError:
        return
    pool, *_ = _seed(env, c, user_in=qo.amount_in, user_out=0)
    before = env.snapshot()
    ix = rc.build_swap_base_output_ix(
        pool_address=env.pool,
        pool=pool,
        payer=env.payer.pubkey(),
        **accounts,
        max_in=qo.amount_in - 1,
        amount_out=amount,
    )
    _assert_refused(env, before, env.send(ix), {CpmmError.EXCEEDED_SLIPPAGE})
