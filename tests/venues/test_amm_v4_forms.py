"""AMM v4's two instruction forms through the adapter, and the OpenBook market decode the legacy form
needs (layout: serum-dex dex/src/state.rs `MarketState`, written here by localnet's independent writer)."""

from __future__ import annotations

import dataclasses
import struct

import pytest
from solders.pubkey import Pubkey

from localnet.programs import amm_v4_accounts as aa
from strategies.venues import raydium_amm_v4 as amm
from strategies.venues.errors import DecodeError

ADAPTER = amm.ADAPTER


def _pool() -> tuple[aa.PoolSetup, amm.AmmInfo]:
    setup = aa.make_pool(coin_mint=Pubkey.new_unique(), pc_mint=Pubkey.new_unique(), coin_reserve=10**12,
                         pc_reserve=10**11, market=Pubkey.new_unique())  # fmt: skip
    return setup, amm.decode_amm_info(setup.accounts[setup.amm].data, amm.PROGRAM_ID)


def _fetched(setup: aa.PoolSetup) -> dict[Pubkey, tuple[Pubkey, bytes]]:
    acc = setup.accounts[setup.market.market]
    return {setup.market.market: (acc.owner, bytes(acc.data))}


def test_decode_market_reads_the_queues_vaults_and_vault_signer() -> None:
    setup, _ = _pool()
    keys = setup.market
    (owner, data) = _fetched(setup)[keys.market]
    got = amm.decode_market(data, owner, keys.market, keys.market_program)
    assert got == amm.MarketAccounts(
        market_program=keys.market_program, market=keys.market, bids=keys.bids, asks=keys.asks,
        event_queue=keys.event_queue, coin_vault=keys.coin_vault, pc_vault=keys.pc_vault,
        vault_signer=keys.vault_signer,
    )  # fmt: skip
    # The vault signer agrees with localnet's sha256-by-definition derivation for the stored nonce.
    assert got.vault_signer == aa.vault_signer(keys.market, keys.market_program)[0]


def _patched(data: bytes, offset: int, raw: bytes) -> bytes:
    return data[:offset] + raw + data[offset + len(raw) :]


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d, o, m: (d, Pubkey.new_unique(), m), "owner is"),
        (lambda d, o, m: (d[:300], o, m), "at least 388"),
        (lambda d, o, m: (b"SERUM" + d[5:], o, m), "head padding"),
        (lambda d, o, m: (_patched(d, 5, struct.pack("<Q", 1)), o, m), "not an initialized market"),
        (lambda d, o, m: (d, o, Pubkey.new_unique()), "own_address"),
        (lambda d, o, m: (d[:-7] + b"xxxxxxx", o, m), "tail"),
    ],
)
def test_bad_market_accounts_raise_decode_error(mutate, match) -> None:
    setup, _ = _pool()
    keys = setup.market
    owner, data = _fetched(setup)[keys.market]
    data, owner, market = mutate(data, owner, keys.market)
    with pytest.raises(DecodeError, match=match):
        amm.decode_market(data, owner, market, keys.market_program)


def test_a_nonce_without_a_program_address_raises_decode_error() -> None:
    # localnet's writer stores the first nonce that has a program address; the ones below it have none.
    setup, _ = _pool()
    while setup.market.vault_signer_nonce == 0:  # about half the markets: take the next
        setup, _ = _pool()
    keys = setup.market
    owner, data = _fetched(setup)[keys.market]
    bad = _patched(data, 45, struct.pack("<Q", keys.vault_signer_nonce - 1))
    with pytest.raises(DecodeError, match="vault_signer_nonce"):
        amm.decode_market(bad, owner, keys.market, keys.market_program)


def test_forms_build_the_documented_account_lists() -> None:
    setup, info = _pool()
    payer, src, dst = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
    assert ADAPTER.swap_forms == ("v2", "legacy")
    assert ADAPTER.form_accounts(info, "v2") == ()
    assert ADAPTER.form_accounts(info, "legacy") == (setup.market.market,)
    default = ADAPTER.swap_leg(info, setup.amm, amm.PROGRAM_ID, payer, src, dst, True, {})
    v2 = ADAPTER.swap_leg(info, setup.amm, amm.PROGRAM_ID, payer, src, dst, True, {}, form="v2")
    assert default == v2
    (ix,) = v2.instructions
    assert ix.data[0] == amm.TAG_SWAP_BASE_IN_V2 and len(ix.accounts) == 8
    legacy = ADAPTER.swap_leg(info, setup.amm, amm.PROGRAM_ID, payer, src, dst, True, {}, form="legacy",
                              accounts=_fetched(setup))  # fmt: skip
    (ix,) = legacy.instructions
    assert ix.data[0] == amm.TAG_SWAP_BASE_IN and len(ix.accounts) == 17
    m = setup.market
    assert [a.pubkey for a in ix.accounts] == [
        amm.TOKEN_PROGRAM_ID, setup.amm, setup.authority, setup.open_orders, setup.coin_vault, setup.pc_vault,
        m.market_program, m.market, m.bids, m.asks, m.event_queue, m.coin_vault, m.pc_vault, m.vault_signer,
        src, dst, payer,
    ]  # fmt: skip
    assert legacy.arg_offsets == v2.arg_offsets == (amm.SWAP_ARG0_OFFSET, amm.SWAP_ARG1_OFFSET)


def test_legacy_form_needs_the_fetched_market_and_unknown_forms_are_refused() -> None:
    setup, info = _pool()
    args = (
        info,
        setup.amm,
        amm.PROGRAM_ID,
        Pubkey.new_unique(),
        Pubkey.new_unique(),
        Pubkey.new_unique(),
        True,
        {},
    )
    with pytest.raises(DecodeError, match="was not fetched"):
        ADAPTER.swap_leg(*args, form="legacy", accounts={})
    with pytest.raises(ValueError, match="unknown AMM v4 swap form"):
        ADAPTER.swap_leg(*args, form="v3")
    with pytest.raises(ValueError, match="unknown AMM v4 swap form"):
        ADAPTER.form_accounts(info, "v3")
    # A market owned by another program than the one the pool names is refused.
    other = dataclasses.replace(info, market_program=Pubkey.new_unique())
    with pytest.raises(DecodeError, match="owner is"):
        ADAPTER.swap_leg(other, *args[1:], form="legacy", accounts=_fetched(setup))
