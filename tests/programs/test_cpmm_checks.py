"""Account checks, gates and error codes of cpmm.so, on localnet: every refusal carries its error code
and leaves every balance, fee counter and the pool/observation bytes untouched."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cpmm_env import CpmmEnv, LocalnetChain
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from localnet.programs import cpmm_accounts as ca
from localnet.programs.cpmm_errors import CpmmError as E
from rpc.client import RpcClient
from strategies.venues import raydium_cpmm as rc

pytestmark = pytest.mark.localnet

TOKEN_2022 = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
RATES = {"trade": 2500, "protocol": 120_000, "fund": 40_000}
AMOUNT_IN = 1_000_000_000


@pytest.fixture
async def env(localnet: Any) -> AsyncIterator[CpmmEnv]:
    async with RpcClient(localnet.rpc_url) as client:
        yield CpmmEnv(LocalnetChain(localnet, client))


def seed(env: CpmmEnv, **overrides: Any) -> None:
    fields = {"protocol_fees_token_0": 500, "fund_fees_token_0": 200, "protocol_fees_token_1": 60,
              "fund_fees_token_1": 30, **overrides}  # fmt: skip
    env.seed(vault0=10**13 + 700, vault1=4 * 10**12 + 90, user0=10**12, user1=5, **RATES, **fields)


async def good_ix(env: CpmmEnv, zfo: bool = True) -> Instruction:
    pool = rc.decode_pool(await env.pool_bytes(), env.program_id)
    return rc.build_swap_base_input_ix(
        pool_address=env.pool, pool=pool, payer=env.payer.pubkey(),
        user_input_account=env.user0 if zfo else env.user1, user_output_account=env.user1 if zfo else env.user0,
        zero_for_one=zfo, amount_in=AMOUNT_IN, min_out=1,
    )  # fmt: skip


def with_accounts(ix: Instruction, metas: list[AccountMeta]) -> Instruction:
    return Instruction(ix.program_id, bytes(ix.data), metas)


def swapped(ix: Instruction, i: int, j: int) -> Instruction:
    metas = list(ix.accounts)
    # Keep each slot's flags: only the keys move, as a client putting accounts in the wrong order does.
    a, b = metas[i], metas[j]
    metas[i] = AccountMeta(b.pubkey, is_signer=a.is_signer, is_writable=a.is_writable)
    metas[j] = AccountMeta(a.pubkey, is_signer=b.is_signer, is_writable=b.is_writable)
    return with_accounts(ix, metas)


def replaced(ix: Instruction, i: int, key: Pubkey) -> Instruction:
    metas = list(ix.accounts)
    metas[i] = AccountMeta(key, is_signer=metas[i].is_signer, is_writable=metas[i].is_writable)
    return with_accounts(ix, metas)


async def expect_refusal(
    env: CpmmEnv, ix: Instruction, code: int, signers: list[Keypair] | None = None
) -> None:
    before = await env.snapshot()
    out = await env.send(ix, signers)
    assert not out.ok, f"expected {E(code).name}, the swap succeeded"
    assert out.custom_error == code, (out.custom_error, code, out.error)
    assert await env.snapshot() == before, "state moved on a failed swap"


async def test_good_swap_is_accepted(env: CpmmEnv) -> None:
    """The baseline every refusal below mutates does settle."""
    seed(env)
    before = await env.snapshot()
    out = await env.send(await good_ix(env))
    assert out.ok, out.error
    assert (await env.snapshot())["user0"] == before["user0"] - AMOUNT_IN


async def test_missing_signer_is_refused(env: CpmmEnv) -> None:
    seed(env)
    ix = await good_ix(env)
    metas = list(ix.accounts)
    metas[0] = AccountMeta(metas[0].pubkey, is_signer=False, is_writable=False)
    other_payer = Keypair()
    env.chain.set_account(other_payer.pubkey(), ca.account(b"", Pubkey.default(), lamports=10**10))
    await expect_refusal(env, with_accounts(ix, metas), E.ACCOUNT_NOT_SIGNER, [other_payer])


@pytest.mark.parametrize("which", ["pool", "config", "observation", "vault0", "user0", "mint0"])
async def test_wrong_owner_is_refused(env: CpmmEnv, which: str) -> None:
    seed(env)
    ix = await good_ix(env)
    address = getattr(env, which)
    acc = env.chain.net.get_account(address)
    env.chain.set_account(address, ca.account(bytes(acc.data), Pubkey.new_unique()))
    await expect_refusal(env, ix, E.ACCOUNT_OWNED_BY_WRONG_PROGRAM)


ORDER_CASES: list[tuple[str, Callable[[Instruction], Instruction], int]] = [
    ("config<->pool", lambda ix: swapped(ix, 2, 3), E.ACCOUNT_DISCRIMINATOR_MISMATCH),
    ("input mint<->output mint", lambda ix: swapped(ix, 10, 11), E.CONSTRAINT_ADDRESS),
    ("user input<->input vault", lambda ix: swapped(ix, 4, 6), E.CONSTRAINT_RAW),
    ("input vault<->output vault", lambda ix: swapped(ix, 6, 7), E.CONSTRAINT_ADDRESS),
    ("token program<->mint", lambda ix: swapped(ix, 8, 10), E.INVALID_PROGRAM_ID),
    ("authority<->config", lambda ix: swapped(ix, 1, 2), E.ACCOUNT_NOT_INITIALIZED),
    ("observation<->pool", lambda ix: swapped(ix, 3, 12), E.ACCOUNT_DISCRIMINATOR_MISMATCH),
    ("reversed", lambda ix: with_accounts(ix, list(reversed(ix.accounts))), E.ACCOUNT_NOT_SIGNER),
    ("one account short", lambda ix: with_accounts(ix, list(ix.accounts)[:12]), E.ACCOUNT_NOT_ENOUGH_KEYS),
]


@pytest.mark.parametrize(("name", "mutate", "code"), ORDER_CASES, ids=[c[0] for c in ORDER_CASES])
async def test_wrong_account_order_is_refused(
    env: CpmmEnv, name: str, mutate: Callable[[Instruction], Instruction], code: int
) -> None:
    seed(env)
    await expect_refusal(env, mutate(await good_ix(env)), code)


async def test_accounts_the_pool_does_not_name_are_refused(env: CpmmEnv) -> None:
    seed(env)
    ix = await good_ix(env)
    # A valid AmmConfig / ObservationState that is not this pool's, an authority with the wrong seeds,
    # a token account of the right mint owned by the authority that is not a pool vault.
    other_config, other_obs, other_vault = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
    env.set(other_config, ca.amm_config_data(0, 0, 0), env.program_id)
    env.set(other_obs, ca.observation_data(env.pool), env.program_id)
    env.set_token(other_vault, env.mint0, env.authority, 10**15)
    await expect_refusal(env, replaced(ix, 2, other_config), E.CONSTRAINT_ADDRESS)
    await expect_refusal(env, replaced(ix, 12, other_obs), E.CONSTRAINT_ADDRESS)
    await expect_refusal(env, replaced(ix, 1, Pubkey.new_unique()), E.CONSTRAINT_SEEDS)
    await expect_refusal(env, replaced(ix, 6, other_vault), E.CONSTRAINT_RAW)
    await expect_refusal(env, replaced(ix, 8, Pubkey.from_string("11111111111111111111111111111111")),
                         E.INVALID_PROGRAM_ID)  # fmt: skip


async def test_readonly_pool_is_refused(env: CpmmEnv) -> None:
    seed(env)
    ix = await good_ix(env)
    metas = list(ix.accounts)
    metas[3] = AccountMeta(metas[3].pubkey, is_signer=False, is_writable=False)
    await expect_refusal(env, with_accounts(ix, metas), E.CONSTRAINT_MUT)


async def test_swap_disabled_status_and_open_time_gate(env: CpmmEnv) -> None:
    now = int(env.chain.net.chain.svm.get_clock().unix_timestamp)
    seed(env, status=rc.STATUS_SWAP_DISABLED)
    await expect_refusal(env, await good_ix(env), E.NOT_APPROVED)
    seed(env, status=rc.STATUS_DEPOSIT_DISABLED | rc.STATUS_WITHDRAW_DISABLED)  # other bits do not gate swaps
    assert (await env.send(await good_ix(env))).ok
    seed(env, open_time=now + 3600)
    await expect_refusal(env, await good_ix(env), E.NOT_APPROVED)
    seed(env, open_time=now - 1)
    assert (await env.send(await good_ix(env))).ok


async def test_creator_fee_pools_are_refused(env: CpmmEnv) -> None:
    seed(env, enable_creator_fee=True)
    await expect_refusal(env, await good_ix(env), E.INVALID_FEE_MODEL)


async def test_fees_owed_beyond_the_vault_are_refused(env: CpmmEnv) -> None:
    seed(env, protocol_fees_token_1=4 * 10**12 + 91)
    await expect_refusal(env, await good_ix(env), E.INSUFFICIENT_VAULT)


async def test_token_2022_mint_with_extensions_is_refused(env: CpmmEnv) -> None:
    seed(env)
    # Token-2022 mint padded to the extension area (account type byte 1 = mint at offset 165).
    ext_mint = ca.mint_data(9) + bytes(165 - ca.MINT_SIZE) + b"\x01" + bytes(8)
    env.set(env.mint0, ext_mint, TOKEN_2022)
    env.set_token(env.vault0, env.mint0, env.authority, 10**13 + 700, program=TOKEN_2022)
    env.set_token(env.user0, env.mint0, env.payer.pubkey(), 10**12, program=TOKEN_2022)
    ix = replaced(await good_ix(env), 8, TOKEN_2022)
    await expect_refusal(env, ix, E.NOT_SUPPORT_MINT)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x01\x02", E.INSTRUCTION_MISSING),
        (bytes(8), E.INSTRUCTION_FALLBACK_NOT_FOUND),
        (rc.SWAP_BASE_INPUT_DISCRIMINATOR + bytes(12), E.INSTRUCTION_DID_NOT_DESERIALIZE),
        (rc.encode_swap_base_input_data(0, 0), E.REQUIRE_GT_VIOLATED),
        (rc.encode_swap_base_output_data(10**18, 0), E.REQUIRE_GT_VIOLATED),
        (rc.encode_swap_base_output_data(10**18, 4 * 10**12), E.ZERO_TRADING_TOKENS),
    ],
    ids=["no-discriminator", "unknown", "short-args", "zero-in", "zero-out", "out-beyond-reserve"],
)
async def test_bad_instruction_data_is_refused(env: CpmmEnv, data: bytes, code: int) -> None:
    seed(env)
    ix = await good_ix(env)
    await expect_refusal(env, Instruction(ix.program_id, data, list(ix.accounts)), code)


async def test_extra_accounts_after_the_thirteen_are_ignored(env: CpmmEnv) -> None:
    seed(env)
    ix = await good_ix(env)
    extra = [AccountMeta(Pubkey.new_unique(), is_signer=False, is_writable=False) for _ in range(3)]
    out = await env.send(with_accounts(ix, [*ix.accounts, *extra]))
    assert out.ok, out.error
