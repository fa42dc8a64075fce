"""The chain state around LiteSVM: slots, blockhashes, fees, balances, commitments, account index.

LiteSVM (solders 0.26) is a runtime, not a validator. Verified facts this module compensates for:
it accepts only its latest blockhash and does not dedupe signatures once the blockhash check is
off; `warp_to_slot` leaves SlotHashes alone; the Clock's unix time stays 0; it charges 5,000 lamports
per signature and no priority fee; results carry neither fee nor balances; it cannot list accounts.

Design:
- LiteSVM runs with its blockhash check and sigverify OFF. `Chain` enforces both itself, exactly as
  a validator does: signatures verified (ed25519) before anything else, the recent blockhash looked up
  in a block-height-indexed table (valid while `current_height - height_of(hash) <= 150`, i.e. until
  `lastValidBlockHeight = height + 150` inclusive), a signature processed once only.
- Every slot: new blockhash, Clock (slot, epoch, unix_timestamp = wall time) and SlotHashes (the
  parent slots, newest first, up to 512) are written into the SVM.
- Priority fee = ceil(cu_price_micro_lamports * cu_limit / 1e6) is debited from the fee payer before
  execution (kept when the transaction lands, even if it fails) and reported in `meta.fee`.

Commitment model (one model, used by every RPC method and notification):
- processed: the current, open slot S. A transaction is visible as soon as it is executed.
- confirmed: slot S-1 (a slot is confirmed once the next slot has started).
- finalized: slot S-32 (clamped at 0).
Reads at confirmed/finalized return the account as it was at the end of that slot (pre-images of
accounts written in the last 32 slots are kept for this); signature statuses report
`confirmationStatus` and `confirmations` from the same three slots.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from solders.account import Account
from solders.clock import Clock
from solders.compute_budget import set_compute_unit_limit
from solders.hash import Hash
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata, TransactionMetadata
from solders.transaction_status import TransactionErrorFieldless

MAX_PROCESSING_AGE = 150  # blocks a blockhash stays valid (agave MAX_PROCESSING_AGE)
BLOCKHASH_KEEP = 300  # table entries kept (older ones can never be valid again)
MAX_TX_RECORDS = 200_000  # landed transactions kept for getTransaction (dedupe needs only 150 slots)
BLOCK_TIMES_KEEP = 100_000  # slots whose block time getBlockTime can still answer
SLOT_HASHES_MAX = 512  # agave MAX_ENTRIES of the SlotHashes sysvar
CONFIRM_DEPTH = 1
FINALIZE_DEPTH = 32
LAMPORTS_PER_SIGNATURE = 5_000
DEFAULT_CU_PER_INSTRUCTION = 200_000
BUILTIN_CU_PER_INSTRUCTION = 3_000  # agave MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT
MAX_CU_LIMIT = 1_400_000
GENESIS_HASH = Hash(hashlib.sha256(b"solarb-localnet-genesis").digest())
FAUCET_LAMPORTS = 500_000_000 * 1_000_000_000

SYSTEM_PROGRAM = Pubkey.from_string("11111111111111111111111111111111")
COMPUTE_BUDGET = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
TOKEN_PROGRAM = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022_PROGRAM = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
TOKEN_PROGRAMS = frozenset((TOKEN_PROGRAM, TOKEN_2022_PROGRAM))
NATIVE_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
# spl-token Mint: COption<Pubkey> mint_authority, u64 supply, u8 decimals, bool is_initialized,
# COption<Pubkey> freeze_authority (82 bytes).
NATIVE_MINT_DATA = struct.pack("<I32sQBBI32s", 0, bytes(32), 0, 9, 1, 0, bytes(32))
SYSVAR_OWNER = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")
NATIVE_LOADER = Pubkey.from_string("NativeLoader1111111111111111111111111111111")
_NEVER_WRITTEN_OWNERS = frozenset((SYSVAR_OWNER, NATIVE_LOADER))
# Programs whose instructions get the builtin default CU allocation (agave builtin cost table).
BUILTIN_PROGRAMS = frozenset(
    Pubkey.from_string(s)
    for s in (
        "11111111111111111111111111111111",
        "ComputeBudget111111111111111111111111111111",
        "AddressLookupTab1e1111111111111111111111111",
        "Stake11111111111111111111111111111111111111",
        "Vote111111111111111111111111111111111111111",
        "Config1111111111111111111111111111111111111",
        "BPFLoader1111111111111111111111111111111111",
        "BPFLoader2111111111111111111111111111111111",
        "BPFLoaderUpgradeab1e11111111111111111111111",
        "LoaderV411111111111111111111111111111111111",
        "Ed25519SigVerify111111111111111111111111111",
        "KeccakSecp256k11111111111111111111111111111",
        "Secp256r1SigVerify1111111111111111111111111",
    )
)

PROCESSED, CONFIRMED, FINALIZED = "processed", "confirmed", "finalized"
COMMITMENTS = (PROCESSED, CONFIRMED, FINALIZED)
_ALT_HEADER = 56  # address lookup table meta size before the addresses
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class TxRejected(Exception):
    """A transaction that did not land: `err` is the TransactionError a validator reports."""

    def __init__(self, err: Any, logs: list[str] | None = None, units: int = 0) -> None:
        super().__init__(str(err))
        self.err = err
        self.logs = logs or []
        self.units = units


class SignatureInvalid(Exception):
    """At least one signature does not verify (RPC -32003)."""


class BatchFailed(Exception):
    """An all-or-nothing batch (`Chain.process_atomic`) that was rolled back. `index` is the transaction
    that failed, or None when the batch's `accept` check refused it; `cause` is what was raised
    (TxRejected, SignatureInvalid or the check's own exception)."""

    def __init__(self, index: int | None, cause: BaseException) -> None:
        super().__init__(f"transaction #{index}: {cause}" if index is not None else str(cause))
        self.index = index
        self.cause = cause


@dataclass(slots=True)
class TokenBalance:
    """One entry of meta.preTokenBalances / postTokenBalances."""

    index: int
    mint: Pubkey
    owner: Pubkey
    program: Pubkey
    amount: int
    decimals: int


@dataclass(slots=True)
class TxRecord:
    """Everything getTransaction / getSignatureStatuses report about one landed transaction."""

    signature: Signature
    slot: int
    block_time: int
    tx: VersionedTransaction
    keys: list[Pubkey]
    loaded_writable: list[Pubkey]
    loaded_readonly: list[Pubkey]
    fee: int
    err: Any  # solders TransactionError or None
    logs: list[str]
    units: int
    pre_balances: list[int]
    post_balances: list[int]
    pre_token: list[TokenBalance]
    post_token: list[TokenBalance]
    meta: TransactionMetadata | None


@dataclass(slots=True)
class Simulation:
    """Result of a simulation: err is None on success."""

    err: Any
    logs: list[str]
    units: int
    post_accounts: dict[Pubkey, Account | None]
    return_data: Any
    inner: Any


TxListener = Callable[[TxRecord, list[tuple[Pubkey, Account | None]]], None]
SlotListener = Callable[[int], None]


def parse_compute_budget(keys: list[Pubkey], instructions: Iterable[Any]) -> tuple[int, int]:
    """(cu_limit, cu_price_micro_lamports) from a message's ComputeBudget instructions.

    Absent SetComputeUnitLimit, the default is 3,000 CU per builtin-program instruction (compute
    budget instructions included) plus 200,000 per other instruction, capped at 1.4M (agave's rule
    since `reserve_minimal_cus_for_builtin_instructions`, which LiteSVM 0.26 applies: a
    create_account + InitializeMint transaction gets 202,850 = 3,000 + 200,000 - 150 remaining).
    """
    limit: int | None = None
    price = 0
    default = 0
    for ix in instructions:
        program = keys[ix.program_id_index]
        if program == COMPUTE_BUDGET:
            data = bytes(ix.data)
            if len(data) >= 5 and data[0] == 2:
                limit = _U32.unpack_from(data, 1)[0]
            elif len(data) >= 9 and data[0] == 3:
                price = _U64.unpack_from(data, 1)[0]
            default += BUILTIN_CU_PER_INSTRUCTION
        elif program in BUILTIN_PROGRAMS:
            default += BUILTIN_CU_PER_INSTRUCTION
        else:
            default += DEFAULT_CU_PER_INSTRUCTION
    cu_limit = min(limit if limit is not None else default, MAX_CU_LIMIT)
    return cu_limit, price


def priority_fee(cu_limit: int, cu_price: int) -> int:
    """ceil(micro-lamports per CU * CU limit / 1e6), in lamports (integer math)."""
    return (cu_price * cu_limit + 999_999) // 1_000_000


def token_balance_of(
    index: int, account: Account | None, mint_decimals: Callable[[Pubkey], int | None]
) -> TokenBalance | None:
    """The token balance entry of an SPL/Token-2022 token account, or None if it is not one."""
    if account is None or account.owner not in TOKEN_PROGRAMS:
        return None
    data = account.data
    n = len(data)
    if n < 165 or (n > 165 and data[165] != 2):  # Token-2022 extended accounts carry type byte 2
        return None
    if data[108] == 0:  # state Uninitialized
        return None
    mint = Pubkey.from_bytes(data[0:32])
    decimals = mint_decimals(mint)
    if decimals is None:
        return None
    return TokenBalance(
        index, mint, Pubkey.from_bytes(data[32:64]), account.owner, _U64.unpack_from(data, 64)[0], decimals
    )


def _token_index(tb: TokenBalance) -> int:
    return tb.index


@functools.lru_cache(maxsize=1024)
def _writable_flags(
    nsig: int, ro_signed: int, ro_unsigned: int, n_static: int, n_loaded_w: int, n_total: int
) -> tuple[bool, ...]:
    """Writability of each account key from the message header (cached: a few shapes recur)."""
    flags = [(i < nsig - ro_signed) if i < nsig else (i < n_static - ro_unsigned) for i in range(n_static)]
    flags += [True] * n_loaded_w
    flags += [False] * (n_total - n_static - n_loaded_w)
    return tuple(flags)


class Chain:
    """LiteSVM plus the validator parts it lacks. Single-threaded: call from the event loop only."""

    def __init__(self, *, start_unix_time: int | None = None) -> None:
        self.svm = LiteSVM().with_blockhash_check(False).with_sigverify(False).with_transaction_history(0)
        # The pyo3 object behind solders' pure-Python wrapper: the wrapper adds ~2 us per call, and the hot
        # path makes 2 calls per account key per transaction.
        self._raw: Any = getattr(self.svm, "_inner", self.svm)
        self.slot = 0
        self.block_height = 0
        self.blockhash = GENESIS_HASH
        self._blockhash_height: dict[Hash, int] = {GENESIS_HASH: 0}
        self._blockhash_order: deque[Hash] = deque([GENESIS_HASH])
        self._slot_hashes: deque[tuple[int, Hash]] = deque(maxlen=SLOT_HASHES_MAX)
        self._slot_blockhash: dict[int, Hash] = {0: GENESIS_HASH}
        self.block_times: dict[int, int] = {
            0: int(time.time()) if start_unix_time is None else start_unix_time
        }
        self.txs: dict[Signature, TxRecord] = {}
        self.slot_txs: dict[int, list[Signature]] = {}  # block contents, in execution order
        self.tx_count = 0
        # Account index: every account created, loaded or written (LiteSVM cannot list accounts).
        self._owner_of: dict[Pubkey, Pubkey] = {}
        self._by_owner: dict[Pubkey, set[Pubkey]] = {}
        # Pre-images for reads at confirmed/finalized: pubkey -> [(slot_of_first_write, state_before)].
        self._history: dict[Pubkey, deque[tuple[int, Account | None]]] = {}
        self._touched_in_slot: dict[int, list[Pubkey]] = {}
        self._prio_by_slot: dict[int, list[Any]] = {}
        self.tx_listeners: list[TxListener] = []
        self.slot_listeners: list[SlotListener] = []
        self.faucet = Keypair()
        self.set_account(self.faucet.pubkey(), Account(FAUCET_LAMPORTS, b"", SYSTEM_PROGRAM, False, 0))
        if self._raw.get_account(NATIVE_MINT) is None:
            # Genesis of solana-test-validator (agave genesis_utils::create_genesis_config_with_leader_ex)
            # holds the wrapped-SOL mint: owner SPL Token, 1 SOL, rent epoch 1, native_mint::ACCOUNT_DATA =
            # no mint authority, supply 0, 9 decimals, initialized, no freeze authority. LiteSVM has none.
            self.set_account(NATIVE_MINT, Account(1_000_000_000, NATIVE_MINT_DATA, TOKEN_PROGRAM, False, 1))
        self._write_sysvars()

    # ------------------------------------------------------------------ slots and commitments
    def commitment_slot(self, commitment: str) -> int:
        """The slot a commitment level currently refers to (see the module docstring)."""
        if commitment == PROCESSED:
            return self.slot
        if commitment == CONFIRMED:
            return max(0, self.slot - CONFIRM_DEPTH)
        return max(0, self.slot - FINALIZE_DEPTH)

    def status_of_slot(self, slot: int) -> str:
        if slot <= self.commitment_slot(FINALIZED):
            return FINALIZED
        if slot <= self.commitment_slot(CONFIRMED):
            return CONFIRMED
        return PROCESSED

    def advance_slot(self) -> int:
        """Close the current slot and open the next: new blockhash, Clock and SlotHashes."""
        parent, parent_hash = self.slot, self.blockhash
        self.slot += 1
        self.block_height += 1
        self.blockhash = Hash(hashlib.sha256(bytes(parent_hash) + self.slot.to_bytes(8, "little")).digest())
        self._blockhash_height[self.blockhash] = self.block_height
        self._blockhash_order.append(self.blockhash)
        while len(self._blockhash_order) > BLOCKHASH_KEEP:
            del self._blockhash_height[self._blockhash_order.popleft()]
        self._slot_hashes.appendleft((parent, parent_hash))
        self._slot_blockhash[self.slot] = self.blockhash
        self._slot_blockhash.pop(self.slot - BLOCK_TIMES_KEEP, None)
        self.block_times[self.slot] = int(time.time())
        self.block_times.pop(self.slot - BLOCK_TIMES_KEEP, None)
        self.slot_txs.pop(self.slot - BLOCK_TIMES_KEEP, None)
        # LiteSVM's own blockhash is what AdvanceNonceAccount stores as the next durable nonce: give every
        # slot a fresh one so a nonce can be advanced once per slot, as on a validator.
        self._raw.expire_blockhash()
        self._write_sysvars()
        self._prune_history()
        for listener in self.slot_listeners:
            listener(self.slot)
        return self.slot

    def _write_sysvars(self) -> None:
        schedule = self.svm.get_epoch_schedule()
        epoch, _ = schedule.get_epoch_and_slot_index(self.slot)
        first = schedule.get_first_slot_in_epoch(epoch)
        now = self.block_times[self.slot]
        start_ts = self.block_times.get(first, now)
        self.svm.set_clock(
            Clock(
                slot=self.slot,
                epoch_start_timestamp=start_ts,
                epoch=epoch,
                leader_schedule_epoch=schedule.get_leader_schedule_epoch(self.slot),
                unix_timestamp=now,
            )
        )
        self.svm.set_slot_hashes(list(self._slot_hashes))

    def blockhash_age(self, blockhash: Hash) -> int | None:
        """Blocks since `blockhash` was produced, or None if this chain never produced it."""
        height = self._blockhash_height.get(blockhash)
        return None if height is None else self.block_height - height

    def is_blockhash_valid(self, blockhash: Hash) -> bool:
        age = self.blockhash_age(blockhash)
        return age is not None and age <= MAX_PROCESSING_AGE

    def blockhash_of_slot(self, slot: int) -> Hash | None:
        return self._slot_blockhash.get(slot)

    # ------------------------------------------------------------------ accounts
    def get_account(self, pubkey: Pubkey, commitment: str = PROCESSED) -> Account | None:
        """The account as of the end of the commitment's slot (processed: right now); None for an account
        with no lamports: a validator drops it (getAccountInfo of a closed account is null), LiteSVM keeps
        it as a zero-lamport account."""
        if commitment == PROCESSED:
            acc = self.svm.get_account(pubkey)
        else:
            acc = self.account_at_slot(pubkey, self.commitment_slot(commitment))
        return acc if acc is not None and acc.lamports else None

    def account_at_slot(self, pubkey: Pubkey, slot: int) -> Account | None:
        """The account at the end of `slot` (exact for the last 32 slots)."""
        hist = self._history.get(pubkey)
        if hist:
            for s, before in hist:
                if s > slot:
                    return before
        return self.svm.get_account(pubkey)

    def set_account(self, pubkey: Pubkey, account: Account) -> None:
        """Write an account outside of any transaction (loading, test set-up, airdrops)."""
        self._remember_preimage(pubkey, self.svm.get_account(pubkey))
        self.svm.set_account(pubkey, account)
        self._index(pubkey, account)

    def add_program(self, program_id: Pubkey, elf: bytes) -> None:
        self._remember_preimage(program_id, self.svm.get_account(program_id))
        self.svm.add_program(program_id, elf)
        self._index(program_id, self.svm.get_account(program_id))

    def accounts_owned_by(self, owner: Pubkey, commitment: str = PROCESSED) -> list[Pubkey]:
        """Candidates for getProgramAccounts: owned by `owner` now or, for confirmed/finalized, at any
        point in the kept history (an account reassigned or closed since). Callers re-check the owner
        of `get_account(key, commitment)`."""
        keys = set(self._by_owner.get(owner, ()))
        if commitment != PROCESSED:
            for key, hist in self._history.items():
                if any(before is not None and before.owner == owner for _, before in hist):
                    keys.add(key)
        return list(keys)

    def known_accounts(self) -> list[Pubkey]:
        return list(self._owner_of)

    def _index(self, pubkey: Pubkey, account: Account | None) -> None:
        old = self._owner_of.get(pubkey)
        new = None if account is None or (account.lamports == 0 and not account.data) else account.owner
        if old == new:
            return
        if old is not None:
            self._by_owner[old].discard(pubkey)
        if new is None:
            self._owner_of.pop(pubkey, None)
        else:
            self._owner_of[pubkey] = new
            self._by_owner.setdefault(new, set()).add(pubkey)

    def _remember_preimage(self, pubkey: Pubkey, before: Account | None) -> None:
        hist = self._history.get(pubkey)
        if hist is None:
            hist = self._history[pubkey] = deque()
        elif hist[-1][0] == self.slot:
            return
        hist.append((self.slot, before))
        self._touched_in_slot.setdefault(self.slot, []).append(pubkey)

    def _prune_history(self) -> None:
        # A pre-image recorded in slot s <= finalized can no longer be asked for by any commitment.
        final = self.commitment_slot(FINALIZED)
        for slot in [s for s in self._touched_in_slot if s <= final]:
            for pubkey in self._touched_in_slot.pop(slot):
                hist = self._history.get(pubkey)
                while hist and hist[0][0] <= final:
                    hist.popleft()
                if hist is not None and not hist:
                    del self._history[pubkey]

    def mint_decimals(self, mint: Pubkey) -> int | None:
        acc = self._raw.get_account(mint)
        if acc is None or acc.owner not in TOKEN_PROGRAMS or len(acc.data) < 82:
            return None
        return int(acc.data[44])

    # ------------------------------------------------------------------ transactions
    def resolve_keys(self, message: Message | MessageV0) -> tuple[list[Pubkey], list[Pubkey], list[Pubkey]]:
        """(all account keys in execution order, loaded writable, loaded readonly)."""
        keys = list(message.account_keys)
        if isinstance(message, Message) or not message.address_table_lookups:
            return keys, [], []
        writable: list[Pubkey] = []
        readonly: list[Pubkey] = []
        for lookup in message.address_table_lookups:
            table = self.svm.get_account(lookup.account_key)
            if table is None or table.owner != Pubkey.from_string(
                "AddressLookupTab1e1111111111111111111111111"
            ):
                raise TxRejected(TransactionErrorFieldless.AddressLookupTableNotFound)
            data = table.data
            count = (len(data) - _ALT_HEADER) // 32
            for out, idxs in ((writable, lookup.writable_indexes), (readonly, lookup.readonly_indexes)):
                for i in idxs:
                    if i >= count:
                        raise TxRejected(TransactionErrorFieldless.InvalidAddressLookupTableIndex)
                    off = _ALT_HEADER + 32 * i
                    out.append(Pubkey.from_bytes(data[off : off + 32]))
        return keys + writable + readonly, writable, readonly

    @staticmethod
    def writable_flags(
        message: Message | MessageV0, n_static: int, n_loaded_w: int, n_total: int
    ) -> list[bool]:
        h = message.header
        return list(
            _writable_flags(
                h.num_required_signatures,
                h.num_readonly_signed_accounts,
                h.num_readonly_unsigned_accounts,
                n_static,
                n_loaded_w,
                n_total,
            )
        )

    def verify_signatures(self, tx: VersionedTransaction, message: Message | MessageV0 | None = None) -> None:
        try:
            ok = tx.verify_with_results()
        except Exception as err:  # malformed signature list
            raise SignatureInvalid(str(err)) from err
        # (`tx.message` clones the message, ~4 us: callers on the hot path pass it in.)
        self.check_signature_results(ok, message if message is not None else tx.message)

    @staticmethod
    def check_signature_results(ok: Iterable[bool], message: Message | MessageV0) -> None:
        """Raise SignatureInvalid unless `ok` (verify_with_results) holds one True per required signature."""
        ok = tuple(ok)
        if not all(ok) or len(ok) != message.header.num_required_signatures:
            raise SignatureInvalid("signature verification failed")

    def fee_of(self, message: Message | MessageV0, keys: list[Pubkey] | None = None) -> tuple[int, int, int]:
        """(total fee, priority part, CU price in micro-lamports) for a message; fees in lamports."""
        keys = keys if keys is not None else list(message.account_keys)
        base = LAMPORTS_PER_SIGNATURE * message.header.num_required_signatures
        if COMPUTE_BUDGET not in keys:
            return base, 0, 0  # no SetComputeUnitPrice possible: price 0, so the CU limit does not matter
        limit, price = parse_compute_budget(keys, message.instructions)
        prio = priority_fee(limit, price)
        return base + prio, prio, price

    def recent_fee_slots(self) -> list[int]:
        """Slots getRecentPrioritizationFees reports (the last 150, oldest first)."""
        return list(range(max(0, self.slot - MAX_PROCESSING_AGE + 1), self.slot + 1))

    def prioritization_fee(self, slot: int, keys: list[Pubkey]) -> int:
        """Minimum CU price paid in `slot`: over all transactions, or for transactions writing `keys`
        (the max over the keys of each key's minimum, as agave's prioritization fee cache reports)."""
        entry = self._prio_by_slot.get(slot)
        if entry is None:
            return 0
        if not keys:
            return int(entry[0])
        return max((int(entry[1].get(k, 0)) for k in keys), default=0)

    def _track_prio(self, price: int, writable: list[Pubkey]) -> None:
        entry = self._prio_by_slot.get(self.slot)
        if entry is None:
            entry = self._prio_by_slot[self.slot] = [price, {}]
            self._prio_by_slot.pop(self.slot - MAX_PROCESSING_AGE, None)
        elif price < entry[0]:
            entry[0] = price
        per = entry[1]
        for k in writable:
            old = per.get(k)
            if old is None or price < old:
                per[k] = price

    def check_transaction(
        self, tx: VersionedTransaction, message: Message | MessageV0, *, check_blockhash: bool = True
    ) -> None:
        """Validator-side checks before execution (dedupe, blockhash); raises TxRejected."""
        if tx.signatures and tx.signatures[0] in self.txs:
            raise TxRejected(TransactionErrorFieldless.AlreadyProcessed)
        if (
            check_blockhash
            and not self.is_blockhash_valid(message.recent_blockhash)
            and not self._is_valid_durable_nonce(tx, message)
        ):
            raise TxRejected(TransactionErrorFieldless.BlockhashNotFound)

    def _is_valid_durable_nonce(self, tx: VersionedTransaction, message: Message | MessageV0) -> bool:
        """A durable-nonce transaction (first instruction AdvanceNonceAccount) is valid when its recent
        blockhash equals the nonce stored in that nonce account (nonce::state::Versions, initialized)."""
        if not tx.uses_durable_nonce():
            return False
        ix = message.instructions[0]
        accounts = bytes(ix.accounts)
        keys = message.account_keys
        if not accounts or accounts[0] >= len(keys):
            return False
        acc = self._raw.get_account(keys[accounts[0]])
        if acc is None or acc.owner != SYSTEM_PROGRAM or len(acc.data) < 72:
            return False
        data = acc.data
        initialized = _U32.unpack_from(data, 4)[0] == 1
        return bool(initialized and data[40:72] == bytes(message.recent_blockhash))

    def process(
        self,
        tx: VersionedTransaction,
        *,
        verified: bool = False,
        preflight: bool = False,
        sig_results: Iterable[bool] | None = None,
    ) -> TxRecord:
        """Execute one transaction the way a leader does. Raises SignatureInvalid or TxRejected for a
        transaction that does not land; a landed transaction that fails is returned with `err` set.

        preflight=True is sendTransaction's preflight folded into execution: a transaction that would
        fail is rolled back (it only ever touched the fee payer) and raised as TxRejected with its logs,
        so a good transaction executes once instead of twice (simulate + execute on the same state).
        sig_results: verify_with_results() computed elsewhere (a verification worker), checked instead.
        """
        message = tx.message
        if not verified:
            if sig_results is None:
                self.verify_signatures(tx, message)
            else:
                self.check_signature_results(sig_results, message)
        sig = tx.signatures[0]
        # check_transaction, inlined for the hot path: dedupe, then the blockhash by block height.
        if sig in self.txs:
            raise TxRejected(TransactionErrorFieldless.AlreadyProcessed)
        height = self._blockhash_height.get(message.recent_blockhash)
        if (
            height is None or self.block_height - height > MAX_PROCESSING_AGE
        ) and not self._is_valid_durable_nonce(tx, message):
            raise TxRejected(TransactionErrorFieldless.BlockhashNotFound)
        if type(message) is MessageV0 and message.address_table_lookups:
            keys, loaded_w, loaded_r = self.resolve_keys(message)
        else:
            keys, loaded_w, loaded_r = list(message.account_keys), [], []
        n_keys = len(keys)
        n_static = n_keys - len(loaded_w) - len(loaded_r)
        fee, prio, price = self.fee_of(message, keys)
        svm = self._raw
        get = svm.get_account
        pre_accounts = [get(k) for k in keys]
        payer = keys[0]
        payer_acc = pre_accounts[0]
        if payer_acc is None or payer_acc.lamports == 0:
            raise TxRejected(TransactionErrorFieldless.AccountNotFound)
        if payer_acc.lamports < fee:
            raise TxRejected(TransactionErrorFieldless.InsufficientFundsForFee)
        if prio:
            svm.set_account(
                payer,
                Account(
                    payer_acc.lamports - prio,
                    payer_acc.data,
                    payer_acc.owner,
                    payer_acc.executable,
                    payer_acc.rent_epoch,
                ),
            )
        result = svm.send_transaction(tx)
        if isinstance(result, FailedTransactionMetadata):
            payer_now = get(payer)
            if payer_now is None or payer_now.lamports == payer_acc.lamports - prio:
                # Nothing charged by the runtime: the transaction did not land (load/sanitize error).
                if prio:
                    svm.set_account(payer, payer_acc)
                meta = result.meta()
                raise TxRejected(result.err(), list(meta.logs()), meta.compute_units_consumed())
            meta = result.meta()
            err = result.err()
            if preflight:
                svm.set_account(payer, payer_acc)
                raise TxRejected(err, list(meta.logs()), meta.compute_units_consumed())
        else:
            meta = result
            err = None
        h = message.header
        flags = _writable_flags(
            h.num_required_signatures,
            h.num_readonly_signed_accounts,
            h.num_readonly_unsigned_accounts,
            n_static,
            len(loaded_w),
            n_keys,
        )
        pre_balances = [a.lamports if a is not None else 0 for a in pre_accounts]
        decimals = self.mint_decimals
        pre_token: list[TokenBalance] = []
        for i, a in enumerate(pre_accounts):
            if a is not None and a.owner in TOKEN_PROGRAMS and (tb := token_balance_of(i, a, decimals)):
                pre_token.append(tb)
        # Only writable keys are read again: the runtime refuses any change to a read-only account, so its
        # post state is its pre state (and so are its lamports and token balance).
        post_accounts = list(pre_accounts)
        post_balances = list(pre_balances)
        post_token_at: dict[int, TokenBalance | None] = {}
        written: list[tuple[Pubkey, Account | None]] = []
        written_keys: list[Pubkey] = []
        slot = self.slot
        history = self._history
        owner_of = self._owner_of
        owner = None
        for i in range(n_keys):
            if not flags[i]:
                continue
            key = keys[i]
            post = post_accounts[i] = get(key)
            if post is None:
                post_balances[i] = 0
                if pre_token:
                    post_token_at[i] = None
            else:
                post_balances[i] = post.lamports
                owner = post.owner
                if owner in TOKEN_PROGRAMS:
                    post_token_at[i] = token_balance_of(i, post, decimals)
                elif pre_token:
                    post_token_at[i] = None  # was it a token account? (closed or reassigned)
                if post.executable or owner in _NEVER_WRITTEN_OWNERS:
                    continue  # demoted: programs and sysvars are never written
            if err is not None and i != 0:  # a failed transaction only writes the fee payer (and a nonce)
                continue
            hist = history.get(key)
            if hist is None or hist[-1][0] != slot:  # (_remember_preimage's own early exit, inlined)
                self._remember_preimage(key, pre_accounts[i])
            # _index's no-change case inlined (the owner is known here): most writes keep the owner.
            if post is None or (post_balances[i] == 0 and not post.data) or owner_of.get(key) != owner:
                self._index(key, post)
            written.append((key, post))
            written_keys.append(key)
        self._track_prio(price, written_keys)
        if post_token_at:
            post_token = [tb for tb in pre_token if tb.index not in post_token_at]
            post_token += [tb for tb in post_token_at.values() if tb is not None]
            post_token.sort(key=_token_index)
        else:
            post_token = list(pre_token)
        record = TxRecord(
            sig,
            slot,
            self.block_times[slot],
            tx,
            keys,
            loaded_w,
            loaded_r,
            fee,
            err,
            meta.logs(),
            meta.compute_units_consumed(),
            pre_balances,
            post_balances,
            pre_token,
            post_token,
            meta,
        )
        txs = self.txs
        txs[sig] = record
        in_slot = self.slot_txs.get(slot)
        if in_slot is None:
            self.slot_txs[slot] = [sig]
        else:
            in_slot.append(sig)
        self.tx_count += 1
        if len(txs) > MAX_TX_RECORDS:  # dicts keep insertion order: drop the oldest
            del txs[next(iter(txs))]
        for listener in self.tx_listeners:
            listener(record, written)
        return record

    def process_atomic(
        self,
        txs: list[VersionedTransaction],
        *,
        verified: bool = False,
        accept: Callable[[list[TxRecord]], None] | None = None,
    ) -> list[TxRecord]:
        """Execute `txs` in order, all or nothing (a Jito bundle), in the current slot.

        Each runs as `process(preflight=True)`: one that would fail raises instead of landing. When one
        raises, or `accept(records)` raises once all have run, the batch is undone: every account the
        batch wrote is restored, its records, fees and prioritization fees are dropped, and no listener
        heard of it; BatchFailed(index, cause) is raised. Otherwise the listeners hear of each
        transaction in order, as if each had been sent alone. (An account that did not exist before the
        batch comes back inside LiteSVM as a zero-lamport system account, as after a close, since solders'
        LiteSVM cannot delete one; `get_account` reads it as absent.)
        """
        slot = self.slot
        raw = self._raw
        pre: dict[Pubkey, Account | None] = {}
        had_preimage: dict[Pubkey, bool] = {}
        prio = self._prio_by_slot.get(slot)
        prio_before = None if prio is None else [prio[0], dict(prio[1])]
        in_slot_before = len(self.slot_txs.get(slot, ()))
        count_before = self.tx_count
        events: list[tuple[TxRecord, list[tuple[Pubkey, Account | None]]]] = []
        records: list[TxRecord] = []
        listeners = self.tx_listeners
        self.tx_listeners = [lambda rec, written: events.append((rec, written))]
        index: int | None = None
        try:
            for i, tx in enumerate(txs):
                index = i
                for key in self._writable_keys(tx):
                    if key not in pre:
                        pre[key] = raw.get_account(key)
                        hist = self._history.get(key)
                        had_preimage[key] = hist is not None and hist[-1][0] == slot
                records.append(self.process(tx, verified=verified, preflight=True))
            index = None
            if accept is not None:
                accept(records)
        except BaseException as err:
            self._undo(slot, pre, had_preimage, prio_before, in_slot_before, count_before, records)
            if isinstance(err, (KeyboardInterrupt, SystemExit)):
                raise
            raise BatchFailed(index, err) from err  # (a pyo3 PanicException is a BaseException too)
        finally:
            self.tx_listeners = listeners
        for rec, written in events:
            for listener in listeners:
                listener(rec, written)
        return records

    def _writable_keys(self, tx: VersionedTransaction) -> list[Pubkey]:
        """The keys `tx` may write (fee payer included); [] when its lookup tables do not resolve (then
        `process` rejects it before writing anything)."""
        message = tx.message
        try:
            keys, loaded_w, loaded_r = self.resolve_keys(message)
        except TxRejected:
            return []
        n = len(keys)
        flags = self.writable_flags(message, n - len(loaded_w) - len(loaded_r), len(loaded_w), n)
        return [k for k, w in zip(keys, flags) if w]

    def _undo(
        self,
        slot: int,
        pre: dict[Pubkey, Account | None],
        had_preimage: dict[Pubkey, bool],
        prio_before: list[Any] | None,
        in_slot_before: int,
        count_before: int,
        records: list[TxRecord],
    ) -> None:
        """Roll back what `process` did for the records of a failed `process_atomic` batch."""
        raw = self._raw
        for key, before in pre.items():
            if raw.get_account(key) == before:
                continue
            raw.set_account(key, before if before is not None else Account(0, b"", SYSTEM_PROGRAM, False, 0))
            self._index(key, before)
            hist = self._history.get(key)
            if not had_preimage[key] and hist and hist[-1][0] == slot:  # the pre-image this batch recorded
                hist.pop()
                if not hist:
                    del self._history[key]
                touched = self._touched_in_slot.get(slot)
                if touched is not None and key in touched:
                    touched.remove(key)
        for rec in records:
            self.txs.pop(rec.signature, None)
        in_slot = self.slot_txs.get(slot)
        if in_slot is not None:
            del in_slot[in_slot_before:]
            if not in_slot:
                del self.slot_txs[slot]
        self.tx_count = count_before
        if prio_before is None:
            self._prio_by_slot.pop(slot, None)
        else:
            self._prio_by_slot[slot] = prio_before

    def simulate(
        self, tx: VersionedTransaction, *, check_blockhash: bool = True, sig_verify: bool = False
    ) -> Simulation:
        """Execute without committing. Validator-side rejections come back as `err` with no logs."""
        message = tx.message
        if sig_verify:
            self.verify_signatures(tx, message)
        try:
            self.check_transaction(tx, message, check_blockhash=check_blockhash)
            keys, _, _ = self.resolve_keys(message)
            fee, _, _ = self.fee_of(message, keys)
            payer = self.svm.get_account(keys[0])
            if payer is None or payer.lamports == 0:
                raise TxRejected(TransactionErrorFieldless.AccountNotFound)
            if payer.lamports < fee:
                raise TxRejected(TransactionErrorFieldless.InsufficientFundsForFee)
        except TxRejected as rej:
            return Simulation(rej.err, rej.logs, rej.units, {}, None, None)
        result = self.svm.simulate_transaction(tx)
        if isinstance(result, FailedTransactionMetadata):
            meta = result.meta()
            return Simulation(
                result.err(),
                list(meta.logs()),
                meta.compute_units_consumed(),
                {},
                meta.return_data(),  # type: ignore[attr-defined]
                meta.inner_instructions(),
            )
        meta = result.meta()
        return Simulation(
            None,
            list(meta.logs()),
            meta.compute_units_consumed(),
            dict(result.post_accounts()),
            meta.return_data(),  # type: ignore[attr-defined]
            meta.inner_instructions(),
        )

    def airdrop(self, to: Pubkey, lamports: int) -> TxRecord:
        """A real system transfer from the faucet, so the signature has a full transaction record."""
        ixs = [transfer(TransferParams(from_pubkey=self.faucet.pubkey(), to_pubkey=to, lamports=lamports))]
        salt = 0
        while True:
            msg = Message.new_with_blockhash(ixs, self.faucet.pubkey(), self.blockhash)
            tx = VersionedTransaction(msg, [self.faucet])
            if tx.signatures[0] not in self.txs:
                return self.process(tx, verified=True)
            # Same recipient, amount and blockhash twice: vary the message (a CU limit) like a new request.
            salt += 1
            ixs = [set_compute_unit_limit(MAX_CU_LIMIT - salt), ixs[-1]]
