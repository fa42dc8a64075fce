"""Whirlpool decoders, PDAs and swap builders against the real account dumps and instructions in fixtures."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from solders.pubkey import Pubkey

from strategies.venues import orca_whirlpool as orca
from strategies.venues.errors import DecodeError
from strategies.venues.spl import TOKEN_PROGRAM_ID, decode_mint, decode_token_account

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])


def _dump(name: str) -> tuple[Pubkey | None, Pubkey, bytes, dict[str, Any]]:
    """(address, owner, data, raw json) for any of the fixture layouts."""
    raw = json.loads((FIXTURES / name).read_text())
    if "account_data_base64" in raw:
        return (
            Pubkey.from_string(raw["pool_address"]),
            Pubkey.from_string(raw["owner"]),
            base64.b64decode(raw["account_data_base64"]),
            raw,
        )
    acct = raw.get("account", raw)
    data = acct["data"][0] if isinstance(acct["data"], list) else acct["data"]
    key = Pubkey.from_string(raw["pubkey"]) if "pubkey" in raw else None
    return key, Pubkey.from_string(acct["owner"]), base64.b64decode(data), raw


def _flatten(decoded: dict[str, Any]) -> dict[str, Any]:
    return {k: (v["data"] if isinstance(v, dict) and "data" in v else v) for k, v in decoded.items()}


def _assert_pool_matches_idl_view(pool: orca.Whirlpool, view: dict[str, Any]) -> None:
    v = _flatten(view)
    assert str(pool.whirlpools_config) == v["whirlpoolsConfig"]
    assert pool.whirlpool_bump == v["whirlpoolBump"][0]
    assert pool.tick_spacing == int(v["tickSpacing"])
    seed = v.get("feeTierIndexSeed", v.get("tickSpacingSeed"))
    assert pool.fee_tier_index == seed[0] | seed[1] << 8
    for attr, key in [
        ("fee_rate", "feeRate"),
        ("protocol_fee_rate", "protocolFeeRate"),
        ("liquidity", "liquidity"),
        ("sqrt_price", "sqrtPrice"),
        ("tick_current_index", "tickCurrentIndex"),
        ("protocol_fee_owed_a", "protocolFeeOwedA"),
        ("protocol_fee_owed_b", "protocolFeeOwedB"),
        ("fee_growth_global_a", "feeGrowthGlobalA"),
        ("fee_growth_global_b", "feeGrowthGlobalB"),
        ("reward_last_updated_timestamp", "rewardLastUpdatedTimestamp"),
    ]:
        assert getattr(pool, attr) == int(v[key]), attr
    for attr, key in [
        ("token_mint_a", "tokenMintA"),
        ("token_vault_a", "tokenVaultA"),
        ("token_mint_b", "tokenMintB"),
        ("token_vault_b", "tokenVaultB"),
    ]:
        assert str(getattr(pool, attr)) == v[key], attr
    rewards = v.get("rewardInfos")
    if rewards is not None:
        for got, exp in zip(pool.reward_infos, rewards, strict=True):
            assert str(got.mint) == exp["mint"] and str(got.vault) == exp["vault"]
            assert str(got.authority) == exp["authority"]
            assert got.emissions_per_second_x64 == int(exp["emissionsPerSecondX64"])
            assert got.growth_global_x64 == int(exp["growthGlobalX64"])


def test_whirlpool_dumps_decode_to_their_idl_views() -> None:
    _, owner, data, raw = _dump("ipv4sq_orca_whirlpool_HsQGWEh3.json")
    pool = orca.decode_whirlpool(data, owner)
    _assert_pool_matches_idl_view(pool, raw["account_data_json"])
    assert not pool.is_adaptive_fee
    _, owner, data, raw = _dump("carbon_orca_whirlpool_account_splash.json")
    splash = orca.decode_whirlpool(data, owner)
    _assert_pool_matches_idl_view(splash, raw["data_decoded"])
    assert splash.tick_spacing == 32896 and splash.is_full_range_only


@pytest.mark.parametrize(
    ("name", "config", "ts", "fee", "tick"),
    [
        ("orca_rpr_whirlpool.json", "FcrweFY1", 64, 2000, -115109),
        ("orca_whirlpool_7vWRT_mainnet_slot350580573.json", "2LecshUw", 128, 10000, None),
        ("orca_whirlpool_open_position_te.json", "2LecshUw", 4, 400, None),
    ],
)
def test_readme_values(name: str, config: str, ts: int, fee: int, tick: int | None) -> None:
    _, owner, data, _ = _dump(name)
    pool = orca.decode_whirlpool(data, owner)
    assert str(pool.whirlpools_config).startswith(config)
    assert (pool.tick_spacing, pool.fee_rate) == (ts, fee)
    if tick is not None:
        assert pool.tick_current_index == tick
    # The hot-path reader agrees with the full decoder.
    fast = orca.read_whirlpool_swap_state(data)
    assert fast == (
        pool.sqrt_price,
        pool.liquidity,
        pool.tick_current_index,
        pool.fee_rate,
        pool.fee_tier_index,
    )
    # The stored tick is consistent with the stored sqrt price (protocols.md §3.1 check).
    assert orca.wm.tick_index_from_sqrt_price(pool.sqrt_price) == pool.tick_current_index


def test_rpr_vaults_and_mints_match_pool() -> None:
    key, owner, data, _ = _dump("orca_rpr_whirlpool.json")
    pool = orca.decode_whirlpool(data, owner)
    vaults = {}
    for side in ("a", "b"):
        vkey, vowner, vdata, _ = _dump(f"orca_rpr_vault_{side}.json")
        vaults[side] = (vkey, decode_token_account(vdata, vowner))
    assert vaults["a"][0] == pool.token_vault_a and vaults["b"][0] == pool.token_vault_b
    assert vaults["a"][1].mint == pool.token_mint_a and vaults["b"][1].mint == pool.token_mint_b
    assert vaults["a"][1].owner == key and vaults["b"][1].owner == key
    assert (vaults["a"][1].amount, vaults["b"][1].amount) == (31_359_230_554_211_177, 267_069_478_542)
    mkey_a, mowner_a, mdata_a, _ = _dump("orca_rpr_token_a.json")
    mkey_b, mowner_b, mdata_b, _ = _dump("orca_rpr_token_b.json")
    assert (mkey_a, mkey_b) == (pool.token_mint_a, pool.token_mint_b)
    assert mowner_a == TOKEN_PROGRAM_ID
    assert (decode_mint(mdata_a, mowner_a).decimals, decode_mint(mdata_b, mowner_b).decimals) == (9, 6)


@pytest.mark.parametrize(
    ("name", "start", "offset", "net"),
    [
        ("orca_rpr_fixed_tick_array_lower.json", -444928, 21, 5_118_139),
        ("orca_rpr_fixed_tick_array_upper.json", 439296, 67, -5_118_139),
    ],
)
def test_rpr_fixed_tick_arrays(name: str, start: int, offset: int, net: int) -> None:
    key, owner, data, _ = _dump(name)
    array = orca.decode_tick_array(data, owner)
    assert not array.is_dynamic
    assert array.start_tick_index == start
    assert array.initialized_offsets() == (offset,)
    assert array.ticks[offset].liquidity_net == net
    assert array.ticks[offset].liquidity_gross == abs(net)
    assert key == orca.tick_array_address(array.whirlpool, start)


def test_carbon_fixed_tick_array_matches_idl_view() -> None:
    _, owner, data, raw = _dump("carbon_orca_fixed_tick_array_account.json")
    array = orca.decode_fixed_tick_array(data, owner)
    view = _flatten(raw["data_decoded"])
    assert array.start_tick_index == int(view["startTickIndex"])
    assert str(array.whirlpool) == view["whirlpool"]
    for got, exp in zip(array.ticks, view["ticks"], strict=True):
        assert got.initialized == exp["initialized"]
        assert got.liquidity_net == int(exp["liquidityNet"])
        assert got.liquidity_gross == int(exp["liquidityGross"])
        assert got.fee_growth_outside_a == int(exp["feeGrowthOutsideA"])
        assert got.fee_growth_outside_b == int(exp["feeGrowthOutsideB"])
        assert list(got.reward_growths_outside) == [int(x) for x in exp["rewardGrowthsOutside"]]
    assert len(array.initialized_offsets()) == 1
    # protocols/README: the PDA of (CGGNcohZ..., "-2894848") is GtpDRtj3...
    assert str(orca.tick_array_address(array.whirlpool, array.start_tick_index)).startswith("GtpDRtj3")


def test_carbon_dynamic_tick_array() -> None:
    _, owner, data, _ = _dump("carbon_orca_dynamic_tick_array_account0.json")
    assert len(data) == 260
    array = orca.decode_tick_array(data, owner)
    assert array.is_dynamic
    assert array.start_tick_index == 45056
    assert str(array.whirlpool).startswith("XbZJ25sp")
    assert array.initialized_offsets() == (32,)
    tick = array.ticks[32]
    assert tick.liquidity_net == tick.liquidity_gross > 0


def test_decode_errors_are_typed() -> None:
    _, owner, data, _ = _dump("orca_rpr_whirlpool.json")
    with pytest.raises(DecodeError, match="owner"):
        orca.decode_whirlpool(data, TOKEN_PROGRAM_ID)
    with pytest.raises(DecodeError, match="size"):
        orca.decode_whirlpool(data[:-1], owner)
    with pytest.raises(DecodeError, match="discriminator"):
        orca.decode_whirlpool(b"\x00" * 8 + data[8:], owner)
    with pytest.raises(DecodeError):
        orca.read_whirlpool_swap_state(data[:-1])
    _, towner, tdata, _ = _dump("orca_rpr_fixed_tick_array_lower.json")
    with pytest.raises(DecodeError, match="size"):
        orca.decode_fixed_tick_array(tdata + b"\x00", towner)
    with pytest.raises(DecodeError, match="discriminator"):
        orca.decode_tick_array(data, owner)
    _, downer, ddata, _ = _dump("carbon_orca_dynamic_tick_array_account0.json")
    corrupt = bytearray(ddata)
    corrupt[44] ^= 1  # mark tick 0 initialized in the bitmap while its tag says uninitialized
    with pytest.raises(DecodeError, match="bitmap"):
        orca.decode_dynamic_tick_array(bytes(corrupt), downer)
    with pytest.raises(DecodeError):
        orca.decode_dynamic_tick_array(ddata[:-5], downer)


def test_pdas_match_independent_values() -> None:
    _, _, _, raw = _dump("ipv4sq_orca_whirlpool_HsQGWEh3.json")
    derived = raw["_derived_in_this_research"]
    pool_key = Pubkey.from_string(raw["pool_address"])
    for start, addr in derived["tick_arrays_by_start"].items():
        assert str(orca.tick_array_address(pool_key, int(start))) == addr
    assert str(orca.oracle_address(pool_key)) == derived["oracle_pda"]
    # util/sparse_swap.rs test_derive_tick_array_pda (SOL/USDC ts=64 pool).
    sol_usdc = Pubkey.from_string("HJPjoWUrhoZzkNfRpHuieeFk9WcZWjwy6PBjZ81ngndJ")
    assert str(orca.tick_array_address(sol_usdc, -11264)) == "81T5kNuPRkyVzhwbe2RpKR7wmQpGJ7RBkGPdTqyfa5vq"
    assert str(orca.tick_array_address(sol_usdc, 5632)) == "BW2Mr823NUQN7vnVpv5E6yCTnqEXQ3ZnqjZyiywXPcUp"


def _fixture_ix(name: str) -> dict[str, Any]:
    raw = json.loads((FIXTURES / name).read_text())
    raw["by_label"] = {a["label"]: Pubkey.from_string(a["pubkey"]) for a in raw["accounts"]}
    return raw


def _accounts_from_labels(k: dict[str, Pubkey]) -> orca.SwapAccounts:
    return orca.SwapAccounts(
        token_authority=k["tokenAuthority"],
        whirlpool=k["whirlpool"],
        token_owner_account_a=k["tokenOwnerAccountA"],
        token_vault_a=k["tokenVaultA"],
        token_owner_account_b=k["tokenOwnerAccountB"],
        token_vault_b=k["tokenVaultB"],
        tick_array_0=k["tickArray0"],
        tick_array_1=k["tickArray1"],
        tick_array_2=k["tickArray2"],
        oracle=k["oracle"],
    )


def _metas(ix: Any) -> list[tuple[str, bool, bool]]:
    return [(str(m.pubkey), m.is_signer, m.is_writable) for m in ix.accounts]


def _expected_metas(raw: dict[str, Any]) -> list[tuple[str, bool, bool]]:
    return [(a["pubkey"], a["is_signer"], a["is_writable"]) for a in raw["accounts"]]


def test_swap_builder_reproduces_carbon_swap_ix() -> None:
    raw = _fixture_ix("carbon_orca_swap_ix.json")
    k = raw["by_label"]
    accounts = _accounts_from_labels(k)
    # The real transaction: exact-in b->a of 85,373,619 with no minimum and the explicit max price limit;
    # the authority is also the fee payer, hence writable.
    ix = orca.build_swap_ix(
        accounts,
        amount=85_373_619,
        other_amount_threshold=0,
        sqrt_price_limit=orca.wm.MAX_SQRT_PRICE_X64,
        amount_specified_is_input=True,
        a_to_b=False,
        authority_is_writable=True,
    )
    assert bytes(ix.data).hex() == raw["data"]
    assert len(ix.data) == 42
    assert str(ix.program_id) == raw["program_id"]
    assert _metas(ix) == _expected_metas(raw)


def test_swap_v2_builder_reproduces_carbon_swap_v2_ix() -> None:
    raw = _fixture_ix("carbon_orca_swap_v2_ix.json")
    k = raw["by_label"]
    args = _flatten(raw["data_decoded"])
    accounts = _accounts_from_labels(k)
    # Recorded as an inner instruction: the authority there is a PDA of the calling program (no signer flag).
    ix = orca.build_swap_v2_ix(
        accounts,
        token_mint_a=k["tokenMintA"],
        token_mint_b=k["tokenMintB"],
        amount=int(args["amount"]),
        other_amount_threshold=int(args["otherAmountThreshold"]),
        sqrt_price_limit=int(args["sqrtPriceLimit"]),
        amount_specified_is_input=args["amountSpecifiedIsInput"],
        a_to_b=args["aToB"],
        token_program_a=k["tokenProgramA"],
        token_program_b=k["tokenProgramB"],
        authority_is_signer=False,
    )
    assert bytes(ix.data).hex() == raw["data"]
    assert len(ix.data) == 43
    assert _metas(ix) == _expected_metas(raw)


def test_swap_accounts_for_derives_pdas_and_v2_supplemental_encoding() -> None:
    pool_key, owner, data, raw = _dump("ipv4sq_orca_whirlpool_HsQGWEh3.json")
    assert pool_key is not None
    pool = orca.decode_whirlpool(data, owner)
    user = Pubkey.new_unique()
    acc = orca.swap_accounts_for(pool_key, pool, user, Pubkey.new_unique(), Pubkey.new_unique(), a_to_b=True)
    derived = raw["_derived_in_this_research"]["tick_arrays_by_start"]
    assert [str(acc.tick_array_0), str(acc.tick_array_1), str(acc.tick_array_2)] == [
        derived["-8448"],
        derived["-16896"],
        str(orca.tick_array_address(pool_key, -25344)),
    ]
    extra = [Pubkey.new_unique(), Pubkey.new_unique()]
    ix = orca.build_swap_v2_ix(
        acc,
        token_mint_a=pool.token_mint_a,
        token_mint_b=pool.token_mint_b,
        amount=1,
        other_amount_threshold=0,
        sqrt_price_limit=0,
        amount_specified_is_input=True,
        a_to_b=True,
        supplemental_tick_arrays=extra,
    )
    assert bytes(ix.data)[42:] == bytes([1, 1, 0, 0, 0, 6, 2])
    assert [m.pubkey for m in ix.accounts[15:]] == extra
    with pytest.raises(ValueError):
        orca.build_swap_ix(
            acc,
            amount=-1,
            other_amount_threshold=0,
            sqrt_price_limit=0,
            amount_specified_is_input=True,
            a_to_b=True,
        )
