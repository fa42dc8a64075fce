"""`solarb risk`: show the kill switch, today's loss and quarantined routes; `solarb risk reset` clears
the kill switch, `solarb risk reset --route ID` releases a quarantined route."""

from __future__ import annotations

import argparse
from typing import Any

from bot.errors import UsageError
from bot.ledger.command import add_ledger_arguments, load_command_config, open_command_ledger
from bot.ledger.ledger import RiskState
from bot.ledger.model import format_utc
from bot.ledger.stats import format_lamports


def register(sub: Any) -> None:
    p = sub.add_parser(
        "risk",
        help="show or reset the kill switch, the daily loss and quarantined routes",
        description="Show the risk state kept in the ledger (shared by every instance using it). "
        "`risk reset` clears the kill switch; `risk reset --route ID` releases a quarantined route instead.",
    )
    p.add_argument(
        "action", nargs="?", default="show", choices=("show", "reset"), help="show (default) or reset"
    )
    add_ledger_arguments(p)
    p.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="ID",
        help="with reset: release this quarantined route (repeatable); the kill switch is left alone",
    )
    p.set_defaults(func=run)


def render(st: RiskState, limit: int | None, where: str) -> list[str]:
    ks = st.kill_switch
    lines = [f"ledger       {where}"]
    if ks.tripped:
        by = f" by {ks.instance}" if ks.instance else ""
        lines.append(f"kill switch  TRIPPED since {format_utc(ks.since_ns)}{by}: {ks.reason}")
        lines.append("             `solarb risk reset` clears it")
    else:
        lines.append("kill switch  clear")
    d = st.daily
    limit_text = f" of max_daily_loss_lamports {limit}" if limit is not None else ""
    lines.append(
        f"daily loss   {d.loss_lamports} lamports{limit_text} on {d.day} (UTC): realized "
        f"{format_lamports(d.realized_lamports)}, marked {format_lamports(d.marked_lamports)}, {d.trades} trades"
    )
    if not st.quarantined:
        lines.append("quarantined  none")
    for i, q in enumerate(st.quarantined):
        head = "quarantined" if i == 0 else ""
        lines.append(f"{head:<12} {q.route_id}  since {format_utc(q.since_ns)}: {q.reason}")
    return lines


def run(args: argparse.Namespace) -> int:
    if args.route and args.action != "reset":
        raise UsageError("--route goes with `solarb risk reset --route ID`")
    cfg = load_command_config(args)
    limit = cfg.risk.max_daily_loss_lamports if cfg is not None else None
    with open_command_ledger(args, cfg) as led:
        where = f"{led.where} ({led.dialect})"
        if args.action == "show":
            for line in render(led.risk_state(), limit, where):
                print(line)
            return 0
        if args.route:
            known = {q.route_id for q in led.quarantined()}
            unknown = [r for r in args.route if r not in known]
            if unknown:
                listed = ", ".join(sorted(known)) or "none"
                raise UsageError(
                    f"route {unknown[0]} is not quarantined (quarantined: {listed}); see `solarb risk`"
                )
            for route in args.route:
                led.unquarantine(route)
                print(f"released     route {route}")
            return 0
        before = led.reset_kill_switch()
        if not before.tripped:
            print("kill switch  was not tripped")
            return 0
        print(f"kill switch  cleared (was tripped since {format_utc(before.since_ns)}: {before.reason})")
        day = led.daily_pnl()
        if limit is not None and day.loss_lamports > 0 and day.loss_lamports >= limit:
            print(
                f"warning      today's loss {day.loss_lamports} lamports is still at or above max_daily_loss_lamports "
                f"{limit}: the bot trips again on its next trade check; raise the limit or wait for 00:00 UTC"
            )
    return 0
