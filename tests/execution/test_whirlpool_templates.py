"""Whirlpool legs in templates: the three tick arrays follow the price by rewriting account-index bytes,
and the patched bytes are exactly a fresh compile of the swap built for the new tick; a tick outside the
compiled window is refused on the hot path and the executor rebuilds the template off it."""

from __future__ import annotations

import asyncio
import time

import pytest
from solders import compute_budget as cb
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction
from test_templates import amm_entry, cpmm_entry

from bot.cache import PoolEntry
from bot.execution.executor import BlockhashCache, ExecPolicy, Executor
from bot.execution.message import MAX_TX_BYTES
from bot.execution.rebuild import TemplateRebuilder
from bot.execution.templates import compile_template, lookup_addresses, route_instructions
from bot.keys import Wallet
from localnet.programs import whirlpool_accounts as wa
from strategies import layout
from strategies import routes as R
from strategies.opportunity import Opportunity, OpportunityLeg
from strategies.venues import orca_whirlpool as ow
from strategies.venues import whirlpool_math as wm
from strategies.venues.base import Venue

SPACING = 8
WIDTH = wm.TICK_ARRAY_SIZE * SPACING
TICK0 = 3 * WIDTH + 100  # inside the array starting at 3 * WIDTH


def whirlpool_entry(idx: int, mint_a: Pubkey, mint_b: Pubkey, tick: int = TICK0) -> PoolEntry:
    mint_a, mint_b = sorted((mint_a, mint_b), key=bytes)
    fields = wa.WhirlpoolFields(
        whirlpools_config=Pubkey.new_unique(), whirlpool_bump=255, tick_spacing=SPACING, token_mint_a=mint_a,
        token_vault_a=Pubkey.new_unique(), token_mint_b=mint_b, token_vault_b=Pubkey.new_unique(),
        sqrt_price=wm.sqrt_price_from_tick_index(tick), tick_current_index=tick, liquidity=10**12,
    )  # fmt: skip
    e = PoolEntry(idx, Venue.orca_whirlpool, ow.ADAPTER, Pubkey.new_unique(), ow.WHIRLPOOL_PROGRAM_ID)
    e.static = ow.decode_whirlpool(wa.whirlpool_data(fields))
    return e


def route_with(kinds: tuple[str, ...], flip: bool = False):
    """A cycle over len(kinds) pools of those kinds (tokens 0 -> 1 -> ... -> 0); a Whirlpool orders its
    mints bytewise, so its leg sells a unless `flip` swaps the first two mints."""
    n = len(kinds)
    mints = [Pubkey.new_unique() for _ in range(n)]  # increasing
    if flip:
        mints[0], mints[1] = mints[1], mints[0]
    make = {"cpmm": cpmm_entry, "amm": amm_entry, "wp": whirlpool_entry}
    pools = [make[k](i, mints[i], mints[(i + 1) % n]) for i, k in enumerate(kinds)]
    legs = []
    for i, e in enumerate(pools):
        a, _ = e.adapter.mints(e.static)
        direction = R.DIR_A_TO_B if a == mints[i] else R.DIR_B_TO_A
        legs.append(R.Leg(i, direction, i, (i + 1) % n))
    atas = {t: Pubkey.new_unique() for t in range(n)}
    return R.Route(0, R.ROUTE_CYCLE, 0, 0, tuple(legs)), pools, atas


def compiled(kinds, kp, tip, flip=False):
    route, pools, atas = route_with(kinds, flip)
    ixs, _ = route_instructions(route, pools, kp.pubkey(), atas, tip)
    alt = AddressLookupTableAccount(Pubkey.new_unique(), lookup_addresses(ixs, kp.pubkey()))
    tmpl, keys = compile_template(route, pools, kp.pubkey(), atas, [alt], tip)
    return route, pools, atas, alt, ixs, tmpl, keys


def resolved_keys(tx: bytes, alt: AddressLookupTableAccount) -> list[Pubkey]:
    """A signed v0 transaction's account list: static keys, then loaded writable, then readonly."""
    msg = VersionedTransaction.from_bytes(tx).message
    keys = list(msg.account_keys)
    keys += [alt.addresses[i] for lk in msg.address_table_lookups for i in lk.writable_indexes]
    keys += [alt.addresses[i] for lk in msg.address_table_lookups for i in lk.readonly_indexes]
    return keys


def swap_tick_arrays_of(tx: bytes, alt: AddressLookupTableAccount, ix_index: int) -> list[Pubkey]:
    """The tick arrays (accounts 7..9) the Whirlpool swap of a signed transaction names."""
    keys = resolved_keys(tx, alt)
    ix = VersionedTransaction.from_bytes(tx).message.instructions[ix_index]
    return [keys[ix.accounts[p]] for p in ow.SWAP_TICK_ARRAY_POSITIONS]


def arrays_for(entry: PoolEntry, tick: int, a_to_b: bool, kp: Keypair, atas) -> list[Pubkey]:
    """What `swap_accounts_for` (the builder the localnet tests swap with) names for the pool at `tick`."""
    state = ow.current_state(entry.static, (wm.sqrt_price_from_tick_index(tick), 10**12, tick, 3000, SPACING))
    got = ow.swap_accounts_for(entry.address, state, kp.pubkey(), atas[0], atas[1], a_to_b)
    return [got.tick_array_0, got.tick_array_1, got.tick_array_2]


@pytest.mark.parametrize("kinds", [("wp", "cpmm", "amm"), ("cpmm", "wp", "wp"), ("wp", "wp", "wp")])
def test_three_leg_route_with_whirlpool_legs_fits(kinds):
    kp, tip = Keypair(), Pubkey.new_unique()
    *_, tmpl, keys = compiled(kinds, kp, tip)
    assert tmpl.tx_size <= MAX_TX_BYTES and tmpl.num_accounts <= 64
    assert len(set(keys)) == len(keys) and tmpl.follows_price


@pytest.mark.parametrize("a_to_b", [True, False])
@pytest.mark.parametrize(
    "moved", [-WIDTH, -1, 0, 1, WIDTH - 100 - SPACING, WIDTH]
)  # within one array either way
def test_tick_arrays_follow_the_price_and_equal_a_fresh_compile(a_to_b, moved):
    kp, tip = Keypair(), Pubkey.new_unique()
    route, pools, atas, alt, ixs, tmpl, _ = compiled(("wp", "cpmm"), kp, tip, flip=not a_to_b)
    assert (route.legs[0].direction == R.DIR_A_TO_B) == a_to_b
    tick = TICK0 + moved
    assert tmpl.choose_accounts([tick, 0])
    plan = [(1_000, 900), (900, 1_100)]
    bh = bytes(range(32))
    tmpl.patch(bh, plan, 150_000, 777, 5_000)
    got = tmpl.sign(kp)
    # The swap names the three arrays the program needs from the new tick, in its order.
    want = arrays_for(pools[0], tick, a_to_b, kp, atas)
    assert swap_tick_arrays_of(got, alt, 2) == want
    # A fresh compile of the same instructions, with the swap's arrays set for the new tick (and the
    # template's window still listed after its accounts), is byte-for-byte what the patch produced.
    fresh_ixs = [cb.set_compute_unit_limit(150_000), cb.set_compute_unit_price(777)]
    for (amount, min_out), ix, leg in zip(plan, ixs[2:4], route.legs, strict=True):
        data = bytearray(bytes(ix.data))
        data[8:16], data[16:24] = amount.to_bytes(8, "little"), min_out.to_bytes(8, "little")
        metas = list(ix.accounts)
        if pools[leg.pool].venue is Venue.orca_whirlpool:
            for pos, key in zip(ow.SWAP_TICK_ARRAY_POSITIONS, want, strict=True):
                metas[pos] = AccountMeta(key, False, True)
        fresh_ixs.append(Instruction(ix.program_id, bytes(data), metas))
    fresh_ixs.append(transfer(TransferParams(from_pubkey=kp.pubkey(), to_pubkey=tip, lamports=5_000)))
    fresh = VersionedTransaction(MessageV0.try_compile(kp.pubkey(), fresh_ixs, [alt], Hash(bh)), [kp])
    assert got == bytes(fresh)


def test_tick_outside_the_window_is_refused_and_a_rebuild_serves_it():
    kp, tip = Keypair(), Pubkey.new_unique()
    route, pools, atas, alt, _, tmpl, _ = compiled(("wp", "cpmm"), kp, tip)
    far = TICK0 + 3 * WIDTH
    assert not tmpl.choose_accounts([far, 0]) and not tmpl.choose_accounts([TICK0 - 2 * WIDTH, 0])
    rebuilt, keys = compile_template(route, pools, kp.pubkey(), atas, [alt], tip, ticks=[far, 0])
    assert rebuilt.choose_accounts([far, 0])
    rebuilt.patch(bytes(32), [(1, 1), (1, 1)], 1, 0, 0)
    tx = rebuilt.sign(kp)
    assert swap_tick_arrays_of(tx, alt, 2) == arrays_for(pools[0], far, True, kp, atas)
    assert resolved_keys(tx, alt) == keys
    # The arrays the lookup table lacks ride as static keys: the transaction grew, and still fits.
    assert tmpl.tx_size < rebuilt.tx_size <= MAX_TX_BYTES
    assert rebuilt.choose_accounts([far + WIDTH, 0]) and not rebuilt.choose_accounts([TICK0, 0])


class _NoLog:
    def __getattr__(self, name: str):
        return lambda *a, **k: None


async def test_executor_rebuilds_off_the_hot_path_when_the_price_leaves_the_window():
    kp, tip = Keypair(), Pubkey.new_unique()
    route, pools, atas, alt, _, tmpl, keys = compiled(("wp", "cpmm"), kp, tip)
    table = R.RouteTable(graph=None, mints=("m0", "m1"), token_index={"m0": 0, "m1": 1},  # type: ignore[arg-type]
                         routes=(route,))  # fmt: skip
    market = layout.allocate(2, 2).market
    layout.write_token(market, 0, is_sol=True, balance=10**12, max_notional=10**12)
    released: list[int] = []

    ex = Executor(
        wallet=Wallet(kp), templates={0: tmpl}, params=market, route_pools={0: (0, 1)},
        start_accounts={0: (atas[0], keys.index(atas[0]))}, rpc=None, pubsub=None, sender=None,  # type: ignore[arg-type]
        blockhash=BlockhashCache(bytes(range(32)), 100, 1, time.monotonic_ns()),
        policy=ExecPolicy(dry_run=False, min_profit_lamports=0, budget_ns=10**9, max_trades_per_minute=10**9),
        log=_NoLog(), rebuild=TemplateRebuilder(table, pools, kp.pubkey(), atas, [alt], tip),
        on_release=released.append, current_slot=lambda: 1,
    )  # fmt: skip
    far = TICK0 + 3 * WIDTH

    def opp(tick: int) -> Opportunity:
        legs = (OpportunityLeg(0, layout.KIND_ORCA_WHIRLPOOL, route.legs[0].direction, 0, 1, 10**9, 5 * 10**8,
                               5 * 10**8, tick),
                OpportunityLeg(1, layout.KIND_RAYDIUM_CPMM, route.legs[1].direction, 1, 0, 5 * 10**8,
                               10**9 + 10**6, 10**9 + 10**6))  # fmt: skip
        return Opportunity(0, R.ROUTE_CYCLE, 0, 0, legs, 10**9, 10**9 + 10**6, 200_000, 7_000, 7_000,
                           10**6 - 7_000, 1, 0, 0.0)  # fmt: skip

    assert ex.sign_opportunity(opp(TICK0 + WIDTH)) is not None  # within the window: patched, signed
    assert ex.sign_opportunity(opp(far)) is None and ex.stats.off_window == 1
    assert ex.templates[0] is tmpl  # not rebuilt on the hot path
    await asyncio.sleep(0)  # the rebuild runs on the loop, after the hot path returned
    assert ex.stats.rebuilt == 1 and ex.templates[0] is not tmpl and released == [0, 1]
    tx = ex.sign_opportunity(opp(far))
    assert tx is not None
    VersionedTransaction.from_bytes(tx).verify_with_results()
    assert swap_tick_arrays_of(tx, alt, 2) == arrays_for(pools[0], far, True, kp, atas)
    start, index = ex.start_accounts[0]
    assert start == atas[0] and resolved_keys(tx, alt)[index] == atas[0]
