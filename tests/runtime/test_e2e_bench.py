"""The e2e harness's pieces: its market leaves a trade open on every update, its config is a real
config, the conflation rule of the rate search, and one short run of the real pipeline across its
three processes (every update decided, every trade at all 3 endpoints, the transaction written
before its signatureSubscribe)."""

from __future__ import annotations

import argparse
from array import array

import numpy as np
import pytest

from bot import e2e_bench as B
from bot import e2e_market as M
from bot.config import parse_config


def test_every_update_moves_one_pool_to_reserves_of_its_own() -> None:
    seen = set()
    for seq in range(2_000):
        pool, vault_a, vault_b = M.swap_accounts(seq)
        assert pool[0] == str(M.address(f"pool/{M.moving_pool(seq)}"))
        amounts = (M.moving_pool(seq), vault_a[1][64:72], vault_b[1][64:72])
        assert amounts not in seen  # a trade of its own (its own signature) on every update
        seen.add(amounts)
    cfg = parse_config(M.config_toml(), source="e2e", env={})
    assert [p.address for p in cfg.pools] == [str(M.address(f"pool/{n}")) for n in M.POOLS]


def test_a_conflated_update_is_covered_by_the_next_decision() -> None:
    sent = array("q", [100, 200, 300, 400])
    decided = array("q", [150, 0, 450, 0])  # update 1 conflated into 2's decision; 3 never decided
    assert list(B.covered_latency(sent, decided)) == [0.05, 0.25, 0.15]


@pytest.mark.slow
async def test_a_short_run_decides_every_update_and_writes_before_subscribing() -> None:
    args = argparse.Namespace(transport="picows", gap_us=1_500, updates=100, rates=False, rate_s=0.4,
                              memory_updates=100, profile=False)  # fmt: skip
    h = B.Harness(args)
    await h.setup()
    try:
        out = await h.latency(100, pinned=False)
    finally:
        await h.close()
    for t, r in out.items():
        assert r["decided"] == 100, t
        assert r["sent_at3"] >= 95, t  # a trade whose pools were still busy is refused, not lost
        assert r["subscribe_before_write"] == 0, t
        f2d = r["frame_to_decision"]
        assert np.isfinite(f2d["ratio_p50"]) and f2d["project"]["n"] == 100 and f2d["floor"]["n"] == 100
