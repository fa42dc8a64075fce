"""sBPF toolchain: post-linker for clang-16 BPF objects and the program build driver."""

from localnet.sbf.errors import CompileFailed, LinkError, SbfError, ToolchainMissing
from localnet.sbf.linker import LinkResult, link

__all__ = ["CompileFailed", "LinkError", "LinkResult", "SbfError", "ToolchainMissing", "link"]
