"""The README's "Dry-run on devnet" commands, run as written against localnet standing in for devnet:
the same commands, each `solarb` call given `-u <localnet's URL>` (issue 17).

The stand-in holds what config.devnet.toml and the commands name, at their real devnet addresses: our
reference CPMM and AMM v4 programs at Raydium's devnet program ids, the real devnet Whirlpool
EgxU92G3... with its mints and tick arrays (orca-so/whirlpools' fixture dumps), an AMM v4 pool at the
address config.devnet.toml lists, and two SOL/devUSDC CPMM pools for `solarb pools` to find (devnet's
own CPMM pools vary; these are at the PDAs the devnet program would give them).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import orjson
import pytest
from cli_env import REPO, solarb_argv, solarb_env
from solders.pubkey import Pubkey

from bot.config import WSOL_MINT, load_config
from localnet.programs import amm_v4_accounts as aa
from localnet.programs import cpmm_accounts as ca
from localnet.programs import program_path

pytestmark = pytest.mark.localnet
FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
DEVNET = load_config(REPO / "config.devnet.toml")
PROGRAMS = {k: Pubkey.from_string(v) for k, v in DEVNET.programs().items()}
DEV_USDC = Pubkey.from_string(DEVNET.tokens["devUSDC"])
WSOL = Pubkey.from_string(WSOL_MINT)
TAKES_URL = {"pools", "quote", "check", "run"}
SOL, USD = 10**9, 10**6


def readme_devnet_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Dry-run on devnet") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the devnet section has no sh block"
    return [re.sub(r"\s+#.*$", "", line).strip() for line in block.group(1).splitlines() if line.strip()]


def standin(net) -> dict[str, str]:
    """Seed localnet with the devnet accounts the README's commands and config.devnet.toml name."""
    net.add_program(PROGRAMS["raydium_cpmm"], program_path("cpmm"))
    net.add_program(PROGRAMS["raydium_amm_v4"], program_path("amm_v4"))
    for name in ("whirlpool", "token_a", "token_b", "vault_a", "vault_b", "fixed_tick_array_lower",
                 "fixed_tick_array_upper"):  # fmt: skip
        net.load_account_file(FIXTURES / f"orca_rpr_{name}.json")  # token_b is devUSDC's real mint account
    # Two SOL/devUSDC CPMM pools, 150 and 156 devUSDC per SOL (a 2-leg cycle), under the devnet program.
    found = {}
    for index, usd in ((0, 150_000), (1, 156_000)):
        setup = ca.make_pool(mint0=WSOL, mint1=DEV_USDC, reserve0=1_000 * SOL, reserve1=usd * USD, decimals0=9,
                             decimals1=6, config_index=index, with_mints=False,
                             program_id=PROGRAMS["raydium_cpmm"])  # fmt: skip
        for key, acc in setup.accounts.items():
            net.set_account(key, acc)
        found[str(setup.pool)] = "raydium_cpmm"
    # The AMM v4 pool config.devnet.toml lists, at its devnet address (its own pair; no cycle).
    (listed,) = DEVNET.pools
    amm = aa.make_pool(coin_mint=Pubkey.from_string("2SiSpNowr7zUv5ZJHuzHszskQNaskWsNukhivCtuVLHo"),
                       pc_mint=Pubkey.from_string("GfmdKWR1KrttDsQkJfwtXovZw9bUBHYkPAEwB6wZqQvJ"),
                       coin_reserve=10_000 * SOL, pc_reserve=10_000 * USD,
                       program_id=PROGRAMS["raydium_amm_v4"])  # fmt: skip
    for key, acc in amm.accounts.items():
        net.set_account(Pubkey.from_string(listed.address) if key == amm.amm else key, acc)
    # A SOL/devUSDC Whirlpool at Orca's published devnet address (3KBZ...): its state is the fixture's with
    # mint a set to wrapped SOL; Whirlpools trade, so `pools` prints it as a pool to paste.
    pool = net.get_account(Pubkey.from_string("EgxU92G34jw6QDG9RuTX9StFg1PmHuDqkRKAE5kVEiZ4"))
    data = bytearray(pool.data)
    data[101:133] = bytes(WSOL)
    net.set_account(Pubkey.from_string("3KBZiL2g8C7tiJ32hTv5v3KM7aK9htpqTw4cTXz1HvPt"), data=bytes(data),
                    owner=PROGRAMS["orca_whirlpool"])  # fmt: skip
    found["3KBZiL2g8C7tiJ32hTv5v3KM7aK9htpqTw4cTXz1HvPt"] = "orca_whirlpool"
    return found


def as_run_here(line: str, url: str) -> str:
    """The README line with `.venv/bin/solarb` as this checkout's `python -m bot`, and `-u URL` added."""
    words = shlex.split(line)
    if words[0] != ".venv/bin/solarb":
        return line
    sub, rest = words[1], words[2:]
    argv = [*solarb_argv(sub), *(["-u", url] if sub in TAKES_URL else [])]
    redirect = ""
    if ">>" in rest:
        i = rest.index(">>")
        rest, redirect = rest[:i], f" >> {shlex.quote(rest[i + 1])}"
    return shlex.join(argv + rest) + redirect


def test_the_readme_lists_the_commands_this_test_runs():
    cmds = readme_devnet_commands()
    subs = [shlex.split(c)[1] for c in cmds if c.startswith(".venv/bin/solarb")]
    assert subs == ["keygen", "pools", "check", "quote", "run"], cmds
    assert all("<" not in c for c in cmds)  # no placeholders: every line runs as written


async def test_readme_devnet_section_on_a_standin(localnet_factory, tmp_path):
    seeded: dict[str, str] = {}
    net = await localnet_factory(seed=lambda n: seeded.update(standin(n)))
    sends = 0
    original = net.methods.table["sendTransaction"]

    def counting(params):
        nonlocal sends
        sends += 1
        return original(params)

    net.methods.table["sendTransaction"] = counting
    shutil.copy(REPO / "config.devnet.toml", tmp_path / "config.devnet.toml")
    env = solarb_env()

    def sh(cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=180)  # fmt: skip

    for line in readme_devnet_commands():
        cmd = as_run_here(line, net.rpc_url)
        words = shlex.split(line)
        sub = words[1] if words[0] == ".venv/bin/solarb" else words[0]
        if sub == "run":
            await _dry_run(cmd, tmp_path, env)
            continue
        res = await asyncio.to_thread(sh, cmd)
        assert res.returncode == 0, (line, res.stdout, res.stderr)
        if sub == "keygen":  # the README's faucet step
            net.airdrop(Pubkey.from_string(res.stdout.strip()), 10 * SOL)
        elif sub == "pools":
            text = (tmp_path / "devnet.toml").read_text()
            cfg = load_config(tmp_path / "devnet.toml")  # what pools appended pastes in and loads
            assert {p.address for p in cfg.pools} == {*seeded, DEVNET.pools[0].address}
            assert (
                'address = "3KBZiL2g8C7tiJ32hTv5v3KM7aK9htpqTw4cTXz1HvPt"' in text
            )  # tradable: not commented out
        elif sub == "check":
            assert "health ok" in res.stdout and "FAILED" not in res.stdout, res.stdout
        elif sub == "quote":
            report = json.loads(res.stdout)
            assert report["venue"] == "orca_whirlpool" and report["amount_out"] > 0
            assert report["mint_out"] == str(DEV_USDC)
    assert sends == 0  # dry-run: nothing was sent, not even set-up


async def _dry_run(cmd: str, cwd: Path, env: dict[str, str]) -> None:
    """`run --dry-run` until the bot is running, then Ctrl-C: it built routes over the pools and exits 0."""
    proc = subprocess.Popen(["bash", "-c", f"exec {cmd}"], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    log = cwd / "logs" / "solarb-devnet.jsonl"
    events: list[dict] = []
    try:
        deadline = time.monotonic() + 150
        while not any(e["event"] == "running" for e in events):
            assert proc.poll() is None, f"run exited early: {proc.stderr.read()}"
            assert time.monotonic() < deadline, f"no 'running' record: {[e['event'] for e in events]}"
            await asyncio.sleep(0.2)
            if log.exists():
                events = [orjson.loads(x) for x in log.read_bytes().splitlines() if x.strip()]
    finally:
        proc.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(proc.wait, 60)
    assert code == 0, proc.stderr.read()
    built = next(e for e in events if e["event"] == "routes_built")
    assert (
        built["pools"] == 4 and built["routes"] >= 2
    )  # both directions of the SOL/devUSDC cycle (and the Whirlpool)
    assert not [e for e in events if e["event"] == "pool_unavailable"]
