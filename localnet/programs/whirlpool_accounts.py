"""Byte builders for the Whirlpool program's accounts and our seeding instructions.

Used by tests, benches and the localnet server to seed concentrated-liquidity pools: WhirlpoolsConfig
(108 B), Whirlpool (653 B) and FixedTickArray (9,988 B) with the real layouts and discriminators
(protocols.md §3.1/§3.2, orca-so/whirlpools state/{config,whirlpool,tick,fixed_tick_array}.rs), SPL mints
and token accounts (shared with `cpmm_accounts`), `make_pool(...)` writing every account of a pool with
positions at its real address, and the instructions documented at the top of whirlpool.c and in README.md
(`localnet_initialize_pool`, `localnet_initialize_tick_array`, `localnet_add_liquidity`). Swap
instructions are the bot's own (`strategies.venues.orca_whirlpool.build_swap_ix` / `build_swap_v2_ix`).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from localnet.programs.cpmm_accounts import account, mint_data, token_account_data
from strategies.venues import orca_whirlpool as orca
from strategies.venues import whirlpool_math as wm

__all__ = [
    "PROGRAM_ID",
    "PoolSetup",
    "Position",
    "TickFields",
    "WhirlpoolFields",
    "account",
    "build_add_liquidity_ix",
    "build_initialize_pool_ix",
    "build_initialize_tick_array_ix",
    "config_data",
    "dynamic_tick_array_data",
    "make_pool",
    "mint_data",
    "tick_array_data",
    "token_account_data",
    "whirlpool_address",
    "whirlpool_data",
]

PROGRAM_ID = orca.WHIRLPOOL_PROGRAM_ID
TOKEN_PROGRAM_ID = orca.TOKEN_PROGRAM_ID
SYSTEM_PROGRAM_ID = Pubkey.default()

CONFIG_SIZE = 108
CONFIG_DISCRIMINATOR = hashlib.sha256(b"account:WhirlpoolsConfig").digest()[:8]
INITIALIZE_POOL_DISCRIMINATOR = hashlib.sha256(b"global:localnet_initialize_pool").digest()[:8]
INITIALIZE_TICK_ARRAY_DISCRIMINATOR = hashlib.sha256(b"global:localnet_initialize_tick_array").digest()[:8]
ADD_LIQUIDITY_DISCRIMINATOR = hashlib.sha256(b"global:localnet_add_liquidity").digest()[:8]

# Whirlpool field offsets tests patch directly (protocols.md §3.1).
LIQUIDITY_OFFSET = 49
SQRT_PRICE_OFFSET = 65
TICK_CURRENT_OFFSET = 81
PROTOCOL_FEE_OWED_A_OFFSET = 85
PROTOCOL_FEE_OWED_B_OFFSET = 93
FEE_GROWTH_A_OFFSET = 165
FEE_GROWTH_B_OFFSET = 245
REWARD_LAST_UPDATED_OFFSET = 261

U64_MAX = (1 << 64) - 1
_U64 = 1 << 64
_CONFIG = struct.Struct("<8s32s32s32sHH")
_TICK = struct.Struct("<BQqQQQQQQQQQQQQ")
_INIT_POOL = struct.Struct("<8sHQQHHB")
_INIT_TICK_ARRAY = struct.Struct("<8si")
_ADD_LIQUIDITY = struct.Struct("<8sQQQQii")
assert _CONFIG.size == CONFIG_SIZE and _TICK.size == orca.TICK_SIZE
assert _INIT_POOL.size == 31 and _ADD_LIQUIDITY.size == 48


def _split(v: int) -> tuple[int, int]:
    return v & (_U64 - 1), v >> 64


def config_data(
    fee_authority: Pubkey = SYSTEM_PROGRAM_ID,
    collect_protocol_fees_authority: Pubkey = SYSTEM_PROGRAM_ID,
    reward_emissions_super_authority: Pubkey = SYSTEM_PROGRAM_ID,
    default_protocol_fee_rate: int = 300,
) -> bytes:
    """A 108-byte WhirlpoolsConfig (feature_flags 0)."""
    return _CONFIG.pack(
        CONFIG_DISCRIMINATOR,
        bytes(fee_authority),
        bytes(collect_protocol_fees_authority),
        bytes(reward_emissions_super_authority),
        default_protocol_fee_rate,
        0,
    )


@dataclass(frozen=True)
class RewardFields:
    """One reward slot (zero mint = not initialized)."""

    mint: Pubkey = Pubkey.default()
    vault: Pubkey = Pubkey.default()
    authority: Pubkey = Pubkey.default()
    emissions_per_second_x64: int = 0
    growth_global_x64: int = 0


@dataclass(frozen=True)
class WhirlpoolFields:
    """Every Whirlpool field (fee_tier_index defaults to tick_spacing: a static-fee pool)."""

    whirlpools_config: Pubkey
    whirlpool_bump: int
    tick_spacing: int
    token_mint_a: Pubkey
    token_vault_a: Pubkey
    token_mint_b: Pubkey
    token_vault_b: Pubkey
    sqrt_price: int
    tick_current_index: int
    liquidity: int = 0
    fee_rate: int = 3000
    protocol_fee_rate: int = 300
    fee_tier_index: int | None = None
    protocol_fee_owed_a: int = 0
    protocol_fee_owed_b: int = 0
    fee_growth_global_a: int = 0
    fee_growth_global_b: int = 0
    reward_last_updated_timestamp: int = 0
    reward_infos: tuple[RewardFields, RewardFields, RewardFields] = (
        RewardFields(),
        RewardFields(),
        RewardFields(),
    )


def whirlpool_data(f: WhirlpoolFields) -> bytes:
    """A 653-byte Whirlpool account."""
    rewards = b"".join(
        bytes(r.mint)
        + bytes(r.vault)
        + bytes(r.authority)
        + struct.pack("<QQQQ", *_split(r.emissions_per_second_x64), *_split(r.growth_global_x64))
        for r in f.reward_infos
    )
    fee_tier_index = f.tick_spacing if f.fee_tier_index is None else f.fee_tier_index
    data = struct.pack(
        "<8s32sBHHHHQQQQiQQ32s32sQQ32s32sQQQ384s",
        orca.WHIRLPOOL_DISCRIMINATOR,
        bytes(f.whirlpools_config),
        f.whirlpool_bump,
        f.tick_spacing,
        fee_tier_index,
        f.fee_rate,
        f.protocol_fee_rate,
        *_split(f.liquidity),
        *_split(f.sqrt_price),
        f.tick_current_index,
        f.protocol_fee_owed_a,
        f.protocol_fee_owed_b,
        bytes(f.token_mint_a),
        bytes(f.token_vault_a),
        *_split(f.fee_growth_global_a),
        bytes(f.token_mint_b),
        bytes(f.token_vault_b),
        *_split(f.fee_growth_global_b),
        f.reward_last_updated_timestamp,
        rewards,
    )
    assert len(data) == orca.WHIRLPOOL_SIZE
    return data


@dataclass(frozen=True)
class TickFields:
    """One initialized tick: liquidity_net is signed (i128), the rest unsigned."""

    liquidity_net: int
    liquidity_gross: int
    fee_growth_outside_a: int = 0
    fee_growth_outside_b: int = 0
    reward_growths_outside: tuple[int, int, int] = (0, 0, 0)


def tick_bytes(t: TickFields) -> bytes:
    net = t.liquidity_net & ((1 << 128) - 1)
    lo, hi = net & (_U64 - 1), net >> 64
    hi_signed = hi - _U64 if hi >> 63 else hi
    return _TICK.pack(
        1,
        lo,
        hi_signed,
        *_split(t.liquidity_gross),
        *_split(t.fee_growth_outside_a),
        *_split(t.fee_growth_outside_b),
        *(w for g in t.reward_growths_outside for w in _split(g)),
    )


def tick_array_data(
    start_tick_index: int, whirlpool: Pubkey, ticks: dict[int, TickFields], tick_spacing: int
) -> bytes:
    """A 9,988-byte FixedTickArray; `ticks` maps tick index -> fields (indexes must lie in the array)."""
    body = bytearray(orca.TICK_SIZE * wm.TICK_ARRAY_SIZE)
    for index, t in ticks.items():
        offset, rem = divmod(index - start_tick_index, tick_spacing)
        if rem or not 0 <= offset < wm.TICK_ARRAY_SIZE:
            raise ValueError(
                f"tick {index} is not in the array starting at {start_tick_index} (spacing {tick_spacing})"
            )
        body[orca.TICK_SIZE * offset : orca.TICK_SIZE * (offset + 1)] = tick_bytes(t)
    data = (
        orca.FIXED_TICK_ARRAY_DISCRIMINATOR
        + struct.pack("<i", start_tick_index)
        + bytes(body)
        + bytes(whirlpool)
    )
    assert len(data) == orca.FIXED_TICK_ARRAY_SIZE
    return data


def dynamic_tick_array_data(
    start_tick_index: int, whirlpool: Pubkey, ticks: dict[int, TickFields], tick_spacing: int
) -> bytes:
    """A DynamicTickArray holding exactly the initialized `ticks` (60 + 88 + 112 x initialized bytes)."""
    entries: list[bytes] = [b"\x00"] * wm.TICK_ARRAY_SIZE
    bitmap = 0
    for index, t in ticks.items():
        offset, rem = divmod(index - start_tick_index, tick_spacing)
        if rem or not 0 <= offset < wm.TICK_ARRAY_SIZE:
            raise ValueError(
                f"tick {index} is not in the array starting at {start_tick_index} (spacing {tick_spacing})"
            )
        entries[offset] = tick_bytes(t)  # tag 1 (the fixed layout's `initialized` byte) + 112 bytes
        bitmap |= 1 << offset
    head = orca.DYNAMIC_TICK_ARRAY_DISCRIMINATOR + struct.pack("<i", start_tick_index) + bytes(whirlpool)
    return head + struct.pack("<QQ", *_split(bitmap)) + b"".join(entries)


def whirlpool_address(
    config: Pubkey, mint_a: Pubkey, mint_b: Pubkey, tick_spacing: int, program_id: Pubkey = PROGRAM_ID
) -> tuple[Pubkey, int]:
    """The pool PDA ["whirlpool", config, mint_a, mint_b, fee_tier_index u16 LE] and its bump."""
    seeds = [b"whirlpool", bytes(config), bytes(mint_a), bytes(mint_b), tick_spacing.to_bytes(2, "little")]
    return Pubkey.find_program_address(seeds, program_id)


def vault_address(whirlpool: Pubkey, mint: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """Where `make_pool` puts a vault. Real vaults are keypair accounts; any address works for the program."""
    return Pubkey.find_program_address([b"localnet_vault", bytes(whirlpool), bytes(mint)], program_id)[0]


@dataclass(frozen=True)
class Position:
    """Liquidity over [tick_lower, tick_upper)."""

    tick_lower: int
    tick_upper: int
    liquidity: int


def ticks_from_positions(positions: Iterable[Position]) -> dict[int, TickFields]:
    """liquidity_net / liquidity_gross per tick for a set of positions (fee and reward growths zero)."""
    net: dict[int, int] = {}
    gross: dict[int, int] = {}
    for p in positions:
        if p.tick_lower >= p.tick_upper or p.liquidity <= 0:
            raise ValueError(f"bad position {p}")
        for index, signed in ((p.tick_lower, p.liquidity), (p.tick_upper, -p.liquidity)):
            net[index] = net.get(index, 0) + signed
            gross[index] = gross.get(index, 0) + p.liquidity
    return {i: TickFields(net[i], gross[i]) for i in net}


def active_liquidity(positions: Iterable[Position], tick_current_index: int) -> int:
    return sum(p.liquidity for p in positions if p.tick_lower <= tick_current_index < p.tick_upper)


@dataclass(frozen=True)
class PoolSetup:
    """Addresses of a ready-to-swap Whirlpool and every account to write for it (``accounts``)."""

    whirlpool: Pubkey
    config: Pubkey
    mint_a: Pubkey
    mint_b: Pubkey
    vault_a: Pubkey
    vault_b: Pubkey
    oracle: Pubkey
    tick_arrays: dict[int, Pubkey]
    fields: WhirlpoolFields
    accounts: dict[Pubkey, Account] = field(repr=False)


def make_pool(
    *,
    mint_a: Pubkey,
    mint_b: Pubkey,
    tick_spacing: int,
    sqrt_price: int,
    positions: Sequence[Position] = (),
    ticks: dict[int, TickFields] | None = None,
    liquidity: int | None = None,
    fee_rate: int = 3000,
    protocol_fee_rate: int = 300,
    vault_a_amount: int = 0,
    vault_b_amount: int = 0,
    config: Pubkey | None = None,
    array_starts: Iterable[int] = (),
    dynamic_arrays: bool = False,
    with_mints: bool = True,
    decimals_a: int = 9,
    decimals_b: int = 6,
    program_id: Pubkey = PROGRAM_ID,
    **overrides: object,
) -> PoolSetup:
    """Every account of a Whirlpool at its real address, ready for `set_account`.

    The pool sits at its PDA with the real bump; tick arrays at ["tick_array", pool, start]. Ticks come from
    `positions` (liquidity_net/gross summed; the pool's liquidity is what is active at the current tick
    unless `liquidity` is given) or directly from `ticks`. A tick array is written for every array holding
    an initialized tick, for each start in `array_starts`, and for the three arrays a swap in either
    direction uses from the current tick (empty when nothing is initialized there). Vaults are token
    accounts owned by the pool PDA holding `vault_a_amount` / `vault_b_amount`; `overrides` set any other
    `WhirlpoolFields` field (e.g. fee_growth_global_a, reward_infos, fee_tier_index). With
    `dynamic_arrays` the tick arrays are DynamicTickArrays instead of FixedTickArrays.
    """
    if bytes(mint_a) >= bytes(mint_b):
        raise ValueError("mint_a must sort before mint_b (bytewise), as the program requires")
    if config is None:
        config = Pubkey.find_program_address([b"localnet_config"], program_id)[0]
    pool, bump = whirlpool_address(config, mint_a, mint_b, tick_spacing, program_id)
    tick_current = wm.tick_index_from_sqrt_price(sqrt_price)
    all_ticks = dict(ticks or {})
    all_ticks.update(ticks_from_positions(positions))
    if liquidity is None:
        liquidity = active_liquidity(positions, tick_current)
    vault_a, vault_b = vault_address(pool, mint_a, program_id), vault_address(pool, mint_b, program_id)
    fields = WhirlpoolFields(
        whirlpools_config=config,
        whirlpool_bump=bump,
        tick_spacing=tick_spacing,
        token_mint_a=mint_a,
        token_vault_a=vault_a,
        token_mint_b=mint_b,
        token_vault_b=vault_b,
        sqrt_price=sqrt_price,
        tick_current_index=tick_current,
        liquidity=liquidity,
        fee_rate=fee_rate,
        protocol_fee_rate=protocol_fee_rate,
        **overrides,  # type: ignore[arg-type]
    )
    starts = set(array_starts)
    starts.update(orca.tick_array_start_index(t, tick_spacing) for t in all_ticks)
    for a_to_b in (True, False):
        starts.update(orca.tick_array_start_indexes(fields.tick_current_index, tick_spacing, a_to_b))
    tick_arrays: dict[int, Pubkey] = {}
    accounts: dict[Pubkey, Account] = {
        config: account(config_data(), program_id),
        pool: account(whirlpool_data(fields), program_id),
        vault_a: account(token_account_data(mint_a, pool, vault_a_amount), TOKEN_PROGRAM_ID),
        vault_b: account(token_account_data(mint_b, pool, vault_b_amount), TOKEN_PROGRAM_ID),
    }
    width = wm.TICK_ARRAY_SIZE * tick_spacing
    for start in sorted(starts):
        address = orca.tick_array_address(pool, start, program_id)
        tick_arrays[start] = address
        in_array = {t: v for t, v in all_ticks.items() if start <= t < start + width}
        build = dynamic_tick_array_data if dynamic_arrays else tick_array_data
        accounts[address] = account(build(start, pool, in_array, tick_spacing), program_id)
    if with_mints:
        accounts[mint_a] = account(mint_data(decimals_a), TOKEN_PROGRAM_ID)
        accounts[mint_b] = account(mint_data(decimals_b), TOKEN_PROGRAM_ID)
    oracle = orca.oracle_address(pool, program_id)
    return PoolSetup(pool, config, mint_a, mint_b, vault_a, vault_b, oracle, tick_arrays, fields, accounts)


# --- our seeding instructions --------------------------------------------------------------------


def build_initialize_pool_ix(
    *,
    funder: Pubkey,
    config: Pubkey,
    mint_a: Pubkey,
    mint_b: Pubkey,
    vault_a: Pubkey,
    vault_b: Pubkey,
    tick_spacing: int,
    initial_sqrt_price: int,
    fee_rate: int = 3000,
    protocol_fee_rate: int = 300,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """Our `localnet_initialize_pool`: creates the pool PDA (funded by `funder`) over existing vaults.

    `config` must be a WhirlpoolsConfig owned by the program; the vaults must be initialized token accounts
    of the two mints whose owner is the pool PDA (see `whirlpool_address`).
    """
    pool, bump = whirlpool_address(config, mint_a, mint_b, tick_spacing, program_id)
    data = _INIT_POOL.pack(
        INITIALIZE_POOL_DISCRIMINATOR,
        tick_spacing,
        *_split(initial_sqrt_price),
        fee_rate,
        protocol_fee_rate,
        bump,
    )
    metas = [
        AccountMeta(funder, is_signer=True, is_writable=True),
        AccountMeta(config, is_signer=False, is_writable=False),
        AccountMeta(mint_a, is_signer=False, is_writable=False),
        AccountMeta(mint_b, is_signer=False, is_writable=False),
        AccountMeta(pool, is_signer=False, is_writable=True),
        AccountMeta(vault_a, is_signer=False, is_writable=False),
        AccountMeta(vault_b, is_signer=False, is_writable=False),
        AccountMeta(SYSTEM_PROGRAM_ID, is_signer=False, is_writable=False),
    ]
    return Instruction(program_id, data, metas)


def build_initialize_tick_array_ix(
    *, whirlpool: Pubkey, funder: Pubkey, start_tick_index: int, program_id: Pubkey = PROGRAM_ID
) -> Instruction:
    """Our `localnet_initialize_tick_array`: creates the FixedTickArray PDA for `start_tick_index`."""
    metas = [
        AccountMeta(whirlpool, is_signer=False, is_writable=False),
        AccountMeta(funder, is_signer=True, is_writable=True),
        AccountMeta(orca.tick_array_address(whirlpool, start_tick_index, program_id), False, True),
        AccountMeta(SYSTEM_PROGRAM_ID, is_signer=False, is_writable=False),
    ]
    return Instruction(
        program_id, _INIT_TICK_ARRAY.pack(INITIALIZE_TICK_ARRAY_DISCRIMINATOR, start_tick_index), metas
    )


def build_add_liquidity_ix(
    *,
    whirlpool: Pubkey,
    authority: Pubkey,
    owner_account_a: Pubkey,
    owner_account_b: Pubkey,
    vault_a: Pubkey,
    vault_b: Pubkey,
    tick_spacing: int,
    tick_lower: int,
    tick_upper: int,
    liquidity: int,
    token_max_a: int = U64_MAX,
    token_max_b: int = U64_MAX,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """Our `localnet_add_liquidity`: +liquidity over [tick_lower, tick_upper), tokens in (rounded up)."""
    data = _ADD_LIQUIDITY.pack(
        ADD_LIQUIDITY_DISCRIMINATOR, *_split(liquidity), token_max_a, token_max_b, tick_lower, tick_upper
    )
    lower_array = orca.tick_array_address(
        whirlpool, orca.tick_array_start_index(tick_lower, tick_spacing), program_id
    )
    upper_array = orca.tick_array_address(
        whirlpool, orca.tick_array_start_index(tick_upper, tick_spacing), program_id
    )
    metas = [
        AccountMeta(whirlpool, is_signer=False, is_writable=True),
        AccountMeta(TOKEN_PROGRAM_ID, is_signer=False, is_writable=False),
        AccountMeta(authority, is_signer=True, is_writable=False),
        AccountMeta(owner_account_a, is_signer=False, is_writable=True),
        AccountMeta(owner_account_b, is_signer=False, is_writable=True),
        AccountMeta(vault_a, is_signer=False, is_writable=True),
        AccountMeta(vault_b, is_signer=False, is_writable=True),
        AccountMeta(lower_array, is_signer=False, is_writable=True),
        AccountMeta(upper_array, is_signer=False, is_writable=True),
    ]
    return Instruction(program_id, data, metas)
