"""`solarb quote`: fetch a pool and the accounts it needs, print an exact quote as JSON.

Accounts come from an RPC node (`--rpc URL`, one getMultipleAccounts per round trip over plain HTTP; a
cold path) or offline from a directory of `solana account --output json` dumps (`--accounts DIR`).
The venue is chosen by the pool account's owner program through `VENUES`: each entry is a function
`(QuoteRequest, AccountSource) -> dict` returning the JSON-ready quote. Add a venue with one entry.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from solders.pubkey import Pubkey

from bot.errors import RuntimeFailure, UsageError
from strategies.venues import orca_whirlpool as orca
from strategies.venues import raydium_amm_v4, raydium_cpmm
from strategies.venues.errors import DecodeError, QuoteError, Unmodelled, VenueError
from strategies.venues.spl import decode_mint, decode_token_account

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


class DirSource:
    """Accounts from a directory of dump files, indexed by their `pubkey` field."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise UsageError(f"--accounts {directory}: not a directory")
        self.accounts: dict[Pubkey, AccountDump] = {}
        for path in sorted(directory.glob("*.json")):
            try:
                dump = parse_account_dump(json.loads(path.read_text()), str(path))
            except (OSError, ValueError, UsageError):
                continue  # not an account dump (other JSON in the directory)
            if dump.pubkey is not None:
                self.accounts[dump.pubkey] = dump

    def get_many(self, keys: Sequence[Pubkey]) -> list[AccountDump | None]:
        return [self.accounts.get(k) for k in keys]


class RpcSource:
    """Accounts from a JSON-RPC node via getMultipleAccounts (base64), stdlib HTTP only."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--rpc {url!r}: expected an http:// or https:// URL")
        self.url = url
        self.timeout_s = timeout_s

    def get_many(self, keys: Sequence[Pubkey]) -> list[AccountDump | None]:
        out: list[AccountDump | None] = []
        for i in range(0, len(keys), 100):  # the RPC caps getMultipleAccounts at 100 keys
            chunk = list(keys[i : i + 100])
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "getMultipleAccounts",
                "params": [[str(k) for k in chunk], {"encoding": "base64", "commitment": "confirmed"}],
            }
            req = urllib.request.Request(
                self.url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    reply = json.loads(resp.read())
            except (urllib.error.URLError, OSError, ValueError) as err:
                raise RuntimeFailure(f"getMultipleAccounts on {self.url} failed: {err}") from err
            if "error" in reply:
                raise RuntimeFailure(f"getMultipleAccounts on {self.url}: {reply['error']}")
            values = reply.get("result", {}).get("value")
            if not isinstance(values, list) or len(values) != len(chunk):
                raise RuntimeFailure(f"getMultipleAccounts on {self.url}: malformed reply")
            for key, value in zip(chunk, values, strict=True):
                out.append(
                    None
                    if value is None
                    else parse_account_dump({"pubkey": str(key), "account": value}, str(key))
                )
        return out


def _sqrt_price_to_price(sqrt_price_x64: int, decimals_a: int, decimals_b: int) -> float:
    return orca.price_from_sqrt_price(sqrt_price_x64) * 10.0 ** (decimals_a - decimals_b)


def quote_whirlpool(req: QuoteRequest, pool_dump: AccountDump, source: AccountSource) -> dict[str, Any]:
    """Whirlpool branch: decode the pool, fetch mints and the swap's tick arrays, quote exactly."""
    pool = orca.decode_whirlpool(pool_dump.data, pool_dump.owner)
    starts = orca.tick_array_start_indexes(pool.tick_current_index, pool.tick_spacing, req.a_to_b)
    array_keys = [orca.tick_array_address(req.pool, s, pool_dump.owner) for s in starts]
    fetched = source.get_many([pool.token_mint_a, pool.token_mint_b, *array_keys])
    mint_a_dump, mint_b_dump = fetched[0], fetched[1]
    if mint_a_dump is None or mint_b_dump is None:
        raise UsageError(
            f"mint account {pool.token_mint_a if mint_a_dump is None else pool.token_mint_b} not found"
        )
    mint_a = decode_mint(mint_a_dump.data, mint_a_dump.owner)
    mint_b = decode_mint(mint_b_dump.data, mint_b_dump.owner)
    available: dict[int, orca.TickArray] = {}
    missing: list[str] = []
    for start, key, dump in zip(starts, array_keys, fetched[2:], strict=True):
        if dump is None or (not dump.data and dump.owner != pool_dump.owner):
            missing.append(str(key))  # not created yet: the program treats it as empty
            continue
        array = orca.decode_tick_array(dump.data, dump.owner, pool_dump.owner)
        if array.whirlpool != req.pool or array.start_tick_index != start:
            raise UsageError(f"tick array {key} belongs to another pool or start")
        available[start] = array
    arrays = orca.swap_tick_arrays(pool, available, req.a_to_b, req.pool)
    q = orca.quote_swap(pool, arrays, req.amount_in, a_to_b=req.a_to_b, mint_a=mint_a, mint_b=mint_b)
    return {
        "venue": "orca_whirlpool",
        "pool": str(req.pool),
        "a_to_b": req.a_to_b,
        "mint_in": str(pool.token_mint_a if req.a_to_b else pool.token_mint_b),
        "mint_out": str(pool.token_mint_b if req.a_to_b else pool.token_mint_a),
        "amount_in": q.amount_in,
        "amount_out": q.amount_out,
        "fee": q.fee_amount,
        "protocol_fee": q.protocol_fee,
        "fee_rate": pool.fee_rate,
        "price_before": _sqrt_price_to_price(pool.sqrt_price, mint_a.decimals, mint_b.decimals),
        "price_after": _sqrt_price_to_price(q.next_sqrt_price, mint_a.decimals, mint_b.decimals),
        "price_unit": "token B per token A (decimal-adjusted)",
        "sqrt_price_before": str(pool.sqrt_price),
        "sqrt_price_after": str(q.next_sqrt_price),
        "tick_before": pool.tick_current_index,
        "tick_after": q.next_tick_index,
        "ticks_crossed": q.ticks_crossed,
        "tick_arrays": [str(k) for k in array_keys],
        "missing_tick_arrays": missing,
    }


def _fetch_required(source: AccountSource, keys: Sequence[Pubkey]) -> list[AccountDump]:
    dumps = source.get_many(keys)
    for key, dump in zip(keys, dumps, strict=True):
        if dump is None:
            raise UsageError(f"account {key} not found")
    return [d for d in dumps if d is not None]


def _cp_quote_json(venue: str, req: QuoteRequest, mints: tuple[Pubkey, Pubkey], decimals: tuple[int, int],
                   before: tuple[int, int], after: tuple[int, int], amount_out: int, fee: int,
                   extra: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    def price(r_a: int, r_b: int) -> float:
        return (r_b / 10 ** decimals[1]) / (r_a / 10 ** decimals[0]) if r_a else float("nan")

    return {
        "venue": venue,
        "pool": str(req.pool),
        "a_to_b": req.a_to_b,
        "mint_in": str(mints[0] if req.a_to_b else mints[1]),
        "mint_out": str(mints[1] if req.a_to_b else mints[0]),
        "amount_in": req.amount_in,
        "amount_out": amount_out,
        "fee": fee,
        **extra,
        "reserves_before": [before[0], before[1]],
        "reserves_after": [after[0], after[1]],
        "price_before": price(*before),
        "price_after": price(*after),
        "price_unit": "token B per token A (decimal-adjusted)",
        "ticks_crossed": 0,
    }


def quote_raydium_cpmm(req: QuoteRequest, pool_dump: AccountDump, source: AccountSource) -> dict[str, Any]:
    """Raydium CPMM branch: pool, config, vaults (and mints for Token-2022 checks); token0 = A."""
    pool = raydium_cpmm.decode_pool(pool_dump.data, pool_dump.owner, pool_dump.owner)
    cfg, v0, v1, m0, m1 = _fetch_required(
        source, [pool.amm_config, pool.token_0_vault, pool.token_1_vault, pool.token_0_mint, pool.token_1_mint]
    )
    config = raydium_cpmm.decode_amm_config(cfg.data, cfg.owner, pool_dump.owner)
    raydium_cpmm.check_tradable(pool, config, int(time.time()), m0.data, m1.data)
    r0, r1 = raydium_cpmm.reserves(
        pool, decode_token_account(v0.data, v0.owner).amount, decode_token_account(v1.data, v1.owner).amount
    )
    r_in, r_out = (r0, r1) if req.a_to_b else (r1, r0)
    rates = (config.trade_fee_rate, config.protocol_fee_rate, config.fund_fee_rate)
    q = raydium_cpmm.swap_base_input(req.amount_in, r_in, r_out, *rates)
    # The trade fee stays in the pool; protocol and fund shares become owed fees (not reserves).
    new_in, new_out = r_in + q.amount_in - q.protocol_fee - q.fund_fee, r_out - q.amount_out
    after = (new_in, new_out) if req.a_to_b else (new_out, new_in)
    extra = {"protocol_fee": q.protocol_fee, "fund_fee": q.fund_fee, "fee_rate": config.trade_fee_rate}
    return _cp_quote_json(
        "raydium_cpmm", req, (pool.token_0_mint, pool.token_1_mint),
        (pool.mint_0_decimals, pool.mint_1_decimals), (r0, r1), after, q.amount_out, q.trade_fee, extra,
    )  # fmt: skip


def quote_raydium_amm_v4(req: QuoteRequest, pool_dump: AccountDump, source: AccountSource) -> dict[str, Any]:
    """Raydium AMM v4 branch: AmmInfo and both vaults; coin (base) = A, pc (quote) = B."""
    info = raydium_amm_v4.decode_amm_info(pool_dump.data, pool_dump.owner, pool_dump.owner)
    raydium_amm_v4.check_tradable(info, int(time.time()))
    coin_vault, pc_vault = _fetch_required(source, [info.coin_vault, info.pc_vault])
    coin, pc = raydium_amm_v4.reserves(
        info,
        decode_token_account(coin_vault.data, coin_vault.owner).amount,
        decode_token_account(pc_vault.data, pc_vault.owner).amount,
    )
    r_in, r_out = (coin, pc) if req.a_to_b else (pc, coin)
    q = raydium_amm_v4.swap_base_in(
        req.amount_in, r_in, r_out, info.swap_fee_numerator, info.swap_fee_denominator
    )
    new_in, new_out = r_in + q.amount_in, r_out - q.amount_out  # the whole fee stays in the pool
    after = (new_in, new_out) if req.a_to_b else (new_out, new_in)
    extra = {"fee_rate": f"{info.swap_fee_numerator}/{info.swap_fee_denominator}"}
    return _cp_quote_json(
        "raydium_amm_v4", req, (info.coin_vault_mint, info.pc_vault_mint),
        (info.coin_decimals, info.pc_decimals), (coin, pc), after, q.amount_out, q.fee, extra,
    )  # fmt: skip


# Owner program id -> quote function. Other venues add one entry each.
VENUES: dict[Pubkey, Callable[[QuoteRequest, AccountDump, AccountSource], dict[str, Any]]] = {
    orca.WHIRLPOOL_PROGRAM_ID: quote_whirlpool,
    raydium_cpmm.PROGRAM_ID: quote_raydium_cpmm,
    raydium_amm_v4.PROGRAM_ID: quote_raydium_amm_v4,
}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "quote",
        help="print an exact swap quote for one pool as JSON",
        description="Fetch a pool and the accounts it needs (RPC or dump files) and print an exact quote.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--rpc", metavar="URL", help="JSON-RPC HTTP endpoint to fetch accounts from")
    src.add_argument("--accounts", metavar="DIR", help="directory of `solana account --output json` dumps")
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


def quote(req: QuoteRequest, source: AccountSource) -> dict[str, Any]:
    """Fetch the pool, dispatch on its owner program, and return the JSON-ready quote."""
    (pool_dump,) = source.get_many([req.pool])
    if pool_dump is None:
        raise UsageError(f"pool {req.pool} not found")
    handler = VENUES.get(pool_dump.owner)
    if handler is None:
        raise UsageError(f"pool {req.pool} is owned by {pool_dump.owner}, not a supported venue program")
    try:
        return handler(req, pool_dump, source)
    except DecodeError as err:
        raise UsageError(str(err)) from err
    except Unmodelled as err:
        raise RuntimeFailure(f"pool {req.pool} refused: {err}") from err
    except QuoteError as err:
        raise RuntimeFailure(f"the program would reject this swap: {err}") from err
    except VenueError as err:
        raise RuntimeFailure(str(err)) from err


def run(args: argparse.Namespace) -> int:
    req = _parse_request(args)
    source: AccountSource = RpcSource(args.rpc) if args.rpc else DirSource(Path(args.accounts))
    print(json.dumps(quote(req, source), indent=2))
    return 0
