/*
 * whirlpool.c: an Orca Whirlpool-compatible concentrated-liquidity AMM for localnet, loaded at Orca's
 * program id whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc.
 *
 * Same interfaces as the real program (orca-so/whirlpools, programs/whirlpool/src; layouts and math
 * restated in /work/shared/notes/protocols.md section 3): the Whirlpool (653 B), FixedTickArray (9,988 B)
 * and DynamicTickArray accounts at the real offsets with the real discriminators, `swap` / `swap_v2`
 * instruction data and account order, the sparse tick-array sequence of util/sparse_swap.rs (the three
 * arrays in the swap direction starting at the one holding the current tick, matched by start index
 * whatever the order they are passed in, uninitialized PDAs standing in for empty arrays), the swap loop
 * of manager/swap_manager.rs with math/{tick,token,swap}_math.rs rounding, tick crossing with
 * liquidity_net and the fee/reward growth-outside flip of manager/tick_manager.rs, protocol fee accrual,
 * fee_growth_global, reward growth by elapsed time (manager/whirlpool_manager.rs), and vault transfers
 * signed by the pool PDA ["whirlpool", config, mint_a, mint_b, fee_tier_index_seed, bump].
 * No code was copied.
 *
 * Instructions (8-byte Anchor-style discriminator, then little-endian arguments):
 *
 *   swap    f8c69e91e17587c8 | amount u64 | other_amount_threshold u64 | sqrt_price_limit u128 |
 *                              amount_specified_is_input bool | a_to_b bool          (42 bytes)
 *     accounts: 0 token_program (SPL Token), 1 token_authority (signer), 2 whirlpool (w),
 *     3 token_owner_account_a (w), 4 token_vault_a (w), 5 token_owner_account_b (w), 6 token_vault_b (w),
 *     7-9 tick_array_0..2 (w), 10 oracle PDA ["oracle", whirlpool].
 *   swap_v2 2b04ed0b1ac91e62 | the same five arguments | Option<RemainingAccountsInfo>  (>= 43 bytes)
 *     accounts: 0 token_program_a, 1 token_program_b, 2 memo_program, 3 token_authority (signer),
 *     4 whirlpool (w), 5 token_mint_a, 6 token_mint_b, 7 token_owner_account_a (w), 8 token_vault_a (w),
 *     9 token_owner_account_b (w), 10 token_vault_b (w), 11-13 tick_array_0..2 (w), 14 oracle,
 *     then the remaining accounts the RemainingAccountsInfo slices describe (supplemental tick arrays).
 *
 *   Ours, for seeding (NOT Orca's instructions; documented in README.md):
 *   localnet_initialize_pool       f3fa9eba4db858a5 = sha256("global:localnet_initialize_pool")[:8]
 *   localnet_initialize_tick_array 8fd81c969aa96453 = sha256("global:localnet_initialize_tick_array")[:8]
 *   localnet_add_liquidity         65d3dd881ff88df1 = sha256("global:localnet_add_liquidity")[:8]
 *
 * Error codes: Orca's own ErrorCode (6000 + declaration index, programs/whirlpool/src/errors.rs) where
 * the real program names the failure, Anchor framework codes where it fails an account constraint.
 * Where the real program would panic (overflow-checked arithmetic, unwrap) we return a named error.
 * Table: README.md and whirlpool_errors.py.
 *
 * Deliberate differences (README.md): adaptive-fee pools (fee_tier_index != tick_spacing) are refused,
 * Token-2022 mints with extensions are refused, the oracle account is checked for its address only,
 * localnet_add_liquidity takes FixedTickArrays only, and no "fee_growth" log line or Traded event is
 * emitted. Swaps read and cross ticks of Fixed- and DynamicTickArrays alike.
 */
#include "abi.h"

typedef signed int i32;

/* ---------------- syscalls beyond abi.h ---------------- */
extern u64 sol_try_find_program_address(const SolSignerSeed *seeds, u64 n_seeds, const SolPubkey *program_id,
                                        SolPubkey *address, u8 *bump);
extern u64 sol_get_rent_sysvar(void *out);

/* ---------------- error codes ---------------- */
/* Anchor framework codes (anchor-lang error.rs / ts/packages/anchor-errors). */
#define InstructionMissing 100
#define InstructionFallbackNotFound 101
#define InstructionDidNotDeserialize 102
#define ConstraintMut 2000
#define ConstraintRaw 2003
#define ConstraintSeeds 2006
#define ConstraintAddress 2012
#define AccountDiscriminatorAlreadySet 3000
#define AccountDiscriminatorNotFound 3001
#define AccountDiscriminatorMismatch 3002
#define AccountDidNotDeserialize 3003
#define AccountNotEnoughKeys 3005
#define AccountNotMutable 3006
#define AccountOwnedByWrongProgram 3007
#define InvalidProgramId 3008
#define InvalidProgramExecutable 3009
#define AccountNotSigner 3010
#define AccountNotInitialized 3012
/* orca-so/whirlpools programs/whirlpool/src/errors.rs ErrorCode (Anchor numbers them from 6000). */
#define InvalidStartTick 6001
#define InvalidTickSpacing 6004
#define DivideByZero 6006
#define NumberDownCastError 6008
#define TickNotFound 6009
#define InvalidTickIndex 6010
#define SqrtPriceOutOfBounds 6011
#define LiquidityZero 6012
#define LiquidityTooHigh 6013
#define LiquidityOverflow 6014
#define LiquidityUnderflow 6015
#define LiquidityNetError 6016
#define TokenMaxExceeded 6017
#define TokenMinSubceeded 6018
#define InvalidTimestampConversion 6021
#define InvalidTimestamp 6022
#define InvalidTickArraySequence 6023
#define InvalidTokenMintOrder 6024
#define FeeRateMaxExceeded 6028
#define ProtocolFeeRateMaxExceeded 6029
#define MultiplicationShiftRightOverflow 6030
#define MultiplicationOverflow 6033
#define InvalidSqrtPriceLimitDirection 6034
#define ZeroTradableAmount 6035
#define AmountOutBelowMinimum 6036
#define AmountInAboveMaximum 6037
#define TickArraySequenceInvalidIndex 6038
#define AmountCalcOverflow 6039
#define AmountRemainingOverflow 6040
#define UnsupportedTokenMint 6047
#define RemainingAccountsInvalidSlice 6048
#define RemainingAccountsInsufficient 6049
#define RemainingAccountsDuplicatedAccountsType 6053
#define TooManySupplementalTickArrays 6055
#define DifferentWhirlpoolTickArrayAccount 6056
#define PartialFillError 6057
#define InvalidFeeTierIndex 6062

/* FAIL / CHECK: abi.h (log the error and the failing role, then return the code). */
#define TRY(expr)              \
    do {                       \
        u64 _e = (expr);       \
        if (_e) return _e;     \
    } while (0)

/* ---------------- layouts (protocols.md 3.1 / 3.2) ---------------- */
#define WHIRLPOOL_LEN 653
#define W_CONFIG 8
#define W_BUMP 40
#define W_TICK_SPACING 41
#define W_FEE_TIER_SEED 43
#define W_FEE_RATE 45
#define W_PROTOCOL_FEE_RATE 47
#define W_LIQUIDITY 49
#define W_SQRT_PRICE 65
#define W_TICK 81
#define W_PROTOCOL_FEE_A 85
#define W_PROTOCOL_FEE_B 93
#define W_MINT_A 101
#define W_VAULT_A 133
#define W_FEE_GROWTH_A 165
#define W_MINT_B 181
#define W_VAULT_B 213
#define W_FEE_GROWTH_B 245
#define W_REWARD_TS 261
#define W_REWARDS 269
#define REWARD_SIZE 128
#define R_EMISSIONS 96
#define R_GROWTH 112
#define NUM_REWARDS 3

#define TICK_ARRAY_LEN 9988
#define TA_START 8
#define TA_TICKS 12
#define TA_WHIRLPOOL 9956
#define TICK_SIZE 113
#define T_INITIALIZED 0
#define T_NET 1
#define T_GROSS 17
#define T_FEE_OUT_A 33
#define T_FEE_OUT_B 49
#define T_REWARD_OUT 65
#define TICK_ARRAY_SIZE 88
/* DynamicTickArray (state/dynamic_tick_array.rs): start i32 @8, whirlpool @12, tick_bitmap u128 @44, then 88
 * entries: tag 0 (uninitialized, 1 byte) or tag 1 + the 112 bytes of a tick, laid out like a fixed tick whose
 * `initialized` byte is the tag. */
#define DTA_WHIRLPOOL 12
#define DTA_BITMAP 44
#define DTA_TICKS 60
#define DTA_MIN_LEN (DTA_TICKS + TICK_ARRAY_SIZE)
#define DTA_MAX_LEN (DTA_TICKS + TICK_ARRAY_SIZE * TICK_SIZE)

#define CONFIG_LEN 108

#define TOKEN_ACCOUNT_LEN 165
#define TK_MINT 0
#define TK_OWNER 32
#define TK_AMOUNT 64
#define TK_STATE 108
#define MINT_LEN 82
#define M_DECIMALS 44
#define M_IS_INITIALIZED 45

#define MIN_TICK_INDEX (-443636)
#define MAX_TICK_INDEX 443636
#define FEE_RATE_MUL_VALUE 1000000UL
#define PROTOCOL_FEE_RATE_MUL_VALUE 10000UL
#define MAX_FEE_RATE 60000      /* static pools (math/constants.rs) */
#define MAX_PROTOCOL_FEE_RATE 2500
#define MAX_SUPPLEMENTAL_TICK_ARRAYS 3
#define ACCOUNTS_TYPE_TRANSFER_HOOK_A 0
#define ACCOUNTS_TYPE_TRANSFER_HOOK_B 1
#define ACCOUNTS_TYPE_SUPPLEMENTAL_TICK_ARRAYS 6
#define ACCOUNTS_TYPE_LAST 12   /* the enum has 13 variants; larger values fail Borsh deserialization */

static const u8 DISC_WHIRLPOOL[8] __attribute__((aligned(8))) = {63, 149, 209, 12, 225, 128, 99, 9};
static const u8 DISC_TICK_ARRAY[8] __attribute__((aligned(8))) = {69, 97, 189, 190, 110, 7, 66, 187};
static const u8 DISC_DYNAMIC_TICK_ARRAY[8] __attribute__((aligned(8))) = {17, 216, 246, 142, 225, 199, 218, 56};
static const u8 DISC_CONFIG[8] __attribute__((aligned(8))) = {157, 20, 49, 224, 217, 87, 193, 254};
static const u8 IX_SWAP[8] __attribute__((aligned(8))) = {248, 198, 158, 145, 225, 117, 135, 200};
static const u8 IX_SWAP_V2[8] __attribute__((aligned(8))) = {43, 4, 237, 11, 26, 201, 30, 98};
static const u8 IX_INIT_POOL[8] __attribute__((aligned(8))) = {243, 250, 158, 186, 77, 184, 88, 165};
static const u8 IX_INIT_TICK_ARRAY[8] __attribute__((aligned(8))) = {143, 216, 28, 150, 154, 169, 100, 83};
static const u8 IX_ADD_LIQUIDITY[8] __attribute__((aligned(8))) = {101, 211, 221, 136, 31, 248, 141, 241};

static const SolPubkey TOKEN_PROGRAM __attribute__((aligned(8))) = {{
    6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172,
    28, 180, 133, 237, 95, 91, 55, 145, 58, 140, 245, 133, 126, 255, 0, 169}};
static const SolPubkey TOKEN_2022_PROGRAM __attribute__((aligned(8))) = {{
    6, 221, 246, 225, 238, 117, 143, 222, 24, 66, 93, 188, 228, 108, 205, 218,
    182, 26, 252, 77, 131, 185, 13, 39, 254, 189, 249, 40, 216, 161, 139, 252}};
static const SolPubkey MEMO_PROGRAM __attribute__((aligned(8))) = {{
    5, 74, 83, 90, 153, 41, 33, 6, 77, 36, 232, 113, 96, 218, 56, 124,
    124, 53, 181, 221, 188, 146, 187, 129, 228, 31, 168, 64, 65, 5, 68, 141}};
static const SolPubkey SYSTEM_PROGRAM __attribute__((aligned(8))) = {{0}};

static const char SEED_WHIRLPOOL[] = "whirlpool";
static const char SEED_TICK_ARRAY[] = "tick_array";
static const char SEED_ORACLE[] = "oracle";

/* ---------------- 128/256-bit helpers ---------------- */

typedef struct {
    u64 w[4];
} u256;

static inline u128 ld_u128(const u8 *p) {
    u128 r = {ld_u64(p), ld_u64(p + 8)};
    return r;
}
static inline void st_u128(u8 *p, const u128 *v) {
    st_u64(p, v->lo);
    st_u64(p + 8, v->hi);
}
static inline i32 ld_i32(const u8 *p) { return *(const i32 *)p; }
static inline void st_i32(u8 *p, i32 v) { *(i32 *)p = v; }
static inline int eq_128(const u128 *a, const u128 *b) { return a->lo == b->lo && a->hi == b->hi; }
static inline u128 mk128(u64 lo, u64 hi) {
    u128 r = {lo, hi};
    return r;
}

/* Wrapping 128-bit add / sub (fee and reward growth accumulators wrap by design). */
static inline u128 wrapping_add_128(const u128 *a, const u128 *b) {
    u128 r;
    r.lo = a->lo + b->lo;
    r.hi = a->hi + b->hi + (r.lo < a->lo);
    return r;
}
static inline u128 wrapping_sub_128(const u128 *a, const u128 *b) {
    u128 r;
    r.lo = a->lo - b->lo;
    r.hi = a->hi - b->hi - (a->lo < b->lo);
    return r;
}

/* r = a * b, exact 256-bit product. */
static void mul_128x128(const u128 *a, const u128 *b, u256 *r) {
    u128 p00, p01, p10, p11;
    mul_64x64(a->lo, b->lo, &p00);
    if ((a->hi | b->hi) == 0) {
        r->w[0] = p00.lo;
        r->w[1] = p00.hi;
        r->w[2] = 0;
        r->w[3] = 0;
        return;
    }
    mul_64x64(a->lo, b->hi, &p01);
    mul_64x64(a->hi, b->lo, &p10);
    mul_64x64(a->hi, b->hi, &p11);
    r->w[0] = p00.lo;
    u64 s = p00.hi + p01.lo, c = s < p00.hi;
    u64 s2 = s + p10.lo;
    c += s2 < s;
    r->w[1] = s2;
    u64 t = p01.hi + p10.hi, c2 = t < p01.hi;
    u64 t2 = t + p11.lo;
    c2 += t2 < t;
    u64 t3 = t2 + c;
    c2 += t3 < t2;
    r->w[2] = t3;
    r->w[3] = p11.hi + c2;
}

static inline int cmp_256(const u256 *a, const u256 *b) {
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}
static inline int is_zero_256(const u256 *a) { return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0; }

/* r = a + b; returns 0 on overflow past 256 bits. */
static int add_256(const u256 *a, const u256 *b, u256 *r) {
    u64 carry = 0;
    for (int i = 0; i < 4; i++) {
        u64 s = a->w[i] + b->w[i];
        u64 c1 = s < a->w[i];
        u64 s2 = s + carry;
        u64 c2 = s2 < s;
        r->w[i] = s2;
        carry = c1 | c2;
    }
    return carry == 0;
}
/* r = a - b for a >= b. */
static void sub_256(const u256 *a, const u256 *b, u256 *r) {
    u64 borrow = 0;
    for (int i = 0; i < 4; i++) {
        u64 d = a->w[i] - b->w[i];
        u64 b1 = a->w[i] < b->w[i];
        u64 d2 = d - borrow;
        u64 b2 = d < borrow;
        r->w[i] = d2;
        borrow = b1 | b2;
    }
}
/* a << 64 (one word); the caller checks the top word is free. */
static inline void shl64_256(u256 *a) {
    a->w[3] = a->w[2];
    a->w[2] = a->w[1];
    a->w[1] = a->w[0];
    a->w[0] = 0;
}

/* Base-2**32 digits of a (little-endian); returns the count without leading zero digits. */
static int to_digits(const u256 *a, u32 *d) {
    for (int i = 0; i < 4; i++) {
        d[2 * i] = (u32)a->w[i];
        d[2 * i + 1] = (u32)(a->w[i] >> 32);
    }
    int n = 8;
    while (n > 0 && d[n - 1] == 0) n--;
    return n;
}

static void from_digits(const u32 *d, int n, u256 *a) {
    for (int i = 0; i < 4; i++) a->w[i] = 0;
    for (int i = 0; i < n; i++) a->w[i / 2] |= (u64)d[i] << (32 * (i & 1));
}

/*
 * Long division of m-digit u by n-digit v (base 2**32, m >= n >= 2, v[n-1] != 0): Knuth's algorithm D
 * (TAOCP vol. 2, 4.3.1) as laid out in Hacker's Delight "divmnu": normalize so the divisor's top
 * digit has its high bit set, estimate each quotient digit from the top two remainder digits, correct
 * it at most twice, multiply-subtract, add back when the estimate was one too large. All intermediate
 * values fit in 64 bits (signed for the borrow chain).
 */
typedef struct {
    u32 u[8], v[8], q[8], r[8]; /* dividend, divisor, quotient, remainder digits */
    int m, n;                   /* digit counts of u and v */
} LongDivision;

static __attribute__((noinline)) void knuth_divmod(LongDivision *ld) {
    const u32 *u = ld->u, *v = ld->v;
    u32 *q = ld->q, *r = ld->r;
    int m = ld->m, n = ld->n;
    u32 un[9], vn[8];
    int s = clz_64((u64)v[n - 1]) - 32;
    for (int i = n - 1; i > 0; i--) vn[i] = (v[i] << s) | (s ? (u32)((u64)v[i - 1] >> (32 - s)) : 0);
    vn[0] = v[0] << s;
    un[m] = s ? (u32)((u64)u[m - 1] >> (32 - s)) : 0;
    for (int i = m - 1; i > 0; i--) un[i] = (u[i] << s) | (s ? (u32)((u64)u[i - 1] >> (32 - s)) : 0);
    un[0] = u[0] << s;
    for (int j = m - n; j >= 0; j--) {
        u64 num = ((u64)un[j + n] << 32) | un[j + n - 1];
        u64 qhat = num / vn[n - 1];
        u64 rhat = num - qhat * vn[n - 1];
        while ((qhat >> 32) || qhat * vn[n - 2] > ((rhat << 32) | un[j + n - 2])) {
            qhat--;
            rhat += vn[n - 1];
            if (rhat >> 32) break;
        }
        i64 k = 0, t;
        for (int i = 0; i < n; i++) {
            u64 p = qhat * vn[i];
            t = (i64)un[i + j] - k - (i64)(p & 0xffffffffUL);
            un[i + j] = (u32)t;
            k = (i64)(p >> 32) - (t >> 32);
        }
        t = (i64)un[j + n] - k;
        un[j + n] = (u32)t;
        q[j] = (u32)qhat;
        if (t < 0) {
            q[j]--;
            u64 c = 0;
            for (int i = 0; i < n; i++) {
                u64 sum = (u64)un[i + j] + vn[i] + c;
                un[i + j] = (u32)sum;
                c = sum >> 32;
            }
            un[j + n] = (u32)((u64)un[j + n] + c);
        }
    }
    for (int i = 0; i < n - 1; i++) r[i] = (un[i] >> s) | (s ? (u32)((u64)un[i + 1] << (32 - s)) : 0);
    r[n - 1] = un[n - 1] >> s;
}

/* q = n / d, r = n % d (floor); d != 0 (callers check). */
static __attribute__((noinline)) void divmod_256(const u256 *num, const u256 *den, u256 *q, u256 *r) {
    if ((num->w[2] | num->w[3] | den->w[2] | den->w[3]) == 0) {
        u128 n = mk128(num->w[0], num->w[1]), d = mk128(den->w[0], den->w[1]), qq, rr;
        divmod_128(&n, &d, &qq, &rr);
        q->w[0] = qq.lo, q->w[1] = qq.hi, q->w[2] = 0, q->w[3] = 0;
        r->w[0] = rr.lo, r->w[1] = rr.hi, r->w[2] = 0, r->w[3] = 0;
        return;
    }
    if (cmp_256(num, den) < 0) {
        for (int i = 0; i < 4; i++) q->w[i] = 0;
        *r = *num;
        return;
    }
    LongDivision ld;
    int m = ld.m = to_digits(num, ld.u), n = ld.n = to_digits(den, ld.v);
    for (int i = 0; i < 8; i++) ld.q[i] = ld.r[i] = 0;
    if (n == 1) {
        u64 rem = 0;
        for (int j = m - 1; j >= 0; j--) {
            u64 cur = (rem << 32) | ld.u[j];
            ld.q[j] = (u32)(cur / ld.v[0]);
            rem = cur - (u64)ld.q[j] * ld.v[0];
        }
        ld.r[0] = (u32)rem;
    } else {
        knuth_divmod(&ld);
    }
    from_digits(ld.q, m - n + 1, q);
    from_digits(ld.r, n, r);
}

/* ---------------- signed helpers (the v0 ISA has no signed division) ---------------- */

/* floor(a / b) for b > 0. */
static inline i64 floor_div(i64 a, i64 b) {
    if (a >= 0) return (i64)((u64)a / (u64)b);
    u64 q = ((u64)(-a) + (u64)b - 1) / (u64)b;
    return -(i64)q;
}

/* ---------------- tick math (math/tick_math.rs) ---------------- */

static const u128 MIN_SQRT_PRICE = {4295048016UL, 0};
static const u128 MAX_SQRT_PRICE = {0x35bb7f32a81b33afUL, 0xfffec4b1UL};

/* sqrt(1.0001)^(2^k) factors: Q96 for non-negative ticks (multiply, >> 96), Q64 for negative (>> 64). */
static const u128 POS_ODD_Q96 = {0xff11672ae55ad00fUL, 0x1000346d6UL};
static const u128 POS_FACTORS_Q96[18] = {
    {0xbac710cb295e9e1bUL, 0x100068db8UL}, {0x68abe5f76b30fb75UL, 0x1000d1b9cUL},
    {0xa234cb0830516e51UL, 0x1001a37e4UL}, {0xab0e92ada25ab460UL, 0x100347278UL},
    {0x0a525480a5d7fdc2UL, 0x10068efb0UL}, {0xb4173839df9daaa5UL, 0x100d20a63UL},
    {0x742dd7729738df5eUL, 0x101a4c11cUL}, {0x1f64cfa6dc0d6de4UL, 0x1034c35c3UL},
    {0xc8aaffbf81bed5a3UL, 0x106a34b78UL}, {0x6ccd8bce9ae771b1UL, 0x10d72a6a4UL},
    {0x63928596dc757faaUL, 0x11b9a258eUL}, {0x04f8379f3cd17be5UL, 0x13a2e2bdaUL},
    {0x9e0da8fe77f2ab42UL, 0x181954be6UL}, {0x185a029080252877UL, 0x244c2655dUL},
    {0x9f935b1c616779e8UL, 0x525816eebUL}, {0x51684ff4d31ae065UL, 0x1a7c8d00b5UL},
    {0xf7c97884590c66cdUL, 0x2bd893d0b2dUL}, {0x8cf8b95d2152dccfUL, 0x78278e1e19e44UL},
};
static const u64 NEG_ODD_Q64 = 0xfffcb933bd6fad37UL;
static const u64 NEG_FACTORS_Q64[18] = {
    0xfff97272373d4132UL, 0xfff2e50f5f656932UL, 0xffe5caca7e10e4e6UL, 0xffcb9843d60f6159UL,
    0xff973b41fa98c081UL, 0xff2ea16466c96a38UL, 0xfe5dee046a99a2a8UL, 0xfcbe86c7900a88aeUL,
    0xf987a7253ac41317UL, 0xf3392b0822b70005UL, 0xe7159475a2c29b74UL, 0xd097f3bdfd2022b8UL,
    0xa9f746462d870fdfUL, 0x70d869a156d2a1b8UL, 0x31be135f97d08fd9UL, 0x09aa508b5b7a84e1UL,
    0x005d6af8dedb8119UL, 0x00002216e584f5faUL,
};
#define LOG_B_2_X32 59543866431248UL
#define LOG_B_P_ERR_MARGIN_LOWER_X64 0x28f5c28f5c28f5cUL
#define LOG_B_P_ERR_MARGIN_UPPER_X64 0xdb2de8305203e539UL

/* Q64.64 sqrt price of a tick, with the program's own fixed-point steps and truncations. */
static __attribute__((noinline)) u64 sqrt_price_from_tick(i64 tick, u128 *out) {
    if (tick > MAX_TICK_INDEX || tick < MIN_TICK_INDEX) return NumberDownCastError;
    if (tick >= 0) {
        u128 ratio = (tick & 1) ? POS_ODD_Q96 : mk128(0, 1UL << 32);
        for (int k = 0; k < 18; k++) {
            if (!(tick & (2L << k))) continue;
            u256 p;
            mul_128x128(&ratio, &POS_FACTORS_Q96[k], &p);
            ratio.lo = (p.w[1] >> 32) | (p.w[2] << 32);
            ratio.hi = (p.w[2] >> 32) | (p.w[3] << 32);
        }
        out->lo = (ratio.lo >> 32) | (ratio.hi << 32);
        out->hi = ratio.hi >> 32;
        return 0;
    }
    u64 abs_tick = (u64)(-tick);
    u128 ratio = (abs_tick & 1) ? mk128(NEG_ODD_Q64, 0) : mk128(0, 1);
    for (int k = 0; k < 18; k++) {
        if (!(abs_tick & (2UL << k))) continue;
        u128 f = mk128(NEG_FACTORS_Q64[k], 0);
        u256 p;
        mul_128x128(&ratio, &f, &p);
        ratio.lo = p.w[1];
        ratio.hi = p.w[2];
    }
    *out = ratio;
    return 0;
}

/* u128 >> k for 1 <= k <= 64, as u64 (callers guarantee the result fits). */
static inline u64 shr_128_to_64(const u128 *a, int k) {
    if (k >= 64) return a->hi >> (k - 64);
    return (a->lo >> k) | (a->hi << (64 - k));
}

/* Tick t with sqrt_price(t) <= sqrt_price < sqrt_price(t + 1), as the program approximates it. */
static __attribute__((noinline)) i64 tick_from_sqrt_price(const u128 *sqrt_price) {
    int msb = 127 - clz_128(sqrt_price);
    i64 log2p_integer_x32 = (i64)(msb - 64) * (i64)(1L << 32);
    u64 r = msb >= 64 ? shr_128_to_64(sqrt_price, msb - 63) : sqrt_price->lo << (63 - msb);
    u64 bit = 0x8000000000000000UL, fraction = 0;
    for (int precision = 0; precision < 14 && bit; precision++) {
        u128 sq;
        mul_64x64(r, r, &sq);
        u64 more = sq.hi >> 63;
        r = shr_128_to_64(&sq, 63 + (int)more);
        fraction += bit * more;
        bit >>= 1;
    }
    i64 log2p_x32 = log2p_integer_x32 + (i64)(fraction >> 32);
    /* logbp_x64 = log2p_x32 * LOG_B_2_X32 as a signed 128-bit two's-complement value */
    u128 logbp;
    mul_64x64(log2p_x32 < 0 ? (u64)(-log2p_x32) : (u64)log2p_x32, LOG_B_2_X32, &logbp);
    if (log2p_x32 < 0) {
        logbp.lo = ~logbp.lo + 1;
        logbp.hi = ~logbp.hi + (logbp.lo == 0);
    }
    u128 margin_lo = mk128(LOG_B_P_ERR_MARGIN_LOWER_X64, 0), margin_hi = mk128(LOG_B_P_ERR_MARGIN_UPPER_X64, 0);
    u128 low = wrapping_sub_128(&logbp, &margin_lo), high = wrapping_add_128(&logbp, &margin_hi);
    i64 tick_low = (i64)low.hi, tick_high = (i64)high.hi; /* arithmetic >> 64 = the signed high word */
    if (tick_low == tick_high) return tick_low;
    u128 p;
    if (sqrt_price_from_tick(tick_high, &p) == 0 && cmp_128(&p, sqrt_price) <= 0) return tick_high;
    return tick_low;
}

static int is_valid_start_tick(i64 start, i64 tick_spacing) {
    i64 width = TICK_ARRAY_SIZE * tick_spacing;
    if (start < MIN_TICK_INDEX || start > MAX_TICK_INDEX) {
        if (start > MIN_TICK_INDEX) return 0;
        /* Rust's % keeps the dividend's sign: the left-edge array start below MIN_TICK_INDEX */
        i64 rem = -(i64)((u64)(-(i64)MIN_TICK_INDEX) % (u64)width);
        return start == MIN_TICK_INDEX - (rem + width);
    }
    return start - floor_div(start, width) * width == 0;
}

/* ---------------- token math (math/token_math.rs) ---------------- */

/* Token A between two sqrt prices: L*(Pu - Pl)*2^64 / (Pu*Pl), u64. */
static u64 amount_delta_a(const u128 *p0, const u128 *p1, const u128 *liquidity, int round_up, u64 *out) {
    const u128 *lower = p0, *upper = p1;
    if (cmp_128(p0, p1) > 0) lower = p1, upper = p0;
    u128 diff;
    sub_128(upper, lower, &diff);
    u256 num, den, q, r;
    mul_128x128(liquidity, &diff, &num);
    if (num.w[3]) return MultiplicationOverflow; /* the shift by one 64-bit word would overflow U256 */
    shl64_256(&num);
    mul_128x128(upper, lower, &den);
    if (is_zero_256(&den)) return DivideByZero;
    divmod_256(&num, &den, &q, &r);
    if (round_up && !is_zero_256(&r)) {
        u256 one = {{1, 0, 0, 0}};
        if (!add_256(&q, &one, &q)) return NumberDownCastError;
    }
    if (q.w[2] | q.w[3]) return NumberDownCastError;
    if (q.w[1]) return TokenMaxExceeded;
    *out = q.w[0];
    return 0;
}

/* Token B between two sqrt prices: L*(Pu - Pl) / 2^64, u64. */
static u64 amount_delta_b(const u128 *p0, const u128 *p1, const u128 *liquidity, int round_up, u64 *out) {
    u128 diff;
    if (cmp_128(p0, p1) > 0)
        sub_128(p0, p1, &diff);
    else
        sub_128(p1, p0, &diff);
    if (is_zero_128(liquidity) || is_zero_128(&diff)) {
        *out = 0;
        return 0;
    }
    u256 p;
    mul_128x128(liquidity, &diff, &p);
    if (p.w[2] | p.w[3]) return MultiplicationShiftRightOverflow;
    u64 result = p.w[1];
    if (round_up && p.w[0]) {
        if (result == ~0UL) return MultiplicationOverflow;
        result++;
    }
    *out = result;
    return 0;
}

static inline int delta_exceeds_u64(u64 e) {
    return e == MultiplicationOverflow || e == NumberDownCastError || e == TokenMaxExceeded ||
           e == MultiplicationShiftRightOverflow;
}

/* P' = ceil(L*2^64*P / (L*2^64 +- P*amount)), bounded to [MIN, MAX]. */
static u64 next_sqrt_price_from_a_round_up(const u128 *sqrt_price, const u128 *liquidity, u64 amount, int is_input,
                                           u128 *out) {
    if (amount == 0) {
        *out = *sqrt_price;
        return 0;
    }
    u128 amt = mk128(amount, 0);
    u256 product, lp, shifted, den, q, r;
    mul_128x128(sqrt_price, &amt, &product);
    mul_128x128(liquidity, sqrt_price, &lp);
    if (lp.w[3]) return MultiplicationOverflow;
    shifted.w[0] = 0, shifted.w[1] = liquidity->lo, shifted.w[2] = liquidity->hi, shifted.w[3] = 0;
    if (is_input) {
        add_256(&shifted, &product, &den); /* < 2^193: cannot overflow */
    } else {
        if (cmp_256(&shifted, &product) <= 0) return DivideByZero;
        sub_256(&shifted, &product, &den);
    }
    if (is_zero_256(&den)) return DivideByZero;
    shl64_256(&lp);
    divmod_256(&lp, &den, &q, &r);
    if (!is_zero_256(&r)) {
        u256 one = {{1, 0, 0, 0}};
        add_256(&q, &one, &q);
    }
    if (q.w[2] | q.w[3]) return NumberDownCastError;
    u128 res = mk128(q.w[0], q.w[1]);
    if (cmp_128(&res, &MIN_SQRT_PRICE) < 0) return TokenMinSubceeded;
    if (cmp_128(&res, &MAX_SQRT_PRICE) > 0) return TokenMaxExceeded;
    *out = res;
    return 0;
}

/* P' = P +- amount*2^64/L, the delta floored for input and ceiled for output. */
static u64 next_sqrt_price_from_b_round_down(const u128 *sqrt_price, const u128 *liquidity, u64 amount,
                                             int is_input, u128 *out) {
    if (is_zero_128(liquidity)) return DivideByZero;
    u128 num = mk128(0, amount), delta, rem;
    divmod_128(&num, liquidity, &delta, &rem);
    if (is_input) {
        if (!add_128(sqrt_price, &delta, out)) return SqrtPriceOutOfBounds;
        return 0;
    }
    if (!is_zero_128(&rem)) {
        u128 one = {1, 0};
        add_128(&delta, &one, &delta); /* delta <= num < 2^128 - 1 */
    }
    if (!sub_128(sqrt_price, &delta, out)) return SqrtPriceOutOfBounds;
    return 0;
}

/* ---------------- one swap step (math/swap_math.rs) ---------------- */

typedef struct {
    u64 amount_remaining;
    u64 fee_rate;
    u128 liquidity;
    u128 sqrt_price_current;
    u128 sqrt_price_target;
    int is_input;
    int a_to_b;
    /* results */
    u64 amount_in;
    u64 amount_out;
    u128 next_price;
    u64 fee_amount;
} SwapStep;

/* Delta of the token the user specifies (A when a_to_b == is_input), rounded up for input. */
static u64 fixed_delta(const SwapStep *s, const u128 *p1, u64 *out) {
    if (s->a_to_b == s->is_input) return amount_delta_a(&s->sqrt_price_current, p1, &s->liquidity, s->is_input, out);
    return amount_delta_b(&s->sqrt_price_current, p1, &s->liquidity, s->is_input, out);
}
static u64 unfixed_delta(const SwapStep *s, const u128 *p1, u64 *out) {
    if (s->a_to_b == s->is_input) return amount_delta_b(&s->sqrt_price_current, p1, &s->liquidity, !s->is_input, out);
    return amount_delta_a(&s->sqrt_price_current, p1, &s->liquidity, !s->is_input, out);
}

static __attribute__((noinline)) u64 compute_swap_step(SwapStep *s) {
    u64 initial_fixed = 0, amount_calc;
    u64 e = fixed_delta(s, &s->sqrt_price_target, &initial_fixed);
    int initial_ok = e == 0;
    if (e && !delta_exceeds_u64(e)) return e;
    if (s->is_input) {
        u128 p;
        mul_64x64(s->amount_remaining, FEE_RATE_MUL_VALUE - s->fee_rate, &p);
        u128 d = mk128(FEE_RATE_MUL_VALUE, 0), q, r;
        divmod_128(&p, &d, &q, &r);
        amount_calc = q.lo;
    } else {
        amount_calc = s->amount_remaining;
    }
    if (initial_ok && amount_calc >= initial_fixed) {
        s->next_price = s->sqrt_price_target;
    } else if (s->is_input == s->a_to_b) {
        TRY(next_sqrt_price_from_a_round_up(&s->sqrt_price_current, &s->liquidity, amount_calc, s->is_input,
                                            &s->next_price));
    } else {
        TRY(next_sqrt_price_from_b_round_down(&s->sqrt_price_current, &s->liquidity, amount_calc, s->is_input,
                                              &s->next_price));
    }
    int is_max_swap = eq_128(&s->next_price, &s->sqrt_price_target);
    u64 unfixed, fixed;
    TRY(unfixed_delta(s, &s->next_price, &unfixed));
    if (!is_max_swap || !initial_ok)
        TRY(fixed_delta(s, &s->next_price, &fixed));
    else
        fixed = initial_fixed;
    if (s->is_input) {
        s->amount_in = fixed;
        s->amount_out = unfixed;
    } else {
        s->amount_in = unfixed;
        s->amount_out = fixed > s->amount_remaining ? s->amount_remaining : fixed;
    }
    if (s->is_input && !is_max_swap) {
        if (s->amount_in > s->amount_remaining) return AmountRemainingOverflow;
        s->fee_amount = s->amount_remaining - s->amount_in;
    } else {
        u64 den = FEE_RATE_MUL_VALUE - s->fee_rate; /* fee_rate is a u16: < 1e6 */
        u128 p, d = mk128(den, 0), q, r;
        mul_64x64(s->amount_in, s->fee_rate, &p);
        divmod_128(&p, &d, &q, &r);
        if (!is_zero_128(&r)) {
            u128 one = {1, 0};
            add_128(&q, &one, &q);
        }
        if (q.hi) return NumberDownCastError;
        s->fee_amount = q.lo;
    }
    return 0;
}

/* ---------------- heap layout ---------------- */

typedef struct {
    i64 start;
    u8 *data;    /* account data of a loaded tick array; 0 for an uninitialized (all-empty) PDA */
    int dynamic; /* a DynamicTickArray: ticks located through its bitmap */
    u128 bitmap; /* dynamic: bit k set = tick k initialized */
} TickArrayRef;

typedef struct {
    /* tick-array sequence */
    TickArrayRef arrays[3];
    int n_arrays;
    SolAccountInfo *candidates[3 + MAX_SUPPLEMENTAL_TICK_ARRAYS];
    int n_candidates;
    /* reward growths after the time update (manager/whirlpool_manager.rs) */
    u128 reward_growth[NUM_REWARDS];
    int reward_initialized[NUM_REWARDS];
    /* swap result */
    u64 amount_a, amount_b;
    u128 next_liquidity, next_sqrt_price, next_fee_growth;
    i64 next_tick;
    u64 protocol_fee;
    SwapStep step;
} SwapState;

typedef struct {
    SolAccountMeta metas[4];
    SolAccountInfo infos[5];
    u8 data[64];
    SolInstruction ix;
    SolSignerSeed seeds[6];
    u8 str[16];
} CpiScratch;

#define ALIGN8(x) (((x) + 7) & ~7UL)
#define PARAMS ((SolParameters *)HEAP_START)
#define CPI ((CpiScratch *)(HEAP_START + ALIGN8(sizeof(SolParameters))))
#define STATE ((SwapState *)(HEAP_START + ALIGN8(sizeof(SolParameters)) + ALIGN8(sizeof(CpiScratch))))

/* ---------------- account type checks (Anchor Account / InterfaceAccount / Program) ---------------- */

static inline int is_token_program(const SolPubkey *k) {
    return key_eq(k, &TOKEN_PROGRAM) || key_eq(k, &TOKEN_2022_PROGRAM);
}

/* Anchor reports a system-owned account without lamports as "not initialized" before any owner check. */
static inline int is_missing(const SolAccountInfo *a) { return key_eq(a->owner, &SYSTEM_PROGRAM) && *a->lamports == 0; }

static u64 check_whirlpool_account(const SolAccountInfo *a, const SolPubkey *pid) {
    if (is_missing(a)) return AccountNotInitialized;
    if (!key_eq(a->owner, pid)) return AccountOwnedByWrongProgram;
    if (a->data_len < 8) return AccountDiscriminatorNotFound;
    if (!bytes_eq8(a->data, DISC_WHIRLPOOL)) return AccountDiscriminatorMismatch;
    if (a->data_len < WHIRLPOOL_LEN) return AccountDidNotDeserialize;
    return 0;
}

/* spl_only: Account<TokenAccount> (SPL Token only) rather than InterfaceAccount (either program). */
static u64 check_token_account(const SolAccountInfo *a, int spl_only) {
    if (is_missing(a)) return AccountNotInitialized;
    if (spl_only ? !key_eq(a->owner, &TOKEN_PROGRAM) : !is_token_program(a->owner)) return AccountOwnedByWrongProgram;
    if (a->data_len < TOKEN_ACCOUNT_LEN || a->data[TK_STATE] == 0) return AccountDidNotDeserialize;
    return 0;
}

static u64 check_mint(const SolAccountInfo *a) {
    if (is_missing(a)) return AccountNotInitialized;
    if (!is_token_program(a->owner)) return AccountOwnedByWrongProgram;
    if (a->data_len < MINT_LEN || a->data[M_IS_INITIALIZED] == 0) return AccountDidNotDeserialize;
    return 0;
}

static u64 check_program(const SolAccountInfo *a, const SolPubkey *id) {
    if (!key_eq(a->key, id)) return InvalidProgramId;
    if (!a->executable) return InvalidProgramExecutable;
    return 0;
}

static u64 check_token_interface(const SolAccountInfo *a) {
    if (!is_token_program(a->key)) return InvalidProgramId;
    if (!a->executable) return InvalidProgramExecutable;
    return 0;
}

/* ---------------- PDAs ---------------- */

/* Decimal ASCII of v (the tick-array seed is start_tick_index.to_string()); returns the length. */
static u64 decimal(i64 v, u8 *out) {
    u8 tmp[12];
    u64 n = 0, mag = v < 0 ? (u64)(-v) : (u64)v;
    do {
        tmp[n++] = (u8)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    u64 len = 0;
    if (v < 0) out[len++] = '-';
    while (n) out[len++] = tmp[--n];
    return len;
}

static u64 find_pda(const SolSignerSeed *seeds, u64 n, const SolPubkey *pid, SolPubkey *out, u8 *bump) {
    return sol_try_find_program_address(seeds, n, pid, out, bump);
}

static u64 tick_array_pda(const SolPubkey *whirlpool, i64 start, const SolPubkey *pid, SolPubkey *out, u8 *bump) {
    u8 str[12];
    u64 len = decimal(start, str);
    SolSignerSeed seeds[3] = {
        {(const u8 *)SEED_TICK_ARRAY, sizeof(SEED_TICK_ARRAY) - 1}, {whirlpool->x, 32}, {str, len}};
    return find_pda(seeds, 3, pid, out, bump);
}

/* The pool's signer seeds: ["whirlpool", config, mint_a, mint_b, fee_tier_index_seed, bump]. */
static void whirlpool_seeds(const u8 *pool, SolSignerSeed *seeds) {
    seeds[0].addr = (const u8 *)SEED_WHIRLPOOL;
    seeds[0].len = sizeof(SEED_WHIRLPOOL) - 1;
    seeds[1].addr = pool + W_CONFIG;
    seeds[1].len = 32;
    seeds[2].addr = pool + W_MINT_A;
    seeds[2].len = 32;
    seeds[3].addr = pool + W_MINT_B;
    seeds[3].len = 32;
    seeds[4].addr = pool + W_FEE_TIER_SEED;
    seeds[4].len = 2;
    seeds[5].addr = pool + W_BUMP;
    seeds[5].len = 1;
}

/* ---------------- CPIs ---------------- */

static void cpi_info(int slot, const SolAccountInfo *a) { CPI->infos[slot] = *a; }

/* Accounts of one token transfer (mint only for TransferChecked). */
typedef struct {
    const SolAccountInfo *program, *source, *mint, *destination, *authority;
} Transfer;

/* SPL Token Transfer (tag 3) when t->mint is 0, else TransferChecked (tag 12) with the mint's decimals. */
static u64 token_transfer(const Transfer *t, u64 amount, const SolSignerSeeds *signer) {
    CpiScratch *c = CPI;
    int checked = t->mint != 0, n = 0;
    cpi_info(n++, t->program);
    cpi_info(n++, t->source);
    c->metas[0] = (SolAccountMeta){t->source->key, 1, 0};
    if (checked) {
        cpi_info(n++, t->mint);
        c->metas[1] = (SolAccountMeta){t->mint->key, 0, 0};
    }
    cpi_info(n++, t->destination);
    cpi_info(n++, t->authority);
    c->metas[n - 3] = (SolAccountMeta){t->destination->key, 1, 0};
    c->metas[n - 2] = (SolAccountMeta){t->authority->key, 0, 1};
    c->data[0] = checked ? 12 : 3;
    st_u64(c->data + 1, amount);
    if (checked) c->data[9] = t->mint->data[M_DECIMALS];
    c->ix = (SolInstruction){t->program->key, c->metas, (u64)(n - 1), c->data, checked ? 10UL : 9UL};
    return invoke_signed(&c->ix, c->infos, n, signer, signer ? 1 : 0);
}

/* Rent-exempt minimum for `space` bytes (exemption threshold 2.0 years, the cluster default). */
static u64 rent_exempt_minimum(u64 space, u64 *out) {
    u64 rent[3] = {0, 0, 0}; /* lamports_per_byte_year u64, exemption_threshold f64, burn_percent u8 */
    if (sol_get_rent_sysvar(rent) != 0) return AccountNotInitialized;
    if (rent[1] != 0x4000000000000000UL) return AccountNotInitialized; /* 2.0 as IEEE-754 bits */
    *out = (128 + space) * rent[0] * 2;
    return 0;
}

/* System CreateAccount (index 0) of `space` bytes owned by this program, signed by the new account's seeds. */
static u64 create_pda_account(const SolAccountInfo *system, const SolAccountInfo *funder, const SolAccountInfo *target,
                              u64 space, const SolSignerSeeds *signer) {
    CpiScratch *c = CPI;
    const SolPubkey *owner = PARAMS->program_id;
    u64 lamports;
    TRY(rent_exempt_minimum(space, &lamports));
    cpi_info(0, system);
    cpi_info(1, funder);
    cpi_info(2, target);
    c->metas[0] = (SolAccountMeta){funder->key, 1, 1};
    c->metas[1] = (SolAccountMeta){target->key, 1, 1};
    u8 *d = c->data;
    st_u64(d, 0); /* u32 instruction index 0, then 4 bytes of the lamports field start at 4 */
    for (int i = 0; i < 8; i++) d[4 + i] = (u8)(lamports >> (8 * i));
    for (int i = 0; i < 8; i++) d[12 + i] = (u8)(space >> (8 * i));
    for (int i = 0; i < 32; i++) d[20 + i] = owner->x[i];
    c->ix = (SolInstruction){system->key, c->metas, 2, d, 52};
    return invoke_signed(&c->ix, c->infos, 3, signer, 1);
}

/* ---------------- tick arrays ---------------- */

static inline int popcount_64(u64 x) {
    x = x - ((x >> 1) & 0x5555555555555555UL);
    x = (x & 0x3333333333333333UL) + ((x >> 2) & 0x3333333333333333UL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fUL;
    return (int)((x * 0x0101010101010101UL) >> 56);
}

/* Initialized ticks of a dynamic array below offset k (each takes 112 bytes more than its tag). */
static inline int initialized_below(const u128 *bitmap, i64 k) {
    if (k <= 64) return popcount_64(k == 64 ? bitmap->lo : bitmap->lo & ((1UL << k) - 1));
    return popcount_64(bitmap->lo) + popcount_64(bitmap->hi & ((1UL << (k - 64)) - 1));
}

static inline int tick_initialized(const TickArrayRef *ta, i64 k) {
    if (ta->dynamic) return (int)((k < 64 ? ta->bitmap.lo >> k : ta->bitmap.hi >> (k - 64)) & 1);
    return ta->data[TA_TICKS + TICK_SIZE * k + T_INITIALIZED] != 0;
}

/* The bytes of tick k (for a dynamic array: of an initialized tick, whose entry is tag 1 + 112 bytes). */
static inline u8 *tick_at(const TickArrayRef *ta, i64 k) {
    if (ta->dynamic) return ta->data + DTA_TICKS + k + (TICK_SIZE - 1) * initialized_below(&ta->bitmap, k);
    return ta->data + TA_TICKS + TICK_SIZE * k;
}

static void tick_array_ref(TickArrayRef *ta, u8 *data) {
    ta->start = ld_i32(data + TA_START);
    ta->data = data;
    ta->dynamic = bytes_eq8(data, DISC_DYNAMIC_TICK_ARRAY);
    ta->bitmap = ta->dynamic ? ld_u128(data + DTA_BITMAP) : mk128(0, 0);
}

/*
 * util/sparse_swap.rs maybe_load_tick_array + load_tick_array_mut: None for a system-owned empty
 * account, else the account must be writable, ours, a Fixed- or DynamicTickArray of this pool.
 */
static u64 load_tick_array(const SolAccountInfo *a, const SolPubkey *whirlpool, const SolPubkey *pid, int *loaded) {
    *loaded = 0;
    if (key_eq(a->owner, &SYSTEM_PROGRAM) && a->data_len == 0) return 0;
    if (!a->is_writable) return AccountNotMutable;
    if (!key_eq(a->owner, pid)) return AccountOwnedByWrongProgram;
    if (a->data_len < 8) return AccountDiscriminatorNotFound;
    if (bytes_eq8(a->data, DISC_DYNAMIC_TICK_ARRAY)) {
        if (a->data_len < DTA_MIN_LEN || a->data_len > DTA_MAX_LEN) return AccountDidNotDeserialize;
        u128 bitmap = ld_u128(a->data + DTA_BITMAP);
        u64 initialized = (u64)(popcount_64(bitmap.lo) + popcount_64(bitmap.hi & 0xffffffUL));
        if (bitmap.hi >> 24) return AccountDidNotDeserialize; /* bits past tick 87 */
        if (DTA_MIN_LEN + (TICK_SIZE - 1) * initialized > a->data_len) return AccountDidNotDeserialize;
        if (!key_eq_bytes(a->data + DTA_WHIRLPOOL, whirlpool)) return DifferentWhirlpoolTickArrayAccount;
        *loaded = 1;
        return 0;
    }
    if (!bytes_eq8(a->data, DISC_TICK_ARRAY)) return AccountDiscriminatorMismatch;
    if (a->data_len != TICK_ARRAY_LEN) return AccountDidNotDeserialize;
    if (!key_eq_bytes(a->data + TA_WHIRLPOOL, whirlpool)) return DifferentWhirlpoolTickArrayAccount;
    *loaded = 1;
    return 0;
}

static int key_cmp(const SolPubkey *a, const SolPubkey *b) {
    for (int i = 0; i < 32; i++)
        if (a->x[i] != b->x[i]) return a->x[i] < b->x[i] ? -1 : 1;
    return 0;
}

/* get_start_tick_indexes: up to 3 array starts in the swap direction. */
static int start_tick_indexes(i64 tick_current, i64 tick_spacing, int a_to_b, i64 *out) {
    i64 width = TICK_ARRAY_SIZE * tick_spacing;
    i64 base = floor_div(tick_current, width) * width;
    i64 first = a_to_b ? 0 : (tick_current + tick_spacing >= base + width ? 1 : 0);
    int n = 0;
    for (int i = 0; i < 3; i++) {
        i64 s = base + (a_to_b ? -(i64)i : first + i) * width;
        if (is_valid_start_tick(s, tick_spacing)) out[n++] = s;
    }
    return n;
}

/*
 * SparseSwapTickSequenceBuilder: the candidate accounts are deduplicated by key and visited in key
 * order (the real builder sorts them); each start index of the swap direction takes the first loaded
 * array with that start, else an uninitialized account at the array's PDA, else the sequence ends.
 */
static u64 build_tick_sequence(SwapState *st, const SolAccountInfo *whirlpool, const SolPubkey *pid, int a_to_b) {
    SolAccountInfo **c = st->candidates;
    int n = st->n_candidates;
    for (int i = 1; i < n; i++) /* insertion sort by key, n <= 6 */
        for (int j = i; j > 0 && key_cmp(c[j - 1]->key, c[j]->key) > 0; j--) {
            SolAccountInfo *t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
        }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || !key_eq(c[m - 1]->key, c[i]->key)) c[m++] = c[i];
    n = st->n_candidates = m;
    int loaded[3 + MAX_SUPPLEMENTAL_TICK_ARRAYS];
    for (int i = 0; i < n; i++) CHECK(load_tick_array(c[i], whirlpool->key, pid, &loaded[i]), "tick_array");
    const u8 *pool = whirlpool->data;
    i64 starts[3];
    int ns = start_tick_indexes(ld_i32(pool + W_TICK), ld_u16(pool + W_TICK_SPACING), a_to_b, starts);
    st->n_arrays = 0;
    for (int s = 0; s < ns; s++) {
        int found = -1;
        for (int i = 0; i < n && found < 0; i++)
            if (loaded[i] == 1 && ld_i32(c[i]->data + TA_START) == starts[s]) found = i;
        TickArrayRef *ta = &st->arrays[st->n_arrays];
        ta->start = starts[s];
        ta->dynamic = 0;
        if (found >= 0) {
            loaded[found] = 2; /* used: a second array with the same start cannot serve twice */
            tick_array_ref(ta, c[found]->data);
            st->n_arrays++;
            continue;
        }
        SolPubkey pda;
        u8 bump;
        if (tick_array_pda(whirlpool->key, starts[s], pid, &pda, &bump) != 0) break;
        int present = 0;
        for (int i = 0; i < n; i++) present |= key_eq(c[i]->key, &pda);
        if (!present) break;
        ta->data = 0;
        st->n_arrays++;
    }
    if (st->n_arrays == 0) FAIL(InvalidTickArraySequence, "no tick array for the swap direction");
    return 0;
}

typedef struct {
    int array_index; /* in: where the search starts; out: the array holding next_tick */
    i64 next_tick;   /* the next initialized tick, or the last array's edge, or MIN / MAX tick */
    u8 *tick;        /* the tick's bytes when it is initialized, else 0 */
} TickSearch;

/* util/swap_tick_sequence.rs get_next_initialized_tick_index, searching from tick_index. */
static u64 next_initialized_tick(const SwapState *st, i64 tick_index, i64 tick_spacing, int a_to_b, TickSearch *out) {
    i64 width = TICK_ARRAY_SIZE * tick_spacing;
    i64 search = tick_index;
    int idx = out->array_index;
    int *array_index = &out->array_index;
    i64 *next_tick = &out->next_tick;
    u8 **tick = &out->tick;
    *tick = 0;
    for (;;) {
        if (idx >= st->n_arrays) FAIL(TickArraySequenceInvalidIndex, "swap ran past the supplied tick arrays");
        const TickArrayRef *ta = &st->arrays[idx];
        i64 start = ta->start;
        i64 lower = a_to_b ? start : start - tick_spacing, upper = lower + width;
        if (search < lower || search >= upper) FAIL(InvalidTickArraySequence, "tick outside the next tick array");
        i64 offset = floor_div(search - start, tick_spacing);
        if (ta->data) {
            if (a_to_b) {
                for (i64 k = offset; k >= 0; k--)
                    if (tick_initialized(ta, k)) {
                        *array_index = idx, *next_tick = start + k * tick_spacing, *tick = tick_at(ta, k);
                        return 0;
                    }
            } else {
                for (i64 k = offset + 1; k < TICK_ARRAY_SIZE; k++)
                    if (tick_initialized(ta, k)) {
                        *array_index = idx, *next_tick = start + k * tick_spacing, *tick = tick_at(ta, k);
                        return 0;
                    }
            }
        }
        *array_index = idx;
        if (a_to_b && start <= MIN_TICK_INDEX) {
            *next_tick = MIN_TICK_INDEX;
            return 0;
        }
        if (!a_to_b && start + width > MAX_TICK_INDEX) {
            *next_tick = MAX_TICK_INDEX;
            return 0;
        }
        if (idx + 1 == st->n_arrays) {
            *next_tick = a_to_b ? start : start + width - 1;
            return 0;
        }
        search = a_to_b ? start - 1 : start + width - 1;
        idx++;
    }
}

/* ---------------- liquidity arithmetic ---------------- */

/* liquidity + delta for a signed 128-bit delta (two's complement). */
static u64 add_liquidity_delta(const u128 *liquidity, const u128 *delta, u128 *out) {
    if ((i64)delta->hi >= 0) {
        if (!add_128(liquidity, delta, out)) return LiquidityOverflow;
        return 0;
    }
    u128 zero = {0, 0}, mag = wrapping_sub_128(&zero, delta); /* |delta|, 2^127 for i128::MIN */
    if (!sub_128(liquidity, &mag, out)) return LiquidityUnderflow;
    return 0;
}

static inline u128 negate_128(const u128 *a) {
    u128 zero = {0, 0};
    return wrapping_sub_128(&zero, a);
}

/* ---------------- rewards (manager/whirlpool_manager.rs next_whirlpool_reward_infos) ---------------- */

static u64 next_reward_growths(SwapState *st, const u8 *pool, u64 timestamp) {
    u64 last = ld_u64(pool + W_REWARD_TS);
    if (timestamp < last) FAIL(InvalidTimestamp, "clock is before reward_last_updated_timestamp");
    u128 liquidity = ld_u128(pool + W_LIQUIDITY);
    for (int i = 0; i < NUM_REWARDS; i++) {
        const u8 *info = pool + W_REWARDS + REWARD_SIZE * i;
        st->reward_initialized[i] = !is_zero(info, 32);
        st->reward_growth[i] = ld_u128(info + R_GROWTH);
        if (!st->reward_initialized[i] || is_zero_128(&liquidity) || timestamp == last) continue;
        /* checked_mul_div(time_delta, emissions, liquidity), 0 when the product overflows u128 */
        u128 emissions = ld_u128(info + R_EMISSIONS), delta = mk128(timestamp - last, 0), q, r;
        u256 p;
        mul_128x128(&delta, &emissions, &p);
        if (p.w[2] | p.w[3]) continue;
        u128 prod = mk128(p.w[0], p.w[1]);
        divmod_128(&prod, &liquidity, &q, &r);
        st->reward_growth[i] = wrapping_add_128(&st->reward_growth[i], &q);
    }
    return 0;
}

static void write_reward_growths(const SwapState *st, u8 *pool, u64 timestamp) {
    for (int i = 0; i < NUM_REWARDS; i++) st_u128(pool + W_REWARDS + REWARD_SIZE * i + R_GROWTH, &st->reward_growth[i]);
    st_u64(pool + W_REWARD_TS, timestamp);
}

static u64 clock_timestamp(u64 *out) {
    SolClock clock;
    if (sol_get_clock_sysvar(&clock) != 0) FAIL(InvalidTimestampConversion, "clock sysvar unavailable");
    if (clock.unix_timestamp < 0) FAIL(InvalidTimestampConversion, "negative unix timestamp");
    *out = (u64)clock.unix_timestamp;
    return 0;
}

/* ---------------- the swap loop (manager/swap_manager.rs swap, static fee) ---------------- */

typedef struct {
    u64 amount;
    u128 sqrt_price_limit;
    int is_input;
    int a_to_b;
    u64 timestamp;
} SwapArgs;

static __attribute__((noinline)) u64 run_swap(SwapState *st, const u8 *pool, const SwapArgs *args) {
    int a_to_b = args->a_to_b, is_input = args->is_input;
    u128 sqrt_price = ld_u128(pool + W_SQRT_PRICE);
    u128 limit = args->sqrt_price_limit;
    if (is_zero_128(&limit)) limit = a_to_b ? MIN_SQRT_PRICE : MAX_SQRT_PRICE;
    if (cmp_128(&limit, &MIN_SQRT_PRICE) < 0 || cmp_128(&limit, &MAX_SQRT_PRICE) > 0)
        FAIL(SqrtPriceOutOfBounds, "sqrt_price_limit");
    if ((a_to_b && cmp_128(&limit, &sqrt_price) > 0) || (!a_to_b && cmp_128(&limit, &sqrt_price) < 0))
        FAIL(InvalidSqrtPriceLimitDirection, "sqrt_price_limit");
    if (args->amount == 0) FAIL(ZeroTradableAmount, "amount");
    TRY(next_reward_growths(st, pool, args->timestamp));
    i64 tick_spacing = ld_u16(pool + W_TICK_SPACING);
    u64 fee_rate = ld_u16(pool + W_FEE_RATE), protocol_fee_rate = ld_u16(pool + W_PROTOCOL_FEE_RATE);
    u64 remaining = args->amount, calculated = 0, protocol_fee = 0;
    i64 curr_tick = ld_i32(pool + W_TICK);
    u128 curr_liq = ld_u128(pool + W_LIQUIDITY);
    u128 fee_growth = ld_u128(pool + (a_to_b ? W_FEE_GROWTH_A : W_FEE_GROWTH_B));
    u128 other_fee_growth = ld_u128(pool + (a_to_b ? W_FEE_GROWTH_B : W_FEE_GROWTH_A));
    int array_index = 0;
    SwapStep *s = &st->step;
    while (remaining > 0 && !eq_128(&limit, &sqrt_price)) {
        TickSearch found = {array_index, 0, 0};
        TRY(next_initialized_tick(st, curr_tick, tick_spacing, a_to_b, &found));
        int next_array = found.array_index;
        i64 next_tick = found.next_tick;
        u8 *tick = found.tick;
        u128 next_tick_price;
        CHECK(sqrt_price_from_tick(next_tick, &next_tick_price), "next tick price");
        u128 target = a_to_b ? (cmp_128(&limit, &next_tick_price) > 0 ? limit : next_tick_price)
                             : (cmp_128(&limit, &next_tick_price) < 0 ? limit : next_tick_price);
        s->amount_remaining = remaining;
        s->fee_rate = fee_rate;
        s->liquidity = curr_liq;
        s->sqrt_price_current = sqrt_price;
        s->sqrt_price_target = target;
        s->is_input = is_input;
        s->a_to_b = a_to_b;
        CHECK(compute_swap_step(s), "swap step");
        if (is_input) {
            if (s->amount_in > remaining || s->fee_amount > remaining - s->amount_in)
                FAIL(AmountRemainingOverflow, "step consumed more than the remaining amount");
            remaining -= s->amount_in + s->fee_amount;
            if (calculated + s->amount_out < calculated) FAIL(AmountCalcOverflow, "amount out");
            calculated += s->amount_out;
        } else {
            if (s->amount_out > remaining) FAIL(AmountRemainingOverflow, "step delivered more than requested");
            remaining -= s->amount_out;
            u64 c1 = calculated + s->amount_in;
            if (c1 < calculated) FAIL(AmountCalcOverflow, "amount in");
            u64 c2 = c1 + s->fee_amount;
            if (c2 < c1) FAIL(AmountCalcOverflow, "amount in with fee");
            calculated = c2;
        }
        /* calculate_fees: protocol share floored, the rest grows fee_growth_global (both wrap) */
        u64 lp_fee = s->fee_amount;
        if (protocol_fee_rate > 0) {
            u128 p, d = mk128(PROTOCOL_FEE_RATE_MUL_VALUE, 0), q, r;
            mul_64x64(s->fee_amount, protocol_fee_rate, &p);
            divmod_128(&p, &d, &q, &r);
            lp_fee -= q.lo;
            protocol_fee += q.lo;
        }
        if (!is_zero_128(&curr_liq)) {
            u128 num = mk128(0, lp_fee), q, r;
            divmod_128(&num, &curr_liq, &q, &r);
            fee_growth = wrapping_add_128(&fee_growth, &q);
        }
        if (eq_128(&s->next_price, &next_tick_price)) {
            if (tick) {
                /* tick_manager.rs next_tick_cross_update, then liquidity +- liquidity_net */
                u128 fa = a_to_b ? fee_growth : other_fee_growth, fb = a_to_b ? other_fee_growth : fee_growth;
                u128 out_a = ld_u128(tick + T_FEE_OUT_A), out_b = ld_u128(tick + T_FEE_OUT_B);
                u128 net = ld_u128(tick + T_NET);
                u128 signed_net = a_to_b ? negate_128(&net) : net;
                if (a_to_b && net.hi == 0x8000000000000000UL && net.lo == 0)
                    FAIL(LiquidityOverflow, "liquidity_net is i128::MIN");
                u128 next_liq;
                CHECK(add_liquidity_delta(&curr_liq, &signed_net, &next_liq), "crossing tick");
                u128 new_a = wrapping_sub_128(&fa, &out_a), new_b = wrapping_sub_128(&fb, &out_b);
                st_u128(tick + T_FEE_OUT_A, &new_a);
                st_u128(tick + T_FEE_OUT_B, &new_b);
                for (int i = 0; i < NUM_REWARDS; i++) {
                    if (!st->reward_initialized[i]) continue;
                    u128 out = ld_u128(tick + T_REWARD_OUT + 16 * i);
                    u128 nv = wrapping_sub_128(&st->reward_growth[i], &out);
                    st_u128(tick + T_REWARD_OUT + 16 * i, &nv);
                }
                curr_liq = next_liq;
            }
            i64 offset = floor_div(next_tick - st->arrays[next_array].start, tick_spacing);
            array_index = ((a_to_b && offset == 0) || (!a_to_b && offset == TICK_ARRAY_SIZE - 1)) ? next_array + 1
                                                                                               : next_array;
            curr_tick = a_to_b ? next_tick - 1 : next_tick;
        } else if (!eq_128(&s->next_price, &sqrt_price)) {
            curr_tick = tick_from_sqrt_price(&s->next_price);
        }
        sqrt_price = s->next_price;
    }
    if (remaining > 0 && !is_input && is_zero_128(&args->sqrt_price_limit))
        FAIL(PartialFillError, "exact-out swap without a price limit could not be filled");
    u64 filled = args->amount - remaining;
    if (a_to_b == is_input)
        st->amount_a = filled, st->amount_b = calculated;
    else
        st->amount_a = calculated, st->amount_b = filled;
    st->next_liquidity = curr_liq;
    st->next_sqrt_price = sqrt_price;
    st->next_tick = curr_tick;
    st->next_fee_growth = fee_growth;
    st->protocol_fee = protocol_fee;
    return 0;
}

/* ---------------- swap / swap_v2 ---------------- */

enum { V1_TOKEN_PROGRAM, V1_AUTHORITY, V1_WHIRLPOOL, V1_OWNER_A, V1_VAULT_A, V1_OWNER_B, V1_VAULT_B, V1_TA0,
       V1_TA1, V1_TA2, V1_ORACLE, V1_ACCOUNTS };
enum { V2_TOKEN_PROGRAM_A, V2_TOKEN_PROGRAM_B, V2_MEMO, V2_AUTHORITY, V2_WHIRLPOOL, V2_MINT_A, V2_MINT_B,
       V2_OWNER_A, V2_VAULT_A, V2_OWNER_B, V2_VAULT_B, V2_TA0, V2_TA1, V2_TA2, V2_ORACLE, V2_ACCOUNTS };

typedef struct {
    SolAccountInfo *token_program_a, *token_program_b, *authority, *whirlpool, *mint_a, *mint_b;
    SolAccountInfo *owner_a, *vault_a, *owner_b, *vault_b, *tick_arrays[3], *oracle;
} SwapAccounts;

/* Anchor constraints shared by both instructions, in declaration order. */
static u64 check_swap_constraints(const SwapAccounts *a, const SolPubkey *pid) {
    const u8 *pool = a->whirlpool->data;
    if (!a->whirlpool->is_writable) FAIL(ConstraintMut, "whirlpool");
    if (!a->owner_a->is_writable) FAIL(ConstraintMut, "token_owner_account_a");
    if (!key_eq_bytes(pool + W_MINT_A, (const SolPubkey *)(a->owner_a->data + TK_MINT)))
        FAIL(ConstraintRaw, "token_owner_account_a");
    if (!a->vault_a->is_writable) FAIL(ConstraintMut, "token_vault_a");
    if (!key_eq_bytes(pool + W_VAULT_A, a->vault_a->key)) FAIL(ConstraintAddress, "token_vault_a");
    if (!a->owner_b->is_writable) FAIL(ConstraintMut, "token_owner_account_b");
    if (!key_eq_bytes(pool + W_MINT_B, (const SolPubkey *)(a->owner_b->data + TK_MINT)))
        FAIL(ConstraintRaw, "token_owner_account_b");
    if (!a->vault_b->is_writable) FAIL(ConstraintMut, "token_vault_b");
    if (!key_eq_bytes(pool + W_VAULT_B, a->vault_b->key)) FAIL(ConstraintAddress, "token_vault_b");
    for (int i = 0; i < 3; i++)
        if (!a->tick_arrays[i]->is_writable) FAIL(ConstraintMut, "tick_array");
    SolSignerSeed seeds[2] = {{(const u8 *)SEED_ORACLE, sizeof(SEED_ORACLE) - 1}, {a->whirlpool->key->x, 32}};
    SolPubkey oracle;
    u8 bump;
    if (find_pda(seeds, 2, pid, &oracle, &bump) != 0 || !key_eq(&oracle, a->oracle->key))
        FAIL(ConstraintSeeds, "oracle");
    return 0;
}

/* Parse Option<RemainingAccountsInfo> (swap_v2) and collect supplemental tick arrays as candidates. */
static u64 parse_remaining_accounts(SwapState *st, const u8 *data, u64 len, u64 first_remaining) {
    SolParameters *p = PARAMS;
    if (len < 1) FAIL(InstructionDidNotDeserialize, "remaining_accounts_info");
    if (data[0] == 0) return 0;
    if (data[0] != 1 || len < 5) FAIL(InstructionDidNotDeserialize, "remaining_accounts_info");
    u64 n_slices = (u64)data[1] | (u64)data[2] << 8 | (u64)data[3] << 16 | (u64)data[4] << 24;
    if (len < 5 + 2 * n_slices) FAIL(InstructionDidNotDeserialize, "remaining_accounts_info");
    for (u64 i = 0; i < n_slices; i++)
        if (data[5 + 2 * i] > ACCOUNTS_TYPE_LAST) FAIL(InstructionDidNotDeserialize, "accounts_type");
    u64 next = first_remaining;
    int seen_hook_a = 0, seen_hook_b = 0, seen_supplemental = 0;
    for (u64 i = 0; i < n_slices; i++) {
        u8 type = data[5 + 2 * i], length = data[6 + 2 * i];
        if (type != ACCOUNTS_TYPE_TRANSFER_HOOK_A && type != ACCOUNTS_TYPE_TRANSFER_HOOK_B &&
            type != ACCOUNTS_TYPE_SUPPLEMENTAL_TICK_ARRAYS)
            FAIL(RemainingAccountsInvalidSlice, "accounts_type not accepted by swap_v2");
        if (length == 0) continue;
        if (next + length > p->ka_num) FAIL(RemainingAccountsInsufficient, "remaining accounts");
        int *seen = type == ACCOUNTS_TYPE_TRANSFER_HOOK_A   ? &seen_hook_a
                    : type == ACCOUNTS_TYPE_TRANSFER_HOOK_B ? &seen_hook_b
                                                            : &seen_supplemental;
        if (*seen) FAIL(RemainingAccountsDuplicatedAccountsType, "remaining accounts");
        *seen = 1;
        if (type == ACCOUNTS_TYPE_SUPPLEMENTAL_TICK_ARRAYS) {
            if (length > MAX_SUPPLEMENTAL_TICK_ARRAYS) FAIL(TooManySupplementalTickArrays, "supplemental tick arrays");
            for (u64 k = 0; k < length; k++) st->candidates[st->n_candidates++] = &p->ka[next + k];
        }
        /* transfer-hook accounts are accepted and unused: mints with hooks are refused */
        next += length;
    }
    return 0;
}

static u64 process_swap(int v2) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    const SolPubkey *pid = p->program_id;
    SwapState *st = STATE;
    u64 args_len = v2 ? 43 : 42;
    if (p->data_len < args_len) FAIL(InstructionDidNotDeserialize, "swap args");
    if (p->ka_num < (u64)(v2 ? V2_ACCOUNTS : V1_ACCOUNTS)) FAIL(AccountNotEnoughKeys, "swap accounts");
    const u8 *d = p->data;
    SwapArgs args;
    args.amount = ld_u64(d + 8);
    u64 threshold = ld_u64(d + 16);
    args.sqrt_price_limit = mk128(ld_u64(d + 24), ld_u64(d + 32));
    if (d[40] > 1 || d[41] > 1) FAIL(InstructionDidNotDeserialize, "bool argument");
    args.is_input = d[40];
    args.a_to_b = d[41];

    SwapAccounts a;
    if (v2) {
        a = (SwapAccounts){&ka[V2_TOKEN_PROGRAM_A], &ka[V2_TOKEN_PROGRAM_B], &ka[V2_AUTHORITY], &ka[V2_WHIRLPOOL],
                           &ka[V2_MINT_A], &ka[V2_MINT_B], &ka[V2_OWNER_A], &ka[V2_VAULT_A], &ka[V2_OWNER_B],
                           &ka[V2_VAULT_B], {&ka[V2_TA0], &ka[V2_TA1], &ka[V2_TA2]}, &ka[V2_ORACLE]};
        /* Deserialization, in declaration order. */
        CHECK(check_token_interface(a.token_program_a), "token_program_a");
        CHECK(check_token_interface(a.token_program_b), "token_program_b");
        CHECK(check_program(&ka[V2_MEMO], &MEMO_PROGRAM), "memo_program");
        if (!a.authority->is_signer) FAIL(AccountNotSigner, "token_authority");
        CHECK(check_whirlpool_account(a.whirlpool, pid), "whirlpool");
        CHECK(check_mint(a.mint_a), "token_mint_a");
        CHECK(check_mint(a.mint_b), "token_mint_b");
        CHECK(check_token_account(a.owner_a, 0), "token_owner_account_a");
        CHECK(check_token_account(a.vault_a, 0), "token_vault_a");
        CHECK(check_token_account(a.owner_b, 0), "token_owner_account_b");
        CHECK(check_token_account(a.vault_b, 0), "token_vault_b");
        /* Constraints. */
        if (!key_eq(a.token_program_a->key, a.mint_a->owner)) FAIL(ConstraintAddress, "token_program_a");
        if (!key_eq(a.token_program_b->key, a.mint_b->owner)) FAIL(ConstraintAddress, "token_program_b");
        const u8 *pool = a.whirlpool->data;
        if (!key_eq_bytes(pool + W_MINT_A, a.mint_a->key)) FAIL(ConstraintAddress, "token_mint_a");
        if (!key_eq_bytes(pool + W_MINT_B, a.mint_b->key)) FAIL(ConstraintAddress, "token_mint_b");
    } else {
        a = (SwapAccounts){&ka[V1_TOKEN_PROGRAM], &ka[V1_TOKEN_PROGRAM], &ka[V1_AUTHORITY], &ka[V1_WHIRLPOOL], 0, 0,
                           &ka[V1_OWNER_A], &ka[V1_VAULT_A], &ka[V1_OWNER_B], &ka[V1_VAULT_B],
                           {&ka[V1_TA0], &ka[V1_TA1], &ka[V1_TA2]}, &ka[V1_ORACLE]};
        CHECK(check_program(a.token_program_a, &TOKEN_PROGRAM), "token_program");
        if (!a.authority->is_signer) FAIL(AccountNotSigner, "token_authority");
        CHECK(check_whirlpool_account(a.whirlpool, pid), "whirlpool");
        CHECK(check_token_account(a.owner_a, 1), "token_owner_account_a");
        CHECK(check_token_account(a.vault_a, 1), "token_vault_a");
        CHECK(check_token_account(a.owner_b, 1), "token_owner_account_b");
        CHECK(check_token_account(a.vault_b, 1), "token_vault_b");
    }
    TRY(check_swap_constraints(&a, pid));

    /* Handler. */
    u8 *pool = a.whirlpool->data;
    u64 timestamp;
    TRY(clock_timestamp(&timestamp));
    st->n_candidates = 3;
    for (int i = 0; i < 3; i++) st->candidates[i] = a.tick_arrays[i];
    if (v2) TRY(parse_remaining_accounts(st, d + 42, p->data_len - 42, V2_ACCOUNTS));
    TRY(build_tick_sequence(st, a.whirlpool, pid, args.a_to_b));
    if (ld_u16(pool + W_FEE_TIER_SEED) != ld_u16(pool + W_TICK_SPACING))
        FAIL(InvalidFeeTierIndex, "adaptive-fee pools are not modelled by this program");
    if (v2 && (a.mint_a->data_len > MINT_LEN || a.mint_b->data_len > MINT_LEN))
        FAIL(UnsupportedTokenMint, "Token-2022 mint extensions are not modelled by this program");
    args.timestamp = timestamp;
    TRY(run_swap(st, pool, &args));

    if (args.is_input) {
        if (threshold > (args.a_to_b ? st->amount_b : st->amount_a))
            FAIL(AmountOutBelowMinimum, "other_amount_threshold");
    } else {
        if (threshold < (args.a_to_b ? st->amount_a : st->amount_b))
            FAIL(AmountInAboveMaximum, "other_amount_threshold");
    }

    /* Whirlpool::update_after_swap */
    st_i32(pool + W_TICK, (i32)st->next_tick);
    st_u128(pool + W_SQRT_PRICE, &st->next_sqrt_price);
    st_u128(pool + W_LIQUIDITY, &st->next_liquidity);
    write_reward_growths(st, pool, timestamp);
    st_u128(pool + (args.a_to_b ? W_FEE_GROWTH_A : W_FEE_GROWTH_B), &st->next_fee_growth);
    u8 *owed = pool + (args.a_to_b ? W_PROTOCOL_FEE_A : W_PROTOCOL_FEE_B);
    u64 before = ld_u64(owed);
    if (before + st->protocol_fee < before) FAIL(AmountCalcOverflow, "protocol_fee_owed");
    st_u64(owed, before + st->protocol_fee);

    /* Deposit from the user (signed by token_authority), then withdraw from the vault (signed by the pool). */
    SolSignerSeed *seeds = CPI->seeds;
    whirlpool_seeds(pool, seeds);
    SolSignerSeeds signer = {seeds, 6};
    const SolAccountInfo *prog_in = args.a_to_b ? a.token_program_a : a.token_program_b;
    const SolAccountInfo *prog_out = args.a_to_b ? a.token_program_b : a.token_program_a;
    const SolAccountInfo *user_in = args.a_to_b ? a.owner_a : a.owner_b;
    const SolAccountInfo *vault_in = args.a_to_b ? a.vault_a : a.vault_b;
    const SolAccountInfo *user_out = args.a_to_b ? a.owner_b : a.owner_a;
    const SolAccountInfo *vault_out = args.a_to_b ? a.vault_b : a.vault_a;
    u64 amount_in = args.a_to_b ? st->amount_a : st->amount_b, amount_out = args.a_to_b ? st->amount_b : st->amount_a;
    const SolAccountInfo *mint_in = args.a_to_b ? a.mint_a : a.mint_b, *mint_out = args.a_to_b ? a.mint_b : a.mint_a;
    Transfer deposit = {prog_in, user_in, mint_in, vault_in, a.authority};
    Transfer withdrawal = {prog_out, vault_out, mint_out, user_out, a.whirlpool};
    TRY(token_transfer(&deposit, amount_in, 0));
    TRY(token_transfer(&withdrawal, amount_out, &signer));
    return SUCCESS;
}

/* ---------------- localnet_initialize_pool (ours) ---------------- */

enum { IP_FUNDER, IP_CONFIG, IP_MINT_A, IP_MINT_B, IP_WHIRLPOOL, IP_VAULT_A, IP_VAULT_B, IP_SYSTEM, IP_ACCOUNTS };
#define INIT_POOL_DATA_LEN 31

static u64 check_vault_for(const SolAccountInfo *vault, const SolAccountInfo *mint, const SolPubkey *owner) {
    TRY(check_token_account(vault, 0));
    if (!key_eq_bytes(vault->data + TK_MINT, mint->key)) return ConstraintRaw;
    if (!key_eq_bytes(vault->data + TK_OWNER, owner)) return ConstraintRaw;
    if (!key_eq(vault->owner, mint->owner)) return ConstraintRaw;
    return 0;
}

static u64 process_initialize_pool(void) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    const SolPubkey *pid = p->program_id;
    if (p->data_len < INIT_POOL_DATA_LEN) FAIL(InstructionDidNotDeserialize, "localnet_initialize_pool args");
    if (p->ka_num < IP_ACCOUNTS) FAIL(AccountNotEnoughKeys, "localnet_initialize_pool accounts");
    const u8 *d = p->data;
    u16 tick_spacing = ld_u16(d + 8);
    u128 sqrt_price = mk128(ld_u64(d + 10), ld_u64(d + 18));
    u16 fee_rate = ld_u16(d + 26), protocol_fee_rate = ld_u16(d + 28);
    u8 bump = d[30];

    if (!ka[IP_FUNDER].is_signer) FAIL(AccountNotSigner, "funder");
    if (!ka[IP_FUNDER].is_writable) FAIL(ConstraintMut, "funder");
    SolAccountInfo *cfg = &ka[IP_CONFIG];
    if (is_missing(cfg)) FAIL(AccountNotInitialized, "whirlpools_config");
    if (!key_eq(cfg->owner, pid)) FAIL(AccountOwnedByWrongProgram, "whirlpools_config");
    if (cfg->data_len < 8 || !bytes_eq8(cfg->data, DISC_CONFIG))
        FAIL(AccountDiscriminatorMismatch, "whirlpools_config");
    if (cfg->data_len < CONFIG_LEN) FAIL(AccountDidNotDeserialize, "whirlpools_config");
    CHECK(check_mint(&ka[IP_MINT_A]), "token_mint_a");
    CHECK(check_mint(&ka[IP_MINT_B]), "token_mint_b");
    CHECK(check_program(&ka[IP_SYSTEM], &SYSTEM_PROGRAM), "system_program");
    if (key_cmp(ka[IP_MINT_A].key, ka[IP_MINT_B].key) >= 0) FAIL(InvalidTokenMintOrder, "token_mint_a >= token_mint_b");
    if (tick_spacing == 0) FAIL(InvalidTickSpacing, "tick_spacing");
    if (fee_rate > MAX_FEE_RATE) FAIL(FeeRateMaxExceeded, "fee_rate");
    if (protocol_fee_rate > MAX_PROTOCOL_FEE_RATE) FAIL(ProtocolFeeRateMaxExceeded, "protocol_fee_rate");
    if (cmp_128(&sqrt_price, &MIN_SQRT_PRICE) < 0 || cmp_128(&sqrt_price, &MAX_SQRT_PRICE) > 0)
        FAIL(SqrtPriceOutOfBounds, "initial_sqrt_price");

    /* The pool PDA: ["whirlpool", config, mint_a, mint_b, tick_spacing LE (the fee tier index), bump]. */
    SolAccountInfo *w = &ka[IP_WHIRLPOOL];
    u8 seed_bytes[3] = {(u8)tick_spacing, (u8)(tick_spacing >> 8), bump};
    SolSignerSeed *seeds = CPI->seeds;
    seeds[0] = (SolSignerSeed){(const u8 *)SEED_WHIRLPOOL, sizeof(SEED_WHIRLPOOL) - 1};
    seeds[1] = (SolSignerSeed){cfg->key->x, 32};
    seeds[2] = (SolSignerSeed){ka[IP_MINT_A].key->x, 32};
    seeds[3] = (SolSignerSeed){ka[IP_MINT_B].key->x, 32};
    seeds[4] = (SolSignerSeed){seed_bytes, 2};
    seeds[5] = (SolSignerSeed){seed_bytes + 2, 1};
    SolPubkey derived;
    if (sol_create_program_address(seeds, 6, pid, &derived) != 0 || !key_eq(&derived, w->key))
        FAIL(ConstraintSeeds, "whirlpool");
    if (!w->is_writable) FAIL(ConstraintMut, "whirlpool");
    if (!key_eq(w->owner, &SYSTEM_PROGRAM) || w->data_len != 0)
        FAIL(AccountDiscriminatorAlreadySet, "whirlpool already exists");
    CHECK(check_vault_for(&ka[IP_VAULT_A], &ka[IP_MINT_A], w->key), "token_vault_a");
    CHECK(check_vault_for(&ka[IP_VAULT_B], &ka[IP_MINT_B], w->key), "token_vault_b");
    u64 timestamp;
    TRY(clock_timestamp(&timestamp));
    i64 tick = tick_from_sqrt_price(&sqrt_price);

    SolSignerSeeds signer = {seeds, 6};
    TRY(create_pda_account(&ka[IP_SYSTEM], &ka[IP_FUNDER], w, WHIRLPOOL_LEN, &signer));
    u8 *pool = w->data; /* zeroed by CreateAccount: fees owed, growths and rewards start at 0 */
    st_u64(pool, ld_u64(DISC_WHIRLPOOL));
    key_copy_to(pool + W_CONFIG, cfg->key);
    pool[W_BUMP] = bump;
    st_u16(pool + W_TICK_SPACING, tick_spacing);
    st_u16(pool + W_FEE_TIER_SEED, tick_spacing);
    st_u16(pool + W_FEE_RATE, fee_rate);
    st_u16(pool + W_PROTOCOL_FEE_RATE, protocol_fee_rate);
    st_u128(pool + W_SQRT_PRICE, &sqrt_price);
    st_i32(pool + W_TICK, (i32)tick);
    key_copy_to(pool + W_MINT_A, ka[IP_MINT_A].key);
    key_copy_to(pool + W_VAULT_A, ka[IP_VAULT_A].key);
    key_copy_to(pool + W_MINT_B, ka[IP_MINT_B].key);
    key_copy_to(pool + W_VAULT_B, ka[IP_VAULT_B].key);
    st_u64(pool + W_REWARD_TS, timestamp);
    return SUCCESS;
}

/* ---------------- localnet_initialize_tick_array (ours; the real one's accounts and argument) ---------------- */

enum { IT_WHIRLPOOL, IT_FUNDER, IT_TICK_ARRAY, IT_SYSTEM, IT_ACCOUNTS };

static u64 process_initialize_tick_array(void) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    const SolPubkey *pid = p->program_id;
    if (p->data_len < 12) FAIL(InstructionDidNotDeserialize, "localnet_initialize_tick_array args");
    if (p->ka_num < IT_ACCOUNTS) FAIL(AccountNotEnoughKeys, "localnet_initialize_tick_array accounts");
    i64 start = ld_i32(p->data + 8);
    CHECK(check_whirlpool_account(&ka[IT_WHIRLPOOL], pid), "whirlpool");
    if (!ka[IT_FUNDER].is_signer) FAIL(AccountNotSigner, "funder");
    if (!ka[IT_FUNDER].is_writable) FAIL(ConstraintMut, "funder");
    CHECK(check_program(&ka[IT_SYSTEM], &SYSTEM_PROGRAM), "system_program");
    SolAccountInfo *ta = &ka[IT_TICK_ARRAY];
    u8 str[12];
    u64 len = decimal(start, str);
    SolSignerSeed *seeds = CPI->seeds;
    seeds[0] = (SolSignerSeed){(const u8 *)SEED_TICK_ARRAY, sizeof(SEED_TICK_ARRAY) - 1};
    seeds[1] = (SolSignerSeed){ka[IT_WHIRLPOOL].key->x, 32};
    seeds[2] = (SolSignerSeed){str, len};
    SolPubkey derived;
    u8 bump;
    if (find_pda(seeds, 3, pid, &derived, &bump) != 0 || !key_eq(&derived, ta->key))
        FAIL(ConstraintSeeds, "tick_array");
    if (!ta->is_writable) FAIL(ConstraintMut, "tick_array");
    if (!key_eq(ta->owner, &SYSTEM_PROGRAM) || ta->data_len != 0)
        FAIL(AccountDiscriminatorAlreadySet, "tick_array already exists");
    if (!is_valid_start_tick(start, ld_u16(ka[IT_WHIRLPOOL].data + W_TICK_SPACING)))
        FAIL(InvalidStartTick, "start_tick_index");
    seeds[3] = (SolSignerSeed){&bump, 1};
    SolSignerSeeds signer = {seeds, 4};
    TRY(create_pda_account(&ka[IT_SYSTEM], &ka[IT_FUNDER], ta, TICK_ARRAY_LEN, &signer));
    u8 *data = ta->data; /* CreateAccount hands over zeroed data: every tick starts uninitialized */
    st_u64(data, ld_u64(DISC_TICK_ARRAY));
    st_i32(data + TA_START, (i32)start);
    key_copy_to(data + TA_WHIRLPOOL, ka[IT_WHIRLPOOL].key);
    return SUCCESS;
}

/* ---------------- localnet_add_liquidity (ours; increase_liquidity without a position) ---------------- */

enum { AL_WHIRLPOOL, AL_TOKEN_PROGRAM, AL_AUTHORITY, AL_OWNER_A, AL_OWNER_B, AL_VAULT_A, AL_VAULT_B, AL_TA_LOWER,
       AL_TA_UPPER, AL_ACCOUNTS };
#define ADD_LIQUIDITY_DATA_LEN 48

/* The tick `index` inside a loaded tick array account, or TickNotFound. */
static u64 tick_in_array(const SolAccountInfo *a, const SolAccountInfo *whirlpool, i64 index, u8 **tick) {
    i64 tick_spacing = ld_u16(whirlpool->data + W_TICK_SPACING);
    int loaded;
    TRY(load_tick_array(a, whirlpool->key, PARAMS->program_id, &loaded));
    if (!loaded) return AccountNotInitialized;
    /* Initializing a tick of a DynamicTickArray grows the account: not done by this instruction. */
    if (bytes_eq8(a->data, DISC_DYNAMIC_TICK_ARRAY)) return AccountDiscriminatorMismatch;
    TickArrayRef ref;
    tick_array_ref(&ref, a->data);
    if (index < ref.start || index >= ref.start + TICK_ARRAY_SIZE * tick_spacing) return TickNotFound;
    *tick = tick_at(&ref, floor_div(index - ref.start, tick_spacing));
    return 0;
}

/* tick_manager.rs next_tick_modify_liquidity_update for a positive delta, written in place. */
static u64 modify_tick(u8 *tick, i64 index, int is_upper, const u8 *pool, const u128 *delta) {
    const SwapState *st = STATE;
    i64 current = ld_i32(pool + W_TICK);
    u128 gross = ld_u128(tick + T_GROSS), new_gross;
    if (!add_128(&gross, delta, &new_gross)) return LiquidityOverflow;
    if (is_zero_128(&gross)) {
        /* by convention all prior growth happened below the tick */
        int below = current >= index;
        u128 zero128 = {0, 0};
        u128 fa = below ? ld_u128(pool + W_FEE_GROWTH_A) : zero128;
        u128 fb = below ? ld_u128(pool + W_FEE_GROWTH_B) : zero128;
        st_u128(tick + T_FEE_OUT_A, &fa);
        st_u128(tick + T_FEE_OUT_B, &fb);
        for (int i = 0; i < NUM_REWARDS; i++)
            st_u128(tick + T_REWARD_OUT + 16 * i, below ? &st->reward_growth[i] : &zero128);
    }
    /* liquidity_net -+ delta, checked as i128 */
    u128 net = ld_u128(tick + T_NET), res;
    if (is_upper) {
        res = wrapping_sub_128(&net, delta);
        if ((i64)net.hi < 0 && (i64)res.hi >= 0) return LiquidityNetError;
    } else {
        res = wrapping_add_128(&net, delta);
        if ((i64)net.hi >= 0 && (i64)res.hi < 0) return LiquidityNetError;
    }
    st_u128(tick + T_NET, &res);
    st_u128(tick + T_GROSS, &new_gross);
    tick[T_INITIALIZED] = 1;
    return 0;
}

static int is_usable_tick(i64 t, i64 ts) {
    return t >= MIN_TICK_INDEX && t <= MAX_TICK_INDEX && t - floor_div(t, ts) * ts == 0;
}

static u64 process_add_liquidity(void) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    const SolPubkey *pid = p->program_id;
    SwapState *st = STATE;
    if (p->data_len < ADD_LIQUIDITY_DATA_LEN) FAIL(InstructionDidNotDeserialize, "localnet_add_liquidity args");
    if (p->ka_num < AL_ACCOUNTS) FAIL(AccountNotEnoughKeys, "localnet_add_liquidity accounts");
    const u8 *d = p->data;
    u128 liquidity = mk128(ld_u64(d + 8), ld_u64(d + 16));
    u64 max_a = ld_u64(d + 24), max_b = ld_u64(d + 32);
    i64 lower = ld_i32(d + 40), upper = ld_i32(d + 44);

    CHECK(check_whirlpool_account(&ka[AL_WHIRLPOOL], pid), "whirlpool");
    CHECK(check_program(&ka[AL_TOKEN_PROGRAM], &TOKEN_PROGRAM), "token_program");
    if (!ka[AL_AUTHORITY].is_signer) FAIL(AccountNotSigner, "position_authority");
    CHECK(check_token_account(&ka[AL_OWNER_A], 1), "token_owner_account_a");
    CHECK(check_token_account(&ka[AL_OWNER_B], 1), "token_owner_account_b");
    CHECK(check_token_account(&ka[AL_VAULT_A], 1), "token_vault_a");
    CHECK(check_token_account(&ka[AL_VAULT_B], 1), "token_vault_b");
    u8 *pool = ka[AL_WHIRLPOOL].data;
    if (!ka[AL_WHIRLPOOL].is_writable) FAIL(ConstraintMut, "whirlpool");
    if (!key_eq_bytes(pool + W_MINT_A, (const SolPubkey *)(ka[AL_OWNER_A].data + TK_MINT)))
        FAIL(ConstraintRaw, "token_owner_account_a");
    if (!key_eq_bytes(pool + W_MINT_B, (const SolPubkey *)(ka[AL_OWNER_B].data + TK_MINT)))
        FAIL(ConstraintRaw, "token_owner_account_b");
    for (int i = AL_OWNER_A; i <= AL_TA_UPPER; i++)
        if (!ka[i].is_writable) FAIL(ConstraintMut, "token account or tick array");
    if (!key_eq_bytes(pool + W_VAULT_A, ka[AL_VAULT_A].key)) FAIL(ConstraintAddress, "token_vault_a");
    if (!key_eq_bytes(pool + W_VAULT_B, ka[AL_VAULT_B].key)) FAIL(ConstraintAddress, "token_vault_b");

    i64 ts = ld_u16(pool + W_TICK_SPACING);
    if (!is_usable_tick(lower, ts) || !is_usable_tick(upper, ts) || lower >= upper)
        FAIL(InvalidTickIndex, "tick_lower_index / tick_upper_index");
    if (is_zero_128(&liquidity)) FAIL(LiquidityZero, "liquidity_amount");
    if ((i64)liquidity.hi < 0) FAIL(LiquidityTooHigh, "liquidity_amount above i128::MAX");

    u64 timestamp;
    TRY(clock_timestamp(&timestamp));
    TRY(next_reward_growths(st, pool, timestamp));
    i64 current = ld_i32(pool + W_TICK);
    u8 *tl, *tu;
    CHECK(tick_in_array(&ka[AL_TA_LOWER], &ka[AL_WHIRLPOOL], lower, &tl), "tick_array_lower");
    CHECK(tick_in_array(&ka[AL_TA_UPPER], &ka[AL_WHIRLPOOL], upper, &tu), "tick_array_upper");
    CHECK(modify_tick(tl, lower, 0, pool, &liquidity), "tick_lower");
    CHECK(modify_tick(tu, upper, 1, pool, &liquidity), "tick_upper");
    if (current >= lower && current < upper) {
        u128 l = ld_u128(pool + W_LIQUIDITY), nl;
        if (!add_128(&l, &liquidity, &nl)) FAIL(LiquidityOverflow, "whirlpool liquidity");
        st_u128(pool + W_LIQUIDITY, &nl);
    }
    write_reward_growths(st, pool, timestamp);

    /* liquidity_manager.rs calculate_liquidity_token_deltas, rounded up for a deposit */
    u128 p_lower, p_upper, sqrt_price = ld_u128(pool + W_SQRT_PRICE);
    CHECK(sqrt_price_from_tick(lower, &p_lower), "tick_lower price");
    CHECK(sqrt_price_from_tick(upper, &p_upper), "tick_upper price");
    u64 amount_a = 0, amount_b = 0;
    if (current < lower) {
        CHECK(amount_delta_a(&p_lower, &p_upper, &liquidity, 1, &amount_a), "token a delta");
    } else if (current < upper) {
        CHECK(amount_delta_a(&sqrt_price, &p_upper, &liquidity, 1, &amount_a), "token a delta");
        CHECK(amount_delta_b(&p_lower, &sqrt_price, &liquidity, 1, &amount_b), "token b delta");
    } else {
        CHECK(amount_delta_b(&p_lower, &p_upper, &liquidity, 1, &amount_b), "token b delta");
    }
    if (amount_a > max_a) FAIL(TokenMaxExceeded, "token_max_a");
    if (amount_b > max_b) FAIL(TokenMaxExceeded, "token_max_b");
    Transfer ta = {&ka[AL_TOKEN_PROGRAM], &ka[AL_OWNER_A], 0, &ka[AL_VAULT_A], &ka[AL_AUTHORITY]};
    Transfer tb = {&ka[AL_TOKEN_PROGRAM], &ka[AL_OWNER_B], 0, &ka[AL_VAULT_B], &ka[AL_AUTHORITY]};
    TRY(token_transfer(&ta, amount_a, 0));
    TRY(token_transfer(&tb, amount_b, 0));
    return SUCCESS;
}

/* ---------------- entrypoint ---------------- */

u64 entrypoint(const u8 *input) {
    SolParameters *p = PARAMS;
    if (sol_deserialize(input, p)) FAIL(InstructionDidNotDeserialize, "more than 64 account entries");
    if (p->data_len < 8) FAIL(InstructionMissing, "instruction data");
    const u8 *d = p->data;
    if (bytes_eq8(d, IX_SWAP)) return process_swap(0);
    if (bytes_eq8(d, IX_SWAP_V2)) return process_swap(1);
    if (bytes_eq8(d, IX_ADD_LIQUIDITY)) return process_add_liquidity();
    if (bytes_eq8(d, IX_INIT_TICK_ARRAY)) return process_initialize_tick_array();
    if (bytes_eq8(d, IX_INIT_POOL)) return process_initialize_pool();
    FAIL(InstructionFallbackNotFound, "unknown instruction");
}
