"""`solarb pools --mint-a X --mint-b Y [--rpc URL]`: discover pools of a pair and print config lines.

One getProgramAccounts per venue and mint order, filtered by the account size and memcmp on the two
mint fields (protocols.md: AMM v4 752 B, coin/pc mints at 400/432; CPMM 637 B, token_0/1 mints at
168/200; Whirlpool 653 B, mints a/b at 101/181), with a zero-length dataSlice so only addresses come
back. Plain HTTP through urllib: this is a cold path run by hand.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from solders.pubkey import Pubkey

from bot.config import PRESETS
from bot.errors import RuntimeFailure, UsageError


@dataclass(frozen=True, slots=True)
class VenueFilter:
    """Where a venue's pool account keeps its two mints, and its exact size."""

    venue: str
    data_size: int
    mint_a_offset: int
    mint_b_offset: int


VENUE_FILTERS = (
    VenueFilter("raydium_amm_v4", 752, 400, 432),
    VenueFilter("raydium_cpmm", 637, 168, 200),
    VenueFilter("orca_whirlpool", 653, 101, 181),
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pools",
        help="discover the pools of a token pair and print [[pools]] config lines",
        description=(
            "Ask an RPC node (getProgramAccounts with dataSize + memcmp filters) for every Raydium AMM v4, "
            "Raydium CPMM and Orca Whirlpool pool between two mints, in either order, and print them as "
            "[[pools]] entries for config.toml."
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


def build_request(program_id: str, vf: VenueFilter, first: str, second: str, req_id: int) -> dict[str, Any]:
    """The getProgramAccounts request for pools of `vf` whose mint a is `first` and mint b `second`."""
    return {
        "jsonrpc": "2.0",
        "id": req_id,
        "method": "getProgramAccounts",
        "params": [
            program_id,
            {
                "encoding": "base64",
                "dataSlice": {"offset": 0, "length": 0},
                "filters": [
                    {"dataSize": vf.data_size},
                    {"memcmp": {"offset": vf.mint_a_offset, "bytes": first}},
                    {"memcmp": {"offset": vf.mint_b_offset, "bytes": second}},
                ],
            },
        ],
    }


def _post(url: str, body: dict[str, Any], timeout: float) -> Any:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = json.loads(resp.read())
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise RuntimeFailure(f"getProgramAccounts to {url} failed: {err}") from err
    except ValueError as err:
        raise RuntimeFailure(f"getProgramAccounts to {url}: response is not JSON") from err
    if not isinstance(data, dict):
        raise RuntimeFailure(f"getProgramAccounts to {url}: unexpected response shape")
    if "error" in data:
        error = data["error"] if isinstance(data["error"], dict) else {"message": str(data["error"])}
        raise RuntimeFailure(f"getProgramAccounts failed: {error.get('code')} {error.get('message')}")
    result = data.get("result")
    if isinstance(result, dict):  # withContext form
        result = result.get("value")
    if not isinstance(result, list):
        raise RuntimeFailure(f"getProgramAccounts to {url}: result is not a list")
    return result


def discover(
    url: str, programs: dict[str, str], mint_a: str, mint_b: str, timeout: float
) -> list[tuple[str, str]]:
    """(venue, pool address) of every pool between the two mints, sorted by venue then address."""
    found: set[tuple[str, str]] = set()
    req_id = 0
    for vf in VENUE_FILTERS:
        program_id = programs.get(vf.venue)
        if not program_id:
            continue
        for first, second in ((mint_a, mint_b), (mint_b, mint_a)):
            req_id += 1
            for item in _post(url, build_request(program_id, vf, first, second, req_id), timeout):
                if isinstance(item, dict) and isinstance(item.get("pubkey"), str):
                    found.add((vf.venue, item["pubkey"]))
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
    pools = discover(url, dict(preset["programs"]), mint_a, mint_b, args.timeout)
    print("\n".join(config_lines(pools, mint_a, mint_b)))
    return 0
