"""SPL Token / Token-2022 account and mint decoding, shared by every venue.

Layouts (spl-token `state.rs`, spl-token-2022 `extension/mod.rs`): a token account is 165 bytes
(mint @0, owner @32, amount u64 @64, delegate COption @72, state u8 @108, ...); a mint is 82 bytes
(mint_authority COption @0, supply u64 @36, decimals u8 @44, is_initialized @45, freeze COption @46).
Token-2022 accounts with extensions are padded to 165 bytes, then carry one account-type byte
(1 = mint, 2 = account) and a TLV list of (u16 type, u16 length, value).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from solders.pubkey import Pubkey

from strategies.venues.errors import DecodeError, RefusalReason, Unmodelled

TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022_PROGRAM_ID = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
MEMO_PROGRAM_ID = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
ASSOCIATED_TOKEN_PROGRAM_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
WSOL_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")

TOKEN_ACCOUNT_SIZE = 165
MINT_SIZE = 82
# Token-2022: extension data starts after the 165-byte base (mints are zero-padded up to it).
_ACCOUNT_TYPE_OFFSET = 165
_ACCOUNT_TYPE_MINT = 1
_ACCOUNT_TYPE_ACCOUNT = 2
# spl-token-2022 ExtensionType discriminants.
EXT_TRANSFER_FEE_CONFIG = 1
EXT_TRANSFER_HOOK = 14

_TOKEN_ACCOUNT = struct.Struct("<32s32sQI32sB")  # mint, owner, amount, delegate tag, delegate, state
_MINT = struct.Struct("<I32sQBB")  # authority tag, authority, supply, decimals, is_initialized
_TLV_HEADER = struct.Struct("<HH")
# TransferFeeConfig: 2 authorities, withheld u64, older {epoch, max_fee, bps u16}, newer {same}.
_TRANSFER_FEE = struct.Struct("<32s32sQQQHQQH")
_TRANSFER_HOOK = struct.Struct("<32s32s")  # authority, program_id

TOKEN_STATE_UNINITIALIZED = 0
TOKEN_STATE_INITIALIZED = 1
TOKEN_STATE_FROZEN = 2


@dataclass(frozen=True, slots=True)
class TokenAccount:
    """The fields of an SPL token account a venue needs (vault balances)."""

    mint: Pubkey
    owner: Pubkey
    amount: int
    state: int


@dataclass(frozen=True, slots=True)
class TransferFee:
    """One Token-2022 transfer-fee schedule entry (basis points, capped at maximum_fee)."""

    epoch: int
    maximum_fee: int
    basis_points: int


@dataclass(frozen=True, slots=True)
class Mint:
    """Decimals, supply and the Token-2022 extensions that change swap amounts."""

    decimals: int
    supply: int
    is_token_2022: bool
    extension_types: tuple[int, ...]
    transfer_fee_older: TransferFee | None
    transfer_fee_newer: TransferFee | None
    transfer_hook_program: Pubkey | None

    @property
    def has_transfer_fee(self) -> bool:
        """True if either fee schedule charges anything (a zero schedule changes no amount)."""
        return any(
            fee is not None and fee.basis_points != 0 and fee.maximum_fee != 0
            for fee in (self.transfer_fee_older, self.transfer_fee_newer)
        )

    @property
    def has_transfer_hook(self) -> bool:
        """True if a transfer-hook program is set (the hook may do anything on transfer)."""
        return self.transfer_hook_program is not None and self.transfer_hook_program != Pubkey.default()


def _check_owner(what: str, owner: Pubkey | None) -> bool:
    """Return True for Token-2022, False for SPL Token; raise for anything else."""
    if owner is None:
        return False
    if owner == TOKEN_PROGRAM_ID:
        return False
    if owner == TOKEN_2022_PROGRAM_ID:
        return True
    raise DecodeError(what, f"owner {owner} is neither the SPL Token nor the Token-2022 program")


def decode_token_account(data: bytes, owner: Pubkey | None = None) -> TokenAccount:
    """Decode an SPL Token or Token-2022 token account (165 bytes, or more with extensions).

    `owner` is the account's owner program when known; it is validated if given.
    """
    is_2022 = _check_owner("token account", owner)
    size = len(data)
    if size < TOKEN_ACCOUNT_SIZE or (size > TOKEN_ACCOUNT_SIZE and not is_2022 and owner is not None):
        raise DecodeError("token account", f"size {size}, expected {TOKEN_ACCOUNT_SIZE}")
    if size > TOKEN_ACCOUNT_SIZE and data[_ACCOUNT_TYPE_OFFSET] != _ACCOUNT_TYPE_ACCOUNT:
        raise DecodeError("token account", f"account type byte {data[_ACCOUNT_TYPE_OFFSET]} is not 2")
    mint, acct_owner, amount, _tag, _delegate, state = _TOKEN_ACCOUNT.unpack_from(data, 0)
    if state not in (TOKEN_STATE_INITIALIZED, TOKEN_STATE_FROZEN):
        raise DecodeError("token account", f"state {state} is not initialized")
    return TokenAccount(Pubkey(mint), Pubkey(acct_owner), amount, state)


def associated_token_address(owner: Pubkey, mint: Pubkey, token_program: Pubkey = TOKEN_PROGRAM_ID) -> Pubkey:
    """The associated token account of (owner, mint): the PDA of seeds [owner, token program, mint]
    under the associated-token-account program (spl-associated-token-account
    `get_associated_token_address_with_program_id`)."""
    seeds = [bytes(owner), bytes(token_program), bytes(mint)]
    return Pubkey.find_program_address(seeds, ASSOCIATED_TOKEN_PROGRAM_ID)[0]


_AMOUNT_STATE = struct.Struct("<Q")


def read_token_amount(data: bytes, mint: bytes) -> int:
    """Hot path: the amount of an SPL token account known to hold `mint` (raw 32 bytes).

    Checks what a vault update can get wrong (size, mint, initialized state) without building Pubkeys.
    """
    if len(data) < TOKEN_ACCOUNT_SIZE or data[:32] != mint:
        raise DecodeError("token account", f"size {len(data)} or mint mismatch")
    if data[108] not in (TOKEN_STATE_INITIALIZED, TOKEN_STATE_FROZEN):
        raise DecodeError("token account", f"state {data[108]} is not initialized")
    return _AMOUNT_STATE.unpack_from(data, 64)[0]  # type: ignore[no-any-return]


def token_amount_or_zero(data: bytes | None) -> int:
    """The amount field of an SPL token account; 0 when the account is missing or too short (cold
    paths that read a wallet's own accounts: a missing account holds nothing)."""
    if data is None or len(data) < TOKEN_ACCOUNT_SIZE:
        return 0
    return _AMOUNT_STATE.unpack_from(data, 64)[0]  # type: ignore[no-any-return]


def read_mint_decimals(data: bytes) -> int | None:
    """The decimals of a mint account (SPL Token or Token-2022), None when the data is not a mint."""
    if len(data) < MINT_SIZE:
        return None
    return data[44]


def _parse_extensions(data: bytes) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    pos = _ACCOUNT_TYPE_OFFSET + 1
    end = len(data)
    while pos + _TLV_HEADER.size <= end:
        ext_type, length = _TLV_HEADER.unpack_from(data, pos)
        if ext_type == 0:  # Uninitialized: the rest is padding
            break
        pos += _TLV_HEADER.size
        if pos + length > end:
            raise DecodeError("mint", f"extension {ext_type} length {length} runs past the end ({end} bytes)")
        out[ext_type] = data[pos : pos + length]
        pos += length
    return out


def decode_mint(data: bytes, owner: Pubkey | None = None) -> Mint:
    """Decode an SPL Token mint (82 bytes) or a Token-2022 mint with its extensions."""
    is_2022 = _check_owner("mint", owner)
    size = len(data)
    if size == MINT_SIZE:
        extensions: dict[int, bytes] = {}
    elif size > _ACCOUNT_TYPE_OFFSET and (is_2022 or owner is None):
        if data[MINT_SIZE:_ACCOUNT_TYPE_OFFSET].strip(b"\x00"):
            raise DecodeError("mint", "non-zero padding between the mint base and its extensions")
        if data[_ACCOUNT_TYPE_OFFSET] != _ACCOUNT_TYPE_MINT:
            raise DecodeError("mint", f"account type byte {data[_ACCOUNT_TYPE_OFFSET]} is not 1 (mint)")
        extensions = _parse_extensions(data)
        is_2022 = True
    else:
        raise DecodeError(
            "mint", f"size {size}, expected {MINT_SIZE} (or > {_ACCOUNT_TYPE_OFFSET} for Token-2022)"
        )
    _tag, _authority, supply, decimals, initialized = _MINT.unpack_from(data, 0)
    if not initialized:
        raise DecodeError("mint", "not initialized")
    older = newer = None
    fee_raw = extensions.get(EXT_TRANSFER_FEE_CONFIG)
    if fee_raw is not None:
        if len(fee_raw) != _TRANSFER_FEE.size:
            raise DecodeError(
                "mint", f"transfer fee extension is {len(fee_raw)} bytes, expected {_TRANSFER_FEE.size}"
            )
        _a, _w, _withheld, e0, m0, b0, e1, m1, b1 = _TRANSFER_FEE.unpack(fee_raw)
        older, newer = TransferFee(e0, m0, b0), TransferFee(e1, m1, b1)
    hook_program = None
    hook_raw = extensions.get(EXT_TRANSFER_HOOK)
    if hook_raw is not None:
        if len(hook_raw) != _TRANSFER_HOOK.size:
            raise DecodeError("mint", f"transfer hook extension is {len(hook_raw)} bytes, expected 64")
        hook_program = Pubkey(_TRANSFER_HOOK.unpack(hook_raw)[1])
    return Mint(decimals, supply, is_2022, tuple(extensions), older, newer, hook_program)


def ensure_mint_modelled(mint: Mint, label: str = "mint") -> None:
    """Raise `Unmodelled` if transfers of this mint change amounts (fee) or run code (hook)."""
    if mint.has_transfer_fee:
        raise Unmodelled(RefusalReason.TOKEN2022_TRANSFER_FEE, label)
    if mint.has_transfer_hook:
        raise Unmodelled(RefusalReason.TOKEN2022_TRANSFER_HOOK, label)


def check_mint_modelled(data: bytes, owner: Pubkey | None = None, label: str = "mint") -> Mint:
    """Decode a mint and raise `Unmodelled` if its transfers carry a fee or a hook; return the mint."""
    mint = decode_mint(data, owner)
    ensure_mint_modelled(mint, label)
    return mint
