"""rpc.jito: request bodies byte-for-byte, result parsing on Jito's documented shapes, typed errors, the tip
policy, and `JitoClient` / `JitoSender` against localnet's real block engine over loopback HTTP."""

from __future__ import annotations

import base64
import hashlib
import socket
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from rpc import jito
from rpc.errors import AllEndpointsFailed, JsonRpcError, MalformedResponse, TransportError, is_retryable
from rpc.requests import parse_response
from strategies.costs import tip_lamports

# The 8 accounts Jito's mainnet block engine lists (protocols.md §7), also what localnet serves by default.
TIP_ACCOUNTS = [
    "96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5",
    "HFqU5x63VTqvQss8hp11i4wVV8bD44PvwucfZ2bU7gRe",
    "Cw8CFyM9FkoMi7K7Crf6HNQqf4uEMzpKw6QNghXLvLkY",
    "ADaUMid9yfUytqMBgopwjb2DTLSokTSzL1zt6iGPaS49",
    "DfXygSm4jCyNCybVYYK6DwvWqjKee8pbDmJGcLWNDXjh",
    "ADuUkR4vqLUMWXxW9gh6D6L8pMSawimctcNZ5pGwDcEt",
    "DttWaMuVvTiduZRnguLF7jNxTgiMBZ1hyAumKUiL2KRL",
    "3AVi9Tg9Uo68tJfuvoKvqKNWKkC5wPdSSdeBnizKZ6jT",
]
TIP = Pubkey.from_string(TIP_ACCOUNTS[5])
SOL = 1_000_000_000


def tx_paying(payer: Keypair, to: Pubkey, lamports: int, blockhash: Hash) -> bytes:
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    return bytes(VersionedTransaction(Message.new_with_blockhash([ix], payer.pubkey(), blockhash), [payer]))


def reply(result: Any) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": result})


# ---------------------------------------------------------------------------------------------- builders


def test_send_bundle_body_and_bundle_id() -> None:
    payer = Keypair()
    txs = [tx_paying(payer, TIP, 1_000 + i, Hash.default()) for i in range(2)]
    body = jito.send_bundle(txs).encode(7)
    encoded = [base64.b64encode(t).decode() for t in txs]
    assert body == (
        b'{"jsonrpc":"2.0","id":7,"method":"sendBundle","params":[["%s","%s"],{"encoding":"base64"}]}'
        % (encoded[0].encode(), encoded[1].encode())
    )
    sigs = [str(VersionedTransaction.from_bytes(t).signatures[0]) for t in txs]
    assert jito.bundle_id_of(txs) == hashlib.sha256(f"{sigs[0]},{sigs[1]}".encode()).hexdigest()
    assert jito.bundle_id(sigs[::-1]) != jito.bundle_id(sigs)  # order matters


@pytest.mark.parametrize("txs", [[], [b"x" * 200] * 6, [b"\x00" + bytes(100)], [b"short"]])
def test_send_bundle_refuses_bad_input_before_any_io(txs: list[bytes]) -> None:
    with pytest.raises(jito.InvalidBundle):
        jito.send_bundle(txs)


def test_status_request_bodies() -> None:
    ids = ["892b79ed49138bfb3aa5441f0df6e06ef34f9ee8f3976c15b323605bae0cf51d", "ab" * 32]
    assert jito.get_bundle_statuses(ids).encode(3) == (
        b'{"jsonrpc":"2.0","id":3,"method":"getBundleStatuses","params":[["%s","%s"]]}'
        % (ids[0].encode(), ids[1].encode())
    )
    assert jito.get_inflight_bundle_statuses(ids[:1]).encode(4) == (
        b'{"jsonrpc":"2.0","id":4,"method":"getInflightBundleStatuses","params":[["%s"]]}' % ids[0].encode()
    )
    assert (
        jito.get_tip_accounts().encode(5) == b'{"jsonrpc":"2.0","id":5,"method":"getTipAccounts","params":[]}'
    )
    for bad in ([], ["a"] * 6):
        with pytest.raises(jito.InvalidBundle):
            jito.get_bundle_statuses(bad)
        with pytest.raises(jito.InvalidBundle):
            jito.get_inflight_bundle_statuses(bad)


# ---------------------------------------------------------------------------------------------- parsing


def test_bundle_statuses_parse_the_documented_response_in_request_order() -> None:
    landed = "892b79ed49138bfb3aa5441f0df6e06ef34f9ee8f3976c15b323605bae0cf51d"
    unknown = "cd" * 32
    doc = {  # jito-labs/mev-protos json_rpc/http.md, getBundleStatuses response example
        "context": {"slot": 242806119},
        "value": [
            {
                "bundle_id": landed,
                "transactions": [
                    "3bC2M9fiACSjkTXZDgeNAuQ4ScTsdKGwR42ytFdhUvikqTmBheUxfsR1fDVsM5ADCMMspuwGkdm1uKbU246x5aE3",
                    "8t9hKYEYNbLvNqiSzP96S13XF1C2f1ro271Kdf7bkZ6EpjPLuDff1ywRy4gfaGSTubsM2FeYGDoT64ZwPm1cQUt",
                ],
                "slot": 242804011,
                "confirmation_status": "finalized",
                "err": {"Ok": None},
            }
        ],
    }
    got = parse_response(reply(doc), jito.get_bundle_statuses([unknown, landed]))
    assert got.slot == 242806119
    assert got.statuses[0] is None
    assert got.statuses[1] == jito.BundleStatus(
        landed,
        doc["value"][0]["transactions"],
        242804011,
        "finalized",
        None,  # type: ignore[index]
    )
    camel = {
        "context": {"slot": 9},
        "value": [
            {
                "bundle_id": landed,
                "transactions": ["s"],
                "slot": 8,
                "confirmationStatus": "confirmed",
                "err": {"Err": "x"},
            }
        ],
    }
    (status,) = parse_response(reply(camel), jito.get_bundle_statuses([landed])).statuses
    assert status is not None and status.confirmation_status == "confirmed" and status.err == {"Err": "x"}
    for value in (None, [], [None]):
        none = {"context": {"slot": 1}, "value": value}
        assert parse_response(reply(none), jito.get_bundle_statuses([landed])).statuses == [None]
    with pytest.raises(MalformedResponse):
        parse_response(reply({"value": []}), jito.get_bundle_statuses([landed]))


def test_inflight_statuses_parse_and_missing_ids_count_as_invalid() -> None:
    a, b = "b31e5fae4923f345218403ac1ab242b46a72d4f2a38d131f474255ae88f1ec9a", "ef" * 32
    doc = {"context": {"slot": 280999028},
           "value": [{"bundle_id": a, "status": "Landed", "landed_slot": 280999027}]}  # fmt: skip
    got = parse_response(reply(doc), jito.get_inflight_bundle_statuses([b, a]))
    assert got == jito.InflightStatusesAt(
        280999028, [jito.InflightStatus(b, "Invalid", None), jito.InflightStatus(a, "Landed", 280999027)]
    )
    weird = {"context": {"slot": 1}, "value": [{"bundle_id": a, "status": "Exploded", "landed_slot": None}]}
    with pytest.raises(MalformedResponse):
        parse_response(reply(weird), jito.get_inflight_bundle_statuses([a]))


def test_tip_accounts_are_checked_public_keys() -> None:
    assert parse_response(reply(TIP_ACCOUNTS), jito.get_tip_accounts()) == TIP_ACCOUNTS
    for bad in ([], ["not-a-key"], [1]):
        with pytest.raises(MalformedResponse):
            parse_response(reply(bad), jito.get_tip_accounts())


def test_send_bundle_refusals_are_typed() -> None:
    no_tip = jito.bundle_rejected(
        JsonRpcError(
            -32602, "Bundles must write lock at least one tip account to be eligible for the auction"
        )
    )
    assert type(no_tip) is jito.TipAccountNotLocked and no_tip.code == -32602 and not is_retryable(no_tip)
    other = jito.bundle_rejected(JsonRpcError(-32602, "bundle has 6 transactions"))
    assert type(other) is jito.BundleRejected and isinstance(other, JsonRpcError)
    assert is_retryable(jito.bundle_rejected(JsonRpcError(-32603, "block engine queue full")))


# ---------------------------------------------------------------------------------------------- tip policy


def test_tip_policy_cases() -> None:
    assert tip_lamports("none", 10**9, 1_000, 50_000, 5_000) == 0
    assert tip_lamports("fixed", 10**9, 7_000, 50_000, 5_000) == 7_000
    assert tip_lamports("fixed", -5, 7_000, 7_000, 0) == 7_000
    assert tip_lamports("share", 100_000, 1_000, 50_000, 2_500) == 25_000  # a quarter of the profit
    assert (
        tip_lamports("share", 100_001, 0, 10**9, 3_333) == 33_330
    )  # 100,001 x 0.3333 = 33,330.33, rounded down
    assert tip_lamports("share", 2_000, 1_000, 50_000, 2_500) == 1_000  # raised to the floor
    assert tip_lamports("share", 10**9, 1_000, 50_000, 2_500) == 50_000  # lowered to the cap
    assert tip_lamports("share", -(10**6), 1_000, 50_000, 2_500) == 1_000  # no profit: the floor
    for args in (("auction", 1, 0, 1, 0), ("share", 1, 5, 4, 0), ("share", 1, -1, 4, 0),
                 ("share", 1, 0, 4, 10_001), ("fixed", 1, 0, 4, -1)):  # fmt: skip
        with pytest.raises(ValueError):
            tip_lamports(*args)


@given(
    profit=st.integers(-(10**12), 10**15),
    more=st.integers(0, 10**12),
    floor=st.integers(0, 10**7),
    extra=st.integers(0, 10**9),
    bps=st.integers(0, 10_000),
)
def test_share_tip_is_bounded_monotone_and_never_more_than_its_share(
    profit: int, more: int, floor: int, extra: int, bps: int
) -> None:
    cap = floor + extra
    tip = tip_lamports("share", profit, floor, cap, bps)
    assert floor <= tip <= cap
    assert tip <= tip_lamports("share", profit + more, floor, cap, bps)
    if tip > floor:
        assert tip * 10_000 <= profit * bps  # the share, rounded down


# ---------------------------------------------------------------------------------------------- localnet


@pytest.mark.localnet
async def test_jito_client_on_localnet_block_engine(localnet_factory: Any) -> None:
    net = await localnet_factory(block_engine=True)
    net.pause_clock()
    payer = Keypair()
    net.airdrop(payer.pubkey(), SOL)
    async with jito.JitoClient(net.bundle_url) as client:
        assert await client.get_tip_accounts() == TIP_ACCOUNTS
        bh = net.chain.blockhash
        good = [tx_paying(payer, Keypair().pubkey(), 2_000_000, bh), tx_paying(payer, TIP, 10_000, bh)]
        bid = await client.send_bundle(good)
        assert bid == jito.bundle_id_of(good)
        assert (await client.get_inflight_bundle_statuses([bid])).statuses[0].status == "Pending"
        assert (await client.get_bundle_statuses([bid])).statuses == [None]
        net.advance_slots(1)
        landed = await client.get_inflight_bundle_statuses([bid])
        assert landed.statuses == [jito.InflightStatus(bid, "Landed", net.slot)]
        (status,) = (await client.get_bundle_statuses([bid])).statuses
        sigs = [str(VersionedTransaction.from_bytes(t).signatures[0]) for t in good]
        assert status == jito.BundleStatus(bid, sigs, net.slot, "processed", None)
        assert net.balance(payer.pubkey()) == SOL - 2_000_000 - 10_000 - 2 * 5_000

        before = net.balance(payer.pubkey())
        guard_fails = [tx_paying(payer, TIP, 10_000, bh), tx_paying(payer, Keypair().pubkey(), 10 * SOL, bh)]
        failed = await client.send_bundle(guard_fails)
        net.advance_slots(1)
        assert (await client.get_inflight_bundle_statuses([failed])).statuses[0].status == "Failed"
        assert net.balance(payer.pubkey()) == before

        with pytest.raises(jito.TipAccountNotLocked):
            await client.send_bundle([tx_paying(payer, Keypair().pubkey(), 1_000, bh)])
        with pytest.raises(jito.BundleRejected) as bad_sig:
            tampered = bytearray(tx_paying(payer, TIP, 1_000, bh))
            tampered[5] ^= 1
            await client.send_bundle([bytes(tampered)])
        assert bad_sig.value.code == -32003


@pytest.mark.localnet
async def test_jito_sender_lands_through_any_engine_that_accepts(localnet_factory: Any) -> None:
    net = await localnet_factory(block_engine=True)
    net.pause_clock()
    payer = Keypair()
    net.airdrop(payer.pubkey(), SOL)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{s.getsockname()[1]}/api/v1/bundles"  # closed once the block ends
    live, dead = jito.JitoClient(net.bundle_url), jito.JitoClient(dead_url, timeout_s=2.0)
    try:
        sender = jito.JitoSender([dead, live])
        tx = tx_paying(payer, TIP, 5_000, net.chain.blockhash)
        signature = await sender.send(tx)
        assert signature == str(VersionedTransaction.from_bytes(tx).signatures[0])
        assert sender.bundle_ids[signature] == jito.bundle_id_of([tx])
        net.advance_slots(1)
        assert net.transaction(VersionedTransaction.from_bytes(tx).signatures[0]) is not None
        with pytest.raises(AllEndpointsFailed) as failed:
            await jito.JitoSender([dead]).send(tx_paying(payer, TIP, 6_000, net.chain.blockhash))
        assert isinstance(failed.value.errors[dead_url], TransportError) and is_retryable(failed.value)
    finally:
        await live.close()
        await dead.close()
