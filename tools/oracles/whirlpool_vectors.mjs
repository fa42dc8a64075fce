// Swap vectors with tick crossing from the official @orca-so/whirlpools-core (WASM, offline).
//
// Usage: node whirlpool_vectors.mjs [OUT.json]   (default: stdout). Deterministic: a fixed-seed PRNG
// builds random Whirlpool states whose initialized ticks (from random positions packed around the
// current price) spread across the three tick arrays a swap uses, then asks the library for
// swapQuoteByInputToken / swapQuoteByOutputToken in both directions. The Python test replays every
// vector through strategies.venues.orca_whirlpool and must match exactly.
import { writeFileSync } from "node:fs";
import {
  swapQuoteByInputToken,
  swapQuoteByOutputToken,
  tickIndexToSqrtPrice,
  getTickArrayStartTickIndex,
} from "@orca-so/whirlpools-core";

const N_STATES = 600;
const TICK_ARRAY_SIZE = 88;
// mulberry32: tiny deterministic PRNG (the seed is fixed so the output file is reproducible).
let state = 0x5eed1234 >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
function randBig(bitsLo, bitsHi) {
  const bits = randInt(bitsLo, bitsHi);
  const hi = BigInt(Math.floor(rand() * 2 ** 30)) + (1n << 30n);
  return bits > 31 ? hi << BigInt(bits - 31) : hi >> BigInt(31 - bits);
}

// util/sparse_swap.rs get_start_tick_indexes (restated): 3 arrays in the swap direction, shifted by one
// array for b->a when the next tick lies in the next array.
function startIndexes(tickCurrent, ts, aToB) {
  const w = TICK_ARRAY_SIZE * ts;
  const base = Math.floor(tickCurrent / w) * w;
  const offs = aToB ? [0, -1, -2] : tickCurrent + ts >= base + w ? [1, 2, 3] : [0, 1, 2];
  return offs.map((o) => base + o * w);
}

function makeState() {
  const ts = pick([1, 2, 4, 8, 16, 64, 96, 128, 256]);
  const feeRate = pick([0, 100, 300, 400, 500, 1000, 2000, 3000, 6500, 10000, 30000, 60000]);
  const protocolFeeRate = pick([0, 300, 1300, 2500]);
  const w = TICK_ARRAY_SIZE * ts;
  const maxTick = Math.min(300000, 400000 - 4 * w);
  const tickCurrent = randInt(-maxTick, maxTick);
  const base = Math.floor(tickCurrent / w) * w;
  // Positions: lower/upper multiples of ts, mostly near the price, spanning the 5 arrays around it.
  const net = new Map();
  let active = 0n;
  const nPos = randInt(3, 12);
  const lo = base - 2 * w;
  const hi = base + 3 * w - ts;
  const near = Math.max(ts, Math.floor(w / randInt(4, 80)));
  for (let i = 0; i < nPos || net.size < 2; i++) {
    const spread = rand() < 0.7 ? near : 3 * w;
    const a = Math.round((tickCurrent + randInt(-spread, spread)) / ts) * ts;
    const b = Math.round((tickCurrent + randInt(-spread, spread)) / ts) * ts;
    const lower = Math.max(lo, Math.min(a, b));
    const upper = Math.min(hi, Math.max(a, b));
    if (lower >= upper) continue;
    const liq = randBig(20, 50);
    net.set(lower, (net.get(lower) ?? 0n) + liq);
    net.set(upper, (net.get(upper) ?? 0n) - liq);
    if (lower <= tickCurrent && tickCurrent < upper) active += liq;
  }
  // Sometimes a wide position whose ticks lie outside the arrays keeps liquidity from reaching zero.
  if (rand() < 0.95) active += randBig(30, 50);
  // Sqrt price inside [tick, tick+1); sometimes exactly on the tick boundary.
  const sLo = tickIndexToSqrtPrice(tickCurrent);
  const sHi = tickIndexToSqrtPrice(tickCurrent + 1);
  let sqrtPrice = sLo;
  if (rand() > 0.15) {
    const span = sHi - sLo;
    sqrtPrice = sLo + (span * BigInt(Math.floor(rand() * 1e9))) / 1000000000n;
  }
  const gross = new Map();
  for (const [k, v] of net) gross.set(k, v < 0n ? -v : v);
  const ticks = [...net.keys()]
    .sort((x, y) => x - y)
    .map((k) => [k, net.get(k).toString(), gross.get(k).toString()]);
  return { ts, feeRate, protocolFeeRate, tickCurrent, sqrtPrice, liquidity: active, ticks };
}

function facadeArrays(s, aToB) {
  const byIndex = new Map(s.ticks.map(([k, n, g]) => [k, [BigInt(n), BigInt(g)]]));
  return startIndexes(s.tickCurrent, s.ts, aToB).map((start) => ({
    startTickIndex: start,
    ticks: Array.from({ length: TICK_ARRAY_SIZE }, (_, k) => {
      const t = byIndex.get(start + k * s.ts);
      return {
        initialized: t !== undefined,
        liquidityNet: t ? t[0] : 0n,
        liquidityGross: t ? t[1] : 0n,
        feeGrowthOutsideA: 0n,
        feeGrowthOutsideB: 0n,
        rewardGrowthsOutside: [0n, 0n, 0n],
      };
    }),
  }));
}

function whirlpoolFacade(s) {
  return {
    feeTierIndexSeed: new Uint8Array([s.ts & 0xff, s.ts >> 8]),
    tickSpacing: s.ts,
    feeRate: s.feeRate,
    protocolFeeRate: s.protocolFeeRate,
    liquidity: s.liquidity,
    sqrtPrice: s.sqrtPrice,
    tickCurrentIndex: s.tickCurrent,
    feeGrowthGlobalA: 0n,
    feeGrowthGlobalB: 0n,
    rewardLastUpdatedTimestamp: 0n,
    rewardInfos: [0, 1, 2].map(() => ({ emissionsPerSecondX64: 0n, growthGlobalX64: 0n })),
  };
}

function quote(fn, amount, specifiedTokenA, s, aToB) {
  try {
    const r =
      fn === "in"
        ? swapQuoteByInputToken(amount, specifiedTokenA, 0, whirlpoolFacade(s), null, facadeArrays(s, aToB), 0n)
        : swapQuoteByOutputToken(amount, specifiedTokenA, 0, whirlpoolFacade(s), null, facadeArrays(s, aToB), 0n);
    return fn === "in"
      ? { token_in: r.tokenIn.toString(), token_out: r.tokenEstOut.toString(), fee: r.tradeFee.toString() }
      : { token_in: r.tokenEstIn.toString(), token_out: r.tokenOut.toString(), fee: r.tradeFee.toString() };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

const states = [];
for (let i = 0; i < N_STATES; i++) {
  const s = makeState();
  const quotes = [];
  for (const aToB of [true, false]) {
    for (const fn of ["in", "out"]) {
      // Log-uniform sizes relative to the active liquidity: small ones stay in range, large ones cross.
      const scale = s.liquidity > 0n ? s.liquidity : 1n << 30n;
      const exp = rand() * 2.5 - 3.5; // 10^-3.5 .. 10^-1 of L in sqrt-price units
      let amount = (scale * BigInt(Math.floor(10 ** (exp + 9)))) / 1000000000n;
      const sqrtP = Number(s.sqrtPrice) / 2 ** 64;
      // Express the amount in the specified token: B moves with L*sqrtP, A with L/sqrtP.
      const inTokenA = fn === "in" ? aToB : !aToB;
      const f = inTokenA ? 1 / sqrtP : sqrtP;
      amount = BigInt(Math.max(1, Math.floor(Number(amount) * Math.min(Math.max(f, 1e-12), 1e12))));
      if (amount >= 1n << 64n) amount = (1n << 63n) + BigInt(randInt(0, 1000));
      // specified token: input token for "in", output token for "out".
      const specifiedTokenA = fn === "in" ? aToB : !aToB;
      quotes.push({ fn, a_to_b: aToB, amount: amount.toString(), ...quote(fn, amount, specifiedTokenA, s, aToB) });
    }
  }
  states.push({
    tick_spacing: s.ts,
    fee_rate: s.feeRate,
    protocol_fee_rate: s.protocolFeeRate,
    tick_current_index: s.tickCurrent,
    sqrt_price: s.sqrtPrice.toString(),
    liquidity: s.liquidity.toString(),
    ticks: s.ticks,
    quotes,
  });
}

const about =
  "Generated by tools/oracles/whirlpool_vectors.mjs with @orca-so/whirlpools-core 3.1.0 (pinned in package-lock.json). " +
  "ticks: [index, liquidity_net, liquidity_gross]; each state's swap uses the 3 tick arrays of util/sparse_swap.rs; " +
  "fee growths and rewards are zero; slippage 0; error = the library's error text.";
// One state per line keeps diffs readable when the library version changes.
const out = `{"_about": ${JSON.stringify(about)},\n"states": [\n${states.map((s) => JSON.stringify(s)).join(",\n")}\n]}`;
if (process.argv[2]) writeFileSync(process.argv[2], out + "\n");
else process.stdout.write(out + "\n");
