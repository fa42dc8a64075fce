"""Pure request builders byte-for-byte, and response parsing including typed errors."""

from __future__ import annotations

import base64

import orjson
import pytest

from rpc import errors
from rpc import requests as rq


def test_get_multiple_accounts_body_is_exact() -> None:
    call = rq.get_multiple_accounts(
        ["A1", "B2"], commitment="confirmed", data_slice=(8, 32), min_context_slot=77
    )
    assert call.encode(5) == (
        b'{"jsonrpc":"2.0","id":5,"method":"getMultipleAccounts","params":[["A1","B2"],'
        b'{"encoding":"base64","commitment":"confirmed","dataSlice":{"offset":8,"length":32},'
        b'"minContextSlot":77}]}'
    )


def test_optional_fields_are_omitted() -> None:
    assert rq.get_account_info("K").encode(1) == (
        b'{"jsonrpc":"2.0","id":1,"method":"getAccountInfo","params":["K",{"encoding":"base64"}]}'
    )
    assert rq.get_slot().encode(2) == b'{"jsonrpc":"2.0","id":2,"method":"getSlot","params":[]}'
    assert rq.get_health().encode(3) == b'{"jsonrpc":"2.0","id":3,"method":"getHealth","params":[]}'
    assert rq.get_recent_prioritization_fees().encode(4) == (
        b'{"jsonrpc":"2.0","id":4,"method":"getRecentPrioritizationFees","params":[]}'
    )


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            rq.get_latest_blockhash(commitment="finalized", min_context_slot=9),
            b'"getLatestBlockhash","params":[{"commitment":"finalized","minContextSlot":9}]',
        ),
        (rq.get_slot(commitment="processed"), b'"getSlot","params":[{"commitment":"processed"}]'),
        (
            rq.get_block_height(commitment="confirmed"),
            b'"getBlockHeight","params":[{"commitment":"confirmed"}]',
        ),
        (rq.get_epoch_info(), b'"getEpochInfo","params":[]'),
        (
            rq.get_balance("W", commitment="confirmed"),
            b'"getBalance","params":["W",{"commitment":"confirmed"}]',
        ),
        (rq.get_token_account_balance("T"), b'"getTokenAccountBalance","params":["T"]'),
        (
            rq.get_program_accounts(
                "P",
                filters=[rq.data_size_filter(165), rq.memcmp_filter(32, "3Mc6vR")],
                commitment="confirmed",
            ),
            b'"getProgramAccounts","params":["P",{"encoding":"base64","commitment":"confirmed",'
            b'"filters":[{"dataSize":165},{"memcmp":{"offset":32,"bytes":"3Mc6vR"}}]}]',
        ),
        (
            rq.send_transaction(b"\x01\x02\x03", max_retries=0, preflight_commitment="processed"),
            b'"sendTransaction","params":["AQID",{"encoding":"base64","skipPreflight":true,'
            b'"maxRetries":0,"preflightCommitment":"processed"}]',
        ),
        (
            rq.simulate_transaction(
                b"\xff",
                sig_verify=True,
                replace_recent_blockhash=False,
                accounts=["X"],
                commitment="processed",
            ),
            b'"simulateTransaction","params":["/w==",{"encoding":"base64","sigVerify":true,'
            b'"replaceRecentBlockhash":false,"commitment":"processed",'
            b'"accounts":{"encoding":"base64","addresses":["X"]}}]',
        ),
        (
            rq.get_signature_statuses(["s1", "s2"], search_transaction_history=True),
            b'"getSignatureStatuses","params":[["s1","s2"],{"searchTransactionHistory":true}]',
        ),
        (rq.get_signature_statuses(["s1"]), b'"getSignatureStatuses","params":[["s1"]]'),
        (
            rq.get_transaction("sig", commitment="confirmed"),
            b'"getTransaction","params":["sig",{"encoding":"base64","commitment":"confirmed",'
            b'"maxSupportedTransactionVersion":0}]',
        ),
        (
            rq.get_recent_prioritization_fees(["a", "b"]),
            b'"getRecentPrioritizationFees","params":[["a","b"]]',
        ),
        (
            rq.get_minimum_balance_for_rent_exemption(165),
            b'"getMinimumBalanceForRentExemption","params":[165]',
        ),
        (
            rq.request_airdrop("W", 10**18, commitment="confirmed"),
            b'"requestAirdrop","params":["W",1000000000000000000,{"commitment":"confirmed"}]',
        ),
    ],
)
def test_builders_byte_for_byte(call: rq.Call[object], expected: bytes) -> None:
    assert call.encode(11) == b'{"jsonrpc":"2.0","id":11,"method":' + expected + b"}"


def test_batch_body() -> None:
    bodies = [rq.get_slot().encode(1), rq.get_health().encode(2)]
    assert rq.build_batch(bodies) == b"[" + bodies[0] + b"," + bodies[1] + b"]"


def _ok(result: bytes, req_id: int = 1) -> bytes:
    return b'{"jsonrpc":"2.0","result":' + result + b',"id":%d}' % req_id


def _account_json(data: bytes, lamports: int = 5, owner: str = "Own") -> bytes:
    b64 = base64.b64encode(data)
    return (
        b'{"data":["' + b64 + b'","base64"],"executable":false,"lamports":%d,"owner":"%s",'
        b'"rentEpoch":18446744073709551615,"space":%d}' % (lamports, owner.encode(), len(data))
    )


def test_parse_multiple_accounts_decodes_data_to_bytes() -> None:
    body = _ok(
        b'{"context":{"apiVersion":"2.1.0","slot":321},"value":['
        + _account_json(b"\x00\x01pool-state")
        + b",null]}"
    )
    got = rq.parse_response(body, rq.get_multiple_accounts(["a", "b"]), 1)
    assert got.slot == 321
    first = got.accounts[0]
    assert first is not None and first.data == b"\x00\x01pool-state"
    assert first.lamports == 5 and first.owner == "Own" and first.rent_epoch == 2**64 - 1
    assert got.accounts[1] is None


def test_parse_scalars_and_structs() -> None:
    assert rq.parse_response(_ok(b"4242"), rq.get_slot()) == 4242
    assert rq.parse_response(_ok(b'"ok"'), rq.get_health()) == "ok"
    bh = rq.parse_response(
        _ok(b'{"context":{"slot":9},"value":{"blockhash":"HASH","lastValidBlockHeight":159}}'),
        rq.get_latest_blockhash(),
    )
    assert (bh.slot, bh.blockhash, bh.last_valid_block_height) == (9, "HASH", 159)
    tb = rq.parse_response(
        _ok(
            b'{"context":{"slot":3},"value":{"amount":"18446744073709551615","decimals":6,'
            b'"uiAmount":1.8e13,"uiAmountString":"x"}}'
        ),
        rq.get_token_account_balance("T"),
    )
    assert tb.amount == 2**64 - 1 and tb.decimals == 6
    st = rq.parse_response(
        _ok(
            b'{"context":{"slot":8},"value":[{"slot":7,"confirmations":null,"err":null,'
            b'"status":{"Ok":null},"confirmationStatus":"finalized"},null]}'
        ),
        rq.get_signature_statuses(["a", "b"]),
    )
    assert st.statuses[0] == rq.SignatureStatus(7, None, None, "finalized") and st.statuses[1] is None
    sim = rq.parse_response(
        _ok(
            b'{"context":{"slot":2},"value":{"err":{"InstructionError":[0,{"Custom":1}]},'
            b'"logs":["Program x invoke [1]"],"unitsConsumed":1234,"accounts":null,'
            b'"returnData":{"programId":"P","data":["AQI=","base64"]}}}'
        ),
        rq.simulate_transaction(b"tx"),
    )
    assert sim.err == {"InstructionError": [0, {"Custom": 1}]}
    assert sim.units_consumed == 1234 and sim.logs == ["Program x invoke [1]"]
    assert sim.return_data == b"\x01\x02" and sim.return_program_id == "P"
    assert rq.parse_response(_ok(b"null"), rq.get_transaction("s")) is None
    fees = rq.parse_response(
        _ok(b'[{"slot":1,"prioritizationFee":0},{"slot":2,"prioritizationFee":50}]'),
        rq.get_recent_prioritization_fees(),
    )
    assert [f.prioritization_fee for f in fees] == [0, 50]


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        (
            b'{"code":-32002,"message":"Transaction simulation failed: Blockhash not found",'
            b'"data":{"err":"BlockhashNotFound","logs":[],"unitsConsumed":0}}',
            errors.BlockhashNotFound,
        ),
        (
            b'{"code":-32002,"message":"Transaction simulation failed: Error processing Instruction 0",'
            b'"data":{"err":{"InstructionError":[0,{"Custom":6001}]},"logs":["a","b"],"unitsConsumed":4000}}',
            errors.PreflightFailed,
        ),
        (
            b'{"code":-32003,"message":"Transaction signature verification failure"}',
            errors.SignatureVerifyFailed,
        ),
        (
            b'{"code":-32005,"message":"Node is behind by 42 slots","data":{"numSlotsBehind":42}}',
            errors.NodeBehind,
        ),
        (
            b'{"code":-32005,"message":"Node is unhealthy","data":{"numSlotsBehind":null}}',
            errors.NodeUnhealthy,
        ),
        (b'{"code":-32602,"message":"Invalid params: invalid type"}', errors.InvalidParams),
        (b'{"code":-32601,"message":"Method not found"}', errors.MethodNotFound),
        (
            b'{"code":-32016,"message":"Minimum context slot has not been reached","data":{"contextSlot":5}}',
            errors.MinContextSlotNotReached,
        ),
        (b'{"code":-32099,"message":"custom"}', errors.JsonRpcError),
    ],
)
def test_error_objects_map_to_typed_errors(error: bytes, cls: type[errors.JsonRpcError]) -> None:
    body = b'{"jsonrpc":"2.0","error":' + error + b',"id":1}'
    with pytest.raises(errors.JsonRpcError) as info:
        rq.parse_response(body, rq.get_slot(), 1)
    assert type(info.value) is cls


def test_error_variants_carry_data() -> None:
    body = (
        b'{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"sim failed","data":'
        b'{"err":{"InstructionError":[1,{"Custom":6001}]},"logs":["l1","l2"],"unitsConsumed":4000}}}'
    )
    with pytest.raises(errors.PreflightFailed) as info:
        rq.parse_response(body, rq.send_transaction(b"x"), 1)
    assert info.value.logs == ["l1", "l2"] and info.value.units_consumed == 4000
    assert info.value.err == {"InstructionError": [1, {"Custom": 6001}]}
    assert not errors.is_retryable(info.value)
    body = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"behind","data":{"numSlotsBehind":42}}}'
    with pytest.raises(errors.NodeBehind) as behind:
        rq.parse_response(body, rq.get_health(), 1)
    assert behind.value.slots_behind == 42 and errors.is_retryable(behind.value)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>502 Bad Gateway</html>",
        b'{"jsonrpc":"2.0","id":1}',
        b'{"jsonrpc":"2.0","result":"not-an-int","id":1}',
        b'{"jsonrpc":"2.0","result":{"context":{"slot":1},"value":[{"data":["!!!","base64"],'
        b'"executable":false,"lamports":1,"owner":"o","rentEpoch":0}]},"id":1}',
        b'{"jsonrpc":"2.0","result":{"context":{"slot":1},"value":[{"data":["AA==","base58"],'
        b'"executable":false,"lamports":1,"owner":"o","rentEpoch":0}]},"id":1}',
        b'{"jsonrpc":"2.0","result":5,"id":2}',
    ],
)
def test_malformed_responses_raise_typed(body: bytes) -> None:
    call = rq.get_multiple_accounts(["a"]) if b"context" in body else rq.get_slot()
    with pytest.raises(errors.MalformedResponse):
        rq.parse_response(body, call, 1)


def test_parse_batch_matches_ids_and_keeps_per_call_errors() -> None:
    calls = [(10, rq.get_slot()), (11, rq.get_health()), (12, rq.get_block_height())]
    body = (
        b'[{"jsonrpc":"2.0","result":"ok","id":11},{"jsonrpc":"2.0","result":99,"id":10},'
        b'{"jsonrpc":"2.0","error":{"code":-32005,"message":"unhealthy"},"id":12}]'
    )
    got = rq.parse_batch(body, calls)
    assert got[0] == 99 and got[1] == "ok" and isinstance(got[2], errors.NodeUnhealthy)
    missing = rq.parse_batch(b"[]", calls[:1])
    assert isinstance(missing[0], errors.MalformedResponse)
    with pytest.raises(errors.JsonRpcError):
        rq.parse_batch(
            b'{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid request"},"id":null}', calls
        )


def test_transaction_token_balances():
    body = (
        b'{"slot":9,"blockTime":null,"transaction":["AQI=","base64"],"meta":{"err":null,"fee":5000,'
        b'"preBalances":[10,2],"postBalances":[5,2],"preTokenBalances":[{"accountIndex":1,"mint":"M",'
        b'"owner":"O","uiTokenAmount":{"amount":"100","decimals":6}}],"postTokenBalances":[{"accountIndex":1,'
        b'"mint":"M","owner":"O","uiTokenAmount":{"amount":"250","decimals":6}},{"accountIndex":3,"mint":"N",'
        b'"uiTokenAmount":{"amount":"7","decimals":0}}],"logMessages":[],"computeUnitsConsumed":10}}'
    )
    rec = rq.parse_response(_ok(body), rq.get_transaction("s"))
    assert rec.token_delta(1) == 150 and rec.token_delta(3) == 7 and rec.token_delta(0) == 0
    assert rec.post_token_balances[1].owner is None
    bad = body.replace(b'"amount":"250"', b'"amount":"2.5"')
    with pytest.raises(errors.MalformedResponse):
        rq.parse_response(_ok(bad), rq.get_transaction("s"))


def test_send_template_matches_the_builder_byte_for_byte() -> None:
    tx = bytes([1]) + bytes(range(64)) + b"\xff\xfe message" * 30
    tmpl = rq.SendTemplate()
    assert tmpl.body(tx, 7) == rq.send_transaction(tx, skip_preflight=True, max_retries=0).encode(7)
    assert b'"skipPreflight":true,"maxRetries":0' in tmpl.body(tx, 7)
    other = rq.SendTemplate(skip_preflight=False, max_retries=None, preflight_commitment="processed")
    assert other.body(tx, 2**40) == rq.send_transaction(
        tx, skip_preflight=False, preflight_commitment="processed"
    ).encode(2**40)
    assert orjson.loads(tmpl.body(tx, 1))["params"][0] == base64.b64encode(tx).decode()
    assert tmpl.parse(b'{"jsonrpc":"2.0","result":"5ig","id":3}', 3) == "5ig"
    with pytest.raises(errors.MalformedResponse):
        tmpl.parse(b'{"jsonrpc":"2.0","result":"5ig","id":4}', 3)
