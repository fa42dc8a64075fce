"""Market state: account updates in, the detector's cache arrays out.

One writer on the event loop (no locks anywhere): every watched account (pool, vault, config, tick
array) has an integer key; `apply(key, slot, data, owner, recv_ns)` decodes it at the edge, keeps the
latest slot per account (an older slot never overwrites a newer one), and rewrites the pool's row of
the `strategies.layout` arrays when the pool's state is consistent.

Consistency gate (documented rule): a constant-product pool is usable only when both vaults carry the
same slot and the pool account is not newer than them. A swap writes both vaults (and the pool) in one
slot, so after a swap the three agree; a pool notified before its vaults, or one vault before the
other, leaves the pool "settling" and the detector skips it until the rest arrives — or until the
cluster is `SETTLE_SLOTS` past the newest of them (`on_slot`): by then the missing update would have
come, so that account did not change (an admin write to the pool alone, a transfer into one vault). A Whirlpool prices
from its own account; it is settling while any watched tick array is newer than the pool account.

Unmodelled pools (Token-2022 fees/hooks, CPMM creator fee, adaptive fees, swap disabled, not open yet)
stay in the cache but never tradable; each refusal is reported once per (pool, reason).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from solders.pubkey import Pubkey

from strategies import layout
from strategies.venues import orca_whirlpool as orca
from strategies.venues import raydium_amm_v4 as amm
from strategies.venues import raydium_cpmm as cpmm
from strategies.venues import spl
from strategies.venues.errors import RefusalReason, Unmodelled, VenueError

ROLE_POOL = 0
ROLE_VAULT_A = 1
ROLE_VAULT_B = 2
ROLE_CONFIG = 3
ROLE_TICK_ARRAY = 4
ROLE_NAMES = ("pool", "vault_a", "vault_b", "config", "tick_array")
# A pool whose accounts disagree on slot is settling until they agree, or until the cluster is this many
# slots past the newest of them (the missing update never came: that account did not change).
SETTLE_SLOTS = 2

TOKEN_PROGRAM_B58 = str(spl.TOKEN_PROGRAM_ID)

VENUE_KIND = {
    "raydium_cpmm": layout.KIND_RAYDIUM_CPMM,
    "raydium_amm_v4": layout.KIND_RAYDIUM_AMM_V4,
    "orca_whirlpool": layout.KIND_ORCA_WHIRLPOOL,
}


@dataclass(slots=True)
class MarketStats:
    """Counters read by monitoring and tests; never reset."""

    updates: int = 0
    stale: int = 0  # older slot than what we hold: dropped
    wrong_owner: int = 0
    malformed: int = 0  # failed to decode (size, discriminator, content)
    unknown_key: int = 0
    writes: int = 0  # pool rows rewritten
    settling: int = 0  # updates that left a pool settling


@dataclass(slots=True, eq=False)
class Watched:
    """One subscribed account."""

    key: int
    pubkey: str
    pool: int
    role: int
    owner: str  # expected owner (base58)
    slot: int = -1
    value: Any = None  # decoded state (venue dataclass or token amount)
    tick_start: int = 0  # ROLE_TICK_ARRAY: its start tick index
    also: list[int] = field(default_factory=list)  # other pools depending on it (shared AmmConfig)


@dataclass(slots=True, eq=False)
class PoolEntry:
    """A configured pool and the decoded pieces its price depends on."""

    idx: int
    venue: str
    kind: int
    address: Pubkey
    program_id: Pubkey
    pool_key: int = -1
    vault_a_key: int = -1
    vault_b_key: int = -1
    config_key: int = -1
    tick_keys: dict[int, int] = field(default_factory=dict)  # start tick -> key
    token_a: int = -1
    token_b: int = -1
    mint_a: Pubkey | None = None
    mint_b: Pubkey | None = None
    refused: str = ""  # non-empty: the refusal reason (never tradable while set)
    static: Any = None  # decoded pool account of the first load (vaults, mints, config address)
    pending_static: Any = None
    keys_raw: bytes = b""  # raw account-key bytes of `static`
    mint_a_raw: bytes = b""
    mint_b_raw: bytes = b""


OnRefusal = Callable[[PoolEntry, str], None]


class Market:
    """The single writer of the cache arrays. Pure bookkeeping: the caller does the I/O."""

    def __init__(
        self,
        arrays: layout.Cache | None = None,
        *,
        on_refusal: OnRefusal | None = None,
        now_unix: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.arrays = arrays
        self.pools: list[PoolEntry] = []
        self.watched: list[Watched] = []
        self.by_pubkey: dict[str, int] = {}
        self.tokens: dict[str, int] = {}  # mint (base58) -> token index
        self.stats = MarketStats()
        self._refusals_reported: set[tuple[int, str]] = set()
        self.slot = 0  # latest slot seen by `on_slot`
        self._settling: dict[int, int] = {}  # pool -> newest slot among its accounts
        self._on_refusal = on_refusal
        self._now_unix = now_unix

    # ---- set-up (cold path) --------------------------------------------------------------------
    def add_pool(self, venue: str, address: str, program_id: str) -> PoolEntry:
        entry = PoolEntry(len(self.pools), venue, VENUE_KIND[venue], Pubkey.from_string(address),
                          Pubkey.from_string(program_id))
        self.pools.append(entry)
        entry.pool_key = self._watch(address, entry.idx, ROLE_POOL, program_id)
        return entry

    def token_index(self, mint: str) -> int:
        idx = self.tokens.get(mint)
        if idx is None:
            idx = self.tokens[mint] = len(self.tokens)
        return idx

    def _watch(self, pubkey: str, pool: int, role: int, owner: str, tick_start: int = 0) -> int:
        existing = self.by_pubkey.get(pubkey)
        if existing is not None:
            w = self.watched[existing]
            if w.role != role or (role != ROLE_CONFIG and w.pool != pool):
                raise ValueError(f"account {pubkey} is watched twice ({ROLE_NAMES[w.role]} of pool {w.pool})")
            if w.pool != pool and pool not in w.also:
                w.also.append(pool)  # one config account shared by several pools
            return existing
        key = len(self.watched)
        self.watched.append(Watched(key, pubkey, pool, role, owner, tick_start=tick_start))
        self.by_pubkey[pubkey] = key
        return key

    def dependencies(self, entry: PoolEntry) -> list[int]:
        """Keys of the accounts the pool depends on, registering them on first sight of the pool."""
        static = entry.static
        if static is None:
            return []
        if entry.venue == "raydium_cpmm":
            pid = str(entry.program_id)
            if entry.vault_a_key < 0:
                entry.vault_a_key = self._watch(str(static.token_0_vault), entry.idx, ROLE_VAULT_A, TOKEN_PROGRAM_B58)
                entry.vault_b_key = self._watch(str(static.token_1_vault), entry.idx, ROLE_VAULT_B, TOKEN_PROGRAM_B58)
                entry.config_key = self._watch(str(static.amm_config), entry.idx, ROLE_CONFIG, pid)
            return [entry.vault_a_key, entry.vault_b_key, entry.config_key]
        if entry.venue == "raydium_amm_v4":
            if entry.vault_a_key < 0:
                entry.vault_a_key = self._watch(str(static.coin_vault), entry.idx, ROLE_VAULT_A, TOKEN_PROGRAM_B58)
                entry.vault_b_key = self._watch(str(static.pc_vault), entry.idx, ROLE_VAULT_B, TOKEN_PROGRAM_B58)
            return [entry.vault_a_key, entry.vault_b_key]
        return list(entry.tick_keys.values())

    def wanted_tick_arrays(self, entry: PoolEntry) -> set[int]:
        """Start indexes of the tick arrays a swap from the current tick needs, both directions."""
        state = self._value(entry.pool_key)
        if state is None or entry.static is None:
            return set()
        tick, spacing = state[2], entry.static.tick_spacing
        return set(orca.tick_array_start_indexes(tick, spacing, True)) | set(
            orca.tick_array_start_indexes(tick, spacing, False))

    def retarget_tick_arrays(self, entry: PoolEntry) -> tuple[list[int], list[int]]:
        """Follow the current tick: (keys to subscribe, keys to drop)."""
        wanted = self.wanted_tick_arrays(entry)
        add, drop = [], []
        for start in sorted(wanted - set(entry.tick_keys)):
            address = str(orca.tick_array_address(entry.address, start, entry.program_id))
            key = self.by_pubkey.get(address)
            if key is None:
                key = self._watch(address, entry.idx, ROLE_TICK_ARRAY, str(entry.program_id), tick_start=start)
            entry.tick_keys[start] = key
            add.append(key)
        for start in sorted(set(entry.tick_keys) - wanted):
            key = entry.tick_keys.pop(start)
            w = self.watched[key]
            w.slot, w.value = -1, None
            drop.append(key)
        return add, drop

    # ---- hot path ------------------------------------------------------------------------------
    def apply(self, key: int, slot: int, data: bytes, owner: str, recv_ns: int) -> int:
        """One account update. Returns the pool index whose cache row was rewritten, else -1."""
        self.stats.updates += 1
        if not 0 <= key < len(self.watched):
            self.stats.unknown_key += 1
            return -1
        w = self.watched[key]
        if slot < w.slot:
            self.stats.stale += 1
            return -1
        entry = self.pools[w.pool]
        # Tick arrays that do not exist yet are system-owned and empty: a valid "no ticks" state.
        if owner != w.owner and not (w.role == ROLE_TICK_ARRAY and not data):
            self.stats.wrong_owner += 1
            return -1
        try:
            w.value = self._decode(entry, w, data)
        except Unmodelled as err:
            w.slot = slot
            self._refuse(entry, err.reason.name if hasattr(err, "reason") else str(err))
            return -1
        except (VenueError, ValueError):
            self.stats.malformed += 1
            return -1
        w.slot = slot
        if entry.pending_static is not None:
            pool, entry.pending_static = entry.pending_static, None
            self._learn_static(entry, pool)
        if w.also:
            # A shared config changed: every pool using it is re-priced; report the last one written.
            written = self._refresh(entry, recv_ns)
            for other in w.also:
                idx = self._refresh(self.pools[other], recv_ns)
                written = idx if idx >= 0 else written
            return written
        return self._refresh(entry, recv_ns)

    def _learn_static(self, entry: PoolEntry, pool: Any) -> None:
        """First decode of a pool: its mints give the token indices, its accounts the dependencies."""
        entry.static = pool
        if entry.venue == "raydium_cpmm":
            entry.mint_a, entry.mint_b = pool.token_0_mint, pool.token_1_mint
        elif entry.venue == "raydium_amm_v4":
            entry.mint_a, entry.mint_b = pool.coin_vault_mint, pool.pc_vault_mint
        else:
            entry.mint_a, entry.mint_b = pool.token_mint_a, pool.token_mint_b
        entry.mint_a_raw, entry.mint_b_raw = bytes(entry.mint_a), bytes(entry.mint_b)
        entry.token_a = self.token_index(str(entry.mint_a))
        entry.token_b = self.token_index(str(entry.mint_b))
        if self.arrays is not None:
            layout.register_pool(self.arrays, entry.idx, entry.kind, entry.token_a, entry.token_b)
        self.dependencies(entry)

    def attach(self, arrays: layout.Cache, token_index: dict[str, int], recv_ns: int = 0) -> list[int]:
        """Start writing the cache (allocated once the tokens are known), with the route table's token
        numbering; writes every pool whose state is already consistent. Returns the rows written."""
        self.arrays = arrays
        self.tokens = dict(token_index)
        written = []
        for entry in self.pools:
            if entry.static is None:
                continue
            entry.token_a = self.tokens[str(entry.mint_a)]
            entry.token_b = self.tokens[str(entry.mint_b)]
            layout.register_pool(arrays, entry.idx, entry.kind, entry.token_a, entry.token_b)
            if entry.refused:
                continue
            if self._refresh(entry, recv_ns) >= 0:
                written.append(entry.idx)
        return written

    def _decode(self, entry: PoolEntry, w: Watched, data: bytes) -> Any:
        """Decode at the edge. Pool accounts: the full decode once, then only the dynamic fields while
        the account keys are unchanged (building Pubkeys costs ~30 µs per pool update)."""
        role = w.role
        if role == ROLE_VAULT_A:
            return spl.read_token_amount(data, entry.mint_a_raw)
        if role == ROLE_VAULT_B:
            return spl.read_token_amount(data, entry.mint_b_raw)
        venue = entry.venue
        if role == ROLE_POOL:
            if venue == "orca_whirlpool":
                if entry.static is None:  # mints, vaults and tick spacing never change
                    self._set_static(entry, orca.decode_whirlpool(data, entry.program_id, entry.program_id), b"")
                return orca.read_whirlpool_swap_state(data)
            if venue == "raydium_cpmm":
                if entry.static is None or cpmm.pool_keys_bytes(data) != entry.keys_raw:
                    self._set_static(entry, cpmm.decode_pool(data, entry.program_id, entry.program_id),
                                     cpmm.pool_keys_bytes(data))
                return cpmm.read_pool_dynamic(data)
            if entry.static is None or amm.amm_keys_bytes(data) != entry.keys_raw:
                self._set_static(entry, amm.decode_amm_info(data, entry.program_id, entry.program_id),
                                 amm.amm_keys_bytes(data))
            return amm.read_amm_dynamic(data)
        if venue == "raydium_cpmm":
            return cpmm.decode_amm_config(data, entry.program_id, entry.program_id)
        if not data:
            return orca.empty_tick_array(w.tick_start, entry.address)
        return orca.decode_tick_array(data, entry.program_id, entry.program_id)

    def _set_static(self, entry: PoolEntry, pool: Any, keys_raw: bytes) -> None:
        if entry.static is not None:
            # The pool's accounts moved (never seen on mainnet): stop trading it rather than guess.
            raise Unmodelled(RefusalReason.ACCOUNTS_CHANGED, "pool account keys changed")
        entry.keys_raw = keys_raw
        entry.pending_static = pool

    def _value(self, key: int) -> Any:
        return self.watched[key].value if key >= 0 else None

    def _refuse(self, entry: PoolEntry, reason: str) -> None:
        entry.refused = reason
        if self.arrays is not None:
            layout.set_flags(self.arrays, entry.idx, tradable=False, settling=False)
        mark = (entry.idx, reason)
        if mark not in self._refusals_reported:
            self._refusals_reported.add(mark)
            if self._on_refusal is not None:
                self._on_refusal(entry, reason)

    def _refresh(self, entry: PoolEntry, recv_ns: int) -> int:
        if self.arrays is None:
            return -1
        if entry.venue == "orca_whirlpool":
            return self._refresh_whirlpool(entry)
        pool_w = self.watched[entry.pool_key]
        va, vb = self._watched_or_none(entry.vault_a_key), self._watched_or_none(entry.vault_b_key)
        if pool_w.value is None or va is None or vb is None or va.value is None or vb.value is None:
            return -1
        cfg_w = self._watched_or_none(entry.config_key)
        if entry.venue == "raydium_cpmm" and (cfg_w is None or cfg_w.value is None):
            return -1
        newest = max(pool_w.slot, va.slot, vb.slot)
        settling = (va.slot != vb.slot or pool_w.slot > va.slot) and newest + SETTLE_SLOTS > self.slot
        if settling:
            self.stats.settling += 1
            self._settling[entry.idx] = newest
            layout.set_flags(self.arrays, entry.idx, tradable=not entry.refused, settling=True)
            return -1
        self._settling.pop(entry.idx, None)
        write_slot = newest
        now = self._now_unix()
        try:
            if entry.venue == "raydium_cpmm":
                status, open_time, creator_fee, owed0, owed1 = pool_w.value
                cfg = cfg_w.value  # type: ignore[union-attr]
                refused = cpmm.refusal(status, open_time, creator_fee, cfg.creator_fee_rate, now)
                if refused is not None:
                    raise refused
                ra, rb = cpmm.reserves_net(va.value, vb.value, owed0, owed1)
                written = layout.write_cp_pool(
                    self.arrays, entry.idx, ra, rb, cfg.trade_fee_rate, cpmm.FEE_RATE_DENOMINATOR, write_slot, recv_ns,
                    cfg.protocol_fee_rate, cfg.fund_fee_rate,
                )
            else:
                status, open_time, fee_num, fee_den, pnl_coin, pnl_pc = pool_w.value
                refused = amm.refusal(status, open_time, now)
                if refused is not None:
                    raise refused
                ra, rb = va.value - pnl_coin, vb.value - pnl_pc
                if ra <= 0 or rb <= 0:
                    raise ValueError("need_take_pnl exceeds the vault")
                written = layout.write_cp_pool(self.arrays, entry.idx, ra, rb, fee_num, fee_den, write_slot, recv_ns)
        except Unmodelled as err:
            self._refuse(entry, err.reason.name)
            return -1
        except (VenueError, ValueError):
            # e.g. fees owed exceed the vault (inconsistent snapshot): not usable until fixed.
            self.stats.malformed += 1
            layout.set_flags(self.arrays, entry.idx, tradable=False, settling=True)
            return -1
        entry.refused = ""
        if not written:
            return -1
        layout.set_flags(self.arrays, entry.idx, tradable=True, settling=False)
        self.stats.writes += 1
        return entry.idx

    def _refresh_whirlpool(self, entry: PoolEntry) -> int:
        pool_w = self.watched[entry.pool_key]
        if pool_w.value is None:
            return -1
        if entry.static.is_adaptive_fee:
            self._refuse(entry, RefusalReason.WHIRLPOOL_ADAPTIVE_FEE.name)
            return -1
        settling = any(self.watched[k].slot > pool_w.slot for k in entry.tick_keys.values())
        # The detector prices CLMM pools only once its CLMM kernel lands; until then never tradable.
        layout.set_flags(self.arrays, entry.idx, tradable=False, settling=settling)
        return -1

    def _watched_or_none(self, key: int) -> Watched | None:
        return self.watched[key] if key >= 0 else None

    def on_slot(self, slot: int, recv_ns: int) -> list[int]:
        """The cluster moved on: pools settling since `slot - SETTLE_SLOTS` or earlier are released.

        Their missing account updates did not come (the account did not change in that slot, e.g. an
        admin write to the pool alone, or a transfer into one vault), so the values held are current.
        Returns the pools whose rows were rewritten."""
        if slot <= self.slot:
            return []
        self.slot = slot
        if not self._settling:
            return []
        due = [idx for idx, newest in self._settling.items() if newest + SETTLE_SLOTS <= slot]
        written = []
        for idx in due:
            self._settling.pop(idx, None)
            if self._refresh(self.pools[idx], recv_ns) >= 0:
                written.append(idx)
        return written

    # ---- introspection ---------------------------------------------------------------------------
    def exact_state(self, idx: int) -> tuple[int, int]:
        """The integer reserves the cache holds for a constant-product pool."""
        pu = self.arrays.pools_u
        return int(pu[idx, layout.U_RES_A]), int(pu[idx, layout.U_RES_B])

    def watched_keys(self) -> list[int]:
        return [w.key for w in self.watched if w.role != ROLE_TICK_ARRAY or w.key in self._live_tick_keys()]

    def _live_tick_keys(self) -> set[int]:
        return {k for e in self.pools for k in e.tick_keys.values()}
