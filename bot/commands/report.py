"""`solarb report`: PnL, landing rate, failures by reason and latency from the ledger, as a table on
stdout and as PNG plots (cumulative PnL, latency histograms, outcomes by reason) in a directory."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.commands.logs import parse_since
from bot.errors import UsageError
from bot.ledger.command import add_ledger_arguments, load_command_config, open_command_ledger
from bot.ledger.model import DailyPnl, Trade, format_utc
from bot.ledger.stats import STAGES, Summary, cumulative_pnl, format_lamports, format_ns, summarize

DEFAULT_PLOTS = "report"
PLOTS = ("pnl.png", "latency.png", "outcomes.png")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="PnL, landing rate, failures and latency from the ledger (table and PNG plots)",
        description="Summarize the ledger's booked trades: realized PnL (per UTC day too), landing rate, "
        "failures by reason and latency percentiles per stage; write plots as PNG files.",
    )
    add_ledger_arguments(p)
    p.add_argument(
        "--since", metavar="T", help="only trades booked in the last 10m / 2h / 1d or since an ISO-8601 time"
    )
    p.add_argument(
        "--plots",
        metavar="DIR",
        default=DEFAULT_PLOTS,
        help=f"directory for the PNG plots (default {DEFAULT_PLOTS})",
    )
    p.add_argument("--no-plots", action="store_true", help="print the table only")
    p.set_defaults(func=run)


def render_table(s: Summary, days: Sequence[DailyPnl], where: str) -> list[str]:
    lines = [f"ledger     {where}"]
    if not s.trades:
        lines.append("trades     none booked yet")
    else:
        lines += [
            f"period     {format_utc(s.first_ns)[:-4]} .. {format_utc(s.last_ns)}",
            f"trades     {s.trades}  landed {s.landed} ({s.landing_rate:.1%})  reverted {s.reverted}  "
            f"expired {s.expired}",
            f"realized   {format_lamports(s.realized_lamports)}",
            f"costs      fees {s.fee_lamports} lamports  tips {s.tip_lamports} lamports",
            f"landed     expected {format_lamports(s.expected_landed_lamports)}  "
            f"realized {format_lamports(s.realized_landed_lamports)}",
        ]
    if days:
        lines.append("")
        lines.append(f"{'day (UTC)':<12} {'trades':>6} {'realized':>30} {'marked':>30} {'total':>30}")
        for d in days:
            lines.append(
                f"{d.day:<12} {d.trades:>6} {format_lamports(d.realized_lamports):>30} "
                f"{format_lamports(d.marked_lamports):>30} {format_lamports(d.total_lamports):>30}"
            )
    if s.failures:
        lines.append("")
        lines.append(f"{'failures':>8}  reason")
        lines += [f"{n:>8}  {reason}" for reason, n in s.failures]
    if s.latency:
        lines.append("")
        lines.append(f"{'latency':<20} {'n':>6} {'p50':>10} {'p90':>10} {'p99':>10} {'max':>10}")
        for lat in s.latency:
            lines.append(
                f"{lat.label:<20} {lat.n:>6} {format_ns(lat.p50):>10} {format_ns(lat.p90):>10} "
                f"{format_ns(lat.p99):>10} {format_ns(lat.max):>10}"
            )
    return lines


def write_plots(trades: Sequence[Trade], summary: Summary, out: Path) -> list[Path]:
    """pnl.png, latency.png and outcomes.png in `out` (created). Returns their paths."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in PLOTS]

    fig, ax = plt.subplots(figsize=(10, 4.5))
    times, running = cumulative_pnl(trades)
    if times:
        when = mdates.date2num([dt.datetime.fromtimestamp(t / 1e9, dt.UTC) for t in times])  # type: ignore[no-untyped-call]
        sol = [v / 1e9 for v in running]  # display only
        ax.step(when, sol, where="post", color="tab:blue", linewidth=1.5)
        ax.fill_between(when, sol, step="post", alpha=0.15, color="tab:blue")
        if max(when) - min(when) < 60 / 86_400:
            # Trades booked within a minute (a test, a short run): a date locator asked for a span of
            # microseconds fails inside matplotlib; show a minute either side instead.
            ax.set_xlim(min(when) - 60 / 86_400, max(when) + 60 / 86_400)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(tz=dt.UTC))  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=dt.UTC))  # type: ignore[no-untyped-call]
        fig.autofmt_xdate()
    else:
        ax.text(0.5, 0.5, "no trades booked", ha="center", va="center", transform=ax.transAxes)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_title(f"Cumulative realized PnL: {format_lamports(summary.realized_lamports)}")
    ax.set_ylabel("SOL")
    ax.set_xlabel("booked at (UTC)")
    ax.grid(alpha=0.3)
    _save(fig, paths[0])
    plt.close(fig)

    fig, axes = plt.subplots(1, len(STAGES), figsize=(13, 4))
    for ax, (attr, label) in zip(axes, STAGES, strict=True):
        lat = next((x for x in summary.latency if x.stage == attr), None)
        unit, scale = ("ms", 1e6) if lat is not None and lat.max >= 10_000_000 else ("µs", 1e3)
        values = [v / scale for t in trades if (v := getattr(t, attr)) is not None]
        if values and lat is not None:
            ax.hist(values, bins=40, color="tab:purple", alpha=0.8)
            for q, v, style in (("p50", lat.p50, "-"), ("p99", lat.p99, "--")):
                ax.axvline(
                    v / scale, color="black", linestyle=style, linewidth=1, label=f"{q} {format_ns(v)}"
                )
            ax.legend(fontsize=8)
            ax.ticklabel_format(axis="x", useOffset=False, style="plain")
        else:
            ax.text(0.5, 0.5, "no samples", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(label)
        ax.set_xlabel(unit)
    axes[0].set_ylabel("trades")
    fig.suptitle("Latency per stage")
    _save(fig, paths[1])
    plt.close(fig)

    rows = [("landed", summary.landed), *summary.failures]
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.45 * len(rows)))
    labels = [r if len(r) <= 60 else r[:57] + "..." for r, _ in rows]
    colors = ["tab:green"] + ["tab:red"] * (len(rows) - 1)
    ax.barh(labels[::-1], [n for _, n in rows][::-1], color=colors[::-1])
    for i, (_, n) in enumerate(rows[::-1]):
        ax.text(n, i, f" {n}", va="center")
    ax.set_title(f"Outcomes: {summary.trades} trades, {summary.landing_rate:.1%} landed")
    ax.set_xlabel("trades")
    _save(fig, paths[2])
    plt.close(fig)
    return paths


def run(args: argparse.Namespace) -> int:
    cfg = load_command_config(args)
    since_ns = parse_since(args.since, time.time_ns()) if args.since else None
    with open_command_ledger(args, cfg) as led:
        trades = led.trades(since_ns=since_ns)
        days = led.daily_history()
        where = f"{led.where} ({led.dialect})"
    if since_ns is not None:
        days = [
            d for d in days if d.day >= dt.datetime.fromtimestamp(since_ns / 1e9, dt.UTC).date().isoformat()
        ]
    summary = summarize(trades)
    for line in render_table(summary, days, where):
        print(line)
    if not args.no_plots:
        try:
            paths = write_plots(trades, summary, Path(args.plots))
        except OSError as err:
            raise UsageError(f"--plots {args.plots}: cannot write the plots: {err.strerror}") from err
        print("")
        print("plots      " + "  ".join(str(p) for p in paths))
    return 0


def _save(fig: Any, path: Any) -> None:
    """Lay out and write one figure. matplotlib's automatic tick placement has been seen to fail
    ("arange: cannot compute length") on small ranges inside a long-lived process; the figure is then
    drawn with plain evenly spaced ticks instead of not at all."""
    from matplotlib.ticker import LinearLocator

    try:
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    except ValueError:
        for ax in fig.axes:
            ax.yaxis.set_major_locator(LinearLocator(5))
            ax.xaxis.set_major_locator(LinearLocator(5))
        fig.savefig(path, dpi=100)
