"""The ledger's cost on the send path: a journal write before the first send, and the risk gate.

`python -m benches.bench_ledger [--n N] [--rounds R] [--postgres DSN] [--json]`

  floor    - append the same ~1.2 kB row to a file and fdatasync it (the least a durable write costs on
             this disk);
  journal  - `Ledger.write_journal` on SQLite (WAL, synchronous = FULL): durable when it returns;
  normal   - the same with synchronous = NORMAL (what FULL buys: survives power loss, not just a crash);
  trade    - `Ledger.record_trade` (trade row + daily PnL + journal transition in one transaction);
  postgres - `write_journal` against --postgres DSN, when given;
  check    - `RiskGates.check` (memory only; per call, timed in chunks).
Subject and floor run interleaved, round by round. Reported: p50 / p99 µs and the ratio to the floor.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import orjson

from benches.timing import summary, time_chunks
from bot.ledger import JournalEntry, Ledger, Outcome, RiskGates, RiskLimits, Trade

TX = bytes(range(256)) * 4 + bytes(208)  # a full-size transaction: 1,232 bytes


def _entry(i: int) -> JournalEntry:
    return JournalEntry(
        f"sig{i:09d}", "r1", f"o{i}", TX, "GHtXQBsoZHVnNFa9YevAzFr17DJjgHXk3ycTKD5xD3Zi", 1_000 + i, 7, 0
    )


def _timed(fn, start: int, n: int) -> list[float]:
    out = []
    for i in range(start, start + n):
        t0 = time.perf_counter_ns()
        fn(i)
        out.append(float(time.perf_counter_ns() - t0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="writes per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--postgres", metavar="DSN")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    full = Ledger.open(str(tmp / "full.sqlite3"))
    normal = Ledger.open(str(tmp / "normal.sqlite3"), synchronous="normal")
    pg = Ledger.open(args.postgres) if args.postgres else None
    fd = os.open(tmp / "floor.bin", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    row = TX + bytes(200)
    samples: dict[str, list[float]] = {"floor": [], "journal": [], "normal": [], "trade": []}
    if pg is not None:
        samples["postgres"] = []
    k = 0
    for _ in range(args.rounds):
        samples["floor"] += _timed(lambda i: (os.write(fd, row), os.fdatasync(fd)), k, args.n)
        samples["journal"] += _timed(lambda i: full.write_journal(_entry(i)), k, args.n)
        samples["normal"] += _timed(lambda i: normal.write_journal(_entry(i)), k, args.n)
        samples["trade"] += _timed(
            lambda i: full.record_trade(
                Trade(f"sig{i:09d}", "r1", "o", Outcome.LANDED, pre_amount=1, post_amount=9)
            ),
            k,
            args.n,
        )
        if pg is not None:
            samples["postgres"] += _timed(lambda i: pg.write_journal(_entry(i)), k, args.n)
        k += args.n
    gates = RiskGates(full, RiskLimits(10**10, 4, 10**6, 10**9, 500))
    check: list[float] = []
    time_chunks(
        lambda i: gates.check(
            "r1", notional_lamports=10**9, in_flight=1, sol_balance_lamports=10**9, cost_lamports=5_000
        ),
        list(range(20_000)),
        check,
    )
    os.close(fd)
    out = {name: summary(v) for name, v in samples.items()}
    out["check"] = summary(check)
    floor = out["floor"]["p50"]
    if args.json:
        print(orjson.dumps({"ns": out, "floor_p50_ns": floor}, option=orjson.OPT_INDENT_2).decode())
        return
    print(f"{'path':<9} {'p50 µs':>9} {'p99 µs':>9} {'× floor':>8}")
    for name, s in out.items():
        ratio = f"{s['p50'] / floor:>8.2f}" if name != "check" else f"{'-':>8}"
        print(f"{name:<9} {s['p50'] / 1e3:>9.2f} {s['p99'] / 1e3:>9.2f} {ratio}")


if __name__ == "__main__":
    main()
