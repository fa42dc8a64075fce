"""Risk gates before every send, over the risk state kept in the ledger.

`RiskGates.check` is the hot-path question "may this trade go out?": it reads only memory (the kill
switch, quarantined routes and today's loss cached by `refresh`) and answers None or a `Refusal` whose
`reason` is the one line to log. The state changes on the cold path: `record_trade` books an outcome,
quarantines a route that reverted on pool state that did not change (its model is wrong) at once and
one that reverted `quarantine_after_reverts` times in a row otherwise, and trips the kill switch when
the UTC day's loss (realized + marked-to-market, over every instance sharing the ledger) reaches the
limit. All of it lives in the ledger, so a restart neither clears the switch nor forgets a quarantine
or the day's loss. The day is decided by the injected wall clock; at 00:00 UTC the loss starts at zero
again, but a tripped switch stays tripped until `solarb risk reset`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from bot.ledger.errors import LedgerError
from bot.ledger.ledger import Ledger, RiskState
from bot.ledger.model import NS_PER_DAY, KillSwitch, Outcome, Quarantine, Trade, format_utc, utc_day


class Gate(enum.StrEnum):
    KILL_SWITCH = "kill_switch"
    DAILY_LOSS = "daily_loss"
    QUARANTINE = "quarantine"
    NOTIONAL = "notional"
    IN_FLIGHT = "in_flight"
    SOL_BALANCE = "sol_balance"
    PRICE_BAND = "price_band"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a trade may not be sent: the gate, and one line for the log."""

    gate: Gate
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The limits, from `[strategy]` / `[risk]` (see the ledger's README section for the mapping)."""

    max_notional_lamports: int
    max_in_flight: int
    min_sol_lamports: int
    max_daily_loss_lamports: int
    price_band_bps: int
    quarantine_after_reverts: int = 2

    def __post_init__(self) -> None:
        if self.quarantine_after_reverts < 1:
            raise ValueError("quarantine_after_reverts must be >= 1")


@dataclass(frozen=True, slots=True)
class Booked:
    """What booking a trade did: the booked trade, a quarantine it caused, the kill switch it tripped."""

    trade: Trade
    quarantined: Quarantine | None = None
    tripped: KillSwitch | None = None


class RiskGates:
    def __init__(self, ledger: Ledger, limits: RiskLimits, *, clock: Callable[[], int] | None = None) -> None:
        """`clock`: wall-clock ns (default the ledger's), it decides the UTC day."""
        self.ledger = ledger
        self.limits = limits
        self.clock = clock or ledger.clock
        self._day_end_ns = 0
        self._loss = 0
        self._day = ""
        self._halt: Refusal | None = None
        self._quarantined: dict[str, Refusal] = {}
        self.state = self.refresh()

    # ---- reading the ledger (cold path) -------------------------------------------------------
    def refresh(self) -> RiskState:
        """Reload the kill switch, quarantines and today's PnL from the ledger (at start, after each
        booking, and now and then when other instances share the ledger). Trips the switch when today's
        loss has reached the limit."""
        now = self.clock()
        day = utc_day(now)
        st = self.ledger.risk_state(day)
        self._day = day
        self._day_end_ns = (now // NS_PER_DAY + 1) * NS_PER_DAY
        self._loss = st.daily.loss_lamports
        self._quarantined = {q.route_id: self._quarantine_refusal(q) for q in st.quarantined}
        if not st.kill_switch.tripped and self._over_limit():
            st = RiskState(self._trip_daily_loss(), st.quarantined, st.daily)
        self._halt = self._halt_refusal(st.kill_switch)
        self.state = st
        return st

    def _over_limit(self) -> bool:
        return self._loss > 0 and self._loss >= self.limits.max_daily_loss_lamports

    def _trip_daily_loss(self) -> KillSwitch:
        return self.ledger.trip_kill_switch(
            f"daily loss {self._loss} lamports on {self._day} (UTC) reached max_daily_loss_lamports "
            f"{self.limits.max_daily_loss_lamports}"
        )

    @staticmethod
    def _halt_refusal(ks: KillSwitch) -> Refusal | None:
        if not ks.tripped:
            return None
        return Refusal(
            Gate.KILL_SWITCH,
            f"kill switch tripped at {format_utc(ks.since_ns)}: {ks.reason}; `solarb risk reset` clears it",
        )

    @staticmethod
    def _quarantine_refusal(q: Quarantine) -> Refusal:
        return Refusal(
            Gate.QUARANTINE,
            f"route {q.route_id} quarantined at {format_utc(q.since_ns)}: {q.reason}; "
            f"`solarb risk reset --route {q.route_id}` releases it",
        )

    # ---- the gate (hot path: memory only) -------------------------------------------------------
    def check(
        self,
        route_id: str,
        *,
        notional_lamports: int,
        in_flight: int,
        sol_balance_lamports: int,
        cost_lamports: int = 0,
        pool_price: float | None = None,
        cex_price: float | None = None,
    ) -> Refusal | None:
        """None when the trade may go out, else why not.

        `in_flight`: trades of this bot not yet resolved; `cost_lamports`: this transaction's fee and tip,
        paid from `sol_balance_lamports`, which must keep `min_sol_lamports` after it. `pool_price` /
        `cex_price`: the route's pool price and the CEX mid in the same quote (None: no CEX reference,
        the band is not applied).
        """
        now = self.clock()
        if now >= self._day_end_ns:  # a new UTC day: once a day, read the new day's PnL
            try:
                self.refresh()
            except LedgerError as err:
                self._day_end_ns = now + 1_000_000_000  # look again in a second; send nothing meanwhile
                return Refusal(Gate.DAILY_LOSS, f"cannot read the new day's PnL: {err}")
        if self._halt is not None:
            return self._halt
        q = self._quarantined.get(route_id)
        if q is not None:
            return q
        lim = self.limits
        if notional_lamports > lim.max_notional_lamports:
            return Refusal(
                Gate.NOTIONAL,
                f"route {route_id}: notional {notional_lamports} lamports exceeds "
                f"max_notional_lamports {lim.max_notional_lamports}",
            )
        if in_flight >= lim.max_in_flight:
            return Refusal(
                Gate.IN_FLIGHT,
                f"route {route_id}: {in_flight} trades in flight, max_in_flight is {lim.max_in_flight}",
            )
        if sol_balance_lamports - cost_lamports < lim.min_sol_lamports:
            return Refusal(
                Gate.SOL_BALANCE,
                f"route {route_id}: SOL balance {sol_balance_lamports} lamports minus "
                f"fee and tip {cost_lamports} is below the {lim.min_sol_lamports} "
                "kept for fees",
            )
        if pool_price is not None and cex_price is not None and cex_price > 0.0:
            dev_bps = abs(pool_price - cex_price) / cex_price * 10_000.0
            if not dev_bps <= lim.price_band_bps:  # NaN fails too
                return Refusal(
                    Gate.PRICE_BAND,
                    f"route {route_id}: pool price {pool_price:.6g} is {dev_bps:.0f} bps "
                    f"from the CEX mid {cex_price:.6g} (band {lim.price_band_bps} bps)",
                )
        return None

    def halted(self) -> Refusal | None:
        """The kill switch's refusal, if tripped (for the runtime to log once and stop detecting)."""
        return self._halt

    # ---- outcomes (cold path) ---------------------------------------------------------------------
    def record_trade(
        self, trade: Trade, *, pool_state_unchanged: bool = False, guard_revert: bool = False
    ) -> Booked | None:
        """Book the trade in the ledger and apply the route and loss rules. None if it was booked already.

        `pool_state_unchanged`: for a revert, whether the route's pool accounts were the same when the
        transaction executed as when the bot decided (then the route's model is wrong: quarantine now).
        `guard_revert`: the revert is a swap's own slippage check (min-out) on a state that moved: another
        trade got there first, which is competition, not a wrong model; it does not count towards
        `quarantine_after_reverts` (its fee still counts towards the daily loss).
        """
        booked = self.ledger.record_trade(trade)
        if booked is None:
            return None
        quarantined = None
        route = booked.route_id
        if booked.outcome is Outcome.REVERTED:
            err = booked.error or "no error text"
            if pool_state_unchanged:
                quarantined = self.ledger.quarantine(
                    route, f"reverted on unchanged pool state ({err}): the route's model is wrong"
                )
            elif not guard_revert:
                streak = self.ledger.count_revert(route)
                if streak >= self.limits.quarantine_after_reverts:
                    quarantined = self.ledger.quarantine(route, f"{streak} consecutive reverts (last: {err})")
        elif booked.outcome is Outcome.LANDED:
            self.ledger.clear_reverts(route)
        was_tripped = self._halt is not None
        self.refresh()
        ks = self.state.kill_switch
        tripped = ks if ks.tripped and not was_tripped else None
        return Booked(booked, quarantined, tripped)

    def mark(self, marked_lamports: int) -> KillSwitch | None:
        """This instance's marked-to-market PnL for today; returns the kill switch if this tripped it."""
        self.ledger.mark(marked_lamports)
        was_tripped = self._halt is not None
        self.refresh()
        ks = self.state.kill_switch
        return ks if ks.tripped and not was_tripped else None


__all__ = ["Booked", "Gate", "Refusal", "RiskGates", "RiskLimits"]
