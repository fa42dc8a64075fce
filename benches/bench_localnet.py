"""localnet throughput and notification latency, against direct LiteSVM in the same run.

`python -m benches.bench_localnet [--txs N] [--rounds R] [--conns C] [--notify N] [--json]`

Throughput (system transfers, pre-signed, distinct amounts):
  floor      - `LiteSVM.send_transaction(tx)` in this process (sigverify on, as LiteSVM defaults);
  http seq   - `sendTransaction` (base64, preflight on) over one keep-alive HTTP/1.1 connection to
               `python -m localnet` in a subprocess, one request in flight;
  http conc  - the same over C connections at once;
  in-process - the server's JSON-RPC handling of the same request bodies, called directly (no socket):
               what localnet adds to LiteSVM without the transport and the client;
  http conc workers - http conc against a second server started with `--verify-workers W` (signature
               checks in W worker processes while requests queue up).
Each round runs floor / in-process / floor / seq / floor / conc / floor / conc workers / floor; a mode's ratio is its tx/s over
the mean of the two floors measured right before and after it (the shared host's speed drifts within
seconds), and the reported ratio is the median of those per-round ratios (goal >= 0.5); tx/s are medians. The server's CPU time per transaction
(from /proc, Linux) is reported too: on a shared 2-core machine the wall-clock ratio also measures the
client and the neighbours, while floor-cost / server-CPU-per-tx is the ratio the server alone allows.

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


def floor_round(n: int, base: int) -> float:
    svm = LiteSVM()
    payer = Keypair()
    svm.airdrop(payer.pubkey(), 1_000 * SOL)
    txs = make_txs(payer, svm.latest_blockhash(), n, base)
    t0 = time.perf_counter()
    for tx in txs:
        svm.send_transaction(tx)
    return n / (time.perf_counter() - t0)


def inproc_round(n: int, base: int) -> float:
    from localnet.chain import Chain
    from localnet.pubsub import PubSub
    from localnet.rpc_http import handle_body
    from localnet.rpc_methods import RpcMethods

    chain = Chain()
    methods = RpcMethods(chain)
    PubSub(chain)  # its transaction listener runs on every transaction, as in the server
    chain.advance_slot()
    payer = Keypair()
    chain.airdrop(payer.pubkey(), 1_000 * SOL)
    bodies = [request_body(tx, i) for i, tx in enumerate(make_txs(payer, chain.blockhash, n, base))]
    t0 = time.perf_counter()
    for body in bodies:
        handle_body(methods, body)
    return n / (time.perf_counter() - t0)


def request_body(tx: VersionedTransaction, rid: int) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": rid, "method": "sendTransaction",
                         "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}]})


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
        length = int(head[cl + 15:head.find(b"\r\n", cl) if head.find(b"\r\n", cl) >= 0 else None])
        total = end + 4 + length
        if len(buf) < total:
            return
        body = bytes(buf[end + 4:total])
        del buf[:total]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(body)

    async def call(self, body: bytes) -> bytes:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(b"POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (self.host, len(body), body))
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def rpc(conn: HttpConn, method: str, params: list[object]) -> object:
    resp = orjson.loads(await conn.call(orjson.dumps({"jsonrpc": "2.0", "id": 0, "method": method, "params": params})))
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
    """utime + stime of a process (Linux /proc); NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def http_round(host: str, port: int, payer: Keypair, n: int, conns: int, base: int,
                     server_pid: int) -> tuple[float, float, float]:
    """(tx/s, server CPU and client CPU microseconds per transaction)."""
    ctl = await HttpConn.open(host, port)
    bh = Hash.from_string((await rpc(ctl, "getLatestBlockhash", [{"commitment": "processed"}]))["value"]["blockhash"])
    bodies = [request_body(tx, i) for i, tx in enumerate(make_txs(payer, bh, n, base))]
    pool = [await HttpConn.open(host, port) for _ in range(conns)]

    async def worker(conn: HttpConn, part: list[bytes]) -> None:
        for body in part:
            resp = await conn.call(body)
            if b'"error"' in resp:
                raise RuntimeError(resp.decode()[:300])

    cpu0 = cpu_seconds(server_pid)
    client0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c, bodies[i::conns]) for i, c in enumerate(pool)))
    rate = n / (time.perf_counter() - t0)
    client_us = (time.process_time() - client0) / n * 1e6
    cpu_us = (cpu_seconds(server_pid) - cpu0) / n * 1e6
    for c in [*pool, ctl]:
        c.close()
    return rate, cpu_us, client_us


async def start_server(*extra: str) -> tuple[subprocess.Popen[str], str, int, Keypair]:
    """`python -m localnet` in a subprocess and a funded payer: (process, host, port, payer)."""
    proc = subprocess.Popen([sys.executable, "-m", "localnet", "--rpc-port", "0", "--slot-ms", "400", *extra],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    rpc_url = dict(p.split("=", 1) for p in line.split()[2:])["rpc"]
    host, port = rpc_url.removeprefix("http://").rsplit(":", 1)
    ctl = await HttpConn.open(host, int(port))
    payer = Keypair()
    await rpc(ctl, "requestAirdrop", [str(payer.pubkey()), 10_000 * SOL])
    ctl.close()
    return proc, host, int(port), payer


async def throughput(n: int, rounds: int, conns: int, verify_workers: int) -> dict[str, object]:
    proc, host, port_n, payer = await start_server()
    wproc, whost, wport, wpayer = await start_server("--verify-workers", str(verify_workers))
    port = str(port_n)
    try:
        floor: list[float] = []
        inproc: list[float] = []
        seq: list[float] = []
        conc: list[float] = []
        cpu: list[float] = []
        client: list[float] = []
        # Per round: floor, in-process, floor, seq, floor, conc, floor. Each mode's ratio is taken against
        # the mean of the floors measured right before and after it (the host's speed drifts within seconds).
        r_inproc: list[float] = []
        r_seq: list[float] = []
        r_conc: list[float] = []
        r_cpu: list[float] = []
        wconc: list[float] = []
        r_wconc: list[float] = []
        wcpu: list[float] = []
        base = 1
        for _ in range(rounds):
            f0 = floor_round(n, base)
            inproc.append(inproc_round(n, base))
            f1 = floor_round(n, base)
            rate, cpu_us, client_us = await http_round(host, int(port), payer, n, 1, base + n, proc.pid)
            seq.append(rate)
            cpu.append(cpu_us)
            client.append(client_us)
            f2 = floor_round(n, base)
            rate, cpu_us, client_us = await http_round(host, int(port), payer, n, conns, base + 2 * n, proc.pid)
            conc.append(rate)
            cpu.append(cpu_us)
            client.append(client_us)
            f3 = floor_round(n, base)
            rate, cpu_us, _ = await http_round(whost, wport, wpayer, n, conns, base + 3 * n, wproc.pid)
            wconc.append(rate)
            wcpu.append(cpu_us)
            f4 = floor_round(n, base)
            r_wconc.append(wconc[-1] / ((f3 + f4) / 2))
            floor += [f0, f1, f2, f3, f4]
            r_inproc.append(inproc[-1] / ((f0 + f1) / 2))
            r_seq.append(seq[-1] / ((f1 + f2) / 2))
            r_conc.append(conc[-1] / ((f2 + f3) / 2))
            r_cpu += [2e6 / (f1 + f2) / cpu[-2], 2e6 / (f2 + f3) / cpu[-1]]
            base += 4 * n
    finally:
        for p in (proc, wproc):
            p.terminate()
            p.wait(timeout=10)
    f, s, c = statistics.median(floor), statistics.median(seq), statistics.median(conc)
    return {"floor_tx_s": f, "http_seq_tx_s": s, "http_conc_tx_s": c,
            "seq_ratio": statistics.median(r_seq), "conc_ratio": statistics.median(r_conc),
            "inproc_tx_s": statistics.median(inproc), "inproc_ratio": statistics.median(r_inproc),
            "floor_us_per_tx": 1e6 / f, "server_cpu_us_per_tx": statistics.median(cpu),
            "client_cpu_us_per_tx": statistics.median(client),
            "cpu_bound_ratio": statistics.median(r_cpu), "conns": conns, "txs_per_round": n, "rounds": rounds,
            "http_conc_workers_tx_s": statistics.median(wconc), "conc_workers_ratio": statistics.median(r_wconc),
            "workers_server_cpu_us_per_tx": statistics.median(wcpu), "verify_workers": verify_workers}


async def notification_latency(n: int) -> dict[str, float]:
    from localnet.server import Localnet

    processed_at: dict[str, int] = {}
    async with Localnet(rpc_port=0, slot_ms=400) as net:
        net.chain.tx_listeners.insert(0, lambda rec, written: processed_at.__setitem__(str(rec.signature),
                                                                                       time.perf_counter_ns()))
        payer = Keypair()
        net.airdrop(payer.pubkey(), 1_000 * SOL)
        conn = await HttpConn.open(net.host, net.rpc_port)
        lat: list[float] = []
        async with ws_connect(net.ws_url, compression=None) as ws:
            for i in range(n):
                tx = make_txs(payer, net.chain.blockhash, 1, 1 + i)[0]
                sig = str(tx.signatures[0])
                await ws.send(orjson.dumps({"jsonrpc": "2.0", "id": i, "method": "signatureSubscribe",
                                            "params": [sig, {"commitment": "processed"}]}).decode())
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
    ap.add_argument("--txs", type=int, default=2000, help="transactions per round and mode")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--conns", type=int, default=8, help="connections for the concurrent mode")
    ap.add_argument("--verify-workers", type=int, default=1, help="worker processes of the workers server")
    ap.add_argument("--notify", type=int, default=300, help="transactions for the latency measurement")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rtt = wakeup_rtt_us()
    tp = uvloop.run(throughput(args.txs, args.rounds, args.conns, args.verify_workers))
    tp["wakeup_rtt_us"] = rtt
    lat = uvloop.run(notification_latency(args.notify))
    if args.json:
        print(orjson.dumps({"throughput": tp, "notification_latency": lat}).decode())
        return 0
    print(f"sendTransaction throughput ({args.txs} transfers x {args.rounds} rounds, median)")
    print(f"  floor  LiteSVM.send_transaction direct  {tp['floor_tx_s']:9.0f} tx/s")
    print(f"  server in-process (no socket)           {tp['inproc_tx_s']:9.0f} tx/s  "
          f"ratio {tp['inproc_ratio']:.2f} (median of per-round ratios)")
    print(f"  http   sequential (1 conn)             {tp['http_seq_tx_s']:9.0f} tx/s  ratio {tp['seq_ratio']:.2f} "
          "(median of per-round ratios)")
    print(f"  http   concurrent ({args.conns} conns)            {tp['http_conc_tx_s']:9.0f} tx/s  "
          f"ratio {tp['conc_ratio']:.2f} (median of per-round ratios)")
    print(f"  http   concurrent ({args.conns} conns), --verify-workers {args.verify_workers} "
          f"{tp['http_conc_workers_tx_s']:9.0f} tx/s  ratio {tp['conc_workers_ratio']:.2f} (median of per-round ratios; "
          f"server main process CPU {tp['workers_server_cpu_us_per_tx']:.0f} us/tx)")
    print(f"  server CPU per tx {tp['server_cpu_us_per_tx']:.0f} us vs floor {tp['floor_us_per_tx']:.0f} us per tx: "
          f"CPU-bound ratio {tp['cpu_bound_ratio']:.2f} (median of per-round ratios)")
    print(f"  two-process socket ping-pong RTT {tp['wakeup_rtt_us']:.0f} us (wake-up cost a sequential call pays)")
    print(f"  bench client CPU per tx {tp['client_cpu_us_per_tx']:.0f} us (shares the machine's 2 cores with the server)")
    print(f"notification latency processed -> client receipt (signatureSubscribe, n={int(lat['n'])})")
    print(f"  p50 {lat['p50_us']:.0f} us   p99 {lat['p99_us']:.0f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
