"""PumpSwap (`pAMMBay6…`): Pool / GlobalConfig / FeeConfig decoding, fee selection, exact quotes,
tradability checks, PDAs and the buy / buy_exact_quote_in / sell builders.

The program's source is not public. The oracle is the official `@pump-fun/pump-swap-sdk` 1.20.0
(pinned in tools/oracles/package-lock.json): layouts from its IDL (`src/idl/pump_amm.json`) and its
versioned readers (`src/sdk/offlinePumpAmm.ts`), fee selection from `src/sdk/fees.ts` / `util.ts`,
quotes from `src/sdk/buy.ts` / `sell.ts`, account lists from `PumpAmmSdk.buyInstructionsNoPool` /
`sellInstructionsNoPool`; facts restated in protocols.md §5 and pump-fun/pump-public-docs. Every
formula below is checked against that SDK by tests/venues/test_pumpswap_sdk_vectors.py.

Money is plain Python integers. A pool's price comes from its two vault balances; the quote side is
priced on `quote vault + Pool.virtual_quote_reserves` (signed, i128; non-zero on boosted pools).
Fees are basis points of the quote amount, each rounded up (ceil), charged on top of a buy and taken
out of a sell's output: the LP fee stays in the pool, the protocol fee goes to a protocol fee
recipient (a part of it, `buyback_basis_points`, to a buyback recipient), the creator fee to the coin
creator's vault. Since 2025-09 the rates come from the pump fee program's FeeConfig: canonical (pump
migrated) pools pay a tier picked by market cap, other pools a flat schedule.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from strategies import layout
from strategies.venues.base import (
    ROLE_CONFIG,
    ROLE_FEE_CONFIG,
    ROLE_MINT_A,
    ROLE_MINT_B,
    ROLE_VAULT_A,
    ROLE_VAULT_B,
    AccountFetch,
    AccountSlot,
    Dependency,
    FetchedAccount,
    MissingAccount,
    PoolContext,
    SwapLeg,
    Venue,
    cp_quote_report,
    cp_settling,
)
from strategies.venues.errors import (
    BuyMoreBaseAmountThanPoolReserves,
    BuyNotEnoughQuoteTokensToCoverFees,
    DecodeError,
    InsufficientLiquidity,
    InsufficientRealQuoteReserves,
    InvalidInput,
    PumpSwapOverflow,
    RefusalReason,
    UnknownLayout,
    Unmodelled,
    ZeroBaseAmount,
    ZeroQuoteAmount,
)
from strategies.venues.spl import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    SYSTEM_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    WSOL_MINT,
    Mint,
    associated_token_address,
    decode_mint,
    decode_token_account,
    ensure_mint_modelled,
    read_token_amount,
)

PROGRAM_ID = Pubkey.from_string("pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA")
FEE_PROGRAM_ID = Pubkey.from_string("pfeeUxB6jkeY1Hxd7CsFCAjcbHA9rWtchMGdZ6VojVZ")
PUMP_PROGRAM_ID = Pubkey.from_string("6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P")
NATIVE_MINT_2022 = Pubkey.from_string("9pan9bMn5HatX4EJdBwg9VgCa7Uz5HL8N1m5D3NdXejP")
USDC_MINT = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
# Quote mints that select FeeConfig.fee_tiers / stable_fee_tiers on a canonical pool (SDK fees.ts,
# mirroring pump-fees `is_sol_like_quote_mint` / `STABLE_QUOTE_MINTS`).
SOL_LIKE_QUOTE_MINTS = (Pubkey.default(), WSOL_MINT, NATIVE_MINT_2022)
STABLE_QUOTE_MINTS = (USDC_MINT,)

U64_MAX = (1 << 64) - 1
I128_MIN, I128_MAX = -(1 << 127), (1 << 127) - 1
BPS_DENOMINATOR = 10_000
# pump-amm TOTAL_TOKEN_SUPPLY: the market-cap basis of mayhem-mode pools (SDK util.ts).
PUMP_AMM_TOTAL_TOKEN_SUPPLY = 1_000_000_000_000_000
CANONICAL_POOL_INDEX = 0

# Discriminators: sha256("account:<Name>")[:8] / sha256("global:<name>")[:8], as in the IDL.
POOL_DISCRIMINATOR = bytes.fromhex("f19a6d0411b16dbc")
GLOBAL_CONFIG_DISCRIMINATOR = bytes([149, 8, 156, 202, 160, 252, 176, 217])
FEE_CONFIG_DISCRIMINATOR = bytes([143, 52, 146, 187, 219, 123, 76, 155])
BUY_DISCRIMINATOR = bytes.fromhex("66063d1201daebea")
BUY_EXACT_QUOTE_IN_DISCRIMINATOR = bytes.fromhex("c62e1552b4d9e870")
SELL_DISCRIMINATOR = bytes.fromhex("33e685a4017f83ad")
EXTEND_ACCOUNT_DISCRIMINATOR = bytes.fromhex("ea66c2cb96483ee5")

# Pool: every length a version of the layout had (SDK offlinePumpAmm.ts: 211 / 243 / 244 / 245 / 261,
# current POOL_SIZE 270), and the 300 bytes `extend_account` grows a pool to (POOL_ACCOUNT_NEW_SIZE).
# Fields a shorter version lacks read as 0 / false, as the program's versioned reader does.
POOL_LAYOUT_SIZES = (211, 243, 244, 245, 261, 270)
POOL_SIZE = 270
POOL_ACCOUNT_NEW_SIZE = 300
GLOBAL_CONFIG_LAYOUT_SIZES = (907, 940, 949)
GLOBAL_CONFIG_SIZE = 949
# FeeConfig (fee program): pre-stable, post-stable (mainnet today), post-exotic.
FEE_CONFIG_LAYOUT_SIZES = (2512, 4073, 4097)
FEE_CONFIG_SIZE_POST_STABLE = 4073
FEE_CONFIG_SIZE_POST_EXOTIC = 4097

# GlobalConfig.disable_flags bits (IDL docs).
DISABLE_BUY = 1 << 3
DISABLE_SELL = 1 << 4

# Instruction data: discriminator, two u64 (buy / buy_exact_quote_in add an OptionBool byte). The
# executor patches the two amounts in place in precompiled messages, so the offsets are public.
BUY_DATA_SIZE = 25
SELL_DATA_SIZE = 24
ARG0_OFFSET = 8  # buy: base_amount_out; buy_exact_quote_in: spendable_quote_in; sell: base_amount_in
ARG1_OFFSET = (
    16  # buy: max_quote_amount_in; buy_exact_quote_in: min_base_amount_out; sell: min_quote_amount_out
)

# Pool (Borsh, no padding): bump u8 @8, index u16 @9, creator @11, base_mint @43, quote_mint @75,
# lp_mint @107, pool_base_token_account @139, pool_quote_token_account @171, lp_supply u64 @203,
# coin_creator @211, is_mayhem_mode @243, is_cashback_coin @244, virtual_quote_reserves i128 @245,
# creator_fee_bps u64 @261, can_edit_creator_fee @269 (protocols.md §5, IDL `Pool`).
_POOL = struct.Struct("<8sBH" + "32s" * 6 + "Q32sBB16sQB")
# GlobalConfig: admin, lp/protocol bps, disable_flags, 8 protocol fee recipients, coin creator bps,
# admin_set_coin_creator_authority, whitelist_pda, reserved_fee_recipient, mayhem_mode_enabled,
# 7 reserved recipients, is_cashback_enabled, 8 buyback recipients, buyback bps (..907),
# boost_authority, boost_enabled (..940), creator_fee_configurable, max_configurable_creator_fee_bps.
_GLOBAL = struct.Struct("<8s32sQQB" + "32s" * 8 + "Q32s32s32sB" + "32s" * 7 + "B" + "32s" * 8 + "Q32sBBQ")
_FEES = struct.Struct("<QQQ")
_FEE_TIER = struct.Struct("<16sQQQ")  # u128 market-cap threshold (lamports or quote units), Fees
_FEE_CONFIG_HEAD = struct.Struct("<8sB32sQQQ")
_FEE_TIERS_OFFSET = _FEE_CONFIG_HEAD.size  # 65
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_SWAP_DATA = struct.Struct("<8sQQ")
_BUY_DATA = struct.Struct("<8sQQB")
assert _POOL.size == POOL_SIZE and _GLOBAL.size == GLOBAL_CONFIG_SIZE and _BUY_DATA.size == BUY_DATA_SIZE


@dataclass(frozen=True, slots=True)
class PumpPool:
    """Decoded PumpSwap `Pool`. `data_len` says which layout version the account has."""

    pool_bump: int
    index: int
    creator: Pubkey
    base_mint: Pubkey
    quote_mint: Pubkey
    lp_mint: Pubkey
    pool_base_token_account: Pubkey
    pool_quote_token_account: Pubkey
    lp_supply: int
    coin_creator: Pubkey
    is_mayhem_mode: bool
    is_cashback_coin: bool
    virtual_quote_reserves: int
    creator_fee_bps: int
    can_edit_creator_fee: bool
    data_len: int


@dataclass(frozen=True, slots=True)
class GlobalConfig:
    """Decoded PumpSwap `GlobalConfig` (the one account at PDA ["global_config"])."""

    admin: Pubkey
    lp_fee_basis_points: int
    protocol_fee_basis_points: int
    disable_flags: int
    protocol_fee_recipients: tuple[Pubkey, ...]
    coin_creator_fee_basis_points: int
    admin_set_coin_creator_authority: Pubkey
    whitelist_pda: Pubkey
    reserved_fee_recipient: Pubkey
    mayhem_mode_enabled: bool
    reserved_fee_recipients: tuple[Pubkey, ...]
    is_cashback_enabled: bool
    buyback_fee_recipients: tuple[Pubkey, ...]
    buyback_basis_points: int
    boost_authority: Pubkey
    boost_enabled: bool
    creator_fee_configurable: bool
    max_configurable_creator_fee_bps: int


@dataclass(frozen=True, slots=True)
class Fees:
    """Fee rates in basis points of the quote amount: LP (stays in the pool), protocol, coin creator."""

    lp_fee_bps: int
    protocol_fee_bps: int
    creator_fee_bps: int

    @property
    def total_bps(self) -> int:
        """Sum of the three rates."""
        return self.lp_fee_bps + self.protocol_fee_bps + self.creator_fee_bps


ZERO_FEES = Fees(0, 0, 0)


@dataclass(frozen=True, slots=True)
class FeeTier:
    """Fees charged from `market_cap_threshold` up (lamports for SOL-quoted pools, quote units else)."""

    market_cap_threshold: int
    fees: Fees


@dataclass(frozen=True, slots=True)
class FeeConfig:
    """Decoded pump fee program `FeeConfig` for PumpSwap (PDA ["fee_config", PumpSwap id] of the fee program)."""

    bump: int
    admin: Pubkey
    flat_fees: Fees
    fee_tiers: tuple[FeeTier, ...]
    stable_fee_tiers: tuple[FeeTier, ...]
    exotic_flat_fees: Fees
    data_len: int


@dataclass(frozen=True, slots=True)
class PumpBuy:
    """An exact buy. The user pays `user_quote_amount_in` = `quote_amount_in` (curve input) + the three
    fees; the quote vault gains quote_amount_in + lp_fee, the base vault loses base_amount_out."""

    base_amount_out: int
    quote_amount_in: int
    lp_fee: int
    protocol_fee: int
    coin_creator_fee: int
    user_quote_amount_in: int


@dataclass(frozen=True, slots=True)
class PumpSell:
    """An exact sell. The curve gives `quote_amount_out`; the user receives `user_quote_amount_out` =
    quote_amount_out − the three fees; the quote vault loses quote_amount_out − lp_fee."""

    base_amount_in: int
    quote_amount_out: int
    lp_fee: int
    protocol_fee: int
    coin_creator_fee: int
    user_quote_amount_out: int


# --- decoders -------------------------------------------------------------------------------------


def _check_owner(name: str, data: bytes, owner: Pubkey, program_id: Pubkey, disc: bytes) -> None:
    if owner != program_id:
        raise DecodeError(name, f"owner is {owner}, expected {program_id}")
    if len(data) < 8 or data[:8] != disc:
        raise DecodeError(name, f"discriminator {bytes(data[:8]).hex()} != {disc.hex()}")


def _bool(name: str, field: str, value: int) -> bool:
    if value > 1:  # Borsh rejects any other byte
        raise DecodeError(name, f"{field} byte is {value}, not a bool")
    return value == 1


def _pool_layout(data: bytes) -> None:
    size = len(data)
    if size in POOL_LAYOUT_SIZES:
        return
    if size == POOL_ACCOUNT_NEW_SIZE:
        if any(data[POOL_SIZE:]):
            # Fields appended after the SDK's layout (pump-public-docs: Pool.protocol_fees /
            # creator_fees kept by the v2 trades) that our oracle does not know.
            raise UnknownLayout(
                "PumpSwap Pool", size, (*POOL_LAYOUT_SIZES, size), "bytes 270..300 are not zero"
            )
        return
    raise UnknownLayout("PumpSwap Pool", size, (*POOL_LAYOUT_SIZES, POOL_ACCOUNT_NEW_SIZE))


def decode_pool(data: bytes, owner: Pubkey, program_id: Pubkey = PROGRAM_ID) -> PumpPool:
    """Decode a PumpSwap `Pool` of any known layout version (by length; see `POOL_LAYOUT_SIZES`)."""
    name = "PumpSwap Pool"
    _check_owner(name, data, owner, program_id, POOL_DISCRIMINATOR)
    _pool_layout(data)
    padded = bytes(data[:POOL_SIZE]).ljust(POOL_SIZE, b"\x00")
    f = _POOL.unpack(padded)
    return PumpPool(
        pool_bump=f[1],
        index=f[2],
        creator=Pubkey(f[3]),
        base_mint=Pubkey(f[4]),
        quote_mint=Pubkey(f[5]),
        lp_mint=Pubkey(f[6]),
        pool_base_token_account=Pubkey(f[7]),
        pool_quote_token_account=Pubkey(f[8]),
        lp_supply=f[9],
        coin_creator=Pubkey(f[10]),
        is_mayhem_mode=_bool(name, "is_mayhem_mode", f[11]),
        is_cashback_coin=_bool(name, "is_cashback_coin", f[12]),
        virtual_quote_reserves=int.from_bytes(f[13], "little", signed=True),
        creator_fee_bps=f[14],
        can_edit_creator_fee=_bool(name, "can_edit_creator_fee", f[15]),
        data_len=len(data),
    )


def decode_global_config(data: bytes, owner: Pubkey, program_id: Pubkey = PROGRAM_ID) -> GlobalConfig:
    """Decode the PumpSwap `GlobalConfig` (907, 940 or 949 bytes; later fields of shorter ones read 0)."""
    name = "PumpSwap GlobalConfig"
    _check_owner(name, data, owner, program_id, GLOBAL_CONFIG_DISCRIMINATOR)
    if len(data) not in GLOBAL_CONFIG_LAYOUT_SIZES:
        raise UnknownLayout(name, len(data), GLOBAL_CONFIG_LAYOUT_SIZES)
    f = _GLOBAL.unpack(bytes(data).ljust(GLOBAL_CONFIG_SIZE, b"\x00"))

    def keys(lo: int, hi: int) -> tuple[Pubkey, ...]:
        return tuple(Pubkey(b) for b in f[lo:hi])

    return GlobalConfig(
        admin=Pubkey(f[1]),
        lp_fee_basis_points=f[2],
        protocol_fee_basis_points=f[3],
        disable_flags=f[4],
        protocol_fee_recipients=keys(5, 13),
        coin_creator_fee_basis_points=f[13],
        admin_set_coin_creator_authority=Pubkey(f[14]),
        whitelist_pda=Pubkey(f[15]),
        reserved_fee_recipient=Pubkey(f[16]),
        mayhem_mode_enabled=_bool(name, "mayhem_mode_enabled", f[17]),
        reserved_fee_recipients=keys(18, 25),
        is_cashback_enabled=_bool(name, "is_cashback_enabled", f[25]),
        buyback_fee_recipients=keys(26, 34),
        buyback_basis_points=f[34],
        boost_authority=Pubkey(f[35]),
        boost_enabled=_bool(name, "boost_enabled", f[36]),
        creator_fee_configurable=_bool(name, "creator_fee_configurable", f[37]),
        max_configurable_creator_fee_bps=f[38],
    )


def _fee_tiers(name: str, data: bytes, offset: int) -> tuple[tuple[FeeTier, ...], int]:
    if offset + 4 > len(data):
        raise DecodeError(name, f"fee tier vector length at {offset} runs past the data ({len(data)} bytes)")
    (count,) = _U32.unpack_from(data, offset)
    end = offset + 4 + count * _FEE_TIER.size
    if end > len(data):
        raise DecodeError(name, f"{count} fee tiers at {offset} run past the data ({len(data)} bytes)")
    tiers = []
    for i in range(count):
        threshold, lp, protocol, creator = _FEE_TIER.unpack_from(data, offset + 4 + i * _FEE_TIER.size)
        tiers.append(FeeTier(int.from_bytes(threshold, "little"), Fees(lp, protocol, creator)))
    return tuple(tiers), end


def decode_fee_config(data: bytes, owner: Pubkey, fee_program_id: Pubkey = FEE_PROGRAM_ID) -> FeeConfig:
    """Decode the fee program's `FeeConfig`; the length selects the version (SDK
    `versionedFeeConfigData`): 2512 = no stable tiers, 4073 = stable tiers, 4097 = exotic flat fees.
    Fields of shorter versions read as empty / zero; bytes after the last field are ignored."""
    name = "pump fees FeeConfig"
    _check_owner(name, data, owner, fee_program_id, FEE_CONFIG_DISCRIMINATOR)
    size = len(data)
    if size not in FEE_CONFIG_LAYOUT_SIZES:
        raise UnknownLayout(name, size, FEE_CONFIG_LAYOUT_SIZES)
    _, bump, admin, lp, protocol, creator = _FEE_CONFIG_HEAD.unpack_from(data, 0)
    fee_tiers, end = _fee_tiers(name, data, _FEE_TIERS_OFFSET)
    stable: tuple[FeeTier, ...] = ()
    exotic = ZERO_FEES
    if size >= FEE_CONFIG_SIZE_POST_STABLE:
        stable, end = _fee_tiers(name, data, end)
    if size >= FEE_CONFIG_SIZE_POST_EXOTIC:
        if end + _FEES.size > size:
            raise DecodeError(name, f"exotic flat fees run past the data ({size} bytes)")
        exotic = Fees(*_FEES.unpack_from(data, end))
    return FeeConfig(bump, Pubkey(admin), Fees(lp, protocol, creator), fee_tiers, stable, exotic, size)


# --- hot path -------------------------------------------------------------------------------------

_KEYS_A = slice(8, 203)  # bump, index, creator, the three mints, the two vaults
_KEYS_B = slice(211, 245)  # coin_creator, is_mayhem_mode, is_cashback_coin (lp_supply in between moves)
_VQR = slice(245, 261)
_SUPPLY = struct.Struct("<Q")


def pool_keys_bytes(data: bytes) -> bytes:
    """The Pool bytes that fix a swap's accounts and fee schedule (creator, mints, vaults,
    coin_creator, mayhem / cashback flags): equal bytes mean the decoded pool still holds."""
    return bytes(data[_KEYS_A]) + bytes(data[_KEYS_B])


def read_pool_dynamic(data: bytes) -> tuple[int, int]:
    """Hot path: (virtual_quote_reserves, creator_fee_bps) from Pool bytes, the only Pool fields a
    swap's price depends on that may change while the keys stay (boosts, per-pool creator fee).

    Checks the discriminator and that the length is a known layout; fields a shorter layout lacks
    read as 0. The price itself comes from the vaults (`spl.read_token_amount`).
    """
    if data[:8] != POOL_DISCRIMINATOR:
        raise DecodeError("PumpSwap Pool", f"discriminator {bytes(data[:8]).hex()} mismatch")
    _pool_layout(data)
    size = len(data)
    vqr = int.from_bytes(data[_VQR], "little", signed=True) if size >= 261 else 0
    creator_fee_bps = _U64.unpack_from(data, 261)[0] if size >= POOL_SIZE else 0
    return vqr, int(creator_fee_bps)


def read_mint_supply(data: bytes) -> int:
    """Hot path: the supply of an SPL / Token-2022 mint (u64 @36): the market-cap basis of the fee tier."""
    if len(data) < 82:
        raise DecodeError("mint", f"size {len(data)} < 82")
    return int(_SUPPLY.unpack_from(data, 36)[0])


# --- fee selection --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def pump_pool_authority_pda(base_mint: Pubkey, pump_program_id: Pubkey = PUMP_PROGRAM_ID) -> Pubkey:
    """The pump program's PDA ["pool-authority", base_mint]: the `creator` of a canonical pool."""
    return Pubkey.find_program_address([b"pool-authority", bytes(base_mint)], pump_program_id)[0]


def is_pump_pool(base_mint: Pubkey, creator: Pubkey) -> bool:
    """True for a canonical pool (created by pump's migration): creator = pump's pool-authority PDA."""
    return pump_pool_authority_pda(base_mint) == creator


def market_cap(base_mint_supply: int, base_reserve: int, quote_reserve: int, is_mayhem_mode: bool) -> int:
    """floor(quote_reserve · supply / base_reserve) (pump-amm `Pool::market_cap`, SDK `poolMarketCap`);
    `quote_reserve` is the effective one (vault + virtual); mayhem pools use the fixed total supply."""
    if base_reserve == 0:
        raise InsufficientLiquidity("market cap of a pool with no base reserve")
    supply = PUMP_AMM_TOTAL_TOKEN_SUPPLY if is_mayhem_mode else base_mint_supply
    return quote_reserve * supply // base_reserve


def calculate_fee_tier(tiers: tuple[FeeTier, ...], market_cap_value: int) -> Fees:
    """The tier a market cap pays (pump-fees-math `calculate_fee_tier`): below the first threshold the
    first tier; otherwise the last tier (in account order) whose threshold is <= the market cap."""
    if not tiers:
        raise InvalidInput("fee tiers are empty")
    if market_cap_value < tiers[0].market_cap_threshold:
        return tiers[0].fees
    for tier in reversed(tiers):
        if market_cap_value >= tier.market_cap_threshold:
            return tier.fees
    return tiers[0].fees


def fees_for_quote_mint(
    fee_config: FeeConfig, pump_pool: bool, market_cap_value: int, quote_mint: Pubkey
) -> Fees:
    """The schedule a pool pays (pump-fees `FeeConfig::fees_for_quote_mint`): non-canonical pools the
    flat fees; canonical ones the SOL tiers (SOL-like quote), the stable tiers (USDC; the SOL tiers
    while a pre-stable account has none), else the exotic flat fees (the flat fees while unset)."""
    if not pump_pool:
        return fee_config.flat_fees
    if quote_mint in SOL_LIKE_QUOTE_MINTS:
        return calculate_fee_tier(fee_config.fee_tiers, market_cap_value)
    if quote_mint in STABLE_QUOTE_MINTS:
        return calculate_fee_tier(fee_config.stable_fee_tiers or fee_config.fee_tiers, market_cap_value)
    exotic = fee_config.exotic_flat_fees
    return fee_config.flat_fees if exotic == ZERO_FEES else exotic


def effective_quote_reserve(quote_vault: int, virtual_quote_reserves: int) -> int:
    """The quote reserve a swap is priced on: vault balance + the pool's signed virtual reserves."""
    return quote_vault + virtual_quote_reserves


def pool_fees(
    pool: PumpPool,
    global_config: GlobalConfig,
    fee_config: FeeConfig | None,
    base_mint_supply: int,
    base_reserve: int,
    quote_reserve: int,
) -> Fees:
    """The rates a swap on `pool` pays right now (SDK `computeFeesBps` plus the quote functions' rule
    that a pool without coin creator pays no creator fee).

    `base_reserve` / `quote_reserve` are the vault balances before the swap. With a FeeConfig the
    schedule is chosen by `fees_for_quote_mint` on the market cap; a per-pool `creator_fee_bps`
    replaces the schedule's creator rate while `GlobalConfig.creator_fee_configurable` is on. Without
    a FeeConfig (never on chain today) the GlobalConfig rates apply.
    """
    if fee_config is not None:
        cap = market_cap(
            base_mint_supply,
            base_reserve,
            effective_quote_reserve(quote_reserve, pool.virtual_quote_reserves),
            pool.is_mayhem_mode,
        )
        fees = fees_for_quote_mint(
            fee_config, is_pump_pool(pool.base_mint, pool.creator), cap, pool.quote_mint
        )
        if global_config.creator_fee_configurable and pool.creator_fee_bps > 0:
            fees = Fees(fees.lp_fee_bps, fees.protocol_fee_bps, pool.creator_fee_bps)
    else:
        fees = Fees(
            global_config.lp_fee_basis_points,
            global_config.protocol_fee_basis_points,
            global_config.coin_creator_fee_basis_points,
        )
    if pool.coin_creator == Pubkey.default():
        fees = Fees(fees.lp_fee_bps, fees.protocol_fee_bps, 0)
    return fees


def buyback_fee(protocol_fee: int, global_config: GlobalConfig) -> int:
    """The part of a protocol fee paid to the buyback recipient: floor(fee · buyback_bps / 10,000).

    pump-public-docs call it "the buyback part of the protocol fee"; the SDK does not compute it and
    the rounding is not published. It never changes what the user pays or receives.
    """
    return protocol_fee * global_config.buyback_basis_points // BPS_DENOMINATOR


# --- tradability ----------------------------------------------------------------------------------


def check_tradable(
    global_config: GlobalConfig, base_mint: Mint | None = None, quote_mint: Mint | None = None
) -> None:
    """Raise `Unmodelled(reason)` when swaps on a pool would not follow the exact quotes.

    Refused: buys or sells disabled by `GlobalConfig.disable_flags`; Token-2022 mints with a transfer
    fee or transfer hook (pass the decoded mints: pump coins created by `create_v2` are Token-2022).
    """
    if global_config.disable_flags & (DISABLE_BUY | DISABLE_SELL):
        raise Unmodelled(
            RefusalReason.SWAP_DISABLED, f"GlobalConfig.disable_flags {global_config.disable_flags:#07b}"
        )
    for label, mint in (("base_mint", base_mint), ("quote_mint", quote_mint)):
        if mint is not None:
            ensure_mint_modelled(mint, label)


# --- exact quotes ---------------------------------------------------------------------------------


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _fee(amount: int, bps: int) -> int:
    """SDK util.ts `fee`: ceil(amount · bps / 10,000)."""
    return _ceil_div(amount * bps, BPS_DENOMINATOR)


def _check_u64(name: str, value: int) -> None:
    if not 0 <= value <= U64_MAX:
        raise PumpSwapOverflow(f"{name} {value} is not a u64")


def _reserves(base_reserve: int, quote_reserve: int, virtual_quote_reserves: int, fees: Fees) -> int:
    _check_u64("base_reserve", base_reserve)
    _check_u64("quote_reserve", quote_reserve)
    if not I128_MIN <= virtual_quote_reserves <= I128_MAX:
        raise PumpSwapOverflow(f"virtual_quote_reserves {virtual_quote_reserves} is not an i128")
    if min(fees.lp_fee_bps, fees.protocol_fee_bps, fees.creator_fee_bps) < 0:
        raise InvalidInput(f"negative fee rate in {fees}")
    if base_reserve == 0 or quote_reserve == 0:
        raise InsufficientLiquidity(f"empty pool (base {base_reserve}, quote {quote_reserve})")
    effective = quote_reserve + virtual_quote_reserves
    if effective <= 0:
        raise InsufficientLiquidity(f"effective quote reserve {effective} <= 0")
    return effective


def buy_base_output(
    base_amount_out: int, base_reserve: int, quote_reserve: int, fees: Fees, virtual_quote_reserves: int = 0
) -> PumpBuy:
    """Exact `buy` of `base_amount_out` (SDK `buyBaseInput`).

    quote_in = ceil(Q_eff · out / (B − out)); each fee = ceil(quote_in · bps / 10,000); the user pays
    quote_in + fees. `base_reserve` / `quote_reserve` are the vault balances, Q_eff = quote vault +
    virtual reserves. Raises `ZeroBaseAmount` for 0, `BuyMoreBaseAmountThanPoolReserves` when
    out >= B, `InsufficientLiquidity` for an empty pool, `PumpSwapOverflow` when the payment or the
    new quote vault balance does not fit u64.
    """
    _check_u64("base_amount_out", base_amount_out)
    q_eff = _reserves(base_reserve, quote_reserve, virtual_quote_reserves, fees)
    if base_amount_out == 0:
        raise ZeroBaseAmount("base_amount_out is 0")
    if base_amount_out >= base_reserve:
        raise BuyMoreBaseAmountThanPoolReserves(
            f"base_amount_out {base_amount_out} >= base reserve {base_reserve}"
        )
    quote_in = _ceil_div(q_eff * base_amount_out, base_reserve - base_amount_out)
    lp, protocol, creator = (
        _fee(quote_in, bps) for bps in (fees.lp_fee_bps, fees.protocol_fee_bps, fees.creator_fee_bps)
    )
    total = quote_in + lp + protocol + creator
    if total > U64_MAX:
        raise PumpSwapOverflow(f"quote amount in {total} exceeds u64")
    if quote_reserve + quote_in + lp > U64_MAX:
        raise PumpSwapOverflow(f"quote vault would exceed u64 ({quote_reserve} + {quote_in + lp})")
    return PumpBuy(base_amount_out, quote_in, lp, protocol, creator, total)


def buy_exact_quote_in(
    spendable_quote_in: int,
    base_reserve: int,
    quote_reserve: int,
    fees: Fees,
    virtual_quote_reserves: int = 0,
) -> PumpBuy:
    """Exact `buy_exact_quote_in` spending at most `spendable_quote_in` (SDK `buyQuoteInput`).

    q = floor(spendable · 10,000 / (10,000 + total bps)); each fee = ceil(q · bps / 10,000); when q plus
    the fees exceeds spendable, q shrinks by the excess (the fees keep the values computed before);
    base_out = floor(B · (q − 1) / (Q_eff + q − 1)). The user pays q + fees (<= spendable), the pool
    takes q + lp fee. Raises `ZeroQuoteAmount` for 0, `BuyNotEnoughQuoteTokensToCoverFees` when q <= 0,
    `ZeroBaseAmount` when base_out is 0, `InsufficientLiquidity` for an empty pool, `PumpSwapOverflow`
    when the new quote vault balance does not fit u64.
    """
    _check_u64("spendable_quote_in", spendable_quote_in)
    q_eff = _reserves(base_reserve, quote_reserve, virtual_quote_reserves, fees)
    if spendable_quote_in == 0:
        raise ZeroQuoteAmount("spendable_quote_in is 0")
    quote_in = spendable_quote_in * BPS_DENOMINATOR // (BPS_DENOMINATOR + fees.total_bps)
    lp, protocol, creator = (
        _fee(quote_in, bps) for bps in (fees.lp_fee_bps, fees.protocol_fee_bps, fees.creator_fee_bps)
    )
    with_fees = quote_in + lp + protocol + creator
    if with_fees > spendable_quote_in:
        quote_in -= with_fees - spendable_quote_in
    if quote_in <= 0:
        raise BuyNotEnoughQuoteTokensToCoverFees(f"{spendable_quote_in} does not cover the fees")
    curve_in = quote_in - 1
    base_out = base_reserve * curve_in // (q_eff + curve_in)
    if base_out == 0:
        raise ZeroBaseAmount(f"base out rounds to 0 for {spendable_quote_in}")
    if quote_reserve + quote_in + lp > U64_MAX:
        raise PumpSwapOverflow(f"quote vault would exceed u64 ({quote_reserve} + {quote_in + lp})")
    return PumpBuy(base_out, quote_in, lp, protocol, creator, quote_in + lp + protocol + creator)


def sell_base_input(
    base_amount_in: int, base_reserve: int, quote_reserve: int, fees: Fees, virtual_quote_reserves: int = 0
) -> PumpSell:
    """Exact `sell` of `base_amount_in` (SDK `sellBaseInput`).

    quote_out = floor(Q_eff · in / (B + in)); each fee = ceil(quote_out · bps / 10,000); the user gets
    quote_out − fees (0 is allowed, as in the SDK). Raises `ZeroBaseAmount` for 0,
    `InsufficientRealQuoteReserves` when quote_out − lp fee exceeds the real quote vault,
    `InvalidInput` when the fees exceed quote_out, `InsufficientLiquidity` for an empty pool,
    `PumpSwapOverflow` when the new base vault balance does not fit u64.
    """
    _check_u64("base_amount_in", base_amount_in)
    q_eff = _reserves(base_reserve, quote_reserve, virtual_quote_reserves, fees)
    if base_amount_in == 0:
        raise ZeroBaseAmount("base_amount_in is 0")
    quote_out = q_eff * base_amount_in // (base_reserve + base_amount_in)
    lp, protocol, creator = (
        _fee(quote_out, bps) for bps in (fees.lp_fee_bps, fees.protocol_fee_bps, fees.creator_fee_bps)
    )
    if quote_reserve < quote_out - lp:
        raise InsufficientRealQuoteReserves(f"pays {quote_out - lp} from a quote vault of {quote_reserve}")
    user_out = quote_out - lp - protocol - creator
    if user_out < 0:
        raise InvalidInput(f"fees {lp + protocol + creator} exceed the output {quote_out}")
    if base_reserve + base_amount_in > U64_MAX:
        raise PumpSwapOverflow(f"base vault would exceed u64 ({base_reserve} + {base_amount_in})")
    return PumpSell(base_amount_in, quote_out, lp, protocol, creator, user_out)


# --- PDAs -----------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def global_config_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """["global_config"] = ADyA8hdefvWN2dbGGWFotbzWxrAvLW83WG6QCVXvJKqw on mainnet."""
    return Pubkey.find_program_address([b"global_config"], program_id)[0]


@lru_cache(maxsize=8)
def event_authority_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """Anchor's ["__event_authority"]."""
    return Pubkey.find_program_address([b"__event_authority"], program_id)[0]


@lru_cache(maxsize=8)
def global_volume_accumulator_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """["global_volume_accumulator"]."""
    return Pubkey.find_program_address([b"global_volume_accumulator"], program_id)[0]


@lru_cache(maxsize=8)
def fee_config_pda(program_id: Pubkey = PROGRAM_ID, fee_program_id: Pubkey = FEE_PROGRAM_ID) -> Pubkey:
    """The fee program's ["fee_config", PumpSwap program id] = 5PHirr8joyTMp9JMm6nW7hNDVyEYdkzDqazxPD7RaTjx."""
    return Pubkey.find_program_address([b"fee_config", bytes(program_id)], fee_program_id)[0]


def pool_pda(
    index: int, creator: Pubkey, base_mint: Pubkey, quote_mint: Pubkey, program_id: Pubkey = PROGRAM_ID
) -> Pubkey:
    """["pool", index u16 LE, creator, base_mint, quote_mint]."""
    seeds = [b"pool", index.to_bytes(2, "little"), bytes(creator), bytes(base_mint), bytes(quote_mint)]
    return Pubkey.find_program_address(seeds, program_id)[0]


def canonical_pool_pda(
    base_mint: Pubkey, quote_mint: Pubkey = WSOL_MINT, program_id: Pubkey = PROGRAM_ID
) -> Pubkey:
    """The pool pump's migration creates for `base_mint` (index 0, creator = pump pool authority)."""
    return pool_pda(
        CANONICAL_POOL_INDEX, pump_pool_authority_pda(base_mint), base_mint, quote_mint, program_id
    )


def lp_mint_pda(pool: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """["pool_lp_mint", pool]."""
    return Pubkey.find_program_address([b"pool_lp_mint", bytes(pool)], program_id)[0]


@lru_cache(maxsize=4096)
def coin_creator_vault_authority_pda(coin_creator: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """["creator_vault", coin_creator]: owner of the coin creator's fee vault (an ATA)."""
    return Pubkey.find_program_address([b"creator_vault", bytes(coin_creator)], program_id)[0]


@lru_cache(maxsize=4096)
def user_volume_accumulator_pda(user: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """["user_volume_accumulator", user]."""
    return Pubkey.find_program_address([b"user_volume_accumulator", bytes(user)], program_id)[0]


@lru_cache(maxsize=4096)
def pool_v2_pda(base_mint: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """["pool-v2", base_mint]: a remaining account of swaps on pools with a coin creator."""
    return Pubkey.find_program_address([b"pool-v2", bytes(base_mint)], program_id)[0]


def protocol_fee_recipients(global_config: GlobalConfig, is_mayhem_mode: bool) -> tuple[Pubkey, ...]:
    """The recipients a swap may name (SDK `getFeeRecipient`, which picks one at random): the
    reserved ones for mayhem pools, the protocol ones otherwise."""
    if is_mayhem_mode:
        return (global_config.reserved_fee_recipient, *global_config.reserved_fee_recipients)
    return global_config.protocol_fee_recipients


# --- instruction builders -------------------------------------------------------------------------


def _u64_arg(name: str, value: int) -> int:
    if not 0 <= value <= U64_MAX:
        raise InvalidInput(f"{name} {value} is not a u64")
    return value


def encode_buy_data(base_amount_out: int, max_quote_amount_in: int, track_volume: bool = True) -> bytes:
    """25 bytes: discriminator, base_amount_out u64, max_quote_amount_in u64, track_volume OptionBool."""
    return _BUY_DATA.pack(
        BUY_DISCRIMINATOR,
        _u64_arg("base_amount_out", base_amount_out),
        _u64_arg("max_quote_amount_in", max_quote_amount_in),
        int(track_volume),
    )


def encode_buy_exact_quote_in_data(
    spendable_quote_in: int, min_base_amount_out: int, track_volume: bool = True
) -> bytes:
    """25 bytes: discriminator, spendable_quote_in u64, min_base_amount_out u64, track_volume OptionBool."""
    return _BUY_DATA.pack(
        BUY_EXACT_QUOTE_IN_DISCRIMINATOR,
        _u64_arg("spendable_quote_in", spendable_quote_in),
        _u64_arg("min_base_amount_out", min_base_amount_out),
        int(track_volume),
    )


def encode_sell_data(base_amount_in: int, min_quote_amount_out: int) -> bytes:
    """24 bytes: discriminator, base_amount_in u64, min_quote_amount_out u64."""
    return _SWAP_DATA.pack(
        SELL_DISCRIMINATOR,
        _u64_arg("base_amount_in", base_amount_in),
        _u64_arg("min_quote_amount_out", min_quote_amount_out),
    )


@dataclass(frozen=True, slots=True)
class SwapAccounts:
    """What a swap names besides the pool's own fields: the user's side and the chosen fee recipients.

    `base_token_program` / `quote_token_program` are the owners of the two mints (not stored in the
    pool). `protocol_fee_recipient` is one of `protocol_fee_recipients(...)`, `buyback_fee_recipient`
    one of `GlobalConfig.buyback_fee_recipients` (the SDK picks both at random).
    """

    user: Pubkey
    user_base_token_account: Pubkey
    user_quote_token_account: Pubkey
    base_token_program: Pubkey
    quote_token_program: Pubkey
    protocol_fee_recipient: Pubkey
    buyback_fee_recipient: Pubkey


def _meta(key: Pubkey, writable: bool = False, signer: bool = False) -> AccountMeta:
    return AccountMeta(key, is_signer=signer, is_writable=writable)


def _swap_accounts(
    pool_address: Pubkey, pool: PumpPool, acc: SwapAccounts, buy: bool, program_id: Pubkey
) -> list[AccountMeta]:
    quote_program = acc.quote_token_program
    vault_authority = coin_creator_vault_authority_pda(pool.coin_creator, program_id)
    # The Buy / Sell account contexts in IDL order (protocols.md §5): 23 accounts for buy, 21 for sell.
    metas = [
        _meta(pool_address, writable=True),
        _meta(acc.user, writable=True, signer=True),
        _meta(global_config_pda(program_id)),
        _meta(pool.base_mint),
        _meta(pool.quote_mint),
        _meta(acc.user_base_token_account, writable=True),
        _meta(acc.user_quote_token_account, writable=True),
        _meta(pool.pool_base_token_account, writable=True),
        _meta(pool.pool_quote_token_account, writable=True),
        _meta(acc.protocol_fee_recipient),
        _meta(
            associated_token_address(acc.protocol_fee_recipient, pool.quote_mint, quote_program),
            writable=True,
        ),
        _meta(acc.base_token_program),
        _meta(quote_program),
        _meta(SYSTEM_PROGRAM_ID),
        _meta(ASSOCIATED_TOKEN_PROGRAM_ID),
        _meta(event_authority_pda(program_id)),
        _meta(program_id),
        _meta(associated_token_address(vault_authority, pool.quote_mint, quote_program), writable=True),
        _meta(vault_authority),
    ]
    if buy:
        metas.append(_meta(global_volume_accumulator_pda(program_id)))
        metas.append(_meta(user_volume_accumulator_pda(acc.user, program_id), writable=True))
    metas.append(_meta(fee_config_pda(program_id)))
    metas.append(_meta(FEE_PROGRAM_ID))
    # Remaining accounts, in the SDK's order: cashback accounts (cashback coins), pool-v2 (pools with
    # a coin creator), then the buyback fee recipient and its quote ATA.
    if pool.is_cashback_coin:
        accumulator = user_volume_accumulator_pda(acc.user, program_id)
        metas.append(
            _meta(associated_token_address(accumulator, pool.quote_mint, quote_program), writable=True)
        )
        if not buy:
            metas.append(_meta(accumulator, writable=True))
    if pool.coin_creator != Pubkey.default():
        metas.append(_meta(pool_v2_pda(pool.base_mint, program_id)))
    metas.append(_meta(acc.buyback_fee_recipient))
    metas.append(
        _meta(
            associated_token_address(acc.buyback_fee_recipient, pool.quote_mint, quote_program), writable=True
        )
    )
    return metas


def build_buy_ix(
    *,
    pool_address: Pubkey,
    pool: PumpPool,
    accounts: SwapAccounts,
    base_amount_out: int,
    max_quote_amount_in: int,
    track_volume: bool = True,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """`buy` (exact base out, quote in at most max_quote_amount_in) with the SDK's account list."""
    data = encode_buy_data(base_amount_out, max_quote_amount_in, track_volume)
    return Instruction(program_id, data, _swap_accounts(pool_address, pool, accounts, True, program_id))


def build_buy_exact_quote_in_ix(
    *,
    pool_address: Pubkey,
    pool: PumpPool,
    accounts: SwapAccounts,
    spendable_quote_in: int,
    min_base_amount_out: int,
    track_volume: bool = True,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """`buy_exact_quote_in` (spend at most spendable_quote_in, base out at least min_base_amount_out);
    same accounts as `buy` (the instruction shares buy's account context)."""
    data = encode_buy_exact_quote_in_data(spendable_quote_in, min_base_amount_out, track_volume)
    return Instruction(program_id, data, _swap_accounts(pool_address, pool, accounts, True, program_id))


def build_sell_ix(
    *,
    pool_address: Pubkey,
    pool: PumpPool,
    accounts: SwapAccounts,
    base_amount_in: int,
    min_quote_amount_out: int,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """`sell` (exact base in, quote out at least min_quote_amount_out) with the SDK's account list."""
    data = encode_sell_data(base_amount_in, min_quote_amount_out)
    return Instruction(program_id, data, _swap_accounts(pool_address, pool, accounts, False, program_id))


def needs_extend(pool_data_len: int) -> bool:
    """True when the SDK prepends `extend_account` to a swap: pools shorter than 300 bytes."""
    return pool_data_len < POOL_ACCOUNT_NEW_SIZE


def build_extend_account_ix(account: Pubkey, user: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Instruction:
    """`extend_account`: grows a pre-upgrade Pool (or GlobalConfig) to the current size, paid by `user`."""
    metas = [
        _meta(account, writable=True),
        _meta(user, writable=True, signer=True),
        _meta(SYSTEM_PROGRAM_ID),
        _meta(event_authority_pda(program_id)),
        _meta(program_id),
    ]
    return Instruction(program_id, EXTEND_ACCOUNT_DISCRIMINATOR, metas)


# --- venue adapter --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def token_programs(pool_address: Pubkey, pool: PumpPool) -> tuple[Pubkey, Pubkey]:
    """(base, quote) token programs. The pool does not store them, but its vaults are its ATAs (SDK
    `OnlinePumpAmmSdk.createPoolSolanaState` derives them so; the mainnet dump's are): the program
    whose ATA of (pool, mint) is the vault owns the mint. A vault that is neither ATA is taken as SPL
    Token's."""

    def program_of(mint: Pubkey, vault: Pubkey) -> Pubkey:
        if associated_token_address(pool_address, mint, TOKEN_2022_PROGRAM_ID) == vault:
            return TOKEN_2022_PROGRAM_ID
        return TOKEN_PROGRAM_ID

    return (
        program_of(pool.base_mint, pool.pool_base_token_account),
        program_of(pool.quote_mint, pool.pool_quote_token_account),
    )


def _first_set(keys: Sequence[Pubkey], what: str) -> Pubkey:
    """The first configured key of a recipient list (the SDK picks one at random; any is valid)."""
    for key in keys:
        if key != Pubkey.default():
            return key
    raise InvalidInput(f"GlobalConfig has no {what}")


def live_pool(static: PumpPool, dynamic: tuple[int, int, int]) -> PumpPool:
    """The decoded pool with the fields that may move while its keys stay (`Adapter.read_dynamic`)."""
    vqr, creator_fee_bps, _size = dynamic
    if (vqr, creator_fee_bps) == (static.virtual_quote_reserves, static.creator_fee_bps):
        return static
    return dataclasses.replace(static, virtual_quote_reserves=vqr, creator_fee_bps=creator_fee_bps)


def _row_state(cache: layout.Cache, idx: int) -> tuple[int, int, Fees, int]:
    """(base vault, quote vault, fees, virtual quote reserves) of a PumpSwap cache row."""
    pu = cache.pools_u
    if int(pu[idx, layout.U_FEE_DEN]) != BPS_DENOMINATOR:
        raise ValueError(
            f"pool {idx}: PumpSwap fee denominator must be 10,000, got {int(pu[idx, layout.U_FEE_DEN])}"
        )
    fees = Fees(int(pu[idx, layout.U_PUMP_LP_BPS]), int(pu[idx, layout.U_PUMP_PROTOCOL_BPS]),
                int(pu[idx, layout.U_PUMP_CREATOR_BPS]))  # fmt: skip
    virtual = int(pu[idx, layout.U_VIRTUAL_B])
    virtual -= (virtual >> 63) << 64  # two's complement i64
    return int(pu[idx, layout.U_RES_A]), int(pu[idx, layout.U_RES_B]), fees, virtual


def _sell_input_for(amount_out: int, base: int, quote: int, fees: Fees, virtual: int) -> int:
    """The least base_amount_in whose sell pays the user at least `amount_out` (bisection on the exact
    sell, which is monotonic in its input); raises the sell's error when no u64 input reaches it."""
    if amount_out <= 0:
        raise ZeroQuoteAmount(f"amount_out {amount_out}")
    lo, hi = 1, U64_MAX - base
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            enough = sell_base_input(mid, base, quote, fees, virtual).user_quote_amount_out >= amount_out
        except InvalidInput:  # the fees exceed the output: more input needed
            enough = False
        except InsufficientRealQuoteReserves:  # more than the vault can pay: look lower
            enough = True
        if enough:
            hi = mid
        else:
            lo = mid + 1
    if sell_base_input(lo, base, quote, fees, virtual).user_quote_amount_out < amount_out:
        raise InsufficientLiquidity(f"no sell of this pool pays {amount_out}")
    return lo


class Adapter:
    """PumpSwap for the registry: pool + two vaults + GlobalConfig + the fee program's FeeConfig + both
    mints (the base mint's supply sets a canonical pool's fee tier; both are checked for Token-2022 fees
    and hooks). Token a is the base mint: a -> b is `sell`, b -> a is `buy_exact_quote_in`.

    The cache row is exact: reserves (vaults), the three fee rates of the schedule chosen at write time
    (the program picks the tier on the pre-swap state), the virtual quote reserves. The detector screens
    it as a constant-product pool with keep = 1 - total bps / 1e4.
    """

    venue = Venue.pumpswap
    pool_account_size = POOL_ACCOUNT_NEW_SIZE  # what `extend_account` makes (the SDK extends before trading)
    pool_account_sizes: tuple[int, ...] = (*POOL_LAYOUT_SIZES, POOL_ACCOUNT_NEW_SIZE)  # every layout version
    mint_offsets = (43, 75)  # base_mint, quote_mint
    executable: str | None = None
    cache_exact = True  # the row holds reserves, the three rates and the virtual reserves
    priced = True

    swap_forms: tuple[str, ...] = ("sell_or_buy_exact_quote_in",)
    slippage_errors = frozenset(
        {6004, 6040}
    )  # ExceededSlippage, BuySlippageBelowMinBaseAmountOut (IDL errors)
    tick_capacity = 0

    def pool_keys(self, data: bytes) -> bytes:
        if len(data) < _KEYS_B.stop:  # an old layout: its missing fields read 0, so growing changes no key
            return pool_keys_bytes(bytes(data).ljust(_KEYS_B.stop, b"\x00"))
        return pool_keys_bytes(data)

    def decode_static(self, data: bytes, program_id: Pubkey) -> PumpPool:
        return decode_pool(data, program_id, program_id)

    def read_dynamic(self, data: bytes) -> tuple[int, int, int]:
        """(virtual quote reserves, creator fee bps, account size): the pool grows by `extend_account`."""
        vqr, creator_fee_bps = read_pool_dynamic(data)
        return vqr, creator_fee_bps, len(data)

    def mints(self, static: PumpPool) -> tuple[Pubkey, Pubkey]:
        return static.base_mint, static.quote_mint

    def dependencies(self, static: PumpPool, program_id: Pubkey) -> list[Dependency]:
        address = pool_pda(static.index, static.creator, static.base_mint, static.quote_mint, program_id)
        base_program, quote_program = token_programs(address, static)
        return [
            Dependency(static.pool_base_token_account, ROLE_VAULT_A, base_program),
            Dependency(static.pool_quote_token_account, ROLE_VAULT_B, quote_program),
            Dependency(global_config_pda(program_id), ROLE_CONFIG, program_id),
            Dependency(fee_config_pda(program_id), ROLE_FEE_CONFIG, FEE_PROGRAM_ID),
            Dependency(static.base_mint, ROLE_MINT_A, base_program),
            Dependency(static.quote_mint, ROLE_MINT_B, quote_program),
        ]

    def tick_arrays(self, static: Any, dynamic: Any, pool: Pubkey, program_id: Pubkey) -> dict[int, Pubkey]:
        return {}

    def decode_account(self, role: int, data: bytes, ctx: PoolContext, tick_start: int) -> Any:
        if role == ROLE_VAULT_A:
            return read_token_amount(data, ctx.mint_a_raw)
        if role == ROLE_VAULT_B:
            return read_token_amount(data, ctx.mint_b_raw)
        if role == ROLE_CONFIG:
            return decode_global_config(data, ctx.program_id, ctx.program_id)
        if role == ROLE_FEE_CONFIG:
            return decode_fee_config(data, FEE_PROGRAM_ID)
        # A mint (both roles decode alike: one mint account may serve either side of several pools).
        # Its Token-2022 extensions are refused per pool in `write_row`.
        return decode_mint(data)

    def settling(
        self, pool: AccountSlot, deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot]
    ) -> bool:
        return cp_settling(pool, deps)

    def write_row(self, cache: layout.Cache, idx: int, static: PumpPool, pool: AccountSlot,
                  deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot], slot: int, recv_ns: int,
                  now_unix: int) -> bool:  # fmt: skip
        global_config: GlobalConfig = deps[ROLE_CONFIG].value
        base_mint: Mint = deps[ROLE_MINT_A].value
        check_tradable(global_config, base_mint, deps[ROLE_MINT_B].value)
        if needs_extend(pool.value[2]):
            raise Unmodelled(RefusalReason.POOL_NOT_EXTENDED, f"{pool.value[2]} bytes: extend_account first")
        state = live_pool(static, pool.value)
        base, quote = deps[ROLE_VAULT_A].value, deps[ROLE_VAULT_B].value
        fees = pool_fees(state, global_config, deps[ROLE_FEE_CONFIG].value, base_mint.supply, base, quote)
        if not layout.write_cp_pool(cache, idx, base, quote, fees.total_bps, BPS_DENOMINATOR, slot, recv_ns,
                                    virtual_b=state.virtual_quote_reserves):  # fmt: skip
            return False
        pu = cache.pools_u
        pu[idx, layout.U_PUMP_LP_BPS] = fees.lp_fee_bps
        pu[idx, layout.U_PUMP_PROTOCOL_BPS] = fees.protocol_fee_bps
        pu[idx, layout.U_PUMP_CREATOR_BPS] = fees.creator_fee_bps
        return True

    def quote_in(
        self, cache: layout.Cache, idx: int, a_to_b: bool, amount_in: int, state: Any
    ) -> tuple[int, int]:
        base, quote, fees, virtual = _row_state(cache, idx)
        if a_to_b:
            return sell_base_input(amount_in, base, quote, fees, virtual).user_quote_amount_out, 0
        return buy_exact_quote_in(amount_in, base, quote, fees, virtual).base_amount_out, 0

    def quote_out(self, cache: layout.Cache, idx: int, a_to_b: bool, amount_out: int, state: Any) -> int:
        """Buys: what `buy` (exact base out) charges; sells (no exact-out instruction): the least
        `sell` input paying at least `amount_out`."""
        base, quote, fees, virtual = _row_state(cache, idx)
        if a_to_b:
            return _sell_input_for(amount_out, base, quote, fees, virtual)
        return buy_base_output(amount_out, base, quote, fees, virtual).user_quote_amount_in

    def form_accounts(self, static: Any, form: str) -> tuple[Pubkey, ...]:
        return ()

    def quote_state(self, static: Any, pool: AccountSlot, deps: Mapping[int, AccountSlot],
                    ticks: Sequence[AccountSlot], address: Pubkey) -> None:  # fmt: skip
        return None  # the cache row is the exact state (or the venue does not trade)

    def swap_leg(self, static: PumpPool, pool: Pubkey, program_id: Pubkey, payer: Pubkey, source: Pubkey,
                 destination: Pubkey, a_to_b: bool, deps: Mapping[int, Any], *, form: str | None = None,
                 accounts: Mapping[Pubkey, FetchedAccount] | None = None) -> SwapLeg:  # fmt: skip
        """`sell` (a -> b) or `buy_exact_quote_in` (b -> a): both take (amount in, min out) at 8 / 16."""
        global_config = deps.get(ROLE_CONFIG)
        if not isinstance(global_config, GlobalConfig):
            raise ValueError(f"pool {pool}: its GlobalConfig was not loaded; a swap names its fee recipients")
        base_program, quote_program = token_programs(pool, static)
        user_base, user_quote = (source, destination) if a_to_b else (destination, source)
        swap_accounts = SwapAccounts(
            user=payer, user_base_token_account=user_base, user_quote_token_account=user_quote,
            base_token_program=base_program, quote_token_program=quote_program,
            protocol_fee_recipient=_first_set(
                protocol_fee_recipients(global_config, static.is_mayhem_mode), "protocol fee recipient"),
            buyback_fee_recipient=_first_set(global_config.buyback_fee_recipients, "buyback fee recipient"),
        )  # fmt: skip
        if a_to_b:
            ix = build_sell_ix(pool_address=pool, pool=static, accounts=swap_accounts, base_amount_in=1,
                               min_quote_amount_out=1, program_id=program_id)  # fmt: skip
        else:
            # track_volume off: the bot earns no volume rewards, so its swaps never touch the accumulator.
            ix = build_buy_exact_quote_in_ix(pool_address=pool, pool=static, accounts=swap_accounts, spendable_quote_in=1,
                                             min_base_amount_out=1, track_volume=False, program_id=program_id)  # fmt: skip
        return SwapLeg((ix,), (ARG0_OFFSET, ARG1_OFFSET))

    def compute_units(self) -> int:
        return 90_000

    def quote_report(self, pool: Pubkey, pool_data: bytes, owner: Pubkey, fetch: AccountFetch,
                     amount_in: int, a_to_b: bool, now_unix: int) -> dict[str, Any]:  # fmt: skip
        """Pool, GlobalConfig, FeeConfig (optional, as in the SDK), vaults and mints; base = A (sell)."""
        state = decode_pool(pool_data, owner, owner)
        fee_key = fee_config_pda(owner)
        keys = [global_config_pda(owner), state.pool_base_token_account, state.pool_quote_token_account,
                state.base_mint, state.quote_mint]  # fmt: skip
        names = [
            "global_config",
            "pool_base_token_account",
            "pool_quote_token_account",
            "base_mint",
            "quote_mint",
        ]
        *required, fee_account = fetch([*keys, fee_key])  # one round trip
        for key, name, acc in zip(keys, names, required, strict=True):
            if acc is None:
                raise MissingAccount(key, name)
        (_, g), (vbo, vb), (vqo, vq), (mbo, mb), (mqo, mq) = required  # type: ignore[misc]
        global_config = decode_global_config(g, owner, owner)
        fee_config = None if fee_account is None else decode_fee_config(fee_account[1], fee_account[0])
        base_mint, quote_mint = decode_mint(mb, mbo), decode_mint(mq, mqo)
        check_tradable(global_config, base_mint, quote_mint)
        base, quote = decode_token_account(vb, vbo).amount, decode_token_account(vq, vqo).amount
        fees = pool_fees(state, global_config, fee_config, base_mint.supply, base, quote)
        virtual = state.virtual_quote_reserves
        extra: dict[str, Any] = {
            "instruction": "sell" if a_to_b else "buy_exact_quote_in",
            "fee_bps": {
                "lp": fees.lp_fee_bps,
                "protocol": fees.protocol_fee_bps,
                "coin_creator": fees.creator_fee_bps,
            },
            "canonical_pool": is_pump_pool(state.base_mint, state.creator),
            "market_cap": market_cap(base_mint.supply, base, quote + virtual, state.is_mayhem_mode),
            "fee_config": str(fee_key) if fee_config is not None else None,
            "virtual_quote_reserves": virtual,
            "needs_extend_account": needs_extend(state.data_len),  # a swap of the SDK would extend it first
        }
        if a_to_b:
            s = sell_base_input(amount_in, base, quote, fees, virtual)
            out, lp, protocol, creator = s.user_quote_amount_out, s.lp_fee, s.protocol_fee, s.coin_creator_fee
            after = (base + amount_in, quote - s.quote_amount_out + s.lp_fee)
            extra["quote_amount_out"] = s.quote_amount_out
        else:
            b = buy_exact_quote_in(amount_in, base, quote, fees, virtual)
            out, lp, protocol, creator = b.base_amount_out, b.lp_fee, b.protocol_fee, b.coin_creator_fee
            after = (base - b.base_amount_out, quote + b.quote_amount_in + b.lp_fee)
            extra["user_quote_amount_in"] = b.user_quote_amount_in  # what is spent (<= amount_in)
        extra.update(lp_fee=lp, protocol_fee=protocol, coin_creator_fee=creator)
        # Prices on the effective quote reserve (vault + virtual reserves), as the swap is priced.
        return cp_quote_report(
            self.venue, pool, a_to_b, (state.base_mint, state.quote_mint), (base_mint.decimals, quote_mint.decimals),
            (base, quote + virtual), (after[0], after[1] + virtual), amount_in, out, lp + protocol + creator, extra,
        )  # fmt: skip


ADAPTER = Adapter()
