"""Typed async Solana JSON-RPC: `RpcMethods` (every method, over ``call`` / ``batch``) and `RpcClient`
(one endpoint over a pluggable transport, raw HTTP/1.1 by default). `rpc.pool.PoolClient` implements the
same methods over a pool of endpoints with fail-over."""

from __future__ import annotations

import abc
import itertools
from collections.abc import Sequence
from types import TracebackType
from typing import Any, TypeVar

from rpc import requests as rq
from rpc.http import HttpTransport, Transport
from rpc.redact import redact_url
from rpc.requests import (
    AccountAt,
    AccountsAt,
    BalanceAt,
    Call,
    Commitment,
    EpochInfo,
    Filter,
    KeyedAccount,
    LatestBlockhash,
    PrioritizationFee,
    SignatureStatusesAt,
    Simulation,
    TokenBalance,
    TransactionRecord,
)

T = TypeVar("T")
Self = TypeVar("Self", bound="RpcMethods")


class RpcMethods(abc.ABC):
    """The typed JSON-RPC methods, each built with `rpc.requests` and run by `call`.

    Every method raises `rpc.errors.RpcError` variants only. ``endpoint`` names where requests go
    (redacted: scheme, host and port).
    """

    @property
    @abc.abstractmethod
    def endpoint(self) -> str:
        """Where requests go, redacted (scheme, host and port only)."""

    @abc.abstractmethod
    async def call(self, call: Call[T], *, timeout_s: float | None = None) -> T:
        """Send one built request and return its typed result."""

    @abc.abstractmethod
    async def batch(self, calls: Sequence[Call[Any]], *, timeout_s: float | None = None) -> list[Any]:
        """Send calls as one JSON-RPC batch; per call, its result or the `RpcError` it got, in order."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release what this client owns."""

    async def __aenter__(self: Self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- typed methods (one per request builder) ------------------------------------------------

    async def get_account_info(
        self,
        pubkey: str,
        *,
        commitment: Commitment | None = None,
        data_slice: tuple[int, int] | None = None,
        min_context_slot: int | None = None,
    ) -> AccountAt:
        return await self.call(
            rq.get_account_info(
                pubkey, commitment=commitment, data_slice=data_slice, min_context_slot=min_context_slot
            )
        )

    async def get_multiple_accounts(
        self,
        pubkeys: Sequence[str],
        *,
        commitment: Commitment | None = None,
        data_slice: tuple[int, int] | None = None,
        min_context_slot: int | None = None,
    ) -> AccountsAt:
        return await self.call(
            rq.get_multiple_accounts(
                pubkeys, commitment=commitment, data_slice=data_slice, min_context_slot=min_context_slot
            )
        )

    async def get_program_accounts(
        self,
        program_id: str,
        *,
        filters: Sequence[Filter] = (),
        commitment: Commitment | None = None,
        data_slice: tuple[int, int] | None = None,
        min_context_slot: int | None = None,
    ) -> list[KeyedAccount]:
        return await self.call(
            rq.get_program_accounts(
                program_id,
                filters=filters,
                commitment=commitment,
                data_slice=data_slice,
                min_context_slot=min_context_slot,
            )
        )

    async def get_latest_blockhash(
        self, *, commitment: Commitment | None = None, min_context_slot: int | None = None
    ) -> LatestBlockhash:
        return await self.call(
            rq.get_latest_blockhash(commitment=commitment, min_context_slot=min_context_slot)
        )

    async def get_slot(
        self, *, commitment: Commitment | None = None, min_context_slot: int | None = None
    ) -> int:
        return await self.call(rq.get_slot(commitment=commitment, min_context_slot=min_context_slot))

    async def get_block_height(
        self, *, commitment: Commitment | None = None, min_context_slot: int | None = None
    ) -> int:
        return await self.call(rq.get_block_height(commitment=commitment, min_context_slot=min_context_slot))

    async def get_health(self) -> str:
        return await self.call(rq.get_health())

    async def get_balance(
        self, pubkey: str, *, commitment: Commitment | None = None, min_context_slot: int | None = None
    ) -> BalanceAt:
        return await self.call(
            rq.get_balance(pubkey, commitment=commitment, min_context_slot=min_context_slot)
        )

    async def get_token_account_balance(
        self, pubkey: str, *, commitment: Commitment | None = None
    ) -> TokenBalance:
        return await self.call(rq.get_token_account_balance(pubkey, commitment=commitment))

    async def send_transaction(
        self,
        tx: bytes,
        *,
        skip_preflight: bool = True,
        max_retries: int | None = None,
        preflight_commitment: Commitment | None = None,
        min_context_slot: int | None = None,
        timeout_s: float | None = None,
    ) -> str:
        return await self.call(
            rq.send_transaction(
                tx,
                skip_preflight=skip_preflight,
                max_retries=max_retries,
                preflight_commitment=preflight_commitment,
                min_context_slot=min_context_slot,
            ),
            timeout_s=timeout_s,
        )

    async def simulate_transaction(
        self,
        tx: bytes,
        *,
        sig_verify: bool = False,
        replace_recent_blockhash: bool = False,
        commitment: Commitment | None = None,
        accounts: Sequence[str] | None = None,
        min_context_slot: int | None = None,
    ) -> Simulation:
        return await self.call(
            rq.simulate_transaction(
                tx,
                sig_verify=sig_verify,
                replace_recent_blockhash=replace_recent_blockhash,
                commitment=commitment,
                accounts=accounts,
                min_context_slot=min_context_slot,
            )
        )

    async def get_signature_statuses(
        self, signatures: Sequence[str], *, search_transaction_history: bool = False
    ) -> SignatureStatusesAt:
        return await self.call(
            rq.get_signature_statuses(signatures, search_transaction_history=search_transaction_history)
        )

    async def get_transaction(
        self,
        signature: str,
        *,
        commitment: Commitment | None = None,
        max_supported_transaction_version: int = 0,
    ) -> TransactionRecord | None:
        return await self.call(
            rq.get_transaction(
                signature,
                commitment=commitment,
                max_supported_transaction_version=max_supported_transaction_version,
            )
        )

    async def get_recent_prioritization_fees(self, accounts: Sequence[str] = ()) -> list[PrioritizationFee]:
        return await self.call(rq.get_recent_prioritization_fees(accounts))

    async def get_minimum_balance_for_rent_exemption(
        self, data_len: int, *, commitment: Commitment | None = None
    ) -> int:
        return await self.call(rq.get_minimum_balance_for_rent_exemption(data_len, commitment=commitment))

    async def request_airdrop(
        self, pubkey: str, lamports: int, *, commitment: Commitment | None = None
    ) -> str:
        return await self.call(rq.request_airdrop(pubkey, lamports, commitment=commitment))

    async def get_epoch_info(
        self, *, commitment: Commitment | None = None, min_context_slot: int | None = None
    ) -> EpochInfo:
        return await self.call(rq.get_epoch_info(commitment=commitment, min_context_slot=min_context_slot))


class RpcClient(RpcMethods):
    """`RpcMethods` on one endpoint; the I/O is the ``transport``'s (default: `HttpTransport` to ``url``).

    Build the same requests without I/O with `rpc.requests` and run them with `call` / `batch`.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        connections: int = 2,
        transport: Transport | None = None,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.transport: Transport = transport or HttpTransport(url, connections=connections)
        self._endpoint = redact_url(url)
        self._ids = itertools.count(1)

    @property
    def endpoint(self) -> str:
        return self._endpoint

    async def close(self) -> None:
        await self.transport.close()

    async def call(self, call: Call[T], *, timeout_s: float | None = None) -> T:
        """Send one built request and return its typed result."""
        req_id = next(self._ids)
        body = await self.transport.request(call.encode(req_id), timeout_s or self.timeout_s)
        return rq.parse_response(body, call, req_id)

    async def batch(self, calls: Sequence[Call[Any]], *, timeout_s: float | None = None) -> list[Any]:
        """Send calls as one JSON-RPC batch; per call, its result or the `RpcError` it got, in order."""
        if not calls:
            return []
        numbered = [(next(self._ids), c) for c in calls]
        body = rq.build_batch([c.encode(i) for i, c in numbered])
        reply = await self.transport.request(body, timeout_s or self.timeout_s)
        return rq.parse_batch(reply, numbered)
