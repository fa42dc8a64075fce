"""`solarb cleanup`: deactivate, then close, the lookup tables set-up created and the bot no longer uses,
returning their rent to the wallet.

The ledger records every table set-up created (and when the bot last used it). A table unused for
`--unused-for` is deactivated; a deactivated table can be closed once its deactivation slot has left
the SlotHashes sysvar (512 slots, about 3.5 minutes on mainnet), so a second `cleanup` closes what the
first deactivated. Tables are only ever touched when the ledger says this wallet is their authority.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from solders.address_lookup_table_account import ID as ALT_PROGRAM
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from bot.commands.logs import parse_since
from bot.errors import RuntimeFailure, UsageError
from bot.keys import Wallet, load_wallet, resolve_payer_path
from bot.ledger.command import add_ledger_arguments, load_command_config, open_command_ledger
from bot.ledger.ledger import Ledger
from bot.ledger.model import LookupTableRecord

# Address lookup table account: u32 type (1 = lookup table), u64 deactivation_slot (u64::MAX while
# active), u64 last_extended_slot, u8 start index, Option<Pubkey> authority, 2 bytes padding, then the
# addresses from byte 56 (solana-program address_lookup_table/state.rs, LOOKUP_TABLE_META_SIZE = 56).
ACTIVE = 2**64 - 1
SLOT_HASHES_MAX = 512  # a deactivation slot still in SlotHashes keeps the table deactivating


@dataclass(frozen=True, slots=True)
class TableStatus:
    address: str
    action: str  # in_use | deactivated | cooling_down | closed | gone | would_deactivate | would_close
    detail: str


def deactivation_slot(data: bytes) -> int:
    if len(data) < 56 or struct.unpack_from("<I", data, 0)[0] != 1:
        raise ValueError("not an address lookup table")
    return int(struct.unpack_from("<Q", data, 4)[0])


def alt_deactivate_ix(table: Pubkey, authority: Pubkey) -> Instruction:
    # DeactivateLookupTable = u32 tag 3 (solana-program address_lookup_table/instruction.rs).
    return Instruction(
        ALT_PROGRAM,
        struct.pack("<I", 3),
        [AccountMeta(table, False, True), AccountMeta(authority, True, False)],
    )


def alt_close_ix(table: Pubkey, authority: Pubkey, recipient: Pubkey) -> Instruction:
    # CloseLookupTable = u32 tag 4: table, authority (signer), lamports recipient.
    return Instruction(
        ALT_PROGRAM,
        struct.pack("<I", 4),
        [
            AccountMeta(table, False, True),
            AccountMeta(authority, True, False),
            AccountMeta(recipient, False, True),
        ],
    )


async def cleanup_tables(
    rpc: Any, pubsub: Any, wallet: Wallet, ledger: Ledger, *, now_ns: int, unused_for_ns: int, dry_run: bool
) -> list[TableStatus]:
    """One pass over this wallet's recorded tables: deactivate the unused, close the cooled down."""
    from bot.execution.setup import send_and_confirm

    out: list[TableStatus] = []
    authority = str(wallet.pubkey)
    for rec in ledger.lookup_tables(authority):
        out.append(
            await _one(rpc, pubsub, wallet, ledger, rec, now_ns, unused_for_ns, dry_run, send_and_confirm)
        )
    return out


async def _one(
    rpc: Any,
    pubsub: Any,
    wallet: Wallet,
    ledger: Ledger,
    rec: LookupTableRecord,
    now_ns: int,
    unused_for_ns: int,
    dry_run: bool,
    send: Any,
) -> TableStatus:
    table = Pubkey.from_string(rec.address)
    acc = (await rpc.get_account_info(rec.address, commitment="confirmed")).account
    if acc is None or acc.lamports == 0:
        if not dry_run:
            ledger.mark_lookup_table_closed(rec.address)
        return TableStatus(rec.address, "gone", "no longer on chain; recorded as closed")
    deact = deactivation_slot(bytes(acc.data))
    if deact == ACTIVE:
        idle_s = (now_ns - rec.last_used_ns) // 1_000_000_000
        if now_ns - rec.last_used_ns < unused_for_ns:
            return TableStatus(rec.address, "in_use", f"last used {idle_s} s ago")
        if dry_run:
            return TableStatus(rec.address, "would_deactivate", f"unused for {idle_s} s")
        done = await send(
            rpc, pubsub, wallet, [alt_deactivate_ix(table, wallet.pubkey)], what="deactivate lookup table"
        )
        acc = (await rpc.get_account_info(rec.address, commitment="confirmed")).account
        deact = deactivation_slot(bytes(acc.data)) if acc is not None else done.slot
        ledger.mark_lookup_table_deactivated(rec.address, deact)
        return TableStatus(
            rec.address,
            "deactivated",
            f"at slot {deact}; closable after slot {deact + SLOT_HASHES_MAX}, run cleanup again then",
        )
    if rec.deactivated_slot != deact and not dry_run:
        ledger.mark_lookup_table_deactivated(rec.address, deact)
    slot = await rpc.get_slot(commitment="confirmed")
    if slot <= deact + SLOT_HASHES_MAX:
        return TableStatus(
            rec.address,
            "cooling_down",
            f"deactivated at slot {deact}; closable after slot {deact + SLOT_HASHES_MAX} (now {slot})",
        )
    if dry_run:
        return TableStatus(rec.address, "would_close", f"returns {acc.lamports} lamports")
    await send(
        rpc, pubsub, wallet, [alt_close_ix(table, wallet.pubkey, wallet.pubkey)], what="close lookup table"
    )
    ledger.mark_lookup_table_closed(rec.address)
    return TableStatus(rec.address, "closed", f"{acc.lamports} lamports of rent returned")


@contextlib.asynccontextmanager
async def chain_clients(http: str, ws: str, timeout_s: float) -> AsyncIterator[tuple[Any, Any]]:
    """An RpcClient and a connected PubSubClient (its reader running) for set-up style transactions."""
    from rpc.client import RpcClient
    from rpc.pubsub import PubSubClient

    rpc = RpcClient(http, timeout_s=timeout_s)
    pubsub = PubSubClient(ws, on_account=lambda *a: None, on_error=lambda err: None)
    reader = asyncio.get_running_loop().create_task(pubsub.run(), name="cleanup-pubsub")
    try:
        await pubsub.wait_ready(10)
        yield rpc, pubsub
    finally:
        await pubsub.close()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await rpc.close()


def register(sub: Any) -> None:
    p = sub.add_parser(
        "cleanup",
        help="deactivate and close lookup tables the bot no longer uses (returns their rent)",
        description="Deactivate the lookup tables recorded in the ledger that were not used for --unused-for, "
        "and close those deactivated long enough ago (512 slots); run it again to close what it deactivated.",
    )
    add_ledger_arguments(p)
    p.add_argument(
        "--unused-for", default="1d", metavar="T", help="deactivate tables unused this long (10m, 2h, 1d)"
    )
    p.add_argument("--dry-run", action="store_true", help="only say what would be done")
    p.add_argument("--live", action="store_true", help="needed to send on mainnet-beta")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvloop

    from bot.config import default_ws_url
    from rpc.errors import RpcError

    cfg = load_command_config(args)
    if cfg is None:
        raise UsageError("cleanup needs the config (-c CONFIG) for the RPC endpoint and the wallet")
    now = time.time_ns()
    since = parse_since(args.unused_for, now)  # validates the duration
    mainnet = cfg.cluster.name == "mainnet-beta"
    if mainnet and not args.live and not args.dry_run:
        raise UsageError(
            "cleanup sends transactions on mainnet-beta: pass --live (or --dry-run to only look)"
        )
    wallet = load_wallet(resolve_payer_path(cfg.keys.payer, live=mainnet))
    ep = next(e for e in cfg.endpoints() if "read" in e.roles)

    async def main() -> list[TableStatus]:
        with open_command_ledger(args, cfg) as led:
            async with chain_clients(ep.http, ep.ws or default_ws_url(ep.http), ep.timeout_ms / 1e3) as (
                rpc,
                ps,
            ):
                return await cleanup_tables(
                    rpc, ps, wallet, led, now_ns=now, unused_for_ns=now - since, dry_run=args.dry_run
                )

    try:
        statuses = uvloop.run(main())
    except RpcError as err:
        raise RuntimeFailure(f"cleanup: {err}") from err
    if not statuses:
        print(f"no lookup tables recorded for {wallet.pubkey}")
    for st in statuses:
        print(f"{st.action:<16} {st.address}  {st.detail}")
    return 0
