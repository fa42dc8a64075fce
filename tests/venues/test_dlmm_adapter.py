"""The Meteora DLMM adapter: `solarb quote` on the official SDK's fixture accounts (dump files and
localnet) against the SDK's own quotes of the same state, refusals in one line, and the watch set the
cache writer follows (pair, reserves, the bin arrays around the active bin). DLMM is quoted only: the
config refuses its pools (tests/foundation/test_venue_registry.py) and its cache rows are never usable."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from solders.pubkey import Pubkey

from bot.cache import CacheWriter
from bot.cli import main
from strategies import layout
from strategies.venues import meteora_dlmm as dlmm
from strategies.venues import registry
from strategies.venues.base import ROLE_TICK_ARRAY, Venue
from strategies.venues.spl import TOKEN_PROGRAM_ID

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
VECTORS = Path(__file__).resolve().parents[2] / "tests" / "data" / "meteora_dlmm_sdk_vectors.json"
PAIR = Pubkey.from_string("9t3EyC9FweyL7PBWvKz3mrXg8B9fwFc9SK3QxM4ENqhd")
SYSVAR_OWNER = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")
NOW = 1_760_000_000  # the clock the SDK quotes were made at (tools/oracles/dlmm_vectors.mjs)
ADAPTER = registry.adapter(Venue.meteora_dlmm)


def _accounts() -> dict[str, bytes]:
    raw = json.loads((FIXTURES / "meteora_dlmm_sdk_fixture_9t3EyC.json").read_text())
    return {k: base64.b64decode(v["data_base64"]) for k, v in raw["accounts"].items()}


def _sdk_quotes() -> list[dict[str, Any]]:
    return json.loads(VECTORS.read_text())["fixtures"]["sdk_9t3EyC_quotes"]  # type: ignore[no-any-return]


def _without_limit_orders(lb_pair: bytes) -> bytes:
    data = bytearray(lb_pair)
    data[35] = dlmm.FUNCTION_LIQUIDITY_MINING  # StaticParameters.function_type, as the SDK run sets it
    return bytes(data)


def _clock(slot: int = 500_000_000, unix: int = NOW) -> bytes:
    return struct.pack("<QqQQq", slot, 0, 800, 801, unix)


def _fixture_accounts(lb_pair: bytes) -> dict[Pubkey, tuple[Pubkey, bytes]]:
    acc = _accounts()
    pair = dlmm.decode_lb_pair(acc["lb_pair.bin"])
    out = {PAIR: (dlmm.DLMM_PROGRAM_ID, lb_pair), pair.token_x_mint: (TOKEN_PROGRAM_ID, acc["token_x_mint.bin"]),
           pair.token_y_mint: (TOKEN_PROGRAM_ID, acc["token_y_mint.bin"]),
           pair.reserve_x: (TOKEN_PROGRAM_ID, acc["reserve_x.bin"]),
           pair.reserve_y: (TOKEN_PROGRAM_ID, acc["reserve_y.bin"])}  # fmt: skip
    for name in ("bin_array_1.bin", "bin_array_2.bin"):
        index = dlmm.decode_bin_array(acc[name]).index
        out[dlmm.bin_array_address(PAIR, index)] = (dlmm.DLMM_PROGRAM_ID, acc[name])
    return out


def _write_dumps(directory: Path, accounts: dict[Pubkey, tuple[Pubkey, bytes]]) -> None:
    for key, (owner, data) in accounts.items():
        account = {"lamports": 1, "data": [base64.b64encode(data).decode(), "base64"], "owner": str(owner)}
        (directory / f"{key}.json").write_text(json.dumps({"pubkey": str(key), "account": account}))


def _run(
    capsys: pytest.CaptureFixture[str], source: list[str], amount: int, a_to_b: bool
) -> tuple[int, str, str]:
    flag = "--a-to-b" if a_to_b else "--b-to-a"
    code = main(["quote", *source, "--pool", str(PAIR), "--amount-in", str(amount), flag])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_quote_from_dumps_equals_the_sdk_on_its_fixture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = _fixture_accounts(_without_limit_orders(_accounts()["lb_pair.bin"]))
    accounts[dlmm.CLOCK_SYSVAR_ID] = (SYSVAR_OWNER, _clock())
    _write_dumps(tmp_path, accounts)
    cases = [q for q in _sdk_quotes() if q["function_type"] == 1 and q["fn"] == "in"]
    assert len(cases) == 4 and {q["swap_for_y"] for q in cases} == {True, False}
    crossed = 0
    for q in cases:
        code, out, err = _run(capsys, ["--accounts", str(tmp_path)], int(q["amount"]), q["swap_for_y"])
        assert code == 0, err
        r = json.loads(out)
        assert (r["amount_in"], r["amount_out"], r["lp_fee"], r["protocol_fee"]) == tuple(
            int(q[k]) for k in ("in", "out", "fee", "protocol_fee"))  # fmt: skip
        assert r["bin_arrays"] == [str(dlmm.bin_array_address(PAIR, i)) for i in q["arrays"]]
        assert r["venue"] == "meteora_dlmm" and r["a_to_b"] is q["swap_for_y"]
        assert (r["active_id_after"] < r["active_id_before"]) is (q["swap_for_y"] and r["bins_crossed"] > 0)
        crossed += r["bins_crossed"] > 0
    assert crossed >= 2  # the big swaps walk across bins (and arrays)


def test_quote_refusals_and_missing_accounts_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = _fixture_accounts(_accounts()["lb_pair.bin"])  # as recorded: limit orders on
    _write_dumps(tmp_path, accounts)
    # The pair activates at a slot: without the Clock sysvar the quote cannot tell whether it is open.
    code, _, err = _run(capsys, ["--accounts", str(tmp_path)], 1_000_000, True)
    assert code != 0 and len(err.strip().splitlines()) == 1 and str(dlmm.CLOCK_SYSVAR_ID) in err, err
    _write_dumps(tmp_path, {dlmm.CLOCK_SYSVAR_ID: (SYSVAR_OWNER, _clock())})
    # The big X->Y swap reaches the bid orders under the active bin: refused with the reason.
    code, _, err = _run(capsys, ["--accounts", str(tmp_path)], 40_000_000_000, True)
    assert code != 0 and len(err.strip().splitlines()) == 1 and "dlmm_limit_order" in err, err
    # Before its activation slot the pair is not open.
    _write_dumps(tmp_path, {dlmm.CLOCK_SYSVAR_ID: (SYSVAR_OWNER, _clock(slot=448_432_754))})
    code, _, err = _run(capsys, ["--accounts", str(tmp_path)], 1_000_000, False)
    assert code != 0 and "not_open_yet" in err, err
    # A bin array the swap walks into but the source does not have is named.
    _write_dumps(tmp_path, {dlmm.CLOCK_SYSVAR_ID: (SYSVAR_OWNER, _clock()),
                            PAIR: (dlmm.DLMM_PROGRAM_ID, _without_limit_orders(_accounts()["lb_pair.bin"]))})  # fmt: skip
    (tmp_path / f"{dlmm.bin_array_address(PAIR, -1)}.json").unlink()
    code, _, err = _run(capsys, ["--accounts", str(tmp_path)], 40_000_000_000, True)
    assert code != 0 and "bin array -1" in err and str(dlmm.bin_array_address(PAIR, -1)) in err, err


@pytest.mark.localnet
async def test_quote_against_localnet(localnet, capsys: pytest.CaptureFixture[str]) -> None:
    lb_pair = bytearray(_without_limit_orders(_accounts()["lb_pair.bin"]))
    struct.pack_into("<Q", lb_pair, 816, 0)  # activation_point: open from slot 0 (localnet's slots are young)
    for key, (owner, data) in _fixture_accounts(bytes(lb_pair)).items():
        localnet.set_account(key, data=data, owner=owner, lamports=10**9)
    await localnet.wait_for_slot(localnet.slot + 2)  # `solarb quote --rpc` reads at "confirmed"
    # The pair's volatility state is all zero, so the fee does not depend on localnet's clock: the SDK's
    # quote of the same state holds.
    (q,) = [q for q in _sdk_quotes() if (q["function_type"], q["fn"], q["swap_for_y"], q["amount"])
            == (1, "in", False, "12345678901")]  # fmt: skip
    code, out, err = await asyncio.to_thread(_run, capsys, ["--rpc", localnet.rpc_url], 12_345_678_901, False)
    assert code == 0, err
    r = json.loads(out)
    assert (r["amount_in"], r["amount_out"], r["lp_fee"]) == (int(q["in"]), int(q["out"]), int(q["fee"]))
    assert r["bin_arrays"] == [str(dlmm.bin_array_address(PAIR, i)) for i in q["arrays"]]


# --- the watch set and the cache ------------------------------------------------------------------


SLOT = 500_000_000  # past the fixture pair's activation slot (448,432,755)


def _loaded_writer(lb_pair: bytes, slot: int = 0) -> tuple[CacheWriter, list[str]]:
    slot = slot or SLOT
    refusals: list[str] = []
    writer = CacheWriter(on_refusal=lambda e, r: refusals.append(r), now_unix=lambda: NOW)
    entry = writer.add_pool(Venue.meteora_dlmm, str(PAIR), str(dlmm.DLMM_PROGRAM_ID))
    accounts = _fixture_accounts(lb_pair)
    writer.apply(entry.pool_key, slot, lb_pair, str(dlmm.DLMM_PROGRAM_ID), 0)
    writer.retarget_tick_arrays(entry)
    for key in writer.dependencies(entry):
        owner, data = accounts[Pubkey.from_string(writer.watched[key].pubkey)]
        writer.apply(key, slot, data, str(owner), 0)
    writer.attach(layout.allocate(1, 2), {str(entry.mint_a): 0, str(entry.mint_b): 1})
    return writer, refusals


def test_the_watch_set_follows_the_active_bin_and_the_row_is_never_usable() -> None:
    lb_pair = _accounts()["lb_pair.bin"]
    writer, refusals = _loaded_writer(lb_pair)
    entry = writer.pools[0]
    pair = dlmm.decode_lb_pair(lb_pair)
    assert writer.follows_price(entry)
    assert sorted(entry.tick_keys) == dlmm.watch_bin_array_indexes(pair, None) == [-1, 0]
    arrays = [writer.watched[k].value for k in entry.tick_keys.values()]
    assert all(isinstance(a, dlmm.BinArray) and a.lb_pair == PAIR for a in arrays)
    assert (
        writer.watched[entry.vault_a_key].value
        == struct.unpack_from("<Q", _accounts()["reserve_x.bin"], 64)[0]
    )
    assert writer.arrays is not None and not layout.is_usable(writer.arrays, 0) and refusals == []
    # The active bin moves two arrays up: the watch set moves with it (the bitmap marks arrays 1 and 2).
    # The active bin moves two arrays up (the bitmap now marks arrays 1 and 2 too): the watch set follows.
    moved = bytearray(lb_pair)
    struct.pack_into("<i", moved, 76, 2 * dlmm.MAX_BIN_PER_ARRAY + 5)
    bitmap = int.from_bytes(moved[584:712], "little") | (1 << (512 + 1)) | (1 << (512 + 2))
    moved[584:712] = bitmap.to_bytes(128, "little")
    writer.apply(entry.pool_key, SLOT + 1, bytes(moved), str(dlmm.DLMM_PROGRAM_ID), 0)
    add, drop = writer.retarget_tick_arrays(entry)
    # Three arrays with liquidity per side from the active one: 2, 1, 0 downwards, 2 upwards; -1 is dropped.
    assert sorted(entry.tick_keys) == [0, 1, 2] and len(add) == 2 and len(drop) == 1
    assert all(writer.watched[k].role == ROLE_TICK_ARRAY for k in add)
    # A disabled pair is refused with the reason.
    disabled = bytearray(lb_pair)
    disabled[82] = 1  # status
    writer.apply(entry.pool_key, SLOT + 2, bytes(disabled), str(dlmm.DLMM_PROGRAM_ID), 0)
    assert refusals == ["SWAP_DISABLED"]
    # Before its activation slot (the pool rows are written at their accounts' slot) it is not open.
    writer.apply(entry.pool_key, SLOT + 3, lb_pair, str(dlmm.DLMM_PROGRAM_ID), 0)
    assert refusals == ["SWAP_DISABLED"]
    _, early_refusals = _loaded_writer(lb_pair, slot=448_432_000)
    assert early_refusals == ["NOT_OPEN_YET"]


def test_exact_quotes_on_the_callers_state_and_no_swap_leg() -> None:
    acc = _accounts()
    pair = dlmm.decode_lb_pair(_without_limit_orders(acc["lb_pair.bin"]))
    arrays = {
        a.index: a for a in (dlmm.decode_bin_array(acc[k]) for k in ("bin_array_1.bin", "bin_array_2.bin"))
    }
    state = dlmm.ExactState(pair, arrays, None, NOW)
    cache = layout.allocate(1, 2)
    for q in (q for q in _sdk_quotes() if q["function_type"] == 1):
        if q["fn"] == "in":
            out, crossed = ADAPTER.quote_in(cache, 0, q["swap_for_y"], int(q["amount"]), state)
            assert out == int(q["out"]) and crossed >= 0
        else:
            assert ADAPTER.quote_out(cache, 0, q["swap_for_y"], int(q["amount"]), state) == int(q["in"])
    with pytest.raises(NotImplementedError, match="not traded yet"):
        ADAPTER.swap_leg(pair, PAIR, dlmm.DLMM_PROGRAM_ID, PAIR, PAIR, PAIR, True, {})
    assert ADAPTER.executable is not None and not ADAPTER.priced and not ADAPTER.cache_exact
