"""Shared pytest fixtures.

`localnet` (async, function-scoped): a real localnet cluster (LiteSVM + HTTP JSON-RPC + WebSocket PubSub)
started in this process on free loopback ports with a 10 ms slot clock, stopped after the test.

    @pytest.mark.localnet
    async def test_something(localnet):
        client = AsyncClient(localnet.rpc_url)            # solana-py, unmodified
        async with connect(localnet.ws_url) as ws: ...    # solana.rpc.websocket_api.connect
        payer = Keypair(); localnet.airdrop(payer.pubkey(), 10**10)
        mint = localnet.create_mint(authority=payer.pubkey(), decimals=6)
        ata = localnet.create_token_account(mint, owner=payer.pubkey(), amount=1_000_000)
        localnet.add_program(program_id, "path/to/program.so")      # or ELF bytes
        localnet.load_account_file(FIXTURES / "orca_rpr_vault_a.json")
        localnet.set_account(pubkey, lamports=..., data=b"...", owner=program_id)
        localnet.get_account(pubkey)  localnet.balance(pubkey)  localnet.token_amount(ata)
        localnet.transaction(signature)  # TxRecord: fee, err, logs, pre/post balances
        localnet.pause_clock(); localnet.advance_slots(n); localnet.resume_clock()
        await localnet.wait_for_slot(n); await localnet.wait_finalized()

Commitments: processed = current slot, confirmed = 1 slot later, finalized = 32 slots later (320 ms here).
State set with the helpers above lands in the current slot like a transaction would: solana-py defaults to
`finalized`, so read with `Processed`/`Confirmed` or `await localnet.wait_finalized()` first. (A
`Localnet(...)` seeded *before* `start()` puts that state in slot 0, which counts as finalized at once.)
A blockhash stays valid for 150 blocks (1.5 s at 10 ms slots): fetch it right before signing.
The object is `localnet.server.Localnet`; see its docstrings for every method.

`localnet_factory` (async, function-scoped): `net = await localnet_factory(slot_ms=400, seed=fn)` starts
more clusters or other settings (any `Localnet` keyword; `seed(net)` runs before `start()`, so that state
sits in slot 0 and is finalized at once); all are stopped after the test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

# Real account dumps, official vectors and CEX samples: copied verbatim from the team's shared/fixtures
# into the repository (tests/fixtures/shared, with its README of provenance) so a fresh clone has them.
os.environ.setdefault("SOLARB_FIXTURES", str(Path(__file__).resolve().parent / "fixtures" / "shared"))


@pytest.fixture
async def localnet() -> AsyncIterator[Any]:
    from localnet.server import Localnet

    net = Localnet(rpc_port=0, slot_ms=10.0)
    await net.start()
    try:
        yield net
    finally:
        await net.stop()


@pytest.fixture
async def localnet_factory() -> AsyncIterator[Any]:
    from localnet.server import Localnet

    started: list[Any] = []

    async def make(seed: Any = None, **kwargs: Any) -> Any:
        net = Localnet(**{"rpc_port": 0, "slot_ms": 10.0, **kwargs})
        if seed is not None:
            seed(net)
        await net.start()
        started.append(net)
        return net

    try:
        yield make
    finally:
        for net in started:
            await net.stop()


@pytest.fixture(params=["websockets", "picows"])
def ws_transport(request: pytest.FixtureRequest) -> str:
    """Each PubSub test runs on both websocket libraries (`rpc.ws`): one suite, every transport."""
    return str(request.param)
