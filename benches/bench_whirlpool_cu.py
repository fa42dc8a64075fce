"""Compute units per swap of localnet's Whirlpool program (whirlpool.so), by initialized ticks crossed.

`python -m benches.bench_whirlpool_cu [--swaps N] [--seed S] [--json]`

For each target crossing count k, N random pools (tick spacing, price, fee rates, direction, exact-in/out,
swap vs swap_v2 drawn from a seeded RNG) in one in-process LiteSVM, each with an initialized tick at
random spacings ahead of the price through the three tick arrays of the swap direction; the amount is
sized with the bot's exact quote to end just past the k-th initialized tick. The crossings are counted
on chain (the ticks whose bytes the swap rewrote: fee growths are non-zero, so a crossed tick flips its
fee_growth_outside), CUs come from the transaction metadata, and the SPL Token program's share from its
"consumed X of Y" log lines (two transfer CPIs per swap).

Reported per crossing count: p50 / p90 / max total CU, the token program's p50 (the floor: what two
transfers cost whatever the AMM does), our own p50 (total - token), the p50 cost per extra crossing
relative to k = 0, and total/floor. Extra rows price the 0-crossing swap when the three tick arrays do not
exist yet (uninitialized PDAs: the program derives each array's address to accept it) and 4 / 16 crossings
in DynamicTickArrays (ticks located through the bitmap).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
from typing import Any

from solders.pubkey import Pubkey

from benches.timing import pct
from localnet.programs import whirlpool_accounts as wa
from localnet.programs.whirlpool_svm import Case, WhirlpoolSvm
from strategies.venues import orca_whirlpool as orca
from strategies.venues import whirlpool_math as wm
from strategies.venues.errors import QuoteError

TOKEN_CONSUMED = re.compile(r"Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA consumed (\d+) of")
CROSSINGS = (0, 1, 2, 3, 4, 8, 16, 32, 64)
U64_MAX = (1 << 64) - 1


def dense_pool(
    svm: WhirlpoolSvm, rng: random.Random, a_to_b: bool, k: int, layout: str = "fixed"
) -> tuple[Case, list[int]]:
    """A pool with initialized ticks ahead of the price (at least k + 1 of them within its three arrays),
    and those ticks in the order the swap meets them."""
    while True:
        ts = rng.choice([1, 8, 64, 128])
        width = wm.TICK_ARRAY_SIZE * ts
        cur = rng.randrange(-50_000 // ts, 50_000 // ts) * ts + rng.randrange(ts)
        starts = orca.tick_array_start_indexes(cur, ts, a_to_b)
        lo, hi = (starts[-1], cur) if a_to_b else (cur + 1, starts[-1] + width - 1)
        usable = [t for t in range(lo - lo % ts, hi + 1, ts) if lo <= t <= hi and t != cur]
        gap = rng.choice([1, 1, 2, 3])
        ahead = sorted(usable, reverse=a_to_b)[::gap][: k + 1 + rng.randrange(0, 4)]
        if len(ahead) > k:
            break
    liq = 10 ** rng.randrange(9, 14)
    # Each tick adds or removes a little liquidity, never all of it.
    ticks = {t: wa.TickFields(net := rng.randrange(-liq // 100, liq // 100) or 1, abs(net), 3 << 64, 5 << 64)
             for t in ahead}  # fmt: skip
    mint_a, mint_b = sorted([Pubkey.new_unique(), Pubkey.new_unique()], key=bytes)
    setup = wa.make_pool(
        mint_a=mint_a, mint_b=mint_b, tick_spacing=ts,
        sqrt_price=rng.randrange(wm.sqrt_price_from_tick_index(cur), wm.sqrt_price_from_tick_index(cur + 1)),
        ticks=ticks, liquidity=liq, fee_rate=rng.choice([100, 500, 3000, 10000]),
        protocol_fee_rate=rng.choice([0, 1300, 2500]), fee_growth_global_a=11 << 64, fee_growth_global_b=13 << 64,
        vault_a_amount=0 if a_to_b else U64_MAX, vault_b_amount=U64_MAX if a_to_b else 0,
        dynamic_arrays=layout == "dynamic",
    )  # fmt: skip
    case = svm.seed(setup, user_a=U64_MAX if a_to_b else 0, user_b=0 if a_to_b else U64_MAX)
    if layout == "not created":
        for key in setup.tick_arrays.values():
            svm.svm.set_account(key, wa.account(b"", Pubkey.default(), lamports=0))
    return case, ahead


def sized_amount(
    svm: WhirlpoolSvm, case: Case, ahead: list[int], a_to_b: bool, is_input: bool, k: int
) -> int | None:
    """An amount that ends between the k-th and (k+1)-th initialized tick ahead (the oracle sizes it)."""
    # End halfway (in sqrt price) between the k-th initialized tick ahead and the next one.
    stop = wm.sqrt_price_from_tick_index(ahead[k])
    prev = wm.sqrt_price_from_tick_index(ahead[k - 1]) if k else case.setup.fields.sqrt_price
    q = svm.quote(case, U64_MAX, a_to_b, is_input, (stop + prev) // 2)
    if isinstance(q, QuoteError):
        return None
    amount = q.amount_in if is_input else q.amount_out
    return amount or None


def crossed_on_chain(svm: WhirlpoolSvm, case: Case, before: dict[Pubkey, bytes | None]) -> int:
    """Ticks whose fields the swap rewrote, in fixed or dynamic arrays (arrays that do not exist count 0)."""
    n = 0
    for key in case.setup.tick_arrays.values():
        old, new = before[key], svm.data(key)
        if old and new:
            old_ticks, new_ticks = orca.decode_tick_array(old).ticks, orca.decode_tick_array(new).ticks
            n += sum(a != b for a, b in zip(old_ticks, new_ticks))
    return n


def one_swap(
    svm: WhirlpoolSvm, rng: random.Random, k: int, v2: bool, layout: str = "fixed"
) -> tuple[int, int, int]:
    """(total CU, token program CU, ticks crossed on chain) of one settling swap."""
    while True:
        a_to_b, is_input = rng.random() < 0.5, rng.random() < 0.5
        case, ahead = dense_pool(svm, rng, a_to_b, k, layout)
        if layout == "not created":
            amount: int | None = rng.randrange(10**3, 10**6)
        else:
            amount = sized_amount(svm, case, ahead, a_to_b, is_input, k)
        if amount is None:
            continue
        before = svm.snapshot(case)
        out = svm.send_swap(case, amount=amount, a_to_b=a_to_b, is_input=is_input, v2=v2)
        if not out.ok:
            raise RuntimeError(f"swap failed: {out.error} {out.logs[-4:]}")
        token = sum(int(m.group(1)) for line in out.logs if (m := TOKEN_CONSUMED.search(line)))
        # The transaction also carries a ComputeBudget instruction (150 CU); report the swap alone.
        return out.compute_units - 150, token, crossed_on_chain(svm, case, before)


def summarize(rows: list[tuple[int, int]], base: float, crossed: int) -> dict[str, float]:
    totals, tokens = [t for t, _ in rows], [k for _, k in rows]
    floor = statistics.median(tokens)
    return {
        "p50": pct(totals, 50), "p90": pct(totals, 90), "max": max(totals), "token_program_p50": floor,
        "whirlpool_own_p50": statistics.median(t - k for t, k in rows),
        "per_crossing_p50": (statistics.median(totals) - base) / crossed if crossed else 0.0,
        "ratio_to_floor": statistics.median(totals) / floor, "n": len(rows),
    }  # fmt: skip


def run(swaps: int, seed: int) -> dict[str, Any]:
    svm = WhirlpoolSvm()
    rng = random.Random(seed)
    report: dict[str, Any] = {}
    for name, v2 in (("swap", False), ("swap_v2", True)):
        by_k: dict[int, list[tuple[int, int]]] = {}
        for k in CROSSINGS:
            for _ in range(swaps):
                total, token, crossed = one_swap(svm, rng, k, v2)
                by_k.setdefault(crossed, []).append((total, token))
        base = statistics.median(t for t, _ in by_k[0])
        for crossed in sorted(by_k):
            report[f"{name}: {crossed} crossed"] = summarize(by_k[crossed], base, crossed)
        rows = [one_swap(svm, rng, 0, v2, "not created")[:2] for _ in range(swaps)]
        report[f"{name}: 0 crossed, arrays not created"] = summarize(rows, base, 0)
        for k in (4, 16):
            dyn = [one_swap(svm, rng, k, v2, "dynamic") for _ in range(swaps)]
            rows = [(t, tok) for t, tok, crossed in dyn if crossed == k]
            report[f"{name}: {k} crossed, dynamic arrays"] = summarize(rows, base, k)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=60, help="swaps per target crossing count")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    report = run(args.swaps, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{'ticks crossed':40} {'n':>4} {'p50':>7} {'p90':>7} {'max':>7} {'token':>7} {'own':>7} "
          f"{'/cross':>7} {'x floor':>8}")  # fmt: skip
    for name, r in report.items():
        print(f"{name:40} {r['n']:>4} {r['p50']:>7.0f} {r['p90']:>7.0f} {r['max']:>7.0f} {r['token_program_p50']:>7.0f} "
              f"{r['whirlpool_own_p50']:>7.0f} {r['per_crossing_p50']:>7.0f} {r['ratio_to_floor']:>8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
