"""The Python error table (amm_v4_errors.py) and the README agree with the codes amm_v4.c defines."""

from __future__ import annotations

import re

from localnet.programs import PROGRAMS_DIR
from localnet.programs.amm_v4_errors import (
    INVALID_INSTRUCTION_DATA,
    NOT_ENOUGH_ACCOUNT_KEYS,
    RETURNED,
    AmmV4Error,
    error_name,
)

SOURCE = (PROGRAMS_DIR / "amm_v4.c").read_text()


def c_custom_codes() -> dict[str, int]:
    return {
        name: int(code) for name, code in re.findall(r"^#define ([A-Z][A-Za-z]+) (\d{1,2})$", SOURCE, re.M)
    }


def snake(name: str) -> str:
    """InvalidPCVault -> INVALID_PC_VAULT (acronyms stay one word)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).upper()


def test_every_c_code_is_the_real_enum_position() -> None:
    codes = c_custom_codes()
    assert len(codes) >= 20
    assert {snake(n): c for n, c in codes.items()} == {e.name: e.value for e in RETURNED}
    # the enum is raydium-amm's AmmError in declaration order, no gaps
    assert [e.value for e in AmmV4Error] == list(range(61))


def test_builtin_errors_are_the_runtime_encoding() -> None:
    # ProgramError builtins are returned as n << 32 (InvalidInstructionData 3, NotEnoughAccountKeys 11)
    assert re.search(rf"^#define {INVALID_INSTRUCTION_DATA} \(3UL << 32\)$", SOURCE, re.M)
    assert re.search(rf"^#define {NOT_ENOUGH_ACCOUNT_KEYS} \(11UL << 32\)$", SOURCE, re.M)


def test_readme_table_lists_every_code_the_program_returns() -> None:
    readme = (PROGRAMS_DIR / "README.md").read_text()
    for name, code in c_custom_codes().items():
        assert re.search(rf"FAIL\({name}\b|return {name};", SOURCE), f"{name} is defined but never returned"
        assert f"| {code} | {name} |" in readme, name
    for name in (INVALID_INSTRUCTION_DATA, NOT_ENOUGH_ACCOUNT_KEYS):
        assert f"| builtin | {name} |" in readme, name


def test_error_name() -> None:
    assert error_name(30) == "EXCEEDED_SLIPPAGE"
    assert error_name(61) == "Custom(61)"
