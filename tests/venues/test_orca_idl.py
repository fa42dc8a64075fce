"""Cross-check of the hand-written Whirlpool layouts against anchorpy decoding from a minimal IDL (cold path).

The IDL below restates the account structs of orca-so/whirlpools (state/whirlpool.rs, state/tick.rs) in
Anchor's legacy IDL format; anchorpy derives the discriminators (sha256("account:<Name>")[:8]) and Borsh
offsets independently of our precompiled structs.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from anchorpy import Idl
from anchorpy.coder.accounts import AccountsCoder

from strategies.venues import orca_whirlpool as orca

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])

_PK = "publicKey"
_IDL = {
    "version": "0.1.0",
    "name": "whirlpool",
    "instructions": [],
    "accounts": [
        {
            "name": "Whirlpool",
            "type": {
                "kind": "struct",
                "fields": [
                    {"name": "whirlpoolsConfig", "type": _PK},
                    {"name": "whirlpoolBump", "type": {"array": ["u8", 1]}},
                    {"name": "tickSpacing", "type": "u16"},
                    {"name": "feeTierIndexSeed", "type": {"array": ["u8", 2]}},
                    {"name": "feeRate", "type": "u16"},
                    {"name": "protocolFeeRate", "type": "u16"},
                    {"name": "liquidity", "type": "u128"},
                    {"name": "sqrtPrice", "type": "u128"},
                    {"name": "tickCurrentIndex", "type": "i32"},
                    {"name": "protocolFeeOwedA", "type": "u64"},
                    {"name": "protocolFeeOwedB", "type": "u64"},
                    {"name": "tokenMintA", "type": _PK},
                    {"name": "tokenVaultA", "type": _PK},
                    {"name": "feeGrowthGlobalA", "type": "u128"},
                    {"name": "tokenMintB", "type": _PK},
                    {"name": "tokenVaultB", "type": _PK},
                    {"name": "feeGrowthGlobalB", "type": "u128"},
                    {"name": "rewardLastUpdatedTimestamp", "type": "u64"},
                    {"name": "rewardInfos", "type": {"array": [{"defined": "WhirlpoolRewardInfo"}, 3]}},
                ],
            },
        },
        {
            "name": "TickArray",
            "type": {
                "kind": "struct",
                "fields": [
                    {"name": "startTickIndex", "type": "i32"},
                    {"name": "ticks", "type": {"array": [{"defined": "Tick"}, 88]}},
                    {"name": "whirlpool", "type": _PK},
                ],
            },
        },
    ],
    "types": [
        {
            "name": "WhirlpoolRewardInfo",
            "type": {
                "kind": "struct",
                "fields": [
                    {"name": "mint", "type": _PK},
                    {"name": "vault", "type": _PK},
                    {"name": "authority", "type": _PK},
                    {"name": "emissionsPerSecondX64", "type": "u128"},
                    {"name": "growthGlobalX64", "type": "u128"},
                ],
            },
        },
        {
            "name": "Tick",
            "type": {
                "kind": "struct",
                "fields": [
                    {"name": "initialized", "type": "bool"},
                    {"name": "liquidityNet", "type": "i128"},
                    {"name": "liquidityGross", "type": "u128"},
                    {"name": "feeGrowthOutsideA", "type": "u128"},
                    {"name": "feeGrowthOutsideB", "type": "u128"},
                    {"name": "rewardGrowthsOutside", "type": {"array": ["u128", 3]}},
                ],
            },
        },
    ],
}


@pytest.fixture(scope="module")
def coder() -> AccountsCoder:
    return AccountsCoder(Idl.from_json(json.dumps(_IDL)))


def _data(name: str) -> bytes:
    raw = json.loads((FIXTURES / name).read_text())
    if "account_data_base64" in raw:
        return base64.b64decode(raw["account_data_base64"])
    acct = raw.get("account", raw)
    return base64.b64decode(acct["data"][0] if isinstance(acct["data"], list) else acct["data"])


def test_discriminators_match_anchor_derivation(coder: AccountsCoder) -> None:
    assert coder.acc_name_to_discriminator["Whirlpool"] == orca.WHIRLPOOL_DISCRIMINATOR
    assert coder.acc_name_to_discriminator["TickArray"] == orca.FIXED_TICK_ARRAY_DISCRIMINATOR


@pytest.mark.parametrize(
    "name",
    [
        "orca_rpr_whirlpool.json",
        "orca_whirlpool_7vWRT_mainnet_slot350580573.json",
        "orca_whirlpool_open_position_te.json",
        "carbon_orca_whirlpool_account_splash.json",
        "ipv4sq_orca_whirlpool_HsQGWEh3.json",
    ],
)
def test_whirlpool_layout_matches_anchorpy(coder: AccountsCoder, name: str) -> None:
    data = _data(name)
    ref = coder.parse(data).data
    ours = orca.decode_whirlpool(data)
    assert ours.whirlpools_config == ref.whirlpools_config
    assert ours.whirlpool_bump == ref.whirlpool_bump[0]
    assert ours.fee_tier_index == ref.fee_tier_index_seed[0] | ref.fee_tier_index_seed[1] << 8
    for field in (
        "tick_spacing",
        "fee_rate",
        "protocol_fee_rate",
        "liquidity",
        "sqrt_price",
        "tick_current_index",
        "protocol_fee_owed_a",
        "protocol_fee_owed_b",
        "token_mint_a",
        "token_vault_a",
        "fee_growth_global_a",
        "token_mint_b",
        "token_vault_b",
        "fee_growth_global_b",
        "reward_last_updated_timestamp",
    ):
        assert getattr(ours, field) == getattr(ref, field), field
    for got, exp in zip(ours.reward_infos, ref.reward_infos, strict=True):
        assert (got.mint, got.vault, got.authority) == (exp.mint, exp.vault, exp.authority)
        assert (got.emissions_per_second_x64, got.growth_global_x64) == (
            exp.emissions_per_second_x64,
            exp.growth_global_x64,
        )


@pytest.mark.parametrize(
    "name",
    [
        "orca_rpr_fixed_tick_array_lower.json",
        "orca_rpr_fixed_tick_array_upper.json",
        "carbon_orca_fixed_tick_array_account.json",
    ],
)
def test_fixed_tick_array_layout_matches_anchorpy(coder: AccountsCoder, name: str) -> None:
    data = _data(name)
    ref = coder.parse(data).data
    ours = orca.decode_fixed_tick_array(data)
    assert ours.start_tick_index == ref.start_tick_index and ours.whirlpool == ref.whirlpool
    for got, exp in zip(ours.ticks, ref.ticks, strict=True):
        assert (got.initialized, got.liquidity_net, got.liquidity_gross) == (
            exp.initialized,
            exp.liquidity_net,
            exp.liquidity_gross,
        )
        assert (got.fee_growth_outside_a, got.fee_growth_outside_b) == (
            exp.fee_growth_outside_a,
            exp.fee_growth_outside_b,
        )
        assert list(got.reward_growths_outside) == list(exp.reward_growths_outside)
