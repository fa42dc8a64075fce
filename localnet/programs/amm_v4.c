/*
 * amm_v4.c: a Raydium AMM v4-compatible constant-product AMM for localnet, loaded at Raydium AMM v4's
 * program id 675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8.
 *
 * Same interfaces as the real program (raydium-io/raydium-amm program/src/{state,processor,math,
 * instruction,error}.rs; restated in /work/shared/notes/protocols.md section 1): the 752-byte AmmInfo
 * at its real offsets (native account, no discriminator), 1-byte instruction tags, both account lists,
 * the checks the real swap handlers make in their order, the swap fee from the pool's own
 * swap_fee_numerator / swap_fee_denominator with the current program's rounding (ceil since 2025-08-26),
 * reserves = vault amount - need_take_pnl, the status rules, SPL Token `Transfer` CPIs signed by the
 * authority PDA ["amm authority", [nonce]], and the real program's error numbering. No code was copied.
 *
 * Instructions (tag u8, then little-endian arguments; 17 bytes for a swap, extra bytes ignored):
 *
 *   9  SwapBaseIn    amount_in u64 | minimum_amount_out u64    legacy list: 17 accounts, or 18 with
 *   11 SwapBaseOut   max_amount_in u64 | amount_out u64        target_orders at index 4:
 *     0 token program, 1 amm (w), 2 authority, 3 open_orders (w), [4 target_orders (w)], 4 coin vault (w),
 *     5 pc vault (w), 6 market program, 7 market (w), 8 bids (w), 9 asks (w), 10 event queue (w),
 *     11 market coin vault (w), 12 market pc vault (w), 13 market vault signer, 14 user source (w),
 *     15 user destination (w), 16 user owner (s)   (indices after 3 shift by one with target_orders).
 *   16 SwapBaseInV2  amount_in u64 | minimum_amount_out u64    8 accounts:
 *   17 SwapBaseOutV2 max_amount_in u64 | amount_out u64
 *     0 token program, 1 amm (w), 2 authority, 3 coin vault (w), 4 pc vault (w), 5 user source (w),
 *     6 user destination (w), 7 user owner (s).
 *   The swap direction follows the user accounts' mints (coin->pc when the source holds the coin mint).
 *   The order-book accounts of the legacy list are checked, not executed: open_orders, market and
 *   market program must be the pool's (AmmInfo names them) and open_orders and market must be owned by
 *   the market program; bids, asks, event queue, market vaults, vault signer and target_orders only
 *   have to be present. No CPI into the market program is made.
 *
 *   240 initialize (ours, NOT Raydium's Initialize2; the real program has no tag 240)
 *     data: tag u8 @0 | nonce u8 @1 | status u8 @2 | open_time u64 @3 | swap_fee_numerator u64 @11 |
 *           swap_fee_denominator u64 @19   (27 bytes)
 *     accounts: 0 creator (s), 1 amm (w, owned by this program, 752 bytes, all-zero status),
 *     2 authority (= create_program_address(["amm authority", [nonce]])), 3 coin mint, 4 pc mint,
 *     5 coin vault, 6 pc vault (SPL token accounts of those mints owned by the authority), 7 lp mint,
 *     8 open_orders, 9 market, 10 market program, 11 target_orders (7-11 are stored only).
 *
 * Build flags (test builds of older or newer real programs; see README):
 *   -DAMM_V4_NO_V2      tags 16/17 fail with InvalidInstructionData, as before the 2025-09-22 release;
 *   -DAMM_V4_NO_LEGACY  tags 9/11 fail with InvalidInstructionData. Both: a program taking neither.
 *
 * Error codes: ProgramError::Custom(n) with n the index of raydium-amm's AmmError enum (error.rs), and
 * the two builtin errors the real program returns (InvalidInstructionData, NotEnoughAccountKeys).
 * Table: localnet/programs/README.md and localnet/programs/amm_v4_errors.py. Where the real program
 * would panic (unwrap on overflow, division by zero, unknown status) we return a named error instead.
 */
#include "abi.h"

/* ---------------- error codes ---------------- */
/* raydium-amm AmmError, numbered by declaration order (error.rs), returned as Custom(n). */
#define InvalidProgramAddress 1
#define ExpectedMint 2
#define ExpectedAccount 3
#define InvalidCoinVault 4
#define InvalidPCVault 5
#define InvalidOpenOrders 10
#define InvalidMarket 11
#define InvalidMarketProgram 12
#define AccountNeedWriteable 14
#define InvalidOwner 18
#define InvalidSignAccount 21
#define InvalidStatus 22
#define WrongAccountsNumber 24
#define InvalidAmmAccountOwner 27
#define InvalidInput 29
#define ExceededSlippage 30
#define CheckedSubOverflow 32
#define CheckedMulOverflow 34
#define CheckedDivOverflow 35
#define InvalidSplTokenProgram 38
#define InsufficientFunds 40
#define ConversionFailure 41
#define InvalidUserToken 42
#define InvalidFee 48
#define RepeatCreateAmm 49
#define NotAllowed 59
/* Builtin ProgramError values: the runtime reads n << 32 as the builtin error n. */
#define InvalidInstructionData (3UL << 32)
#define NotEnoughAccountKeys (11UL << 32)

/* FAIL / CHECK (abi.h) log "<ErrorName>: <context>" and return the code. */
/* Return e (already logged by its producer) if it is an error. */
#define TRY(expr)                \
    do {                         \
        u64 _e = (expr);         \
        if (_e) return _e;       \
    } while (0)

/* ---------------- layouts ---------------- */
/* AmmInfo, repr(C, packed), 752 bytes (state.rs; protocols.md section 1.2). */
#define AMM_LEN 752
#define F_STATUS 0
#define F_NONCE 8
#define F_ORDER_NUM 16
#define F_DEPTH 24
#define F_COIN_DECIMALS 32
#define F_PC_DECIMALS 40
#define F_STATE 48
#define F_RESET_FLAG 56
#define F_VOL_MAX_CUT_RATIO 72
#define F_AMOUNT_WAVE 80
#define F_MIN_PRICE_MULTIPLIER 104
#define F_MAX_PRICE_MULTIPLIER 112
#define F_SYS_DECIMAL_VALUE 120
#define F_MIN_SEPARATE_NUM 128
#define F_MIN_SEPARATE_DEN 136
#define F_TRADE_FEE_NUM 144
#define F_TRADE_FEE_DEN 152
#define F_PNL_NUM 160
#define F_PNL_DEN 168
#define F_SWAP_FEE_NUM 176
#define F_SWAP_FEE_DEN 184
#define F_NEED_TAKE_PNL_COIN 192
#define F_NEED_TAKE_PNL_PC 200
#define F_POOL_OPEN_TIME 224
#define F_COIN_VAULT 336
#define F_PC_VAULT 368
#define F_COIN_MINT 400
#define F_PC_MINT 432
#define F_LP_MINT 464
#define F_OPEN_ORDERS 496
#define F_MARKET 528
#define F_MARKET_PROGRAM 560
#define F_TARGET_ORDERS 592
#define F_AMM_OWNER 688
#define F_RECENT_EPOCH 736

/* AmmStatus (state.rs). */
#define STATUS_UNINITIALIZED 0
#define STATUS_INITIALIZED 1
#define STATUS_ORDER_BOOK_ONLY 5
#define STATUS_SWAP_ONLY 6
#define STATUS_WAITING_TRADE 7

#define TOKEN_ACCOUNT_LEN 165
#define T_MINT 0
#define T_OWNER 32
#define T_AMOUNT 64
#define T_STATE 108
#define MINT_LEN 82
#define M_DECIMALS 44
#define M_IS_INITIALIZED 45

#define TAG_SWAP_BASE_IN 9
#define TAG_SWAP_BASE_OUT 11
#define TAG_SWAP_BASE_IN_V2 16
#define TAG_SWAP_BASE_OUT_V2 17
#define TAG_INITIALIZE 240
#define SWAP_DATA_LEN 17
#define INITIALIZE_DATA_LEN 27
#define SPL_TRANSFER 3

static const SolPubkey TOKEN_PROGRAM __attribute__((aligned(8))) = {{
    6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172,
    28, 180, 133, 237, 95, 91, 55, 145, 58, 140, 245, 133, 126, 255, 0, 169}};

static const char AUTH_SEED[] = "amm authority";

/* Positions of the accounts a swap uses, per account list. */
typedef struct {
    u8 token_program, amm, authority, coin_vault, pc_vault, source, destination, owner;
    u8 open_orders, market_program, market; /* legacy list only */
} SwapSlots;

static const SwapSlots V2_SLOTS = {0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0};
static const SwapSlots LEGACY_SLOTS = {0, 1, 2, 4, 5, 14, 15, 16, 3, 6, 7};
static const SwapSlots LEGACY_TARGET_SLOTS = {0, 1, 2, 5, 6, 15, 16, 17, 3, 7, 8};

/* Heap layout: parsed parameters, then the CPI scratch area. */
typedef struct {
    SolAccountMeta metas[3];
    SolAccountInfo infos[4];
    u8 data[16];
    SolInstruction ix;
} CpiScratch;

#define PARAMS ((SolParameters *)HEAP_START)
#define CPI ((CpiScratch *)(HEAP_START + ((sizeof(SolParameters) + 7) & ~7UL)))

/* ---------------- account checks ---------------- */

/* Processor::unpack_token_account: owned by SPL Token, exactly 165 bytes, initialized or frozen. */
static u64 check_token_account(const SolAccountInfo *a) {
    if (!key_eq(a->owner, &TOKEN_PROGRAM)) return InvalidSplTokenProgram;
    if (a->data_len != TOKEN_ACCOUNT_LEN || a->data[T_STATE] == 0 || a->data[T_STATE] > 2) return ExpectedAccount;
    return 0;
}

static u64 check_mint(const SolAccountInfo *a) {
    if (!key_eq(a->owner, &TOKEN_PROGRAM)) return InvalidSplTokenProgram;
    if (a->data_len != MINT_LEN || a->data[M_IS_INITIALIZED] != 1) return ExpectedMint;
    return 0;
}

/* create_program_address(["amm authority", [nonce]]); 0 if the nonce gives no valid address. */
static int derive_authority(u8 nonce, const SolPubkey *program_id, SolPubkey *out) {
    u8 nonce_seed[1] = {nonce};
    SolSignerSeed seeds[2] = {{(const u8 *)AUTH_SEED, sizeof(AUTH_SEED) - 1}, {nonce_seed, 1}};
    return sol_create_program_address(seeds, 2, program_id, out) == 0;
}

/* AmmInfo::load_mut_checked. */
static u64 check_amm(const SolAccountInfo *a, const SolPubkey *program_id) {
    if (!key_eq(a->owner, program_id)) return InvalidAmmAccountOwner;
    if (a->data_len != AMM_LEN) return ExpectedAccount;
    if (ld_u64(a->data + F_STATUS) == STATUS_UNINITIALIZED) return InvalidStatus;
    return 0;
}

/*
 * The legacy list's order-book accounts: the pool names open_orders, market and market program, and the
 * market program owns the first two (what OpenBook's load_checked would verify before reading them).
 */
static u64 check_market_accounts(const SolAccountInfo *ka, const SwapSlots *s, const u8 *amm) {
    const SolAccountInfo *oo = &ka[s->open_orders], *mp = &ka[s->market_program], *mk = &ka[s->market];
    if (!key_eq_bytes(amm + F_OPEN_ORDERS, oo->key)) FAIL(InvalidOpenOrders, "open_orders is not the pool's");
    if (!key_eq_bytes(amm + F_MARKET_PROGRAM, mp->key)) FAIL(InvalidMarketProgram, "market_program is not the pool's");
    if (!key_eq_bytes(amm + F_MARKET, mk->key)) FAIL(InvalidMarket, "market is not the pool's");
    if (!key_eq(oo->owner, mp->key)) FAIL(InvalidOpenOrders, "open_orders is not owned by the market program");
    if (!key_eq(mk->owner, mp->key)) FAIL(InvalidMarket, "market is not owned by the market program");
    return 0;
}

/* ---------------- math (u128 on pairs of u64) ---------------- */

/* q = ceil(n / d) for d != 0 (the current program's CheckedCeilDiv: quotient + 1 on any remainder). */
static void ceil_div_128(const u128 *n, const u128 *d, u128 *q) {
    u128 r;
    divmod_128(n, d, q, &r);
    if (!is_zero_128(&r)) {
        /* cannot overflow: q <= n / 1 and r != 0 means d > 1, so q < 2**127 */
        q->lo += 1;
        q->hi += (q->lo == 0);
    }
}

/* One swap: the instruction's two arguments, what the pool and user hold, and the result. */
typedef struct {
    u64 arg0, arg1;        /* base in: amount_in, minimum_amount_out; base out: max_amount_in, amount_out */
    u64 r_in, r_out;       /* reserves: vault amount - need_take_pnl */
    u64 fee_num, fee_den;  /* swap_fee_numerator / swap_fee_denominator, num < den */
    u64 balance;           /* the user's source token balance */
    u64 amount_in;         /* result: debited from the user, fee included */
    u64 amount_out;        /* result: credited to the user */
} Swap;

/*
 * SwapBaseIn: fee = ceil(in * num / den); x = in - fee; out = floor(R_out * x / (R_in + x)).
 * Checks in the real order: user balance, slippage, zero amounts, out < R_out.
 */
static u64 quote_base_in(Swap *sw) {
    u64 amount_in = sw->arg0;
    if (sw->balance < amount_in) FAIL(InsufficientFunds, "user source balance < amount_in");
    u128 t, den, fee, q, rem;
    mul_64x64(amount_in, sw->fee_num, &t);
    u128_set(&den, sw->fee_den);
    ceil_div_128(&t, &den, &fee);
    u64 x = amount_in - fee.lo; /* fee <= amount_in because num < den */
    den.lo = sw->r_in + x;
    den.hi = den.lo < sw->r_in;
    if (is_zero_128(&den)) {
        if (amount_in == 0) FAIL(InvalidInput, "amount_in is 0");
        /* the real program panics (division by zero) */
        FAIL(CheckedDivOverflow, "input reserve and net input are 0");
    }
    mul_64x64(sw->r_out, x, &t);
    divmod_128(&t, &den, &q, &rem); /* q <= r_out because x <= R_in + x */
    u64 out = q.lo;
    if (out < sw->arg1) FAIL(ExceededSlippage, "amount_out < minimum_amount_out");
    if (out == 0 || amount_in == 0) FAIL(InvalidInput, "amount_in or amount_out is 0");
    if (out >= sw->r_out) FAIL(InsufficientFunds, "amount_out >= output reserve");
    sw->amount_in = amount_in;
    sw->amount_out = out;
    return 0;
}

/*
 * SwapBaseOut: in0 = ceil(R_in * out / (R_out - out)); in = ceil(in0 * den / (den - num)).
 * Then, in the real order: user balance, slippage, zero amounts.
 */
static u64 quote_base_out(Swap *sw) {
    u64 amount_out = sw->arg1;
    if (amount_out == 0) FAIL(InvalidInput, "amount_out is 0");
    /* the real program panics here (u128 underflow or division by zero) */
    if (amount_out >= sw->r_out) FAIL(InsufficientFunds, "amount_out >= output reserve");
    u128 t, den, in0, in;
    mul_64x64(sw->r_in, amount_out, &t);
    u128_set(&den, sw->r_out - amount_out);
    ceil_div_128(&t, &den, &in0);
    if (!mul_128x64(&in0, sw->fee_den, &t)) FAIL(CheckedMulOverflow, "required input * swap_fee_denominator");
    u128_set(&den, sw->fee_den - sw->fee_num); /* > 0 because num < den */
    ceil_div_128(&t, &den, &in);
    if (in.hi) FAIL(ConversionFailure, "amount_in does not fit u64");
    if (sw->balance < in.lo) FAIL(InsufficientFunds, "user source balance < amount_in");
    if (sw->arg0 < in.lo) FAIL(ExceededSlippage, "amount_in > max_amount_in");
    if (in.lo == 0) FAIL(InvalidInput, "amount_in is 0");
    sw->amount_in = in.lo;
    sw->amount_out = amount_out;
    return 0;
}

/* ---------------- CPI: SPL Token Transfer (tag 3) ---------------- */

/* idx: source, destination, authority (indices into PARAMS->ka). */
static u64 transfer(u8 token_program, const u8 *idx, u64 amount, const SolSignerSeeds *signers, int n_signers) {
    SolParameters *p = PARAMS;
    CpiScratch *c = CPI;
    for (int i = 0; i < 3; i++) {
        c->infos[i] = p->ka[idx[i]];
        c->metas[i].pubkey = p->ka[idx[i]].key;
        c->metas[i].is_writable = i < 2;
        c->metas[i].is_signer = i == 2;
    }
    c->infos[3] = p->ka[token_program];
    c->data[0] = SPL_TRANSFER;
    st_u64(c->data + 1, amount);
    c->ix.program_id = p->ka[token_program].key;
    c->ix.accounts = c->metas;
    c->ix.account_len = 3;
    c->ix.data = c->data;
    c->ix.data_len = 9;
    return invoke_signed(&c->ix, c->infos, 4, signers, n_signers);
}

/* ---------------- swap ---------------- */

static u64 process_swap(int legacy, int base_in) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    const SolPubkey *pid = p->program_id;
    u64 n = p->ka_num;
    if (p->data_len < SWAP_DATA_LEN) FAIL(InvalidInstructionData, "swap needs 16 bytes of arguments");
    const SwapSlots *s;
    if (legacy) {
        if (n != 17 && n != 18) FAIL(WrongAccountsNumber, "swap_base_in/out takes 17 or 18 accounts");
        s = n == 18 ? &LEGACY_TARGET_SLOTS : &LEGACY_SLOTS;
    } else {
        /* the real V2 handler reads 5 accounts, loads the pool, then reads 3 more */
        if (n < 5) FAIL(NotEnoughAccountKeys, "swap_base_in_v2/out_v2 takes 8 accounts");
        s = &V2_SLOTS;
    }
    SolAccountInfo *amm_info = &ka[s->amm];
    CHECK(check_amm(amm_info, pid), "amm");
    u8 *amm = amm_info->data;
    if (key_eq_bytes(amm + F_COIN_MINT, (const SolPubkey *)(amm + F_PC_MINT))) FAIL(NotAllowed, "coin mint == pc mint");
    if (!legacy && n < 8) FAIL(NotEnoughAccountKeys, "swap_base_in_v2/out_v2 takes 8 accounts");

    SolAccountInfo *coin_vault = &ka[s->coin_vault], *pc_vault = &ka[s->pc_vault];
    SolAccountInfo *source = &ka[s->source], *destination = &ka[s->destination];
    if (!ka[s->owner].is_signer) FAIL(InvalidSignAccount, "user owner did not sign");
    if (!key_eq(ka[s->token_program].key, &TOKEN_PROGRAM)) FAIL(InvalidSplTokenProgram, "token program");
    SolPubkey authority;
    if (!derive_authority((u8)ld_u64(amm + F_NONCE), pid, &authority)) FAIL(InvalidProgramAddress, "nonce");
    if (!key_eq(&authority, ka[s->authority].key)) FAIL(InvalidProgramAddress, "authority");
    if (!key_eq_bytes(amm + F_COIN_VAULT, coin_vault->key)) FAIL(InvalidCoinVault, "coin vault");
    if (!key_eq_bytes(amm + F_PC_VAULT, pc_vault->key)) FAIL(InvalidPCVault, "pc vault");
    if (key_eq_bytes(amm + F_COIN_VAULT, source->key) || key_eq_bytes(amm + F_PC_VAULT, source->key))
        FAIL(InvalidUserToken, "user source is a pool vault");
    if (key_eq_bytes(amm + F_COIN_VAULT, destination->key) || key_eq_bytes(amm + F_PC_VAULT, destination->key))
        FAIL(InvalidUserToken, "user destination is a pool vault");
    CHECK(check_token_account(coin_vault), "coin vault");
    CHECK(check_token_account(pc_vault), "pc vault");
    CHECK(check_token_account(source), "user source");
    CHECK(check_token_account(destination), "user destination");
    /* The real program leaves these to the runtime; we name the account instead. */
    if (!amm_info->is_writable) FAIL(AccountNeedWriteable, "amm");
    if (!coin_vault->is_writable) FAIL(AccountNeedWriteable, "coin vault");
    if (!pc_vault->is_writable) FAIL(AccountNeedWriteable, "pc vault");
    if (!source->is_writable) FAIL(AccountNeedWriteable, "user source");
    if (!destination->is_writable) FAIL(AccountNeedWriteable, "user destination");
    if (legacy) TRY(check_market_accounts(ka, s, amm));

    SolClock clock;
    TRY(sol_get_clock_sysvar(&clock));
    u64 status = ld_u64(amm + F_STATUS);
    if (status != STATUS_INITIALIZED && status != STATUS_SWAP_ONLY && status != STATUS_WAITING_TRADE)
        FAIL(InvalidStatus, "status does not allow swaps");
    if (status == STATUS_WAITING_TRADE) {
        if ((u64)clock.unix_timestamp < ld_u64(amm + F_POOL_OPEN_TIME)) FAIL(InvalidStatus, "pool not open yet");
        st_u64(amm + F_STATUS, STATUS_SWAP_ONLY);
    }
    /* Order-book statuses price from open-orders balances too: the V2 handler refuses them. */
    if (!legacy && status == STATUS_INITIALIZED) FAIL(InvalidStatus, "order book enabled: use swap_base_in/out");

    u64 coin_amount = ld_u64(coin_vault->data + T_AMOUNT), pc_amount = ld_u64(pc_vault->data + T_AMOUNT);
    u64 pnl_coin = ld_u64(amm + F_NEED_TAKE_PNL_COIN), pnl_pc = ld_u64(amm + F_NEED_TAKE_PNL_PC);
    if (pc_amount < pnl_pc) FAIL(CheckedSubOverflow, "need_take_pnl_pc > pc vault");
    if (coin_amount < pnl_coin) FAIL(CheckedSubOverflow, "need_take_pnl_coin > coin vault");
    u64 r_coin = coin_amount - pnl_coin, r_pc = pc_amount - pnl_pc;

    const u8 *src_mint = source->data + T_MINT, *dst_mint = destination->data + T_MINT;
    int coin_to_pc;
    if (key_eq_bytes(src_mint, (const SolPubkey *)(coin_vault->data + T_MINT)) &&
        key_eq_bytes(dst_mint, (const SolPubkey *)(pc_vault->data + T_MINT)))
        coin_to_pc = 1;
    else if (key_eq_bytes(src_mint, (const SolPubkey *)(pc_vault->data + T_MINT)) &&
             key_eq_bytes(dst_mint, (const SolPubkey *)(coin_vault->data + T_MINT)))
        coin_to_pc = 0;
    else
        FAIL(InvalidUserToken, "user accounts' mints match no direction");

    /* The real program would panic on a zero denominator or underflow; such pools are refused. */
    Swap sw;
    sw.fee_num = ld_u64(amm + F_SWAP_FEE_NUM);
    sw.fee_den = ld_u64(amm + F_SWAP_FEE_DEN);
    if (sw.fee_num >= sw.fee_den) FAIL(InvalidFee, "swap fee is not below 1");
    sw.arg0 = ld_u64(p->data + 1);
    sw.arg1 = ld_u64(p->data + 9);
    sw.r_in = coin_to_pc ? r_coin : r_pc;
    sw.r_out = coin_to_pc ? r_pc : r_coin;
    sw.balance = ld_u64(source->data + T_AMOUNT);
    TRY(base_in ? quote_base_in(&sw) : quote_base_out(&sw));

    u8 vault_in = coin_to_pc ? s->coin_vault : s->pc_vault, vault_out = coin_to_pc ? s->pc_vault : s->coin_vault;
    const u8 in_idx[3] = {s->source, vault_in, s->owner};
    TRY(transfer(s->token_program, in_idx, sw.amount_in, 0, 0));
    u8 nonce_seed[1] = {(u8)ld_u64(amm + F_NONCE)};
    SolSignerSeed seeds[2] = {{(const u8 *)AUTH_SEED, sizeof(AUTH_SEED) - 1}, {nonce_seed, 1}};
    SolSignerSeeds signer = {seeds, 2};
    const u8 out_idx[3] = {vault_out, s->destination, s->authority};
    TRY(transfer(s->token_program, out_idx, sw.amount_out, &signer, 1));
    st_u64(amm + F_RECENT_EPOCH, clock.epoch);
    return SUCCESS;
}

/* ---------------- initialize (ours) ---------------- */

enum {
    I_CREATOR, I_AMM, I_AUTHORITY, I_COIN_MINT, I_PC_MINT, I_COIN_VAULT, I_PC_VAULT, I_LP_MINT, I_OPEN_ORDERS,
    I_MARKET, I_MARKET_PROGRAM, I_TARGET_ORDERS, INIT_ACCOUNTS
};

static u64 pow10_u64(u64 e) {
    u64 v = 1;
    while (e--) v *= 10;
    return v;
}

static u64 process_initialize(void) {
    SolParameters *p = PARAMS;
    SolAccountInfo *ka = p->ka;
    const SolPubkey *pid = p->program_id;
    if (p->data_len < INITIALIZE_DATA_LEN) FAIL(InvalidInstructionData, "initialize takes 26 bytes of arguments");
    if (p->ka_num < INIT_ACCOUNTS) FAIL(NotEnoughAccountKeys, "initialize takes 12 accounts");
    const u8 *d = p->data;
    u8 nonce = d[1], status = d[2];
    u64 open_time = ld_u64(d + 3), fee_num = ld_u64(d + 11), fee_den = ld_u64(d + 19);

    if (!ka[I_CREATOR].is_signer) FAIL(InvalidSignAccount, "creator did not sign");
    SolAccountInfo *amm_info = &ka[I_AMM];
    if (!key_eq(amm_info->owner, pid)) FAIL(InvalidAmmAccountOwner, "amm");
    if (amm_info->data_len != AMM_LEN) FAIL(ExpectedAccount, "amm is not 752 bytes");
    if (!amm_info->is_writable) FAIL(AccountNeedWriteable, "amm");
    if (ld_u64(amm_info->data + F_STATUS) != STATUS_UNINITIALIZED) FAIL(RepeatCreateAmm, "amm already initialized");
    SolPubkey authority;
    if (!derive_authority(nonce, pid, &authority)) FAIL(InvalidProgramAddress, "nonce");
    if (!key_eq(&authority, ka[I_AUTHORITY].key)) FAIL(InvalidProgramAddress, "authority");
    CHECK(check_mint(&ka[I_COIN_MINT]), "coin mint");
    CHECK(check_mint(&ka[I_PC_MINT]), "pc mint");
    if (key_eq(ka[I_COIN_MINT].key, ka[I_PC_MINT].key)) FAIL(NotAllowed, "coin mint == pc mint");
    CHECK(check_token_account(&ka[I_COIN_VAULT]), "coin vault");
    CHECK(check_token_account(&ka[I_PC_VAULT]), "pc vault");
    if (!key_eq_bytes(ka[I_COIN_VAULT].data + T_MINT, ka[I_COIN_MINT].key)) FAIL(InvalidCoinVault, "coin vault mint");
    if (!key_eq_bytes(ka[I_PC_VAULT].data + T_MINT, ka[I_PC_MINT].key)) FAIL(InvalidPCVault, "pc vault mint");
    if (!key_eq_bytes(ka[I_COIN_VAULT].data + T_OWNER, &authority)) FAIL(InvalidOwner, "coin vault owner");
    if (!key_eq_bytes(ka[I_PC_VAULT].data + T_OWNER, &authority)) FAIL(InvalidOwner, "pc vault owner");
    if (status == STATUS_UNINITIALIZED || status > STATUS_WAITING_TRADE) FAIL(InvalidStatus, "status");
    if (fee_num >= fee_den) FAIL(InvalidFee, "swap fee is not below 1");
    SolClock clock;
    TRY(sol_get_clock_sysvar(&clock));

    u8 *a = amm_info->data;
    zero(a, AMM_LEN);
    u64 coin_decimals = ka[I_COIN_MINT].data[M_DECIMALS], pc_decimals = ka[I_PC_MINT].data[M_DECIMALS];
    if (coin_decimals > 19 || pc_decimals > 19) FAIL(ExpectedMint, "decimals above 19");
    u64 sys_decimal_value = pow10_u64(pc_decimals > coin_decimals ? pc_decimals : coin_decimals);
    /* AmmInfo::initialize's defaults for what swaps do not read. */
    st_u64(a + F_STATUS, status);
    st_u64(a + F_NONCE, nonce);
    st_u64(a + F_ORDER_NUM, 7);
    st_u64(a + F_DEPTH, 3);
    st_u64(a + F_COIN_DECIMALS, coin_decimals);
    st_u64(a + F_PC_DECIMALS, pc_decimals);
    st_u64(a + F_STATE, 1);      /* IdleState */
    st_u64(a + F_RESET_FLAG, 1); /* ResetNo */
    st_u64(a + F_VOL_MAX_CUT_RATIO, 500);
    st_u64(a + F_AMOUNT_WAVE, sys_decimal_value / 1000 * 5);
    st_u64(a + F_MIN_PRICE_MULTIPLIER, 1);
    st_u64(a + F_MAX_PRICE_MULTIPLIER, 1000000000);
    st_u64(a + F_SYS_DECIMAL_VALUE, sys_decimal_value);
    st_u64(a + F_MIN_SEPARATE_NUM, 5);
    st_u64(a + F_MIN_SEPARATE_DEN, 10000);
    st_u64(a + F_TRADE_FEE_NUM, 25);
    st_u64(a + F_TRADE_FEE_DEN, 10000);
    st_u64(a + F_PNL_NUM, 12);
    st_u64(a + F_PNL_DEN, 100);
    st_u64(a + F_SWAP_FEE_NUM, fee_num);
    st_u64(a + F_SWAP_FEE_DEN, fee_den);
    st_u64(a + F_POOL_OPEN_TIME, open_time);
    key_copy_to(a + F_COIN_VAULT, ka[I_COIN_VAULT].key);
    key_copy_to(a + F_PC_VAULT, ka[I_PC_VAULT].key);
    key_copy_to(a + F_COIN_MINT, ka[I_COIN_MINT].key);
    key_copy_to(a + F_PC_MINT, ka[I_PC_MINT].key);
    key_copy_to(a + F_LP_MINT, ka[I_LP_MINT].key);
    key_copy_to(a + F_OPEN_ORDERS, ka[I_OPEN_ORDERS].key);
    key_copy_to(a + F_MARKET, ka[I_MARKET].key);
    key_copy_to(a + F_MARKET_PROGRAM, ka[I_MARKET_PROGRAM].key);
    key_copy_to(a + F_TARGET_ORDERS, ka[I_TARGET_ORDERS].key);
    key_copy_to(a + F_AMM_OWNER, ka[I_CREATOR].key);
    st_u64(a + F_RECENT_EPOCH, clock.epoch);
    return SUCCESS;
}

/* ---------------- entrypoint ---------------- */

u64 entrypoint(const u8 *input) {
    SolParameters *p = PARAMS;
    if (sol_deserialize(input, p)) FAIL(WrongAccountsNumber, "more than 64 account entries");
    if (p->data_len < 1) FAIL(InvalidInstructionData, "no instruction tag");
    switch (p->data[0]) {
    case TAG_SWAP_BASE_IN:
    case TAG_SWAP_BASE_OUT:
#ifdef AMM_V4_NO_LEGACY
        FAIL(InvalidInstructionData, "this build has no tags 9/11");
#else
        return process_swap(1, p->data[0] == TAG_SWAP_BASE_IN);
#endif
    case TAG_SWAP_BASE_IN_V2:
    case TAG_SWAP_BASE_OUT_V2:
#ifdef AMM_V4_NO_V2
        FAIL(InvalidInstructionData, "this build has no tags 16/17");
#else
        return process_swap(0, p->data[0] == TAG_SWAP_BASE_IN_V2);
#endif
    case TAG_INITIALIZE:
        return process_initialize();
    default:
        FAIL(InvalidInstructionData, "unknown or unsupported instruction tag");
    }
}
