"""`solarb localnet`: run the local Solana cluster (LiteSVM-backed JSON-RPC + PubSub).

The flags mirror `python -m localnet` (localnet.cli.build_parser; a test keeps the two in step). `localnet`
is imported only inside `run()`, so the bot never depends on it.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.errors import RuntimeFailure, UsageError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "localnet",
        help="run a local Solana cluster (JSON-RPC :8899, PubSub :8900) on LiteSVM",
        description="Run the local cluster like solana-test-validator: JSON-RPC on --rpc-port, PubSub on rpc "
        "port + 1. Prints one ready line with both URLs; stops cleanly on SIGINT/SIGTERM. With --simulate, "
        "noise traders keep moving the scenario's pools (and --cex-port serves the CEX price they follow).",
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
        default=300.0,
        metavar="US",
        help="keep polling for US microseconds after each request instead of sleeping (a wake-up "
        "costs a VM tens of microseconds; default 300, 0 = off)",
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
        help="serve a Jito-style block engine on the RPC port under /api/v1/bundles",
    )
    p.add_argument(
        "--min-tip-lamports",
        type=int,
        default=1000,
        metavar="N",
        help="with --block-engine: bundles tipping less are dropped as Invalid",
    )
    p.add_argument(
        "--simulate",
        action="store_true",
        help="run the market simulator: noise-trader wallets swap through the scenario's pools, "
        "leaning on a random-walk reference price (needs --scenario)",
    )
    p.add_argument(
        "--simulate-rate",
        type=float,
        default=5.0,
        metavar="PER_S",
        help="simulator swaps per second, an upper bound (default 5, at most 200)",
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from localnet import cli
    from localnet.errors import ListenError, LoadError

    # localnet's own parser is the reference: its defaults fill any flag this one lacks.
    known = vars(cli.build_parser().parse_args([]))
    ns = argparse.Namespace(**{**known, **{k: v for k, v in vars(args).items() if k in known}})
    try:
        return cli.run(ns)
    except ListenError as err:
        raise RuntimeFailure(f"localnet: {cli.listen_failure(err)}") from err
    except LoadError as err:
        raise UsageError(f"localnet: {err}") from err
