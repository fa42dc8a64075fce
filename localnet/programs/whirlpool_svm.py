"""Whirlpool pools on an in-process LiteSVM running our whirlpool.so at Orca's program id (tests, benches).

One `WhirlpoolSvm` hosts thousands of independent cases: each case writes a complete pool with
`whirlpool_accounts.make_pool` (fresh mints, so a fresh pool PDA, vaults and tick arrays) and a user with
two token accounts, then sends one real transaction (sigverify, the sBPF VM running whirlpool.so, CPIs into
the real SPL Token program) built by the bot's own `orca_whirlpool.build_swap_ix` / `build_swap_v2_ix`.
Reads go back through the bot's decoders, so the off-chain quote runs on exactly what the chain holds.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from solders.clock import Clock
from solders.compute_budget import set_compute_unit_limit
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import InstructionErrorCustom, TransactionErrorInstructionError

from localnet.programs import program_path
from localnet.programs import whirlpool_accounts as wa
from strategies.venues import orca_whirlpool as orca
from strategies.venues.errors import VenueError

U64_MAX = (1 << 64) - 1
NOW = 1_750_000_000
CU_LIMIT = 1_400_000
_U64 = struct.Struct("<Q")


@dataclass(frozen=True)
class TxOutcome:
    """What a sent transaction did: ok, the program's custom error code (if any), the error text, CUs, logs."""

    ok: bool
    custom_error: int | None
    error: str | None
    compute_units: int
    logs: tuple[str, ...]


def _custom_code(err: object) -> int | None:
    if isinstance(err, TransactionErrorInstructionError) and isinstance(err.err, InstructionErrorCustom):
        return int(err.err.code)
    return None


@dataclass
class Case:
    """One seeded pool and its user: addresses plus what the chain held right after seeding."""

    setup: wa.PoolSetup
    payer: Keypair
    user_a: Pubkey
    user_b: Pubkey
    watched: list[Pubkey] = field(default_factory=list)

    @property
    def pool(self) -> Pubkey:
        return self.setup.whirlpool


class WhirlpoolSvm:
    """LiteSVM with whirlpool.so loaded and the clock at NOW (unix seconds)."""

    def __init__(self, now: int = NOW) -> None:
        self.svm = LiteSVM()
        self.svm.add_program(wa.PROGRAM_ID, program_path("whirlpool").read_bytes())
        self.set_time(now)

    def set_time(self, unix_timestamp: int) -> None:
        self.svm.set_clock(
            Clock(slot=1, epoch_start_timestamp=unix_timestamp, epoch=1, leader_schedule_epoch=1,
                  unix_timestamp=unix_timestamp)
        )  # fmt: skip

    # --- state ---
    def put(self, key: Pubkey, data: bytes, owner: Pubkey) -> None:
        self.svm.set_account(key, wa.account(data, owner))

    def data(self, key: Pubkey) -> bytes | None:
        acc = self.svm.get_account(key)
        return None if acc is None else bytes(acc.data)

    def token_amount(self, key: Pubkey) -> int:
        data = self.data(key)
        assert data is not None, key
        return int(_U64.unpack_from(data, 64)[0])

    def seed(self, setup: wa.PoolSetup, user_a: int = U64_MAX, user_b: int = U64_MAX) -> Case:
        """Write every account of `setup`, a fresh funded payer and its token accounts for both mints."""
        for key, acc in setup.accounts.items():
            self.svm.set_account(key, acc)
        payer = Keypair()
        self.svm.set_account(payer.pubkey(), wa.account(b"", Pubkey.default(), lamports=10**12))
        ua, ub = Pubkey.new_unique(), Pubkey.new_unique()
        self.put(ua, wa.token_account_data(setup.mint_a, payer.pubkey(), user_a), wa.TOKEN_PROGRAM_ID)
        self.put(ub, wa.token_account_data(setup.mint_b, payer.pubkey(), user_b), wa.TOKEN_PROGRAM_ID)
        watched = [setup.whirlpool, setup.vault_a, setup.vault_b, ua, ub, *setup.tick_arrays.values()]
        return Case(setup, payer, ua, ub, watched)

    def snapshot(self, case: Case) -> dict[Pubkey, bytes | None]:
        """Raw bytes of every account a swap on `case` may touch."""
        return {k: self.data(k) for k in case.watched}

    def whirlpool(self, case: Case) -> orca.Whirlpool:
        return self.whirlpool_at(case.pool)

    def whirlpool_at(self, key: Pubkey) -> orca.Whirlpool:
        data = self.data(key)
        assert data is not None, key
        return orca.decode_whirlpool(data)

    def tick_arrays(self, case: Case) -> dict[int, orca.TickArray]:
        """The case's tick arrays that exist (fixed or dynamic), decoded by the bot's decoder."""
        out = {}
        for start, key in case.setup.tick_arrays.items():
            data = self.data(key)
            if data:
                out[start] = orca.decode_tick_array(data)
        return out

    def quote(self, case: Case, amount: int, a_to_b: bool, is_input: bool, sqrt_price_limit: int = 0) -> Any:
        """The bot's exact quote on what the chain holds now: a WhirlpoolQuote, or the QuoteError it raises."""
        pool = self.whirlpool(case)
        arrays = orca.swap_tick_arrays(pool, self.tick_arrays(case), a_to_b, case.pool)
        try:
            return orca.quote_swap(
                pool, arrays, amount, a_to_b=a_to_b, amount_specified_is_input=is_input,
                sqrt_price_limit=sqrt_price_limit,
            )  # fmt: skip
        except VenueError as err:
            return err

    # --- instructions ---
    def swap_accounts(self, case: Case, a_to_b: bool) -> orca.SwapAccounts:
        return orca.swap_accounts_for(case.pool, self.whirlpool(case), case.payer.pubkey(), case.user_a,
                                      case.user_b, a_to_b)  # fmt: skip

    def swap_ix(
        self,
        case: Case,
        *,
        amount: int,
        a_to_b: bool,
        is_input: bool,
        threshold: int | None = None,
        sqrt_price_limit: int = 0,
        v2: bool = False,
        accounts: orca.SwapAccounts | None = None,
        supplemental: tuple[Pubkey, ...] = (),
    ) -> Instruction:
        """A swap built by the bot's builders; the threshold defaults to "anything goes"."""
        if threshold is None:
            threshold = 0 if is_input else U64_MAX
        accs = accounts or self.swap_accounts(case, a_to_b)
        kw: dict[str, Any] = {
            "amount": amount, "other_amount_threshold": threshold, "sqrt_price_limit": sqrt_price_limit,
            "amount_specified_is_input": is_input, "a_to_b": a_to_b,
        }  # fmt: skip
        if v2:
            return orca.build_swap_v2_ix(
                accs, token_mint_a=case.setup.mint_a, token_mint_b=case.setup.mint_b,
                supplemental_tick_arrays=supplemental, **kw,
            )  # fmt: skip
        return orca.build_swap_ix(accs, **kw)

    def send(self, ixs: list[Instruction], signers: list[Keypair]) -> TxOutcome:
        """One transaction with a 1.4M CU limit; the blockhash is rotated so equal messages stay distinct."""
        msg = Message([set_compute_unit_limit(CU_LIMIT), *ixs], signers[0].pubkey())
        tx = Transaction(signers, msg, self.svm.latest_blockhash())
        res = self.svm.send_transaction(tx)
        self.svm.expire_blockhash()
        if isinstance(res, FailedTransactionMetadata):
            meta, err = res.meta(), res.err()
            return TxOutcome(
                False, _custom_code(err), str(err), meta.compute_units_consumed(), tuple(meta.logs())
            )
        return TxOutcome(True, None, None, res.compute_units_consumed(), tuple(res.logs()))

    def send_swap(self, case: Case, **kw: Any) -> TxOutcome:
        return self.send([self.swap_ix(case, **kw)], [case.payer])


def balances(svm: WhirlpoolSvm, case: Case) -> dict[str, int]:
    return {
        "vault_a": svm.token_amount(case.setup.vault_a),
        "vault_b": svm.token_amount(case.setup.vault_b),
        "user_a": svm.token_amount(case.user_a),
        "user_b": svm.token_amount(case.user_b),
    }


def expected_balances(before: dict[str, int], amount_a: int, amount_b: int, a_to_b: bool) -> dict[str, int]:
    """Balances after a swap that moved amount_a / amount_b in the direction a_to_b."""
    sa, sb = (1, -1) if a_to_b else (-1, 1)
    return {
        "vault_a": before["vault_a"] + sa * amount_a,
        "vault_b": before["vault_b"] + sb * amount_b,
        "user_a": before["user_a"] - sa * amount_a,
        "user_b": before["user_b"] - sb * amount_b,
    }
