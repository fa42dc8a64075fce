"""benches/bench_amm_v4_cu.py runs end to end (a tiny run: behaviour, not timing)."""

from __future__ import annotations

from benches import bench_amm_v4_cu


def test_bench_reports_every_form_and_instruction() -> None:
    report = bench_amm_v4_cu.run(swaps=3, seed=1)
    assert len(report) == 6
    for name, row in report.items():
        assert row["n"] == 3, name
        assert row["token_program_p50"] > 0 and row["own_p50"] > 0, name
        assert row["p50"] <= row["p90"] <= row["max"] and row["ratio_to_floor"] > 1, name
