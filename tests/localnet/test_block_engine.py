"""localnet's Jito-style block engine over real HTTP on loopback: atomic bundles, tips, statuses, errors.

Every test pauses the slot clock, sends over JSON-RPC to `/api/v1/bundles` on the RPC port, then
produces the next slot itself (`advance_slots`), where the bundle executes. What lands is read back
over the plain RPC (getSignatureStatuses, getTransaction, getBalance) and the PubSub websocket.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import based58
import orjson
import pytest
import websockets
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from localnet.block_engine import MAINNET_TIP_ACCOUNTS
from localnet.chain import SYSTEM_PROGRAM
from localnet.cli import build_parser
from localnet.errors import LoadError
from localnet.server import Localnet
from rpc.http import HttpTransport

pytestmark = pytest.mark.localnet

SOL = 1_000_000_000
FEE = 5_000
TIP = Pubkey.from_string(MAINNET_TIP_ACCOUNTS[3])
RENT_0 = 890_880  # rent-exempt minimum of a 0-byte account


class Jsonrpc:
    """JSON-RPC 2.0 over the project's raw HTTP transport, answers as parsed dicts (the wire shape)."""

    def __init__(self, url: str) -> None:
        self.transport = HttpTransport(url)
        self.ids = 0

    async def raw(self, body: bytes) -> Any:
        return orjson.loads(await self.transport.request(body, 5.0))

    async def call(self, method: str, *params: Any) -> Any:
        self.ids += 1
        return await self.raw(
            orjson.dumps({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params})
        )

    async def result(self, method: str, *params: Any) -> Any:
        reply = await self.call(method, *params)
        assert "error" not in reply, reply
        return reply["result"]

    async def error(self, method: str, *params: Any) -> dict[str, Any]:
        reply = await self.call(method, *params)
        assert "result" not in reply, reply
        return reply["error"]  # type: ignore[no-any-return]


@pytest.fixture
async def net(localnet_factory: Any) -> AsyncIterator[Localnet]:
    net = await localnet_factory(block_engine=True)
    net.pause_clock()
    yield net


@pytest.fixture
async def engine(net: Localnet) -> AsyncIterator[Jsonrpc]:
    assert net.bundle_url == f"{net.rpc_url}/api/v1/bundles"
    client = Jsonrpc(net.bundle_url)
    yield client
    await client.transport.close()


@pytest.fixture
async def rpc(net: Localnet) -> AsyncIterator[Jsonrpc]:
    client = Jsonrpc(net.rpc_url)
    yield client
    await client.transport.close()


def pay(source: Pubkey, to: Pubkey, lamports: int) -> Instruction:
    return transfer(TransferParams(from_pubkey=source, to_pubkey=to, lamports=lamports))


def signed(ixs: list[Instruction], signers: list[Keypair], blockhash: Hash) -> VersionedTransaction:
    return VersionedTransaction(Message.new_with_blockhash(ixs, signers[0].pubkey(), blockhash), signers)


def b64(tx: VersionedTransaction) -> str:
    return base64.b64encode(bytes(tx)).decode()


def jito_id(*txs: VersionedTransaction) -> str:
    return hashlib.sha256(",".join(str(tx.signatures[0]) for tx in txs).encode()).hexdigest()


async def statuses(rpc: Jsonrpc, *txs: VersionedTransaction) -> list[Any]:
    return (await rpc.result("getSignatureStatuses", [str(tx.signatures[0]) for tx in txs]))["value"]  # type: ignore[no-any-return]


async def inflight(engine: Jsonrpc, bid: str) -> dict[str, Any]:
    (status,) = (await engine.result("getInflightBundleStatuses", [bid]))["value"]
    return status  # type: ignore[no-any-return]


async def test_two_dependent_transactions_land_atomically_in_the_next_slot(
    net: Localnet, engine: Jsonrpc, rpc: Jsonrpc
) -> None:
    a, b, c = Keypair(), Keypair(), Keypair().pubkey()
    net.airdrop(a.pubkey(), SOL)
    bh = net.chain.blockhash
    # b does not exist before the bundle: its transaction pays with what the first one gives it.
    first = signed([pay(a.pubkey(), b.pubkey(), 5_000_000)], [a], bh)
    second = signed([pay(b.pubkey(), c, 1_234_567), pay(b.pubkey(), TIP, 10_000)], [b], bh)
    tip_before = net.balance(TIP)

    bid = await engine.result("sendBundle", [b64(first), b64(second)], {"encoding": "base64"})

    assert bid == jito_id(first, second)
    sent_at = net.slot
    assert await inflight(engine, bid) == {"bundle_id": bid, "status": "Pending", "landed_slot": None}
    assert (await engine.result("getBundleStatuses", [bid]))["value"] == [None]
    assert await statuses(rpc, first, second) == [None, None]
    net.advance_slots(1)
    landed = sent_at + 1
    assert await inflight(engine, bid) == {"bundle_id": bid, "status": "Landed", "landed_slot": landed}
    got = await engine.result("getBundleStatuses", [bid])
    assert got["context"]["slot"] == landed
    assert got["value"] == [
        {
            "bundle_id": bid,
            "transactions": [str(first.signatures[0]), str(second.signatures[0])],
            "slot": landed,
            "confirmation_status": "processed",
            "err": {"Ok": None},
        }
    ]
    first_status, second_status = await statuses(rpc, first, second)
    assert first_status["slot"] == second_status["slot"] == landed
    assert first_status["err"] is None and second_status["err"] is None
    assert net.chain.slot_txs[landed] == [first.signatures[0], second.signatures[0]]  # in bundle order
    assert net.balance(a.pubkey()) == SOL - 5_000_000 - FEE
    assert net.balance(b.pubkey()) == 5_000_000 - 1_234_567 - 10_000 - FEE
    assert net.balance(c) == 1_234_567
    assert net.balance(TIP) == tip_before + 10_000
    assert net.block_engine is not None and net.block_engine.bundle(bid).tip == 10_000  # type: ignore[union-attr]
    net.advance_slots(1)
    (later,) = (await engine.result("getBundleStatuses", [bid]))["value"]
    assert later["confirmation_status"] == "confirmed"


async def test_a_failing_second_transaction_lands_nothing(
    net: Localnet, engine: Jsonrpc, rpc: Jsonrpc
) -> None:
    a, b = Keypair(), Keypair()
    net.airdrop(a.pubkey(), SOL)
    net.airdrop(b.pubkey(), 2_000_000)
    net.advance_slots(1)
    bh = net.chain.blockhash
    # The first pays a priority fee (50,000 micro-lamports x 10,000 CU = 500 lamports), moves funds and tips; the second is the guard that fails: b sends
    # more than it holds.
    first = signed(
        [
            set_compute_unit_limit(10_000),
            set_compute_unit_price(50_000),
            pay(a.pubkey(), b.pubkey(), 3_000_000),
            pay(a.pubkey(), TIP, 50_000),
        ],
        [a],
        bh,
    )
    guard = signed([pay(b.pubkey(), a.pubkey(), 100 * SOL)], [b], bh)
    before = {k: net.balance(k) for k in (a.pubkey(), b.pubkey(), TIP)}
    count_before = net.chain.tx_count

    async with websockets.connect(net.ws_url) as ws:
        subscribe = [
            ("signatureSubscribe", [str(first.signatures[0]), {"commitment": "processed"}]),
            ("accountSubscribe", [str(a.pubkey()), {"commitment": "processed", "encoding": "base64"}]),
            ("logsSubscribe", ["all", {"commitment": "processed"}]),
        ]
        for i, (method, params) in enumerate(subscribe):
            await ws.send(orjson.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}))
            assert "result" in orjson.loads(await ws.recv())

        bid = await engine.result("sendBundle", [b64(first), b64(guard)], {"encoding": "base64"})
        net.advance_slots(1)
        bundle_slot = net.slot

        assert await inflight(engine, bid) == {"bundle_id": bid, "status": "Failed", "landed_slot": None}
        assert (await engine.result("getBundleStatuses", [bid]))["value"] == [None]
        assert await statuses(rpc, first, guard) == [None, None]
        for tx in (first, guard):
            assert (
                await rpc.result("getTransaction", str(tx.signatures[0]), {"commitment": "confirmed"}) is None
            )
        assert {k: net.balance(k) for k in before} == before  # no fee, no priority fee, no tip, no transfer
        assert net.chain.tx_count == count_before
        fees = await rpc.result("getRecentPrioritizationFees", [str(a.pubkey())])
        assert {f["slot"]: f["prioritizationFee"] for f in fees}[bundle_slot] == 0
        reason = net.block_engine.bundle(bid).reason  # type: ignore[union-attr]
        assert reason.startswith(
            f"transaction #1 ({guard.signatures[0]}) failed: Error processing Instruction 0"
        )
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await ws.recv()

        # The first transaction was never processed: alone, it lands, and the notifications that follow
        # are its own (the socket carries them in order, so none came from the bundle).
        net.advance_slots(1)
        assert await rpc.result("sendTransaction", b64(first), {"encoding": "base64"}) == str(
            first.signatures[0]
        )
        notes = [orjson.loads(await ws.recv()) for _ in range(3)]
    assert {n["method"] for n in notes} == {
        "signatureNotification",
        "accountNotification",
        "logsNotification",
    }
    assert all(n["params"]["result"]["context"]["slot"] == bundle_slot + 1 for n in notes)
    assert net.balance(a.pubkey()) == before[a.pubkey()] - 3_000_000 - 50_000 - FEE - 500


async def test_bundle_without_a_tip_account_is_refused(net: Localnet, engine: Jsonrpc, rpc: Jsonrpc) -> None:
    a = Keypair()
    net.airdrop(a.pubkey(), SOL)
    tx = signed([pay(a.pubkey(), Keypair().pubkey(), 1_000_000)], [a], net.chain.blockhash)

    err = await engine.error("sendBundle", [b64(tx)], {"encoding": "base64"})

    assert err["code"] == -32602 and "tip account" in err["message"]
    net.advance_slots(1)
    assert await statuses(rpc, tx) == [None]
    assert net.block_engine is not None and not net.block_engine.bundles


async def test_tip_below_the_minimum_is_invalid_and_the_minimum_lands(
    net: Localnet, engine: Jsonrpc, rpc: Jsonrpc
) -> None:
    a = Keypair()
    net.airdrop(a.pubkey(), SOL)
    bh = net.chain.blockhash
    low = signed([pay(a.pubkey(), TIP, 999)], [a], bh)
    enough = signed([pay(a.pubkey(), TIP, 1_000)], [a], bh)
    low_id = await engine.result("sendBundle", [b64(low)], {"encoding": "base64"})
    net.advance_slots(1)
    assert await inflight(engine, low_id) == {"bundle_id": low_id, "status": "Invalid", "landed_slot": None}
    assert await statuses(rpc, low) == [None]
    assert net.balance(a.pubkey()) == SOL
    assert "below the minimum of 1000" in net.block_engine.bundle(low_id).reason  # type: ignore[union-attr]

    enough_id = await engine.result("sendBundle", [b64(enough)], {"encoding": "base64"})
    net.advance_slots(1)
    assert (await inflight(engine, enough_id))["status"] == "Landed"
    assert net.balance(a.pubkey()) == SOL - 1_000 - FEE


async def test_min_tip_is_configurable(localnet_factory: Any) -> None:
    net = await localnet_factory(block_engine=True, min_tip_lamports=0)
    net.pause_clock()
    a = Keypair()
    net.airdrop(a.pubkey(), SOL)
    tx = signed([pay(a.pubkey(), TIP, 0)], [a], net.chain.blockhash)  # write-locks a tip account, tips 0
    engine = Jsonrpc(net.bundle_url)
    try:
        bid = await engine.result("sendBundle", [b64(tx)], {"encoding": "base64"})
        net.advance_slots(1)
        assert (await inflight(engine, bid))["status"] == "Landed"
    finally:
        await engine.transport.close()
    with pytest.raises(LoadError, match="min-tip-lamports"):
        Localnet(rpc_port=0, block_engine=True, min_tip_lamports=-1)


async def test_base58_is_the_default_encoding_and_a_resend_lands_once(net: Localnet, engine: Jsonrpc) -> None:
    a = Keypair()
    net.airdrop(a.pubkey(), SOL)
    tx = signed([pay(a.pubkey(), TIP, 5_000)], [a], net.chain.blockhash)
    encoded = based58.b58encode(bytes(tx)).decode()
    bid = await engine.result("sendBundle", [encoded])
    assert await engine.result("sendBundle", [encoded]) == bid  # queued once
    net.advance_slots(1)
    assert await engine.result("sendBundle", [encoded]) == bid  # landed: not run again
    net.advance_slots(1)
    assert await inflight(engine, bid) == {"bundle_id": bid, "status": "Landed", "landed_slot": net.slot - 1}
    assert net.balance(a.pubkey()) == SOL - 5_000 - FEE


async def test_get_tip_accounts_lists_the_configured_accounts(localnet_factory: Any) -> None:
    net = await localnet_factory(block_engine=True)
    engine = Jsonrpc(net.bundle_url)
    try:
        assert await engine.result("getTipAccounts") == list(MAINNET_TIP_ACCOUNTS)
    finally:
        await engine.transport.close()
    for key in MAINNET_TIP_ACCOUNTS:
        acc = net.get_account(Pubkey.from_string(key))
        assert acc is not None and acc.owner == SYSTEM_PROGRAM and acc.lamports == RENT_0 and not acc.data
    own = [str(Keypair().pubkey()) for _ in range(2)]
    other = await localnet_factory(block_engine=True, tip_accounts=own)
    engine = Jsonrpc(other.bundle_url)
    try:
        assert await engine.result("getTipAccounts") == own
    finally:
        await engine.transport.close()


async def test_malformed_requests_get_json_rpc_errors(net: Localnet, engine: Jsonrpc) -> None:
    a = Keypair()
    net.airdrop(a.pubkey(), SOL)
    bh = net.chain.blockhash
    txs = [signed([pay(a.pubkey(), TIP, 1_000 + i)], [a], bh) for i in range(6)]
    tampered = bytearray(bytes(txs[0]))
    tampered[10] ^= 1  # inside the signature
    b64cfg = {"encoding": "base64"}
    cases: list[tuple[tuple[Any, ...], int, str]] = [
        (([],), -32602, "non-empty array"),
        (("not a list",), -32602, "non-empty array"),
        (([b64(t) for t in txs],), -32602, "at most 5"),
        ((["0OIl"],), -32602, "transaction #0: invalid base58"),  # base58 is the default encoding
        (([b64(txs[0]), "@@@"], b64cfg), -32602, "transaction #1: invalid base64"),
        (
            ([base64.b64encode(b"\x01" + bytes(64)).decode()], b64cfg),
            -32602,
            "transaction #0: failed to deserialize",
        ),
        (([base64.b64encode(bytes(tampered)).decode()], b64cfg), -32003, "signature verification failed"),
        (([b64(txs[0]), b64(txs[0])], b64cfg), -32602, "same transaction twice"),
        (([b64(txs[0])], {"encoding": "base32"}), -32602, "unsupported encoding"),
    ]
    for params, code, text in cases:
        err = await engine.error("sendBundle", *params)
        assert err["code"] == code and text in err["message"], (params, err)
    assert net.block_engine is not None and not net.block_engine.pending
    for method in ("getBundleStatuses", "getInflightBundleStatuses"):
        for params, text in (
            ((), "missing required parameter"),
            (([],), "non-empty array"),
            (([1],), "non-empty array"),
            ((["x"] * 6,), "at most 5"),
        ):
            err = await engine.error(method, *params)
            assert err["code"] == -32602 and text in err["message"], (method, params, err)
    assert (await engine.error("sendTransactionBundle", []))["code"] == -32601
    assert (await engine.raw(b"{not json"))["error"]["code"] == -32700
    assert (await engine.raw(b'{"jsonrpc":"2.0","id":1,"method":"sendBundle","params":{}}'))["error"][
        "code"
    ] == -32602
    unknown = "ab" * 32
    assert await inflight(engine, unknown) == {"bundle_id": unknown, "status": "Invalid", "landed_slot": None}
    assert (await engine.result("getBundleStatuses", [unknown]))["value"] == [None]


async def test_statuses_look_back_five_minutes(net: Localnet, engine: Jsonrpc) -> None:
    assert net.block_engine is not None
    now = [1_000.0]
    net.block_engine.clock = lambda: now[0]
    a = Keypair()
    net.airdrop(a.pubkey(), SOL)
    bid = await engine.result(
        "sendBundle",
        [b64(signed([pay(a.pubkey(), TIP, 2_000)], [a], net.chain.blockhash))],
        {"encoding": "base64"},
    )
    net.advance_slots(1)
    now[0] += 300.0
    assert (await inflight(engine, bid))["status"] == "Landed"
    now[0] += 1.0
    assert (await inflight(engine, bid))["status"] == "Invalid"
    assert (await engine.result("getBundleStatuses", [bid]))["value"] == [None]


async def test_transactions_endpoint_sends_with_skip_preflight(net: Localnet, rpc: Jsonrpc) -> None:
    a = Keypair()
    net.airdrop(a.pubkey(), SOL)
    failing = signed([pay(a.pubkey(), Keypair().pubkey(), 2 * SOL)], [a], net.chain.blockhash)
    assert "error" in await rpc.call(
        "sendTransaction", b64(failing), {"encoding": "base64"}
    )  # preflight refuses
    proxy = Jsonrpc(f"{net.rpc_url}/api/v1/transactions?bundleOnly=true")
    try:
        assert await proxy.result("sendTransaction", b64(failing), {"encoding": "base64"}) == str(
            failing.signatures[0]
        )
    finally:
        await proxy.transport.close()
    (status,) = await statuses(rpc, failing)
    assert status["err"] is not None and net.balance(a.pubkey()) == SOL - FEE  # landed failed, fee paid


async def test_bundles_path_with_verify_workers_and_without_block_engine(localnet_factory: Any) -> None:
    net = await localnet_factory(block_engine=True, verify_workers=1)
    net.pause_clock()
    a = Keypair()
    net.airdrop(a.pubkey(), SOL)
    engine, rpc = Jsonrpc(net.bundle_url), Jsonrpc(net.rpc_url)
    try:
        bid = await engine.result(
            "sendBundle",
            [b64(signed([pay(a.pubkey(), TIP, 3_000)], [a], net.chain.blockhash))],
            {"encoding": "base64"},
        )
        net.advance_slots(1)
        assert (await inflight(engine, bid))["status"] == "Landed"
        balance = await rpc.result("getBalance", str(TIP), {"commitment": "processed"})
        assert balance["value"] == RENT_0 + 3_000
    finally:
        await engine.transport.close()
        await rpc.transport.close()
    plain = await localnet_factory()
    assert plain.bundle_url is None
    client = Jsonrpc(f"{plain.rpc_url}/api/v1/bundles")
    try:
        assert (await client.error("sendBundle", []))["code"] == -32601  # plain RPC: no such method
    finally:
        await client.transport.close()


def test_cli_flags() -> None:
    args = build_parser().parse_args(["--block-engine", "--min-tip-lamports", "5000"])
    assert args.block_engine and args.min_tip_lamports == 5000
    args = build_parser().parse_args([])
    assert not args.block_engine and args.min_tip_lamports == 1000


def test_process_atomic_undoes_a_failed_batch_at_every_commitment() -> None:
    from localnet.chain import CONFIRMED, FINALIZED, BatchFailed, Chain

    chain = Chain()
    chain.advance_slot()
    payer, fresh = Keypair(), Keypair()
    chain.airdrop(payer.pubkey(), SOL)
    chain.advance_slot()
    bh = chain.blockhash
    create = signed([pay(payer.pubkey(), fresh.pubkey(), SOL // 2)], [payer], bh)
    overdraw = signed([pay(fresh.pubkey(), payer.pubkey(), SOL)], [fresh], bh)
    views = {c: chain.get_account(payer.pubkey(), c) for c in ("processed", CONFIRMED, FINALIZED)}
    heard: list[Any] = []
    chain.tx_listeners.append(lambda rec, written: heard.append(rec.signature))

    with pytest.raises(BatchFailed) as failed:
        chain.process_atomic([create, overdraw])

    assert failed.value.index == 1
    assert {c: chain.get_account(payer.pubkey(), c) for c in views} == views
    assert chain.get_account(fresh.pubkey()) is None and chain.get_account(fresh.pubkey(), CONFIRMED) is None
    assert fresh.pubkey() not in chain.accounts_owned_by(SYSTEM_PROGRAM)
    assert create.signatures[0] not in chain.txs and chain.slot not in chain.slot_txs and not heard

    def refuse(records: list[Any]) -> None:
        assert [r.signature for r in records] == [create.signatures[0]]
        raise ValueError("not today")

    with pytest.raises(BatchFailed) as refused:
        chain.process_atomic([create], accept=refuse)
    assert refused.value.index is None and isinstance(refused.value.cause, ValueError)
    assert chain.get_account(fresh.pubkey(), CONFIRMED) is None and not heard

    records = chain.process_atomic([create])
    assert [r.signature for r in records] == heard == [create.signatures[0]]
    assert chain.get_account(fresh.pubkey()).lamports == SOL // 2  # type: ignore[union-attr]


async def test_cli_serves_the_block_engine_with_its_minimum_tip() -> None:
    import signal
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "localnet", "--rpc-port", "0", "--slot-ms", "20", "--verify-workers", "0",
        "--block-engine", "--min-tip-lamports", "5000",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        fields = dict(part.split("=", 1) for part in line.split()[2:])
        assert fields["bundles"] == fields["rpc"] + "/api/v1/bundles"
        engine, rpc = Jsonrpc(fields["bundles"]), Jsonrpc(fields["rpc"])
        try:
            a = Keypair()
            await rpc.result("requestAirdrop", str(a.pubkey()), SOL)
            bh = Hash.from_string(
                (await rpc.result("getLatestBlockhash", {"commitment": "processed"}))["value"]["blockhash"]
            )
            low, enough = (b64(signed([pay(a.pubkey(), TIP, tip)], [a], bh)) for tip in (4_999, 5_000))
            ids = [await engine.result("sendBundle", [tx], {"encoding": "base64"}) for tx in (low, enough)]
            async with asyncio.timeout(10):  # the clock runs (20 ms slots): wait for the next slots
                while "Pending" in (states := [(await inflight(engine, i))["status"] for i in ids]):
                    await asyncio.sleep(0.02)
            assert states == ["Invalid", "Landed"]
        finally:
            await engine.transport.close()
            await rpc.transport.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
