"""A CPMM pool on a chain running our cpmm.so at Raydium CPMM's program id.

Two chains behind one small interface:
- `LocalnetChain`: the project's localnet server; transactions and reads go over its JSON-RPC
  (sendTransaction with skipPreflight, getSignatureStatuses, getMultipleAccounts), exactly what the
  bot does against a validator. State set-up uses the server's direct `set_account` helper.
- `SvmChain`: an in-process LiteSVM (no RPC), for the toolchain and CU benchmark.

Pool state is written directly, so one chain hosts thousands of independent examples (each example
rewrites the pool, config, observation, vaults and user accounts it uses, and uses a fresh payer so
every transaction has a distinct signature). Every swap runs in the real runtime: sigverify, the sBPF
VM executing cpmm.so, CPIs into the real SPL Token program.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from solders.account import Account
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import (
    InstructionErrorCustom,
    InstructionErrorFieldless,
    TransactionErrorInstructionError,
)

from localnet.programs import cpmm_accounts as ca
from localnet.programs import program_path

_U64 = struct.Struct("<Q")
# A blockhash stays valid for 150 slots (1.5 s at the fixture's 10 ms slots); reuse one for a while.
BLOCKHASH_REUSE_S = 0.5
# PoolState fees-owed offsets (protocols.md §2.2): protocol0, protocol1, fund0, fund1.
FEE_OFFSETS = {"protocol_0": 341, "protocol_1": 349, "fund_0": 357, "fund_1": 365}


@dataclass(frozen=True)
class TxOutcome:
    """What a sent transaction did: ok, the custom error code if any, the error text, CUs and logs
    (CUs and logs are filled by the in-process chain only), and the name of a builtin instruction
    error such as "InvalidInstructionData" if that is what failed."""

    ok: bool
    custom_error: int | None
    error: str | None
    compute_units: int = 0
    logs: tuple[str, ...] = ()
    builtin_error: str | None = None


def _custom_code(err: object) -> int | None:
    """The n of InstructionError(_, Custom(n)), else None."""
    if isinstance(err, TransactionErrorInstructionError) and isinstance(err.err, InstructionErrorCustom):
        return int(err.err.code)
    return None


def _builtin_name(err: object) -> str | None:
    """The variant name of InstructionError(_, <fieldless builtin error>), else None."""
    if isinstance(err, TransactionErrorInstructionError) and isinstance(err.err, InstructionErrorFieldless):
        return str(err.err).rsplit(".", 1)[-1]
    return None


class Chain(Protocol):
    def set_account(self, pubkey: Pubkey, account: Account) -> None: ...
    async def send(self, ix: Instruction, signers: list[Keypair]) -> TxOutcome: ...
    async def get_many(self, pubkeys: list[Pubkey]) -> list[bytes | None]: ...


class SvmChain:
    """In-process LiteSVM with cpmm.so (or ``program``) loaded."""

    def __init__(self, program_id: Pubkey = ca.PROGRAM_ID, program: Path | None = None) -> None:
        self.svm = LiteSVM()
        self.svm.add_program(program_id, (program or program_path("cpmm")).read_bytes())

    def set_account(self, pubkey: Pubkey, account: Account) -> None:
        self.svm.set_account(pubkey, account)

    def send_sync(self, ix: Instruction, signers: list[Keypair]) -> TxOutcome:
        tx = Transaction(signers, Message([ix], signers[0].pubkey()), self.svm.latest_blockhash())
        res = self.svm.send_transaction(tx)
        if isinstance(res, FailedTransactionMetadata):
            meta, err = res.meta(), res.err()
            return TxOutcome(
                False, _custom_code(err), str(err), meta.compute_units_consumed(), tuple(meta.logs()),
                _builtin_name(err),
            )  # fmt: skip
        return TxOutcome(True, None, None, res.compute_units_consumed(), tuple(res.logs()))

    async def send(self, ix: Instruction, signers: list[Keypair]) -> TxOutcome:
        return self.send_sync(ix, signers)

    async def get_many(self, pubkeys: list[Pubkey]) -> list[bytes | None]:
        out = []
        for k in pubkeys:
            acc = self.svm.get_account(k)
            out.append(None if acc is None else bytes(acc.data))
        return out


class LocalnetChain:
    """The localnet server (fixture `localnet`), driven over JSON-RPC by the bot's own `rpc.RpcClient`."""

    def __init__(
        self, net: Any, client: Any, program_id: Pubkey = ca.PROGRAM_ID, program: Path | None = None
    ) -> None:
        self.net = net
        self.client = client  # rpc.client.RpcClient on net.rpc_url
        net.add_program(program_id, program or program_path("cpmm"))
        self._blockhash: Hash | None = None
        self._blockhash_at = 0.0

    def set_account(self, pubkey: Pubkey, account: Account) -> None:
        self.net.set_account(pubkey, account)

    async def send(self, ix: Instruction, signers: list[Keypair]) -> TxOutcome:
        now = time.monotonic()
        if self._blockhash is None or now - self._blockhash_at > BLOCKHASH_REUSE_S:
            latest = await self.client.get_latest_blockhash(commitment="processed")
            self._blockhash, self._blockhash_at = Hash.from_string(latest.blockhash), now
        tx = Transaction(signers, Message([ix], signers[0].pubkey()), self._blockhash)
        sig = await self.client.send_transaction(bytes(tx), skip_preflight=True)
        status = (await self.client.get_signature_statuses([sig])).statuses[0]
        if status is None:
            return TxOutcome(False, None, "transaction did not land")
        if status.err is None:
            return TxOutcome(True, None, None)
        return TxOutcome(
            False,
            _custom_code_json(status.err),
            str(status.err),
            builtin_error=_builtin_name_json(status.err),
        )

    async def get_many(self, pubkeys: list[Pubkey]) -> list[bytes | None]:
        res = await self.client.get_multiple_accounts([str(k) for k in pubkeys], commitment="processed")
        return [None if a is None else bytes(a.data) for a in res.accounts]


def _builtin_name_json(err: Any) -> str | None:
    """The name of the RPC's JSON error {"InstructionError": [i, "<Name>"]}, else None."""
    if isinstance(err, dict) and isinstance(err.get("InstructionError"), list):
        detail = err["InstructionError"][1]
        if isinstance(detail, str):
            return detail
    return None


def _custom_code_json(err: Any) -> int | None:
    """The n of the RPC's JSON error {"InstructionError": [i, {"Custom": n}]}, else None."""
    if isinstance(err, dict) and isinstance(err.get("InstructionError"), list):
        detail = err["InstructionError"][1]
        if isinstance(detail, dict) and "Custom" in detail:
            return int(detail["Custom"])
    return None


class CpmmEnv:
    """One CPMM pool (config, state, observation, two vaults) and a user with two token accounts."""

    def __init__(self, chain: Chain, program_id: Pubkey = ca.PROGRAM_ID) -> None:
        self.chain = chain
        self.program_id = program_id
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
    def set(self, pubkey: Pubkey, data: bytes, owner: Pubkey, executable: bool = False) -> None:
        self.chain.set_account(pubkey, ca.account(data, owner, executable=executable))

    def set_mint(self, mint: Pubkey, decimals: int) -> None:
        self.set(mint, ca.mint_data(decimals, supply=0), ca.TOKEN_PROGRAM_ID)

    def set_token(
        self, address: Pubkey, mint: Pubkey, owner: Pubkey, amount: int, program: Pubkey = ca.TOKEN_PROGRAM_ID
    ) -> None:
        self.set(address, ca.token_account_data(mint, owner, amount), program)

    def pool_fields(self, **overrides: Any) -> ca.PoolFields:
        base = ca.PoolFields(
            amm_config=self.config,
            token_0_vault=self.vault0,
            token_1_vault=self.vault1,
            token_0_mint=self.mint0,
            token_1_mint=self.mint1,
            observation_key=self.observation,
            auth_bump=self.auth_bump,
        )
        return replace(base, **overrides)

    def fresh_payer(self) -> Keypair:
        """A new funded fee payer: every example's transaction gets a distinct signature."""
        self.payer = Keypair()
        self.chain.set_account(
            self.payer.pubkey(), ca.account(b"", Pubkey.default(), lamports=10_000_000_000)
        )
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
        **pool_overrides: Any,
    ) -> ca.PoolFields:
        """Write a complete pool (config, state, observation, vaults, user accounts); fresh payer."""
        fields = self.pool_fields(**pool_overrides)
        self.set(self.config, ca.amm_config_data(trade, protocol, fund), self.program_id)
        self.set(self.pool, ca.pool_data(fields), self.program_id)
        self.set(self.observation, ca.observation_data(self.pool), self.program_id)
        self.set_token(self.vault0, self.mint0, self.authority, vault0)
        self.set_token(self.vault1, self.mint1, self.authority, vault1)
        payer = self.fresh_payer()
        self.set_token(self.user0, self.mint0, payer.pubkey(), user0)
        self.set_token(self.user1, self.mint1, payer.pubkey(), user1)
        return fields

    # --- readers (over the chain's read path: RPC for localnet) ---
    async def snapshot(self) -> dict[str, Any]:
        """Balances of both vaults and user accounts, fees owed, and the raw pool/observation bytes."""
        raw = await self.chain.get_many(
            [self.vault0, self.vault1, self.user0, self.user1, self.pool, self.observation]
        )
        amounts = [None if d is None else int(_U64.unpack_from(d, 64)[0]) for d in raw[:4]]
        pool = raw[4] or b""
        snap: dict[str, Any] = dict(zip(("vault0", "vault1", "user0", "user1"), amounts))
        snap.update(
            {k: int(_U64.unpack_from(pool, off)[0]) for k, off in FEE_OFFSETS.items()} if pool else {}
        )
        snap["pool"] = pool
        snap["observation"] = raw[5]
        return snap

    async def pool_bytes(self) -> bytes:
        (data,) = await self.chain.get_many([self.pool])
        assert data is not None
        return data

    async def send(self, ix: Instruction, signers: list[Keypair] | None = None) -> TxOutcome:
        return await self.chain.send(ix, signers or [self.payer])
