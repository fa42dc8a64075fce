"""Wire encodings of accounts, transactions and errors, shaped like agave's RPC output."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import based58
import orjson
import zstandard
from solders.account import Account
from solders.pubkey import Pubkey
from solders.rpc.responses import RpcSimulateTransactionResult
from solders.transaction import VersionedTransaction

from localnet.chain import TokenBalance, TxRecord
from localnet.errors import invalid_params

ACCOUNT_ENCODINGS = ("base58", "base64", "base64+zstd", "jsonParsed")
API_VERSION = "2.2.0"
_ZSTD = zstandard.ZstdCompressor()  # frames carry the content size, as agave's encoder writes them

# Display strings of agave's TransactionError / InstructionError for the -32002 message.
_TX_ERROR_TEXT = {
    "AccountInUse": "Account in use",
    "AccountLoadedTwice": "Account loaded twice",
    "AccountNotFound": "Attempt to debit an account but found no record of a prior credit.",
    "ProgramAccountNotFound": "Attempt to load a program that does not exist",
    "InsufficientFundsForFee": "Insufficient funds for fee",
    "InvalidAccountForFee": "This account may not be used to pay transaction fees",
    "AlreadyProcessed": "This transaction has already been processed",
    "BlockhashNotFound": "Blockhash not found",
    "CallChainTooDeep": "Loader call chain is too deep",
    "MissingSignatureForFee": "Transaction requires a fee but has no signature present",
    "InvalidAccountIndex": "Transaction contains an invalid account reference",
    "SignatureFailure": "Transaction did not pass signature verification",
    "InvalidProgramForExecution": "This program may not be used for executing instructions",
    "SanitizeFailure": "Transaction failed to sanitize accounts offsets correctly",
    "AddressLookupTableNotFound": "Transaction loads an address table account that doesn't exist",
    "InvalidAddressLookupTableOwner": "Transaction loads an address table account with an invalid owner",
    "InvalidAddressLookupTableData": "Transaction loads an address table account with invalid data",
    "InvalidAddressLookupTableIndex": "Transaction address table lookup uses an invalid index",
    "InsufficientFundsForRent": "Transaction results in an account with insufficient funds for rent",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b58(data: bytes) -> str:
    return based58.b58encode(data).decode()


def error_json(err: Any) -> Any:
    """A solders TransactionError as the JSON value agave puts in `err` (None stays None)."""
    if err is None:
        return None
    return orjson.loads(
        RpcSimulateTransactionResult(
            err=err, logs=None, accounts=None, units_consumed=None, return_data=None
        ).to_json()
    )["err"]


def error_text(err_obj: Any) -> str:
    """Display text of a TransactionError JSON value, as in agave's preflight failure message."""
    if isinstance(err_obj, str):
        return _TX_ERROR_TEXT.get(err_obj, err_obj)
    if isinstance(err_obj, dict) and "InstructionError" in err_obj:
        index, ierr = err_obj["InstructionError"]
        if isinstance(ierr, dict) and "Custom" in ierr:
            text = f"custom program error: {ierr['Custom']:#x}"
        else:
            text = str(ierr) if isinstance(ierr, str) else orjson.dumps(ierr).decode()
        return f"Error processing Instruction {index}: {text}"
    return orjson.dumps(err_obj).decode()


def parse_data_slice(cfg: dict[str, Any]) -> tuple[int, int] | None:
    ds = cfg.get("dataSlice")
    if ds is None:
        return None
    try:
        offset, length = int(ds["offset"]), int(ds["length"])
    except (KeyError, TypeError, ValueError) as err:
        raise invalid_params("dataSlice needs integer offset and length") from err
    if offset < 0 or length < 0:
        raise invalid_params("dataSlice offset and length must be >= 0")
    return offset, length


def account_json(
    account: Account | None,
    encoding: str,
    data_slice: tuple[int, int] | None,
    decimals_of: Callable[[Pubkey], int | None] | None = None,
) -> dict[str, Any] | None:
    """UiAccount as agave encodes it (jsonParsed: SPL token accounts/mints parsed, else base64)."""
    if account is None:
        return None
    raw = account.data
    if data_slice is not None:
        raw = raw[data_slice[0] : data_slice[0] + data_slice[1]]
    data: Any
    if encoding == "base64":
        data = [b64(raw), "base64"]
    elif encoding == "base58":
        data = b58(raw)
        data = [data, "base58"]
    elif encoding == "base64+zstd":
        data = [b64(_zstd(raw)), "base64+zstd"]
    else:  # jsonParsed
        parsed = parse_token_account(account, decimals_of) if data_slice is None and decimals_of else None
        data = parsed if parsed is not None else [b64(raw), "base64"]
    return {
        "data": data,
        "executable": account.executable,
        "lamports": account.lamports,
        "owner": str(account.owner),
        "rentEpoch": account.rent_epoch,
        "space": len(account.data),
    }


def _zstd(raw: bytes) -> bytes:
    return bytes(_ZSTD.compress(raw))


def ui_amount(amount: int, decimals: int) -> dict[str, Any]:
    s = str(amount).rjust(decimals + 1, "0")
    whole, frac = (s[:-decimals], s[-decimals:]) if decimals else (s, "")
    frac = frac.rstrip("0")
    text = f"{whole}.{frac}" if frac else whole
    return {"amount": str(amount), "decimals": decimals, "uiAmount": float(text), "uiAmountString": text}


def parse_token_account(
    account: Account, decimals_of: Callable[[Pubkey], int | None]
) -> dict[str, Any] | None:
    """jsonParsed of an SPL token account or mint (the fields agave's parse_token reports)."""
    from localnet.chain import TOKEN_PROGRAM, TOKEN_PROGRAMS

    if account.owner not in TOKEN_PROGRAMS:
        return None
    d = account.data
    program = "spl-token" if account.owner == TOKEN_PROGRAM else "spl-token-2022"
    if len(d) == 82 or (len(d) > 165 and d[165] == 1):
        if not d[45]:
            return None
        info: dict[str, Any] = {
            "decimals": d[44],
            "freezeAuthority": str(Pubkey.from_bytes(d[50:82])) if d[46] else None,
            "isInitialized": True,
            "mintAuthority": str(Pubkey.from_bytes(d[4:36])) if d[0] else None,
            "supply": str(int.from_bytes(d[36:44], "little")),
        }
        return {"parsed": {"info": info, "type": "mint"}, "program": program, "space": len(d)}
    if len(d) == 165 or (len(d) > 165 and d[165] == 2):
        state = {1: "initialized", 2: "frozen"}.get(d[108])
        decimals = decimals_of(Pubkey.from_bytes(d[0:32]))
        if state is None or decimals is None:
            return None
        return {
            "parsed": {
                "info": {
                    "isNative": bool(d[109]),
                    "mint": str(Pubkey.from_bytes(d[0:32])),
                    "owner": str(Pubkey.from_bytes(d[32:64])),
                    "state": state,
                    "tokenAmount": ui_amount(int.from_bytes(d[64:72], "little"), decimals),
                },
                "type": "account",
            },
            "program": program,
            "space": len(d),
        }
    return None


def token_balance_json(tb: TokenBalance) -> dict[str, Any]:
    return {
        "accountIndex": tb.index,
        "mint": str(tb.mint),
        "owner": str(tb.owner),
        "programId": str(tb.program),
        "uiTokenAmount": ui_amount(tb.amount, tb.decimals),
    }


def _compiled_ix_json(ix: Any, stack_height: int | None) -> dict[str, Any]:
    return {
        "programIdIndex": ix.program_id_index,
        "accounts": list(bytes(ix.accounts)),
        "data": b58(bytes(ix.data)),
        "stackHeight": stack_height,
    }


def inner_instructions_json(inner: Any) -> list[dict[str, Any]]:
    """meta.innerInstructions from LiteSVM's list (per top-level instruction) of InnerInstruction, whose
    `instruction` and `stack_height` are methods in solders 0.26 (unlike CompiledInstruction's fields)."""
    if not inner:
        return []
    out = []
    for index, ixs in enumerate(inner):
        if ixs:
            out.append(
                {
                    "index": index,
                    "instructions": [_compiled_ix_json(i.instruction(), i.stack_height()) for i in ixs],
                }
            )
    return out


def return_data_json(rd: Any) -> dict[str, Any] | None:
    if rd is None or not bytes(rd.data):
        return None
    return {"programId": str(rd.program_id), "data": [b64(bytes(rd.data)), "base64"]}


def transaction_json(tx: VersionedTransaction, encoding: str) -> Any:
    if encoding == "base64":
        return [b64(bytes(tx)), "base64"]
    if encoding == "base58":
        return [b58(bytes(tx)), "base58"]
    msg = tx.message
    h = msg.header
    message: dict[str, Any] = {
        "accountKeys": [str(k) for k in msg.account_keys],
        "header": {
            "numRequiredSignatures": h.num_required_signatures,
            "numReadonlySignedAccounts": h.num_readonly_signed_accounts,
            "numReadonlyUnsignedAccounts": h.num_readonly_unsigned_accounts,
        },
        "recentBlockhash": str(msg.recent_blockhash),
        "instructions": [_compiled_ix_json(ix, None) for ix in msg.instructions],
    }
    lookups = getattr(msg, "address_table_lookups", None)
    if lookups is not None:
        message["addressTableLookups"] = [
            {
                "accountKey": str(lk.account_key),
                "writableIndexes": list(bytes(lk.writable_indexes)),
                "readonlyIndexes": list(bytes(lk.readonly_indexes)),
            }
            for lk in lookups
        ]
    return {"signatures": [str(s) for s in tx.signatures], "message": message}


def is_legacy(tx: VersionedTransaction) -> bool:
    return not hasattr(tx.message, "address_table_lookups")


def transaction_record_json(rec: TxRecord, encoding: str) -> dict[str, Any]:
    """getTransaction's result for one record."""
    err = error_json(rec.err)
    meta = rec.meta
    meta_json: dict[str, Any] = {
        "err": err,
        "status": {"Ok": None} if err is None else {"Err": err},
        "fee": rec.fee,
        "preBalances": rec.pre_balances,
        "postBalances": rec.post_balances,
        "innerInstructions": inner_instructions_json(meta.inner_instructions() if meta is not None else None),
        "logMessages": rec.logs,
        "preTokenBalances": [token_balance_json(t) for t in rec.pre_token],
        "postTokenBalances": [token_balance_json(t) for t in rec.post_token],
        "rewards": [],
        "loadedAddresses": {
            "writable": [str(k) for k in rec.loaded_writable],
            "readonly": [str(k) for k in rec.loaded_readonly],
        },
        "computeUnitsConsumed": rec.units,
    }
    # solders 0.26's stub lacks TransactionMetadata.return_data; the method exists at runtime.
    rd = return_data_json(meta.return_data()) if meta is not None else None  # type: ignore[attr-defined]
    if rd is not None:
        meta_json["returnData"] = rd
    return {
        "slot": rec.slot,
        "blockTime": rec.block_time,
        "transaction": transaction_json(rec.tx, encoding),
        "meta": meta_json,
        "version": "legacy" if is_legacy(rec.tx) else 0,
    }
