"""localnet as a subprocess (`python -m localnet`), the way the demo and users run it."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Processed
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from solders.transaction import VersionedTransaction
from spl.token import instructions as spl
from spl.token.constants import TOKEN_PROGRAM_ID

from bot.cli import build_parser
from localnet.cli import build_parser as localnet_parser
from localnet.errors import LocalnetError
from localnet.process import LocalnetProcess

pytestmark = pytest.mark.localnet
FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
VAULT = Path(os.environ.get("SOLARB_FIXTURES", FIXTURES)) / "orca_rpr_vault_a.json"


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "localnet", "--rpc-port", "0", "--slot-ms", "20", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("localnet ready "):
        proc.kill()
        raise AssertionError(f"no ready line: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    fields = dict(part.split("=", 1) for part in line.split()[2:])
    return proc, fields["rpc"]


@pytest.mark.skipif(not VAULT.exists(), reason="shared fixtures not present")
async def test_account_file_served_byte_identical_and_clean_sigterm() -> None:
    doc = json.loads(VAULT.read_text())
    proc, rpc = _start("--account", doc["pubkey"], str(VAULT))
    try:
        async with AsyncClient(rpc) as client:
            acc = (await client.get_account_info(Pubkey.from_string(doc["pubkey"]), Processed)).value
        assert acc is not None
        assert bytes(acc.data) == base64.b64decode(doc["account"]["data"][0])
        assert acc.lamports == doc["account"]["lamports"]
        assert str(acc.owner) == doc["account"]["owner"]
        assert acc.executable == doc["account"]["executable"]
        assert acc.rent_epoch == doc["account"]["rentEpoch"]
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
    assert rc == 0


def test_bad_account_file_is_one_line_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = subprocess.run(
        [sys.executable, "-m", "localnet", "--rpc-port", "0", "--account", "-", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "bad.json" in res.stderr


def test_solarb_localnet_flags_match_python_m_localnet() -> None:
    def options(parser) -> set[str]:
        return {s for a in parser._actions for s in a.option_strings}

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    assert options(sub.choices["localnet"]) == options(localnet_parser())

    def defaults(parser) -> dict[str, object]:
        return {a.dest: a.default for a in parser._actions if a.option_strings and a.dest != "help"}

    assert defaults(sub.choices["localnet"]) == defaults(localnet_parser())  # e.g. --busy-poll-us 300


async def test_clone_copies_accounts_from_another_rpc(localnet) -> None:
    key = Keypair().pubkey()
    owner = Keypair().pubkey()
    localnet.set_account(key, lamports=1_234_567, data=bytes(range(200)), owner=owner)
    await localnet.wait_finalized()
    net = await LocalnetProcess.start(
        "--rpc-port", "0", "--slot-ms", "20", "--clone", str(key), "--url", localnet.rpc_url
    )
    try:
        async with AsyncClient(net.rpc_url) as client:
            acc = (await client.get_account_info(key, Processed)).value
        assert acc is not None and bytes(acc.data) == bytes(range(200))
        assert acc.lamports == 1_234_567 and acc.owner == owner
    finally:
        rc = await net.stop()
    assert rc == 0


async def test_process_start_failure_is_reported() -> None:
    with pytest.raises(LocalnetError, match="--clone needs --url"):
        await LocalnetProcess.start("--rpc-port", "0", "--clone", str(Keypair().pubkey()))


def test_bad_program_file_is_one_line_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.so"
    bad.write_bytes(b"\x7fELF" + bytes(100))
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "localnet",
            "--rpc-port",
            "0",
            "--bpf-program",
            str(Keypair().pubkey()),
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "bad.so" in res.stderr


async def test_clone_program_runs_in_the_clone(localnet) -> None:
    token = TOKEN_PROGRAM_ID
    program = Keypair().pubkey()
    localnet.add_program(program, bytes(localnet.get_account(token).data))
    await localnet.wait_finalized()
    async with (
        await LocalnetProcess.start(
            "--rpc-port", "0", "--slot-ms", "20", "--clone", str(program), "--url", localnet.rpc_url
        ) as net,
        AsyncClient(net.rpc_url) as client,
    ):
        payer, mint = Keypair(), Keypair()
        sig = (await client.request_airdrop(payer.pubkey(), 10**9, commitment=Processed)).value
        await client.confirm_transaction(sig, commitment=Processed, sleep_seconds=0.02)
        rent = (await client.get_minimum_balance_for_rent_exemption(82)).value
        bh = (await client.get_latest_blockhash(Processed)).value.blockhash
        msg = MessageV0.try_compile(
            payer.pubkey(),
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
                        decimals=4, program_id=program, mint=mint.pubkey(), mint_authority=payer.pubkey()
                    )
                ),
            ],
            [],
            bh,
        )
        await client.send_transaction(VersionedTransaction(msg, [payer, mint]))
        acc = (await client.get_account_info(mint.pubkey(), Processed)).value
        assert acc is not None and acc.owner == program and bytes(acc.data)[44] == 4
