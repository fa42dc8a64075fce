"""The ledger: in-flight journal, trades with realized PnL, risk state and lookup tables, in SQLite
(embedded default) or PostgreSQL (shared by several instances). See `bot.ledger.ledger.Ledger`."""

from bot.ledger.config import LedgerConfig
from bot.ledger.errors import JournalConflict, LedgerError, LedgerInvalid, LedgerNotFound
from bot.ledger.ledger import Ledger, RiskState
from bot.ledger.model import (
    DailyPnl,
    JournalEntry,
    JournalState,
    KillSwitch,
    LookupTableRecord,
    Outcome,
    Quarantine,
    Trade,
    plan_lookup_tables,
    utc_day,
)
from bot.ledger.risk import Booked, Gate, Refusal, RiskGates, RiskLimits

__all__ = [
    "Booked",
    "DailyPnl",
    "Gate",
    "JournalConflict",
    "JournalEntry",
    "JournalState",
    "KillSwitch",
    "Ledger",
    "LedgerConfig",
    "LedgerError",
    "LedgerInvalid",
    "LedgerNotFound",
    "LookupTableRecord",
    "Outcome",
    "Quarantine",
    "Refusal",
    "RiskGates",
    "RiskLimits",
    "RiskState",
    "Trade",
    "plan_lookup_tables",
    "utc_day",
]
