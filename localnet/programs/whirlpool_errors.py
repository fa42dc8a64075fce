"""Error codes returned by localnet's Whirlpool program (whirlpool.c), as ``InstructionError(i, Custom(code))``.

Two families, both exactly what the real Orca Whirlpool program returns for the same failure:
- 6000+: Orca's own ``ErrorCode`` enum (Anchor numbers custom errors from 6000 in declaration order).
  Source: orca-so/whirlpools programs/whirlpool/src/errors.rs, whose comments give each hex/decimal code.
- below 6000: Anchor framework errors the real program raises through its account constraints and
  its tick-array loader (coral-xyz/anchor ts/packages/anchor-errors/src/index.ts).
The program logs "<Name>: <account or context>" before failing. Where the real program would panic
(overflow-checked arithmetic) ours returns the named error listed in the comment.
"""

from __future__ import annotations

import re
from enum import IntEnum


class WhirlpoolError(IntEnum):
    """Custom error codes of the Whirlpool program."""

    # Anchor framework
    INSTRUCTION_MISSING = 100  # data shorter than the 8-byte discriminator
    INSTRUCTION_FALLBACK_NOT_FOUND = 101  # unknown discriminator
    INSTRUCTION_DID_NOT_DESERIALIZE = 102  # arguments too short, a bool not 0/1, bad RemainingAccountsInfo
    CONSTRAINT_MUT = 2000  # an account the context marks `mut` is not writable
    CONSTRAINT_RAW = 2003  # token_owner_account_{a,b}.mint differs from the pool's mint
    CONSTRAINT_SEEDS = 2006  # oracle (or a created PDA) is not at its seeds
    CONSTRAINT_ADDRESS = 2012  # vault / mint / token program differs from what the pool or mint names
    ACCOUNT_DISCRIMINATOR_ALREADY_SET = 3000  # ours: pool / tick array already exists
    ACCOUNT_DISCRIMINATOR_NOT_FOUND = 3001  # account data shorter than 8 bytes
    ACCOUNT_DISCRIMINATOR_MISMATCH = 3002  # wrong account type; also a DynamicTickArray (not modelled)
    ACCOUNT_DID_NOT_DESERIALIZE = 3003  # token account / mint uninitialized or too short; tick array size
    ACCOUNT_NOT_ENOUGH_KEYS = 3005  # fewer than 11 (swap) / 15 (swap_v2) accounts
    ACCOUNT_NOT_MUTABLE = 3006  # an initialized tick array passed read-only
    ACCOUNT_OWNED_BY_WRONG_PROGRAM = 3007  # wrong owner (pool, tick array, token accounts, mints)
    INVALID_PROGRAM_ID = 3008  # token / memo / system program slot holds another program
    INVALID_PROGRAM_EXECUTABLE = 3009  # program account not executable
    ACCOUNT_NOT_SIGNER = 3010  # token_authority / funder did not sign
    ACCOUNT_NOT_INITIALIZED = 3012  # a typed slot holds a key with no account (system-owned, 0 lamports)
    # orca-so/whirlpools ErrorCode
    INVALID_START_TICK = 6001  # ours: tick array start is not a multiple of 88 * tick_spacing
    INVALID_TICK_SPACING = 6004  # ours: tick_spacing 0
    DIVIDE_BY_ZERO = 6006  # zero liquidity in a next-sqrt-price-from-B step; output exceeds liquidity
    NUMBER_DOWN_CAST_ERROR = 6008  # a 256-bit intermediate does not fit u128
    TICK_NOT_FOUND = 6009  # ours: a position tick outside its tick array
    INVALID_TICK_INDEX = 6010  # ours: position ticks not usable (range, spacing, order)
    SQRT_PRICE_OUT_OF_BOUNDS = 6011  # sqrt_price_limit outside [MIN, MAX]; next price from B out of u128
    LIQUIDITY_ZERO = 6012  # ours: zero liquidity added
    LIQUIDITY_TOO_HIGH = 6013  # ours: liquidity above i128::MAX
    LIQUIDITY_OVERFLOW = 6014  # crossing a tick / adding liquidity overflows u128
    LIQUIDITY_UNDERFLOW = 6015  # crossing a tick makes liquidity negative
    LIQUIDITY_NET_ERROR = 6016  # ours: a tick's liquidity_net overflows i128
    TOKEN_MAX_EXCEEDED = 6017  # an amount delta above u64; ours: deposit above token_max_a/b
    TOKEN_MIN_SUBCEEDED = 6018  # next sqrt price below MIN_SQRT_PRICE
    INVALID_TIMESTAMP_CONVERSION = 6021  # negative clock
    INVALID_TIMESTAMP = 6022  # clock before reward_last_updated_timestamp
    INVALID_TICK_ARRAY_SEQUENCE = 6023  # no usable tick array, or the current tick outside the next array
    INVALID_TOKEN_MINT_ORDER = 6024  # ours: mint_a must sort before mint_b
    FEE_RATE_MAX_EXCEEDED = 6028  # ours: fee_rate above 60,000
    PROTOCOL_FEE_RATE_MAX_EXCEEDED = 6029  # ours: protocol_fee_rate above 2,500
    MULTIPLICATION_SHIFT_RIGHT_OVERFLOW = 6030  # L * dP does not fit u128 (amount delta B)
    MULTIPLICATION_OVERFLOW = 6033  # L * dP or L * P does not fit 192 bits; amount delta B rounding
    INVALID_SQRT_PRICE_LIMIT_DIRECTION = 6034  # limit on the wrong side of the current price
    ZERO_TRADABLE_AMOUNT = 6035  # amount 0
    AMOUNT_OUT_BELOW_MINIMUM = 6036  # exact-in: output < other_amount_threshold
    AMOUNT_IN_ABOVE_MAXIMUM = 6037  # exact-out: input > other_amount_threshold
    TICK_ARRAY_SEQUENCE_INVALID_INDEX = 6038  # the swap ran past the last supplied tick array
    AMOUNT_CALC_OVERFLOW = 6039  # the calculated amount exceeds u64; ours: protocol_fee_owed overflow
    AMOUNT_REMAINING_OVERFLOW = 6040  # a step consumed more than the remaining amount
    UNSUPPORTED_TOKEN_MINT = 6047  # ours: Token-2022 mint with extensions (swap_v2)
    REMAINING_ACCOUNTS_INVALID_SLICE = 6048  # a RemainingAccountsInfo slice type swap_v2 does not accept
    REMAINING_ACCOUNTS_INSUFFICIENT = 6049  # a slice names more accounts than were passed
    REMAINING_ACCOUNTS_DUPLICATED_ACCOUNTS_TYPE = 6053  # the same slice type twice
    TOO_MANY_SUPPLEMENTAL_TICK_ARRAYS = 6055  # more than 3 supplemental tick arrays
    DIFFERENT_WHIRLPOOL_TICK_ARRAY_ACCOUNT = 6056  # a tick array of another pool
    PARTIAL_FILL_ERROR = 6057  # exact-out without a price limit that cannot be filled
    INVALID_FEE_TIER_INDEX = 6062  # ours: adaptive-fee pool (fee_tier_index != tick_spacing), not modelled


def snake(name: str) -> str:
    """``"PartialFillError"`` -> ``"PARTIAL_FILL_ERROR"``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def code_of(program_error: str) -> int:
    """The code of an Orca error name as `strategies.venues` reports it (``QuoteError.program_error``)."""
    return int(WhirlpoolError[snake(program_error)])


def error_name(code: int) -> str:
    """Name of a Whirlpool error code, or ``"Custom(<code>)"`` for a code outside the table."""
    try:
        return WhirlpoolError(code).name
    except ValueError:
        return f"Custom({code})"
