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


class UnknownLayout(DecodeError):
    """Account bytes of a length no known version of the layout has (accounts that grow over time,
    e.g. PumpSwap's Pool): refused rather than guessed. `size` is the length seen, `known` the
    lengths the decoder understands."""

    def __init__(self, account: str, size: int, known: tuple[int, ...], detail: str = "") -> None:
        sizes = ", ".join(str(k) for k in known)
        reason = f"{size} bytes is not a known layout (known: {sizes})" + (f"; {detail}" if detail else "")
        super().__init__(account, reason)
        self.size = size
        self.known = known


class QuoteError(VenueError):
    """A swap the program would reject; subclasses name the program's own error.

    `program_error` is the on-chain error name (e.g. Whirlpool's `ErrorCode` variant) so tests can match
    official vectors and logs can be compared with simulation results.
    """

    program_error: str = ""

    def __init__(self, detail: str = "") -> None:
        name = self.program_error or type(self).__name__
        super().__init__(f"{name}: {detail}" if detail else name)
        self.detail = detail


class ZeroTradableAmount(QuoteError):
    """The amount is zero (the program rejects zero-amount swaps)."""

    program_error = "ZeroTradableAmount"


class InvalidSqrtPriceLimitDirection(QuoteError):
    """The sqrt-price limit lies on the wrong side of the current price for the swap direction."""

    program_error = "InvalidSqrtPriceLimitDirection"


class SqrtPriceOutOfBounds(QuoteError):
    """The sqrt-price limit lies outside the program's [MIN_SQRT_PRICE, MAX_SQRT_PRICE]."""

    program_error = "SqrtPriceOutOfBounds"


class PartialFill(QuoteError):
    """Exact-out swap without an explicit price limit that the supplied liquidity cannot fill fully."""

    program_error = "PartialFillError"


class AmountCalcOverflow(QuoteError):
    """An intermediate amount does not fit the program's integer width (u64/u128)."""

    program_error = "AmountCalcOverflow"


class TokenMaxExceeded(QuoteError):
    """A token amount exceeds u64 (Whirlpool `TokenMaxExceeded`)."""

    program_error = "TokenMaxExceeded"


class MultiplicationOverflow(QuoteError):
    """A u128 product overflowed (Whirlpool `MultiplicationOverflow`)."""

    program_error = "MultiplicationOverflow"


class MultiplicationShiftRightOverflow(QuoteError):
    """A (a*b) >> 64 product does not fit u128 (Whirlpool `MultiplicationShiftRightOverflow`)."""

    program_error = "MultiplicationShiftRightOverflow"


class AmountOutBelowMinimum(QuoteError):
    """The output is below the caller's minimum (exact-in slippage check)."""

    program_error = "AmountOutBelowMinimum"


class AmountInAboveMaximum(QuoteError):
    """The input is above the caller's maximum (exact-out slippage check)."""

    program_error = "AmountInAboveMaximum"


class TickArraySequenceInvalid(QuoteError):
    """The supplied tick arrays do not cover the swap (missing, wrong start, or wrong pool)."""

    program_error = "InvalidTickArraySequence"


class InsufficientLiquidity(QuoteError):
    """The pool cannot deliver the requested output (e.g. output >= reserve)."""


class InvalidInput(QuoteError):
    """An argument the program rejects outright (e.g. zero output, identical mints)."""


class DivideByZero(QuoteError):
    """A division by zero liquidity (Whirlpool `DivideByZero`)."""

    program_error = "DivideByZero"


class NumberDownCastError(QuoteError):
    """A 256-bit intermediate does not fit u128/u64 (Whirlpool `NumberDownCastError`)."""

    program_error = "NumberDownCastError"


class TokenMinSubceeded(QuoteError):
    """The next sqrt price would fall below the minimum (Whirlpool `TokenMinSubceeded`)."""

    program_error = "TokenMinSubceeded"


class LiquidityOverflow(QuoteError):
    """Crossing a tick would overflow u128 liquidity (Whirlpool `LiquidityOverflow`)."""

    program_error = "LiquidityOverflow"


class LiquidityUnderflow(QuoteError):
    """Crossing a tick would make liquidity negative (Whirlpool `LiquidityUnderflow`)."""

    program_error = "LiquidityUnderflow"


class AmountRemainingOverflow(QuoteError):
    """The remaining amount went negative (Whirlpool `AmountRemainingOverflow`)."""

    program_error = "AmountRemainingOverflow"


class TickArraySequenceInvalidIndex(QuoteError):
    """The swap ran past the last supplied tick array (Whirlpool `TickArraySequenceInvalidIndex`)."""

    program_error = "TickArraySequenceInvalidIndex"


class BinArrayMissing(QuoteError):
    """A DLMM swap reaches a bin array (by the pair's bitmaps) that was not supplied to the quote."""

    def __init__(self, index: int) -> None:
        super().__init__(f"bin array {index} is needed but was not supplied")
        self.index = index


# PumpSwap (`pAMMBay6…`) errors, named after the program's own error enum (IDL `errors`, codes 6000+).
class ZeroBaseAmount(ZeroTradableAmount):
    """A zero base amount (buy, sell), or a buy whose base output rounds to 0 (PumpSwap 6001)."""

    program_error = "ZeroBaseAmount"


class ZeroQuoteAmount(ZeroTradableAmount):
    """A zero quote amount to spend (PumpSwap 6002)."""

    program_error = "ZeroQuoteAmount"


class BuyMoreBaseAmountThanPoolReserves(InsufficientLiquidity):
    """A buy of at least the whole base reserve (PumpSwap 6016)."""

    program_error = "BuyMoreBaseAmountThanPoolReserves"


class BuyNotEnoughQuoteTokensToCoverFees(ZeroTradableAmount):
    """buy_exact_quote_in: the quote left after fees is not positive (PumpSwap 6039)."""

    program_error = "BuyNotEnoughQuoteTokensToCoverFees"


class InsufficientRealQuoteReserves(InsufficientLiquidity):
    """A sell pays out more than the real quote vault holds (boosted pools price on virtual reserves;
    PumpSwap 6063)."""

    program_error = "InsufficientRealQuoteReserves"


class PumpSwapOverflow(AmountCalcOverflow):
    """An amount or vault balance does not fit u64 (PumpSwap 6023 `Overflow`, or the token transfer)."""

    program_error = "Overflow"


class RefusalReason(enum.Enum):
    """Why a pool is excluded instead of approximated (protocols.md "Read this first")."""

    TOKEN2022_TRANSFER_FEE = "token2022_transfer_fee"
    TOKEN2022_TRANSFER_HOOK = "token2022_transfer_hook"
    TOKEN2022_UNKNOWN_EXTENSION = "token2022_unknown_extension"
    CPMM_CREATOR_FEE = "cpmm_creator_fee"
    WHIRLPOOL_ADAPTIVE_FEE = "whirlpool_adaptive_fee"
    SWAP_DISABLED = "swap_disabled"
    AMM_ORDERBOOK_STATUS = "amm_orderbook_status"  # AMM v4 status 1: reserves may include OpenBook funds
    NOT_OPEN_YET = "not_open_yet"
    ACCOUNTS_CHANGED = "accounts_changed"  # a pool's vault/mint keys changed after we decoded it
    DLMM_LIMIT_ORDER = "dlmm_limit_order"  # a bin on the swap path holds limit-order liquidity
    DLMM_UNSUPPORTED_MODE = "dlmm_unsupported_mode"  # an enum value (fee mode, token flag) we do not know
    # A PumpSwap pool shorter than 300 bytes: the SDK extends it (`extend_account`) in the swap's own
    # transaction; a precompiled template cannot carry that once-only step. Tradable once extended.
    POOL_NOT_EXTENDED = "pool_not_extended"


class Unmodelled(VenueError):
    """The pool's swap depends on behaviour we do not model exactly; it must be skipped."""

    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        text = f"unmodelled pool: {reason.value}"
        super().__init__(f"{text} ({detail})" if detail else text)
        self.reason = reason
        self.detail = detail


class StatePending(VenueError):
    """The pool's state needs accounts that are not loaded yet: accounts that follow the price (the tick
    arrays around a Whirlpool's new current tick) arrive after the pool account moved. Not usable until
    they do; not an error in the data."""
