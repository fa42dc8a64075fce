"""Dry-run for a wallet that has not traded yet: simulate what its first real trade would do.

A fresh wallet has no token accounts and no wrapped SOL, and dry-run sends nothing, set-up included.
So each simulated trade carries the set-up a first real trade would need in front of its swaps:
idempotent creation of the route's missing associated token accounts, and the wSOL wrap of exactly
the amount the trade starts with (transfer + SyncNative). The simulated profit is the trade's alone;
the one-off set-up cost (token-account rent) is reported apart. Simulations run with
`replaceRecentBlockhash` and no signature check; nothing here is ever sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import solders.compute_budget as cb
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction
from spl.token.instructions import SyncNativeParams, create_idempotent_associated_token_account, sync_native

from bot.keys import Wallet

TOKEN_PROGRAM = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
SIMULATION_CU_LIMIT = 1_400_000  # set-up instructions come on top of the route's own limit


@dataclass(frozen=True, slots=True)
class SetupPlan:
    """What a fresh wallet lacks: token accounts (by mint) and the wSOL account's current amount."""

    missing: dict[Pubkey, Pubkey]  # mint -> its associated token account, not created yet
    wsol_mint: Pubkey
    wsol_account: Pubkey | None
    wsol_amount: int  # raw amount already wrapped (0 when the account is missing)
    rent_per_account: int

    def needed(self, mints: Sequence[Pubkey]) -> bool:
        return any(m in self.missing for m in mints)


def decompile(tx_bytes: bytes) -> list[Instruction]:
    """The instructions of a signed v0 transaction without lookup tables (what dry-run compiles)."""
    msg = VersionedTransaction.from_bytes(tx_bytes).message
    if not isinstance(msg, MessageV0) or msg.address_table_lookups:
        raise ValueError("dry-run transactions are compiled without lookup tables")
    keys = msg.account_keys
    h = msg.header
    n, signed, ro_signed, ro_unsigned = len(keys), h.num_required_signatures, h.num_readonly_signed_accounts, \
        h.num_readonly_unsigned_accounts  # fmt: skip

    def writable(i: int) -> bool:
        return i < signed - ro_signed if i < signed else i < n - ro_unsigned

    return [
        Instruction(
            keys[ix.program_id_index],
            bytes(ix.data),
            [AccountMeta(keys[a], a < signed, writable(a)) for a in ix.accounts],
        )
        for ix in msg.instructions
    ]


def with_setup(
    tx_bytes: bytes,
    wallet: Wallet,
    plan: SetupPlan,
    route_mints: Sequence[Pubkey],
    start_mint: Pubkey,
    amount_in: int,
    *,
    swaps: bool = True,
    include_setup: bool = True,
) -> tuple[bytes, int, int]:
    """The trade's transaction with the set-up a first real trade needs in front of its swaps, signed
    (`swaps=False`: the set-up alone, to measure its compute units).

    Returns (transaction, wrapped lamports, one-off rent of the accounts created)."""
    ixs = decompile(tx_bytes)
    payer = wallet.pubkey
    setup: list[Instruction] = []
    created = 0
    for mint in dict.fromkeys(route_mints):
        if mint in plan.missing:
            setup.append(create_idempotent_associated_token_account(payer, payer, mint))
            created += 1
    wrap = 0
    if start_mint == plan.wsol_mint:
        wrap = max(0, amount_in - plan.wsol_amount)
        wsol = plan.missing.get(plan.wsol_mint, plan.wsol_account)
        if wrap and wsol is not None:
            setup += [transfer(TransferParams(from_pubkey=payer, to_pubkey=wsol, lamports=wrap)),
                      sync_native(SyncNativeParams(TOKEN_PROGRAM, wsol))]  # fmt: skip
    budget = [ix for ix in ixs if ix.program_id == cb.ID]
    rest = [ix for ix in ixs if ix.program_id != cb.ID] if swaps else []
    price = [ix for ix in budget if ix.data[:1] == b"\x03"]  # SetComputeUnitPrice kept as the trade's
    if not include_setup:
        setup = []
    msg = MessageV0.try_compile(payer, [cb.set_compute_unit_limit(SIMULATION_CU_LIMIT), *price, *setup, *rest], [],
                                Hash.default())  # fmt: skip
    return bytes(VersionedTransaction(msg, [wallet.keypair])), wrap, created * plan.rent_per_account


def setup_count(tx_with_setup: bytes, tx_bytes: bytes) -> int:
    """How many instructions the set-up put in front of the trade's own."""
    return len(decompile(tx_with_setup)) - len(decompile(tx_bytes))
