"""Route templates: the largest 3-leg route (every account distinct, compute budget, tip) fits in
1,232 bytes and 64 locks with the lookup table the set-up phase builds; template bytes are exactly
what a fresh compile of the same instructions gives."""

from __future__ import annotations

import pytest
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from bot.cache import PoolEntry
from bot.execution.message import MAX_TX_BYTES, TxTooLarge
from bot.execution.templates import compile_template, lookup_addresses, route_instructions
from localnet.programs import cpmm_accounts as ca
from strategies import routes as R
from strategies.venues import raydium_amm_v4 as amm
from strategies.venues import raydium_cpmm as cpmm
from strategies.venues.base import Venue


def cpmm_entry(idx: int, mint_a: Pubkey, mint_b: Pubkey) -> PoolEntry:
    fields = ca.PoolFields(
        amm_config=Pubkey.new_unique(),
        token_0_vault=Pubkey.new_unique(),
        token_1_vault=Pubkey.new_unique(),
        token_0_mint=mint_a,
        token_1_mint=mint_b,
        observation_key=Pubkey.new_unique(),
        auth_bump=253,
    )
    e = PoolEntry(idx, Venue.raydium_cpmm, cpmm.ADAPTER, Pubkey.new_unique(), cpmm.PROGRAM_ID)
    e.static = cpmm.decode_pool(ca.pool_data(fields), cpmm.PROGRAM_ID)
    return e


def amm_entry(idx: int, mint_a: Pubkey, mint_b: Pubkey) -> PoolEntry:
    raw = bytearray(amm.AMM_INFO_SIZE)
    raw[0], raw[8] = 6, 254
    raw[176:192] = (25).to_bytes(8, "little") + (10_000).to_bytes(8, "little")
    raw[336:368], raw[368:400] = bytes(Pubkey.new_unique()), bytes(Pubkey.new_unique())
    raw[400:432], raw[432:464] = bytes(mint_a), bytes(mint_b)
    e = PoolEntry(idx, Venue.raydium_amm_v4, amm.ADAPTER, Pubkey.new_unique(), amm.PROGRAM_ID)
    e.static = amm.decode_amm_info(bytes(raw), amm.PROGRAM_ID)
    return e


def three_leg(kinds: tuple[str, str, str]):
    mints = [Pubkey.new_unique() for _ in range(3)]
    make = {"cpmm": cpmm_entry, "amm": amm_entry}
    pools = [make[k](i, mints[i], mints[(i + 1) % 3]) for i, k in enumerate(kinds)]
    legs = tuple(R.Leg(i, R.DIR_A_TO_B, i, (i + 1) % 3) for i in range(3))
    route = R.Route(0, R.ROUTE_CYCLE, 0, 0, legs)
    atas = {t: Pubkey.new_unique() for t in range(3)}
    return route, pools, atas


@pytest.mark.parametrize("kinds", [("cpmm", "cpmm", "cpmm"), ("amm", "cpmm", "amm"), ("amm", "amm", "amm")])
def test_largest_three_leg_route_fits_with_lookup_table(kinds):
    route, pools, atas = three_leg(kinds)
    payer, tip = Keypair().pubkey(), Pubkey.new_unique()
    ixs, _ = route_instructions(route, pools, payer, atas, tip)
    alt = AddressLookupTableAccount(Pubkey.new_unique(), lookup_addresses(ixs, payer))
    tmpl, keys = compile_template(route, pools, payer, atas, [alt], tip)
    assert tmpl.tx_size <= MAX_TX_BYTES and tmpl.num_accounts <= 64
    assert len(set(keys)) == len(keys) == tmpl.num_accounts
    try:
        bare, _ = compile_template(route, pools, payer, atas, [], tip)  # dry-run compiles without tables
        assert tmpl.tx_size < bare.tx_size
    except TxTooLarge:
        pass  # excluded in dry-run with a logged reason


def test_template_equals_fresh_compile_after_patch():
    route, pools, atas = three_leg(("cpmm", "amm", "cpmm"))
    kp = Keypair()
    tip = Pubkey.new_unique()
    ixs, _ = route_instructions(route, pools, kp.pubkey(), atas, tip)
    alt = AddressLookupTableAccount(Pubkey.new_unique(), lookup_addresses(ixs, kp.pubkey()))
    tmpl, _ = compile_template(route, pools, kp.pubkey(), atas, [alt], tip)
    bh = bytes(range(32))
    plan = [(1_000, 900), (900, 800), (800, 1_100)]
    tmpl.patch(bh, plan, 210_000, 12_345, 7_000)
    got = tmpl.sign(kp)
    # The same transaction built from scratch with the venue builders and the real values.
    from solders import compute_budget as cb
    from solders.system_program import TransferParams, transfer

    fresh_ixs = [cb.set_compute_unit_limit(210_000), cb.set_compute_unit_price(12_345)]
    for (a, m), leg, ix in zip(plan, route.legs, ixs[2:5]):
        data = bytearray(bytes(ix.data))
        off = (
            (8, 16)
            if pools[leg.pool].venue is Venue.raydium_cpmm
            else (amm.SWAP_ARG0_OFFSET, amm.SWAP_ARG1_OFFSET)
        )
        data[off[0] : off[0] + 8] = a.to_bytes(8, "little")
        data[off[1] : off[1] + 8] = m.to_bytes(8, "little")
        fresh_ixs.append(type(ix)(ix.program_id, bytes(data), ix.accounts))
    fresh_ixs.append(transfer(TransferParams(from_pubkey=kp.pubkey(), to_pubkey=tip, lamports=7_000)))
    fresh = VersionedTransaction(MessageV0.try_compile(kp.pubkey(), fresh_ixs, [alt], Hash(bh)), [kp])
    assert got == bytes(fresh)
