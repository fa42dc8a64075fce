"""localnet's error root and the JSON-RPC errors it reports the way a validator does."""

from __future__ import annotations

from typing import Any

# JSON-RPC 2.0 and Solana validator error codes (agave rpc/src/custom_error.rs).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
BLOCK_NOT_AVAILABLE = -32004
SEND_TX_PREFLIGHT_FAILURE = -32002
TX_SIGNATURE_VERIFICATION_FAILURE = -32003
TX_PRECOMPILE_VERIFICATION_FAILURE = -32013
MIN_CONTEXT_SLOT_NOT_REACHED = -32016


class LocalnetError(Exception):
    """Root of localnet's own errors."""


class LoadError(LocalnetError):
    """A program, account file or clone source could not be loaded (one line says which and why)."""


class ListenError(LocalnetError):
    """A listening socket could not be opened (port in use, bad address)."""


class RpcFault(LocalnetError):
    """A JSON-RPC error object to send back: `code`, `message` and optional `data`."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_obj(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


def invalid_params(detail: str) -> RpcFault:
    return RpcFault(INVALID_PARAMS, f"Invalid params: {detail}.")
