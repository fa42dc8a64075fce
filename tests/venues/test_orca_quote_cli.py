"""`solarb quote` on the orca_rpr_* dumps (offline) and over HTTP getMultipleAccounts (loopback server)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bot.cli import main
from bot.commands.quote import DirSource
from strategies.venues import orca_whirlpool as orca

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
POOL = "EgxU92G34jw6QDG9RuTX9StFg1PmHuDqkRKAE5kVEiZ4"


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    for f in FIXTURES.glob("orca_rpr_*.json"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "notes.json").write_text('{"not": "an account"}')
    return tmp_path


def _expected(dump_dir: Path, amount: int, a_to_b: bool) -> orca.WhirlpoolQuote:
    src = DirSource(dump_dir)
    key = orca.Pubkey.from_string(POOL)
    pool_dump = src.accounts[key]
    pool = orca.decode_whirlpool(pool_dump.data, pool_dump.owner)
    available = {}
    for k in src.accounts.values():
        if k.data[:8] == orca.FIXED_TICK_ARRAY_DISCRIMINATOR:
            arr = orca.decode_tick_array(k.data, k.owner)
            available[arr.start_tick_index] = arr
    return orca.quote_swap(pool, orca.swap_tick_arrays(pool, available, a_to_b), amount, a_to_b=a_to_b)


@pytest.mark.parametrize("a_to_b", [True, False])
def test_offline_quote_prints_exact_json(
    dump_dir: Path, capsys: pytest.CaptureFixture[str], a_to_b: bool
) -> None:
    amount = 5_000_000_000 if a_to_b else 50_000_000
    side = "--a-to-b" if a_to_b else "--b-to-a"
    rc = main(["quote", "--accounts", str(dump_dir), "--pool", POOL, "--amount-in", str(amount), side])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    exp = _expected(dump_dir, amount, a_to_b)
    assert out["amount_in"] == exp.amount_in == amount
    assert out["amount_out"] == exp.amount_out > 0
    assert out["fee"] == exp.fee_amount > 0
    assert out["ticks_crossed"] == exp.ticks_crossed
    assert int(out["sqrt_price_after"]) == exp.next_sqrt_price
    assert (out["price_after"] < out["price_before"]) == a_to_b
    assert out["tick_before"] == -115109 and len(out["tick_arrays"]) == 3


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--pool", "not-a-key", "--amount-in", "5"], "--pool"),
        (["--pool", POOL, "--amount-in", "abc"], "--amount-in"),
        (["--pool", POOL, "--amount-in", "0"], "--amount-in"),
        (["--pool", POOL, "--amount-in", str(1 << 64)], "--amount-in"),
        (["--pool", "So11111111111111111111111111111111111111112", "--amount-in", "5"], "not found"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(dump_dir: Path, argv: list[str], needle: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "quote", "--accounts", str(dump_dir), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_missing_required_args_exit_2(dump_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "quote", "--accounts", str(dump_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


class _Rpc(BaseHTTPRequestHandler):
    accounts: ClassVar[dict[str, dict]] = {}
    calls: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert req["method"] == "getMultipleAccounts"
        keys = req["params"][0]
        self.calls.append(len(keys))
        value = [self.accounts.get(k) for k in keys]
        body = json.dumps(
            {"jsonrpc": "2.0", "id": req["id"], "result": {"context": {"slot": 1}, "value": value}}
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rpc_url() -> Iterator[str]:
    _Rpc.accounts = {}
    for f in FIXTURES.glob("orca_rpr_*.json"):
        raw = json.loads(f.read_text())
        _Rpc.accounts[raw["pubkey"]] = raw["account"]
    _Rpc.calls = []
    server = HTTPServer(("127.0.0.1", 0), _Rpc)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def test_rpc_quote_matches_offline(rpc_url: str, dump_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quote", "--rpc", rpc_url, "--pool", POOL, "--amount-in", "123456789"]) == 0
    via_rpc = json.loads(capsys.readouterr().out)
    assert main(["quote", "--accounts", str(dump_dir), "--pool", POOL, "--amount-in", "123456789"]) == 0
    assert json.loads(capsys.readouterr().out) == via_rpc
    assert _Rpc.calls == [1, 5]  # pool, then both mints and the three tick arrays in one round trip


def test_unreachable_rpc_is_runtime_failure(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["quote", "--rpc", "http://127.0.0.1:9", "--pool", POOL, "--amount-in", "5"])
    assert rc == 1
    assert "getMultipleAccounts" in capsys.readouterr().err
