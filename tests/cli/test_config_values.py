"""Config values checked when the config loads (issue 17): each mistake is one line naming the table and
the key, exit code 2, before anything connects or starts. Today's gaps: a base58 string that is not a
32-byte key, urls without a host or with a bad port, a log path that is a directory or not writable,
integers above 64 bits."""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path

import pytest
from cli_env import one_line, solarb

from bot import config as C
from bot.cli import main
from bot.logs import Log, open_log

U64 = (1 << 64) - 1
KEY = "So11111111111111111111111111111111111111112"
POOL = '[[pools]]\nvenue = "raydium_cpmm"\naddress = "{}"\n'
EP = '[[rpc.endpoints]]\nname = "e"\nhttp = "{}"\n'


def _check(tmp_path: Path, body: str, capsys) -> tuple[int, str]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(body)
    code = main(["check", "-c", str(cfg)])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return code, err[0]


def _unwritable_dir(tmp_path: Path) -> Path:
    """A directory this process cannot create files in (root ignores mode bits; procfs does not)."""
    if os.geteuid() == 0:
        return Path("/proc/sys")
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    return d


@pytest.mark.parametrize(
    ("body", "where", "needle"),
    [
        (POOL.format("1" * 44), "[pools[0]] address", "does not decode to 32 bytes"),
        (POOL.format("1" * 43), "[pools[0]] address", "does not decode to 32 bytes"),
        (POOL.format("z" * 44), "[pools[0]] address", "does not decode to 32 bytes"),
        (POOL.format("0OIl" * 10), "[pools[0]] address", "not a base58 public key"),
        ('[tokens]\nUSDC = "' + "1" * 44 + '"\n', "[tokens] USDC", "does not decode to 32 bytes"),
        ("[cluster.programs]\nraydium_cpmm = \"" + "1" * 44 + '"\n', "[cluster.programs] raydium_cpmm", "32 bytes"),
        ('[execution]\ntip_accounts = ["' + "1" * 44 + '"]\n', "[execution] tip_accounts[0]", "32 bytes"),
        ('[strategy]\nbase_tokens = ["' + "1" * 44 + '"]\n', "[strategy] base_tokens[0]", "neither an alias"),
        (EP.format("http://"), "[rpc.endpoints[0]] http", "has no host"),
        (EP.format("https:///path"), "[rpc.endpoints[0]] http", "has no host"),
        (EP.format("http://127.0.0.1:99999"), "[rpc.endpoints[0]] http", 'bad port "99999"'),
        (EP.format("http://127.0.0.1:abc"), "[rpc.endpoints[0]] http", 'bad port "abc"'),
        (EP.format("http://127.0.0.1:0"), "[rpc.endpoints[0]] http", 'bad port "0"'),
        (EP.format("ftp://127.0.0.1"), "[rpc.endpoints[0]] http", "must start with http:// or https://"),
        (EP.format("http://127.0.0.1:8899") + 'ws = "ws://:8900"\n', "[rpc.endpoints[0]] ws", "has no host"),
        (EP.format("http://127.0.0.1:8899") + 'ws = "ws://h:70000"\n', "[rpc.endpoints[0]] ws", 'bad port "70000"'),
        ('[cluster]\nrpc_url = "http://"\n', "[cluster] rpc_url", "has no host"),
        ('[cluster]\nws_url = "wss://x:abc"\n', "[cluster] ws_url", 'bad port "abc"'),
        ('[[feeds.cex]]\nvenue = "binance"\nurl = "wss://"\nsymbols = ["SOLUSDC"]\n[feeds.symbols]\n'
         'SOLUSDC = "SOL/USDC"\n', "[feeds.cex[0]] url", "has no host"),
        (f"[risk]\nsol_reserve_lamports = {1 << 64}\n", "[risk] sol_reserve_lamports", "out of range"),
        (f"[risk]\nmax_daily_loss_lamports = {1 << 70}\n", "[risk] max_daily_loss_lamports", "out of range"),
        (f"[execution]\ntip_lamports = {1 << 64}\n", "[execution] tip_lamports", "out of range"),
        (f"[execution]\ncu_price_micro_lamports = {1 << 64}\n", "[execution] cu_price_micro_lamports", "out of range"),
        (f"[logging]\nmax_bytes = {1 << 64}\n", "[logging] max_bytes", "does not fit in 64 bits"),
        (f"[logging]\nqueue_size = {1 << 70}\n", "[logging] queue_size", "does not fit in 64 bits"),
    ],
)  # fmt: skip
def test_bad_value_is_one_line_exit_2(tmp_path, capsys, body, where, needle):
    code, line = _check(tmp_path, body, capsys)
    assert code == 2
    assert f"{where}:" in line and needle in line, line


def test_url_secrets_are_not_echoed(tmp_path, capsys):
    """An endpoint url with an API key (from ${ENV_VAR}) that is wrong: the message names the key only."""
    os.environ["SOLARB_TEST_SECRET"] = "sekrit-api-key"
    try:
        code, line = _check(tmp_path, EP.format("https://:${SOLARB_TEST_SECRET}@/x"), capsys)
    finally:
        del os.environ["SOLARB_TEST_SECRET"]
    assert code == 2 and "sekrit" not in line


@pytest.mark.parametrize("case", ["directory", "unwritable_dir", "under_a_file", "unwritable_file"])
def test_log_path_refused(tmp_path, capsys, case):
    if case == "directory":
        path, needle = tmp_path, "is a directory"
    elif case == "unwritable_dir":
        path, needle = _unwritable_dir(tmp_path) / "logs" / "solarb.jsonl", "is not writable"
    elif case == "under_a_file":
        (tmp_path / "f").write_text("")
        path, needle = tmp_path / "f" / "sub" / "solarb.jsonl", "is a file, not a directory"
    else:
        if os.geteuid() == 0:
            path = Path("/proc/sys/kernel/ostype")  # read-only even for root
        else:
            path = tmp_path / "ro.jsonl"
            path.write_text("")
            path.chmod(0o400)
        needle = "is not writable"
    code, line = _check(tmp_path, f'[logging]\npath = "{path}"\n', capsys)
    assert code == 2 and "[logging] path:" in line and needle in line, line


def test_log_path_in_missing_dirs_is_accepted_and_created_by_open_log(tmp_path):
    path = tmp_path / "a" / "b" / "solarb.jsonl"
    cfg = C.parse_config(f'[logging]\npath = "{path}"\n')
    assert not path.parent.exists()  # loading a config creates nothing
    log = open_log(cfg.logging)
    log.info("hello")
    log.close()
    assert b'"hello"' in path.read_bytes()


def _int_fields(cls: type, prefix: str) -> typing.Iterator[tuple[str, str, dict]]:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            yield from _int_fields(tp, f"{prefix}.{f.name}" if prefix else f.name)
        elif tp is int:
            yield prefix, f.name, dict(f.metadata)


TABLE_INTS = list(_int_fields(C.Config, ""))


def test_every_lamport_amount_has_a_u64_cap():
    amounts = [(t, k, m) for t, k, m in [*TABLE_INTS, *_int_fields(C.EndpointConfig, "rpc.endpoints")]
               if "lamports" in k]  # fmt: skip
    assert len(amounts) >= 8  # profit, notional, working balance, reserve, daily loss, tip, two cu prices
    for table, key, m in amounts:
        assert m["hi"] is not None and m["hi"] <= U64, f"[{table}] {key} has no u64 cap"


@pytest.mark.parametrize(("table", "key"), [(t, k) for t, k, _ in TABLE_INTS])
def test_every_integer_refuses_2_to_the_64(tmp_path, capsys, table, key):
    header = f"[{table}]\n" if table else ""
    code, line = _check(tmp_path, f"{header}{key} = {1 << 64}\n", capsys)
    assert code == 2 and key in line


@pytest.mark.parametrize("key", [k for _, k, _ in _int_fields(C.EndpointConfig, "")])
def test_every_endpoint_integer_refuses_2_to_the_64(tmp_path, capsys, key):
    code, line = _check(tmp_path, EP.format("http://127.0.0.1:8899") + f"{key} = {1 << 64}\n", capsys)
    assert code == 2 and f"[rpc.endpoints[0]] {key}:" in line


def test_valid_keys_and_urls_still_load():
    cfg = C.parse_config(
        POOL.format("5KQZwwux6YKBE6Sa8vF3u5dfPZNfbw3LXkA9AysSYLFv")
        + EP.format("https://user@rpc.example.com:8443/v1/?api-key=x")
        + f'[tokens]\nSOL = "{KEY}"\n[risk]\nsol_reserve_lamports = {U64}\n'
    )
    assert cfg.risk.sol_reserve_lamports == U64 and cfg.pools[0].address.startswith("5KQZ")


def test_log_writer_survives_an_int_above_64_bits():
    """Before the cap, 2^64 lamports in a log record killed the writer thread and every later record."""
    lines: list[bytes] = []
    log = Log(None, sink=lines.append)
    log.info("huge", lamports=1 << 64)
    log.info("after")
    log.close()
    assert b'"huge"' in lines[0] and b'"after"' in lines[1]


def test_pool_non_key_end_to_end_exit_2(tmp_path):
    """The issue's case as a user meets it: `check` on a config whose pool address is 44 ones."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(POOL.format("1" * 44))
    proc = solarb("check", "-c", str(cfg))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "[pools[0]] address" in one_line(proc)
