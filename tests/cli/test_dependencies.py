"""Every third-party package the code imports is declared in pyproject.toml, pinned exactly (issue 17:
localnet imported `based58`, present only as a dependency of anchorpy). The code of the shipped packages
(bot, strategies, rpc, localnet) may use only `dependencies`; tests, benches and tools also `dev`."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib

from cli_env import REPO

SHIPPED = ("bot", "strategies", "rpc", "localnet")
OTHERS = ("tests", "benches", "tools")


def _name(requirement: str) -> str:
    """The normalized distribution name of a requirement string (PEP 503)."""
    name = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert name is not None, requirement
    return re.sub(r"[-_.]+", "-", name.group(1)).lower()


def _declared() -> tuple[dict[str, str], dict[str, str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    main = {_name(r): r for r in project["dependencies"]}
    dev = {_name(r): r for r in project["optional-dependencies"]["dev"]}
    return main, dev


def _imports(root: str) -> dict[str, set[str]]:
    """Top-level module -> files that import it (absolute imports, anywhere in a file)."""
    found: dict[str, set[str]] = {}
    for path in (REPO / root).rglob("*.py"):
        if "node_modules" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(REPO)))
    return found


def _first_party() -> set[str]:
    local = {*SHIPPED, *OTHERS}
    for root in (*SHIPPED, *OTHERS):
        local |= {p.stem for p in (REPO / root).rglob("*.py")}  # test helper modules (cli_env, cpmm_env, ...)
    return local


def _third_party(roots: tuple[str, ...]) -> dict[str, set[str]]:
    local = _first_party()
    out: dict[str, set[str]] = {}
    for root in roots:
        for module, files in _imports(root).items():
            if module not in sys.stdlib_module_names and module not in local:
                out.setdefault(module, set()).update(files)
    return out


def _distributions(module: str) -> set[str]:
    return {_name(d) for d in md.packages_distributions().get(module, [])}


def test_every_pin_is_exact():
    main, dev = _declared()
    for req in [*main.values(), *dev.values()]:
        assert re.search(r"==\s*[0-9]", req) and not re.search(r"[<>~!]=?|,", req.split("==")[0]), req


def test_shipped_packages_import_only_declared_dependencies():
    main, _ = _declared()
    missing = {
        m: sorted(f)[:3] for m, f in _third_party(SHIPPED).items() if not _distributions(m) & set(main)
    }
    assert not missing, f"imported but not in [project] dependencies: {missing}"


def test_tests_benches_and_tools_import_only_declared_packages():
    main, dev = _declared()
    declared = set(main) | set(dev)
    missing = {m: sorted(f)[:3] for m, f in _third_party(OTHERS).items() if not _distributions(m) & declared}
    assert not missing, f"imported but not declared (dependencies or dev): {missing}"


def test_the_scan_sees_the_imports_it_is_about():
    """The scan is not vacuous: it finds based58 in localnet and hypothesis in the tests."""
    assert "based58" in _third_party(SHIPPED)
    assert "hypothesis" in _third_party(OTHERS) and "hypothesis" not in _third_party(SHIPPED)


def test_declared_versions_are_the_installed_ones():
    """The pins are versions pip resolved here (the venv `make` builds installs exactly these)."""
    main, dev = _declared()
    for name, req in [*main.items(), *dev.items()]:
        want = req.split("==")[1].split(";")[0].split("#")[0].strip()
        assert md.version(name) == want, f"{req}: installed {md.version(name)}"
