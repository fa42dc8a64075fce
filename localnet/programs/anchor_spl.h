/*
 * anchor_spl.h: what our Anchor-style reference programs share on top of abi.h: Anchor's framework
 * error codes, the failure log helpers, the SPL Token / Token-2022 account layouts and program ids, the
 * account-type checks Anchor's Account / InterfaceAccount / Program wrappers perform, the heap layout
 * (parsed parameters, then a CPI scratch area, then the program's own state) and the TransferChecked CPI.
 *
 * Error codes: coral-xyz/anchor ts/packages/anchor-errors (the codes the real programs' account
 * constraints raise). Token layouts: spl-token state.rs (account 165 bytes, mint 82 bytes).
 */
#ifndef SOLARB_ANCHOR_SPL_H
#define SOLARB_ANCHOR_SPL_H

#include "abi.h"

/* ---- Anchor framework error codes ---- */
#define InstructionMissing 100
#define InstructionFallbackNotFound 101
#define InstructionDidNotDeserialize 102
#define ConstraintMut 2000
#define ConstraintRaw 2003
#define ConstraintSeeds 2006
#define ConstraintAddress 2012
#define ConstraintTokenMint 2014
#define ConstraintTokenOwner 2015
#define ConstraintSpace 2019
#define ConstraintTokenTokenProgram 2021
#define ConstraintMintTokenProgram 2022
#define RequireGtViolated 2505
#define AccountDiscriminatorAlreadySet 3000
#define AccountDiscriminatorNotFound 3001
#define AccountDiscriminatorMismatch 3002
#define AccountDidNotDeserialize 3003
#define AccountNotEnoughKeys 3005
#define AccountOwnedByWrongProgram 3007
#define InvalidProgramId 3008
#define InvalidProgramExecutable 3009
#define AccountNotSigner 3010
#define AccountNotInitialized 3012
/* Failure of a CPI or syscall is passed through unchanged (it is already an error value). */

/* FAIL / CHECK (abi.h) log "<ErrorName>: <account or context>" as Anchor names the account. */

/* ---- SPL Token layouts ---- */
#define TOKEN_ACCOUNT_LEN 165
#define T_MINT 0
#define T_OWNER 32
#define T_AMOUNT 64
#define T_STATE 108
#define MINT_LEN 82
#define M_SUPPLY 36
#define M_DECIMALS 44
#define M_IS_INITIALIZED 45

static const SolPubkey TOKEN_PROGRAM __attribute__((aligned(8))) = {{
    6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172,
    28, 180, 133, 237, 95, 91, 55, 145, 58, 140, 245, 133, 126, 255, 0, 169}};
static const SolPubkey TOKEN_2022_PROGRAM __attribute__((aligned(8))) = {{
    6, 221, 246, 225, 238, 117, 143, 222, 24, 66, 93, 188, 228, 108, 205, 218,
    182, 26, 252, 77, 131, 185, 13, 39, 254, 189, 249, 40, 216, 161, 139, 252}};

/* ---- heap layout: parsed parameters, the CPI scratch area, then the program's own state ---- */
typedef struct {
    SolAccountMeta metas[4];
    SolAccountInfo infos[5];
    u8 data[16];
    SolInstruction ix;
} CpiScratch;

#define PARAMS ((SolParameters *)HEAP_START)
#define CPI ((CpiScratch *)(HEAP_START + ((sizeof(SolParameters) + 7) & ~7UL)))
#define HEAP_STATE ((u8 *)CPI + ((sizeof(CpiScratch) + 7) & ~7UL))

/* ---- account type checks (Anchor's Account / AccountLoader / InterfaceAccount / Program) ---- */

static inline int is_token_program(const SolPubkey *k) {
    return key_eq(k, &TOKEN_PROGRAM) || key_eq(k, &TOKEN_2022_PROGRAM);
}

/* Anchor reports a system-owned account without lamports as "not initialized" before any owner check. */
static inline int is_missing(const SolAccountInfo *a) {
    const u64 *o = (const u64 *)a->owner->x;
    return (o[0] | o[1] | o[2] | o[3]) == 0 && *a->lamports == 0;
}

/* 0 if a is an account of `owner` with the given discriminator and at least min_len bytes. */
static u64 check_anchor_account(const SolAccountInfo *a, const SolPubkey *owner, const u8 *disc, u64 min_len) {
    if (is_missing(a)) return AccountNotInitialized;
    if (!key_eq(a->owner, owner)) return AccountOwnedByWrongProgram;
    if (a->data_len < 8) return AccountDiscriminatorNotFound;
    if (!bytes_eq8(a->data, disc)) return AccountDiscriminatorMismatch;
    if (a->data_len < min_len) return AccountDidNotDeserialize;
    return 0;
}

static u64 check_token_program(const SolAccountInfo *a) {
    if (!is_token_program(a->key)) return InvalidProgramId;
    if (!a->executable) return InvalidProgramExecutable;
    return 0;
}

/* ---- CPI: SPL Token TransferChecked (tag 12) ---- */

/* idx: program, source, mint, destination, authority (indices into PARAMS->ka). */
static u64 transfer_checked(const u8 *idx, u64 amount, const SolSignerSeeds *signers, int n_signers) {
    SolParameters *p = PARAMS;
    CpiScratch *c = CPI;
    for (int i = 0; i < 5; i++) c->infos[i] = p->ka[idx[i]];
    for (int i = 0; i < 4; i++) {
        c->metas[i].pubkey = p->ka[idx[i + 1]].key;
        c->metas[i].is_writable = (i == 0 || i == 2);
        c->metas[i].is_signer = (i == 3);
    }
    c->data[0] = 12;
    st_u64(c->data + 1, amount);
    c->data[9] = p->ka[idx[2]].data[M_DECIMALS];
    c->ix.program_id = p->ka[idx[0]].key;
    c->ix.accounts = c->metas;
    c->ix.account_len = 4;
    c->ix.data = c->data;
    c->ix.data_len = 10;
    return invoke_signed(&c->ix, c->infos, 5, signers, n_signers);
}

#endif /* SOLARB_ANCHOR_SPL_H */
