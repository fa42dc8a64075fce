"""The processes around the e2e harness (`solarb bench --e2e`): a market PubSub server and the send
endpoints. Each runs alone in its own process (``python -m bot.e2e_servers market|endpoints N``) on
plain non-blocking sockets and a selector, so nothing of theirs shares the measured event loop. Both
stamp with CLOCK_MONOTONIC (`time.monotonic_ns`), the clock the harness reads: one clock across
processes on Linux.

market: a minimal RFC 6455 server speaking the slice of Solana PubSub the bot uses. A connection's
path names its role (``/proj-picows``, ``/floor-websockets``...). accountSubscribe gets an id per
account; signatureSubscribe is acknowledged and notified at once (landed, no error); other methods get
``true``. Commands on stdin, one JSON line each, answered by one JSON line on stdout:
  {"cmd": "wait", "roles": [...], "subs": K}  -> {"ready": true} once each role is connected (with K
      account subscriptions for ``proj-*`` roles);
  {"cmd": "run", "roles": [...], "start": S, "n": N, "gap_us": G}  -> {"seqs": [...], "sent_ns": [...],
      "roles": [...]}: updates S..S+N-1 (`bot.e2e_market.swap_accounts`), round robin over the roles,
      one every G µs; each update's frames leave in one write, stamped just before it;
  {"cmd": "rate", "role": R, "start": S, "n": N, "rate": U}  -> the same for one role at U updates/s,
      frames prebuilt, each update sent when due (sleeping between; updates due together leave in one
      write, each stamped with its due time or the write, whichever is later);
  {"cmd": "sigs"}  -> {"sig_ns": {signature: ns}}: when each signatureSubscribe arrived.
endpoints: N HTTP/1.1 JSON-RPC endpoints (ports on the first stdout line) that answer sendTransaction
with the transaction's signature and record when each request arrived whole; the line "dump" on stdin
prints {key: [ns per endpoint]} (key: the first 88 base64 characters, the signature) and resets.
"""

from __future__ import annotations

import base64
import hashlib
import selectors
import socket
import struct
import sys
import time
from typing import Any

import orjson
import pybase64

from bot import e2e_market as M

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
KEY_CHARS = 88


def ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One unmasked server frame (RFC 6455 §5.2)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def notification(sub_id: int, slot: int, data: bytes, owner: str, lamports: int) -> bytes:
    """An accountNotification exactly as a Solana node shapes it (base64 encoding)."""
    return orjson.dumps({
        "jsonrpc": "2.0", "method": "accountNotification",
        "params": {"result": {"context": {"slot": slot}, "value": {
            "lamports": lamports, "data": [base64.b64encode(data).decode(), "base64"], "owner": owner,
            "executable": False, "rentEpoch": 18446744073709551615, "space": len(data)}}, "subscription": sub_id},
    })  # fmt: skip


class _Conn:
    __slots__ = ("buf", "path", "sock", "subs", "upgraded")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.upgraded = False
        self.path = ""
        self.subs: dict[str, int] = {}  # pubkey -> subscription id


class MarketServer:
    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        self.port = self.listener.getsockname()[1]
        self.by_role: dict[str, _Conn] = {}
        self.next_id = 1
        self.sig_ns: dict[str, int] = {}
        self.accounts = [a[0] for a in M.accounts_at_start()]

    # ---- sockets ------------------------------------------------------------------------------
    def poll(self, timeout: float | None) -> None:
        for key, _ in self.sel.select(timeout):
            if key.data is None:
                sock, _ = self.listener.accept()
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.sel.register(sock, selectors.EVENT_READ, _Conn(sock))
            else:
                self._readable(key.data)

    def _readable(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.buf += data
        if not conn.upgraded:
            end = conn.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(conn.buf[:end]).decode("latin-1").split("\r\n")
            del conn.buf[: end + 4]
            conn.path = head[0].split(" ")[1]
            key = next(
                line.split(":", 1)[1].strip()
                for line in head[1:]
                if line.lower().startswith("sec-websocket-key")
            )
            accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
            conn.sock.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
            )
            conn.upgraded = True
            role = conn.path.lstrip("/")
            self.by_role[role] = conn
            if not role.startswith("proj-"):  # bare floor clients do not subscribe: ids by account order
                conn.subs = {pk: i + 1 for i, pk in enumerate(self.accounts)}
        while True:
            frame = self._client_frame(conn)
            if frame is None:
                return
            opcode, payload = frame
            if opcode == 0x8:
                conn.sock.sendall(ws_frame(payload[:2], 0x8))
                self._drop(conn)
                return
            if opcode == 0x9:
                conn.sock.sendall(ws_frame(payload, 0xA))
            elif opcode == 0x1:
                self._request(conn, orjson.loads(payload))

    @staticmethod
    def _client_frame(conn: _Conn) -> tuple[int, bytes] | None:
        buf = conn.buf
        if len(buf) < 2:
            return None
        opcode, n, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
        if n == 126:
            if len(buf) < 4:
                return None
            n, at = struct.unpack_from("!H", buf, 2)[0], 4
        elif n == 127:
            if len(buf) < 10:
                return None
            n, at = struct.unpack_from("!Q", buf, 2)[0], 10
        if len(buf) < at + 4 + n:
            return None
        mask = bytes(buf[at : at + 4])
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(buf[at + 4 : at + 4 + n]))
        del buf[: at + 4 + n]
        return opcode, payload

    def _request(self, conn: _Conn, req: dict[str, Any]) -> None:
        method, rid = req.get("method"), req.get("id")
        if method == "accountSubscribe":
            sub = self.next_id
            self.next_id += 1
            conn.subs[req["params"][0]] = sub
            conn.sock.sendall(ws_frame(orjson.dumps({"jsonrpc": "2.0", "result": sub, "id": rid})))
        elif method == "signatureSubscribe":
            self.sig_ns[req["params"][0]] = time.monotonic_ns()
            sub = self.next_id
            self.next_id += 1
            ack = orjson.dumps({"jsonrpc": "2.0", "result": sub, "id": rid})
            note = orjson.dumps({"jsonrpc": "2.0", "method": "signatureNotification", "params": {
                "result": {"context": {"slot": M.FIRST_SLOT}, "value": {"err": None}}, "subscription": sub}})  # fmt: skip
            conn.sock.sendall(ws_frame(ack) + ws_frame(note))
        else:
            conn.sock.sendall(ws_frame(orjson.dumps({"jsonrpc": "2.0", "result": True, "id": rid})))

    def _drop(self, conn: _Conn) -> None:
        self.sel.unregister(conn.sock)
        conn.sock.close()
        for role, c in list(self.by_role.items()):
            if c is conn:
                del self.by_role[role]

    # ---- updates ------------------------------------------------------------------------------
    def frames(self, conn: _Conn, seq: int) -> bytes:
        slot = M.FIRST_SLOT + seq
        return b"".join(
            ws_frame(notification(conn.subs[pk], slot, data, owner, lamports))
            for pk, data, owner, lamports in M.swap_accounts(seq)
        )

    def _send(self, conn: _Conn, data: bytes) -> int:
        """Write everything now (the kernel buffer holds a burst); the stamp is taken before the write."""
        t = time.monotonic_ns()
        view = memoryview(data)
        while view:
            try:
                view = view[conn.sock.send(view) :]
            except BlockingIOError:
                self.poll(0)
        return t

    def run(self, roles: list[str], start: int, n: int, gap_us: int) -> dict[str, Any]:
        seqs, sent = [], []
        gap_ns = gap_us * 1000
        due = time.monotonic_ns() + gap_ns
        for i in range(n):
            conn = self.by_role[roles[i % len(roles)]]
            data = self.frames(conn, start + i)
            while (now := time.monotonic_ns()) < due:
                self.poll((due - now) / 1e9)
            seqs.append(start + i)
            sent.append(self._send(conn, data))
            due = max(due + gap_ns, time.monotonic_ns() + gap_ns // 2)
        end = time.monotonic_ns() + 50_000_000  # serve the last trades' requests
        while time.monotonic_ns() < end:
            self.poll(0.005)
        return {"seqs": seqs, "sent_ns": sent, "roles": [roles[i % len(roles)] for i in range(n)]}

    def rate(self, role: str, start: int, n: int, rate: float) -> dict[str, Any]:
        conn = self.by_role[role]
        prebuilt = [self.frames(conn, start + i) for i in range(n)]
        period = 1e9 / rate
        t0 = time.monotonic_ns() + 20_000_000
        seqs, sent = [], []
        i = 0
        while i < n:
            due = t0 + int(i * period)
            now = time.monotonic_ns()
            if now < due:
                # Sleep (no spinning: the measured process must not share its core with a busy server);
                # an update the sleep overshot goes out as soon as it is due, with any others due by then.
                self.poll(0)
                if due - now > 20_000:
                    time.sleep((due - now - 10_000) / 1e9)
                continue
            j = i
            while j < n and t0 + int(j * period) <= now:
                j += 1
            t = self._send(conn, b"".join(prebuilt[i:j]))
            for k in range(i, j):
                seqs.append(start + k)
                sent.append(max(t, t0 + int(k * period)))
            i = j
        end = time.monotonic_ns() + 100_000_000
        while time.monotonic_ns() < end:
            self.poll(0.005)
        return {"seqs": seqs, "sent_ns": sent, "roles": [role] * n}

    def wait(self, roles: list[str], subs: int) -> None:
        def ready() -> bool:
            return all(r in self.by_role and (not r.startswith("proj-") or len(self.by_role[r].subs) >= subs)
                       for r in roles)  # fmt: skip

        deadline = time.monotonic() + 30
        while not ready():
            if time.monotonic() > deadline:
                raise SystemExit(f"roles not ready: {roles} (connected: {list(self.by_role)})")
            self.poll(0.01)


def serve_market() -> None:
    server = MarketServer()
    print(server.port, flush=True)
    stdin = sys.stdin
    server.sel.register(stdin, selectors.EVENT_READ, "ctl")
    while True:
        line = ""
        for key, _ in server.sel.select(None):
            if key.data == "ctl":
                line = stdin.readline()
                if not line:
                    return
            elif key.data is None:
                sock, _ = server.listener.accept()
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                server.sel.register(sock, selectors.EVENT_READ, _Conn(sock))
            else:
                server._readable(key.data)
        if not line:
            continue
        cmd = orjson.loads(line)
        if cmd["cmd"] == "wait":
            server.wait(cmd["roles"], cmd.get("subs", 0))
            out: dict[str, Any] = {"ready": True}
        elif cmd["cmd"] == "run":
            out = server.run(cmd["roles"], cmd["start"], cmd["n"], cmd["gap_us"])
        elif cmd["cmd"] == "rate":
            out = server.rate(cmd["role"], cmd["start"], cmd["n"], cmd["rate"])
        elif cmd["cmd"] == "sigs":
            out, server.sig_ns = {"sig_ns": server.sig_ns}, {}
        else:
            return
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
        sys.stdout.flush()


def serve_endpoints(n: int) -> None:
    """The endpoints: print their ports, answer every POST, dump arrivals on a "dump" line on stdin."""
    from solders.signature import Signature

    sel = selectors.DefaultSelector()
    listeners = [socket.create_server(("127.0.0.1", 0)) for _ in range(n)]
    for i, lst in enumerate(listeners):
        lst.setblocking(False)
        sel.register(lst, selectors.EVENT_READ, ("listen", i, None))
    sel.register(sys.stdin, selectors.EVENT_READ, ("ctl", -1, None))
    print(" ".join(str(lst.getsockname()[1]) for lst in listeners), flush=True)
    arrivals: dict[str, list[int]] = {}
    while True:
        for key, _ in sel.select():
            kind, idx, buf = key.data
            if kind == "listen":
                conn, _ = key.fileobj.accept()  # type: ignore[union-attr]
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sel.register(conn, selectors.EVENT_READ, ("conn", idx, bytearray()))
                continue
            if kind == "ctl":
                line = sys.stdin.readline()
                if not line:
                    return
                sys.stdout.write(orjson.dumps(arrivals).decode() + "\n")
                sys.stdout.flush()
                arrivals = {}
                continue
            conn = key.fileobj
            try:
                data = conn.recv(1 << 16)  # type: ignore[union-attr]
            except ConnectionError:
                data = b""
            now = time.monotonic_ns()
            if not data:
                sel.unregister(conn)
                conn.close()  # type: ignore[union-attr]
                continue
            buf += data
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                at = bytes(buf[:end]).lower().find(b"content-length:")
                length = int(bytes(buf[at + 15 : buf.find(b"\r\n", at)]))
                if len(buf) < end + 4 + length:
                    break
                body = bytes(buf[end + 4 : end + 4 + length])
                del buf[: end + 4 + length]
                start = body.find(b'"params":["') + 11
                b64 = body[start : body.find(b'"', start)]
                arrivals.setdefault(b64[:KEY_CHARS].decode(), [0] * n)[idx] = now
                req_id = body[body.find(b'"id":') + 5 : body.find(b",", body.find(b'"id":'))]
                sig = str(Signature.from_bytes(pybase64.b64decode(b64)[1:65]))
                msg = b'{"jsonrpc":"2.0","result":"%s","id":%s}' % (sig.encode(), req_id)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(msg), msg))  # type: ignore[union-attr]


if __name__ == "__main__":
    if sys.argv[1] == "market":
        serve_market()
    else:
        serve_endpoints(int(sys.argv[2]))
