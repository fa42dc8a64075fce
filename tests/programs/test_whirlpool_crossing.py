"""Tick crossing through whirlpool.so: whirlpools-core vectors and random states settle exactly.

1. tests/data/orca_core_swap_vectors.json (tools/oracles/whirlpool_vectors.mjs, @orca-so/whirlpools-core
   3.1.0): 600 states with initialized ticks across the three tick arrays of each swap, four quotes each
   (every other state laid out in DynamicTickArrays, the rest in FixedTickArrays).
   Every quote is executed on chain: a filled quote must move exactly token_in / token_out, a refused one
   must fail with the program error the library's text names and move nothing.
2. 600 random states (seeded RNG) with positions whose ticks fall in all three arrays of the swap
   direction, fee growths, protocol fees owed, live rewards, fixed or dynamic tick arrays: the bot's exact quote
   (`orca_whirlpool.quote_swap` on the decoded on-chain accounts) must equal what the program did.

Crossings are observed on chain, not taken from the oracle: fee growths are non-zero, so every initialized
tick the swap crosses flips its fee_growth_outside (tick_manager.rs next_tick_cross_update); the set of
ticks whose bytes changed must be exactly the initialized ticks between the start and end tick.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from solders.pubkey import Pubkey

from localnet.programs import whirlpool_accounts as wa
from localnet.programs.whirlpool_errors import code_of
from localnet.programs.whirlpool_svm import NOW, Case, WhirlpoolSvm, balances, expected_balances
from strategies.venues import orca_whirlpool as orca
from strategies.venues import whirlpool_math as wm
from strategies.venues.errors import QuoteError

REPO = Path(__file__).resolve().parents[2]
VECTORS = json.loads((REPO / "tests" / "data" / "orca_core_swap_vectors.json").read_text())["states"]
U128 = 1 << 128
U64_MAX = (1 << 64) - 1

# The library reports errors as text; the program errors that correspond (see tests/venues).
CORE_ERRORS = {
    "Invalid tick array sequence": {"TickArraySequenceInvalidIndex", "InvalidTickArraySequence"},
    "Amount exceeds max u64": {"TokenMaxExceeded", "MultiplicationShiftRightOverflow", "AmountCalcOverflow"},
    "Arithmetic over- or underflow": {"AmountCalcOverflow", "MultiplicationOverflow", "NumberDownCastError"},
}


def crossed_ticks(ticks: dict[int, wa.TickFields], start_tick: int, end_tick: int, a_to_b: bool) -> set[int]:
    """Initialized ticks a swap from start_tick to end_tick crosses (a->b ends at t - 1 after crossing t)."""
    if a_to_b:
        return {t for t in ticks if end_tick < t <= start_tick}
    return {t for t in ticks if start_tick < t <= end_tick}


def changed_ticks(svm: WhirlpoolSvm, case: Case, before: dict[Pubkey, bytes | None]) -> set[int]:
    """Tick indexes whose fields differ from `before` in any of the case's tick arrays (fixed or dynamic)."""
    ts = case.setup.fields.tick_spacing
    out = set()
    for start, key in case.setup.tick_arrays.items():
        old, new = before[key], svm.data(key)
        assert old and new
        old_ticks, new_ticks = orca.decode_tick_array(old).ticks, orca.decode_tick_array(new).ticks
        out.update(start + k * ts for k in range(wm.TICK_ARRAY_SIZE) if old_ticks[k] != new_ticks[k])
    return out


def settle(
    svm: WhirlpoolSvm, case: Case, ticks: dict[int, wa.TickFields], q: dict[str, Any], limit: int = 0
) -> tuple[str | None, int]:
    """Execute quote `q` (fn, a_to_b, amount) and check it against the off-chain quote on the same state.

    Returns (failure or None, initialized ticks crossed on chain).
    """
    a_to_b, is_input = q["a_to_b"], q["fn"] == "in"
    amount = int(q["amount"])
    oracle = svm.quote(case, amount, a_to_b, is_input, limit)
    before_bytes = svm.snapshot(case)
    before = balances(svm, case)
    pool0 = svm.whirlpool(case)
    out = svm.send_swap(case, amount=amount, a_to_b=a_to_b, is_input=is_input, sqrt_price_limit=limit)
    if isinstance(oracle, QuoteError):
        if out.ok or out.custom_error != code_of(oracle.program_error):
            return f"expected {oracle.program_error}, got {out.error} {out.logs[-2:]}", 0
        if svm.snapshot(case) != before_bytes:
            return "state moved on a failed swap", 0
        return None, 0
    if not out.ok:
        return f"failed {out.error} {out.logs[-3:]} (oracle {oracle})", 0
    pool = svm.whirlpool(case)
    got = {
        "balances": balances(svm, case),
        "pool": (pool.sqrt_price, pool.tick_current_index, pool.liquidity),
        "fees": (pool.fee_growth_global_a, pool.fee_growth_global_b, pool.protocol_fee_owed_a,
                 pool.protocol_fee_owed_b),
    }  # fmt: skip
    fa, fb = pool0.fee_growth_global_a, pool0.fee_growth_global_b
    pa, pb = pool0.protocol_fee_owed_a, pool0.protocol_fee_owed_b
    if a_to_b:
        fa, pa = oracle.next_fee_growth_global, pa + oracle.protocol_fee
    else:
        fb, pb = oracle.next_fee_growth_global, pb + oracle.protocol_fee
    want = {
        "balances": expected_balances(before, oracle.amount_a, oracle.amount_b, a_to_b),
        "pool": (oracle.next_sqrt_price, oracle.next_tick_index, oracle.next_liquidity),
        "fees": (fa, fb, pa, pb),
    }
    if got != want:
        return f"got {got}, oracle {want}", 0
    crossed = crossed_ticks(ticks, pool0.tick_current_index, pool.tick_current_index, a_to_b)
    if changed_ticks(svm, case, before_bytes) != crossed or len(crossed) != oracle.ticks_crossed:
        return (
            f"ticks changed {changed_ticks(svm, case, before_bytes)}, crossed {crossed}, oracle {oracle}",
            0,
        )
    return None, len(crossed)


def seed_for(svm: WhirlpoolSvm, setup_kw: dict[str, Any], a_to_b: bool) -> Case:
    """Seed a pool whose output vault and the user's input account hold all a token account can.

    The input vault and the user's output account start empty, so any u64 amounts can settle.
    """
    full, empty = wa.U64_MAX, 0
    setup = wa.make_pool(vault_a_amount=empty if a_to_b else full, vault_b_amount=full if a_to_b else empty,
                         **setup_kw)  # fmt: skip
    return svm.seed(setup, user_a=full if a_to_b else empty, user_b=empty if a_to_b else full)


def core_case(
    svm: WhirlpoolSvm, state: dict[str, Any], a_to_b: bool, dynamic: bool
) -> tuple[Case, dict[int, wa.TickFields]]:
    ticks = {k: wa.TickFields(int(n), int(g), 7 << 64, 11 << 64) for k, n, g in state["ticks"]}
    mint_a, mint_b = sorted([Pubkey.new_unique(), Pubkey.new_unique()], key=bytes)
    kw = {
        "mint_a": mint_a, "mint_b": mint_b, "tick_spacing": state["tick_spacing"],
        "sqrt_price": int(state["sqrt_price"]), "ticks": ticks, "liquidity": int(state["liquidity"]),
        "fee_rate": state["fee_rate"], "protocol_fee_rate": state["protocol_fee_rate"],
        "fee_growth_global_a": 123 << 64, "fee_growth_global_b": 456 << 64, "dynamic_arrays": dynamic,
    }  # fmt: skip
    case = seed_for(svm, kw, a_to_b)
    assert case.setup.fields.tick_current_index == state["tick_current_index"]
    return case, ticks


def test_core_vectors_execute_on_chain_and_cross_ticks() -> None:
    svm = WhirlpoolSvm()
    failures, filled, crossing, multi = [], 0, 0, 0
    for i, state in enumerate(VECTORS):
        for q in state["quotes"]:
            # A fresh pool per quote, from the vector's state; every other state in DynamicTickArrays.
            case, ticks = core_case(svm, state, q["a_to_b"], dynamic=i % 2 == 1)
            oracle = svm.quote(case, int(q["amount"]), q["a_to_b"], q["fn"] == "in")
            if "error" in q:
                if not isinstance(oracle, QuoteError) or oracle.program_error not in CORE_ERRORS[q["error"]]:
                    failures.append((i, q, f"oracle {oracle}"))
                    continue
            elif isinstance(oracle, QuoteError) or (
                oracle.amount_in,
                oracle.amount_out,
                oracle.fee_amount,
            ) != (int(q["token_in"]), int(q["token_out"]), int(q["fee"])):
                failures.append((i, q, f"oracle {oracle}"))
                continue
            failure, n = settle(svm, case, ticks, q)
            if failure:
                failures.append((i, q, failure))
                continue
            if "error" not in q:
                filled += 1
                crossing += n > 0
                multi += n >= 2
    assert failures == []
    assert filled >= 1500
    print(f"core vectors: {filled} filled, {crossing} crossed ticks, {multi} crossed two or more")
    assert crossing >= 300 and multi >= 300, (filled, crossing, multi)


def random_state(rng: random.Random) -> dict[str, Any]:
    """Positions whose ticks fall in all three arrays of both directions around a random current tick."""
    ts = rng.choice([1, 2, 4, 8, 16, 64, 96, 128, 256])
    width = wm.TICK_ARRAY_SIZE * ts
    span = 6 * width  # room for positions up to five arrays away
    lo_bound = (wm.MIN_TICK_INDEX + span) // ts + 1
    hi_bound = (wm.MAX_TICK_INDEX - span) // ts - 1
    if rng.random() < 0.7:  # mostly prices where u64 amounts move through several arrays
        lo_bound, hi_bound = max(lo_bound, -150_000 // ts), min(hi_bound, 150_000 // ts)
    cur_tick = rng.randrange(lo_bound, hi_bound) * ts + rng.randrange(ts)
    base_liq = rng.choice([0, 10**6, 10**9, 10**12, 10**15, 10**18])
    positions = (
        [wa.Position(cur_tick // ts * ts - 2 * width, cur_tick // ts * ts + 3 * width, base_liq)]
        if base_liq
        else []
    )
    for _ in range(rng.randrange(3, 13)):
        a = cur_tick // ts + rng.randrange(-3 * 88, 3 * 88)
        b = a + rng.randrange(1, 2 * 88)
        positions.append(
            wa.Position(a * ts, b * ts, rng.choice([10**6, 10**9, 10**12, 10**15]) * rng.randrange(1, 10))
        )
    sqrt_price = rng.randrange(
        wm.sqrt_price_from_tick_index(cur_tick), wm.sqrt_price_from_tick_index(cur_tick + 1)
    )
    return {"ts": ts, "positions": positions, "sqrt_price": sqrt_price}


def random_case(svm: WhirlpoolSvm, rng: random.Random, a_to_b: bool) -> tuple[Case, dict[int, wa.TickFields]]:
    st = random_state(rng)
    ticks = wa.ticks_from_positions(st["positions"])
    # Fee and reward growths outside set, as the ticks of a live pool carry them.
    ticks = {
        t: wa.TickFields(f.liquidity_net, f.liquidity_gross, rng.randrange(U128), rng.randrange(U128),
                         (rng.randrange(U128), rng.randrange(U128), rng.randrange(U128)))
        for t, f in ticks.items()
    }  # fmt: skip
    rewards = tuple(
        wa.RewardFields(mint=Pubkey.new_unique(), emissions_per_second_x64=rng.randrange(1 << 80),
                        growth_global_x64=rng.randrange(U128))
        if rng.random() < 0.5 else wa.RewardFields()
        for _ in range(3)
    )  # fmt: skip
    mint_a, mint_b = sorted([Pubkey.new_unique(), Pubkey.new_unique()], key=bytes)
    kw = {
        "mint_a": mint_a, "mint_b": mint_b, "tick_spacing": st["ts"], "sqrt_price": st["sqrt_price"],
        "ticks": ticks,
        "liquidity": wa.active_liquidity(st["positions"], wm.tick_index_from_sqrt_price(st["sqrt_price"])),
        "fee_rate": rng.choice([0, 100, 500, 3000, 10000, 60000]),
        "protocol_fee_rate": rng.choice([0, 300, 1300, 2500]),
        "fee_growth_global_a": rng.randrange(U128), "fee_growth_global_b": rng.randrange(U128),
        "protocol_fee_owed_a": rng.randrange(1 << 40), "protocol_fee_owed_b": rng.randrange(1 << 40),
        "reward_last_updated_timestamp": NOW - rng.randrange(0, 10**6), "reward_infos": rewards,
        "dynamic_arrays": rng.random() < 0.5,
    }  # fmt: skip
    return seed_for(svm, kw, a_to_b), ticks


def expected_reward_growths(pool: orca.Whirlpool, now: int) -> list[int]:
    """whirlpool_manager.rs next_whirlpool_reward_infos: growth += dt * emissions / L (0 on u128 overflow)."""
    out = []
    dt = now - pool.reward_last_updated_timestamp
    for r in pool.reward_infos:
        g = r.growth_global_x64
        if r.mint != Pubkey.default() and pool.liquidity and dt:
            prod = dt * r.emissions_per_second_x64
            g = (g + (prod // pool.liquidity if prod < U128 else 0)) % U128
        out.append(g)
    return out


def draw_amount(
    svm: WhirlpoolSvm,
    case: Case,
    ticks: dict[int, wa.TickFields],
    rng: random.Random,
    a_to_b: bool,
    is_input: bool,
) -> tuple[int, int]:
    """(amount, sqrt_price_limit): mostly a fraction of what reaches a random tick up to three arrays away
    (most often just past a random initialized tick in the swap direction).

    The oracle only sizes the input (how much reaches that tick); the result is checked against it later.
    One draw in ten is any amount at all, and one in five keeps an explicit limit at that tick.
    """
    pool = svm.whirlpool(case)
    if rng.random() < 0.1:
        return rng.randrange(1, 10) * 10 ** rng.randrange(0, 19), 0
    cur, ts = pool.tick_current_index, pool.tick_spacing
    ahead = [abs(t - cur) for t in ticks if (t <= cur if a_to_b else t > cur) and abs(t - cur) < 3 * 88 * ts]
    if ahead and rng.random() < 0.75:
        reach, low = rng.choice(ahead) + rng.randrange(1, 30) * ts, 0.9
    else:
        reach, low = rng.randrange(1, 3 * 88) * ts, 0.2
    for _ in range(6):  # halve the reach until u64 amounts get there
        target = pool.tick_current_index + (-reach if a_to_b else reach)
        limit = wm.sqrt_price_from_tick_index(max(min(target, wm.MAX_TICK_INDEX), wm.MIN_TICK_INDEX))
        full = svm.quote(case, U64_MAX, a_to_b, is_input, limit)
        needed = 0 if isinstance(full, QuoteError) else (full.amount_in if is_input else full.amount_out)
        if needed:
            return max(1, int(needed * rng.uniform(low, 1.0))), limit if rng.random() < 0.2 else 0
        reach //= 2
    return rng.randrange(1, 10**12), 0


def test_random_states_off_chain_quote_equals_on_chain_result() -> None:
    rng = random.Random(19)
    svm = WhirlpoolSvm()
    failures, settled, crossing, multi_array = [], 0, 0, 0
    for i in range(600):
        a_to_b, is_input = rng.random() < 0.5, rng.random() < 0.5
        case, ticks = random_case(svm, rng, a_to_b)
        pool0 = svm.whirlpool(case)
        amount, limit = draw_amount(svm, case, ticks, rng, a_to_b, is_input)
        q = {"a_to_b": a_to_b, "fn": "in" if is_input else "out", "amount": amount}
        failure, n = settle(svm, case, ticks, q, limit)
        if failure:
            failures.append((i, q, limit, failure))
            continue
        pool = svm.whirlpool(case)
        if pool.sqrt_price == pool0.sqrt_price and pool.tick_current_index == pool0.tick_current_index:
            continue  # refused (checked in settle) or a no-op
        settled += 1
        crossing += n > 0
        width = wm.TICK_ARRAY_SIZE * pool.tick_spacing
        multi_array += (
            n > 0
            and abs(
                orca.tick_array_start_index(pool.tick_current_index, pool.tick_spacing)
                - orca.tick_array_start_index(pool0.tick_current_index, pool.tick_spacing)
            )
            >= width
        )
        # Rewards grew by elapsed time and were written back with the timestamp.
        got = [r.growth_global_x64 for r in pool.reward_infos]
        if got != expected_reward_growths(pool0, NOW) or pool.reward_last_updated_timestamp != NOW:
            failures.append((i, "rewards", got, expected_reward_growths(pool0, NOW)))
    assert failures == []
    print(f"random states: {settled} settled, {crossing} crossed ticks, {multi_array} into another array")
    assert settled >= 500 and crossing >= 300 and multi_array >= 50, (settled, crossing, multi_array)
