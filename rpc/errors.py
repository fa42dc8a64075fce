"""Typed errors of the ``rpc`` package: one root (`RpcError`), variants that carry data.

Server error codes follow agave's ``rpc-client-api`` ``custom_error.rs`` (-32002 preflight failure,
-32003 signature verification failure, -32005 node unhealthy with ``numSlotsBehind``, -32016 minimum
context slot not reached) and the JSON-RPC 2.0 spec (-32601 method not found, -32602 invalid params).
"""

from __future__ import annotations

from typing import Any

# JSON-RPC 2.0 reserved codes.
CODE_PARSE_ERROR = -32700
CODE_INVALID_REQUEST = -32600
CODE_METHOD_NOT_FOUND = -32601
CODE_INVALID_PARAMS = -32602
CODE_INTERNAL_ERROR = -32603
# Solana server codes (agave rpc-client-api custom_error.rs).
CODE_BLOCK_CLEANED_UP = -32001
CODE_PREFLIGHT_FAILURE = -32002
CODE_SIGNATURE_VERIFICATION_FAILURE = -32003
CODE_BLOCK_NOT_AVAILABLE = -32004
CODE_NODE_UNHEALTHY = -32005
CODE_SLOT_SKIPPED = -32007
CODE_BLOCK_STATUS_NOT_AVAILABLE_YET = -32014
CODE_MIN_CONTEXT_SLOT_NOT_REACHED = -32016


class RpcError(Exception):
    """Root of every error raised by the ``rpc`` package.

    Variants that name an endpoint carry it as ``endpoint``: its redacted URL (`rpc.redact.redact_url`,
    scheme, host and port only) or its configured name, never the raw URL with its API key.
    """


class TransportError(RpcError):
    """The connection failed: refused, reset, closed mid-response, TLS or websocket failure."""

    def __init__(self, endpoint: str, detail: str) -> None:
        super().__init__(f"{endpoint}: {detail}")
        self.endpoint = endpoint
        self.detail = detail


class Timeout(RpcError):
    """No complete response within ``timeout_s``."""

    def __init__(self, endpoint: str, timeout_s: float) -> None:
        super().__init__(f"{endpoint}: no response within {timeout_s:g} s")
        self.endpoint = endpoint
        self.timeout_s = timeout_s


class HttpStatusError(RpcError):
    """A non-200 HTTP status; ``retry_after_s`` is the parsed Retry-After header, if any."""

    def __init__(self, endpoint: str, status: int, retry_after_s: float | None, body: bytes = b"") -> None:
        snippet = body[:200].decode("utf-8", "replace")
        super().__init__(f"{endpoint}: HTTP {status}: {snippet}")
        self.endpoint = endpoint
        self.status = status
        self.retry_after_s = retry_after_s
        self.body = body


class RateLimited(HttpStatusError):
    """HTTP 429 Too Many Requests."""


class MalformedResponse(RpcError):
    """The response was not the JSON-RPC shape expected for the method."""

    def __init__(self, detail: str, body: bytes = b"") -> None:
        super().__init__(detail)
        self.detail = detail
        self.body = body


class JsonRpcError(RpcError):
    """The node answered with a JSON-RPC ``error`` object."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class PreflightFailed(JsonRpcError):
    """-32002: the node simulated the transaction before sending and it failed."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        sim = data if isinstance(data, dict) else {}
        self.err: Any = sim.get("err")
        logs = sim.get("logs")
        self.logs: list[str] = [str(x) for x in logs] if isinstance(logs, list) else []
        units = sim.get("unitsConsumed")
        self.units_consumed: int | None = units if isinstance(units, int) else None


class BlockhashNotFound(PreflightFailed):
    """-32002 with ``err == "BlockhashNotFound"``: the transaction's blockhash is unknown to the node."""


class SignatureVerifyFailed(JsonRpcError):
    """-32003: a signature of the transaction does not verify."""


class NodeUnhealthy(JsonRpcError):
    """-32005: the node reports itself unhealthy (``numSlotsBehind`` unknown)."""


class NodeBehind(NodeUnhealthy):
    """-32005 with ``numSlotsBehind``: the node lags the cluster by ``slots_behind`` slots."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        behind = data.get("numSlotsBehind") if isinstance(data, dict) else None
        self.slots_behind: int = behind if isinstance(behind, int) else 0


class MinContextSlotNotReached(JsonRpcError):
    """-32016: the node has not reached the requested ``minContextSlot`` yet."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        slot = data.get("contextSlot") if isinstance(data, dict) else None
        self.context_slot: int | None = slot if isinstance(slot, int) else None


class InvalidParams(JsonRpcError):
    """-32602: the request's params were rejected."""


class MethodNotFound(JsonRpcError):
    """-32601: the node does not serve this method."""


class SubscriptionFailed(RpcError):
    """A PubSub subscribe request was refused; ``key`` is the caller's handle."""

    def __init__(self, method: str, key: int, cause: RpcError) -> None:
        super().__init__(f"{method} for key {key} failed: {cause}")
        self.method = method
        self.key = key
        self.cause = cause


class CallbackFailed(RpcError):
    """A caller's callback raised while handling ``kind`` (e.g. an account notification)."""

    def __init__(self, kind: str, cause: BaseException) -> None:
        super().__init__(f"{kind} callback raised {type(cause).__name__}: {cause}")
        self.kind = kind
        self.cause = cause


class EndpointUnavailable(RpcError):
    """The endpoint was not asked: backed off (Retry-After), circuit open, or local rate limit spent."""

    def __init__(self, endpoint: str, detail: str) -> None:
        super().__init__(f"{endpoint}: not asked: {detail}")
        self.endpoint = endpoint
        self.detail = detail


class AllEndpointsFailed(RpcError):
    """Every endpoint of a fan-out failed; ``errors`` holds one typed error per endpoint, by name."""

    def __init__(self, errors: dict[str, RpcError]) -> None:
        detail = "; ".join(f"{name}: {err}" for name, err in errors.items()) or "no endpoint available"
        super().__init__(f"all endpoints failed: {detail}")
        self.errors = errors


def json_rpc_error(code: int, message: str, data: Any = None) -> JsonRpcError:
    """Map a JSON-RPC ``error`` object to its most specific typed variant."""
    if code == CODE_PREFLIGHT_FAILURE:
        if isinstance(data, dict) and data.get("err") == "BlockhashNotFound":
            return BlockhashNotFound(code, message, data)
        return PreflightFailed(code, message, data)
    if code == CODE_SIGNATURE_VERIFICATION_FAILURE:
        return SignatureVerifyFailed(code, message, data)
    if code == CODE_NODE_UNHEALTHY:
        if isinstance(data, dict) and isinstance(data.get("numSlotsBehind"), int):
            return NodeBehind(code, message, data)
        return NodeUnhealthy(code, message, data)
    if code == CODE_MIN_CONTEXT_SLOT_NOT_REACHED:
        return MinContextSlotNotReached(code, message, data)
    if code == CODE_INVALID_PARAMS:
        return InvalidParams(code, message, data)
    if code == CODE_METHOD_NOT_FOUND:
        return MethodNotFound(code, message, data)
    return JsonRpcError(code, message, data)


# Codes where asking again (same node later, or another node) can succeed.
_RETRYABLE_CODES = frozenset(
    {
        CODE_INTERNAL_ERROR,
        CODE_BLOCK_NOT_AVAILABLE,
        CODE_NODE_UNHEALTHY,
        CODE_BLOCK_STATUS_NOT_AVAILABLE_YET,
        CODE_MIN_CONTEXT_SLOT_NOT_REACHED,
    }
)


def is_retryable(err: BaseException) -> bool:
    """True when the same request may succeed if repeated (after a backoff, or on another endpoint).

    Transport failures, timeouts, 429 and 5xx, and node-side transient states (unhealthy, behind, min
    context slot not reached) are retryable. Preflight failures, bad signatures, invalid params and
    malformed responses are not: repeating the same bytes gives the same answer. A send may be
    repeated safely because a signed transaction is deduplicated by its signature.
    """
    if isinstance(err, (TransportError, Timeout, RateLimited, EndpointUnavailable)):
        return True
    if isinstance(err, HttpStatusError):
        return err.status >= 500 or err.status == 408
    if isinstance(err, PreflightFailed):
        return False
    if isinstance(err, JsonRpcError):
        return err.code in _RETRYABLE_CODES
    if isinstance(err, AllEndpointsFailed):
        return any(is_retryable(e) for e in err.errors.values())
    return False
