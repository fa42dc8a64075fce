"""Byte builders for the PumpSwap program's accounts (pumpswap.c), and `make_pool`.

Layouts from the IDL of the official @pump-fun/pump-swap-sdk 1.20.0 (`Pool`, `GlobalConfig`, the fee
program's `FeeConfig`; protocols.md §5), written here independently of strategies.venues.pumpswap so the
tests compare two implementations. `make_pool` returns every account of a ready-to-trade pool at the
real PDAs (pool, its vaults = its ATAs, GlobalConfig, FeeConfig, the coin creator's fee vault, the fee
recipients' token accounts); write them with `set_account` (LiteSVM or the localnet server).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

from solders.account import Account
from solders.pubkey import Pubkey

from localnet.programs.cpmm_accounts import account, mint_data, token_account_data

PROGRAM_ID = Pubkey.from_string("pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA")
FEE_PROGRAM_ID = Pubkey.from_string("pfeeUxB6jkeY1Hxd7CsFCAjcbHA9rWtchMGdZ6VojVZ")
PUMP_PROGRAM_ID = Pubkey.from_string("6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P")
TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022_PROGRAM_ID = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
ATA_PROGRAM_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
WSOL_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
USDC_MINT = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")

POOL_DISCRIMINATOR = hashlib.sha256(b"account:Pool").digest()[:8]
GLOBAL_CONFIG_DISCRIMINATOR = hashlib.sha256(b"account:GlobalConfig").digest()[:8]
FEE_CONFIG_DISCRIMINATOR = hashlib.sha256(b"account:FeeConfig").digest()[:8]
POOL_SIZE = 300  # extend_account's size; the fields end at 270
GLOBAL_CONFIG_SIZE = 949
FEE_CONFIG_SIZE = 4073  # the mainnet account's layout: SOL tiers + stable tiers, no exotic fees

# Offsets tests patch directly.
POOL_VIRTUAL_QUOTE_RESERVES_OFFSET = 245
GLOBAL_DISABLE_FLAGS_OFFSET = 56

Fees = tuple[int, int, int]  # (lp, protocol, creator) basis points
Tier = tuple[int, Fees]  # (market-cap threshold, fees)

# The live mainnet FeeConfig's schedules as the SDK's test fixture lists them
# (src/__tests__/feeConfigMainnetFixture.ts, captured at slot 445186127): SOL tiers in lamports,
# USDC tiers in USDC base units, same fees per rank.
_RANK_FEES: list[Fees] = [(2, 93, 30)] + [(20, 5, c) for c in (95, 90, 85, 80, 75, 70, 65, 60, 55, 50, 45, 40, 35, 30, 28, 25, 23, 20, 18, 15, 13, 10, 8, 5)]  # fmt: skip
_SOL_THRESHOLDS = [0, 420, 1470, 2460, 3440, 4420, 9820, 14740, 19650, 24560, 29470, 34380, 39300, 44210, 49120,
                   54030, 58940, 63860, 68770, 73681, 78590, 83500, 88400, 93330, 98240]  # fmt: skip
_USDC_THRESHOLDS = [0, 59_000, 300_000, 500_000, 700_000, 900_000] + [k * 1_000_000 for k in range(2, 21)]
MAINNET_FEE_TIERS: list[Tier] = [(t * 10**9, f) for t, f in zip(_SOL_THRESHOLDS, _RANK_FEES, strict=True)]
MAINNET_STABLE_FEE_TIERS: list[Tier] = [
    (t * 10**6, f) for t, f in zip(_USDC_THRESHOLDS, _RANK_FEES, strict=True)
]
MAINNET_FLAT_FEES: Fees = (25, 5, 0)

_POOL = struct.Struct("<8sBH" + "32s" * 6 + "Q32sBB16sQB")
_FEES = struct.Struct("<QQQ")


def ata(owner: Pubkey, mint: Pubkey, token_program: Pubkey = TOKEN_PROGRAM_ID) -> Pubkey:
    """The associated token account of (owner, mint) under ``token_program``."""
    return Pubkey.find_program_address([bytes(owner), bytes(token_program), bytes(mint)], ATA_PROGRAM_ID)[0]


def pda(seeds: list[bytes], program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return Pubkey.find_program_address(seeds, program_id)[0]


def global_config_address() -> Pubkey:
    return pda([b"global_config"])


def fee_config_address() -> Pubkey:
    return pda([b"fee_config", bytes(PROGRAM_ID)], FEE_PROGRAM_ID)


def pump_pool_authority(base_mint: Pubkey) -> Pubkey:
    """The creator of a canonical pool: pump's ["pool-authority", base_mint]."""
    return pda([b"pool-authority", bytes(base_mint)], PUMP_PROGRAM_ID)


def creator_vault_authority(coin_creator: Pubkey) -> Pubkey:
    return pda([b"creator_vault", bytes(coin_creator)])


def user_volume_accumulator(user: Pubkey) -> Pubkey:
    return pda([b"user_volume_accumulator", bytes(user)])


@dataclass(frozen=True)
class PoolFields:
    """Every Pool field (defaults: a canonical-looking pool with no boost and no per-pool creator fee)."""

    creator: Pubkey
    base_mint: Pubkey
    quote_mint: Pubkey
    pool_base_token_account: Pubkey
    pool_quote_token_account: Pubkey
    pool_bump: int
    index: int = 0
    lp_mint: Pubkey = Pubkey.default()
    lp_supply: int = 4_193_388_308_335
    coin_creator: Pubkey = Pubkey.default()
    is_mayhem_mode: bool = False
    is_cashback_coin: bool = False
    virtual_quote_reserves: int = 0
    creator_fee_bps: int = 0
    can_edit_creator_fee: bool = False


def pool_data(f: PoolFields, size: int = POOL_SIZE) -> bytes:
    """A Pool account of ``size`` bytes (300 = extended; shorter sizes cut the layout, as old accounts do)."""
    body = _POOL.pack(
        POOL_DISCRIMINATOR, f.pool_bump, f.index, bytes(f.creator), bytes(f.base_mint), bytes(f.quote_mint),
        bytes(f.lp_mint), bytes(f.pool_base_token_account), bytes(f.pool_quote_token_account), f.lp_supply,
        bytes(f.coin_creator), int(f.is_mayhem_mode), int(f.is_cashback_coin),
        f.virtual_quote_reserves.to_bytes(16, "little", signed=True), f.creator_fee_bps, int(f.can_edit_creator_fee),
    )  # fmt: skip
    return body[:size] if size <= len(body) else body + bytes(size - len(body))


def _keys(keys: list[Pubkey], n: int) -> bytes:
    if len(keys) != n:
        raise ValueError(f"expected {n} keys, got {len(keys)}")
    return b"".join(bytes(k) for k in keys)


@dataclass(frozen=True)
class GlobalFields:
    """The GlobalConfig fields a swap reads (recipients default to fresh keys)."""

    lp_fee_basis_points: int = 20
    protocol_fee_basis_points: int = 5
    coin_creator_fee_basis_points: int = 5
    disable_flags: int = 0
    protocol_fee_recipients: list[Pubkey] = field(
        default_factory=lambda: [Pubkey.new_unique() for _ in range(8)]
    )
    reserved_fee_recipient: Pubkey = field(default_factory=Pubkey.new_unique)
    reserved_fee_recipients: list[Pubkey] = field(
        default_factory=lambda: [Pubkey.new_unique() for _ in range(7)]
    )
    buyback_fee_recipients: list[Pubkey] = field(
        default_factory=lambda: [Pubkey.new_unique() for _ in range(8)]
    )
    buyback_basis_points: int = 5_000
    mayhem_mode_enabled: bool = True
    is_cashback_enabled: bool = True
    creator_fee_configurable: bool = True
    max_configurable_creator_fee_bps: int = 300
    admin: Pubkey = Pubkey.default()


def global_config_data(g: GlobalFields, size: int = GLOBAL_CONFIG_SIZE) -> bytes:
    """A GlobalConfig of ``size`` bytes (949 current; 907 / 940 older)."""
    body = b"".join([
        GLOBAL_CONFIG_DISCRIMINATOR, bytes(g.admin), struct.pack("<QQB", g.lp_fee_basis_points,
        g.protocol_fee_basis_points, g.disable_flags), _keys(g.protocol_fee_recipients, 8),
        struct.pack("<Q", g.coin_creator_fee_basis_points), bytes(32), bytes(32), bytes(g.reserved_fee_recipient),
        bytes([int(g.mayhem_mode_enabled)]), _keys(g.reserved_fee_recipients, 7), bytes([int(g.is_cashback_enabled)]),
        _keys(g.buyback_fee_recipients, 8), struct.pack("<Q", g.buyback_basis_points), bytes(32), b"\x00",
        bytes([int(g.creator_fee_configurable)]), struct.pack("<Q", g.max_configurable_creator_fee_bps),
    ])  # fmt: skip
    assert len(body) == GLOBAL_CONFIG_SIZE
    return body[:size]


def _tier_vec(tiers: list[Tier]) -> bytes:
    return struct.pack("<I", len(tiers)) + b"".join(
        t.to_bytes(16, "little") + _FEES.pack(*f) for t, f in tiers
    )


def fee_config_data(
    flat: Fees = MAINNET_FLAT_FEES,
    tiers: list[Tier] | None = None,
    stable: list[Tier] | None = None,
    exotic: Fees = (0, 0, 0),
    size: int = FEE_CONFIG_SIZE,
) -> bytes:
    """A fee-program FeeConfig (2512 / 4073 / 4097 bytes) with the given schedules (default: mainnet's)."""
    parts = [FEE_CONFIG_DISCRIMINATOR, b"\xff", bytes(32), _FEES.pack(*flat)]
    parts.append(_tier_vec(MAINNET_FEE_TIERS if tiers is None else tiers))
    if size >= 4073:
        parts.append(_tier_vec(MAINNET_STABLE_FEE_TIERS if stable is None else stable))
    if size >= 4097:
        parts.append(_FEES.pack(*exotic))
    body = b"".join(parts)
    if len(body) > size:
        raise ValueError(f"{len(body)} bytes of schedules do not fit a {size}-byte FeeConfig")
    return body + bytes(size - len(body))


@dataclass(frozen=True)
class PoolSetup:
    """A ready-to-trade pool: its addresses and every account to write (``accounts``)."""

    pool: Pubkey
    fields: PoolFields
    global_fields: GlobalFields
    global_config: Pubkey
    fee_config: Pubkey
    base_token_program: Pubkey
    quote_token_program: Pubkey
    creator_vault_authority: Pubkey
    creator_vault_ata: Pubkey
    accounts: dict[Pubkey, Account]

    def fee_recipient_ata(self, recipient: Pubkey) -> Pubkey:
        return ata(recipient, self.fields.quote_mint, self.quote_token_program)


def make_pool(
    *,
    base_mint: Pubkey,
    quote_mint: Pubkey = WSOL_MINT,
    base_reserve: int,
    quote_reserve: int,
    base_supply: int = 10**15,
    canonical: bool = True,
    creator: Pubkey | None = None,
    index: int = 0,
    coin_creator: Pubkey | None = None,
    base_decimals: int = 6,
    quote_decimals: int = 9,
    base_token_program: Pubkey = TOKEN_PROGRAM_ID,
    quote_token_program: Pubkey = TOKEN_PROGRAM_ID,
    global_fields: GlobalFields | None = None,
    fee_config: bytes | None = None,
    with_mints: bool = True,
    pool_size: int = POOL_SIZE,
    **pool_overrides: object,
) -> PoolSetup:
    """Every account of a pool holding ``base_reserve`` / ``quote_reserve``, at the real PDAs.

    Pool ["pool", index u16 LE, creator, base_mint, quote_mint] (creator = pump's pool authority of the
    base mint when ``canonical``), vaults = the pool's ATAs, GlobalConfig ["global_config"], FeeConfig
    (fee program) ["fee_config", PumpSwap id] (default: the mainnet schedules), the coin creator's vault
    ATA, and a quote token account for each protocol, reserved and buyback fee recipient. Extra Pool
    fields (is_mayhem_mode, virtual_quote_reserves, ...) go in ``pool_overrides``.
    """
    if creator is None:
        creator = pump_pool_authority(base_mint) if canonical else Pubkey.new_unique()
    if coin_creator is None:
        coin_creator = Pubkey.new_unique()
    seeds = [b"pool", index.to_bytes(2, "little"), bytes(creator), bytes(base_mint), bytes(quote_mint)]
    pool, bump = Pubkey.find_program_address(seeds, PROGRAM_ID)
    base_vault = ata(pool, base_mint, base_token_program)
    quote_vault = ata(pool, quote_mint, quote_token_program)
    fields = PoolFields(
        creator=creator, base_mint=base_mint, quote_mint=quote_mint, pool_base_token_account=base_vault,
        pool_quote_token_account=quote_vault, pool_bump=bump, index=index, coin_creator=coin_creator,
        **pool_overrides,  # type: ignore[arg-type]
    )  # fmt: skip
    g = global_fields or GlobalFields()
    vault_authority = creator_vault_authority(coin_creator)
    creator_vault = ata(vault_authority, quote_mint, quote_token_program)
    accounts = {
        pool: account(pool_data(fields, pool_size), PROGRAM_ID),
        base_vault: account(token_account_data(base_mint, pool, base_reserve), base_token_program),
        quote_vault: account(token_account_data(quote_mint, pool, quote_reserve), quote_token_program),
        global_config_address(): account(global_config_data(g), PROGRAM_ID),
        fee_config_address(): account(fee_config or fee_config_data(), FEE_PROGRAM_ID),
        creator_vault: account(token_account_data(quote_mint, vault_authority, 0), quote_token_program),
    }
    recipients = [*g.protocol_fee_recipients, g.reserved_fee_recipient, *g.reserved_fee_recipients]
    for recipient in recipients + g.buyback_fee_recipients:
        token = ata(recipient, quote_mint, quote_token_program)
        accounts[token] = account(token_account_data(quote_mint, recipient, 0), quote_token_program)
    if with_mints:
        accounts[base_mint] = account(mint_data(base_decimals, supply=base_supply), base_token_program)
        accounts[quote_mint] = account(mint_data(quote_decimals, supply=10**18), quote_token_program)
    return PoolSetup(
        pool, fields, g, global_config_address(), fee_config_address(), base_token_program, quote_token_program,
        vault_authority, creator_vault, accounts,
    )  # fmt: skip
