"""The TWAP observation and recent_epoch bookkeeping after a swap, as the real program does it
(states/oracle.rs `update`, pool.rs `token_price_x32`). In-process LiteSVM: the clock is set exactly."""

from __future__ import annotations

import struct

from cpmm_env import CpmmEnv, SvmChain
from solders.clock import Clock

from strategies.venues import raydium_cpmm as rc

NOW = 1_760_000_000
EPOCH = 321
OBS = 43  # first observation slot; 40 bytes each: ts u64, cumulative token0 price u128, token1 u128
U128 = 1 << 128


def make_env() -> CpmmEnv:
    chain = SvmChain()
    chain.svm.set_clock(Clock(slot=10, epoch_start_timestamp=NOW - 1000, epoch=EPOCH, leader_schedule_epoch=EPOCH,
                              unix_timestamp=NOW))  # fmt: skip
    env = CpmmEnv(chain)
    env.seed(vault0=8 * 10**12 + 11, vault1=3 * 10**11 + 22, user0=10**12, user1=0, trade=2500, protocol=0, fund=0,
             protocol_fees_token_0=11, fund_fees_token_1=22)  # fmt: skip
    return env


def slot(obs: bytes, i: int) -> tuple[int, int, int]:
    ts, c0lo, c0hi, c1lo, c1hi = struct.unpack_from("<QQQQQ", obs, OBS + 40 * i)
    return ts, c0lo | c0hi << 64, c1lo | c1hi << 64


def put_observation(env: CpmmEnv, index: int, ts: int, c0: int, c1: int) -> None:
    obs = bytearray(env.chain.svm.get_account(env.observation).data)
    obs[8] = 1
    struct.pack_into("<H", obs, 9, index)
    struct.pack_into("<QQQQQ", obs, OBS + 40 * index, ts, c0 % 2**64, c0 >> 64, c1 % 2**64, c1 >> 64)
    env.set(env.observation, bytes(obs), env.program_id)


async def swap(env: CpmmEnv, amount: int = 10**9) -> None:
    snap = await env.snapshot()
    pool = rc.decode_pool(snap["pool"], env.program_id)
    env.fresh_payer()
    env.set_token(env.user0, env.mint0, env.payer.pubkey(), 10**12)
    env.set_token(env.user1, env.mint1, env.payer.pubkey(), 0)
    ix = rc.build_swap_base_input_ix(pool_address=env.pool, pool=pool, payer=env.payer.pubkey(),
                                     user_input_account=env.user0, user_output_account=env.user1,
                                     zero_for_one=True, amount_in=amount, min_out=0)  # fmt: skip
    out = await env.send(ix)
    assert out.ok, (out.error, out.logs)


async def test_first_swap_initializes_the_observation_and_stamps_the_epoch() -> None:
    env = make_env()
    await swap(env)
    snap = await env.snapshot()
    obs = snap["observation"]
    assert obs[8] == 1 and struct.unpack_from("<H", obs, 9)[0] == 0
    assert slot(obs, 0) == (NOW, 0, 0)
    assert rc.decode_pool(snap["pool"], env.program_id).recent_epoch == EPOCH


async def test_later_swap_accumulates_prices_from_pre_swap_reserves_and_wraps() -> None:
    env = make_env()
    c0, c1 = U128 - 5, 7  # cumulative token0 price about to wrap
    put_observation(env, 99, NOW - 100, c0, c1)
    before = await env.snapshot()
    r0, r1 = rc.reserves(rc.decode_pool(before["pool"], env.program_id), before["vault0"], before["vault1"])
    await swap(env)
    obs = (await env.snapshot())["observation"]
    assert struct.unpack_from("<H", obs, 9)[0] == 0, "index 99 wraps to 0"
    p0, p1 = (r1 << 32) // r0, (r0 << 32) // r1
    assert slot(obs, 0) == (NOW, (c0 + p0 * 100) % U128, (c1 + p1 * 100) % U128)
    # Within 15 s of the last observation nothing more is written.
    await swap(env, 10**8)
    assert (await env.snapshot())["observation"] == obs
