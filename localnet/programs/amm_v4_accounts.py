"""Byte builders for the AMM v4 program's accounts, our `initialize` instruction, and its test builds.

Used by tests, benches and (later) localnet scenarios to seed pools: the 752-byte AmmInfo at the real
offsets (protocols.md §1.2, raydium-amm program/src/state.rs), SPL mints and token accounts (shared with
cpmm_accounts), and OpenBook placeholder accounts for the legacy account list: a 388-byte MarketState
and a 3,228-byte OpenOrders with their real headers (serum-dex state.rs), empty bids / asks / event
queue / request queue, and the market's two vaults. Nothing here imports the bot's own AMM v4 code:
tests compare the two.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from localnet.programs import PROGRAMS_DIR
from localnet.programs.cpmm_accounts import TOKEN_PROGRAM_ID, account, mint_data, token_account_data

PROGRAM_ID = Pubkey.from_string("675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8")
OPENBOOK_PROGRAM_ID = Pubkey.from_string("srmqPvymJeFKQ4zGQed1GFppgkRHL9kaELCbyksJtPX")
AUTH_SEED = b"amm authority"

AMM_INFO_SIZE = 752
MARKET_SIZE = 388
OPEN_ORDERS_SIZE = 3228
TARGET_ORDERS_SIZE = 2208
QUEUE_PLACEHOLDER_SIZE = 84

TAG_INITIALIZE = 240
# AmmInfo offsets tests patch directly (protocols.md §1.2).
STATUS_OFFSET = 0
SWAP_FEE_OFFSET = 176
NEED_TAKE_PNL_OFFSET = 192
POOL_OPEN_TIME_OFFSET = 224
RECENT_EPOCH_OFFSET = 736

# AmmStatus (state.rs).
STATUS_INITIALIZED = 1
STATUS_DISABLED = 2
STATUS_SWAP_ONLY = 6
STATUS_WAITING_TRADE = 7

# Test builds of amm_v4.c (compile-time defines; see README "AMM v4 builds").
BUILD_DEFINES: dict[str, tuple[str, ...]] = {
    "full": (),
    "legacy-only": ("AMM_V4_NO_V2",),
    "v2-only": ("AMM_V4_NO_LEGACY",),
    "neither": ("AMM_V4_NO_V2", "AMM_V4_NO_LEGACY"),
}

# AmmInfo, repr(C, packed): 29 u64 (status .. pool_open_time), [u64;2] padding, orderbook_to_init_time,
# two u128, swap_acc_pc_fee, two u128, swap_acc_coin_fee, 9 pubkeys, [u64;8] padding1, amm_owner,
# lp_amount, client_order_id, recent_epoch, padding2.
_AMM_INFO = struct.Struct("<" + "Q" * 29 + "16sQ16s16sQ16s16sQ" + "32s" * 9 + "64s32sQQQQ")
# serum-dex: "serum" + account_flags u64 + body + "padding".
_MARKET_BODY = struct.Struct("<Q32sQ32s32s32sQQ32sQQQ32s32s32s32sQQQQ")
_OPEN_ORDERS_HEAD = struct.Struct("<Q32s32sQQQQ16s16s")
_INIT_DATA = struct.Struct("<BBBQQQ")
assert _AMM_INFO.size == AMM_INFO_SIZE and _INIT_DATA.size == 27
assert 5 + _MARKET_BODY.size + 7 == MARKET_SIZE

# serum-dex AccountFlag bits.
_FLAG_INITIALIZED, _FLAG_MARKET, _FLAG_OPEN_ORDERS = 1, 2, 4
_FLAG_REQUEST_QUEUE, _FLAG_EVENT_QUEUE, _FLAG_BIDS, _FLAG_ASKS = 16, 8, 32, 64


def authority(program_id: Pubkey = PROGRAM_ID) -> tuple[Pubkey, int]:
    """The pool authority PDA ["amm authority", [nonce]] and its nonce (the canonical bump)."""
    return Pubkey.find_program_address([AUTH_SEED], program_id)


@dataclass(frozen=True)
class AmmInfoFields:
    """Every AmmInfo field (defaults: AmmInfo::initialize's, a SwapOnly pool at 25/10000)."""

    nonce: int
    coin_vault: Pubkey
    pc_vault: Pubkey
    coin_vault_mint: Pubkey
    pc_vault_mint: Pubkey
    open_orders: Pubkey
    market: Pubkey
    market_program: Pubkey
    target_orders: Pubkey
    lp_mint: Pubkey = Pubkey.default()
    amm_owner: Pubkey = Pubkey.default()
    status: int = STATUS_SWAP_ONLY
    order_num: int = 7
    depth: int = 3
    coin_decimals: int = 9
    pc_decimals: int = 6
    state: int = 1
    reset_flag: int = 1
    min_size: int = 0
    vol_max_cut_ratio: int = 500
    amount_wave: int = 5_000_000
    coin_lot_size: int = 0
    pc_lot_size: int = 0
    min_price_multiplier: int = 1
    max_price_multiplier: int = 1_000_000_000
    sys_decimal_value: int = 1_000_000_000
    min_separate_numerator: int = 5
    min_separate_denominator: int = 10_000
    trade_fee_numerator: int = 25
    trade_fee_denominator: int = 10_000
    pnl_numerator: int = 12
    pnl_denominator: int = 100
    swap_fee_numerator: int = 25
    swap_fee_denominator: int = 10_000
    need_take_pnl_coin: int = 0
    need_take_pnl_pc: int = 0
    total_pnl_pc: int = 0
    total_pnl_coin: int = 0
    pool_open_time: int = 0
    orderbook_to_init_time: int = 0
    swap_acc_pc_fee: int = 0
    swap_acc_coin_fee: int = 0
    lp_amount: int = 0
    client_order_id: int = 0
    recent_epoch: int = 0


def amm_info_data(f: AmmInfoFields) -> bytes:
    """The 752-byte AmmInfo (deprecated u128 counters and paddings zero)."""
    head = (
        f.status, f.nonce, f.order_num, f.depth, f.coin_decimals, f.pc_decimals, f.state, f.reset_flag,
        f.min_size, f.vol_max_cut_ratio, f.amount_wave, f.coin_lot_size, f.pc_lot_size,
        f.min_price_multiplier, f.max_price_multiplier, f.sys_decimal_value, f.min_separate_numerator,
        f.min_separate_denominator,
        f.trade_fee_numerator, f.trade_fee_denominator, f.pnl_numerator, f.pnl_denominator,
        f.swap_fee_numerator, f.swap_fee_denominator, f.need_take_pnl_coin, f.need_take_pnl_pc,
        f.total_pnl_pc, f.total_pnl_coin, f.pool_open_time,
    )  # fmt: skip
    keys = (
        f.coin_vault, f.pc_vault, f.coin_vault_mint, f.pc_vault_mint, f.lp_mint, f.open_orders, f.market,
        f.market_program, f.target_orders,
    )  # fmt: skip
    u128 = bytes(16)
    return _AMM_INFO.pack(
        *head, bytes(16), f.orderbook_to_init_time, u128, u128, f.swap_acc_pc_fee, u128, u128,
        f.swap_acc_coin_fee, *(bytes(k) for k in keys), bytes(64), bytes(f.amm_owner), f.lp_amount,
        f.client_order_id, f.recent_epoch, 0,
    )  # fmt: skip


@dataclass(frozen=True)
class MarketKeys:
    """The OpenBook accounts of the legacy list (field names as strategies' `MarketAccounts`)."""

    market_program: Pubkey
    market: Pubkey
    bids: Pubkey
    asks: Pubkey
    event_queue: Pubkey
    coin_vault: Pubkey
    pc_vault: Pubkey
    vault_signer: Pubkey
    request_queue: Pubkey = field(default=Pubkey.default(), compare=False)
    vault_signer_nonce: int = field(default=0, compare=False)


def _serum(flags: int, body: bytes) -> bytes:
    return b"serum" + struct.pack("<Q", flags) + body + b"padding"


def market_data(m: MarketKeys, coin_mint: Pubkey, pc_mint: Pubkey) -> bytes:
    """A 388-byte OpenBook MarketState naming ``m``'s queues and vaults (lot sizes 1, no fees)."""
    body = _MARKET_BODY.pack(
        _FLAG_INITIALIZED | _FLAG_MARKET, bytes(m.market), m.vault_signer_nonce, bytes(coin_mint),
        bytes(pc_mint), bytes(m.coin_vault), 0, 0, bytes(m.pc_vault), 0, 0, 0, bytes(m.request_queue),
        bytes(m.event_queue), bytes(m.bids), bytes(m.asks), 1, 1, 0, 0,
    )  # fmt: skip
    return b"serum" + body + b"padding"


def open_orders_data(market: Pubkey, owner: Pubkey) -> bytes:
    """A 3,228-byte OpenBook OpenOrders of ``owner`` (the AMM authority) on ``market``, holding nothing."""
    head = _OPEN_ORDERS_HEAD.pack(
        _FLAG_INITIALIZED | _FLAG_OPEN_ORDERS,
        bytes(market),
        bytes(owner),
        0,
        0,
        0,
        0,
        b"\xff" * 16,
        bytes(16),
    )
    body = head + bytes(OPEN_ORDERS_SIZE - 5 - 7 - len(head))
    return b"serum" + body + b"padding"


def queue_placeholder_data(flags: int) -> bytes:
    """An empty bids / asks / event queue / request queue stand-in (never read: swaps do not execute them)."""
    return _serum(_FLAG_INITIALIZED | flags, bytes(QUEUE_PLACEHOLDER_SIZE - 5 - 8 - 7))


def target_orders_data(amm: Pubkey) -> bytes:
    """A 2,208-byte TargetOrders owned (field `owner`) by ``amm``, otherwise zero."""
    return bytes(amm) + bytes(TARGET_ORDERS_SIZE - 32)


def vault_signer(market: Pubkey, market_program: Pubkey) -> tuple[Pubkey, int]:
    """OpenBook's vault signer: create_program_address([market, nonce u64 LE]) for the first valid nonce."""
    for nonce in range(256):
        # create_program_address by its definition: an off-curve sha256(seeds | program | marker)
        seeds = bytes(market) + nonce.to_bytes(8, "little") + bytes(market_program) + b"ProgramDerivedAddress"
        candidate = Pubkey(hashlib.sha256(seeds).digest())
        if not candidate.is_on_curve():
            return candidate, nonce
    raise ValueError(f"no vault signer nonce below 256 for market {market}")


def market_keys(market: Pubkey, market_program: Pubkey = OPENBOOK_PROGRAM_ID) -> MarketKeys:
    """Deterministic placeholder addresses for a market's queues and vaults."""

    def derived(tag: bytes) -> Pubkey:
        return Pubkey.find_program_address([b"localnet", bytes(market), tag], market_program)[0]

    signer, nonce = vault_signer(market, market_program)
    return MarketKeys(
        market_program=market_program, market=market, bids=derived(b"bids"), asks=derived(b"asks"),
        event_queue=derived(b"event_queue"), coin_vault=derived(b"coin_vault"), pc_vault=derived(b"pc_vault"),
        vault_signer=signer, request_queue=derived(b"request_queue"), vault_signer_nonce=nonce,
    )  # fmt: skip


@dataclass(frozen=True)
class PoolSetup:
    """Addresses of a ready-to-swap AMM v4 pool and every account to write for it (``accounts``)."""

    amm: Pubkey
    authority: Pubkey
    nonce: int
    coin_mint: Pubkey
    pc_mint: Pubkey
    coin_vault: Pubkey
    pc_vault: Pubkey
    lp_mint: Pubkey
    open_orders: Pubkey
    target_orders: Pubkey
    market: MarketKeys
    fields: AmmInfoFields
    accounts: dict[Pubkey, Account]


def associated_address(market: Pubkey, seed: bytes, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """The real program's associated accounts: find_program_address([program_id, market, seed])."""
    return Pubkey.find_program_address([bytes(program_id), bytes(market), seed], program_id)[0]


def make_pool(
    *,
    coin_mint: Pubkey,
    pc_mint: Pubkey,
    coin_reserve: int,
    pc_reserve: int,
    swap_fee_numerator: int = 25,
    swap_fee_denominator: int = 10_000,
    need_take_pnl_coin: int = 0,
    need_take_pnl_pc: int = 0,
    status: int = STATUS_SWAP_ONLY,
    pool_open_time: int = 0,
    coin_decimals: int = 9,
    pc_decimals: int = 6,
    market: Pubkey | None = None,
    market_program: Pubkey = OPENBOOK_PROGRAM_ID,
    with_mints: bool = True,
    program_id: Pubkey = PROGRAM_ID,
) -> PoolSetup:
    """Every account of an AMM v4 pool whose reserves (vault − need_take_pnl) are the given ones.

    Addresses follow the real program's associated seeds ([program_id, market, "amm_associated_seed"]
    etc., processor.rs); ``market`` defaults to an address derived from the two mints. The OpenBook
    accounts of the legacy list are written too (market, open orders, queues, market vaults), owned by
    ``market_program``. Mints are written unless ``with_mints`` is False. Write ``accounts`` with
    `set_account` (LiteSVM or the localnet server).
    """
    auth, nonce = authority(program_id)
    if market is None:
        market = Pubkey.find_program_address(
            [b"localnet market", bytes(coin_mint), bytes(pc_mint)], market_program
        )[0]
    keys = market_keys(market, market_program)
    amm = associated_address(market, b"amm_associated_seed", program_id)
    coin_vault = associated_address(market, b"coin_vault_associated_seed", program_id)
    pc_vault = associated_address(market, b"pc_vault_associated_seed", program_id)
    lp_mint = associated_address(market, b"lp_mint_associated_seed", program_id)
    open_orders = associated_address(market, b"open_order_associated_seed", program_id)
    target_orders = associated_address(market, b"target_associated_seed", program_id)
    fields = AmmInfoFields(
        nonce=nonce, coin_vault=coin_vault, pc_vault=pc_vault, coin_vault_mint=coin_mint,
        pc_vault_mint=pc_mint, open_orders=open_orders, market=market, market_program=market_program,
        target_orders=target_orders,
        lp_mint=lp_mint, status=status, coin_decimals=coin_decimals, pc_decimals=pc_decimals,
        sys_decimal_value=10 ** max(coin_decimals, pc_decimals), swap_fee_numerator=swap_fee_numerator,
        swap_fee_denominator=swap_fee_denominator, need_take_pnl_coin=need_take_pnl_coin,
        need_take_pnl_pc=need_take_pnl_pc, pool_open_time=pool_open_time,
    )  # fmt: skip
    tok = TOKEN_PROGRAM_ID
    accounts = {
        amm: account(amm_info_data(fields), program_id),
        coin_vault: account(token_account_data(coin_mint, auth, coin_reserve + need_take_pnl_coin), tok),
        pc_vault: account(token_account_data(pc_mint, auth, pc_reserve + need_take_pnl_pc), tok),
        lp_mint: account(mint_data(coin_decimals, 0, auth), tok),
        open_orders: account(open_orders_data(market, auth), market_program),
        target_orders: account(target_orders_data(amm), program_id),
        market: account(market_data(keys, coin_mint, pc_mint), market_program),
        keys.bids: account(queue_placeholder_data(_FLAG_BIDS), market_program),
        keys.asks: account(queue_placeholder_data(_FLAG_ASKS), market_program),
        keys.event_queue: account(queue_placeholder_data(_FLAG_EVENT_QUEUE), market_program),
        keys.request_queue: account(queue_placeholder_data(_FLAG_REQUEST_QUEUE), market_program),
        keys.coin_vault: account(token_account_data(coin_mint, keys.vault_signer, 0), tok),
        keys.pc_vault: account(token_account_data(pc_mint, keys.vault_signer, 0), tok),
    }
    if with_mints:
        accounts[coin_mint] = account(mint_data(coin_decimals), tok)
        accounts[pc_mint] = account(mint_data(pc_decimals), tok)
    return PoolSetup(
        amm, auth, nonce, coin_mint, pc_mint, coin_vault, pc_vault, lp_mint, open_orders, target_orders, keys,
        fields, accounts,
    )  # fmt: skip


def build_initialize_ix(
    *,
    creator: Pubkey,
    amm: Pubkey,
    coin_mint: Pubkey,
    pc_mint: Pubkey,
    coin_vault: Pubkey,
    pc_vault: Pubkey,
    lp_mint: Pubkey,
    open_orders: Pubkey,
    market: Pubkey,
    market_program: Pubkey,
    target_orders: Pubkey,
    swap_fee_numerator: int = 25,
    swap_fee_denominator: int = 10_000,
    status: int = STATUS_SWAP_ONLY,
    open_time: int = 0,
    nonce: int | None = None,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """Our `initialize` (tag 240, not Raydium's Initialize2): writes AmmInfo into a zeroed 752-byte account.

    ``amm`` must already exist, be owned by ``program_id`` and be all zero; the vaults must be SPL token
    accounts of the two mints owned by the authority PDA (nonce defaults to its canonical bump).
    """
    if nonce is None:
        nonce = authority(program_id)[1]
    auth = Pubkey.create_program_address([AUTH_SEED, bytes([nonce])], program_id)
    data = _INIT_DATA.pack(TAG_INITIALIZE, nonce, status, open_time, swap_fee_numerator, swap_fee_denominator)
    keys = (creator, amm, auth, coin_mint, pc_mint, coin_vault, pc_vault, lp_mint, open_orders, market,
            market_program, target_orders)  # fmt: skip
    metas = [AccountMeta(k, is_signer=i == 0, is_writable=i == 1) for i, k in enumerate(keys)]
    return Instruction(program_id, data, metas)


def build_variant(variant: str, out_dir: Path) -> Path:
    """Compile a test build of amm_v4.c (a key of BUILD_DEFINES) into ``out_dir``; returns its .so path.

    Needs clang-16 (`make toolchain`); about a second. Only "full" is committed (localnet/programs/amm_v4.so).
    """
    from localnet.sbf.build import build_program

    if variant not in BUILD_DEFINES:
        raise ValueError(f"unknown AMM v4 build {variant!r}; choose one of {', '.join(BUILD_DEFINES)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    return build_program(PROGRAMS_DIR / "amm_v4.c", out_dir, BUILD_DEFINES[variant])
