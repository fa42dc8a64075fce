"""Compile one guarded v0 message template per route, at start-up (never on the hot path).

Instruction order: SetComputeUnitLimit, SetComputeUnitPrice, one exact-in swap per leg, and the tip
transfer when a tip policy is on (inside the same guarded transaction, so a reverted trade pays no tip).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import solders.compute_budget as cb
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.instruction import Instruction
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer

from bot.cache import PoolEntry
from bot.execution.message import RouteTemplate, compile_route_message
from strategies import routes as R
from strategies.venues.base import FetchedAccount, SwapLeg, retarget_leg

# Placeholders compiled into the template; every one is patched before signing.
_PLACEHOLDER = 1


Forms = Mapping[int, str]
"""Pool row -> the instruction form its legs use (one of its adapter's `swap_forms`; absent: the first)."""
FormAccounts = Mapping[Pubkey, FetchedAccount]
"""What the chosen forms' `form_accounts` named, as fetched (owner, data)."""


def build_leg(
    entry: PoolEntry,
    leg: R.Leg,
    payer: Pubkey,
    atas: Mapping[int, Pubkey],
    form: str | None = None,
    accounts: FormAccounts | None = None,
    tick: int | None = None,
) -> SwapLeg:
    """The leg's swap instruction(s) in `form`, from the pool's venue adapter; price-following accounts
    (CLMM tick arrays) around `tick` when given, else around the pool's state at its first load."""
    if entry.adapter.executable is not None:
        raise ValueError(f"pool {entry.address}: {entry.adapter.executable}")
    swap = entry.adapter.swap_leg(entry.static, entry.address, entry.program_id, payer, atas[leg.token_in],
                                  atas[leg.token_out], leg.direction == R.DIR_A_TO_B, entry.dependency_values(),
                                  form=form, accounts=accounts)  # fmt: skip
    return swap if tick is None else retarget_leg(swap, tick)


def route_instructions(
    route: R.Route,
    pools: Sequence[PoolEntry],
    payer: Pubkey,
    atas: Mapping[int, Pubkey],
    tip_account: Pubkey | None,
    forms: Forms | None = None,
    accounts: FormAccounts | None = None,
    ticks: Sequence[int] | None = None,
) -> tuple[list[Instruction], list[SwapLeg]]:
    forms = forms or {}
    at: Sequence[int | None] = ticks or [None] * len(route.legs)  # per leg: the pool's tick (CLMM rebuilds)
    legs = [build_leg(pools[leg.pool], leg, payer, atas, forms.get(leg.pool), accounts, t)
            for leg, t in zip(route.legs, at, strict=True)]  # fmt: skip
    ixs = [cb.set_compute_unit_limit(_PLACEHOLDER), cb.set_compute_unit_price(_PLACEHOLDER)]
    ixs += [ix for leg in legs for ix in leg.instructions]
    if tip_account is not None:
        ixs.append(transfer(TransferParams(from_pubkey=payer, to_pubkey=tip_account, lamports=_PLACEHOLDER)))
    return ixs, legs


def lookup_addresses(instructions: Sequence[Instruction], payer: Pubkey) -> list[Pubkey]:
    """Accounts worth putting in a lookup table: every non-signer account that is not an invoked program."""
    programs = {ix.program_id for ix in instructions}
    seen: dict[Pubkey, None] = {}
    for ix in instructions:
        for meta in ix.accounts:
            if meta.pubkey != payer and not meta.is_signer and meta.pubkey not in programs:
                seen.setdefault(meta.pubkey, None)
    return list(seen)


def transaction_account_keys(
    msg: MessageV0, lookup_tables: Sequence[AddressLookupTableAccount]
) -> list[Pubkey]:
    """The account list a node reports balances for: static keys, then loaded writable, then readonly."""
    tables = {t.key: t.addresses for t in lookup_tables}
    keys = list(msg.account_keys)
    lookups = msg.address_table_lookups
    keys += [tables[lk.account_key][i] for lk in lookups for i in lk.writable_indexes]
    keys += [tables[lk.account_key][i] for lk in lookups for i in lk.readonly_indexes]
    return keys


def compile_template(
    route: R.Route,
    pools: Sequence[PoolEntry],
    payer: Pubkey,
    atas: Mapping[int, Pubkey],
    lookup_tables: Sequence[AddressLookupTableAccount],
    tip_account: Pubkey | None = None,
    forms: Forms | None = None,
    accounts: FormAccounts | None = None,
    ticks: Sequence[int] | None = None,
) -> tuple[RouteTemplate, list[Pubkey]]:
    """The route's template and its transaction account list (for reading balances after landing)."""
    ixs, legs = route_instructions(route, pools, payer, atas, tip_account, forms, accounts, ticks)
    # The patched instruction of each leg is its last one (set-up instructions of a leg come first).
    swap_ixs, at = [], 2
    for leg in legs:
        at += len(leg.instructions)
        swap_ixs.append(at - 1)
    msg = compile_route_message(payer, ixs, lookup_tables)
    return RouteTemplate(
        msg,
        swap_ix_indexes=swap_ixs,
        leg_arg_offsets=[leg.arg_offsets for leg in legs],
        cu_limit_ix=0,
        cu_price_ix=1,
        tip_ix=at if tip_account is not None else None,
        price_accounts=[leg.price_accounts for leg in legs],
    ), transaction_account_keys(msg, lookup_tables)
