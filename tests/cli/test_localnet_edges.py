"""The local cluster's rough edges (issue 17), on real localnet processes and real sockets:
`check --connect` with `[localnet] start = true`, `localnet --fund` without a scenario, `--clone` errors
that say why, and a taken port suggesting `--rpc-port 0` (`solarb localnet`) or `[localnet] start = false`
(the cluster child of `solarb run`)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_env import one_line, solarb, solarb_argv, solarb_env
from solders.keypair import Keypair

from bot.keys import write_new_keypair
from localnet.cli import FUND_LAMPORTS
from localnet.scenarios import demo
from rpc.client import RpcClient

pytestmark = pytest.mark.localnet


@contextlib.contextmanager
def held_port() -> Iterator[int]:
    """A loopback port some other process listens on, as a validator left running would."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, rpc_url: str, *, start: bool, pools: bool = False) -> Path:
    write_new_keypair(tmp_path / "k.json")
    pool_lines = "".join(f'[[pools]]\nvenue = "raydium_cpmm"\naddress = "{a}"\n'
                         for a in demo.pool_addresses().values()) if pools else ""  # fmt: skip
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[keys]\npayer = "{tmp_path / "k.json"}"\n[localnet]\nstart = {"true" if start else "false"}\n'
        f'[[rpc.endpoints]]\nname = "local"\nhttp = "{rpc_url}"\ntimeout_ms = 500\n'
        f'[logging]\npath = "{tmp_path / "log.jsonl"}"\nconsole = "never"\n{pool_lines}'
    )
    return cfg


def test_check_connect_says_run_starts_the_cluster(tmp_path):
    cfg = _config(tmp_path, f"http://127.0.0.1:{free_port()}", start=True)
    proc = solarb("check", "-c", str(cfg), "--connect")
    assert proc.returncode == 0, proc
    line = next(x for x in proc.stdout.splitlines() if x.startswith("connect   local"))
    assert "not running yet" in line and "`solarb run` starts the local cluster" in line
    assert "Connection refused" not in proc.stdout and "FAILED" not in proc.stdout


async def test_check_connect_warns_when_the_port_run_needs_is_taken(localnet, tmp_path):
    cfg = _config(tmp_path, localnet.rpc_url, start=True)
    proc = await asyncio.to_thread(solarb, "check", "-c", str(cfg), "--connect")
    assert proc.returncode == 1
    assert any("IN USE" in x and "[localnet] start = false" in x for x in proc.stdout.splitlines()), (
        proc.stdout
    )


def test_check_connect_without_start_still_reports_a_dead_endpoint(tmp_path):
    cfg = _config(tmp_path, f"http://127.0.0.1:{free_port()}", start=False)
    proc = solarb("check", "-c", str(cfg), "--connect")
    assert proc.returncode == 1 and "FAILED" in proc.stdout


async def test_localnet_fund_without_scenario():
    wallet = Keypair().pubkey()
    proc = subprocess.Popen(solarb_argv("localnet", "--rpc-port", "0", "--slot-ms", "20", "--fund", str(wallet)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=solarb_env())  # fmt: skip
    try:
        line = await asyncio.to_thread(proc.stdout.readline)
        assert line.startswith("localnet ready "), (
            line,
            proc.stderr.read() if proc.poll() is not None else "",
        )
        rpc_url = dict(p.split("=", 1) for p in line.split()[2:])["rpc"]
        async with RpcClient(rpc_url) as rpc:
            assert (await rpc.get_balance(str(wallet), commitment="processed")).lamports == FUND_LAMPORTS
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.to_thread(proc.wait, 30) == 0


def test_localnet_fund_bad_key_is_one_line():
    proc = solarb("localnet", "--rpc-port", "0", "--fund", "not-a-key")
    assert proc.returncode == 2 and "--fund" in one_line(proc)


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://127.0.0.1:{dead}", "ConnectError: All connection attempts failed"),
        ("notaurl", "expected the http:// or https:// URL"),
        ("http://", "expected the http:// or https:// URL"),
    ],
)
def test_clone_errors_say_why(url, needle):
    proc = solarb("localnet", "--rpc-port", "0", "--clone", str(Keypair().pubkey()),
                  "--url", url.format(dead=free_port()))  # fmt: skip
    assert proc.returncode == 2
    line = one_line(proc)
    assert "--clone" in line or "--url" in line
    assert needle in line, line


async def test_clone_of_a_missing_account_names_it(localnet):
    key = Keypair().pubkey()
    proc = await asyncio.to_thread(solarb, "localnet", "--rpc-port", "0", "--clone", str(key), "--url",
                                   localnet.rpc_url)  # fmt: skip
    assert proc.returncode == 2 and f"account {key} not found" in one_line(proc)


@pytest.mark.parametrize("cmd", [["localnet"], ["-m", "localnet"]])
def test_taken_port_suggests_rpc_port_0(cmd):
    with held_port() as port:
        argv = solarb_argv("localnet", "--rpc-port", str(port)) if cmd == ["localnet"] else \
            [solarb_argv()[0], "-m", "localnet", "--rpc-port", str(port)]  # fmt: skip
        proc = subprocess.run(argv, capture_output=True, text=True, env=solarb_env(), timeout=60)
    assert proc.returncode == 1
    line = one_line(proc)
    assert "address already in use" in line and "--rpc-port 0" in line, line


def test_run_with_its_cluster_port_taken_suggests_start_false(tmp_path):
    with held_port() as port:
        cfg = _config(tmp_path, f"http://127.0.0.1:{port}", start=True, pools=True)
        proc = solarb("run", "-c", str(cfg), timeout=180)
    assert proc.returncode == 1
    line = one_line(proc)
    assert f"port {port}" in line and "already in use" in line and "[localnet] start = false" in line, line
