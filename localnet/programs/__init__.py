"""Reference on-chain programs written in C (sources, committed .so builds, Python helpers)."""

from pathlib import Path

PROGRAMS_DIR = Path(__file__).resolve().parent


def program_path(name: str) -> Path:
    """Path of the committed build of program ``name`` (e.g. ``"cpmm"`` -> ``cpmm.so``)."""
    return PROGRAMS_DIR / f"{name}.so"
