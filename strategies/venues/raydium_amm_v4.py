"""Raydium AMM v4 (`675kPX9M…`): AmmInfo decoding, exact quotes, tradability, swap builders.

Facts: protocols.md §1 (layout §1.2, status §1.3, reserves §1.4, instructions §1.5, math §1.6), read
against raydium-io/raydium-amm program/src/{state,math,processor,instruction}.rs. The pool account is
native (no discriminator): it is recognised by owner and its exact size (752 bytes). Exact math is
the current program's (ceil-div since 2025-08-26; older builds charged no fee below 200 units).
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from strategies import layout
from strategies.venues.base import (
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
from strategies.venues.spl import TOKEN_PROGRAM_ID, decode_token_account, read_token_amount

PROGRAM_ID = Pubkey.from_string("675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8")
U64_MAX = (1 << 64) - 1

AMM_INFO_SIZE = 752

TAG_SWAP_BASE_IN = 9
TAG_SWAP_BASE_OUT = 11
TAG_SWAP_BASE_IN_V2 = 16
TAG_SWAP_BASE_OUT_V2 = 17
SWAP_DATA_SIZE = 17
# Offsets of the two u64 arguments in the 17-byte data (tag byte first); execution patches them in
# precompiled messages. Base-in: amount_in, minimum_amount_out. Base-out: max_amount_in, amount_out.
SWAP_ARG0_OFFSET = 1
SWAP_ARG1_OFFSET = 9

_SWAP_DATA = struct.Struct("<BQQ")
# AmmInfo, repr(C, packed): 29 u64 (0..232), [u64;2] pad, u64, u128, u128, u64, u128, u128, u64 (..336),
# 9 pubkeys (336..624), [u64;8] pad, owner pubkey, 4 u64 (..752). protocols.md §1.2.
_AMM_INFO = struct.Struct("<" + "Q" * 29 + "16sQ16s16sQ16s16sQ" + "32s" * 9 + "64s32sQQQQ")
assert _AMM_INFO.size == AMM_INFO_SIZE
_PNL_OFFSET = 192
_PNL = struct.Struct("<QQ")


class AmmStatus(enum.IntEnum):
    """`AmmStatus` (state.rs), protocols.md §1.3."""

    UNINITIALIZED = 0
    INITIALIZED = 1
    DISABLED = 2
    WITHDRAW_ONLY = 3
    LIQUIDITY_ONLY = 4
    ORDER_BOOK_ONLY = 5
    SWAP_ONLY = 6
    WAITING_TRADE = 7


@dataclass(frozen=True, slots=True)
class AmmInfo:
    """Decoded `AmmInfo`: the fields a bot uses plus the legacy market keys (protocols.md §1.2)."""

    status: AmmStatus
    nonce: int
    order_num: int
    depth: int
    coin_decimals: int
    pc_decimals: int
    state: int
    reset_flag: int
    min_size: int
    vol_max_cut_ratio: int
    amount_wave: int
    coin_lot_size: int
    pc_lot_size: int
    min_price_multiplier: int
    max_price_multiplier: int
    sys_decimal_value: int
    min_separate_numerator: int
    min_separate_denominator: int
    trade_fee_numerator: int
    trade_fee_denominator: int
    pnl_numerator: int
    pnl_denominator: int
    swap_fee_numerator: int
    swap_fee_denominator: int
    need_take_pnl_coin: int
    need_take_pnl_pc: int
    total_pnl_pc: int
    total_pnl_coin: int
    pool_open_time: int
    orderbook_to_init_time: int
    swap_acc_pc_fee: int
    swap_acc_coin_fee: int
    coin_vault: Pubkey
    pc_vault: Pubkey
    coin_vault_mint: Pubkey
    pc_vault_mint: Pubkey
    lp_mint: Pubkey
    open_orders: Pubkey
    market: Pubkey
    market_program: Pubkey
    target_orders: Pubkey
    amm_owner: Pubkey
    lp_amount: int
    client_order_id: int
    recent_epoch: int


@dataclass(frozen=True, slots=True)
class MarketAccounts:
    """OpenBook accounts for the legacy tags 9/11, as `decode_market` reads them from the market account.

    At RAMM HEAD (#69) the program ignores them, so placeholders pass there; older builds validate
    them for order-book-enabled statuses (protocols.md §1.5). On mainnet they must be the market's own.
    """

    market_program: Pubkey
    market: Pubkey
    bids: Pubkey
    asks: Pubkey
    event_queue: Pubkey
    coin_vault: Pubkey
    pc_vault: Pubkey
    vault_signer: Pubkey


@dataclass(frozen=True, slots=True)
class AmmSwap:
    """Result of an exact AMM v4 quote; `fee` is in input-token units."""

    amount_in: int
    amount_out: int
    fee: int


def decode_amm_info(data: bytes, owner: Pubkey, program_id: Pubkey = PROGRAM_ID) -> AmmInfo:
    """Decode a 752-byte `AmmInfo`, checking owner, size, status value and swap-fee fields."""
    if owner != program_id:
        raise DecodeError("Raydium AMM v4 AmmInfo", f"owner is {owner}, expected {program_id}")
    if len(data) != AMM_INFO_SIZE:
        raise DecodeError("Raydium AMM v4 AmmInfo", f"data is {len(data)} bytes, expected {AMM_INFO_SIZE}")
    f = _AMM_INFO.unpack(data)
    try:
        status = AmmStatus(f[0])
    except ValueError as err:
        raise DecodeError("Raydium AMM v4 AmmInfo", f"unknown status {f[0]}") from err
    # f[29] padding, f[30] orderbook_to_init_time, f[31..32] deprecated u128s, f[33] swap_acc_pc_fee,
    # f[34..35] deprecated u128s, f[36] swap_acc_coin_fee, f[37..45] pubkeys, f[46] padding1.
    info = AmmInfo(
        status=status,
        nonce=f[1],
        order_num=f[2],
        depth=f[3],
        coin_decimals=f[4],
        pc_decimals=f[5],
        state=f[6],
        reset_flag=f[7],
        min_size=f[8],
        vol_max_cut_ratio=f[9],
        amount_wave=f[10],
        coin_lot_size=f[11],
        pc_lot_size=f[12],
        min_price_multiplier=f[13],
        max_price_multiplier=f[14],
        sys_decimal_value=f[15],
        min_separate_numerator=f[16],
        min_separate_denominator=f[17],
        trade_fee_numerator=f[18],
        trade_fee_denominator=f[19],
        pnl_numerator=f[20],
        pnl_denominator=f[21],
        swap_fee_numerator=f[22],
        swap_fee_denominator=f[23],
        need_take_pnl_coin=f[24],
        need_take_pnl_pc=f[25],
        total_pnl_pc=f[26],
        total_pnl_coin=f[27],
        pool_open_time=f[28],
        orderbook_to_init_time=f[30],
        swap_acc_pc_fee=f[33],
        swap_acc_coin_fee=f[36],
        coin_vault=Pubkey(f[37]),
        pc_vault=Pubkey(f[38]),
        coin_vault_mint=Pubkey(f[39]),
        pc_vault_mint=Pubkey(f[40]),
        lp_mint=Pubkey(f[41]),
        open_orders=Pubkey(f[42]),
        market=Pubkey(f[43]),
        market_program=Pubkey(f[44]),
        target_orders=Pubkey(f[45]),
        amm_owner=Pubkey(f[47]),
        lp_amount=f[48],
        client_order_id=f[49],
        recent_epoch=f[50],
    )
    if info.status != AmmStatus.UNINITIALIZED and not (
        0 <= info.swap_fee_numerator < info.swap_fee_denominator
    ):
        raise DecodeError(
            "Raydium AMM v4 AmmInfo",
            f"swap fee {info.swap_fee_numerator}/{info.swap_fee_denominator} is not a fraction below 1",
        )
    return info


# OpenBook / Serum v3 `MarketState` (project-serum/serum-dex dex/src/state.rs; OpenBook `srmqPv…` is its
# fork with the same layout): 5 bytes "serum", repr(packed) u64 words, 7 bytes "padding" (388 bytes in
# all; permissioned V2 markets append fields after it). Byte offsets: account_flags 5, own_address 13,
# vault_signer_nonce 45, coin_mint 53, pc_mint 85, coin_vault 117, coin_deposits_total 149,
# coin_fees_accrued 157, pc_vault 165, pc_deposits_total 197, pc_fees_accrued 205, pc_dust_threshold 213,
# req_q 221, event_q 253, bids 285, asks 317, coin_lot_size 349, pc_lot_size 357, fee_rate_bps 365,
# referrer_rebates_accrued 373.
MARKET_STATE_SIZE = 388
_MARKET = struct.Struct("<5sQ32sQ32s32s32sQQ32sQQQ32s32s32s32sQQQQ7s")
assert _MARKET.size == MARKET_STATE_SIZE
_MARKET_FLAGS = 1 | 2  # AccountFlag::Initialized | AccountFlag::Market


def market_vault_signer(market: Pubkey, nonce: int, market_program: Pubkey) -> Pubkey:
    """The market vaults' owner: create_program_address([market, nonce as u64 LE], market program)
    (serum-dex `gen_vault_signer_key`)."""
    try:
        return Pubkey.create_program_address([bytes(market), nonce.to_bytes(8, "little")], market_program)
    except Exception as err:  # solders' PubkeyError (not importable): the seeds give an on-curve point
        raise DecodeError("OpenBook market", f"vault_signer_nonce {nonce} gives no program address") from err


def decode_market(data: bytes, owner: Pubkey, market: Pubkey, market_program: Pubkey) -> MarketAccounts:
    """The legacy list's order-book accounts from the pool's market account (owner, padding, flags and
    own address checked)."""
    what = "OpenBook market"
    if owner != market_program:
        raise DecodeError(what, f"owner is {owner}, expected the pool's market program {market_program}")
    if len(data) < MARKET_STATE_SIZE:
        raise DecodeError(what, f"data is {len(data)} bytes, expected at least {MARKET_STATE_SIZE}")
    f = _MARKET.unpack_from(data, 0)
    if f[0] != b"serum":
        raise DecodeError(what, "missing the 'serum' head padding")
    if f[1] & _MARKET_FLAGS != _MARKET_FLAGS:
        raise DecodeError(what, f"account_flags {f[1]:#x} is not an initialized market")
    if Pubkey(f[2]) != market:
        raise DecodeError(what, f"own_address is {Pubkey(f[2])}, expected {market}")
    if len(data) == MARKET_STATE_SIZE and f[-1] != b"padding":
        raise DecodeError(what, "missing the 'padding' tail")
    # f[3] nonce, f[4..5] mints, f[6] coin_vault, f[9] pc_vault, f[13] req_q, f[14] event_q, f[15..16] bids, asks
    return MarketAccounts(
        market_program=market_program, market=market, bids=Pubkey(f[15]), asks=Pubkey(f[16]),
        event_queue=Pubkey(f[14]), coin_vault=Pubkey(f[6]), pc_vault=Pubkey(f[9]),
        vault_signer=market_vault_signer(market, f[3], market_program),
    )  # fmt: skip


def pnl_owed(data: bytes) -> tuple[int, int]:
    """Hot path: (need_take_pnl_coin, need_take_pnl_pc) straight from AmmInfo bytes.

    No validation: the account must have passed `decode_amm_info` once (its layout never moves).
    """
    coin, pc = _PNL.unpack_from(data, _PNL_OFFSET)
    return coin, pc


def reserves(info: AmmInfo, coin_vault_amount: int, pc_vault_amount: int) -> tuple[int, int]:
    """(coin, pc) reserves the swap prices from: vault minus need_take_pnl (protocols.md §1.4)."""
    coin = coin_vault_amount - info.need_take_pnl_coin
    pc = pc_vault_amount - info.need_take_pnl_pc
    if coin < 0 or pc < 0:
        raise InsufficientLiquidity(f"need_take_pnl exceeds vault balance (reserves {coin}, {pc})")
    return coin, pc


def refusal(status: int, pool_open_time: int, now_unix: int) -> Unmodelled | None:
    """Why a swap would not follow our exact quote, or None (one rule for hot and cold paths).

    Swaps run for SwapOnly (6) and for WaitingTrade (7) once `now >= pool_open_time`. Initialized (1)
    also swaps, but pre-#69 builds then count OpenBook open-orders balances in the reserves and refuse
    the V2 tags, so it is refused here as order-book-enabled. Every other status disables swaps.
    """
    if status == AmmStatus.SWAP_ONLY:
        return None
    if status == AmmStatus.WAITING_TRADE:
        if now_unix < pool_open_time:
            return Unmodelled(RefusalReason.NOT_OPEN_YET, f"pool_open_time {pool_open_time} > now {now_unix}")
        return None
    if status == AmmStatus.INITIALIZED:
        return Unmodelled(RefusalReason.AMM_ORDERBOOK_STATUS, "status INITIALIZED: reserves not modelled")
    name = AmmStatus(status).name if status in AmmStatus._value2member_map_ else str(status)
    return Unmodelled(RefusalReason.SWAP_DISABLED, f"status {name}")


def check_tradable(info: AmmInfo, now_unix: int) -> None:
    """Raise `Unmodelled(reason)` unless a swap on this pool follows our exact quote (see `refusal`)."""
    refused = refusal(info.status, info.pool_open_time, now_unix)
    if refused is not None:
        raise refused


_DYN_HEAD = struct.Struct("<Q")  # status @0
_DYN_FEES = struct.Struct("<QQQQ")  # swap_fee_numerator @176, swap_fee_denominator, need_take_pnl coin, pc
_OPEN_TIME = struct.Struct("<Q")  # pool_open_time @224
_KEYS = slice(336, 464)  # coin/pc vaults and mints


def amm_keys_bytes(data: bytes) -> bytes:
    """Raw vault/mint keys of AmmInfo; equal bytes mean the decoded keys are still valid."""
    return data[_KEYS]


def read_amm_dynamic(data: bytes) -> tuple[int, int, int, int, int, int]:
    """Hot path: (status, pool_open_time, swap_fee_num, swap_fee_den, pnl_coin, pnl_pc) from AmmInfo bytes."""
    if len(data) != AMM_INFO_SIZE:
        raise DecodeError("AmmInfo", f"size {len(data)}, expected {AMM_INFO_SIZE}")
    (status,) = _DYN_HEAD.unpack_from(data, 0)
    fee_num, fee_den, pnl_coin, pnl_pc = _DYN_FEES.unpack_from(data, 176)
    (open_time,) = _OPEN_TIME.unpack_from(data, 224)
    return status, open_time, fee_num, fee_den, pnl_coin, pnl_pc


# --- exact quotes ---------------------------------------------------------------------------------


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _check_inputs(amount: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> None:
    for name, value in (("amount", amount), ("reserve_in", reserve_in), ("reserve_out", reserve_out)):
        if not 0 <= value <= U64_MAX:
            raise AmountCalcOverflow(f"{name} {value} is not a u64")
    if not 0 <= fee_num < fee_den:
        raise InvalidInput(f"swap fee {fee_num}/{fee_den} is not a fraction below 1")


def swap_base_in(amount_in: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> AmmSwap:
    """Exact SwapBaseIn (tags 9/16): fee = ceil(in·num/den); out = floor(R_out·(in−fee)/(R_in+in−fee)).

    Raises `ZeroTradableAmount` for a zero input or output (program: InvalidInput),
    `InsufficientLiquidity` when out >= the output reserve, `AmountCalcOverflow` when the input vault
    would exceed u64.
    """
    _check_inputs(amount_in, reserve_in, reserve_out, fee_num, fee_den)
    if amount_in == 0:
        raise ZeroTradableAmount("amount_in is 0")
    fee = _ceil_div(amount_in * fee_num, fee_den)
    net_in = amount_in - fee
    denominator = reserve_in + net_in
    if denominator == 0:
        raise InsufficientLiquidity("input reserve and net input are both 0")
    amount_out = reserve_out * net_in // denominator
    if amount_out == 0:
        raise ZeroTradableAmount(f"amount_out is 0 for amount_in {amount_in}")
    if amount_out >= reserve_out:
        raise InsufficientLiquidity(f"amount_out {amount_out} >= output reserve {reserve_out}")
    if reserve_in + amount_in > U64_MAX:
        raise AmountCalcOverflow(f"input vault would exceed u64 ({reserve_in} + {amount_in})")
    return AmmSwap(amount_in=amount_in, amount_out=amount_out, fee=fee)


def swap_base_out(amount_out: int, reserve_in: int, reserve_out: int, fee_num: int, fee_den: int) -> AmmSwap:
    """Exact SwapBaseOut (tags 11/17): in0 = ceil(R_in·out/(R_out−out)); in = ceil(in0·den/(den−num)).

    Raises `ZeroTradableAmount` for a zero output (or a zero required input), `InsufficientLiquidity`
    when out >= the output reserve, `AmountCalcOverflow` when amount_in or the new input vault does not
    fit u64.
    """
    _check_inputs(amount_out, reserve_in, reserve_out, fee_num, fee_den)
    if amount_out == 0:
        raise ZeroTradableAmount("amount_out is 0")
    if amount_out >= reserve_out:
        raise InsufficientLiquidity(f"amount_out {amount_out} >= output reserve {reserve_out}")
    pre_fee_in = _ceil_div(reserve_in * amount_out, reserve_out - amount_out)
    if pre_fee_in == 0:
        raise ZeroTradableAmount("required input is 0 (empty input reserve)")
    amount_in = _ceil_div(pre_fee_in * fee_den, fee_den - fee_num)
    if amount_in > U64_MAX:
        raise AmountCalcOverflow(f"amount_in {amount_in} exceeds u64")
    if reserve_in + amount_in > U64_MAX:
        raise AmountCalcOverflow(f"input vault would exceed u64 ({reserve_in} + {amount_in})")
    return AmmSwap(amount_in=amount_in, amount_out=amount_out, fee=amount_in - pre_fee_in)


# --- PDAs and builders ------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def authority_pda(nonce: int, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """Pool authority: create_program_address(["amm authority", [nonce]]) (processor.rs); cached."""
    if not 0 <= nonce <= 255:
        raise InvalidInput(f"nonce {nonce} is not a u8")
    return Pubkey.create_program_address([b"amm authority", bytes([nonce])], program_id)


def encode_swap_data(tag: int, arg0: int, arg1: int) -> bytes:
    """17 bytes: tag u8 then two u64 (amount_in/min_out for base-in, max_in/amount_out for base-out)."""
    if tag not in (TAG_SWAP_BASE_IN, TAG_SWAP_BASE_OUT, TAG_SWAP_BASE_IN_V2, TAG_SWAP_BASE_OUT_V2):
        raise InvalidInput(f"tag {tag} is not a swap instruction")
    for name, value in (("arg0", arg0), ("arg1", arg1)):
        if not 0 <= value <= U64_MAX:
            raise InvalidInput(f"{name} {value} is not a u64")
    return _SWAP_DATA.pack(tag, arg0, arg1)


def _swap_ix(
    tag_v2: int,
    tag_legacy: int,
    arg0: int,
    arg1: int,
    pool_address: Pubkey,
    info: AmmInfo,
    user_source: Pubkey,
    user_destination: Pubkey,
    user_owner: Pubkey,
    market: MarketAccounts | None,
    with_target_orders: bool,
    program_id: Pubkey,
) -> Instruction:
    authority = authority_pda(info.nonce, program_id)
    head = [
        AccountMeta(TOKEN_PROGRAM_ID, is_signer=False, is_writable=False),
        AccountMeta(pool_address, is_signer=False, is_writable=True),
        AccountMeta(authority, is_signer=False, is_writable=False),
    ]
    tail = [
        AccountMeta(user_source, is_signer=False, is_writable=True),
        AccountMeta(user_destination, is_signer=False, is_writable=True),
        AccountMeta(user_owner, is_signer=True, is_writable=False),
    ]
    vaults = [
        AccountMeta(info.coin_vault, is_signer=False, is_writable=True),
        AccountMeta(info.pc_vault, is_signer=False, is_writable=True),
    ]
    if market is None:
        # Tags 16/17: 8 accounts (protocols.md §1.5 "newer short list").
        return Instruction(program_id, encode_swap_data(tag_v2, arg0, arg1), head + vaults + tail)
    # Tags 9/11: 17 accounts, or 18 with target_orders (protocols.md §1.5 "legacy list").
    orders = [AccountMeta(info.open_orders, is_signer=False, is_writable=True)]
    if with_target_orders:
        orders.append(AccountMeta(info.target_orders, is_signer=False, is_writable=True))
    book = [
        AccountMeta(market.market_program, is_signer=False, is_writable=False),
        AccountMeta(market.market, is_signer=False, is_writable=True),
        AccountMeta(market.bids, is_signer=False, is_writable=True),
        AccountMeta(market.asks, is_signer=False, is_writable=True),
        AccountMeta(market.event_queue, is_signer=False, is_writable=True),
        AccountMeta(market.coin_vault, is_signer=False, is_writable=True),
        AccountMeta(market.pc_vault, is_signer=False, is_writable=True),
        AccountMeta(market.vault_signer, is_signer=False, is_writable=False),
    ]
    accounts = head + orders + vaults + book + tail
    return Instruction(program_id, encode_swap_data(tag_legacy, arg0, arg1), accounts)


def build_swap_base_in_ix(
    *,
    pool_address: Pubkey,
    info: AmmInfo,
    user_source: Pubkey,
    user_destination: Pubkey,
    user_owner: Pubkey,
    amount_in: int,
    min_out: int,
    market: MarketAccounts | None = None,
    with_target_orders: bool = False,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """SwapBaseIn: tag 16 with 8 accounts by default; tag 9 with 17 (18) accounts when `market` is given.

    Direction is implied by the user accounts' mints (coin→pc when the source holds the coin mint).
    """
    return _swap_ix(
        TAG_SWAP_BASE_IN_V2, TAG_SWAP_BASE_IN, amount_in, min_out, pool_address, info, user_source,
        user_destination, user_owner, market, with_target_orders, program_id,
    )  # fmt: skip


def build_swap_base_out_ix(
    *,
    pool_address: Pubkey,
    info: AmmInfo,
    user_source: Pubkey,
    user_destination: Pubkey,
    user_owner: Pubkey,
    max_in: int,
    amount_out: int,
    market: MarketAccounts | None = None,
    with_target_orders: bool = False,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """SwapBaseOut: tag 17 with 8 accounts by default; tag 11 with 17 (18) accounts when `market` is given."""
    return _swap_ix(
        TAG_SWAP_BASE_OUT_V2, TAG_SWAP_BASE_OUT, max_in, amount_out, pool_address, info, user_source,
        user_destination, user_owner, market, with_target_orders, program_id,
    )  # fmt: skip


# ---- venue adapter (strategies.venues.base.VenueAdapter) ------------------------------------------
def _check_form(form: str) -> str:
    if form not in Adapter.swap_forms:
        raise ValueError(f"unknown AMM v4 swap form {form!r} (one of: {', '.join(Adapter.swap_forms)})")
    return form


class Adapter:
    """Raydium AMM v4 for the registry: AmmInfo + coin and pc vaults (reserves = vault - need_take_pnl)."""

    venue = Venue.raydium_amm_v4
    pool_account_size = 752  # protocols.md: exact size of the pool account
    pool_account_sizes: tuple[int, ...] = (752,)
    mint_offsets = (400, 432)  # where the pool account holds mint a and mint b
    executable: str | None = None
    cache_exact = True  # the cache row's integers are the exact state
    priced = True
    # "v2": tags 16/17, 8 accounts (added 2025-09-22: older deployments reject it with
    # InvalidInstructionData); "legacy": tags 9/11 with the pool's market accounts (17). protocols.md §1.5.
    swap_forms: tuple[str, ...] = ("v2", "legacy")
    slippage_errors = frozenset({30})  # AmmError::ExceededSlippage (raydium-amm program/src/error.rs)
    tick_capacity = 0

    def pool_keys(self, data: bytes) -> bytes:
        return amm_keys_bytes(data)

    def decode_static(self, data: bytes, program_id: Pubkey) -> AmmInfo:
        return decode_amm_info(data, program_id, program_id)

    def read_dynamic(self, data: bytes) -> tuple[int, int, int, int, int, int]:
        return read_amm_dynamic(data)

    def mints(self, static: AmmInfo) -> tuple[Pubkey, Pubkey]:
        return static.coin_vault_mint, static.pc_vault_mint

    def dependencies(self, static: AmmInfo, program_id: Pubkey) -> list[Dependency]:
        return [
            Dependency(static.coin_vault, ROLE_VAULT_A, TOKEN_PROGRAM_ID),
            Dependency(static.pc_vault, ROLE_VAULT_B, TOKEN_PROGRAM_ID),
        ]

    def tick_arrays(self, static: Any, dynamic: Any, pool: Pubkey, program_id: Pubkey) -> dict[int, Pubkey]:
        return {}

    def decode_account(self, role: int, data: bytes, ctx: PoolContext, tick_start: int) -> Any:
        return read_token_amount(data, ctx.mint_a_raw if role == ROLE_VAULT_A else ctx.mint_b_raw)

    def settling(
        self, pool: AccountSlot, deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot]
    ) -> bool:
        return cp_settling(pool, deps)

    def write_row(self, cache: layout.Cache, idx: int, static: AmmInfo, pool: AccountSlot,
                  deps: Mapping[int, AccountSlot], ticks: Sequence[AccountSlot], slot: int, recv_ns: int,
                  now_unix: int) -> bool:  # fmt: skip
        status, open_time, fee_num, fee_den, pnl_coin, pnl_pc = pool.value
        refused = refusal(status, open_time, now_unix)
        if refused is not None:
            raise refused
        ra, rb = deps[ROLE_VAULT_A].value - pnl_coin, deps[ROLE_VAULT_B].value - pnl_pc
        if ra <= 0 or rb <= 0:
            raise ValueError("need_take_pnl exceeds the vault")
        return layout.write_cp_pool(cache, idx, ra, rb, fee_num, fee_den, slot, recv_ns)

    def quote_state(self, static: Any, pool: AccountSlot, deps: Mapping[int, AccountSlot],
                    ticks: Sequence[AccountSlot], address: Pubkey) -> None:  # fmt: skip
        return None  # the cache row is the exact state

    def quote_in(
        self, cache: layout.Cache, idx: int, a_to_b: bool, amount_in: int, state: Any
    ) -> tuple[int, int]:
        r_in, r_out, fee_num, fee_den = cp_reserves_u(cache, idx, a_to_b)
        return swap_base_in(amount_in, r_in, r_out, fee_num, fee_den).amount_out, 0

    def quote_out(self, cache: layout.Cache, idx: int, a_to_b: bool, amount_out: int, state: Any) -> int:
        r_in, r_out, fee_num, fee_den = cp_reserves_u(cache, idx, a_to_b)
        return swap_base_out(amount_out, r_in, r_out, fee_num, fee_den).amount_in

    def form_accounts(self, static: AmmInfo, form: str) -> tuple[Pubkey, ...]:
        _check_form(form)
        return (static.market,) if form == "legacy" else ()

    def swap_leg(self, static: AmmInfo, pool: Pubkey, program_id: Pubkey, payer: Pubkey, source: Pubkey,
                 destination: Pubkey, a_to_b: bool, deps: Mapping[int, Any], *, form: str | None = None,
                 accounts: Mapping[Pubkey, FetchedAccount] | None = None) -> SwapLeg:  # fmt: skip
        form = _check_form(form or self.swap_forms[0])
        market = None
        if form == "legacy":
            fetched = (accounts or {}).get(static.market)
            if fetched is None:
                raise DecodeError("OpenBook market", f"market account {static.market} was not fetched")
            market = decode_market(fetched[1], fetched[0], static.market, static.market_program)
        # Direction is implied by the user accounts' mints.
        ix = build_swap_base_in_ix(
            pool_address=pool, info=static, user_source=source, user_destination=destination,
            user_owner=payer, amount_in=1, min_out=1, market=market, program_id=program_id,
        )  # fmt: skip
        return SwapLeg((ix,), (SWAP_ARG0_OFFSET, SWAP_ARG1_OFFSET))

    def compute_units(self) -> int:
        return 45_000

    def quote_report(self, pool: Pubkey, pool_data: bytes, owner: Pubkey, fetch: AccountFetch,
                     amount_in: int, a_to_b: bool, now_unix: int) -> dict[str, Any]:  # fmt: skip
        """AmmInfo and both vaults; coin (base) = A, pc (quote) = B."""
        info = decode_amm_info(pool_data, owner, owner)
        check_tradable(info, now_unix)
        (co, cv), (po, pv) = fetch_required(
            fetch, [info.coin_vault, info.pc_vault], ["coin_vault", "pc_vault"]
        )
        coin, pc = reserves(info, decode_token_account(cv, co).amount, decode_token_account(pv, po).amount)
        r_in, r_out = (coin, pc) if a_to_b else (pc, coin)
        q = swap_base_in(amount_in, r_in, r_out, info.swap_fee_numerator, info.swap_fee_denominator)
        new_in, new_out = r_in + q.amount_in, r_out - q.amount_out  # the whole fee stays in the pool
        after = (new_in, new_out) if a_to_b else (new_out, new_in)
        extra = {"fee_rate": f"{info.swap_fee_numerator}/{info.swap_fee_denominator}"}
        return cp_quote_report(
            self.venue, pool, a_to_b, (info.coin_vault_mint, info.pc_vault_mint),
            (info.coin_decimals, info.pc_decimals), (coin, pc), after, amount_in, q.amount_out, q.fee, extra,
        )  # fmt: skip


ADAPTER = Adapter()
