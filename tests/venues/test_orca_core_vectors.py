"""Tick crossing against the official library: vectors from @orca-so/whirlpools-core replayed exactly.

tests/data/orca_core_swap_vectors.json is produced by tools/oracles/whirlpool_vectors.mjs (600 random states
with initialized ticks across the three tick arrays of each swap, exact-in and exact-out, both directions).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from solders.pubkey import Pubkey

from strategies.venues import orca_whirlpool as orca
from strategies.venues import whirlpool_math as wm
from strategies.venues.errors import QuoteError

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "data" / "orca_core_swap_vectors.json"
ORACLES = REPO / "tools" / "oracles"

# The library reports errors as text; the program's (and our) error names that correspond.
CORE_ERRORS = {
    "Invalid tick array sequence": {"TickArraySequenceInvalidIndex", "InvalidTickArraySequence"},
    "Amount exceeds max u64": {"TokenMaxExceeded", "MultiplicationShiftRightOverflow", "AmountCalcOverflow"},
    "Arithmetic over- or underflow": {"AmountCalcOverflow", "MultiplicationOverflow", "NumberDownCastError"},
}


def _arrays(state: dict[str, Any], a_to_b: bool) -> list[orca.TickArray]:
    ts = state["tick_spacing"]
    ticks = {k: (int(n), int(g)) for k, n, g in state["ticks"]}
    out = []
    for start in orca.tick_array_start_indexes(state["tick_current_index"], ts, a_to_b):
        row = []
        for k in range(wm.TICK_ARRAY_SIZE):
            t = ticks.get(start + k * ts)
            row.append(orca.Tick(True, t[0], t[1], 0, 0, (0, 0, 0)) if t else orca.ZERO_TICK)
        out.append(orca.TickArray(start, Pubkey.default(), tuple(row)))
    return out


def _replay(state: dict[str, Any], q: dict[str, Any]) -> dict[str, Any]:
    try:
        r = orca.swap_exact(
            sqrt_price=int(state["sqrt_price"]),
            tick_current_index=state["tick_current_index"],
            liquidity=int(state["liquidity"]),
            tick_spacing=state["tick_spacing"],
            fee_rate=state["fee_rate"],
            protocol_fee_rate=state["protocol_fee_rate"],
            fee_growth_global_input=0,
            tick_arrays=_arrays(state, q["a_to_b"]),
            amount=int(q["amount"]),
            sqrt_price_limit=0,
            amount_specified_is_input=q["fn"] == "in",
            a_to_b=q["a_to_b"],
        )
    except QuoteError as err:
        return {"error": err.program_error}
    return {
        "token_in": str(r.amount_in),
        "token_out": str(r.amount_out),
        "fee": str(r.fee_amount),
        "x": r.ticks_crossed,
    }


def test_core_vectors_reproduced_exactly_and_mostly_cross_ticks() -> None:
    states = json.loads(VECTORS.read_text())["states"]
    assert len(states) >= 500
    filled = crossing = multi_array = 0
    failures = []
    in_three_arrays = 0
    for i, state in enumerate(states):
        assert len(state["ticks"]) >= 2, i
        width = wm.TICK_ARRAY_SIZE * state["tick_spacing"]
        occupied = max(
            len(
                {
                    s
                    for s in orca.tick_array_start_indexes(
                        state["tick_current_index"], state["tick_spacing"], d
                    )
                    for k, _, _ in state["ticks"]
                    if s <= k < s + width
                }
            )
            for d in (True, False)
        )
        in_three_arrays += occupied == 3
        for q in state["quotes"]:
            got = _replay(state, q)
            if "error" in q:
                if got.get("error") not in CORE_ERRORS[q["error"]]:
                    failures.append((i, q, got))
                continue
            crossed = got.pop("x", None)
            exp = {k: q[k] for k in ("token_in", "token_out", "fee")}
            if got != exp:
                failures.append((i, q, got))
                continue
            filled += 1
            crossing += bool(crossed)
            multi_array += bool(crossed and crossed >= 2)
    assert failures == []
    assert filled >= 1500
    # Most successful quotes cross at least one initialized tick (the point of these vectors).
    assert crossing / filled > 0.6, (crossing, filled)
    assert multi_array > 300
    # Initialized ticks sit in all three arrays of a swap direction for a good share of the states.
    assert in_three_arrays >= 200


def _node_ready() -> bool:
    return (
        shutil.which("node") is not None
        and (ORACLES / "node_modules" / "@orca-so" / "whirlpools-core").is_dir()
    )


@pytest.mark.node
@pytest.mark.skipif(
    not _node_ready(), reason="node or tools/oracles/node_modules missing (run `make oracles`)"
)
def test_generator_reproduces_committed_vectors(tmp_path: Path) -> None:
    out = tmp_path / "vectors.json"
    subprocess.run(["node", "whirlpool_vectors.mjs", str(out)], cwd=ORACLES, check=True, timeout=120)
    assert out.read_bytes() == VECTORS.read_bytes()
