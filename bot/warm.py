"""Warm numba's on-disk cache at install time so the first `solarb run` does not compile."""

from __future__ import annotations

import importlib

# Modules whose import compiles (cache=True) kernels; each exposes `warm()`.
KERNEL_MODULES: tuple[str, ...] = (
    "strategies.venues.cp_kernels",
    "strategies.venues.whirlpool_kernels",
    "strategies.detector",
)


def main() -> None:
    for name in KERNEL_MODULES:
        module = importlib.import_module(name)
        module.warm()


if __name__ == "__main__":
    main()
