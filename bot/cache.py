"""The cache writer: account updates in, the detector's cache arrays out.

One writer on the event loop (no locks anywhere): every watched account (pool, vault, config, tick
array) has an integer key; `apply(key, slot, data, owner, recv_ns)` decodes it at the edge through the
pool's venue adapter, keeps the latest slot per account (an older slot never overwrites a newer one),
and rewrites the pool's row of the `strategies.layout` arrays when the pool's state is consistent.

Consistency gate (the adapter's `settling` rule): a constant-product pool is usable only when both
vaults carry the same slot and the pool account is not newer than them. A swap writes both vaults (and
the pool) in one slot, so after a swap the three agree; a pool notified before its vaults, or one vault
before the other, leaves the pool "settling" and the detector skips it until the rest arrives — or
until the cluster is `SETTLE_SLOTS` past the newest of them (`on_slot`): by then the missing update
would have come, so that account did not change (an admin write to the pool alone, a transfer into
one vault). A Whirlpool prices from its own account; it is settling while any watched tick array is
newer than the pool account, and while the arrays around a new current tick are not loaded yet (the
account feed retargets them). Its row is the screening state; `quote` is the exact quote on the decoded
pool and arrays (the confirm stage's `clmm_quote`).

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
from strategies.venues import registry
from strategies.venues.base import ROLE_CONFIG as ROLE_CONFIG
from strategies.venues.base import (
    ROLE_NAMES,
    ROLE_POOL,
    ROLE_TICK_ARRAY,
    ROLE_VAULT_A,
    ROLE_VAULT_B,
    SHARED_ROLES,
    AccountSlot,
    PoolContext,
    Venue,
    VenueAdapter,
)
from strategies.venues.errors import RefusalReason, StatePending, Unmodelled, VenueError

# A pool whose accounts disagree on slot is settling until they agree, or until the cluster is this many
# slots past the newest of them (the missing update never came: that account did not change).
SETTLE_SLOTS = 2
SYSTEM_PROGRAM_B58 = "11111111111111111111111111111111"
_NO_TICKS: list[Any] = []


@dataclass(slots=True)
class CacheStats:
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
    venue: Venue
    adapter: VenueAdapter
    address: Pubkey
    program_id: Pubkey
    pool_key: int = -1
    dep_keys: dict[int, int] = field(default_factory=dict)  # role -> key (vaults, config)
    dep_watched: dict[int, Watched] = field(default_factory=dict)  # role -> its watched account
    tick_keys: dict[int, int] = field(default_factory=dict)  # start tick -> key
    token_a: int = -1
    token_b: int = -1
    mint_a: Pubkey | None = None
    mint_b: Pubkey | None = None
    refused: str = ""  # non-empty: the refusal reason (never tradable while set)
    unusable: str = ""  # non-empty: an account of the pool arrived undecodable or with a wrong owner
    static: Any = None  # decoded pool account of the first load (vaults, mints, config address)
    pending_static: Any = None
    keys_raw: bytes = b""  # raw account-key bytes of `static`
    ctx: PoolContext | None = None

    @property
    def kind(self) -> int:
        return int(self.venue)

    @property
    def vault_a_key(self) -> int:
        return self.dep_keys.get(ROLE_VAULT_A, -1)

    @property
    def vault_b_key(self) -> int:
        return self.dep_keys.get(ROLE_VAULT_B, -1)

    @property
    def config_key(self) -> int:
        return self.dep_keys.get(ROLE_CONFIG, -1)

    def dependency_values(self) -> dict[int, Any]:
        """The latest decoded value of each dependency, by role (None before its first update)."""
        return {role: w.value for role, w in self.dep_watched.items()}


OnRefusal = Callable[[PoolEntry, str], None]


class CacheWriter:
    """The single writer of the cache arrays. Pure bookkeeping: the caller does the I/O."""

    def __init__(
        self,
        arrays: layout.Cache | None = None,
        *,
        on_refusal: OnRefusal | None = None,
        on_unusable: OnRefusal | None = None,
        on_recovered: OnRefusal | None = None,
        now_unix: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.arrays = arrays
        self.pools: list[PoolEntry] = []
        self.watched: list[Watched] = []
        self.by_pubkey: dict[str, int] = {}
        self.tokens: dict[str, int] = {}  # mint (base58) -> token index
        self.stats = CacheStats()
        self._refusals_reported: set[tuple[int, str]] = set()
        self.slot = 0  # latest slot seen by `on_slot`
        self._settling: dict[int, int] = {}  # pool -> newest slot among its accounts
        self._on_refusal = on_refusal
        self._on_unusable = on_unusable
        self._on_recovered = on_recovered
        self._now_unix = now_unix

    # ---- set-up (cold path) --------------------------------------------------------------------
    def add_pool(self, venue: Venue | str, address: str, program_id: str) -> PoolEntry:
        v = venue if isinstance(venue, Venue) else registry.by_name(venue)
        entry = PoolEntry(len(self.pools), v, registry.adapter(v), Pubkey.from_string(address),
                          Pubkey.from_string(program_id))  # fmt: skip
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
            # Shared accounts (configs, mints) may serve several pools, and a mint either side of pairs.
            shared = w.role in SHARED_ROLES and role in SHARED_ROLES
            if not shared and (w.role != role or w.pool != pool):
                raise ValueError(f"account {pubkey} is watched twice ({ROLE_NAMES[w.role]} of pool {w.pool})")
            if w.pool != pool and pool not in w.also:
                w.also.append(pool)  # one config (or mint) account shared by several pools
            return existing
        key = len(self.watched)
        self.watched.append(Watched(key, pubkey, pool, role, owner, tick_start=tick_start))
        self.by_pubkey[pubkey] = key
        return key

    def dependencies(self, entry: PoolEntry) -> list[int]:
        """Keys of the accounts the pool depends on, registering them on first sight of the pool."""
        if entry.static is None:
            return []
        if not entry.dep_keys:
            for dep in entry.adapter.dependencies(entry.static, entry.program_id):
                key = self._watch(str(dep.pubkey), entry.idx, dep.role, str(dep.owner))
                entry.dep_keys[dep.role] = key
                entry.dep_watched[dep.role] = self.watched[key]
        return [*entry.dep_keys.values(), *entry.tick_keys.values()]

    def follows_price(self, entry: PoolEntry) -> bool:
        """True when the pool's watched accounts depend on its price (tick arrays)."""
        state = self._value(entry.pool_key)
        return (
            entry.static is not None
            and state is not None
            and bool(entry.adapter.tick_arrays(entry.static, state, entry.address, entry.program_id))
        )

    def wanted_tick_arrays(self, entry: PoolEntry) -> set[int]:
        """Start indexes of the tick arrays a swap from the current tick needs, both directions."""
        state = self._value(entry.pool_key)
        if state is None or entry.static is None:
            return set()
        return set(entry.adapter.tick_arrays(entry.static, state, entry.address, entry.program_id))

    def retarget_tick_arrays(self, entry: PoolEntry) -> tuple[list[int], list[int]]:
        """Follow the current tick: (keys to subscribe, keys to drop)."""
        state = self._value(entry.pool_key)
        if state is None or entry.static is None:
            return [], []
        wanted = entry.adapter.tick_arrays(entry.static, state, entry.address, entry.program_id)
        add, drop = [], []
        for start in sorted(set(wanted) - set(entry.tick_keys)):
            address = str(wanted[start])
            key = self.by_pubkey.get(address)
            if key is None:
                key = self._watch(
                    address, entry.idx, ROLE_TICK_ARRAY, str(entry.program_id), tick_start=start
                )
            entry.tick_keys[start] = key
            add.append(key)
        for start in sorted(set(entry.tick_keys) - set(wanted)):
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
            self._unusable(
                w, f"{ROLE_NAMES[w.role]} account {w.pubkey} is owned by {owner}, expected {w.owner}"
            )
            return -1
        try:
            w.value = self._decode(entry, w, data)
        except Unmodelled as err:
            w.slot = slot
            self._refuse(entry, err.reason.name)
            return -1
        except (VenueError, ValueError) as err:
            self.stats.malformed += 1
            self._unusable(w, f"{ROLE_NAMES[w.role]} account {w.pubkey} does not decode: {err}")
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
        entry.mint_a, entry.mint_b = entry.adapter.mints(pool)
        entry.ctx = PoolContext(
            entry.address, entry.program_id, pool, bytes(entry.mint_a), bytes(entry.mint_b)
        )
        entry.token_a = self.token_index(str(entry.mint_a))
        entry.token_b = self.token_index(str(entry.mint_b))
        if self.arrays is not None:
            layout.register_pool(self.arrays, entry.idx, entry.kind, entry.token_a, entry.token_b,
                                 tick_capacity=entry.adapter.tick_capacity)  # fmt: skip
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
            layout.register_pool(arrays, entry.idx, entry.kind, entry.token_a, entry.token_b,
                                 tick_capacity=entry.adapter.tick_capacity)  # fmt: skip
            if entry.refused:
                continue
            if self._refresh(entry, recv_ns) >= 0:
                written.append(entry.idx)
        return written

    def _decode(self, entry: PoolEntry, w: Watched, data: bytes) -> Any:
        """Decode at the edge. Pool accounts: the full decode once, then only the dynamic fields while
        the account keys are unchanged (building Pubkeys costs ~30 µs per pool update)."""
        adapter = entry.adapter
        if w.role != ROLE_POOL:
            assert entry.ctx is not None  # dependencies are registered from the decoded pool
            return adapter.decode_account(w.role, data, entry.ctx, w.tick_start)
        if entry.static is None or adapter.pool_keys(data) != entry.keys_raw:
            static = adapter.decode_static(data, entry.program_id)  # malformed bytes raise here
            if entry.static is not None:
                # The pool's accounts moved (never seen on mainnet): stop trading it rather than guess.
                raise Unmodelled(RefusalReason.ACCOUNTS_CHANGED, "pool account keys changed")
            entry.pending_static = static
            entry.keys_raw = adapter.pool_keys(data)
        return adapter.read_dynamic(data)

    def _unusable(self, w: Watched, reason: str) -> None:
        """An account of a pool turned undecodable or changed owner: its last good values must not be
        traded on. The pool (and every pool sharing the account) is unusable at once until a good update
        of that account arrives; said once per pool."""
        for idx in (w.pool, *w.also):
            entry = self.pools[idx]
            if self.arrays is not None:
                layout.set_flags(self.arrays, idx, tradable=False, settling=False)
            if not entry.unusable:
                entry.unusable = reason
                if self._on_unusable is not None:
                    self._on_unusable(entry, reason)

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
        watched = self.watched
        pool_w = watched[entry.pool_key]
        if pool_w.value is None or entry.static is None:
            return -1
        # The adapters read `.value` and `.slot` of what they are given (`AccountSlot`'s fields): the
        # watched records themselves, read at once and never kept, so a refresh builds no objects.
        deps: Any = entry.dep_watched
        if len(deps) != len(entry.dep_keys):
            deps = entry.dep_watched = {role: watched[key] for role, key in entry.dep_keys.items()}
        newest = pool_w.slot  # the write slot: the newest of the pool and its per-swap accounts
        for role, dw in deps.items():
            if dw.value is None:
                return -1
            if (
                dw.slot > newest and role not in SHARED_ROLES
            ):  # a shared config or mint does not make it newer
                newest = dw.slot
        ticks: list[Any] = [watched[k] for k in entry.tick_keys.values()] if entry.tick_keys else _NO_TICKS
        pool: Any = pool_w
        adapter = entry.adapter
        if adapter.settling(pool, deps, ticks) and newest + SETTLE_SLOTS > self.slot:
            self.stats.settling += 1
            self._settling[entry.idx] = newest
            layout.set_flags(
                self.arrays, entry.idx, tradable=not entry.refused and adapter.priced, settling=True
            )
            return -1
        self._settling.pop(entry.idx, None)
        try:
            written = adapter.write_row(self.arrays, entry.idx, entry.static, pool, deps, ticks, newest, recv_ns,
                                        self._now_unix())  # fmt: skip
        except Unmodelled as err:
            self._refuse(entry, err.reason.name)
            return -1
        except StatePending:
            # Accounts that follow the price (tick arrays) are being retargeted: their update re-prices it.
            self.stats.settling += 1
            layout.set_flags(self.arrays, entry.idx, tradable=False, settling=True)
            return -1
        except (VenueError, ValueError):
            # e.g. fees owed exceed the vault (inconsistent snapshot): not usable until fixed.
            self.stats.malformed += 1
            layout.set_flags(self.arrays, entry.idx, tradable=False, settling=True)
            return -1
        entry.refused = ""
        if entry.unusable:
            was, entry.unusable = entry.unusable, ""
            if self._on_recovered is not None:
                self._on_recovered(entry, was)
        if not adapter.priced:
            layout.set_flags(self.arrays, entry.idx, tradable=False, settling=False)
            return -1
        if not written:
            return -1
        layout.set_flags(self.arrays, entry.idx, tradable=True, settling=False)
        self.stats.writes += 1
        return entry.idx

    def reset_slots(self) -> None:
        """Forget every slot held (a cluster whose slots went back): the next update of each account is
        taken whatever its slot, and the cache rows accept it."""
        for w in self.watched:
            w.slot = -1
        if self.arrays is not None:
            self.arrays.pools_i[:, layout.I_SLOT] = 0
        self._settling.clear()
        self.slot = 0

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

    # ---- exact quotes (confirm stage) -----------------------------------------------------------
    def quote_state(self, idx: int) -> Any:
        """The adapter's exact quote state of pool `idx` from the decoded accounts held (CLMM: the pool
        at its latest state and its tick arrays); None for venues whose cache row is exact."""
        entry = self.pools[idx]
        watched = self.watched
        pool_w = watched[entry.pool_key]
        deps = {role: AccountSlot(watched[k].value, watched[k].slot) for role, k in entry.dep_keys.items()}
        ticks = [AccountSlot(watched[k].value, watched[k].slot) for k in entry.tick_keys.values()]
        return entry.adapter.quote_state(entry.static, AccountSlot(pool_w.value, pool_w.slot), deps, ticks,
                                         entry.address)  # fmt: skip

    def quote(self, idx: int, a_to_b: bool, amount_in: int) -> tuple[int, int]:
        """Exact (amount_out, ticks crossed) of one leg on the decoded state: `confirm.ClmmQuote` for the
        venues whose cache row is only the screening state. Raises the venue's QuoteError."""
        assert self.arrays is not None
        return self.pools[idx].adapter.quote_in(self.arrays, idx, a_to_b, amount_in, self.quote_state(idx))

    def tick_rows(self) -> int:
        """Rows of the cache's ticks region the configured pools need (`layout.allocate(tick_rows=)`)."""
        return sum(e.adapter.tick_capacity for e in self.pools)

    # ---- introspection ---------------------------------------------------------------------------
    def exact_state(self, idx: int) -> tuple[int, int]:
        """The integer reserves the cache holds for a constant-product pool."""
        assert self.arrays is not None
        pu = self.arrays.pools_u
        return int(pu[idx, layout.U_RES_A]), int(pu[idx, layout.U_RES_B])

    def watched_keys(self) -> list[int]:
        live = {k for e in self.pools for k in e.tick_keys.values()}
        return [w.key for w in self.watched if w.role != ROLE_TICK_ARRAY or w.key in live]
