"""`solarb run`: run the bot with a config file (and the local cluster when the config asks for it)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import signal
from typing import Any

from bot.app import load_setup
from bot.commands.cluster_opts import add_url_arg
from bot.errors import UsageError
from bot.logs import open_log


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run the bot",
        description="Run the bot: subscribe to pools and feeds, detect arbitrage, execute (or simulate in dry-run). "
        "With [localnet] start = true it first starts the local cluster and stops it on exit.",
    )
    p.add_argument("-c", "--config", default="config.toml", help="config file (default config.toml)")
    p.add_argument(
        "--live", action="store_true", help="allow sending on mainnet-beta (needs live = true in the config)"
    )
    p.add_argument("--dry-run", action="store_true", help="simulate every opportunity, never send")
    add_url_arg(p)
    p.add_argument(
        "--log-format",
        choices=("human", "json"),
        default=None,
        help="console format: human lines or JSON lines (default: [logging] format)",
    )
    p.set_defaults(func=run)


def check_cpus(cpus: tuple[int, ...]) -> None:
    """[runtime] cpus must name CPUs this process may run on (one clear line otherwise)."""
    available = sorted(os.sched_getaffinity(0))
    missing = sorted(set(cpus) - set(available))
    if missing:
        raise UsageError(f"[runtime] cpus: CPU {', '.join(map(str, missing))} is not available to this process "
                         f"(available: {', '.join(map(str, available))}); fix the list or remove the key")  # fmt: skip


def pin_cpus(cpus: tuple[int, ...]) -> None:
    """Pin this process (and every thread it starts later) to `cpus` ([runtime] cpus)."""
    check_cpus(cpus)
    os.sched_setaffinity(0, set(cpus))


def run(args: argparse.Namespace) -> int:
    cfg, mode, wallet = load_setup(args.config, live_flag=args.live, dry_run_flag=args.dry_run, url=args.url)
    if not cfg.pools:
        raise UsageError(
            f"{args.config}: no [[pools]] configured; find pools with `solarb pools -c {args.config} "
            "--mint-a X --mint-b Y` and paste its lines into the config"
        )
    check_cpus(cfg.runtime.cpus)
    import uvloop

    from bot.runtime import run_bot

    if args.log_format is not None:
        cfg = dataclasses.replace(cfg, logging=dataclasses.replace(cfg.logging, format=args.log_format))
    log = open_log(cfg.logging)
    summary: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        cluster = None
        if cfg.localnet.start:
            from bot.cluster import ClusterProcess

            log.info("localnet_starting", scenario=cfg.localnet.scenario, slot_ms=cfg.localnet.slot_ms)
            cluster = await ClusterProcess.spawn(
                cfg.endpoints()[0].http,
                slot_ms=cfg.localnet.slot_ms,
                scenario=cfg.localnet.scenario,
                fund=[str(wallet.pubkey)],
                simulate=cfg.localnet.simulate,
                simulate_rate=cfg.localnet.simulate_rate,
                simulate_seed=cfg.localnet.simulate_seed,
                cex_port=cfg.localnet.cex_port,
                block_engine=any("bundle" in ep.roles for ep in cfg.endpoints()),
            )
        if cfg.runtime.cpus:  # after the local cluster started: it does not inherit the bot's cores
            pin_cpus(cfg.runtime.cpus)
            log.info("pinned", cpus=sorted(cfg.runtime.cpus))
        try:
            log.info(
                "start",
                cluster=cfg.cluster.name,
                mode=mode.name,
                wallet=str(wallet.pubkey),
                pools=len(cfg.pools),
            )
            summary.update(await run_bot(cfg, mode, wallet, log, stop=stop))
        finally:
            if cluster is not None:
                await cluster.stop()
                log.info("localnet_stopped")

    try:
        uvloop.run(main())
    finally:
        log.info("stopped")
        log.close()
        if summary and cfg.logging.console != "never" and cfg.logging.format == "human":
            from bot.runtime import format_summary

            print(format_summary(summary), flush=True)
    return 0
