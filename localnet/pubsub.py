"""WebSocket PubSub (agave's method names and payloads) fed by the Chain's tx and slot listeners.

Commitment handling follows the Chain's model: processed subscriptions are notified from inside the
transaction/slot listener (i.e. as soon as it is processed); confirmed and finalized subscriptions are
notified when their slot reaches that commitment (one slot later / 32 slots later), with the account as
it was at the end of that slot and context.slot = that slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from solders.account import Account
from solders.pubkey import Pubkey
from solders.signature import Signature
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from localnet.chain import COMMITMENTS, CONFIRMED, FINALIZED, PROCESSED, Chain, TxRecord
from localnet.encoding import account_json, error_json, parse_data_slice
from localnet.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcFault,
)
from localnet.rpc_methods import _LEGACY_COMMITMENT, _pubkey, _signature, compile_filters

MAX_QUEUED = 100_000  # per connection; a client that falls this far behind is disconnected


@dataclass(slots=True, eq=False)
class Sub:
    id: int
    kind: str
    client: Client
    commitment: str
    key: Any = None
    encoding: str = "base64"
    data_slice: tuple[int, int] | None = None
    match: Callable[[bytes], bool] | None = None


@dataclass(eq=False)
class Client:
    """One websocket connection: its subscriptions and a bounded outgoing queue drained by one task."""

    ws: ServerConnection
    subs: dict[int, Sub] = field(default_factory=dict)
    out: deque[bytes] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def push(self, msg: bytes) -> None:
        if self.closed:
            return
        if len(self.out) >= MAX_QUEUED:
            self.closed = True  # slow consumer: drop it rather than grow without bound
            self.out.clear()
        else:
            self.out.append(msg)
        self.wake.set()


class PubSub:
    """Subscription registry + websocket server."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self._ids = itertools.count(1)
        self.by_id: dict[int, Sub] = {}
        self.account_subs: dict[Pubkey, dict[int, Sub]] = {}
        self.program_subs: dict[Pubkey, dict[int, Sub]] = {}
        self.signature_subs: dict[Signature, dict[int, Sub]] = {}
        self.slot_subs: dict[int, Sub] = {}
        self.logs_subs: dict[int, Sub] = {}
        self.deferred = 0  # subscriptions at confirmed/finalized: only then keep per-slot events
        self._slot_events: dict[int, list[tuple[TxRecord, list[tuple[Pubkey, Account | None]]]]] = {}
        self.server: Server | None = None
        self.clients: set[Client] = set()
        chain.tx_listeners.append(self.on_tx)
        chain.slot_listeners.append(self.on_slot)

    # ------------------------------------------------------------------ server
    async def start(self, host: str, port: int) -> int:
        self.server = await serve(self._handler, host, port, max_size=1 << 20, compression=None)
        return int(next(iter(self.server.sockets)).getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2.0)
            self.server = None

    async def _handler(self, ws: ServerConnection) -> None:
        client = Client(ws)
        self.clients.add(client)
        async with asyncio.TaskGroup() as tg:
            writer = tg.create_task(self._writer(client), name="localnet-ws-writer")
            try:
                async for frame in ws:
                    self._on_frame(client, frame)
            except ConnectionClosed:
                pass
            finally:
                client.closed = True
                for sub_id in list(client.subs):
                    self._remove(sub_id)
                self.clients.discard(client)
                writer.cancel()

    async def _writer(self, client: Client) -> None:
        try:
            while True:
                await client.wake.wait()
                client.wake.clear()
                if client.closed:
                    await client.ws.close(1008, "client too slow")
                    return
                while client.out:
                    # orjson's UTF-8 bytes go out as a text frame without a decode/encode round trip.
                    await client.ws.send(client.out.popleft(), text=True)
        except ConnectionClosed:
            return

    def _on_frame(self, client: Client, frame: str | bytes) -> None:
        try:
            req = orjson.loads(frame)
        except orjson.JSONDecodeError:
            client.push(
                orjson.dumps(
                    {"jsonrpc": "2.0", "error": {"code": PARSE_ERROR, "message": "Parse error"}, "id": None}
                )
            )
            return
        reqs = req if isinstance(req, list) else [req]
        replies: list[dict[str, Any]] = []
        afters: list[Callable[[], None]] = []
        for r in reqs:
            if not isinstance(r, dict) or r.get("jsonrpc") != "2.0" or not isinstance(r.get("method"), str):
                replies.append(
                    {
                        "jsonrpc": "2.0",
                        "error": {"code": INVALID_REQUEST, "message": "Invalid request"},
                        "id": None,
                    }
                )
                continue
            rid = r.get("id")
            params = r.get("params") or []
            try:
                if not isinstance(params, list):
                    raise RpcFault(INVALID_PARAMS, "Invalid params: invalid type: map, expected a sequence.")
                result, after = self._call(client, r["method"], params)
            except RpcFault as fault:
                replies.append({"jsonrpc": "2.0", "error": fault.to_obj(), "id": rid})
                continue
            except Exception as err:  # a bug must cost one request, not the connection
                print(
                    f"localnet: internal error in {r['method']}: {type(err).__name__}: {err}", file=sys.stderr
                )
                replies.append(
                    {
                        "jsonrpc": "2.0",
                        "error": {"code": INTERNAL_ERROR, "message": "Internal error"},
                        "id": rid,
                    }
                )
                continue
            replies.append({"jsonrpc": "2.0", "result": result, "id": rid})
            if after is not None:
                afters.append(after)
        if isinstance(req, list):
            client.push(
                orjson.dumps(replies)
                if replies
                else orjson.dumps(
                    {
                        "jsonrpc": "2.0",
                        "error": {"code": INVALID_REQUEST, "message": "Invalid request"},
                        "id": None,
                    }
                )
            )
        else:
            client.push(orjson.dumps(replies[0]))
        for after in afters:  # notifications owed right away go out after the subscription's reply
            after()

    # ------------------------------------------------------------------ subscribe / unsubscribe
    def _commitment(self, cfg: dict[str, Any]) -> str:
        c = cfg.get("commitment") or FINALIZED
        c = _LEGACY_COMMITMENT.get(c, c)
        if c not in COMMITMENTS:
            raise RpcFault(INVALID_PARAMS, f"Invalid params: unknown commitment `{c}`.")
        return c

    def _call(self, client: Client, method: str, params: list[Any]) -> tuple[Any, Callable[[], None] | None]:
        cfg = (
            {k: v for k, v in params[1].items() if v is not None}
            if len(params) > 1 and isinstance(params[1], dict)
            else {}
        )
        if method.endswith("Unsubscribe"):
            if not params or not isinstance(params[0], int) or params[0] not in client.subs:
                raise RpcFault(INVALID_PARAMS, "Invalid subscription id.")
            self._remove(params[0])
            return True, None
        after: Callable[[], None] | None = None
        if method == "accountSubscribe":
            key = _pubkey(params[0] if params else None)
            sub = self._new(client, "account", self._commitment(cfg), key, cfg)
            self.account_subs.setdefault(key, {})[sub.id] = sub
        elif method == "programSubscribe":
            key = _pubkey(params[0] if params else None)
            sub = self._new(client, "program", self._commitment(cfg), key, cfg)
            sub.match = compile_filters(cfg.get("filters"))
            self.program_subs.setdefault(key, {})[sub.id] = sub
        elif method == "signatureSubscribe":
            sig = _signature(params[0] if params else None)
            sub = self._new(client, "signature", self._commitment(cfg), sig, cfg)
            self.signature_subs.setdefault(sig, {})[sub.id] = sub
            rec = self.chain.txs.get(sig)
            if rec is not None and rec.slot <= self.chain.commitment_slot(sub.commitment):
                after = lambda: self._notify_signature(sub, rec)  # noqa: E731 - already there: answer now
        elif method in ("slotSubscribe", "rootSubscribe"):
            sub = self._new(client, "slot" if method == "slotSubscribe" else "root", PROCESSED, None, {})
            self.slot_subs[sub.id] = sub
        elif method == "logsSubscribe":
            flt = params[0] if params else None
            if flt in ("all", "allWithVotes"):
                key = None
            elif (
                isinstance(flt, dict) and isinstance(flt.get("mentions"), list) and len(flt["mentions"]) == 1
            ):
                key = _pubkey(flt["mentions"][0])
            else:
                raise RpcFault(
                    INVALID_PARAMS, 'Invalid params: expected "all" or {"mentions": [one pubkey]}.'
                )
            sub = self._new(client, "logs", self._commitment(cfg), key, cfg)
            self.logs_subs[sub.id] = sub
        else:
            raise RpcFault(METHOD_NOT_FOUND, "Method not found")
        return sub.id, after

    def _new(self, client: Client, kind: str, commitment: str, key: Any, cfg: dict[str, Any]) -> Sub:
        enc = cfg.get("encoding") or ("base64" if kind == "program" else "base58")
        if enc == "binary":
            enc = "base58"
        sub = Sub(next(self._ids), kind, client, commitment, key, enc, parse_data_slice(cfg))
        self.by_id[sub.id] = sub
        client.subs[sub.id] = sub
        if commitment != PROCESSED:
            self.deferred += 1
        return sub

    def _remove(self, sub_id: int) -> None:
        sub = self.by_id.pop(sub_id, None)
        if sub is None:
            return
        sub.client.subs.pop(sub_id, None)
        if sub.commitment != PROCESSED:
            self.deferred -= 1
        tables: dict[str, dict[Any, dict[int, Sub]]] = {
            "account": self.account_subs,
            "program": self.program_subs,
            "signature": self.signature_subs,
        }
        table = tables.get(sub.kind)
        if table is not None:
            subs = table.get(sub.key)
            if subs is not None:
                subs.pop(sub_id, None)
                if not subs:
                    del table[sub.key]
        elif sub.kind in ("slot", "root"):
            self.slot_subs.pop(sub_id, None)
        else:
            self.logs_subs.pop(sub_id, None)

    # ------------------------------------------------------------------ chain events
    def on_tx(self, rec: TxRecord, written: list[tuple[Pubkey, Account | None]]) -> None:
        # Kept for every transaction until finalized: a confirmed/finalized subscription made after the
        # transaction landed (e.g. signatureSubscribe right after sendTransaction) must still be served.
        # (`written` is built per transaction and never changed afterwards: kept as is, no copy.)
        events = self._slot_events.get(rec.slot)
        if events is None:
            self._slot_events[rec.slot] = [(rec, written)]
        else:
            events.append((rec, written))
        if not self.by_id:
            return
        slot = rec.slot
        for key, acc in written:
            subs = self.account_subs.get(key)
            if subs:
                for sub in list(subs.values()):
                    if sub.commitment == PROCESSED:
                        self._notify_account(sub, slot, acc)
            if acc is not None:
                psubs = self.program_subs.get(acc.owner)
                if psubs:
                    for sub in list(psubs.values()):
                        if sub.commitment == PROCESSED:
                            self._notify_program(sub, slot, key, acc)
        ssubs = self.signature_subs.get(rec.signature)
        if ssubs:
            for sub in list(ssubs.values()):
                if sub.commitment == PROCESSED:
                    self._notify_signature(sub, rec)
        for sub in list(self.logs_subs.values()):
            if sub.commitment == PROCESSED:
                self._notify_logs(sub, rec)

    def notify_account_write(self, key: Pubkey, acc: Account | None, slot: int) -> None:
        """An account written outside a transaction (fault injection): processed account subscribers only."""
        subs = self.account_subs.get(key)
        if subs:
            for sub in list(subs.values()):
                if sub.commitment == PROCESSED:
                    self._notify_account(sub, slot, acc)

    def on_slot(self, slot: int) -> None:
        if self.slot_subs:
            root = self.chain.commitment_slot(FINALIZED)
            msg_params = {"parent": slot - 1, "root": root, "slot": slot}
            for sub in list(self.slot_subs.values()):
                if sub.kind == "slot":
                    sub.client.push(_notification("slotNotification", msg_params, sub.id))
                elif root > 0:  # a new root each slot once 32 slots exist
                    sub.client.push(_notification("rootNotification", root, sub.id))
        if not self._slot_events:
            return
        confirmed = self.chain.commitment_slot(CONFIRMED)
        finalized = self.chain.commitment_slot(FINALIZED)
        if self.deferred:
            self._flush(confirmed, CONFIRMED)
            if finalized > 0:
                self._flush(finalized, FINALIZED)
        for s in [s for s in self._slot_events if s <= finalized]:
            del self._slot_events[s]

    def _flush(self, slot: int, commitment: str) -> None:
        events = self._slot_events.get(slot)
        if not events:
            return
        seen_accounts: set[Pubkey] = set()
        for rec, written in events:
            for key, _ in written:
                if key in seen_accounts:
                    continue  # one notification per account per slot, with its end-of-slot state
                seen_accounts.add(key)
                acc = self.chain.account_at_slot(key, slot)
                for sub in list(self.account_subs.get(key, {}).values()):
                    if sub.commitment == commitment:
                        self._notify_account(sub, slot, acc)
                if acc is not None:
                    for sub in list(self.program_subs.get(acc.owner, {}).values()):
                        if sub.commitment == commitment:
                            self._notify_program(sub, slot, key, acc)
            for sub in list(self.signature_subs.get(rec.signature, {}).values()):
                if sub.commitment == commitment:
                    self._notify_signature(sub, rec)
            for sub in list(self.logs_subs.values()):
                if sub.commitment == commitment:
                    self._notify_logs(sub, rec)

    # ------------------------------------------------------------------ notifications
    def _notify_account(self, sub: Sub, slot: int, acc: Account | None) -> None:
        value = account_json(acc, sub.encoding, sub.data_slice, self.chain.mint_decimals)
        if value is None:  # closed: agave reports a zero-lamport system account
            value = {
                "data": ["", "base64"] if sub.encoding != "base58" else ["", "base58"],
                "executable": False,
                "lamports": 0,
                "owner": "11111111111111111111111111111111",
                "rentEpoch": 0,
                "space": 0,
            }
        sub.client.push(
            _notification("accountNotification", {"context": {"slot": slot}, "value": value}, sub.id)
        )

    def _notify_program(self, sub: Sub, slot: int, key: Pubkey, acc: Account) -> None:
        if sub.match is not None and not sub.match(acc.data):
            return
        value = {
            "pubkey": str(key),
            "account": account_json(acc, sub.encoding, sub.data_slice, self.chain.mint_decimals),
        }
        sub.client.push(
            _notification("programNotification", {"context": {"slot": slot}, "value": value}, sub.id)
        )

    def _notify_signature(self, sub: Sub, rec: TxRecord) -> None:
        sub.client.push(
            _notification(
                "signatureNotification",
                {"context": {"slot": rec.slot}, "value": {"err": error_json(rec.err)}},
                sub.id,
            )
        )
        self._remove(sub.id)  # signature subscriptions end after their one notification

    def _notify_logs(self, sub: Sub, rec: TxRecord) -> None:
        if sub.key is not None and sub.key not in rec.keys:
            return
        value = {"signature": str(rec.signature), "err": error_json(rec.err), "logs": rec.logs}
        sub.client.push(
            _notification("logsNotification", {"context": {"slot": rec.slot}, "value": value}, sub.id)
        )


def _notification(method: str, result: Any, sub_id: int) -> bytes:
    return orjson.dumps(
        {"jsonrpc": "2.0", "method": method, "params": {"result": result, "subscription": sub_id}}
    )
