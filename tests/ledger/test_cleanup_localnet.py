"""`solarb cleanup` on localnet: set-up's lookup tables, recorded in the ledger, deactivated when unused,
closed once their deactivation slot left SlotHashes, rent back in the wallet."""

from __future__ import annotations

import asyncio
import json

import pytest
from solders.keypair import Keypair

from bot.cli import main
from bot.commands.cleanup import SLOT_HASHES_MAX, chain_clients, cleanup_tables, deactivation_slot
from bot.execution.setup import create_lookup_tables
from bot.keys import Wallet
from bot.ledger import Ledger

pytestmark = [pytest.mark.localnet, pytest.mark.slow]
DAY_NS = 86_400 * 10**9


async def test_unused_tables_are_deactivated_then_closed(localnet, tmp_path, capsys):
    wallet = Wallet(Keypair())
    localnet.airdrop(wallet.pubkey, 10 * 10**9)
    now = [1_779_278_400 * 10**9]
    led = Ledger.open(str(tmp_path / "ledger.sqlite3"), clock=lambda: now[0])
    async with chain_clients(localnet.rpc_url, localnet.ws_url, 5.0) as (rpc, pubsub):
        old_addrs = [Keypair().pubkey() for _ in range(5)]
        new_addrs = [Keypair().pubkey() for _ in range(3)]
        (old,) = await create_lookup_tables(rpc, pubsub, wallet, old_addrs, localnet.wait_for_slot)
        led.record_lookup_table(str(old.key), str(wallet.pubkey), [str(a) for a in old_addrs])
        now[0] += 2 * DAY_NS
        # Set-up derives a table's address from the finalized slot: a second table created before that
        # slot moves on would get the same address (finalized lags 32 slots).
        await localnet.wait_for_slot(localnet.slot + 40)
        (new,) = await create_lookup_tables(rpc, pubsub, wallet, new_addrs, localnet.wait_for_slot)
        led.record_lookup_table(str(new.key), str(wallet.pubkey), [str(a) for a in new_addrs])
        led.record_lookup_table(str(Keypair().pubkey()), "someone-else", [])  # never touched

        def run(dry: bool = False):
            return cleanup_tables(rpc, pubsub, wallet, led, now_ns=now[0], unused_for_ns=DAY_NS, dry_run=dry)

        dry = {s.address: s.action for s in await run(dry=True)}
        assert dry == {str(old.key): "would_deactivate", str(new.key): "in_use"}
        assert deactivation_slot(localnet.get_account(old.key).data) == 2**64 - 1  # dry-run sent nothing

        first = {s.address: s for s in await run()}
        assert first[str(new.key)].action == "in_use"
        assert first[str(old.key)].action == "deactivated"
        deact = deactivation_slot(localnet.get_account(old.key).data)
        rec = next(t for t in led.lookup_tables() if t.address == str(old.key))
        assert rec.deactivated_slot == deact and not rec.active

        second = {s.address: s.action for s in await run()}
        assert second[str(old.key)] == "cooling_down"  # still in SlotHashes: the program would refuse

        await localnet.wait_for_slot(deact + SLOT_HASHES_MAX + 2, timeout=30)
        rent = localnet.balance(old.key)
        before = localnet.balance(wallet.pubkey)
        third = {s.address: s for s in await run()}
        assert third[str(old.key)].action == "closed" and str(rent) in third[str(old.key)].detail
        closed = localnet.get_account(old.key)
        assert closed is None or (closed.lamports == 0 and len(closed.data) == 0)
        assert localnet.balance(wallet.pubkey) == before + rent - 5_000  # one signature's fee
        assert [t.address for t in led.lookup_tables(str(wallet.pubkey))] == [str(new.key)]
        assert localnet.get_account(new.key) is not None
        assert [s.action for s in await run()] == ["in_use"]  # closed tables are done with

        # The command line, in a thread with its own event loop (localnet runs on this one).
        key = tmp_path / "payer.json"
        key.write_text(json.dumps(list(bytes(wallet.keypair))))
        key.chmod(0o600)
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f'[keys]\npayer = "{key}"\n[[rpc.endpoints]]\nname = "l"\nhttp = "{localnet.rpc_url}"\n'
            f'ws = "{localnet.ws_url}"\n'
        )
        led.close()
        argv = ["cleanup", "-c", str(cfg), "--ledger", str(tmp_path / "ledger.sqlite3"), "--unused-for", "0s"]
        assert await asyncio.to_thread(main, [*argv, "--dry-run"]) == 0
        assert f"would_deactivate {new.key}" in capsys.readouterr().out
        assert deactivation_slot(localnet.get_account(new.key).data) == 2**64 - 1
        assert await asyncio.to_thread(main, argv) == 0
        assert f"deactivated      {new.key}  at slot" in capsys.readouterr().out
        assert deactivation_slot(localnet.get_account(new.key).data) != 2**64 - 1


def test_deactivation_slot_rejects_other_accounts():
    with pytest.raises(ValueError):
        deactivation_slot(bytes(56))
    data = (1).to_bytes(4, "little") + (77).to_bytes(8, "little") + bytes(44)
    assert deactivation_slot(data) == 77


def test_cleanup_bad_input_is_one_line(tmp_path, capsys):
    cases = [
        ["cleanup", "--ledger", str(tmp_path / "l.sqlite3")],  # no config: no endpoint, no wallet
        ["cleanup", "-c", str(tmp_path / "missing.toml")],
    ]
    (tmp_path / "c.toml").write_text('[cluster]\nname = "localnet"\n')
    cases.append(["cleanup", "-c", str(tmp_path / "c.toml"), "--unused-for", "soon"])
    (tmp_path / "m.toml").write_text('[cluster]\nname = "mainnet-beta"\n[execution]\ndry_run = true\n')
    cases.append(["cleanup", "-c", str(tmp_path / "m.toml")])
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("solarb: "), (argv, err)
