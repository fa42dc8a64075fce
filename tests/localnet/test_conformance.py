"""Conformance: localnet driven only through unmodified solana-py clients (AsyncClient + websocket_api).

Raw HTTP (httpx, the transport solana-py itself uses) only where solana-py cannot express the request:
batches with mixed methods, malformed JSON, unknown methods.
"""

from __future__ import annotations

import asyncio
import base64
import math
import struct

import based58
import httpx
import orjson
import pytest
import websockets
import zstandard
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed, Finalized, Processed
from solana.rpc.core import RPCException
from solana.rpc.types import DataSliceOpts, MemcmpOpts, TokenAccountOpts, TxOpts
from solana.rpc.websocket_api import connect
from solders.address_lookup_table_account import (
    ID as ALT_PROGRAM,
)
from solders.address_lookup_table_account import (
    AddressLookupTableAccount,
    derive_lookup_table_address,
)
from solders.commitment_config import CommitmentLevel
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.rpc.config import (
    RpcContextConfig,
    RpcSimulateTransactionConfig,
    RpcTransactionLogsFilterMentions,
)
from solders.rpc.requests import GetBalance, GetSlot, IsBlockhashValid, SimulateVersionedTransaction
from solders.rpc.responses import (
    GetBalanceResp,
    GetSlotResp,
    IsBlockhashValidResp,
    RpcCustomErrorFieldless,
    SimulateTransactionResp,
)
from solders.system_program import ID as SYSTEM_PROGRAM
from solders.system_program import (
    AdvanceNonceAccountParams,
    CreateAccountParams,
    TransferParams,
    advance_nonce_account,
    create_account,
    create_nonce_account,
    transfer,
)
from solders.transaction import VersionedTransaction
from solders.transaction_status import TransactionErrorFieldless, TransactionErrorInstructionError
from spl.token import instructions as spl
from spl.token.constants import ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID

pytestmark = pytest.mark.localnet
SOL = 1_000_000_000


async def funded(client: AsyncClient, lamports: int = 10 * SOL) -> Keypair:
    kp = Keypair()
    sig = (await client.request_airdrop(kp.pubkey(), lamports, commitment=Processed)).value
    await client.confirm_transaction(sig, commitment=Processed, sleep_seconds=0.01)
    return kp


async def send(
    client: AsyncClient,
    payer: Keypair,
    ixs: list[Instruction],
    signers: list[Keypair] | None = None,
    *,
    lookups: list[AddressLookupTableAccount] | None = None,
    skip_preflight: bool = False,
    blockhash: Hash | None = None,
) -> VersionedTransaction:
    bh = blockhash or (await client.get_latest_blockhash(Processed)).value.blockhash
    msg = MessageV0.try_compile(payer.pubkey(), ixs, lookups or [], bh)
    tx = VersionedTransaction(msg, [payer, *(signers or [])])
    await client.send_transaction(
        tx, opts=TxOpts(skip_preflight=skip_preflight, preflight_commitment=Processed)
    )
    return tx


async def blockhash_valid(client: AsyncClient, bh: Hash) -> bool:
    req = IsBlockhashValid(bh, RpcContextConfig(commitment=CommitmentLevel.Processed))
    return (await client._provider.make_request(req, IsBlockhashValidResp)).value


async def tx_meta(client: AsyncClient, localnet, tx: VersionedTransaction):
    rec = localnet.transaction(tx.signatures[0])
    assert rec is not None, "transaction did not land"
    await localnet.wait_for_slot(rec.slot + 1)
    resp = await client.get_transaction(
        tx.signatures[0], commitment=Confirmed, max_supported_transaction_version=0
    )
    assert resp.value is not None
    return resp.value.transaction.meta


async def test_airdrop_and_statuses(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        kp = Keypair()
        sig = (await client.request_airdrop(kp.pubkey(), 3 * SOL)).value
        st = (await client.get_signature_statuses([sig])).value[0]
        assert st is not None and st.err is None and st.confirmation_status is not None
        await client.confirm_transaction(sig, commitment=Finalized, sleep_seconds=0.05)
        assert (await client.get_balance(kp.pubkey(), Finalized)).value == 3 * SOL
        st = (await client.get_signature_statuses([sig])).value[0]
        assert (
            str(st.confirmation_status) == "TransactionConfirmationStatus.Finalized"
            and st.confirmations is None
        )
        missing = (await client.get_signature_statuses([Keypair().sign_message(b"x")])).value[0]
        assert missing is None
        legacy = (await client.get_transaction(sig)).value  # finalized, json, no version option needed
        assert str(legacy.transaction.version) == "Legacy.Legacy"
        assert legacy.transaction.meta.fee == 5000 and legacy.transaction.meta.post_balances[1] == 3 * SOL
        raw = (await client.get_transaction(sig, encoding="base64")).value.transaction.transaction
        assert raw.signatures[0] == sig


async def test_sol_transfer_and_commitment_views(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        to = Keypair().pubkey()
        localnet.pause_clock()
        tx = await send(
            client, payer, [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=777))]
        )
        # processed sees it at once; confirmed only after one more slot; finalized after 32.
        assert (await client.get_balance(to, Processed)).value == 777
        assert (await client.get_balance(to, Confirmed)).value == 0
        localnet.advance_slots(1)
        assert (await client.get_balance(to, Confirmed)).value == 777
        assert (await client.get_balance(to, Finalized)).value == 0
        localnet.advance_slots(31)
        assert (await client.get_balance(to, Finalized)).value == 777
        localnet.resume_clock()
        meta = await tx_meta(client, localnet, tx)
        assert meta.fee == 5000 and meta.err is None
        assert meta.pre_balances[0] - meta.post_balances[0] == 777 + 5000
        assert meta.post_balances[1] == 777


async def test_spl_mint_token_account_and_transfer(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        mint = Keypair()
        rent = (await client.get_minimum_balance_for_rent_exemption(82)).value
        await send(
            client,
            payer,
            [
                create_account(
                    CreateAccountParams(
                        from_pubkey=payer.pubkey(),
                        to_pubkey=mint.pubkey(),
                        lamports=rent,
                        space=82,
                        owner=TOKEN_PROGRAM_ID,
                    )
                ),
                spl.initialize_mint(
                    spl.InitializeMintParams(
                        decimals=6,
                        program_id=TOKEN_PROGRAM_ID,
                        mint=mint.pubkey(),
                        mint_authority=payer.pubkey(),
                    )
                ),
            ],
            [mint],
        )
        alice, bob = Keypair().pubkey(), Keypair().pubkey()
        ata_a = spl.get_associated_token_address(alice, mint.pubkey())
        ata_b = spl.get_associated_token_address(bob, mint.pubkey())
        await send(
            client,
            payer,
            [
                spl.create_associated_token_account(payer.pubkey(), alice, mint.pubkey()),
                spl.create_associated_token_account(payer.pubkey(), bob, mint.pubkey()),
                spl.mint_to(
                    spl.MintToParams(
                        program_id=TOKEN_PROGRAM_ID,
                        mint=mint.pubkey(),
                        dest=ata_a,
                        mint_authority=payer.pubkey(),
                        amount=5_000_000,
                    )
                ),
            ],
        )
        owner_kp = Keypair()
        ata_o = spl.get_associated_token_address(owner_kp.pubkey(), mint.pubkey())
        create = await send(
            client,
            payer,
            [
                spl.create_associated_token_account(payer.pubkey(), owner_kp.pubkey(), mint.pubkey()),
                spl.mint_to(
                    spl.MintToParams(
                        program_id=TOKEN_PROGRAM_ID,
                        mint=mint.pubkey(),
                        dest=ata_o,
                        mint_authority=payer.pubkey(),
                        amount=1_250_000,
                    )
                ),
            ],
        )
        tx = await send(
            client,
            payer,
            [
                spl.transfer_checked(
                    spl.TransferCheckedParams(
                        program_id=TOKEN_PROGRAM_ID,
                        source=ata_o,
                        mint=mint.pubkey(),
                        dest=ata_b,
                        owner=owner_kp.pubkey(),
                        amount=250_000,
                        decimals=6,
                    )
                )
            ],
            [owner_kp],
        )
        bal = (await client.get_token_account_balance(ata_b, Processed)).value
        assert bal.amount == "250000" and bal.decimals == 6 and bal.ui_amount_string == "0.25"
        assert localnet.token_amount(ata_o) == 1_000_000
        create_meta = await tx_meta(client, localnet, create)
        inner = create_meta.inner_instructions
        assert inner and inner[0].index == 0 and len(inner[0].instructions) >= 3  # ATA program's CPIs
        assert all(ix.stack_height == 2 for ix in inner[0].instructions[:1])
        meta = await tx_meta(client, localnet, tx)
        pre = {
            str(t.mint): int(t.ui_token_amount.amount)
            for t in meta.pre_token_balances
            if t.owner == owner_kp.pubkey()
        }
        post = {
            str(t.mint): int(t.ui_token_amount.amount)
            for t in meta.post_token_balances
            if t.owner == owner_kp.pubkey()
        }
        assert pre == {str(mint.pubkey()): 1_250_000} and post == {str(mint.pubkey()): 1_000_000}
        by_owner = (
            await client.get_token_accounts_by_owner(alice, TokenAccountOpts(mint=mint.pubkey()), Processed)
        ).value
        assert [a.pubkey for a in by_owner] == [ata_a]
        assert (
            await client.get_token_accounts_by_owner(
                bob, TokenAccountOpts(program_id=TOKEN_PROGRAM_ID), Processed
            )
        ).value[0].pubkey == ata_b
        assert localnet.get_account(ASSOCIATED_TOKEN_PROGRAM_ID) is not None


async def test_native_mint_in_genesis_wraps_sol_without_setup(localnet) -> None:
    """solana-test-validator's genesis holds the wrapped-SOL mint; wrapping works with no prior set-up."""
    native = Pubkey.from_string("So11111111111111111111111111111111111111112")
    async with AsyncClient(localnet.rpc_url) as client:
        acc = (await client.get_account_info(native, Processed)).value
        assert (
            acc is not None and acc.owner == TOKEN_PROGRAM_ID and acc.lamports == SOL and acc.rent_epoch == 1
        )
        data = bytes(acc.data)
        assert (
            len(data) == 82
            and data[:4] == bytes(4)
            and data[44] == 9
            and data[45] == 1
            and data[46:50] == bytes(4)
        )
        supply = (await client.get_token_supply(native, Processed)).value
        assert supply.amount == "0" and supply.decimals == 9
        payer = await funded(client)
        ata = spl.get_associated_token_address(payer.pubkey(), native)
        tx = await send(
            client,
            payer,
            [
                spl.create_associated_token_account(payer.pubkey(), payer.pubkey(), native),
                transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=ata, lamports=2 * SOL)),
                spl.sync_native(spl.SyncNativeParams(program_id=TOKEN_PROGRAM_ID, account=ata)),
            ],
        )
        bal = (await client.get_token_account_balance(ata, Processed)).value
        assert bal.amount == str(2 * SOL) and bal.decimals == 9
        meta = await tx_meta(client, localnet, tx)
        post = [t for t in meta.post_token_balances if t.mint == native]
        assert [int(t.ui_token_amount.amount) for t in post] == [2 * SOL] and post[0].owner == payer.pubkey()


def _alt_create(table: Pubkey, authority: Pubkey, payer: Pubkey, slot: int, bump: int) -> Instruction:
    # AddressLookupTable instruction 0 CreateLookupTable { recent_slot: u64, bump_seed: u8 } (bincode).
    return Instruction(
        ALT_PROGRAM,
        struct.pack("<IQB", 0, slot, bump),
        [
            AccountMeta(table, False, True),
            AccountMeta(authority, True, False),
            AccountMeta(payer, True, True),
            AccountMeta(SYSTEM_PROGRAM, False, False),
        ],
    )


def _alt_extend(table: Pubkey, authority: Pubkey, payer: Pubkey, addrs: list[Pubkey]) -> Instruction:
    data = struct.pack("<IQ", 2, len(addrs)) + b"".join(bytes(a) for a in addrs)
    return Instruction(
        ALT_PROGRAM,
        data,
        [
            AccountMeta(table, False, True),
            AccountMeta(authority, True, False),
            AccountMeta(payer, True, True),
            AccountMeta(SYSTEM_PROGRAM, False, False),
        ],
    )


async def test_address_lookup_table_create_extend_use(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        recent = (await client.get_slot(Finalized)).value
        table, bump = derive_lookup_table_address(payer.pubkey(), recent)
        await send(client, payer, [_alt_create(table, payer.pubkey(), payer.pubkey(), recent, bump)])
        targets = [Keypair().pubkey() for _ in range(3)]
        ext = await send(client, payer, [_alt_extend(table, payer.pubkey(), payer.pubkey(), targets)])
        ext_slot = localnet.transaction(ext.signatures[0]).slot
        await localnet.wait_for_slot(ext_slot + 1)  # extended addresses are usable from the next slot
        raw = (await client.get_account_info(table, Processed)).value
        assert raw.owner == ALT_PROGRAM and len(raw.data) == 56 + 32 * 3
        alt = AddressLookupTableAccount(table, targets)
        ixs = [
            transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=t, lamports=1_000_000 + i))
            for i, t in enumerate(targets)
        ]
        tx = await send(client, payer, ixs, lookups=[alt])
        assert tx.message.address_table_lookups and len(tx.message.account_keys) == 2
        for i, t in enumerate(targets):
            assert localnet.balance(t) == 1_000_000 + i
        meta = await tx_meta(client, localnet, tx)
        loaded = list(meta.loaded_addresses.writable)
        assert sorted(map(str, loaded)) == sorted(map(str, targets))
        keys = list(tx.message.account_keys) + loaded + list(meta.loaded_addresses.readonly)
        post = dict(zip(map(str, keys), meta.post_balances))
        assert [post[str(t)] for t in targets] == [1_000_000, 1_000_001, 1_000_002]


async def test_signature_and_account_notifications_for_every_touched_account(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        dests = [Keypair().pubkey() for _ in range(3)]
        bh = (await client.get_latest_blockhash(Processed)).value.blockhash
        ixs = [
            transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=d, lamports=5_000_000))
            for d in dests
        ]
        tx = VersionedTransaction(MessageV0.try_compile(payer.pubkey(), ixs, [], bh), [payer])
        async with connect(localnet.ws_url) as ws:
            sub_to_key = {}
            for key in [payer.pubkey(), *dests]:
                await ws.account_subscribe(key, commitment=Processed, encoding="base64")
                sub_to_key[(await ws.recv())[0].result] = key
            await ws.signature_subscribe(tx.signatures[0], commitment=Processed)
            sig_sub = (await ws.recv())[0].result
            await ws.logs_subscribe(commitment=Processed)  # "all"
            logs_sub = (await ws.recv())[0].result
            await client.send_transaction(tx)
            slot = localnet.transaction(tx.signatures[0]).slot
            got: dict[Pubkey, int] = {}
            sig_seen = logs_seen = False
            async with asyncio.timeout(5):
                while len(got) < 4 or not sig_seen or not logs_seen:
                    for note in await ws.recv():
                        if note.subscription == sig_sub:
                            assert note.result.value.err is None and note.result.context.slot == slot
                            sig_seen = True
                        elif note.subscription == logs_sub:
                            if note.result.value.signature == tx.signatures[0]:
                                assert note.result.value.logs and note.result.context.slot == slot
                                logs_seen = True
                        else:
                            assert note.result.context.slot == slot
                            got[sub_to_key[note.subscription]] = note.result.value.lamports
                            assert bytes(note.result.value.data) == b""
        assert got == {payer.pubkey(): localnet.balance(payer.pubkey()), **{d: 5_000_000 for d in dests}}


async def test_confirmed_account_notification_carries_end_of_slot_state(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        dest = Keypair().pubkey()
        async with connect(localnet.ws_url) as ws:
            await ws.account_subscribe(dest, commitment=Confirmed)
            await ws.recv()
            await ws.slot_subscribe()
            slot_sub = (await ws.recv())[0].result
            localnet.pause_clock()
            for amount in (1_000_000, 2_000_000):  # two writes in one slot -> one notification, final state
                await send(
                    client,
                    payer,
                    [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=dest, lamports=amount))],
                )
            slot = localnet.slot
            localnet.advance_slots(1)
            account_notes = []
            async with asyncio.timeout(5):
                while not account_notes:
                    account_notes += [n for n in await ws.recv() if n.subscription != slot_sub]
            localnet.resume_clock()
        assert account_notes[0].result.context.slot == slot
        assert account_notes[0].result.value.lamports == 3_000_000


async def test_blockhash_149_blocks_old_accepted_151_refused(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        localnet.pause_clock()
        latest = (await client.get_latest_blockhash(Processed)).value
        bh = latest.blockhash
        assert latest.last_valid_block_height == (await client.get_block_height(Processed)).value + 150
        localnet.advance_slots(149)
        assert await blockhash_valid(client, bh) is True
        to = Keypair().pubkey()
        ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=1_000_000))
        await send(client, payer, [ix], blockhash=bh)
        assert localnet.balance(to) == 1_000_000
        localnet.advance_slots(2)  # now 151 blocks old
        assert await blockhash_valid(client, bh) is False
        ix2 = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=2_000_000))
        with pytest.raises(RPCException) as info:
            await send(client, payer, [ix2], blockhash=bh)
        err = info.value.args[0]
        assert err.message == "Transaction simulation failed: Blockhash not found"
        assert err.data.err == TransactionErrorFieldless.BlockhashNotFound
        # skipPreflight: the signature comes back, but the transaction never lands.
        ix3 = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=3_000_000))
        stale = await send(client, payer, [ix3], blockhash=bh, skip_preflight=True)
        localnet.resume_clock()
        assert (await client.get_signature_statuses([stale.signatures[0]])).value[0] is None
        assert localnet.balance(to) == 1_000_000


async def test_priority_fee_charged_and_reported_exactly(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        to = Keypair().pubkey()
        price, limit = 123_457, 300_000  # micro-lamports per CU, CU limit
        before = localnet.balance(payer.pubkey())
        tx = await send(
            client,
            payer,
            [
                set_compute_unit_limit(limit),
                set_compute_unit_price(price),
                transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=10)),
            ],
        )
        expected = 5000 + math.ceil(price * limit / 1_000_000)
        assert localnet.balance(payer.pubkey()) == before - 10 - expected
        meta = await tx_meta(client, localnet, tx)
        assert meta.fee == expected
        # No SetComputeUnitLimit: default limit = 3,000 per builtin instruction (2 here: compute budget + system).
        before = localnet.balance(payer.pubkey())
        tx2 = await send(
            client,
            payer,
            [
                set_compute_unit_price(1_000_001),
                transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=10)),
            ],
        )
        expected2 = 5000 + math.ceil(1_000_001 * 6_000 / 1_000_000)
        assert localnet.balance(payer.pubkey()) == before - 10 - expected2
        assert (await tx_meta(client, localnet, tx2)).fee == expected2
        msg = Message([set_compute_unit_limit(limit), set_compute_unit_price(price)], payer.pubkey())
        fee_resp = await client.get_fee_for_message(
            Message.new_with_blockhash(
                msg.instructions and [set_compute_unit_limit(limit), set_compute_unit_price(price)],
                payer.pubkey(),
                (await client.get_latest_blockhash(Processed)).value.blockhash,
            ),
            Processed,
        )
        assert fee_resp.value == 5000 + math.ceil(price * limit / 1_000_000)


async def test_preflight_failure_returns_logs_and_does_not_land(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client, SOL)
        before = localnet.balance(payer.pubkey())
        with pytest.raises(RPCException) as info:
            await send(
                client,
                payer,
                [
                    transfer(
                        TransferParams(
                            from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=5 * SOL
                        )
                    )
                ],
            )
        err = info.value.args[0]
        assert (
            err.message
            == "Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1"
        )
        assert isinstance(err.data.err, TransactionErrorInstructionError)
        assert any("insufficient lamports" in line for line in err.data.logs)
        assert localnet.balance(payer.pubkey()) == before  # nothing charged
        # skipPreflight: it lands, fails, and pays the fee.
        tx = await send(
            client,
            payer,
            [
                transfer(
                    TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=5 * SOL)
                )
            ],
            skip_preflight=True,
        )
        assert localnet.balance(payer.pubkey()) == before - 5000
        meta = await tx_meta(client, localnet, tx)
        assert meta.err is not None and meta.fee == 5000 and meta.log_messages


async def test_signature_verification_failure(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client, SOL)
        bh = (await client.get_latest_blockhash(Processed)).value.blockhash
        msg = MessageV0.try_compile(
            payer.pubkey(),
            [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1))],
            [],
            bh,
        )
        good = VersionedTransaction(msg, [payer])
        forged = VersionedTransaction.populate(msg, [Keypair().sign_message(b"not this message")])
        assert forged.signatures != good.signatures
        with pytest.raises(RPCException) as info:
            await client.send_transaction(forged)
        assert info.value.args[0] == RpcCustomErrorFieldless.TransactionSignatureVerificationFailure
        with pytest.raises(RPCException) as info:
            await client.simulate_transaction(forged, sig_verify=True, commitment=Processed)
        assert info.value.args[0] == RpcCustomErrorFieldless.TransactionSignatureVerificationFailure
        assert (await client.simulate_transaction(forged, commitment=Processed)).value.err is None


async def test_simulate_with_replace_recent_blockhash(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client, SOL)
        to = Keypair().pubkey()
        msg = MessageV0.try_compile(
            payer.pubkey(),
            [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=42))],
            [],
            Hash.new_unique(),
        )
        tx = VersionedTransaction(msg, [payer])
        plain = await client.simulate_transaction(tx, commitment=Processed)
        assert plain.value.err == TransactionErrorFieldless.BlockhashNotFound
        cfg = RpcSimulateTransactionConfig(
            replace_recent_blockhash=True, commitment=CommitmentLevel.Processed
        )
        resp = await client._provider.make_request(
            SimulateVersionedTransaction(tx, cfg), SimulateTransactionResp
        )
        assert resp.value.err is None and resp.value.logs and resp.value.units_consumed == 150
        # solders 0.26 does not parse replacementBlockhash: read it from the same request, unparsed.
        localnet.pause_clock()
        raw = orjson.loads(
            await client._provider.make_request_unparsed(SimulateVersionedTransaction(tx, cfg))
        )
        latest = (await client.get_latest_blockhash(Processed)).value
        localnet.resume_clock()
        assert raw["result"]["value"]["replacementBlockhash"] == {
            "blockhash": str(latest.blockhash),
            "lastValidBlockHeight": latest.last_valid_block_height,
        }
        assert localnet.balance(to) == 0  # simulation commits nothing


async def test_get_program_accounts_filters(localnet) -> None:
    owner_a, owner_b = Keypair().pubkey(), Keypair().pubkey()
    mint = localnet.create_mint(authority=owner_a, decimals=9)
    other_mint = localnet.create_mint(authority=owner_a, decimals=9)
    a1 = localnet.create_token_account(mint, owner_a, 5)
    a2 = localnet.create_token_account(other_mint, owner_a, 6)
    localnet.create_token_account(mint, owner_b, 7)
    async with AsyncClient(localnet.rpc_url) as client:
        everything = (await client.get_program_accounts(TOKEN_PROGRAM_ID, Processed, encoding="base64")).value
        keys = {a.pubkey for a in everything}
        assert {a1, a2, mint, other_mint} <= keys
        by_owner = (
            await client.get_program_accounts(
                TOKEN_PROGRAM_ID,
                Processed,
                encoding="base64",
                filters=[165, MemcmpOpts(offset=32, bytes=str(owner_a))],
            )
        ).value
        assert {a.pubkey for a in by_owner} == {a1, a2}
        both = (
            await client.get_program_accounts(
                TOKEN_PROGRAM_ID,
                Processed,
                encoding="base64",
                filters=[
                    165,
                    MemcmpOpts(offset=32, bytes=str(owner_a)),
                    MemcmpOpts(offset=0, bytes=str(mint)),
                ],
            )
        ).value
        assert [a.pubkey for a in both] == [a1]
        mints = (
            await client.get_program_accounts(TOKEN_PROGRAM_ID, Processed, encoding="base64", filters=[82])
        ).value
        assert {a.pubkey for a in mints} >= {mint, other_mint} and a1 not in {a.pubkey for a in mints}


async def test_batch_unknown_method_malformed_json(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        kp = await funded(client, 2 * SOL)
        slot_resp, bal_resp = await client._provider.make_batch_request(
            (GetSlot(), GetBalance(kp.pubkey())), (GetSlotResp, GetBalanceResp)
        )
        assert slot_resp.value >= 0 and bal_resp.value == 0  # default commitment finalized: not yet there
    async with httpx.AsyncClient() as http:
        batch = [
            {"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [{"commitment": "processed"}]},
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "getBalance",
                "params": [str(kp.pubkey()), {"commitment": "processed"}],
            },
            {"jsonrpc": "2.0", "id": 3, "method": "noSuchMethod"},
            {"jsonrpc": "2.0", "id": 4, "method": "getBalance", "params": ["not-a-key"]},
            {"foo": "bar"},
        ]
        out = orjson.loads((await http.post(localnet.rpc_url, content=orjson.dumps(batch))).content)
        assert [o.get("id") for o in out] == [1, 2, 3, 4, None]
        assert out[1]["result"]["value"] == 2 * SOL
        assert out[2]["error"] == {"code": -32601, "message": "Method not found"}
        assert out[3]["error"]["code"] == -32602
        assert out[4]["error"] == {"code": -32600, "message": "Invalid request"}
        bad = await http.post(localnet.rpc_url, content=b'{"jsonrpc":"2.0","id":1,"method":"getSlot"')
        assert orjson.loads(bad.content) == {
            "jsonrpc": "2.0",
            "error": {"code": -32700, "message": "Parse error"},
            "id": None,
        }
        empty = orjson.loads((await http.post(localnet.rpc_url, content=b"[]")).content)
        assert empty["error"]["code"] == -32600
        # the server keeps serving after all of that
        ok = orjson.loads(
            (
                await http.post(localnet.rpc_url, json={"jsonrpc": "2.0", "id": 9, "method": "getHealth"})
            ).content
        )
        assert ok == {"jsonrpc": "2.0", "result": "ok", "id": 9}


async def test_program_subscribe_with_filter(localnet) -> None:
    owner = Keypair().pubkey()
    mint = localnet.create_mint(authority=owner, decimals=6)
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        ata = spl.get_associated_token_address(owner, mint)
        async with connect(localnet.ws_url) as ws:
            await ws.program_subscribe(
                TOKEN_PROGRAM_ID,
                Processed,
                encoding="base64",
                filters=[165, MemcmpOpts(offset=32, bytes=str(owner))],
            )
            prog_sub = (await ws.recv())[0].result
            await ws.account_subscribe(ata, Processed, encoding="base64")
            await ws.recv()
            await send(client, payer, [spl.create_associated_token_account(payer.pubkey(), owner, mint)])
            notes = []
            async with asyncio.timeout(5):
                while len(notes) < 2:
                    notes += await ws.recv()
        by_kind = {n.subscription == prog_sub: n for n in notes}
        assert by_kind[True].result.value.pubkey == ata
        assert bytes(by_kind[True].result.value.account.data)[32:64] == bytes(owner)
        assert bytes(by_kind[False].result.value.data) == bytes(by_kind[True].result.value.account.data)


async def test_reads_encodings_and_misc_methods(localnet) -> None:
    owner = Keypair().pubkey()
    mint = localnet.create_mint(authority=owner, decimals=3)
    ata = localnet.create_token_account(mint, owner, 123_456)
    async with AsyncClient(localnet.rpc_url) as client:
        multi = (
            await client.get_multiple_accounts(
                [ata, Keypair().pubkey(), mint], Processed, data_slice=DataSliceOpts(offset=64, length=8)
            )
        ).value
        assert bytes(multi[0].data) == (123_456).to_bytes(8, "little") and multi[1] is None
        parsed = (
            await client.get_token_accounts_by_owner_json_parsed(
                owner, TokenAccountOpts(mint=mint), Processed
            )
        ).value
        info = parsed[0].account.data.parsed["info"]
        assert info["tokenAmount"]["uiAmountString"] == "123.456" and info["owner"] == str(owner)
        supply_view = (await client.get_account_info_json_parsed(mint, Processed)).value.data.parsed
        assert supply_view["info"]["supply"] == "123456" and supply_view["type"] == "mint"
        epoch = (await client.get_epoch_info(Processed)).value
        assert epoch.absolute_slot == epoch.block_height and epoch.absolute_slot >= 1
        assert (await client.get_genesis_hash()).value == (await client.get_genesis_hash()).value
        assert (
            await client.get_minimum_balance_for_rent_exemption(165)
        ).value == localnet.chain.svm.minimum_balance_for_rent_exemption(165)
        payer = await funded(client)
        # Fees are per-account minimums per slot (the airdrop that funded `payer` paid 0): ask about `dest`.
        dest = Keypair().pubkey()
        await send(
            client,
            payer,
            [
                set_compute_unit_price(777),
                transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=dest, lamports=10**6)),
            ],
        )
        # solana-py / solders 0.26 have no getRecentPrioritizationFees: raw JSON-RPC over httpx.
        async with httpx.AsyncClient() as http:
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "getRecentPrioritizationFees",
                "params": [[str(dest)]],
            }
            fees = orjson.loads((await http.post(localnet.rpc_url, json=body)).content)["result"]
            body["params"] = [[str(Keypair().pubkey())]]
            untouched = orjson.loads((await http.post(localnet.rpc_url, json=body)).content)["result"]
        assert max(f["prioritizationFee"] for f in fees) == 777 and len(fees) <= 150
        assert max(f["prioritizationFee"] for f in untouched) == 0


async def test_base58_send_simulate_accounts_logs_mentions_unsubscribe(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client, httpx.AsyncClient() as http:
        payer = await funded(client)
        to = Keypair().pubkey()
        bh = (await client.get_latest_blockhash(Processed)).value.blockhash
        tx = VersionedTransaction(
            MessageV0.try_compile(
                payer.pubkey(),
                [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=4242))],
                [],
                bh,
            ),
            [payer],
        )
        sim = orjson.loads(
            (
                await http.post(
                    localnet.rpc_url,
                    json={
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "simulateTransaction",
                        "params": [
                            base64.b64encode(bytes(tx)).decode(),
                            {
                                "encoding": "base64",
                                "commitment": "processed",
                                "accounts": {"addresses": [str(to)], "encoding": "base64"},
                            },
                        ],
                    },
                )
            ).content
        )
        assert sim["result"]["value"]["accounts"][0]["lamports"] == 4242
        assert localnet.balance(to) == 0
        async with connect(localnet.ws_url) as ws:
            await ws.logs_subscribe(RpcTransactionLogsFilterMentions(to), Processed)
            logs_sub = (await ws.recv())[0].result
            await ws.account_subscribe(to, Processed)
            acc_sub = (await ws.recv())[0].result
            await ws.account_unsubscribe(acc_sub)
            assert (await ws.recv())[0].result is True
            sent = orjson.loads(
                (
                    await http.post(
                        localnet.rpc_url,
                        json={
                            "jsonrpc": "2.0",
                            "id": 2,
                            "method": "sendTransaction",
                            "params": [based58.b58encode(bytes(tx)).decode()],
                        },
                    )
                ).content
            )
            assert sent["result"] == str(tx.signatures[0])
            async with asyncio.timeout(5):
                note = (await ws.recv())[0]
            assert note.subscription == logs_sub and note.result.value.signature == tx.signatures[0]
            # a transaction not mentioning `to` produces nothing on this subscription
            await send(
                client,
                payer,
                [
                    transfer(
                        TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1)
                    )
                ],
            )
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await ws.recv()
        assert localnet.balance(to) == 4242
        dup = orjson.loads(
            (
                await http.post(
                    localnet.rpc_url,
                    json={
                        "jsonrpc": "2.0",
                        "id": 3,
                        "method": "sendTransaction",
                        "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}],
                    },
                )
            ).content
        )
        assert dup["error"]["code"] == -32002 and dup["error"]["data"]["err"] == "AlreadyProcessed"


async def test_bpf_program_from_elf(localnet, tmp_path) -> None:
    # The SPL token ELF that LiteSVM ships, deployed again at a fresh program id from a .so file.
    elf = bytes(localnet.get_account(TOKEN_PROGRAM_ID).data)
    so = tmp_path / "token_copy.so"
    so.write_bytes(elf)
    program = Keypair().pubkey()
    localnet.add_program(program, so)
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        mint = Keypair()
        rent = (await client.get_minimum_balance_for_rent_exemption(82)).value
        tx = await send(
            client,
            payer,
            [
                create_account(
                    CreateAccountParams(
                        from_pubkey=payer.pubkey(),
                        to_pubkey=mint.pubkey(),
                        lamports=rent,
                        space=82,
                        owner=program,
                    )
                ),
                spl.initialize_mint(
                    spl.InitializeMintParams(
                        decimals=2, program_id=program, mint=mint.pubkey(), mint_authority=payer.pubkey()
                    )
                ),
            ],
            [mint],
        )
        acc = (await client.get_account_info(mint.pubkey(), Processed)).value
        assert acc.owner == program and bytes(acc.data)[44] == 2
        assert any(str(program) in line for line in localnet.transaction(tx.signatures[0]).logs)
        listed = (await client.get_program_accounts(program, Processed, encoding="base64")).value
        assert [a.pubkey for a in listed] == [mint.pubkey()]


async def test_error_codes_and_garbage_http(localnet) -> None:
    big = localnet.set_account(Keypair().pubkey(), lamports=10**9, data=bytes(300))
    async with httpx.AsyncClient() as http:

        async def call(method: str, params: list) -> dict:
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
            return orjson.loads((await http.post(localnet.rpc_url, json=body)).content)

        assert (await call("getBalance", ["zzz"]))["error"] == {
            "code": -32602,
            "message": "Invalid param: Invalid",
        }
        assert (await call("getAccountInfo", [str(big), {"encoding": "base58", "commitment": "processed"}]))[
            "error"
        ]["code"] == -32600
        sliced = await call(
            "getAccountInfo",
            [
                str(big),
                {"encoding": "base58", "dataSlice": {"offset": 0, "length": 4}, "commitment": "processed"},
            ],
        )
        assert sliced["result"]["value"]["data"] == ["1111", "base58"]
        sig = str(Keypair().sign_message(b"m"))
        assert (await call("getTransaction", [sig, {"commitment": "processed"}]))["error"] == {
            "code": -32602,
            "message": "Method does not support commitment below `confirmed`",
        }
        assert (await call("getTransaction", [sig]))["result"] is None
        assert (await call("sendTransaction", ["@@@", {"encoding": "base64"}]))["error"]["code"] == -32602
        assert (await call("getSlot", {"commitment": "processed"}))["error"]["code"] == -32602
        assert (await call("getSlot", [{"commitment": "processed", "minContextSlot": 10**9}]))["error"][
            "code"
        ] == -32016
    host, port = localnet.rpc_url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GARBAGE\r\n\r\n")
    assert (await reader.readline()).startswith(b"HTTP/1.1 400")
    writer.close()
    async with AsyncClient(localnet.rpc_url) as client:
        assert await client.is_connected()


async def test_finalized_notifications_follow_the_commitment_model(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        dest = Keypair().pubkey()
        async with connect(localnet.ws_url) as ws:
            await ws.account_subscribe(dest, commitment=Finalized)
            acc_sub = (await ws.recv())[0].result
            await ws.slot_subscribe()
            slot_sub = (await ws.recv())[0].result
            localnet.pause_clock()
            tx = await send(
                client,
                payer,
                [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=dest, lamports=9_000_000))],
            )
            landed = localnet.transaction(tx.signatures[0]).slot
            await ws.signature_subscribe(tx.signatures[0], commitment=Finalized)
            sig_sub = (await ws.recv())[0].result

            async def drain_until(slot: int) -> list:
                # Slot notifications from before the pause may still be queued: read up to `slot`.
                notes = []
                async with asyncio.timeout(5):
                    while True:
                        for n in await ws.recv():
                            if n.subscription != slot_sub:
                                notes.append(n)
                                continue
                            assert n.result.slot == n.result.parent + 1
                            assert n.result.root == max(0, n.result.slot - 32)
                            if n.result.slot == slot:
                                return notes

            localnet.advance_slots(31)
            assert await drain_until(landed + 31) == []  # slot `landed` is confirmed, not yet finalized
            st = (await client.get_signature_statuses([tx.signatures[0]])).value[0]
            assert st.confirmations == 31
            localnet.advance_slots(1)
            notes = await drain_until(landed + 32)
            async with asyncio.timeout(5):
                while len(notes) < 2:
                    notes += [n for n in await ws.recv() if n.subscription != slot_sub]
            localnet.resume_clock()
        by_sub = {n.subscription: n for n in notes}
        assert (
            by_sub[acc_sub].result.context.slot == landed
            and by_sub[acc_sub].result.value.lamports == 9_000_000
        )
        assert by_sub[sig_sub].result.context.slot == landed and by_sub[sig_sub].result.value.err is None
        st = (await client.get_signature_statuses([tx.signatures[0]])).value[0]
        assert st.confirmations is None


async def test_pubsub_malformed_frames_and_bad_subscriptions(localnet) -> None:
    async with websockets.connect(localnet.ws_url) as ws:
        await ws.send("{not json")
        assert orjson.loads(await ws.recv())["error"]["code"] == -32700
        await ws.send(
            orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "noSuchSubscribe", "params": []}).decode()
        )
        assert orjson.loads(await ws.recv())["error"] == {"code": -32601, "message": "Method not found"}
        await ws.send(
            orjson.dumps({"jsonrpc": "2.0", "id": 2, "method": "accountSubscribe", "params": ["x"]}).decode()
        )
        assert orjson.loads(await ws.recv())["error"]["code"] == -32602
        await ws.send(
            orjson.dumps(
                {"jsonrpc": "2.0", "id": 3, "method": "accountUnsubscribe", "params": [999]}
            ).decode()
        )
        assert orjson.loads(await ws.recv())["error"] == {
            "code": -32602,
            "message": "Invalid subscription id.",
        }
        await ws.send(orjson.dumps({"jsonrpc": "2.0", "id": 4, "method": "slotSubscribe"}).decode())
        reply = orjson.loads(await ws.recv())
        assert reply["id"] == 4 and isinstance(reply["result"], int)
    async with connect(localnet.ws_url) as client_ws:
        await client_ws.root_subscribe()
        root_sub = (await client_ws.recv())[0].result
        localnet.advance_slots(40)
        async with asyncio.timeout(5):
            note = (await client_ws.recv())[0]
        assert note.subscription == root_sub and note.result >= 1


async def test_http_expect_100_continue(localnet) -> None:
    host, port = localnet.rpc_url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    body = orjson.dumps({"jsonrpc": "2.0", "id": 7, "method": "getHealth", "params": [], "pad": "x" * 2000})
    writer.write(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(body)
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    assert orjson.loads(await reader.readexactly(length)) == {"jsonrpc": "2.0", "result": "ok", "id": 7}
    writer.close()


async def test_block_signatures_for_address_token_supply(localnet) -> None:
    owner = Keypair().pubkey()
    mint = localnet.create_mint(authority=owner, decimals=2)
    localnet.create_token_account(mint, owner, 12_345)
    async with AsyncClient(localnet.rpc_url) as client:
        supply = (await client.get_token_supply(mint, Processed)).value
        assert supply.amount == "12345" and supply.ui_amount_string == "123.45"
        payer = await funded(client)
        dest = Keypair().pubkey()
        sent = []
        for amount in (1_000_000, 2_000_000):
            sent.append(
                await send(
                    client,
                    payer,
                    [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=dest, lamports=amount))],
                )
            )
        last_slot = localnet.transaction(sent[-1].signatures[0]).slot
        await localnet.wait_for_slot(last_slot + 1)
        sigs = (await client.get_signatures_for_address(dest, commitment=Confirmed)).value
        assert [s.signature for s in sigs] == [sent[1].signatures[0], sent[0].signatures[0]]
        assert (await client.get_signatures_for_address(dest, limit=1, commitment=Confirmed)).value[
            0
        ].signature == sent[1].signatures[0]
        older = (
            await client.get_signatures_for_address(dest, before=sent[1].signatures[0], commitment=Confirmed)
        ).value
        assert [s.signature for s in older] == [sent[0].signatures[0]]
        await localnet.wait_finalized(last_slot)
        block = (await client.get_block(last_slot, max_supported_transaction_version=0)).value
        assert block.parent_slot == last_slot - 1 and block.block_height == last_slot
        assert sent[1].signatures[0] in [t.transaction.signatures[0] for t in block.transactions]
        blocks = (await client.get_blocks(last_slot - 2, last_slot)).value
        assert blocks == [last_slot - 2, last_slot - 1, last_slot]


async def test_durable_nonce_transaction_outlives_blockhash_window(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        nonce = Keypair()
        rent = (await client.get_minimum_balance_for_rent_exemption(80)).value
        await send(
            client,
            payer,
            list(create_nonce_account(payer.pubkey(), nonce.pubkey(), payer.pubkey(), rent)),
            [nonce],
        )
        localnet.advance_slots(1)  # a nonce cannot be advanced in the slot it was stored in
        localnet.pause_clock()
        stored = Hash(bytes((await client.get_account_info(nonce.pubkey(), Processed)).value.data)[40:72])
        to = Keypair().pubkey()
        ixs = [
            advance_nonce_account(
                AdvanceNonceAccountParams(nonce_pubkey=nonce.pubkey(), authorized_pubkey=payer.pubkey())
            ),
            transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=3_000_000)),
        ]
        localnet.advance_slots(200)  # far beyond 150 blocks: only the nonce keeps it valid
        await send(client, payer, ixs, blockhash=stored)
        assert localnet.balance(to) == 3_000_000
        advanced = bytes(localnet.get_account(nonce.pubkey()).data)[40:72]
        assert advanced != bytes(stored)
        localnet.advance_slots(1)
        again = [ixs[0], transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=1))]
        with pytest.raises(RPCException) as info:  # the old nonce is spent
            await send(client, payer, again, blockhash=stored)
        assert info.value.args[0].data.err == TransactionErrorFieldless.BlockhashNotFound
        localnet.resume_clock()


async def test_pipelined_requests_are_processed_in_arrival_order(localnet) -> None:
    async with AsyncClient(localnet.rpc_url) as client:
        payer = await funded(client)
        middle, end = Keypair(), Keypair().pubkey()
        bh = (await client.get_latest_blockhash(Processed)).value.blockhash
    fund = VersionedTransaction(
        MessageV0.try_compile(
            payer.pubkey(),
            [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=middle.pubkey(), lamports=SOL))],
            [],
            bh,
        ),
        [payer],
    )
    spend = VersionedTransaction(
        MessageV0.try_compile(
            middle.pubkey(),
            [transfer(TransferParams(from_pubkey=middle.pubkey(), to_pubkey=end, lamports=SOL // 2))],
            [],
            bh,
        ),
        [middle],
    )
    # `spend` only works after `fund`: both written at once on one connection, answered in order.
    host, port = localnet.rpc_url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    for i, tx in enumerate((fund, spend)):
        body = orjson.dumps(
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "sendTransaction",
                "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}],
            }
        )
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    replies = []
    for _ in range(2):
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        replies.append(orjson.loads(await reader.readexactly(length)))
    writer.close()
    assert [r["id"] for r in replies] == [0, 1]
    assert [r.get("result") for r in replies] == [str(fund.signatures[0]), str(spend.signatures[0])]
    assert localnet.balance(end) == SOL // 2


async def test_program_accounts_at_finalized_include_accounts_reassigned_since(localnet) -> None:
    owner = Keypair().pubkey()
    program = Keypair().pubkey()
    key = localnet.set_account(Keypair().pubkey(), lamports=10**7, data=b"\x07" * 40, owner=program)
    await localnet.wait_finalized()
    localnet.set_account(key, lamports=10**7, data=b"", owner=owner)  # reassigned now, not yet finalized
    async with AsyncClient(localnet.rpc_url) as client:
        now = (await client.get_program_accounts(program, Processed, encoding="base64")).value
        final = (await client.get_program_accounts(program, Finalized, encoding="base64")).value
    assert now == [] and [a.pubkey for a in final] == [key]
    assert bytes(final[0].account.data) == b"\x07" * 40


async def test_base64_zstd_encoding(localnet) -> None:
    data = bytes(range(256)) * 8
    key = localnet.set_account(Keypair().pubkey(), data=data, owner=Keypair().pubkey())
    async with httpx.AsyncClient() as http:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "getAccountInfo",
            "params": [str(key), {"encoding": "base64+zstd", "commitment": "processed"}],
        }
        value = orjson.loads((await http.post(localnet.rpc_url, json=body)).content)["result"]["value"]
    blob, enc = value["data"]
    assert enc == "base64+zstd"
    assert zstandard.ZstdDecompressor().decompress(base64.b64decode(blob)) == data
    async with AsyncClient(localnet.rpc_url) as client:
        acc = (await client.get_account_info(key, Processed, encoding="base64+zstd")).value
    assert bytes(acc.data) == data
