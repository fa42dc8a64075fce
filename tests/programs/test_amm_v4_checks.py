"""Account checks, status gates and error codes of amm_v4.so, on localnet: every refusal carries its error
code and leaves every balance and the AmmInfo bytes untouched. Each test walks all three instruction
forms ("v2" 8 accounts, "legacy" 17, "legacy18" with target_orders) on one localnet server; the case
label in each assertion says which form and mutation failed."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from amm_v4_env import FORMS, AmmV4Env, amm_v4_chain
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from localnet.programs import amm_v4_accounts as aa
from localnet.programs.amm_v4_errors import INVALID_INSTRUCTION_DATA, NOT_ENOUGH_ACCOUNT_KEYS
from localnet.programs.amm_v4_errors import AmmV4Error as E
from localnet.programs.cpmm_accounts import TOKEN_PROGRAM_ID, account, token_account_data
from rpc.client import RpcClient
from strategies.venues import raydium_amm_v4 as rv

pytestmark = pytest.mark.localnet

TOKEN_2022 = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
COIN_VAULT, PC_VAULT = 10**13 + 700, 4 * 10**12 + 90
PNL_COIN, PNL_PC = 700, 90
AMOUNT_IN = 1_000_000_000
U64_SENTINEL = (1 << 64) - 1  # a recent_epoch no clock reaches


@pytest.fixture
async def env(localnet: Any) -> AsyncIterator[AmmV4Env]:
    async with RpcClient(localnet.rpc_url) as client:
        yield AmmV4Env(amm_v4_chain(localnet, client))


def seed(env: AmmV4Env, **fields: Any) -> None:
    env.seed(coin_vault=COIN_VAULT, pc_vault=PC_VAULT, user_coin=10**12, user_pc=5,
             **{"need_take_pnl_coin": PNL_COIN, "need_take_pnl_pc": PNL_PC, **fields})  # fmt: skip


async def good_ix(env: AmmV4Env, form: str, base_in: bool = True) -> Instruction:
    """coin -> pc, amount_in (or max_in) 1e9, min_out 1 (or amount_out 1e6), on the seeded pool."""
    info = await env.info()
    if base_in:
        return env.swap_ix(info, form, True, True, AMOUNT_IN, 1)
    return env.swap_ix(info, form, False, True, AMOUNT_IN, 1_000_000)


def with_accounts(ix: Instruction, metas: list[AccountMeta]) -> Instruction:
    return Instruction(ix.program_id, bytes(ix.data), metas)


def with_data(ix: Instruction, data: bytes) -> Instruction:
    return Instruction(ix.program_id, data, list(ix.accounts))


def replaced(ix: Instruction, old: Pubkey, new: Pubkey) -> Instruction:
    """Every slot holding ``old`` holds ``new`` instead (flags of the slot kept)."""
    metas = [
        AccountMeta(new if m.pubkey == old else m.pubkey, m.is_signer, m.is_writable) for m in ix.accounts
    ]
    assert metas != list(ix.accounts), f"{old} is not in the instruction"
    return with_accounts(ix, metas)


def padded(ix: Instruction, n: int) -> list[AccountMeta]:
    """The instruction's accounts repeated from the start until there are ``n``."""
    return [*ix.accounts, *ix.accounts[: n - len(ix.accounts)]]


def swapped(ix: Instruction, a: Pubkey, b: Pubkey) -> Instruction:
    """Keys ``a`` and ``b`` trade slots, each slot keeping its flags (a client mixing up the order)."""
    swap = {a: b, b: a}
    return with_accounts(
        ix, [AccountMeta(swap.get(m.pubkey, m.pubkey), m.is_signer, m.is_writable) for m in ix.accounts]
    )


def flagged(
    ix: Instruction, key: Pubkey, *, signer: bool | None = None, writable: bool | None = None
) -> Instruction:
    """The slot holding ``key`` with its signer / writable flag changed."""

    def change(m: AccountMeta) -> AccountMeta:
        s = m.is_signer if signer is None else signer
        return AccountMeta(m.pubkey, s, m.is_writable if writable is None else writable)

    return with_accounts(ix, [change(m) if m.pubkey == key else m for m in ix.accounts])


async def expect_refusal(
    env: AmmV4Env, ix: Instruction, code: int | str, label: str, signers: list[Keypair] | None = None
) -> None:
    """The swap fails with ``code`` (a custom code, or a builtin error's name) and nothing moves."""
    before = await env.snapshot()
    out = await env.send(ix, signers)
    assert not out.ok, f"{label}: expected {code}, the swap succeeded"
    got = out.builtin_error if isinstance(code, str) else out.custom_error
    assert got == code, (label, got, code, out.error)
    assert await env.snapshot() == before, f"{label}: state moved on a failed swap"


async def expect_swap(env: AmmV4Env, ix: Instruction, label: str) -> None:
    before = await env.snapshot()
    out = await env.send(ix)
    assert out.ok, (label, out.error)
    assert (await env.snapshot())["user_coin"] == before["user_coin"] - AMOUNT_IN, label


async def test_good_swaps_are_accepted_in_every_form(env: AmmV4Env) -> None:
    """The baseline every refusal below mutates does settle, exact-in and exact-out."""
    for form in FORMS:
        for base_in in (True, False):
            seed(env)
            before = await env.snapshot()
            out = await env.send(await good_ix(env, form, base_in))
            assert out.ok, (form, base_in, out.error)
            after = await env.snapshot()
            assert after["user_coin"] < before["user_coin"] and after["user_pc"] > before["user_pc"], form


async def test_missing_signer_is_refused(env: AmmV4Env) -> None:
    other_payer = Keypair()
    env.chain.set_account(other_payer.pubkey(), account(b"", Pubkey.default(), lamports=10**10))
    for form in FORMS:
        seed(env)
        ix = flagged(await good_ix(env, form), env.payer.pubkey(), signer=False)
        await expect_refusal(env, ix, E.INVALID_SIGN_ACCOUNT, form, [other_payer])


OWNER_CASES: list[tuple[str, int, bool]] = [
    # (account attribute of env / market, code, legacy list only)
    ("amm", E.INVALID_AMM_ACCOUNT_OWNER, False),
    ("coin_vault", E.INVALID_SPL_TOKEN_PROGRAM, False),
    ("pc_vault", E.INVALID_SPL_TOKEN_PROGRAM, False),
    ("user_coin", E.INVALID_SPL_TOKEN_PROGRAM, False),
    ("user_pc", E.INVALID_SPL_TOKEN_PROGRAM, False),
    ("open_orders", E.INVALID_OPEN_ORDERS, True),
    ("market", E.INVALID_MARKET, True),
]


async def test_wrong_owner_is_refused(env: AmmV4Env) -> None:
    addresses = {"open_orders": env.setup.open_orders, "market": env.market.market}
    for form in FORMS:
        for which, code, legacy_only in OWNER_CASES:
            if legacy_only and form == "v2":
                continue
            seed(env)
            ix = await good_ix(env, form)
            address = addresses.get(which) or getattr(env, which)
            acc = env.chain.net.get_account(address)
            env.chain.set_account(address, account(bytes(acc.data), Pubkey.new_unique()))
            await expect_refusal(env, ix, code, f"{form}: {which} owned by another program")
            env.chain.set_account(address, acc)


def order_cases(
    env: AmmV4Env, form: str
) -> list[tuple[str, Callable[[Instruction], Instruction], int | str]]:
    """Mutations of a good instruction and the code each must fail with."""
    other_coin = Pubkey.new_unique()  # a coin-mint account of the user that is not the pool's vault
    env.set_token(other_coin, env.coin_mint, env.payer.pubkey(), 10**12)
    new = Pubkey.new_unique
    cases: list[tuple[str, Callable[[Instruction], Instruction], int | str]] = [
        ("authority not the PDA", lambda ix: replaced(ix, env.authority, new()), E.INVALID_PROGRAM_ADDRESS),
        ("coin vault <-> pc vault", lambda ix: swapped(ix, env.coin_vault, env.pc_vault),
         E.INVALID_COIN_VAULT),
        ("pc vault not the pool's", lambda ix: replaced(ix, env.pc_vault, other_coin), E.INVALID_PC_VAULT),
        ("amm missing", lambda ix: replaced(ix, env.amm, new()), E.INVALID_AMM_ACCOUNT_OWNER),
        ("amm <-> authority", lambda ix: swapped(ix, env.amm, env.authority), E.INVALID_AMM_ACCOUNT_OWNER),
        ("token program is Token-2022", lambda ix: replaced(ix, TOKEN_PROGRAM_ID, TOKEN_2022),
         E.INVALID_SPL_TOKEN_PROGRAM),
        ("user source is the coin vault", lambda ix: replaced(ix, env.user_coin, env.coin_vault),
         E.INVALID_USER_TOKEN),
        ("user destination is the pc vault", lambda ix: replaced(ix, env.user_pc, env.pc_vault),
         E.INVALID_USER_TOKEN),
        ("source and destination both coin", lambda ix: replaced(ix, env.user_pc, other_coin),
         E.INVALID_USER_TOKEN),
        # the direction turns pc -> coin, and the user holds 5 pc
        ("user source <-> destination", lambda ix: swapped(ix, env.user_coin, env.user_pc),
         E.INSUFFICIENT_FUNDS),
    ]  # fmt: skip
    if form == "v2":
        cases += [
            ("7 accounts", lambda ix: with_accounts(ix, list(ix.accounts)[:7]), NOT_ENOUGH_ACCOUNT_KEYS),
            ("4 accounts", lambda ix: with_accounts(ix, list(ix.accounts)[:4]), NOT_ENOUGH_ACCOUNT_KEYS),
            ("tag 9 with the 8-account list", lambda ix: with_data(ix, b"\x09" + bytes(ix.data)[1:]),
             E.WRONG_ACCOUNTS_NUMBER),
        ]  # fmt: skip
    else:
        m = env.market
        cases += [
            ("16 accounts", lambda ix: with_accounts(ix, list(ix.accounts)[:16]), E.WRONG_ACCOUNTS_NUMBER),
            ("19 accounts", lambda ix: with_accounts(ix, padded(ix, 19)), E.WRONG_ACCOUNTS_NUMBER),
            ("open orders not the pool's", lambda ix: replaced(ix, env.setup.open_orders, new()),
             E.INVALID_OPEN_ORDERS),
            ("market program not the pool's", lambda ix: replaced(ix, m.market_program, new()),
             E.INVALID_MARKET_PROGRAM),
            ("market not the pool's", lambda ix: replaced(ix, m.market, new()), E.INVALID_MARKET),
            ("market <-> open orders", lambda ix: swapped(ix, m.market, env.setup.open_orders),
             E.INVALID_OPEN_ORDERS),
            # read as the 8-account list, slot 7 (the user owner there) holds the market: not a signer
            ("tag 16 with the legacy list", lambda ix: with_data(ix, b"\x10" + bytes(ix.data)[1:]),
             E.INVALID_SIGN_ACCOUNT),
        ]  # fmt: skip
    return cases


async def test_wrong_accounts_are_refused(env: AmmV4Env) -> None:
    for form in FORMS:
        seed(env)
        for name, mutate, code in order_cases(env, form):
            ix = mutate(await good_ix(env, form))
            await expect_refusal(env, ix, code, f"{form}: {name}")


async def test_order_book_accounts_are_checked_not_executed(env: AmmV4Env) -> None:
    """Bids, asks, event queue, market vaults, vault signer and target orders only have to be present:
    any key passes there (nothing is read from them), as the real program does for SwapOnly pools."""
    m = env.market
    for form in ("legacy", "legacy18"):
        for key in (
            m.bids,
            m.asks,
            m.event_queue,
            m.coin_vault,
            m.pc_vault,
            m.vault_signer,
            env.setup.target_orders,
        ):
            if key == env.setup.target_orders and form == "legacy":
                continue
            seed(env)
            await expect_swap(
                env, replaced(await good_ix(env, form), key, Pubkey.new_unique()), f"{form}: {key}"
            )


async def test_writable_accounts_must_be_writable(env: AmmV4Env) -> None:
    for form in FORMS:
        for key in (env.amm, env.coin_vault, env.pc_vault, env.user_coin, env.user_pc):
            seed(env)
            ix = flagged(await good_ix(env, form), key, writable=False)
            await expect_refusal(env, ix, E.ACCOUNT_NEED_WRITEABLE, f"{form}: {key} read-only")


@pytest.mark.parametrize("base_in", [True, False], ids=["base_in", "base_out"])
async def test_statuses_gate_swaps(env: AmmV4Env, base_in: bool) -> None:
    """Only Initialized (legacy list only: its reserves include the order book), SwapOnly and an open
    WaitingTrade pool swap; WaitingTrade turns into SwapOnly on its first swap."""
    now = int(env.chain.net.chain.svm.get_clock().unix_timestamp)
    for form in FORMS:
        for status in range(9):
            seed(env)
            ix = await good_ix(env, form, base_in)
            env.set_amm(need_take_pnl_coin=PNL_COIN, need_take_pnl_pc=PNL_PC, status=status)
            label = f"{form}: status {status}"
            # pool_open_time 0: a WaitingTrade pool is open
            swaps = {aa.STATUS_SWAP_ONLY, aa.STATUS_WAITING_TRADE} | (
                {aa.STATUS_INITIALIZED} if form != "v2" else set()
            )
            if status in swaps:
                assert (await env.send(ix)).ok, label
            else:
                await expect_refusal(env, ix, E.INVALID_STATUS, label)
        for open_time, opens in ((now + 3600, False), (now - 1, True)):
            seed(env)
            ix = await good_ix(env, form, base_in)
            env.set_amm(need_take_pnl_coin=PNL_COIN, need_take_pnl_pc=PNL_PC, status=aa.STATUS_WAITING_TRADE,
                        pool_open_time=open_time)  # fmt: skip
            if not opens:
                await expect_refusal(env, ix, E.INVALID_STATUS, f"{form}: waiting, not open yet")
        assert (await env.send(ix)).ok, f"{form}: waiting, open"
        assert (await env.info()).status == rv.AmmStatus.SWAP_ONLY, form


async def test_pool_state_faults_are_refused(env: AmmV4Env) -> None:
    for form in FORMS:
        cases: list[tuple[str, dict[str, Any], int]] = [
            ("pnl beyond the coin vault", {"need_take_pnl_coin": COIN_VAULT + 1}, E.CHECKED_SUB_OVERFLOW),
            ("pnl beyond the pc vault", {"need_take_pnl_pc": PC_VAULT + 1}, E.CHECKED_SUB_OVERFLOW),
            ("coin mint == pc mint", {"pc_vault_mint": env.coin_mint}, E.NOT_ALLOWED),
            ("swap fee 1/1", {"swap_fee_numerator": 1, "swap_fee_denominator": 1}, E.INVALID_FEE),
            ("swap fee denominator 0", {"swap_fee_numerator": 0, "swap_fee_denominator": 0}, E.INVALID_FEE),
        ]
        for name, fields, code in cases:
            seed(env)
            ix = await good_ix(env, form)  # built from the sound pool; then the pool turns bad
            env.set_amm(**{"need_take_pnl_coin": PNL_COIN, "need_take_pnl_pc": PNL_PC, **fields})
            await expect_refusal(env, ix, code, f"{form}: {name}")


async def test_malformed_accounts_are_refused(env: AmmV4Env) -> None:
    for form in FORMS:
        seed(env)
        ix = await good_ix(env, form)
        amm = env.chain.net.get_account(env.amm)
        env.set(env.amm, bytes(amm.data)[:751], env.program_id)
        await expect_refusal(env, ix, E.EXPECTED_ACCOUNT, f"{form}: AmmInfo of 751 bytes")
        seed(env)
        uninitialized = bytearray(token_account_data(env.coin_mint, env.authority, COIN_VAULT))
        uninitialized[108] = 0
        env.set(env.coin_vault, bytes(uninitialized), TOKEN_PROGRAM_ID)
        await expect_refusal(
            env, await good_ix(env, form), E.EXPECTED_ACCOUNT, f"{form}: uninitialized coin vault"
        )
        seed(env)
        env.set(env.user_coin, token_account_data(env.coin_mint, env.payer.pubkey(), 10**12), TOKEN_2022)
        await expect_refusal(
            env, await good_ix(env, form), E.INVALID_SPL_TOKEN_PROGRAM, f"{form}: Token-2022 user"
        )
        seed(env)
        ix = await good_ix(env, form)
        env.set_amm(nonce=0)  # nonce 0 is not this program's authority bump
        await expect_refusal(env, ix, E.INVALID_PROGRAM_ADDRESS, f"{form}: nonce 0")


async def test_user_balance_below_the_input_is_refused(env: AmmV4Env) -> None:
    for form in FORMS:
        for base_in in (True, False):
            env.seed(coin_vault=COIN_VAULT, pc_vault=PC_VAULT, user_coin=1000, user_pc=0)
            await expect_refusal(
                env, await good_ix(env, form, base_in), E.INSUFFICIENT_FUNDS, f"{form} {base_in}"
            )


def data_cases() -> list[tuple[str, bytes, int | str]]:
    swap = rv.encode_swap_data
    unsupported = [
        (f"tag {t}", bytes([t]) + bytes(16), INVALID_INSTRUCTION_DATA) for t in (0, 1, 3, 4, 6, 7, 14, 15, 99)
    ]
    return [
        ("empty", b"", INVALID_INSTRUCTION_DATA),
        ("tag 16, 15 bytes of arguments", swap(16, AMOUNT_IN, 1)[:16], INVALID_INSTRUCTION_DATA),
        ("amount_in 0", swap(16, 0, 0), E.INVALID_INPUT),
        ("amount_in 0 with a minimum", swap(16, 0, 1), E.EXCEEDED_SLIPPAGE),
        ("amount_out 0", swap(17, AMOUNT_IN, 0), E.INVALID_INPUT),
        ("amount_out = pc reserve", swap(17, 10**15, PC_VAULT - PNL_PC), E.INSUFFICIENT_FUNDS),
        *unsupported,
    ]


@pytest.mark.parametrize(("name", "data", "code"), data_cases(), ids=[c[0] for c in data_cases()])
async def test_bad_instruction_data_is_refused(
    env: AmmV4Env, name: str, data: bytes, code: int | str
) -> None:
    seed(env)
    await expect_refusal(env, with_data(await good_ix(env, "v2"), data), code, name)


async def test_extra_accounts_after_the_eight_are_ignored(env: AmmV4Env) -> None:
    seed(env)
    ix = await good_ix(env, "v2")
    extra = [AccountMeta(Pubkey.new_unique(), is_signer=False, is_writable=False) for _ in range(3)]
    await expect_swap(env, with_accounts(ix, [*ix.accounts, *extra]), "v2 + 3 accounts")


async def test_the_pool_records_the_epoch_of_its_last_swap(env: AmmV4Env) -> None:
    net = env.chain.net
    net.pause_clock()  # the swap lands in the slot whose epoch is read here
    try:
        for form in FORMS:
            seed(env, recent_epoch=U64_SENTINEL)
            epoch = int(net.chain.svm.get_clock().epoch)
            assert (await env.send(await good_ix(env, form))).ok, form
            (recorded,) = struct.unpack_from("<Q", (await env.snapshot())["amm"], aa.RECENT_EPOCH_OFFSET)
            assert recorded == epoch, form
    finally:
        net.resume_clock()
