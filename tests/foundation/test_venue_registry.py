"""The venue registry is the only place that knows venues: bot/ names no venue nor pool kind outside
the cluster presets; every venue has an adapter; a venue that cannot trade is refused at load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import parse_config
from bot.errors import ConfigError
from bot.keys import write_new_keypair
from strategies import layout
from strategies.venues import registry
from strategies.venues.base import Venue

BOT = Path(__file__).resolve().parents[2] / "bot"
PRESETS_START = "# --- cluster presets"
PRESETS_END = "# --- end of cluster presets"


def _outside_presets(path: Path) -> str:
    text = path.read_text()
    kept = []
    while PRESETS_START in text:
        head, _, rest = text.partition(PRESETS_START)
        _, end, text = rest.partition(PRESETS_END)
        assert end, f"{path}: a cluster presets block has no end marker"
        kept.append(head)
    return "".join(kept) + text


def test_no_venue_name_or_kind_in_bot_outside_the_registry_and_presets():
    names = [v.name for v in Venue]
    kinds = [name for name in vars(layout) if name.startswith("KIND_") and name != "KIND_NONE"]
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names + kinds)) + r")\b")
    hits = []
    for path in sorted(BOT.rglob("*.py")):
        for n, line in enumerate(_outside_presets(path).splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(BOT.parent)}:{n}: {line.strip()}")
    assert not hits, "venue names/kinds outside strategies.venues.registry:\n" + "\n".join(hits)


def test_the_scan_finds_a_planted_venue_name(tmp_path):
    planted = tmp_path / "x.py"
    planted.write_text('if venue == "raydium_cpmm":\n    pass\n')
    names = "|".join(v.name for v in Venue)
    assert re.search(rf"\b({names})\b", _outside_presets(planted))


def test_every_venue_has_its_adapter():
    assert set(registry.ADAPTERS) == set(Venue)
    for venue, adapter in registry.ADAPTERS.items():
        assert adapter.venue is venue
        assert registry.by_kind(int(venue)) is adapter
        assert registry.by_name(venue.name) is venue
    with pytest.raises(ValueError, match="unknown venue"):
        registry.by_name("uniswap")
    with pytest.raises(ValueError):
        registry.by_kind(layout.KIND_NONE)


def _config(tmp_path: Path, venue: str) -> Path:
    write_new_keypair(tmp_path / "k.json")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[keys]\npayer = "{tmp_path / "k.json"}"\n[[pools]]\nvenue = "{venue}"\n'
        'address = "HsQGWEh3HQ9QUFqBZbrDCrh4ykGhsjQZbCcZRbkqbfEY"\n'
    )
    return cfg


@pytest.mark.parametrize("venue", [v.name for v, a in registry.ADAPTERS.items() if a.executable is not None])
def test_check_refuses_a_venue_that_cannot_trade(tmp_path, capsys, venue):
    assert main(["check", "-c", str(_config(tmp_path, venue))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and venue in err[0] and "cannot be traded yet" in err[0], err


@pytest.mark.parametrize("venue", [v.name for v, a in registry.ADAPTERS.items() if a.executable is None])
def test_check_accepts_a_venue_that_trades(tmp_path, capsys, venue):
    assert main(["check", "-c", str(_config(tmp_path, venue))]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("key", ["max_inventory_lamports"])
def test_unwired_risk_keys_are_refused(key):
    with pytest.raises(ConfigError, match=rf"\[risk\] {key}: .*remove the key"):
        parse_config(f"[risk]\n{key} = 100\n")


def test_cex_dex_needs_a_price_feed():
    with pytest.raises(ConfigError, match=r"\[strategy\] cex_dex: needs at least one \[\[feeds.cex\]\]"):
        parse_config("[strategy]\ncex_dex = true\n")
