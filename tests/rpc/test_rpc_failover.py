"""Sending and reading that survive a bad endpoint, on a real localnet: an endpoint ranked first that
answers 429 (Retry-After), 500, garbage, nothing, or a slot far behind does not stop transfers landing
through the healthy one, is demoted by the pool's health, and is used again once it heals. Reads fail
over the same way, each switch of the preferred read endpoint is reported once, and a dead first read
endpoint does not stop start-up.

The bad endpoint is a `FakeEndpoint` that forwards to the same localnet when it behaves ("ok"/"lag"),
so landing and healing are real. ``fan_out=1`` makes ranking decide alone where a send goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from rpc_fakes import FakeEndpoint, dead_url
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from rpc import errors
from rpc import requests as rq
from rpc.client import RpcClient
from rpc.health import HealthPolicy
from rpc.pool import EndpointConfig, EndpointPool, PoolClient, Role
from rpc.submit import RpcSender

pytestmark = pytest.mark.localnet

SOL = 1_000_000_000
POLICY = HealthPolicy(failure_threshold=3, cooldown_s=0.2, max_slot_lag=10)
PROBE_S = 0.02
# What the switch away from the bad endpoint says (its first failure, or why it ranks lower).
REASONS = {
    "429": "HTTP 429",
    "500": "HTTP 500",
    "garbage": "not a JSON-RPC response",
    "hang": "no response within",
    "lag": "slot lag",
}


async def _wait(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.01)


def _transfer(payer: Keypair, to: Pubkey, lamports: int, blockhash: str) -> bytes:
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    return bytes(
        Transaction.new_signed_with_payer([ix], payer.pubkey(), [payer], Hash.from_string(blockhash))
    )


async def _land(sender: RpcSender, tx: bytes, attempts: int = 8) -> tuple[str, ...]:
    """Send, re-sending the same bytes after a refusal (what a rebroadcast does); who took it."""
    for _ in range(attempts):
        try:
            return (await sender.send(tx)).accepted
        except errors.AllEndpointsFailed:
            await asyncio.sleep(0.05)
    raise AssertionError("no endpoint took the transaction")


def _status(pool: EndpointPool, name: str) -> Any:
    return next(s for s in pool.snapshot() if s.name == name)


@pytest.mark.parametrize("mode", ["429", "500", "garbage", "hang", "lag"])
async def test_bad_first_endpoint_is_demoted_sends_land_and_it_recovers(localnet: Any, mode: str) -> None:
    if mode == "lag":  # enough slots for a lag of 500 to be visible
        localnet.pause_clock()
        localnet.advance_slots(600)
        localnet.resume_clock()
    bad = await FakeEndpoint(mode, upstream=localnet.rpc_url, retry_after=b"1", lag_slots=500).start()
    pool = EndpointPool(
        [
            EndpointConfig("bad", bad.url, priority=0, timeout_s=0.3),
            EndpointConfig("good", localnet.rpc_url, priority=1, timeout_s=2.0),
        ],
        policy=POLICY,
    )
    switches: list[tuple[str | None, str, str]] = []
    reader = PoolClient(pool, on_switch=lambda old, new, why: switches.append((old, new, why)))
    sender = RpcSender(pool, fan_out=1)
    direct = RpcClient(localnet.rpc_url)
    probing = asyncio.create_task(pool.run_probing(PROBE_S, timeout_s=0.3))
    payer, dest = Keypair(), Keypair()
    localnet.airdrop(payer.pubkey(), SOL)
    try:
        takers = []
        for i in range(5):
            bh = await reader.get_latest_blockhash(commitment="processed")
            takers.append(await _land(sender, _transfer(payer, dest.pubkey(), 1000 + i, bh.blockhash)))
            if i == 0:  # a lagging slot only shows once a probe round has compared the endpoints
                await _wait(lambda: pool.by_name("good").health.probes >= 1)
        await _wait(lambda: localnet.balance(dest.pubkey()) == sum(1000 + i for i in range(5)))
        assert all(t == ("good",) for t in takers[1:]), takers  # demoted after its first answer at most
        assert bad.count("sendTransaction") <= 1
        assert _status(pool, "bad").rank == 1 and _status(pool, "good").rank == 0
        assert [(old, new) for old, new, _ in switches] == [("bad", "good")]
        assert REASONS[mode] in switches[0][2], switches

        bad.mode = "ok"  # heals
        await _wait(lambda: _status(pool, "bad").rank == 0 and _status(pool, "bad").why == "healthy")
        bh = await reader.get_latest_blockhash(commitment="processed")
        assert await _land(sender, _transfer(payer, dest.pubkey(), 7, bh.blockhash)) == ("bad",)
        await _wait(lambda: localnet.balance(dest.pubkey()) == sum(1000 + i for i in range(5)) + 7)
        assert [(old, new) for old, new, _ in switches] == [("bad", "good"), ("good", "bad")]
        assert "ranks above" in switches[1][2]
    finally:
        probing.cancel()
        await asyncio.gather(probing, return_exceptions=True)
        await sender.aclose()
        await pool.close()
        await direct.close()
        await bad.stop()


async def test_dead_first_read_endpoint_does_not_stop_start_up(localnet: Any) -> None:
    pool = EndpointPool(
        [
            EndpointConfig("dead", await dead_url("/v2/api-key-123456"), priority=0, timeout_s=1.0),
            EndpointConfig("local", localnet.rpc_url, priority=1),
        ],
        policy=POLICY,
    )
    switches: list[tuple[str | None, str, str]] = []
    reader = PoolClient(pool, on_switch=lambda old, new, why: switches.append((old, new, why)))
    try:
        assert await reader.get_health() == "ok"  # the start-up check, before any probe ran
        assert await reader.get_slot(commitment="processed") >= 0
        for _ in range(3):
            await reader.get_latest_blockhash(commitment="processed")
        assert len(switches) == 1 and switches[0][:2] == ("dead", "local")
        assert "connect failed" in switches[0][2] and "api-key-123456" not in switches[0][2]
        assert reader.preferred.name == "local" and reader.endpoint == localnet.rpc_url
        assert _status(pool, "dead").rank == 1 and _status(pool, "dead").consecutive_failures == 1
    finally:
        await pool.close()


async def test_reads_fail_over_on_endpoint_faults_but_not_on_application_errors(localnet: Any) -> None:
    first = await FakeEndpoint("ok", upstream=localnet.rpc_url).start()
    second = await FakeEndpoint("ok", upstream=localnet.rpc_url).start()

    def make_pool() -> EndpointPool:
        return EndpointPool(
            [
                EndpointConfig("first", first.url, priority=0, timeout_s=0.3),
                EndpointConfig("second", second.url, priority=1),
                EndpointConfig("sender-only", second.url, priority=0, roles=frozenset({Role.SEND})),
            ],
            policy=POLICY,
        )

    pool = make_pool()
    reader = PoolClient(pool)
    try:
        # A JSON-RPC error about the request is the answer: not retried elsewhere.
        with pytest.raises(errors.InvalidParams):
            await reader.get_balance("not-a-pubkey")
        assert first.count("getBalance") == 1 and second.count("getBalance") == 0
        assert _status(pool, "first").consecutive_failures == 0
        # Batches fail over as a whole; per-call errors stay results.
        first.mode = "garbage"
        got = await reader.batch([rq.get_slot(commitment="processed"), rq.get_balance("not-a-pubkey")])
        assert isinstance(got[0], int) and isinstance(got[1], errors.InvalidParams)
        await pool.close()
        for mode in ("garbage", "500", "hang", "429", "close"):
            first.mode = mode
            pool = make_pool()
            reader = PoolClient(pool)
            before = second.count("getSlot")
            assert await reader.get_slot(commitment="processed") > 0, mode
            assert first.count("getSlot") >= 1 and second.count("getSlot") == before + 1, mode
            assert (
                reader.preferred.name == "second"
                and _status(pool, "first").rank > _status(pool, "second").rank
            )
            await pool.close()
        # Every read endpoint down: one typed error per endpoint.
        first.mode = second.mode = "500"
        pool = make_pool()
        reader = PoolClient(pool)
        with pytest.raises(errors.AllEndpointsFailed) as info:
            await reader.get_slot()
        assert set(info.value.errors) == {"first", "second"} and errors.is_retryable(info.value)
        assert all(isinstance(e, errors.HttpStatusError) for e in info.value.errors.values())
    finally:
        await pool.close()
        await first.stop()
        await second.stop()
