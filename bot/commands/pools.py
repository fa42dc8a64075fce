"""`solarb pools --mint-a X --mint-b Y [-c CONFIG] [-u URL_OR_MONIKER]`: discover pools of a pair and print
config lines.

One getProgramAccounts per venue and mint order, filtered by the account size and memcmp on the two
mint fields (each venue adapter's `pool_account_sizes` and `mint_offsets`; one query per size), with a zero-length
dataSlice so only addresses come back. The program ids are the cluster's (`-u` moniker, `--cluster`, or
the config's, with its `[cluster.programs]`); mints may be the config's `[tokens]` aliases. Pools of a
venue the bot cannot trade yet are printed commented out, so the output pastes into a config as is.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from solders.pubkey import Pubkey

from bot.commands.cluster_opts import Target, add_url_arg, resolve
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
    p.add_argument(
        "--mint-a", required=True, help="first mint (base58, or a [tokens] alias of -c; SOL = wSOL)"
    )
    p.add_argument("--mint-b", required=True, help="second mint (base58, or a [tokens] alias of -c)")
    p.add_argument(
        "-c", "--config", default=None, help="config whose cluster, endpoints, program ids and tokens to use"
    )
    add_url_arg(p, rpc_alias=True)
    p.add_argument(
        "--cluster",
        default=None,
        choices=sorted(PRESETS),
        help="cluster whose program ids (and default RPC URL) to use (default: -u's or the config's, else mainnet-beta)",
    )
    p.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds (default 30)")
    p.set_defaults(func=run)


def _mint(text: str, flag: str, target: Target) -> str:
    try:
        return str(Pubkey.from_string(target.mint(text)))
    except ValueError as err:
        known = (
            ", ".join(sorted({"SOL", *target.tokens}))
            if target.tokens
            else "SOL (pass -c CONFIG for its [tokens])"
        )
        raise UsageError(
            f"{flag} {text!r} is neither a base58 public key nor a token alias (known: {known})"
        ) from err


def filters_for(venue: Venue, first: str, second: str, size: int) -> list[Filter]:
    """getProgramAccounts filters for pools of `venue` of `size` bytes whose mint a is `first` and mint
    b `second`."""
    off_a, off_b = registry.adapter(venue).mint_offsets
    return [rq.data_size_filter(size), rq.memcmp_filter(off_a, first), rq.memcmp_filter(off_b, second)]


async def discover(
    url: str, programs: dict[str, str], mint_a: str, mint_b: str, timeout: float
) -> list[tuple[str, str]]:
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
                            program_id, filters=filters_for(venue, first, second, size), data_slice=(0, 0)
                        )
                    except RpcError as err:
                        raise RuntimeFailure(
                            f"getProgramAccounts on {redact_url(url)} failed: {err}"
                        ) from err
                    found.update((venue.name, k.pubkey) for k in keyed)
    return sorted(found)


def config_lines(pools: list[tuple[str, str]], mint_a: str, mint_b: str) -> list[str]:
    """`[[pools]]` entries for config.toml; pools of a venue that cannot be traded yet are commented out."""
    lines = [f"# {len(pools)} pool(s) between {mint_a} and {mint_b}"]
    for venue, address in pools:
        entry = ["[[pools]]", f'venue = "{venue}"', f'address = "{address}"']
        why_not = registry.adapter(Venue[venue]).executable
        if why_not is not None:
            entry = [f"# not traded yet: {why_not}", *(f"# {line}" for line in entry)]
        lines += ["", *entry]
    return lines


def run(args: argparse.Namespace) -> int:
    if args.config is not None and args.cluster is not None:
        raise UsageError("--cluster and -c both name the cluster; drop --cluster (the config's is used)")
    target = resolve(args.config, args.url, args.cluster) or resolve(None, None, "mainnet-beta")
    assert target is not None
    mint_a = _mint(args.mint_a, "--mint-a", target)
    mint_b = _mint(args.mint_b, "--mint-b", target)
    if mint_a == mint_b:
        raise UsageError("--mint-a and --mint-b are the same mint; give the two tokens of the pair")
    pools = asyncio.run(discover(target.rpc_url, target.programs, mint_a, mint_b, args.timeout))
    print("\n".join(config_lines(pools, mint_a, mint_b)))
    return 0
