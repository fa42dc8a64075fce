"""`solarb` command line: one module per subcommand in `bot.commands`.

Each command module exposes `register(subparsers)` which adds its parser and sets `func`,
a callable `(argparse.Namespace) -> int`. Errors derived from `SolarbError` become one line on
stderr with the error's exit code (2 for usage/config/key mistakes, 1 for runtime failures).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot.errors import SolarbError

# Order is the order shown in `--help`.
COMMANDS: tuple[str, ...] = (
    "bot.commands.run",
    "bot.commands.check",
    "bot.commands.logs",
    "bot.commands.keygen",
    "bot.commands.quote",
    "bot.commands.localnet",
    "bot.commands.bench",
    "bot.commands.pools",
    "bot.commands.report",
    "bot.commands.risk",
    "bot.commands.cleanup",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"solarb: error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="solarb",
        description="Solana on-chain arbitrage bot. Start with `solarb check -c config.toml`.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SolarbError as err:
        sys.stderr.write(f"solarb: {err}\n")
        return err.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
