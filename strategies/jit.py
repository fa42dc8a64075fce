"""numba's on-disk cache for our kernels, keyed on every source file their machine code depends on.

numba stamps a cached function with the content hash of the one file that defines it
(`_SourceFileBackedLocatorMixin.get_source_stamp` in numba/core/caching.py). But a kernel's machine
code also holds the jitted functions it calls from other files (`detector.detect` carries
`cp_kernels.cp_out`) and the module constants it reads, frozen at compile time (`layout` columns,
`routes` row offsets). An edit there would leave `detect` loading its old machine code.

Importing this module installs `KernelCacheLocator` ahead of numba's own locators. For functions
defined in `KERNEL_MODULES` only, it stamps the cache with one digest over the files of
`KERNEL_MODULES` and `FROZEN_MODULES` (`kernel_digest()`), and keeps the cache files in a directory per
digest (`kernels-<digest16>` inside the directory numba would have used: the module's `__pycache__`,
or `NUMBA_CACHE_DIR`'s tree). Any edit to any of those files recompiles every kernel; switching back
to an earlier version of the sources finds its directory again. Every other numba user keeps numba's
own locators, untouched.

Kernel modules take `njit` from here (`from strategies.jit import njit`): numba picks a function's
cache locator when `@njit(cache=True)` is applied, so the locator must be in place by then. Jitted
code elsewhere that calls these kernels (benches/) carries their machine code too: it is not cached.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from numba import njit
from numba.core import caching, config

__all__ = ["FROZEN_MODULES", "KERNEL_MODULES", "KernelCacheLocator", "kernel_digest", "njit"]

# Modules that define @njit kernels (each exposes `warm()`, used by `bot.warm`), callees before callers.
KERNEL_MODULES: tuple[str, ...] = (
    "strategies.venues.cp_kernels",
    "strategies.venues.whirlpool_kernels",
    "strategies.detector",
)
# Modules whose constants the kernels freeze when compiled. tests/detector/test_kernel_cache.py checks
# that the kernels reach no other module of ours.
FROZEN_MODULES: tuple[str, ...] = (
    "strategies.layout",
    "strategies.routes",
    "strategies.jit",  # this list and the locator
)
_KEEP_DIGESTS = 4  # cache directories kept per __pycache__ (the most recently written ones)

_ROOT = Path(__file__).resolve().parent.parent  # the directory holding the `strategies` package


def _source(module: str) -> Path:
    return _ROOT.joinpath(*module.split(".")).with_suffix(".py")


def _digest() -> str:
    h = hashlib.sha256()
    for module in sorted(KERNEL_MODULES + FROZEN_MODULES):
        try:
            data = _source(module).read_bytes()
        except OSError as err:
            raise ImportError(
                f"strategies.jit: cannot read {_source(module)} ({err}); the kernel cache is keyed on it"
            ) from err
        h.update(f"{module}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


_DIGEST = _digest()
_KERNEL_FILES = frozenset(os.path.realpath(_source(m)) for m in KERNEL_MODULES)


def kernel_digest() -> str:
    """Digest of the kernel sources this process compiled (or loaded) its kernels from."""
    return _DIGEST


class KernelCacheLocator(caching._CacheLocator):
    """numba cache locator for the functions of `KERNEL_MODULES`: numba's own locator for the same
    function, moved into a `kernels-<digest16>` subdirectory and stamped with `kernel_digest()`."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._py_file = inner._py_file  # numba's CacheImpl reads it for its "cannot cache" warning
        self._parent = inner.get_cache_path()
        self._path = os.path.join(self._parent, f"kernels-{_DIGEST[:16]}")

    def get_cache_path(self) -> str:
        return self._path

    def get_source_stamp(self) -> str:
        return _DIGEST

    def get_disambiguator(self) -> str:
        return str(self._inner.get_disambiguator())

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> KernelCacheLocator | None:
        if os.path.realpath(py_file) not in _KERNEL_FILES:
            return None  # not ours: numba's next locator takes it
        for other in _locator_classes():
            inner = None if other is cls else other.from_function(py_func, py_file)
            if inner is None:
                continue
            self = cls(inner)
            fresh = not os.path.isdir(self._path)
            try:
                self.ensure_cache_path()
            except OSError:
                continue  # not writable here: try numba's next place
            if fresh:
                self._prune()
            return self
        return None

    def _prune(self) -> None:
        """Remove this directory's older digest directories (all but the `_KEEP_DIGESTS` newest)."""
        try:
            dirs = [e for e in os.scandir(self._parent) if e.name.startswith("kernels-") and e.is_dir()]
            dirs.sort(key=lambda e: e.stat().st_mtime, reverse=True)
        except OSError:
            return
        for entry in dirs[_KEEP_DIGESTS:]:
            shutil.rmtree(entry.path, ignore_errors=True)


def _locator_classes() -> list[Any]:
    # Private numba API (CacheImpl._locator_classes, _CacheLocator): safe because numba is pinned in
    # pyproject.toml; tests/detector/test_kernel_cache.py checks the pin and that the locator is used.
    classes: list[Any] = caching.CacheImpl._locator_classes
    return classes


def _install() -> None:
    # NUMBA_CACHE_LOCATOR_CLASSES replaces numba's locator list (caching.CacheImpl.__init__), which
    # would bypass ours and load stale kernels: refuse it unless it names ours first.
    override = str(getattr(config, "CACHE_LOCATOR_CLASSES", "") or "")
    if override and override.split(",")[0].strip() != f"{__name__}.KernelCacheLocator":
        raise ImportError(
            f"NUMBA_CACHE_LOCATOR_CLASSES={override!r} bypasses the kernel cache's locator (stale "
            f"kernels could load): unset it, or list {__name__}.KernelCacheLocator first"
        )
    # A reload of this module replaces its earlier locator (which holds the earlier digest).
    locators = _locator_classes()
    locators[:] = [KernelCacheLocator] + [
        c for c in locators if (c.__module__, c.__qualname__) != (__name__, "KernelCacheLocator")
    ]


_install()
