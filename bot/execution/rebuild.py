"""Rebuilding a route's template around a moved price (cold path).

A CLMM leg's template carries a window of tick arrays around the tick it was compiled at (the arrays a
swap needs for a tick in the same array or either neighbour: the adapter's `PriceAccounts.around`), and
the hot path only rewrites three account-index bytes to pick the ones for the current tick
(`RouteTemplate.choose_accounts`). When the price leaves that window the executor asks for a new
template compiled around the current ticks, scheduled on the event loop after the hot path returned:
a compile costs ~0.3 ms, the PDA searches of the new arrays included (benches/bench_execution.py,
`rebuild`), against ~3 µs for the byte patch (`choose_wp`). Arrays that are
not in the lookup tables yet become static keys of the new message (32 bytes each); a route whose
transaction no longer fits stays without a new template until the price comes back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.pubkey import Pubkey

from bot.cache import PoolEntry
from bot.execution.message import RouteTemplate
from bot.execution.templates import compile_template
from strategies import routes as R


class TemplateRebuilder:
    """`executor.Rebuild` over what the set-up phase compiled the templates with."""

    def __init__(
        self,
        table: R.RouteTable,
        pools: Sequence[PoolEntry],
        payer: Pubkey,
        atas: Mapping[int, Pubkey],
        lookup_tables: Sequence[AddressLookupTableAccount],
        tip_account: Pubkey | None,
        prover: Any = None,
    ) -> None:
        self.table = table
        self.pools = pools
        self.payer = payer
        self.atas = atas
        self.lookup_tables = lookup_tables
        self.tip_account = tip_account
        self.prover = prover  # the forms its routes use (and the accounts those forms needed fetched)

    def __call__(self, route_id: int, ticks: Sequence[int]) -> tuple[RouteTemplate, int]:
        """The route's template around `ticks` (one per leg) and its start account's index. Raises
        TxTooLarge when the transaction no longer fits."""
        route = self.table.routes[route_id]
        prover = self.prover
        forms = {leg.pool: prover.form_of(leg.pool) for leg in route.legs} if prover is not None else None
        accounts = prover.fetched if prover is not None else None
        tmpl, keys = compile_template(route, self.pools, self.payer, self.atas, self.lookup_tables,
                                      self.tip_account, forms, accounts, ticks)  # fmt: skip
        return tmpl, keys.index(self.atas[route.start_token])
