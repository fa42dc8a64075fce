"""Patched precompiled messages equal freshly compiled ones, byte for byte, signature included."""

from __future__ import annotations

import struct

import pytest
import solders.compute_budget as cb
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from bot.execution.message import (
    MAX_TX_BYTES,
    RouteTemplate,
    Signer,
    TxTooLarge,
    compile_route_message,
    parse_v0,
)

PROGRAM = Pubkey.new_unique()
DISC = bytes(range(8))


def swap_ix(owner: Pubkey, accounts: list[Pubkey], amount: int, threshold: int) -> Instruction:
    metas = [AccountMeta(owner, True, False)] + [AccountMeta(a, False, True) for a in accounts]
    return Instruction(PROGRAM, DISC + struct.pack("<QQ", amount, threshold), metas)


def build(payer: Pubkey, legs, cu_limit, cu_price, tip, tip_to, accounts, alts):
    ixs = [cb.set_compute_unit_limit(cu_limit), cb.set_compute_unit_price(cu_price)]
    ixs += [swap_ix(payer, accounts[i], a, t) for i, (a, t) in enumerate(legs)]
    ixs.append(transfer(TransferParams(from_pubkey=payer, to_pubkey=tip_to, lamports=tip)))
    return ixs


u64 = st.integers(0, 2**64 - 1)


@settings(max_examples=60, deadline=None)
@given(
    legs=st.lists(st.tuples(u64, u64), min_size=1, max_size=3),
    cu_limit=st.integers(0, 1_400_000),
    cu_price=u64,
    tip=u64,
    blockhash=st.binary(min_size=32, max_size=32),
    use_alt=st.booleans(),
)
def test_patch_then_sign_equals_compile_then_sign(legs, cu_limit, cu_price, tip, blockhash, use_alt):
    kp = Keypair()
    payer = kp.pubkey()
    accounts = [[Pubkey.new_unique() for _ in range(6)] for _ in legs]
    tip_to = Pubkey.new_unique()
    alts = []
    if use_alt:
        alts = [AddressLookupTableAccount(Pubkey.new_unique(), [a for acc in accounts for a in acc])]
    n = len(legs)
    template = RouteTemplate(
        compile_route_message(payer, build(payer, [(1, 1)] * n, 1, 1, 1, tip_to, accounts, alts), alts),
        swap_ix_indexes=range(2, 2 + n),
        leg_arg_offsets=[(8, 16)] * n,
        cu_limit_ix=0,
        cu_price_ix=1,
        tip_ix=2 + n,
    )
    template.patch(blockhash, legs, cu_limit, cu_price, tip)
    got = template.sign(kp)
    fresh = MessageV0.try_compile(
        payer, build(payer, legs, cu_limit, cu_price, tip, tip_to, accounts, alts), alts, Hash(blockhash)
    )
    want = bytes(VersionedTransaction(fresh, [kp]))
    assert got == want
    assert len(got) == template.tx_size
    VersionedTransaction.from_bytes(got).verify_with_results()


def test_parse_v0_rejects_garbage():
    with pytest.raises(ValueError):
        parse_v0(b"\x01\x02")
    kp = Keypair()
    raw = bytes(VersionedTransaction(MessageV0.try_compile(kp.pubkey(), [], [], Hash.default()), [kp]))[65:]
    parse_v0(raw)
    with pytest.raises(ValueError, match="trailing"):
        parse_v0(raw + b"\x00")


def test_too_many_accounts_or_bytes_is_refused_before_signing():
    kp = Keypair()
    payer = kp.pubkey()
    accounts = [[Pubkey.new_unique() for _ in range(30)] for _ in range(3)]
    ixs = build(payer, [(1, 1)] * 3, 1, 1, 1, Pubkey.new_unique(), accounts, [])
    with pytest.raises(TxTooLarge, match="bytes"):
        RouteTemplate(
            compile_route_message(payer, ixs, []),
            swap_ix_indexes=[2, 3, 4],
            leg_arg_offsets=[(8, 16)] * 3,
            cu_limit_ix=0,
            cu_price_ix=1,
            tip_ix=5,
        )
    alt = AddressLookupTableAccount(Pubkey.new_unique(), [a for acc in accounts for a in acc])
    with pytest.raises(TxTooLarge, match="locks"):
        RouteTemplate(
            compile_route_message(payer, ixs, [alt]),
            swap_ix_indexes=[2, 3, 4],
            leg_arg_offsets=[(8, 16)] * 3,
            cu_limit_ix=0,
            cu_price_ix=1,
            tip_ix=5,
        )
    assert MAX_TX_BYTES == 1232


@settings(max_examples=40, deadline=None)
@given(message=st.binary(min_size=1, max_size=1_200), seed=st.binary(min_size=32, max_size=32))
def test_signer_bytes_equal_solders_signature(message, seed):
    """PyNaCl (the hot path's signer) and solders give the same ed25519 signature, byte for byte."""
    kp = Keypair.from_seed(seed)
    tx = Signer(kp).sign_tx(message)
    assert tx == b"\x01" + bytes(kp.sign_message(message)) + message
    assert "secret" not in repr(Signer(kp)).lower() and str(kp.pubkey()) in repr(Signer(kp))
