"""`solarb pools --mint-a X --mint-b Y [--rpc URL]`: discover pools of a pair and print config lines.

One getProgramAccounts per venue, account size and mint order, filtered by the account size and memcmp
on the two mint fields (each venue adapter's `pool_account_sizes` and `mint_offsets`), with a zero-length
dataSlice so only addresses come back.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from solders.pubkey import Pubkey

from bot.config import PRESETS, redact_url
from bot.errors import RuntimeFailure, UsageError
from rpc import requests as rq
from rpc.client import RpcClient
from rpc.errors import RpcError
from rpc.requests import Filter
from strategies.venues import registry
from strategies.venues.base import Venue


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pools",
        help="discover the pools of a token pair and print [[pools]] config lines",
        description=(
            "Ask an RPC node (getProgramAccounts with dataSize + memcmp filters) for every pool of every "
            "supported venue between two mints, in either order, and print them as [[pools]] entries "
            "for config.toml."
        ),
    )
    p.add_argument("--mint-a", required=True, help="first mint (base58)")
    p.add_argument("--mint-b", required=True, help="second mint (base58)")
    p.add_argument("--rpc", default=None, help="JSON-RPC HTTP URL (default: the cluster preset's)")
    p.add_argument(
        "--cluster",
        default="mainnet-beta",
        choices=sorted(PRESETS),
        help="cluster whose program ids (and default RPC URL) to use (default mainnet-beta)",
    )
    p.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds (default 30)")
    p.set_defaults(func=run)


def _mint(text: str, flag: str) -> str:
    try:
        return str(Pubkey.from_string(text))
    except ValueError as err:
        raise UsageError(f"{flag} {text!r} is not a base58 public key") from err


def filters_for(venue: Venue, first: str, second: str, size: int) -> list[Filter]:
    """getProgramAccounts filters for pools of `venue` of `size` bytes whose mint a is `first` and mint
    b `second`."""
    off_a, off_b = registry.adapter(venue).mint_offsets
    return [rq.data_size_filter(size), rq.memcmp_filter(off_a, first), rq.memcmp_filter(off_b, second)]


async def discover(url: str, programs: dict[str, str], mint_a: str, mint_b: str, timeout: float) -> list[tuple[str, str]]:
    """(venue, pool address) of every pool between the two mints, sorted by venue then address."""
    found: set[tuple[str, str]] = set()
    async with RpcClient(url, timeout_s=timeout, connections=1) as rpc:
        for venue in registry.ADAPTERS:
            program_id = programs.get(venue.name)
            if not program_id:
                continue
            # One query per account size and mint order (pools that grow over time have several sizes).
            for size in registry.adapter(venue).pool_account_sizes:
                for first, second in ((mint_a, mint_b), (mint_b, mint_a)):
                    try:
                        keyed = await rpc.get_program_accounts(
                            program_id, filters=filters_for(venue, first, second, size), data_slice=(0, 0))
                    except RpcError as err:
                        raise RuntimeFailure(f"getProgramAccounts on {redact_url(url)} failed: {err}") from err
                    found.update((venue.name, k.pubkey) for k in keyed)
    return sorted(found)


def config_lines(pools: list[tuple[str, str]], mint_a: str, mint_b: str) -> list[str]:
    """`[[pools]]` entries for config.toml."""
    lines = [f"# {len(pools)} pool(s) between {mint_a} and {mint_b}"]
    for venue, address in pools:
        lines += ["", "[[pools]]", f'venue = "{venue}"', f'address = "{address}"']
    return lines


def run(args: argparse.Namespace) -> int:
    mint_a = _mint(args.mint_a, "--mint-a")
    mint_b = _mint(args.mint_b, "--mint-b")
    if mint_a == mint_b:
        raise UsageError("--mint-a and --mint-b are the same mint; give the two tokens of the pair")
    preset = PRESETS[args.cluster]
    url = args.rpc or preset["rpc_url"]
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--rpc must be an http(s) URL, got {url!r}")
    pools = asyncio.run(discover(url, dict(preset["programs"]), mint_a, mint_b, args.timeout))
    print("\n".join(config_lines(pools, mint_a, mint_b)))
    return 0
