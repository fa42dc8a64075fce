"""SPL Token / Token-2022 decoding and the transfer-fee / transfer-hook refusal."""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from strategies.venues import spl
from strategies.venues.errors import DecodeError, RefusalReason, Unmodelled

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])


def _mint_bytes(decimals: int = 6, supply: int = 10**12) -> bytes:
    return struct.pack("<I32sQBBI32s", 0, bytes(32), supply, decimals, 1, 0, bytes(32))


def _token2022_mint(extensions: list[tuple[int, bytes]]) -> bytes:
    body = _mint_bytes().ljust(spl.TOKEN_ACCOUNT_SIZE, b"\x00") + bytes([1])
    for ext_type, value in extensions:
        body += struct.pack("<HH", ext_type, len(value)) + value
    return body


def _transfer_fee(bps: int, max_fee: int) -> bytes:
    return struct.pack("<32s32sQQQHQQH", bytes(32), bytes(32), 0, 1, max_fee, bps, 2, max_fee, bps)


def test_plain_mint_and_token_account() -> None:
    raw = json.loads((FIXTURES / "orca_rpr_token_b.json").read_text())["account"]
    mint = spl.decode_mint(base64.b64decode(raw["data"][0]), Pubkey.from_string(raw["owner"]))
    assert (mint.decimals, mint.is_token_2022, mint.has_transfer_fee, mint.has_transfer_hook) == (
        6,
        False,
        False,
        False,
    )
    raw = json.loads((FIXTURES / "orca_rpr_vault_b.json").read_text())["account"]
    acct = spl.decode_token_account(base64.b64decode(raw["data"][0]), spl.TOKEN_PROGRAM_ID)
    assert acct.amount == 267_069_478_542 and acct.state == spl.TOKEN_STATE_INITIALIZED


def test_real_token2022_mint_with_transfer_fee_is_refused() -> None:
    # Meteora SDK fixture: a Token-2022 X mint (535 bytes) with TransferFeeConfig + metadata extensions.
    accounts = json.loads((FIXTURES / "meteora_dlmm_sdk_fixture_B5Eia4.json").read_text())["accounts"]
    if isinstance(accounts, str):  # stored as a Python-literal string in that fixture
        import ast

        accounts = ast.literal_eval(accounts)
    data = base64.b64decode(accounts["token_x_mint.bin"]["data_base64"])
    mint = spl.decode_mint(data, spl.TOKEN_2022_PROGRAM_ID)
    assert mint.is_token_2022 and spl.EXT_TRANSFER_FEE_CONFIG in mint.extension_types
    assert mint.transfer_fee_newer is not None and mint.transfer_fee_newer.basis_points == 50
    with pytest.raises(Unmodelled) as info:
        spl.check_mint_modelled(data, spl.TOKEN_2022_PROGRAM_ID)
    assert info.value.reason is RefusalReason.TOKEN2022_TRANSFER_FEE


def test_synthetic_extensions() -> None:
    zero_fee = spl.check_mint_modelled(_token2022_mint([(spl.EXT_TRANSFER_FEE_CONFIG, _transfer_fee(0, 0))]))
    assert zero_fee.is_token_2022 and not zero_fee.has_transfer_fee
    hook = _token2022_mint([(spl.EXT_TRANSFER_HOOK, bytes(32) + bytes(Pubkey.new_unique()))])
    with pytest.raises(Unmodelled) as info:
        spl.check_mint_modelled(hook, spl.TOKEN_2022_PROGRAM_ID)
    assert info.value.reason is RefusalReason.TOKEN2022_TRANSFER_HOOK
    cleared_hook = _token2022_mint([(spl.EXT_TRANSFER_HOOK, bytes(64))])
    assert not spl.check_mint_modelled(cleared_hook).has_transfer_hook


def test_bad_bytes_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match="size"):
        spl.decode_mint(_mint_bytes()[:-1])
    with pytest.raises(DecodeError, match="owner"):
        spl.decode_mint(_mint_bytes(), Pubkey.new_unique())
    with pytest.raises(DecodeError, match="runs past"):
        spl.decode_mint(_token2022_mint([(spl.EXT_TRANSFER_FEE_CONFIG, _transfer_fee(1, 1))])[:-3])
    with pytest.raises(DecodeError, match="size"):
        spl.decode_token_account(bytes(100))
    with pytest.raises(DecodeError, match="not initialized"):
        spl.decode_token_account(bytes(165))
    with pytest.raises(DecodeError, match="size"):
        spl.decode_token_account(bytes(170), spl.TOKEN_PROGRAM_ID)
