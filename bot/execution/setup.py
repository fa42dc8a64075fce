"""Set-up phase, never on the hot path: token accounts, wSOL working balance, lookup tables.

Routes whose token accounts are missing are excluded until created (ATA rent exceeds typical profit,
so the bot pays it once, here). The SOL reserve for fees is never wrapped or traded.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from solders.address_lookup_table_account import (
    ID as ALT_PROGRAM,
)
from solders.address_lookup_table_account import (
    AddressLookupTable,
    AddressLookupTableAccount,
    derive_lookup_table_address,
)
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction
from spl.token.instructions import (
    SyncNativeParams,
    create_idempotent_associated_token_account,
    get_associated_token_address,
    sync_native,
)

from bot.errors import RuntimeFailure
from bot.keys import Wallet
from rpc.client import RpcMethods
from rpc.errors import RpcError
from rpc.pubsub import PubSubClient
from strategies.venues.spl import token_amount_or_zero

WSOL_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
TOKEN_PROGRAM = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
SYSTEM_PROGRAM = Pubkey.from_string("11111111111111111111111111111111")
ALT_MAX_ADDRESSES = 256
ALT_EXTEND_CHUNK = 20  # addresses per extend transaction (stays far below 1,232 bytes)


class SetupFailed(RuntimeFailure):
    """A set-up transaction failed or did not confirm."""


@dataclass(frozen=True, slots=True)
class Confirmed:
    signature: str
    slot: int


async def send_and_confirm(
    rpc: RpcMethods,
    pubsub: PubSubClient,
    wallet: Wallet,
    instructions: Sequence[Instruction],
    *,
    what: str,
    lookup_tables: Sequence[AddressLookupTableAccount] = (),
    timeout_s: float = 30.0,
) -> Confirmed:
    """Sign, send with preflight, and wait for `confirmed` through signatureSubscribe."""
    bh = await rpc.get_latest_blockhash(commitment="confirmed")
    msg = MessageV0.try_compile(
        wallet.pubkey, list(instructions), list(lookup_tables), Hash.from_string(bh.blockhash)
    )
    tx = VersionedTransaction(msg, [wallet.keypair])
    sig = str(tx.signatures[0])
    result = await pubsub.signature_subscribe(sig, "confirmed")  # before sending: no race with landing
    try:
        await rpc.send_transaction(bytes(tx), skip_preflight=False, preflight_commitment="processed")
    except RpcError as err:
        result.cancel()
        raise SetupFailed(f"{what}: {err}") from err
    try:
        async with asyncio.timeout(timeout_s):
            res = await result
    except TimeoutError:
        # The notification can be lost across a reconnect: ask once before giving up.
        statuses = await rpc.get_signature_statuses([sig])
        st = statuses.statuses[0]
        if st is None or st.err is not None:
            raise SetupFailed(f"{what}: transaction {sig} did not confirm within {timeout_s:.0f} s") from None
        return Confirmed(sig, st.slot)
    if res.err is not None:
        raise SetupFailed(f"{what}: transaction {sig} failed: {res.err}")
    return Confirmed(sig, res.slot)


def associated_token_accounts(wallet: Wallet, mints: Sequence[Pubkey]) -> dict[Pubkey, Pubkey]:
    """The wallet's associated token account address per mint (whether it exists or not)."""
    return {m: get_associated_token_address(wallet.pubkey, m) for m in mints}


async def existing_token_accounts(
    rpc: RpcMethods, wallet: Wallet, mints: Sequence[Pubkey]
) -> dict[Pubkey, Pubkey]:
    """The wallet's associated token accounts that exist (read only: what dry-run uses)."""
    atas = {m: get_associated_token_address(wallet.pubkey, m) for m in mints}
    found = await rpc.get_multiple_accounts([str(a) for a in atas.values()], commitment="confirmed")
    return {m: a for (m, a), acc in zip(atas.items(), found.accounts, strict=True) if acc is not None}


async def ensure_token_accounts(
    rpc: RpcMethods, pubsub: PubSubClient, wallet: Wallet, mints: Sequence[Pubkey]
) -> dict[Pubkey, Pubkey]:
    """The wallet's associated token account per mint, creating the missing ones (idempotent)."""
    atas = {m: get_associated_token_address(wallet.pubkey, m) for m in mints}
    found = await rpc.get_multiple_accounts([str(a) for a in atas.values()], commitment="confirmed")
    missing = [m for (m, _), acc in zip(atas.items(), found.accounts, strict=True) if acc is None]
    for i in range(0, len(missing), 8):
        ixs = [
            create_idempotent_associated_token_account(wallet.pubkey, wallet.pubkey, m)
            for m in missing[i : i + 8]
        ]
        await send_and_confirm(rpc, pubsub, wallet, ixs, what="create token accounts")
    return atas


async def wrap_sol(
    rpc: RpcMethods, pubsub: PubSubClient, wallet: Wallet, wsol_ata: Pubkey, *, working: int, reserve: int
) -> int:
    """Top the wSOL account up to `working` lamports without touching the SOL `reserve`. Returns its balance."""
    sol = (await rpc.get_balance(str(wallet.pubkey), commitment="confirmed")).lamports
    acc = (await rpc.get_account_info(str(wsol_ata), commitment="confirmed")).account
    have = token_amount_or_zero(acc.data if acc is not None else None)
    need = max(0, working - have)
    spendable = max(0, sol - reserve)
    amount = min(need, spendable)
    if amount > 0:
        await send_and_confirm(
            rpc,
            pubsub,
            wallet,
            [
                transfer(TransferParams(from_pubkey=wallet.pubkey, to_pubkey=wsol_ata, lamports=amount)),
                sync_native(SyncNativeParams(TOKEN_PROGRAM, wsol_ata)),
            ],
            what="wrap SOL",
        )
    return have + amount


def alt_create_ix(table: Pubkey, authority: Pubkey, recent_slot: int, bump: int) -> Instruction:
    # AddressLookupTable CreateLookupTable = bincode u32 tag 0, recent_slot u64, bump u8
    # (solana-program address_lookup_table/instruction.rs).
    return Instruction(
        ALT_PROGRAM,
        struct.pack("<IQB", 0, recent_slot, bump),
        [
            AccountMeta(table, False, True),
            AccountMeta(authority, True, False),
            AccountMeta(authority, True, True),
            AccountMeta(SYSTEM_PROGRAM, False, False),
        ],
    )


def alt_extend_ix(table: Pubkey, authority: Pubkey, addresses: Sequence[Pubkey]) -> Instruction:
    # ExtendLookupTable = u32 tag 2, Vec<Pubkey> (u64 length + keys).
    data = struct.pack("<IQ", 2, len(addresses)) + b"".join(bytes(a) for a in addresses)
    return Instruction(
        ALT_PROGRAM,
        data,
        [
            AccountMeta(table, False, True),
            AccountMeta(authority, True, False),
            AccountMeta(authority, True, True),
            AccountMeta(SYSTEM_PROGRAM, False, False),
        ],
    )


async def create_lookup_tables(
    rpc: RpcMethods,
    pubsub: PubSubClient,
    wallet: Wallet,
    addresses: Sequence[Pubkey],
    wait_slot: Callable[[int], Awaitable[object]],
) -> list[AddressLookupTableAccount]:
    """New lookup tables holding `addresses` (256 per table), usable from the slot after the last extend."""
    tables: list[AddressLookupTableAccount] = []
    last_slot = 0
    last_recent = -1
    for start in range(0, len(addresses), ALT_MAX_ADDRESSES):
        chunk = list(addresses[start : start + ALT_MAX_ADDRESSES])
        # The table's address derives from (authority, recent slot): each table needs a slot of its own.
        recent = await rpc.get_slot(commitment="finalized")
        while recent <= last_recent:
            await wait_slot(last_recent + 33)  # finalized trails the tip by about 32 slots
            recent = await rpc.get_slot(commitment="finalized")
        last_recent = recent
        table, bump = derive_lookup_table_address(wallet.pubkey, recent)
        await send_and_confirm(
            rpc,
            pubsub,
            wallet,
            [alt_create_ix(table, wallet.pubkey, recent, bump)],
            what="create lookup table",
        )
        for i in range(0, len(chunk), ALT_EXTEND_CHUNK):
            done = await send_and_confirm(
                rpc,
                pubsub,
                wallet,
                [alt_extend_ix(table, wallet.pubkey, chunk[i : i + ALT_EXTEND_CHUNK])],
                what="extend lookup table",
            )
            last_slot = max(last_slot, done.slot)
        tables.append(AddressLookupTableAccount(table, chunk))
    # Addresses appended in slot S are usable from slot S + 1.
    if tables:
        await wait_slot(last_slot + 1)
    return tables


async def extend_lookup_table(
    rpc: RpcMethods,
    pubsub: PubSubClient,
    wallet: Wallet,
    table: AddressLookupTableAccount,
    addresses: Sequence[Pubkey],
    wait_slot: Callable[[int], Awaitable[object]],
) -> AddressLookupTableAccount:
    """Append `addresses` to an existing table of ours (up to 256 in all); usable from the next slot."""
    last_slot = 0
    for i in range(0, len(addresses), ALT_EXTEND_CHUNK):
        done = await send_and_confirm(rpc, pubsub, wallet, [alt_extend_ix(table.key, wallet.pubkey,
                                      addresses[i : i + ALT_EXTEND_CHUNK])], what="extend lookup table")  # fmt: skip
        last_slot = max(last_slot, done.slot)
    if addresses:
        await wait_slot(last_slot + 1)
    return AddressLookupTableAccount(table.key, [*table.addresses, *addresses])


async def load_lookup_tables(
    rpc: RpcMethods, wallet: Wallet, keys: Sequence[str]
) -> dict[str, AddressLookupTableAccount]:
    """The on-chain contents of recorded tables that still exist, are ours and are not deactivated
    (a table recorded on another cluster, or closed, is not returned)."""
    if not keys:
        return {}
    res = await rpc.get_multiple_accounts(list(keys), commitment="confirmed")
    out: dict[str, AddressLookupTableAccount] = {}
    for key, acc in zip(keys, res.accounts, strict=True):
        if acc is None or acc.owner != str(ALT_PROGRAM):
            continue
        try:
            table = AddressLookupTable.deserialize(acc.data)
        except ValueError:
            continue
        meta = table.meta
        if meta.authority != wallet.pubkey or meta.deactivation_slot != 2**64 - 1:
            continue
        out[key] = AddressLookupTableAccount(Pubkey.from_string(key), list(table.addresses))
    return out
