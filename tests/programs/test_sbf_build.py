"""The committed program binaries are exactly what the pinned toolchain builds from the sources.

Fails (never skips) when clang-16 is missing: `make toolchain` installs it, and CI runs that first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from localnet.programs import program_path
from localnet.sbf.build import build_program, find_tool, program_sources


def test_toolchain_is_installed() -> None:
    assert Path(find_tool("clang-16")).exists()


def test_committed_programs_rebuild_byte_identical(tmp_path: Path) -> None:
    sources = program_sources()
    assert [s.stem for s in sources] == ["amm_v4", "cpmm", "pumpswap", "whirlpool"]
    for src in sources:
        rebuilt = build_program(src, tmp_path).read_bytes()
        committed = program_path(src.stem).read_bytes()
        assert rebuilt == committed, f"{src.name}: committed {src.stem}.so is stale; run `make programs`"


def test_cli_builds_a_test_build_outside_the_committed_directory(tmp_path: Path) -> None:
    from localnet.sbf.build import main

    assert main(["--only", "amm_v4", "--define", "AMM_V4_NO_V2", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "amm_v4.so").read_bytes() != program_path("amm_v4").read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["amm_v4.so"]
    with pytest.raises(SystemExit):  # a test build never overwrites a committed binary
        main(["--define", "AMM_V4_NO_V2"])
