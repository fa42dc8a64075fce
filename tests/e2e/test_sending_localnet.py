"""Sending that survives, on a real localnet: a misbehaving endpoint ranked first does not stop the bot
from starting or landing trades; a trade in flight when the bot is killed (SIGTERM, kill -9) is
reconciled after a restart and nothing is sent twice; API keys in URLs appear nowhere."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import orjson
import pytest
from solders.signature import Signature

from bot.app import Mode
from bot.config import parse_config
from bot.keys import write_new_keypair
from bot.ledger import Ledger
from bot.logs import Log
from bot.runtime import Bot
from localnet.scenarios import demo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rpc"))
from rpc_fakes import FakeEndpoint

pytestmark = pytest.mark.localnet
REPO = Path(__file__).resolve().parents[2]


def records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [orjson.loads(x) for x in path.read_bytes().splitlines() if x.strip()]


def events(path: Path, name: str) -> list[dict]:
    return [r for r in records(path) if r["event"] == name]


def endpoints_toml(first_http: str, ws: str, rpc_url: str) -> str:
    return (
        f'[[rpc.endpoints]]\nname = "first"\nhttp = "{first_http}"\nws = "{ws}"\npriority = 0\ntimeout_ms = 300\n'
        f'[[rpc.endpoints]]\nname = "localnet"\nhttp = "{rpc_url}"\nws = "{ws}"\npriority = 1\n'
        "[rpc]\nprobe_interval_ms = 100\n"
    )


def demo_config(localnet, tmp_path: Path, endpoints: str | None = None, extra: str = "") -> str:
    text = demo.config_toml(
        localnet.rpc_url, localnet.ws_url, str(tmp_path / "bot.json"), str(tmp_path / "bot.jsonl")
    )
    if endpoints is not None:
        head, _, rest = text.partition("[[rpc.endpoints]]")
        _, _, rest = rest.partition("[tokens]")
        text = head + endpoints + "[tokens]" + rest
    return text + extra


async def run_until(bot: Bot, cond, timeout: float = 60.0) -> None:
    task = asyncio.create_task(bot.run())
    try:
        async with asyncio.timeout(timeout):
            while not cond():
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
    finally:
        if not task.done():
            await bot.shutdown()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, BaseExceptionGroup):
            await task
        await bot.close()


@pytest.mark.parametrize("mode", ["429", "500", "garbage", "hang", "lag", "close"])
async def test_a_bad_first_endpoint_neither_stops_start_up_nor_landing(localnet, tmp_path, mode):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])
    log_path = tmp_path / "bot.jsonl"
    async with FakeEndpoint(mode, upstream=localnet.rpc_url, slot=10**9) as bad:
        cfg = parse_config(
            demo_config(localnet, tmp_path, endpoints_toml(bad.url, localnet.ws_url, localnet.rpc_url))
        )
        log = Log(log_path, console="never")
        bot = Bot(cfg, Mode(send=True, live=False), wallet, log)

        def demoted() -> bool:  # a lagging node is demoted once its lag passes the threshold (slots go by)
            status = {s.name: s for s in bot.endpoints.snapshot()}
            return status["localnet"].rank < status["first"].rank

        await run_until(bot, lambda: len(events(log_path, "trade_confirmed")) >= 2 and demoted())
        log.close()
    confirmed = events(log_path, "trade_confirmed")
    assert len(confirmed) >= 2 and all(e["realized_net"] == e["expected_net"] for e in confirmed)
    if mode != "lag":  # a lagging node still answers reads correctly: it is demoted, reads need not move
        assert events(log_path, "read_endpoint_switched"), [r["event"] for r in records(log_path)]
    status = {s.name: s for s in bot.endpoints.snapshot()}
    assert status["localnet"].rank < status["first"].rank  # the bad one is demoted


async def test_a_dead_first_read_endpoint_does_not_stop_start_up(localnet, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])
    log_path = tmp_path / "bot.jsonl"
    cfg = parse_config(demo_config(localnet, tmp_path, endpoints_toml("http://127.0.0.1:9", localnet.ws_url,
                                                                      localnet.rpc_url)))  # fmt: skip
    log = Log(log_path, console="never")
    bot = Bot(cfg, Mode(send=True, live=False), wallet, log)
    await run_until(bot, lambda: bool(events(log_path, "trade_confirmed")))
    log.close()
    assert events(log_path, "running")


def _bot_config(localnet, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        demo_config(localnet, tmp_path).replace('console = "never"', 'console = "never"\nlevel = "info"')
    )
    return path


async def _start_bot(cfg: Path, tmp_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "-c", str(cfg), cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
async def test_a_trade_in_flight_at_a_kill_is_reconciled_and_never_sent_twice(
    localnet_factory, tmp_path, how
):
    wallet = write_new_keypair(tmp_path / "bot.json")
    net = await localnet_factory(slot_ms=60, seed=lambda n: demo.seed(n, [wallet.pubkey]))
    cfg = _bot_config(net, tmp_path)
    log_path = tmp_path / "bot.jsonl"
    ledger_path = Path(str(log_path) + ".ledger.sqlite3")
    proc = await _start_bot(cfg, tmp_path)
    try:
        async with asyncio.timeout(60):
            while not events(log_path, "trade_sent"):  # the first trade is journalled and written
                if proc.returncode is not None:
                    raise AssertionError((await proc.stderr.read()).decode())
                await asyncio.sleep(0.005)
        net.pause_clock()  # processed, never confirmed while paused
        first = events(log_path, "trade_sent")[0]["signature"]
        if how == "sigkill":
            proc.kill()
            await proc.wait()
            with Ledger.open(str(ledger_path), instance="default", create=False) as led:
                assert first in {j.signature for j in led.in_flight()}  # journalled, outcome unknown
        else:
            proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)  # shutdown is waiting for the confirmation...
            net.resume_clock()  # ...which now comes, with the PubSub reader still running
            assert await asyncio.wait_for(proc.wait(), 60) == 0
        net.resume_clock()
        proc = await _start_bot(cfg, tmp_path)  # the restart reconciles before trading
        async with asyncio.timeout(60):
            while not any(e["event"] == "running" for e in records(log_path)[-200:]) or not _booked(
                ledger_path, first
            ):
                await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    with Ledger.open(str(ledger_path), instance="default", create=False) as led:
        trades = {t.signature: t for t in led.trades()}
        assert trades[first].outcome == "landed" and not led.in_flight()
    sent = [e["signature"] for e in events(log_path, "trade_sent")]
    assert len(sent) == len(set(sent))  # no signature logged as sent twice
    # The first trade was executed once and booked once; the restart signed no second transaction for
    # its opportunity (each route's gap closes with its one trade: no route landed twice).
    assert net.transaction(Signature.from_string(first)) is not None
    assert set(sent) <= set(trades)  # (a kill -9 can lose a trade_sent line, never the journal row)
    landed_routes = [t.route_id for t in trades.values() if t.outcome == "landed"]
    assert len(landed_routes) == len(set(landed_routes))


def _booked(ledger_path: Path, signature: str) -> bool:
    with Ledger.open(str(ledger_path), instance="default", create=False) as led:
        return any(t.signature == signature for t in led.trades())


async def test_api_keys_in_urls_appear_in_no_output_record_or_error(localnet, tmp_path):
    wallet = write_new_keypair(tmp_path / "bot.json")
    demo.seed(localnet, [wallet.pubkey])
    key = "SeCrEtKeY1234567890"
    os.environ["SOLARB_TEST_KEY"] = key
    dead = [
        f"http://127.0.0.1:9/{key}",
        f"http://127.0.0.1:9/?api-key={key}",
        f"http://user:{key}@127.0.0.1:9/",
    ]
    eps = (
        "".join(
            f'[[rpc.endpoints]]\nname = "dead{i}"\nhttp = "{u.replace(key, "${SOLARB_TEST_KEY}")}"\n'
            f'ws = "ws://127.0.0.1:9/{"${SOLARB_TEST_KEY}"}"\npriority = {i}\ntimeout_ms = 200\n'
            for i, u in enumerate(dead)
        )
        + f'[[rpc.endpoints]]\nname = "localnet"\nhttp = "{localnet.rpc_url}/?api-key=${{SOLARB_TEST_KEY}}"\n'
        f'ws = "{localnet.ws_url}"\npriority = 9\n[rpc]\nprobe_interval_ms = 100\n'
    )
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(demo_config(localnet, tmp_path, eps))
    check = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", "-c", str(cfg_path), "--connect", cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    out, err = await check.communicate()
    assert key not in out.decode() + err.decode()
    log_path = tmp_path / "bot.jsonl"
    log = Log(log_path, console="never")
    bot = Bot(parse_config(cfg_path.read_text()), Mode(send=True, live=False), wallet, log)
    try:
        await run_until(bot, lambda: bool(events(log_path, "trade_confirmed")))
    except BaseException as exc:
        assert key not in repr(exc) and key not in str(exc)
        raise
    finally:
        log.close()
        os.environ.pop("SOLARB_TEST_KEY", None)
    text = log_path.read_text()
    assert (key not in text and "pubsub_error" in text) or "read_endpoint_switched" in text
    assert oct(os.stat(log_path).st_mode & 0o777) == "0o600"
    ledger_file = Path(str(log_path) + ".ledger.sqlite3")
    assert oct(os.stat(ledger_file).st_mode & 0o777) == "0o600"
