"""Command line of the local cluster: `python -m localnet ...` and `solarb localnet ...`.

Flags follow solana-test-validator: --bpf-program ID FILE, --account PUBKEY FILE, --clone PUBKEY... --url.
Prints one ready line `localnet ready rpc=<url> ws=<url> slot_ms=<n>` (plus ` bundles=<url>` with
--block-engine and ` cex=<url>` with --cex-port) and serves until SIGINT/SIGTERM. `--simulate` runs the
market simulator (localnet.simulator) next to the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gc
import os
import signal
import sys
from collections.abc import Sequence

from solders.pubkey import Pubkey

from localnet.block_engine import DEFAULT_MIN_TIP_LAMPORTS
from localnet.errors import ListenError, LoadError
from localnet.rpc_http import DEFAULT_BUSY_POLL_US

FUND_LAMPORTS = 200 * 10**9  # what --fund airdrops without a --scenario (the demo funds the same)

# The market simulator's swap rate (localnet.simulator checks the bound; kept here so the parser stays light).
DEFAULT_RATE = 5.0
MAX_RATE = 200.0  # swaps per second: a CPMM swap costs LiteSVM ~1.3 ms of CPU (measured), so a quarter core


def default_verify_workers() -> int:
    """One signature-verification worker when there is a second CPU for it, none on a single CPU.

    Measured on 2 cores (benches/bench_localnet.py, 32 connections): with the worker 0.53-0.61 of direct
    LiteSVM's tx/s, without 0.43-0.56; a lone sequential client is answered inline either way."""
    return 1 if (os.cpu_count() or 1) >= 2 else 0


def build_parser(prog: str = "python -m localnet") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Local Solana cluster on LiteSVM: JSON-RPC on --rpc-port, "
        "PubSub websocket on rpc port + 1.",
    )
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument(
        "--rpc-port", type=int, default=8899, help="JSON-RPC port (default 8899; 0 = any free port)"
    )
    p.add_argument("--ws-port", type=int, default=None, help="PubSub port (default rpc port + 1)")
    p.add_argument("--slot-ms", type=float, default=400.0, help="slot time in milliseconds (default 400)")
    p.add_argument(
        "--verify-workers",
        type=int,
        default=None,
        metavar="N",
        help="verify sendTransaction signatures in N worker processes while several connections "
        "send transactions (default: 1 on a machine with 2 or more CPUs, else 0)",
    )
    p.add_argument(
        "--busy-poll-us",
        type=float,
        default=DEFAULT_BUSY_POLL_US,
        metavar="US",
        help="keep polling for US microseconds after each request instead of sleeping (a wake-up "
        f"costs a VM tens of microseconds; default {DEFAULT_BUSY_POLL_US:g}, 0 = off)",
    )
    p.add_argument(
        "--bpf-program",
        nargs=2,
        action="append",
        default=[],
        metavar=("ID", "FILE.so"),
        help="deploy an SBF program at ID (repeatable)",
    )
    p.add_argument(
        "--account",
        nargs=2,
        action="append",
        default=[],
        metavar=("PUBKEY", "FILE.json"),
        help="load an account from a `solana account --output json` file (repeatable; "
        "PUBKEY '-' keeps the file's address)",
    )
    p.add_argument(
        "--clone",
        nargs="+",
        action="extend",
        default=[],
        metavar="PUBKEY",
        help="copy these accounts from --url at start-up",
    )
    p.add_argument("--url", default=None, help="RPC URL to --clone from")
    p.add_argument("--scenario", default=None, help="seed a named state (localnet/scenarios), e.g. demo")
    p.add_argument(
        "--fund",
        action="append",
        default=[],
        metavar="PUBKEY",
        help="airdrop 200 SOL to this wallet (after seeding, with --scenario; repeatable)",
    )
    p.add_argument(
        "--block-engine",
        action="store_true",
        help="serve a Jito-style block engine (sendBundle, getBundleStatuses, getInflightBundleStatuses, "
        "getTipAccounts) on the RPC port under /api/v1/bundles; bundles execute all-or-nothing",
    )
    p.add_argument(
        "--min-tip-lamports",
        type=int,
        default=DEFAULT_MIN_TIP_LAMPORTS,
        metavar="N",
        help="with --block-engine: a bundle tipping less than N lamports to the tip accounts is "
        f"dropped as Invalid (default {DEFAULT_MIN_TIP_LAMPORTS})",
    )
    add_market_flags(p)
    return p


def add_market_flags(p: argparse.ArgumentParser) -> None:
    """The market simulator's and CEX feed server's flags (shared with `solarb localnet`)."""
    p.add_argument(
        "--simulate",
        action="store_true",
        help="run the market simulator: noise-trader wallets swap through the scenario's pools, "
        "leaning on a random-walk reference price (needs --scenario)",
    )
    p.add_argument(
        "--simulate-rate",
        type=float,
        default=DEFAULT_RATE,
        metavar="PER_S",
        help=f"simulator swaps per second, an upper bound (default {DEFAULT_RATE:g}, at most {MAX_RATE:g})",
    )
    p.add_argument(
        "--simulate-seed",
        type=int,
        default=1,
        metavar="N",
        help="simulator seed: the same seed on the same state gives the same trades (default 1)",
    )
    p.add_argument(
        "--cex-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve the reference price as a Binance-format CEX websocket feed on PORT (0 = any free "
        "port; its URL is the ready line's cex=; needs --scenario)",
    )


def _pubkey(text: str, what: str) -> Pubkey:
    try:
        return Pubkey.from_string(text)
    except ValueError as err:
        raise LoadError(f"{what}: {text!r} is not a base-58 public key") from err


async def serve(args: argparse.Namespace) -> None:
    """Build, load, start, print the ready line and serve until SIGINT/SIGTERM."""
    from localnet.server import Localnet

    if args.clone and not args.url:
        raise LoadError("--clone needs --url <RPC URL> to copy the accounts from")
    if args.clone and not _is_http_url(args.url):
        raise LoadError(
            f"--url {args.url!r}: expected the http:// or https:// URL of a JSON-RPC node to clone from"
        )
    fund = [_pubkey(k, "--fund") for k in args.fund]
    net = Localnet(
        host=args.host,
        rpc_port=args.rpc_port,
        ws_port=args.ws_port,
        slot_ms=args.slot_ms,
        verify_workers=default_verify_workers() if args.verify_workers is None else args.verify_workers,
        busy_poll_us=args.busy_poll_us,
        block_engine=args.block_engine,
        min_tip_lamports=args.min_tip_lamports,
    )
    for pid, path in args.bpf_program:
        net.add_program(_pubkey(pid, "--bpf-program"), path)
    for key, path in args.account:
        net.load_account_file(path, None if key == "-" else _pubkey(key, "--account"))
    if args.clone:
        await net.clone(args.url, [_pubkey(k, "--clone") for k in args.clone])
    if args.scenario:
        from localnet.scenarios import SCENARIOS, seed

        if args.scenario not in SCENARIOS:
            raise LoadError(f"--scenario {args.scenario!r}: unknown (known: {', '.join(SCENARIOS)})")
        seed(args.scenario, net, fund)
    else:
        for wallet in fund:
            net.airdrop(wallet, FUND_LAMPORTS)
    market = None
    if args.simulate or args.cex_port is not None:
        from localnet.simulator import Market, reference_of_scenario

        if not args.scenario:
            raise LoadError(
                "--simulate and --cex-port need --scenario (the pools and reference prices come from it)"
            )
        market = Market(
            net,
            reference_of_scenario(args.scenario),
            simulate=args.simulate,
            rate=args.simulate_rate,
            seed=args.simulate_seed,
            cex_port=args.cex_port,
            host=args.host,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    # Everything loaded so far lives as long as the server: keep it out of the collector's full passes
    # (the per-transaction records it scans anyway are what the server allocates from here on).
    gc.freeze()
    # Each transaction allocates a few dozen container objects, most kept (its record): collecting the
    # young generation every 700 allocations costs ~3% of sendTransaction's CPU; every 50,000 about none.
    gc.set_threshold(50_000, 20, 100)
    await net.start()
    try:
        ready = f"localnet ready rpc={net.rpc_url} ws={net.ws_url} slot_ms={args.slot_ms:g}"
        ready += f" bundles={net.bundle_url}" if net.bundle_url else ""
        if market is not None:
            await market.start()
            ready += f" cex={market.cex_url}" if market.cex_url else ""
        print(ready, flush=True)
        await _serve_until(stop, market.tasks if market is not None else [])
    finally:
        if market is not None:
            await market.stop()
            if market.simulator is not None:
                print(f"localnet simulator {market.simulator.summary()}", flush=True)
        await net.stop()


def _is_http_url(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def listen_failure(err: ListenError) -> str:
    """The one line for a port that cannot be opened; a taken port says what to do about it."""
    cause = err.__cause__
    if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
        return (
            f"{err} (is another localnet or validator running? stop it, or pass --rpc-port 0 to listen "
            "on free ports)"
        )
    return str(err)


async def _serve_until(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """Until SIGINT/SIGTERM, or until a market task fails (its error is raised)."""
    waiter = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    for task in done:
        if task is not waiter:
            task.result()  # a market task only ends by failing


def run(args: argparse.Namespace) -> int:
    """Run the server from parsed args (raises LoadError for bad input, ListenError for busy ports)."""
    import uvloop  # pinned dependency; its loop roughly halves the HTTP transport's per-request cost

    uvloop.run(serve(args))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except ListenError as err:
        print(f"localnet: {listen_failure(err)}", file=sys.stderr)
        return 1
    except LoadError as err:
        print(f"localnet: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
