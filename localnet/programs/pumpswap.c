/*
 * pumpswap.c: a PumpSwap-compatible constant-product AMM for localnet, loaded at PumpSwap's program id
 * pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA.
 *
 * The real program's source is not public. This one implements the interface and the arithmetic of the
 * official @pump-fun/pump-swap-sdk 1.20.0 (IDL src/idl/pump_amm.json, quotes src/sdk/{buy,sell,fees,
 * util}.ts, account lists src/sdk/offlinePumpAmm.ts), restated in strategies/venues/pumpswap.py and
 * /work/shared/notes/protocols.md section 5. No code was copied.
 *
 * Instructions (Anchor discriminators, little-endian arguments):
 *   buy                66063d1201daebea | base_amount_out u64 | max_quote_amount_in u64 | track_volume u8 (optional)
 *   buy_exact_quote_in c62e1552b4d9e870 | spendable_quote_in u64 | min_base_amount_out u64 | track_volume u8 (optional)
 *   sell               33e685a4017f83ad | base_amount_in u64 | min_quote_amount_out u64
 * Accounts (IDL order; buy and buy_exact_quote_in share them):
 *   0 pool (w), 1 user (w, signer), 2 global_config, 3 base_mint, 4 quote_mint, 5 user_base_token_account (w),
 *   6 user_quote_token_account (w), 7 pool_base_token_account (w), 8 pool_quote_token_account (w),
 *   9 protocol_fee_recipient, 10 protocol_fee_recipient_token_account (w), 11 base_token_program,
 *   12 quote_token_program, 13 system_program, 14 associated_token_program, 15 event_authority, 16 program,
 *   17 coin_creator_vault_ata (w), 18 coin_creator_vault_authority,
 *   buy only: 19 global_volume_accumulator, 20 user_volume_accumulator (w);
 *   then fee_config, fee_program (buy: 21, 22; sell: 19, 20).
 *   Remaining accounts, in the SDK's order: cashback coins: the quote ATA of user_volume_accumulator (w)
 *   (+ on sells the accumulator itself (w)); pools with a coin creator: pool-v2 PDA ["pool-v2", base_mint];
 *   always: buyback_fee_recipient, its quote token account (w).
 *
 * Quote (SDK buyBaseInput / buyQuoteInput / sellBaseInput): reserves are the two vault balances, the quote
 * side priced on Q_eff = quote vault + Pool.virtual_quote_reserves; fee = ceil(amount * bps / 10,000) each.
 *   buy:  quote_in = ceil(Q_eff * out / (B - out)); user pays quote_in + lp + protocol + creator fees.
 *   buy_exact_quote_in: q = floor(spend * 1e4 / (1e4 + total bps)); fees on q; if q + fees > spend, q -= the
 *         excess (fees unchanged); base_out = floor(B * (q - 1) / (Q_eff + q - 1)); user pays q + fees.
 *   sell: quote_out = floor(Q_eff * in / (B + in)); user gets quote_out - fees.
 * The LP fee stays in the pool, the protocol fee goes to the protocol fee recipient's token account (its
 * buyback share floor(fee * buyback_bps / 1e4) to the buyback recipient's), the creator fee to the coin
 * creator vault (or, on cashback coins, to the user volume accumulator's quote ATA).
 * Rates: FeeConfig (fee program) tiers by market cap = floor(Q_eff * supply / B) for canonical pools
 * (creator = pump PDA ["pool-authority", base_mint]): SOL-like quote mints use fee_tiers, USDC the stable
 * tiers, other quotes the exotic (else flat) fees; other pools the flat fees. A per-pool creator_fee_bps
 * replaces the creator rate while GlobalConfig.creator_fee_configurable is on; no coin creator, no creator fee.
 *
 * Error codes: PumpSwap's own (6000+, IDL `errors`) and Anchor's framework codes for account constraints;
 * table in README.md and pumpswap_errors.py. Deliberate differences (README): no events, the volume
 * accumulators are checked but not updated, token accounts are checked by mint and owner (not by ATA
 * derivation), Token-2022 mints with a transfer fee or hook extension are refused, Q_eff must fit u64.
 */
#include "anchor_spl.h"

/* ---------------- error codes (Anchor framework codes: anchor_spl.h) ---------------- */
#define ZeroBaseAmount 6001
#define ZeroQuoteAmount 6002
#define ExceededSlippage 6004
#define UnsupportedBaseMint 6006
#define UnsupportedQuoteMint 6007
#define InvalidBaseMint 6008
#define InvalidQuoteMint 6009
#define InvalidProtocolFeeRecipient 6013
#define InvalidPoolBaseTokenAccount 6014
#define InvalidPoolQuoteTokenAccount 6015
#define BuyMoreBaseAmountThanPoolReserves 6016
#define DisabledBuy 6020
#define DisabledSell 6021
#define Overflow 6023
#define DivisionByZero 6025
#define BuyNotEnoughQuoteTokensToCoverFees 6039
#define BuySlippageBelowMinBaseAmountOut 6040
#define BuybackFeeRecipientNotAuthorized 6053
#define BuybackBasisPointsOutOfRange 6056
#define BuybackFeeRecipientMissing 6058
#define MissingCashbackAccounts 6059
#define InvalidCashbackAccumulator 6060
#define InvalidCashbackAccumulatorAta 6061
#define InvalidPoolV2 6062
#define InsufficientRealQuoteReserves 6063

/* ---------------- layouts ---------------- */
#define BPS 10000UL
#define MAYHEM_SUPPLY 1000000000000000UL /* pump-amm TOTAL_TOKEN_SUPPLY */

#define P_BUMP 8
#define P_INDEX 9
#define P_CREATOR 11
#define P_BASE_MINT 43
#define P_QUOTE_MINT 75
#define P_POOL_BASE 139
#define P_POOL_QUOTE 171
#define P_COIN_CREATOR 211
#define P_MAYHEM 243
#define P_CASHBACK 244
#define P_VQR 245
#define P_CREATOR_FEE_BPS 261

#define G_LP_BPS 40
#define G_PROTOCOL_BPS 48
#define G_DISABLE 56
#define G_RECIPIENTS 57
#define G_RESERVED_RECIPIENT 385
#define G_RESERVED_RECIPIENTS 418
#define G_BUYBACK_RECIPIENTS 643
#define G_BUYBACK_BPS 899
#define G_CREATOR_FEE_CONFIGURABLE 940
#define GLOBAL_MIN_LEN 907
#define DISABLE_BUY 8
#define DISABLE_SELL 16

#define F_FLAT 41
#define F_TIERS 65
#define TIER_LEN 40
#define FEE_CONFIG_PRE_STABLE 2512
#define FEE_CONFIG_POST_STABLE 4073
#define FEE_CONFIG_POST_EXOTIC 4097

#define EXT_TRANSFER_FEE_CONFIG 1
#define EXT_TRANSFER_HOOK 14

static const u8 DISC_POOL[8] __attribute__((aligned(8))) = {241, 154, 109, 4, 17, 177, 109, 188};
static const u8 DISC_GLOBAL[8] __attribute__((aligned(8))) = {149, 8, 156, 202, 160, 252, 176, 217};
static const u8 DISC_FEE_CONFIG[8] __attribute__((aligned(8))) = {143, 52, 146, 187, 219, 123, 76, 155};
static const u8 IX_BUY[8] __attribute__((aligned(8))) = {102, 6, 61, 18, 1, 218, 235, 234};
static const u8 IX_BUY_EXACT_QUOTE_IN[8] __attribute__((aligned(8))) = {198, 46, 21, 82, 180, 217, 232, 112};
static const u8 IX_SELL[8] __attribute__((aligned(8))) = {51, 230, 133, 164, 1, 127, 131, 173};

static const SolPubkey ATA_PROGRAM __attribute__((aligned(8))) = {{
    140, 151, 37, 143, 78, 36, 137, 241, 187, 61, 16, 41, 20, 142, 13, 131,
    11, 90, 19, 153, 218, 255, 16, 132, 4, 142, 123, 216, 219, 233, 248, 89}};
static const SolPubkey FEE_PROGRAM __attribute__((aligned(8))) = {{
    12, 53, 255, 169, 5, 90, 142, 86, 141, 168, 247, 188, 7, 86, 21, 39,
    76, 241, 201, 44, 164, 31, 64, 0, 156, 81, 106, 164, 20, 194, 124, 112}};
static const SolPubkey PUMP_PROGRAM __attribute__((aligned(8))) = {{
    1, 86, 224, 246, 147, 102, 90, 207, 68, 219, 21, 104, 191, 23, 91, 170,
    81, 137, 203, 151, 245, 210, 255, 59, 101, 93, 43, 182, 253, 109, 24, 176}};
/* PDAs of the real program id (checked against pumpswap.py by tests/programs/test_pumpswap_program.py). */
static const SolPubkey GLOBAL_CONFIG __attribute__((aligned(8))) = {{
    137, 11, 166, 68, 254, 31, 85, 170, 25, 241, 28, 210, 210, 236, 20, 211,
    35, 59, 110, 10, 75, 234, 238, 247, 43, 105, 133, 142, 33, 225, 112, 214}};
static const SolPubkey EVENT_AUTHORITY __attribute__((aligned(8))) = {{
    229, 74, 112, 149, 40, 131, 159, 97, 192, 185, 184, 96, 121, 137, 28, 19,
    146, 22, 228, 122, 113, 182, 47, 183, 59, 236, 114, 22, 148, 88, 116, 94}};
static const SolPubkey GLOBAL_VOLUME_ACCUMULATOR __attribute__((aligned(8))) = {{
    163, 215, 187, 18, 126, 88, 173, 193, 44, 166, 143, 131, 67, 126, 194, 225,
    195, 249, 130, 13, 233, 62, 88, 249, 23, 138, 41, 24, 221, 170, 247, 180}};
static const SolPubkey FEE_CONFIG __attribute__((aligned(8))) = {{
    65, 36, 110, 204, 125, 120, 254, 129, 228, 23, 115, 164, 105, 101, 65, 153,
    55, 146, 58, 7, 100, 71, 151, 223, 111, 62, 181, 20, 66, 96, 16, 203}};
static const SolPubkey WSOL_MINT __attribute__((aligned(8))) = {{
    6, 155, 136, 87, 254, 171, 129, 132, 251, 104, 127, 99, 70, 24, 192, 53,
    218, 196, 57, 220, 26, 235, 59, 85, 152, 160, 240, 0, 0, 0, 0, 1}};
static const SolPubkey NATIVE_MINT_2022 __attribute__((aligned(8))) = {{
    131, 13, 252, 159, 222, 95, 230, 184, 170, 124, 4, 164, 118, 233, 30, 138,
    198, 187, 38, 74, 173, 144, 250, 25, 201, 223, 73, 216, 92, 62, 91, 94}};
static const SolPubkey USDC_MINT __attribute__((aligned(8))) = {{
    198, 250, 122, 243, 190, 219, 173, 58, 61, 101, 243, 106, 171, 201, 116, 49,
    177, 187, 228, 194, 210, 246, 224, 228, 124, 166, 2, 3, 69, 47, 93, 97}};

static const char SEED_POOL[] = "pool";
static const char SEED_CREATOR_VAULT[] = "creator_vault";
static const char SEED_USER_VOLUME[] = "user_volume_accumulator";
static const char SEED_POOL_V2[] = "pool-v2";
static const char SEED_POOL_AUTHORITY[] = "pool-authority";

enum {
    A_POOL, A_USER, A_GLOBAL, A_BASE_MINT, A_QUOTE_MINT, A_USER_BASE, A_USER_QUOTE, A_POOL_BASE, A_POOL_QUOTE,
    A_FEE_RECIPIENT, A_FEE_RECIPIENT_ATA, A_BASE_PROGRAM, A_QUOTE_PROGRAM, A_SYSTEM, A_ATA_PROGRAM,
    A_EVENT_AUTHORITY, A_PROGRAM, A_CREATOR_VAULT_ATA, A_CREATOR_VAULT_AUTHORITY, A_GLOBAL_VOLUME,
    A_USER_VOLUME
};
#define KIND_BUY 0
#define KIND_EXACT_QUOTE_IN 1
#define KIND_SELL 2

/* Everything a swap computes, kept on the heap (the BPF stack is 512 bytes per frame). */
typedef struct {
    u64 pool_len, global_len;
    u64 base_reserve, quote_vault, q_eff;
    u64 lp_bps, protocol_bps, creator_bps;
    u64 base_amount;  /* buy: base out; sell: base in */
    u64 curve_quote;  /* buy: quote into the curve; sell: quote out of the curve */
    u64 lp_fee, protocol_fee, creator_fee, buyback_fee;
    u64 user_quote;   /* buy: debited from the user; sell: credited to the user */
    u8 fee_config, fee_program, creator_dest, buyback_ata;
} Swap;

#define SWAP ((Swap *)HEAP_STATE)

/* ---------------- account checks ---------------- */

/* An initialized token account of `mint` under `program`, whose authority is `owner` (if given). */
static u64 check_token(const SolAccountInfo *a, const SolAccountInfo *mint, const SolPubkey *program,
                       const SolPubkey *owner, int writable) {
    if (is_missing(a)) return AccountNotInitialized;
    if (!is_token_program(a->owner)) return AccountOwnedByWrongProgram;
    if (a->data_len < TOKEN_ACCOUNT_LEN || a->data[T_STATE] == 0) return AccountDidNotDeserialize;
    if (writable && !a->is_writable) return ConstraintMut;
    if (!key_eq_bytes(a->data + T_MINT, mint->key)) return ConstraintTokenMint;
    if (owner && !key_eq_bytes(a->data + T_OWNER, owner)) return ConstraintTokenOwner;
    if (!key_eq(a->owner, program)) return ConstraintTokenTokenProgram;
    return 0;
}

static u64 check_mint(const SolAccountInfo *a, const SolAccountInfo *program) {
    if (is_missing(a)) return AccountNotInitialized;
    if (!is_token_program(a->owner)) return AccountOwnedByWrongProgram;
    if (a->data_len < MINT_LEN || a->data[M_IS_INITIALIZED] == 0) return AccountDidNotDeserialize;
    if (!key_eq(a->owner, program->key)) return ConstraintMintTokenProgram;
    return 0;
}

/* Token-2022 mint extensions that change transfer amounts or run code are not modelled: 1 if present. */
static int has_unmodelled_extension(const SolAccountInfo *mint) {
    if (mint->data_len <= TOKEN_ACCOUNT_LEN) return 0;
    u64 pos = TOKEN_ACCOUNT_LEN + 1, end = mint->data_len;
    while (pos + 4 <= end) {
        u16 type = ld_u16(mint->data + pos), len = ld_u16(mint->data + pos + 2);
        if (type == 0) break;
        if (type == EXT_TRANSFER_FEE_CONFIG || type == EXT_TRANSFER_HOOK) return 1;
        pos += 4 + (u64)len;
    }
    return 0;
}

/* 1 if `expected` is the PDA of `seeds` under `program` (canonical bump). */
static int pda_is(const SolSignerSeed *seeds, u64 n, const SolPubkey *program, const SolPubkey *expected) {
    SolPubkey found;
    u8 bump;
    if (sol_try_find_program_address(seeds, n, program, &found, &bump) != 0) return 0;
    return key_eq(&found, expected);
}

static int key_in(const SolPubkey *k, const u8 *list, u64 n) {
    for (u64 i = 0; i < n; i++)
        if (key_eq_bytes(list + 32 * i, k)) return 1;
    return 0;
}

/* ---------------- 128-bit helpers ---------------- */

/* ceil(a * bps / 10,000); 0 on overflow of u64. */
static int fee_of(u64 a, u64 bps, u64 *out) {
    u128 num, den, q, r, bump;
    mul_64x64(a, bps, &num);
    u128_set(&bump, BPS - 1);
    if (!add_128(&num, &bump, &num)) return 0;
    u128_set(&den, BPS);
    divmod_128(&num, &den, &q, &r);
    if (q.hi) return 0;
    *out = q.lo;
    return 1;
}

/* a + b + c + d with overflow check (0 on overflow). */
static int sum4(u64 a, u64 b, u64 c, u64 d, u64 *out) {
    u64 s = a + b;
    if (s < a) return 0;
    u64 t = s + c;
    if (t < s) return 0;
    u64 v = t + d;
    if (v < t) return 0;
    *out = v;
    return 1;
}

static u64 charge_fees(Swap *s, u64 amount) {
    if (!fee_of(amount, s->lp_bps, &s->lp_fee) || !fee_of(amount, s->protocol_bps, &s->protocol_fee) ||
        !fee_of(amount, s->creator_bps, &s->creator_fee))
        return Overflow;
    return 0;
}

/* ---------------- fee selection ---------------- */

/* End offset of the Vec<FeeTier> whose u32 length sits at `off`, or 0 if it runs past `len`. */
static u64 tier_vec_end(const u8 *d, u64 len, u64 off) {
    if (off + 4 > len) return 0;
    u64 end = off + 4 + (u64)(*(const u32 *)(d + off)) * TIER_LEN;
    return end > len ? 0 : end;
}

/* pump-fees-math calculate_fee_tier: below the first threshold the first tier, else the last tier (in
 * account order) whose u128 threshold is <= the market cap. Returns the Fees (3 x u64) pointer or 0. */
static const u8 *fee_tier(const u8 *vec, const u128 *cap) {
    u64 n = *(const u32 *)vec;
    if (n == 0) return 0;
    const u8 *t = vec + 4;
    u128 th = {ld_u64(t), ld_u64(t + 8)};
    if (cmp_128(cap, &th) < 0) return t + 16;
    for (u64 i = n; i > 0; i--) {
        const u8 *tier = t + (i - 1) * TIER_LEN;
        u128 threshold = {ld_u64(tier), ld_u64(tier + 8)};
        if (cmp_128(cap, &threshold) >= 0) return tier + 16;
    }
    return t + 16;
}

static u64 select_fees(Swap *s) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    const u8 *pool = ka[A_POOL].data;
    const SolAccountInfo *fc = &ka[s->fee_config];
    const u8 *d = fc->data;
    u64 len = fc->data_len;
    if (len != FEE_CONFIG_PRE_STABLE && len != FEE_CONFIG_POST_STABLE && len != FEE_CONFIG_POST_EXOTIC)
        return AccountDidNotDeserialize;
    u64 tiers_end = tier_vec_end(d, len, F_TIERS), stable_end = 0;
    if (!tiers_end) return AccountDidNotDeserialize;
    if (len >= FEE_CONFIG_POST_STABLE && !(stable_end = tier_vec_end(d, len, tiers_end))) return AccountDidNotDeserialize;
    if (len >= FEE_CONFIG_POST_EXOTIC && stable_end + 24 > len) return AccountDidNotDeserialize;

    const u8 *fees = d + F_FLAT;
    u8 seed_bump;
    SolPubkey authority;
    SolSignerSeed seeds[2] = {{(const u8 *)SEED_POOL_AUTHORITY, sizeof(SEED_POOL_AUTHORITY) - 1},
                              {pool + P_BASE_MINT, 32}};
    if (sol_try_find_program_address(seeds, 2, &PUMP_PROGRAM, &authority, &seed_bump) != 0) return InvalidBaseMint;
    if (key_eq_bytes(pool + P_CREATOR, &authority)) { /* canonical pump pool */
        const SolPubkey *q = ka[A_QUOTE_MINT].key;
        u128 cap, num, den, rem;
        u64 supply = (s->pool_len > P_MAYHEM && pool[P_MAYHEM]) ? MAYHEM_SUPPLY : ld_u64(ka[A_BASE_MINT].data + M_SUPPLY);
        mul_64x64(s->q_eff, supply, &num);
        u128_set(&den, s->base_reserve);
        divmod_128(&num, &den, &cap, &rem);
        int sol_like = is_zero((const u8 *)q->x, 32) || key_eq(q, &WSOL_MINT) || key_eq(q, &NATIVE_MINT_2022);
        if (sol_like || key_eq(q, &USDC_MINT)) {
            const u8 *vec = d + F_TIERS;
            if (!sol_like && len >= FEE_CONFIG_POST_STABLE && *(const u32 *)(d + tiers_end) > 0) vec = d + tiers_end;
            fees = fee_tier(vec, &cap);
            if (!fees) return AccountDidNotDeserialize;
        } else if (len >= FEE_CONFIG_POST_EXOTIC && !is_zero(d + stable_end, 24)) {
            fees = d + stable_end;
        }
    }
    s->lp_bps = ld_u64(fees);
    s->protocol_bps = ld_u64(fees + 8);
    s->creator_bps = ld_u64(fees + 16);
    u64 pool_creator_bps = s->pool_len >= P_CREATOR_FEE_BPS + 8 ? ld_u64(pool + P_CREATOR_FEE_BPS) : 0;
    if (s->global_len > G_CREATOR_FEE_CONFIGURABLE && ka[A_GLOBAL].data[G_CREATOR_FEE_CONFIGURABLE] &&
        pool_creator_bps > 0)
        s->creator_bps = pool_creator_bps;
    if (is_zero(pool + P_COIN_CREATOR, 32)) s->creator_bps = 0;
    return 0;
}

/* ---------------- quotes ---------------- */

static u64 quote_buy(Swap *s, u64 base_out) {
    if (base_out == 0) return ZeroBaseAmount;
    if (base_out >= s->base_reserve) return BuyMoreBaseAmountThanPoolReserves;
    u128 num, den, q, r;
    mul_64x64(s->q_eff, base_out, &num);
    u128_set(&den, s->base_reserve - base_out);
    divmod_128(&num, &den, &q, &r);
    if (!is_zero_128(&r)) {
        u128 one;
        u128_set(&one, 1);
        if (!add_128(&q, &one, &q)) return Overflow;
    }
    if (q.hi) return Overflow;
    s->base_amount = base_out;
    s->curve_quote = q.lo;
    if (charge_fees(s, q.lo)) return Overflow;
    if (!sum4(q.lo, s->lp_fee, s->protocol_fee, s->creator_fee, &s->user_quote)) return Overflow;
    u64 into_vault;
    if (!sum4(s->quote_vault, q.lo, s->lp_fee, 0, &into_vault)) return Overflow;
    return 0;
}

static u64 quote_exact_quote_in(Swap *s, u64 spend) {
    if (spend == 0) return ZeroQuoteAmount;
    u64 total_bps;
    if (!sum4(s->lp_bps, s->protocol_bps, s->creator_bps, BPS, &total_bps)) return Overflow;
    u128 num, den, q, r;
    mul_64x64(spend, BPS, &num);
    u128_set(&den, total_bps);
    divmod_128(&num, &den, &q, &r); /* <= spend */
    u64 eff = q.lo;
    if (charge_fees(s, eff)) return Overflow;
    u64 with_fees;
    if (!sum4(eff, s->lp_fee, s->protocol_fee, s->creator_fee, &with_fees)) return Overflow;
    if (with_fees > spend) {
        u64 excess = with_fees - spend;
        if (excess >= eff) return BuyNotEnoughQuoteTokensToCoverFees;
        eff -= excess;
    }
    if (eff == 0) return BuyNotEnoughQuoteTokensToCoverFees;
    u64 curve_in = eff - 1;
    u128 add;
    mul_64x64(s->base_reserve, curve_in, &num);
    u128_set(&den, s->q_eff);
    u128_set(&add, curve_in);
    add_128(&den, &add, &den); /* two u64: cannot overflow; q_eff >= 1 so it is not zero */
    divmod_128(&num, &den, &q, &r);
    if (q.lo == 0) return ZeroBaseAmount; /* q < base_reserve: fits u64 */
    s->base_amount = q.lo;
    s->curve_quote = eff;
    u64 into_vault;
    if (!sum4(s->quote_vault, eff, s->lp_fee, 0, &into_vault)) return Overflow;
    if (!sum4(eff, s->lp_fee, s->protocol_fee, s->creator_fee, &s->user_quote)) return Overflow;
    return 0;
}

static u64 quote_sell(Swap *s, u64 base_in) {
    if (base_in == 0) return ZeroBaseAmount;
    u128 num, den, q, r, add;
    mul_64x64(s->q_eff, base_in, &num);
    u128_set(&den, s->base_reserve);
    u128_set(&add, base_in);
    add_128(&den, &add, &den);
    divmod_128(&num, &den, &q, &r); /* <= q_eff: fits u64 */
    u64 out = q.lo;
    if (charge_fees(s, out)) return Overflow;
    if (s->lp_fee <= out && out - s->lp_fee > s->quote_vault) return InsufficientRealQuoteReserves;
    u64 fees;
    if (!sum4(s->lp_fee, s->protocol_fee, s->creator_fee, 0, &fees) || fees > out) return Overflow;
    u64 into_vault;
    if (!sum4(s->base_reserve, base_in, 0, 0, &into_vault)) return Overflow;
    s->base_amount = base_in;
    s->curve_quote = out;
    s->user_quote = out - fees;
    return 0;
}

/* ---------------- transfers ---------------- */

/* TransferChecked (anchor_spl.h), skipped for a zero amount. */
static u64 transfer(const u8 *idx, u64 amount, const SolSignerSeeds *signers, int n_signers) {
    return amount ? transfer_checked(idx, amount, signers, n_signers) : 0;
}

/* The quote-side fee payouts: protocol (minus buyback), buyback, creator; `from` pays, `auth` signs. */
static u64 pay_fees(Swap *s, u8 from, u8 auth, const SolSignerSeeds *signer, int n_signers) {
    u8 idx[5] = {A_QUOTE_PROGRAM, from, A_QUOTE_MINT, A_FEE_RECIPIENT_ATA, auth};
    u64 e = transfer(idx, s->protocol_fee - s->buyback_fee, signer, n_signers);
    if (e) return e;
    idx[3] = s->buyback_ata;
    if ((e = transfer(idx, s->buyback_fee, signer, n_signers))) return e;
    idx[3] = s->creator_dest;
    return transfer(idx, s->creator_fee, signer, n_signers);
}

/* ---------------- swap ---------------- */

static u64 check_accounts(Swap *s, int kind) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    const SolPubkey *pid = p->program_id;
    u64 named = kind == KIND_SELL ? 21 : 23;
    if (p->ka_num < named) FAIL(AccountNotEnoughKeys, "buy needs 23 accounts, sell 21");
    s->fee_config = (u8)(named - 2);
    s->fee_program = (u8)(named - 1);

    SolAccountInfo *pool_acc = &ka[A_POOL];
    CHECK(check_anchor_account(pool_acc, pid, DISC_POOL, 211), "pool");
    u64 pl = pool_acc->data_len;
    if (pl != 211 && pl != 243 && pl != 244 && pl != 245 && pl != 261 && pl != 270 && pl != 300)
        FAIL(AccountDidNotDeserialize, "pool: unknown layout length");
    s->pool_len = pl;
    if (!pool_acc->is_writable) FAIL(ConstraintMut, "pool");
    const u8 *pool = pool_acc->data;
    if (!ka[A_USER].is_signer) FAIL(AccountNotSigner, "user");
    if (!ka[A_USER].is_writable) FAIL(ConstraintMut, "user");
    if (!key_eq(ka[A_GLOBAL].key, &GLOBAL_CONFIG)) FAIL(ConstraintSeeds, "global_config");
    CHECK(check_anchor_account(&ka[A_GLOBAL], pid, DISC_GLOBAL, GLOBAL_MIN_LEN), "global_config");
    s->global_len = ka[A_GLOBAL].data_len;
    const u8 *global = ka[A_GLOBAL].data;
    CHECK(check_token_program(&ka[A_BASE_PROGRAM]), "base_token_program");
    CHECK(check_token_program(&ka[A_QUOTE_PROGRAM]), "quote_token_program");
    if (!key_eq_bytes(pool + P_BASE_MINT, ka[A_BASE_MINT].key)) FAIL(InvalidBaseMint, "base_mint");
    if (!key_eq_bytes(pool + P_QUOTE_MINT, ka[A_QUOTE_MINT].key)) FAIL(InvalidQuoteMint, "quote_mint");
    CHECK(check_mint(&ka[A_BASE_MINT], &ka[A_BASE_PROGRAM]), "base_mint");
    CHECK(check_mint(&ka[A_QUOTE_MINT], &ka[A_QUOTE_PROGRAM]), "quote_mint");
    const SolPubkey *base_prog = ka[A_BASE_PROGRAM].key, *quote_prog = ka[A_QUOTE_PROGRAM].key;
    CHECK(check_token(&ka[A_USER_BASE], &ka[A_BASE_MINT], base_prog, ka[A_USER].key, 1), "user_base_token_account");
    CHECK(check_token(&ka[A_USER_QUOTE], &ka[A_QUOTE_MINT], quote_prog, ka[A_USER].key, 1), "user_quote_token_account");
    if (!key_eq_bytes(pool + P_POOL_BASE, ka[A_POOL_BASE].key)) FAIL(InvalidPoolBaseTokenAccount, "pool_base_token_account");
    if (!key_eq_bytes(pool + P_POOL_QUOTE, ka[A_POOL_QUOTE].key)) FAIL(InvalidPoolQuoteTokenAccount, "pool_quote_token_account");
    CHECK(check_token(&ka[A_POOL_BASE], &ka[A_BASE_MINT], base_prog, pool_acc->key, 1), "pool_base_token_account");
    CHECK(check_token(&ka[A_POOL_QUOTE], &ka[A_QUOTE_MINT], quote_prog, pool_acc->key, 1), "pool_quote_token_account");

    int mayhem = pl > P_MAYHEM && pool[P_MAYHEM];
    const SolPubkey *recipient = ka[A_FEE_RECIPIENT].key;
    if (mayhem ? !(key_eq_bytes(global + G_RESERVED_RECIPIENT, recipient) || key_in(recipient, global + G_RESERVED_RECIPIENTS, 7))
               : !key_in(recipient, global + G_RECIPIENTS, 8))
        FAIL(InvalidProtocolFeeRecipient, "protocol_fee_recipient");
    CHECK(check_token(&ka[A_FEE_RECIPIENT_ATA], &ka[A_QUOTE_MINT], quote_prog, recipient, 1),
          "protocol_fee_recipient_token_account");
    if (!is_zero(ka[A_SYSTEM].key->x, 32)) FAIL(InvalidProgramId, "system_program");
    if (!key_eq(ka[A_ATA_PROGRAM].key, &ATA_PROGRAM)) FAIL(InvalidProgramId, "associated_token_program");
    if (!key_eq(ka[A_EVENT_AUTHORITY].key, &EVENT_AUTHORITY)) FAIL(ConstraintSeeds, "event_authority");
    if (!key_eq(ka[A_PROGRAM].key, pid)) FAIL(InvalidProgramId, "program");

    /* A 211-byte pool predates coin_creator; the SDK grows such pools with extend_account first. */
    if (pl < P_COIN_CREATOR + 32) FAIL(AccountDidNotDeserialize, "pool: no coin_creator field (run extend_account)");
    SolSignerSeed seeds[2] = {{(const u8 *)SEED_CREATOR_VAULT, sizeof(SEED_CREATOR_VAULT) - 1},
                              {pool + P_COIN_CREATOR, 32}};
    if (!pda_is(seeds, 2, pid, ka[A_CREATOR_VAULT_AUTHORITY].key)) FAIL(ConstraintSeeds, "coin_creator_vault_authority");
    CHECK(check_token(&ka[A_CREATOR_VAULT_ATA], &ka[A_QUOTE_MINT], quote_prog, ka[A_CREATOR_VAULT_AUTHORITY].key, 1),
          "coin_creator_vault_ata");
    SolSignerSeed user_seeds[2] = {{(const u8 *)SEED_USER_VOLUME, sizeof(SEED_USER_VOLUME) - 1},
                                   {ka[A_USER].key->x, 32}};
    if (kind != KIND_SELL) {
        if (!key_eq(ka[A_GLOBAL_VOLUME].key, &GLOBAL_VOLUME_ACCUMULATOR)) FAIL(ConstraintSeeds, "global_volume_accumulator");
        if (!ka[A_USER_VOLUME].is_writable) FAIL(ConstraintMut, "user_volume_accumulator");
        if (!pda_is(user_seeds, 2, pid, ka[A_USER_VOLUME].key)) FAIL(ConstraintSeeds, "user_volume_accumulator");
    }
    if (!key_eq(ka[s->fee_config].key, &FEE_CONFIG)) FAIL(ConstraintSeeds, "fee_config");
    CHECK(check_anchor_account(&ka[s->fee_config], &FEE_PROGRAM, DISC_FEE_CONFIG, F_TIERS + 4), "fee_config");
    if (!key_eq(ka[s->fee_program].key, &FEE_PROGRAM)) FAIL(ConstraintAddress, "fee_program");

    /* Remaining accounts. */
    u64 i = named;
    s->creator_dest = A_CREATOR_VAULT_ATA;
    if (pl > P_CASHBACK && pool[P_CASHBACK]) {
        if (p->ka_num < i + (kind == KIND_SELL ? 2 : 1)) FAIL(MissingCashbackAccounts, "cashback accounts");
        SolPubkey accumulator;
        u8 bump;
        if (sol_try_find_program_address(user_seeds, 2, pid, &accumulator, &bump) != 0)
            FAIL(InvalidCashbackAccumulator, "user_volume_accumulator");
        if (check_token(&ka[i], &ka[A_QUOTE_MINT], quote_prog, &accumulator, 1))
            FAIL(InvalidCashbackAccumulatorAta, "cashback token account");
        s->creator_dest = (u8)i++;
        if (kind == KIND_SELL) {
            if (!key_eq(ka[i].key, &accumulator) || !ka[i].is_writable)
                FAIL(InvalidCashbackAccumulator, "user_volume_accumulator");
            i++;
        }
    }
    if (!is_zero(pool + P_COIN_CREATOR, 32)) {
        SolSignerSeed v2[2] = {{(const u8 *)SEED_POOL_V2, sizeof(SEED_POOL_V2) - 1}, {pool + P_BASE_MINT, 32}};
        if (p->ka_num <= i || !pda_is(v2, 2, pid, ka[i].key)) FAIL(InvalidPoolV2, "pool_v2");
        i++;
    }
    if (p->ka_num < i + 2) FAIL(BuybackFeeRecipientMissing, "buyback fee recipient");
    if (!key_in(ka[i].key, global + G_BUYBACK_RECIPIENTS, 8)) FAIL(BuybackFeeRecipientNotAuthorized, "buyback fee recipient");
    CHECK(check_token(&ka[i + 1], &ka[A_QUOTE_MINT], quote_prog, ka[i].key, 1), "buyback fee recipient token account");
    s->buyback_ata = (u8)(i + 1);
    return 0;
}

static u64 process_swap(int kind) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    Swap *s = SWAP;
    zero((u8 *)s, sizeof(Swap));
    if (p->data_len < 24) FAIL(InstructionDidNotDeserialize, "swap args");
    u64 arg0 = ld_u64(p->data + 8), arg1 = ld_u64(p->data + 16);
    u64 e = check_accounts(s, kind);
    if (e) return e;

    const u8 *pool = ka[A_POOL].data, *global = ka[A_GLOBAL].data;
    u8 flags = global[G_DISABLE];
    if (kind == KIND_SELL ? (flags & DISABLE_SELL) : (flags & DISABLE_BUY))
        return kind == KIND_SELL ? fail_account(DisabledSell, "global_config", 13) : fail_account(DisabledBuy, "global_config", 13);
    if (has_unmodelled_extension(&ka[A_BASE_MINT])) FAIL(UnsupportedBaseMint, "Token-2022 transfer fee / hook");
    if (has_unmodelled_extension(&ka[A_QUOTE_MINT])) FAIL(UnsupportedQuoteMint, "Token-2022 transfer fee / hook");
    u64 buyback_bps = ld_u64(global + G_BUYBACK_BPS);
    if (buyback_bps > BPS) FAIL(BuybackBasisPointsOutOfRange, "global_config");

    s->base_reserve = ld_u64(ka[A_POOL_BASE].data + T_AMOUNT);
    s->quote_vault = ld_u64(ka[A_POOL_QUOTE].data + T_AMOUNT);
    if (s->base_reserve == 0 || s->quote_vault == 0) FAIL(DivisionByZero, "empty pool");
    /* Q_eff = vault + virtual_quote_reserves (i128), required to be in [1, u64::MAX]. */
    u64 vlo = s->pool_len >= P_VQR + 16 ? ld_u64(pool + P_VQR) : 0, vhi = s->pool_len >= P_VQR + 16 ? ld_u64(pool + P_VQR + 8) : 0;
    if ((i64)vhi >= 0) {
        if (vhi != 0 || s->quote_vault + vlo < vlo) FAIL(Overflow, "effective quote reserve exceeds u64");
        s->q_eff = s->quote_vault + vlo;
    } else {
        u64 neg = -vlo; /* |vqr| when it fits u64 */
        if (vhi != ~0UL || vlo == 0 || neg >= s->quote_vault) FAIL(DivisionByZero, "effective quote reserve <= 0");
        s->q_eff = s->quote_vault - neg;
    }
    if ((e = select_fees(s))) return fail_account(e, "fee_config", 10);

    if (kind == KIND_BUY) e = quote_buy(s, arg0);
    else if (kind == KIND_EXACT_QUOTE_IN) e = quote_exact_quote_in(s, arg0);
    else e = quote_sell(s, arg0);
    if (e) return fail_account(e, "quote", 5);
    if (kind == KIND_BUY && s->user_quote > arg1) FAIL(ExceededSlippage, "quote in > max_quote_amount_in");
    if (kind == KIND_EXACT_QUOTE_IN && s->base_amount < arg1) FAIL(BuySlippageBelowMinBaseAmountOut, "base out < min_base_amount_out");
    if (kind == KIND_SELL && s->user_quote < arg1) FAIL(ExceededSlippage, "quote out < min_quote_amount_out");
    { /* buyback share of the protocol fee: floor(fee * buyback_bps / 10,000) */
        u128 prod, den, q, r;
        mul_64x64(s->protocol_fee, buyback_bps, &prod);
        u128_set(&den, BPS);
        divmod_128(&prod, &den, &q, &r);
        s->buyback_fee = q.lo;
    }

    /* The pool PDA signs for its vaults: ["pool", index u16 LE, creator, base_mint, quote_mint, [bump]]. */
    u8 bump_seed[1] = {pool[P_BUMP]};
    SolSignerSeed seeds[6] = {{(const u8 *)SEED_POOL, sizeof(SEED_POOL) - 1}, {pool + P_INDEX, 2},
                              {pool + P_CREATOR, 32}, {pool + P_BASE_MINT, 32}, {pool + P_QUOTE_MINT, 32},
                              {bump_seed, 1}};
    SolSignerSeeds signer = {seeds, 6};
    if (kind != KIND_SELL) {
        static const u8 quote_in_idx[5] = {A_QUOTE_PROGRAM, A_USER_QUOTE, A_QUOTE_MINT, A_POOL_QUOTE, A_USER};
        if ((e = transfer(quote_in_idx, s->curve_quote + s->lp_fee, 0, 0))) return e;
        if ((e = pay_fees(s, A_USER_QUOTE, A_USER, 0, 0))) return e;
        static const u8 base_out_idx[5] = {A_BASE_PROGRAM, A_POOL_BASE, A_BASE_MINT, A_USER_BASE, A_POOL};
        return transfer(base_out_idx, s->base_amount, &signer, 1);
    }
    static const u8 base_in_idx[5] = {A_BASE_PROGRAM, A_USER_BASE, A_BASE_MINT, A_POOL_BASE, A_USER};
    if ((e = transfer(base_in_idx, s->base_amount, 0, 0))) return e;
    static const u8 quote_out_idx[5] = {A_QUOTE_PROGRAM, A_POOL_QUOTE, A_QUOTE_MINT, A_USER_QUOTE, A_POOL};
    if ((e = transfer(quote_out_idx, s->user_quote, &signer, 1))) return e;
    return pay_fees(s, A_POOL_QUOTE, A_POOL, &signer, 1);
}

/* ---------------- entrypoint ---------------- */

u64 entrypoint(const u8 *input) {
    SolParameters *p = PARAMS;
    if (sol_deserialize(input, p)) FAIL(AccountNotEnoughKeys, "more than 64 account entries");
    if (p->data_len < 8) FAIL(InstructionMissing, "instruction data");
    const u8 *d = p->data;
    if (bytes_eq8(d, IX_BUY)) return process_swap(KIND_BUY);
    if (bytes_eq8(d, IX_BUY_EXACT_QUOTE_IN)) return process_swap(KIND_EXACT_QUOTE_IN);
    if (bytes_eq8(d, IX_SELL)) return process_swap(KIND_SELL);
    FAIL(InstructionFallbackNotFound, "unknown instruction");
}
