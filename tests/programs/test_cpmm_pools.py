"""Pools on localnet: the real mainnet PoolState dump swaps exactly as quoted (our offsets are the real
ones), and pools created with our `initialize` instruction read back through the bot's decoder."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cpmm_env import CpmmEnv, LocalnetChain
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from solders.transaction import Transaction

from localnet.programs import cpmm_accounts as ca
from localnet.programs.cpmm_errors import CpmmError as E
from rpc.client import RpcClient
from strategies.venues import raydium_cpmm as rc

pytestmark = pytest.mark.localnet

FIXTURE = Path(os.environ["SOLARB_FIXTURES"]) / "ipv4sq_raydium_cpmm_pool_Q2sPH.json"
# Not in the dump: the rates commonly reported for config D4FPEru… (protocols.md §2.3), and reserves.
CONFIG_RATES = (2500, 120_000, 40_000)
RESERVE_0 = 1_234_567_890_123  # ~1,234 WSOL (9 decimals)
RESERVE_1 = 187_654_321_987  # token1, 6 decimals


@pytest.fixture
async def env(localnet: Any) -> AsyncIterator[CpmmEnv]:
    async with RpcClient(localnet.rpc_url) as client:
        yield CpmmEnv(LocalnetChain(localnet, client))


def load_mainnet_pool(env: CpmmEnv) -> tuple[Pubkey, rc.CpmmPool]:
    """Put the dumped pool at its address and synthesize what it names: config, vaults, mints, observation."""
    doc = json.loads(FIXTURE.read_text())
    address = Pubkey.from_string(doc["pool_address"])
    data = base64.b64decode(doc["account_data_base64"])
    pool = rc.decode_pool(data, rc.PROGRAM_ID)
    env.set(address, data, env.program_id)
    env.set(pool.amm_config, ca.amm_config_data(*CONFIG_RATES), env.program_id)
    env.set(pool.observation_key, ca.observation_data(address), env.program_id)
    env.set_mint(pool.token_0_mint, pool.mint_0_decimals)
    env.set_mint(pool.token_1_mint, pool.mint_1_decimals)
    owed0 = pool.protocol_fees_token_0 + pool.fund_fees_token_0 + pool.creator_fees_token_0
    owed1 = pool.protocol_fees_token_1 + pool.fund_fees_token_1 + pool.creator_fees_token_1
    env.set_token(pool.token_0_vault, pool.token_0_mint, env.authority, RESERVE_0 + owed0)
    env.set_token(pool.token_1_vault, pool.token_1_mint, env.authority, RESERVE_1 + owed1)
    env.pool, env.vault0, env.vault1, env.observation = (
        address,
        pool.token_0_vault,
        pool.token_1_vault,
        pool.observation_key,
    )
    env.mint0, env.mint1 = pool.token_0_mint, pool.token_1_mint
    payer = env.fresh_payer()
    env.set_token(env.user0, pool.token_0_mint, payer.pubkey(), 10**13)
    env.set_token(env.user1, pool.token_1_mint, payer.pubkey(), 10**12)
    return address, pool


@pytest.mark.parametrize("zfo", [True, False], ids=["wsol->token1", "token1->wsol"])
@pytest.mark.parametrize("exact", ["input", "output"])
async def test_mainnet_pool_dump_swaps_as_quoted(env: CpmmEnv, zfo: bool, exact: str) -> None:
    address, _ = load_mainnet_pool(env)
    assert env.authority == Pubkey.from_string("GpMZbSM2GgvTKHJirzeGfMFoaZ8UR2X7F4v8vHTvxFbL")
    for step in range(3):  # consecutive swaps: each prices off the state the previous one left
        before = await env.snapshot()
        pool = rc.decode_pool(before["pool"], env.program_id)
        (config_bytes,) = await env.chain.get_many([pool.amm_config])
        assert config_bytes is not None
        config = rc.decode_amm_config(config_bytes, env.program_id)
        r0, r1 = rc.reserves(pool, before["vault0"], before["vault1"])
        r_in, r_out = (r0, r1) if zfo else (r1, r0)
        rates = (config.trade_fee_rate, config.protocol_fee_rate, config.fund_fee_rate)
        common = {"pool_address": address, "pool": pool, "payer": env.payer.pubkey(),
                  "user_input_account": env.user0 if zfo else env.user1,
                  "user_output_account": env.user1 if zfo else env.user0, "zero_for_one": zfo}  # fmt: skip
        if exact == "input":
            q = rc.swap_base_input(r_in // 1000 * (step + 1), r_in, r_out, *rates)
            ix = rc.build_swap_base_input_ix(**common, amount_in=q.amount_in, min_out=q.amount_out)
        else:
            q = rc.swap_base_output(r_out // 997 * (step + 1), r_in, r_out, *rates)
            ix = rc.build_swap_base_output_ix(**common, max_in=q.amount_in, amount_out=q.amount_out)
        out = await env.send(ix)
        assert out.ok, out.error
        after = await env.snapshot()
        i, o = ("0", "1") if zfo else ("1", "0")
        assert after[f"vault{i}"] - before[f"vault{i}"] == q.amount_in
        assert before[f"vault{o}"] - after[f"vault{o}"] == q.amount_out
        assert before[f"user{i}"] - after[f"user{i}"] == q.amount_in
        assert after[f"user{o}"] - before[f"user{o}"] == q.amount_out
        assert after[f"protocol_{i}"] - before[f"protocol_{i}"] == q.protocol_fee > 0
        assert after[f"fund_{i}"] - before[f"fund_{i}"] == q.fund_fee > 0
        assert after[f"protocol_{o}"] == before[f"protocol_{o}"] and after[f"fund_{o}"] == before[f"fund_{o}"]
        # Bytes outside the fee counters, recent_epoch and the observation are untouched.
        untouched = [(0, 341), (373, 381), (389, 637)]
        assert all(after["pool"][a:b] == before["pool"][a:b] for a, b in untouched)


# --- initialize ---------------------------------------------------------------------------------


async def create_and_initialize(env: CpmmEnv, localnet: Any, *, mint_order_ok: bool = True,
                                vault_owner: Pubkey | None = None, bump_delta: int = 0,
                                open_time: int = 0) -> tuple[Any, dict[str, Pubkey]]:  # fmt: skip
    """Allocate config/pool/observation with system CreateAccount and run `initialize` in the same tx."""
    creator = Keypair()
    localnet.airdrop(creator.pubkey(), 10**11)
    mint0, mint1 = sorted([Pubkey.new_unique(), Pubkey.new_unique()], key=bytes)
    if not mint_order_ok:
        mint0, mint1 = mint1, mint0
    localnet.create_mint(creator.pubkey(), 9, address=mint0)
    localnet.create_mint(creator.pubkey(), 6, address=mint1)
    owner = vault_owner or env.authority
    vault0 = localnet.create_token_account(mint0, owner, 5 * 10**12)
    vault1 = localnet.create_token_account(mint1, owner, 7 * 10**11)
    keys = {"config": Keypair(), "pool": Keypair(), "observation": Keypair()}
    sizes = {"config": ca.CONFIG_SIZE, "pool": ca.POOL_SIZE, "observation": ca.OBSERVATION_SIZE}
    ixs = [
        create_account(CreateAccountParams(
            from_pubkey=creator.pubkey(), to_pubkey=kp.pubkey(), lamports=localnet.chain.svm.minimum_balance_for_rent_exemption(sizes[name]),
            space=sizes[name], owner=env.program_id))
        for name, kp in keys.items()
    ]  # fmt: skip
    init = ca.build_initialize_ix(
        creator=creator.pubkey(), amm_config=keys["config"].pubkey(), pool_state=keys["pool"].pubkey(),
        token_0_mint=mint0, token_1_mint=mint1, token_0_vault=vault0, token_1_vault=vault1,
        lp_mint=Pubkey.new_unique(), observation_state=keys["observation"].pubkey(),
        trade_fee_rate=2500, protocol_fee_rate=120_000, fund_fee_rate=40_000, open_time=open_time,
        program_id=env.program_id,
    )  # fmt: skip
    if bump_delta:
        data = bytearray(init.data)
        data[40] = (data[40] - bump_delta) % 256
        init = type(init)(init.program_id, bytes(data), list(init.accounts))
    latest = await env.chain.client.get_latest_blockhash(commitment="processed")
    signers = [creator, *keys.values()]
    tx = Transaction(signers, Message([*ixs, init], creator.pubkey()), Hash.from_string(latest.blockhash))
    sig = await env.chain.client.send_transaction(bytes(tx), skip_preflight=True)
    status = (await env.chain.client.get_signature_statuses([sig])).statuses[0]
    named = {k: kp.pubkey() for k, kp in keys.items()} | {"mint0": mint0, "mint1": mint1, "vault0": vault0,
                                                          "vault1": vault1, "creator": creator.pubkey()}  # fmt: skip
    return status, named


async def test_initialize_creates_a_pool_the_bot_decodes_and_swaps(env: CpmmEnv, localnet: Any) -> None:
    status, k = await create_and_initialize(env, localnet, open_time=5)
    assert status is not None and status.err is None, status
    raw = await env.chain.get_many([k["pool"], k["config"], k["observation"]])
    pool = rc.decode_pool(raw[0], env.program_id)
    config = rc.decode_amm_config(raw[1], env.program_id)
    obs = rc.decode_observation(raw[2], env.program_id)
    assert (pool.amm_config, pool.token_0_mint, pool.token_1_mint) == (k["config"], k["mint0"], k["mint1"])
    assert (pool.token_0_vault, pool.token_1_vault, pool.observation_key) == (
        k["vault0"],
        k["vault1"],
        k["observation"],
    )
    assert (pool.pool_creator, pool.auth_bump, pool.open_time, pool.status) == (
        k["creator"],
        env.auth_bump,
        5,
        0,
    )
    assert (pool.mint_0_decimals, pool.mint_1_decimals, pool.token_0_program) == (9, 6, ca.TOKEN_PROGRAM_ID)
    assert (config.trade_fee_rate, config.protocol_fee_rate, config.fund_fee_rate) == (2500, 120_000, 40_000)
    assert obs.pool_id == k["pool"] and not obs.initialized
    # A swap through the bot's builder on the new pool settles as quoted and initializes the oracle.
    payer = Keypair()
    localnet.airdrop(payer.pubkey(), 10**10)
    user0 = localnet.create_token_account(k["mint0"], payer.pubkey(), 10**10)
    user1 = localnet.create_token_account(k["mint1"], payer.pubkey(), 0)
    q = rc.swap_base_input(10**9, 5 * 10**12, 7 * 10**11, 2500, 120_000, 40_000)
    ix = rc.build_swap_base_input_ix(pool_address=k["pool"], pool=pool, payer=payer.pubkey(), user_input_account=user0,
                                     user_output_account=user1, zero_for_one=True, amount_in=q.amount_in,
                                     min_out=q.amount_out)  # fmt: skip
    out = await env.chain.send(ix, [payer])
    assert out.ok, out.error
    assert localnet.token_amount(user1) == q.amount_out
    after = rc.decode_pool((await env.chain.get_many([k["pool"]]))[0], env.program_id)
    assert (after.protocol_fees_token_0, after.fund_fees_token_0) == (q.protocol_fee, q.fund_fee)
    assert rc.decode_observation(
        (await env.chain.get_many([k["observation"]]))[0], env.program_id
    ).initialized


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"mint_order_ok": False}, E.INVALID_INPUT),
        ({"vault_owner": Pubkey.new_unique()}, E.INVALID_VAULT),
        ({"bump_delta": 1}, E.CONSTRAINT_SEEDS),
    ],
    ids=["mints-out-of-order", "vault-not-owned-by-authority", "wrong-bump"],
)
async def test_initialize_refusals(env: CpmmEnv, localnet: Any, kwargs: dict[str, Any], code: int) -> None:
    status, _ = await create_and_initialize(env, localnet, **kwargs)
    assert status is not None and status.err == {"InstructionError": [3, {"Custom": int(code)}]}, status


async def test_initialize_twice_is_refused(env: CpmmEnv, localnet: Any) -> None:
    status, k = await create_and_initialize(env, localnet)
    assert status.err is None
    env.fresh_payer()
    init = ca.build_initialize_ix(
        creator=env.payer.pubkey(), amm_config=k["config"], pool_state=k["pool"], token_0_mint=k["mint0"],
        token_1_mint=k["mint1"], token_0_vault=k["vault0"], token_1_vault=k["vault1"], lp_mint=Pubkey.new_unique(),
        observation_state=k["observation"], trade_fee_rate=1, protocol_fee_rate=1, fund_fee_rate=1,
        program_id=env.program_id,
    )  # fmt: skip
    out = await env.send(init)
    assert out.custom_error == E.ACCOUNT_DISCRIMINATOR_ALREADY_SET


async def test_make_pool_seeds_a_swappable_pool_at_the_real_pdas(env: CpmmEnv, localnet: Any) -> None:
    mint0, mint1 = sorted([Pubkey.new_unique(), Pubkey.new_unique()], key=bytes)
    setup = ca.make_pool(mint0=mint0, mint1=mint1, reserve0=9 * 10**12, reserve1=2 * 10**11)
    for key, acc in setup.accounts.items():
        localnet.set_account(key, acc)
    assert setup.observation == rc.observation_pda(setup.pool)
    assert setup.vault0 == rc.vault_pda(setup.pool, mint0) and setup.authority == rc.authority_pda()
    payer = Keypair()
    localnet.airdrop(payer.pubkey(), 10**10)
    user0 = localnet.create_token_account(mint1, payer.pubkey(), 10**9)
    user1 = localnet.create_token_account(mint0, payer.pubkey(), 0)
    pool = rc.decode_pool((await env.chain.get_many([setup.pool]))[0], env.program_id)
    q = rc.swap_base_output(10**6, 2 * 10**11, 9 * 10**12, 2500, 120_000, 40_000)
    ix = rc.build_swap_base_output_ix(pool_address=setup.pool, pool=pool, payer=payer.pubkey(), user_input_account=user0,
                                      user_output_account=user1, zero_for_one=False, max_in=q.amount_in,
                                      amount_out=q.amount_out)  # fmt: skip
    out = await env.chain.send(ix, [payer])
    assert out.ok, out.error
    assert (localnet.token_amount(user0), localnet.token_amount(user1)) == (10**9 - q.amount_in, q.amount_out)
    with pytest.raises(ValueError, match="sort before"):
        ca.make_pool(mint0=mint1, mint1=mint0, reserve0=1, reserve1=1)
