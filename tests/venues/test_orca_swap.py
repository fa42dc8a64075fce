"""Exact Whirlpool swap math against the official vectors (protocols.md §3.4)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from strategies.venues import orca_whirlpool as orca
from strategies.venues import whirlpool_math as wm
from strategies.venues.errors import (
    InvalidSqrtPriceLimitDirection,
    PartialFill,
    QuoteError,
    RefusalReason,
    SqrtPriceOutOfBounds,
    TickArraySequenceInvalidIndex,
    Unmodelled,
    ZeroTradableAmount,
)

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])


def _harness_quote(case: dict) -> orca.WhirlpoolQuote:
    """The Rust harness of swap_test_cases.json: empty arrays from start(curr) in the swap direction."""
    ts = case["tickSpacing"]
    width = wm.TICK_ARRAY_SIZE * ts
    cur = case["currTickIndex"]
    a_to_b = case["aToB"]
    start = orca.tick_array_start_index(cur, ts)
    step = -width if a_to_b else width
    last = start - 2 * width if a_to_b else start + 3 * width - 1
    last = max(min(last, wm.MAX_TICK_INDEX), wm.MIN_TICK_INDEX)
    return orca.swap_exact(
        sqrt_price=wm.sqrt_price_from_tick_index(cur),
        tick_current_index=cur,
        liquidity=int(case["liquidity"]),
        tick_spacing=ts,
        fee_rate=case["feeRate"],
        protocol_fee_rate=case["protocolFeeRate"],
        fee_growth_global_input=0,
        tick_arrays=[orca.empty_tick_array(start + i * step) for i in range(3)],
        amount=int(case["tradeAmount"]),
        sqrt_price_limit=wm.sqrt_price_from_tick_index(last),
        amount_specified_is_input=case["amountIsInput"],
        a_to_b=a_to_b,
    )


def test_all_official_swap_vectors_reproduced() -> None:
    cases = json.loads((FIXTURES / "orca_swap_test_cases.json").read_text())
    assert len(cases) == 3840
    failures = []
    errors_seen: dict[str, int] = {}
    for case in cases:
        exp = case["expectation"]
        try:
            q = _harness_quote(case)
        except QuoteError as err:
            errors_seen[err.program_error] = errors_seen.get(err.program_error, 0) + 1
            if err.program_error != exp["exception"]:
                failures.append(
                    (case["testId"], f"raised {err.program_error}, expected {exp['exception']!r}")
                )
            continue
        got = {
            "exception": "",
            "amountA": str(q.amount_a),
            "amountB": str(q.amount_b),
            "nextLiquidity": str(q.next_liquidity),
            "nextTickIndex": q.next_tick_index,
            "nextSqrtPrice": str(q.next_sqrt_price),
            "nextFeeGrowthGlobal": str(q.next_fee_growth_global),
            "nextProtocolFee": str(q.protocol_fee),
        }
        if got != exp:
            failures.append((case["testId"], got, exp))
    assert failures == []
    # The vectors exercise these program errors; all must come out as typed QuoteErrors.
    assert set(errors_seen) == {
        "ZeroTradableAmount",
        "TokenMaxExceeded",
        "MultiplicationShiftRightOverflow",
        "MultiplicationOverflow",
    }


def _hsq_pool() -> orca.Whirlpool:
    raw = json.loads((FIXTURES / "ipv4sq_orca_whirlpool_HsQGWEh3.json").read_text())
    import base64

    pool = orca.decode_whirlpool(base64.b64decode(raw["account_data_base64"]))
    return pool


def test_derived_golden_vectors_from_whirlpools_core() -> None:
    golden = json.loads((FIXTURES / "derived_golden_vectors.json").read_text())["orca_whirlpool"]
    p = golden["pool"]
    pool = dataclasses.replace(
        _hsq_pool(),
        liquidity=int(p["liquidity"]),
        sqrt_price=int(p["sqrtPrice"]),
        tick_current_index=p["tickCurrentIndex"],
        fee_rate=p["feeRate"],
        protocol_fee_rate=p["protocolFeeRate"],
        fee_growth_global_a=0,
        fee_growth_global_b=0,
    )
    assert len(golden["quotes"]) == 8
    for v in golden["quotes"]:
        r = v["result"]
        if v["fn"] == "swapQuoteByInputToken":
            a_to_b = v["specified_token_a"]
            arrays = orca.swap_tick_arrays(pool, {}, a_to_b)
            q = orca.quote_swap(pool, arrays, int(v["token_in"]), a_to_b=a_to_b)
            assert (q.amount_in, q.amount_out, q.fee_amount) == (
                int(r["tokenIn"]),
                int(r["tokenEstOut"]),
                int(r["tradeFee"]),
            ), v
        else:
            a_to_b = not v["specified_token_a"]
            arrays = orca.swap_tick_arrays(pool, {}, a_to_b)
            q = orca.quote_swap(
                pool, arrays, int(v["token_out"]), a_to_b=a_to_b, amount_specified_is_input=False
            )
            assert (q.amount_out, q.amount_in, q.fee_amount) == (
                int(r["tokenOut"]),
                int(r["tokenEstIn"]),
                int(r["tradeFee"]),
            ), v


def test_tick_math_roundtrip_and_bounds() -> None:
    assert wm.sqrt_price_from_tick_index(wm.MIN_TICK_INDEX) == wm.MIN_SQRT_PRICE_X64
    assert wm.sqrt_price_from_tick_index(wm.MAX_TICK_INDEX) == wm.MAX_SQRT_PRICE_X64
    assert wm.sqrt_price_from_tick_index(0) == 1 << 64
    # Values the program's own unit tests list for single bits (tick_math.rs test_exact_bit_values).
    assert wm.sqrt_price_from_tick_index(1) == 18447666387855959850
    assert wm.sqrt_price_from_tick_index(-1) == 18445821805675392311
    assert wm.tick_index_from_sqrt_price(wm.MAX_SQRT_PRICE_X64 - 1) == wm.MAX_TICK_INDEX - 1
    assert wm.tick_index_from_sqrt_price((1 << 64) - 1) == -1
    prev = 0
    for tick in range(wm.MIN_TICK_INDEX, wm.MAX_TICK_INDEX + 1, 997):
        sp = wm.sqrt_price_from_tick_index(tick)
        assert sp > prev
        prev = sp
        assert wm.tick_index_from_sqrt_price(sp) == tick
        assert wm.tick_index_from_sqrt_price(sp + 1) == tick
        assert wm.tick_index_from_sqrt_price(sp - 1) == tick - 1


def test_tick_array_start_indexes_match_program_cases() -> None:
    # Expected sequences from util/sparse_swap.rs tests (ts 1 / 64 / 32768).
    f = orca.tick_array_start_indexes
    assert f(0, 1, True) == [0, -88, -176]
    assert f(-443635, 1, True) == [-443696]
    assert f(86, 1, False) == [0, 88, 176]
    assert f(87, 1, False) == [88, 176, 264]
    assert f(443608, 1, False) == [443608]
    assert f(-64, 64, True) == [-5632, -11264, -16896]
    assert f(-439296, 64, True) == [-439296, -444928]
    assert f(5568, 64, False) == [5632, 11264, 16896]
    assert f(439200, 64, False) == [433664, 439296]
    assert f(0, 32768, True) == [0, -2883584]
    assert f(-32768, 32768, False) == [0]
    assert f(-443635, 32768, False) == [-2883584, 0]


def test_program_errors_are_typed() -> None:
    pool = _hsq_pool()
    arrays = orca.swap_tick_arrays(pool, {}, True)
    with pytest.raises(ZeroTradableAmount):
        orca.quote_swap(pool, arrays, 0, a_to_b=True)
    with pytest.raises(InvalidSqrtPriceLimitDirection):
        orca.quote_swap(pool, arrays, 10, a_to_b=True, sqrt_price_limit=pool.sqrt_price + 1)
    with pytest.raises(SqrtPriceOutOfBounds):
        orca.quote_swap(pool, arrays, 10, a_to_b=True, sqrt_price_limit=wm.MIN_SQRT_PRICE_X64 - 1)
    # Running past the last supplied array is the program's TickArraySequenceInvalidIndex.
    with pytest.raises(TickArraySequenceInvalidIndex):
        orca.quote_swap(pool, arrays, 10**18, a_to_b=True, amount_specified_is_input=False)
    # Near the minimum tick the price reaches MIN_SQRT_PRICE first: exact-out without a limit is a partial fill.
    low = dataclasses.replace(
        pool,
        tick_current_index=-443000,
        sqrt_price=wm.sqrt_price_from_tick_index(-443000),
        liquidity=1000,
    )
    with pytest.raises(PartialFill):
        orca.quote_swap(
            low, orca.swap_tick_arrays(low, {}, True), 10**6, a_to_b=True, amount_specified_is_input=False
        )
    adaptive = dataclasses.replace(pool, fee_tier_index=1025)
    with pytest.raises(Unmodelled) as info:
        orca.quote_swap(adaptive, arrays, 10, a_to_b=True)
    assert info.value.reason is RefusalReason.WHIRLPOOL_ADAPTIVE_FEE


def _array_with(start: int, ts: int, nets: dict[int, int]) -> orca.TickArray:
    ticks = [orca.ZERO_TICK] * wm.TICK_ARRAY_SIZE
    for idx, net in nets.items():
        ticks[(idx - start) // ts] = orca.Tick(True, net, abs(net), 0, 0, (0, 0, 0))
    return orca.TickArray(start, orca.Pubkey.default(), tuple(ticks))


def test_crossing_ticks_changes_liquidity_and_counts() -> None:
    # Position [-640, 640) of liquidity L2 on top of the pool's L; an a->b swap crosses -640 at most.
    ts, liq, extra = 64, 10**12, 5 * 10**11
    start = orca.tick_array_start_index(0, ts)
    arrays = [
        _array_with(start, ts, {640: -extra}),
        _array_with(start - 88 * ts, ts, {-640: extra}),
        _array_with(start - 176 * ts, ts, {}),
    ]
    arrays[0] = _array_with(start, ts, {0: 0})  # an initialized tick with zero net still splits the step
    arrays[1] = _array_with(start - 88 * ts, ts, {-640: extra})
    kwargs = dict(
        sqrt_price=wm.sqrt_price_from_tick_index(10),
        tick_current_index=10,
        liquidity=liq + extra,
        tick_spacing=ts,
        fee_rate=3000,
        protocol_fee_rate=1300,
        fee_growth_global_input=0,
        tick_arrays=arrays,
        sqrt_price_limit=0,
        amount_specified_is_input=True,
        a_to_b=True,
    )
    small = orca.swap_exact(amount=10**6, **kwargs)
    assert small.ticks_crossed == 0 and small.next_liquidity == liq + extra
    big = orca.swap_exact(amount=10**11, **kwargs)
    assert big.ticks_crossed == 2
    assert big.next_liquidity == liq
    assert big.next_tick_index < -640


def test_splash_pool_full_range_quotes() -> None:
    # Full-range-only pool (tick_spacing 32896): one array covers [0, 2.9M) and the min array the rest.
    raw = json.loads((FIXTURES / "carbon_orca_whirlpool_account_splash.json").read_text())
    import base64

    pool = orca.decode_whirlpool(base64.b64decode(raw["data"]))
    assert orca.tick_array_start_indexes(pool.tick_current_index, pool.tick_spacing, True) == [0, -2894848]
    assert orca.tick_array_start_indexes(pool.tick_current_index, pool.tick_spacing, False) == [0]
    sp, liq = pool.sqrt_price / 2.0**64, float(pool.liquidity)
    for a_to_b, amount in ((True, 10**6), (False, 10**13)):
        q = orca.quote_swap(pool, orca.swap_tick_arrays(pool, {}, a_to_b), amount, a_to_b=a_to_b)
        net = amount * (1 - pool.fee_rate / 1e6)
        # One liquidity range: the closed-form constant-L swap in floats.
        if a_to_b:
            expected = liq * (sp - 1 / (1 / sp + net / liq))
        else:
            expected = liq * (1 / sp - 1 / (sp + net / liq))
        assert q.amount_in == amount and q.ticks_crossed == 0
        assert abs(q.amount_out - expected) <= 1e-6 * expected + 2
