"""Struct-of-arrays layout of the market cache and of the detector's control array.

`strategies` defines the layout; `bot` allocates the arrays once at start-up
(`allocate(n_pools, n_tokens)`) and writes them through the pure writer functions below from its single
writer on the event loop. The detector kernel reads the same arrays (lock-free by construction: one thread).

Everything the detector kernel reads lives in ONE float64 vector, `state` (numba's per-array call
overhead dominates at this size, shared/notes/hot-path-floors.md), made of two regions that are exposed
as views for the writers:

* `market` = state[:pools_offset]: detector parameters (`M_*`), the detector's output slots (`O_*`),
  then one row of `TOKEN_WIDTH` per token (`T_*`: balance, caps, CEX price).
* `pools_f` = state[pools_offset:ticks_offset] viewed (n_pools, POOL_F_WIDTH): float screening state
  per pool (reserves and their reciprocals, fee keep factor, the `F_GATE` column; CLMM price,
  liquidity, tick, edges and where its ticks are). Never used for amounts that go on chain.
* `ticks` = state[ticks_offset:] viewed (tick_rows, 3): packed initialized ticks of the CLMM pools
  (`whirlpool_kernels.pack_ticks` rows), one reserved block per CLMM pool.

Two more per-pool arrays hold what the kernel does not read:

* `pools_i` int64 (n, POOL_I_WIDTH): kind, status flags, last slot, monotonic receive time (ns),
  version counter (+1 on every write of the row), token indices.
* `pools_u` uint64 (n, POOL_U_WIDTH): the exact integers the confirm stage quotes with (raw reserves,
  fee fractions). uint64 because vault amounts are u64 on chain.

A pool is usable only when `FLAG_TRADABLE` is set and `FLAG_SETTLING` is clear; the writers mirror
that into `pools_f[:, F_GATE]` (= the kind when usable, 0.0 otherwise), which is all the kernel checks.
Bot's consistency gate sets/clears `FLAG_SETTLING`; unmodelled pools never get `FLAG_TRADABLE`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

F64Array = npt.NDArray[np.float64]
I64Array = npt.NDArray[np.int64]
I32Array = npt.NDArray[np.int32]
U64Array = npt.NDArray[np.uint64]

# ---- pool kinds (pools_i[:, I_KIND]); 0 = row not configured -------------------------------------
KIND_NONE = 0
KIND_RAYDIUM_CPMM = 1
KIND_RAYDIUM_AMM_V4 = 2
KIND_ORCA_WHIRLPOOL = 3
KIND_PUMPSWAP = 4  # x*y=k on the vaults, fees on the quote side: screened as constant product
KIND_METEORA_DLMM = 5  # quoted only: never priced by the detector
N_KINDS = 6
# Kinds the detector screens with constant-product math (reserves + fee keep factor).
CP_KINDS = (KIND_RAYDIUM_CPMM, KIND_RAYDIUM_AMM_V4, KIND_PUMPSWAP)

# The venue of each kind is `strategies.venues.base.Venue` (its value is the kind).
KINDS = (KIND_RAYDIUM_CPMM, KIND_RAYDIUM_AMM_V4, KIND_ORCA_WHIRLPOOL, KIND_PUMPSWAP, KIND_METEORA_DLMM)

# ---- status flags (pools_i[:, I_FLAGS]) ------------------------------------------------------------
FLAG_TRADABLE = 1  # modelled pool whose swaps are enabled and open
FLAG_SETTLING = 2  # pool and vaults disagree on slot: skip until they agree
USABLE_MASK = FLAG_TRADABLE | FLAG_SETTLING  # (flags & USABLE_MASK) == FLAG_TRADABLE -> usable

# ---- pools_f columns ------------------------------------------------------------------------------
F_RES_A = 0  # reserve of token a (float copy of U_RES_A)
F_RES_B = 1
F_INV_RES_A = 2  # 1 / reserve_a (0.0 if empty): the kernel multiplies instead of dividing
F_INV_RES_B = 3
F_FEE_KEEP = 4  # 1 - fee fraction (CP kinds; PumpSwap: 1 - total fee bps / 1e4, on either side)
F_GATE = 5  # float(kind) when usable (tradable, not settling), else 0.0
F_SQRT_PRICE = 6  # CLMM: sqrt price as a real number (sqrt_price_x64 / 2^64)
F_LIQUIDITY = 7  # CLMM: active liquidity as float
# CLMM only, second cache line (constant-product legs never read it):
F_TICK_CURRENT = 8
F_FEE_RATE = 9  # per 1e6, as whirlpool_kernels expects
F_END_SQRT_AB = 10  # where the exact a->b swap runs out of its tick arrays (whirlpool_kernels.swap_edges)
F_END_SQRT_BA = 11
F_TICKS_ROW = 12  # first row of this pool's block in the ticks region
F_TICKS_N = 13  # rows in use (packed initialized ticks: tick, sqrt_price, liquidity_net)
F_TICKS_CAP = 14  # rows reserved
POOL_F_WIDTH = 16  # constant-product legs touch only the first 64-byte line

# ---- pools_i columns ------------------------------------------------------------------------------
I_KIND = 0
I_FLAGS = 1
I_SLOT = 2
I_RECV_NS = 3  # time.monotonic_ns() of the update that produced this state
I_VERSION = 4  # +1 on every write of the row
I_TOKEN_A = 5  # token index (row in the market token table)
I_TOKEN_B = 6
I_TICK = 7  # CLMM: current tick index
POOL_I_WIDTH = 8

# ---- pools_u columns ------------------------------------------------------------------------------
U_RES_A = 0
U_RES_B = 1
U_FEE_NUM = 2  # CP fee fraction: CPMM trade_fee_rate / 1e6, AMM v4 swap_fee_numerator / denominator
U_FEE_DEN = 3
U_PROTOCOL_FEE_RATE = 4  # CPMM only (fee accounting, does not change the output)
U_FUND_FEE_RATE = 5
# PumpSwap rows: U_FEE_NUM / U_FEE_DEN = total bps / 10,000 and the three rates of the schedule chosen
# at write time (the FeeConfig tier of the pre-swap market cap), each rounded on its own by the program.
U_PUMP_LP_BPS = 4
U_PUMP_PROTOCOL_BPS = 5
U_PUMP_CREATOR_BPS = 6
U_VIRTUAL_B = 7  # signed (two's complement) virtual reserve added to reserve b for pricing (PumpSwap)
POOL_U_WIDTH = 8

CPMM_FEE_DEN = 1_000_000

# ---- market vector: parameters ----------------------------------------------------------------------
M_SOL_USD = 0  # current SOL price in USD (converts lamport costs into other tokens)
M_CU_PRICE_MICRO = 1  # priority fee, micro-lamports per CU
M_TIP_LAMPORTS = 2
M_SIGNATURE_LAMPORTS = 3  # 5,000 x signatures per transaction
M_CU_BASE = 4  # CU of the transaction's fixed part (compute budget ixs, token account checks)
# slots 5..8: unused (the per-kind CU block moved to M_CU_LEG when the kinds outgrew it)
M_CU_PER_TICK = 9  # CLMM: extra CU per initialized tick crossed
M_CU_MAX = 10  # transaction CU ceiling (1,400,000)
M_MIN_PROFIT_LAMPORTS = 11  # absolute threshold, valued in lamports and converted per start token
M_MIN_PROFIT_BPS = 12  # threshold relative to amount_in
M_DEPTH_FRAC = 13  # each leg's input <= this fraction of that leg's input reserve
M_FORCE_SEARCH = 14  # 1.0: use the bounded search even for all-CP routes (tests)
M_SEARCH_ITERS = 15  # golden-section iterations of the bounded search
M_POOLS_OFFSET = 16  # where pools_f starts in `state` (set by allocate)
M_TICKS_OFFSET = 17  # where the CLMM ticks region (rows of 3 floats) starts in `state`
M_TICKS_ROWS = 18  # rows in the ticks region
M_TICKS_USED = 19  # rows already reserved by register_pool
M_CU_LEG = 24  # M_CU_LEG + kind: CU per leg of that kind (slots 24..31)
TICK_WIDTH = 3
N_PARAMS = 32
assert M_CU_LEG + N_KINDS <= N_PARAMS

# ---- market vector: detector outputs -------------------------------------------------------------
O_ROUTE = N_PARAMS + 0  # best route id, -1.0 if none
O_AMOUNT_IN = N_PARAMS + 1  # float amount_in in start-token raw units
O_GROSS_OUT = N_PARAMS + 2  # estimated final out, in start-token units (CEX routes: marked to market)
O_NET_PROFIT = N_PARAMS + 3  # estimated net profit in start-token raw units
O_NET_LAMPORTS = N_PARAMS + 4  # same, valued in lamports (used to rank routes of different tokens)
O_CU_LIMIT = N_PARAMS + 5
O_COST_TOKEN = N_PARAMS + 6  # all transaction costs in start-token raw units
O_EVALUATED = N_PARAMS + 7  # routes evaluated by the last call
N_OUTPUTS = 8
TOKENS_OFFSET = N_PARAMS + N_OUTPUTS

# ---- market vector: per-token rows (offset TOKENS_OFFSET + t * TOKEN_WIDTH) ----------------------
T_BALANCE = 0  # wallet balance, raw units (float copy; caps amount_in)
T_MAX_NOTIONAL = 1  # max amount_in per trade, raw units (0 = token not tradable as start)
T_USD_PER_UNIT = 2  # CEX price of one raw unit in USD (0 = unknown)
T_IS_SOL = 3  # 1.0 for wSOL: one raw unit is one lamport regardless of prices
T_INV_MAX = 4  # CEX-DEX: max holding of this token after a buy, raw units (0 = no limit)
TOKEN_WIDTH = 8


class Cache(NamedTuple):
    """The cache arrays (see module docstring); `market` and `pools_f` are views into `state`.

    `f_view`, `i_view`, `u_view` are memoryviews of `pools_f`, `pools_i`, `pools_u` (same memory,
    indexed `[row, column]`): the per-update writers use them because an item access through a
    memoryview costs about half of numpy's scalar indexing and runs far less code."""

    state: F64Array
    market: F64Array
    pools_f: F64Array
    pools_i: I64Array
    pools_u: U64Array
    ticks: F64Array
    f_view: memoryview[float] | None = None
    i_view: memoryview | None = None
    u_view: memoryview | None = None


DEFAULT_PARAMS: dict[int, float] = {
    M_SOL_USD: 0.0,
    M_CU_PRICE_MICRO: 0.0,
    M_TIP_LAMPORTS: 0.0,
    M_SIGNATURE_LAMPORTS: 5_000.0,
    M_CU_BASE: 20_000.0,
    M_CU_LEG + KIND_RAYDIUM_CPMM: 60_000.0,
    M_CU_LEG + KIND_RAYDIUM_AMM_V4: 45_000.0,
    M_CU_LEG + KIND_ORCA_WHIRLPOOL: 50_000.0,  # orca_whirlpool.CU_SWAP_LEG
    M_CU_LEG + KIND_PUMPSWAP: 90_000.0,
    M_CU_LEG + KIND_METEORA_DLMM: 120_000.0,
    M_CU_PER_TICK: 4_000.0,  # orca_whirlpool.CU_PER_TICK_CROSSED
    M_CU_MAX: 1_400_000.0,
    M_MIN_PROFIT_LAMPORTS: 0.0,
    M_MIN_PROFIT_BPS: 0.0,
    M_DEPTH_FRAC: 0.2,
    M_FORCE_SEARCH: 0.0,
    M_SEARCH_ITERS: 48.0,
}


def allocate(n_pools: int, n_tokens: int, *, tick_rows: int = 0) -> Cache:
    """Allocate the cache: `n_pools` unconfigured pool rows, `n_tokens` token rows, default parameters,
    and `tick_rows` rows of CLMM ticks shared by the CLMM pools (`register_pool(..., tick_capacity=)`)."""
    if n_pools < 0 or n_tokens < 0 or tick_rows < 0:
        raise ValueError(f"n_pools, n_tokens, tick_rows must be >= 0, got {n_pools}, {n_tokens}, {tick_rows}")
    pools_off = TOKENS_OFFSET + n_tokens * TOKEN_WIDTH
    ticks_off = pools_off + n_pools * POOL_F_WIDTH
    state = np.zeros(ticks_off + tick_rows * TICK_WIDTH, dtype=np.float64)
    market = state[:pools_off]
    for slot, value in DEFAULT_PARAMS.items():
        market[slot] = value
    market[O_ROUTE] = -1.0
    market[M_POOLS_OFFSET] = float(pools_off)
    market[M_TICKS_OFFSET] = float(ticks_off)
    market[M_TICKS_ROWS] = float(tick_rows)
    pools_f = state[pools_off:ticks_off].reshape(n_pools, POOL_F_WIDTH)
    pools_i = np.zeros((n_pools, POOL_I_WIDTH), dtype=np.int64)
    pools_u = np.zeros((n_pools, POOL_U_WIDTH), dtype=np.uint64)
    return Cache(state, market, pools_f, pools_i, pools_u, state[ticks_off:].reshape(tick_rows, TICK_WIDTH),
                 pools_f.data, pools_i.data, pools_u.data)  # type: ignore[arg-type]  # fmt: skip


def n_tokens_of(market: F64Array) -> int:
    """Number of token rows in a market vector."""
    return int(market[M_POOLS_OFFSET] - TOKENS_OFFSET) // TOKEN_WIDTH


def token_slot(token: int, column: int) -> int:
    """Index in the market vector of `column` (a T_* constant) of token `token`."""
    return TOKENS_OFFSET + token * TOKEN_WIDTH + column


# ---- writers (pure: arrays in, arrays mutated; no I/O) --------------------------------------------


def register_pool(
    arrays: Cache, idx: int, kind: int, token_a: int, token_b: int, *, tick_capacity: int = 0
) -> None:
    """Configure row `idx` as a pool of `kind` between token indices `token_a` and `token_b`.

    The row starts not tradable; the first state write plus `set_flags` make it usable. A CLMM pool
    reserves `tick_capacity` rows of the ticks region (once; re-registering keeps its block).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown pool kind {kind}")
    if token_a == token_b:
        raise ValueError(f"pool {idx}: token_a and token_b are the same token {token_a}")
    pf = arrays.pools_f
    if kind == KIND_ORCA_WHIRLPOOL and pf[idx, F_TICKS_CAP] < tick_capacity:
        market = arrays.market
        used = int(market[M_TICKS_USED])
        if used + tick_capacity > int(market[M_TICKS_ROWS]):
            raise ValueError(
                f"pool {idx}: ticks region full ({used} of {int(market[M_TICKS_ROWS])} rows used, "
                f"{tick_capacity} more asked): allocate(..., tick_rows=) larger"
            )
        pf[idx, F_TICKS_ROW] = float(used)
        pf[idx, F_TICKS_CAP] = float(tick_capacity)
        pf[idx, F_TICKS_N] = 0.0
        market[M_TICKS_USED] = float(used + tick_capacity)
    pi = arrays.pools_i
    pi[idx, I_KIND] = kind
    pi[idx, I_FLAGS] = 0
    pi[idx, I_TOKEN_A] = token_a
    pi[idx, I_TOKEN_B] = token_b
    pi[idx, I_VERSION] += 1
    arrays.pools_f[idx, F_GATE] = 0.0


def write_cp_pool(
    arrays: Cache,
    idx: int,
    reserve_a: int,
    reserve_b: int,
    fee_num: int,
    fee_den: int,
    slot: int,
    recv_ns: int,
    protocol_fee_rate: int = 0,
    fund_fee_rate: int = 0,
    *,
    virtual_b: int = 0,
) -> bool:
    """Write a constant-product pool's swap state (reserves already net of owed fees / pnl).

    `fee_num / fee_den` is the input fee: CPMM `trade_fee_rate / 1_000_000`, AMM v4
    `swap_fee_numerator / swap_fee_denominator`. `protocol_fee_rate`, `fund_fee_rate`: CPMM fee split
    (per 1e6 of the trade fee), kept for the exact quote. `virtual_b`: a signed virtual reserve the
    venue prices token b on (PumpSwap's virtual quote reserves): kept in U_VIRTUAL_B, added to the
    float reserve b. Returns False (and writes nothing) when `slot` is older than the row's last slot:
    latest slot wins.
    """
    pi, pu, pf = _views(arrays)
    if slot < pi[idx, I_SLOT]:
        return False
    if fee_den <= 0 or not 0 <= fee_num < fee_den:
        raise ValueError(f"pool {idx}: bad fee {fee_num}/{fee_den}")
    if not -(1 << 63) <= virtual_b < 1 << 63:
        raise ValueError(f"pool {idx}: virtual reserve {virtual_b} does not fit i64")
    pu[idx, U_RES_A] = reserve_a
    pu[idx, U_RES_B] = reserve_b
    pu[idx, U_FEE_NUM] = fee_num
    pu[idx, U_FEE_DEN] = fee_den
    pu[idx, U_PROTOCOL_FEE_RATE] = protocol_fee_rate
    pu[idx, U_FUND_FEE_RATE] = fund_fee_rate
    pu[idx, U_VIRTUAL_B] = virtual_b & 0xFFFF_FFFF_FFFF_FFFF
    fa = float(reserve_a)
    fb = float(reserve_b + virtual_b)
    pf[idx, F_RES_A] = fa
    pf[idx, F_RES_B] = fb
    pf[idx, F_INV_RES_A] = 1.0 / fa if fa > 0.0 else 0.0
    pf[idx, F_INV_RES_B] = 1.0 / fb if fb > 0.0 else 0.0
    pf[idx, F_FEE_KEEP] = 1.0 - fee_num / fee_den
    pi[idx, I_SLOT] = slot
    pi[idx, I_RECV_NS] = recv_ns
    pi[idx, I_VERSION] += 1
    return True


def _views(arrays: Cache) -> tuple[memoryview, memoryview, memoryview[float]]:
    """(pools_i, pools_u, pools_f) as memoryviews: the cache's own, or made now (a Cache built by hand)."""
    if arrays.i_view is not None and arrays.u_view is not None and arrays.f_view is not None:
        return arrays.i_view, arrays.u_view, arrays.f_view
    return arrays.pools_i.data, arrays.pools_u.data, arrays.pools_f.data  # type: ignore[return-value]


def write_clmm_pool(
    arrays: Cache,
    idx: int,
    sqrt_price: float,
    liquidity: float,
    tick_current: int,
    fee_rate: int,
    ticks: F64Array,
    end_sqrt_a_to_b: float,
    end_sqrt_b_to_a: float,
    slot: int,
    recv_ns: int,
) -> bool:
    """Write a CLMM (Whirlpool) pool's screening state: the fields of
    `whirlpool_kernels.ScreeningInputs` (sqrt price as a real number, packed initialized ticks of the
    tick arrays the swap will be given, their edges). The exact state for the confirm stays with the
    caller (see `confirm.ClmmQuote`). Returns False (and writes nothing) for an older slot.
    """
    pi = arrays.pools_i
    if slot < pi[idx, I_SLOT]:
        return False
    pf = arrays.pools_f
    n = int(ticks.shape[0])
    if n > pf[idx, F_TICKS_CAP]:
        raise ValueError(f"pool {idx}: {n} ticks exceed the {int(pf[idx, F_TICKS_CAP])} rows reserved")
    row = int(pf[idx, F_TICKS_ROW])
    if n:
        arrays.ticks[row : row + n] = ticks
    pf[idx, F_TICKS_N] = float(n)
    pf[idx, F_SQRT_PRICE] = sqrt_price
    pf[idx, F_LIQUIDITY] = liquidity
    pf[idx, F_TICK_CURRENT] = float(tick_current)
    pf[idx, F_FEE_RATE] = float(fee_rate)
    pf[idx, F_FEE_KEEP] = 1.0 - fee_rate / 1_000_000
    pf[idx, F_END_SQRT_AB] = end_sqrt_a_to_b
    pf[idx, F_END_SQRT_BA] = end_sqrt_b_to_a
    pi[idx, I_TICK] = tick_current
    pi[idx, I_SLOT] = slot
    pi[idx, I_RECV_NS] = recv_ns
    pi[idx, I_VERSION] += 1
    return True


def set_flags(arrays: Cache, idx: int, *, tradable: bool, settling: bool) -> None:
    """Set the row's status flags (bot's refusal logic and consistency gate); bumps the version when
    they change (the gate column always agrees with the flags: both are written only here and by
    `register_pool`, which clears both)."""
    pi, _, pf = _views(arrays)
    flags = (FLAG_TRADABLE if tradable else 0) | (FLAG_SETTLING if settling else 0)
    if pi[idx, I_FLAGS] == flags:
        return  # unchanged (every write of a settled pool repeats its flags): nothing to write or bump
    pi[idx, I_FLAGS] = flags
    pi[idx, I_VERSION] += 1
    usable = tradable and not settling
    pf[idx, F_GATE] = float(pi[idx, I_KIND]) if usable else 0.0


def is_usable(arrays: Cache, idx: int) -> bool:
    """True when the detector may price this pool (tradable and not settling)."""
    return int(arrays.pools_i[idx, I_FLAGS]) & USABLE_MASK == FLAG_TRADABLE


def write_token(
    market: F64Array,
    token: int,
    *,
    balance: int | None = None,
    max_notional: int | None = None,
    usd_per_unit: float | None = None,
    is_sol: bool | None = None,
    inventory_max: int | None = None,
) -> None:
    """Update one token row of the market vector; arguments left as None are unchanged.

    `usd_per_unit` is the CEX price of one *raw* unit (price / 10**decimals).
    """
    base = TOKENS_OFFSET + token * TOKEN_WIDTH
    if balance is not None:
        market[base + T_BALANCE] = float(balance)
    if max_notional is not None:
        market[base + T_MAX_NOTIONAL] = float(max_notional)
    if usd_per_unit is not None:
        market[base + T_USD_PER_UNIT] = usd_per_unit
    if is_sol is not None:
        market[base + T_IS_SOL] = 1.0 if is_sol else 0.0
    if inventory_max is not None:
        market[base + T_INV_MAX] = float(inventory_max)


def lamports_per_unit(market: F64Array, token: int) -> float:
    """Value of one raw unit of `token` in lamports at the current prices; 0.0 if unknown."""
    base = TOKENS_OFFSET + token * TOKEN_WIDTH
    if market[base + T_IS_SOL] != 0.0:
        return 1.0
    sol_usd = market[M_SOL_USD]
    usd = market[base + T_USD_PER_UNIT]
    if not (sol_usd > 0.0 and usd > 0.0):  # also NaN
        return 0.0
    return float(usd * 1e9 / sol_usd)
