"""Market state: latest slot wins, the consistency gate, refusals, malformed input — all on real bytes
(the mainnet CPMM pool dump) through the real decoders."""

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

from bot.cache import CacheWriter
from strategies import layout
from strategies.venues import raydium_cpmm as cpmm

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
CPMM_ID = str(cpmm.PROGRAM_ID)
TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"


def pool_bytes() -> tuple[str, bytes]:
    doc = json.loads((FIXTURES / "ipv4sq_raydium_cpmm_pool_Q2sPH.json").read_text())
    return doc["pool_address"], base64.b64decode(doc["account_data_base64"])


def token_account(mint: Pubkey, amount: int) -> bytes:
    return (
        bytes(mint)
        + bytes(Pubkey.new_unique())
        + struct.pack("<Q", amount)
        + bytes(4 + 32)
        + b"\x01"
        + bytes(12 + 8 + 4 + 32)
    )


def amm_config(trade: int, protocol: int, fund: int) -> bytes:
    return (
        cpmm.CONFIG_DISCRIMINATOR
        + struct.pack("<BBHQQQQ", 1, 0, 0, trade, protocol, fund, 0)
        + bytes(64)
        + struct.pack("<Q", 0)
        + bytes(120)
    )


@pytest.fixture
def market_one():
    address, data = pool_bytes()
    pool = cpmm.decode_pool(data, cpmm.PROGRAM_ID)
    arrays = layout.allocate(1, 2)
    refusals: list[str] = []
    m = CacheWriter(arrays, on_refusal=lambda e, r: refusals.append(r), now_unix=lambda: 2_000_000_000)
    entry = m.add_pool("raydium_cpmm", address, CPMM_ID)
    assert m.apply(entry.pool_key, 100, data, CPMM_ID, 1) == -1  # vaults unknown yet
    return m, entry, pool, data, refusals


def feed_all(m, entry, pool, slot, v0, v1, cfg=(2500, 120000, 40000), data=None):
    out = m.apply(entry.config_key, slot, amm_config(*cfg), CPMM_ID, 1)
    out = m.apply(entry.vault_a_key, slot, token_account(pool.token_0_mint, v0), TOKEN, 2)
    out = m.apply(entry.vault_b_key, slot, token_account(pool.token_1_mint, v1), TOKEN, 3)
    return out


def test_consistent_state_is_written_exactly(market_one):
    m, entry, pool, _, _ = market_one
    v0, v1 = 10**13, 5 * 10**12
    assert feed_all(m, entry, pool, 100, v0, v1) == entry.idx
    owed0 = pool.protocol_fees_token_0 + pool.fund_fees_token_0 + pool.creator_fees_token_0
    owed1 = pool.protocol_fees_token_1 + pool.fund_fees_token_1 + pool.creator_fees_token_1
    assert m.exact_state(entry.idx) == (v0 - owed0, v1 - owed1)
    assert layout.is_usable(m.arrays, entry.idx)
    pi = m.arrays.pools_i[entry.idx]
    assert pi[layout.I_SLOT] == 100 and pi[layout.I_RECV_NS] == 3
    assert m.tokens[str(pool.token_0_mint)] == pi[layout.I_TOKEN_A]


def test_older_slot_never_overwrites(market_one):
    m, entry, pool, _, _ = market_one
    feed_all(m, entry, pool, 100, 10**13, 10**13)
    feed_all(m, entry, pool, 105, 2 * 10**13, 2 * 10**13)
    before = m.exact_state(entry.idx)
    version = int(m.arrays.pools_i[entry.idx, layout.I_VERSION])
    assert m.apply(entry.vault_a_key, 103, token_account(pool.token_0_mint, 1), TOKEN, 9) == -1
    assert m.stats.stale == 1
    assert m.exact_state(entry.idx) == before
    assert int(m.arrays.pools_i[entry.idx, layout.I_VERSION]) == version


def test_pool_before_its_vaults_is_settling_until_they_agree(market_one):
    m, entry, pool, data, _ = market_one
    feed_all(m, entry, pool, 100, 10**13, 10**13)
    # Pool account at 101 arrives first: settling, never usable meanwhile.
    assert m.apply(entry.pool_key, 101, data, CPMM_ID, 5) == -1
    assert not layout.is_usable(m.arrays, entry.idx)
    # One vault at 101: still settling (the other vault is older).
    assert m.apply(entry.vault_a_key, 101, token_account(pool.token_0_mint, 9 * 10**12), TOKEN, 6) == -1
    assert not layout.is_usable(m.arrays, entry.idx)
    assert (
        m.apply(entry.vault_b_key, 101, token_account(pool.token_1_mint, 11 * 10**12), TOKEN, 7) == entry.idx
    )
    assert layout.is_usable(m.arrays, entry.idx)


@settings(max_examples=200, deadline=None)
@given(order=st.permutations([0, 1, 2]), slots=st.lists(st.integers(100, 110), min_size=3, max_size=3))
def test_gate_property(order, slots):
    """Whatever the arrival order and slots, the pool is usable iff vaults agree and the pool is not newer."""
    address, data = pool_bytes()
    pool = cpmm.decode_pool(data, cpmm.PROGRAM_ID)
    m = CacheWriter(layout.allocate(1, 2), now_unix=lambda: 2_000_000_000)
    entry = m.add_pool("raydium_cpmm", address, CPMM_ID)
    m.apply(entry.pool_key, 0, data, CPMM_ID, 0)  # learn the dependencies, as the start-up snapshot does
    m.apply(entry.config_key, 0, amm_config(2500, 0, 0), CPMM_ID, 0)
    updates = [
        (entry.pool_key, slots[0], data, CPMM_ID),
        (entry.vault_a_key, slots[1], token_account(pool.token_0_mint, 10**13), TOKEN),
        (entry.vault_b_key, slots[2], token_account(pool.token_1_mint, 10**13), TOKEN),
    ]
    for i in order:
        m.apply(*updates[i], 1)
    want = slots[1] == slots[2] and slots[0] <= slots[1]
    assert layout.is_usable(m.arrays, entry.idx) == want


def test_refusals_are_reported_once_and_never_tradable(market_one):
    m, entry, pool, data, refusals = market_one
    raw = bytearray(data)
    raw[329] |= cpmm.STATUS_SWAP_DISABLED
    feed_all(m, entry, pool, 100, 10**13, 10**13)
    for slot in (101, 102, 103):
        m.apply(entry.pool_key, slot, bytes(raw), CPMM_ID, 1)
        feed_all(m, entry, pool, slot, 10**13, 10**13)
        assert not layout.is_usable(m.arrays, entry.idx)
    assert refusals == ["SWAP_DISABLED"]


def test_malformed_and_wrong_owner_are_counted_and_skipped(market_one):
    m, entry, pool, data, _ = market_one
    feed_all(m, entry, pool, 100, 10**13, 10**13)
    state = m.exact_state(entry.idx)
    assert m.apply(entry.pool_key, 101, data[:100], CPMM_ID, 1) == -1
    assert m.apply(entry.pool_key, 101, b"\x00" * 637, CPMM_ID, 1) == -1
    assert m.apply(entry.vault_a_key, 101, b"\x01\x02", TOKEN, 1) == -1
    assert m.stats.malformed == 3
    assert (
        m.apply(
            entry.vault_a_key, 101, token_account(pool.token_0_mint, 1), "11111111111111111111111111111111", 1
        )
        == -1
    )
    assert m.stats.wrong_owner == 1
    assert m.apply(10_000, 101, b"", TOKEN, 1) == -1 and m.stats.unknown_key == 1
    assert m.exact_state(entry.idx) == state
    # The last good values are not traded on while an account is garbage (issue 18): unusable at once.
    assert not layout.is_usable(m.arrays, entry.idx) and entry.unusable
    feed_all(m, entry, pool, 102, 10**13, 10**13)  # good updates of every account again
    assert layout.is_usable(m.arrays, entry.idx) and not entry.unusable


def whirlpool_bytes(tick: int) -> tuple[str, bytes]:
    doc = json.loads((FIXTURES / "orca_rpr_whirlpool.json").read_text())
    raw = bytearray(base64.b64decode(doc["account"]["data"][0]))
    struct.pack_into("<i", raw, 81, tick)  # tick_current_index (protocols.md §3.1)
    return doc["pubkey"], bytes(raw)


def test_whirlpool_tick_arrays_follow_the_current_tick():
    from strategies.venues import orca_whirlpool as orca

    address, data = whirlpool_bytes(-115109)
    m = CacheWriter(layout.allocate(1, 2, tick_rows=orca.ADAPTER.tick_capacity))
    entry = m.add_pool("orca_whirlpool", address, str(orca.WHIRLPOOL_PROGRAM_ID))
    m.apply(entry.pool_key, 10, data, str(orca.WHIRLPOOL_PROGRAM_ID), 1)
    spacing = entry.static.tick_spacing

    def expected(tick: int) -> set[int]:
        return set(orca.tick_array_start_indexes(tick, spacing, True)) | set(
            orca.tick_array_start_indexes(tick, spacing, False)
        )

    add, drop = m.retarget_tick_arrays(entry)
    assert drop == [] and set(entry.tick_keys) == expected(-115109)
    assert {m.watched[k].pubkey for k in add} == {
        str(orca.tick_array_address(entry.address, s, entry.program_id)) for s in expected(-115109)
    }
    # The price moves two arrays up: new arrays are subscribed, the far ones dropped.
    far = -115109 + 3 * 88 * spacing
    _, moved = whirlpool_bytes(far)
    m.apply(entry.pool_key, 11, moved, str(orca.WHIRLPOOL_PROGRAM_ID), 2)
    add2, drop2 = m.retarget_tick_arrays(entry)
    assert set(entry.tick_keys) == expected(far)
    assert {m.watched[k].tick_start for k in drop2} == expected(-115109) - expected(far)
    assert {m.watched[k].tick_start for k in add2} == expected(far) - expected(-115109)
    # Arrays that do not exist yet (system-owned, empty) are a valid "no ticks" state, not an error.
    k = add2[0]
    m.apply(k, 11, b"", "11111111111111111111111111111111", 3)
    assert m.stats.wrong_owner == 0 and m.stats.malformed == 0
    # A tick array newer than the pool account leaves the pool settling.
    m.apply(k, 12, b"", "11111111111111111111111111111111", 4)
    assert m.arrays.pools_i[entry.idx, layout.I_FLAGS] & layout.FLAG_SETTLING


def test_settling_is_released_once_the_cluster_moves_past(market_one):
    """A pool-only write (no vault change in that slot) must not wedge the pool forever."""
    m, entry, pool, data, _ = market_one
    feed_all(m, entry, pool, 100, 10**13, 10**13)
    m.on_slot(100, 0)
    raw = bytearray(data)
    raw[341:349] = (7).to_bytes(8, "little")  # protocol fees owed on token 0 changed, vaults did not
    assert m.apply(entry.pool_key, 101, bytes(raw), CPMM_ID, 1) == -1
    assert not layout.is_usable(m.arrays, entry.idx)
    assert m.on_slot(102, 2) == []  # still within the settle window: the vault update may be in flight
    assert not layout.is_usable(m.arrays, entry.idx)
    assert m.on_slot(103, 3) == [entry.idx]
    assert layout.is_usable(m.arrays, entry.idx)
    owed1 = pool.protocol_fees_token_1 + pool.fund_fees_token_1 + pool.creator_fees_token_1
    assert m.exact_state(entry.idx) == (
        10**13 - 7 - pool.fund_fees_token_0 - pool.creator_fees_token_0,
        10**13 - owed1,
    )
    assert m.arrays.pools_i[entry.idx, layout.I_SLOT] == 101


def test_whirlpool_row_and_exact_quote_come_from_the_watched_arrays():
    """The CLMM row is written once every array around the current tick is held (the screening state
    packs their initialized ticks); the exact quote runs on the same decoded accounts; a pool that moved
    into arrays not loaded yet is settling (not malformed) until they arrive; adaptive fees are refused."""
    from localnet.programs import whirlpool_accounts as wa
    from strategies.venues import orca_whirlpool as orca
    from strategies.venues import whirlpool_kernels as wk

    wp = str(orca.WHIRLPOOL_PROGRAM_ID)
    address, data = whirlpool_bytes(-115109)
    refusals: list[str] = []
    m = CacheWriter(
        layout.allocate(1, 2, tick_rows=orca.ADAPTER.tick_capacity),
        on_refusal=lambda e, r: refusals.append(r),
    )
    entry = m.add_pool("orca_whirlpool", address, wp)
    m.apply(entry.pool_key, 10, data, wp, 1)
    pool, ts = orca.decode_whirlpool(data), entry.static.tick_spacing
    add, _ = m.retarget_tick_arrays(entry)
    arrays: dict[int, orca.TickArray] = {}
    for i, key in enumerate(add):
        start = m.watched[key].tick_start
        ticks = {start + k * ts: wa.TickFields(10**12 * (k - 40), 10**13) for k in (3, 40, 77) if i != 2}
        raw = wa.tick_array_data(start, entry.address, ticks, ts)
        arrays[start] = orca.decode_tick_array(raw)
        written = m.apply(key, 10, raw, wp, 2)
        # Every array but the last is missing something: pending, not malformed, never usable.
        assert written == (entry.idx if i == len(add) - 1 else -1)
    assert m.stats.malformed == 0 and layout.is_usable(m.arrays, entry.idx)
    pf = m.arrays.pools_f[entry.idx]
    want = wk.screening_inputs(pool, list(arrays.values()))
    n = int(pf[layout.F_TICKS_N])
    row = int(pf[layout.F_TICKS_ROW])
    assert n == len(want.ticks) > 0 and (m.arrays.ticks[row : row + n] == want.ticks).all()
    assert (
        pf[layout.F_SQRT_PRICE],
        pf[layout.F_LIQUIDITY],
        pf[layout.F_END_SQRT_AB],
        pf[layout.F_END_SQRT_BA],
    ) == (want.sqrt_price, want.liquidity, want.end_sqrt_a_to_b, want.end_sqrt_b_to_a)
    assert m.arrays.pools_i[entry.idx, layout.I_TICK] == -115109
    for a_to_b in (True, False):
        q = orca.quote_swap(
            pool, orca.swap_tick_arrays(pool, arrays, a_to_b, entry.address), 10**9, a_to_b=a_to_b
        )
        assert m.quote(entry.idx, a_to_b, 10**9) == (q.amount_out, q.ticks_crossed)
    # The price moves three arrays up: pending until the retargeted arrays arrive.
    _, moved = whirlpool_bytes(-115109 + 3 * 88 * ts)
    assert m.apply(entry.pool_key, 11, moved, wp, 3) == -1
    assert not layout.is_usable(m.arrays, entry.idx) and m.stats.malformed == 0
    add2, _ = m.retarget_tick_arrays(entry)
    for key in add2:
        written = m.apply(key, 11, b"", "11111111111111111111111111111111", 4)
    assert written == entry.idx and layout.is_usable(m.arrays, entry.idx)
    # An adaptive-fee pool (fee tier index != tick spacing) stays refused, with the reason.
    raw = bytearray(moved)
    struct.pack_into("<H", raw, 43, ts + 1)  # fee_tier_index (protocols.md §3.1)
    assert m.apply(entry.pool_key, 12, bytes(raw), wp, 5) == -1
    assert refusals == ["WHIRLPOOL_ADAPTIVE_FEE"] and not layout.is_usable(m.arrays, entry.idx)
