"""`-c CONFIG` and `-u URL_OR_MONIKER` on pools / quote / check / run, token aliases (`--mint-a SOL`),
and `solarb quote`'s offline inputs (single dump files) and its missing-tick-array warning (issue 17)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest
from cli_env import one_line, solarb

from bot.cli import main
from bot.commands.cluster_opts import parse_url, resolve
from bot.config import DEVNET_PROGRAMS, MAINNET_PROGRAMS, PRESETS, WSOL_MINT
from bot.keys import write_new_keypair
from localnet.scenarios import demo

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
ORCA_POOL = "EgxU92G34jw6QDG9RuTX9StFg1PmHuDqkRKAE5kVEiZ4"
DUSD = demo.MINTS["dUSD"][0]


@pytest.mark.parametrize(
    ("text", "cluster"),
    [("m", "mainnet-beta"), ("mainnet-beta", "mainnet-beta"), ("d", "devnet"), ("devnet", "devnet"),
     ("l", "localnet"), ("localhost", "localnet"), ("D", "devnet")],
)  # fmt: skip
def test_monikers_name_presets(text, cluster):
    assert parse_url(text) == (cluster, PRESETS[cluster]["rpc_url"])


def test_a_url_keeps_its_text():
    assert parse_url("https://rpc.example.com:8443/?api-key=x") == (
        None,
        "https://rpc.example.com:8443/?api-key=x",
    )


def test_moniker_brings_the_cluster_program_ids():
    t = resolve(None, "d")
    assert t is not None and t.cluster == "devnet" and t.programs == DEVNET_PROGRAMS
    t = resolve(None, "http://127.0.0.1:9", "localnet")
    assert t is not None and t.programs == MAINNET_PROGRAMS and t.rpc_url == "http://127.0.0.1:9"
    assert resolve(None, None) is None


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["pools", "-u", "t", "--mint-a", "SOL", "--mint-b", str(DUSD)], "no testnet preset"),
        (["pools", "-u", "x", "--mint-a", "SOL", "--mint-b", str(DUSD)], "-u 'x': expected an http(s) URL"),
        (["pools", "-u", "http://", "--mint-a", "SOL", "--mint-b", str(DUSD)], "with a host"),
        (
            ["pools", "-u", "http://h:99999", "--mint-a", "SOL", "--mint-b", str(DUSD)],
            "expected an http(s) URL",
        ),
        (
            ["pools", "-u", "d", "--cluster", "localnet", "--mint-a", "SOL", "--mint-b", str(DUSD)],
            "give one of",
        ),
        (
            ["pools", "-u", "d", "--mint-a", "USDC", "--mint-b", "SOL"],
            "neither a base58 public key nor a token",
        ),
        (["quote", "--pool", ORCA_POOL, "--amount-in", "5"], "where from?"),
        (["quote", "-u", "d", "--accounts", ".", "--pool", ORCA_POOL, "--amount-in", "5"], "offline"),
        (
            ["quote", "--accounts", "/nonexistent/x.json", "--pool", ORCA_POOL, "--amount-in", "5"],
            "no such file",
        ),
    ],
)
def test_bad_cluster_options_are_one_line_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


def _config(tmp_path: Path, rpc_url: str, cluster: str = "localnet") -> Path:
    write_new_keypair(tmp_path / "k.json")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[cluster]\nname = "{cluster}"\n[keys]\npayer = "{tmp_path / "k.json"}"\n'
        f'[[rpc.endpoints]]\nname = "local"\nhttp = "{rpc_url}"\n'
        f'[tokens]\nSOL = "{WSOL_MINT}"\ndUSD = "{DUSD}"\n[logging]\npath = "{tmp_path / "l.jsonl"}"\n'
    )
    return cfg


def test_moniker_of_another_cluster_than_the_config_is_refused(tmp_path, capsys):
    cfg = _config(tmp_path, "http://127.0.0.1:9", cluster="devnet")
    for argv in (["check", "-c", str(cfg), "-u", "m"], ["pools", "-c", str(cfg), "-u", "m", "--mint-a", "SOL",
                                                         "--mint-b", "dUSD"]):  # fmt: skip
        assert main(argv) == 2
        assert "the config's cluster is devnet" in capsys.readouterr().err


def test_u_with_a_cluster_run_starts_itself_is_refused(tmp_path, capsys):
    cfg = _config(tmp_path, "http://127.0.0.1:9")
    cfg.write_text(cfg.read_text() + "[localnet]\nstart = true\n")
    for sub in ("check", "run"):
        assert main([sub, "-c", str(cfg), "-u", "l"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "[localnet] start = true" in err[0], err


def test_check_u_replaces_the_endpoints(tmp_path, capsys):
    cfg = _config(tmp_path, "http://127.0.0.1:9")
    assert main(["check", "-c", str(cfg), "-u", "http://127.0.0.1:7777"]) == 0
    out = capsys.readouterr().out
    assert "127.0.0.1:7777" in out and "127.0.0.1:9 " not in out


@pytest.mark.localnet
async def test_pools_and_quote_take_the_config_and_its_aliases(localnet_factory, tmp_path, capsys):
    net = await localnet_factory(seed=lambda n: demo.seed(n, []))
    cfg = _config(tmp_path, net.rpc_url)
    code = await asyncio.to_thread(main, ["pools", "-c", str(cfg), "--mint-a", "SOL", "--mint-b", "dUSD"])
    out = capsys.readouterr().out
    assert code == 0, out
    pools = demo.pool_addresses()
    found = {line.split('"')[1] for line in out.splitlines() if line.startswith("address")}
    assert found == {
        pools["P1"],
        pools["P2"],
        pools["W1"],
    }  # the SOL/dUSD pools (CPMM and Whirlpool), not P3/P4
    # the printed lines paste into a config that loads
    (tmp_path / "with_pools.toml").write_text(cfg.read_text() + out)
    assert await asyncio.to_thread(main, ["check", "-c", str(tmp_path / "with_pools.toml")]) == 0
    capsys.readouterr()

    # quote through the config's endpoint (no -u), and through -u with the same URL
    for extra in ([], ["-u", net.rpc_url]):
        code = await asyncio.to_thread(main, ["quote", "-c", str(cfg), *extra, "--pool", pools["P1"],
                                              "--amount-in", "1000000000"])  # fmt: skip
        res = capsys.readouterr()
        assert code == 0 and json.loads(res.out)["amount_out"] > 0
        assert res.err == ""  # constant product: no tick arrays, no warning


def test_quote_accepts_single_dump_files(tmp_path):
    files = sorted(FIXTURES.glob("orca_rpr_*.json"))
    by_dir = solarb("quote", "--accounts", str(FIXTURES), "--pool", ORCA_POOL, "--amount-in", "5000000000")
    by_files = solarb("quote", *[a for f in files for a in ("--accounts", str(f))], "--pool", ORCA_POOL,
                      "--amount-in", "5000000000")  # fmt: skip
    assert by_dir.returncode == by_files.returncode == 0, by_files.stderr
    assert json.loads(by_files.stdout) == json.loads(by_dir.stdout)
    # a file and a directory together
    d = tmp_path / "d"
    d.mkdir()
    for f in files[1:]:
        shutil.copy(f, d / f.name)
    mixed = solarb("quote", "--accounts", str(files[0]), "--accounts", str(d), "--pool", ORCA_POOL,
                   "--amount-in", "5000000000")  # fmt: skip
    assert mixed.returncode == 0 and json.loads(mixed.stdout) == json.loads(by_dir.stdout)


def test_quote_single_file_without_pubkey_is_one_line(tmp_path):
    doc = json.loads((FIXTURES / "orca_rpr_whirlpool.json").read_text())
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(doc["account"]))
    proc = solarb("quote", "--accounts", str(bare), "--pool", ORCA_POOL, "--amount-in", "5")
    assert proc.returncode == 2 and '"pubkey"' in one_line(proc)


def test_quote_warns_on_stderr_when_tick_arrays_are_missing():
    proc = solarb("quote", "--accounts", str(FIXTURES), "--pool", ORCA_POOL, "--amount-in", "5000000000")
    assert proc.returncode == 0
    report = json.loads(proc.stdout)  # stdout stays pure JSON
    missing = report["missing_tick_arrays"]
    assert missing  # the fixture set has none of this swap's tick arrays at their PDAs
    line = one_line(proc)
    assert line.startswith("solarb: warning:") and f"{len(missing)} of the 3 tick arrays" in line
    assert all(key in line for key in missing)
