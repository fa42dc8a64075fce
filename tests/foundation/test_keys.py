"""Keys: permissions, live-mode rules, and the secret never leaks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from solders.keypair import Keypair

from bot.app import resolve_mode
from bot.cli import main
from bot.config import parse_config
from bot.errors import KeyfileError, UsageError
from bot.keys import Wallet, load_wallet, write_new_keypair
from bot.logs import Log

REPO = Path(__file__).resolve().parents[2]


def _secret_forms(kp: Keypair) -> list[str]:
    raw = bytes(kp)
    secret = raw[:32]
    return [
        json.dumps(list(raw)),
        ", ".join(str(b) for b in secret[:8]),  # Rust-style debug print of the secret array
        secret.hex(),
        str(kp),  # solders prints the whole keypair as base58
        str(list(secret)),
    ]


def test_keygen_writes_0600_and_prints_pubkey(tmp_path, capsys):
    out = tmp_path / "keys" / "bot.json"
    assert main(["keygen", "-o", str(out)]) == 0
    assert os.stat(out).st_mode & 0o777 == 0o600
    printed = capsys.readouterr().out.strip()
    assert str(load_wallet(out).pubkey) == printed
    assert main(["keygen", "-o", str(out)]) == 2  # no silent overwrite


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_readable_key_is_refused_with_chmod_fix(tmp_path, mode):
    p = tmp_path / "k.json"
    write_new_keypair(p)
    os.chmod(p, mode)
    with pytest.raises(KeyfileError, match="chmod 600"):
        load_wallet(p)


@pytest.mark.parametrize("content", [b"", b"{}", b"[1,2,3]", json.dumps([300] * 64).encode(), b"not json"])
def test_malformed_key_is_one_clear_error(tmp_path, content):
    p = tmp_path / "k.json"
    p.write_bytes(content)
    os.chmod(p, 0o600)
    with pytest.raises(KeyfileError, match="not a Solana keypair file"):
        load_wallet(p)


def test_inconsistent_key_does_not_quote_bytes(tmp_path):
    kp = Keypair()
    raw = bytearray(bytes(kp))
    raw[40] ^= 0xFF
    p = tmp_path / "k.json"
    p.write_text(json.dumps(list(raw)))
    os.chmod(p, 0o600)
    with pytest.raises(KeyfileError) as info:
        load_wallet(p)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    for form in _secret_forms(kp):
        assert form not in str(info.value)


def test_wallet_repr_hides_secret():
    kp = Keypair()
    w = Wallet(kp)
    for text in (repr(w), str(w), f"{w}"):
        assert str(kp.pubkey()) in text
        for form in _secret_forms(kp):
            assert form not in text
    with pytest.raises(TypeError):
        __import__("pickle").dumps(w)


def test_live_mode_rules():
    main_cfg = parse_config('[cluster]\nname = "mainnet-beta"\n[execution]\ndry_run = false')
    with pytest.raises(UsageError, match="live = true"):
        resolve_mode(main_cfg, live_flag=False, dry_run_flag=False)
    with pytest.raises(UsageError, match="live = false"):
        resolve_mode(main_cfg, live_flag=True, dry_run_flag=False)
    live_nokey = parse_config('live = true\n[cluster]\nname = "mainnet-beta"\n[execution]\ndry_run = false')
    with pytest.raises(UsageError, match="explicitly configured keypair"):
        resolve_mode(live_nokey, live_flag=True, dry_run_flag=False)
    live = parse_config(
        'live = true\n[keys]\npayer = "/k.json"\n[cluster]\nname = "mainnet-beta"\n[execution]\ndry_run = false'
    )
    assert resolve_mode(live, live_flag=True, dry_run_flag=False).live
    dry = parse_config('[cluster]\nname = "mainnet-beta"\n[execution]\ndry_run = true')
    assert resolve_mode(dry, live_flag=False, dry_run_flag=False).send is False
    dev = parse_config('[cluster]\nname = "devnet"\n[execution]\ndry_run = false')
    assert resolve_mode(dev, live_flag=False, dry_run_flag=True).send is False


def test_live_without_explicit_key_refused_via_cli(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('live = true\n[cluster]\nname = "mainnet-beta"\n[execution]\ndry_run = false\n')
    assert main(["check", "-c", str(cfg), "--live"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "keypair" in err


def test_live_mode_refuses_the_public_example_key(tmp_path, capsys):
    import shutil

    example = Path(__file__).resolve().parents[2] / "keys.example" / "localnet-throwaway.json"
    key = tmp_path / "copied.json"
    shutil.copy(example, key)
    key.chmod(0o600)
    cfg = tmp_path / "c.toml"
    base = (
        'live = true\n[cluster]\nname = "mainnet-beta"\n[execution]\ndry_run = false\n[keys]\npayer = "{}"\n'
    )
    cfg.write_text(base.format(key))
    assert main(["check", "-c", str(cfg), "--live"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "example key keys.example/localnet-throwaway.json" in err
    own = tmp_path / "own.json"
    write_new_keypair(own)
    cfg.write_text(base.format(own))
    assert main(["check", "-c", str(cfg), "--live"]) == 0, capsys.readouterr().err
    # The same example key outside live mode (localnet, dry-run) stays usable.
    cfg.write_text(f'[keys]\npayer = "{key}"\n')
    assert main(["check", "-c", str(cfg)]) == 0


def test_secret_never_in_logs_or_forced_traceback(tmp_path):
    key = tmp_path / "bot.json"
    wallet = write_new_keypair(key)
    forms = _secret_forms(wallet.keypair)
    log_path = tmp_path / "log.jsonl"
    log = Log(log_path, console="never")
    log.info("wallet_loaded", wallet=wallet, pubkey=wallet.pubkey, obj={"w": wallet})
    log.close()
    # A crash with the wallet in scope: run a child that loads the key and raises with it in locals.
    code = (
        "import sys\nfrom bot.keys import load_wallet\n"
        f"w = load_wallet({str(key)!r})\n"
        "def f(wallet):\n    raise RuntimeError(f'boom {wallet!r}')\n"
        "f(w)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert "Traceback" in proc.stderr and "boom Wallet(pubkey=" in proc.stderr
    written = log_path.read_text()
    assert str(wallet.pubkey) in written
    for form in forms:
        assert form not in written
        assert form not in proc.stderr
