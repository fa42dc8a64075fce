"""Error codes returned by localnet's PumpSwap program (pumpswap.c), as ``InstructionError(i, Custom(code))``.

Two families:
- 6000+: PumpSwap's own error enum, codes as the official IDL lists them (@pump-fun/pump-swap-sdk 1.20.0
  `src/idl/pump_amm.json` `errors`); which failure raises which is our reading of the names (the
  program's source is not public).
- below 6000: Anchor framework errors for account constraints (coral-xyz/anchor `anchor-errors`).
The program logs "<Name>: <account or context>" (or the account role and the code) before failing.
"""

from __future__ import annotations

from enum import IntEnum


class PumpSwapError(IntEnum):
    """Custom error codes of the PumpSwap program."""

    # Anchor framework
    INSTRUCTION_MISSING = 100  # data shorter than the 8-byte discriminator
    INSTRUCTION_FALLBACK_NOT_FOUND = 101  # unknown discriminator
    INSTRUCTION_DID_NOT_DESERIALIZE = 102  # arguments too short
    CONSTRAINT_MUT = 2000  # a `mut` account is not writable
    CONSTRAINT_SEEDS = (
        2006  # global_config / event_authority / fee_config / a PDA is not the expected address
    )
    CONSTRAINT_ADDRESS = 2012  # fee_program is not the pump fee program
    CONSTRAINT_TOKEN_MINT = 2014  # a token account holds another mint
    CONSTRAINT_TOKEN_OWNER = (
        2015  # a token account belongs to someone else (user, pool, fee recipient, vault)
    )
    CONSTRAINT_TOKEN_TOKEN_PROGRAM = 2021  # a token account is not owned by the mint's token program
    CONSTRAINT_MINT_TOKEN_PROGRAM = 2022  # a mint is not owned by the token program passed for it
    ACCOUNT_DISCRIMINATOR_NOT_FOUND = 3001
    ACCOUNT_DISCRIMINATOR_MISMATCH = 3002  # wrong account type in a slot (typical of a wrong order)
    ACCOUNT_DID_NOT_DESERIALIZE = 3003  # unknown Pool / FeeConfig layout, uninitialized token account
    ACCOUNT_NOT_ENOUGH_KEYS = 3005  # fewer than 23 (buy) / 21 (sell) accounts
    ACCOUNT_OWNED_BY_WRONG_PROGRAM = 3007
    INVALID_PROGRAM_ID = 3008  # token / system / associated-token / own program slot holds another key
    INVALID_PROGRAM_EXECUTABLE = 3009
    ACCOUNT_NOT_SIGNER = 3010  # user did not sign
    ACCOUNT_NOT_INITIALIZED = 3012  # a typed slot holds a key with no account
    # PumpSwap
    ZERO_BASE_AMOUNT = 6001  # buy / sell of 0 base, or a buy whose base output rounds to 0
    ZERO_QUOTE_AMOUNT = 6002  # buy_exact_quote_in of 0
    EXCEEDED_SLIPPAGE = 6004  # buy: quote in > max_quote_amount_in; sell: quote out < min_quote_amount_out
    UNSUPPORTED_BASE_MINT = 6006  # Token-2022 base mint with a transfer fee or hook (not modelled)
    UNSUPPORTED_QUOTE_MINT = 6007  # same for the quote mint
    INVALID_BASE_MINT = 6008  # base_mint is not the pool's
    INVALID_QUOTE_MINT = 6009  # quote_mint is not the pool's
    INVALID_PROTOCOL_FEE_RECIPIENT = (
        6013  # not one of GlobalConfig's recipients (reserved ones on mayhem pools)
    )
    INVALID_POOL_BASE_TOKEN_ACCOUNT = 6014
    INVALID_POOL_QUOTE_TOKEN_ACCOUNT = 6015
    BUY_MORE_BASE_AMOUNT_THAN_POOL_RESERVES = 6016
    DISABLED_BUY = 6020  # GlobalConfig.disable_flags bit 3
    DISABLED_SELL = 6021  # bit 4
    OVERFLOW = 6023  # an amount or vault balance would pass u64; sell fees above the output
    DIVISION_BY_ZERO = 6025  # empty pool, or effective quote reserve <= 0
    BUY_NOT_ENOUGH_QUOTE_TOKENS_TO_COVER_FEES = 6039
    BUY_SLIPPAGE_BELOW_MIN_BASE_AMOUNT_OUT = 6040
    BUYBACK_FEE_RECIPIENT_NOT_AUTHORIZED = 6053
    BUYBACK_BASIS_POINTS_OUT_OF_RANGE = 6056
    BUYBACK_FEE_RECIPIENT_MISSING = 6058
    MISSING_CASHBACK_ACCOUNTS = 6059
    INVALID_CASHBACK_ACCUMULATOR = 6060
    INVALID_CASHBACK_ACCUMULATOR_ATA = 6061
    INVALID_POOL_V2 = 6062
    INSUFFICIENT_REAL_QUOTE_RESERVES = 6063


def error_name(code: int) -> str:
    """Name of a PumpSwap error code, or ``"Custom(<code>)"`` for a code outside the table."""
    try:
        return PumpSwapError(code).name
    except ValueError:
        return f"Custom({code})"
