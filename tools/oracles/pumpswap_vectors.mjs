// Golden vectors for solarb's PumpSwap module (strategies/venues/pumpswap.py), produced offline by the
// official @pump-fun/pump-swap-sdk (pinned in package-lock.json):
//   * quotes: buyBaseInput (`buy`), buyQuoteInput (`buy_exact_quote_in`), sellBaseInput (`sell`) with the
//     fee rates computeFeesBps picks (every tier of the live mainnet FeeConfig the SDK ships as a test
//     fixture, SOL and USDC schedules, flat / exotic schedules, the GlobalConfig fallback), edge amounts;
//   * accounts: the buy / sell instructions PumpAmmSdk.buyInstructionsNoPool / sellInstructionsNoPool
//     build (and buy_exact_quote_in data from the IDL coder, which shares buy's accounts);
//   * layouts: Pool / GlobalConfig / FeeConfig bytes of every layout version and the SDK's decode.
// Deterministic (seeded xorshift PRNG; Math.random, which the SDK uses to pick fee recipients, is
// replaced by it): re-running must reproduce tests/data/pumpswap_sdk_vectors.json byte for byte.
// Usage: node pumpswap_vectors.mjs [output.json]   (stdout when no path is given)
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import BN from "bn.js";
import * as sdk from "@pump-fun/pump-swap-sdk";

const require = createRequire(import.meta.url);
// The SDK's own copy of web3.js / spl-token (it pins versions newer than ours).
const sdkDir = require.resolve("@pump-fun/pump-swap-sdk").replace(/dist\/index\.js$/, "");
const web3 = require(require.resolve("@solana/web3.js", { paths: [sdkDir] }));
const spl = require(require.resolve("@solana/spl-token", { paths: [sdkDir] }));
const { PublicKey } = web3;

const SEED = 0x9a55_2026n;
const M64 = (1n << 64n) - 1n;
const U64_MAX = M64;
let state = SEED;
function next64() {
  // xorshift64*
  state ^= state >> 12n;
  state ^= (state << 25n) & M64;
  state ^= state >> 27n;
  return (state * 0x2545f4914f6cdd1dn) & M64;
}
Math.random = () => Number(next64() >> 11n) / 2 ** 53;
const below = (n) => next64() % n;
const between = (lo, hi) => lo + below(hi - lo + 1n);
const pick = (list) => list[Number(below(BigInt(list.length)))];
function logUniform(lo, hi) {
  const bLo = BigInt(lo.toString(2).length);
  const bHi = BigInt(hi.toString(2).length);
  const b = between(bLo, bHi);
  const top = (1n << b) - 1n;
  const bottom = 1n << (b - 1n);
  return between(bottom > lo ? bottom : lo, top < hi ? top : hi);
}
const s = (x) => x.toString();
const bn = (x) => new BN(s(x));
function randomBytes(len) {
  const buf = Buffer.alloc(len);
  for (let i = 0; i < len; i += 8) {
    const v = next64();
    for (let j = 0; j < 8 && i + j < len; j++) buf[i + j] = Number((v >> BigInt(8 * j)) & 0xffn);
  }
  return buf;
}
const randomKey = () => new PublicKey(randomBytes(32));

const WSOL = spl.NATIVE_MINT;
const NATIVE_2022 = spl.NATIVE_MINT_2022;
const TOKEN = spl.TOKEN_PROGRAM_ID;
const TOKEN_2022 = spl.TOKEN_2022_PROGRAM_ID;
const idl = sdk.pumpAmmJson;
const disc = (name) => Buffer.from(idl.accounts.find((a) => a.name === name).discriminator);

// ---- byte builders (little endian, Borsh without padding) ----
const u64 = (v) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const u128 = (v) => {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt(v) & M64);
  b.writeBigUInt64LE(BigInt(v) >> 64n, 8);
  return b;
};
const i128 = (v) => u128(BigInt(v) < 0n ? (1n << 128n) + BigInt(v) : BigInt(v));
const fees = ([lp, protocol, creator]) => Buffer.concat([u64(lp), u64(protocol), u64(creator)]);
function tierVec(tiers) {
  const len = Buffer.alloc(4);
  len.writeUInt32LE(tiers.length);
  return Buffer.concat([len, ...tiers.map(([t, f]) => Buffer.concat([u128(t), fees(f)]))]);
}
function feeConfigBytes(size, { flat, tiers, stable = [], exotic = [0n, 0n, 0n], tail = "zero" }) {
  const parts = [disc("FeeConfig"), Buffer.from([254]), randomKey().toBuffer(), fees(flat), tierVec(tiers)];
  if (size >= sdk.FEE_CONFIG_SIZE_POST_STABLE) parts.push(tierVec(stable));
  if (size >= sdk.FEE_CONFIG_SIZE_POST_EXOTIC) parts.push(fees(exotic));
  const head = Buffer.concat(parts);
  const rest = tail === "zero" ? Buffer.alloc(size - head.length) : randomBytes(size - head.length);
  return Buffer.concat([head, rest]);
}

function poolBytes(p, size) {
  const full = Buffer.concat([
    disc("Pool"), Buffer.from([p.bump]), (() => { const b = Buffer.alloc(2); b.writeUInt16LE(p.index); return b; })(),
    p.creator.toBuffer(), p.baseMint.toBuffer(), p.quoteMint.toBuffer(), p.lpMint.toBuffer(),
    p.baseVault.toBuffer(), p.quoteVault.toBuffer(), u64(p.lpSupply), p.coinCreator.toBuffer(),
    Buffer.from([p.mayhem ? 1 : 0, p.cashback ? 1 : 0]), i128(p.vqr), u64(p.creatorFeeBps),
    Buffer.from([p.canEdit ? 1 : 0]),
  ]);  // prettier-ignore
  if (full.length !== sdk.POOL_SIZE) throw new Error(`pool layout ${full.length}`);
  return size <= full.length ? full.subarray(0, size) : Buffer.concat([full, Buffer.alloc(size - full.length)]);
}

function globalConfigBytes(g, size = sdk.GLOBAL_CONFIG_SIZE) {
  const keys = (list) => Buffer.concat(list.map((k) => k.toBuffer()));
  const full = Buffer.concat([
    disc("GlobalConfig"), g.admin.toBuffer(), u64(g.lp), u64(g.protocol), Buffer.from([g.disableFlags]),
    keys(g.protocolRecipients), u64(g.coinCreator), randomKey().toBuffer(), randomKey().toBuffer(),
    g.reservedRecipient.toBuffer(), Buffer.from([g.mayhemEnabled ? 1 : 0]), keys(g.reservedRecipients),
    Buffer.from([g.cashbackEnabled ? 1 : 0]), keys(g.buybackRecipients), u64(g.buybackBps),
    randomKey().toBuffer(), Buffer.from([g.boostEnabled ? 1 : 0]), Buffer.from([g.creatorFeeConfigurable ? 1 : 0]),
    u64(g.maxCreatorFeeBps),
  ]);  // prettier-ignore
  if (full.length !== sdk.GLOBAL_CONFIG_SIZE) throw new Error(`global config layout ${full.length}`);
  return full.subarray(0, size);
}

const info = (data, owner) => ({ data, owner, executable: false, lamports: 1_000_000 });
const PUMP_SDK = sdk.PUMP_AMM_SDK;

function plain(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean" || typeof value === "number" || typeof value === "string") return value;
  if (value instanceof PublicKey || (value && typeof value.toBase58 === "function")) return value.toBase58();
  if (BN.isBN(value)) return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  const o = {};
  for (const [k, v] of Object.entries(value)) o[k] = plain(v);
  return o;
}

// ---- fee configs ----
// The live mainnet FeeConfig (4073 bytes, 25 SOL tiers + 25 USDC tiers) that the SDK ships as a test
// fixture (src/__tests__/feeConfigMainnetFixture.ts, captured at slot 445186127): data, not code.
function mainnetFeeConfig() {
  const text = readFileSync(`${sdkDir}src/__tests__/feeConfigMainnetFixture.ts`, "utf8");
  const body = text.split("MAINNET_FEE_CONFIG_DATA_BASE64 = [")[1].split("].join")[0];
  const b64 = [...body.matchAll(/"([A-Za-z0-9+/=]+)"/g)].map((m) => m[1]).join("");
  return Buffer.from(b64, "base64");
}
// Ascending tiers from threshold 0 (as on mainnet), or from above 0 (market caps below the first
// threshold take the first tier).
function randomTiers(n, lo, hi, { fromZero = true } = {}) {
  const thresholds = fromZero ? [0n] : [];
  while (thresholds.length < n) thresholds.push(logUniform(lo, hi));
  thresholds.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return thresholds.map((t) => [t, [between(0n, 100n), between(0n, 100n), between(0n, 120n)]]);
}
const FEE_CONFIGS = [
  { name: "mainnet_post_stable", data: mainnetFeeConfig() },
  {
    name: "synthetic_post_exotic",
    data: feeConfigBytes(sdk.FEE_CONFIG_SIZE_POST_EXOTIC, {
      flat: [25n, 5n, 0n], tiers: randomTiers(7, 10n ** 11n, 10n ** 14n, { fromZero: false }),
      stable: randomTiers(5, 10n ** 8n, 10n ** 13n), exotic: [40n, 10n, 25n], tail: "random",
    }),
  },
  {
    name: "synthetic_pre_stable",
    data: feeConfigBytes(sdk.FEE_CONFIG_SIZE_PRE_STABLE, {
      flat: [30n, 0n, 0n], tail: "random",
      // Out of order on purpose: market caps between 1e9 and 5e11 take the first-tier rule, not a
      // lower threshold's tier; above 5e11 the last matching tier in account order wins.
      tiers: [500_000_000_000n, 1_000_000_000n, 4_000_000_000_000n, 30_000_000_000n].map((t) => [
        t, [between(0n, 100n), between(0n, 100n), between(0n, 120n)],
      ]),
    }),
  },
  { name: "none", data: null },
];  // prettier-ignore
for (const fc of FEE_CONFIGS) fc.sdk = fc.data === null ? null : PUMP_SDK.decodeFeeConfig(info(fc.data, sdk.PUMP_FEE_PROGRAM_ID));

// ---- global configs ----
function globalConfig(overrides) {
  const g = {
    admin: randomKey(), lp: 20n, protocol: 5n, coinCreator: 5n, disableFlags: 0,
    protocolRecipients: Array.from({ length: 8 }, randomKey), reservedRecipient: randomKey(),
    reservedRecipients: Array.from({ length: 7 }, randomKey), buybackRecipients: Array.from({ length: 8 }, randomKey),
    mayhemEnabled: true, cashbackEnabled: true, buybackBps: 5000n, boostEnabled: true,
    creatorFeeConfigurable: true, maxCreatorFeeBps: 300n, ...overrides,
  };  // prettier-ignore
  const data = globalConfigBytes(g);
  return { data, sdk: PUMP_SDK.decodeGlobalConfig(info(data, sdk.PUMP_AMM_PROGRAM_ID)) };
}
const GLOBALS = [
  globalConfig({}),
  globalConfig({ creatorFeeConfigurable: false, lp: 25n, protocol: 10n, coinCreator: 0n }),
  globalConfig({ lp: 200n, protocol: 93n, coinCreator: 30n }),
];

// ---- pools ----
const QUOTES = { wsol: WSOL, usdc: sdk.USDC_MINT, native2022: NATIVE_2022, zero: PublicKey.default };
function makePool({ pump, quote, coinCreator, mayhem = false, cashback = false, creatorFeeBps = 0n, vqr = 0n, size = 300 }) {
  const baseMint = randomKey();
  const quoteMint = quote === "exotic" ? randomKey() : QUOTES[quote];
  const creator = pump ? sdk.pumpPoolAuthorityPda(baseMint) : randomKey();
  const p = {
    bump: Number(between(250n, 255n)), index: pump ? 0 : Number(below(4n)), creator, baseMint, quoteMint,
    lpMint: randomKey(), baseVault: randomKey(), quoteVault: randomKey(), lpSupply: logUniform(1n, 10n ** 13n),
    coinCreator: coinCreator ? randomKey() : PublicKey.default, mayhem, cashback, vqr, creatorFeeBps, canEdit: false,
  };  // prettier-ignore
  const data = poolBytes(p, size);
  return { data, sdk: PUMP_SDK.decodePool(info(data, sdk.PUMP_AMM_PROGRAM_ID)), address: randomKey() };
}
const POOLS = [];
for (const quote of ["wsol", "usdc", "native2022", "zero", "exotic"]) {
  for (const pump of [true, false]) {
    for (const coinCreator of [true, false]) POOLS.push(makePool({ pump, quote, coinCreator }));
  }
}
POOLS.push(makePool({ pump: true, quote: "wsol", coinCreator: true, mayhem: true }));
POOLS.push(makePool({ pump: true, quote: "wsol", coinCreator: true, cashback: true }));
POOLS.push(makePool({ pump: true, quote: "wsol", coinCreator: true, creatorFeeBps: 75n }));
POOLS.push(makePool({ pump: true, quote: "usdc", coinCreator: true, creatorFeeBps: 250n }));
POOLS.push(makePool({ pump: true, quote: "wsol", coinCreator: true, vqr: 30_000_000_000n }));
POOLS.push(makePool({ pump: true, quote: "wsol", coinCreator: true, vqr: -2_000_000n }));
POOLS.push(makePool({ pump: true, quote: "wsol", coinCreator: true, size: 261 }));
POOLS.push(makePool({ pump: true, quote: "wsol", coinCreator: true, size: 243 }));
POOLS.push(makePool({ pump: false, quote: "wsol", coinCreator: false, size: 211 }));

// ---- quote vectors ----
const KINDS = ["buy", "buy_exact_quote_in", "sell"];
function sdkQuote(kind, amount, baseReserve, quoteReserve, supply, pool, global, feeConfig) {
  const args = {
    slippage: 0, baseReserve: bn(baseReserve), quoteReserve: bn(quoteReserve),
    virtualQuoteReserves: pool.sdk.virtualQuoteReserves, globalConfig: global.sdk,
    baseMintAccount: { supply: BigInt(supply) }, baseMint: pool.sdk.baseMint, coinCreator: pool.sdk.coinCreator,
    creator: pool.sdk.creator, feeConfig: feeConfig.sdk, quoteMint: pool.sdk.quoteMint,
    isMayhemMode: pool.sdk.isMayhemMode, creatorFeeBps: pool.sdk.creatorFeeBps,
  };  // prettier-ignore
  try {
    if (kind === "buy") {
      const r = sdk.buyBaseInput({ ...args, base: bn(amount) });
      return [s(r.internalQuoteAmount), s(r.uiQuote)];
    }
    if (kind === "buy_exact_quote_in") {
      const r = sdk.buyQuoteInput({ ...args, quote: bn(amount) });
      return [s(r.base), s(r.internalQuoteWithoutFees)];
    }
    const r = sdk.sellBaseInput({ ...args, base: bn(amount) });
    return [s(r.internalQuoteAmountOut), s(r.uiQuote)];
  } catch (err) {
    return [`error: ${err.message}`];
  }
}
function sdkFees(baseReserve, quoteReserve, supply, pool, global, feeConfig) {
  try {
    const f = sdk.computeFeesBps({
      globalConfig: global.sdk, feeConfig: feeConfig.sdk, creator: pool.sdk.creator, baseMintSupply: bn(supply),
      baseMint: pool.sdk.baseMint, baseReserve: bn(baseReserve),
      quoteReserve: bn(quoteReserve).add(pool.sdk.virtualQuoteReserves), quoteMint: pool.sdk.quoteMint,
      isMayhemMode: pool.sdk.isMayhemMode, creatorFeeBps: pool.sdk.creatorFeeBps,
    });  // prettier-ignore
    return [s(f.lpFeeBps), s(f.protocolFeeBps), s(f.creatorFeeBps)];
  } catch (err) {
    return [`error: ${err.message}`];
  }
}
function amountFor(kind, baseReserve, quoteReserve) {
  const k = below(16n);
  if (kind === "buy") {
    if (k === 0n) return between(0n, 3n);
    if (k === 1n) return baseReserve + between(0n, 2n) - 1n; // B - 1, B, B + 1
    if (k === 2n) return U64_MAX - below(3n);
    return logUniform(1n, baseReserve > 1n ? baseReserve - 1n : 1n);
  }
  if (kind === "sell") {
    if (k === 0n) return between(0n, 3n);
    if (k === 1n) return U64_MAX - baseReserve + between(0n, 1n); // the base vault's u64 edge
    if (k === 2n) return U64_MAX - below(3n);
    return logUniform(1n, baseReserve * 4n + 1n);
  }
  if (k === 0n) return between(0n, 4n);
  if (k === 1n) return between(5n, 400n); // where the fees round up to whole units
  if (k === 2n) return U64_MAX - below(3n);
  return logUniform(1n, quoteReserve * 4n + 1n);
}
const vectors = [];
let counter = 0;
function record(kind, poolIdx, globalIdx, feeIdx, supply, baseReserve, quoteReserve, amount) {
  const ctx = [POOLS[poolIdx], GLOBALS[globalIdx], FEE_CONFIGS[feeIdx]];
  vectors.push([kind, poolIdx, globalIdx, feeIdx, s(supply), s(baseReserve), s(quoteReserve), s(amount),
    sdkFees(baseReserve, quoteReserve, supply, ...ctx), sdkQuote(kind, amount, baseReserve, quoteReserve, supply, ...ctx)]);  // prettier-ignore
  counter++;
}
// Every tier of every tiered schedule: reserves chosen so the market cap lands inside the tier.
const PUMP_SUPPLY = 1_000_000_000_000_000n;
function poolsFor(quote, pump = true) {
  const out = [];
  POOLS.forEach((p, i) => {
    const q = p.sdk.quoteMint;
    const isPump = sdk.isPumpPool(p.sdk.baseMint, p.sdk.creator);
    const cls = sdk.isSolLikeQuoteMint(q) ? "sol" : sdk.isStableQuoteMint(q) ? "stable" : "exotic";
    if (cls === quote && isPump === pump) out.push(i);
  });
  return out;
}
for (const [feeIdx, fc] of FEE_CONFIGS.entries()) {
  if (fc.sdk === null) continue;
  const schedules = [["sol", fc.sdk.feeTiers, 6]];
  if (fc.sdk.stableFeeTiers.length > 0) schedules.push(["stable", fc.sdk.stableFeeTiers, 3]);
  for (const [cls, tiers, perKind] of schedules) {
    const thresholds = tiers.map((tier) => BigInt(tier.marketCapLamportsThreshold.toString()));
    // [lo, hi] market-cap ranges: one per tier (up to the next threshold), and below the first one.
    const ranges = thresholds.map((lo, t) => [lo, t + 1 < thresholds.length ? thresholds[t + 1] - 1n : lo * 4n + 10n ** 12n]);
    if (thresholds[0] > 0n) ranges.unshift([0n, thresholds[0] - 1n]);
    for (const [lo, hi] of ranges) {
      for (const kind of KINDS) {
        for (let n = 0; n < perKind; n++) {
          const poolIdx = pick(poolsFor(cls));
          const pool = POOLS[poolIdx];
          const vqr = BigInt(pool.sdk.virtualQuoteReserves.toString());
          const mayhem = pool.sdk.isMayhemMode;
          const supply = below(3n) === 0n ? logUniform(10n ** 12n, 10n ** 18n) : PUMP_SUPPLY;
          const basis = mayhem ? PUMP_SUPPLY : supply;
          const target = between(lo, hi > lo ? hi : lo);
          const baseReserve = logUniform(10n ** 9n, basis - 1n);
          const quoteEff = (target * baseReserve + basis - 1n) / basis; // smallest Q_eff with cap >= target
          const quoteReserve = quoteEff - vqr;
          if (quoteReserve < 1n || quoteReserve > U64_MAX) continue;
          record(kind, poolIdx, Number(below(BigInt(GLOBALS.length))), feeIdx, supply, baseReserve, quoteReserve,
            amountFor(kind, baseReserve, quoteReserve));  // prettier-ignore
        }
      }
    }
  }
}
// Random states across every pool, global config and fee config, with edge reserves and amounts.
function reserve() {
  const k = below(10n);
  if (k === 0n) return between(1n, 1000n);
  if (k === 1n) return U64_MAX - below(1n << 20n);
  return logUniform(1n, U64_MAX);
}
while (counter < 2700) {
  const kind = KINDS[counter % 3];
  const poolIdx = Number(below(BigInt(POOLS.length)));
  const vqr = BigInt(POOLS[poolIdx].sdk.virtualQuoteReserves.toString());
  const baseReserve = reserve();
  let quoteReserve = reserve();
  if (quoteReserve + vqr < 1n) quoteReserve = 1n - vqr + below(1000n);
  if (quoteReserve > U64_MAX) continue;
  const supply = below(2n) === 0n ? PUMP_SUPPLY : logUniform(1n, U64_MAX);
  record(kind, poolIdx, Number(below(BigInt(GLOBALS.length))), Number(below(BigInt(FEE_CONFIGS.length))), supply,
    baseReserve, quoteReserve, amountFor(kind, baseReserve, quoteReserve));  // prettier-ignore
}

// ---- instruction account lists ----
function instructionCase(poolIdx, baseProgram, quoteProgram) {
  const pool = POOLS[poolIdx];
  const global = GLOBALS[Number(below(BigInt(GLOBALS.length)))];
  const user = randomKey();
  const userBase = randomKey();
  const userQuote = randomKey();
  const swapState = {
    globalConfig: global.sdk, feeConfig: FEE_CONFIGS[0].sdk, poolKey: pool.address,
    poolAccountInfo: info(pool.data, sdk.PUMP_AMM_PROGRAM_ID), pool: pool.sdk, poolBaseAmount: bn(10n ** 15n),
    poolQuoteAmount: bn(10n ** 11n), baseTokenProgram: baseProgram, quoteTokenProgram: quoteProgram,
    baseMint: pool.sdk.baseMint, baseMintAccount: { supply: PUMP_SUPPLY }, user,
    userBaseTokenAccount: userBase, userQuoteTokenAccount: userQuote, userBaseAccountInfo: null, userQuoteAccountInfo: null,
  };  // prettier-ignore
  return { swapState, global, user, userBase, userQuote };
}
const golden = (ix) => ({
  keys: ix.keys.map((k) => [k.pubkey.toBase58(), k.isSigner, k.isWritable]),
  data: Buffer.from(ix.data).toString("hex"),
});
const pumpIx = (ixs) => ixs.find((ix) => ix.programId.equals(sdk.PUMP_AMM_PROGRAM_ID));
const instructions = [];
for (let i = 0; i < POOLS.length * 2; i++) {
  const poolIdx = i % POOLS.length;
  const baseProgram = below(2n) === 0n ? TOKEN : TOKEN_2022;
  const quoteProgram = POOLS[poolIdx].sdk.quoteMint.equals(NATIVE_2022) || below(5n) === 0n ? TOKEN_2022 : TOKEN;
  const c = instructionCase(poolIdx, baseProgram, quoteProgram);
  const a = logUniform(1n, U64_MAX);
  const b = logUniform(1n, U64_MAX);
  const buy = pumpIx(await PUMP_SDK.buyInstructionsNoPool(c.swapState, bn(a), bn(b)));
  const sell = pumpIx(await PUMP_SDK.sellInstructionsNoPool(c.swapState, bn(a), bn(b)));
  const exactData = sdk.OFFLINE_PUMP_AMM_PROGRAM.coder.instruction.encode("buyExactQuoteIn", {
    spendableQuoteIn: bn(a), minBaseAmountOut: bn(b), trackVolume: { 0: true },
  });  // prettier-ignore
  instructions.push({
    pool: poolIdx, global: GLOBALS.indexOf(c.global), pool_address: c.swapState.poolKey.toBase58(),
    user: c.user.toBase58(), user_base: c.userBase.toBase58(), user_quote: c.userQuote.toBase58(),
    base_token_program: baseProgram.toBase58(), quote_token_program: quoteProgram.toBase58(), a: s(a), b: s(b),
    buy: golden(buy), sell: golden(sell), buy_exact_quote_in_data: Buffer.from(exactData).toString("hex"),
  });  // prettier-ignore
}

// ---- layouts: every version, random field values, decoded by the SDK ----
function layouts() {
  const pools = [];
  for (const size of [211, 243, 244, 245, 261, 270, 300]) {
    for (let n = 0; n < 6; n++) {
      const data = randomBytes(size);
      disc("Pool").copy(data, 0);
      for (const off of [243, 244, 269]) if (off < size) data[off] = Number(below(2n));
      if (size === 300) data.fill(0, 270);
      pools.push({ hex: data.toString("hex"), sdk: plain(PUMP_SDK.decodePool(info(data, sdk.PUMP_AMM_PROGRAM_ID))) });
    }
  }
  const globals = [];
  for (const size of [907, 940, 949]) {
    for (let n = 0; n < 6; n++) {
      const data = randomBytes(size);
      disc("GlobalConfig").copy(data, 0);
      for (const off of [417, 642, 939, 940]) if (off < size) data[off] = Number(below(2n));
      globals.push({ hex: data.toString("hex"), sdk: plain(PUMP_SDK.decodeGlobalConfig(info(data, sdk.PUMP_AMM_PROGRAM_ID))) });
    }
  }
  const feeConfigs = FEE_CONFIGS.filter((fc) => fc.data !== null).map((fc) => ({
    name: fc.name, hex: fc.data.toString("hex"), sdk: plain(fc.sdk),
  }));  // prettier-ignore
  for (const size of [sdk.FEE_CONFIG_SIZE_PRE_STABLE, sdk.FEE_CONFIG_SIZE_POST_STABLE, sdk.FEE_CONFIG_SIZE_POST_EXOTIC]) {
    for (let n = 0; n < 4; n++) {
      const room = size >= sdk.FEE_CONFIG_SIZE_POST_STABLE ? 100n : 61n;
      const n1 = below(room < 50n ? room : 51n);
      const n2 = size >= sdk.FEE_CONFIG_SIZE_POST_STABLE ? below(room - n1 < 51n ? room - n1 : 51n) : 0n;
      const data = feeConfigBytes(size, {
        flat: [below(10000n), below(10000n), below(10000n)], tiers: randomTiers(Number(n1), 1n, U64_MAX),
        stable: randomTiers(Number(n2), 1n, U64_MAX), exotic: [below(500n), below(500n), below(500n)], tail: "random",
      });  // prettier-ignore
      feeConfigs.push({ name: `random_${size}`, hex: data.toString("hex"),
        sdk: plain(PUMP_SDK.decodeFeeConfig(info(data, sdk.PUMP_FEE_PROGRAM_ID))) });  // prettier-ignore
    }
  }
  return { pool: pools, global_config: globals, fee_config: feeConfigs };
}

const result = {
  _about:
    "Produced by tools/oracles/pumpswap_vectors.mjs with @pump-fun/pump-swap-sdk (see package-lock.json). " +
    "Amounts are decimal strings. quotes: [kind, pool, global_config, fee_config, base_mint_supply, " +
    "base_vault, quote_vault, amount, sdk computeFeesBps [lp, protocol, creator] | [error], sdk result] where " +
    "the result is buy: [internalQuoteAmount, uiQuote]; buy_exact_quote_in: [base, internalQuoteWithoutFees]; " +
    "sell: [internalQuoteAmountOut, uiQuote]; or [error: message]. The mainnet FeeConfig bytes are the SDK's " +
    "own test fixture (slot 445186127).",
  seed: s(SEED),
  pools: POOLS.map((p) => ({ hex: p.data.toString("hex"), address: p.address.toBase58() })),
  global_configs: GLOBALS.map((g) => g.data.toString("hex")),
  fee_configs: FEE_CONFIGS.map((fc) => ({ name: fc.name, hex: fc.data === null ? null : fc.data.toString("hex") })),
  quotes: vectors,
  instructions,
  layouts: layouts(),
};
const text = JSON.stringify(result) + "\n";
if (process.argv[2]) writeFileSync(process.argv[2], text);
else process.stdout.write(text);
