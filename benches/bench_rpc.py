"""JSON-RPC round trips: rpc.RpcClient (raw HTTP/1.1 keep-alive) vs solana-py AsyncClient (httpx) vs floors.

`python -m benches.bench_rpc [--per-round K] [--rounds R] [--json]`

Against `python -m localnet` in a subprocess (so the server does not share our event loop), on uvloop:
  floor socket - a blocking socket writes a canned HTTP request and reads the response (no event loop,
                 no JSON work): what the kernel + server cost;
  floor loop   - the same canned bytes through a minimal asyncio.Protocol on uvloop: the best any
                 event-loop client can do;
  rpc          - `RpcClient.get_slot()` / `RpcClient.send_transaction()` (build + send + parse, typed);
  solana-py    - `AsyncClient.get_slot()` / `AsyncClient.send_raw_transaction()` (httpx).
getSlot and sendTransaction (skipPreflight, distinct pre-signed transfers) are timed one request at a
time. "send fan-out x3" sends each transaction to 3 connections/endpoints at once and stops the clock at
the first answer (`RpcSender(fan_out=3).write_all(tx).first_accepted()` vs 3 AsyncClients vs 3 raw loop connections; its "p50/socket"
column is against the single-send socket floor, "p50/loop" against the x3 loop floor). Rounds interleave the contenders so the host's speed drift hits all alike; the first round is
warm-up. Reported: p50 / p99 in µs and the p50 ratio to each floor measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import urlsplit

import orjson
import uvloop
from solana.rpc.async_api import AsyncClient
from solana.rpc.types import TxOpts
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from benches.timing import pct
from rpc import requests as rq
from rpc.client import RpcClient
from rpc.pool import EndpointConfig, EndpointPool
from rpc.submit import RpcSender

SOL = 1_000_000_000


def http_request(host: str, port: int, body: bytes) -> bytes:
    return (
        b"POST / HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (host.encode(), port, len(body), body)
    )


def _complete(buf: bytes | bytearray) -> bool:
    """True when ``buf`` holds one full Content-Length-framed response (canned server: no chunking)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    i = buf.find(b"Content-Length: ", 0, end)
    if i < 0:
        i = buf.lower().find(b"content-length: ", 0, end)
    j = buf.find(b"\r\n", i)
    return len(buf) >= end + 4 + int(buf[i + 16 : j])


class SocketFloor:
    """Blocking socket: write the canned request, read until the response is complete."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def roundtrip(self, data: bytes) -> None:
        self.sock.sendall(data)
        buf = self.sock.recv(65536)
        while not _complete(buf):
            buf += self.sock.recv(65536)


class _FloorProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = bytearray()
        self.fut: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, so no isinstance check here.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if _complete(self.buf) and self.fut is not None:
            self.fut.set_result(None)

    async def roundtrip(self, data: bytes) -> None:
        assert self.transport is not None
        self.buf.clear()
        self.fut = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        await self.fut


def sign_transfers(payer: Keypair, blockhash: str, n: int, base: int) -> list[bytes]:
    to = Pubkey.new_unique()
    bh = Hash.from_string(blockhash)
    return [
        bytes(
            Transaction.new_signed_with_payer(
                [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=base + i))],
                payer.pubkey(),
                [payer],
                bh,
            )
        )
        for i in range(n)
    ]


async def _time_async(fn: Callable[[int], Awaitable[object]], n: int, out: list[float]) -> None:
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        await fn(i)
        out.append((clock() - t0) / 1000.0)


def _time_sync(fn: Callable[[int], object], n: int, out: list[float]) -> None:
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        fn(i)
        out.append((clock() - t0) / 1000.0)


async def run(per_round: int, rounds: int) -> dict[str, dict[str, dict[str, float]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "localnet", "--rpc-port", "0", "--slot-ms", "400"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = dict(p.split("=", 1) for p in line.split()[2:])["rpc"]
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        raw = RpcClient(url, timeout_s=10.0, connections=1)
        spy = AsyncClient(url, timeout=10.0)
        sock = SocketFloor(host, port)
        _, proto = await asyncio.get_running_loop().create_connection(_FloorProtocol, host, port)

        payer = Keypair()
        await raw.request_airdrop(str(payer.pubkey()), 1_000_000 * SOL)
        blockhash = (await raw.get_latest_blockhash()).blockhash
        names = ("floor socket", "floor loop", "rpc", "solana-py")
        n_tx = per_round * rounds
        # Distinct transactions per contender (a duplicate would cost the server less).
        txs = {name: sign_transfers(payer, blockhash, n_tx, 1 + k * n_tx) for k, name in enumerate(names)}
        send_req = {
            name: [http_request(host, port, rq.send_transaction(tx).encode(1)) for tx in txs[name]]
            for name in names[:2]
        }
        slot_req = http_request(host, port, rq.get_slot().encode(1))
        fan_names = ("floor loop x3", "rpc RpcSender x3", "solana-py x3")
        fan_txs = {
            name: sign_transfers(payer, blockhash, n_tx, 1 + (len(names) + k) * n_tx)
            for k, name in enumerate(fan_names)
        }
        fan_req = [
            http_request(host, port, rq.send_transaction(tx).encode(1)) for tx in fan_txs["floor loop x3"]
        ]
        loop = asyncio.get_running_loop()
        fan_protos = [(await loop.create_connection(_FloorProtocol, host, port))[1] for _ in range(3)]
        pool = EndpointPool([EndpointConfig(f"local-{i}", url, timeout_s=10.0) for i in range(3)])
        sender = RpcSender(pool, fan_out=3)
        await sender.connect()
        spy3 = [AsyncClient(url, timeout=10.0) for _ in range(3)]

        async def floor_fan(data: bytes) -> list[asyncio.Future[None]]:
            # Write the canned bytes to all three sockets at once, wake on the first full answer.
            first: asyncio.Future[None] = loop.create_future()

            def on_done(_: object) -> None:
                if not first.done():
                    first.set_result(None)

            futs = []
            for p in fan_protos:
                assert p.transport is not None
                p.buf.clear()
                p.fut = loop.create_future()
                p.fut.add_done_callback(on_done)
                futs.append(p.fut)
                p.transport.write(data)
            await first
            return futs

        async def spy_fan(tx: bytes) -> list[asyncio.Task[object]]:
            tasks = [asyncio.ensure_future(c.send_raw_transaction(tx, opts)) for c in spy3]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            return tasks

        async def time_fan(name: str, off: int, out: list[float]) -> None:
            clock = time.perf_counter_ns
            for i in range(per_round):
                t0 = clock()
                if name == "floor loop x3":
                    rest: list[Any] = await floor_fan(fan_req[off + i])
                elif name == "rpc RpcSender x3":
                    await sender.write_all(fan_txs[name][off + i]).first_accepted()
                    rest = []
                else:
                    rest = await spy_fan(fan_txs[name][off + i])
                out.append((clock() - t0) / 1000.0)
                # Let the slower endpoints finish outside the timed region.
                await asyncio.gather(*rest)
                await sender.drain()

        opts = TxOpts(skip_preflight=True)

        samples: dict[str, dict[str, list[float]]] = {
            "getSlot": {},
            "sendTransaction": {},
            "send fan-out x3": {},
        }
        for m in ("getSlot", "sendTransaction"):
            for name in names:
                samples[m][name] = []
        for name in fan_names:
            samples["send fan-out x3"][name] = []
        for r in range(rounds):
            keep = r > 0
            off = r * per_round
            # Rotate the order each round so no contender always follows the same one.
            for name in names[r % len(names) :] + names[: r % len(names)]:
                slot_out: list[float] = []
                send_out: list[float] = []
                if name == "floor socket":
                    _time_sync(lambda i: sock.roundtrip(slot_req), per_round, slot_out)
                    _time_sync(
                        lambda i, off=off: sock.roundtrip(send_req["floor socket"][off + i]),
                        per_round,
                        send_out,
                    )
                elif name == "floor loop":
                    await _time_async(lambda i: proto.roundtrip(slot_req), per_round, slot_out)
                    await _time_async(
                        lambda i, off=off: proto.roundtrip(send_req["floor loop"][off + i]),
                        per_round,
                        send_out,
                    )
                elif name == "rpc":
                    await _time_async(lambda i: raw.get_slot(), per_round, slot_out)
                    await _time_async(
                        lambda i, off=off: raw.send_transaction(txs["rpc"][off + i]), per_round, send_out
                    )
                else:
                    await _time_async(lambda i: spy.get_slot(), per_round, slot_out)
                    await _time_async(
                        lambda i, off=off: spy.send_raw_transaction(txs["solana-py"][off + i], opts),
                        per_round,
                        send_out,
                    )
                if keep:
                    samples["getSlot"][name] += slot_out
                    samples["sendTransaction"][name] += send_out
            for name in fan_names[r % 3 :] + fan_names[: r % 3]:
                fan_out: list[float] = []
                await time_fan(name, off, fan_out)
                if keep:
                    samples["send fan-out x3"][name] += fan_out
        # The sends really landed: the recipient balances prove the server did the work.
        await raw.close()
        await spy.close()
        await sender.aclose()
        await pool.close()
        for c in spy3:
            await c.close()
        for p in fan_protos:
            assert p.transport is not None
            p.transport.close()
        sock.sock.close()
        assert proto.transport is not None
        proto.transport.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    report: dict[str, dict[str, dict[str, float]]] = {}
    for method, by_name in samples.items():
        if method == "send fan-out x3":
            floor_s = pct(samples["sendTransaction"]["floor socket"], 50)
            floor_l = pct(by_name["floor loop x3"], 50)
        else:
            floor_s = pct(by_name["floor socket"], 50)
            floor_l = pct(by_name["floor loop"], 50)
        report[method] = {
            name: {
                "p50_us": pct(xs, 50),
                "p99_us": pct(xs, 99),
                "n": float(len(xs)),
                "x_floor_socket": pct(xs, 50) / floor_s,
                "x_floor_loop": pct(xs, 50) / floor_l,
            }
            for name, xs in by_name.items()
        }
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benches.bench_rpc", description=__doc__.split("\n")[0])
    p.add_argument(
        "--per-round", type=int, default=200, help="requests per contender per round (default 200)"
    )
    p.add_argument("--rounds", type=int, default=6, help="rounds, the first is warm-up (default 6)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    args = p.parse_args(argv)
    if args.rounds < 2 or args.per_round < 1:
        p.error("need --rounds >= 2 (the first is warm-up) and --per-round >= 1")
    report = uvloop.run(run(args.per_round, args.rounds))
    if args.json:
        print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return 0
    print(
        f"uvloop, localnet subprocess on loopback, {args.rounds - 1} x {args.per_round} timed requests each"
    )
    for method, rows in report.items():
        print(f"\n{method:<16} {'p50 µs':>9} {'p99 µs':>9} {'p50/socket':>11} {'p50/loop':>9}")
        for name, r in rows.items():
            print(
                f"  {name:<14} {r['p50_us']:>9.1f} {r['p99_us']:>9.1f} {r['x_floor_socket']:>10.2f}x "
                f"{r['x_floor_loop']:>8.2f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
