"""`solarb report` and `solarb risk` against ledgers on both backends."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread
from test_ledger_backends import SECOND, landed, reverted

from bot.cli import main
from bot.ledger import Ledger, Outcome
from bot.ledger.model import NS_PER_DAY
from bot.ledger.stats import format_lamports, percentile

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _fill(led: Ledger, clock) -> int:
    """Twelve trades over two UTC days; returns their total realized PnL."""
    total = 0
    for i in range(12):
        clock.advance(3 * 3600 * SECOND)
        if i % 4 == 3:
            t = reverted(f"t{i}", error="InstructionError(1, Custom(6005))")
        elif i == 10:
            t = landed(f"t{i}", gain=0, fee=0, outcome=Outcome.EXPIRED, send_to_confirm_ns=None)
        else:
            t = landed(f"t{i}", gain=100_000 * (i + 1), decision_to_sign_ns=30_000 + 1_000 * i)
        total += led.record_trade(t).realized_lamports
    return total


def _assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    img = imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert float(np.ptp(img[..., :3])) > 0.5, f"{path} is blank"


def test_report_table_and_plots(open_ledger, ledger_target, clock, tmp_path, capsys):
    led = open_ledger()
    total = _fill(led, clock)
    led.mark(-1_234)
    plots = tmp_path / "plots"
    assert main(["report", "--ledger", ledger_target, "--plots", str(plots)]) == 0
    out = capsys.readouterr().out
    assert "trades     12  landed 8 (66.7%)  reverted 3  expired 1" in out
    assert f"realized   {format_lamports(total)}" in out
    assert "       3  reverted: InstructionError(1, Custom(6005))" in out
    assert "       1  expired (blockhash too old before landing)" in out
    assert "2026-05-20" in out and "2026-05-21" in out and format_lamports(-1_234) in out
    decision = sorted([30_000 + 1_000 * i for i in range(12) if i % 4 != 3 and i != 10] + [40_000] * 4)
    (row,) = [line for line in out.splitlines() if line.startswith("decision → signed")]
    assert row.split()[3:7] == [
        "12",
        f"{percentile(decision, 50) / 1e3:.1f}",
        "µs",
        f"{percentile(decision, 90) / 1e3:.1f}",
    ]
    (row,) = [line for line in out.splitlines() if line.startswith("sent → confirmed")]
    assert row.split()[3] == "11"  # the expired trade was never confirmed
    for name in ("pnl.png", "latency.png", "outcomes.png"):
        _assert_png(plots / name)


def test_report_since_keeps_the_recent_trades(
    open_ledger, ledger_target, clock, tmp_path, capsys, monkeypatch
):
    led = open_ledger()
    _fill(led, clock)
    monkeypatch.setattr("time.time_ns", lambda: clock.now)
    assert main(["report", "--ledger", ledger_target, "--since", "7h", "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "trades     3 " in out  # booked at now, now - 3 h, now - 6 h
    assert not (tmp_path / "report").exists()


def test_report_of_an_empty_ledger(open_ledger, ledger_target, tmp_path, capsys):
    open_ledger()
    assert main(["report", "--ledger", ledger_target, "--plots", str(tmp_path / "p")]) == 0
    assert "none booked yet" in capsys.readouterr().out
    for name in ("pnl.png", "latency.png", "outcomes.png"):
        _assert_png(tmp_path / "p" / name)


def test_report_finds_the_ledger_through_the_config(tmp_path, monkeypatch, capsys, clock):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.toml").write_text('[cluster]\nname = "localnet"\n')
    with Ledger.open("data/ledger.sqlite3", clock=clock) as led:  # [ledger] path's default
        led.record_trade(landed("c1"))
    assert main(["report", "-c", "bot.toml", "--no-plots"]) == 0
    assert "trades     1  landed 1 (100.0%)" in capsys.readouterr().out


def test_ledger_commands_report_bad_input_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases = [
        ["report", "--ledger", str(tmp_path / "missing.sqlite3")],
        ["risk", "--ledger", str(tmp_path / "missing.sqlite3")],
        ["report"],  # no config.toml here and no --ledger
        ["report", "-c", "nope.toml"],
        ["report", "--ledger", "host=/tmp dbname='unterminated"],
    ]
    (tmp_path / "notadb").write_bytes(b"garbage" * 1000)
    cases.append(["risk", "--ledger", str(tmp_path / "notadb")])
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("solarb: "), (argv, err)
    assert not (tmp_path / "missing.sqlite3").exists()


# ---- solarb risk ---------------------------------------------------------------------------------
def test_risk_shows_and_resets(open_ledger, ledger_target, capsys, clock, monkeypatch):
    monkeypatch.setattr("time.time_ns", lambda: clock.now)  # the command's "today"
    led = open_ledger()
    assert main(["risk", "--ledger", ledger_target]) == 0
    out = capsys.readouterr().out
    assert "kill switch  clear" in out and "quarantined  none" in out and "daily loss   0 lamports" in out

    led.record_trade(reverted("r1", fee=7_000))
    led.trip_kill_switch("daily loss 7000 lamports reached")
    led.quarantine("P1>P2", "reverted on unchanged pool state (Custom(6005))")
    led.quarantine("P3>P4", "2 consecutive reverts (last: Custom(1))")
    assert main(["risk", "--ledger", ledger_target]) == 0
    out = capsys.readouterr().out
    assert (
        "kill switch  TRIPPED since 2026-05-20 12:00:00 UTC by default: daily loss 7000 lamports reached"
        in out
    )
    assert "daily loss   7000 lamports on 2026-05-20 (UTC)" in out
    assert "P1>P2  since 2026-05-20 12:00:00 UTC: reverted on unchanged pool state (Custom(6005))" in out
    assert "P3>P4" in out

    assert main(["risk", "reset", "--ledger", ledger_target]) == 0
    assert "cleared (was tripped since" in capsys.readouterr().out
    assert not led.kill_switch().tripped
    assert [q.route_id for q in led.quarantined()] == ["P1>P2", "P3>P4"]  # routes stay until released
    assert main(["risk", "reset", "--ledger", ledger_target]) == 0
    assert "was not tripped" in capsys.readouterr().out

    assert main(["risk", "reset", "--route", "P1>P2", "--ledger", ledger_target]) == 0
    assert "released     route P1>P2" in capsys.readouterr().out
    assert [q.route_id for q in led.quarantined()] == ["P3>P4"]
    assert main(["risk", "reset", "--route", "P1>P2", "--ledger", ledger_target]) == 2
    assert "route P1>P2 is not quarantined (quarantined: P3>P4)" in capsys.readouterr().err
    assert main(["risk", "--route", "P3>P4", "--ledger", ledger_target]) == 2
    assert "--route goes with" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["risk", "rest", "--ledger", ledger_target])
    assert info.value.code == 2


def test_risk_with_a_config_shows_the_limit_and_warns_a_reset_that_will_not_hold(
    tmp_path, monkeypatch, capsys, clock
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text("[risk]\nmax_daily_loss_lamports = 5000\n")
    monkeypatch.setattr("time.time_ns", lambda: clock.now)
    with Ledger.open("data/ledger.sqlite3", clock=clock) as led:
        led.record_trade(reverted("r1", fee=6_000))
        led.trip_kill_switch(
            "daily loss 6000 lamports on 2026-05-20 (UTC) reached max_daily_loss_lamports 5000"
        )
    assert main(["risk"]) == 0
    assert "6000 lamports of max_daily_loss_lamports 5000" in capsys.readouterr().out
    assert main(["risk", "reset"]) == 0
    assert "the bot trips again" in capsys.readouterr().out
    clock.advance(NS_PER_DAY)
    with Ledger.open("data/ledger.sqlite3", clock=clock) as led:
        led.trip_kill_switch("again")
    assert main(["risk", "reset"]) == 0
    assert "the bot trips again" not in capsys.readouterr().out  # a new day: the limit has room again
