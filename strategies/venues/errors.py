"""Typed errors of `strategies.venues`: one root, variants that carry data.

`VenueError` is the root. Decoders raise `DecodeError` (bad account bytes), quote functions raise
`QuoteError` subclasses (a swap the program itself would reject), and pools whose behaviour we do not
model exactly raise `Unmodelled` with a `RefusalReason` the bot can log and count.
"""

from __future__ import annotations

import enum


class VenueError(Exception):
    """Root of every error raised by `strategies.venues`."""


class DecodeError(VenueError):
    """Account bytes that do not match the expected layout (owner, size, discriminator, field value).

    `account` names what was decoded (e.g. "Whirlpool", "SPL token account"), `reason` says what was wrong.
    """

    def __init__(self, account: str, reason: str) -> None:
        super().__init__(f"cannot decode {account}: {reason}")
        self.account = account
        self.reason = reason


class QuoteError(VenueError):
    """A swap the program would reject; subclasses name the program's own error."""


class ZeroTradableAmount(QuoteError):
    """The amount is zero (the program rejects zero-amount swaps)."""


class InvalidSqrtPriceLimitDirection(QuoteError):
    """The sqrt-price limit lies on the wrong side of the current price for the swap direction."""


class SqrtPriceOutOfBounds(QuoteError):
    """The sqrt-price limit lies outside the program's [MIN_SQRT_PRICE, MAX_SQRT_PRICE]."""


class PartialFill(QuoteError):
    """Exact-out swap without an explicit price limit that the supplied liquidity cannot fill fully."""


class AmountCalcOverflow(QuoteError):
    """An intermediate amount does not fit the program's integer width (u64/u128)."""


class TokenMaxExceeded(QuoteError):
    """A token amount exceeds u64 (Whirlpool `TokenMaxExceeded`)."""


class MultiplicationOverflow(QuoteError):
    """A u128 product overflowed (Whirlpool `MultiplicationOverflow`)."""


class MultiplicationShiftRightOverflow(QuoteError):
    """A (a*b) >> 64 product does not fit u128 (Whirlpool `MultiplicationShiftRightOverflow`)."""


class AmountOutBelowMinimum(QuoteError):
    """The output is below the caller's minimum (exact-in slippage check)."""


class AmountInAboveMaximum(QuoteError):
    """The input is above the caller's maximum (exact-out slippage check)."""


class TickArraySequenceInvalid(QuoteError):
    """The supplied tick arrays do not cover the swap (missing, wrong start, or wrong pool)."""


class InsufficientLiquidity(QuoteError):
    """The pool cannot deliver the requested output (e.g. output >= reserve)."""


class InvalidInput(QuoteError):
    """An argument the program rejects outright (e.g. zero output, identical mints)."""


class RefusalReason(enum.Enum):
    """Why a pool is excluded instead of approximated (protocols.md "Read this first")."""

    TOKEN2022_TRANSFER_FEE = "token2022_transfer_fee"
    TOKEN2022_TRANSFER_HOOK = "token2022_transfer_hook"
    TOKEN2022_UNKNOWN_EXTENSION = "token2022_unknown_extension"
    CPMM_CREATOR_FEE = "cpmm_creator_fee"
    WHIRLPOOL_ADAPTIVE_FEE = "whirlpool_adaptive_fee"
    SWAP_DISABLED = "swap_disabled"
    NOT_OPEN_YET = "not_open_yet"


class Unmodelled(VenueError):
    """The pool's swap depends on behaviour we do not model exactly; it must be skipped."""

    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        text = f"unmodelled pool: {reason.value}"
        super().__init__(f"{text} ({detail})" if detail else text)
        self.reason = reason
        self.detail = detail
