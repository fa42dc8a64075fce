/*
 * cpmm.c: a Raydium CPMM-compatible constant-product AMM for localnet, loaded at Raydium CPMM's
 * program id CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C.
 *
 * Same interfaces as the real program (raydium-io/raydium-cp-swap, programs/cp-swap/src; layouts and
 * math restated in /work/shared/notes/protocols.md section 2): account layouts and discriminators,
 * swap_base_input / swap_base_output instruction data and 13-account order, the account checks the
 * real Anchor `Swap` context performs, fee rounding (trade fee ceil, protocol/fund fee floor, accrued
 * into the pool's fees-owed counters) and reserves = vault amount - fees owed. No code was copied.
 *
 * Instructions (8-byte Anchor-style discriminator, then little-endian arguments):
 *
 *   swap_base_input  8fbe5adac41e33de | amount_in u64 | minimum_amount_out u64
 *   swap_base_output 37d96256a34ab4ad | max_amount_in u64 | amount_out u64
 *     accounts: 0 payer (signer), 1 authority PDA ["vault_and_lp_mint_auth_seed"], 2 amm_config,
 *     3 pool_state (w), 4 input token account (w), 5 output token account (w), 6 input vault (w),
 *     7 output vault (w), 8 input token program, 9 output token program, 10 input mint,
 *     11 output mint, 12 observation_state (w).
 *
 *   initialize (ours, NOT Raydium's initialize) b21fb89192f83b06 = sha256("global:localnet_initialize")[:8]
 *     data: trade_fee_rate u64 @8 | protocol_fee_rate u64 @16 | fund_fee_rate u64 @24 |
 *           open_time u64 @32 | auth_bump u8 @40 | status u8 @41 | config_index u16 @42  (44 bytes)
 *     accounts: 0 creator (signer), 1 amm_config (w, owned by this program, >= 236 bytes; written
 *     with the given rates if its discriminator is still zero, otherwise left as it is),
 *     2 pool_state (w, owned by this program, >= 637 bytes, discriminator zero), 3 token_0_mint,
 *     4 token_1_mint (token_0_mint < token_1_mint bytewise), 5 token_0_vault, 6 token_1_vault
 *     (token accounts of those mints whose owner is the authority PDA), 7 lp_mint (stored only),
 *     8 observation_state (w, owned by this program, >= 4075 bytes, discriminator zero),
 *     9 authority PDA (must equal create_program_address(["vault_and_lp_mint_auth_seed", [auth_bump]])).
 *     The client allocates the three program-owned accounts (system CreateAccount) and the vault
 *     token accounts beforehand and funds the vaults; lp_supply starts at 0.
 *
 * Error codes: Raydium's own (6000+, order of raydium-cp-swap error.rs) where the real program has a
 * named error, Anchor framework codes where the real program fails an Anchor account constraint.
 * Table: localnet/programs/README.md and localnet/programs/cpmm_errors.py. Where the real program
 * would panic (unwrap on overflow, division by zero) we return a named error instead.
 *
 * Deliberate differences (documented in README): Token-2022 mints carrying extensions are refused
 * (NotSupportMint: transfer fees are not modelled), pools with the creator fee enabled are refused
 * (InvalidFeeModel), zero reserves are refused (EmptySupply), and no SwapEvent is logged.
 */
#include "anchor_spl.h"

/* ---------------- error codes ---------------- */
/* raydium-cp-swap ErrorCode (Anchor custom errors start at 6000). */
#define NotApproved 6000
#define InvalidOwner 6001
#define EmptySupply 6002
#define InvalidInput 6003
#define IncorrectLpMint 6004
#define ExceededSlippage 6005
#define ZeroTradingTokens 6006
#define NotSupportMint 6007
#define InvalidVault 6008
#define InitLpAmountTooLess 6009
#define TransferFeeCalculateNotMatch 6010
#define MathOverflow 6011
#define InsufficientVault 6012
#define InvalidFeeModel 6013
/* ---------------- layouts ---------------- */
#define FEE_RATE_DENOMINATOR 1000000UL

#define POOL_LEN 637
#define P_AMM_CONFIG 8
#define P_POOL_CREATOR 40
#define P_VAULT0 72
#define P_VAULT1 104
#define P_LP_MINT 136
#define P_MINT0 168
#define P_MINT1 200
#define P_PROGRAM0 232
#define P_PROGRAM1 264
#define P_OBSERVATION 296
#define P_AUTH_BUMP 328
#define P_STATUS 329
#define P_LP_DECIMALS 330
#define P_DECIMALS0 331
#define P_DECIMALS1 332
#define P_LP_SUPPLY 333
#define P_PROTOCOL_FEES0 341
#define P_PROTOCOL_FEES1 349
#define P_FUND_FEES0 357
#define P_FUND_FEES1 365
#define P_OPEN_TIME 373
#define P_RECENT_EPOCH 381
#define P_ENABLE_CREATOR_FEE 390
#define P_CREATOR_FEES0 397
#define P_CREATOR_FEES1 405
#define STATUS_SWAP_DISABLED 4

#define CONFIG_LEN 236
#define C_BUMP 8
#define C_INDEX 10
#define C_TRADE_FEE_RATE 12
#define C_PROTOCOL_FEE_RATE 20
#define C_FUND_FEE_RATE 28

#define OBSERVATION_LEN 4075
#define O_INITIALIZED 8
#define O_INDEX 9
#define O_POOL_ID 11
#define O_OBSERVATIONS 43
#define OBSERVATION_SIZE 40
#define OBSERVATION_NUM 100
#define OBSERVATION_UPDATE_DURATION 15

#define INITIALIZE_DATA_LEN 44

static const u8 DISC_POOL[8] __attribute__((aligned(8))) = {247, 237, 227, 245, 215, 195, 222, 70};
static const u8 DISC_CONFIG[8] __attribute__((aligned(8))) = {218, 244, 33, 104, 203, 203, 43, 111};
static const u8 DISC_OBSERVATION[8] __attribute__((aligned(8))) = {122, 174, 197, 53, 129, 9, 165, 132};
static const u8 IX_SWAP_BASE_INPUT[8] __attribute__((aligned(8))) = {143, 190, 90, 218, 196, 30, 51, 222};
static const u8 IX_SWAP_BASE_OUTPUT[8] __attribute__((aligned(8))) = {55, 217, 98, 86, 163, 74, 180, 173};
static const u8 IX_INITIALIZE[8] __attribute__((aligned(8))) = {178, 31, 184, 145, 146, 248, 59, 6};

static const char AUTH_SEED[] = "vault_and_lp_mint_auth_seed";

/* Swap account indices. */
enum {
    A_PAYER, A_AUTHORITY, A_AMM_CONFIG, A_POOL, A_USER_IN, A_USER_OUT, A_VAULT_IN, A_VAULT_OUT,
    A_PROGRAM_IN, A_PROGRAM_OUT, A_MINT_IN, A_MINT_OUT, A_OBSERVATION, SWAP_ACCOUNTS
};

/* ---------------- account type checks (Anchor's Account / AccountLoader / InterfaceAccount) ---------------- */

/* 0 if a is an initialized SPL Token / Token-2022 token account. */
static u64 check_token_account(const SolAccountInfo *a) {
    if (is_missing(a)) return AccountNotInitialized;
    if (!is_token_program(a->owner)) return AccountOwnedByWrongProgram;
    if (a->data_len < TOKEN_ACCOUNT_LEN || a->data[T_STATE] == 0) return AccountDidNotDeserialize;
    return 0;
}

static u64 check_mint(const SolAccountInfo *a) {
    if (is_missing(a)) return AccountNotInitialized;
    if (!is_token_program(a->owner)) return AccountOwnedByWrongProgram;
    if (a->data_len < MINT_LEN || a->data[M_IS_INITIALIZED] == 0) return AccountDidNotDeserialize;
    return 0;
}

static u64 authority_matches(const SolPubkey *authority, u8 bump, const SolPubkey *program_id) {
    u8 bump_seed[1] = {bump};
    SolSignerSeed seeds[2] = {{(const u8 *)AUTH_SEED, sizeof(AUTH_SEED) - 1}, {bump_seed, 1}};
    SolPubkey derived;
    if (sol_create_program_address(seeds, 2, program_id, &derived) != 0) return 0;
    return key_eq(&derived, authority);
}

/* ---------------- fee and curve math (u128 on pairs of u64) ---------------- */

/* out = ceil(a * rate / D), or floor when ceil == 0. Returns 0 on overflow. */
static int fee_of(u64 a, u64 rate, int ceil, u128 *out) {
    u128 num, den, q, r;
    mul_64x64(a, rate, &num);
    u128_set(&den, FEE_RATE_DENOMINATOR);
    if (ceil) {
        u128 bump;
        u128_set(&bump, FEE_RATE_DENOMINATOR - 1);
        if (!add_128(&num, &bump, &num)) return 0;
    }
    divmod_128(&num, &den, &q, &r);
    *out = q;
    return 1;
}

typedef struct {
    u64 amount_in;   /* debited from the user, fee included */
    u64 amount_out;  /* credited to the user */
    u64 trade_fee;
    u64 protocol_fee;
    u64 fund_fee;
} SwapResult;

/* Protocol and fund shares of the trade fee, floored; 0 on success. */
static u64 split_fees(SwapResult *res, u64 protocol_rate, u64 fund_rate) {
    u128 v;
    if (!fee_of(res->trade_fee, protocol_rate, 0, &v) || v.hi) return MathOverflow;
    res->protocol_fee = v.lo;
    if (!fee_of(res->trade_fee, fund_rate, 0, &v) || v.hi) return MathOverflow;
    res->fund_fee = v.lo;
    return 0;
}

/*
 * swap_base_input: trade_fee = ceil(in * trade_rate / D); x = in - trade_fee;
 * out = floor(x * R_out / (R_in + x)).
 */
static u64 quote_base_input(u64 amount_in, u64 r_in, u64 r_out, const u8 *config, SwapResult *res) {
    u128 fee, num, den, q, rem, rin;
    if (!fee_of(amount_in, ld_u64(config + C_TRADE_FEE_RATE), 1, &fee)) return ZeroTradingTokens;
    if (fee.hi || fee.lo > amount_in) return ZeroTradingTokens; /* rate above 100%: checked_sub fails */
    u64 x = amount_in - fee.lo;
    mul_64x64(x, r_out, &num);
    u128_set(&den, x);
    u128_set(&rin, r_in);
    add_128(&den, &rin, &den); /* cannot overflow: two u64 */
    if (is_zero_128(&den)) return ZeroTradingTokens;
    divmod_128(&num, &den, &q, &rem);
    /* q <= r_out < 2**64 because x / (r_in + x) <= 1 */
    res->amount_in = amount_in;
    res->amount_out = q.lo;
    res->trade_fee = fee.lo;
    return split_fees(res, ld_u64(config + C_PROTOCOL_FEE_RATE), ld_u64(config + C_FUND_FEE_RATE));
}

/*
 * swap_base_output: in_swapped = ceil_div(R_in * out, R_out - out) with the SPL-style rule the real
 * program inherits (a quotient of 0 rounds to 1 only if 2 * numerator >= denominator);
 * in = ceil(in_swapped * D / (D - trade_rate)) (in_swapped when the rate is 0); trade_fee = in - in_swapped.
 */
static u64 quote_base_output(u64 amount_out, u64 r_in, u64 r_out, const u8 *config, SwapResult *res) {
    u64 rate = ld_u64(config + C_TRADE_FEE_RATE);
    if (amount_out >= r_out) return ZeroTradingTokens; /* not enough liquidity */
    u128 num, den, q, rem, in;
    mul_64x64(r_in, amount_out, &num);
    u128_set(&den, r_out - amount_out);
    divmod_128(&num, &den, &q, &rem);
    if (is_zero_128(&q)) {
        /* num < den < 2**64 here; "2 * num >= den" written without the doubling overflow */
        u128_set(&q, num.lo >= den.lo - num.lo ? 1 : 0);
    } else if (!is_zero_128(&rem)) {
        u128 one;
        u128_set(&one, 1);
        if (!add_128(&q, &one, &q)) return MathOverflow;
    }
    u128 in_swapped = q;
    if (rate == 0) {
        in = in_swapped;
    } else {
        if (rate >= FEE_RATE_DENOMINATOR) return ZeroTradingTokens;
        u128 d, bump;
        if (!mul_128x64(&in_swapped, FEE_RATE_DENOMINATOR, &num)) return MathOverflow;
        u128_set(&d, FEE_RATE_DENOMINATOR - rate);
        u128_set(&bump, FEE_RATE_DENOMINATOR - rate - 1);
        if (!add_128(&num, &bump, &num)) return MathOverflow;
        divmod_128(&num, &d, &in, &rem);
    }
    if (in.hi) return MathOverflow; /* the real program's u64::try_from would panic */
    res->amount_in = in.lo;
    res->amount_out = amount_out;
    res->trade_fee = in.lo - in_swapped.lo; /* in >= in_swapped, both < 2**64 */
    return split_fees(res, ld_u64(config + C_PROTOCOL_FEE_RATE), ld_u64(config + C_FUND_FEE_RATE));
}

/* ---------------- observation (TWAP oracle) update, as the real program does after a swap ---------------- */

static u64 update_observation(u8 *obs, u64 now, u64 r0, u64 r1) {
    u16 index = ld_u16(obs + O_INDEX);
    if (index >= OBSERVATION_NUM) return AccountDidNotDeserialize;
    u8 *last = obs + O_OBSERVATIONS + (u64)index * OBSERVATION_SIZE;
    if (!obs[O_INITIALIZED]) {
        obs[O_INITIALIZED] = 1;
        st_u64(last, now);
        for (int i = 8; i < OBSERVATION_SIZE; i += 8) st_u64(last + i, 0);
        return 0;
    }
    u64 last_ts = ld_u64(last);
    u64 delta = now > last_ts ? now - last_ts : 0;
    if (delta < OBSERVATION_UPDATE_DURATION) return 0;
    if (r0 == 0 || r1 == 0) return EmptySupply;
    /* price_x32: token_0 price = R1 * 2**32 / R0, token_1 price = R0 * 2**32 / R1 */
    u128 num, den, p0, p1, rem;
    num.lo = r1 << 32;
    num.hi = r1 >> 32;
    u128_set(&den, r0);
    divmod_128(&num, &den, &p0, &rem);
    num.lo = r0 << 32;
    num.hi = r0 >> 32;
    u128_set(&den, r1);
    divmod_128(&num, &den, &p1, &rem);
    if (!mul_128x64(&p0, delta, &p0) || !mul_128x64(&p1, delta, &p1)) return MathOverflow;
    u16 next = index == OBSERVATION_NUM - 1 ? 0 : index + 1;
    u8 *slot = obs + O_OBSERVATIONS + (u64)next * OBSERVATION_SIZE;
    u128 c0, c1;
    c0.lo = ld_u64(last + 8);
    c0.hi = ld_u64(last + 16);
    c1.lo = ld_u64(last + 24);
    c1.hi = ld_u64(last + 32);
    /* cumulative prices wrap by design (wrapping_add in the real program) */
    u64 lo0 = c0.lo + p0.lo, hi0 = c0.hi + p0.hi + (lo0 < c0.lo);
    u64 lo1 = c1.lo + p1.lo, hi1 = c1.hi + p1.hi + (lo1 < c1.lo);
    st_u64(slot, now);
    st_u64(slot + 8, lo0);
    st_u64(slot + 16, hi0);
    st_u64(slot + 24, lo1);
    st_u64(slot + 32, hi1);
    st_u16(obs + O_INDEX, next);
    return 0;
}

/* ---------------- swap ---------------- */

static u64 checked_add_u64(u8 *field, u64 v) {
    u64 cur = ld_u64(field);
    u64 sum = cur + v;
    if (sum < cur) return MathOverflow;
    st_u64(field, sum);
    return 0;
}

/* vault amount minus every fee owed on that side: protocol + fund + creator. */
static u64 reserve_of(u64 vault_amount, const u8 *pool, int side, u64 *out) {
    u64 proto = ld_u64(pool + (side ? P_PROTOCOL_FEES1 : P_PROTOCOL_FEES0));
    u64 fund = ld_u64(pool + (side ? P_FUND_FEES1 : P_FUND_FEES0));
    u64 creator = ld_u64(pool + (side ? P_CREATOR_FEES1 : P_CREATOR_FEES0));
    u64 owed = proto + fund;
    if (owed < proto) return MathOverflow;
    u64 owed2 = owed + creator;
    if (owed2 < owed) return MathOverflow;
    if (vault_amount < owed2) return InsufficientVault;
    *out = vault_amount - owed2;
    return 0;
}

static u64 process_swap(int base_input) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    const SolPubkey *pid = p->program_id;
    if (p->data_len < 24) FAIL(InstructionDidNotDeserialize, "swap args");
    if (p->ka_num < SWAP_ACCOUNTS) FAIL(AccountNotEnoughKeys, "swap needs 13 accounts");
    u64 arg0 = ld_u64(p->data + 8), arg1 = ld_u64(p->data + 16);

    /* Deserialization of each account, in declaration order (Anchor's try_accounts). */
    if (!ka[A_PAYER].is_signer) FAIL(AccountNotSigner, "payer");
    CHECK(check_anchor_account(&ka[A_AMM_CONFIG], pid, DISC_CONFIG, CONFIG_LEN), "amm_config");
    CHECK(check_anchor_account(&ka[A_POOL], pid, DISC_POOL, POOL_LEN), "pool_state");
    CHECK(check_token_account(&ka[A_USER_IN]), "input_token_account");
    CHECK(check_token_account(&ka[A_USER_OUT]), "output_token_account");
    CHECK(check_token_account(&ka[A_VAULT_IN]), "input_vault");
    CHECK(check_token_account(&ka[A_VAULT_OUT]), "output_vault");
    CHECK(check_token_program(&ka[A_PROGRAM_IN]), "input_token_program");
    CHECK(check_token_program(&ka[A_PROGRAM_OUT]), "output_token_program");
    CHECK(check_mint(&ka[A_MINT_IN]), "input_token_mint");
    CHECK(check_mint(&ka[A_MINT_OUT]), "output_token_mint");
    CHECK(check_anchor_account(&ka[A_OBSERVATION], pid, DISC_OBSERVATION, OBSERVATION_LEN), "observation_state");

    u8 *pool = ka[A_POOL].data;
    const u8 *config = ka[A_AMM_CONFIG].data;
    const SolPubkey *vault_in = ka[A_VAULT_IN].key, *vault_out = ka[A_VAULT_OUT].key;

    /* Constraints, in declaration order. */
    if (!authority_matches(ka[A_AUTHORITY].key, pool[P_AUTH_BUMP], pid)) FAIL(ConstraintSeeds, "authority");
    if (!key_eq_bytes(pool + P_AMM_CONFIG, ka[A_AMM_CONFIG].key)) FAIL(ConstraintAddress, "amm_config");
    if (!ka[A_POOL].is_writable) FAIL(ConstraintMut, "pool_state");
    if (!ka[A_USER_IN].is_writable) FAIL(ConstraintMut, "input_token_account");
    if (!ka[A_USER_OUT].is_writable) FAIL(ConstraintMut, "output_token_account");
    if (!ka[A_VAULT_IN].is_writable) FAIL(ConstraintMut, "input_vault");
    if (!key_eq_bytes(pool + P_VAULT0, vault_in) && !key_eq_bytes(pool + P_VAULT1, vault_in))
        FAIL(ConstraintRaw, "input_vault");
    if (!ka[A_VAULT_OUT].is_writable) FAIL(ConstraintMut, "output_vault");
    if (!key_eq_bytes(pool + P_VAULT0, vault_out) && !key_eq_bytes(pool + P_VAULT1, vault_out))
        FAIL(ConstraintRaw, "output_vault");
    if (!key_eq_bytes(ka[A_VAULT_IN].data + T_MINT, ka[A_MINT_IN].key)) FAIL(ConstraintAddress, "input_token_mint");
    if (!key_eq_bytes(ka[A_VAULT_OUT].data + T_MINT, ka[A_MINT_OUT].key)) FAIL(ConstraintAddress, "output_token_mint");
    if (!ka[A_OBSERVATION].is_writable) FAIL(ConstraintMut, "observation_state");
    if (!key_eq_bytes(pool + P_OBSERVATION, ka[A_OBSERVATION].key)) FAIL(ConstraintAddress, "observation_state");

    /* Handler. */
    SolClock clock;
    if (sol_get_clock_sysvar(&clock) != 0) FAIL(NotApproved, "clock sysvar unavailable");
    u64 now = (u64)clock.unix_timestamp;
    if ((pool[P_STATUS] & STATUS_SWAP_DISABLED) || now < ld_u64(pool + P_OPEN_TIME)) FAIL(NotApproved, "pool_state");
    if (pool[P_ENABLE_CREATOR_FEE]) FAIL(InvalidFeeModel, "creator fee is not modelled");
    /* Token programs must own the accounts they move (the CPI would otherwise fail opaquely). */
    if (!key_eq(ka[A_PROGRAM_IN].key, ka[A_VAULT_IN].owner) || !key_eq(ka[A_PROGRAM_IN].key, ka[A_MINT_IN].owner))
        FAIL(InvalidProgramId, "input_token_program");
    if (!key_eq(ka[A_PROGRAM_OUT].key, ka[A_VAULT_OUT].owner) || !key_eq(ka[A_PROGRAM_OUT].key, ka[A_MINT_OUT].owner))
        FAIL(InvalidProgramId, "output_token_program");
    /* Token-2022 extensions (transfer fee, hooks) are not modelled. */
    if (ka[A_MINT_IN].data_len > MINT_LEN || ka[A_MINT_OUT].data_len > MINT_LEN) FAIL(NotSupportMint, "mint");

    int zero_for_one;
    if (key_eq_bytes(pool + P_VAULT0, vault_in) && key_eq_bytes(pool + P_VAULT1, vault_out))
        zero_for_one = 1;
    else if (key_eq_bytes(pool + P_VAULT1, vault_in) && key_eq_bytes(pool + P_VAULT0, vault_out))
        zero_for_one = 0;
    else
        FAIL(InvalidVault, "input_vault/output_vault");

    if (base_input && arg0 == 0) FAIL(RequireGtViolated, "amount_in must be > 0");

    u64 r_in, r_out, e;
    e = reserve_of(ld_u64(ka[A_VAULT_IN].data + T_AMOUNT), pool, !zero_for_one, &r_in);
    if (e) return fail_account(e, "input_vault", 11);
    e = reserve_of(ld_u64(ka[A_VAULT_OUT].data + T_AMOUNT), pool, zero_for_one, &r_out);
    if (e) return fail_account(e, "output_vault", 12);
    if (r_in == 0 || r_out == 0) FAIL(EmptySupply, "pool reserves");

    SwapResult res;
    if (base_input) {
        e = quote_base_input(arg0, r_in, r_out, config, &res);
        if (e) return fail_account(e, "swap_base_input quote", 21);
        if (res.amount_out == 0) FAIL(RequireGtViolated, "amount_out must be > 0");
        if (res.amount_out < arg1) FAIL(ExceededSlippage, "amount_out < minimum_amount_out");
    } else {
        e = quote_base_output(arg1, r_in, r_out, config, &res);
        if (e) return fail_account(e, "swap_base_output quote", 22);
        if (res.amount_in == 0) FAIL(RequireGtViolated, "amount_in must be > 0");
        if (res.amount_in > arg0) FAIL(ExceededSlippage, "amount_in > max_amount_in");
    }

    /* Fees owed accrue on the input side. */
    if (checked_add_u64(pool + (zero_for_one ? P_PROTOCOL_FEES0 : P_PROTOCOL_FEES1), res.protocol_fee) ||
        checked_add_u64(pool + (zero_for_one ? P_FUND_FEES0 : P_FUND_FEES1), res.fund_fee))
        FAIL(MathOverflow, "fees owed");

    static const u8 in_idx[5] = {A_PROGRAM_IN, A_USER_IN, A_MINT_IN, A_VAULT_IN, A_PAYER};
    e = transfer_checked(in_idx, res.amount_in, 0, 0);
    if (e) return e;

    u8 bump_seed[1] = {pool[P_AUTH_BUMP]};
    SolSignerSeed seeds[2] = {{(const u8 *)AUTH_SEED, sizeof(AUTH_SEED) - 1}, {bump_seed, 1}};
    SolSignerSeeds signer = {seeds, 2};
    static const u8 out_idx[5] = {A_PROGRAM_OUT, A_VAULT_OUT, A_MINT_OUT, A_USER_OUT, A_AUTHORITY};
    e = transfer_checked(out_idx, res.amount_out, &signer, 1);
    if (e) return e;

    /* Observation takes the prices before the swap, keyed by token 0 / token 1. */
    u64 r0 = zero_for_one ? r_in : r_out, r1 = zero_for_one ? r_out : r_in;
    e = update_observation(ka[A_OBSERVATION].data, now, r0, r1);
    if (e) return fail_account(e, "observation_state", 17);
    st_u64(pool + P_RECENT_EPOCH, clock.epoch);
    return SUCCESS;
}

/* ---------------- initialize (ours) ---------------- */

enum {
    I_CREATOR, I_AMM_CONFIG, I_POOL, I_MINT0, I_MINT1, I_VAULT0, I_VAULT1, I_LP_MINT, I_OBSERVATION, I_AUTHORITY,
    INIT_ACCOUNTS
};

static u64 check_vault(const SolAccountInfo *vault, const SolAccountInfo *mint, const SolAccountInfo *authority) {
    u64 e = check_token_account(vault);
    if (e) return e;
    if (!key_eq_bytes(vault->data + T_MINT, mint->key)) return InvalidVault;
    if (!key_eq_bytes(vault->data + T_OWNER, authority->key)) return InvalidVault;
    if (!key_eq(vault->owner, mint->owner)) return InvalidVault;
    return 0;
}

static u64 check_fresh(const SolAccountInfo *a, const SolPubkey *pid, u64 len) {
    if (!key_eq(a->owner, pid)) return AccountOwnedByWrongProgram;
    if (!a->is_writable) return ConstraintMut;
    if (a->data_len < len) return ConstraintSpace;
    if (ld_u64(a->data) != 0) return AccountDiscriminatorAlreadySet;
    return 0;
}

static int key_less(const SolPubkey *a, const SolPubkey *b) {
    for (int i = 0; i < 32; i++)
        if (a->x[i] != b->x[i]) return a->x[i] < b->x[i];
    return 0;
}

static u64 process_initialize(void) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    const SolPubkey *pid = p->program_id;
    if (p->data_len < INITIALIZE_DATA_LEN) FAIL(InstructionDidNotDeserialize, "initialize args");
    if (p->ka_num < INIT_ACCOUNTS) FAIL(AccountNotEnoughKeys, "initialize needs 10 accounts");
    const u8 *d = p->data;
    u8 auth_bump = d[40];

    if (!ka[I_CREATOR].is_signer) FAIL(AccountNotSigner, "creator");
    SolAccountInfo *cfg = &ka[I_AMM_CONFIG];
    if (!key_eq(cfg->owner, pid)) FAIL(AccountOwnedByWrongProgram, "amm_config");
    if (cfg->data_len < CONFIG_LEN) FAIL(ConstraintSpace, "amm_config");
    int fresh_config = ld_u64(cfg->data) == 0;
    if (!fresh_config && !bytes_eq8(cfg->data, DISC_CONFIG)) FAIL(AccountDiscriminatorMismatch, "amm_config");
    if (fresh_config && !cfg->is_writable) FAIL(ConstraintMut, "amm_config");
    CHECK(check_fresh(&ka[I_POOL], pid, POOL_LEN), "pool_state");
    CHECK(check_mint(&ka[I_MINT0]), "token_0_mint");
    CHECK(check_mint(&ka[I_MINT1]), "token_1_mint");
    if (!key_less(ka[I_MINT0].key, ka[I_MINT1].key)) FAIL(InvalidInput, "token_0_mint must sort before token_1_mint");
    CHECK(check_vault(&ka[I_VAULT0], &ka[I_MINT0], &ka[I_AUTHORITY]), "token_0_vault");
    CHECK(check_vault(&ka[I_VAULT1], &ka[I_MINT1], &ka[I_AUTHORITY]), "token_1_vault");
    CHECK(check_fresh(&ka[I_OBSERVATION], pid, OBSERVATION_LEN), "observation_state");
    if (!authority_matches(ka[I_AUTHORITY].key, auth_bump, pid)) FAIL(ConstraintSeeds, "authority");

    SolClock clock;
    if (sol_get_clock_sysvar(&clock) != 0) FAIL(NotApproved, "clock sysvar unavailable");

    if (fresh_config) {
        u8 *c = cfg->data;
        zero(c, CONFIG_LEN);
        st_u64(c, ld_u64(DISC_CONFIG));
        c[C_BUMP] = 0;
        st_u16(c + C_INDEX, ld_u16(d + 42));
        st_u64(c + C_TRADE_FEE_RATE, ld_u64(d + 8));
        st_u64(c + C_PROTOCOL_FEE_RATE, ld_u64(d + 16));
        st_u64(c + C_FUND_FEE_RATE, ld_u64(d + 24));
    }

    u8 *pool = ka[I_POOL].data;
    zero(pool, POOL_LEN);
    st_u64(pool, ld_u64(DISC_POOL));
    key_copy_to(pool + P_AMM_CONFIG, cfg->key);
    key_copy_to(pool + P_POOL_CREATOR, ka[I_CREATOR].key);
    key_copy_to(pool + P_VAULT0, ka[I_VAULT0].key);
    key_copy_to(pool + P_VAULT1, ka[I_VAULT1].key);
    key_copy_to(pool + P_LP_MINT, ka[I_LP_MINT].key);
    key_copy_to(pool + P_MINT0, ka[I_MINT0].key);
    key_copy_to(pool + P_MINT1, ka[I_MINT1].key);
    key_copy_to(pool + P_PROGRAM0, ka[I_MINT0].owner);
    key_copy_to(pool + P_PROGRAM1, ka[I_MINT1].owner);
    key_copy_to(pool + P_OBSERVATION, ka[I_OBSERVATION].key);
    pool[P_AUTH_BUMP] = auth_bump;
    pool[P_STATUS] = d[41];
    pool[P_LP_DECIMALS] = check_mint(&ka[I_LP_MINT]) == 0 ? ka[I_LP_MINT].data[M_DECIMALS] : 9;
    pool[P_DECIMALS0] = ka[I_MINT0].data[M_DECIMALS];
    pool[P_DECIMALS1] = ka[I_MINT1].data[M_DECIMALS];
    st_u64(pool + P_OPEN_TIME, ld_u64(d + 32));
    st_u64(pool + P_RECENT_EPOCH, clock.epoch);

    u8 *obs = ka[I_OBSERVATION].data;
    zero(obs, OBSERVATION_LEN);
    st_u64(obs, ld_u64(DISC_OBSERVATION));
    key_copy_to(obs + O_POOL_ID, ka[I_POOL].key);
    return SUCCESS;
}

/* ---------------- entrypoint ---------------- */

u64 entrypoint(const u8 *input) {
    SolParameters *p = PARAMS;
    if (sol_deserialize(input, p)) FAIL(InvalidInput, "more than 64 account entries");
    if (p->data_len < 8) FAIL(InstructionMissing, "instruction data");
    const u8 *d = p->data;
    if (bytes_eq8(d, IX_SWAP_BASE_INPUT)) return process_swap(1);
    if (bytes_eq8(d, IX_SWAP_BASE_OUTPUT)) return process_swap(0);
    if (bytes_eq8(d, IX_INITIALIZE)) return process_initialize();
    FAIL(InstructionFallbackNotFound, "unknown instruction");
}
