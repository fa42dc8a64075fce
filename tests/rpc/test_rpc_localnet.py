"""RpcClient, PubSubClient, EndpointPool and RpcSender against the real localnet (LiteSVM behind
real HTTP and websocket servers on loopback)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rpc_fakes import dead_url
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from rpc import errors
from rpc import requests as rq
from rpc.client import RpcClient
from rpc.pool import EndpointConfig, EndpointPool, Role
from rpc.pubsub import PubSubClient
from rpc.submit import RpcSender, signature_of

pytestmark = pytest.mark.localnet

TOKEN_PROGRAM = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
SOL = 1_000_000_000


def _transfer_tx(payer: Keypair, to: Pubkey, lamports: int, blockhash: str) -> bytes:
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    return bytes(
        Transaction.new_signed_with_payer([ix], payer.pubkey(), [payer], Hash.from_string(blockhash))
    )


def _token_transfer_tx(owner: Keypair, src: Pubkey, dst: Pubkey, amount: int, blockhash: str) -> bytes:
    # SPL Token instruction 3 = Transfer { amount: u64 } (spl-token instruction.rs).
    ix = Instruction(
        TOKEN_PROGRAM,
        bytes([3]) + amount.to_bytes(8, "little"),
        [
            AccountMeta(src, False, True),
            AccountMeta(dst, False, True),
            AccountMeta(owner.pubkey(), True, False),
        ],
    )
    return bytes(
        Transaction.new_signed_with_payer([ix], owner.pubkey(), [owner], Hash.from_string(blockhash))
    )


async def _wait(predicate: Any, timeout_s: float = 5.0) -> None:
    """Wait for a condition driven by callbacks (they run on this loop)."""
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.005)


@pytest.fixture
async def client(localnet: Any) -> Any:
    async with RpcClient(localnet.rpc_url, timeout_s=5.0) as c:
        yield c


async def test_reads(client: RpcClient, localnet: Any) -> None:
    assert await client.get_health() == "ok"
    slot = await client.get_slot(commitment="processed")
    assert slot >= 0
    bh = await client.get_latest_blockhash(commitment="processed")
    Hash.from_string(bh.blockhash)  # a real 32-byte base58 hash
    assert bh.last_valid_block_height > await client.get_block_height(commitment="processed")
    info = await client.get_epoch_info(commitment="processed")
    assert info.absolute_slot >= slot and info.slots_in_epoch > 0
    # Rent: (128 bytes of account overhead + data) * 3480 lamports/byte-year * 2 years.
    assert await client.get_minimum_balance_for_rent_exemption(165) == (128 + 165) * 3480 * 2
    with pytest.raises(errors.InvalidParams):
        await client.get_balance("not-a-pubkey")
    with pytest.raises(errors.MethodNotFound):
        await client.call(rq.Call("getNoSuchThing", b"[]", rq.get_slot().parse_result))


async def test_accounts_with_data_slice_and_program_accounts(client: RpcClient, localnet: Any) -> None:
    owner = Keypair().pubkey()
    a, b, missing = Keypair().pubkey(), Keypair().pubkey(), Keypair().pubkey()
    blob = bytes(range(200))
    localnet.set_account(a, data=blob, owner=owner)
    localnet.set_account(b, data=b"\x07" * 16, owner=owner, lamports=12345)
    got = await client.get_multiple_accounts([str(a), str(b), str(missing)], commitment="processed")
    acc_a, acc_b, acc_missing = got.accounts
    assert acc_a is not None and acc_a.data == blob and acc_a.owner == str(owner)
    assert acc_b is not None and acc_b.lamports == 12345 and acc_b.data == b"\x07" * 16
    assert acc_missing is None
    sliced = await client.get_account_info(str(a), commitment="processed", data_slice=(10, 5))
    assert sliced.account is not None and sliced.account.data == blob[10:15]
    progs = await client.get_program_accounts(
        str(owner), filters=[rq.data_size_filter(16)], commitment="processed"
    )
    assert [(k.pubkey, k.account.data) for k in progs] == [(str(b), b"\x07" * 16)]
    # Token balance is a raw integer amount.
    mint = localnet.create_mint(authority=owner, decimals=6)
    ta = localnet.create_token_account(mint, owner, 2**63 + 5)
    tb = await client.get_token_account_balance(str(ta), commitment="processed")
    assert (tb.amount, tb.decimals) == (2**63 + 5, 6)
    by_mint = await client.get_program_accounts(
        str(TOKEN_PROGRAM),
        filters=[rq.data_size_filter(165), rq.memcmp_filter(0, str(mint))],
        commitment="processed",
    )
    assert [k.pubkey for k in by_mint] == [str(ta)]


async def test_airdrop_send_status_transaction_and_batch(client: RpcClient, localnet: Any) -> None:
    payer, dest = Keypair(), Keypair()
    airdrop_sig = await client.request_airdrop(str(payer.pubkey()), 2 * SOL, commitment="processed")
    assert len(airdrop_sig) > 80
    assert (await client.get_balance(str(payer.pubkey()), commitment="processed")).lamports == 2 * SOL
    bh = await client.get_latest_blockhash(commitment="processed")
    tx = _transfer_tx(payer, dest.pubkey(), 5_000_000, bh.blockhash)
    sig = await client.send_transaction(tx)
    assert sig == signature_of(tx)
    statuses = await client.get_signature_statuses(
        [sig, airdrop_sig, str(Keypair().sign_message(b"never sent"))]
    )
    first, second, unknown = statuses.statuses
    assert first is not None and first.err is None and first.slot <= statuses.slot
    assert second is not None and second.err is None and unknown is None
    record = await client.get_transaction(sig, commitment="confirmed") or await _confirmed_tx(
        client, localnet, sig
    )
    assert record.transaction == tx  # the node's stored wire bytes are exactly what we sent
    assert record.fee == 5000 and record.err is None
    assert record.post_balances[1] - record.pre_balances[1] == 5_000_000
    results = await client.batch(
        [
            rq.get_balance(str(dest.pubkey()), commitment="processed"),
            rq.get_slot(commitment="processed"),
            rq.get_balance("bad"),
        ]
    )
    assert results[0].lamports == 5_000_000
    assert isinstance(results[1], int)
    assert isinstance(results[2], errors.InvalidParams)
    fees = await client.get_recent_prioritization_fees([str(payer.pubkey())])
    assert all(f.prioritization_fee >= 0 for f in fees)


async def _confirmed_tx(client: RpcClient, localnet: Any, sig: str) -> rq.TransactionRecord:
    await localnet.wait_for_slot(localnet.slot + 2)
    record = await client.get_transaction(sig, commitment="confirmed")
    assert record is not None
    return record


async def test_simulate_and_preflight_errors(client: RpcClient, localnet: Any) -> None:
    payer, dest = Keypair(), Keypair()
    localnet.airdrop(payer.pubkey(), SOL)
    bh = await client.get_latest_blockhash(commitment="processed")
    ok = await client.simulate_transaction(
        _transfer_tx(payer, dest.pubkey(), 1000, bh.blockhash),
        accounts=[str(dest.pubkey())],
        commitment="processed",
    )
    assert ok.err is None and ok.units_consumed and ok.units_consumed > 0 and ok.logs
    assert ok.accounts is not None and ok.accounts[0] is not None and ok.accounts[0].lamports == 1000
    too_much = _transfer_tx(payer, dest.pubkey(), 10 * SOL, bh.blockhash)
    failed = await client.simulate_transaction(too_much, commitment="processed")
    assert failed.err is not None and any("insufficient" in line for line in failed.logs)
    with pytest.raises(errors.PreflightFailed) as info:
        await client.send_transaction(too_much, skip_preflight=False, preflight_commitment="processed")
    assert info.value.err == failed.err and info.value.logs == failed.logs
    assert not errors.is_retryable(info.value)
    unknown_bh = _transfer_tx(payer, dest.pubkey(), 1000, str(Hash.new_unique()))
    replaced = await client.simulate_transaction(
        unknown_bh, replace_recent_blockhash=True, commitment="processed"
    )
    assert replaced.err is None
    with pytest.raises(errors.BlockhashNotFound):
        await client.send_transaction(unknown_bh, skip_preflight=False, preflight_commitment="processed")
    forged = bytearray(_transfer_tx(payer, dest.pubkey(), 1000, bh.blockhash))
    forged[5] ^= 0xFF  # corrupt the signature
    with pytest.raises(errors.SignatureVerifyFailed):
        await client.send_transaction(bytes(forged), skip_preflight=False, preflight_commitment="processed")


async def test_pubsub_account_program_slot_and_signature(
    client: RpcClient, localnet: Any, ws_transport: str
) -> None:
    owner, other = Keypair(), Keypair()
    localnet.airdrop(owner.pubkey(), SOL)
    mint = localnet.create_mint(authority=owner.pubkey(), decimals=6)
    src = localnet.create_token_account(mint, owner.pubkey(), 1_000)
    dst = localnet.create_token_account(mint, other.pubkey(), 0)
    accounts: list[tuple[int, int, bytes, str, int]] = []
    programs: list[tuple[int, int, str, bytes, str, int]] = []
    slots: list[int] = []
    errs: list[errors.RpcError] = []
    ps = PubSubClient(
        localnet.ws_url,
        on_account=lambda *a: accounts.append(a),
        on_program=lambda *a: programs.append(a),
        on_slot=lambda slot, parent, root: slots.append(slot),
        on_error=errs.append,
        transport=ws_transport,  # type: ignore[arg-type]
    )
    task = asyncio.create_task(ps.run())
    try:
        await ps.wait_ready(5)
        await ps.account_subscribe(str(dst), key=41, commitment="processed")
        await ps.program_subscribe(
            str(TOKEN_PROGRAM),
            key=9,
            filters=[rq.data_size_filter(165), rq.memcmp_filter(0, str(mint))],
            commitment="processed",
        )
        await ps.slot_subscribe()
        bh = await client.get_latest_blockhash(commitment="processed")
        tx = _token_transfer_tx(owner, src, dst, 250, bh.blockhash)
        landed = await ps.signature_subscribe(signature_of(tx), "processed")
        await client.send_transaction(tx)
        result = await asyncio.wait_for(landed, 5)
        assert result.err is None
        await _wait(lambda: accounts and len(programs) >= 2 and len(slots) >= 2)
        key, slot, data, acc_owner, lamports = accounts[-1]
        assert key == 41 and acc_owner == str(TOKEN_PROGRAM) and len(data) == 165
        assert int.from_bytes(data[64:72], "little") == 250  # SPL token account: amount at offset 64
        assert slot == result.slot
        truth = await client.get_account_info(str(dst), commitment="processed")
        assert truth.account is not None and truth.account.data == data and truth.account.lamports == lamports
        by_key = {p[2]: int.from_bytes(p[3][64:72], "little") for p in programs}
        assert by_key == {str(src): 750, str(dst): 250} and {p[0] for p in programs} == {9}
        assert slots == sorted(slots)
        # Unsubscribed keys stop notifying.
        await ps.account_unsubscribe(41)
        before = len(accounts)
        tx2 = _token_transfer_tx(owner, src, dst, 1, bh.blockhash)
        await client.send_transaction(tx2)
        await _wait(lambda: len(programs) >= 4)
        assert len(accounts) == before
        # A refused subscription is a typed error, never silent.
        with pytest.raises(errors.SubscriptionFailed) as info:
            await ps.account_subscribe("not-a-pubkey", key=5)
        assert isinstance(info.value.cause, errors.InvalidParams) and info.value.key == 5
        assert errs == [] and ps.stats.malformed == 0
    finally:
        await ps.close()
        await asyncio.wait_for(task, 5)


@pytest.mark.parametrize("side", ["server", "client"])
async def test_forced_disconnect_resubscribes_and_snapshot_closes_the_gap(
    client: RpcClient, localnet: Any, side: str, ws_transport: str
) -> None:
    watched = [Keypair().pubkey() for _ in range(3)]
    cache: dict[int, tuple[int, int]] = {}  # key -> (slot, lamports); latest slot wins

    def put(key: int, slot: int, lamports: int) -> None:
        if key not in cache or cache[key][0] <= slot:
            cache[key] = (slot, lamports)

    resubscribed = 0

    async def on_resubscribed() -> None:
        nonlocal resubscribed
        snap = await client.get_multiple_accounts([str(p) for p in watched], commitment="processed")
        for key, acc in enumerate(snap.accounts):
            put(key, snap.slot, 0 if acc is None else acc.lamports)
        resubscribed += 1

    errs: list[errors.RpcError] = []
    ps = PubSubClient(
        localnet.ws_url,
        on_account=lambda key, slot, data, owner, lamports: put(key, slot, lamports),
        on_error=errs.append,
        on_resubscribed=on_resubscribed,
        backoff_base_s=0.05,
        backoff_cap_s=0.2,
        transport=ws_transport,  # type: ignore[arg-type]
    )
    for key, pubkey in enumerate(watched):
        await ps.account_subscribe(str(pubkey), key=key, commitment="processed")  # sent on connect
    task = asyncio.create_task(ps.run())
    try:
        await _wait(lambda: resubscribed == 1)
        localnet.airdrop(watched[0], 1 * SOL)
        await _wait(lambda: cache[0][1] == 1 * SOL)
        if side == "server":
            for conn in list(localnet.pubsub.clients):
                conn.ws.transport.abort()  # the node drops us without a close handshake
        else:
            ps.reconnect()
        # Changes while disconnected: their notifications are lost with the socket.
        localnet.airdrop(watched[0], 2 * SOL)
        localnet.airdrop(watched[2], 7 * SOL)
        await _wait(lambda: resubscribed == 2)
        truth = [localnet.balance(p) for p in watched]
        assert truth == [3 * SOL, 0, 7 * SOL]
        assert [cache[k][1] for k in range(3)] == truth  # the snapshot closed the gap
        assert ps.stats.connects == 2 and ps.stats.disconnects == 1 and ps.subscription_count == 3
        assert len(errs) == 1 and isinstance(errs[0], errors.TransportError)
        # Live again: new changes arrive by notification.
        localnet.airdrop(watched[1], 4 * SOL)
        await _wait(lambda: cache[1][1] == 4 * SOL)
    finally:
        await ps.close()
        await asyncio.wait_for(task, 5)


async def test_pool_probe_ranks_and_sender_fans_out(localnet: Any) -> None:
    dead = await dead_url()
    pool = EndpointPool(
        [
            EndpointConfig("dead", dead, priority=0, timeout_s=1.0),
            EndpointConfig("local-a", localnet.rpc_url, priority=1),
            EndpointConfig("local-b", localnet.rpc_url, priority=1),
            EndpointConfig("reader", localnet.rpc_url, priority=0, roles=frozenset({Role.READ})),
        ]
    )
    try:
        assert pool.ranked(Role.SEND)[0].name == "dead"  # before probing: priority only
        # The endpoints are probed concurrently: with a 10 ms slot clock two of them can straddle a slot
        # boundary and one would lag by 1. Same node, same slot: hold the clock while probing.
        localnet.pause_clock()
        await pool.probe()
        localnet.resume_clock()
        ranked = [e.name for e in pool.ranked(Role.SEND)]
        assert ranked[-1] == "dead" and set(ranked[:2]) == {"local-a", "local-b"}
        dead_health = pool.by_name("dead").health
        assert dead_health.consecutive_failures == 1 and isinstance(
            dead_health.last_error, errors.TransportError
        )
        live = pool.by_name("local-a").health
        assert live.latency_s is not None and live.slot is not None and live.slot_lag == 0

        payer, dest = Keypair(), Keypair()
        localnet.airdrop(payer.pubkey(), SOL)
        reader = pool.ranked(Role.READ)[0].client
        bh = await reader.get_latest_blockhash(commitment="processed")
        tx = _transfer_tx(payer, dest.pubkey(), 77_000, bh.blockhash)
        sender = RpcSender(pool, fan_out=3)  # includes the dead one: the others still take it
        result = await sender.send(tx)
        assert result.signature == signature_of(tx) and set(result.accepted) == {"local-a", "local-b"}
        assert isinstance(result.errors["dead"], errors.TransportError)
        assert localnet.balance(dest.pubkey()) == 77_000
        assert sender.stats.accepted == 1 and sender.in_flight == 0
    finally:
        await pool.close()

    # The supervised probing loop re-probes until cancelled.
    looping = EndpointPool([EndpointConfig("l", localnet.rpc_url)])
    task = asyncio.create_task(looping.run_probing(0.01))
    await _wait(lambda: looping.by_name("l").health.probes >= 3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert looping.snapshot()[0].usable
    await looping.close()

    only_dead = EndpointPool(
        [EndpointConfig("d1", dead, timeout_s=1.0), EndpointConfig("d2", dead, timeout_s=1.0)]
    )
    sender = RpcSender(only_dead, fan_out=2)
    with pytest.raises(errors.AllEndpointsFailed) as info:
        await sender.send(tx)
    assert set(info.value.errors) == {"d1", "d2"}
    assert all(isinstance(e, errors.TransportError) for e in info.value.errors.values())
    assert errors.is_retryable(info.value)
    await only_dead.close()
