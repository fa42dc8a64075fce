"""PumpSwap decoding on real data, layout refusals, hot-path readers, tradability, PDAs.

The real pool is the mainnet dump in ../shared/fixtures (ipv4sq_pumpswap_pool_GUXAutv.json, 300 bytes,
with the decoded JSON of its source test); quotes and builders are checked against the official SDK
in test_pumpswap_sdk_vectors.py.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from strategies.venues import pumpswap as ps
from strategies.venues.errors import DecodeError, RefusalReason, UnknownLayout, Unmodelled
from strategies.venues.spl import TOKEN_PROGRAM_ID, Mint, TransferFee, associated_token_address

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
VECTORS = Path(__file__).resolve().parents[2] / "tests" / "data" / "pumpswap_sdk_vectors.json"


@pytest.fixture(scope="module")
def dump() -> dict[str, object]:
    return json.loads((FIXTURES / "ipv4sq_pumpswap_pool_GUXAutv.json").read_text())


def _bytes(dump: dict[str, object]) -> bytes:
    return base64.b64decode(str(dump["account_data_base64"]))


def test_the_mainnet_pool_decodes_to_its_values(dump: dict[str, object]) -> None:
    data = _bytes(dump)
    pool = ps.decode_pool(data, Pubkey.from_string(str(dump["owner"])))
    expected = dump["account_data_json"]
    assert isinstance(expected, dict)
    for field, entry in expected.items():
        ours = getattr(pool, field)
        assert str(ours) == str(entry["data"]), field
    # Fields the source predates: a 300-byte pool whose later fields are still zero.
    assert (pool.data_len, pool.is_mayhem_mode, pool.is_cashback_coin) == (300, False, False)
    assert (pool.virtual_quote_reserves, pool.creator_fee_bps, pool.can_edit_creator_fee) == (0, 0, False)
    # It is a canonical pool at its real PDA, and its vaults are its ATAs.
    address = Pubkey.from_string(str(dump["pool_address"]))
    assert ps.is_pump_pool(pool.base_mint, pool.creator)
    assert ps.canonical_pool_pda(pool.base_mint) == address
    assert pool.pool_base_token_account == associated_token_address(address, pool.base_mint, TOKEN_PROGRAM_ID)
    assert pool.pool_quote_token_account == associated_token_address(
        address, pool.quote_mint, TOKEN_PROGRAM_ID
    )
    assert ps.read_pool_dynamic(data) == (0, 0)


def test_known_program_addresses() -> None:
    assert str(ps.global_config_pda()) == "ADyA8hdefvWN2dbGGWFotbzWxrAvLW83WG6QCVXvJKqw"
    assert str(ps.fee_config_pda()) == "5PHirr8joyTMp9JMm6nW7hNDVyEYdkzDqazxPD7RaTjx"
    assert str(ps.event_authority_pda()) == "GS4CU59F31iL7aR2Q8zVS8DRrcRnXX1yjQ66TqNVQnaR"
    assert str(ps.global_volume_accumulator_pda()) == "C2aFPdENg4A2HQsmrd5rTw5TaYBX5Ku887cWjbFKtZpw"


def test_unknown_pool_layouts_are_refused_by_length(dump: dict[str, object]) -> None:
    data = _bytes(dump)
    owner = ps.PROGRAM_ID
    for size in (8, 210, 212, 250, 269, 271, 299, 301, 400):
        blob = (data + bytes(200))[:size]
        with pytest.raises(UnknownLayout) as err:
            ps.decode_pool(blob, owner)
        assert err.value.size == size and 300 in err.value.known
        with pytest.raises(UnknownLayout):
            ps.read_pool_dynamic(blob)
    # 300 bytes whose tail carries fields newer than the SDK's layout.
    tail = data[:299] + b"\x01"
    with pytest.raises(UnknownLayout, match=r"270\.\.300"):
        ps.decode_pool(tail, owner)
    # Every known version decodes; fields it lacks read as zero.
    for size in ps.POOL_LAYOUT_SIZES:
        assert ps.decode_pool(data[:size], owner).coin_creator == (
            Pubkey.default() if size < 243 else ps.decode_pool(data, owner).coin_creator
        )


def test_bad_owner_discriminator_and_bool_bytes_are_decode_errors(dump: dict[str, object]) -> None:
    data = _bytes(dump)
    with pytest.raises(DecodeError, match="owner"):
        ps.decode_pool(data, TOKEN_PROGRAM_ID)
    with pytest.raises(DecodeError, match="discriminator"):
        ps.decode_pool(b"\x00" * 8 + data[8:], ps.PROGRAM_ID)
    with pytest.raises(DecodeError, match="is_cashback_coin"):
        ps.decode_pool(data[:244] + b"\x02" + data[245:], ps.PROGRAM_ID)


def _vectors() -> dict[str, object]:
    return json.loads(VECTORS.read_text())


def test_global_and_fee_config_layouts_are_refused_outside_the_known_sizes() -> None:
    vectors = _vectors()
    global_hex = vectors["global_configs"]
    fee_hex = vectors["fee_configs"]
    assert isinstance(global_hex, list) and isinstance(fee_hex, list)
    config = bytes.fromhex(global_hex[0])
    for size in (906, 908, 941, 950, 1000):
        with pytest.raises(UnknownLayout):
            ps.decode_global_config((config + bytes(100))[:size], ps.PROGRAM_ID)
    assert ps.decode_global_config(config[:907], ps.PROGRAM_ID).creator_fee_configurable is False
    fee = bytes.fromhex(fee_hex[0]["hex"])
    with pytest.raises(DecodeError, match="owner"):
        ps.decode_fee_config(fee, ps.PROGRAM_ID)
    for size in (2511, 3000, 4074, 4098):
        with pytest.raises(UnknownLayout):
            ps.decode_fee_config((fee + bytes(100))[:size], ps.FEE_PROGRAM_ID)
    # A tier count that runs past the account.
    broken = fee[:65] + (200).to_bytes(4, "little") + fee[69:]
    with pytest.raises(DecodeError, match="run past"):
        ps.decode_fee_config(broken, ps.FEE_PROGRAM_ID)


def test_hot_path_readers_track_the_fields_that_move(dump: dict[str, object]) -> None:
    data = bytearray(_bytes(dump))
    keys = ps.pool_keys_bytes(bytes(data))
    data[245:261] = (-5_000).to_bytes(16, "little", signed=True)
    data[261:269] = (125).to_bytes(8, "little")
    data[203:211] = (1).to_bytes(8, "little")  # lp_supply moves with deposits, not part of the keys
    assert ps.read_pool_dynamic(bytes(data)) == (-5_000, 125)
    assert ps.pool_keys_bytes(bytes(data)) == keys
    data[211] ^= 1  # a new coin creator changes the swap's accounts
    assert ps.pool_keys_bytes(bytes(data)) != keys
    mint = bytes(36) + (10**15).to_bytes(8, "little") + bytes([6, 1]) + bytes(36)
    assert ps.read_mint_supply(mint) == 10**15


def _global(disable_flags: int) -> ps.GlobalConfig:
    vectors = _vectors()
    raw = bytearray(bytes.fromhex(vectors["global_configs"][0]))  # type: ignore[index]
    raw[56] = disable_flags
    return ps.decode_global_config(bytes(raw), ps.PROGRAM_ID)


def test_tradability_refuses_disabled_swaps_and_token2022_fees_or_hooks() -> None:
    ps.check_tradable(_global(0))
    for flags in (ps.DISABLE_BUY, ps.DISABLE_SELL):
        with pytest.raises(Unmodelled) as err:
            ps.check_tradable(_global(flags))
        assert err.value.reason is RefusalReason.SWAP_DISABLED
    plain = Mint(6, 10**15, True, (18, 19), None, None, None)
    ps.check_tradable(_global(0), plain, None)  # metadata extensions only: fine
    fee = TransferFee(0, 10**9, 100)
    with pytest.raises(Unmodelled) as err:
        ps.check_tradable(_global(0), Mint(6, 1, True, (1,), fee, fee, None))
    assert err.value.reason is RefusalReason.TOKEN2022_TRANSFER_FEE
    with pytest.raises(Unmodelled) as err:
        ps.check_tradable(_global(0), None, Mint(6, 1, True, (14,), None, None, Pubkey.new_unique()))
    assert err.value.reason is RefusalReason.TOKEN2022_TRANSFER_HOOK


def test_extend_account_is_needed_below_300_bytes() -> None:
    assert ps.needs_extend(261) and not ps.needs_extend(300)
    user, pool = Pubkey.new_unique(), Pubkey.new_unique()
    ix = ps.build_extend_account_ix(pool, user)
    assert bytes(ix.data) == ps.EXTEND_ACCOUNT_DISCRIMINATOR
    assert [(m.pubkey, m.is_signer, m.is_writable) for m in ix.accounts][:2] == [
        (pool, False, True),
        (user, True, True),
    ]


def test_buyback_is_a_share_of_the_protocol_fee() -> None:
    config = _global(0)
    assert config.buyback_basis_points == 5_000
    assert ps.buyback_fee(93, config) == 46
    assert ps.buyback_fee(0, config) == 0
