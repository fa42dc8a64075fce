"""Shared helpers of the compute-unit benchmarks (bench_cpmm_cu, bench_amm_v4_cu).

A swap's total CU comes from the transaction metadata; the SPL Token program's share is summed from its
"consumed X of Y" log lines. That share is the floor: what the transfers cost whatever the AMM does.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections.abc import Callable, Iterable
from typing import Any

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata

from benches.timing import pct

TOKEN_CONSUMED = re.compile(r"Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA consumed (\d+) of")


def token_program_cu(logs: Iterable[str]) -> int:
    """CU the SPL Token program consumed, summed over its invocations in ``logs``."""
    return sum(int(m.group(1)) for line in logs if (m := TOKEN_CONSUMED.search(line)))


def send_measured(svm: LiteSVM, ix: Instruction, payer: Keypair) -> tuple[int, int]:
    """Send ``ix`` paid and signed by ``payer``; (total CU, token program CU). A failed swap raises."""
    tx = Transaction([payer], Message([ix], payer.pubkey()), svm.latest_blockhash())
    res = svm.send_transaction(tx)
    if isinstance(res, FailedTransactionMetadata):
        raise RuntimeError(f"swap failed: {res.err()} {list(res.meta().logs())}")
    return int(res.compute_units_consumed()), token_program_cu(res.logs())


def cu_row(totals: list[int], tokens: list[int]) -> dict[str, float]:
    """p50 / p90 / max total CU, the token program's p50 (floor), our own p50 (total - token), total/floor."""
    floor = statistics.median(tokens)
    return {
        "p50": pct(totals, 50), "p90": pct(totals, 90), "max": max(totals), "token_program_p50": floor,
        "own_p50": statistics.median(t - k for t, k in zip(totals, tokens)),
        "ratio_to_floor": statistics.median(totals) / floor, "n": len(totals),
    }  # fmt: skip


def main(doc: str, run: Callable[[int, int], dict[str, Any]], first_column: str, swaps_help: str) -> None:
    """Command line of a CU bench: ``--swaps N --seed S [--json]``, then a table (or JSON) of ``run``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=200, help=swaps_help)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    report = run(args.swaps, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    width = max(len(first_column), *(len(name) for name in report))
    print(f"{first_column:{width}} {'p50':>7} {'p90':>7} {'max':>7} {'token':>7} {'own':>7} {'x floor':>8}")
    for name, r in report.items():
        print(f"{name:{width}} {r['p50']:>7.0f} {r['p90']:>7.0f} {r['max']:>7.0f} {r['token_program_p50']:>7.0f} "
              f"{r['own_p50']:>7.0f} {r['ratio_to_floor']:>8.2f}")  # fmt: skip
