"""What every venue adapter provides, and the one identity of a venue.

`Venue` is the venue's only identity: its name is the config string (`venue = "raydium_cpmm"`) and its
value is the cache's pool kind (`layout.KIND_*`, what the numba kernels branch on). Each
`strategies/venues/<venue>.py` implements `VenueAdapter`; `strategies.venues.registry` maps every
`Venue` to its adapter. Nothing outside the adapters branches on a venue.

An adapter is pure: bytes in, values out. The caller (bot's cache writer) keeps one `Watched` account
per role and hands the adapter the decoded values; the adapter says which accounts a pool needs,
decodes each role, writes the pool's cache row (or raises a typed refusal), quotes exactly, and builds
the swap instruction of one leg in one of its documented forms (`swap_forms`).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from strategies import layout


class Venue(enum.IntEnum):
    """A DEX program the bot knows. name = config string, value = cache pool kind."""

    raydium_cpmm = layout.KIND_RAYDIUM_CPMM
    raydium_amm_v4 = layout.KIND_RAYDIUM_AMM_V4
    orca_whirlpool = layout.KIND_ORCA_WHIRLPOOL
    pumpswap = layout.KIND_PUMPSWAP
    meteora_dlmm = layout.KIND_METEORA_DLMM


# Account roles of a pool's watched accounts.
ROLE_POOL = 0
ROLE_VAULT_A = 1
ROLE_VAULT_B = 2
ROLE_CONFIG = 3  # may be shared by several pools (Raydium CPMM AmmConfig)
ROLE_TICK_ARRAY = 4  # follows the price (`VenueAdapter.tick_arrays`)
ROLE_FEE_CONFIG = 5  # a second shared config (PumpSwap: the fee program's FeeConfig)
ROLE_MINT_A = 6  # the mints (PumpSwap: the base mint's supply sets the fee tier; Token-2022 checks)
ROLE_MINT_B = 7
ROLE_NAMES = ("pool", "vault_a", "vault_b", "config", "tick_array", "fee_config", "mint_a", "mint_b")
# Accounts one may share with other pools (configs, mints): watched once, every pool using them is
# re-priced when they change, and their slot never makes a pool's state newer.
SHARED_ROLES = frozenset({ROLE_CONFIG, ROLE_FEE_CONFIG, ROLE_MINT_A, ROLE_MINT_B})


@dataclass(frozen=True, slots=True)
class Dependency:
    """An account a pool's price depends on, besides the pool account itself."""

    pubkey: Pubkey
    role: int
    owner: Pubkey  # the program that must own it


@dataclass(frozen=True, slots=True)
class PriceAccounts:
    """Accounts of a leg's swap instruction that follow the pool's price (a CLMM's tick arrays).

    Keys name them (Whirlpool: tick-array start indexes). The last instruction of the leg holds, at
    `positions` of its account list, the accounts `select(tick)` names, and after its own accounts every
    account of `window` (the program ignores extra accounts), so each one is in the compiled message:
    per opportunity the template points `positions` at `select(tick)` by rewriting account-index bytes.
    A tick whose keys are not all in `window` needs the leg rebuilt around it (`retarget_leg`).
    """

    positions: tuple[int, ...]
    window: tuple[int, ...]
    select: Callable[[int], tuple[int, ...]]
    """The pool's current tick -> one key per position (hot path: no address derivation)."""
    around: Callable[[int], tuple[int, ...]]
    """The window of a leg built at `tick` (cold path)."""
    address: Callable[[int], Pubkey]
    """The account a key names (cold path)."""


@dataclass(frozen=True, slots=True)
class SwapLeg:
    """One leg's swap instruction(s) for a template; `arg_offsets` locate (amount_in, min_out) in the
    data of the last instruction, which the executor patches before signing; `price_accounts` are its
    accounts chosen per opportunity from the pool's current tick (None: fixed accounts)."""

    instructions: tuple[Instruction, ...]
    arg_offsets: tuple[int, int]
    price_accounts: PriceAccounts | None = None


def retarget_leg(leg: SwapLeg, tick: int) -> SwapLeg:
    """`leg` with its price-following accounts chosen for `tick` and the window around `tick` appended to
    its last instruction (cold path: derives addresses). Legs without them are returned unchanged."""
    pa = leg.price_accounts
    if pa is None:
        return leg
    ix = leg.instructions[-1]
    metas = list(ix.accounts[: len(ix.accounts) - len(pa.window)])
    for pos, key in zip(pa.positions, pa.select(tick), strict=True):
        meta = metas[pos]
        metas[pos] = AccountMeta(pa.address(key), meta.is_signer, meta.is_writable)
    window = pa.around(tick)
    writable = metas[pa.positions[0]].is_writable  # the program may write any of them
    metas += [AccountMeta(pa.address(key), False, writable) for key in window]
    moved = Instruction(ix.program_id, bytes(ix.data), metas)
    return SwapLeg((*leg.instructions[:-1], moved), leg.arg_offsets, dataclasses.replace(pa, window=window))


@dataclass(frozen=True, slots=True)
class AccountSlot:
    """The latest decoded value of one watched account and the slot it came from (-1: none yet)."""

    value: Any
    slot: int


@dataclass(frozen=True, slots=True)
class PoolContext:
    """What an adapter needs to know about the pool it is decoding for."""

    address: Pubkey
    program_id: Pubkey
    static: Any  # the full decode of the pool account (None before the first)
    mint_a_raw: bytes
    mint_b_raw: bytes


FetchedAccount = tuple[Pubkey, bytes]
"""An account as read from the cluster: (owner, data)."""


class VenueAdapter(Protocol):
    """The contract of one venue. Implemented by `Adapter` in each strategies/venues/<venue>.py."""

    venue: Venue
    pool_account_size: int
    """The pool account's size in the current layout."""
    pool_account_sizes: tuple[int, ...]
    """Every size a pool account may have (accounts that grow over time have several): `solarb pools`
    sends one getProgramAccounts dataSize filter per size."""
    mint_offsets: tuple[int, int]
    """Offsets of mint a and mint b inside the pool account (memcmp filters)."""
    executable: str | None
    """None when the bot can trade this venue; otherwise why not, as one line for the config check."""
    cache_exact: bool
    """True when the cache row's integers are the exact quote state (constant product); False when
    `quote_in` needs the caller's `state` (CLMM: the decoded pool and tick arrays)."""
    priced: bool
    """True when `write_row` writes rows the detector prices; False: the pool is never tradable."""
    swap_forms: tuple[str, ...]
    """The documented instruction forms `swap_leg` builds, preferred first. Start-up proving simulates
    the first and falls back along the tuple when the deployed program rejects one (programs change)."""
    slippage_errors: frozenset[int]
    """Custom program error codes meaning a min-out was not met: the guard working, not a broken
    template (a revert with any other error makes the route prove itself again)."""
    tick_capacity: int
    """Rows of the cache's ticks region one pool reserves (CLMM: initialized ticks of every watched tick
    array); 0 for venues without ticks."""

    def pool_keys(self, data: bytes) -> bytes:
        """The raw bytes of the pool account's fields that never change (mints, vaults, config):
        compared on every update, a full decode happens only when they differ."""
        ...

    def decode_static(self, data: bytes, program_id: Pubkey) -> Any:
        """The full decode of the pool account (cold path: first load)."""
        ...

    def read_dynamic(self, data: bytes) -> Any:
        """The pool account's fields that move with trading (hot path: every update)."""
        ...

    def mints(self, static: Any) -> tuple[Pubkey, Pubkey]:
        """(mint a, mint b) in the pool's own order (a = the side `DIR_A_TO_B` sells)."""
        ...

    def dependencies(self, static: Any, program_id: Pubkey) -> Sequence[Dependency]:
        """Vaults, configs: the accounts whose updates change the pool's price."""
        ...

    def tick_arrays(self, static: Any, dynamic: Any, pool: Pubkey, program_id: Pubkey) -> dict[int, Pubkey]:
        """Accounts that follow the price (start index -> address); {} for venues without them."""
        ...

    def decode_account(self, role: int, data: bytes, ctx: PoolContext, tick_start: int) -> Any:
        """Decode one dependency (not the pool account) at the edge. Raises VenueError / Unmodelled."""
        ...

    def settling(
        self, pool: AccountSlot, deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot]
    ) -> bool:
        """True while the accounts disagree on slot (the pool's state is mid-update)."""
        ...

    def write_row(
        self,
        cache: layout.Cache,
        idx: int,
        static: Any,
        pool: AccountSlot,
        deps: Mapping[int, AccountSlot],
        ticks: Sequence[AccountSlot],
        slot: int,
        recv_ns: int,
        now_unix: int,
    ) -> bool:
        """Write the pool's cache row; True when the row changed and the pool is tradable.
        Raises `Unmodelled` (never tradable, with the reason) or VenueError/ValueError (inconsistent)."""
        ...

    def quote_state(self, static: Any, pool: AccountSlot, deps: Mapping[int, AccountSlot],
                    ticks: Sequence[AccountSlot], address: Pubkey) -> Any:  # fmt: skip
        """The `state` argument of `quote_in` / `quote_out` from the decoded accounts (None for venues
        whose cache row is the exact state)."""
        ...

    def quote_in(
        self, cache: layout.Cache, idx: int, a_to_b: bool, amount_in: int, state: Any
    ) -> tuple[int, int]:
        """Exact output of selling `amount_in` with the program's own rounding, and the initialized
        ticks crossed (0 for constant product). `state` is what the caller holds for venues whose
        exact state does not fit the cache (CLMM: pool and tick arrays). Raises the venue's QuoteError."""
        ...

    def quote_out(self, cache: layout.Cache, idx: int, a_to_b: bool, amount_out: int, state: Any) -> int:
        """Exact input needed to receive `amount_out`. Raises the venue's QuoteError."""
        ...

    def form_accounts(self, static: Any, form: str) -> tuple[Pubkey, ...]:
        """Accounts whose data `swap_leg` needs to build `form` (fetched at set-up); () for none."""
        ...

    def swap_leg(
        self,
        static: Any,
        pool: Pubkey,
        program_id: Pubkey,
        payer: Pubkey,
        source: Pubkey,
        destination: Pubkey,
        a_to_b: bool,
        deps: Mapping[int, Any],
        *,
        form: str | None = None,
        accounts: Mapping[Pubkey, FetchedAccount] | None = None,
    ) -> SwapLeg:
        """The exact-in swap of one leg with placeholder amounts (patched per opportunity), in `form`
        (one of `swap_forms`; None: the first). `deps` holds the decoded dependencies by role (what the
        cache watches: e.g. PumpSwap's GlobalConfig, whose fee recipients the swap names); `accounts`
        what `form_accounts` named, fetched. Raises `ValueError` for an unknown form, VenueError when a
        fetched account does not decode."""
        ...

    def compute_units(self) -> int:
        """CU one swap leg needs (the estimate before simulation measures it)."""
        ...

    def quote_report(self, pool: Pubkey, pool_data: bytes, owner: Pubkey, fetch: AccountFetch,
                     amount_in: int, a_to_b: bool, now_unix: int) -> dict[str, Any]:  # fmt: skip
        """`solarb quote`: decode, fetch what the quote needs through `fetch`, quote exactly, and return
        the JSON-ready report. Missing accounts raise `MissingAccount`."""
        ...


class AccountFetch(Protocol):
    """Reads accounts for `quote_report`: each key -> (owner, data), or None when it does not exist."""

    def __call__(self, keys: Sequence[Pubkey]) -> list[tuple[Pubkey, bytes] | None]: ...


class MissingAccount(LookupError):
    """An account a quote needs does not exist."""

    def __init__(self, key: Pubkey, what: str) -> None:
        super().__init__(f"{what} account {key} not found")
        self.key = key


def fetch_required(
    fetch: AccountFetch, keys: Sequence[Pubkey], what: Sequence[str]
) -> list[tuple[Pubkey, bytes]]:
    """`fetch` that raises `MissingAccount` for the first account that does not exist."""
    got = fetch(keys)
    out: list[tuple[Pubkey, bytes]] = []
    for key, name, acc in zip(keys, what, got, strict=True):
        if acc is None:
            raise MissingAccount(key, name)
        out.append(acc)
    return out


def cp_quote_report(
    venue: Venue,
    pool: Pubkey,
    a_to_b: bool,
    mints: tuple[Pubkey, Pubkey],
    decimals: tuple[int, int],
    before: tuple[int, int],
    after: tuple[int, int],
    amount_in: int,
    amount_out: int,
    fee: int,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON report of a constant-product quote (shared by the CP venues)."""

    def price(r_a: int, r_b: int) -> float:
        return (r_b / 10 ** decimals[1]) / (r_a / 10 ** decimals[0]) if r_a else float("nan")

    return {
        "venue": venue.name,
        "pool": str(pool),
        "a_to_b": a_to_b,
        "mint_in": str(mints[0] if a_to_b else mints[1]),
        "mint_out": str(mints[1] if a_to_b else mints[0]),
        "amount_in": amount_in,
        "amount_out": amount_out,
        "fee": fee,
        **extra,
        "reserves_before": [before[0], before[1]],
        "reserves_after": [after[0], after[1]],
        "price_before": price(*before),
        "price_after": price(*after),
        "price_unit": "token B per token A (decimal-adjusted)",
        "ticks_crossed": 0,
    }


def cp_settling(pool: AccountSlot, deps: Mapping[int, AccountSlot]) -> bool:
    """The constant-product gate: both vaults carry the same slot and the pool is not newer."""
    va, vb = deps[ROLE_VAULT_A], deps[ROLE_VAULT_B]
    return va.slot != vb.slot or pool.slot > va.slot


def cp_reserves_u(cache: layout.Cache, idx: int, a_to_b: bool) -> tuple[int, int, int, int]:
    """(reserve in, reserve out, fee numerator, fee denominator) of a CP pool's exact cache row."""
    pu = cache.pools_u
    res_a = int(pu[idx, layout.U_RES_A])
    res_b = int(pu[idx, layout.U_RES_B])
    r_in, r_out = (res_a, res_b) if a_to_b else (res_b, res_a)
    return r_in, r_out, int(pu[idx, layout.U_FEE_NUM]), int(pu[idx, layout.U_FEE_DEN])
