"""benches/bench_localnet.py runs end to end (a tiny run: behaviour, not timing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.localnet
ROOT = Path(__file__).resolve().parents[2]


def test_bench_reports_every_mode_against_the_floor() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benches.bench_localnet",
            "--chunks",
            "2",
            "--chunk",
            "20",
            "--conns",
            "4",
            "--notify",
            "5",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = orjson.loads(out.stdout)
    tp = report["throughput"]
    assert (
        tp["floor_tx_s"] > 0
        and tp["getslot_round_trip_us"] > 0
        and tp["chunks"] == 2
        and tp["chunk_txs"] == 20
        and tp["conns"] == 4
    )
    for mode in ("inproc", "seq", "conc", "conc_inline"):
        m = tp[mode]
        assert m["tx_s"] > 0 and m["ratio"] > 0 and m["chunk_ratio_p10"] <= m["chunk_ratio_p90"]
    for mode in ("seq", "conc", "conc_inline"):
        assert tp[mode]["server_cpu_us_per_tx"] >= 0  # (clock ticks: a tiny run may read 0)
    lat = report["notification_latency"]
    assert lat["n"] == 5 and 0 < lat["p50_us"] <= lat["p99_us"]
