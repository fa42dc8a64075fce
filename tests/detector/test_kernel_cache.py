"""numba's on-disk cache follows every kernel source (strategies.jit): an edit to a kernel another kernel
calls, or to a layout constant the kernels freeze, is compiled in by the next run, never loaded stale.

The subprocess tests run on a copy of the strategies package in a temporary directory (its kernel cache
warmed once per module, copied along when this tree's cache is warm), so they edit sources freely.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numba
import pytest
from numba.core.dispatcher import Dispatcher

from strategies import detector, jit

ROOT = Path(__file__).resolve().parent.parent.parent

# detect() on warm()'s small market with the bounded search forced on: the search calls cp_out (the
# closed form used otherwise does not). Prints the result and detect's cache statistics.
SCRIPT = r"""
import json
from strategies import detector as d, jit, layout as L, routes as R

specs = [R.PoolSpec(L.KIND_RAYDIUM_CPMM, "A", "B"), R.PoolSpec(L.KIND_RAYDIUM_AMM_V4, "A", "B")]
table = R.build_routes(specs, base_mints=("A",))
cache = L.allocate(len(specs), len(table.mints))
for i in range(len(specs)):
    L.register_pool(cache, i, specs[i].kind, 0, 1)
    L.write_cp_pool(cache, i, 10**12, 10**12 + i * 10**10, 25, 10_000, 1, 0)
    L.set_flags(cache, i, tradable=True, settling=False)
L.write_token(cache.market, 0, balance=10**9, max_notional=10**9, is_sol=True)
cache.market[L.M_FORCE_SEARCH] = 1.0
route = d.detect(cache.state, table.graph, 0)
stats = d.detect.stats
print(json.dumps({
    "result": [route, cache.market[L.O_AMOUNT_IN], cache.market[L.O_GROSS_OUT], cache.market[L.O_NET_PROFIT]],
    "hits": sum(stats.cache_hits.values()),
    "misses": sum(stats.cache_misses.values()),
    "cache_path": stats.cache_path,
    "digest": jit.kernel_digest(),
}))
"""


def _run(pkg_root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env["PYTHONPATH"] = str(pkg_root)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=pkg_root, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _cache_files(pkg_root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in pkg_root.rglob("*") if p.suffix in (".nbi", ".nbc")}


def _edit(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text()
    new, n = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    assert n == 1, f"{pattern!r} not found in {path}"
    path.write_text(new)


@pytest.fixture(scope="module")
def warm_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A copy of strategies/ whose kernel cache is warm, and its detect() result."""
    root = tmp_path_factory.mktemp("warm")
    shutil.copytree(ROOT / "strategies", root / "strategies", ignore=shutil.ignore_patterns("*.pyc"))
    return root, _run(root)


@pytest.fixture
def pkg(warm_copy: tuple[Path, dict], tmp_path: Path) -> Path:
    shutil.copytree(warm_copy[0] / "strategies", tmp_path / "strategies")
    return tmp_path


def test_edit_of_a_called_kernel_is_compiled_in_then_cached(warm_copy: tuple[Path, dict], pkg: Path) -> None:
    base = warm_copy[1]
    again = _run(pkg)
    assert again["result"] == base["result"] and again["misses"] == 0 and again["hits"] >= 1

    # cp_out is defined in cp_kernels.py; detect (detector.py, unchanged) carries its machine code.
    _edit(
        pkg / "strategies/venues/cp_kernels.py",
        r"(def cp_out\(x: float, .*\n(?:    .*\n)*?)    return r_out \* net / \(r_in \+ net\)",
        r"\1    return 0.9999 * r_out * net / (r_in + net)",
    )
    edited = _run(pkg)
    assert edited["digest"] != base["digest"] and edited["cache_path"] != base["cache_path"]
    assert edited["misses"] == 1 and edited["hits"] == 0  # recompiled, not loaded
    assert edited["result"] != base["result"]
    assert edited["result"][2] < base["result"][2]  # the gross output shrank as the edit says

    files = _cache_files(pkg)
    third = _run(pkg)
    assert third["result"] == edited["result"] and third["cache_path"] == edited["cache_path"]
    assert third["hits"] == 1 and third["misses"] == 0  # loaded from the new digest's cache
    assert _cache_files(pkg) == files  # and nothing was written or rewritten


def test_edit_of_a_frozen_layout_constant_recompiles(warm_copy: tuple[Path, dict], pkg: Path) -> None:
    base = warm_copy[1]
    # One more parameter slot moves every output slot and token row: machine code compiled for the
    # old layout would write its outputs and read its tokens one slot off (no route, wrong numbers).
    _edit(pkg / "strategies/layout.py", r"^N_PARAMS = 32$", "N_PARAMS = 33")
    pycache = pkg / "strategies/__pycache__"
    for other in pycache.glob("kernels-*"):  # copied from this tree: other versions it compiled
        if other.name != Path(base["cache_path"]).name:
            shutil.rmtree(other)
    for i in range(6):  # directories of older digests, written long ago
        old = pycache / f"kernels-{i:016x}"
        old.mkdir()
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    edited = _run(pkg)
    assert edited["misses"] == 1 and edited["hits"] == 0
    assert edited["result"] == base["result"]
    assert base["result"][0] >= 0  # the market has a route: a stale kernel could not reproduce it
    # A new digest's directory prunes the old ones: the newest few are kept (branch switches).
    kept = sorted(d.name for d in pycache.glob("kernels-*"))
    assert len(kept) == jit._KEEP_DIGESTS
    assert Path(edited["cache_path"]).name in kept and Path(base["cache_path"]).name in kept
    assert {"kernels-0000000000000005", "kernels-0000000000000004"} <= set(kept)


def test_only_kernel_modules_get_the_digest_locator(tmp_path: Path) -> None:
    assert isinstance(detector.detect._cache._impl.locator, jit.KernelCacheLocator)
    # Any other cached numba function keeps numba's own locator (and its per-file stamp).
    src = tmp_path / "other_user.py"
    src.write_text("import numba\n\n@numba.njit(cache=True)\ndef f(x):\n    return x + 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        other = importlib.import_module("other_user")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("other_user", None)
    locator = other.f._cache._impl.locator
    assert not isinstance(locator, jit.KernelCacheLocator)
    assert locator.get_cache_path() == str(tmp_path / "__pycache__")


def _globals_reached(fn: types.FunctionType) -> list[object]:
    """Global objects a function's code (and its nested code) names."""
    names: set[str] = set()
    codes = [fn.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return [fn.__globals__[n] for n in sorted(names) if n in fn.__globals__]


def _owner(obj: object) -> str:
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    if isinstance(obj, Dispatcher):
        return obj.py_func.__module__
    defn = getattr(obj, "_defn", None)  # numba @intrinsic
    if defn is not None:
        return str(defn.__module__)
    return str(getattr(obj, "__module__", type(obj).__module__))


def test_kernel_modules_list_everything_the_kernels_reach() -> None:
    listed = set(jit.KERNEL_MODULES + jit.FROZEN_MODULES)
    n_kernels = 0
    for name in jit.KERNEL_MODULES:
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if not (isinstance(obj, Dispatcher) and obj.py_func.__module__ == name):
                continue
            n_kernels += 1
            for ref in _globals_reached(obj.py_func):
                owner = _owner(ref)
                if owner.split(".")[0] == "strategies":
                    assert owner in listed, f"{name}.{obj.__name__} reaches {owner}: add it to strategies.jit"
    assert n_kernels >= 15
    # Every module of ours that jits takes njit from strategies.jit and is listed there.
    for path in sorted((ROOT / "strategies").rglob("*.py")):
        text = path.read_text()
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module == "strategies.jit":
            continue
        assert not re.search(r"^from numba import .*\b(n?jit)\b", text, re.MULTILINE), module
        if "@njit" in text:
            assert module in jit.KERNEL_MODULES, f"{module} jits kernels: add it to strategies.jit"


def test_numba_is_the_pinned_version_the_locator_was_written_for() -> None:
    # strategies.jit uses numba's private CacheImpl._locator_classes and _CacheLocator.
    pin = re.search(r'"numba==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pin is not None and numba.__version__ == pin.group(1)
