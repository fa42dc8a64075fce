"""`solarb keygen`: write a new Solana-CLI keypair file with mode 0600."""

from __future__ import annotations

import argparse
from typing import Any

from bot.keys import write_new_keypair


def register(sub: Any) -> None:
    p = sub.add_parser(
        "keygen",
        help="write a new keypair file (mode 0600) and print its public key",
        description="Write a new Solana-CLI keypair (a JSON array of 64 bytes) with mode 0600.",
    )
    p.add_argument("-o", "--outfile", required=True, help="where to write it, e.g. keys/bot.json")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    wallet = write_new_keypair(args.outfile, force=args.force)
    print(wallet.pubkey)
    return 0
