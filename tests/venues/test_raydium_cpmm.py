"""Raydium CPMM: real-dump decoding, exact-quote edge cases, tradability, builders (protocols.md §2)."""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.pubkey import Pubkey

from strategies.venues import raydium_cpmm as cpmm
from strategies.venues.errors import (
    AmountCalcOverflow,
    DecodeError,
    InsufficientLiquidity,
    InvalidInput,
    RefusalReason,
    Unmodelled,
    ZeroTradableAmount,
)

# Fixtures live next to the repo (../shared/fixtures), never copied into it.
FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
U64 = (1 << 64) - 1


def _fixture() -> dict:
    return json.loads((FIXTURES / "ipv4sq_raydium_cpmm_pool_Q2sPH.json").read_text())


@pytest.fixture(scope="module")
def real_pool() -> tuple[Pubkey, cpmm.CpmmPool, bytes]:
    fx = _fixture()
    data = base64.b64decode(fx["account_data_base64"])
    return (
        Pubkey.from_string(fx["pool_address"]),
        cpmm.decode_pool(data, Pubkey.from_string(fx["owner"])),
        data,
    )


# --- decoding -------------------------------------------------------------------------------------


def test_real_pool_decodes_to_the_fixture_values(real_pool: tuple[Pubkey, cpmm.CpmmPool, bytes]) -> None:
    _, pool, data = real_pool
    expected = _fixture()["account_data_json"]
    assert len(data) == cpmm.POOL_SIZE == _fixture()["data_len"]
    checked = 0
    for name, entry in expected.items():
        if name == "padding":
            continue
        value = getattr(pool, name)
        if entry["type"] == "pubkey":
            assert value == Pubkey.from_string(entry["data"]), name
        else:
            assert value == int(entry["data"]), name
        checked += 1
    assert checked == 22
    # Fields carved out of the old padding in Aug 2025 read as zero on this older pool (§2.2).
    assert (pool.creator_fee_on, pool.enable_creator_fee) == (0, False)
    assert (pool.creator_fees_token_0, pool.creator_fees_token_1) == (0, 0)
    # Values protocols.md / the fixture README quote for this pool.
    assert pool.amm_config == Pubkey.from_string("D4FPEruKEHrG5TenZ2mpDGEfu1iUvTiqBxvpU8HLBvC2")
    assert (pool.mint_0_decimals, pool.mint_1_decimals, pool.recent_epoch) == (9, 6, 833)
    assert (pool.protocol_fees_token_0, pool.fund_fees_token_0) == (484_814_504, 123_593_244)


def test_real_pool_pdas_match_the_stored_keys(real_pool: tuple[Pubkey, cpmm.CpmmPool, bytes]) -> None:
    address, pool, _ = real_pool
    assert cpmm.observation_pda(address) == pool.observation_key
    assert cpmm.authority_pda() == Pubkey.from_string("GpMZbSM2GgvTKHJirzeGfMFoaZ8UR2X7F4v8vHTvxFbL")
    bump = Pubkey.find_program_address([b"vault_and_lp_mint_auth_seed"], cpmm.PROGRAM_ID)[1]
    assert bump == pool.auth_bump == 253


def test_vault_pda_is_derived_from_pool_and_mint() -> None:
    pool, mint = Pubkey.new_unique(), Pubkey.new_unique()
    expected = Pubkey.find_program_address([b"pool_vault", bytes(pool), bytes(mint)], cpmm.PROGRAM_ID)[0]
    assert cpmm.vault_pda(pool, mint) == expected
    assert cpmm.vault_pda(pool, mint) != cpmm.vault_pda(mint, pool)


def test_reserves_subtract_every_owed_fee(real_pool: tuple[Pubkey, cpmm.CpmmPool, bytes]) -> None:
    _, pool, _ = real_pool
    r0, r1 = cpmm.reserves(pool, 10_000_000_000, 5_000_000_000)
    assert r0 == 10_000_000_000 - 484_814_504 - 123_593_244
    assert r1 == 5_000_000_000 - 286_186_090 - 78_871_511
    with pytest.raises(InsufficientLiquidity):
        cpmm.reserves(pool, 484_814_504, 5_000_000_000)


@pytest.mark.parametrize(
    ("mutate", "owner", "match"),
    [
        (lambda d: d[:-1], cpmm.PROGRAM_ID, "636 bytes"),
        (lambda d: d + b"\x00", cpmm.PROGRAM_ID, "638 bytes"),
        (lambda d: b"\x00" * 8 + d[8:], cpmm.PROGRAM_ID, "discriminator"),
        (lambda d: d, Pubkey.default(), "owner"),
    ],
)
def test_bad_pool_bytes_raise_decode_error(
    real_pool: tuple[Pubkey, cpmm.CpmmPool, bytes], mutate, owner: Pubkey, match: str
) -> None:
    with pytest.raises(DecodeError, match=match):
        cpmm.decode_pool(mutate(real_pool[2]), owner)


def _config_bytes(trade: int, protocol: int, fund: int, creator: int, index: int = 0) -> tuple[bytes, list]:
    protocol_owner, fund_owner = Pubkey.new_unique(), Pubkey.new_unique()
    buf = bytearray(cpmm.CONFIG_SIZE)
    buf[0:8] = cpmm.CONFIG_DISCRIMINATOR
    # Offsets written one by one from protocols.md §2.3, independently of the decoder's format string.
    buf[8] = 254
    buf[9] = 1
    buf[10:12] = index.to_bytes(2, "little")
    buf[12:20] = trade.to_bytes(8, "little")
    buf[20:28] = protocol.to_bytes(8, "little")
    buf[28:36] = fund.to_bytes(8, "little")
    buf[36:44] = (150_000_000).to_bytes(8, "little")
    buf[44:76] = bytes(protocol_owner)
    buf[76:108] = bytes(fund_owner)
    buf[108:116] = creator.to_bytes(8, "little")
    return bytes(buf), [protocol_owner, fund_owner]


def test_amm_config_decodes_each_documented_offset() -> None:
    data, (protocol_owner, fund_owner) = _config_bytes(2500, 120_000, 40_000, 7, index=3)
    config = cpmm.decode_amm_config(data, cpmm.PROGRAM_ID)
    assert config == cpmm.CpmmConfig(
        bump=254,
        disable_create_pool=True,
        index=3,
        trade_fee_rate=2500,
        protocol_fee_rate=120_000,
        fund_fee_rate=40_000,
        create_pool_fee=150_000_000,
        protocol_owner=protocol_owner,
        fund_owner=fund_owner,
        creator_fee_rate=7,
    )


def test_amm_config_rejects_bad_bytes() -> None:
    data, _ = _config_bytes(2500, 120_000, 40_000, 0)
    with pytest.raises(DecodeError, match="discriminator"):
        cpmm.decode_amm_config(cpmm.POOL_DISCRIMINATOR + data[8:], cpmm.PROGRAM_ID)
    with pytest.raises(DecodeError, match="bytes"):
        cpmm.decode_amm_config(data[:200], cpmm.PROGRAM_ID)
    with pytest.raises(DecodeError, match="owner"):
        cpmm.decode_amm_config(data, Pubkey.new_unique())
    bad, _ = _config_bytes(1_000_000, 0, 0, 0)
    with pytest.raises(DecodeError, match="trade_fee_rate"):
        cpmm.decode_amm_config(bad, cpmm.PROGRAM_ID)


def test_observation_head_decodes_pool_id() -> None:
    pool = Pubkey.new_unique()
    buf = bytearray(cpmm.OBSERVATION_SIZE)
    buf[0:8] = cpmm.OBSERVATION_DISCRIMINATOR
    buf[8] = 1
    buf[9:11] = (42).to_bytes(2, "little")
    buf[11:43] = bytes(pool)
    obs = cpmm.decode_observation(bytes(buf), cpmm.PROGRAM_ID)
    assert obs == cpmm.CpmmObservation(initialized=True, observation_index=42, pool_id=pool)
    with pytest.raises(DecodeError):
        cpmm.decode_observation(bytes(buf[:-1]), cpmm.PROGRAM_ID)


# --- exact quotes ---------------------------------------------------------------------------------


def _golden() -> dict:
    return json.loads((FIXTURES / "derived_golden_vectors.json").read_text())["raydium_cpmm"]


def test_derived_golden_vectors_base_input() -> None:
    g = _golden()
    rates = (g["trade_fee_rate"], g["protocol_fee_rate"], g["fund_fee_rate"])
    for case in g["base_input"]:
        if case["amount_out"] == 0:
            # The program's require_gt!(amount_received, 0) rejects what the formula rounds to zero.
            with pytest.raises(ZeroTradableAmount):
                cpmm.swap_base_input(case["amount_in"], g["reserve_in"], g["reserve_out"], *rates)
            continue
        got = cpmm.swap_base_input(case["amount_in"], g["reserve_in"], g["reserve_out"], *rates)
        assert got == cpmm.CpmmSwap(
            case["amount_in"], case["amount_out"], case["trade_fee"], case["protocol_fee"], case["fund_fee"]
        )


def test_derived_golden_vectors_base_output() -> None:
    g = _golden()
    rates = (g["trade_fee_rate"], g["protocol_fee_rate"], g["fund_fee_rate"])
    for case in g["base_output"]:
        got = cpmm.swap_base_output(case["amount_out"], g["reserve_in"], g["reserve_out"], *rates)
        assert (got.amount_in, got.trade_fee) == (case["amount_in"], case["trade_fee"])
        assert got.amount_in - got.trade_fee == case["input_swapped"]


def test_one_unit_amounts() -> None:
    # 1 unit in: the ceil'd fee eats it -> zero output -> rejected; with zero fees it can trade.
    with pytest.raises(ZeroTradableAmount):
        cpmm.swap_base_input(1, 1_000, 1_000, 2500, 0, 0)
    assert cpmm.swap_base_input(1, 1, 1_000, 0, 0, 0).amount_out == 500
    # 1 unit out from a balanced pool costs ceil(R_in/(R_out-1)) = 2 before fees.
    swap = cpmm.swap_base_output(1, 1_000, 1_000, 2500, 120_000, 40_000)
    assert (swap.amount_in, swap.trade_fee) == (3, 1)


def test_zero_amounts_are_rejected() -> None:
    with pytest.raises(ZeroTradableAmount):
        cpmm.swap_base_input(0, 10**9, 10**9, 2500, 0, 0)
    with pytest.raises(ZeroTradableAmount):
        cpmm.swap_base_output(0, 10**9, 10**9, 2500, 0, 0)


def test_zero_fees() -> None:
    swap = cpmm.swap_base_input(10**9, 10**12, 5 * 10**11, 0, 120_000, 40_000)
    assert (swap.trade_fee, swap.protocol_fee, swap.fund_fee) == (0, 0, 0)
    assert swap.amount_out == 10**9 * 5 * 10**11 // (10**12 + 10**9)
    out = cpmm.swap_base_output(swap.amount_out, 10**12, 5 * 10**11, 0, 0, 0)
    assert out.trade_fee == 0 and out.amount_in <= 10**9


def test_spl_ceil_div_quirk_in_exact_output() -> None:
    # R_in·out / (R_out − out) = 1·1/1000: plain ceil gives 1, the program's CheckedCeilDiv gives 0
    # (2·1 < 999) and then fails require_gt!(source_amount_swapped, 0).
    with pytest.raises(ZeroTradableAmount):
        cpmm.swap_base_output(1, 1, 1_000, 2500, 0, 0)
    # 2·num >= den rounds a zero quotient up to 1.
    assert cpmm.swap_base_output(1, 500, 1_000, 0, 0, 0).amount_in == 1


def test_reserves_near_u64_max() -> None:
    big = U64 - 10
    swap = cpmm.swap_base_input(10, big - 10**9, big, 2500, 120_000, 40_000)
    assert swap.amount_out == (10 - 1) * big // (big - 10**9 + 9)
    with pytest.raises(AmountCalcOverflow):  # the input vault would pass u64
        cpmm.swap_base_input(11, U64 - 10, big, 0, 0, 0)
    with pytest.raises(AmountCalcOverflow):  # required input does not fit u64
        cpmm.swap_base_output(big - 1, U64 // 2, big, 2500, 0, 0)
    with pytest.raises(AmountCalcOverflow):
        cpmm.swap_base_input(U64 + 1, 10, 10, 0, 0, 0)


def test_insufficient_liquidity_and_bad_rates() -> None:
    with pytest.raises(InsufficientLiquidity):
        cpmm.swap_base_output(1_000, 10**6, 1_000, 2500, 0, 0)
    with pytest.raises(InsufficientLiquidity):
        cpmm.swap_base_output(2_000, 10**6, 1_000, 2500, 0, 0)
    with pytest.raises(InvalidInput):
        cpmm.swap_base_input(10, 10, 10, 1_000_000, 0, 0)


reserve = st.integers(min_value=1, max_value=U64 // 2)


@settings(max_examples=400, deadline=None)
@given(reserve, reserve, st.integers(min_value=1, max_value=U64 // 4), st.integers(0, 100_000))
def test_exact_output_input_always_buys_the_output(r_in: int, r_out: int, out: int, rate: int) -> None:
    try:
        swap = cpmm.swap_base_output(out % r_out or 1, r_in, r_out, rate, 120_000, 40_000)
    except (ZeroTradableAmount, InsufficientLiquidity, AmountCalcOverflow):
        return
    back = cpmm.swap_base_input(swap.amount_in, r_in, r_out, rate, 120_000, 40_000)
    assert back.amount_out >= swap.amount_out
    assert back.trade_fee <= swap.trade_fee + 1


@settings(max_examples=400, deadline=None)
@given(reserve, reserve, st.integers(min_value=1, max_value=U64 // 2), st.integers(0, 100_000))
def test_exact_input_never_lowers_the_invariant(r_in: int, r_out: int, amount: int, rate: int) -> None:
    try:
        swap = cpmm.swap_base_input(amount, r_in, r_out, rate, 120_000, 40_000)
    except (ZeroTradableAmount, AmountCalcOverflow):
        return
    assert (r_in + amount - swap.trade_fee) * (r_out - swap.amount_out) >= r_in * r_out
    assert swap.protocol_fee + swap.fund_fee <= swap.trade_fee


# --- tradability ----------------------------------------------------------------------------------


def _with(pool: cpmm.CpmmPool, **changes: object) -> cpmm.CpmmPool:
    fields = {name: getattr(pool, name) for name in cpmm.CpmmPool.__slots__}
    fields.update(changes)
    return cpmm.CpmmPool(**fields)  # type: ignore[arg-type]


def _config(creator_fee_rate: int = 0) -> cpmm.CpmmConfig:
    data, _ = _config_bytes(2500, 120_000, 40_000, creator_fee_rate)
    return cpmm.decode_amm_config(data, cpmm.PROGRAM_ID)


def test_check_tradable_refusals(real_pool: tuple[Pubkey, cpmm.CpmmPool, bytes]) -> None:
    _, pool, _ = real_pool
    now = pool.open_time
    cpmm.check_tradable(pool, _config(), now)  # open exactly at open_time: the program allows it
    cases = [
        (_with(pool, status=cpmm.STATUS_SWAP_DISABLED), _config(), now, RefusalReason.SWAP_DISABLED),
        (pool, _config(), now - 1, RefusalReason.NOT_OPEN_YET),
        (_with(pool, enable_creator_fee=True), _config(100), now, RefusalReason.CPMM_CREATOR_FEE),
    ]
    for p, c, t, reason in cases:
        with pytest.raises(Unmodelled) as err:
            cpmm.check_tradable(p, c, t)
        assert err.value.reason is reason
    # Deposit/withdraw bits do not affect swaps; an enabled creator fee at rate 0 charges nothing.
    cpmm.check_tradable(_with(pool, status=0b011), _config(), now)
    cpmm.check_tradable(_with(pool, enable_creator_fee=True), _config(0), now)


# --- builders -------------------------------------------------------------------------------------


@pytest.mark.parametrize("zero_for_one", [True, False])
def test_swap_builders_follow_the_documented_account_table(
    real_pool: tuple[Pubkey, cpmm.CpmmPool, bytes], zero_for_one: bool
) -> None:
    address, pool, _ = real_pool
    payer, src, dst = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
    side = (0, 1) if zero_for_one else (1, 0)
    vaults = (pool.token_0_vault, pool.token_1_vault)
    mints = (pool.token_0_mint, pool.token_1_mint)
    programs = (pool.token_0_program, pool.token_1_program)
    # protocols.md §2.5, row by row: (account, writable, signer).
    table = [
        (payer, False, True),
        (Pubkey.from_string("GpMZbSM2GgvTKHJirzeGfMFoaZ8UR2X7F4v8vHTvxFbL"), False, False),
        (pool.amm_config, False, False),
        (address, True, False),
        (src, True, False),
        (dst, True, False),
        (vaults[side[0]], True, False),
        (vaults[side[1]], True, False),
        (programs[side[0]], False, False),
        (programs[side[1]], False, False),
        (mints[side[0]], False, False),
        (mints[side[1]], False, False),
        (pool.observation_key, True, False),
    ]
    common = dict(
        pool_address=address, pool=pool, payer=payer, user_input_account=src, user_output_account=dst,
        zero_for_one=zero_for_one,
    )  # fmt: skip
    ix_in = cpmm.build_swap_base_input_ix(**common, amount_in=1_000_000_007, min_out=149_000_000)
    ix_out = cpmm.build_swap_base_output_ix(**common, max_in=1_100_000_000, amount_out=149_251_870)
    for ix in (ix_in, ix_out):
        assert ix.program_id == cpmm.PROGRAM_ID
        assert [(m.pubkey, m.is_writable, m.is_signer) for m in ix.accounts] == table
        assert len(ix.data) == cpmm.SWAP_DATA_SIZE == 24
    assert ix_in.data[:8] == bytes([143, 190, 90, 218, 196, 30, 51, 222])
    assert ix_out.data[:8] == bytes([55, 217, 98, 86, 163, 74, 180, 173])
    u64 = struct.Struct("<Q")
    assert u64.unpack_from(ix_in.data, cpmm.SWAP_BASE_INPUT_AMOUNT_IN_OFFSET)[0] == 1_000_000_007
    assert u64.unpack_from(ix_in.data, cpmm.SWAP_BASE_INPUT_MIN_OUT_OFFSET)[0] == 149_000_000
    assert u64.unpack_from(ix_out.data, cpmm.SWAP_BASE_OUTPUT_MAX_IN_OFFSET)[0] == 1_100_000_000
    assert u64.unpack_from(ix_out.data, cpmm.SWAP_BASE_OUTPUT_AMOUNT_OUT_OFFSET)[0] == 149_251_870


def test_patching_amounts_at_the_exported_offsets_equals_rebuilding() -> None:
    data = bytearray(cpmm.encode_swap_base_input_data(1, 2))
    struct.pack_into("<Q", data, cpmm.SWAP_BASE_INPUT_AMOUNT_IN_OFFSET, 777)
    struct.pack_into("<Q", data, cpmm.SWAP_BASE_INPUT_MIN_OUT_OFFSET, 555)
    assert bytes(data) == cpmm.encode_swap_base_input_data(777, 555)
    data = bytearray(cpmm.encode_swap_base_output_data(1, 2))
    struct.pack_into("<Q", data, cpmm.SWAP_BASE_OUTPUT_MAX_IN_OFFSET, U64)
    struct.pack_into("<Q", data, cpmm.SWAP_BASE_OUTPUT_AMOUNT_OUT_OFFSET, 9)
    assert bytes(data) == cpmm.encode_swap_base_output_data(U64, 9)
    with pytest.raises(InvalidInput):
        cpmm.encode_swap_base_input_data(U64 + 1, 0)
    with pytest.raises(InvalidInput):
        cpmm.encode_swap_base_output_data(0, -1)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=cpmm.POOL_SIZE - 8, max_size=cpmm.POOL_SIZE - 8))
def test_hot_path_owed_fees_equal_the_full_decode(body: bytes) -> None:
    data = cpmm.POOL_DISCRIMINATOR + body
    pool = cpmm.decode_pool(data, cpmm.PROGRAM_ID)
    fees0 = pool.protocol_fees_token_0 + pool.fund_fees_token_0 + pool.creator_fees_token_0
    fees1 = pool.protocol_fees_token_1 + pool.fund_fees_token_1 + pool.creator_fees_token_1
    assert cpmm.owed_fees(data) == (fees0, fees1)


def test_hot_path_owed_fees_on_the_real_dump(real_pool: tuple[Pubkey, cpmm.CpmmPool, bytes]) -> None:
    assert cpmm.owed_fees(real_pool[2]) == (484_814_504 + 123_593_244, 286_186_090 + 78_871_511)
