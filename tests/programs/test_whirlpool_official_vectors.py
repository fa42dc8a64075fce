"""Orca's official swap vectors executed through whirlpool.so: amounts, price, tick, liquidity, fees exact.

tests/fixtures/shared/orca_swap_test_cases.json holds the 3,840 cases of orca-so/whirlpools
programs/whirlpool/src/tests (protocols.md §3.4): constant liquidity, no initialized ticks, start price
sqrt_price(currTickIndex), a price limit at the far edge of the harness's third tick array, fee growths 0.
Each case becomes a fresh pool on one LiteSVM (the tick arrays are the real program's sequence for the
current tick and direction, all empty) and one real `swap` transaction. A case the program must reject
must fail with the real program's error code and leave every account untouched.

The default run executes a stratified sample (every 7th case of each (tick spacing, direction, exact-in/out,
expected error) group: 549 cases); `test_all_official_vectors` (marked slow) executes all 3,840.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from solders.pubkey import Pubkey

from localnet.programs import whirlpool_accounts as wa
from localnet.programs.whirlpool_errors import code_of
from localnet.programs.whirlpool_svm import WhirlpoolSvm, balances, expected_balances
from strategies.venues import orca_whirlpool as orca
from strategies.venues import whirlpool_math as wm

CASES = json.loads((Path(os.environ["SOLARB_FIXTURES"]) / "orca_swap_test_cases.json").read_text())
SAMPLE_STRIDE = 7


def stratified_sample(cases: list[dict[str, Any]], stride: int) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for c in cases:
        key = (c["tickSpacing"], c["aToB"], c["amountIsInput"], c["expectation"]["exception"])
        groups[key].append(c)
    return [c for key in sorted(groups, key=str) for c in groups[key][::stride]]


def harness_limit(case: dict[str, Any]) -> int:
    """The Rust harness's price limit: the far edge of its three arrays from start(currTickIndex)."""
    ts, cur = case["tickSpacing"], case["currTickIndex"]
    width = wm.TICK_ARRAY_SIZE * ts
    start = orca.tick_array_start_index(cur, ts)
    last = start - 2 * width if case["aToB"] else start + 3 * width - 1
    return wm.sqrt_price_from_tick_index(max(min(last, wm.MAX_TICK_INDEX), wm.MIN_TICK_INDEX))


def run_case(svm: WhirlpoolSvm, case: dict[str, Any]) -> str | None:
    """Execute one vector; returns a failure description, or None when the chain did exactly as expected."""
    exp = case["expectation"]
    a_to_b, is_input = case["aToB"], case["amountIsInput"]
    mint_a, mint_b = sorted([Pubkey.new_unique(), Pubkey.new_unique()], key=bytes)
    setup = wa.make_pool(
        mint_a=mint_a, mint_b=mint_b, tick_spacing=case["tickSpacing"],
        sqrt_price=wm.sqrt_price_from_tick_index(case["currTickIndex"]), liquidity=int(case["liquidity"]),
        fee_rate=case["feeRate"], protocol_fee_rate=case["protocolFeeRate"],
        vault_a_amount=0 if a_to_b else wa.U64_MAX, vault_b_amount=wa.U64_MAX if a_to_b else 0,
    )  # fmt: skip
    # The user holds all a token account can on the input side, nothing on the output side.
    c = svm.seed(setup, user_a=wa.U64_MAX if a_to_b else 0, user_b=0 if a_to_b else wa.U64_MAX)
    assert setup.fields.tick_current_index == case["currTickIndex"]
    before_bytes = svm.snapshot(c)
    before = balances(svm, c)
    out = svm.send_swap(c, amount=int(case["tradeAmount"]), a_to_b=a_to_b, is_input=is_input,
                        sqrt_price_limit=harness_limit(case))  # fmt: skip
    if exp["exception"]:
        if out.ok or out.custom_error != code_of(exp["exception"]):
            return f"{case['testId']}: expected {exp['exception']}, got {out.error}"
        if svm.snapshot(c) != before_bytes:
            return f"{case['testId']}: state moved on a failed swap"
        return None
    if not out.ok:
        return f"{case['testId']}: failed {out.error} {out.logs[-3:]}"
    pool = svm.whirlpool(c)
    got = {
        "balances": balances(svm, c),
        "nextLiquidity": pool.liquidity,
        "nextTickIndex": pool.tick_current_index,
        "nextSqrtPrice": pool.sqrt_price,
        "nextFeeGrowthGlobal": pool.fee_growth_global_a if a_to_b else pool.fee_growth_global_b,
        "nextProtocolFee": pool.protocol_fee_owed_a if a_to_b else pool.protocol_fee_owed_b,
        "otherSide": (pool.fee_growth_global_b, pool.protocol_fee_owed_b) if a_to_b
        else (pool.fee_growth_global_a, pool.protocol_fee_owed_a),
    }  # fmt: skip
    want = {
        "balances": expected_balances(before, int(exp["amountA"]), int(exp["amountB"]), a_to_b),
        "nextLiquidity": int(exp["nextLiquidity"]),
        "nextTickIndex": exp["nextTickIndex"],
        "nextSqrtPrice": int(exp["nextSqrtPrice"]),
        "nextFeeGrowthGlobal": int(exp["nextFeeGrowthGlobal"]),
        "nextProtocolFee": int(exp["nextProtocolFee"]),
        "otherSide": (0, 0),
    }
    return None if got == want else f"{case['testId']}: got {got}, expected {want}"


def run_all(cases: list[dict[str, Any]]) -> tuple[list[str], int]:
    svm = WhirlpoolSvm()
    failures = [f for case in cases if (f := run_case(svm, case)) is not None]
    return failures, sum(1 for c in cases if c["expectation"]["exception"])


def test_stratified_sample_of_official_vectors_executes_exactly() -> None:
    sample = stratified_sample(CASES, SAMPLE_STRIDE)
    assert len(sample) >= 500
    # Every group is represented: 3 tick spacings x 2 directions x exact-in/out, settled and rejected.
    assert {(c["tickSpacing"], c["aToB"], c["amountIsInput"]) for c in sample} == {
        (ts, d, i) for ts in (1, 8, 128) for d in (True, False) for i in (True, False)
    }
    failures, rejected = run_all(sample)
    assert failures == []
    assert 100 <= rejected < len(sample) - 200


@pytest.mark.slow
def test_all_official_vectors() -> None:
    assert len(CASES) == 3840
    failures, rejected = run_all(CASES)
    assert failures == []
    assert (
        rejected == 1568
    )  # ZeroTradableAmount 960, TokenMaxExceeded 328, MultiplicationShiftRightOverflow 208, ...
