"""Per-route precompiled v0 messages, patched in place and signed on the hot path.

Compiling a message and building a `VersionedTransaction` costs ~170 µs; patching a few integers and
the blockhash into prebuilt bytes and signing them costs ~55 µs (hot-path-floors.md). So each route's
message is compiled once at start-up with its lookup tables; the hot path writes amounts, min-outs,
compute-unit limit/price, tip and blockhash at known offsets, then signs `0x80 || message`.

Offsets come from parsing the compiled message (v0 layout: protocols.md §6), never from searching
for placeholder values.

Signing is libsodium's ed25519 (PyNaCl) with the secret key prepared once (`Signer`): ~29 µs against
~54 µs for solders' `Keypair.sign_message`, which rebuilds its signing key from bytes on every call
(hot-path-floors.md; `solarb bench --e2e` measures it in place). Ed25519 signatures are deterministic
(RFC 8032 §5.1.6), so both give the same bytes; tests/execution/test_message.py checks it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import nacl.bindings
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey

from strategies.venues.base import PriceAccounts

MAX_TX_BYTES = 1232  # PACKET_DATA_SIZE
MAX_ACCOUNT_LOCKS = 64
SIGNATURE_BYTES = 64

COMPUTE_BUDGET_PROGRAM = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
SYSTEM_PROGRAM = Pubkey.from_string("11111111111111111111111111111111")

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class Signer:
    """A keypair's ed25519 signing key, expanded once: `sign_tx(message)` gives the single-signer wire
    transaction (signature count 1, the signature, the message). Never printed (no repr of the key)."""

    __slots__ = ("_secret", "pubkey")

    def __init__(self, keypair: Keypair) -> None:
        self._secret = bytes(keypair)  # the 64-byte secret key, seed || public key: libsodium's format
        self.pubkey = keypair.pubkey()

    def __repr__(self) -> str:
        return f"Signer(pubkey={self.pubkey})"

    def sign_tx(self, message: bytes) -> bytes:
        # crypto_sign returns signature || message: exactly what follows the signature count.
        return b"\x01" + nacl.bindings.crypto_sign(message, self._secret)


class TxTooLarge(ValueError):
    """The route's transaction cannot be sent: over 1,232 bytes or 64 account locks."""


def read_compact_u16(buf: bytes | bytearray, off: int) -> tuple[int, int]:
    """Solana's short-vec length prefix: (value, new offset)."""
    value = 0
    for i in range(3):
        byte = buf[off + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, off + i + 1
    raise ValueError("compact-u16 longer than 3 bytes")


@dataclass(frozen=True, slots=True)
class ParsedV0:
    num_static_keys: int
    blockhash_offset: int
    # per instruction: (program id index, offset of its data in the versioned bytes, data length)
    instructions: tuple[tuple[int, int, int], ...]
    num_lookup_keys: int
    # per instruction: (offset of its account-index bytes, number of accounts)
    accounts: tuple[tuple[int, int], ...] = ()


def parse_v0(msg: bytes | bytearray) -> ParsedV0:
    """Walk a serialized versioned message (with its 0x80 prefix) and locate the patchable parts."""
    if not msg or msg[0] != 0x80:
        raise ValueError("not a v0 message (missing 0x80 prefix)")
    off = 4  # prefix + 3 header bytes
    nkeys, off = read_compact_u16(msg, off)
    off += 32 * nkeys
    blockhash_offset = off
    off += 32
    nix, off = read_compact_u16(msg, off)
    ixs = []
    accounts = []
    for _ in range(nix):
        program_idx = msg[off]
        off += 1
        nacc, off = read_compact_u16(msg, off)
        accounts.append((off, nacc))
        off += nacc
        dlen, off = read_compact_u16(msg, off)
        ixs.append((program_idx, off, dlen))
        off += dlen
    nlookups, off = read_compact_u16(msg, off)
    lookup_keys = 0
    for _ in range(nlookups):
        off += 32
        nw, off = read_compact_u16(msg, off)
        off += nw
        nr, off = read_compact_u16(msg, off)
        off += nr
        lookup_keys += nw + nr
    if off != len(msg):
        raise ValueError(f"trailing bytes in v0 message ({len(msg) - off})")
    return ParsedV0(nkeys, blockhash_offset, tuple(ixs), lookup_keys, tuple(accounts))


@dataclass(frozen=True, slots=True)
class LegPatch:
    """Where one swap instruction keeps its two u64 arguments (absolute offsets in the message)."""

    amount_offset: int  # amount_in (exact-in) or max_in (exact-out)
    threshold_offset: int  # min_out (exact-in) or amount_out (exact-out)


@dataclass(frozen=True, slots=True)
class AccountChoice:
    """Where one leg's price-following accounts sit in the message (`PriceAccounts`): the offsets of
    their account-index bytes, and the message index of every account of the compiled window by key."""

    leg: int
    offsets: tuple[int, ...]
    index_of: dict[int, int]
    select: Callable[[int], tuple[int, ...]]


def account_choice(parsed: ParsedV0, raw: bytes, ix: int, leg: int, accounts: PriceAccounts) -> AccountChoice:
    """Locate a leg's price-following accounts in a compiled message: the window sits after the
    instruction's own accounts, so its compiled indexes name every account the positions may take."""
    at, count = parsed.accounts[ix]
    first = at + count - len(accounts.window)
    index_of = {key: raw[first + j] for j, key in enumerate(accounts.window)}
    return AccountChoice(leg, tuple(at + p for p in accounts.positions), index_of, accounts.select)


class RouteTemplate:
    """A compiled message for one route plus the offsets the hot path patches.

    `cu_limit` is the compute-unit limit its start-up simulation measured (`bot.execution.prove`), 0
    while none did: the executor then requests the opportunity's estimate."""

    __slots__ = (
        "_buf",
        "_choices",
        "blockhash_offset",
        "cu_limit",
        "cu_limit_offset",
        "cu_price_offset",
        "legs",
        "num_accounts",
        "swap_ix_indexes",
        "tip_offset",
        "tx_size",
    )

    def __init__(
        self,
        message: MessageV0,
        *,
        swap_ix_indexes: Sequence[int],
        leg_arg_offsets: Sequence[tuple[int, int]],
        cu_limit_ix: int | None,
        cu_price_ix: int | None,
        tip_ix: int | None,
        price_accounts: Sequence[PriceAccounts | None] = (),
    ) -> None:
        raw = to_bytes_versioned(message)
        parsed = parse_v0(raw)
        self._buf = bytearray(raw)
        self.blockhash_offset = parsed.blockhash_offset
        self.num_accounts = parsed.num_static_keys + parsed.num_lookup_keys
        self.tx_size = 1 + SIGNATURE_BYTES + len(raw)
        if self.tx_size > MAX_TX_BYTES:
            raise TxTooLarge(f"transaction is {self.tx_size} bytes (max {MAX_TX_BYTES}); add a lookup table")
        if self.num_accounts > MAX_ACCOUNT_LOCKS:
            raise TxTooLarge(f"transaction locks {self.num_accounts} accounts (max {MAX_ACCOUNT_LOCKS})")
        ixs = parsed.instructions
        # ComputeBudget: SetComputeUnitLimit = tag 2 + u32; SetComputeUnitPrice = tag 3 + u64 (§6).
        self.cu_limit_offset = ixs[cu_limit_ix][1] + 1 if cu_limit_ix is not None else -1
        self.cu_price_offset = ixs[cu_price_ix][1] + 1 if cu_price_ix is not None else -1
        # System transfer: u32 tag 2 + u64 lamports.
        self.tip_offset = ixs[tip_ix][1] + 4 if tip_ix is not None else -1
        self.legs = tuple(
            LegPatch(ixs[i][1] + a, ixs[i][1] + t)
            for i, (a, t) in zip(swap_ix_indexes, leg_arg_offsets, strict=True)
        )
        self.swap_ix_indexes = tuple(swap_ix_indexes)  # the patched (last) instruction of each leg
        self.cu_limit = 0
        self._choices = tuple(
            account_choice(parsed, raw, swap_ix_indexes[k], k, pa)
            for k, pa in enumerate(price_accounts)
            if pa is not None
        )

    @property
    def follows_price(self) -> bool:
        """True when some leg's accounts are chosen per opportunity (`choose_accounts`)."""
        return bool(self._choices)

    def choose_accounts(self, ticks: Sequence[int]) -> bool:
        """Point each price-following leg at the accounts for its pool's current tick (`ticks` per leg) by
        rewriting account-index bytes in place. False when a tick needs accounts outside the compiled
        window: the template must be rebuilt around it (the bytes are then not fit to sign)."""
        buf = self._buf
        for choice in self._choices:
            index_of = choice.index_of
            for off, key in zip(choice.offsets, choice.select(ticks[choice.leg]), strict=True):
                i = index_of.get(key)
                if i is None:
                    return False
                buf[off] = i
        return True

    def patch(
        self,
        blockhash: bytes,
        amounts: Sequence[tuple[int, int]],
        cu_limit: int,
        cu_price: int,
        tip: int = 0,
    ) -> bytearray:
        """Write per-trade values into the template (in place) and return the message bytes."""
        buf = self._buf
        buf[self.blockhash_offset : self.blockhash_offset + 32] = blockhash
        for leg, (amount, threshold) in zip(self.legs, amounts, strict=True):
            _U64.pack_into(buf, leg.amount_offset, amount)
            _U64.pack_into(buf, leg.threshold_offset, threshold)
        if self.cu_limit_offset >= 0:
            _U32.pack_into(buf, self.cu_limit_offset, cu_limit)
        if self.cu_price_offset >= 0:
            _U64.pack_into(buf, self.cu_price_offset, cu_price)
        if self.tip_offset >= 0:
            _U64.pack_into(buf, self.tip_offset, tip)
        return buf

    def sign(self, signer: Signer | Keypair) -> bytes:
        """Serialized single-signer transaction over the current template bytes (prepare the `Signer`
        once: a `Keypair` is converted on every call)."""
        if not isinstance(signer, Signer):
            signer = Signer(signer)
        return signer.sign_tx(bytes(self._buf))


def compile_route_message(
    payer: Pubkey,
    instructions: Sequence[Instruction],
    lookup_tables: Sequence[AddressLookupTableAccount],
) -> MessageV0:
    return MessageV0.try_compile(payer, list(instructions), list(lookup_tables), Hash.default())
