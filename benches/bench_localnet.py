"""localnet throughput and notification latency, against direct LiteSVM in the same run.

`python -m benches.bench_localnet [--chunks K] [--chunk N] [--conns C] [--notify N] [--json]`

Throughput (system transfers, signed just before each chunk, distinct amounts):
  floor      - `LiteSVM.send_transaction(tx)` in this process (sigverify on, as LiteSVM defaults);
  in-process - the server's JSON-RPC handling of the same request bodies, called directly (no socket,
               signatures verified inline): what localnet adds to LiteSVM without transport and client;
  http seq   - `sendTransaction` (base64, preflight on) over one keep-alive HTTP/1.1 connection to
               `python -m localnet` (its defaults: busy polling, one verify worker on 2+ CPUs) in a
               subprocess, one request in flight; the client busy-polls while it waits, as a
               latency-bound sender does (its own wake-up is not the server's cost);
  http conc  - the same over C connections at once (the client sleeps between replies);
  http conc inline - http conc against a second server started with `--verify-workers 0` (every
               signature checked on the event loop).
The shared host's speed swings up to 2x within seconds, so modes are not timed in long separate runs:
each mode's K chunks of N transactions alternate with floor chunks of the same size (tens of ms apart).
A mode's ratio is the median over its chunks of floor time / mode time of each adjacent pair (goal
>= 0.5), with p10-p90 for the spread; "overall" divides the summed times instead (it weighs the host's
slow moments more, since a chunk then takes longer). Server CPU per transaction (Linux /proc, the server
and its workers) is reported too: on a 2-core machine the client shares the cores.

Notification latency: an in-process Localnet; the chain's transaction listener stamps the moment a
transaction is processed, a raw websocket client subscribed with signatureSubscribe (processed) stamps
receipt; p50 / p99 of receipt - processed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import statistics
import subprocess
import sys
import time

import orjson
import uvloop
from solders.hash import Hash
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction
from websockets.asyncio.client import connect as ws_connect

from benches.timing import pct

SOL = 1_000_000_000


def make_txs(payer: Keypair, blockhash: Hash, n: int, base: int) -> list[VersionedTransaction]:
    to = Pubkey.new_unique()
    out = []
    for i in range(n):
        ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=base + i))
        out.append(VersionedTransaction(MessageV0.try_compile(payer.pubkey(), [ix], [], blockhash), [payer]))
    return out


class Floor:
    """Direct LiteSVM (sigverify on, as LiteSVM defaults): one instance, chunks timed on demand."""

    def __init__(self) -> None:
        self.svm = LiteSVM()
        self.payer = Keypair()
        self.svm.airdrop(self.payer.pubkey(), 1_000_000 * SOL)
        self.base = 1

    def chunk(self, n: int) -> float:
        """Seconds to send n fresh transfers."""
        txs = make_txs(self.payer, self.svm.latest_blockhash(), n, self.base)
        self.base += n
        send = self.svm.send_transaction
        t0 = time.perf_counter()
        for tx in txs:
            send(tx)
        return time.perf_counter() - t0


class InProcess:
    """The server's JSON-RPC handling called directly: a Chain with RpcMethods and PubSub, no socket."""

    def __init__(self) -> None:
        from localnet.chain import Chain
        from localnet.pubsub import PubSub
        from localnet.rpc_http import handle_body
        from localnet.rpc_methods import RpcMethods

        self.chain = Chain()
        self.methods = RpcMethods(self.chain)
        PubSub(self.chain)  # its transaction listener runs on every transaction, as in the server
        self.chain.advance_slot()
        self.payer = Keypair()
        self.chain.airdrop(self.payer.pubkey(), 1_000_000 * SOL)
        self.handle = handle_body
        self.base = 1

    def chunk(self, n: int) -> float:
        bodies = [
            request_body(tx, i)
            for i, tx in enumerate(make_txs(self.payer, self.chain.blockhash, n, self.base))
        ]
        self.base += n
        methods, handle = self.methods, self.handle
        t0 = time.perf_counter()
        for body in bodies:
            resp = handle(methods, body)
        elapsed = time.perf_counter() - t0
        if b'"error"' in resp:
            raise RuntimeError(resp.decode()[:300])
        return elapsed


def request_body(tx: VersionedTransaction, rid: int) -> bytes:
    return orjson.dumps(
        {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "sendTransaction",
            "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}],
        }
    )


class HttpConn(asyncio.Protocol):
    """Minimal keep-alive HTTP/1.1 JSON-RPC client on a raw asyncio.Protocol, one request in flight (a
    streams-based client costs about as much CPU per call as the server's own transport does; on a 2-core
    machine that CPU is taken from the server)."""

    def __init__(self, host: str) -> None:
        self.host = host.encode()
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[bytes] | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConn:
        _, proto = await asyncio.get_running_loop().create_connection(lambda: cls(host), host, port)
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection closed: {exc}"))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buf[:end]).lower()
        cl = head.find(b"content-length:")
        length = int(head[cl + 15 : head.find(b"\r\n", cl) if head.find(b"\r\n", cl) >= 0 else None])
        total = end + 4 + length
        if len(buf) < total:
            return
        body = bytes(buf[end + 4 : total])
        del buf[:total]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(body)

    async def call(self, body: bytes) -> bytes:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(
            b"POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (self.host, len(body), body)
        )
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def rpc(conn: HttpConn, method: str, params: list[object]) -> object:
    resp = orjson.loads(
        await conn.call(orjson.dumps({"jsonrpc": "2.0", "id": 0, "method": method, "params": params}))
    )
    if "error" in resp:
        raise RuntimeError(f"{method}: {resp['error']}")
    return resp["result"]


def wakeup_rtt_us(n: int = 2000) -> float:
    """Round trip of one byte between two processes over a socketpair (two cross-process wake-ups):
    the part of an HTTP round trip no server code can shorten. On our VMs it swings from ~40 to ~100 us."""
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # child: echo
        a.close()
        for _ in range(n):
            b.send(b.recv(16))
        os._exit(0)
    b.close()
    t0 = time.perf_counter()
    for _ in range(n):
        a.send(b"x")
        a.recv(16)
    rtt = (time.perf_counter() - t0) / n * 1e6
    os.waitpid(pid, 0)
    a.close()
    return rtt


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live children (its verify workers), from Linux /proc; NaN
    elsewhere."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            if p == pid:
                return float("nan")
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return total


class BusyLoop:
    """Keeps this process's event loop polling (a self-rescheduling call_soon) until stop()."""

    def __init__(self, on: bool) -> None:
        self.loop = asyncio.get_running_loop()
        self.on = on
        if on:
            self.loop.call_soon(self._spin)

    def _spin(self) -> None:
        if self.on:
            self.loop.call_soon(self._spin)

    def stop(self) -> None:
        self.on = False


class HttpTarget:
    """A `python -m localnet` subprocess, a funded payer and C open connections."""

    def __init__(self, proc: subprocess.Popen[str], host: str, port: int, payer: Keypair) -> None:
        self.proc, self.host, self.port, self.payer = proc, host, port, payer
        self.conns: list[HttpConn] = []
        self.base = 1

    async def connect(self, n: int) -> None:
        self.conns += [await HttpConn.open(self.host, self.port) for _ in range(n)]

    async def chunk(self, n: int, conns: int, spin: bool | None = None) -> tuple[float, float, float]:
        """(seconds, server CPU seconds, client CPU seconds) to send n fresh transfers over `conns`
        connections, one request in flight on each."""
        bh = (await rpc(self.conns[0], "getLatestBlockhash", [{"commitment": "processed"}]))["value"][
            "blockhash"
        ]
        bodies = [
            request_body(tx, i)
            for i, tx in enumerate(make_txs(self.payer, Hash.from_string(bh), n, self.base))
        ]
        self.base += n

        async def worker(conn: HttpConn, part: list[bytes]) -> None:
            for body in part:
                resp = await conn.call(body)
                if b'"error"' in resp:
                    raise RuntimeError(resp.decode()[:300])

        # One request in flight: the client busy-polls while it waits, as a latency-bound sender does (its
        # own wake-up is not the server's cost). Concurrent clients sleep: the CPU goes to the server.
        poll = BusyLoop(conns == 1 if spin is None else spin)
        cpu0 = cpu_seconds(self.proc.pid)
        client0 = time.process_time()
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c, bodies[i::conns]) for i, c in enumerate(self.conns[:conns])))
        elapsed = time.perf_counter() - t0
        poll.stop()
        return elapsed, cpu_seconds(self.proc.pid) - cpu0, time.process_time() - client0

    async def round_trips(self, n: int) -> float:
        """Seconds per getSlot over one connection, one in flight, the client busy-polling: the transport's
        round trip, which every sequential sendTransaction pays on top of the server's own work."""
        body = orjson.dumps({"jsonrpc": "2.0", "id": 0, "method": "getSlot", "params": []})
        conn = self.conns[0]
        poll = BusyLoop(True)
        t0 = time.perf_counter()
        for _ in range(n):
            await conn.call(body)
        elapsed = time.perf_counter() - t0
        poll.stop()
        return elapsed / n

    def close(self) -> None:
        for c in self.conns:
            c.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def start_server(*extra: str) -> HttpTarget:
    """`python -m localnet` in a subprocess and a funded payer."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "localnet", "--rpc-port", "0", "--slot-ms", "400", *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    rpc_url = dict(p.split("=", 1) for p in line.split()[2:])["rpc"]
    host, port = rpc_url.removeprefix("http://").rsplit(":", 1)
    ctl = await HttpConn.open(host, int(port))
    payer = Keypair()
    await rpc(ctl, "requestAirdrop", [str(payer.pubkey()), 1_000_000 * SOL])
    ctl.close()
    return HttpTarget(proc, host, int(port), payer)


async def throughput(chunks: int, n: int, conns: int) -> dict[str, object]:
    floor = Floor()
    inproc = InProcess()
    default = await start_server()
    inline = await start_server("--verify-workers", "0")
    try:
        await default.connect(conns)
        await inline.connect(conns)

        async def run_seq() -> tuple[float, float, float]:
            return await default.chunk(n, 1)

        async def run_conc() -> tuple[float, float, float]:
            return await default.chunk(n, conns)

        async def run_inline() -> tuple[float, float, float]:
            return await inline.chunk(n, conns)

        async def run_inproc() -> tuple[float, float, float]:
            return inproc.chunk(n), float("nan"), float("nan")

        modes = {"inproc": run_inproc, "seq": run_seq, "conc": run_conc, "conc_inline": run_inline}
        for run in modes.values():  # warm-up: JIT-compiled programs, connection buffers, caches
            floor.chunk(n)
            await run()
        acc: dict[str, dict[str, list[float]]] = {
            m: {"floor": [], "mode": [], "cpu": [], "client": []} for m in modes
        }
        rtt: list[float] = []
        for _ in range(chunks):
            for name, run in modes.items():
                a = acc[name]
                a["floor"].append(floor.chunk(n))
                t, cpu, client = await run()
                a["mode"].append(t)
                a["cpu"].append(cpu)
                a["client"].append(client)
            rtt.append(await default.round_trips(n))
    finally:
        default.close()
        inline.close()
    out: dict[str, object] = {
        "chunks": chunks,
        "chunk_txs": n,
        "conns": conns,
        "getslot_round_trip_us": statistics.median(rtt) * 1e6,
    }
    all_floor = [t for a in acc.values() for t in a["floor"]]
    out["floor_tx_s"] = len(all_floor) * n / sum(all_floor)
    for name, a in acc.items():
        per_chunk = sorted(f / m for f, m in zip(a["floor"], a["mode"], strict=True))
        out[name] = {
            "tx_s": chunks * n / sum(a["mode"]),
            "ratio": pct(per_chunk, 50),
            "overall_ratio": sum(a["floor"]) / sum(a["mode"]),
            "chunk_ratio_p10": pct(per_chunk, 10),
            "chunk_ratio_p90": pct(per_chunk, 90),
            "server_cpu_us_per_tx": sum(a["cpu"]) / (chunks * n) * 1e6,
            "client_cpu_us_per_tx": sum(a["client"]) / (chunks * n) * 1e6,
        }
    return out


async def notification_latency(n: int) -> dict[str, float]:
    from localnet.server import Localnet

    processed_at: dict[str, int] = {}
    async with Localnet(rpc_port=0, slot_ms=400) as net:
        net.chain.tx_listeners.insert(
            0, lambda rec, written: processed_at.__setitem__(str(rec.signature), time.perf_counter_ns())
        )
        payer = Keypair()
        net.airdrop(payer.pubkey(), 1_000 * SOL)
        conn = await HttpConn.open(net.host, net.rpc_port)
        lat: list[float] = []
        async with ws_connect(net.ws_url, compression=None) as ws:
            for i in range(n):
                tx = make_txs(payer, net.chain.blockhash, 1, 1 + i)[0]
                sig = str(tx.signatures[0])
                await ws.send(
                    orjson.dumps(
                        {
                            "jsonrpc": "2.0",
                            "id": i,
                            "method": "signatureSubscribe",
                            "params": [sig, {"commitment": "processed"}],
                        }
                    ).decode()
                )
                await ws.recv()  # subscription id
                await conn.call(request_body(tx, i))
                while True:
                    msg = await ws.recv()
                    got = time.perf_counter_ns()
                    if b"signatureNotification" in (msg if isinstance(msg, bytes) else msg.encode()):
                        break
                lat.append((got - processed_at[sig]) / 1000.0)
        conn.close()
    return {"p50_us": pct(lat, 50), "p99_us": pct(lat, 99), "n": float(len(lat))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=30, help="chunks per mode, each after a floor chunk")
    ap.add_argument("--chunk", type=int, default=300, help="transactions per chunk")
    ap.add_argument("--conns", type=int, default=32, help="connections for the concurrent modes")
    ap.add_argument("--notify", type=int, default=300, help="transactions for the latency measurement")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rtt = wakeup_rtt_us()
    tp = uvloop.run(throughput(args.chunks, args.chunk, args.conns))
    tp["wakeup_rtt_us"] = rtt
    lat = uvloop.run(notification_latency(args.notify))
    if args.json:
        print(orjson.dumps({"throughput": tp, "notification_latency": lat}).decode())
        return 0
    print(
        f"sendTransaction throughput ({args.chunks} chunks x {args.chunk} transfers per mode, each after a floor "
        "chunk; ratio = median over chunk pairs of floor time / mode time)"
    )
    print(
        f"  floor  LiteSVM.send_transaction direct  {tp['floor_tx_s']:7.0f} tx/s ({1e6 / tp['floor_tx_s']:.0f} us/tx)"
    )
    labels = {
        "inproc": "server in-process (no socket)     ",
        "seq": "http   sequential (1 conn)        ",
        "conc": f"http   concurrent ({args.conns} conns)      ",
        "conc_inline": "http   concurrent, --verify-workers 0",
    }
    for key, label in labels.items():
        m: dict[str, float] = tp[key]  # type: ignore[assignment]
        cpu = "" if key == "inproc" else f"  server CPU {m['server_cpu_us_per_tx']:.0f} us/tx"
        print(
            f"  {label} {m['tx_s']:7.0f} tx/s  ratio {m['ratio']:.2f} (p10-p90 {m['chunk_ratio_p10']:.2f}-"
            f"{m['chunk_ratio_p90']:.2f}, overall {m['overall_ratio']:.2f}){cpu}"
        )
    print(
        f"  getSlot round trip over one connection {tp['getslot_round_trip_us']:.0f} us (median): what a sequential "
        "sendTransaction pays on top of the server's in-process time"
    )
    conc: dict[str, float] = tp["conc"]  # type: ignore[assignment]
    print(
        f"  bench client CPU {conc['client_cpu_us_per_tx']:.0f} us/tx in the concurrent mode (shares the cores); "
        f"two-process socket ping-pong {tp['wakeup_rtt_us']:.0f} us"
    )
    print(f"notification latency processed -> client receipt (signatureSubscribe, n={int(lat['n'])})")
    print(f"  p50 {lat['p50_us']:.0f} us   p99 {lat['p99_us']:.0f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
