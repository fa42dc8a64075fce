"""Error codes returned by localnet's CPMM program (cpmm.c), as ``InstructionError(i, Custom(code))``.

Two families, both exactly what the real Raydium CPMM program returns for the same failure:
- 6000+: raydium-cp-swap's own ``ErrorCode`` enum, in declaration order (Anchor numbers custom errors
  from 6000). Source: raydium-io/raydium-cp-swap programs/cp-swap/src/error.rs (6000-6009 read at commit
  0df2b12c66cd9a839fe13f82ab372d9f733513ff; 6010-6013 from a later version of the same enum as quoted
  in third-party references: TransferFeeCalculateNotMatch, MathOverflow, InsufficientVault, InvalidFeeModel).
- below 6000: Anchor framework errors the real program raises through its account constraints
  (coral-xyz/anchor ts/packages/anchor-errors/src/index.ts).
The program logs "<Name>: <account or context>" before failing, as Anchor names the account.
Where the real program would panic (an unwrap) ours returns the named error listed in the comment.
"""

from __future__ import annotations

from enum import IntEnum


class CpmmError(IntEnum):
    """Custom error codes of the CPMM program."""

    # Anchor framework
    INSTRUCTION_MISSING = 100  # data shorter than the 8-byte discriminator
    INSTRUCTION_FALLBACK_NOT_FOUND = 101  # unknown discriminator
    INSTRUCTION_DID_NOT_DESERIALIZE = 102  # arguments too short
    CONSTRAINT_MUT = 2000  # an account the context marks `mut` is not writable
    CONSTRAINT_RAW = 2003  # input/output vault is neither of the pool's vaults
    CONSTRAINT_SEEDS = 2006  # authority is not the PDA ["vault_and_lp_mint_auth_seed", auth_bump]
    CONSTRAINT_ADDRESS = 2012  # amm_config / mint / observation key differs from the one the pool names
    CONSTRAINT_SPACE = 2019  # initialize: account too small
    REQUIRE_GT_VIOLATED = 2505  # zero amount in, zero amount out, or zero required input
    ACCOUNT_DISCRIMINATOR_ALREADY_SET = 3000  # initialize: pool/observation already initialized
    ACCOUNT_DISCRIMINATOR_NOT_FOUND = 3001  # account data shorter than 8 bytes
    ACCOUNT_DISCRIMINATOR_MISMATCH = 3002  # wrong account type in a slot (e.g. wrong account order)
    ACCOUNT_DID_NOT_DESERIALIZE = 3003  # token account / mint not initialized or too short
    ACCOUNT_NOT_ENOUGH_KEYS = 3005  # fewer than 13 (swap) / 10 (initialize) accounts
    ACCOUNT_OWNED_BY_WRONG_PROGRAM = 3007  # wrong owner (program-owned state or token accounts)
    INVALID_PROGRAM_ID = 3008  # token program slot is not SPL Token / Token-2022, or not the vault's owner
    INVALID_PROGRAM_EXECUTABLE = 3009  # token program account not executable
    ACCOUNT_NOT_SIGNER = 3010  # payer (swap) / creator (initialize) did not sign
    ACCOUNT_NOT_INITIALIZED = 3012  # a typed slot holds a key with no account (system-owned, 0 lamports)
    # raydium-cp-swap ErrorCode
    NOT_APPROVED = 6000  # status bit 2 disables swaps, or now < open_time
    INVALID_OWNER = 6001
    EMPTY_SUPPLY = 6002  # a reserve is zero (the real program would divide by zero and panic)
    INVALID_INPUT = (
        6003  # initialize: token_0_mint must sort before token_1_mint; more than 64 account entries
    )
    INCORRECT_LP_MINT = 6004
    EXCEEDED_SLIPPAGE = 6005  # out < minimum_amount_out, or in > max_amount_in
    ZERO_TRADING_TOKENS = 6006  # curve failed: amount_out >= output reserve (real: panic), fee rate >= 100 %
    NOT_SUPPORT_MINT = 6007  # Token-2022 mint with extensions (transfer fees are not modelled)
    INVALID_VAULT = 6008  # vaults passed in the same slot order as neither direction; initialize vault checks
    INIT_LP_AMOUNT_TOO_LESS = 6009
    TRANSFER_FEE_CALCULATE_NOT_MATCH = 6010
    MATH_OVERFLOW = 6011  # a u64 result overflowed (real: panic on unwrap)
    INSUFFICIENT_VAULT = 6012  # fees owed exceed the vault balance (real: panic on checked_sub)
    INVALID_FEE_MODEL = 6013  # pool has the creator fee enabled (not modelled here)


def error_name(code: int) -> str:
    """Name of a CPMM error code, or ``"Custom(<code>)"`` for a code outside the table."""
    try:
        return CpmmError(code).name
    except ValueError:
        return f"Custom({code})"
