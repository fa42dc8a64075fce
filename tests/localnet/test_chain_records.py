"""Chain-level transaction records: balances and token balances computed around execution.

`Chain.process` re-reads only writable accounts after execution (a read-only account cannot change);
these tests check the record against the accounts read independently before and after.
"""

from __future__ import annotations

from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from spl.token import instructions as spl
from spl.token.constants import TOKEN_PROGRAM_ID

from localnet.server import Localnet

SOL = 1_000_000_000


def test_token_transfer_close_and_read_only_token_account_balances() -> None:
    net = Localnet(rpc_port=0)
    chain = net.chain
    chain.advance_slot()
    payer, owner = Keypair(), Keypair()
    net.airdrop(payer.pubkey(), 10 * SOL)
    mint = net.create_mint(owner.pubkey(), 6)
    src = net.create_token_account(mint, owner.pubkey(), 1_000)
    dst = net.create_token_account(mint, Keypair().pubkey(), 5)
    empty = net.create_token_account(mint, owner.pubkey(), 0)
    watched = net.create_token_account(mint, Keypair().pubkey(), 77)  # read-only in the transaction
    xfer = spl.transfer(
        spl.TransferParams(
            program_id=TOKEN_PROGRAM_ID, source=src, dest=dst, owner=owner.pubkey(), amount=250
        )
    )
    # An extra read-only account after the owner: the token program ignores it for a single-owner source.
    xfer = Instruction(xfer.program_id, xfer.data, [*xfer.accounts, AccountMeta(watched, False, False)])
    close = spl.close_account(
        spl.CloseAccountParams(
            account=empty, dest=payer.pubkey(), owner=owner.pubkey(), program_id=TOKEN_PROGRAM_ID
        )
    )
    msg = MessageV0.try_compile(payer.pubkey(), [xfer, close], [], chain.blockhash)
    tx = VersionedTransaction(msg, [payer, owner])
    keys = list(msg.account_keys)
    before = [chain.get_account(k) for k in keys]

    rec = chain.process(tx)

    after = [chain.get_account(k) for k in keys]
    assert rec.err is None
    assert rec.pre_balances == [a.lamports if a is not None else 0 for a in before]
    assert rec.post_balances == [a.lamports if a is not None else 0 for a in after]
    idx = {k: i for i, k in enumerate(keys)}
    pre = {t.index: t.amount for t in rec.pre_token}
    post = {t.index: t.amount for t in rec.post_token}
    assert pre == {idx[src]: 1_000, idx[dst]: 5, idx[empty]: 0, idx[watched]: 77}
    assert post == {idx[src]: 750, idx[dst]: 255, idx[watched]: 77}  # the closed account is gone
    assert [t.index for t in rec.post_token] == sorted(post)
    assert all(t.mint == mint and t.decimals == 6 for t in rec.pre_token + rec.post_token)
    assert rec.post_balances[idx[empty]] == 0
    assert (
        rec.fee == 10_000
        and rec.post_balances[0] == rec.pre_balances[0] - 10_000 + rec.pre_balances[idx[empty]]
    )


def test_failed_transaction_keeps_token_balances_and_charges_only_the_fee() -> None:
    net = Localnet(rpc_port=0)
    chain = net.chain
    chain.advance_slot()
    payer, owner = Keypair(), Keypair()
    net.airdrop(payer.pubkey(), 10 * SOL)
    mint = net.create_mint(owner.pubkey(), 9)
    src = net.create_token_account(mint, owner.pubkey(), 10)
    dst = net.create_token_account(mint, Keypair().pubkey(), 0)
    xfer = spl.transfer(
        spl.TransferParams(program_id=TOKEN_PROGRAM_ID, source=src, dest=dst, owner=owner.pubkey(), amount=11)
    )  # more than the source holds: the program fails
    msg = MessageV0.try_compile(payer.pubkey(), [xfer], [], chain.blockhash)
    rec = chain.process(VersionedTransaction(msg, [payer, owner]))
    assert rec.err is not None
    keys = list(msg.account_keys)
    idx = {k: i for i, k in enumerate(keys)}
    assert {t.index: t.amount for t in rec.pre_token} == {idx[src]: 10, idx[dst]: 0}
    assert {t.index: t.amount for t in rec.post_token} == {idx[src]: 10, idx[dst]: 0}
    assert rec.post_balances[0] == rec.pre_balances[0] - rec.fee
    assert rec.post_balances[1:] == rec.pre_balances[1:]
    assert Pubkey.default() not in keys


def test_an_account_drained_to_zero_lamports_reads_as_absent() -> None:
    from solders.message import Message
    from solders.system_program import TransferParams, transfer

    from localnet.chain import CONFIRMED

    net = Localnet(rpc_port=0)
    chain = net.chain
    chain.advance_slot()
    payer, drained = Keypair(), Keypair()
    net.airdrop(payer.pubkey(), SOL)
    net.airdrop(drained.pubkey(), SOL)
    chain.advance_slot()
    ix = transfer(TransferParams(from_pubkey=drained.pubkey(), to_pubkey=payer.pubkey(), lamports=SOL))
    rec = chain.process(
        VersionedTransaction(
            Message.new_with_blockhash([ix], payer.pubkey(), chain.blockhash), [payer, drained]
        )
    )
    assert rec.err is None and chain.svm.get_account(drained.pubkey()).lamports == 0  # LiteSVM keeps it
    assert chain.get_account(drained.pubkey()) is None  # getAccountInfo: null, as on a validator
    assert chain.get_account(drained.pubkey(), CONFIRMED).lamports == SOL  # the slot before
    chain.advance_slot()
    assert chain.get_account(drained.pubkey(), CONFIRMED) is None
