"""Seeded cluster states for demos and tests. Each scenario module exposes `seed(net, fund) -> dict`."""

from __future__ import annotations

import importlib
from typing import Any

SCENARIOS = ("demo",)


def seed(name: str, net: Any, fund: list[Any]) -> dict[str, Any]:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    return importlib.import_module(f"localnet.scenarios.{name}").seed(net, fund)  # type: ignore[no-any-return]
