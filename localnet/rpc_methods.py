"""JSON-RPC method handlers over a `Chain`: params in, result objects out (no I/O).

Every handler validates its params and raises `RpcFault` with the code and message agave uses.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Callable
from typing import Any, NamedTuple

import based58
import pybase64
from solders.message import from_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from localnet.chain import (
    COMMITMENTS,
    FINALIZED,
    MAX_PROCESSING_AGE,
    PROCESSED,
    TOKEN_PROGRAMS,
    Chain,
    SignatureInvalid,
    TxRejected,
)
from localnet.encoding import (
    ACCOUNT_ENCODINGS,
    API_VERSION,
    account_json,
    b64,
    error_json,
    error_text,
    inner_instructions_json,
    is_legacy,
    parse_data_slice,
    return_data_json,
    transaction_record_json,
    ui_amount,
)
from localnet.errors import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    MIN_CONTEXT_SLOT_NOT_REACHED,
    SEND_TX_PREFLIGHT_FAILURE,
    TX_SIGNATURE_VERIFICATION_FAILURE,
    RpcFault,
    invalid_params,
)

_LEGACY_COMMITMENT = {
    "recent": PROCESSED,
    "single": "confirmed",
    "singleGossip": "confirmed",
    "max": FINALIZED,
    "root": FINALIZED,
}
MAX_BASE58_TX = 1683
MAX_BASE64_TX = 1644


class Verified(NamedTuple):
    """A sendTransaction whose signatures a verification worker checked: `ok` is verify_with_results(),
    `signature` the first signature in base58 (the reply), `raw` the transaction bytes already decoded."""

    ok: tuple[bool, ...]
    signature: str
    raw: bytes


MAX_MULTIPLE_ACCOUNTS = 100
MAX_SIGNATURE_STATUSES = 256
VERSION = {"solana-core": "2.2.0", "feature-set": 3294202862}


def _pubkey(value: Any) -> Pubkey:
    if not isinstance(value, str):
        raise invalid_params("invalid type: expected a base-58 encoded public key string")
    try:
        return Pubkey.from_string(value)
    except ValueError as err:
        raise RpcFault(INVALID_PARAMS, "Invalid param: Invalid") from err


def _signature(value: Any) -> Signature:
    if not isinstance(value, str):
        raise invalid_params("invalid type: expected a base-58 encoded signature string")
    try:
        return Signature.from_string(value)
    except ValueError as err:
        raise RpcFault(INVALID_PARAMS, "Invalid param: Invalid") from err


def _arg(params: list[Any], i: int, required: bool = True) -> Any:
    if i < len(params):
        return params[i]
    if required:
        raise invalid_params(f"missing required parameter at position {i}")
    return None


def _cfg(params: list[Any], i: int) -> dict[str, Any]:
    value = params[i] if i < len(params) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_params(f"invalid type: expected a config object at position {i}")
    # Clients (solana-py among them) send null for unset options: null means "default", as in agave.
    # (Handlers only read the config: without nulls the request's own dict serves as is.)
    if None not in value.values():
        return value
    return {k: v for k, v in value.items() if v is not None}


class RpcMethods:
    """Method table of the HTTP JSON-RPC server. `call(name, params)` -> result or RpcFault."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.table: dict[str, Callable[[list[Any]], Any]] = {
            name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")
        }

    def call(self, method: str, params: list[Any]) -> Any:
        return self.table[method](params)

    # ------------------------------------------------------------------ helpers
    def _commitment(self, cfg: dict[str, Any]) -> str:
        c = cfg.get("commitment") or FINALIZED
        c = _LEGACY_COMMITMENT.get(c, c)
        if c not in COMMITMENTS:
            raise invalid_params(
                f"unknown variant `{c}`, expected one of `processed`, `confirmed`, `finalized`"
            )
        slot = self.chain.commitment_slot(c)
        min_slot = cfg.get("minContextSlot")
        if min_slot is not None and slot < int(min_slot):
            raise RpcFault(
                MIN_CONTEXT_SLOT_NOT_REACHED,
                "Minimum context slot has not been reached",
                {"contextSlot": slot},
            )
        return c

    def _ctx(self, commitment: str, value: Any) -> dict[str, Any]:
        return {
            "context": {"apiVersion": API_VERSION, "slot": self.chain.commitment_slot(commitment)},
            "value": value,
        }

    def _encoding(self, cfg: dict[str, Any], default: str = "base64") -> str:
        enc = cfg.get("encoding") or default
        if enc == "binary":
            enc = "base58"
        if enc not in ACCOUNT_ENCODINGS:
            raise invalid_params(
                f"unknown variant `{enc}`, expected one of `binary`, `base58`, `base64`, "
                "`jsonParsed`, `base64+zstd`"
            )
        return enc

    def _account(self, pubkey: Pubkey, commitment: str, enc: str, data_slice: tuple[int, int] | None) -> Any:
        acc = self.chain.get_account(pubkey, commitment)
        if (
            enc == "base58"
            and acc is not None
            and (len(acc.data) if data_slice is None else min(data_slice[1], len(acc.data))) > 128
        ):
            raise RpcFault(
                INVALID_REQUEST,
                "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.",
            )
        return account_json(acc, enc, data_slice, self.chain.mint_decimals)

    # ------------------------------------------------------------------ cluster
    def rpc_getHealth(self, params: list[Any]) -> Any:
        return "ok"

    def rpc_getVersion(self, params: list[Any]) -> Any:
        return VERSION

    def rpc_getGenesisHash(self, params: list[Any]) -> Any:
        from localnet.chain import GENESIS_HASH

        return str(GENESIS_HASH)

    def rpc_getIdentity(self, params: list[Any]) -> Any:
        return {"identity": str(self.chain.faucet.pubkey())}

    def rpc_getSlot(self, params: list[Any]) -> Any:
        return self.chain.commitment_slot(self._commitment(_cfg(params, 0)))

    def rpc_getBlockHeight(self, params: list[Any]) -> Any:
        # No skipped slots on localnet: block height == slot at every commitment.
        return self.chain.commitment_slot(self._commitment(_cfg(params, 0)))

    def rpc_getTransactionCount(self, params: list[Any]) -> Any:
        self._commitment(_cfg(params, 0))
        return self.chain.tx_count

    def rpc_getFirstAvailableBlock(self, params: list[Any]) -> Any:
        return 0

    def rpc_minimumLedgerSlot(self, params: list[Any]) -> Any:
        return 0

    def rpc_getBlockTime(self, params: list[Any]) -> Any:
        slot = _arg(params, 0)
        if not isinstance(slot, int):
            raise invalid_params("invalid type: expected a slot number")
        t = self.chain.block_times.get(slot)
        if t is None or slot > self.chain.commitment_slot("confirmed"):
            raise RpcFault(-32004, f"Block not available for slot {slot}")
        return t

    def rpc_getEpochSchedule(self, params: list[Any]) -> Any:
        s = self.chain.svm.get_epoch_schedule()
        return {
            "slotsPerEpoch": s.slots_per_epoch,
            "leaderScheduleSlotOffset": s.leader_schedule_slot_offset,
            "warmup": s.warmup,
            "firstNormalEpoch": s.first_normal_epoch,
            "firstNormalSlot": s.first_normal_slot,
        }

    def rpc_getEpochInfo(self, params: list[Any]) -> Any:
        slot = self.chain.commitment_slot(self._commitment(_cfg(params, 0)))
        schedule = self.chain.svm.get_epoch_schedule()
        epoch, index = schedule.get_epoch_and_slot_index(slot)
        return {
            "absoluteSlot": slot,
            "blockHeight": slot,
            "epoch": epoch,
            "slotIndex": index,
            "slotsInEpoch": schedule.get_slots_in_epoch(epoch),
            "transactionCount": self.chain.tx_count,
        }

    def rpc_getLatestBlockhash(self, params: list[Any]) -> Any:
        c = self._commitment(_cfg(params, 0))
        slot = self.chain.commitment_slot(c)
        bh = self.chain.blockhash_of_slot(slot)
        return self._ctx(c, {"blockhash": str(bh), "lastValidBlockHeight": slot + MAX_PROCESSING_AGE})

    def rpc_isBlockhashValid(self, params: list[Any]) -> Any:
        raw = _arg(params, 0)
        c = self._commitment(_cfg(params, 1))
        from solders.hash import Hash

        try:
            bh = Hash.from_string(raw)
        except (ValueError, TypeError) as err:
            raise RpcFault(INVALID_PARAMS, "Invalid param: Invalid") from err
        return self._ctx(c, self.chain.is_blockhash_valid(bh))

    def rpc_getMinimumBalanceForRentExemption(self, params: list[Any]) -> Any:
        n = _arg(params, 0)
        if not isinstance(n, int) or n < 0:
            raise invalid_params("invalid type: expected a data length (usize)")
        return self.chain.svm.minimum_balance_for_rent_exemption(n)

    def rpc_getFeeForMessage(self, params: list[Any]) -> Any:
        raw = _arg(params, 0)
        c = self._commitment(_cfg(params, 1))
        try:
            msg = from_bytes_versioned(base64.b64decode(raw, validate=True))
        except (ValueError, TypeError, binascii.Error) as err:
            raise invalid_params(f"invalid message: {err}") from err
        if not self.chain.is_blockhash_valid(msg.recent_blockhash):
            return self._ctx(c, None)
        fee, _, _ = self.chain.fee_of(msg)
        return self._ctx(c, fee)

    def rpc_getRecentPrioritizationFees(self, params: list[Any]) -> Any:
        addrs = _arg(params, 0, required=False) or []
        if not isinstance(addrs, list) or len(addrs) > 128:
            raise invalid_params("expected at most 128 account addresses")
        keys = [_pubkey(a) for a in addrs]
        return [
            {"slot": slot, "prioritizationFee": self.chain.prioritization_fee(slot, keys)}
            for slot in self.chain.recent_fee_slots()
        ]

    # ------------------------------------------------------------------ accounts
    def rpc_getAccountInfo(self, params: list[Any]) -> Any:
        pk = _pubkey(_arg(params, 0))
        cfg = _cfg(params, 1)
        c = self._commitment(cfg)
        enc = self._encoding(cfg, "base58")
        return self._ctx(c, self._account(pk, c, enc, parse_data_slice(cfg)))

    def rpc_getMultipleAccounts(self, params: list[Any]) -> Any:
        keys = _arg(params, 0)
        if not isinstance(keys, list):
            raise invalid_params("invalid type: expected an array of public keys")
        if len(keys) > MAX_MULTIPLE_ACCOUNTS:
            raise invalid_params(f"Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}")
        pks = [_pubkey(k) for k in keys]
        cfg = _cfg(params, 1)
        c = self._commitment(cfg)
        enc = self._encoding(cfg, "base64")
        ds = parse_data_slice(cfg)
        return self._ctx(c, [self._account(pk, c, enc, ds) for pk in pks])

    def rpc_getBalance(self, params: list[Any]) -> Any:
        pk = _pubkey(_arg(params, 0))
        c = self._commitment(_cfg(params, 1))
        acc = self.chain.get_account(pk, c)
        return self._ctx(c, acc.lamports if acc is not None else 0)

    def rpc_getProgramAccounts(self, params: list[Any]) -> Any:
        program = _pubkey(_arg(params, 0))
        cfg = _cfg(params, 1)
        c = self._commitment(cfg)
        enc = self._encoding(cfg, "base64")
        ds = parse_data_slice(cfg)
        match = compile_filters(cfg.get("filters"))
        out = []
        for pk in sorted(self.chain.accounts_owned_by(program, c), key=bytes):
            acc = self.chain.get_account(pk, c)
            if acc is None or acc.owner != program or not match(acc.data):
                continue
            out.append({"pubkey": str(pk), "account": account_json(acc, enc, ds, self.chain.mint_decimals)})
        return self._ctx(c, out) if cfg.get("withContext") else out

    def rpc_getTokenAccountBalance(self, params: list[Any]) -> Any:
        pk = _pubkey(_arg(params, 0))
        c = self._commitment(_cfg(params, 1))
        acc = self.chain.get_account(pk, c)
        if acc is None or acc.owner not in TOKEN_PROGRAMS or len(acc.data) < 165:
            raise RpcFault(INVALID_PARAMS, "Invalid param: not a Token account")
        decimals = self.chain.mint_decimals(Pubkey.from_bytes(acc.data[0:32]))
        if decimals is None:
            raise RpcFault(INVALID_PARAMS, "Invalid param: could not find mint")
        return self._ctx(c, ui_amount(int.from_bytes(acc.data[64:72], "little"), decimals))

    def rpc_getTokenAccountsByOwner(self, params: list[Any]) -> Any:
        return self._token_accounts(params, 32)

    def rpc_getTokenAccountsByDelegate(self, params: list[Any]) -> Any:
        return self._token_accounts(params, 76)

    def _token_accounts(self, params: list[Any], key_offset: int) -> Any:
        owner = _pubkey(_arg(params, 0))
        flt = _arg(params, 1)
        cfg = _cfg(params, 2)
        c = self._commitment(cfg)
        enc = self._encoding(cfg, "base64")
        ds = parse_data_slice(cfg)
        mint: Pubkey | None = None
        if isinstance(flt, dict) and "mint" in flt:
            mint = _pubkey(flt["mint"])
            acc = self.chain.get_account(mint, c)
            if acc is None or acc.owner not in TOKEN_PROGRAMS:
                raise RpcFault(INVALID_PARAMS, "Invalid param: could not find mint")
            programs = [acc.owner]
        elif isinstance(flt, dict) and "programId" in flt:
            pid = _pubkey(flt["programId"])
            if pid not in TOKEN_PROGRAMS:
                raise RpcFault(INVALID_PARAMS, "Invalid param: unrecognized Token program id")
            programs = [pid]
        else:
            raise invalid_params("expected a filter object with `mint` or `programId`")
        owner_b = bytes(owner)
        mint_b = bytes(mint) if mint is not None else None
        out = []
        for program in programs:
            for pk in sorted(self.chain.accounts_owned_by(program, c), key=bytes):
                acc = self.chain.get_account(pk, c)
                if acc is None or acc.owner != program:
                    continue
                d = acc.data
                if len(d) < 165 or (len(d) > 165 and d[165] != 2) or d[108] == 0:
                    continue
                if key_offset == 76 and d[72] == 0:  # COption<delegate> tag
                    continue
                if d[key_offset : key_offset + 32] != owner_b or (mint_b is not None and d[0:32] != mint_b):
                    continue
                out.append(
                    {"pubkey": str(pk), "account": account_json(acc, enc, ds, self.chain.mint_decimals)}
                )
        return self._ctx(c, out)

    # ------------------------------------------------------------------ transactions
    def rpc_requestAirdrop(self, params: list[Any]) -> Any:
        pk = _pubkey(_arg(params, 0))
        lamports = _arg(params, 1)
        if not isinstance(lamports, int) or lamports <= 0:
            raise invalid_params("invalid type: expected a lamport amount (u64)")
        self._commitment(_cfg(params, 2))
        try:
            rec = self.chain.airdrop(pk, lamports)
        except TxRejected as rej:
            raise RpcFault(-32600, f"airdrop request failed: {error_text(error_json(rej.err))}") from rej
        return str(rec.signature)

    def _decode_tx(self, raw: Any, cfg: dict[str, Any]) -> VersionedTransaction:
        return self._parse_tx(self._decode_raw(raw, cfg))

    @staticmethod
    def _parse_tx(data: bytes) -> VersionedTransaction:
        try:
            tx = VersionedTransaction.from_bytes(data)
        except (ValueError, TypeError) as err:
            raise RpcFault(
                INVALID_PARAMS,
                f"failed to deserialize solana_transaction::versioned::VersionedTransaction: {err}",
            ) from err
        try:
            tx.sanitize()
        except Exception as err:
            raise RpcFault(
                INVALID_PARAMS,
                "invalid transaction: Transaction failed to sanitize accounts offsets correctly",
            ) from err
        return tx

    def _decode_raw(self, raw: Any, cfg: dict[str, Any]) -> bytes:
        enc = cfg.get("encoding") or "base58"
        if not isinstance(raw, str):
            raise invalid_params("invalid type: expected an encoded transaction string")
        try:
            if enc == "base58":
                if len(raw) > MAX_BASE58_TX:
                    raise invalid_params(
                        f"base58 encoded solana_transaction::versioned::VersionedTransaction too "
                        f"large: {len(raw)} bytes (max: encoded/raw {MAX_BASE58_TX}/1232)"
                    )
                data = based58.b58decode(raw.encode())
            elif enc == "base64":
                if len(raw) > MAX_BASE64_TX:
                    raise invalid_params(
                        f"base64 encoded solana_transaction::versioned::VersionedTransaction too "
                        f"large: {len(raw)} bytes (max: encoded/raw {MAX_BASE64_TX}/1232)"
                    )
                data = pybase64.b64decode(raw, validate=True)
            else:
                raise invalid_params(f"unsupported encoding: {enc}. Supported encodings: base58, base64")
        except (ValueError, binascii.Error) as err:  # binascii.Error is a ValueError; RpcFault is not
            raise RpcFault(INVALID_PARAMS, f"invalid {enc} encoding: {err}") from err
        return bytes(data)

    def rpc_sendTransaction(self, params: list[Any]) -> Any:
        return self.send_transaction(params, None)

    def send_transaction_bytes(self, params: Any) -> bytes | None:
        """The raw transaction of sendTransaction params, or None when they do not decode (the request
        then runs the whole default path, errors included)."""
        try:
            if not isinstance(params, list):
                return None
            return self._decode_raw(_arg(params, 0), _cfg(params, 1))
        except Exception:  # whatever the reason, the default path answers it in its turn
            return None

    def send_transaction(self, params: list[Any], verified: Verified | None) -> Any:
        """sendTransaction; `verified` (a worker's verify_with_results, with the signature string and the
        decoded bytes) replaces the inline ed25519 verification, with the same checks and errors."""
        cfg = _cfg(params, 1)
        if verified is None:
            tx = self._decode_tx(_arg(params, 0), cfg)
            sig_ok = None
            sig = ""
        else:
            tx = self._parse_tx(verified.raw)
            sig_ok = verified.ok
            sig = verified.signature
        if "preflightCommitment" in cfg or "minContextSlot" in cfg:
            self._commitment(
                {
                    "commitment": (cfg.get("preflightCommitment") or FINALIZED),
                    "minContextSlot": cfg.get("minContextSlot"),
                }
            )
        if not sig:
            sig = str(tx.signatures[0])
        if cfg.get("skipPreflight"):
            # A transaction that cannot land is dropped silently, as a validator does with skipPreflight.
            with contextlib.suppress(TxRejected, SignatureInvalid):
                self.chain.process(tx, preflight=False, sig_results=sig_ok)
            return sig
        try:
            self.chain.process(tx, preflight=True, sig_results=sig_ok)
        except SignatureInvalid as err:
            raise RpcFault(
                TX_SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure"
            ) from err
        except TxRejected as rej:
            err_obj = error_json(rej.err)
            raise RpcFault(
                SEND_TX_PREFLIGHT_FAILURE,
                f"Transaction simulation failed: {error_text(err_obj)}",
                {
                    "accounts": None,
                    "err": err_obj,
                    "innerInstructions": None,
                    "loadedAccountsDataSize": None,
                    "logs": rej.logs,
                    "replacementBlockhash": None,
                    "returnData": None,
                    "unitsConsumed": rej.units,
                },
            ) from rej
        return sig

    def rpc_simulateTransaction(self, params: list[Any]) -> Any:
        cfg = _cfg(params, 1)
        tx = self._decode_tx(_arg(params, 0), cfg)
        c = self._commitment(cfg)
        sig_verify = bool(cfg.get("sigVerify"))
        replace = bool(cfg.get("replaceRecentBlockhash"))
        if sig_verify and replace:
            raise invalid_params("sigVerify may not be used with replaceRecentBlockhash")
        try:
            sim = self.chain.simulate(tx, check_blockhash=not replace, sig_verify=sig_verify)
        except SignatureInvalid as err:
            raise RpcFault(
                TX_SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure"
            ) from err
        accounts = None
        acfg = cfg.get("accounts")
        if acfg:
            enc = self._encoding(acfg, "base64")
            addrs = [_pubkey(a) for a in (acfg.get("addresses") or [])]
            accounts = []
            for a in addrs:
                acc = sim.post_accounts[a] if a in sim.post_accounts else self.chain.get_account(a)
                accounts.append(account_json(acc, enc, None, self.chain.mint_decimals))
        value: dict[str, Any] = {
            "err": error_json(sim.err),
            "logs": sim.logs,
            "accounts": accounts,
            "unitsConsumed": sim.units,
            "returnData": return_data_json(sim.return_data),
            "innerInstructions": inner_instructions_json(sim.inner) if cfg.get("innerInstructions") else None,
            "replacementBlockhash": None,
        }
        if replace:
            value["replacementBlockhash"] = {
                "blockhash": str(self.chain.blockhash),
                "lastValidBlockHeight": self.chain.block_height + MAX_PROCESSING_AGE,
            }
        return self._ctx(c, value)

    def rpc_getSignatureStatuses(self, params: list[Any]) -> Any:
        sigs = _arg(params, 0)
        if not isinstance(sigs, list):
            raise invalid_params("invalid type: expected an array of signatures")
        if len(sigs) > MAX_SIGNATURE_STATUSES:
            raise invalid_params(f"Too many inputs provided; max {MAX_SIGNATURE_STATUSES}")
        parsed = [_signature(s) for s in sigs]
        chain = self.chain
        out: list[Any] = []
        for sig in parsed:
            rec = chain.txs.get(sig)
            if rec is None:
                out.append(None)
                continue
            status = chain.status_of_slot(rec.slot)
            err = error_json(rec.err)
            out.append(
                {
                    "slot": rec.slot,
                    "confirmations": None if status == FINALIZED else chain.slot - rec.slot,
                    "err": err,
                    "status": {"Ok": None} if err is None else {"Err": err},
                    "confirmationStatus": status,
                }
            )
        return self._ctx(PROCESSED, out)

    def _block_commitment(self, cfg: dict[str, Any]) -> str:
        c = self._commitment(cfg)
        if c == PROCESSED:
            raise RpcFault(INVALID_PARAMS, "Method does not support commitment below `confirmed`")
        return c

    def rpc_getSignaturesForAddress(self, params: list[Any]) -> Any:
        address = _pubkey(_arg(params, 0))
        cfg = _cfg(params, 1)
        c = self._block_commitment(cfg)
        limit = cfg.get("limit") or 1000
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise invalid_params("Invalid limit; max 1000")
        before = _signature(cfg["before"]) if cfg.get("before") else None
        until = _signature(cfg["until"]) if cfg.get("until") else None
        chain = self.chain
        out: list[dict[str, Any]] = []
        started = before is None
        for slot in sorted((s for s in chain.slot_txs if s <= chain.commitment_slot(c)), reverse=True):
            for sig in reversed(chain.slot_txs[slot]):
                if not started:
                    started = sig == before
                    continue
                if sig == until:
                    return out
                rec = chain.txs.get(sig)
                if rec is None or address not in rec.keys:
                    continue
                out.append(
                    {
                        "signature": str(sig),
                        "slot": slot,
                        "err": error_json(rec.err),
                        "memo": None,
                        "blockTime": rec.block_time,
                        "confirmationStatus": chain.status_of_slot(slot),
                    }
                )
                if len(out) >= limit:
                    return out
        return out

    def rpc_getBlock(self, params: list[Any]) -> Any:
        slot = _arg(params, 0)
        if not isinstance(slot, int) or slot < 0:
            raise invalid_params("invalid type: expected a slot number")
        raw_cfg = _arg(params, 1, required=False)
        cfg = {"encoding": raw_cfg} if isinstance(raw_cfg, str) else _cfg(params, 1)
        c = self._block_commitment(cfg)
        chain = self.chain
        blockhash = chain.blockhash_of_slot(slot)
        if slot > chain.commitment_slot(c) or blockhash is None or slot == 0:
            raise RpcFault(-32004, f"Block not available for slot {slot}")
        enc = cfg.get("encoding") or "json"
        if enc == "jsonParsed":
            enc = "json"
        details = cfg.get("transactionDetails") or "full"
        recs = [r for sig in chain.slot_txs.get(slot, []) if (r := chain.txs.get(sig)) is not None]
        if (
            details == "full"
            and cfg.get("maxSupportedTransactionVersion") is None
            and any(not is_legacy(r.tx) for r in recs)
        ):
            raise RpcFault(
                -32015,
                "Transaction version (0) is not supported by the requesting client. Please "
                "try again with the following configuration parameter: "
                '"maxSupportedTransactionVersion": 0',
            )
        block: dict[str, Any] = {
            "blockHeight": slot,
            "blockTime": chain.block_times.get(slot),
            "blockhash": str(blockhash),
            "parentSlot": slot - 1,
            "previousBlockhash": str(chain.blockhash_of_slot(slot - 1) or blockhash),
        }
        if details == "full":
            block["transactions"] = [
                {
                    k: v
                    for k, v in transaction_record_json(r, enc).items()
                    if k in ("transaction", "meta", "version")
                }
                for r in recs
            ]
        elif details == "signatures":
            block["signatures"] = [str(r.signature) for r in recs]
        elif details != "none":
            raise invalid_params(
                f"unknown variant `{details}`, expected one of `full`, `signatures`, `none`, `accounts`"
            )
        if cfg.get("rewards", True):
            block["rewards"] = []
        return block

    def rpc_getBlocks(self, params: list[Any]) -> Any:
        start = _arg(params, 0)
        end = _arg(params, 1, required=False)
        cfg = (
            _cfg(params, 2) if isinstance(end, int) or end is None else (end if isinstance(end, dict) else {})
        )
        c = self._block_commitment(cfg)
        if not isinstance(start, int) or start < 0:
            raise invalid_params("invalid type: expected a start slot")
        top = self.chain.commitment_slot(c)
        last = min(end, top) if isinstance(end, int) else top
        if last - start > 500_000:
            raise invalid_params("Slot range too large; max 500000")
        return [s for s in range(max(start, 1), last + 1) if self.chain.blockhash_of_slot(s) is not None]

    def rpc_getTokenSupply(self, params: list[Any]) -> Any:
        mint = _pubkey(_arg(params, 0))
        c = self._commitment(_cfg(params, 1))
        acc = self.chain.get_account(mint, c)
        if acc is None or acc.owner not in TOKEN_PROGRAMS or len(acc.data) < 82 or not acc.data[45]:
            raise RpcFault(INVALID_PARAMS, "Invalid param: not a Token mint")
        return self._ctx(c, ui_amount(int.from_bytes(acc.data[36:44], "little"), acc.data[44]))

    def rpc_getSlotLeader(self, params: list[Any]) -> Any:
        return str(self.chain.faucet.pubkey())

    def rpc_getClusterNodes(self, params: list[Any]) -> Any:
        return [
            {
                "pubkey": str(self.chain.faucet.pubkey()),
                "gossip": None,
                "tpu": None,
                "rpc": None,
                "version": VERSION["solana-core"],
                "featureSet": VERSION["feature-set"],
                "shredVersion": 0,
            }
        ]

    def rpc_getTransaction(self, params: list[Any]) -> Any:
        sig = _signature(_arg(params, 0))
        raw_cfg = _arg(params, 1, required=False)
        cfg = {"encoding": raw_cfg} if isinstance(raw_cfg, str) else _cfg(params, 1)
        c = self._commitment(cfg)
        if c == PROCESSED:
            raise RpcFault(INVALID_PARAMS, "Method does not support commitment below `confirmed`")
        enc = cfg.get("encoding") or "json"
        if enc not in ("json", "jsonParsed", "base64", "base58"):
            raise invalid_params(
                f"unknown variant `{enc}`, expected one of `binary`, `base64`, `base58`, `json`, `jsonParsed`"
            )
        if enc == "jsonParsed":
            enc = "json"
        rec = self.chain.txs.get(sig)
        if rec is None or rec.slot > self.chain.commitment_slot(c):
            return None
        max_version = cfg.get("maxSupportedTransactionVersion")
        if not is_legacy(rec.tx) and max_version is None:
            raise RpcFault(
                -32015,
                "Transaction version (0) is not supported by the requesting client. Please try "
                "again with the following configuration parameter: "
                '"maxSupportedTransactionVersion": 0',
            )
        return transaction_record_json(rec, enc)


def _data_size_check(size: int) -> Callable[[bytes], bool]:
    return lambda data: len(data) == size


def _memcmp_check(offset: int, want: bytes) -> Callable[[bytes], bool]:
    end = offset + len(want)
    return lambda data: data[offset:end] == want


def compile_filters(filters: Any) -> Callable[[bytes], bool]:
    """getProgramAccounts / programSubscribe filters (dataSize, memcmp) as one predicate on data."""
    if filters is None:
        return lambda data: True
    if not isinstance(filters, list) or len(filters) > 4:
        raise invalid_params(
            "Too many filters provided; max 4"
            if isinstance(filters, list)
            else "invalid type: expected an array of filters"
        )
    checks: list[Callable[[bytes], bool]] = []
    for f in filters:
        if not isinstance(f, dict):
            raise invalid_params("invalid filter")
        if "dataSize" in f:
            size = f["dataSize"]
            if not isinstance(size, int):
                raise invalid_params("invalid dataSize filter")
            checks.append(_data_size_check(size))
        elif "memcmp" in f:
            m = f["memcmp"]
            try:
                offset = int(m["offset"])
                enc = m.get("encoding", "base58")
                raw = m["bytes"]
                want = base64.b64decode(raw) if enc == "base64" else based58.b58decode(raw.encode())
            except (KeyError, TypeError, ValueError, binascii.Error) as err:
                raise RpcFault(INVALID_PARAMS, f"Invalid param: invalid memcmp filter: {err}") from err
            if len(want) > 128:
                raise RpcFault(
                    INVALID_PARAMS, "Invalid param: encoded binary data should be less than 129 bytes"
                )
            checks.append(_memcmp_check(offset, want))
        elif "tokenAccountState" in f:
            checks.append(lambda d: len(d) >= 165 and d[108] in (1, 2))
        else:
            raise invalid_params("invalid filter: expected dataSize or memcmp")
    return lambda data: all(check(data) for check in checks)


def b64_tx(tx: VersionedTransaction) -> str:
    return b64(bytes(tx))
