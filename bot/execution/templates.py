"""Compile one guarded v0 message template per route, at start-up (never on the hot path).

Instruction order: SetComputeUnitLimit, SetComputeUnitPrice, one exact-in swap per leg, and the tip
transfer when a tip policy is on (inside the same guarded transaction, so a reverted trade pays no tip).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import solders.compute_budget as cb
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.instruction import Instruction
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer

from bot.execution.message import RouteTemplate, compile_route_message
from bot.market import PoolEntry
from strategies import routes as R
from strategies.venues import raydium_amm_v4 as amm
from strategies.venues import raydium_cpmm as cpmm

# Placeholders compiled into the template; every one is patched before signing.
_PLACEHOLDER = 1


@dataclass(frozen=True, slots=True)
class SwapLeg:
    instruction: Instruction
    arg_offsets: tuple[int, int]  # (amount_in, min_out) offsets inside the instruction data


def build_leg(entry: PoolEntry, leg: R.Leg, payer: Pubkey, atas: Mapping[int, Pubkey]) -> SwapLeg:
    src, dst = atas[leg.token_in], atas[leg.token_out]
    if entry.venue == "raydium_cpmm":
        ix = cpmm.build_swap_base_input_ix(
            pool_address=entry.address, pool=entry.static, payer=payer, user_input_account=src,
            user_output_account=dst, zero_for_one=leg.direction == R.DIR_A_TO_B, amount_in=_PLACEHOLDER,
            min_out=_PLACEHOLDER, program_id=entry.program_id,
        )
        return SwapLeg(ix, (cpmm.SWAP_BASE_INPUT_AMOUNT_IN_OFFSET, cpmm.SWAP_BASE_INPUT_MIN_OUT_OFFSET))
    if entry.venue == "raydium_amm_v4":
        ix = amm.build_swap_base_in_ix(
            pool_address=entry.address, info=entry.static, user_source=src, user_destination=dst,
            user_owner=payer, amount_in=_PLACEHOLDER, min_out=_PLACEHOLDER, program_id=entry.program_id,
        )
        return SwapLeg(ix, (amm.SWAP_ARG0_OFFSET, amm.SWAP_ARG1_OFFSET))
    raise ValueError(f"no swap builder wired for venue {entry.venue}")


def route_instructions(
    route: R.Route, pools: Sequence[PoolEntry], payer: Pubkey, atas: Mapping[int, Pubkey], tip_account: Pubkey | None
) -> tuple[list[Instruction], list[SwapLeg]]:
    legs = [build_leg(pools[leg.pool], leg, payer, atas) for leg in route.legs]
    ixs = [cb.set_compute_unit_limit(_PLACEHOLDER), cb.set_compute_unit_price(_PLACEHOLDER)]
    ixs += [leg.instruction for leg in legs]
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


def transaction_account_keys(msg: MessageV0, lookup_tables: Sequence[AddressLookupTableAccount]) -> list[Pubkey]:
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
) -> tuple[RouteTemplate, list[Pubkey]]:
    """The route's template and its transaction account list (for reading balances after landing)."""
    ixs, legs = route_instructions(route, pools, payer, atas, tip_account)
    n = len(legs)
    msg = compile_route_message(payer, ixs, lookup_tables)
    return RouteTemplate(
        msg,
        swap_ix_indexes=range(2, 2 + n),
        leg_arg_offsets=[leg.arg_offsets for leg in legs],
        cu_limit_ix=0,
        cu_price_ix=1,
        tip_ix=2 + n if tip_account is not None else None,
    ), transaction_account_keys(msg, lookup_tables)
