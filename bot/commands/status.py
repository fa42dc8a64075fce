"""`solarb status`: ask a running bot for its state (its `[status]` endpoint on loopback)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot.config import load_config
from bot.errors import RuntimeFailure, UsageError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "status",
        help="show a running bot's state (slot, endpoints, pools, routes, trades in flight, PnL, kill switch)",
        description="Ask the bot started with the same config for its state, through its [status] endpoint.",
    )
    p.add_argument(
        "-c", "--config", default="config.toml", help="config file of the running bot (default config.toml)"
    )
    p.add_argument("--port", type=int, default=None, help="status port (default: the config's [status] port)")
    p.add_argument("--json", action="store_true", help="print the whole JSON document")
    p.set_defaults(func=run)


async def fetch(host: str, port: int, timeout_s: float = 5.0) -> dict[str, Any]:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError) as err:
        raise RuntimeFailure(f"no bot answers on {host}:{port} ({type(err).__name__}); is `solarb run` "
                             "running with this config's [status] port?") from None  # fmt: skip
    try:
        writer.write(f"GET /status HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        raw = await asyncio.wait_for(reader.read(), timeout_s)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeFailure(
            f"{host}:{port} answered {head.splitlines()[0].decode(errors='replace') if head else 'nothing'}"
        )
    try:
        doc: dict[str, Any] = json.loads(body)
    except ValueError as err:
        raise RuntimeFailure(f"{host}:{port} did not answer JSON: {err}") from None
    return doc


def lines(doc: dict[str, Any]) -> list[str]:
    out = [
        f"uptime    {doc['uptime_s']} s   mode {doc['mode']}   wallet {doc['wallet']}",
        f"slot      bot {doc['slot']['bot']}   cluster {doc['slot']['cluster']}   behind {doc['slot']['behind']}",
    ]
    for e in doc["endpoints"]:
        out.append(
            f"endpoint  {e['name']:<12} rank {e['rank']}  {e['state']:<9} lag {e['slot_lag']}  {e['why']}"
        )
    c = doc["pools"]["counts"]
    out.append("pools     " + "   ".join(f"{k} {v}" for k, v in c.items()))
    if "routes" in doc:
        out.append("routes    " + "   ".join(f"{k} {v}" for k, v in doc["routes"].items()))
        t = doc["trades"]
        out.append(
            f"trades    in flight {len(doc['in_flight'])}   sent {t['sent']}   landed {t['landed']}   "
            f"reverted {t['reverted']}   realized {t['realized_lamports']:+,} lamports"
        )
    p = doc["pnl_today"]
    out.append(
        f"pnl       {p['day']} realized {p['realized_lamports']:+,} marked {p['marked_lamports']:+,} lamports "
        f"({p['trades']} trades)"
    )
    ks = doc["kill_switch"]
    out.append(f"kill      {'TRIPPED: ' + ks['reason'] if ks['tripped'] else 'not tripped'}")
    return out


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    port = args.port if args.port is not None else cfg.status.port
    if not port:
        raise UsageError(
            f"{args.config}: [status] port is 0 (off); set it (e.g. 8950) and restart the bot, or pass --port"
        )
    doc = asyncio.run(fetch(cfg.status.host, port))
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print("\n".join(lines(doc)))
    return 0
