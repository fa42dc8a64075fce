"""The bot's user-facing error roots.

Every user mistake (config, CLI, keys) ends as one line on stderr and exit code 2; runtime failures
exit 1. Library packages (`strategies`, `rpc`) have their own roots; the CLI maps them here.
"""

from __future__ import annotations


class SolarbError(Exception):
    """Root of the bot's own errors. `str(err)` is the one line shown to the user."""

    exit_code = 1


class UsageError(SolarbError):
    """Bad command line or bad input file: exit 2."""

    exit_code = 2


class ConfigError(UsageError):
    """The config file is wrong; the message names the table, the key and the fix."""


class KeyfileError(UsageError):
    """A keypair file is missing, malformed or readable by others."""


class RuntimeFailure(SolarbError):
    """Something failed while running (network, chain): exit 1."""
