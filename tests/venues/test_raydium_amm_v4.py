"""Raydium AMM v4: AmmInfo decoding at the documented offsets, exact quotes, status table, builders."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.pubkey import Pubkey

from strategies.venues import raydium_amm_v4 as amm
from strategies.venues.errors import (
    AmountCalcOverflow,
    DecodeError,
    InsufficientLiquidity,
    InvalidInput,
    RefusalReason,
    Unmodelled,
    ZeroTradableAmount,
)

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
U64 = (1 << 64) - 1

# protocols.md §1.2 offsets of the u64 fields (and the pubkeys below), written one by one.
U64_OFFSETS = {
    "status": 0, "nonce": 8, "order_num": 16, "depth": 24, "coin_decimals": 32, "pc_decimals": 40,
    "state": 48, "reset_flag": 56, "min_size": 64, "vol_max_cut_ratio": 72, "amount_wave": 80,
    "coin_lot_size": 88, "pc_lot_size": 96, "min_price_multiplier": 104, "max_price_multiplier": 112,
    "sys_decimal_value": 120, "min_separate_numerator": 128, "min_separate_denominator": 136,
    "trade_fee_numerator": 144, "trade_fee_denominator": 152, "pnl_numerator": 160, "pnl_denominator": 168,
    "swap_fee_numerator": 176, "swap_fee_denominator": 184, "need_take_pnl_coin": 192,
    "need_take_pnl_pc": 200, "total_pnl_pc": 208, "total_pnl_coin": 216, "pool_open_time": 224,
    "orderbook_to_init_time": 248, "swap_acc_pc_fee": 288, "swap_acc_coin_fee": 328,
    "lp_amount": 720, "client_order_id": 728, "recent_epoch": 736,
}  # fmt: skip
KEY_OFFSETS = {
    "coin_vault": 336, "pc_vault": 368, "coin_vault_mint": 400, "pc_vault_mint": 432, "lp_mint": 464,
    "open_orders": 496, "market": 528, "market_program": 560, "target_orders": 592, "amm_owner": 688,
}  # fmt: skip


def _amm_bytes(**overrides: int) -> tuple[bytes, dict[str, object]]:
    values: dict[str, object] = {name: 1_000 + i for i, name in enumerate(U64_OFFSETS)}
    values.update(status=6, nonce=254, coin_decimals=9, pc_decimals=6, swap_fee_numerator=25)
    values.update(swap_fee_denominator=10_000, need_take_pnl_coin=11, need_take_pnl_pc=22)
    values.update(overrides)
    buf = bytearray(os.urandom(amm.AMM_INFO_SIZE))  # padding and deprecated fields: anything
    for name, off in U64_OFFSETS.items():
        buf[off : off + 8] = int(values[name]).to_bytes(8, "little")  # type: ignore[call-overload]
    for name, off in KEY_OFFSETS.items():
        key = Pubkey.new_unique()
        values[name] = key
        buf[off : off + 32] = bytes(key)
    return bytes(buf), values


def test_decode_reads_every_documented_offset() -> None:
    data, values = _amm_bytes()
    info = amm.decode_amm_info(data, amm.PROGRAM_ID)
    for name, value in values.items():
        assert getattr(info, name) == value, name
    assert info.status is amm.AmmStatus.SWAP_ONLY


@pytest.mark.parametrize(
    ("data_fn", "owner", "match"),
    [
        (lambda d: d[:-1], amm.PROGRAM_ID, "751 bytes"),
        (lambda d: d + b"\x00", amm.PROGRAM_ID, "753 bytes"),
        (lambda d: d, Pubkey.default(), "owner"),
        (lambda d: (8).to_bytes(8, "little") + d[8:], amm.PROGRAM_ID, "status"),
        (lambda d: d[:176] + (10_000).to_bytes(8, "little") + d[184:], amm.PROGRAM_ID, "swap fee"),
    ],
)
def test_bad_amm_bytes_raise_decode_error(data_fn, owner: Pubkey, match: str) -> None:
    data, _ = _amm_bytes()
    with pytest.raises(DecodeError, match=match):
        amm.decode_amm_info(data_fn(data), owner)


def test_reserves_subtract_need_take_pnl() -> None:
    info = amm.decode_amm_info(_amm_bytes()[0], amm.PROGRAM_ID)
    assert amm.reserves(info, 1_000, 2_000) == (1_000 - 11, 2_000 - 22)
    with pytest.raises(InsufficientLiquidity):
        amm.reserves(info, 10, 2_000)


def test_authority_pda_for_the_usual_nonce() -> None:
    assert amm.authority_pda(254) == Pubkey.from_string("5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1")
    with pytest.raises(InvalidInput):
        amm.authority_pda(256)


# --- quotes ---------------------------------------------------------------------------------------


def _golden() -> dict:
    return json.loads((FIXTURES / "derived_golden_vectors.json").read_text())["raydium_amm_v4"]


def test_derived_golden_vectors() -> None:
    g = _golden()
    args = (g["reserve_in"], g["reserve_out"], g["fee_num"], g["fee_den"])
    for case in g["base_in"]:
        if case["amount_out"] == 0:  # the program rejects a zero output (InvalidInput)
            with pytest.raises(ZeroTradableAmount):
                amm.swap_base_in(case["amount_in"], *args)
            continue
        assert amm.swap_base_in(case["amount_in"], *args) == amm.AmmSwap(
            case["amount_in"], case["amount_out"], case["fee"]
        )
    for case in g["base_out"]:
        swap = amm.swap_base_out(case["amount_out"], *args)
        assert (swap.amount_in, swap.amount_in - swap.fee) == (case["amount_in"], case["pre_fee_in"])


def test_worked_example_of_protocols_md() -> None:
    swap = amm.swap_base_in(1_000_000_000, 100_000_000_000_000, 15_000_000_000_000, 25, 10_000)
    assert (swap.fee, swap.amount_out) == (2_500_000, 149_623_507)
    back = amm.swap_base_out(149_251_870, 100_000_000_000_000, 15_000_000_000_000, 25, 10_000)
    assert (back.amount_in - back.fee, back.amount_in) == (995_022_368, 997_516_159)


def test_edge_cases() -> None:
    # 1 unit: the ceil fee takes it (current ceil-div; builds before 2025-08-26 charged 0 below 200).
    with pytest.raises(ZeroTradableAmount):
        amm.swap_base_in(1, 10**6, 10**6, 25, 10_000)
    assert amm.swap_base_in(1, 1, 1_000, 0, 10_000) == amm.AmmSwap(1, 500, 0)  # zero fee
    assert amm.swap_base_out(1, 1, 1_000, 0, 10_000).amount_in == 1
    with pytest.raises(ZeroTradableAmount):
        amm.swap_base_in(0, 10, 10, 25, 10_000)
    with pytest.raises(ZeroTradableAmount):
        amm.swap_base_out(0, 10, 10, 25, 10_000)
    with pytest.raises(InsufficientLiquidity):
        amm.swap_base_out(10, 10, 10, 25, 10_000)
    with pytest.raises(InvalidInput):
        amm.swap_base_in(10, 10, 10, 10_000, 10_000)
    big = U64 - 5
    assert amm.swap_base_in(4, big - 4, big, 0, 10_000).amount_out == 4 * big // big
    with pytest.raises(AmountCalcOverflow):
        amm.swap_base_in(6, big, big, 0, 10_000)
    with pytest.raises(AmountCalcOverflow):
        amm.swap_base_out(big - 1, U64 // 2, big, 25, 10_000)


reserve = st.integers(min_value=1, max_value=U64 // 2)


@settings(max_examples=400, deadline=None)
@given(reserve, reserve, st.integers(min_value=1, max_value=U64 // 4), st.integers(0, 9_999))
def test_exact_out_input_buys_at_least_the_output(r_in: int, r_out: int, out: int, num: int) -> None:
    try:
        swap = amm.swap_base_out(out % r_out or 1, r_in, r_out, num, 10_000)
    except (InsufficientLiquidity, AmountCalcOverflow):
        return
    back = amm.swap_base_in(swap.amount_in, r_in, r_out, num, 10_000)
    assert back.amount_out >= swap.amount_out
    assert (r_in + swap.amount_in - swap.fee) * (r_out - swap.amount_out) >= r_in * r_out


# --- status table ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "now", "reason"),
    [
        (0, 2_000, RefusalReason.SWAP_DISABLED),
        (1, 2_000, RefusalReason.AMM_ORDERBOOK_STATUS),  # order-book enabled: reserves not modelled
        (2, 2_000, RefusalReason.SWAP_DISABLED),
        (3, 2_000, RefusalReason.SWAP_DISABLED),
        (4, 2_000, RefusalReason.SWAP_DISABLED),
        (5, 2_000, RefusalReason.SWAP_DISABLED),
        (6, 2_000, None),
        (6, 0, None),  # SwapOnly does not look at the open time
        (7, 1_999, RefusalReason.NOT_OPEN_YET),
        (7, 2_000, None),
    ],
)
def test_status_table(status: int, now: int, reason: RefusalReason | None) -> None:
    info = amm.decode_amm_info(_amm_bytes(status=status, pool_open_time=2_000)[0], amm.PROGRAM_ID)
    if reason is None:
        amm.check_tradable(info, now)
        return
    with pytest.raises(Unmodelled) as err:
        amm.check_tradable(info, now)
    assert err.value.reason is reason


# --- builders -------------------------------------------------------------------------------------


def _users() -> tuple[Pubkey, Pubkey, Pubkey]:
    return Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()


def test_v2_builders_use_the_8_account_list() -> None:
    info = amm.decode_amm_info(_amm_bytes()[0], amm.PROGRAM_ID)
    pool = Pubkey.new_unique()
    src, dst, owner = _users()
    table = [  # protocols.md §1.5 "newer short list": (account, writable, signer)
        (amm.TOKEN_PROGRAM_ID, False, False),
        (pool, True, False),
        (Pubkey.from_string("5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1"), False, False),
        (info.coin_vault, True, False),
        (info.pc_vault, True, False),
        (src, True, False),
        (dst, True, False),
        (owner, False, True),
    ]
    users = dict(pool_address=pool, info=info, user_source=src, user_destination=dst, user_owner=owner)
    ix_in = amm.build_swap_base_in_ix(**users, amount_in=5, min_out=3)
    ix_out = amm.build_swap_base_out_ix(**users, max_in=9, amount_out=4)
    for ix, tag, args in ((ix_in, 16, (5, 3)), (ix_out, 17, (9, 4))):
        assert ix.program_id == amm.PROGRAM_ID
        assert [(m.pubkey, m.is_writable, m.is_signer) for m in ix.accounts] == table
        assert len(ix.data) == amm.SWAP_DATA_SIZE == 17 and ix.data[0] == tag
        assert struct.unpack_from("<Q", ix.data, amm.SWAP_ARG0_OFFSET)[0] == args[0]
        assert struct.unpack_from("<Q", ix.data, amm.SWAP_ARG1_OFFSET)[0] == args[1]


@pytest.mark.parametrize("with_target_orders", [False, True])
def test_legacy_builders_use_the_market_account_list(with_target_orders: bool) -> None:
    info = amm.decode_amm_info(_amm_bytes()[0], amm.PROGRAM_ID)
    pool = Pubkey.new_unique()
    src, dst, owner = _users()
    market = amm.MarketAccounts(*(Pubkey.new_unique() for _ in range(8)))
    table = [  # protocols.md §1.5 legacy list
        (amm.TOKEN_PROGRAM_ID, False, False),
        (pool, True, False),
        (amm.authority_pda(254), False, False),
        (info.open_orders, True, False),
        *([(info.target_orders, True, False)] if with_target_orders else []),
        (info.coin_vault, True, False),
        (info.pc_vault, True, False),
        (market.market_program, False, False),
        (market.market, True, False),
        (market.bids, True, False),
        (market.asks, True, False),
        (market.event_queue, True, False),
        (market.coin_vault, True, False),
        (market.pc_vault, True, False),
        (market.vault_signer, False, False),
        (src, True, False),
        (dst, True, False),
        (owner, False, True),
    ]
    assert len(table) == (18 if with_target_orders else 17)
    common = dict(
        pool_address=pool, info=info, user_source=src, user_destination=dst, user_owner=owner,
        market=market, with_target_orders=with_target_orders,
    )  # fmt: skip
    ix_in = amm.build_swap_base_in_ix(**common, amount_in=U64, min_out=0)
    ix_out = amm.build_swap_base_out_ix(**common, max_in=7, amount_out=6)
    assert ix_in.data == bytes([9]) + U64.to_bytes(8, "little") + bytes(8)
    assert ix_out.data == bytes([11]) + (7).to_bytes(8, "little") + (6).to_bytes(8, "little")
    for ix in (ix_in, ix_out):
        assert [(m.pubkey, m.is_writable, m.is_signer) for m in ix.accounts] == table


def test_encode_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidInput):
        amm.encode_swap_data(10, 1, 1)
    with pytest.raises(InvalidInput):
        amm.encode_swap_data(16, U64 + 1, 1)


def test_hot_path_pnl_owed_equals_the_full_decode() -> None:
    for _ in range(20):
        data, values = _amm_bytes(need_take_pnl_coin=int.from_bytes(os.urandom(8), "little"))
        assert amm.pnl_owed(data) == (values["need_take_pnl_coin"], values["need_take_pnl_pc"])
