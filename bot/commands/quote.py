"""`solarb quote`: fetch a pool and the accounts it needs, print an exact quote as JSON.

Accounts come from an RPC node (`-u URL_OR_MONIKER`, or the endpoints of `-c CONFIG`; one
getMultipleAccounts per round trip over plain HTTP, a cold path) or offline from `solana account --output
json` dumps (`--accounts FILE_OR_DIR`, repeatable). The venue is chosen by the pool account's owner
program (the cluster presets' program ids and the config's `[cluster.programs]`); its adapter's
`quote_report` fetches what it needs and returns the JSON-ready quote.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from solders.pubkey import Pubkey

from bot.commands.cluster_opts import add_url_arg, resolve
from bot.config import PRESETS, redact_url
from bot.errors import RuntimeFailure, UsageError
from rpc.client import RpcClient
from rpc.errors import RpcError
from strategies.venues import registry
from strategies.venues.base import MissingAccount, Venue
from strategies.venues.errors import DecodeError, QuoteError, Unmodelled, VenueError

U64_MAX = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class AccountDump:
    """One account as fetched or dumped: address, owner program and raw data."""

    pubkey: Pubkey | None
    owner: Pubkey
    data: bytes
    lamports: int


class AccountSource(Protocol):
    """Where a quote reads accounts from; a missing account is None."""

    def get_many(self, keys: Sequence[Pubkey]) -> list[AccountDump | None]: ...


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """What the user asked for, already validated."""

    pool: Pubkey
    amount_in: int
    a_to_b: bool


def parse_account_dump(obj: Any, where: str) -> AccountDump:
    """Parse `solana account --output json` (or a bare account object) into an `AccountDump`."""
    if not isinstance(obj, dict):
        raise UsageError(f"{where}: expected a JSON object with an account")
    account = obj.get("account", obj)
    if not isinstance(account, dict):
        raise UsageError(f"{where}: 'account' is not an object")
    raw = account.get("data")
    if isinstance(raw, list) and len(raw) == 2 and raw[1] == "base64":
        raw = raw[0]
    if not isinstance(raw, str):
        raise UsageError(f'{where}: account data must be base64 ([data, "base64"] or a string)')
    try:
        data = base64.b64decode(raw, validate=True)
        owner = Pubkey.from_string(str(account.get("owner", "")))
        pubkey = Pubkey.from_string(obj["pubkey"]) if isinstance(obj.get("pubkey"), str) else None
    except (binascii.Error, ValueError) as err:
        raise UsageError(f"{where}: bad base64 or pubkey ({err})") from err
    lamports = account.get("lamports", 0)
    return AccountDump(pubkey, owner, data, int(lamports) if isinstance(lamports, int) else 0)


def read_account_dump(path: Path) -> AccountDump:
    """Read one dump file."""
    try:
        obj = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read account dump {path}: {err}") from err
    return parse_account_dump(obj, str(path))


class DumpSource:
    """Accounts from dump files, indexed by their `pubkey` field: each path is one dump file or a
    directory of them (other JSON in a directory is skipped; a named file must be a dump)."""

    def __init__(self, *paths: Path) -> None:
        self.accounts: dict[Pubkey, AccountDump] = {}
        for path in paths:
            if path.is_dir():
                for file in sorted(path.glob("*.json")):
                    try:
                        dump = parse_account_dump(json.loads(file.read_text()), str(file))
                    except (OSError, ValueError, UsageError):
                        continue  # not an account dump (other JSON in the directory)
                    if dump.pubkey is not None:
                        self.accounts[dump.pubkey] = dump
            elif path.is_file():
                dump = read_account_dump(path)
                if dump.pubkey is None:
                    raise UsageError(f"--accounts {path}: no \"pubkey\" field (dump it with `solana account "
                                     "ADDRESS --output json`, which writes the address)")  # fmt: skip
                self.accounts[dump.pubkey] = dump
            else:
                raise UsageError(f"--accounts {path}: no such file or directory")

    def get_many(self, keys: Sequence[Pubkey]) -> list[AccountDump | None]:
        return [self.accounts.get(k) for k in keys]


DirSource = DumpSource  # the name of a directory-only past


class RpcSource:
    """Accounts from a JSON-RPC node via getMultipleAccounts (base64), through rpc.client."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--rpc {url!r}: expected an http:// or https:// URL")
        self.url = url
        self.timeout_s = timeout_s

    def get_many(self, keys: Sequence[Pubkey]) -> list[AccountDump | None]:
        return asyncio.run(self._get_many(keys))

    async def _get_many(self, keys: Sequence[Pubkey]) -> list[AccountDump | None]:
        out: list[AccountDump | None] = []
        async with RpcClient(self.url, timeout_s=self.timeout_s, connections=1) as rpc:
            for i in range(0, len(keys), 100):  # the RPC caps getMultipleAccounts at 100 keys
                chunk = list(keys[i : i + 100])
                try:
                    res = await rpc.get_multiple_accounts([str(k) for k in chunk], commitment="confirmed")
                except RpcError as err:
                    raise RuntimeFailure(
                        f"getMultipleAccounts on {redact_url(self.url)} failed: {err}"
                    ) from err
                for key, acc in zip(chunk, res.accounts, strict=True):
                    out.append(None if acc is None else
                               AccountDump(key, Pubkey.from_string(acc.owner), acc.data, acc.lamports))  # fmt: skip
        return out


def register(sub: Any) -> None:
    p = sub.add_parser(
        "quote",
        help="print an exact swap quote for one pool as JSON",
        description="Fetch a pool and the accounts it needs (RPC or dump files) and print an exact quote. "
        "Accounts come from -u, from the endpoints of -c, or from --accounts dumps.",
    )
    p.add_argument(
        "-c", "--config", default=None, help="config whose cluster, endpoints and program ids to use"
    )
    add_url_arg(p, rpc_alias=True)
    p.add_argument(
        "--accounts",
        metavar="FILE_OR_DIR",
        action="append",
        default=[],
        help="a `solana account --output json` dump, or a directory of them (repeatable; offline)",
    )
    p.add_argument("--pool", required=True, metavar="PUBKEY", help="pool account address")
    p.add_argument("--amount-in", required=True, metavar="N", help="input amount in raw token units")
    side = p.add_mutually_exclusive_group()
    side.add_argument(
        "--a-to-b", dest="a_to_b", action="store_true", default=True, help="sell token A (default)"
    )
    side.add_argument("--b-to-a", dest="a_to_b", action="store_false", help="sell token B")
    p.set_defaults(func=run)


def _parse_request(args: argparse.Namespace) -> QuoteRequest:
    try:
        pool = Pubkey.from_string(args.pool)
    except ValueError as err:
        raise UsageError(f"--pool {args.pool!r} is not a base58 public key") from err
    try:
        amount = int(str(args.amount_in).replace("_", ""))
    except ValueError as err:
        raise UsageError(f"--amount-in {args.amount_in!r} is not an integer (raw token units)") from err
    if not 0 < amount <= U64_MAX:
        raise UsageError(f"--amount-in {amount} must be between 1 and {U64_MAX}")
    return QuoteRequest(pool, amount, bool(args.a_to_b))


def quote(
    req: QuoteRequest, source: AccountSource, programs: Iterable[dict[str, str]] = ()
) -> dict[str, Any]:
    """Fetch the pool, find its venue by owner program, and return the adapter's JSON-ready quote.

    `programs`: more venue -> program id maps (a config's) besides the cluster presets."""
    (pool_dump,) = source.get_many([req.pool])
    if pool_dump is None:
        raise UsageError(f"pool {req.pool} not found")
    owners = _owners(pool_dump.owner, programs)
    adapter = next((a for v, a in registry.ADAPTERS.items() if v in owners), None)
    if adapter is None:
        raise UsageError(f"pool {req.pool} is owned by {pool_dump.owner}, not a supported venue program")

    def fetch(keys: Sequence[Pubkey]) -> list[tuple[Pubkey, bytes] | None]:
        return [None if d is None else (d.owner, d.data) for d in source.get_many(keys)]

    try:
        return adapter.quote_report(req.pool, pool_dump.data, pool_dump.owner, fetch, req.amount_in, req.a_to_b,
                                    int(time.time()))  # fmt: skip
    except (MissingAccount, DecodeError) as err:
        raise UsageError(str(err)) from err
    except Unmodelled as err:
        raise RuntimeFailure(f"pool {req.pool} refused: {err}") from err
    except QuoteError as err:
        raise RuntimeFailure(f"the program would reject this swap: {err}") from err
    except VenueError as err:
        raise RuntimeFailure(str(err)) from err


def _owners(owner: Pubkey, programs: Iterable[dict[str, str]] = ()) -> set[Venue]:
    """The venues whose program id is `owner` on any cluster (the pool's owner names its venue)."""
    text = str(owner)
    maps = [*(preset["programs"] for preset in PRESETS.values()), *programs]
    return {Venue[v] for m in maps for v, pid in m.items() if pid == text and v in Venue.__members__}


def missing_tick_arrays_warning(report: dict[str, Any]) -> str | None:
    """One stderr line when the swap's tick arrays are not all on chain (they are quoted as empty)."""
    missing = report.get("missing_tick_arrays") or []
    if not missing:
        return None
    return (f"solarb: warning: {len(missing)} of the {len(report.get('tick_arrays', missing))} tick arrays this "
            f"swap may cross were not found ({', '.join(missing)}); they are quoted as empty (no liquidity), as "
            "the program treats a tick array that was never created")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    req = _parse_request(args)
    if args.accounts and args.url:
        raise UsageError("--accounts reads dump files offline; drop -u, or drop --accounts to fetch over RPC")
    target = resolve(args.config, args.url)  # -c with --accounts: only its program ids are used
    if args.accounts:
        source: AccountSource = DumpSource(*(Path(a) for a in args.accounts))
    elif target is not None:
        source = RpcSource(target.rpc_url)
    else:
        raise UsageError(
            "where from? give -u URL_OR_MONIKER (e.g. -u devnet), -c CONFIG, or --accounts FILE_OR_DIR"
        )
    report = quote(req, source, [target.programs] if target is not None else [])
    print(json.dumps(report, indent=2))
    if warning := missing_tick_arrays_warning(report):
        print(warning, file=sys.stderr)
    return 0
