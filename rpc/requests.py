"""Sans-I/O Solana JSON-RPC: pure request builders (bytes out) and typed response parsers.

A builder returns a `Call`: the method, its params already encoded as JSON, and the parser of its
``result``. ``call.encode(req_id)`` gives the exact request body, so builders are testable
byte-for-byte without a network; `parse_response` / `parse_batch` turn a body into typed values or
typed errors (`rpc.errors`). Account data is always requested as base64 and decoded with pybase64.
Field names follow the Solana JSON-RPC reference (solana.com/docs/rpc/http).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Sequence
from typing import Any, Generic, Literal, TypeVar

import msgspec
import orjson
import pybase64

from rpc.errors import MalformedResponse, RpcError, json_rpc_error

T = TypeVar("T")
Commitment = Literal["processed", "confirmed", "finalized"]
Filter = dict[str, Any]


class Call(Generic[T]):
    """One JSON-RPC call, not yet numbered: method, encoded params, parser of the ``result`` JSON.

    A plain slotted class (a frozen dataclass costs ~1.5 µs more per request on this host).
    """

    __slots__ = ("method", "params", "parse_result")

    def __init__(self, method: str, params: bytes, parse_result: Callable[[bytes], T]) -> None:
        self.method = method
        self.params = params
        self.parse_result = parse_result

    def encode(self, req_id: int) -> bytes:
        """The request body with id ``req_id``."""
        return b'{"jsonrpc":"2.0","id":%d,"method":"%s","params":%s}' % (
            req_id,
            self.method.encode(),
            self.params,
        )

    def __repr__(self) -> str:
        return f"Call({self.method!r}, {self.params!r})"


def build_batch(bodies: Sequence[bytes]) -> bytes:
    """A JSON-RPC batch body from single request bodies (ids must be distinct)."""
    return b"[" + b",".join(bodies) + b"]"


# ---------------------------------------------------------------------------------------------
# Typed results (public)


class Account(msgspec.Struct, frozen=True, gc=False):
    """An account as returned by the node; ``data`` is the decoded bytes (a slice if one was asked)."""

    lamports: int
    owner: str
    data: bytes
    executable: bool
    rent_epoch: int
    space: int | None


class AccountAt(msgspec.Struct, frozen=True, gc=False):
    slot: int
    account: Account | None


class AccountsAt(msgspec.Struct, frozen=True):
    slot: int
    accounts: list[Account | None]


class KeyedAccount(msgspec.Struct, frozen=True, gc=False):
    pubkey: str
    account: Account


class LatestBlockhash(msgspec.Struct, frozen=True, gc=False):
    slot: int
    blockhash: str
    last_valid_block_height: int


class BalanceAt(msgspec.Struct, frozen=True, gc=False):
    slot: int
    lamports: int


class TokenBalance(msgspec.Struct, frozen=True, gc=False):
    """Raw integer token amount (never the float ``uiAmount``) and the mint's decimals."""

    slot: int
    amount: int
    decimals: int


class Simulation(msgspec.Struct, frozen=True):
    slot: int
    err: Any
    logs: list[str]
    units_consumed: int | None
    accounts: list[Account | None] | None
    return_data: bytes | None
    return_program_id: str | None


class SignatureStatus(msgspec.Struct, frozen=True, gc=False):
    slot: int
    confirmations: int | None
    err: Any
    confirmation_status: str | None


class SignatureStatusesAt(msgspec.Struct, frozen=True):
    slot: int
    statuses: list[SignatureStatus | None]


class TxTokenBalance(msgspec.Struct, frozen=True, gc=False):
    """A token account's balance around a transaction (raw amount, integer)."""

    account_index: int
    mint: str
    owner: str | None
    amount: int


class TransactionRecord(msgspec.Struct, frozen=True):
    slot: int
    block_time: int | None
    transaction: bytes
    err: Any
    fee: int
    pre_balances: list[int]
    post_balances: list[int]
    log_messages: list[str]
    compute_units_consumed: int | None
    pre_token_balances: list[TxTokenBalance] = []
    post_token_balances: list[TxTokenBalance] = []

    def token_delta(self, account_index: int) -> int:
        """Post minus pre raw amount of the token account at `account_index` (0 if it holds none)."""

        def find(rows: list[TxTokenBalance]) -> int:
            return next((r.amount for r in rows if r.account_index == account_index), 0)

        return find(self.post_token_balances) - find(self.pre_token_balances)


class PrioritizationFee(msgspec.Struct, frozen=True, gc=False):
    slot: int
    prioritization_fee: int


class EpochInfo(msgspec.Struct, frozen=True, gc=False):
    absolute_slot: int
    block_height: int
    epoch: int
    slot_index: int
    slots_in_epoch: int
    transaction_count: int | None


# ---------------------------------------------------------------------------------------------
# Wire shapes (private): decoded once by precompiled msgspec decoders, then converted.


class _Context(msgspec.Struct):
    slot: int


class _WireAccount(msgspec.Struct, rename="camel"):
    lamports: int
    owner: str
    data: tuple[str, str]
    executable: bool
    rent_epoch: int
    space: int | None = None


class _AccountCtx(msgspec.Struct):
    context: _Context
    value: _WireAccount | None


class _AccountsCtx(msgspec.Struct):
    context: _Context
    value: list[_WireAccount | None]


class _WireKeyed(msgspec.Struct):
    pubkey: str
    account: _WireAccount


class _BlockhashValue(msgspec.Struct, rename="camel"):
    blockhash: str
    last_valid_block_height: int


class _BlockhashCtx(msgspec.Struct):
    context: _Context
    value: _BlockhashValue


class _IntCtx(msgspec.Struct):
    context: _Context
    value: int


class _TokenAmount(msgspec.Struct):
    amount: str
    decimals: int


class _TokenCtx(msgspec.Struct):
    context: _Context
    value: _TokenAmount


class _ReturnData(msgspec.Struct, rename="camel"):
    program_id: str
    data: tuple[str, str]


class _SimValue(msgspec.Struct, rename="camel"):
    err: Any = None
    logs: list[str] | None = None
    units_consumed: int | None = None
    accounts: list[_WireAccount | None] | None = None
    return_data: _ReturnData | None = None


class _SimCtx(msgspec.Struct):
    context: _Context
    value: _SimValue


class _WireStatus(msgspec.Struct, rename="camel"):
    slot: int
    confirmations: int | None = None
    err: Any = None
    confirmation_status: str | None = None


class _StatusesCtx(msgspec.Struct):
    context: _Context
    value: list[_WireStatus | None]


class _UiTokenAmount(msgspec.Struct, rename="camel"):
    amount: str
    decimals: int = 0


class _WireTokenBalance(msgspec.Struct, rename="camel"):
    account_index: int
    mint: str
    ui_token_amount: _UiTokenAmount
    owner: str | None = None


class _TxMeta(msgspec.Struct, rename="camel"):
    err: Any = None
    fee: int = 0
    pre_balances: list[int] = []
    post_balances: list[int] = []
    pre_token_balances: list[_WireTokenBalance] | None = None
    post_token_balances: list[_WireTokenBalance] | None = None
    log_messages: list[str] | None = None
    compute_units_consumed: int | None = None


class _WireTx(msgspec.Struct, rename="camel"):
    slot: int
    transaction: tuple[str, str]
    meta: _TxMeta | None = None
    block_time: int | None = None


class _WireFee(msgspec.Struct, rename="camel"):
    slot: int
    prioritization_fee: int


class _WireEpochInfo(msgspec.Struct, rename="camel"):
    absolute_slot: int
    block_height: int
    epoch: int
    slot_index: int
    slots_in_epoch: int
    transaction_count: int | None = None


class _WireError(msgspec.Struct):
    code: int
    message: str = ""
    data: Any = None


class _Envelope(msgspec.Struct):
    id: int | str | None = None
    # An empty Raw means "no result member" (distinct from a JSON null result).
    result: msgspec.Raw = msgspec.Raw()
    error: _WireError | None = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_BATCH = msgspec.json.Decoder(list[_Envelope])


def _b64(text: str) -> bytes:
    try:
        return pybase64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise MalformedResponse(f"invalid base64 account data: {err}") from err


def _account(w: _WireAccount) -> Account:
    if w.data[1] != "base64":
        raise MalformedResponse(f"account data encoding {w.data[1]!r}, expected 'base64'")
    return Account(w.lamports, w.owner, _b64(w.data[0]), w.executable, w.rent_epoch, w.space)


def _maybe_account(w: _WireAccount | None) -> Account | None:
    return None if w is None else _account(w)


def _typed(wire: Any, convert: Callable[[Any], T]) -> Callable[[bytes], T]:
    """A result parser: precompiled decoder for ``wire`` then ``convert``; shape errors become typed."""
    decode = msgspec.json.Decoder(wire).decode

    def parse(raw: bytes) -> T:
        try:
            value = decode(raw)
        except msgspec.DecodeError as err:
            raise MalformedResponse(f"unexpected result shape: {err}", bytes(raw)) from err
        return convert(value)

    return parse


def _same(value: T) -> T:
    return value


def _token_balance(w: _TokenCtx) -> TokenBalance:
    try:
        amount = int(w.value.amount)
    except ValueError as err:
        raise MalformedResponse(f"token amount {w.value.amount!r} is not an integer") from err
    return TokenBalance(w.context.slot, amount, w.value.decimals)


def _simulation(w: _SimCtx) -> Simulation:
    v = w.value
    accounts = None if v.accounts is None else [_maybe_account(a) for a in v.accounts]
    ret, ret_prog = None, None
    if v.return_data is not None:
        ret, ret_prog = _b64(v.return_data.data[0]), v.return_data.program_id
    return Simulation(w.context.slot, v.err, v.logs or [], v.units_consumed, accounts, ret, ret_prog)


def _transaction(w: _WireTx | None) -> TransactionRecord | None:
    if w is None:
        return None
    m = w.meta or _TxMeta()
    return TransactionRecord(
        w.slot,
        w.block_time,
        _b64(w.transaction[0]),
        m.err,
        m.fee,
        m.pre_balances,
        m.post_balances,
        m.log_messages or [],
        m.compute_units_consumed,
        _token_balances(m.pre_token_balances),
        _token_balances(m.post_token_balances),
    )


def _token_balances(rows: list[_WireTokenBalance] | None) -> list[TxTokenBalance]:
    try:
        return [
            TxTokenBalance(r.account_index, r.mint, r.owner, int(r.ui_token_amount.amount))
            for r in rows or ()
        ]
    except ValueError as err:
        raise MalformedResponse(f"token balance amount is not an integer: {err}") from err


_PARSE_INT = _typed(int, _same)
_PARSE_STR = _typed(str, _same)
_PARSE_ACCOUNT = _typed(_AccountCtx, lambda w: AccountAt(w.context.slot, _maybe_account(w.value)))
_PARSE_ACCOUNTS = _typed(
    _AccountsCtx, lambda w: AccountsAt(w.context.slot, [_maybe_account(a) for a in w.value])
)
_PARSE_PROGRAM_ACCOUNTS = _typed(
    list[_WireKeyed], lambda ws: [KeyedAccount(k.pubkey, _account(k.account)) for k in ws]
)
_PARSE_BLOCKHASH = _typed(
    _BlockhashCtx,
    lambda w: LatestBlockhash(w.context.slot, w.value.blockhash, w.value.last_valid_block_height),
)
_PARSE_BALANCE = _typed(_IntCtx, lambda w: BalanceAt(w.context.slot, w.value))
_PARSE_TOKEN_BALANCE = _typed(_TokenCtx, _token_balance)
_PARSE_SIMULATION = _typed(_SimCtx, _simulation)
_PARSE_STATUSES = _typed(
    _StatusesCtx,
    lambda w: SignatureStatusesAt(
        w.context.slot,
        [
            None if s is None else SignatureStatus(s.slot, s.confirmations, s.err, s.confirmation_status)
            for s in w.value
        ],
    ),
)
_PARSE_TRANSACTION = _typed(_WireTx | None, _transaction)
_PARSE_FEES = _typed(list[_WireFee], lambda ws: [PrioritizationFee(f.slot, f.prioritization_fee) for f in ws])
_PARSE_EPOCH_INFO = _typed(
    _WireEpochInfo,
    lambda w: EpochInfo(
        w.absolute_slot, w.block_height, w.epoch, w.slot_index, w.slots_in_epoch, w.transaction_count
    ),
)


# ---------------------------------------------------------------------------------------------
# Envelope parsing


def _decode_envelope(body: bytes) -> _Envelope:
    try:
        return _ENVELOPE.decode(body)
    except msgspec.DecodeError as err:
        raise MalformedResponse(f"not a JSON-RPC response: {err}", bytes(body[:500])) from err


def _result_of(env: _Envelope, body: bytes) -> bytes:
    if env.error is not None:
        e = env.error
        raise json_rpc_error(e.code, e.message, e.data)
    if not env.result:
        raise MalformedResponse("JSON-RPC response has neither result nor error", bytes(body[:500]))
    return env.result  # msgspec.Raw is a bytes-like buffer the decoders accept


def parse_response(body: bytes, call: Call[T], req_id: int | None = None) -> T:
    """Parse a single response body for ``call``; raise the typed error it carries.

    When ``req_id`` is given the response's id must match it (a mismatch means a desynchronised
    connection and raises `MalformedResponse`).
    """
    env = _decode_envelope(body)
    if req_id is not None and env.id != req_id and env.error is None:
        raise MalformedResponse(f"response id {env.id!r} does not match request id {req_id}")
    return call.parse_result(_result_of(env, body))


def parse_batch(body: bytes, calls: Sequence[tuple[int, Call[Any]]]) -> list[Any]:
    """Parse a batch response: one value or `RpcError` per ``(req_id, call)``, in the calls' order.

    Responses are matched by id (servers may reorder them); a missing response becomes a
    `MalformedResponse` entry. A non-list body (a whole-batch error) raises.
    """
    try:
        envs = _BATCH.decode(body)
    except msgspec.DecodeError as err:
        env = _decode_envelope(body)  # a single error object answers an invalid batch
        _result_of(env, body)
        raise MalformedResponse("batch response is not a list", bytes(body[:500])) from err
    by_id = {e.id: e for e in envs}
    out: list[Any] = []
    for req_id, call in calls:
        found = by_id.get(req_id)
        if found is None:
            out.append(MalformedResponse(f"batch response lacks id {req_id}"))
            continue
        try:
            out.append(call.parse_result(_result_of(found, body)))
        except RpcError as err:
            out.append(err)
    return out


# ---------------------------------------------------------------------------------------------
# Builders


def _config(**fields: Any) -> dict[str, Any] | None:
    """The config object with only the fields that are set, in the order given (None if empty)."""
    for v in fields.values():
        if v is None:
            return {k: v for k, v in fields.items() if v is not None} or None
    return fields


def _params(*positional: Any, config: dict[str, Any] | None = None) -> bytes:
    if config:
        return orjson.dumps([*positional, config])
    return orjson.dumps(positional) if positional else b"[]"


def _slice(data_slice: tuple[int, int] | None) -> dict[str, int] | None:
    return None if data_slice is None else {"offset": data_slice[0], "length": data_slice[1]}


def get_account_info(
    pubkey: str,
    *,
    commitment: Commitment | None = None,
    data_slice: tuple[int, int] | None = None,
    min_context_slot: int | None = None,
) -> Call[AccountAt]:
    """getAccountInfo, base64 data; ``data_slice`` is ``(offset, length)``."""
    cfg = _config(
        encoding="base64",
        commitment=commitment,
        dataSlice=_slice(data_slice),
        minContextSlot=min_context_slot,
    )
    return Call("getAccountInfo", _params(pubkey, config=cfg), _PARSE_ACCOUNT)


def get_multiple_accounts(
    pubkeys: Sequence[str],
    *,
    commitment: Commitment | None = None,
    data_slice: tuple[int, int] | None = None,
    min_context_slot: int | None = None,
) -> Call[AccountsAt]:
    """getMultipleAccounts (the node caps it at 100 keys), base64 data, one slot for all accounts."""
    cfg = _config(
        encoding="base64",
        commitment=commitment,
        dataSlice=_slice(data_slice),
        minContextSlot=min_context_slot,
    )
    return Call("getMultipleAccounts", _params(list(pubkeys), config=cfg), _PARSE_ACCOUNTS)


def data_size_filter(size: int) -> Filter:
    """getProgramAccounts filter: account data length equals ``size``."""
    return {"dataSize": size}


def memcmp_filter(offset: int, bytes_b58: str) -> Filter:
    """getProgramAccounts / programSubscribe filter: data at ``offset`` equals the base58 bytes."""
    return {"memcmp": {"offset": offset, "bytes": bytes_b58}}


def get_program_accounts(
    program_id: str,
    *,
    filters: Sequence[Filter] = (),
    commitment: Commitment | None = None,
    data_slice: tuple[int, int] | None = None,
    min_context_slot: int | None = None,
) -> Call[list[KeyedAccount]]:
    """getProgramAccounts, base64 data, without context."""
    cfg = _config(
        encoding="base64",
        commitment=commitment,
        dataSlice=_slice(data_slice),
        filters=list(filters) or None,
        minContextSlot=min_context_slot,
    )
    return Call("getProgramAccounts", _params(program_id, config=cfg), _PARSE_PROGRAM_ACCOUNTS)


def get_latest_blockhash(
    *, commitment: Commitment | None = None, min_context_slot: int | None = None
) -> Call[LatestBlockhash]:
    cfg = _config(commitment=commitment, minContextSlot=min_context_slot)
    return Call("getLatestBlockhash", _params(config=cfg), _PARSE_BLOCKHASH)


def get_slot(*, commitment: Commitment | None = None, min_context_slot: int | None = None) -> Call[int]:
    cfg = _config(commitment=commitment, minContextSlot=min_context_slot)
    return Call("getSlot", _params(config=cfg), _PARSE_INT)


def get_block_height(
    *, commitment: Commitment | None = None, min_context_slot: int | None = None
) -> Call[int]:
    cfg = _config(commitment=commitment, minContextSlot=min_context_slot)
    return Call("getBlockHeight", _params(config=cfg), _PARSE_INT)


def get_health() -> Call[str]:
    """getHealth: ``"ok"``, or a `NodeUnhealthy` / `NodeBehind` error."""
    return Call("getHealth", b"[]", _PARSE_STR)


def get_balance(
    pubkey: str, *, commitment: Commitment | None = None, min_context_slot: int | None = None
) -> Call[BalanceAt]:
    cfg = _config(commitment=commitment, minContextSlot=min_context_slot)
    return Call("getBalance", _params(pubkey, config=cfg), _PARSE_BALANCE)


def get_token_account_balance(pubkey: str, *, commitment: Commitment | None = None) -> Call[TokenBalance]:
    cfg = _config(commitment=commitment)
    return Call("getTokenAccountBalance", _params(pubkey, config=cfg), _PARSE_TOKEN_BALANCE)


def send_transaction(
    tx: bytes,
    *,
    skip_preflight: bool = True,
    max_retries: int | None = None,
    preflight_commitment: Commitment | None = None,
    min_context_slot: int | None = None,
) -> Call[str]:
    """sendTransaction of signed wire bytes (sent base64); the result is the first signature."""
    cfg = _config(
        encoding="base64",
        skipPreflight=skip_preflight,
        maxRetries=max_retries,
        preflightCommitment=preflight_commitment,
        minContextSlot=min_context_slot,
    )
    return Call("sendTransaction", _params(pybase64.b64encode(tx).decode(), config=cfg), _PARSE_STR)


class SendTemplate:
    """sendTransaction bodies from a template prepared once: per transaction only the base64 of the
    signed bytes (and the request id) is inserted. ``body(tx, req_id)`` equals
    ``send_transaction(tx, ...).encode(req_id)`` byte for byte; ``parse`` reads the reply."""

    __slots__ = ("_call", "_head", "_tail")

    def __init__(
        self,
        *,
        skip_preflight: bool = True,
        max_retries: int | None = 0,
        preflight_commitment: Commitment | None = None,
        min_context_slot: int | None = None,
    ) -> None:
        cfg = _config(
            encoding="base64",
            skipPreflight=skip_preflight,
            maxRetries=max_retries,
            preflightCommitment=preflight_commitment,
            minContextSlot=min_context_slot,
        )
        self._head = b'{"jsonrpc":"2.0","id":'
        # Base64 needs no JSON escaping, so the string is closed by the template's own quote.
        self._tail = b'",' + orjson.dumps(cfg) + b"]}"
        self._call: Call[str] = Call("sendTransaction", b"", _PARSE_STR)

    def body(self, tx: bytes, req_id: int) -> bytes:
        """The request body for signed wire bytes ``tx``."""
        return b'%s%d,"method":"sendTransaction","params":["%s%s' % (
            self._head,
            req_id,
            pybase64.b64encode(tx),
            self._tail,
        )

    def parse(self, reply: bytes, req_id: int) -> str:
        """The signature a reply carries, or its typed error."""
        return parse_response(reply, self._call, req_id)


def simulate_transaction(
    tx: bytes,
    *,
    sig_verify: bool = False,
    replace_recent_blockhash: bool = False,
    commitment: Commitment | None = None,
    accounts: Sequence[str] | None = None,
    min_context_slot: int | None = None,
) -> Call[Simulation]:
    """simulateTransaction; ``accounts`` asks for those accounts' post-simulation state (base64)."""
    cfg = _config(
        encoding="base64",
        sigVerify=sig_verify,
        replaceRecentBlockhash=replace_recent_blockhash,
        commitment=commitment,
        accounts=None if accounts is None else {"encoding": "base64", "addresses": list(accounts)},
        minContextSlot=min_context_slot,
    )
    return Call(
        "simulateTransaction", _params(pybase64.b64encode(tx).decode(), config=cfg), _PARSE_SIMULATION
    )


def get_signature_statuses(
    signatures: Sequence[str], *, search_transaction_history: bool = False
) -> Call[SignatureStatusesAt]:
    cfg = _config(searchTransactionHistory=search_transaction_history or None)
    return Call("getSignatureStatuses", _params(list(signatures), config=cfg), _PARSE_STATUSES)


def get_transaction(
    signature: str, *, commitment: Commitment | None = None, max_supported_transaction_version: int = 0
) -> Call[TransactionRecord | None]:
    """getTransaction, base64 wire bytes; None when the node does not know the signature."""
    cfg = _config(
        encoding="base64",
        commitment=commitment,
        maxSupportedTransactionVersion=max_supported_transaction_version,
    )
    return Call("getTransaction", _params(signature, config=cfg), _PARSE_TRANSACTION)


def get_recent_prioritization_fees(accounts: Sequence[str] = ()) -> Call[list[PrioritizationFee]]:
    """getRecentPrioritizationFees for transactions that write-lock all of ``accounts``."""
    return Call("getRecentPrioritizationFees", _params(list(accounts)) if accounts else b"[]", _PARSE_FEES)


def get_minimum_balance_for_rent_exemption(
    data_len: int, *, commitment: Commitment | None = None
) -> Call[int]:
    cfg = _config(commitment=commitment)
    return Call("getMinimumBalanceForRentExemption", _params(data_len, config=cfg), _PARSE_INT)


def request_airdrop(pubkey: str, lamports: int, *, commitment: Commitment | None = None) -> Call[str]:
    cfg = _config(commitment=commitment)
    return Call("requestAirdrop", _params(pubkey, lamports, config=cfg), _PARSE_STR)


def get_epoch_info(
    *, commitment: Commitment | None = None, min_context_slot: int | None = None
) -> Call[EpochInfo]:
    cfg = _config(commitment=commitment, minContextSlot=min_context_slot)
    return Call("getEpochInfo", _params(config=cfg), _PARSE_EPOCH_INFO)
