"""The Python error table (whirlpool_errors.py) and the README list exactly the codes whirlpool.c defines."""

from __future__ import annotations

import re

from localnet.programs import PROGRAMS_DIR
from localnet.programs.whirlpool_errors import WhirlpoolError, code_of, error_name, snake


def c_error_codes() -> dict[str, int]:
    src = (PROGRAMS_DIR / "whirlpool.c").read_text()
    return {name: int(code) for name, code in re.findall(r"^#define ([A-Z][A-Za-z]+) (\d{3,4})$", src, re.M)}


def test_python_table_matches_the_c_source() -> None:
    codes = c_error_codes()
    assert len(codes) >= 50
    assert {snake(n): c for n, c in codes.items()} == {e.name: e.value for e in WhirlpoolError}


def test_orca_codes_follow_the_declaration_order_of_errors_rs() -> None:
    # Spot checks against the code comments of orca-so/whirlpools programs/whirlpool/src/errors.rs.
    assert code_of("InvalidTickArraySequence") == 0x1787
    assert code_of("AmountOutBelowMinimum") == 0x1794
    assert code_of("TickArraySequenceInvalidIndex") == 0x1796
    assert code_of("PartialFillError") == 0x17A9


def test_readme_table_lists_every_code_the_program_returns() -> None:
    src = (PROGRAMS_DIR / "whirlpool.c").read_text()
    readme = (PROGRAMS_DIR / "README.md").read_text()
    section = readme[readme.index("## Whirlpool") :]
    for name, code in c_error_codes().items():
        if re.search(rf"FAIL\({name}\b|return {name};", src):
            assert f"| {code} | {name} |" in section, name


def test_error_name() -> None:
    assert error_name(6036) == "AMOUNT_OUT_BELOW_MINIMUM"
    assert error_name(1) == "Custom(1)"
