"""Typed errors of the sBPF toolchain (post-linker and build driver)."""

from __future__ import annotations


class SbfError(Exception):
    """Root of every error raised by ``localnet.sbf``."""


class LinkError(SbfError):
    """The relocatable object holds something the post-linker does not handle.

    ``what`` names the offending section, symbol or relocation so the message is one clear line.
    """

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.reason = reason


class ToolchainMissing(SbfError):
    """clang-16 / ld.lld-16 are not installed (run `make toolchain`)."""

    def __init__(self, tool: str) -> None:
        super().__init__(
            f"{tool} not found on PATH; run `make toolchain` (installs Debian's clang-16/lld-16)"
        )
        self.tool = tool


class CompileFailed(SbfError):
    """The C compiler rejected a program source."""

    def __init__(self, source: str, stderr: str) -> None:
        first = next((ln for ln in stderr.splitlines() if "error" in ln), stderr.strip()[:200])
        super().__init__(f"{source}: compile failed: {first}")
        self.source = source
        self.stderr = stderr
