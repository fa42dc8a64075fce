"""`solarb check`: validate config and keypair, print a summary; `--connect` probes each endpoint."""

from __future__ import annotations

import argparse
import time
import urllib.error
import urllib.request
from typing import Any

import orjson

from bot.app import load_setup
from bot.config import Config, redact_url


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="validate the config and keypair and print a summary",
        description="Validate config and keypair, print cluster, endpoints, pools, wallet and mode.",
    )
    p.add_argument("-c", "--config", default="config.toml", help="config file (default config.toml)")
    p.add_argument("--live", action="store_true", help="check as `run --live` would")
    p.add_argument("--dry-run", action="store_true", help="check as `run --dry-run` would")
    p.add_argument("--connect", action="store_true", help="also ask each endpoint getHealth/getSlot and show latency")
    p.set_defaults(func=run)


def _call(url: str, method: str, timeout_s: float) -> tuple[Any, float]:
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []})
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:
        data = orjson.loads(resp.read())
    dt_ms = (time.perf_counter() - t0) * 1e3
    if "error" in data:
        return f"error {data['error'].get('code')}: {data['error'].get('message')}", dt_ms
    return data.get("result"), dt_ms


def summary(cfg: Config, mode_name: str, pubkey: str) -> list[str]:
    lines = [
        f"cluster   {cfg.cluster.name}",
        f"mode      {mode_name}",
        f"wallet    {pubkey}",
    ]
    for ep in cfg.endpoints():
        lines.append(
            f"endpoint  {ep.name:<12} prio {ep.priority:<3} roles {','.join(ep.roles):<16} "
            f"{redact_url(ep.http)}  ws {redact_url(ep.ws) if ep.ws else '-'}"
        )
    for venue, pid in cfg.programs().items():
        lines.append(f"program   {venue:<16} {pid}")
    lines.append(f"pools     {len(cfg.pools)}" + "".join(f"\n          {p.venue:<16} {p.address}" for p in cfg.pools))
    lines.append(f"feeds     {', '.join(f'{f.venue}:{len(f.symbols)}' for f in cfg.feeds.cex) or '-'}")
    return lines


def run(args: argparse.Namespace) -> int:
    cfg, mode, wallet = load_setup(args.config, live_flag=args.live, dry_run_flag=args.dry_run)
    for line in summary(cfg, mode.name, str(wallet.pubkey)):
        print(line)
    if not args.connect:
        return 0
    failed = 0
    for ep in cfg.endpoints():
        timeout = ep.timeout_ms / 1e3
        try:
            health, h_ms = _call(ep.http, "getHealth", timeout)
            slot, s_ms = _call(ep.http, "getSlot", timeout)
            print(f"connect   {ep.name:<12} health {health}  slot {slot}  latency {h_ms:.1f} / {s_ms:.1f} ms")
        except (OSError, urllib.error.URLError, orjson.JSONDecodeError) as err:
            failed += 1
            reason = getattr(err, "reason", None) or err.__class__.__name__
            print(f"connect   {ep.name:<12} FAILED: {reason} ({redact_url(ep.http)})")
    return 1 if failed else 0
