"""Build every C program in ``localnet/programs`` into a loadable sBPF v0 ``.so``.

``python -m localnet.sbf.build`` (what ``make programs`` runs) rebuilds the committed binaries in
place; ``build_program`` is what the reproducibility test calls with an output directory of its own.
Compiler: Debian's clang-16 (pinned by the Makefile's `toolchain` target); flags from
/work/shared/notes/sbpf-from-c.md. The output depends only on the source and the compiler version:
no paths, timestamps or debug info reach the .so (non-loaded sections are dropped by the post-linker).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from localnet.sbf.errors import CompileFailed, SbfError, ToolchainMissing
from localnet.sbf.linker import link

PROGRAMS_DIR = Path(__file__).resolve().parent.parent / "programs"
CLANG = "clang-16"
CFLAGS = (
    "-target",
    "bpf",
    "-mcpu=v2",
    "-O2",
    "-ffreestanding",
    "-fno-builtin",
    "-nostdlib",
    "-fno-stack-protector",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-function",
    "-std=c11",
)


def find_tool(name: str) -> str:
    """Absolute path of a toolchain binary, or ToolchainMissing."""
    path = shutil.which(name)
    if path is None:
        raise ToolchainMissing(name)
    return path


def program_sources(programs_dir: Path = PROGRAMS_DIR) -> list[Path]:
    """Every ``*.c`` in the programs directory is one program (headers are shared)."""
    return sorted(programs_dir.glob("*.c"))


def compile_object(source: Path, out_obj: Path, defines: tuple[str, ...] = ()) -> None:
    """clang-16 -c one C file into a relocatable BPF object; ``defines`` become ``-D`` flags."""
    clang = find_tool(CLANG)
    flags = [f"-D{d}" for d in defines]
    cmd = [clang, *CFLAGS, *flags, "-I", str(source.parent), "-c", source.name, "-o", str(out_obj)]
    # Compile from the source directory with a relative name so no absolute path is recorded.
    proc = subprocess.run(cmd, cwd=source.parent, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CompileFailed(source.name, proc.stderr)


def build_program(source: Path, out_dir: Path, defines: tuple[str, ...] = ()) -> Path:
    """Compile and post-link one program; returns the path of the written ``.so``.

    ``defines`` (e.g. ``("AMM_V4_NO_V2",)``) select a test build; only the define-free builds are committed.
    """
    with tempfile.TemporaryDirectory(prefix="sbf-") as tmp:
        obj = Path(tmp) / (source.stem + ".o")
        compile_object(source, obj, defines)
        image = link(obj.read_bytes()).image
    out = out_dir / (source.stem + ".so")
    out.write_bytes(image)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localnet.sbf.build", description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=PROGRAMS_DIR, help="where the .so files go")
    parser.add_argument("--only", metavar="NAME", help="build only this program (e.g. amm_v4)")
    parser.add_argument("--define", metavar="NAME", action="append", default=[],
                        help="compile with -DNAME (a test build, e.g. AMM_V4_NO_V2); needs --out-dir")  # fmt: skip
    args = parser.parse_args(argv)
    if args.define and args.out_dir.resolve() == PROGRAMS_DIR.resolve():
        parser.error(
            "--define makes a test build: give an --out-dir other than the committed programs' directory"
        )
    sources = [s for s in program_sources() if args.only in (None, s.stem)]
    if not sources:
        parser.error(f"no program named {args.only!r} in {PROGRAMS_DIR}")
    try:
        for src in sources:
            out = build_program(src, args.out_dir, tuple(args.define))
            print(f"built {out} ({out.stat().st_size} bytes)")
    except SbfError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
