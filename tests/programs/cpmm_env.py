"""A CPMM pool inside an in-process LiteSVM with our program loaded at Raydium CPMM's id.

Accounts are written directly with ``set_account`` so one VM can host thousands of independent
swaps (each example rewrites the pool, vaults and user accounts it uses). Transactions go through the
real runtime: sigverify, the sBPF VM running cpmm.so, CPIs into the real SPL Token program.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import InstructionErrorCustom, TransactionErrorInstructionError

from localnet.programs import cpmm_accounts as ca
from localnet.programs import program_path

_U64 = struct.Struct("<Q")
# PoolState fees-owed offsets (protocols.md §2.2): protocol0, protocol1, fund0, fund1.
FEE_OFFSETS = {"protocol_0": 341, "protocol_1": 349, "fund_0": 357, "fund_1": 365}


@dataclass(frozen=True)
class TxOutcome:
    """What a sent transaction did: ok, the custom error code if any, CUs, logs."""

    ok: bool
    custom_error: int | None
    error: str | None
    compute_units: int
    logs: list[str]


def _custom_code(err: object) -> int | None:
    """The n of InstructionError(_, Custom(n)), else None."""
    if isinstance(err, TransactionErrorInstructionError) and isinstance(err.err, InstructionErrorCustom):
        return int(err.err.code)
    return None


class CpmmEnv:
    """One VM, one CPMM program, helpers to lay out a pool and send swaps."""

    def __init__(self, program_id: Pubkey = ca.PROGRAM_ID) -> None:
        self.svm = LiteSVM()
        self.program_id = program_id
        self.svm.add_program(program_id, program_path("cpmm").read_bytes())
        self.authority, self.auth_bump = ca.authority(program_id)
        self.mint0, self.mint1 = sorted([Pubkey.new_unique(), Pubkey.new_unique()], key=bytes)
        self.config = Pubkey.new_unique()
        self.pool = Pubkey.new_unique()
        self.vault0 = Pubkey.new_unique()
        self.vault1 = Pubkey.new_unique()
        self.observation = Pubkey.new_unique()
        self.user0 = Pubkey.new_unique()
        self.user1 = Pubkey.new_unique()
        self.payer = Keypair()
        self.set_mint(self.mint0, 9)
        self.set_mint(self.mint1, 6)

    # --- state writers ---
    def set_mint(self, mint: Pubkey, decimals: int) -> None:
        self.svm.set_account(mint, ca.account(ca.mint_data(decimals, supply=0), ca.TOKEN_PROGRAM_ID))

    def set_token(
        self, address: Pubkey, mint: Pubkey, owner: Pubkey, amount: int, program: Pubkey = ca.TOKEN_PROGRAM_ID
    ) -> None:
        self.svm.set_account(address, ca.account(ca.token_account_data(mint, owner, amount), program))

    def pool_fields(self, **overrides: object) -> ca.PoolFields:
        base = ca.PoolFields(
            amm_config=self.config,
            token_0_vault=self.vault0,
            token_1_vault=self.vault1,
            token_0_mint=self.mint0,
            token_1_mint=self.mint1,
            observation_key=self.observation,
            auth_bump=self.auth_bump,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    def set_pool(self, fields: ca.PoolFields, trade: int, protocol: int, fund: int) -> None:
        self.svm.set_account(
            self.config, ca.account(ca.amm_config_data(trade, protocol, fund), self.program_id)
        )
        self.svm.set_account(self.pool, ca.account(ca.pool_data(fields), self.program_id))
        self.svm.set_account(self.observation, ca.account(ca.observation_data(self.pool), self.program_id))

    def fresh_payer(self) -> Keypair:
        """A new funded fee payer: every example's transaction gets a distinct signature."""
        self.payer = Keypair()
        self.svm.set_account(self.payer.pubkey(), ca.account(b"", Pubkey.default(), lamports=10_000_000_000))
        return self.payer

    def seed(
        self,
        *,
        vault0: int,
        vault1: int,
        user0: int,
        user1: int,
        trade: int,
        protocol: int,
        fund: int,
        **pool_overrides: object,
    ) -> ca.PoolFields:
        """Write a complete pool (config, state, observation, vaults, user accounts); fresh payer."""
        fields = self.pool_fields(**pool_overrides)
        self.set_pool(fields, trade, protocol, fund)
        self.set_token(self.vault0, self.mint0, self.authority, vault0)
        self.set_token(self.vault1, self.mint1, self.authority, vault1)
        payer = self.fresh_payer()
        self.set_token(self.user0, self.mint0, payer.pubkey(), user0)
        self.set_token(self.user1, self.mint1, payer.pubkey(), user1)
        return fields

    # --- readers ---
    def token_amount(self, address: Pubkey) -> int:
        acc = self.svm.get_account(address)
        assert acc is not None, f"no account {address}"
        return int(_U64.unpack_from(bytes(acc.data), 64)[0])

    def pool_bytes(self) -> bytes:
        acc = self.svm.get_account(self.pool)
        assert acc is not None
        return bytes(acc.data)

    def fees_owed(self) -> dict[str, int]:
        data = self.pool_bytes()
        return {k: int(_U64.unpack_from(data, off)[0]) for k, off in FEE_OFFSETS.items()}

    def snapshot(self) -> tuple[int, ...]:
        """Every balance and fee counter a swap may change, plus the raw pool bytes' hash."""
        return (
            self.token_amount(self.vault0),
            self.token_amount(self.vault1),
            self.token_amount(self.user0),
            self.token_amount(self.user1),
            *self.fees_owed().values(),
            hash(self.pool_bytes()),
        )

    # --- sending ---
    def send(self, ix: Instruction, signers: list[Keypair] | None = None) -> TxOutcome:
        signers = signers or [self.payer]
        msg = Message([ix], signers[0].pubkey())
        tx = Transaction(signers, msg, self.svm.latest_blockhash())
        return self._outcome(self.svm.send_transaction(tx))

    def send_unsigned_payer(self, ix: Instruction, fee_payer: Keypair) -> TxOutcome:
        """Send with a different fee payer (for a swap whose `payer` account did not sign)."""
        msg = Message([ix], fee_payer.pubkey())
        tx = Transaction([fee_payer], msg, self.svm.latest_blockhash())
        return self._outcome(self.svm.send_transaction(tx))

    @staticmethod
    def _outcome(res: object) -> TxOutcome:
        if isinstance(res, FailedTransactionMetadata):
            meta, err = res.meta(), res.err()
            return TxOutcome(
                False, _custom_code(err), str(err), meta.compute_units_consumed(), list(meta.logs())
            )
        return TxOutcome(True, None, None, res.compute_units_consumed(), list(res.logs()))  # type: ignore[attr-defined]
