/*
 * abi.h: the small slice of the Solana sBPF v0 program ABI our C programs need.
 *
 * Written from the facts in /work/shared/notes/sbpf-from-c.md (verified against the loader and VM
 * inside solders' LiteSVM): the aligned input serialization, the C CPI structs, syscall names.
 * Build flags: clang-16 -target bpf -mcpu=v2 -O2 -ffreestanding -fno-builtin -nostdlib.
 *
 * Constraints of that target that shape this header:
 * - no libc: fixed-width types are declared here; memcpy/memset are written as loops;
 * - at most 5 arguments per function; the LLVM BPF stack limit is 512 bytes per function,
 *   so large structures (parsed accounts, CPI account arrays) live on the heap at HEAP_START;
 * - unsigned __int128 multiply/divide become libcalls (__multi3/__udivti3) the backend refuses,
 *   so 128-bit arithmetic is done here on pairs of u64;
 * - writable globals (.data/.bss) are refused by the loader: everything static is const.
 */
#ifndef SOLARB_ABI_H
#define SOLARB_ABI_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef signed long i64;

#define HEAP_START ((u8 *)0x300000000UL)
#define HEAP_LEN (32 * 1024)
#define MAX_PERMITTED_DATA_INCREASE (10 * 1024)
#define NON_DUP_MARKER 0xff
#define MAX_ACCOUNTS 64 /* a transaction locks at most 64 accounts; duplicates beyond that are refused */

/* A u64 return value v < 2**32 with v != 0 is reported by the runtime as Custom(v). */
#define SUCCESS 0UL

typedef struct {
    u8 x[32];
} SolPubkey;

/* Layout fixed by the runtime's C CPI ABI (sol_invoke_signed_c): 56 bytes. */
typedef struct {
    SolPubkey *key;
    u64 *lamports;
    u64 data_len;
    u8 *data;
    SolPubkey *owner;
    u64 rent_epoch;
    u8 is_signer;
    u8 is_writable;
    u8 executable;
} SolAccountInfo;

typedef struct {
    SolPubkey *pubkey;
    u8 is_writable;
    u8 is_signer;
} SolAccountMeta;

typedef struct {
    SolPubkey *program_id;
    SolAccountMeta *accounts;
    u64 account_len;
    u8 *data;
    u64 data_len;
} SolInstruction;

typedef struct {
    const u8 *addr;
    u64 len;
} SolSignerSeed;

typedef struct {
    const SolSignerSeed *addr;
    u64 len;
} SolSignerSeeds;

/* Clock sysvar as sol_get_clock_sysvar writes it (40 bytes). */
typedef struct {
    u64 slot;
    i64 epoch_start_timestamp;
    u64 epoch;
    u64 leader_schedule_epoch;
    i64 unix_timestamp;
} SolClock;

typedef struct {
    SolAccountInfo ka[MAX_ACCOUNTS];
    u64 ka_num;
    const u8 *data;
    u64 data_len;
    const SolPubkey *program_id;
} SolParameters;

/* ---- syscalls (resolved by name by the loader; see the post-linker's .dynsym) ---- */
extern void sol_log_(const char *msg, u64 len);
extern void sol_log_64_(u64 a, u64 b, u64 c, u64 d, u64 e);
extern void sol_log_pubkey(const SolPubkey *key);
extern u64 sol_invoke_signed_c(const SolInstruction *ix, const SolAccountInfo *infos, int n_infos,
                               const SolSignerSeeds *signers, int n_signers);
extern u64 sol_create_program_address(const SolSignerSeed *seeds, int n_seeds, const SolPubkey *program_id,
                                      SolPubkey *out);
extern u64 sol_try_find_program_address(const SolSignerSeed *seeds, u64 n_seeds, const SolPubkey *program_id,
                                        SolPubkey *out, u8 *bump);
extern u64 sol_get_clock_sysvar(void *out);
extern void sol_set_return_data(const u8 *data, u64 len);

#define sol_log(s) sol_log_((s), sizeof(s) - 1)

/* ---- refusals: log a line naming the error and what failed, then return the code ---- */

/* Log "<ErrorName>: <context>" then return the code. */
#define FAIL(code, ctx)                   \
    do {                                  \
        sol_log(#code ": " ctx);          \
        return (u64)(code);               \
    } while (0)

/* Log the failing account's role, then the code; keeps FAIL's one-line log for typed checks. */
static u64 fail_account(u64 code, const char *role, u64 role_len) {
    sol_log_(role, role_len);
    sol_log_64_(code, 0, 0, 0, 0);
    return code;
}
#define CHECK(expr, role)                                        \
    do {                                                         \
        u64 _e = (expr);                                         \
        if (_e) return fail_account(_e, role, sizeof(role) - 1); \
    } while (0)

/* ---- small memory helpers (no libc) ---- */

/*
 * Unaligned little-endian loads and stores. The VM allows unaligned accesses, but the LLVM BPF
 * backend splits loads through a packed/aligned(1) type into byte operations; reading through a
 * u64 pointer keeps it to one instruction, which is why the casts are hidden in these helpers.
 */
static inline u64 ld_u64(const u8 *p) { return *(const u64 *)p; }
static inline void st_u64(u8 *p, u64 v) { *(u64 *)p = v; }
static inline u16 ld_u16(const u8 *p) { return *(const u16 *)p; }
static inline void st_u16(u8 *p, u16 v) { *(u16 *)p = v; }

static inline int key_eq(const SolPubkey *a, const SolPubkey *b) {
    const u64 *x = (const u64 *)a->x, *y = (const u64 *)b->x;
    return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* Pubkeys stored inside packed account data are not 8-aligned: compare bytewise-safe via ld_u64. */
static inline int key_eq_bytes(const u8 *a, const SolPubkey *b) {
    return ld_u64(a) == ld_u64(b->x) && ld_u64(a + 8) == ld_u64(b->x + 8) &&
           ld_u64(a + 16) == ld_u64(b->x + 16) && ld_u64(a + 24) == ld_u64(b->x + 24);
}

static inline void key_copy_to(u8 *dst, const SolPubkey *src) {
    for (int i = 0; i < 32; i += 8) st_u64(dst + i, ld_u64(src->x + i));
}

static inline int bytes_eq8(const u8 *a, const u8 *b) { return ld_u64(a) == ld_u64(b); }

static inline int is_zero(const u8 *p, u64 n) {
    for (u64 i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static inline void zero(u8 *p, u64 n) {
    for (u64 i = 0; i < n; i++) p[i] = 0;
}

/* ---- input deserialization (SBPF v0 aligned layout) ---- */

/*
 * Parse the runtime's input buffer into params. Duplicate accounts share the first occurrence's
 * pointers, as the runtime intends. Returns 0 on success, 1 if there are more than MAX_ACCOUNTS.
 */
static u64 sol_deserialize(const u8 *input, SolParameters *params) {
    u64 n = *(const u64 *)input;
    input += 8;
    if (n > MAX_ACCOUNTS) return 1;
    params->ka_num = n;
    for (u64 i = 0; i < n; i++) {
        u8 dup = *input;
        input += 1;
        if (dup == NON_DUP_MARKER) {
            SolAccountInfo *a = &params->ka[i];
            a->is_signer = *input;
            a->is_writable = *(input + 1);
            a->executable = *(input + 2);
            input += 1 + 1 + 1 + 4; /* flags + original data length */
            a->key = (SolPubkey *)input;
            input += 32;
            a->owner = (SolPubkey *)input;
            input += 32;
            a->lamports = (u64 *)input;
            input += 8;
            a->data_len = *(const u64 *)input;
            input += 8;
            a->data = (u8 *)input;
            input += a->data_len + MAX_PERMITTED_DATA_INCREASE;
            input = (const u8 *)(((u64)input + 7) & ~7UL);
            a->rent_epoch = *(const u64 *)input;
            input += 8;
        } else {
            params->ka[i] = params->ka[dup];
            input += 7;
        }
    }
    params->data_len = *(const u64 *)input;
    input += 8;
    params->data = input;
    input += params->data_len;
    params->program_id = (const SolPubkey *)input;
    return 0;
}

/* ---- 128-bit unsigned arithmetic on pairs of u64 ---- */

typedef struct {
    u64 lo;
    u64 hi;
} u128;

static inline void u128_set(u128 *r, u64 v) {
    r->lo = v;
    r->hi = 0;
}

/* r = a * b, exact (64 x 64 -> 128 schoolbook on 32-bit halves). */
static inline void mul_64x64(u64 a, u64 b, u128 *r) {
    u64 a0 = a & 0xffffffffUL, a1 = a >> 32, b0 = b & 0xffffffffUL, b1 = b >> 32;
    u64 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    u64 mid = (p00 >> 32) + (p01 & 0xffffffffUL) + (p10 & 0xffffffffUL);
    r->lo = (p00 & 0xffffffffUL) | (mid << 32);
    r->hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* r = a * b; returns 0 on overflow of 128 bits. r may alias a. */
static inline int mul_128x64(const u128 *a, u64 b, u128 *r) {
    u128 lo, hi;
    mul_64x64(a->lo, b, &lo);
    mul_64x64(a->hi, b, &hi);
    if (hi.hi != 0) return 0;
    u64 top = lo.hi + hi.lo;
    if (top < lo.hi) return 0;
    r->lo = lo.lo;
    r->hi = top;
    return 1;
}

/* r = a + b; returns 0 on overflow. */
static inline int add_128(const u128 *a, const u128 *b, u128 *r) {
    u64 lo = a->lo + b->lo;
    u64 carry = lo < a->lo;
    u64 hi = a->hi + b->hi;
    if (hi < a->hi) return 0;
    u64 hi2 = hi + carry;
    if (hi2 < hi) return 0;
    r->lo = lo;
    r->hi = hi2;
    return 1;
}

/* r = a - b; returns 0 on underflow. */
static inline int sub_128(const u128 *a, const u128 *b, u128 *r) {
    if (a->hi < b->hi || (a->hi == b->hi && a->lo < b->lo)) return 0;
    u64 borrow = a->lo < b->lo;
    r->lo = a->lo - b->lo;
    r->hi = a->hi - b->hi - borrow;
    return 1;
}

static inline int cmp_128(const u128 *a, const u128 *b) {
    if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
    return 0;
}

static inline int is_zero_128(const u128 *a) { return (a->lo | a->hi) == 0; }

static inline int clz_64(u64 x) {
    int n = 0;
    if (x == 0) return 64;
    if ((x >> 32) == 0) { n += 32; x <<= 32; }
    if ((x >> 48) == 0) { n += 16; x <<= 16; }
    if ((x >> 56) == 0) { n += 8; x <<= 8; }
    if ((x >> 60) == 0) { n += 4; x <<= 4; }
    if ((x >> 62) == 0) { n += 2; x <<= 2; }
    if ((x >> 63) == 0) n += 1;
    return n;
}

static inline int clz_128(const u128 *a) { return a->hi ? clz_64(a->hi) : 64 + clz_64(a->lo); }

/*
 * (u1:u0) / v for u1 < v (so the quotient fits in 64 bits); *rem gets the remainder. Long division
 * in base 2**32 with normalization (Knuth's algorithm D, as laid out in Hacker's Delight "divlu"):
 * two estimated 32-bit quotient digits, each corrected at most twice. Arithmetic on intermediate
 * values is meant to wrap modulo 2**64.
 */
static inline u64 div_128by64(u64 u1, u64 u0, u64 v, u64 *rem) {
    const u64 b = 1UL << 32;
    int s = clz_64(v);
    v <<= s;
    u64 vn1 = v >> 32, vn0 = v & 0xffffffffUL;
    u64 un32 = s ? (u1 << s) | (u0 >> (64 - s)) : u1;
    u64 un10 = u0 << s;
    u64 un1 = un10 >> 32, un0 = un10 & 0xffffffffUL;
    u64 q1 = un32 / vn1, rhat = un32 - q1 * vn1;
    while (q1 >= b || q1 * vn0 > b * rhat + un1) {
        q1--;
        rhat += vn1;
        if (rhat >= b) break;
    }
    u64 un21 = un32 * b + un1 - q1 * v;
    u64 q0 = un21 / vn1;
    rhat = un21 - q0 * vn1;
    while (q0 >= b || q0 * vn0 > b * rhat + un0) {
        q0--;
        rhat += vn1;
        if (rhat >= b) break;
    }
    *rem = (un21 * b + un0 - q0 * v) >> s;
    return q1 * b + q0;
}

/*
 * q = n / d, r = n % d (floor). d must be non-zero (callers check). Native division when both fit in
 * 64 bits, base-2**32 long division when the divisor does, else restoring shift-subtract (the
 * quotient then has at most 64 bits).
 */
static __attribute__((noinline)) void divmod_128(const u128 *n, const u128 *d, u128 *q, u128 *r) {
    if (d->hi == 0) {
        u64 dl = d->lo;
        if (n->hi == 0) {
            q->lo = n->lo / dl;
            q->hi = 0;
            r->lo = n->lo % dl;
            r->hi = 0;
            return;
        }
        u64 rem;
        q->hi = n->hi / dl;
        q->lo = div_128by64(n->hi % dl, n->lo, dl, &rem);
        r->lo = rem;
        r->hi = 0;
        return;
    }
    u128 rem = *n, den = *d, quo = {0, 0};
    if (cmp_128(&rem, &den) < 0) {
        *q = quo;
        *r = rem;
        return;
    }
    int shift = clz_128(&den) - clz_128(&rem); /* < 64: den has a bit in its high word */
    if (shift > 0) {
        den.hi = (den.hi << shift) | (den.lo >> (64 - shift));
        den.lo <<= shift;
    }
    for (int i = 0; i <= shift; i++) {
        quo.lo <<= 1;
        if (cmp_128(&rem, &den) >= 0) {
            sub_128(&rem, &den, &rem);
            quo.lo |= 1;
        }
        den.lo = (den.lo >> 1) | (den.hi << 63);
        den.hi >>= 1;
    }
    *q = quo;
    *r = rem;
}

/* ---- CPI helpers ---- */

/* Build SolAccountInfo for CPI from a parsed account (pointers into the input buffer pass through). */
static inline u64 invoke_signed(const SolInstruction *ix, const SolAccountInfo *infos, int n,
                                const SolSignerSeeds *signers, int n_signers) {
    return sol_invoke_signed_c(ix, infos, n, signers, n_signers);
}

#endif /* SOLARB_ABI_H */
