"""`[ledger]`: where the trades, the in-flight journal and the risk state are kept.

The lead's `bot.config.Config` gains one line, `ledger: LedgerConfig = _f(LedgerConfig(), help=...)`;
the field metadata below is the shape `bot.config`'s loader and README generator read (help, range,
choices, secret), written out here because `bot.config` imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_PATH = "data/ledger.sqlite3"


def _meta(help: str, *, secret: bool = False, choices: tuple[str, ...] | None = None) -> dict[str, Any]:
    return {"help": help, "lo": None, "hi": None, "choices": choices, "secret": secret}


@dataclass(frozen=True, slots=True)
class LedgerConfig:
    path: str = field(
        default=DEFAULT_PATH,
        metadata=_meta("SQLite ledger file (created 0600), used unless postgres_dsn is set"),
    )
    postgres_dsn: str = field(
        default="",
        metadata=_meta(
            "PostgreSQL connection string (postgresql://user:pass@host/db or key=value; use ${ENV_VAR} for the "
            "password) to share trades and risk limits between bot instances",
            secret=True,
        ),
    )
    instance: str = field(
        default="default",
        metadata=_meta(
            "this bot's name in a shared ledger: each instance reconciles its own in-flight journal"
        ),
    )

    synchronous: str = field(
        default="full",
        metadata=_meta(
            "full: every commit is on disk before the send it precedes (survives power loss; one fsync, ms); "
            "normal: survives a crash of the bot, not of the machine (µs)",
            choices=("full", "normal"),
        ),
    )

    @property
    def target(self) -> str:
        """The DSN when PostgreSQL is configured, else the SQLite path (what `open_ledger` takes)."""
        return self.postgres_dsn or self.path
