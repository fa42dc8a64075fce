"""`Localnet`: the in-process local cluster (slot clock + HTTP JSON-RPC + WebSocket PubSub).

    async with Localnet(slot_ms=5, rpc_port=0) as net:     # rpc_port=0: free loopback ports
        mint = net.create_mint(authority=payer.pubkey(), decimals=6)
        client = AsyncClient(net.rpc_url); ws = connect(net.ws_url)

State set-up helpers act immediately on the chain (no transaction): `set_account`, `add_program`,
`load_account_file`, `create_mint`, `create_token_account`, `airdrop` (this one is a real transaction).
Clock control for tests: `pause_clock()`, `resume_clock()`, `advance_slots(n)`, `await wait_for_slot(n)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import math
import socket
import struct
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from solders.account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from localnet.block_engine import BUNDLES_PATH, DEFAULT_MIN_TIP_LAMPORTS, MAINNET_TIP_ACCOUNTS, BlockEngine
from localnet.chain import FINALIZED, PROCESSED, TOKEN_PROGRAM, Chain
from localnet.errors import ListenError, LoadError
from localnet.pubsub import PubSub
from localnet.rpc_http import DEFAULT_BUSY_POLL_US, BusyPoll, HttpRpcProtocol, OrderedSends, WriteBatch
from localnet.rpc_methods import RpcMethods

MINT_SIZE = 82
BPF_LOADER_1 = Pubkey.from_string("BPFLoader1111111111111111111111111111111111")
BPF_LOADER_2 = Pubkey.from_string("BPFLoader2111111111111111111111111111111111")
BPF_LOADER_UPGRADEABLE = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")
PROGRAMDATA_HEADER = 45  # UpgradeableLoaderState::ProgramData: tag u32, slot u64, Option<Pubkey>
TOKEN_ACCOUNT_SIZE = 165


def pack_mint(
    authority: Pubkey | None, supply: int, decimals: int, freeze_authority: Pubkey | None = None
) -> bytes:
    """SPL Mint layout (82 bytes)."""
    return (
        struct.pack("<I", 1 if authority else 0)
        + (bytes(authority) if authority else bytes(32))
        + struct.pack("<QBB", supply, decimals, 1)
        + struct.pack("<I", 1 if freeze_authority else 0)
        + (bytes(freeze_authority) if freeze_authority else bytes(32))
    )


def pack_token_account(mint: Pubkey, owner: Pubkey, amount: int, *, native_rent: int | None = None) -> bytes:
    """SPL token Account layout (165 bytes), initialized, no delegate / close authority."""
    native = struct.pack("<IQ", 1, native_rent) if native_rent is not None else struct.pack("<IQ", 0, 0)
    return (
        bytes(mint)
        + bytes(owner)
        + struct.pack("<Q", amount)
        + struct.pack("<I", 0)
        + bytes(32)
        + b"\x01"
        + native
        + struct.pack("<Q", 0)
        + struct.pack("<I", 0)
        + bytes(32)
    )


def parse_account_file(path: Path | str) -> tuple[Pubkey, Account]:
    """Read a `solana account --output json` dump (the ../shared/fixtures form)."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text())
        acc = doc["account"]
        data_b64, enc = acc["data"]
        if enc != "base64":
            raise LoadError(f"{p}: account data encoding {enc!r} is not supported; use base64")
        import base64

        data = base64.b64decode(data_b64)
        return Pubkey.from_string(doc["pubkey"]), Account(
            int(acc["lamports"]),
            data,
            Pubkey.from_string(acc["owner"]),
            bool(acc["executable"]),
            int(acc.get("rentEpoch", 0)),
        )
    except LoadError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise LoadError(
            f"{p}: not a `solana account --output json` file ({type(err).__name__}: {err})"
        ) from err


def _pick_ports(host: str) -> tuple[int, int]:
    """A free port P with P+1 also free (the validator's rpc/ws convention), best effort."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as s2:
            try:
                s2.bind((host, port + 1))
            except OSError:
                continue
        return port, port + 1
    raise LoadError("could not find two free consecutive loopback ports")


MAX_VERIFY_WORKERS = 64
MAX_BUSY_POLL_US = 100_000.0  # polling longer than 0.1 s after a request only burns CPU


def _reason(err: BaseException) -> str:
    """The first non-empty message along the cause chain (solana-py wraps httpx's errors in an empty one)."""
    seen: BaseException | None = err
    while seen is not None:
        if str(seen).strip():
            return f"{type(seen).__name__}: {str(seen).strip()}"
        seen = seen.__cause__ or seen.__context__
    return type(err).__name__


class Localnet:
    """A local Solana cluster in this process. Start with `await start()` or `async with`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        rpc_port: int = 8899,
        ws_port: int | None = None,
        slot_ms: float = 400.0,
        chain: Chain | None = None,
        verify_workers: int = 0,
        busy_poll_us: float = DEFAULT_BUSY_POLL_US,
        block_engine: bool = False,
        min_tip_lamports: int = DEFAULT_MIN_TIP_LAMPORTS,
        tip_accounts: Sequence[str] = MAINNET_TIP_ACCOUNTS,
    ) -> None:
        if not (math.isfinite(slot_ms) and slot_ms > 0):
            raise LoadError(f"slot time (--slot-ms) must be a number > 0, got {slot_ms}")
        if not 0 <= verify_workers <= MAX_VERIFY_WORKERS:
            raise LoadError(
                f"verify workers (--verify-workers) must be 0..{MAX_VERIFY_WORKERS}, got {verify_workers}"
            )
        if not (math.isfinite(busy_poll_us) and 0 <= busy_poll_us <= MAX_BUSY_POLL_US):
            raise LoadError(
                f"busy polling (--busy-poll-us) must be 0..{MAX_BUSY_POLL_US:g} microseconds, "
                f"got {busy_poll_us}"
            )
        # >= 1: sendTransaction signature checks go to that many worker processes when requests queue up
        # (rpc_http.OrderedSends); 0 verifies every signature on the event loop.
        self.verify_workers = verify_workers
        self._sends: OrderedSends | None = None
        self.host = host
        self.rpc_port = rpc_port
        self.ws_port = ws_port
        self.slot_ms = slot_ms
        self.chain = chain or Chain()
        self.methods = RpcMethods(self.chain)
        self.pubsub = PubSub(self.chain)
        # A Jito-style block engine on the RPC port under /api/v1/bundles (localnet.block_engine); it executes
        # bundles from a slot listener registered after PubSub's, so slot notifications come first.
        self.block_engine = (
            BlockEngine(
                self.chain, self.methods, tip_accounts=tip_accounts, min_tip_lamports=min_tip_lamports
            )
            if block_engine
            else None
        )
        self._server: asyncio.Server | None = None
        self._connections: set[HttpRpcProtocol] = set()
        self.busy_poll = BusyPoll(busy_poll_us)
        self._write_batch = WriteBatch(self.busy_poll)
        self._clock: asyncio.Task[None] | None = None
        self._running = asyncio.Event()
        self._slot_waiters: list[tuple[int, int, asyncio.Future[int]]] = []
        self.chain.slot_listeners.append(self._on_slot)

    # ------------------------------------------------------------------ lifecycle
    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.rpc_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.ws_port}"

    @property
    def bundle_url(self) -> str | None:
        """The block engine's bundles endpoint (None without `block_engine=True`)."""
        return f"{self.rpc_url}{BUNDLES_PATH}" if self.block_engine is not None else None

    async def start(self) -> None:
        """Bind both servers and start the slot clock (slot 0 holds genesis/loaded state)."""
        loop = asyncio.get_running_loop()
        if self.rpc_port == 0:
            self.rpc_port, ws = _pick_ports(self.host)
            self.ws_port = self.ws_port if self.ws_port is not None else ws
        elif self.ws_port is None:
            self.ws_port = self.rpc_port + 1
        if self.verify_workers:
            self._sends = OrderedSends(self.methods, self.verify_workers, self.busy_poll.window * 1e6)
            try:
                self._sends.start()
            except OSError as err:
                await self.stop()
                raise LoadError(
                    f"cannot start {self.verify_workers} signature verification workers: {err}"
                ) from err
        try:
            routes = self.block_engine.routes() if self.block_engine is not None else None
            self._server = await loop.create_server(
                lambda: HttpRpcProtocol(
                    self.methods, self._connections, self._write_batch, self._sends, routes
                ),
                self.host,
                self.rpc_port,
                reuse_address=True,
            )
            self.ws_port = await self.pubsub.start(self.host, self.ws_port)
        except OSError as err:
            await self.stop()
            raise ListenError(f"cannot listen on {self.host}:{self.rpc_port}/{self.ws_port}: {err}") from err
        if self.chain.slot == 0:
            self.chain.advance_slot()
        self._running.set()
        self._clock = asyncio.create_task(self._run_clock(), name="localnet-slot-clock")

    async def stop(self) -> None:
        """Stop the clock, close listeners and client connections."""
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
            self._clock = None
        if self._server is not None:
            self._server.close()
            for conn in list(self._connections):
                if conn.transport is not None:
                    conn.transport.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None
        if self._sends is not None:
            await self._sends.close()
            self._sends = None
        await self.pubsub.stop()

    async def __aenter__(self) -> Localnet:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run_clock(self) -> None:
        period = self.slot_ms / 1000.0
        next_at = time.monotonic() + period
        while True:
            await self._running.wait()
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self._running.is_set():
                next_at = time.monotonic() + period
                continue
            self.chain.advance_slot()
            next_at = max(next_at + period, time.monotonic())

    def _on_slot(self, slot: int) -> None:
        waiters = self._slot_waiters
        while waiters and waiters[0][0] <= slot:
            _, _, fut = heapq.heappop(waiters)
            if not fut.done():
                fut.set_result(slot)

    # ------------------------------------------------------------------ clock control (tests)
    @property
    def slot(self) -> int:
        return self.chain.slot

    def pause_clock(self) -> None:
        """Stop producing slots until `resume_clock()` (transactions still land in the current slot)."""
        self._running.clear()

    def resume_clock(self) -> None:
        self._running.set()

    def advance_slots(self, n: int = 1) -> int:
        """Produce `n` slots right now (works while paused). Returns the new slot."""
        for _ in range(n):
            self.chain.advance_slot()
        return self.chain.slot

    async def wait_for_slot(self, slot: int, timeout: float = 10.0) -> int:
        """Wait until the chain reaches `slot` (by the clock or by advance_slots)."""
        if self.chain.slot >= slot:
            return self.chain.slot
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._slot_waiters, (slot, id(fut), fut))
        return await asyncio.wait_for(fut, timeout)

    async def wait_finalized(self, slot: int | None = None, timeout: float = 10.0) -> None:
        """Wait until `slot` (default: now) is finalized."""
        target = self.chain.slot if slot is None else slot
        await self.wait_for_slot(target + 32, timeout)

    # ------------------------------------------------------------------ state set-up
    def set_account(
        self,
        pubkey: Pubkey,
        account: Account | None = None,
        *,
        lamports: int | None = None,
        data: bytes = b"",
        owner: Pubkey | None = None,
        executable: bool = False,
        notify: bool = False,
    ) -> Pubkey:
        """Create or overwrite an account (rent-exempt lamports by default).

        `notify=True` (fault injection) also tells processed-commitment accountSubscribe clients, as a
        program write would; without it only reads and later snapshots see the change."""
        if account is None:
            if lamports is None:
                lamports = self.chain.svm.minimum_balance_for_rent_exemption(len(data))
            account = Account(lamports, data, owner or Pubkey.default(), executable, 0)
        self.chain.set_account(pubkey, account)
        if notify:
            self.pubsub.notify_account_write(pubkey, account, self.chain.slot)
        return pubkey

    def add_program(self, program_id: Pubkey, elf: bytes | str | Path) -> None:
        """Deploy an SBF program (ELF bytes or a path to a .so)."""
        where = "ELF bytes"
        if not isinstance(elf, bytes):
            where = str(elf)
            try:
                elf = Path(elf).read_bytes()
            except OSError as err:
                raise LoadError(f"cannot read program {where}: {err}") from err
        # LiteSVM panics (a BaseException) on a bad ELF and prints a Rust backtrace: check the header first.
        if (
            len(elf) < 64
            or elf[:4] != b"\x7fELF"
            or elf[4] != 2
            or int.from_bytes(elf[18:20], "little") not in (247, 263)
        ):
            raise LoadError(f"program {program_id}: {where} is not a 64-bit SBF/BPF ELF shared object")
        try:
            self.chain.add_program(program_id, elf)
        except (KeyboardInterrupt, SystemExit, asyncio.CancelledError):
            raise
        except BaseException as err:  # pyo3 PanicException derives from BaseException
            raise LoadError(f"program {program_id}: LiteSVM rejected {where}: {err}") from err

    def load_account_file(self, path: Path | str, pubkey: Pubkey | None = None) -> Pubkey:
        """Load a `solana account --output json` dump, optionally at another address."""
        key, acc = parse_account_file(path)
        key = pubkey or key
        self.install_account(key, acc)
        return key

    def install_account(self, key: Pubkey, acc: Account, programdata: Account | None = None) -> None:
        """Set an account as fetched from a cluster. Executable accounts of the BPF loaders become
        programs (LiteSVM only runs programs it loaded itself): BPFLoader2/1 accounts hold the ELF;
        an upgradeable program's ELF sits in its programdata account after a 45-byte header."""
        if acc.executable and acc.owner in (BPF_LOADER_2, BPF_LOADER_1):
            self.add_program(key, bytes(acc.data))
        elif acc.executable and acc.owner == BPF_LOADER_UPGRADEABLE:
            if programdata is None:
                raise LoadError(f"{key} is an upgradeable program: its programdata account is needed too")
            self.add_program(key, bytes(programdata.data)[PROGRAMDATA_HEADER:])
        else:
            self.chain.set_account(key, acc)

    def airdrop(self, to: Pubkey, lamports: int) -> Signature:
        """A real faucet transfer (has a transaction record, notifications, fee)."""
        return self.chain.airdrop(to, lamports).signature

    def create_mint(
        self,
        authority: Pubkey,
        decimals: int,
        *,
        supply: int = 0,
        freeze_authority: Pubkey | None = None,
        address: Pubkey | None = None,
        program: Pubkey = TOKEN_PROGRAM,
    ) -> Pubkey:
        """An initialized SPL mint (set directly, no transaction)."""
        address = address or Keypair().pubkey()
        self.set_account(
            address, data=pack_mint(authority, supply, decimals, freeze_authority), owner=program
        )
        return address

    def create_token_account(
        self,
        mint: Pubkey,
        owner: Pubkey,
        amount: int = 0,
        *,
        address: Pubkey | None = None,
        program: Pubkey = TOKEN_PROGRAM,
    ) -> Pubkey:
        """An initialized SPL token account holding `amount` (raises the mint's supply to match)."""
        address = address or Keypair().pubkey()
        self.set_account(address, data=pack_token_account(mint, owner, amount), owner=program)
        if amount:
            m = self.chain.get_account(mint)
            if m is not None and len(m.data) >= MINT_SIZE:
                supply = int.from_bytes(m.data[36:44], "little") + amount
                data = m.data[:36] + supply.to_bytes(8, "little") + m.data[44:]
                self.chain.set_account(mint, Account(m.lamports, data, m.owner, m.executable, m.rent_epoch))
        return address

    # ------------------------------------------------------------------ direct reads
    def get_account(self, pubkey: Pubkey, commitment: str = PROCESSED) -> Account | None:
        return self.chain.get_account(pubkey, commitment)

    def balance(self, pubkey: Pubkey, commitment: str = PROCESSED) -> int:
        acc = self.chain.get_account(pubkey, commitment)
        return acc.lamports if acc is not None else 0

    def token_amount(self, token_account: Pubkey, commitment: str = PROCESSED) -> int:
        acc = self.chain.get_account(token_account, commitment)
        if acc is None or len(acc.data) < TOKEN_ACCOUNT_SIZE:
            raise LoadError(f"{token_account} is not a token account")
        return int.from_bytes(acc.data[64:72], "little")

    def transaction(self, signature: Signature) -> Any:
        """The chain's TxRecord for a landed signature, or None."""
        return self.chain.txs.get(signature)

    async def clone(self, url: str, pubkeys: list[Pubkey]) -> None:
        """Copy accounts (and, for executables, their program) from another RPC node."""
        from solana.rpc.async_api import AsyncClient

        async with AsyncClient(url) as client:
            for i in range(0, len(pubkeys), 100):
                chunk = pubkeys[i : i + 100]
                try:
                    resp = await client.get_multiple_accounts(chunk, commitment=FINALIZED)  # type: ignore[arg-type]
                except Exception as err:
                    raise LoadError(
                        f"--clone: cannot fetch accounts from {url}: {_reason(err)} "
                        "(is a JSON-RPC node listening at that URL?)"
                    ) from err
                for key, acc in zip(chunk, resp.value):
                    if acc is None:
                        raise LoadError(f"--clone: account {key} not found on {url}")
                    account = Account(
                        acc.lamports, bytes(acc.data), acc.owner, acc.executable, acc.rent_epoch
                    )
                    programdata = None
                    if acc.executable and acc.owner == BPF_LOADER_UPGRADEABLE and len(account.data) >= 36:
                        pd_key = Pubkey.from_bytes(account.data[4:36])  # UpgradeableLoaderState::Program
                        pd = (await client.get_account_info(pd_key, commitment=FINALIZED)).value  # type: ignore[arg-type]
                        if pd is None:
                            raise LoadError(f"--clone: programdata {pd_key} of {key} not found on {url}")
                        programdata = Account(
                            pd.lamports, bytes(pd.data), pd.owner, pd.executable, pd.rent_epoch
                        )
                    self.install_account(key, account, programdata)
