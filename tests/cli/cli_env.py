"""Helpers for the command-line tests: run `solarb` as a user does, in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def solarb_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def solarb_env() -> dict[str, str]:
    """This checkout's code first, whatever the child's working directory."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }


def solarb(*args: str, cwd: Path | None = None, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(solarb_argv(*args), capture_output=True, text=True, cwd=cwd, env=solarb_env(),
                          timeout=timeout)  # fmt: skip


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused command (fails the test when there are more, or none)."""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]
