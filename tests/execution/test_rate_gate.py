"""The trades-per-minute gate: at most `max_trades_per_minute` sends in any 60 s, counted in a fixed
per-second ring (no allocation per trade), and trading resumes once the window has moved on."""

from __future__ import annotations

import asyncio

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from test_templates import three_leg

from bot.execution.executor import BlockhashCache, ExecPolicy, Executor
from bot.execution.templates import compile_template, lookup_addresses, route_instructions
from bot.keys import Wallet
from rpc.pubsub import SignatureResult
from rpc.requests import TransactionRecord
from strategies import layout
from strategies.opportunity import Opportunity, OpportunityLeg


class _NoLog:
    def __getattr__(self, name: str):
        return lambda *a, **k: None


class _Landed:
    """PubSub whose signature subscriptions are notified at once (landed)."""

    async def signature_subscribe(
        self, sig: str, commitment: str = "confirmed"
    ) -> asyncio.Future[SignatureResult]:
        fut: asyncio.Future[SignatureResult] = asyncio.get_running_loop().create_future()
        fut.set_result(SignatureResult(1, None))
        return fut

    async def signature_unsubscribe(self, sig: str) -> None:
        return None


class _LandedRpc:
    async def get_transaction(self, sig: str, commitment: str = "confirmed") -> TransactionRecord:
        return TransactionRecord(1, None, b"", None, 5_000, [10**10], [10**10 - 5_000], [], 90_000)


class _Pending:
    async def wait(self) -> object:
        return type("R", (), {"ok": True, "accepted": ("e0",), "errors": {}})()


class _Writer:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def write_all(self, tx: bytes) -> _Pending:
        self.sent.append(tx)
        return _Pending()


def _opportunity(k: int) -> Opportunity:
    a = 10**9 + k
    outs = [a * 3, a * 2, a + 500_000]
    legs, x = [], a
    for i, o in enumerate(outs):
        legs.append(OpportunityLeg(i, 1, 0, i, (i + 1) % 3, x, o, o))
        x = o
    return Opportunity(
        0, 0, 0, 0, tuple(legs), a, outs[-1], 260_000, 31_000, 31_000, outs[-1] - a - 31_000, 1, 0, 0.0
    )


async def test_at_most_max_trades_per_minute_then_again_after_the_window() -> None:
    route, pools, atas = three_leg(("cpmm", "cpmm", "cpmm"))
    kp = Keypair()
    ixs, _ = route_instructions(route, pools, kp.pubkey(), atas, None)
    alt = AddressLookupTableAccount(Pubkey.new_unique(), lookup_addresses(ixs, kp.pubkey()))
    tmpl, keys = compile_template(route, pools, kp.pubkey(), atas, [alt])
    market = layout.allocate(3, 3).market
    layout.write_token(market, 0, is_sol=True, balance=10**12, max_notional=10**12)
    now = [1_000 * 10**9]
    writer = _Writer()
    ex = Executor(
        wallet=Wallet(kp), templates={0: tmpl}, params=market, route_pools={0: (0, 1, 2)},
        start_accounts={0: (atas[0], keys.index(atas[0]))}, rpc=_LandedRpc(), pubsub=_Landed(),  # type: ignore[arg-type]
        sender=writer, blockhash=BlockhashCache(bytes(range(32)), 10**9, 0, now[0]),
        policy=ExecPolicy(dry_run=False, min_profit_lamports=10_000, budget_ns=10**12, max_trades_per_minute=2,
                          blockhash_max_age_ns=1 << 62),
        log=_NoLog(), clock=lambda: now[0],
    )  # fmt: skip
    results = []
    for k, step_s in enumerate((0, 10, 20, 35, 1, 65)):
        now[0] += step_s * 10**9
        results.append(ex.on_opportunity(_opportunity(k)) is not None)
        await ex.drain(5.0)  # landed: the pools are free again, only the rate gate can refuse
    # t=0 and t=10 trade; t=30 has both within 60 s; at t=65 only t=10 is (t=0 left); t=66 has t=10 and
    # t=65; at t=131 all three are older than 60 s.
    assert results == [True, True, False, True, False, True]
    assert ex.stats.rate_limited == 2 and len(writer.sent) == 4
