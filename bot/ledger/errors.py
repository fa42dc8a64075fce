"""The ledger's errors: one line each, with what to do about it."""

from __future__ import annotations

from bot.errors import RuntimeFailure, UsageError


class LedgerError(RuntimeFailure):
    """The database failed (I/O, lost connection, lock timeout): exit 1. Nothing is sent after it."""


class LedgerNotFound(UsageError):
    """A command that only reads the ledger was pointed at one that does not exist."""


class LedgerInvalid(UsageError):
    """The file is not a ledger (not SQLite, or a schema newer than this solarb), or the DSN is malformed."""


class JournalConflict(LedgerError):
    """A journal write or transition that contradicts the journal (a signature journalled twice, a
    transition out of a final state)."""
