"""Config: every mistake is one clear line naming table, key and fix, exit code 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import PRESETS, default_ws_url, load_config, parse_config, redact_url, schema_reference
from bot.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_default_config_file_loads():
    cfg = load_config(REPO / "config.toml")
    assert cfg.cluster.name == "localnet"
    assert cfg.programs()["raydium_cpmm"] == "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"


def test_presets_carry_cluster_specific_program_ids():
    dev = parse_config('[cluster]\nname = "devnet"')
    main_ = parse_config('[cluster]\nname = "mainnet-beta"')
    assert dev.programs()["raydium_cpmm"] != main_.programs()["raydium_cpmm"]
    assert dev.programs()["raydium_amm_v4"] != main_.programs()["raydium_amm_v4"]
    assert dev.endpoints()[0].http == PRESETS["devnet"]["rpc_url"]
    over = parse_config(
        '[cluster]\nname = "devnet"\nrpc_url = "http://10.0.0.1:8899"\n'
        '[cluster.programs]\nraydium_cpmm = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"'
    )
    assert over.programs()["raydium_cpmm"] == "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
    assert over.endpoints()[0].http == "http://10.0.0.1:8899"


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[execution]\ndry_rn = true", ["[execution]", '"dry_rn"', 'did you mean "dry_run"']),
        ("[strategy]\nmin_profit_bsp = 3", ["[strategy]", 'did you mean "min_profit_bps"']),
        ("[executon]\ndry_run = true", ["top level", '"executon"', 'did you mean "execution"']),
        ("[execution]\ndry_run = 1", ["[execution] dry_run", "expected a boolean"]),
        (
            "[strategy]\nmin_profit_lamports = 1.5",
            ["min_profit_lamports", "expected an integer", "got a number"],
        ),
        ("[strategy]\nmax_legs = 7", ["max_legs", "out of range", "2..3"]),
        ("[risk]\nsol_reserve_lamports = -1", ["sol_reserve_lamports", "out of range"]),
        ('[cluster]\nname = "devnett"', ["[cluster] name", 'did you mean "devnet"']),
        ('[[pools]]\nvenue = "raydium_cpmm"', ["[pools[0]] address", "missing required value"]),
        ('[[pools]]\nvenue = "raydium_cpmm"\naddress = "not-a-key"', ["pools[0]", "base58"]),
        (
            '[[rpc.endpoints]]\nname = "a"\nhttp = "${SOLARB_TEST_UNSET_VAR}"',
            ["SOLARB_TEST_UNSET_VAR is not set", "export"],
        ),
        ('[[rpc.endpoints]]\nname = "a"\nhttp = "ftp://x"', ["http", "must start with http"]),
        ('[execution]\ntip_policy = "fixed"', ["tip_lamports", "> 0"]),
        ('live = "yes"', ["live", "expected a boolean"]),
        ("[logging\n", ["not valid TOML"]),
    ],
)
def test_each_mistake_is_one_line_exit_2(tmp_path, capsys, monkeypatch, text, needles):
    monkeypatch.delenv("SOLARB_TEST_UNSET_VAR", raising=False)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code = main(["check", "-c", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, (needle, err)


def test_env_substitution_and_redaction(monkeypatch):
    monkeypatch.setenv("SOLARB_TEST_KEY", "sekrit-api-key")
    cfg = parse_config(
        '[[rpc.endpoints]]\nname = "h"\nhttp = "https://rpc.example.com/?api-key=${SOLARB_TEST_KEY}"'
    )
    assert cfg.endpoints()[0].http.endswith("sekrit-api-key")
    assert "sekrit" not in redact_url(cfg.endpoints()[0].http)
    assert cfg.endpoints()[0].ws == "wss://rpc.example.com/?api-key=sekrit-api-key"


def test_default_ws_follows_validator_convention():
    assert default_ws_url("http://127.0.0.1:8899") == "ws://127.0.0.1:8900"
    assert default_ws_url("https://a.b/c") == "wss://a.b/c"


def test_missing_config_file(capsys):
    assert main(["check", "-c", "/nonexistent/config.toml"]) == 2
    assert "not found" in capsys.readouterr().err


def test_readme_config_reference_is_current():
    readme = (REPO / "README.md").read_text()
    assert schema_reference().strip() in readme, (
        "README's config reference drifted: regenerate it (see README)"
    )


def test_config_error_is_typed():
    with pytest.raises(ConfigError):
        parse_config("[execution]\nbudget_ms = 0")


def test_devnet_example_config_is_valid_and_dry_run(tmp_path, capsys):
    cfg = load_config(REPO / "config.devnet.toml")
    assert cfg.cluster.name == "devnet" and cfg.execution.dry_run
    assert cfg.programs()["raydium_cpmm"] == PRESETS["devnet"]["programs"]["raydium_cpmm"]
    # With no pools, `run` says what to do in one line (exit 2) instead of idling.
    from bot.keys import write_new_keypair

    write_new_keypair(tmp_path / "k.json")
    text = (REPO / "config.devnet.toml").read_text().replace('"keys/devnet.json"', f'"{tmp_path / "k.json"}"')
    text = re.sub(r"\[\[pools\]\]\nvenue = .*\naddress = .*\n", "", text)
    (tmp_path / "c.toml").write_text(text)
    assert load_config(tmp_path / "c.toml").pools == ()
    assert main(["run", "-c", str(tmp_path / "c.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "solarb pools" in err
