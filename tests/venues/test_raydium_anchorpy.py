"""Cold-path cross-check: anchorpy's IDL-driven Borsh decoder (minimal IDL in
tests/data/raydium_cpmm_idl.json, written from protocols.md §2.2/§2.3) equals the hand-written
struct decoders of strategies.venues.raydium_cpmm on the real dump and on random encodings."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from anchorpy import AccountsCoder, Idl
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.venues import raydium_cpmm as cpmm

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ["SOLARB_FIXTURES"])


@pytest.fixture(scope="module")
def coder() -> AccountsCoder:
    return AccountsCoder(Idl.from_json((ROOT / "tests" / "data" / "raydium_cpmm_idl.json").read_text()))


def _assert_same(ours: object, theirs: object, fields: tuple[str, ...]) -> None:
    for name in fields:
        assert getattr(ours, name) == getattr(theirs, name), name


def test_idl_discriminators_are_ours(coder: AccountsCoder) -> None:
    assert coder.acc_name_to_discriminator["PoolState"] == cpmm.POOL_DISCRIMINATOR
    assert coder.acc_name_to_discriminator["AmmConfig"] == cpmm.CONFIG_DISCRIMINATOR


def test_real_pool_decodes_the_same(coder: AccountsCoder) -> None:
    fx = json.loads((FIXTURES / "ipv4sq_raydium_cpmm_pool_Q2sPH.json").read_text())
    data = base64.b64decode(fx["account_data_base64"])
    parsed = coder.parse(data)
    assert parsed.name == "PoolState"
    _assert_same(cpmm.decode_pool(data, cpmm.PROGRAM_ID), parsed.data, cpmm.CpmmPool.__slots__)
    # The IDL layout covers every byte: 8-byte discriminator + 629 of fields.
    assert coder._accounts_layout["PoolState"].sizeof() + 8 == cpmm.POOL_SIZE
    assert coder._accounts_layout["AmmConfig"].sizeof() + 8 == cpmm.CONFIG_SIZE


def _pool_bytes(body: bytes, flag: bool) -> bytes:
    data = bytearray(cpmm.POOL_DISCRIMINATOR + body)
    data[390] = int(flag)  # enable_creator_fee is a Borsh bool
    return bytes(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=cpmm.POOL_SIZE - 8, max_size=cpmm.POOL_SIZE - 8), st.booleans())
def test_random_pool_encodings_decode_the_same(coder: AccountsCoder, body: bytes, flag: bool) -> None:
    data = _pool_bytes(body, flag)
    _assert_same(cpmm.decode_pool(data, cpmm.PROGRAM_ID), coder.decode(data), cpmm.CpmmPool.__slots__)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(min_size=cpmm.CONFIG_SIZE - 8, max_size=cpmm.CONFIG_SIZE - 8),
    st.booleans(),
    st.lists(st.integers(0, 999_999), min_size=4, max_size=4),
)
def test_random_config_encodings_decode_the_same(
    coder: AccountsCoder, body: bytes, flag: bool, rates: list[int]
) -> None:
    data = bytearray(cpmm.CONFIG_DISCRIMINATOR + body)
    data[9] = int(flag)
    for offset, rate in zip((12, 20, 28, 108), rates):  # rates below 1e6, as the program keeps them
        data[offset : offset + 8] = rate.to_bytes(8, "little")
    ours = cpmm.decode_amm_config(bytes(data), cpmm.PROGRAM_ID)
    _assert_same(ours, coder.decode(bytes(data)), cpmm.CpmmConfig.__slots__)
