"""Byte builders for the CPMM program's accounts and our `initialize` instruction.

Used by tests, benches and the localnet server to seed pools: SPL Token mints and token accounts,
AmmConfig, PoolState and ObservationState with the real layouts (protocols.md §2.2/§2.3,
raydium-cp-swap states/{pool,config,oracle}.rs), and the `initialize` instruction documented at the
top of cpmm.c and in README.md.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

PROGRAM_ID = Pubkey.from_string("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C")
TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
AUTH_SEED = b"vault_and_lp_mint_auth_seed"

POOL_SIZE = 637
CONFIG_SIZE = 236
OBSERVATION_SIZE = 4075
TOKEN_ACCOUNT_SIZE = 165
MINT_SIZE = 82

POOL_DISCRIMINATOR = hashlib.sha256(b"account:PoolState").digest()[:8]
CONFIG_DISCRIMINATOR = hashlib.sha256(b"account:AmmConfig").digest()[:8]
OBSERVATION_DISCRIMINATOR = hashlib.sha256(b"account:ObservationState").digest()[:8]
INITIALIZE_DISCRIMINATOR = hashlib.sha256(b"global:localnet_initialize").digest()[:8]

# Pool field offsets used when tests patch state directly (protocols.md §2.2).
POOL_STATUS_OFFSET = 329
POOL_OPEN_TIME_OFFSET = 373
POOL_ENABLE_CREATOR_FEE_OFFSET = 390

_MINT = struct.Struct("<I32sQBBI32s")  # authority COption, supply, decimals, is_initialized, freeze COption
_TOKEN = struct.Struct(
    "<32s32sQI32sBIQQI32s"
)  # mint, owner, amount, delegate, state, is_native, delegated, close
_POOL_HEAD = struct.Struct("<8s" + "32s" * 10 + "BBBBB" + "Q" * 7 + "BB6sQQ")
_CONFIG = struct.Struct("<8sBBHQQQQ32s32sQ")
_OBS_HEAD = struct.Struct("<8sBH32s")
_INIT_DATA = struct.Struct("<8sQQQQBBH")
assert _INIT_DATA.size == 44 and _MINT.size == MINT_SIZE and _TOKEN.size == TOKEN_ACCOUNT_SIZE


def authority(program_id: Pubkey = PROGRAM_ID) -> tuple[Pubkey, int]:
    """The pool authority PDA and its bump."""
    return Pubkey.find_program_address([AUTH_SEED], program_id)


def mint_data(decimals: int, supply: int = 0, mint_authority: Pubkey | None = None) -> bytes:
    """An initialized 82-byte SPL mint without freeze authority."""
    auth = bytes(mint_authority) if mint_authority is not None else bytes(32)
    return _MINT.pack(1 if mint_authority is not None else 0, auth, supply, decimals, 1, 0, bytes(32))


def token_account_data(mint: Pubkey, owner: Pubkey, amount: int) -> bytes:
    """An initialized 165-byte SPL token account (no delegate, not native, no close authority)."""
    return _TOKEN.pack(bytes(mint), bytes(owner), amount, 0, bytes(32), 1, 0, 0, 0, 0, bytes(32))


def amm_config_data(
    trade_fee_rate: int, protocol_fee_rate: int, fund_fee_rate: int, index: int = 0, creator_fee_rate: int = 0
) -> bytes:
    """A 236-byte AmmConfig with the given rates (parts per 1,000,000)."""
    head = _CONFIG.pack(
        CONFIG_DISCRIMINATOR,
        0,
        0,
        index,
        trade_fee_rate,
        protocol_fee_rate,
        fund_fee_rate,
        0,
        bytes(32),
        bytes(32),
        creator_fee_rate,
    )
    return head + bytes(CONFIG_SIZE - len(head))


@dataclass(frozen=True)
class PoolFields:
    """Every PoolState field a test may want to set (defaults: a fresh, open pool)."""

    amm_config: Pubkey
    token_0_vault: Pubkey
    token_1_vault: Pubkey
    token_0_mint: Pubkey
    token_1_mint: Pubkey
    observation_key: Pubkey
    auth_bump: int
    pool_creator: Pubkey = Pubkey.default()
    lp_mint: Pubkey = Pubkey.default()
    token_0_program: Pubkey = TOKEN_PROGRAM_ID
    token_1_program: Pubkey = TOKEN_PROGRAM_ID
    status: int = 0
    lp_mint_decimals: int = 9
    mint_0_decimals: int = 9
    mint_1_decimals: int = 6
    lp_supply: int = 0
    protocol_fees_token_0: int = 0
    protocol_fees_token_1: int = 0
    fund_fees_token_0: int = 0
    fund_fees_token_1: int = 0
    open_time: int = 0
    recent_epoch: int = 0
    creator_fee_on: int = 0
    enable_creator_fee: bool = False
    creator_fees_token_0: int = 0
    creator_fees_token_1: int = 0


def pool_data(f: PoolFields) -> bytes:
    """A 637-byte PoolState."""
    keys = (
        f.amm_config,
        f.pool_creator,
        f.token_0_vault,
        f.token_1_vault,
        f.lp_mint,
        f.token_0_mint,
        f.token_1_mint,
        f.token_0_program,
        f.token_1_program,
        f.observation_key,
    )
    head = _POOL_HEAD.pack(
        POOL_DISCRIMINATOR,
        *(bytes(k) for k in keys),
        f.auth_bump,
        f.status,
        f.lp_mint_decimals,
        f.mint_0_decimals,
        f.mint_1_decimals,
        f.lp_supply,
        f.protocol_fees_token_0,
        f.protocol_fees_token_1,
        f.fund_fees_token_0,
        f.fund_fees_token_1,
        f.open_time,
        f.recent_epoch,
        f.creator_fee_on,
        int(f.enable_creator_fee),
        bytes(6),
        f.creator_fees_token_0,
        f.creator_fees_token_1,
    )
    return head + bytes(POOL_SIZE - len(head))


def observation_data(pool: Pubkey) -> bytes:
    """A fresh (not yet initialized) 4075-byte ObservationState for ``pool``."""
    head = _OBS_HEAD.pack(OBSERVATION_DISCRIMINATOR, 0, 0, bytes(pool))
    return head + bytes(OBSERVATION_SIZE - len(head))


def account(data: bytes, owner: Pubkey, lamports: int | None = None, executable: bool = False) -> Account:
    """A solders Account holding ``data`` (lamports default to a generous rent-exempt amount)."""
    if lamports is None:
        lamports = 1_000_000_000 + len(data) * 10_000
    return Account(lamports=lamports, data=data, owner=owner, executable=executable, rent_epoch=0)


def build_initialize_ix(
    *,
    creator: Pubkey,
    amm_config: Pubkey,
    pool_state: Pubkey,
    token_0_mint: Pubkey,
    token_1_mint: Pubkey,
    token_0_vault: Pubkey,
    token_1_vault: Pubkey,
    lp_mint: Pubkey,
    observation_state: Pubkey,
    trade_fee_rate: int,
    protocol_fee_rate: int,
    fund_fee_rate: int,
    open_time: int = 0,
    status: int = 0,
    config_index: int = 0,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """Our `initialize` (not Raydium's): writes PoolState + ObservationState (+ AmmConfig if fresh).

    The three state accounts must already exist, be owned by ``program_id`` and be zeroed; the vaults
    must be token accounts of the two mints owned by the authority PDA.
    """
    auth, bump = authority(program_id)
    data = _INIT_DATA.pack(
        INITIALIZE_DISCRIMINATOR,
        trade_fee_rate,
        protocol_fee_rate,
        fund_fee_rate,
        open_time,
        bump,
        status,
        config_index,
    )
    metas = [
        AccountMeta(creator, is_signer=True, is_writable=False),
        AccountMeta(amm_config, is_signer=False, is_writable=True),
        AccountMeta(pool_state, is_signer=False, is_writable=True),
        AccountMeta(token_0_mint, is_signer=False, is_writable=False),
        AccountMeta(token_1_mint, is_signer=False, is_writable=False),
        AccountMeta(token_0_vault, is_signer=False, is_writable=False),
        AccountMeta(token_1_vault, is_signer=False, is_writable=False),
        AccountMeta(lp_mint, is_signer=False, is_writable=False),
        AccountMeta(observation_state, is_signer=False, is_writable=True),
        AccountMeta(auth, is_signer=False, is_writable=False),
    ]
    return Instruction(program_id, data, metas)


@dataclass(frozen=True)
class PoolSetup:
    """Addresses of a ready-to-swap CPMM pool and every account to write for it (``accounts``)."""

    pool: Pubkey
    amm_config: Pubkey
    observation: Pubkey
    authority: Pubkey
    mint0: Pubkey
    mint1: Pubkey
    vault0: Pubkey
    vault1: Pubkey
    accounts: dict[Pubkey, Account]


def make_pool(
    *,
    mint0: Pubkey,
    mint1: Pubkey,
    reserve0: int,
    reserve1: int,
    trade_fee_rate: int = 2500,
    protocol_fee_rate: int = 120_000,
    fund_fee_rate: int = 40_000,
    decimals0: int = 9,
    decimals1: int = 6,
    config_index: int = 0,
    open_time: int = 0,
    with_mints: bool = True,
    program_id: Pubkey = PROGRAM_ID,
) -> PoolSetup:
    """Every account of a fresh CPMM pool holding ``reserve0``/``reserve1``, at the real PDAs.

    Addresses follow the real program's seeds (protocols.md §2.1): config ["amm_config", index u16 BE],
    pool ["pool", config, mint0, mint1], vaults ["pool_vault", pool, mint], observation
    ["observation", pool]. Mints are written too unless ``with_mints`` is False (then they must exist).
    Write ``accounts`` with `set_account` (LiteSVM or the localnet server); no fees are owed yet.
    """
    if bytes(mint0) >= bytes(mint1):
        raise ValueError("mint0 must sort before mint1 (bytewise), as the program requires")
    auth, bump = authority(program_id)
    config = Pubkey.find_program_address([b"amm_config", config_index.to_bytes(2, "big")], program_id)[0]
    pool = Pubkey.find_program_address([b"pool", bytes(config), bytes(mint0), bytes(mint1)], program_id)[0]
    vault0 = Pubkey.find_program_address([b"pool_vault", bytes(pool), bytes(mint0)], program_id)[0]
    vault1 = Pubkey.find_program_address([b"pool_vault", bytes(pool), bytes(mint1)], program_id)[0]
    observation = Pubkey.find_program_address([b"observation", bytes(pool)], program_id)[0]
    fields = PoolFields(
        amm_config=config,
        token_0_vault=vault0,
        token_1_vault=vault1,
        token_0_mint=mint0,
        token_1_mint=mint1,
        observation_key=observation,
        auth_bump=bump,
        mint_0_decimals=decimals0,
        mint_1_decimals=decimals1,
        open_time=open_time,
    )
    accounts = {
        config: account(
            amm_config_data(trade_fee_rate, protocol_fee_rate, fund_fee_rate, config_index), program_id
        ),
        pool: account(pool_data(fields), program_id),
        observation: account(observation_data(pool), program_id),
        vault0: account(token_account_data(mint0, auth, reserve0), TOKEN_PROGRAM_ID),
        vault1: account(token_account_data(mint1, auth, reserve1), TOKEN_PROGRAM_ID),
    }
    if with_mints:
        accounts[mint0] = account(mint_data(decimals0), TOKEN_PROGRAM_ID)
        accounts[mint1] = account(mint_data(decimals1), TOKEN_PROGRAM_ID)
    return PoolSetup(pool, config, observation, auth, mint0, mint1, vault0, vault1, accounts)
