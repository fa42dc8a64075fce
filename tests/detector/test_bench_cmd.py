"""`solarb bench` runs end to end and reports what it promises (behaviour only, never timing)."""

from __future__ import annotations

import json

from bot.cli import main


def test_bench_json_reports_every_mode_and_checks_correctness(capsys):
    assert main(["bench", "--pools", "10,40", "--updates", "500", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["pools"] for r in doc["runs"]] == [12, 42]  # whole clusters of 3 pairs x 2 pools
    for r in doc["runs"]:
        for mode in ("floor", "kernel", "kernel_direct", "reference"):
            assert r[mode]["p50_us"] > 0 and r[mode]["p99_us"] >= r[mode]["p50_us"]
        assert r["checked_updates"] > 0  # kernel == reference replay ran after timing
        assert r["routes_per_update_mean"] > 0
    assert {"min_ratio_p50", "min_ratio_p50_direct", "incremental_growth_p50"} <= set(doc)
    assert doc["same_working_set"]["pools_updated"] == 12 and doc["incremental_growth_same_working_set"] > 0


def test_bench_table_and_bad_pools(capsys):
    assert main(["bench", "--pools", "10", "--updates", "500"]) == 0
    assert "ratio" in capsys.readouterr().out
    assert main(["bench", "--pools", "ten"]) == 2
    assert "--pools" in capsys.readouterr().err
