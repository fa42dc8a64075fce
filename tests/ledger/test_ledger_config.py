"""`[ledger]` read by bot.config's loader (the lead adds one field to Config), and its effect."""

from __future__ import annotations

import pytest

from bot.config import _Loader
from bot.errors import ConfigError
from bot.ledger import Ledger, LedgerConfig


def load(raw: dict, env: dict | None = None) -> LedgerConfig:
    cfg: LedgerConfig = _Loader("config.toml", env or {}).table(LedgerConfig, raw, "ledger")
    return cfg


def test_defaults_and_targets():
    assert load({}) == LedgerConfig()
    assert load({}).target == "data/ledger.sqlite3"
    dsn = load({"postgres_dsn": "postgresql://bot:${PGPASS}@db/solarb"}, {"PGPASS": "s3cret"})
    assert dsn.target == "postgresql://bot:s3cret@db/solarb"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"pth": "x"}, 'unknown key "pth" (did you mean "path"?)'),
        ({"synchronous": "fast"}, '"fast" is not one of full, normal'),
        ({"instance": 3}, "expected a string"),
        ({"postgres_dsn": "postgresql://bot:${PGPASS}@db/x"}, "environment variable PGPASS is not set"),
    ],
)
def test_mistakes_are_one_line(raw, message):
    with pytest.raises(ConfigError, match=None) as info:
        load(raw)
    assert message in str(info.value) and str(info.value).startswith("config.toml: [ledger]")


def test_synchronous_normal_is_applied(open_ledger, backend):
    led = open_ledger(synchronous="normal")
    if backend == "sqlite":
        assert led._read(lambda tx: tx.rows("PRAGMA synchronous"))[0][0] == 1  # NORMAL
    else:
        assert led._read(lambda tx: tx.rows("SHOW synchronous_commit"))[0][0] == "off"
    assert open_ledger()._read(
        lambda tx: tx.rows("PRAGMA synchronous" if backend == "sqlite" else "SHOW synchronous_commit")
    )[0][0] in (2, "on")
    with pytest.raises(ValueError):
        Ledger.open("x.sqlite3", synchronous="off")


def test_from_config(tmp_path):
    cfg = LedgerConfig(path=str(tmp_path / "l.sqlite3"), instance="bot-2")
    with Ledger.from_config(cfg) as led:
        assert led.instance == "bot-2" and led.dialect == "sqlite"
