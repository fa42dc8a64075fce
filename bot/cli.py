"""`solarb` command line: one module per subcommand in `bot.commands`.

Each command module exposes `register(subparsers)` which adds its parser and sets `func`,
a callable `(argparse.Namespace) -> int`. Errors derived from `SolarbError` become one line on
stderr with the error's exit code (2 for usage/config/key mistakes, 1 for runtime failures).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
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
    "bot.commands.status",
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
    parser.add_argument("--version", action="version", version=f"solarb {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def version() -> str:
    """The installed distribution's version (pyproject.toml `version`)."""
    try:
        return importlib.metadata.version("solarb")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed; `pip install -e .`)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit flush
        return code
    except SolarbError as err:
        sys.stderr.write(f"solarb: {err}\n")
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _on_broken_pipe()


def _on_broken_pipe() -> int:
    """The reader of stdout went away (`solarb logs | head -1`): stop quietly, as `cat` does.

    stdout is pointed at /dev/null so the interpreter's final flush cannot raise again (the recipe of
    the Python docs, "Note on SIGPIPE"); the exit code is the shell's for a process ended by SIGPIPE.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + 13  # SIGPIPE


if __name__ == "__main__":
    raise SystemExit(main())
