"""pumpswap.so on LiteSVM: swaps settle exactly as the bot's exact quote, slippage limits are exact,
wrong accounts and a missing signer are refused, and nothing moves on failure.

Oracle: strategies.venues.pumpswap (decoders, fee selection, quotes and builders, themselves checked
against the official SDK in tests/venues/test_pumpswap_sdk_vectors.py); this file has no quote
arithmetic of its own. One LiteSVM per module hosts every case (each case writes a fresh pool).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from pumpswap_env import (
    Case,
    Chain,
    View,
    buy_ix,
    exact_quote_in_ix,
    expected_after,
    read_view,
    seed_case,
    sell_ix,
    snapshot,
)
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from localnet.programs import pumpswap_accounts as pa
from localnet.programs.cpmm_accounts import account, token_account_data
from localnet.programs.pumpswap_errors import PumpSwapError as E
from strategies.venues import pumpswap as ps
from strategies.venues import spl
from strategies.venues.errors import (
    BuyMoreBaseAmountThanPoolReserves,
    BuyNotEnoughQuoteTokensToCoverFees,
    InsufficientLiquidity,
    InsufficientRealQuoteReserves,
    InvalidInput,
    PumpSwapOverflow,
    VenueError,
    ZeroBaseAmount,
    ZeroQuoteAmount,
)

PROGRAMS = Path(__file__).resolve().parents[2] / "localnet" / "programs"
U64 = (1 << 64) - 1
TOKEN_OVERFLOW = 14  # SPL Token's TokenError::Overflow: a destination balance would pass u64

# Program error for each refusal of the exact quote.
EXPECTED_CODE: dict[type[VenueError], set[int]] = {
    ZeroBaseAmount: {E.ZERO_BASE_AMOUNT},
    ZeroQuoteAmount: {E.ZERO_QUOTE_AMOUNT},
    BuyMoreBaseAmountThanPoolReserves: {E.BUY_MORE_BASE_AMOUNT_THAN_POOL_RESERVES},
    BuyNotEnoughQuoteTokensToCoverFees: {E.BUY_NOT_ENOUGH_QUOTE_TOKENS_TO_COVER_FEES},
    InsufficientRealQuoteReserves: {E.INSUFFICIENT_REAL_QUOTE_RESERVES},
    InsufficientLiquidity: {E.DIVISION_BY_ZERO},
    PumpSwapOverflow: {E.OVERFLOW, TOKEN_OVERFLOW},
    InvalidInput: {E.OVERFLOW},  # sell fees above the output (checked subtraction)
}


@pytest.fixture(scope="module")
def chain() -> Chain:
    return Chain()


def test_program_constants_are_the_real_addresses() -> None:
    """The pubkeys pumpswap.c (and anchor_spl.h) hard-code equal the ones strategies.venues derives."""
    source = (PROGRAMS / "pumpswap.c").read_text() + (PROGRAMS / "anchor_spl.h").read_text()
    expected = {
        "TOKEN_PROGRAM": spl.TOKEN_PROGRAM_ID, "TOKEN_2022_PROGRAM": spl.TOKEN_2022_PROGRAM_ID,
        "ATA_PROGRAM": spl.ASSOCIATED_TOKEN_PROGRAM_ID, "FEE_PROGRAM": ps.FEE_PROGRAM_ID,
        "PUMP_PROGRAM": ps.PUMP_PROGRAM_ID, "GLOBAL_CONFIG": ps.global_config_pda(),
        "EVENT_AUTHORITY": ps.event_authority_pda(), "GLOBAL_VOLUME_ACCUMULATOR": ps.global_volume_accumulator_pda(),
        "FEE_CONFIG": ps.fee_config_pda(), "WSOL_MINT": spl.WSOL_MINT, "NATIVE_MINT_2022": ps.NATIVE_MINT_2022,
        "USDC_MINT": ps.USDC_MINT,
    }  # fmt: skip
    for name, key in expected.items():
        m = re.search(
            rf"SolPubkey {name} __attribute__\(\(aligned\(8\)\)\) = \{{\{{(.*?)\}}\}};", source, re.S
        )
        assert m is not None, name
        assert bytes(int(x) for x in m.group(1).split(",")) == bytes(key), name
    assert (pa.global_config_address(), pa.fee_config_address()) == (
        ps.global_config_pda(),
        ps.fee_config_pda(),
    )


def log_uniform(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Integers spread over magnitudes (bit length uniform), so small and huge values both appear."""
    return st.integers(lo.bit_length(), hi.bit_length()).flatmap(
        lambda b: st.integers(max(lo, (1 << b) >> 1), min(hi, (1 << b) - 1))
    )


RESERVE = log_uniform(1, 1 << 62)
SUPPLY = st.one_of(st.just(10**15), log_uniform(1, 1 << 62))
BPS_FEE_CONFIGS = {
    "mainnet": pa.fee_config_data(),
    "exotic": pa.fee_config_data(flat=(30, 10, 0), exotic=(40, 10, 25), size=4097),
    "pre_stable": pa.fee_config_data(flat=(30, 0, 0), size=2512),
    # calculate_fee_tier's other rules: caps below a first threshold above 0, and tiers out of order.
    "offset": pa.fee_config_data(tiers=[(t + 10**11, f) for t, f in pa.MAINNET_FEE_TIERS]),
    "unsorted": pa.fee_config_data(
        tiers=[
            (5 * 10**11, (20, 5, 95)),
            (10**9, (2, 93, 30)),
            (4 * 10**12, (20, 5, 50)),
            (3 * 10**10, (10, 10, 10)),
        ],
        size=2512,
    ),
}
THRESHOLDS = [t for t, _ in pa.MAINNET_FEE_TIERS]


@st.composite
def pool_case(draw: st.DrawFn) -> dict[str, Any]:
    """A pool: kind (canonical or not), quote mint, flags, fee schedule, reserves (often sized so the
    market cap lands in a chosen fee tier) and base mint supply."""
    supply = draw(SUPPLY)
    mayhem = draw(st.integers(0, 9)) == 0
    base = draw(log_uniform(1, 1 << 62))
    quote_kind = draw(st.sampled_from(["wsol", "wsol", "usdc", "exotic"]))
    if draw(st.booleans()):
        cap = draw(st.sampled_from(THRESHOLDS)) + draw(st.integers(0, 10**11))
        basis = 10**15 if mayhem else supply
        quote = max(1, min(-(-cap * base // basis), 1 << 62))
    else:
        quote = draw(RESERVE)
    vqr_kind = draw(st.integers(0, 9))
    vqr = (
        0
        if vqr_kind < 7
        else (draw(st.integers(1, quote * 2)) if vqr_kind < 9 else -draw(st.integers(0, quote - 1)))
    )
    return {
        "base_reserve": base, "quote_reserve": quote, "base_supply": supply,
        "quote_mint": {"wsol": pa.WSOL_MINT, "usdc": pa.USDC_MINT, "exotic": Pubkey.new_unique()}[quote_kind],
        "canonical": draw(st.integers(0, 4)) > 0,
        "coin_creator": None if draw(st.integers(0, 4)) else Pubkey.default(),
        "is_mayhem_mode": mayhem, "is_cashback_coin": draw(st.integers(0, 9)) == 0, "virtual_quote_reserves": vqr,
        "creator_fee_bps": draw(st.sampled_from([0, 0, 0, 1, 75, 300])),
        "global_fields": pa.GlobalFields(
            buyback_basis_points=draw(st.sampled_from([0, 5_000, 10_000, 3_333])),
            creator_fee_configurable=draw(st.booleans()),
        ),
        "fee_config": BPS_FEE_CONFIGS[draw(st.sampled_from(["mainnet", "mainnet", *BPS_FEE_CONFIGS]))],
        "base_token_program": draw(st.sampled_from([pa.TOKEN_PROGRAM_ID, pa.TOKEN_2022_PROGRAM_ID])),
    }  # fmt: skip


PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
BOUNDARY = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def _event(name: str) -> None:
    if currently_in_test_context():
        event(name)


def refused(
    chain: Chain, case: Case, ix: Instruction, codes: set[int], signers: list[Keypair] | None = None
) -> None:
    before = snapshot(chain, case)
    pool_before = chain.data(case.pool)
    out = chain.send([ix], signers or [case.user])
    assert not out.ok, f"the program accepted a swap expected to fail with {codes}"
    assert out.custom_error in codes, (out.custom_error, codes, out.error, out.logs[-4:])
    assert snapshot(chain, case) == before and chain.data(case.pool) == pool_before, (
        "state moved on a failure"
    )
    _event(f"refused with {out.custom_error}")


def settled(chain: Chain, case: Case, view: View, ix: Instruction, quote: ps.PumpBuy | ps.PumpSell) -> None:
    before = snapshot(chain, case)
    out = chain.send([ix], [case.user])
    assert out.ok, (out.error, out.logs[-6:])
    assert snapshot(chain, case) == expected_after(before, view, quote, case)
    _event("settled as quoted")


def _fund_quote(chain: Chain, case: Case, amount: int) -> None:
    data = token_account_data(case.setup.fields.quote_mint, case.user.pubkey(), amount)
    chain.write({case.user_quote: account(data, case.setup.quote_token_program)})


def _seed(chain: Chain, c: dict[str, Any], user_base: int, user_quote: int) -> tuple[Case, View]:
    case = seed_case(chain, random.Random(c["base_reserve"]), user_base=user_base, user_quote=user_quote, **c)
    return case, read_view(chain, case)


@PROPERTY
@given(c=pool_case(), data=st.data())
def test_buy_settles_exactly_as_quoted(chain: Chain, c: dict[str, Any], data: st.DataObject) -> None:
    inside = log_uniform(1, c["base_reserve"] - 1) if c["base_reserve"] > 1 else st.just(1)
    base_out = data.draw(st.one_of(inside, inside, inside, log_uniform(0, U64)), label="base_out")
    case, view = _seed(chain, c, 0, 0)
    try:
        q = ps.buy_base_output(
            base_out, view.base_reserve, view.quote_reserve, view.fees, view.pool.virtual_quote_reserves
        )
    except VenueError as err:
        # The user holds all a token account can, so only the refusal itself can fail the swap.
        _fund_quote(chain, case, U64)
        refused(chain, case, buy_ix(case, view, base_out, U64), EXPECTED_CODE[type(err)])
        return
    # The user holds exactly what the quote asks; max_quote_amount_in exactly at the quote passes.
    _fund_quote(chain, case, q.user_quote_amount_in)
    settled(chain, case, view, buy_ix(case, view, base_out, q.user_quote_amount_in), q)


@PROPERTY
@given(c=pool_case(), data=st.data())
def test_buy_exact_quote_in_settles_exactly_as_quoted(
    chain: Chain, c: dict[str, Any], data: st.DataObject
) -> None:
    spend = data.draw(
        st.one_of(log_uniform(0, 1000), log_uniform(1, c["quote_reserve"] * 4), log_uniform(1, U64))
    )
    case, view = _seed(chain, c, 0, spend)
    try:
        q = ps.buy_exact_quote_in(
            spend, view.base_reserve, view.quote_reserve, view.fees, view.pool.virtual_quote_reserves
        )
    except VenueError as err:
        refused(chain, case, exact_quote_in_ix(case, view, spend, 0), EXPECTED_CODE[type(err)])
        return
    settled(chain, case, view, exact_quote_in_ix(case, view, spend, q.base_amount_out), q)


@PROPERTY
@given(c=pool_case(), data=st.data())
def test_sell_settles_exactly_as_quoted(chain: Chain, c: dict[str, Any], data: st.DataObject) -> None:
    base_in = data.draw(
        st.one_of(log_uniform(0, 1000), log_uniform(1, c["base_reserve"] * 4), log_uniform(1, U64))
    )
    case, view = _seed(chain, c, base_in, 0)
    try:
        q = ps.sell_base_input(
            base_in, view.base_reserve, view.quote_reserve, view.fees, view.pool.virtual_quote_reserves
        )
    except VenueError as err:
        refused(chain, case, sell_ix(case, view, base_in, 0), EXPECTED_CODE[type(err)])
        return
    settled(chain, case, view, sell_ix(case, view, base_in, q.user_quote_amount_out), q)


@BOUNDARY
@given(c=pool_case(), amount=log_uniform(1, 1 << 40))
def test_slippage_limits_trigger_one_unit_past_the_quote(
    chain: Chain, c: dict[str, Any], amount: int
) -> None:
    r = (c["base_reserve"], c["quote_reserve"])
    case, view = _seed(chain, c, amount, U64 >> 2)
    args = (view.base_reserve, view.quote_reserve, view.fees, view.pool.virtual_quote_reserves)
    try:
        b = ps.buy_base_output(min(amount, r[0] - 1) or 1, *args)
        refused(
            chain,
            case,
            buy_ix(case, view, b.base_amount_out, b.user_quote_amount_in - 1),
            {E.EXCEEDED_SLIPPAGE},
        )
    except VenueError:
        pass
    try:
        e = ps.buy_exact_quote_in(amount, *args)
        refused(
            chain,
            case,
            exact_quote_in_ix(case, view, amount, e.base_amount_out + 1),
            {E.BUY_SLIPPAGE_BELOW_MIN_BASE_AMOUNT_OUT},
        )
    except VenueError:
        pass
    try:
        s = ps.sell_base_input(amount, *args)
        refused(chain, case, sell_ix(case, view, amount, s.user_quote_amount_out + 1), {E.EXCEEDED_SLIPPAGE})
    except VenueError:
        pass


# --- account checks: one good swap, mutated ---------------------------------------------------------


def _good(chain: Chain, **pool: Any) -> tuple[Case, View, Instruction]:
    args: dict[str, Any] = {"base_reserve": 10**14, "quote_reserve": 10**11, **pool}
    case, view = _seed(chain, args, 10**12, 10**12)
    return case, view, buy_ix(case, view, 10**9, 10**12)


def _replace(ix: Instruction, i: int, key: Pubkey) -> Instruction:
    metas = list(ix.accounts)
    metas[i] = AccountMeta(key, is_signer=metas[i].is_signer, is_writable=metas[i].is_writable)
    return Instruction(ix.program_id, bytes(ix.data), metas)


def _flags(
    ix: Instruction, i: int, *, signer: bool | None = None, writable: bool | None = None
) -> Instruction:
    metas = list(ix.accounts)
    m = metas[i]
    metas[i] = AccountMeta(m.pubkey, is_signer=m.is_signer if signer is None else signer,
                           is_writable=m.is_writable if writable is None else writable)  # fmt: skip
    return Instruction(ix.program_id, bytes(ix.data), metas)


def _swap(ix: Instruction, i: int, j: int) -> Instruction:
    metas = list(ix.accounts)
    a, b = metas[i], metas[j]
    metas[i] = AccountMeta(b.pubkey, is_signer=a.is_signer, is_writable=a.is_writable)
    metas[j] = AccountMeta(a.pubkey, is_signer=b.is_signer, is_writable=b.is_writable)
    return Instruction(ix.program_id, bytes(ix.data), metas)


def test_the_unmutated_swap_settles(chain: Chain) -> None:
    case, view, ix = _good(chain)
    q = ps.buy_base_output(10**9, view.base_reserve, view.quote_reserve, view.fees)
    settled(chain, case, view, ix, q)


MUTATIONS: list[tuple[str, Callable[[Case, Instruction], Instruction], int]] = [
    ("user not signer", lambda c, ix: _flags(ix, 1, signer=False), E.ACCOUNT_NOT_SIGNER),
    ("pool read-only", lambda c, ix: _flags(ix, 0, writable=False), E.CONSTRAINT_MUT),
    ("pool is another account", lambda c, ix: _replace(ix, 0, c.setup.global_config), E.ACCOUNT_DISCRIMINATOR_MISMATCH),
    ("global_config elsewhere", lambda c, ix: _replace(ix, 2, Pubkey.new_unique()), E.CONSTRAINT_SEEDS),
    ("base and quote mints swapped", lambda c, ix: _swap(ix, 3, 4), E.INVALID_BASE_MINT),
    ("user token accounts swapped", lambda c, ix: _swap(ix, 5, 6), E.CONSTRAINT_TOKEN_MINT),
    ("pool vaults swapped", lambda c, ix: _swap(ix, 7, 8), E.INVALID_POOL_BASE_TOKEN_ACCOUNT),
    ("user pays from the pool's vault", lambda c, ix: _replace(ix, 6, c.setup.fields.pool_quote_token_account), E.CONSTRAINT_TOKEN_OWNER),
    ("protocol fee recipient unknown", lambda c, ix: _replace(ix, 9, Pubkey.new_unique()), E.INVALID_PROTOCOL_FEE_RECIPIENT),
    ("protocol fee paid to the creator vault", lambda c, ix: _replace(ix, 10, c.setup.creator_vault_ata), E.CONSTRAINT_TOKEN_OWNER),
    ("token program is the system program", lambda c, ix: _replace(ix, 12, Pubkey.default()), E.INVALID_PROGRAM_ID),
    ("event authority elsewhere", lambda c, ix: _replace(ix, 15, Pubkey.new_unique()), E.CONSTRAINT_SEEDS),
    ("creator vault authority elsewhere", lambda c, ix: _replace(ix, 18, Pubkey.new_unique()), E.CONSTRAINT_SEEDS),
    ("user volume accumulator of someone else", lambda c, ix: _replace(ix, 20, pa.user_volume_accumulator(Pubkey.new_unique())), E.CONSTRAINT_SEEDS),
    ("fee_config elsewhere", lambda c, ix: _replace(ix, 21, Pubkey.new_unique()), E.CONSTRAINT_SEEDS),
    ("fee_program elsewhere", lambda c, ix: _replace(ix, 22, Pubkey.new_unique()), E.CONSTRAINT_ADDRESS),
    ("pool-v2 elsewhere", lambda c, ix: _replace(ix, 23, Pubkey.new_unique()), E.INVALID_POOL_V2),
    ("buyback recipient unknown", lambda c, ix: _replace(ix, 24, Pubkey.new_unique()), E.BUYBACK_FEE_RECIPIENT_NOT_AUTHORIZED),
    ("buyback paid to the protocol account", lambda c, ix: _replace(ix, 25, ix.accounts[10].pubkey), E.CONSTRAINT_TOKEN_OWNER),
    ("remaining accounts missing", lambda c, ix: Instruction(ix.program_id, bytes(ix.data), list(ix.accounts)[:23]), E.INVALID_POOL_V2),
    ("named accounts missing", lambda c, ix: Instruction(ix.program_id, bytes(ix.data), list(ix.accounts)[:20]), E.ACCOUNT_NOT_ENOUGH_KEYS),
    ("arguments cut", lambda c, ix: Instruction(ix.program_id, bytes(ix.data)[:20], list(ix.accounts)), E.INSTRUCTION_DID_NOT_DESERIALIZE),
    ("unknown instruction", lambda c, ix: Instruction(ix.program_id, b"\x01" * 25, list(ix.accounts)), E.INSTRUCTION_FALLBACK_NOT_FOUND),
]  # fmt: skip


@pytest.mark.parametrize(("name", "mutate", "code"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_wrong_accounts_are_refused_and_nothing_moves(
    chain: Chain, name: str, mutate: Callable[[Case, Instruction], Instruction], code: int
) -> None:
    case, _view, ix = _good(chain)
    signers = [case.user]
    mutated = mutate(case, ix)
    if name == "user not signer":
        payer = Keypair()  # someone else pays, the user's signature is missing
        chain.write({payer.pubkey(): account(b"", Pubkey.default(), lamports=10**10)})
        signers = [payer]
    refused(chain, case, mutated, {code}, signers)


def test_a_stranger_cannot_sell_from_the_users_account(chain: Chain) -> None:
    case, view, _ix = _good(chain)
    thief = Keypair()
    chain.write({thief.pubkey(): account(b"", Pubkey.default(), lamports=10**10)})
    ix = sell_ix(case, view, 10**6, 0)
    refused(
        chain,
        case,
        _replace(_flags(ix, 1, signer=True), 1, thief.pubkey()),
        {E.CONSTRAINT_TOKEN_OWNER},
        [thief],
    )


def test_disabled_swaps_and_unmodelled_mints_are_refused(chain: Chain) -> None:
    for flags, make_ix, code in ((8, "buy", E.DISABLED_BUY), (16, "sell", E.DISABLED_SELL)):
        case, view, ix = _good(chain, global_fields=pa.GlobalFields(disable_flags=flags))
        refused(chain, case, ix if make_ix == "buy" else sell_ix(case, view, 10**6, 0), {code})
    # A Token-2022 base mint carrying a TransferFeeConfig extension.
    case, view, ix = _good(chain, base_token_program=pa.TOKEN_2022_PROGRAM_ID)
    mint = view.pool.base_mint
    base = chain.data(mint)
    ext = (1).to_bytes(2, "little") + (108).to_bytes(2, "little") + bytes(108)
    chain.write({mint: account(base + bytes(165 - len(base)) + b"\x01" + ext, pa.TOKEN_2022_PROGRAM_ID)})
    refused(chain, case, ix, {E.UNSUPPORTED_BASE_MINT})


def test_cashback_coins_pay_the_creator_fee_to_the_users_accumulator(chain: Chain) -> None:
    case, view, ix = _good(chain, is_cashback_coin=True)
    q = ps.buy_base_output(10**9, view.base_reserve, view.quote_reserve, view.fees)
    assert q.coin_creator_fee > 0 and case.cashback_ata is not None
    settled(chain, case, view, ix, q)
    refused(
        chain,
        case,
        Instruction(ix.program_id, bytes(ix.data), list(ix.accounts)[:23]),
        {E.MISSING_CASHBACK_ACCOUNTS},
    )
