"""`solarb pools` against a real localnet: dataSize + memcmp filters find exactly the pair's pools."""

from __future__ import annotations

import asyncio

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from bot.cli import main
from bot.config import MAINNET_PROGRAMS
from strategies.venues import registry
from strategies.venues.base import Venue


def _key() -> Pubkey:
    return Keypair().pubkey()


def _pool_data(size: int, off_a: int, off_b: int, mint_a: Pubkey, mint_b: Pubkey) -> bytes:
    data = bytearray(size)
    data[off_a : off_a + 32] = bytes(mint_a)
    data[off_b : off_b + 32] = bytes(mint_b)
    return bytes(data)


@pytest.mark.localnet
async def test_pools_discovers_both_mint_orders_on_every_venue(localnet, capsys):
    sol, usdc, other = _key(), _key(), _key()
    expected = set()
    for venue, adapter in registry.ADAPTERS.items():
        size, (off_a, off_b) = adapter.pool_account_size, adapter.mint_offsets
        owner = Pubkey.from_string(MAINNET_PROGRAMS[venue.name])
        # Every size a pool of the venue may have (PumpSwap pools grow: one per layout version).
        assert size in adapter.pool_account_sizes
        for n in adapter.pool_account_sizes:
            for a, b in ((sol, usdc), (usdc, sol)):
                pk = _key()
                localnet.set_account(pk, data=_pool_data(n, off_a, off_b, a, b), owner=owner)
                expected.add((venue.name, str(pk)))
        # decoys: other pair, wrong size, wrong owner
        localnet.set_account(
            _key(),
            data=_pool_data(size, off_a, off_b, sol, other),
            owner=owner,
        )
        localnet.set_account(
            _key(),
            data=_pool_data(max(adapter.pool_account_sizes) + 8, off_a, off_b, sol, usdc),
            owner=owner,
        )
        localnet.set_account(
            _key(),
            data=_pool_data(size, off_a, off_b, sol, usdc),
            owner=_key(),
        )
    await localnet.wait_finalized()  # getProgramAccounts reads at the node's default (finalized)
    code = await asyncio.to_thread(
        main,
        [
            "pools",
            "--mint-a",
            str(sol),
            "--mint-b",
            str(usdc),
            "--rpc",
            localnet.rpc_url,
            "--cluster",
            "localnet",
        ],
    )
    out = capsys.readouterr().out
    assert code == 0
    entries = out.split("[[pools]]")[1:]
    got, commented = set(), set()
    for entry in entries:
        lines = [line.removeprefix("# ") for line in entry.strip().splitlines()]
        fields = dict(line.split(" = ") for line in lines if line.startswith(("venue", "address")))
        found = (fields["venue"].strip('"'), fields["address"].strip('"'))
        got.add(found)
        if f"# address = {fields['address']}" in entry:
            commented.add(found)
    assert got == expected, out
    # venues the bot cannot trade are commented out, so the output pastes into a config that loads
    assert commented == {(v, a) for v, a in expected if registry.adapter(Venue[v]).executable is not None}


def test_pools_bad_mint_is_a_usage_error(capsys):
    assert (
        main(["pools", "--mint-a", "not-a-key", "--mint-b", "So11111111111111111111111111111111111111112"])
        == 2
    )
    assert "--mint-a" in capsys.readouterr().err


def test_pools_unreachable_rpc_is_a_runtime_failure(capsys):
    mint = "So11111111111111111111111111111111111111112"
    other = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    assert (
        main(["pools", "--mint-a", mint, "--mint-b", other, "--rpc", "http://127.0.0.1:9", "--timeout", "2"])
        == 1
    )
    assert "getProgramAccounts" in capsys.readouterr().err
