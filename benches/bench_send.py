"""Decision -> signed bytes at 3 endpoints: `RpcSender.write_all` against a sign + raw-socket-write floor.

`python -m benches.bench_send [--per-round K] [--rounds R] [--json]`

Three local endpoints run in a subprocess (`bot.e2e_servers endpoints`, shared with `solarb bench
--e2e`: a selector loop on blocking-free sockets, so they do not share our event loop); each records when a complete request arrived (CLOCK_MONOTONIC, the same clock
in both processes) and answers with the transaction's signature. Per sample, on uvloop:
  floor    - `Keypair.sign_message` of the route's message, base64 into a prebuilt HTTP request,
             `socket.send` of those bytes on 3 plain TCP_NODELAY sockets (what no sender can beat);
  rpc      - the same signing, then `RpcSender.write_all` (pool ranking, prepared sendTransaction
             template, keep-alive connections opened by `connect()`, fan-out 3);
  decision - `Executor.sign_opportunity` (risk gates, guarded plan, template patch, sign: the bot's hot
             path) then `RpcSender.write_all`: decision -> bytes as the bot runs it.
Two clocks per sample: "written" stops when the call returns (bytes handed to the kernel); "at 3"
stops when the last endpoint has the whole request. Replies are awaited outside the timed region, and
every sample starts after the same short sleep (the loop woken from a wait, as by a market frame).
The contenders alternate sample by sample (rotating the order) so the host's speed drift hits all
alike; the first round is warm-up. Reported: p50 / p99 in µs and the p50 ratio to the floor of the same clock.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import socket
import subprocess
import sys
import time
from typing import Any

import orjson
import pybase64
import uvloop

from benches.timing import pct

N_ENDPOINTS = 3
IDLE_S = 0.0005
KEY_CHARS = 88  # base64 of the first 66 bytes: signature count + the signature, unique per transaction


# ---- the bench -------------------------------------------------------------------------------------


class Endpoints:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.e2e_servers", "endpoints", str(N_ENDPOINTS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.ports = [int(p) for p in self.proc.stdout.readline().split()]

    def arrivals(self) -> dict[str, list[int]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("dump\n")
        self.proc.stdin.flush()
        return orjson.loads(self.proc.stdout.readline())  # type: ignore[no-any-return]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def run(per_round: int, rounds: int) -> dict[str, dict[str, float]]:
    from benches.bench_execution import setup as execution_setup
    from rpc.pool import EndpointConfig, EndpointPool
    from rpc.requests import SendTemplate
    from rpc.submit import RpcSender

    ex, opps, kp, msg, _, _ = execution_setup()
    eps = Endpoints()
    pool = EndpointPool(
        [EndpointConfig(f"e{i}", f"http://127.0.0.1:{p}", connections=1) for i, p in enumerate(eps.ports)]
    )
    sender = RpcSender(pool, fan_out=N_ENDPOINTS)
    assert await sender.connect() == {}
    floor_socks = []
    for p in eps.ports:
        s = socket.create_connection(("127.0.0.1", p))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        floor_socks.append(s)
    # The floor's request bytes around the base64: the same framing the sender writes.
    template = SendTemplate()
    tx_len = 1 + 64 + len(msg)
    probe_body = template.body(b"\x01" + bytes(64) + msg, 1)
    b64_len = len(pybase64.b64encode(b"\x00" * tx_len))
    heads = [
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % (p, len(probe_body))
        for p in eps.ports
    ]
    prefix = probe_body[: probe_body.find(b'"params":["') + 11]
    suffix = probe_body[probe_body.find(b'"params":["') + 11 + b64_len :]
    b64encode = pybase64.b64encode
    sign = kp.sign_message
    clock = time.monotonic_ns

    # Distinct messages (signing is deterministic: the same message would give the same transaction).
    msgs = [msg[:-8] + i.to_bytes(8, "little") for i in range(2 * per_round)]

    def floor(m: bytes) -> bytes:
        tx = b"\x01" + bytes(sign(m)) + m
        body = prefix + b64encode(tx) + suffix
        for s, head in zip(floor_socks, heads):
            s.send(head + body)
        return tx

    def rpc(m: bytes) -> tuple[bytes, Any]:
        tx = b"\x01" + bytes(sign(m)) + m
        return tx, sender.write_all(tx)

    def decision(opp: Any) -> tuple[bytes, Any]:
        tx = ex.sign_opportunity(opp)
        return tx, sender.write_all(tx)

    names = ("floor", "rpc", "decision")
    written: dict[str, list[float]] = {n: [] for n in names}
    at3: dict[str, list[float]] = {n: [] for n in names}
    k = 0
    for r in range(rounds):
        starts: dict[str, tuple[str, int]] = {}
        ends: dict[str, list[float]] = {n: [] for n in names}
        gc.disable()
        try:
            for i in range(per_round):
                # Sample by sample, in a rotating order: the host's state (on this shared VM the
                # first µs after a wake-up are the slowest) hits every contender alike.
                for name in names[(i + r) % 3 :] + names[: (i + r) % 3]:
                    opp = opps[k % len(opps)]
                    k += 1
                    # Every sample starts as the bot's decisions do: the loop just woke from a wait.
                    await asyncio.sleep(IDLE_S)
                    t0 = clock()
                    if name == "floor":
                        tx = floor(msgs[2 * i])
                        t1 = clock()
                        for s in floor_socks:
                            s.recv(1 << 16)  # the reply, outside the timed region
                    else:
                        tx, pending = rpc(msgs[2 * i + 1]) if name == "rpc" else decision(opp)
                        t1 = clock()
                        result = await pending.wait()
                        assert result.ok and len(result.accepted) == N_ENDPOINTS, result
                    starts[pybase64.b64encode(tx)[:KEY_CHARS].decode()] = (name, t0)
                    ends[name].append((t1 - t0) / 1000.0)
        finally:
            gc.enable()
        arrived = eps.arrivals()
        assert set(arrived) == set(starts), (len(arrived), len(starts))
        if r > 0:  # the first round is warm-up
            for name in names:
                written[name] += ends[name]
            for key, ts in arrived.items():
                name, t0 = starts[key]
                at3[name].append((max(ts) - t0) / 1000.0)
    await sender.aclose()
    await pool.close()
    for s in floor_socks:
        s.close()
    eps.close()
    report: dict[str, dict[str, float]] = {}
    for name in names:
        report[name] = {
            "written_p50_us": pct(written[name], 50),
            "written_p99_us": pct(written[name], 99),
            "at3_p50_us": pct(at3[name], 50),
            "at3_p99_us": pct(at3[name], 99),
            "x_floor_written": pct(written[name], 50) / pct(written["floor"], 50),
            "x_floor_at3": pct(at3[name], 50) / pct(at3["floor"], 50),
            "n": float(len(at3[name])),
        }
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benches.bench_send", description=__doc__.split("\n")[0])
    p.add_argument("--per-round", type=int, default=300, help="samples per contender per round (default 300)")
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
        f"uvloop, {N_ENDPOINTS} endpoints in a subprocess on loopback, {args.rounds - 1} x {args.per_round} samples each"
    )
    print(
        f"{'path':<10} {'written p50':>11} {'p99':>7} {'x floor':>8} {'at 3 p50':>9} {'p99':>7} {'x floor':>8}   (µs)"
    )
    for name, r in report.items():
        print(
            f"{name:<10} {r['written_p50_us']:>11.1f} {r['written_p99_us']:>7.1f} {r['x_floor_written']:>7.2f}x "
            f"{r['at3_p50_us']:>9.1f} {r['at3_p99_us']:>7.1f} {r['x_floor_at3']:>7.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
