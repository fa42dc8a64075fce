"""whirlpool.so at its boundaries: slippage and price limits exact, swap_v2 = swap, the real account checks.

Oracle: `strategies.venues.orca_whirlpool` (the bot's exact quote and instruction builders), run on the
accounts as the chain holds them. Every refusal must carry the real program's error code and leave every
account the swap could touch byte-for-byte unchanged.
"""

from __future__ import annotations

import random
import struct
from dataclasses import replace
from typing import Any

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from test_whirlpool_crossing import random_case

from localnet.programs import whirlpool_accounts as wa
from localnet.programs.whirlpool_errors import WhirlpoolError as E
from localnet.programs.whirlpool_svm import Case, TxOutcome, WhirlpoolSvm, balances, expected_balances
from strategies.venues import orca_whirlpool as orca
from strategies.venues import whirlpool_math as wm
from strategies.venues.errors import QuoteError
from strategies.venues.spl import TOKEN_2022_PROGRAM_ID

U64_MAX = (1 << 64) - 1


@pytest.fixture(scope="module")
def svm() -> WhirlpoolSvm:
    return WhirlpoolSvm()


def assert_refused(
    svm: WhirlpoolSvm, case: Case, before: dict[Pubkey, bytes | None], out: TxOutcome, code: int
) -> None:
    assert not out.ok, "the program accepted a swap it must refuse"
    assert out.custom_error == code, (E(code).name, out.error, out.logs[-3:])
    assert svm.snapshot(case) == before, "state moved on a failed swap"


def assert_settled(svm: WhirlpoolSvm, case: Case, before: dict[str, int], q: orca.WhirlpoolQuote) -> None:
    assert balances(svm, case) == expected_balances(before, q.amount_a, q.amount_b, q.a_to_b)
    pool = svm.whirlpool(case)
    assert (pool.sqrt_price, pool.tick_current_index, pool.liquidity) == (
        q.next_sqrt_price, q.next_tick_index, q.next_liquidity,
    )  # fmt: skip


def simple_pool(svm: WhirlpoolSvm, a_to_b: bool, **kw: Any) -> Case:
    """A ts-64 pool at tick ~10 with three positions whose ticks sit in several arrays."""
    mint_a, mint_b = sorted([Pubkey.new_unique(), Pubkey.new_unique()], key=bytes)
    args: dict[str, Any] = {
        "mint_a": mint_a, "mint_b": mint_b, "tick_spacing": 64, "sqrt_price": wm.sqrt_price_from_tick_index(10),
        "positions": [wa.Position(-11264, 11264, 10**12), wa.Position(-640, 640, 5 * 10**11),
                      wa.Position(-5952, 3200, 10**11)],
        "fee_growth_global_a": 5 << 64, "fee_growth_global_b": 9 << 64,
        "vault_a_amount": 0 if a_to_b else U64_MAX, "vault_b_amount": U64_MAX if a_to_b else 0,
    }  # fmt: skip
    args.update(kw)
    setup = wa.make_pool(**args)
    return svm.seed(setup, user_a=U64_MAX if a_to_b else 0, user_b=0 if a_to_b else U64_MAX)


# --- slippage -----------------------------------------------------------------------------------


def test_slippage_thresholds_are_exact_at_the_boundary(svm: WhirlpoolSvm) -> None:
    rng = random.Random(7)
    checked = 0
    while checked < 120:
        a_to_b, is_input = rng.random() < 0.5, rng.random() < 0.5
        case, _ = random_case(svm, rng, a_to_b)
        amount = rng.randrange(1, 10) * 10 ** rng.randrange(3, 14)
        q = svm.quote(case, amount, a_to_b, is_input)
        if isinstance(q, QuoteError) or q.amount_out == 0:
            continue
        # One unit past the quote: refused with the real code, nothing moves.
        past = q.amount_out + 1 if is_input else q.amount_in - 1
        before = svm.snapshot(case)
        out = svm.send_swap(case, amount=amount, a_to_b=a_to_b, is_input=is_input, threshold=past)
        assert_refused(
            svm, case, before, out, E.AMOUNT_OUT_BELOW_MINIMUM if is_input else E.AMOUNT_IN_ABOVE_MAXIMUM
        )
        # Exactly at the quote: settles as quoted.
        at = q.amount_out if is_input else q.amount_in
        bal = balances(svm, case)
        out = svm.send_swap(case, amount=amount, a_to_b=a_to_b, is_input=is_input, threshold=at)
        assert out.ok, out.logs[-3:]
        assert_settled(svm, case, bal, q)
        checked += 1


# --- sqrt price limit ---------------------------------------------------------------------------


@pytest.mark.parametrize("a_to_b", [True, False])
def test_sqrt_price_limit_bounds_and_direction(svm: WhirlpoolSvm, a_to_b: bool) -> None:
    case = simple_pool(svm, a_to_b)
    price = svm.whirlpool(case).sqrt_price
    bad = {
        # outside [MIN, MAX] by one
        (wm.MIN_SQRT_PRICE_X64 - 1 if a_to_b else wm.MAX_SQRT_PRICE_X64 + 1): E.SQRT_PRICE_OUT_OF_BOUNDS,
        # one unit on the wrong side of the current price
        (price + 1 if a_to_b else price - 1): E.INVALID_SQRT_PRICE_LIMIT_DIRECTION,
    }
    for limit, code in bad.items():
        for is_input in (True, False):
            before = svm.snapshot(case)
            out = svm.send_swap(case, amount=10**6, a_to_b=a_to_b, is_input=is_input, sqrt_price_limit=limit)
            assert_refused(svm, case, before, out, code)
    # Exactly at the bound, then exactly at the (new) current price: accepted.
    for at_price in (False, True):
        limit = (
            svm.whirlpool(case).sqrt_price
            if at_price
            else (wm.MIN_SQRT_PRICE_X64 if a_to_b else wm.MAX_SQRT_PRICE_X64)
        )
        q = svm.quote(case, 10**6, a_to_b, True, limit)
        bal = balances(svm, case)
        out = svm.send_swap(case, amount=10**6, a_to_b=a_to_b, is_input=True, sqrt_price_limit=limit)
        assert out.ok, out.logs[-3:]
        assert_settled(svm, case, bal, q)
    # The last swap had limit == price: it swapped nothing and moved nothing.
    assert q.amount_in == q.amount_out == 0


@pytest.mark.parametrize("a_to_b", [True, False])
def test_limit_stops_the_swap_at_the_limit_and_exact_out_refuses_partial_fills(
    svm: WhirlpoolSvm, a_to_b: bool
) -> None:
    case = simple_pool(svm, a_to_b)
    pool = svm.whirlpool(case)
    limit_tick = -700 if a_to_b else 700  # past the initialized tick at -640 / 640
    limit = wm.sqrt_price_from_tick_index(limit_tick)
    for is_input in (True, False):
        c = simple_pool(svm, a_to_b)
        q = svm.quote(c, 10**15, a_to_b, is_input, limit)
        assert q.next_sqrt_price == limit and q.ticks_crossed == 1
        bal = balances(svm, c)
        out = svm.send_swap(c, amount=10**15, a_to_b=a_to_b, is_input=is_input, sqrt_price_limit=limit)
        assert out.ok, out.logs[-3:]
        assert_settled(svm, c, bal, q)
        assert svm.whirlpool(c).sqrt_price == limit
    # The same exact-out amount without a limit runs past the supplied tick arrays...
    before = svm.snapshot(case)
    out = svm.send_swap(case, amount=10**15, a_to_b=a_to_b, is_input=False)
    assert_refused(svm, case, before, out, E.TICK_ARRAY_SEQUENCE_INVALID_INDEX)
    # ...and near the end of the price range it cannot be filled: a partial fill is refused.
    edge = simple_pool(
        svm, a_to_b, sqrt_price=wm.sqrt_price_from_tick_index(-443000 if a_to_b else 443000), positions=[],
        liquidity=1000,
    )  # fmt: skip
    assert isinstance(svm.quote(edge, 10**6, a_to_b, False), QuoteError)
    before = svm.snapshot(edge)
    out = svm.send_swap(edge, amount=10**6, a_to_b=a_to_b, is_input=False)
    assert_refused(svm, edge, before, out, E.PARTIAL_FILL_ERROR)
    assert pool.liquidity == 10**12 + 5 * 10**11 + 10**11


def test_zero_amount_is_refused(svm: WhirlpoolSvm) -> None:
    case = simple_pool(svm, True)
    before = svm.snapshot(case)
    assert_refused(
        svm, case, before, svm.send_swap(case, amount=0, a_to_b=True, is_input=True), E.ZERO_TRADABLE_AMOUNT
    )


# --- swap_v2 ------------------------------------------------------------------------------------


def test_swap_v2_settles_exactly_like_swap() -> None:
    """The same random states on two chains: swap on one, swap_v2 on the other; identical results."""
    rng = random.Random(23)
    one, two = WhirlpoolSvm(), WhirlpoolSvm()
    compared = 0
    for _ in range(150):
        a_to_b, is_input = rng.random() < 0.5, rng.random() < 0.5
        case1, _ = random_case(one, rng, a_to_b)
        case2 = two.seed(case1.setup, user_a=U64_MAX if a_to_b else 0, user_b=0 if a_to_b else U64_MAX)
        amount = rng.randrange(1, 10) * 10 ** rng.randrange(3, 16)
        out1 = one.send_swap(case1, amount=amount, a_to_b=a_to_b, is_input=is_input)
        out2 = two.send_swap(case2, amount=amount, a_to_b=a_to_b, is_input=is_input, v2=True)
        assert (out1.ok, out1.custom_error) == (out2.ok, out2.custom_error), (out1.error, out2.error)
        shared = [case1.pool, case1.setup.vault_a, case1.setup.vault_b, *case1.setup.tick_arrays.values()]
        assert [one.data(k) for k in shared] == [two.data(k) for k in shared]
        assert (one.token_amount(case1.user_a), one.token_amount(case1.user_b)) == (
            two.token_amount(case2.user_a), two.token_amount(case2.user_b),
        )  # fmt: skip
        compared += out1.ok
    assert compared >= 100


def test_swap_v2_supplemental_tick_arrays_and_any_order(svm: WhirlpoolSvm) -> None:
    """The program matches arrays by start index: static slots in any order, or supplied as remaining accounts."""
    for a_to_b in (True, False):
        q = svm.quote(simple_pool(svm, a_to_b), 6 * 10**11, a_to_b, True)
        assert q.ticks_crossed >= 2
        for layout in ("reversed", "supplemental"):
            case = simple_pool(svm, a_to_b)
            accs = svm.swap_accounts(case, a_to_b)
            arrays = (accs.tick_array_0, accs.tick_array_1, accs.tick_array_2)
            supplemental: tuple[Pubkey, ...] = ()
            if layout == "reversed":
                accs = replace(accs, tick_array_0=arrays[2], tick_array_1=arrays[1], tick_array_2=arrays[0])
            else:  # the static slots all hold an array of the wrong direction; the right ones come after
                wrong = svm.swap_accounts(case, not a_to_b).tick_array_2
                accs = replace(accs, tick_array_0=wrong, tick_array_1=wrong, tick_array_2=wrong)
                supplemental = arrays
            bal = balances(svm, case)
            ix = svm.swap_ix(case, amount=6 * 10**11, a_to_b=a_to_b, is_input=True, v2=True, accounts=accs,
                             supplemental=supplemental)  # fmt: skip
            out = svm.send([ix], [case.payer])
            assert out.ok, (layout, out.logs[-3:])
            assert_settled(svm, case, bal, q)


def with_data(ix: Instruction, data: bytes, extra: list[AccountMeta] | None = None) -> Instruction:
    return Instruction(ix.program_id, data, list(ix.accounts) + (extra or []))


def test_swap_v2_remaining_accounts_info_is_validated(svm: WhirlpoolSvm) -> None:
    case = simple_pool(svm, True)
    base = svm.swap_ix(case, amount=10**6, a_to_b=True, is_input=True, v2=True)
    head = bytes(base.data)[:42]
    extra = [AccountMeta(Pubkey.new_unique(), False, True) for _ in range(4)]

    def info(*slices: tuple[int, int]) -> bytes:
        return head + b"\x01" + struct.pack("<I", len(slices)) + b"".join(bytes(s) for s in slices)

    cases = {
        "missing option byte": (head, [], E.INSTRUCTION_DID_NOT_DESERIALIZE),
        "unknown accounts type": (info((13, 0)), [], E.INSTRUCTION_DID_NOT_DESERIALIZE),
        "type swap_v2 does not take": (info((2, 0)), [], E.REMAINING_ACCOUNTS_INVALID_SLICE),
        "more accounts than passed": (info((6, 2)), extra[:1], E.REMAINING_ACCOUNTS_INSUFFICIENT),
        "four supplemental arrays": (info((6, 4)), extra, E.TOO_MANY_SUPPLEMENTAL_TICK_ARRAYS),
        "the same type twice": (
            info((6, 1), (6, 1)),
            extra[:2],
            E.REMAINING_ACCOUNTS_DUPLICATED_ACCOUNTS_TYPE,
        ),
    }
    for name, (data, accounts, code) in cases.items():
        before = svm.snapshot(case)
        out = svm.send([with_data(base, data, accounts)], [case.payer])
        assert out.custom_error == code, (name, out.error, out.logs[-2:])
        assert svm.snapshot(case) == before, name
    # Transfer-hook slices of length 0 and an explicit empty supplemental slice are accepted.
    q = svm.quote(case, 10**6, True, True)
    bal = balances(svm, case)
    out = svm.send([with_data(base, info((0, 0), (1, 0), (6, 0)))], [case.payer])
    assert out.ok, out.logs[-3:]
    assert_settled(svm, case, bal, q)


# --- account checks (Anchor's order and codes) --------------------------------------------------


def mutate(ix: Instruction, index: int, **meta: Any) -> Instruction:
    metas = list(ix.accounts)
    old = metas[index]
    metas[index] = AccountMeta(meta.get("pubkey", old.pubkey), meta.get("is_signer", old.is_signer),
                               meta.get("is_writable", old.is_writable))  # fmt: skip
    return Instruction(ix.program_id, bytes(ix.data), metas)


def test_swap_account_checks_return_the_real_codes(svm: WhirlpoolSvm) -> None:
    def fresh() -> tuple[Case, Instruction]:
        case = simple_pool(svm, True)
        return case, svm.swap_ix(case, amount=10**6, a_to_b=True, is_input=True)

    other = simple_pool(svm, True)  # a second pool: its tick arrays belong to another whirlpool
    other_array = svm.swap_accounts(other, True).tick_array_0
    stranger = Pubkey.new_unique()
    checks: dict[str, tuple[Any, int]] = {
        "token program is not SPL Token": (lambda ix, c: mutate(ix, 0, pubkey=orca.MEMO_PROGRAM_ID), E.INVALID_PROGRAM_ID),
        "authority did not sign": (lambda ix, c: mutate(ix, 1, pubkey=stranger, is_signer=False), E.ACCOUNT_NOT_SIGNER),
        "whirlpool read-only": (lambda ix, c: mutate(ix, 2, is_writable=False), E.CONSTRAINT_MUT),
        "whirlpool is a tick array": (lambda ix, c: mutate(ix, 2, pubkey=other_array), E.ACCOUNT_DISCRIMINATOR_MISMATCH),
        "missing whirlpool": (lambda ix, c: mutate(ix, 2, pubkey=stranger), E.ACCOUNT_NOT_INITIALIZED),
        "owner account of the other mint": (lambda ix, c: mutate(ix, 3, pubkey=c.user_b), E.CONSTRAINT_RAW),
        "vaults swapped": (lambda ix, c: mutate(ix, 4, pubkey=c.setup.vault_b), E.CONSTRAINT_ADDRESS),
        "vault read-only": (lambda ix, c: mutate(ix, 6, is_writable=False), E.CONSTRAINT_MUT),
        "tick array read-only": (lambda ix, c: mutate(ix, 8, is_writable=False), E.CONSTRAINT_MUT),
        "tick array of another pool": (lambda ix, c: mutate(ix, 7, pubkey=other_array),
                                       E.DIFFERENT_WHIRLPOOL_TICK_ARRAY_ACCOUNT),
        "tick array owned by another program": (lambda ix, c: mutate(ix, 7, pubkey=c.user_a),
                                                E.ACCOUNT_OWNED_BY_WRONG_PROGRAM),
        "no array for the current tick": (lambda ix, c: mutate(mutate(mutate(ix, 7, pubkey=stranger), 8, pubkey=stranger),
                                                              9, pubkey=stranger), E.INVALID_TICK_ARRAY_SEQUENCE),
        "oracle not at its PDA": (lambda ix, c: mutate(ix, 10, pubkey=stranger), E.CONSTRAINT_SEEDS),
        "too few accounts": (lambda ix, c: Instruction(ix.program_id, bytes(ix.data), list(ix.accounts)[:10]),
                             E.ACCOUNT_NOT_ENOUGH_KEYS),
        "short data": (lambda ix, c: Instruction(ix.program_id, bytes(ix.data)[:41], list(ix.accounts)),
                       E.INSTRUCTION_DID_NOT_DESERIALIZE),
        "unknown instruction": (lambda ix, c: Instruction(ix.program_id, bytes(8) + bytes(ix.data)[8:],
                                                          list(ix.accounts)), E.INSTRUCTION_FALLBACK_NOT_FOUND),
    }  # fmt: skip
    for name, (change, code) in checks.items():
        case, ix = fresh()
        before = svm.snapshot(case)
        out = svm.send([change(ix, case)], [case.payer])
        assert out.custom_error == code, (name, E(code).name, out.error, out.logs[-3:])
        assert svm.snapshot(case) == before, name


def test_pool_states_the_program_refuses(svm: WhirlpoolSvm) -> None:
    # Adaptive-fee pools (fee_tier_index != tick_spacing) are not modelled: refused, like the bot refuses them.
    case = simple_pool(svm, True, fee_tier_index=1025)
    before = svm.snapshot(case)
    out = svm.send_swap(case, amount=10**6, a_to_b=True, is_input=True)
    assert_refused(svm, case, before, out, E.INVALID_FEE_TIER_INDEX)
    # A DynamicTickArray whose bitmap claims more initialized ticks than its data holds.
    case = simple_pool(svm, True, dynamic_arrays=True)
    key = svm.swap_accounts(case, True).tick_array_0
    data = bytearray(svm.data(key) or b"")
    data[44:60] = ((1 << 88) - 1).to_bytes(16, "little")
    svm.put(key, bytes(data), wa.PROGRAM_ID)
    before = svm.snapshot(case)
    out = svm.send_swap(case, amount=10**6, a_to_b=True, is_input=True)
    assert_refused(svm, case, before, out, E.ACCOUNT_DID_NOT_DESERIALIZE)


def test_dynamic_and_fixed_tick_arrays_mix_in_one_swap(svm: WhirlpoolSvm) -> None:
    """The sequence may hold both layouts: the array the swap crosses ticks in rewritten as a DynamicTickArray."""
    for a_to_b in (True, False):
        case = simple_pool(svm, a_to_b)
        accs = svm.swap_accounts(case, a_to_b)
        key = accs.tick_array_1 if a_to_b else accs.tick_array_0  # holds -640 / 640 and 3200
        fixed = orca.decode_fixed_tick_array(svm.data(key) or b"")
        ticks = {
            fixed.start_tick_index + k * 64: wa.TickFields(t.liquidity_net, t.liquidity_gross, t.fee_growth_outside_a,
                                                           t.fee_growth_outside_b, t.reward_growths_outside)
            for k, t in enumerate(fixed.ticks) if t.initialized
        }  # fmt: skip
        assert ticks
        svm.put(key, wa.dynamic_tick_array_data(fixed.start_tick_index, case.pool, ticks, 64), wa.PROGRAM_ID)
        q = svm.quote(case, 6 * 10**11, a_to_b, True)
        assert q.ticks_crossed >= 2
        bal = balances(svm, case)
        out = svm.send_swap(case, amount=6 * 10**11, a_to_b=a_to_b, is_input=True)
        assert out.ok, out.logs[-3:]
        assert_settled(svm, case, bal, q)
        # The crossed tick of the dynamic array flipped its fee growth outside, in place.
        raw = svm.data(key) or b""
        after = orca.decode_dynamic_tick_array(raw)
        assert len(raw) == 60 + 88 + 112 * len(ticks)
        assert any(
            t.fee_growth_outside_a != fixed.ticks[k].fee_growth_outside_a for k, t in enumerate(after.ticks)
        )


def test_uninitialized_tick_array_pdas_act_as_empty_arrays(svm: WhirlpoolSvm) -> None:
    """Arrays that do not exist yet are passed as their (system, empty) PDAs: no initialized ticks there."""
    for a_to_b in (True, False):
        case = simple_pool(svm, a_to_b, positions=[], liquidity=10**12)
        for key in case.setup.tick_arrays.values():
            svm.svm.set_account(key, wa.account(b"", Pubkey.default(), lamports=0))
        pool = svm.whirlpool(case)
        arrays = orca.swap_tick_arrays(pool, {}, a_to_b, case.pool)
        q = orca.quote_swap(pool, arrays, 10**9, a_to_b=a_to_b)
        bal = balances(svm, case)
        out = svm.send_swap(case, amount=10**9, a_to_b=a_to_b, is_input=True)
        assert out.ok, out.logs[-3:]
        assert_settled(svm, case, bal, q)


def as_token_2022(svm: WhirlpoolSvm, case: Case) -> None:
    """Move mint B, vault B and the user's B account to Token-2022 (same base layout, no extensions)."""
    for key in (case.setup.mint_b, case.setup.vault_b, case.user_b):
        data = svm.data(key)
        assert data is not None
        svm.put(key, data, TOKEN_2022_PROGRAM_ID)


def test_swap_v2_moves_token_2022_balances_and_swap_refuses_them(svm: WhirlpoolSvm) -> None:
    for a_to_b in (True, False):
        case = simple_pool(svm, a_to_b)
        as_token_2022(svm, case)
        q = svm.quote(case, 6 * 10**11, a_to_b, True)
        before = svm.snapshot(case)
        out = svm.send_swap(case, amount=6 * 10**11, a_to_b=a_to_b, is_input=True)
        assert_refused(svm, case, before, out, E.ACCOUNT_OWNED_BY_WRONG_PROGRAM)  # swap takes SPL Token only
        accs = svm.swap_accounts(case, a_to_b)
        ix = orca.build_swap_v2_ix(
            accs, token_mint_a=case.setup.mint_a, token_mint_b=case.setup.mint_b, amount=6 * 10**11,
            other_amount_threshold=0, sqrt_price_limit=0, amount_specified_is_input=True, a_to_b=a_to_b,
            token_program_b=TOKEN_2022_PROGRAM_ID,
        )  # fmt: skip
        bal = balances(svm, case)
        out = svm.send([ix], [case.payer])
        assert out.ok, out.logs[-4:]
        assert_settled(svm, case, bal, q)


def test_swap_v2_account_checks(svm: WhirlpoolSvm) -> None:
    checks = {
        "memo program slot": (2, {"pubkey": orca.TOKEN_PROGRAM_ID}, E.INVALID_PROGRAM_ID),
        "token program B is not mint B's owner": (1, {"pubkey": TOKEN_2022_PROGRAM_ID}, E.CONSTRAINT_ADDRESS),
        "mint A is mint B": (5, {"pubkey": None}, E.CONSTRAINT_ADDRESS),
        "tick array read-only": (12, {"is_writable": False}, E.CONSTRAINT_MUT),
        "too few accounts": (None, {}, E.ACCOUNT_NOT_ENOUGH_KEYS),
    }
    for name, (index, change, code) in checks.items():
        case = simple_pool(svm, True)
        ix = svm.swap_ix(case, amount=10**6, a_to_b=True, is_input=True, v2=True)
        if index is None:
            ix = Instruction(ix.program_id, bytes(ix.data), list(ix.accounts)[:14])
        else:
            if change.get("pubkey", 0) is None:
                change = {"pubkey": case.setup.mint_b}
            ix = mutate(ix, index, **change)
        before = svm.snapshot(case)
        out = svm.send([ix], [case.payer])
        assert out.custom_error == code, (name, out.error, out.logs[-3:])
        assert svm.snapshot(case) == before, name
