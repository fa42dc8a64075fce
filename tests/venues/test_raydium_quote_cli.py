"""`solarb quote --accounts DIR` for Raydium CPMM (real pool dump + synthetic config/vaults/mints) and
AMM v4 (synthetic pool), plus the Token-2022 refusals of `raydium_cpmm.check_tradable`."""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from bot.cli import main
from strategies.venues import raydium_amm_v4 as amm
from strategies.venues import raydium_cpmm as cpmm
from strategies.venues import spl
from strategies.venues.errors import RefusalReason, Unmodelled

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
TOKEN = spl.TOKEN_PROGRAM_ID
TOKEN_2022 = cpmm.TOKEN_2022_PROGRAM_ID


def _dump(directory: Path, pubkey: Pubkey, owner: Pubkey, data: bytes) -> None:
    account = {"lamports": 1, "data": [base64.b64encode(data).decode(), "base64"], "owner": str(owner)}
    (directory / f"{pubkey}.json").write_text(json.dumps({"pubkey": str(pubkey), "account": account}))


def _token_account(mint: Pubkey, amount: int) -> bytes:
    # SPL token account: mint, owner, amount, delegate COption, state=1, is_native, delegated, close auth.
    body = bytes(mint) + bytes(Pubkey.new_unique()) + struct.pack("<Q", amount) + bytes(36) + b"\x01"
    return body + bytes(165 - len(body))


def _mint(decimals: int, extensions: bytes = b"") -> bytes:
    base = struct.pack("<I32sQBB", 0, bytes(32), 10**15, decimals, 1) + bytes(36)
    assert len(base) == 82
    if not extensions:
        return base
    return base + bytes(165 - 82) + b"\x01" + extensions


def _run_quote(
    capsys: pytest.CaptureFixture[str], directory: Path, pool: Pubkey, amount: int, *flags: str
) -> dict:
    code = main(
        ["quote", "--accounts", str(directory), "--pool", str(pool), "--amount-in", str(amount), *flags]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_cpmm_quote_from_dumps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fx = json.loads((FIXTURES / "ipv4sq_raydium_cpmm_pool_Q2sPH.json").read_text())
    address = Pubkey.from_string(fx["pool_address"])
    data = base64.b64decode(fx["account_data_base64"])
    pool = cpmm.decode_pool(data, cpmm.PROGRAM_ID)
    _dump(tmp_path, address, cpmm.PROGRAM_ID, data)
    config = bytearray(cpmm.CONFIG_SIZE)
    config[0:8] = cpmm.CONFIG_DISCRIMINATOR
    config[12:36] = struct.pack("<QQQ", 2500, 120_000, 40_000)
    _dump(tmp_path, pool.amm_config, cpmm.PROGRAM_ID, bytes(config))
    vault0, vault1 = 900_000_000_000, 130_000_000_000
    _dump(tmp_path, pool.token_0_vault, TOKEN, _token_account(pool.token_0_mint, vault0))
    _dump(tmp_path, pool.token_1_vault, TOKEN, _token_account(pool.token_1_mint, vault1))
    _dump(tmp_path, pool.token_0_mint, TOKEN, _mint(9))
    _dump(tmp_path, pool.token_1_mint, TOKEN, _mint(6))

    r0 = vault0 - 484_814_504 - 123_593_244
    r1 = vault1 - 286_186_090 - 78_871_511
    q = _run_quote(capsys, tmp_path, address, 1_000_000_000)
    expected = cpmm.swap_base_input(1_000_000_000, r0, r1, 2500, 120_000, 40_000)
    assert (q["venue"], q["amount_out"], q["fee"]) == (
        "raydium_cpmm",
        expected.amount_out,
        expected.trade_fee,
    )
    assert q["reserves_before"] == [r0, r1]
    assert q["price_before"] == pytest.approx((r1 / 1e6) / (r0 / 1e9))
    assert q["price_after"] < q["price_before"]  # selling token A lowers its price
    q = _run_quote(capsys, tmp_path, address, 5_000_000, "--b-to-a")
    assert q["amount_out"] == cpmm.swap_base_input(5_000_000, r1, r0, 2500, 120_000, 40_000).amount_out
    assert q["price_after"] > q["price_before"]


def test_amm_v4_quote_from_dumps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    coin_mint, pc_mint = Pubkey.new_unique(), Pubkey.new_unique()
    coin_vault, pc_vault = Pubkey.new_unique(), Pubkey.new_unique()
    info = bytearray(amm.AMM_INFO_SIZE)
    struct.pack_into("<QQ", info, 0, 6, 254)  # SwapOnly, nonce
    struct.pack_into("<QQ", info, 32, 9, 6)  # decimals
    struct.pack_into("<QQQQ", info, 176, 25, 10_000, 1_000, 2_000)  # swap fee, need_take_pnl
    for off, key in ((336, coin_vault), (368, pc_vault), (400, coin_mint), (432, pc_mint)):
        info[off : off + 32] = bytes(key)
    address = Pubkey.new_unique()
    _dump(tmp_path, address, amm.PROGRAM_ID, bytes(info))
    _dump(tmp_path, coin_vault, TOKEN, _token_account(coin_mint, 50_000_000_000_000))
    _dump(tmp_path, pc_vault, TOKEN, _token_account(pc_mint, 7_500_000_000_000))
    q = _run_quote(capsys, tmp_path, address, 1_000_000_000)
    expected = amm.swap_base_in(
        1_000_000_000, 50_000_000_000_000 - 1_000, 7_500_000_000_000 - 2_000, 25, 10_000
    )
    assert (q["venue"], q["amount_out"], q["fee"]) == ("raydium_amm_v4", expected.amount_out, expected.fee)
    assert q["mint_in"] == str(coin_mint) and q["mint_out"] == str(pc_mint)


def _transfer_fee_ext(basis_points: int) -> bytes:
    fee = struct.pack(
        "<32s32sQQQHQQH", bytes(32), bytes(32), 0, 0, 10**9, basis_points, 0, 10**9, basis_points
    )
    return struct.pack("<HH", 1, len(fee)) + fee


def _hook_ext(program: Pubkey) -> bytes:
    return struct.pack("<HH", 14, 64) + bytes(32) + bytes(program)


def test_token_2022_mints_with_fees_or_hooks_are_refused() -> None:
    fx = json.loads((FIXTURES / "ipv4sq_raydium_cpmm_pool_Q2sPH.json").read_text())
    base = cpmm.decode_pool(base64.b64decode(fx["account_data_base64"]), cpmm.PROGRAM_ID)
    fields = {name: getattr(base, name) for name in cpmm.CpmmPool.__slots__}
    fields["token_1_program"] = TOKEN_2022
    pool = cpmm.CpmmPool(**fields)
    config_bytes = bytearray(cpmm.CONFIG_SIZE)
    config_bytes[0:8] = cpmm.CONFIG_DISCRIMINATOR
    config = cpmm.decode_amm_config(bytes(config_bytes), cpmm.PROGRAM_ID)
    now = pool.open_time + 1
    for ext, reason in (
        (_transfer_fee_ext(50), RefusalReason.TOKEN2022_TRANSFER_FEE),
        (_hook_ext(Pubkey.new_unique()), RefusalReason.TOKEN2022_TRANSFER_HOOK),
    ):
        with pytest.raises(Unmodelled) as err:
            cpmm.check_tradable(pool, config, now, _mint(9), _mint(6, ext))
        assert err.value.reason is reason
    # A zero fee schedule changes no amount; a plain Token-2022 mint and unknown mint data are fine.
    cpmm.check_tradable(pool, config, now, _mint(9), _mint(6, _transfer_fee_ext(0)))
    cpmm.check_tradable(pool, config, now)
    # Token-2022 extensions on a Tokenkeg-side mint are not looked at (that program has none).
    cpmm.check_tradable(pool, config, now, _mint(9, _transfer_fee_ext(50)), _mint(6))
