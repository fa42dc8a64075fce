"""Dry-run with a fresh funded wallet (no token accounts, no wrapped SOL) on the demo: simulated
opportunities carry the set-up a first trade needs, their profit equals what the same trades realize
when the bot then runs for real (set-up costs apart), and nothing is sent in dry-run (counted at the
server). A wallet with no SOL gets one line saying how to fund it; pools that do not exist stop the run."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import orjson
import pytest

from bot.app import Mode
from bot.config import parse_config
from bot.errors import RuntimeFailure
from bot.keys import write_new_keypair
from bot.logs import Log
from bot.runtime import Bot, run_bot
from localnet.scenarios import demo

pytestmark = pytest.mark.localnet


def events(path: Path, name: str) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_bytes().splitlines():
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # the writer is mid-line
        if rec["event"] == name:
            out.append(rec)
    return out


async def run_until(bot: Bot, cond, timeout: float = 60.0) -> None:
    task = asyncio.create_task(bot.run())
    try:
        async with asyncio.timeout(timeout):
            while not cond():
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
    finally:
        if not task.done():
            await bot.shutdown()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, BaseExceptionGroup):
            await task
        await bot.close()


async def test_fresh_wallet_dry_run_simulates_what_the_first_real_trades_realize(localnet, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])  # SOL only: no token account, no wSOL
    sends = 0
    original = localnet.methods.table["sendTransaction"]

    def counting(params):
        nonlocal sends
        sends += 1
        return original(params)

    localnet.methods.table["sendTransaction"] = counting  # the server's own dispatch table
    dry_log = tmp_path / "dry.jsonl"
    text = demo.config_toml(
        localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"), str(dry_log), dry_run=True
    )
    log = Log(dry_log, console="never")
    bot = Bot(parse_config(text), Mode(send=False, live=False), wallet, log)
    await run_until(bot, lambda: len({e["route"] for e in events(dry_log, "simulated")}) >= 2, timeout=30)
    log.close()
    assert sends == 0
    assert events(dry_log, "dry_run_setup")
    simulated = [e for e in events(dry_log, "simulated") if e["err"] is None]
    assert simulated and all(e["setup"] and e["setup_rent_lamports"] > 0 for e in simulated)
    assert all(e["simulated_net"] == e["expected_net"] for e in simulated), simulated
    # Now for real, on the same state: set-up, then trades; each that the dry run simulated at the same
    # state (same route, same amount) realizes exactly the simulated profit.
    localnet.methods.table["sendTransaction"] = original
    live_log = tmp_path / "live.jsonl"
    text = demo.config_toml(localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"), str(live_log))
    log = Log(live_log, console="never")
    bot = Bot(parse_config(text), Mode(send=True, live=False), wallet, log)
    await run_until(bot, lambda: len(events(live_log, "trade_confirmed")) >= 3)
    log.close()
    sent = {e["signature"]: e for e in events(live_log, "trade_sent")}
    dry = {(e["route"], e["amount_in"]): e["simulated_net"] for e in simulated}
    twins = [
        (dry[(c["route"], sent[c["signature"]]["amount_in"])], c["realized_net"])
        for c in events(live_log, "trade_confirmed")
        if c["signature"] in sent and (c["route"], sent[c["signature"]]["amount_in"]) in dry
    ]
    assert twins and all(sim == real for sim, real in twins), twins


async def test_a_wallet_without_sol_is_told_how_to_fund_it(localnet, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [])  # the pools, but the wallet is never funded
    text = demo.config_toml(localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"),
                            str(tmp_path / "bot.jsonl"), dry_run=True)  # fmt: skip
    log = Log(tmp_path / "bot.jsonl", console="never")
    with pytest.raises(RuntimeFailure) as err:
        await run_bot(parse_config(text), Mode(send=False, live=False), wallet, log)
    log.close()
    msg = str(err.value)
    assert "\n" not in msg and "holds no SOL" in msg and "airdrop" in msg and str(wallet.pubkey) in msg


async def test_pools_that_do_not_exist_stop_the_run_with_the_reason(localnet, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    localnet.airdrop(wallet.pubkey, 10**10)  # no demo: none of the configured pools exists
    text = demo.config_toml(localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"),
                            str(tmp_path / "bot.jsonl"), dry_run=True)  # fmt: skip
    log = Log(tmp_path / "bot.jsonl", console="never")
    with pytest.raises(RuntimeFailure) as err:
        await run_bot(parse_config(text), Mode(send=False, live=False), wallet, log)
    log.close()
    assert f"none of the {len(demo.pool_addresses())} configured pools exists" in str(err.value)
