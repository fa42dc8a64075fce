"""A Jito-style block engine for localnet: bundles executed all-or-nothing (neither solana-test-validator
nor surfpool serves one).

Where: the RPC's own HTTP port, under Jito's paths (jito-labs/mev-protos json_rpc/http.md):
`POST /api/v1/bundles` serves sendBundle, getBundleStatuses, getInflightBundleStatuses, getTipAccounts;
`POST /api/v1/transactions` serves sendTransaction as Jito's proxy does (skipPreflight forced; the
`bundleOnly` query is accepted and ignored). So a config's `bundle` endpoint is
`http://127.0.0.1:8899/api/v1/bundles`. Enabled by `Localnet(block_engine=True)` / `--block-engine`.

The rules, following Jito's documentation where it has one:
- sendBundle takes 1 to 5 fully signed transactions, base58 (the default) or base64
  (`[[tx, ...], {"encoding": "base64"}]`), and answers the bundle id at once: the hex SHA-256 of the
  transactions' first signatures in base58 joined by "," (jito-solana's `derive_bundle_id`). Refused
  with a JSON-RPC error, nothing queued: a malformed or oversized list (-32602), a transaction that
  does not decode (-32602) or whose signatures do not verify (-32003), the same transaction twice
  (-32602), and a bundle none of whose transactions write-locks a tip account (-32602, the block
  engine's "Bundles must write lock at least one tip account" rule).
- A bundle is executed at the start of the next slot, before anything else lands in that slot, in
  arrival order (no auction): each transaction in turn with a validator's checks (blockhash, duplicate
  signature, fee payer funds) and preflight semantics; it lands only if every transaction succeeds.
  Otherwise it is rolled back (`Chain.process_atomic`): no fee, no record, no notification.
- The tip is what the bundle's transactions together paid into the tip accounts (top-level or CPI
  transfers, measured from the balances). Our rule (Jito publishes no minimum; 1,000 lamports is the
  figure third parties quote): a bundle that tipped less than `min_tip_lamports` (default 1,000) is
  rolled back and reported Invalid, as a bundle the auction dropped.
- Statuses: Pending until its slot; then Landed (with the slot), Failed (a transaction failed) or
  Invalid (tip below the minimum, or an id this engine does not know). getBundleStatuses answers, per
  id, the landed bundle (`bundle_id`, `transactions`, `slot`, `confirmation_status`, `err: {"Ok": null}`)
  or null, like getSignatureStatuses; both status methods take at most 5 ids and look back 5 minutes.
- getTipAccounts lists the 8 mainnet tip accounts by default (so a mainnet-shaped config works);
  each is created as a rent-exempt system account, so a tip smaller than the rent-exempt minimum lands.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from solders.account import Account
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from localnet.chain import SYSTEM_PROGRAM, BatchFailed, Chain, SignatureInvalid, TxRecord, TxRejected
from localnet.encoding import error_json, error_text
from localnet.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    TX_SIGNATURE_VERIFICATION_FAILURE,
    LoadError,
    RpcFault,
)
from localnet.rpc_methods import RpcMethods, _arg, _cfg

BUNDLES_PATH = "/api/v1/bundles"
TRANSACTIONS_PATH = "/api/v1/transactions"
# The tip accounts Jito's mainnet block engine returns from getTipAccounts (protocols.md §7; the same 8 in
# many independent repositories).
MAINNET_TIP_ACCOUNTS = (
    "96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5",
    "HFqU5x63VTqvQss8hp11i4wVV8bD44PvwucfZ2bU7gRe",
    "Cw8CFyM9FkoMi7K7Crf6HNQqf4uEMzpKw6QNghXLvLkY",
    "ADaUMid9yfUytqMBgopwjb2DTLSokTSzL1zt6iGPaS49",
    "DfXygSm4jCyNCybVYYK6DwvWqjKee8pbDmJGcLWNDXjh",
    "ADuUkR4vqLUMWXxW9gh6D6L8pMSawimctcNZ5pGwDcEt",
    "DttWaMuVvTiduZRnguLF7jNxTgiMBZ1hyAumKUiL2KRL",
    "3AVi9Tg9Uo68tJfuvoKvqKNWKkC5wPdSSdeBnizKZ6jT",
)
DEFAULT_MIN_TIP_LAMPORTS = 1_000
MAX_BUNDLE_TXS = 5  # docs.jito.wtf: "Bundles are groups of transactions (max 5)"
MAX_STATUS_IDS = 5  # getBundleStatuses / getInflightBundleStatuses: "up to a maximum of 5"
LOOKBACK_S = 300.0  # getInflightBundleStatuses: "Invalid: Bundle ID not in our system (5 minute look back)"
MAX_PENDING = 1_000  # bundles waiting for the next slot; beyond, sendBundle answers -32603 (retry later)
MAX_KEPT = 100_000  # bundle records kept for the status methods

PENDING, LANDED, FAILED, INVALID = "Pending", "Landed", "Failed", "Invalid"


def bundle_id(signatures: Iterable[object]) -> str:
    """Jito's bundle id: hex SHA-256 of the first signatures (base58) joined by ","."""
    return hashlib.sha256(",".join(str(s) for s in signatures).encode()).hexdigest()


@dataclass(slots=True)
class Bundle:
    """One received bundle and what became of it (`reason` says why it did not land)."""

    id: str
    txs: list[VersionedTransaction]
    signatures: list[str]
    received: float
    status: str = PENDING
    slot: int | None = None
    tip: int = 0
    reason: str = ""
    records: list[TxRecord] = field(default_factory=list)


class _TipTooLow(Exception):
    pass


class BlockEngine:
    """The bundle methods (`table`, for rpc_http.handle_body) and their execution on `chain`'s slot clock."""

    def __init__(
        self,
        chain: Chain,
        methods: RpcMethods,
        *,
        tip_accounts: Sequence[str] = MAINNET_TIP_ACCOUNTS,
        min_tip_lamports: int = DEFAULT_MIN_TIP_LAMPORTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (
            isinstance(min_tip_lamports, bool)
            or not isinstance(min_tip_lamports, int)
            or min_tip_lamports < 0
        ):
            raise LoadError(
                f"minimum tip (--min-tip-lamports) must be a whole number of lamports >= 0, "
                f"got {min_tip_lamports!r}"
            )
        if not tip_accounts:
            raise LoadError("the block engine needs at least one tip account")
        keys: list[Pubkey] = []
        for text in tip_accounts:
            try:
                keys.append(Pubkey.from_string(text))
            except ValueError as err:
                raise LoadError(f"tip account {text!r} is not a base-58 public key") from err
        if len(set(keys)) != len(keys):
            raise LoadError("tip accounts must be distinct")
        self.chain = chain
        self.methods = methods
        self.tip_accounts = tuple(keys)
        self._tips = frozenset(keys)
        self.min_tip_lamports = min_tip_lamports
        self.clock = clock
        self.bundles: OrderedDict[str, Bundle] = OrderedDict()
        self.pending: list[Bundle] = []
        rent = chain.svm.minimum_balance_for_rent_exemption(0)
        for key in keys:
            if chain.get_account(key) is None:
                chain.set_account(key, Account(rent, b"", SYSTEM_PROGRAM, False, 0))
        self.table: dict[str, Callable[[list[Any]], Any]] = {
            "sendBundle": self.rpc_sendBundle,
            "getBundleStatuses": self.rpc_getBundleStatuses,
            "getInflightBundleStatuses": self.rpc_getInflightBundleStatuses,
            "getTipAccounts": self.rpc_getTipAccounts,
        }
        self.transactions = TransactionsEndpoint(methods)
        chain.slot_listeners.append(self.on_slot)

    def routes(self) -> dict[bytes, Any]:
        """HTTP path -> method table, for rpc_http.HttpRpcProtocol."""
        return {BUNDLES_PATH.encode(): self, TRANSACTIONS_PATH.encode(): self.transactions}

    # ------------------------------------------------------------------ methods
    def rpc_sendBundle(self, params: list[Any]) -> Any:
        raw_txs = _arg(params, 0)
        if not isinstance(raw_txs, list) or not raw_txs:
            raise RpcFault(
                INVALID_PARAMS, "Invalid params: expected a non-empty array of encoded transactions."
            )
        if len(raw_txs) > MAX_BUNDLE_TXS:
            raise RpcFault(
                INVALID_PARAMS,
                f"bundle has {len(raw_txs)} transactions; a bundle holds at most {MAX_BUNDLE_TXS}",
            )
        cfg = {"encoding": _cfg(params, 1).get("encoding") or "base58"}
        txs: list[VersionedTransaction] = []
        for i, raw in enumerate(raw_txs):
            try:
                tx = self.methods._decode_tx(raw, cfg)
            except RpcFault as fault:
                raise RpcFault(fault.code, f"transaction #{i}: {fault.message}") from fault
            try:
                self.chain.verify_signatures(tx)
            except SignatureInvalid as err:
                raise RpcFault(
                    TX_SIGNATURE_VERIFICATION_FAILURE, f"transaction #{i}: signature verification failed"
                ) from err
            txs.append(tx)
        sigs = [str(tx.signatures[0]) for tx in txs]
        if len(set(sigs)) != len(sigs):
            raise RpcFault(INVALID_PARAMS, "bundle contains the same transaction twice")
        if not any(self._write_locks_tip(tx) for tx in txs):
            raise RpcFault(
                INVALID_PARAMS,
                "Bundles must write lock at least one tip account to be eligible for "
                "the auction (see getTipAccounts)",
            )
        bid = bundle_id(sigs)
        known = self.bundles.get(bid)
        if known is not None and known.status in (PENDING, LANDED):
            return bid  # a resend: the first copy is queued or has landed
        if len(self.pending) >= MAX_PENDING:
            raise RpcFault(
                INTERNAL_ERROR,
                f"block engine queue full ({MAX_PENDING} bundles wait for the next slot); retry later",
            )
        self._forget_old()
        bundle = Bundle(bid, txs, sigs, self.clock())
        self.bundles[bid] = bundle
        self.bundles.move_to_end(bid)
        self.pending.append(bundle)
        return bid

    def rpc_getBundleStatuses(self, params: list[Any]) -> Any:
        chain = self.chain
        value: list[Any] = []
        for bid in self._ids(params):
            b = self._find(bid)
            if b is None or b.status != LANDED or b.slot is None:
                value.append(None)
                continue
            value.append(
                {
                    "bundle_id": bid,
                    "transactions": list(b.signatures),
                    "slot": b.slot,
                    "confirmation_status": chain.status_of_slot(b.slot),
                    "err": {"Ok": None},
                }
            )
        return {"context": {"slot": chain.slot}, "value": value}

    def rpc_getInflightBundleStatuses(self, params: list[Any]) -> Any:
        value: list[Any] = []
        for bid in self._ids(params):
            b = self._find(bid)
            value.append(
                {
                    "bundle_id": bid,
                    "status": INVALID if b is None else b.status,
                    "landed_slot": b.slot if b is not None and b.status == LANDED else None,
                }
            )
        return {"context": {"slot": self.chain.slot}, "value": value}

    def rpc_getTipAccounts(self, params: list[Any]) -> Any:
        return [str(k) for k in self.tip_accounts]

    # ------------------------------------------------------------------ execution
    def on_slot(self, slot: int) -> None:
        """Slot listener: execute the bundles received during the previous slot, in arrival order."""
        pending, self.pending = self.pending, []
        for bundle in pending:
            self.execute(bundle)

    def execute(self, bundle: Bundle) -> None:
        """Run one bundle all-or-nothing in the current slot and record its outcome."""

        def accept(records: list[TxRecord]) -> None:
            bundle.tip = self.tip_paid(records)
            if bundle.tip < self.min_tip_lamports:
                raise _TipTooLow()

        try:
            bundle.records = self.chain.process_atomic(bundle.txs, verified=True, accept=accept)
        except BatchFailed as failed:
            bundle.status, bundle.reason = self._outcome(bundle, failed)
            return
        bundle.status = LANDED
        bundle.slot = self.chain.slot
        bundle.reason = ""

    def tip_paid(self, records: list[TxRecord]) -> int:
        """Lamports the transactions paid into the tip accounts, from their balance changes."""
        tips = self._tips
        return sum(
            rec.post_balances[i] - rec.pre_balances[i]
            for rec in records
            for i, key in enumerate(rec.keys)
            if key in tips
        )

    def _outcome(self, bundle: Bundle, failed: BatchFailed) -> tuple[str, str]:
        cause = failed.cause
        if isinstance(cause, _TipTooLow):
            return INVALID, f"tip of {bundle.tip} lamports is below the minimum of {self.min_tip_lamports}"
        where = f"transaction #{failed.index} ({bundle.signatures[failed.index or 0]})"
        if isinstance(cause, TxRejected):
            return FAILED, f"{where} failed: {error_text(error_json(cause.err))}"
        if isinstance(cause, SignatureInvalid):
            return FAILED, f"{where}: signature verification failed"
        print(
            f"localnet: internal error executing bundle {bundle.id}: {type(cause).__name__}: {cause}",
            file=sys.stderr,
        )
        return FAILED, f"{where}: internal error {type(cause).__name__}"

    # ------------------------------------------------------------------ helpers
    def _write_locks_tip(self, tx: VersionedTransaction) -> bool:
        message = tx.message
        try:
            keys, loaded_w, loaded_r = self.chain.resolve_keys(message)
        except TxRejected:
            keys, loaded_w, loaded_r = list(message.account_keys), [], []
        n = len(keys)
        flags = Chain.writable_flags(message, n - len(loaded_w) - len(loaded_r), len(loaded_w), n)
        return any(w and k in self._tips for k, w in zip(keys, flags))

    def _ids(self, params: list[Any]) -> list[str]:
        ids = _arg(params, 0)
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise RpcFault(INVALID_PARAMS, "Invalid params: expected a non-empty array of bundle id strings.")
        if len(ids) > MAX_STATUS_IDS:
            raise RpcFault(
                INVALID_PARAMS, f"{len(ids)} bundle ids given; at most {MAX_STATUS_IDS} per request"
            )
        return ids

    def _find(self, bid: str) -> Bundle | None:
        b = self.bundles.get(bid)
        if b is None or self.clock() - b.received > LOOKBACK_S:
            return None
        return b

    def _forget_old(self) -> None:
        now = self.clock()
        bundles = self.bundles
        while bundles:
            oldest = next(iter(bundles.values()))
            if oldest.status == PENDING or (now - oldest.received <= LOOKBACK_S and len(bundles) < MAX_KEPT):
                return
            del bundles[oldest.id]

    def bundle(self, bid: str) -> Bundle | None:
        """The record of a bundle id (tests and tools: its status, slot, tip and failure reason)."""
        return self.bundles.get(bid)


class TransactionsEndpoint:
    """`/api/v1/transactions`: sendTransaction as Jito's proxy serves it (skip_preflight forced)."""

    def __init__(self, methods: RpcMethods) -> None:
        self.methods = methods
        self.table: dict[str, Callable[[list[Any]], Any]] = {"sendTransaction": self.rpc_sendTransaction}

    def rpc_sendTransaction(self, params: list[Any]) -> Any:
        cfg = {**_cfg(params, 1), "skipPreflight": True}
        return self.methods.rpc_sendTransaction([_arg(params, 0), cfg])
