"""`Localnet(verify_workers=N)`: sendTransaction signatures checked in worker processes, applied in order.

Requests pipelined on one connection arrive in one event-loop round: the first sendTransaction runs inline,
the others go to the workers (each test checks the workers really answered)."""

from __future__ import annotations

import asyncio
import base64
import signal
from pathlib import Path
from typing import Any

import orjson
import pytest
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from localnet.process import LocalnetProcess
from localnet.server import Localnet

pytestmark = pytest.mark.localnet
SOL = 1_000_000_000
RENT_MIN = 890_880  # rent-exempt minimum of a 0-byte system account


def _send_body(tx: VersionedTransaction, rid: int, **cfg: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "sendTransaction",
        "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64", **cfg}],
    }


def _post(body: Any) -> bytes:
    raw = orjson.dumps(body)
    return b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(raw), raw)


async def _read_reply(reader: asyncio.StreamReader) -> Any:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    return orjson.loads(await reader.readexactly(length))


async def _pipelined(net: Localnet, bodies: list[Any]) -> list[Any]:
    """All bodies in one write on one connection; the replies in the order received."""
    host, port = net.rpc_url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"".join(_post(b) for b in bodies))
    replies = [await asyncio.wait_for(_read_reply(reader), 10) for _ in bodies]
    writer.close()
    return replies


def _transfer(net: Localnet, src: Keypair, dst: Pubkey, lamports: int) -> VersionedTransaction:
    ix = transfer(TransferParams(from_pubkey=src.pubkey(), to_pubkey=dst, lamports=lamports))
    return VersionedTransaction(MessageV0.try_compile(src.pubkey(), [ix], [], net.chain.blockhash), [src])


def _scenario(net: Localnet, payer: Keypair) -> list[Any]:
    """Good, bad-signature, good, bad signature with skipPreflight, undecodable, a read, a failing
    transfer (preflight error), good."""
    to = Pubkey.new_unique()
    good = [_transfer(net, payer, to, SOL + i) for i in range(3)]
    bad = VersionedTransaction.populate(_transfer(net, payer, to, 7).message, [Signature.new_unique()])
    broke = Keypair()
    net.airdrop(broke.pubkey(), RENT_MIN)
    failing = _transfer(net, broke, to, 10 * SOL)
    return [
        _send_body(good[0], 0),
        _send_body(bad, 1),
        _send_body(good[1], 2),
        _send_body(bad, 3, skipPreflight=True),
        {"jsonrpc": "2.0", "id": 4, "method": "sendTransaction", "params": ["!!", {"encoding": "base64"}]},
        {"jsonrpc": "2.0", "id": 5, "method": "getBalance", "params": [str(to), {"commitment": "processed"}]},
        _send_body(failing, 6),
        _send_body(good[2], 7),
    ]


def _shape(reply: dict[str, Any]) -> Any:
    """A reply without the values that differ between two chains (signatures, slots, balances)."""
    if "error" in reply:
        err = dict(reply["error"])
        if isinstance(err.get("data"), dict):
            err["data"] = {k: v for k, v in err["data"].items() if k != "logs"} | {
                "logs": len(err["data"]["logs"])
            }
        return ("error", reply["id"], err)
    return ("result", reply["id"], type(reply["result"]).__name__)


async def test_same_replies_as_the_default_path_and_workers_are_used(localnet_factory) -> None:
    payer_w, payer_d = Keypair(), Keypair()
    workers = await localnet_factory(verify_workers=1)
    default = await localnet_factory()
    workers.pause_clock()
    default.pause_clock()
    workers.airdrop(payer_w.pubkey(), 100 * SOL)
    default.airdrop(payer_d.pubkey(), 100 * SOL)
    got = await _pipelined(workers, _scenario(workers, payer_w))
    want = await _pipelined(default, _scenario(default, payer_d))
    assert [r["id"] for r in got] == list(range(8))
    assert [_shape(r) for r in got] == [_shape(r) for r in want]
    assert got[1]["error"] == {"code": -32003, "message": "Transaction signature verification failure"}
    assert got[6]["error"]["code"] == -32002
    assert workers._sends is not None and workers._sends.pool.results >= 3
    # Three good transfers landed, in order, the bad and failing ones did not.
    sigs = [r["result"] for r in got if r["id"] in (0, 2, 7)]
    order = [str(s) for s in workers.chain.slot_txs[workers.slot]]
    assert [s for s in order if s in sigs] == sigs


async def test_dependent_transfers_on_concurrent_connections_apply_in_order(localnet_factory) -> None:
    net = await localnet_factory(verify_workers=1)
    host, port = net.rpc_url.removeprefix("http://").rsplit(":", 1)
    conns, depth = 8, 6
    chains: list[list[Keypair]] = [[Keypair() for _ in range(depth + 1)] for _ in range(conns)]
    bodies: list[list[bytes]] = []
    for c, keys in enumerate(chains):
        net.airdrop(keys[0].pubkey(), 10 * SOL)
        # Hop k sends from keys[k] (funded only by hop k-1) to keys[k+1]: out of order, it fails preflight.
        amount = 5 * SOL
        hops = []
        for k in range(depth):
            hops.append(_post(_send_body(_transfer(net, keys[k], keys[k + 1].pubkey(), amount), c * 100 + k)))
            amount -= 10_000
        bodies.append(hops)
    streams = [await asyncio.open_connection(host, int(port)) for _ in range(conns)]
    for (_, writer), hops in zip(streams, bodies):
        writer.write(b"".join(hops))  # all connections written before any reply is read
    for c, (reader, writer) in enumerate(streams):
        replies = [await asyncio.wait_for(_read_reply(reader), 10) for _ in range(depth)]
        assert [r["id"] for r in replies] == [c * 100 + k for k in range(depth)]
        assert all("result" in r for r in replies), replies
        writer.close()
    for keys in chains:
        assert net.balance(keys[-1].pubkey()) == 5 * SOL - (depth - 1) * 10_000
    assert net._sends is not None and net._sends.pool.results > 0


async def test_a_dead_worker_falls_back_to_inline_verification(localnet_factory) -> None:
    net = await localnet_factory(verify_workers=1)
    net.pause_clock()
    payer = Keypair()
    net.airdrop(payer.pubkey(), 100 * SOL)
    assert net._sends is not None
    (proc,) = net._sends.pool.processes
    proc.kill()
    await asyncio.to_thread(proc.wait, 10)
    to = Pubkey.new_unique()
    bad = VersionedTransaction.populate(_transfer(net, payer, to, 3).message, [Signature.new_unique()])
    replies = await _pipelined(
        net,
        [
            _send_body(_transfer(net, payer, to, SOL), 0),
            _send_body(bad, 1),
            _send_body(_transfer(net, payer, to, SOL + 1), 2),
        ],
    )
    assert [("result" in r) for r in replies] == [True, False, True]
    assert replies[1]["error"]["code"] == -32003
    assert net.balance(to) == 2 * SOL + 1


async def test_stop_ends_the_workers() -> None:
    net = Localnet(rpc_port=0, slot_ms=10.0, verify_workers=2)
    await net.start()
    assert net._sends is not None
    procs = net._sends.pool.processes
    assert len(procs) == 2 and all(p.poll() is None for p in procs)
    await net.stop()
    assert [p.returncode for p in procs] == [0, 0]  # exited on EOF, not killed


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_cli_flag_and_clean_shutdown_of_the_process_tree(sig: signal.Signals) -> None:
    net = await LocalnetProcess.start("--rpc-port", "0", "--slot-ms", "20", "--verify-workers", "1")
    try:
        children_file = Path(f"/proc/{net.proc.pid}/task/{net.proc.pid}/children")
        children = [int(p) for p in children_file.read_text().split()] if children_file.exists() else []
        assert len(children) == 1 or not children_file.exists()
        net.proc.send_signal(sig)
        assert await asyncio.wait_for(net.proc.wait(), 15) == 0
        for pid in children:
            # The worker exits once the server closed its pipe; poll briefly (it is not our child).
            for _ in range(100):
                try:
                    if Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "Z":
                        break
                except OSError:  # gone
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"verify worker {pid} still running after the server exited")
    finally:
        await net.stop()


async def test_get_health_pipelined_behind_queued_sends_keeps_its_place(localnet_factory) -> None:
    net = await localnet_factory(verify_workers=1)
    net.pause_clock()
    payer = Keypair()
    net.airdrop(payer.pubkey(), 100 * SOL)
    to = Pubkey.new_unique()
    host, port = net.rpc_url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        _post(_send_body(_transfer(net, payer, to, SOL), 0))
        + _post(_send_body(_transfer(net, payer, to, 2), 1))
        + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        + _post(_send_body(_transfer(net, payer, to, 3), 2))
    )
    first = [await asyncio.wait_for(_read_reply(reader), 10) for _ in range(2)]
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert b"text/plain" in head and await reader.readexactly(2) == b"ok"
    last = await asyncio.wait_for(_read_reply(reader), 10)
    assert [r["id"] for r in [*first, last]] == [0, 1, 2] and all("result" in r for r in [*first, last])
    writer.close()


async def _one_at_a_time(net: Localnet, conns: int, bodies: list[Any]) -> list[Any]:
    """`bodies` sent over `conns` connections in turn, each waiting for its reply before the next."""
    host, port = net.rpc_url.removeprefix("http://").rsplit(":", 1)
    pairs = [await asyncio.open_connection(host, int(port)) for _ in range(conns)]
    replies = []
    for i, body in enumerate(bodies):
        reader, writer = pairs[i % conns]
        writer.write(_post(body))
        replies.append(await asyncio.wait_for(_read_reply(reader), 10))
    for _, writer in pairs:
        writer.close()
    return replies


@pytest.mark.parametrize("conns", [1, 2])
async def test_workers_take_over_only_when_several_connections_send(localnet_factory, conns: int) -> None:
    net = await localnet_factory(verify_workers=1)
    net.pause_clock()
    payer = Keypair()
    net.airdrop(payer.pubkey(), 100 * SOL)
    to = Pubkey.new_unique()
    txs = [_transfer(net, payer, to, SOL + i) for i in range(6)]
    replies = await _one_at_a_time(net, conns, [_send_body(tx, i) for i, tx in enumerate(txs)])
    assert [r["result"] for r in replies] == [str(tx.signatures[0]) for tx in txs]
    assert net.balance(to) == sum(SOL + i for i in range(6))
    assert net._sends is not None
    if conns == 1:
        assert net._sends.pool.results == 0  # a lone sequential client: every one inline
    else:
        assert net._sends.pool.results >= 4  # after the second connection's first send: the workers
