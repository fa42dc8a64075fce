"""Template proving, the pure parts: the stated CU margin, which leg an error belongs to, the guard's
errors, probe amounts; and the executor's side: a proven limit is what it requests and prices, an
unproven route is not signed and gets simulated off the hot path. (The simulations themselves run on
localnet: tests/e2e/test_amm_v4_localnet.py.)"""

from __future__ import annotations

import asyncio

import pytest
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from test_templates import three_leg

from bot.execution import prove
from bot.execution.executor import BlockhashCache, ExecPolicy, Executor
from bot.execution.message import parse_v0
from bot.execution.templates import compile_template, lookup_addresses, route_instructions
from bot.keys import Wallet
from strategies import costs, layout
from strategies.opportunity import Opportunity, OpportunityLeg
from strategies.venues import raydium_amm_v4 as amm
from strategies.venues import raydium_cpmm as cpmm


def test_proven_limit_is_units_plus_a_fifth_plus_5000_capped():
    assert prove.proven_cu_limit(40_000) == 53_000
    assert prove.proven_cu_limit(40_001) == 53_002  # rounded up, never below units x 1.2
    assert prove.proven_cu_limit(1_200_000) == costs.MAX_CU_LIMIT


def _template(kinds=("cpmm", "amm", "cpmm"), tip: bool = True):
    route, pools, atas = three_leg(kinds)
    kp = Keypair()
    tip_account = Pubkey.new_unique() if tip else None
    ixs, _ = route_instructions(route, pools, kp.pubkey(), atas, tip_account)
    alt = AddressLookupTableAccount(Pubkey.new_unique(), lookup_addresses(ixs, kp.pubkey()))
    tmpl, keys = compile_template(route, pools, kp.pubkey(), atas, [alt], tip_account)
    return route, pools, atas, kp, tmpl, keys


def test_an_instruction_error_is_mapped_to_its_leg():
    *_, tmpl, _ = _template()
    assert tmpl.swap_ix_indexes == (2, 3, 4)  # compute limit, compute price, three swaps, tip
    for index, leg in ((2, 0), (3, 1), (4, 2), (0, None), (1, None), (5, None)):
        assert prove.failing_leg({"InstructionError": [index, "InvalidInstructionData"]}, tmpl) == leg
    assert prove.failing_leg("AccountNotFound", tmpl) is None
    assert prove.failing_leg({"InsufficientFundsForRent": {"account_index": 0}}, tmpl) is None


def test_only_a_legs_own_slippage_error_is_the_guard():
    *_, tmpl, _ = _template()
    slip = [cpmm.ADAPTER.slippage_errors, amm.ADAPTER.slippage_errors, cpmm.ADAPTER.slippage_errors]
    assert prove.is_guard_error(
        {"InstructionError": [4, {"Custom": 6005}]}, tmpl, slip
    )  # CPMM ExceededSlippage
    assert prove.is_guard_error(
        {"InstructionError": [3, {"Custom": 30}]}, tmpl, slip
    )  # AMM v4 ExceededSlippage
    assert not prove.is_guard_error({"InstructionError": [3, {"Custom": 6005}]}, tmpl, slip)  # not AMM v4's
    assert not prove.is_guard_error({"InstructionError": [2, {"Custom": 6006}]}, tmpl, slip)
    assert not prove.is_guard_error({"InstructionError": [3, "InvalidInstructionData"]}, tmpl, slip)
    assert not prove.is_guard_error({"InstructionError": [5, {"Custom": 1}]}, tmpl, slip)  # the tip
    assert not prove.is_guard_error("BlockhashNotFound", tmpl, slip)


def _cache(route, n=3, reserves=((10**12, 2 * 10**12), (5 * 10**11, 10**12), (3 * 10**12, 10**12))):
    cache = layout.allocate(n, n)
    for i, (ra, rb) in enumerate(reserves):
        layout.register_pool(cache, i, layout.KINDS[0], i, (i + 1) % n)
        layout.write_cp_pool(cache, i, ra, rb, 2_500, layout.CPMM_FEE_DEN, 1, 0, 120_000, 40_000)
        layout.set_flags(cache, i, tradable=True, settling=False)
    return cache


def test_probe_sells_a_ten_thousandth_then_half_of_each_quoted_output():
    route, pools, *_ = three_leg(("cpmm", "cpmm", "cpmm"))
    cache = _cache(route)
    plan = prove.probe_amounts(cache, route, pools, balance=10**15)
    x = 10**12 // prove.PROBE_RESERVE_FRACTION
    expected = []
    for leg in route.legs:
        expected.append((x, 1))
        x = cpmm.ADAPTER.quote_in(cache, leg.pool, True, x, None)[0] // 2
    assert plan == expected and plan[0][0] == 100_000_000
    # The wallet's balance caps the first leg; none at all cannot be simulated.
    assert prove.probe_amounts(cache, route, pools, balance=12_345)[0] == (12_345, 1)
    with pytest.raises(prove.ProbeError, match="none of the start token"):
        prove.probe_amounts(cache, route, pools, balance=0)
    layout.set_flags(cache, 1, tradable=True, settling=True)
    with pytest.raises(prove.ProbeError, match=r"leg 1: .* not tradable yet"):
        prove.probe_amounts(cache, route, pools, balance=10**15)


class _Log:
    def __init__(self) -> None:
        self.records: list[tuple[str, dict]] = []

    def __getattr__(self, level: str):
        return lambda event, **fields: self.records.append((event, fields))


def _executor(tmpl, keys, atas, kp, cu_price=10_000, prover=None, released=None):
    market = layout.allocate(3, 3).market
    layout.write_token(market, 0, is_sol=True, balance=10**12, max_notional=10**12)
    market[layout.M_CU_PRICE_MICRO] = cu_price
    return Executor(
        wallet=Wallet(kp), templates={0: tmpl}, params=market, route_pools={0: (0, 1, 2)},
        start_accounts={0: (atas[0], keys.index(atas[0]))}, rpc=None, pubsub=None, sender=None,  # type: ignore[arg-type]
        blockhash=BlockhashCache(bytes(range(32)), 100, 1, fetched_ns=10**30),
        policy=ExecPolicy(dry_run=False, min_profit_lamports=10_000, budget_ns=10**40, max_trades_per_minute=10**9),
        log=_Log(), prover=prover, on_release=(released.append if released is not None else lambda p: None),
        clock=lambda: 10**30,
    )  # fmt: skip


def _opportunity(market, net_extra: int = 200_000, cu_limit: int = 260_000) -> Opportunity:
    a = 10**9
    cost = costs.cost_lamports(market, cu_limit)
    outs = [a * 3, a * 2, a + cost + net_extra]
    legs, x = [], a
    for k, o in enumerate(outs):
        legs.append(OpportunityLeg(k, 1, 0, k, (k + 1) % 3, x, o, o))
        x = o
    return Opportunity(0, 0, 0, 0, tuple(legs), a, outs[-1], cu_limit, cost, cost, net_extra, 1, 0, 0.0)


def _cu_limit_of(tx: bytes) -> int:
    msg = tx[65:]
    _, off, _ = parse_v0(msg).instructions[0]
    return int.from_bytes(msg[off + 1 : off + 5], "little")


def test_a_proven_limit_is_requested_and_the_fee_charged_on_it():
    _, _, atas, kp, tmpl, keys = _template(("cpmm", "cpmm", "cpmm"), tip=False)
    ex = _executor(tmpl, keys, atas, kp)
    opp = _opportunity(ex.params)
    # Not proven (limit 0): the opportunity's estimate and cost stand.
    tx = ex.sign_opportunity(opp)
    assert tx is not None and _cu_limit_of(tx) == 260_000
    assert ex.last_pricing == (260_000, opp.cost_lamports, opp.cost_token, opp.expected_net_profit)
    # Proven at 53,000: requested, and the priority fee (10,000 micro-lamports per CU) priced on it.
    tmpl.cu_limit = 53_000
    tx = ex.sign_opportunity(opp)
    assert tx is not None and _cu_limit_of(tx) == 53_000
    cost = 5_000 + 530
    assert ex.last_pricing == (53_000, cost, cost, opp.expected_net_profit + opp.cost_token - cost)
    # A proven limit larger than the estimate costs more: refused when the net no longer clears.
    tmpl.cu_limit = 1_400_000
    thin = _opportunity(ex.params, net_extra=12_000)
    assert ex.sign_opportunity(thin) is None and ex.stats.guard_refused == 1
    tmpl.cu_limit = 53_000
    assert ex.sign_opportunity(thin) is not None


class _Prover:
    """The executor's view of a prover: which routes wait, and a re-proof that passes."""

    def __init__(self, proof: prove.Proof) -> None:
        self.unproven: set[int] = {0}
        self.proof = proof
        self.calls = 0

    def is_guard_error(self, route_id, template, err) -> bool:
        return False

    def unprove(self, route_id: int) -> None:
        self.unproven.add(route_id)

    def form_of(self, pool: int) -> str:
        return "swap_base_input"

    async def reprove(self, route_id: int) -> prove.Proof:
        self.calls += 1
        if self.proof.state is prove.ProofState.PROVEN:
            self.unproven.discard(route_id)
        return self.proof


async def test_an_unproven_route_is_not_signed_and_is_simulated_off_the_hot_path():
    route, pools, atas, kp, tmpl, keys = _template(("cpmm", "cpmm", "cpmm"), tip=False)
    renewed, new_keys = compile_template(route, pools, kp.pubkey(), atas, [], None)
    fake = _Prover(prove.Proof(prove.ProofState.PROVEN, renewed, new_keys, units=40_000))
    released: list[int] = []
    ex = _executor(tmpl, keys, atas, kp, prover=fake, released=released)
    opp = _opportunity(ex.params)
    assert ex.sign_opportunity(opp) is None and ex.stats.unproven == 1
    assert ex.sign_opportunity(opp) is None and ex.stats.unproven == 2  # one simulation in flight, not two
    await asyncio.sleep(0)
    await asyncio.wait(set(ex._tasks))
    assert fake.calls == 1 and not ex.unproven
    assert ex.templates[0] is renewed and ex.start_accounts[0] == (atas[0], new_keys.index(atas[0]))
    assert released == [0, 1, 2]  # the engine looks at its pools again
    assert ex.sign_opportunity(opp) is not None


async def test_a_route_no_simulation_passes_loses_its_template():
    _, _, atas, kp, tmpl, keys = _template(("cpmm", "cpmm", "cpmm"), tip=False)
    fake = _Prover(prove.Proof(prove.ProofState.DISABLED, error="instruction 2: InvalidInstructionData"))
    ex = _executor(tmpl, keys, atas, kp, prover=fake)
    assert ex.sign_opportunity(_opportunity(ex.params)) is None
    await asyncio.sleep(0)
    await asyncio.wait(set(ex._tasks))
    assert 0 not in ex.templates
    assert ex.sign_opportunity(_opportunity(ex.params)) is None and ex.stats.no_template == 1
