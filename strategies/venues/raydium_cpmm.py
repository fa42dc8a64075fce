"""Raydium CPMM (`CPMMoo8L…`): account decoding, exact quotes, tradability checks, swap builders.

Facts: protocols.md §2 (layouts §2.2/§2.3, reserves §2.4, instructions §2.5, math §2.6), read against
raydium-io/raydium-cp-swap (programs/cp-swap/src/curve/{calculator,fees,constant_product}.rs,
utils/math.rs, instructions/swap_base_{input,output}.rs). Money is plain Python integers; every
rounding step mirrors the program. Pools with the creator fee on are refused (`check_tradable`), so
the quote functions model the creator-fee-off path only.
"""

from __future__ import annotations

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
    ROLE_VAULT_A,
    ROLE_VAULT_B,
    AccountFetch,
    AccountSlot,
    Dependency,
    FetchedAccount,
    PoolContext,
    SwapLeg,
    Venue,
    cp_quote_report,
    cp_reserves_u,
    cp_settling,
    fetch_required,
)
from strategies.venues.errors import (
    AmountCalcOverflow,
    DecodeError,
    InsufficientLiquidity,
    InvalidInput,
    RefusalReason,
    Unmodelled,
    ZeroTradableAmount,
)
from strategies.venues.spl import (
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    decode_mint,
    decode_token_account,
    ensure_mint_modelled,
    read_token_amount,
)

PROGRAM_ID = Pubkey.from_string("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C")

U64_MAX = (1 << 64) - 1
FEE_RATE_DENOMINATOR = 1_000_000

POOL_SIZE = 637
POOL_DISCRIMINATOR = bytes.fromhex("f7ede3f5d7c3de46")  # sha256("account:PoolState")[:8]
CONFIG_SIZE = 236
CONFIG_DISCRIMINATOR = bytes.fromhex("daf42168cbcb2b6f")  # sha256("account:AmmConfig")[:8]
OBSERVATION_SIZE = 4075  # 8 + 1 + 2 + 32 + 100 * 40 + 4 * 8 (states/oracle.rs)
OBSERVATION_DISCRIMINATOR = bytes.fromhex("7aaec5358109a584")  # sha256("account:ObservationState")[:8]

SWAP_BASE_INPUT_DISCRIMINATOR = bytes.fromhex("8fbe5adac41e33de")  # sha256("global:swap_base_input")[:8]
SWAP_BASE_OUTPUT_DISCRIMINATOR = bytes.fromhex("37d96256a34ab4ad")  # sha256("global:swap_base_output")[:8]
SWAP_DATA_SIZE = 24
# Byte offsets of the two u64 arguments inside the 24-byte instruction data. Execution patches
# amounts in place in precompiled messages, so these are part of the public API.
SWAP_BASE_INPUT_AMOUNT_IN_OFFSET = 8
SWAP_BASE_INPUT_MIN_OUT_OFFSET = 16
SWAP_BASE_OUTPUT_MAX_IN_OFFSET = 8
SWAP_BASE_OUTPUT_AMOUNT_OUT_OFFSET = 16

# PoolState status bits (states/pool.rs PoolStatusBitIndex): a set bit disables the operation.
STATUS_DEPOSIT_DISABLED = 1 << 0
STATUS_WITHDRAW_DISABLED = 1 << 1
STATUS_SWAP_DISABLED = 1 << 2

# PoolState, repr(C, packed), protocols.md §2.2: 10 pubkeys, 5 u8, 7 u64, 2 u8, 6 pad, 2 u64, 224 pad.
_POOL = struct.Struct("<8s" + "32s" * 10 + "BBBBB" + "Q" * 7 + "BB6sQQ224s")
# AmmConfig (Borsh), protocols.md §2.3.
_CONFIG = struct.Struct("<8sBBHQQQQ32s32sQ120s")
_OBSERVATION_HEAD = struct.Struct("<8sBH32s")
_SWAP_DATA = struct.Struct("<8sQQ")
# Hot path: the PoolState fields a swap changes (fee counters at 341..373) and the creator counters.
_OWED_OFFSET = 341
_OWED = struct.Struct("<QQQQQQBB6sQQ")  # protocol0/1, fund0/1, open_time, epoch, flags, pad, creator0/1
assert _POOL.size == POOL_SIZE and _CONFIG.size == CONFIG_SIZE


@dataclass(frozen=True, slots=True)
class CpmmPool:
    """Decoded CPMM `PoolState` (every non-padding field of protocols.md §2.2)."""

    amm_config: Pubkey
    pool_creator: Pubkey
    token_0_vault: Pubkey
    token_1_vault: Pubkey
    lp_mint: Pubkey
    token_0_mint: Pubkey
    token_1_mint: Pubkey
    token_0_program: Pubkey
    token_1_program: Pubkey
    observation_key: Pubkey
    auth_bump: int
    status: int
    lp_mint_decimals: int
    mint_0_decimals: int
    mint_1_decimals: int
    lp_supply: int
    protocol_fees_token_0: int
    protocol_fees_token_1: int
    fund_fees_token_0: int
    fund_fees_token_1: int
    open_time: int
    recent_epoch: int
    creator_fee_on: int
    enable_creator_fee: bool
    creator_fees_token_0: int
    creator_fees_token_1: int


@dataclass(frozen=True, slots=True)
class CpmmConfig:
    """Decoded CPMM `AmmConfig` (protocols.md §2.3). Rates are parts per 1,000,000."""

    bump: int
    disable_create_pool: bool
    index: int
    trade_fee_rate: int
    protocol_fee_rate: int
    fund_fee_rate: int
    create_pool_fee: int
    protocol_owner: Pubkey
    fund_owner: Pubkey
    creator_fee_rate: int


@dataclass(frozen=True, slots=True)
class CpmmObservation:
    """The part of `ObservationState` the bot needs: which pool it belongs to."""

    initialized: bool
    observation_index: int
    pool_id: Pubkey


@dataclass(frozen=True, slots=True)
class CpmmSwap:
    """Result of an exact CPMM quote. `trade_fee` is in input-token units and includes the protocol
    and fund shares (which accrue in the pool's fee counters, not in the reserves)."""

    amount_in: int
    amount_out: int
    trade_fee: int
    protocol_fee: int
    fund_fee: int


def _check_account(name: str, data: bytes, owner: Pubkey, program_id: Pubkey, size: int, disc: bytes) -> None:
    if owner != program_id:
        raise DecodeError(name, f"owner is {owner}, expected {program_id}")
    if len(data) != size:
        raise DecodeError(name, f"data is {len(data)} bytes, expected {size}")
    if data[:8] != disc:
        raise DecodeError(name, f"discriminator {bytes(data[:8]).hex()} != {disc.hex()}")


def decode_pool(data: bytes, owner: Pubkey, program_id: Pubkey = PROGRAM_ID) -> CpmmPool:
    """Decode a 637-byte `PoolState`, checking owner, size and discriminator."""
    _check_account("Raydium CPMM PoolState", data, owner, program_id, POOL_SIZE, POOL_DISCRIMINATOR)
    f = _POOL.unpack(data)
    keys = [Pubkey(b) for b in f[1:11]]
    return CpmmPool(
        amm_config=keys[0],
        pool_creator=keys[1],
        token_0_vault=keys[2],
        token_1_vault=keys[3],
        lp_mint=keys[4],
        token_0_mint=keys[5],
        token_1_mint=keys[6],
        token_0_program=keys[7],
        token_1_program=keys[8],
        observation_key=keys[9],
        auth_bump=f[11],
        status=f[12],
        lp_mint_decimals=f[13],
        mint_0_decimals=f[14],
        mint_1_decimals=f[15],
        lp_supply=f[16],
        protocol_fees_token_0=f[17],
        protocol_fees_token_1=f[18],
        fund_fees_token_0=f[19],
        fund_fees_token_1=f[20],
        open_time=f[21],
        recent_epoch=f[22],
        creator_fee_on=f[23],
        enable_creator_fee=f[24] != 0,
        creator_fees_token_0=f[26],
        creator_fees_token_1=f[27],
    )


def decode_amm_config(data: bytes, owner: Pubkey, program_id: Pubkey = PROGRAM_ID) -> CpmmConfig:
    """Decode a 236-byte `AmmConfig`, checking owner, size, discriminator and fee-rate bounds."""
    _check_account("Raydium CPMM AmmConfig", data, owner, program_id, CONFIG_SIZE, CONFIG_DISCRIMINATOR)
    f = _CONFIG.unpack(data)
    config = CpmmConfig(
        bump=f[1],
        disable_create_pool=f[2] != 0,
        index=f[3],
        trade_fee_rate=f[4],
        protocol_fee_rate=f[5],
        fund_fee_rate=f[6],
        create_pool_fee=f[7],
        protocol_owner=Pubkey(f[8]),
        fund_owner=Pubkey(f[9]),
        creator_fee_rate=f[10],
    )
    # create_config/update_config keep every rate below the denominator; a larger value means the
    # bytes are not an AmmConfig we understand.
    for name in ("trade_fee_rate", "protocol_fee_rate", "fund_fee_rate", "creator_fee_rate"):
        if getattr(config, name) >= FEE_RATE_DENOMINATOR:
            raise DecodeError("Raydium CPMM AmmConfig", f"{name} {getattr(config, name)} >= 1,000,000")
    return config


def decode_observation(data: bytes, owner: Pubkey, program_id: Pubkey = PROGRAM_ID) -> CpmmObservation:
    """Decode the head of an `ObservationState` (discriminator, index, pool id)."""
    _check_account(
        "Raydium CPMM ObservationState", data, owner, program_id, OBSERVATION_SIZE, OBSERVATION_DISCRIMINATOR
    )
    _, initialized, index, pool_id = _OBSERVATION_HEAD.unpack_from(data)
    return CpmmObservation(initialized=initialized != 0, observation_index=index, pool_id=Pubkey(pool_id))


def owed_fees(data: bytes) -> tuple[int, int]:
    """Hot path: fees owed per token (protocol + fund + creator) straight from PoolState bytes.

    Every swap rewrites these counters, so a pool-account update needs only this, not `decode_pool`
    (which builds ten Pubkeys). No validation: the account must have passed `decode_pool` once.
    """
    p0, p1, f0, f1, _open, _epoch, _on, _enabled, _pad, c0, c1 = _OWED.unpack_from(data, _OWED_OFFSET)
    return p0 + f0 + c0, p1 + f1 + c1


_STATUS_OFFSET = 329
_KEYS = slice(8, 328)  # the ten account keys: fixed for a pool's life


def pool_keys_bytes(data: bytes) -> bytes:
    """The raw account-key region of PoolState; equal bytes mean the decoded keys are still valid."""
    return data[_KEYS]


def read_pool_dynamic(data: bytes) -> tuple[int, int, bool, int, int]:
    """Hot path: (status, open_time, enable_creator_fee, owed0, owed1) from PoolState bytes.

    Everything a pool-account update can change that the swap depends on, without building the ten
    Pubkeys of `decode_pool` (~30 µs). Checks size and discriminator; the keys are checked by the
    caller against `pool_keys_bytes` of the decoded state.
    """
    if len(data) != POOL_SIZE or data[:8] != POOL_DISCRIMINATOR:
        raise DecodeError("PoolState", f"size {len(data)} or discriminator {bytes(data[:8]).hex()} mismatch")
    p0, p1, f0, f1, open_time, _epoch, _on, enabled, _pad, c0, c1 = _OWED.unpack_from(data, _OWED_OFFSET)
    return data[_STATUS_OFFSET], open_time, bool(enabled), p0 + f0 + c0, p1 + f1 + c1


def refusal(
    status: int, open_time: int, enable_creator_fee: bool, creator_fee_rate: int, now_unix: int
) -> Unmodelled | None:
    """The reason a swap would not follow our exact quote, or None (one rule for hot and cold paths)."""
    if status & STATUS_SWAP_DISABLED:
        return Unmodelled(RefusalReason.SWAP_DISABLED, f"status bits {status:#05b}")
    if now_unix < open_time:
        return Unmodelled(RefusalReason.NOT_OPEN_YET, f"open_time {open_time} > now {now_unix}")
    if enable_creator_fee and creator_fee_rate != 0:
        return Unmodelled(RefusalReason.CPMM_CREATOR_FEE, f"creator_fee_rate {creator_fee_rate}")
    return None


def reserves_net(vault0_amount: int, vault1_amount: int, owed0: int, owed1: int) -> tuple[int, int]:
    """Swap reserves from vault balances and total fees owed (see `reserves`)."""
    r0, r1 = vault0_amount - owed0, vault1_amount - owed1
    if r0 < 0 or r1 < 0:
        raise InsufficientLiquidity(f"owed fees exceed vault balance (reserves {r0}, {r1})")
    return r0, r1


def reserves(pool: CpmmPool, vault0_amount: int, vault1_amount: int) -> tuple[int, int]:
    """Swap reserves (token0, token1): vault balance minus protocol, fund and creator fees owed.

    pool.rs `vault_amount_without_fee`; the program panics (checked_sub) when owed fees exceed the
    vault, which we report as `InsufficientLiquidity`.
    """
    r0 = vault0_amount - pool.protocol_fees_token_0 - pool.fund_fees_token_0 - pool.creator_fees_token_0
    r1 = vault1_amount - pool.protocol_fees_token_1 - pool.fund_fees_token_1 - pool.creator_fees_token_1
    if r0 < 0 or r1 < 0:
        raise InsufficientLiquidity(f"owed fees exceed vault balance (reserves {r0}, {r1})")
    return r0, r1


def check_tradable(
    pool: CpmmPool,
    config: CpmmConfig,
    now_unix: int,
    mint0_data: bytes | None = None,
    mint1_data: bytes | None = None,
) -> None:
    """Raise `Unmodelled(reason)` when a swap on this pool would not follow our exact quote.

    Refused: swap-disabled status bit, `now < open_time` (the program rejects with NotApproved), the
    creator fee on (rounding changed between program versions, protocols.md §2.6), and Token-2022
    mints with a transfer fee or transfer hook when the mint account data is supplied.
    """
    refused = refusal(pool.status, pool.open_time, pool.enable_creator_fee, config.creator_fee_rate, now_unix)
    if refused is not None:
        raise refused
    for label, program, data in (
        ("token_0_mint", pool.token_0_program, mint0_data),
        ("token_1_mint", pool.token_1_program, mint1_data),
    ):
        if program == TOKEN_2022_PROGRAM_ID and data is not None:
            ensure_mint_modelled(decode_mint(data, TOKEN_2022_PROGRAM_ID), label)


# --- exact quotes ---------------------------------------------------------------------------------


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _spl_ceil_div(numerator: int, denominator: int) -> int:
    """The program's `CheckedCeilDiv` for u128 (utils/math.rs): ordinary ceiling when the quotient is
    at least 1, but a zero quotient becomes 1 only when 2·numerator >= denominator, else 0."""
    quotient, remainder = divmod(numerator, denominator)
    if quotient == 0:
        return 1 if 2 * numerator >= denominator else 0
    return quotient + 1 if remainder else quotient


def _check_rates(trade_fee_rate: int, protocol_fee_rate: int, fund_fee_rate: int) -> None:
    if not 0 <= trade_fee_rate < FEE_RATE_DENOMINATOR:
        raise InvalidInput(f"trade_fee_rate {trade_fee_rate} outside [0, 1,000,000)")
    if not 0 <= protocol_fee_rate <= FEE_RATE_DENOMINATOR or not 0 <= fund_fee_rate <= FEE_RATE_DENOMINATOR:
        raise InvalidInput(
            f"protocol/fund fee rates {protocol_fee_rate}/{fund_fee_rate} outside [0, 1,000,000]"
        )


def _check_u64(name: str, value: int) -> None:
    if not 0 <= value <= U64_MAX:
        raise AmountCalcOverflow(f"{name} {value} is not a u64")


def swap_base_input(
    amount_in: int,
    reserve_in: int,
    reserve_out: int,
    trade_fee_rate: int,
    protocol_fee_rate: int,
    fund_fee_rate: int,
) -> CpmmSwap:
    """Exact `swap_base_input` quote (creator fee off, Tokenkeg mints).

    trade_fee = ceil(in·rate/1e6); out = floor((in − fee)·R_out / (R_in + in − fee)); protocol and
    fund shares are floors of the trade fee. Raises `ZeroTradableAmount` for a zero input or a zero
    output (the program's `require_gt!`), `AmountCalcOverflow` when an argument is not a u64 or the
    input vault would exceed u64 (the token transfer fails; the vault also holds owed fees, so the
    real limit is that much lower).
    """
    _check_u64("amount_in", amount_in)
    _check_u64("reserve_in", reserve_in)
    _check_u64("reserve_out", reserve_out)
    _check_rates(trade_fee_rate, protocol_fee_rate, fund_fee_rate)
    if amount_in == 0:
        raise ZeroTradableAmount("amount_in is 0")
    trade_fee = _ceil_div(amount_in * trade_fee_rate, FEE_RATE_DENOMINATOR)
    net_in = amount_in - trade_fee
    denominator = reserve_in + net_in
    if denominator == 0:
        raise InsufficientLiquidity("input reserve and net input are both 0")
    amount_out = net_in * reserve_out // denominator
    if amount_out == 0:
        raise ZeroTradableAmount(f"amount_out is 0 for amount_in {amount_in}")
    if reserve_in + amount_in > U64_MAX:
        raise AmountCalcOverflow(f"input vault would exceed u64 ({reserve_in} + {amount_in})")
    return CpmmSwap(
        amount_in=amount_in,
        amount_out=amount_out,
        trade_fee=trade_fee,
        protocol_fee=trade_fee * protocol_fee_rate // FEE_RATE_DENOMINATOR,
        fund_fee=trade_fee * fund_fee_rate // FEE_RATE_DENOMINATOR,
    )


def swap_base_output(
    amount_out: int,
    reserve_in: int,
    reserve_out: int,
    trade_fee_rate: int,
    protocol_fee_rate: int,
    fund_fee_rate: int,
) -> CpmmSwap:
    """Exact `swap_base_output` quote (creator fee off, Tokenkeg mints).

    in_swapped = CheckedCeilDiv(R_in·out, R_out − out) (see `_spl_ceil_div`); amount_in =
    ceil(in_swapped·1e6 / (1e6 − rate)); trade_fee = amount_in − in_swapped (the program since the
    creator-fee rewrite; the Raydium SDK does the same). Raises `ZeroTradableAmount` for a zero output
    or a zero required input, `InsufficientLiquidity` when out >= R_out (the program panics),
    `AmountCalcOverflow` when amount_in or the new input vault does not fit u64.
    """
    _check_u64("amount_out", amount_out)
    _check_u64("reserve_in", reserve_in)
    _check_u64("reserve_out", reserve_out)
    _check_rates(trade_fee_rate, protocol_fee_rate, fund_fee_rate)
    if amount_out == 0:
        raise ZeroTradableAmount("amount_out is 0")
    if amount_out >= reserve_out:
        raise InsufficientLiquidity(f"amount_out {amount_out} >= output reserve {reserve_out}")
    in_swapped = _spl_ceil_div(reserve_in * amount_out, reserve_out - amount_out)
    if in_swapped == 0:
        raise ZeroTradableAmount(f"required input rounds to 0 for amount_out {amount_out}")
    if trade_fee_rate == 0:
        amount_in = in_swapped
    else:
        denominator = FEE_RATE_DENOMINATOR - trade_fee_rate
        amount_in = _ceil_div(in_swapped * FEE_RATE_DENOMINATOR, denominator)
    if amount_in > U64_MAX:
        raise AmountCalcOverflow(f"amount_in {amount_in} exceeds u64")
    if reserve_in + amount_in > U64_MAX:
        raise AmountCalcOverflow(f"input vault would exceed u64 ({reserve_in} + {amount_in})")
    trade_fee = amount_in - in_swapped
    return CpmmSwap(
        amount_in=amount_in,
        amount_out=amount_out,
        trade_fee=trade_fee,
        protocol_fee=trade_fee * protocol_fee_rate // FEE_RATE_DENOMINATOR,
        fund_fee=trade_fee * fund_fee_rate // FEE_RATE_DENOMINATOR,
    )


# --- PDAs -----------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def authority_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """Vault and LP-mint authority: seeds ["vault_and_lp_mint_auth_seed"] (protocols.md §2.1)."""
    return Pubkey.find_program_address([b"vault_and_lp_mint_auth_seed"], program_id)[0]


def observation_pda(pool: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """Observation account: seeds ["observation", pool]."""
    return Pubkey.find_program_address([b"observation", bytes(pool)], program_id)[0]


def vault_pda(pool: Pubkey, mint: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """Token vault: seeds ["pool_vault", pool, mint]."""
    return Pubkey.find_program_address([b"pool_vault", bytes(pool), bytes(mint)], program_id)[0]


# --- instruction builders -------------------------------------------------------------------------


def _u64_arg(name: str, value: int) -> int:
    if not 0 <= value <= U64_MAX:
        raise InvalidInput(f"{name} {value} is not a u64")
    return value


def encode_swap_base_input_data(amount_in: int, min_out: int) -> bytes:
    """24 bytes: discriminator, amount_in u64, minimum_amount_out u64."""
    return _SWAP_DATA.pack(
        SWAP_BASE_INPUT_DISCRIMINATOR, _u64_arg("amount_in", amount_in), _u64_arg("min_out", min_out)
    )


def encode_swap_base_output_data(max_in: int, amount_out: int) -> bytes:
    """24 bytes: discriminator, max_amount_in u64, amount_out u64."""
    return _SWAP_DATA.pack(
        SWAP_BASE_OUTPUT_DISCRIMINATOR, _u64_arg("max_in", max_in), _u64_arg("amount_out", amount_out)
    )


def _swap_accounts(
    pool_address: Pubkey,
    pool: CpmmPool,
    payer: Pubkey,
    user_input_account: Pubkey,
    user_output_account: Pubkey,
    zero_for_one: bool,
    program_id: Pubkey,
) -> list[AccountMeta]:
    if zero_for_one:
        in_vault, out_vault = pool.token_0_vault, pool.token_1_vault
        in_prog, out_prog = pool.token_0_program, pool.token_1_program
        in_mint, out_mint = pool.token_0_mint, pool.token_1_mint
    else:
        in_vault, out_vault = pool.token_1_vault, pool.token_0_vault
        in_prog, out_prog = pool.token_1_program, pool.token_0_program
        in_mint, out_mint = pool.token_1_mint, pool.token_0_mint
    # Order of the `Swap` accounts context (instructions/swap_base_input.rs), protocols.md §2.5.
    return [
        AccountMeta(payer, is_signer=True, is_writable=False),
        AccountMeta(authority_pda(program_id), is_signer=False, is_writable=False),
        AccountMeta(pool.amm_config, is_signer=False, is_writable=False),
        AccountMeta(pool_address, is_signer=False, is_writable=True),
        AccountMeta(user_input_account, is_signer=False, is_writable=True),
        AccountMeta(user_output_account, is_signer=False, is_writable=True),
        AccountMeta(in_vault, is_signer=False, is_writable=True),
        AccountMeta(out_vault, is_signer=False, is_writable=True),
        AccountMeta(in_prog, is_signer=False, is_writable=False),
        AccountMeta(out_prog, is_signer=False, is_writable=False),
        AccountMeta(in_mint, is_signer=False, is_writable=False),
        AccountMeta(out_mint, is_signer=False, is_writable=False),
        AccountMeta(pool.observation_key, is_signer=False, is_writable=True),
    ]


def build_swap_base_input_ix(
    *,
    pool_address: Pubkey,
    pool: CpmmPool,
    payer: Pubkey,
    user_input_account: Pubkey,
    user_output_account: Pubkey,
    zero_for_one: bool,
    amount_in: int,
    min_out: int,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """`swap_base_input` with the 13 accounts of protocols.md §2.5 (token0→token1 if zero_for_one)."""
    accounts = _swap_accounts(
        pool_address, pool, payer, user_input_account, user_output_account, zero_for_one, program_id
    )
    return Instruction(program_id, encode_swap_base_input_data(amount_in, min_out), accounts)


def build_swap_base_output_ix(
    *,
    pool_address: Pubkey,
    pool: CpmmPool,
    payer: Pubkey,
    user_input_account: Pubkey,
    user_output_account: Pubkey,
    zero_for_one: bool,
    max_in: int,
    amount_out: int,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """`swap_base_output` with the same 13 accounts as `build_swap_base_input_ix`."""
    accounts = _swap_accounts(
        pool_address, pool, payer, user_input_account, user_output_account, zero_for_one, program_id
    )
    return Instruction(program_id, encode_swap_base_output_data(max_in, amount_out), accounts)


# ---- venue adapter (strategies.venues.base.VenueAdapter) ------------------------------------------
class Adapter:
    """Raydium CPMM for the registry: pool + two vaults + the (shared) AmmConfig."""

    venue = Venue.raydium_cpmm
    pool_account_size = 637  # protocols.md: exact size of the pool account
    pool_account_sizes: tuple[int, ...] = (637,)
    mint_offsets = (168, 200)  # where the pool account holds mint a and mint b
    executable: str | None = None
    cache_exact = True  # the cache row's integers are the exact state
    priced = True
    swap_forms: tuple[str, ...] = ("swap_base_input",)  # the one documented exact-in form (protocols.md §2.5)
    slippage_errors = frozenset({6005})  # ExceededSlippage (raydium-cp-swap programs/cp-swap/src/error.rs)
    tick_capacity = 0

    def pool_keys(self, data: bytes) -> bytes:
        return pool_keys_bytes(data)

    def decode_static(self, data: bytes, program_id: Pubkey) -> CpmmPool:
        return decode_pool(data, program_id, program_id)

    def read_dynamic(self, data: bytes) -> tuple[int, int, bool, int, int]:
        return read_pool_dynamic(data)

    def mints(self, static: CpmmPool) -> tuple[Pubkey, Pubkey]:
        return static.token_0_mint, static.token_1_mint

    def dependencies(self, static: CpmmPool, program_id: Pubkey) -> list[Dependency]:
        return [
            Dependency(static.token_0_vault, ROLE_VAULT_A, TOKEN_PROGRAM_ID),
            Dependency(static.token_1_vault, ROLE_VAULT_B, TOKEN_PROGRAM_ID),
            Dependency(static.amm_config, ROLE_CONFIG, program_id),
        ]

    def tick_arrays(self, static: Any, dynamic: Any, pool: Pubkey, program_id: Pubkey) -> dict[int, Pubkey]:
        return {}

    def decode_account(self, role: int, data: bytes, ctx: PoolContext, tick_start: int) -> Any:
        if role == ROLE_VAULT_A:
            return read_token_amount(data, ctx.mint_a_raw)
        if role == ROLE_VAULT_B:
            return read_token_amount(data, ctx.mint_b_raw)
        return decode_amm_config(data, ctx.program_id, ctx.program_id)

    def settling(
        self, pool: AccountSlot, deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot]
    ) -> bool:
        return cp_settling(pool, deps)

    def write_row(self, cache: layout.Cache, idx: int, static: CpmmPool, pool: AccountSlot,
                  deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot], slot: int, recv_ns: int,
                  now_unix: int) -> bool:  # fmt: skip
        status, open_time, creator_fee, owed0, owed1 = pool.value
        cfg: CpmmConfig = deps[ROLE_CONFIG].value
        refused = refusal(status, open_time, creator_fee, cfg.creator_fee_rate, now_unix)
        if refused is not None:
            raise refused
        ra, rb = reserves_net(deps[ROLE_VAULT_A].value, deps[ROLE_VAULT_B].value, owed0, owed1)
        return layout.write_cp_pool(
            cache, idx, ra, rb, cfg.trade_fee_rate, FEE_RATE_DENOMINATOR, slot, recv_ns,
            cfg.protocol_fee_rate, cfg.fund_fee_rate,
        )  # fmt: skip

    def _rates(self, cache: layout.Cache, idx: int, fee_den: int) -> tuple[int, int]:
        if fee_den != layout.CPMM_FEE_DEN:
            raise ValueError(f"pool {idx}: CPMM fee denominator must be 1,000,000, got {fee_den}")
        pu = cache.pools_u
        return int(pu[idx, layout.U_PROTOCOL_FEE_RATE]), int(pu[idx, layout.U_FUND_FEE_RATE])

    def quote_state(self, static: Any, pool: AccountSlot, deps: Mapping[int, AccountSlot],
                    ticks: Sequence[AccountSlot], address: Pubkey) -> None:  # fmt: skip
        return None  # the cache row is the exact state

    def quote_in(
        self, cache: layout.Cache, idx: int, a_to_b: bool, amount_in: int, state: Any
    ) -> tuple[int, int]:
        r_in, r_out, fee_num, fee_den = cp_reserves_u(cache, idx, a_to_b)
        protocol, fund = self._rates(cache, idx, fee_den)
        return swap_base_input(amount_in, r_in, r_out, fee_num, protocol, fund).amount_out, 0

    def quote_out(self, cache: layout.Cache, idx: int, a_to_b: bool, amount_out: int, state: Any) -> int:
        r_in, r_out, fee_num, fee_den = cp_reserves_u(cache, idx, a_to_b)
        protocol, fund = self._rates(cache, idx, fee_den)
        return swap_base_output(amount_out, r_in, r_out, fee_num, protocol, fund).amount_in

    def form_accounts(self, static: CpmmPool, form: str) -> tuple[Pubkey, ...]:
        return ()

    def swap_leg(self, static: CpmmPool, pool: Pubkey, program_id: Pubkey, payer: Pubkey, source: Pubkey,
                 destination: Pubkey, a_to_b: bool, deps: Mapping[int, Any], *, form: str | None = None,
                 accounts: Mapping[Pubkey, FetchedAccount] | None = None) -> SwapLeg:  # fmt: skip
        if form is not None and form not in self.swap_forms:
            raise ValueError(f"unknown CPMM swap form {form!r} (one of: {', '.join(self.swap_forms)})")
        ix = build_swap_base_input_ix(
            pool_address=pool, pool=static, payer=payer, user_input_account=source,
            user_output_account=destination, zero_for_one=a_to_b, amount_in=1, min_out=1, program_id=program_id,
        )  # fmt: skip
        return SwapLeg((ix,), (SWAP_BASE_INPUT_AMOUNT_IN_OFFSET, SWAP_BASE_INPUT_MIN_OUT_OFFSET))

    def compute_units(self) -> int:
        return 60_000

    def quote_report(self, pool: Pubkey, pool_data: bytes, owner: Pubkey, fetch: AccountFetch,
                     amount_in: int, a_to_b: bool, now_unix: int) -> dict[str, Any]:  # fmt: skip
        """Pool, config, vaults (and mints for the Token-2022 checks); token0 = A."""
        state = decode_pool(pool_data, owner, owner)
        (_, cfg), (v0o, v0), (v1o, v1), (_, m0), (_, m1) = fetch_required(
            fetch,
            [
                state.amm_config,
                state.token_0_vault,
                state.token_1_vault,
                state.token_0_mint,
                state.token_1_mint,
            ],
            ["amm_config", "token_0_vault", "token_1_vault", "token_0_mint", "token_1_mint"],
        )
        config = decode_amm_config(cfg, owner, owner)
        check_tradable(state, config, now_unix, m0, m1)
        r0, r1 = reserves(state, decode_token_account(v0, v0o).amount, decode_token_account(v1, v1o).amount)
        r_in, r_out = (r0, r1) if a_to_b else (r1, r0)
        q = swap_base_input(amount_in, r_in, r_out, config.trade_fee_rate, config.protocol_fee_rate,
                            config.fund_fee_rate)  # fmt: skip
        # The trade fee stays in the pool; protocol and fund shares become owed fees (not reserves).
        new_in, new_out = r_in + q.amount_in - q.protocol_fee - q.fund_fee, r_out - q.amount_out
        after = (new_in, new_out) if a_to_b else (new_out, new_in)
        extra = {"protocol_fee": q.protocol_fee, "fund_fee": q.fund_fee, "fee_rate": config.trade_fee_rate}
        return cp_quote_report(
            self.venue, pool, a_to_b, (state.token_0_mint, state.token_1_mint),
            (state.mint_0_decimals, state.mint_1_decimals), (r0, r1), after, amount_in, q.amount_out,
            q.trade_fee, extra,
        )  # fmt: skip


ADAPTER = Adapter()
