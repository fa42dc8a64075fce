"""How the ledger commands (`report`, `risk`, `cleanup`) find the ledger: `--ledger PATH|DSN`, else the
config's `[ledger]` table (`-c`, default config.toml). They only read or change an existing ledger."""

from __future__ import annotations

import argparse
import os
from typing import Any

from bot.errors import UsageError
from bot.ledger.config import LedgerConfig
from bot.ledger.ledger import Ledger

DEFAULT_CONFIG = "config.toml"


def add_ledger_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-c", "--config", default=None, help=f"config file whose [ledger] to use (default {DEFAULT_CONFIG})"
    )
    p.add_argument(
        "--ledger", metavar="PATH|DSN", help="a SQLite ledger file or a PostgreSQL DSN (overrides -c)"
    )


def load_command_config(args: argparse.Namespace) -> Any | None:
    """The config (-c, else config.toml), or None when --ledger was given without -c."""
    from bot.config import load_config

    if args.config is None:
        if args.ledger:
            return None
        if not os.path.exists(DEFAULT_CONFIG):
            raise UsageError(f"{DEFAULT_CONFIG}: config file not found; pass -c CONFIG or --ledger PATH|DSN")
    return load_config(args.config or DEFAULT_CONFIG)


def ledger_config_of(cfg: Any | None) -> LedgerConfig:
    # A Config without a `ledger` field predates the ledger (its [ledger] keys would be refused as unknown):
    # it means the defaults, as the runtime does.
    led = getattr(cfg, "ledger", None) if cfg is not None else None
    return led if isinstance(led, LedgerConfig) else LedgerConfig()


def open_command_ledger(args: argparse.Namespace, cfg: Any | None) -> Ledger:
    lc = ledger_config_of(cfg)
    target = args.ledger or lc.target
    return Ledger.open(target, instance=lc.instance, create=False)
