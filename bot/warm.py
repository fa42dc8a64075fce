"""Warm numba's on-disk cache at install time so the first `solarb run` does not compile."""

from __future__ import annotations

import importlib

from strategies.jit import KERNEL_MODULES


def main() -> None:
    for name in KERNEL_MODULES:  # each exposes `warm()`
        module = importlib.import_module(name)
        module.warm()


if __name__ == "__main__":
    main()
