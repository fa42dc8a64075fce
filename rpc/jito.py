"""Jito block engine JSON-RPC: sans-I/O builders, typed results and errors, `JitoClient`, `JitoSender`.

The methods of Jito's bundles endpoint (``https://<region>.mainnet.block-engine.jito.wtf/api/v1/bundles``;
jito-labs/mev-protos json_rpc/http.md): sendBundle, getBundleStatuses, getInflightBundleStatuses,
getTipAccounts. Builders return `rpc.requests.Call` values, so request bodies are testable byte-for-byte
and `JitoClient` runs them over the same raw HTTP transport as `rpc.client.RpcClient`.

Facts the code relies on:
- A bundle is 1 to 5 fully signed transactions, executed in order, all or nothing; it must pay a tip (a SOL
  transfer, top-level or CPI, to one of the tip accounts getTipAccounts lists).
- Transactions are sent base64 with ``{"encoding": "base64"}`` (accepted next to the original base58).
- The bundle id is the hex SHA-256 of the transactions' first signatures, base58, joined by ","
  (jito-solana ``derive_bundle_id``), so `bundle_id_of` knows it before the reply.
- getBundleStatuses answers per id the landed bundle or null, its status field spelled
  ``confirmation_status`` in the example response and ``confirmationStatus`` in the prose: both are read.
  getInflightBundleStatuses answers Pending, Landed (with ``landed_slot``), Failed or Invalid over a
  5-minute look-back. Both take at most 5 ids.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Literal

import msgspec
import pybase64
from solders.pubkey import Pubkey

from rpc.client import RpcClient
from rpc.errors import AllEndpointsFailed, JsonRpcError, MalformedResponse, RpcError
from rpc.http import Transport
from rpc.requests import Call
from rpc.submit import signature_of

MAX_BUNDLE_TXS = 5
MAX_STATUS_IDS = 5
BundleState = Literal["Pending", "Landed", "Failed", "Invalid"]


# ---------------------------------------------------------------------------------------------
# Errors


class InvalidBundle(RpcError):
    """Refused before any I/O: no transaction or more than 5, bytes that are not a signed transaction, or a
    status request for no id or more than 5."""


class BundleRejected(JsonRpcError):
    """sendBundle answered a JSON-RPC error: the block engine refused the bundle (``code``, ``message``)."""


class TipAccountNotLocked(BundleRejected):
    """The bundle write-locks no tip account (the block engine's "Bundles must write lock at least one tip
    account" error): tip one of `JitoClient.get_tip_accounts`, fetched afresh."""


def bundle_rejected(err: JsonRpcError) -> BundleRejected:
    """The typed sendBundle refusal for a JSON-RPC error (same code, message and data)."""
    # The block engine sends no code of its own for a missing tip: its message is the only signal.
    cls = TipAccountNotLocked if "tip account" in err.message.lower() else BundleRejected
    return cls(err.code, err.message, err.data)


# ---------------------------------------------------------------------------------------------
# Typed results


class BundleStatus(msgspec.Struct, frozen=True):
    """A landed bundle (getBundleStatuses); ``err`` is None when it succeeded (the wire's ``{"Ok": null}``)."""

    bundle_id: str
    transactions: list[str]
    slot: int
    confirmation_status: str | None
    err: Any


class BundleStatusesAt(msgspec.Struct, frozen=True):
    """One entry per requested id, in request order: its `BundleStatus`, or None (unknown or not landed)."""

    slot: int
    statuses: list[BundleStatus | None]


class InflightStatus(msgspec.Struct, frozen=True, gc=False):
    bundle_id: str
    status: BundleState
    landed_slot: int | None


class InflightStatusesAt(msgspec.Struct, frozen=True):
    """One entry per requested id, in request order (an id the engine left out counts as Invalid)."""

    slot: int
    statuses: list[InflightStatus]


class _Context(msgspec.Struct):
    slot: int


class _WireBundleStatus(msgspec.Struct):
    bundle_id: str
    transactions: list[str] = []
    slot: int = 0
    confirmation_status: str | None = None
    confirmation_status_camel: str | None = msgspec.field(default=None, name="confirmationStatus")
    err: Any = None


class _WireStatuses(msgspec.Struct):
    context: _Context
    value: list[_WireBundleStatus | None] | None = None


class _WireInflight(msgspec.Struct):
    bundle_id: str
    status: BundleState
    landed_slot: int | None = None


class _WireInflights(msgspec.Struct):
    context: _Context
    value: list[_WireInflight | None] | None = None


def _decoder(wire: Any) -> Callable[[bytes], Any]:
    """A parser of ``result`` JSON into ``wire``; shape errors become `MalformedResponse`."""
    decode = msgspec.json.Decoder(wire).decode

    def parse(raw: bytes) -> Any:
        try:
            return decode(raw)
        except msgspec.DecodeError as err:
            raise MalformedResponse(f"unexpected result shape: {err}", bytes(raw)) from err

    return parse


_STATUSES = _decoder(_WireStatuses)
_INFLIGHTS = _decoder(_WireInflights)
_STRING = _decoder(str)
_STRINGS = _decoder(list[str])


def _bundle_status(w: _WireBundleStatus) -> BundleStatus:
    err = None if w.err is None or w.err == {"Ok": None} else w.err
    return BundleStatus(
        w.bundle_id, w.transactions, w.slot, w.confirmation_status or w.confirmation_status_camel, err
    )


def _parse_statuses(ids: list[str]) -> Callable[[bytes], BundleStatusesAt]:
    def parse(raw: bytes) -> BundleStatusesAt:
        w: _WireStatuses = _STATUSES(raw)
        found = {s.bundle_id: s for s in w.value or () if s is not None}
        return BundleStatusesAt(
            w.context.slot, [_bundle_status(found[i]) if i in found else None for i in ids]
        )

    return parse


def _parse_inflights(ids: list[str]) -> Callable[[bytes], InflightStatusesAt]:
    def parse(raw: bytes) -> InflightStatusesAt:
        w: _WireInflights = _INFLIGHTS(raw)
        found = {s.bundle_id: s for s in w.value or () if s is not None}
        out = []
        for i in ids:
            s = found.get(i)
            out.append(
                InflightStatus(i, "Invalid", None)
                if s is None
                else InflightStatus(i, s.status, s.landed_slot)
            )
        return InflightStatusesAt(w.context.slot, out)

    return parse


def _parse_tip_accounts(raw: bytes) -> list[str]:
    accounts: list[str] = _STRINGS(raw)
    if not accounts:
        raise MalformedResponse("getTipAccounts returned no account", bytes(raw))
    for text in accounts:
        try:
            Pubkey.from_string(text)
        except ValueError as err:
            raise MalformedResponse(f"tip account {text!r} is not a base-58 public key", bytes(raw)) from err
    return accounts


# ---------------------------------------------------------------------------------------------
# Builders


def bundle_id(signatures: Sequence[str]) -> str:
    """Jito's bundle id of transactions with these (base58) first signatures."""
    return hashlib.sha256(",".join(signatures).encode()).hexdigest()


def _signatures(txs: Sequence[bytes]) -> list[str]:
    if not 1 <= len(txs) <= MAX_BUNDLE_TXS:
        raise InvalidBundle(f"a bundle holds 1 to {MAX_BUNDLE_TXS} transactions, got {len(txs)}")
    sigs = []
    for i, tx in enumerate(txs):
        try:
            sigs.append(signature_of(tx))
        except MalformedResponse as err:
            raise InvalidBundle(f"transaction #{i}: {err}") from err
    return sigs


def bundle_id_of(txs: Sequence[bytes]) -> str:
    """The bundle id of signed wire transactions (what sendBundle will answer)."""
    return bundle_id(_signatures(txs))


def send_bundle(txs: Sequence[bytes]) -> Call[str]:
    """sendBundle of 1 to 5 signed wire transactions (sent base64); the result is the bundle id."""
    _signatures(txs)
    encoded = ",".join(f'"{pybase64.b64encode(tx).decode()}"' for tx in txs)
    return Call("sendBundle", b'[[%s],{"encoding":"base64"}]' % encoded.encode(), _STRING)


def _ids(ids: Sequence[str]) -> list[str]:
    if not 1 <= len(ids) <= MAX_STATUS_IDS:
        raise InvalidBundle(f"bundle status requests take 1 to {MAX_STATUS_IDS} ids, got {len(ids)}")
    return list(ids)


def get_bundle_statuses(ids: Sequence[str]) -> Call[BundleStatusesAt]:
    checked = _ids(ids)
    return Call("getBundleStatuses", msgspec.json.encode([checked]), _parse_statuses(checked))


def get_inflight_bundle_statuses(ids: Sequence[str]) -> Call[InflightStatusesAt]:
    checked = _ids(ids)
    return Call("getInflightBundleStatuses", msgspec.json.encode([checked]), _parse_inflights(checked))


def get_tip_accounts() -> Call[list[str]]:
    """getTipAccounts: the accounts a tip may be paid to (checked to be public keys)."""
    return Call("getTipAccounts", b"[]", _parse_tip_accounts)


# ---------------------------------------------------------------------------------------------
# I/O


class JitoClient:
    """Typed block-engine methods at ``url`` (its ``/api/v1/bundles`` endpoint) over an `RpcClient`'s
    transport (default: a raw HTTP/1.1 keep-alive `HttpTransport`). Raises `RpcError` variants only;
    sendBundle refusals as `BundleRejected` / `TipAccountNotLocked`."""

    def __init__(
        self, url: str, *, timeout_s: float = 5.0, connections: int = 2, transport: Transport | None = None
    ) -> None:
        self.url = url
        self.rpc = RpcClient(url, timeout_s=timeout_s, connections=connections, transport=transport)

    async def __aenter__(self) -> JitoClient:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.rpc.close()

    async def send_bundle(self, txs: Sequence[bytes], *, timeout_s: float | None = None) -> str:
        """Submit signed wire transactions as one bundle; returns the bundle id."""
        call = send_bundle(txs)
        try:
            return await self.rpc.call(call, timeout_s=timeout_s)
        except JsonRpcError as err:
            raise bundle_rejected(err) from err

    async def get_bundle_statuses(self, ids: Sequence[str]) -> BundleStatusesAt:
        return await self.rpc.call(get_bundle_statuses(ids))

    async def get_inflight_bundle_statuses(self, ids: Sequence[str]) -> InflightStatusesAt:
        return await self.rpc.call(get_inflight_bundle_statuses(ids))

    async def get_tip_accounts(self) -> list[str]:
        return await self.rpc.call(get_tip_accounts())


class JitoSender:
    """A `rpc.submit.Sender` that submits each signed transaction (its tip inside) as a one-transaction
    bundle to every block engine in ``clients`` at once. Returns the transaction's signature once every
    engine has answered and at least one accepted it; `AllEndpointsFailed` (errors by url) if none did.
    ``bundle_ids`` maps each sent signature to its bundle id, for the status methods."""

    def __init__(self, clients: Sequence[JitoClient], *, timeout_s: float | None = None) -> None:
        if not clients:
            raise ValueError("JitoSender needs at least one block engine client")
        self.clients = list(clients)
        self.timeout_s = timeout_s
        self.bundle_ids: dict[str, str] = {}

    async def send(self, tx_bytes: bytes) -> str:
        signature = _signatures([tx_bytes])[0]
        answers = await asyncio.gather(
            *(c.send_bundle([tx_bytes], timeout_s=self.timeout_s) for c in self.clients),
            return_exceptions=True,
        )
        errors: dict[str, RpcError] = {}
        accepted = False
        for client, answer in zip(self.clients, answers):
            if isinstance(answer, str):
                self.bundle_ids[signature] = answer
                accepted = True
            elif isinstance(answer, RpcError):
                errors[client.url] = answer
            else:
                raise answer  # not an RpcError: a bug or a cancellation, never swallowed
        if not accepted:
            raise AllEndpointsFailed(errors)
        return signature
