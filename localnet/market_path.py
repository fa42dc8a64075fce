"""Price paths for the local CEX feed server: a seeded GBM (a list, or a `GbmWalk` stepped live by the
market simulator), or a replay file of (t, bid, ask) rows."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path
from typing import NamedTuple

__all__ = ["GbmWalk", "PathPoint", "gbm_path", "load_replay"]


class PathPoint(NamedTuple):
    t_ns: int  # time since the start of the path
    bid: float
    ask: float


class GbmWalk:
    """A driftless geometric Brownian motion mid, one step at a time, from its own `random.Random(seed)`.

    `mid` starts at `s0`; each `step()` multiplies it by exp(-sigma^2/2 + sigma * N(0, 1)) (the
    -sigma^2/2 keeps the mid a martingale). The same seed gives the same walk on every machine.
    """

    def __init__(self, *, seed: int | str, s0: float, sigma_per_step: float) -> None:
        if not (math.isfinite(s0) and s0 > 0) or not (math.isfinite(sigma_per_step) and sigma_per_step >= 0):
            raise ValueError("GbmWalk needs s0 > 0 and sigma_per_step >= 0")
        self.mid = s0
        self.sigma = sigma_per_step
        self._drift = -0.5 * sigma_per_step * sigma_per_step
        self._rng = random.Random(seed)

    def step(self) -> float:
        self.mid *= math.exp(self._drift + self.sigma * self._rng.gauss(0.0, 1.0))
        return self.mid


def gbm_path(
    *,
    seed: int,
    n: int,
    s0: float = 150.0,
    sigma_per_step: float = 5e-4,
    spread_bps: float = 2.0,
    dt_ns: int = 100_000_000,
) -> list[PathPoint]:
    """`n` points of a `GbmWalk` mid, with a constant relative spread."""
    if n <= 0 or s0 <= 0 or sigma_per_step < 0 or spread_bps < 0:
        raise ValueError("gbm_path needs n > 0, s0 > 0, sigma_per_step >= 0, spread_bps >= 0")
    walk = GbmWalk(seed=seed, s0=s0, sigma_per_step=sigma_per_step)
    half = spread_bps * 1e-4 / 2.0
    out: list[PathPoint] = []
    for i in range(n):
        mid = walk.mid
        out.append(PathPoint(i * dt_ns, mid * (1.0 - half), mid * (1.0 + half)))
        walk.step()
    return out


def load_replay(path: str | Path) -> list[PathPoint]:
    """Read CSV rows `t_ns,bid,ask` (a header row is allowed). Raises ValueError naming the line."""
    out: list[PathPoint] = []
    with open(path, newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or row[0].startswith("#"):
                continue
            if lineno == 1 and not row[0].strip().lstrip("-").isdigit():
                continue  # header
            try:
                t, bid, ask = int(row[0]), float(row[1]), float(row[2])
            except (ValueError, IndexError) as err:
                raise ValueError(f"{path}:{lineno}: expected t_ns,bid,ask, got {row!r}") from err
            if not (0.0 < bid <= ask < math.inf):
                raise ValueError(f"{path}:{lineno}: need 0 < bid <= ask, got bid={bid} ask={ask}")
            out.append(PathPoint(t, bid, ask))
    if not out:
        raise ValueError(f"{path}: no rows")
    return out
