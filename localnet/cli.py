"""Command line of the local cluster: `python -m localnet ...` and `solarb localnet ...`.

Flags follow solana-test-validator: --bpf-program ID FILE, --account PUBKEY FILE, --clone PUBKEY... --url.
Prints one ready line `localnet ready rpc=<url> ws=<url> slot_ms=<n>` and serves until SIGINT/SIGTERM.
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

from localnet.errors import ListenError, LoadError
from localnet.rpc_http import DEFAULT_BUSY_POLL_US

FUND_LAMPORTS = 200 * 10**9  # what --fund airdrops without a --scenario (the demo funds the same)


def default_verify_workers() -> int:
    """One signature-verification worker when there is a second CPU for it, none on a single CPU.

    Measured on 2 cores (benches/bench_localnet.py, 32 connections): with the worker 0.53-0.61 of direct
    LiteSVM's tx/s, without 0.43-0.56; a lone sequential client is answered inline either way."""
    return 1 if (os.cpu_count() or 1) >= 2 else 0


def build_parser(prog: str = "python -m localnet") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Local Solana cluster on LiteSVM: JSON-RPC on --rpc-port, "
                                "PubSub websocket on rpc port + 1.")
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--rpc-port", type=int, default=8899, help="JSON-RPC port (default 8899; 0 = any free port)")
    p.add_argument("--ws-port", type=int, default=None, help="PubSub port (default rpc port + 1)")
    p.add_argument("--slot-ms", type=float, default=400.0, help="slot time in milliseconds (default 400)")
    p.add_argument("--verify-workers", type=int, default=None, metavar="N",
                   help="verify sendTransaction signatures in N worker processes while several connections "
                        "send transactions (default: 1 on a machine with 2 or more CPUs, else 0)")
    p.add_argument("--busy-poll-us", type=float, default=DEFAULT_BUSY_POLL_US, metavar="US",
                   help="keep polling for US microseconds after each request instead of sleeping (a wake-up "
                        f"costs a VM tens of microseconds; default {DEFAULT_BUSY_POLL_US:g}, 0 = off)")
    p.add_argument("--bpf-program", nargs=2, action="append", default=[], metavar=("ID", "FILE.so"),
                   help="deploy an SBF program at ID (repeatable)")
    p.add_argument("--account", nargs=2, action="append", default=[], metavar=("PUBKEY", "FILE.json"),
                   help="load an account from a `solana account --output json` file (repeatable; "
                        "PUBKEY '-' keeps the file's address)")
    p.add_argument("--clone", nargs="+", action="extend", default=[], metavar="PUBKEY",
                   help="copy these accounts from --url at start-up")
    p.add_argument("--url", default=None, help="RPC URL to --clone from")
    p.add_argument("--scenario", default=None, help="seed a named state (localnet/scenarios), e.g. demo")
    p.add_argument("--fund", action="append", default=[], metavar="PUBKEY",
                   help="airdrop 200 SOL to this wallet (after seeding, with --scenario; repeatable)")
    return p


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
        raise LoadError(f"--url {args.url!r}: expected the http:// or https:// URL of a JSON-RPC node to clone from")
    fund = [_pubkey(k, "--fund") for k in args.fund]
    net = Localnet(host=args.host, rpc_port=args.rpc_port, ws_port=args.ws_port, slot_ms=args.slot_ms,
                   verify_workers=default_verify_workers() if args.verify_workers is None else args.verify_workers,
                   busy_poll_us=args.busy_poll_us)
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
        print(f"localnet ready rpc={net.rpc_url} ws={net.ws_url} slot_ms={args.slot_ms:g}", flush=True)
        await stop.wait()
    finally:
        await net.stop()


def _is_http_url(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def listen_failure(err: ListenError) -> str:
    """The one line for a port that cannot be opened; a taken port says what to do about it."""
    cause = err.__cause__
    if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
        return (f"{err} (is another localnet or validator running? stop it, or pass --rpc-port 0 to listen "
                "on free ports)")
    return str(err)


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
