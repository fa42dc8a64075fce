"""Error codes of Raydium AMM v4, as localnet's reference program (amm_v4.c) returns them.

Custom codes: ``InstructionError(i, Custom(n))`` where n is the position of the variant in
raydium-amm's ``AmmError`` enum (raydium-io/raydium-amm program/src/error.rs, variants 0-59;
``From<AmmError> for ProgramError`` is ``Custom(e as u32)``). Variant 60 is from a later version, as a
third-party generated client lists it, with explicit numbers that agree on 0-59. The whole enum is
listed, so a code from the real program can be named too; `RETURNED` is the subset amm_v4.c returns.
Two builtin errors (not Custom) are returned as well: ``InvalidInstructionData`` (unknown tag, short
data, or a tag the build leaves out) and ``NotEnoughAccountKeys`` (fewer than 8 accounts for tags
16/17, fewer than 12 for our initialize). Where the real program would panic (an unwrap) ours returns
the named error the comment lists.
"""

from __future__ import annotations

from enum import IntEnum


class AmmV4Error(IntEnum):
    """raydium-amm ``AmmError``; comments say when amm_v4.c returns the code."""

    ALREADY_IN_USE = 0
    INVALID_PROGRAM_ADDRESS = 1  # authority is not create_program_address(["amm authority", [nonce]])
    EXPECTED_MINT = 2  # initialize: a mint is not an initialized 82-byte SPL mint
    EXPECTED_ACCOUNT = 3  # amm not 752 bytes; a token account not an initialized 165-byte SPL account
    INVALID_COIN_VAULT = 4  # coin vault slot differs from AmmInfo.coin_vault (initialize: vault mint)
    INVALID_PC_VAULT = 5  # pc vault slot differs from AmmInfo.pc_vault (initialize: vault mint)
    INVALID_TOKEN_LP = 6
    INVALID_DEST_TOKEN_COIN = 7
    INVALID_DEST_TOKEN_PC = 8
    INVALID_POOL_MINT = 9
    INVALID_OPEN_ORDERS = 10  # legacy list: open_orders not the pool's, or not owned by the market program
    INVALID_MARKET = 11  # legacy list: market not the pool's, or not owned by the market program
    INVALID_MARKET_PROGRAM = 12  # legacy list: market program not the pool's
    INVALID_TARGET_ORDERS = 13
    ACCOUNT_NEED_WRITEABLE = 14  # amm, a vault or a user token account is not writable (ours; see README)
    ACCOUNT_NEED_READ_ONLY = 15
    INVALID_COIN_MINT = 16
    INVALID_PC_MINT = 17
    INVALID_OWNER = 18  # initialize: a vault is not owned by the authority
    INVALID_SUPPLY = 19
    INVALID_DELEGATE = 20
    INVALID_SIGN_ACCOUNT = 21  # user owner (swap) / creator (initialize) did not sign
    INVALID_STATUS = 22  # status without swap permission (0, 2-5, >7), WaitingTrade before open, V2 on 1
    INVALID_INSTRUCTION = 23
    WRONG_ACCOUNTS_NUMBER = 24  # tags 9/11 with other than 17 or 18 accounts; more than 64 entries
    INVALID_TARGET_ACCOUNT_OWNER = 25
    INVALID_TARGET_OWNER = 26
    INVALID_AMM_ACCOUNT_OWNER = 27  # amm not owned by the program
    INVALID_PARAMS_SET = 28
    INVALID_INPUT = 29  # amount_in, amount_out or required input is 0
    EXCEEDED_SLIPPAGE = 30  # out < minimum_amount_out, or in > max_amount_in
    CALCULATION_EX_RATE_FAILURE = 31
    CHECKED_SUB_OVERFLOW = 32  # need_take_pnl exceeds the vault amount
    CHECKED_ADD_OVERFLOW = 33
    CHECKED_MUL_OVERFLOW = 34  # base out: required input * fee denominator passes u128 (real: panic)
    CHECKED_DIV_OVERFLOW = 35  # base in: input reserve and net input both 0 (real: panic)
    CHECKED_EMPTY_FUNDS = 36
    CALC_PNL_ERROR = 37
    INVALID_SPL_TOKEN_PROGRAM = 38  # token program slot not SPL Token; a token account/mint not owned by it
    TAKE_PNL_ERROR = 39
    INSUFFICIENT_FUNDS = 40  # user balance < amount_in; amount_out >= output reserve (base out real: panic)
    CONVERSION_FAILURE = 41  # base out: amount_in does not fit u64 (real: panic)
    INVALID_USER_TOKEN = 42  # user account is a pool vault, or the user mints match no direction
    INVALID_SRM_MINT = 43
    INVALID_SRM_TOKEN = 44
    TOO_MANY_OPEN_ORDERS = 45
    ORDER_AT_SLOT_IS_PLACED = 46
    INVALID_SYS_PROGRAM_ADDRESS = 47
    INVALID_FEE = 48  # swap_fee_numerator >= swap_fee_denominator (real: panic)
    REPEAT_CREATE_AMM = 49  # initialize: the amm account's status is not 0
    NOT_ALLOW_ZERO_LP = 50
    INVALID_CLOSE_AUTHORITY = 51
    INVALID_FREEZE_AUTHORITY = 52
    INVALID_REFER_PC_MINT = 53
    INVALID_CONFIG_ACCOUNT = 54
    REPEAT_CREATE_CONFIG_ACCOUNT = 55
    MARKET_LOT_SIZE_IS_TOO_LARGE = 56
    INIT_LP_AMOUNT_TOO_LESS = 57
    UNKNOWN_AMM_ERROR = 58
    NOT_ALLOWED = 59  # the pool's coin and pc mints are equal
    LAMPORTS_CALCULATE_ERROR = 60  # a later variant, seen in a third-party generated client of the program


# Codes amm_v4.c returns as Custom(n) (tests/programs/test_amm_v4_error_table.py keeps this in step with it).
RETURNED = frozenset(
    {
        AmmV4Error.INVALID_PROGRAM_ADDRESS, AmmV4Error.EXPECTED_MINT, AmmV4Error.EXPECTED_ACCOUNT,
        AmmV4Error.INVALID_COIN_VAULT, AmmV4Error.INVALID_PC_VAULT, AmmV4Error.INVALID_OPEN_ORDERS,
        AmmV4Error.INVALID_MARKET, AmmV4Error.INVALID_MARKET_PROGRAM, AmmV4Error.ACCOUNT_NEED_WRITEABLE,
        AmmV4Error.INVALID_OWNER, AmmV4Error.INVALID_SIGN_ACCOUNT, AmmV4Error.INVALID_STATUS,
        AmmV4Error.WRONG_ACCOUNTS_NUMBER, AmmV4Error.INVALID_AMM_ACCOUNT_OWNER, AmmV4Error.INVALID_INPUT,
        AmmV4Error.EXCEEDED_SLIPPAGE, AmmV4Error.CHECKED_SUB_OVERFLOW, AmmV4Error.CHECKED_MUL_OVERFLOW,
        AmmV4Error.CHECKED_DIV_OVERFLOW, AmmV4Error.INVALID_SPL_TOKEN_PROGRAM, AmmV4Error.INSUFFICIENT_FUNDS,
        AmmV4Error.CONVERSION_FAILURE, AmmV4Error.INVALID_USER_TOKEN, AmmV4Error.INVALID_FEE,
        AmmV4Error.REPEAT_CREATE_AMM, AmmV4Error.NOT_ALLOWED,
    }
)  # fmt: skip

# Builtin `InstructionError` variants (not Custom) the program returns, by their solders/RPC name.
INVALID_INSTRUCTION_DATA = "InvalidInstructionData"
NOT_ENOUGH_ACCOUNT_KEYS = "NotEnoughAccountKeys"


def error_name(code: int) -> str:
    """Name of an AMM v4 custom error code, or ``"Custom(<code>)"`` for a code outside the enum."""
    try:
        return AmmV4Error(code).name
    except ValueError:
        return f"Custom({code})"
