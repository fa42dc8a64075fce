"""`solarb run`: run the bot with a config file."""

from __future__ import annotations

import argparse
from typing import Any

from bot.app import load_setup
from bot.errors import RuntimeFailure
from bot.logs import open_log


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run the bot",
        description="Run the bot: subscribe to pools and feeds, detect arbitrage, execute (or simulate in dry-run).",
    )
    p.add_argument("-c", "--config", default="config.toml", help="config file (default config.toml)")
    p.add_argument("--live", action="store_true", help="allow sending on mainnet-beta (needs live = true in the config)")
    p.add_argument("--dry-run", action="store_true", help="simulate every opportunity, never send")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg, mode, wallet = load_setup(args.config, live_flag=args.live, dry_run_flag=args.dry_run)
    log = open_log(cfg.logging)
    try:
        log.info("start", cluster=cfg.cluster.name, mode=mode.name, wallet=wallet.pubkey, pools=len(cfg.pools))
        raise RuntimeFailure(
            "the trading runtime is not built yet (market data, detector and execution issues); "
            "`solarb check -c config.toml` validates your setup meanwhile"
        )
    finally:
        log.close()
