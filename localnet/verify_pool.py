"""Signature verification in worker processes (opt-in: `Localnet(verify_workers=N)`, `--verify-workers N`).

LiteSVM runs with sigverify off, so localnet verifies ed25519 itself: about half of the server's CPU per
sendTransaction. solders holds the GIL while it verifies, so threads cannot overlap it with the event loop;
processes can. Each worker owns two raw pipes (requests in, results out) and only runs
`VersionedTransaction.from_bytes(raw).verify_with_results()`; the event loop applies transactions itself,
in arrival order (see `rpc_http.OrderedSends`).

Wire format (little endian): request = u32 seq, u16 length, raw transaction bytes; result = u32 seq,
u8 n, n bytes of 0/1 (one per signature), u8 m, m bytes of the first signature in base58 (the reply the
event loop then need not encode); or u32 seq, u8 255 when the bytes did not verify at all (malformed:
the event loop then verifies inline, which raises exactly the error the default path raises).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable

_REQ = struct.Struct("<IH")
_RES = struct.Struct("<IB")
MALFORMED = 255
# Unanswered requests per worker: 32 x (1232 + 6) bytes stay below a Linux pipe's 64 KiB buffer, so the
# event loop's write to a worker never blocks.
MAX_IN_FLIGHT = 32

ResultCallback = Callable[[int, "tuple[bool, ...] | None", str], None]


def _reader(rfd: int, spin_us: float) -> Callable[[], bytes]:
    """os.read of the request pipe that, for `spin_us` after the last request, polls instead of sleeping
    (a sleeping process's wake-up costs a VM tens of microseconds; see rpc_http.BusyPoll)."""
    if spin_us <= 0:
        return lambda: os.read(rfd, 1 << 16)
    os.set_blocking(rfd, False)
    window = spin_us / 1e6
    clock = time.perf_counter
    yield_cpu = os.sched_yield
    last = clock()

    def read() -> bytes:
        nonlocal last
        while True:
            try:
                chunk = os.read(rfd, 1 << 16)
            except BlockingIOError:
                if clock() - last < window:
                    yield_cpu()  # polite: a runnable process on this CPU (the server, a client) goes first
                    continue
                select.select([rfd], [], [])
                continue
            last = clock()
            return chunk

    return read


def worker_main(rfd: int, wfd: int, spin_us: float = 0.0) -> None:
    """Worker process: verify until the request pipe reaches EOF (the server closed it or exited)."""
    # The server decides when workers stop (Ctrl-C reaches the whole process group).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Batch scheduling: a worker woken by the event loop's write must not preempt the event loop on its
    # CPU (measured with 32 connections: the loop's pipe write p90 went from 0.2-1.3 ms to 30-45 us).
    with contextlib.suppress(AttributeError, OSError):  # (not on every OS)
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    from solders.transaction import VersionedTransaction

    read = _reader(rfd, spin_us)
    buf = b""
    while True:
        chunk = read()
        if not chunk:
            return
        buf += chunk
        off = 0
        while len(buf) - off >= _REQ.size:
            seq, n = _REQ.unpack_from(buf, off)
            start = off + _REQ.size
            if len(buf) - start < n:
                break
            off = start + n
            try:
                tx = VersionedTransaction.from_bytes(buf[start:off])
                ok = tx.verify_with_results()
                sig = str(tx.signatures[0]).encode()
            except Exception:
                out = _RES.pack(seq, MALFORMED)
            else:
                out = b"%s%s%c%s" % (_RES.pack(seq, len(ok)), bytes(ok), len(sig), sig)
            # One result per write: the event loop can apply transaction k while k+1 is being verified.
            os.write(wfd, out)
        buf = buf[off:]


class _Worker:
    __slots__ = ("in_flight", "proc", "rbuf", "req_w", "res_r", "wbuf")

    def __init__(self, proc: subprocess.Popen[bytes], req_w: int, res_r: int) -> None:
        self.proc = proc
        self.req_w = req_w
        self.res_r = res_r
        self.in_flight: set[int] = set()
        self.rbuf = b""
        self.wbuf: list[bytes] = []


class VerifyPool:
    """N verification processes. `submit(seq, raw)` then `flush()`; results come to `on_result(seq, ok)`
    on the event loop (`ok` None: verify inline)."""

    def __init__(self, workers: int, on_result: ResultCallback, spin_us: float = 0.0) -> None:
        if workers < 1:
            raise ValueError(f"verify workers must be >= 1, got {workers}")
        self.size = workers
        self.spin_us = spin_us
        self.on_result = on_result
        self.workers: list[_Worker] = []
        self.results = 0  # answers received from workers (tests check the workers were used)
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start the workers: fresh interpreters (`python -m localnet.verify_pool RFD WFD`), not forks of a
        process holding LiteSVM and a running loop, and not multiprocessing's spawn, which re-imports the
        caller's __main__ (a script without a main guard would start servers recursively)."""
        self._loop = asyncio.get_running_loop()
        for _ in range(self.size):
            req_r, req_w = os.pipe()
            res_r, res_w = os.pipe()
            for fd in (req_w, res_r):
                os.set_inheritable(fd, False)
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "localnet.verify_pool", str(req_r), str(res_w), str(self.spin_us)],
                    pass_fds=(req_r, res_w),
                    stdin=subprocess.DEVNULL,
                )
            except OSError:
                for fd in (req_r, req_w, res_r, res_w):
                    os.close(fd)
                raise
            finally:
                with contextlib.suppress(OSError):
                    os.close(req_r)
                    os.close(res_w)
            w = _Worker(proc, req_w, res_r)
            self.workers.append(w)
            self._loop.add_reader(res_r, self._on_readable, w)

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        """The live worker processes."""
        return [w.proc for w in self.workers]

    @property
    def alive(self) -> bool:
        return bool(self.workers)

    def submit(self, seq: int, raw: bytes) -> bool:
        """Queue one transaction for the least busy worker; False when every worker is at capacity."""
        best: _Worker | None = None
        for w in self.workers:
            if len(w.in_flight) < MAX_IN_FLIGHT and (best is None or len(w.in_flight) < len(best.in_flight)):
                best = w
        if best is None:
            return False
        best.in_flight.add(seq)
        best.wbuf.append(_REQ.pack(seq, len(raw)) + raw)
        return True

    def flush(self) -> None:
        """Write the queued requests, one write per worker."""
        for w in list(self.workers):
            if w.wbuf:
                data = b"".join(w.wbuf)
                w.wbuf.clear()
                try:
                    os.write(w.req_w, data)
                except OSError:
                    self._lost(w)

    def _on_readable(self, w: _Worker) -> None:
        try:
            chunk = os.read(w.res_r, 1 << 16)
        except OSError:
            chunk = b""
        if not chunk:
            self._lost(w)
            return
        buf = w.rbuf + chunk if w.rbuf else chunk
        off = 0
        size = _RES.size
        on_result = self.on_result
        while len(buf) - off >= size:
            seq, n = _RES.unpack_from(buf, off)
            if n == MALFORMED:
                off += size
                w.in_flight.discard(seq)
                on_result(seq, None, "")
                continue
            start = off + size
            if len(buf) - start < n + 1 or len(buf) - start - n - 1 < buf[start + n]:
                break
            ok = tuple(b == 1 for b in buf[start : start + n])
            m = buf[start + n]
            sig = buf[start + n + 1 : start + n + 1 + m].decode()
            off = start + n + 1 + m
            w.in_flight.discard(seq)
            self.results += 1
            on_result(seq, ok, sig)
        w.rbuf = buf[off:]

    def _lost(self, w: _Worker) -> None:
        """A worker died: its unanswered transactions are verified inline instead."""
        if w not in self.workers:
            return
        self.workers.remove(w)
        if self._loop is not None:
            self._loop.remove_reader(w.res_r)
        for fd in (w.req_w, w.res_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        pending, w.in_flight = w.in_flight, set()
        for seq in sorted(pending):
            self.on_result(seq, None, "")

    async def close(self, timeout: float = 5.0) -> None:
        """EOF to every worker, wait for them to exit (terminate after `timeout`)."""
        workers, self.workers = self.workers, []
        for w in workers:
            if self._loop is not None:
                self._loop.remove_reader(w.res_r)
            with contextlib.suppress(OSError):
                os.close(w.req_w)
        for w in workers:
            try:
                await asyncio.to_thread(w.proc.wait, timeout)
            except subprocess.TimeoutExpired:
                w.proc.kill()
                await asyncio.to_thread(w.proc.wait, timeout)
            with contextlib.suppress(OSError):
                os.close(w.res_r)


if __name__ == "__main__":
    worker_main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
