"""The committed program binaries are exactly what the pinned toolchain builds from the sources.

Fails (never skips) when clang-16 is missing: `make toolchain` installs it, and CI runs that first.
"""

from __future__ import annotations

from pathlib import Path

from localnet.programs import program_path
from localnet.sbf.build import build_program, find_tool, program_sources


def test_toolchain_is_installed() -> None:
    assert Path(find_tool("clang-16")).exists()


def test_committed_programs_rebuild_byte_identical(tmp_path: Path) -> None:
    sources = program_sources()
    assert [s.stem for s in sources] == ["cpmm", "whirlpool"]
    for src in sources:
        rebuilt = build_program(src, tmp_path).read_bytes()
        committed = program_path(src.stem).read_bytes()
        assert rebuilt == committed, f"{src.name}: committed {src.stem}.so is stale; run `make programs`"
