"""Our seeding instructions: create a pool and tick arrays at their PDAs, add liquidity over tick ranges.

`localnet_initialize_pool`, `localnet_initialize_tick_array` and `localnet_add_liquidity` (README.md) run
through whirlpool.so; the deposits must equal the real program's token deltas rounded up (computed here
with the bot's `whirlpool_math`, independent of the C code), the ticks' liquidity_net/gross and the pool's
liquidity must follow, and a swap across the new ticks must settle as the bot's exact quote says. The last
test does the same on the localnet server, over JSON-RPC with the bot's own `rpc.RpcClient`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction

from localnet.programs import program_path
from localnet.programs import whirlpool_accounts as wa
from localnet.programs.whirlpool_errors import WhirlpoolError as E
from localnet.programs.whirlpool_svm import WhirlpoolSvm
from rpc.client import RpcClient
from strategies.venues import orca_whirlpool as orca
from strategies.venues import whirlpool_math as wm

TS = 8
START_TICK = -1234
POSITIONS = [
    wa.Position(-2000, 1000, 7 * 10**12),  # spans the current tick: both tokens
    wa.Position(-3000, -1600, 2 * 10**12),  # below: token B only
    wa.Position(-800, 504, 10**12),  # above: token A only
    wa.Position(-1600, -800, 3 * 10**11),  # below, sharing ticks with the others
]


@dataclass
class Seeded:
    funder: Keypair
    config: Pubkey
    mint_a: Pubkey
    mint_b: Pubkey
    pool: Pubkey
    vault_a: Pubkey
    vault_b: Pubkey
    user_a: Pubkey
    user_b: Pubkey

    def init_pool_ix(self, **kw: Any) -> Instruction:
        args: dict[str, Any] = {
            "funder": self.funder.pubkey(), "config": self.config, "mint_a": self.mint_a, "mint_b": self.mint_b,
            "vault_a": self.vault_a, "vault_b": self.vault_b, "tick_spacing": TS,
            "initial_sqrt_price": wm.sqrt_price_from_tick_index(START_TICK) + 12345, "fee_rate": 3000,
            "protocol_fee_rate": 1300,
        }  # fmt: skip
        args.update(kw)
        return wa.build_initialize_pool_ix(**args)

    def add_ix(self, p: wa.Position, **kw: Any) -> Instruction:
        return wa.build_add_liquidity_ix(
            whirlpool=self.pool, authority=self.funder.pubkey(), owner_account_a=self.user_a,
            owner_account_b=self.user_b, vault_a=self.vault_a, vault_b=self.vault_b, tick_spacing=TS,
            tick_lower=p.tick_lower, tick_upper=p.tick_upper, liquidity=p.liquidity, **kw,
        )  # fmt: skip

    def array_starts(self) -> list[int]:
        width = wm.TICK_ARRAY_SIZE * TS
        lo = orca.tick_array_start_index(-3000, TS) - width
        return list(range(lo, orca.tick_array_start_index(1000, TS) + 2 * width, width))


def accounts_for(funder: Keypair) -> tuple[Seeded, dict[Pubkey, Any]]:
    """Config, mints, vaults owned by the pool PDA and the funder's token accounts (written directly)."""
    mint_a, mint_b = sorted([Pubkey.new_unique(), Pubkey.new_unique()], key=bytes)
    config = Pubkey.new_unique()
    pool, _ = wa.whirlpool_address(config, mint_a, mint_b, TS)
    s = Seeded(funder, config, mint_a, mint_b, pool, Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique(),
               Pubkey.new_unique())  # fmt: skip
    tp = wa.TOKEN_PROGRAM_ID
    accounts = {
        config: wa.account(wa.config_data(), wa.PROGRAM_ID),
        mint_a: wa.account(wa.mint_data(9), tp),
        mint_b: wa.account(wa.mint_data(6), tp),
        s.vault_a: wa.account(wa.token_account_data(mint_a, pool, 0), tp),
        s.vault_b: wa.account(wa.token_account_data(mint_b, pool, 0), tp),
        s.user_a: wa.account(wa.token_account_data(mint_a, funder.pubkey(), 10**18), tp),
        s.user_b: wa.account(wa.token_account_data(mint_b, funder.pubkey(), 10**18), tp),
        funder.pubkey(): wa.account(b"", Pubkey.default(), lamports=10**12),
    }
    return s, accounts


def expected_deposit(p: wa.Position, tick_current: int, sqrt_price: int) -> tuple[int, int]:
    """liquidity_manager.rs calculate_liquidity_token_deltas for a deposit (round up)."""
    lo, hi = wm.sqrt_price_from_tick_index(p.tick_lower), wm.sqrt_price_from_tick_index(p.tick_upper)
    if tick_current < p.tick_lower:
        return wm.get_amount_delta_a(lo, hi, p.liquidity, True), 0
    if tick_current < p.tick_upper:
        return wm.get_amount_delta_a(sqrt_price, hi, p.liquidity, True), wm.get_amount_delta_b(
            lo, sqrt_price, p.liquidity, True
        )
    return 0, wm.get_amount_delta_b(lo, hi, p.liquidity, True)


@pytest.fixture
def seeded() -> tuple[WhirlpoolSvm, Seeded]:
    svm = WhirlpoolSvm()
    s, accounts = accounts_for(Keypair())
    for k, a in accounts.items():
        svm.svm.set_account(k, a)
    return svm, s


def send(svm: WhirlpoolSvm, s: Seeded, ix: Instruction) -> Any:
    return svm.send([ix], [s.funder])


def test_initialize_pool_creates_the_pda_with_the_real_layout(seeded: tuple[WhirlpoolSvm, Seeded]) -> None:
    svm, s = seeded
    sqrt_price = wm.sqrt_price_from_tick_index(START_TICK) + 12345
    out = send(svm, s, s.init_pool_ix())
    assert out.ok, out.logs[-4:]
    acc = svm.svm.get_account(s.pool)
    assert acc is not None and acc.owner == wa.PROGRAM_ID
    assert acc.lamports == svm.svm.minimum_balance_for_rent_exemption(orca.WHIRLPOOL_SIZE)
    pool = orca.decode_whirlpool(bytes(acc.data), acc.owner)
    assert pool.whirlpool_bump == wa.whirlpool_address(s.config, s.mint_a, s.mint_b, TS)[1]
    assert (pool.whirlpools_config, pool.token_mint_a, pool.token_mint_b, pool.token_vault_a, pool.token_vault_b) == (
        s.config, s.mint_a, s.mint_b, s.vault_a, s.vault_b,
    )  # fmt: skip
    assert (pool.tick_spacing, pool.fee_tier_index, pool.fee_rate, pool.protocol_fee_rate) == (
        TS,
        TS,
        3000,
        1300,
    )
    assert (pool.sqrt_price, pool.tick_current_index, pool.liquidity) == (sqrt_price, START_TICK, 0)
    assert pool.reward_last_updated_timestamp == svm.svm.get_clock().unix_timestamp
    # A second initialize of the same pool is refused.
    again = send(svm, s, s.init_pool_ix())
    assert again.custom_error == E.ACCOUNT_DISCRIMINATOR_ALREADY_SET


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"fee_rate": 60_001}, E.FEE_RATE_MAX_EXCEEDED),
        ({"protocol_fee_rate": 2_501}, E.PROTOCOL_FEE_RATE_MAX_EXCEEDED),
        ({"initial_sqrt_price": wm.MAX_SQRT_PRICE_X64 + 1}, E.SQRT_PRICE_OUT_OF_BOUNDS),
        ({"swap_mints": True}, E.INVALID_TOKEN_MINT_ORDER),
        ({"vault_a": "vault_b"}, E.CONSTRAINT_RAW),
    ],
)
def test_initialize_pool_refusals(
    seeded: tuple[WhirlpoolSvm, Seeded], change: dict[str, Any], code: int
) -> None:
    svm, s = seeded
    kw = dict(change)
    if kw.pop("swap_mints", False):
        kw.update(mint_a=s.mint_b, mint_b=s.mint_a, vault_a=s.vault_b, vault_b=s.vault_a)
    if kw.get("vault_a") == "vault_b":
        kw["vault_a"] = s.vault_b
    out = send(svm, s, s.init_pool_ix(**kw))
    assert out.custom_error == code, out.logs[-3:]
    assert svm.svm.get_account(s.pool) is None


def test_tick_arrays_and_liquidity_then_a_swap_across_the_new_ticks(
    seeded: tuple[WhirlpoolSvm, Seeded],
) -> None:
    svm, s = seeded
    assert send(svm, s, s.init_pool_ix()).ok
    for start in s.array_starts():
        out = send(svm, s, wa.build_initialize_tick_array_ix(whirlpool=s.pool, funder=s.funder.pubkey(),
                                                             start_tick_index=start))  # fmt: skip
        assert out.ok, out.logs[-3:]
        acc = svm.svm.get_account(orca.tick_array_address(s.pool, start))
        assert acc is not None and acc.lamports == svm.svm.minimum_balance_for_rent_exemption(
            orca.FIXED_TICK_ARRAY_SIZE
        )
        ta = orca.decode_fixed_tick_array(bytes(acc.data), acc.owner)
        assert (ta.start_tick_index, ta.whirlpool, ta.init_offsets) == (start, s.pool, ())
    bad = wa.build_initialize_tick_array_ix(whirlpool=s.pool, funder=s.funder.pubkey(), start_tick_index=8)
    assert send(svm, s, bad).custom_error == E.INVALID_START_TICK

    pool = svm.whirlpool_at(s.pool)
    for p in POSITIONS:
        before = (svm.token_amount(s.user_a), svm.token_amount(s.user_b))
        want_a, want_b = expected_deposit(p, pool.tick_current_index, pool.sqrt_price)
        assert want_a + want_b > 0
        # One unit under the deposit is refused; exactly the deposit goes through.
        if want_a:
            refused = send(svm, s, s.add_ix(p, token_max_a=want_a - 1))
            assert refused.custom_error == E.TOKEN_MAX_EXCEEDED
        out = send(svm, s, s.add_ix(p, token_max_a=want_a, token_max_b=want_b))
        assert out.ok, out.logs[-4:]
        assert (before[0] - svm.token_amount(s.user_a), before[1] - svm.token_amount(s.user_b)) == (
            want_a,
            want_b,
        )
    assert svm.token_amount(s.vault_a) == sum(
        expected_deposit(p, START_TICK, pool.sqrt_price)[0] for p in POSITIONS
    )

    # Ticks and liquidity as the positions imply.
    pool = svm.whirlpool_at(s.pool)
    assert pool.liquidity == wa.active_liquidity(POSITIONS, START_TICK)
    want_ticks = wa.ticks_from_positions(POSITIONS)
    got_ticks = {}
    for start in s.array_starts():
        ta = orca.decode_fixed_tick_array(svm.data(orca.tick_array_address(s.pool, start)) or b"")
        for k in ta.init_offsets:
            t = ta.ticks[k]
            got_ticks[start + k * TS] = (t.liquidity_net, t.liquidity_gross)
    assert got_ticks == {i: (t.liquidity_net, t.liquidity_gross) for i, t in want_ticks.items()}

    # Refusals of add_liquidity.
    for p, code in (
        (wa.Position(-2001, 1000, 10), E.INVALID_TICK_INDEX),  # not a multiple of the spacing
        (wa.Position(1000, 1000, 10), E.INVALID_TICK_INDEX),  # empty range
        (wa.Position(-2000, 1000, 0), E.LIQUIDITY_ZERO),
        (wa.Position(-2000, 1000, 1 << 127), E.LIQUIDITY_TOO_HIGH),
    ):
        ix = s.add_ix(p)
        assert send(svm, s, ix).custom_error == code, p

    # Swaps both ways across the new ticks settle as the bot's quote on the chain's accounts says.
    case_pool = s.pool
    amount = 4 * 10**11
    for a_to_b in (True, False):  # down across -1600 and -2000, then back up with 90 % of what came out
        pool = svm.whirlpool_at(case_pool)
        arrays = {st: orca.decode_fixed_tick_array(svm.data(orca.tick_array_address(case_pool, st)) or b"")
                  for st in s.array_starts()}  # fmt: skip
        q = orca.quote_swap(
            pool, orca.swap_tick_arrays(pool, arrays, a_to_b, case_pool), amount, a_to_b=a_to_b
        )
        assert q.ticks_crossed == 2
        accs = orca.swap_accounts_for(case_pool, pool, s.funder.pubkey(), s.user_a, s.user_b, a_to_b)
        ix = orca.build_swap_ix(accs, amount=amount, other_amount_threshold=q.amount_out, sqrt_price_limit=0,
                                amount_specified_is_input=True, a_to_b=a_to_b)  # fmt: skip
        before = (svm.token_amount(s.user_a), svm.token_amount(s.user_b))
        out = send(svm, s, ix)
        assert out.ok, out.logs[-4:]
        delta = (svm.token_amount(s.user_a) - before[0], svm.token_amount(s.user_b) - before[1])
        assert delta == ((-q.amount_a, q.amount_b) if a_to_b else (q.amount_a, -q.amount_b))
        after = svm.whirlpool_at(case_pool)
        assert (after.sqrt_price, after.tick_current_index, after.liquidity) == (
            q.next_sqrt_price, q.next_tick_index, q.next_liquidity,
        )  # fmt: skip
        amount = q.amount_out * 9 // 10


# --- the same over the localnet server (JSON-RPC) -------------------------------------------------


@pytest.fixture
async def rpc_chain(localnet: Any) -> AsyncIterator[tuple[Any, RpcClient]]:
    localnet.add_program(wa.PROGRAM_ID, program_path("whirlpool"))
    async with RpcClient(localnet.rpc_url) as client:
        yield localnet, client


async def rpc_send(client: RpcClient, ixs: list[Instruction], signer: Keypair) -> Any:
    latest = await client.get_latest_blockhash(commitment="processed")
    tx = Transaction([signer], Message(ixs, signer.pubkey()), Hash.from_string(latest.blockhash))
    sig = await client.send_transaction(bytes(tx), skip_preflight=True)
    return (await client.get_signature_statuses([sig])).statuses[0]


@pytest.mark.localnet
async def test_seed_and_swap_over_json_rpc(rpc_chain: tuple[Any, RpcClient]) -> None:
    net, client = rpc_chain
    s, accounts = accounts_for(Keypair())
    for k, a in accounts.items():
        net.set_account(k, a)
    ixs = [s.init_pool_ix()]
    ixs += [wa.build_initialize_tick_array_ix(whirlpool=s.pool, funder=s.funder.pubkey(), start_tick_index=st)
            for st in s.array_starts()[:3]]  # fmt: skip
    status = await rpc_send(client, ixs, s.funder)
    assert status is not None and status.err is None, status
    status = await rpc_send(
        client,
        [
            wa.build_initialize_tick_array_ix(whirlpool=s.pool, funder=s.funder.pubkey(), start_tick_index=st)
            for st in s.array_starts()[3:]
        ],
        s.funder,
    )
    assert status is not None and status.err is None, status
    status = await rpc_send(client, [s.add_ix(p) for p in POSITIONS], s.funder)
    assert status is not None and status.err is None, status

    keys = [s.pool, *(orca.tick_array_address(s.pool, st) for st in s.array_starts()), s.user_a, s.user_b]
    res = await client.get_multiple_accounts([str(k) for k in keys], commitment="processed")
    raw = [bytes(a.data) for a in res.accounts]
    pool = orca.decode_whirlpool(raw[0])
    arrays = {st: orca.decode_fixed_tick_array(d) for st, d in zip(s.array_starts(), raw[1:-2])}
    q = orca.quote_swap(pool, orca.swap_tick_arrays(pool, arrays, True, s.pool), 4 * 10**11, a_to_b=True)
    assert q.ticks_crossed >= 2
    accs = orca.swap_accounts_for(s.pool, pool, s.funder.pubkey(), s.user_a, s.user_b, True)
    swap = orca.build_swap_ix(accs, amount=4 * 10**11, other_amount_threshold=q.amount_out, sqrt_price_limit=0,
                              amount_specified_is_input=True, a_to_b=True)  # fmt: skip
    status = await rpc_send(client, [swap], s.funder)
    assert status is not None and status.err is None, status
    res = await client.get_multiple_accounts(
        [str(s.pool), str(s.user_a), str(s.user_b)], commitment="processed"
    )
    after = orca.decode_whirlpool(bytes(res.accounts[0].data))
    amounts = [int.from_bytes(bytes(a.data)[64:72], "little") for a in res.accounts[1:]]
    before = [int.from_bytes(d[64:72], "little") for d in raw[-2:]]
    assert (before[0] - amounts[0], amounts[1] - before[1]) == (q.amount_in, q.amount_out)
    assert (after.sqrt_price, after.tick_current_index, after.liquidity) == (
        q.next_sqrt_price, q.next_tick_index, q.next_liquidity,
    )  # fmt: skip
