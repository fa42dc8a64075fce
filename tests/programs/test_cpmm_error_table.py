"""The Python error table (cpmm_errors.py) and the README list exactly the codes cpmm.c defines."""

from __future__ import annotations

import re

from localnet.programs import PROGRAMS_DIR
from localnet.programs.cpmm_errors import CpmmError, error_name


def c_error_codes() -> dict[str, int]:
    # cpmm.c's own codes, and the Anchor framework codes it shares with pumpswap.c (anchor_spl.h).
    src = (PROGRAMS_DIR / "cpmm.c").read_text() + (PROGRAMS_DIR / "anchor_spl.h").read_text()
    return {name: int(code) for name, code in re.findall(r"^#define ([A-Z][A-Za-z]+) (\d{3,4})$", src, re.M)}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def test_python_table_matches_the_c_source() -> None:
    codes = c_error_codes()
    assert len(codes) >= 30
    defined = {snake(n): c for n, c in codes.items()}
    # Every Python entry is defined in C with its value; every code cpmm.c returns has a Python entry
    # (anchor_spl.h also defines codes only pumpswap.c uses).
    assert {e.name: e.value for e in CpmmError}.items() <= defined.items()
    src = (PROGRAMS_DIR / "cpmm.c").read_text()
    used = {n for n in codes if re.search(rf"\b{n}\b", src.split("#include")[-1])}
    assert {snake(n) for n in used} <= {e.name for e in CpmmError}


def test_readme_table_lists_every_code_the_program_returns() -> None:
    src = (PROGRAMS_DIR / "cpmm.c").read_text() + (PROGRAMS_DIR / "anchor_spl.h").read_text()
    readme = (PROGRAMS_DIR / "README.md").read_text()
    for name, code in c_error_codes().items():
        if re.search(rf"FAIL\({name}\b|return {name};", src):
            assert f"| {code} | {name} |" in readme, name


def test_error_name() -> None:
    assert error_name(6005) == "EXCEEDED_SLIPPAGE"
    assert error_name(1) == "Custom(1)"
