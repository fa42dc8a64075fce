"""`solarb check`: validate config and keypair, print a summary; `--connect` probes each endpoint."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bot.app import load_setup
from bot.commands.cluster_opts import add_url_arg
from bot.config import Config, redact_url
from rpc.client import RpcClient
from rpc.errors import NodeUnhealthy, RpcError, Timeout, TransportError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="validate the config and keypair and print a summary",
        description="Validate config and keypair, print cluster, endpoints, pools, wallet and mode.",
    )
    p.add_argument("-c", "--config", default="config.toml", help="config file (default config.toml)")
    p.add_argument("--live", action="store_true", help="check as `run --live` would")
    p.add_argument("--dry-run", action="store_true", help="check as `run --dry-run` would")
    add_url_arg(p)
    p.add_argument(
        "--connect", action="store_true", help="also ask each endpoint getHealth/getSlot and show latency"
    )
    p.set_defaults(func=run)


async def _probe(url: str, timeout_s: float) -> tuple[str, int, float, float]:
    """getHealth and getSlot through rpc.client: (health, slot, ms, ms). Raises RpcError."""
    async with RpcClient(url, timeout_s=timeout_s, connections=1) as rpc:
        t0 = time.perf_counter()
        try:
            health = await rpc.get_health()
        except NodeUnhealthy as err:  # an unhealthy node answers with an error: show it, keep going
            health = f"error {err}"
        t1 = time.perf_counter()
        slot = await rpc.get_slot()
        t2 = time.perf_counter()
    return health, slot, (t1 - t0) * 1e3, (t2 - t1) * 1e3


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
    lines.append(
        f"pools     {len(cfg.pools)}" + "".join(f"\n          {p.venue:<16} {p.address}" for p in cfg.pools)
    )
    lines.append(f"feeds     {', '.join(f'{f.venue}:{len(f.symbols)}' for f in cfg.feeds.cex) or '-'}")
    return lines


def run(args: argparse.Namespace) -> int:
    cfg, mode, wallet = load_setup(args.config, live_flag=args.live, dry_run_flag=args.dry_run, url=args.url)
    for line in summary(cfg, mode.name, str(wallet.pubkey)):
        print(line)
    if not args.connect:
        return 0
    failed = 0
    # With [localnet] start = true, `run` starts the cluster itself on the first endpoint's port.
    child = cfg.endpoints()[0].http if cfg.localnet.start else None
    for ep in cfg.endpoints():
        timeout = ep.timeout_ms / 1e3
        try:
            health, slot, h_ms, s_ms = asyncio.run(_probe(ep.http, timeout))
            print(f"connect   {ep.name:<12} health {health}  slot {slot}  latency {h_ms:.1f} / {s_ms:.1f} ms")
            if ep.http == child:
                failed += 1
                print(
                    f"connect   {ep.name:<12} IN USE: a cluster already answers at {redact_url(ep.http)}, so "
                    "`solarb run` cannot start its own there ([localnet] start = true); stop that one, or set "
                    "[localnet] start = false to trade against it"
                )
        except RpcError as err:
            if ep.http == child and isinstance(err, (TransportError, Timeout)):
                print(
                    f"connect   {ep.name:<12} not running yet: `solarb run` starts the local cluster at "
                    f"{redact_url(ep.http)} ([localnet] start = true); to probe one now, start it with "
                    f"`solarb localnet --scenario {cfg.localnet.scenario}` and set [localnet] start = false"
                )
                continue
            failed += 1
            print(f"connect   {ep.name:<12} FAILED: {type(err).__name__} ({redact_url(ep.http)})")
    return 1 if failed else 0
