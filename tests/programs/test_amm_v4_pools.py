"""AMM v4 pools on localnet: `make_pool` seeds a pool at the real associated addresses that the bot's
decoder reads and that swaps as quoted; our `initialize` writes an AmmInfo the bot decodes and swaps on,
and refuses bad set-ups with their codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from amm_v4_env import FORMS, AmmV4Env, amm_v4_chain, market_accounts
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from solders.transaction import Transaction

from localnet.programs import amm_v4_accounts as aa
from localnet.programs.amm_v4_errors import INVALID_INSTRUCTION_DATA, NOT_ENOUGH_ACCOUNT_KEYS
from localnet.programs.amm_v4_errors import AmmV4Error as E
from rpc.client import RpcClient
from strategies.venues import raydium_amm_v4 as rv

pytestmark = pytest.mark.localnet

COIN_RESERVE, PC_RESERVE = 3 * 10**13, 4 * 10**11


@pytest.fixture
async def env(localnet: Any) -> AsyncIterator[AmmV4Env]:
    async with RpcClient(localnet.rpc_url) as client:
        yield AmmV4Env(amm_v4_chain(localnet, client))


async def swap_as_quoted(
    env: AmmV4Env, localnet: Any, amm: Pubkey, market: aa.MarketKeys, form: str, coin_to_pc: bool
) -> None:
    """One exact-in swap through the bot's builder on the pool at ``amm``, checked against its quote."""
    raw = localnet.get_account(amm)
    info = rv.decode_amm_info(bytes(raw.data), raw.owner)
    vaults = (localnet.token_amount(info.coin_vault), localnet.token_amount(info.pc_vault))
    coin, pc = rv.reserves(info, *vaults)
    payer = Keypair()
    localnet.airdrop(payer.pubkey(), 10**10)
    user_coin = localnet.create_token_account(info.coin_vault_mint, payer.pubkey(), 10**12)
    user_pc = localnet.create_token_account(info.pc_vault_mint, payer.pubkey(), 10**12)
    r_in, r_out = (coin, pc) if coin_to_pc else (pc, coin)
    q = rv.swap_base_in(r_in // 500, r_in, r_out, info.swap_fee_numerator, info.swap_fee_denominator)
    ix = rv.build_swap_base_in_ix(
        pool_address=amm, info=info, user_source=user_coin if coin_to_pc else user_pc,
        user_destination=user_pc if coin_to_pc else user_coin, user_owner=payer.pubkey(),
        amount_in=q.amount_in, min_out=q.amount_out, market=None if form == "v2" else market_accounts(market),
        with_target_orders=form == "legacy18",
    )  # fmt: skip
    out = await env.chain.send(ix, [payer])
    assert out.ok, (form, out.error)
    src, dst = (user_coin, user_pc) if coin_to_pc else (user_pc, user_coin)
    assert (localnet.token_amount(src), localnet.token_amount(dst)) == (
        10**12 - q.amount_in,
        10**12 + q.amount_out,
    )


async def test_make_pool_seeds_a_pool_at_the_real_addresses(env: AmmV4Env, localnet: Any) -> None:
    coin_mint, pc_mint, market = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
    setup = aa.make_pool(
        coin_mint=coin_mint, pc_mint=pc_mint, coin_reserve=COIN_RESERVE, pc_reserve=PC_RESERVE,
        need_take_pnl_coin=123, need_take_pnl_pc=45, market=market,
    )  # fmt: skip
    for key, acc in setup.accounts.items():
        localnet.set_account(key, acc)
    info = read_info(localnet, setup.amm)
    assert info.status == rv.AmmStatus.SWAP_ONLY and rv.authority_pda(info.nonce) == setup.authority
    assert (info.coin_vault, info.pc_vault, info.market, info.open_orders) == (
        setup.coin_vault, setup.pc_vault, market, setup.open_orders,
    )  # fmt: skip
    vaults = (localnet.token_amount(setup.coin_vault), localnet.token_amount(setup.pc_vault))
    assert rv.reserves(info, *vaults) == (COIN_RESERVE, PC_RESERVE)
    # The associated seeds of the real program (processor.rs get_associated_address_and_bump_seed).
    seed_of = {"amm": b"amm_associated_seed", "coin_vault": b"coin_vault_associated_seed",
               "open_orders": b"open_order_associated_seed",
               "target_orders": b"target_associated_seed"}  # fmt: skip
    for name, seed in seed_of.items():
        expected = Pubkey.find_program_address([bytes(aa.PROGRAM_ID), bytes(market), seed], aa.PROGRAM_ID)[0]
        assert getattr(setup, name) == expected, name
    for form in FORMS:
        for coin_to_pc in (True, False):
            await swap_as_quoted(env, localnet, setup.amm, setup.market, form, coin_to_pc)


def read_info(localnet: Any, amm: Pubkey) -> rv.AmmInfo:
    raw = localnet.get_account(amm)
    return rv.decode_amm_info(bytes(raw.data), raw.owner)


# --- initialize ---------------------------------------------------------------------------------


class InitCase:
    """A fresh set of accounts for one `initialize`: mints, vaults owned by the authority, a zeroed amm."""

    def __init__(self, localnet: Any, *, same_mints: bool = False, vault_owner: Pubkey | None = None) -> None:
        self.creator = Keypair()
        localnet.airdrop(self.creator.pubkey(), 10**11)
        self.amm = Keypair()
        self.coin_mint = localnet.create_mint(self.creator.pubkey(), 9)
        self.pc_mint = self.coin_mint if same_mints else localnet.create_mint(self.creator.pubkey(), 6)
        owner = vault_owner or aa.authority()[0]
        self.coin_vault = localnet.create_token_account(self.coin_mint, owner, COIN_RESERVE)
        self.pc_vault = localnet.create_token_account(self.pc_mint, owner, PC_RESERVE)
        self.market = aa.market_keys(Pubkey.new_unique())
        self.open_orders, self.target_orders, self.lp_mint = (Pubkey.new_unique() for _ in range(3))
        self.rent = localnet.chain.svm.minimum_balance_for_rent_exemption(aa.AMM_INFO_SIZE)

    def ix(self, **kwargs: Any) -> Instruction:
        args: dict[str, Any] = {
            "creator": self.creator.pubkey(), "amm": self.amm.pubkey(), "coin_mint": self.coin_mint,
            "pc_mint": self.pc_mint, "coin_vault": self.coin_vault, "pc_vault": self.pc_vault,
            "lp_mint": self.lp_mint, "open_orders": self.open_orders, "market": self.market.market,
            "market_program": self.market.market_program, "target_orders": self.target_orders,
            "swap_fee_numerator": 30, "swap_fee_denominator": 10_000, "open_time": 0, **kwargs,
        }  # fmt: skip
        return aa.build_initialize_ix(**args)

    async def send(self, client: Any, init: Instruction, space: int = aa.AMM_INFO_SIZE,
                   owner: Pubkey = aa.PROGRAM_ID) -> Any:  # fmt: skip
        """System CreateAccount for the amm, then ``init``, in one transaction; returns its status."""
        create = create_account(CreateAccountParams(
            from_pubkey=self.creator.pubkey(), to_pubkey=self.amm.pubkey(), lamports=self.rent, space=space,
            owner=owner))  # fmt: skip
        latest = await client.get_latest_blockhash(commitment="processed")
        signers = [self.creator, self.amm]
        tx = Transaction(
            signers, Message([create, init], self.creator.pubkey()), Hash.from_string(latest.blockhash)
        )
        sig = await client.send_transaction(bytes(tx), skip_preflight=True)
        return (await client.get_signature_statuses([sig])).statuses[0]


async def test_initialize_writes_an_amm_info_the_bot_decodes_and_swaps(env: AmmV4Env, localnet: Any) -> None:
    case = InitCase(localnet)
    status = await case.send(env.chain.client, case.ix(status=aa.STATUS_WAITING_TRADE, open_time=7))
    assert status is not None and status.err is None, status
    info = read_info(localnet, case.amm.pubkey())
    assert (info.status, info.nonce, info.pool_open_time) == (
        rv.AmmStatus.WAITING_TRADE,
        aa.authority()[1],
        7,
    )
    assert (info.swap_fee_numerator, info.swap_fee_denominator, info.coin_decimals, info.pc_decimals) == (
        30,
        10_000,
        9,
        6,
    )
    assert (info.coin_vault, info.pc_vault, info.coin_vault_mint, info.pc_vault_mint) == (
        case.coin_vault, case.pc_vault, case.coin_mint, case.pc_mint,
    )  # fmt: skip
    assert (info.open_orders, info.market, info.market_program, info.target_orders, info.lp_mint) == (
        case.open_orders, case.market.market, case.market.market_program, case.target_orders, case.lp_mint,
    )  # fmt: skip
    assert (info.amm_owner, info.need_take_pnl_coin, info.need_take_pnl_pc) == (case.creator.pubkey(), 0, 0)
    assert info.sys_decimal_value == 10**9
    # The legacy list names the open orders and market: put placeholders owned by the market program there.
    book = case.market.market_program
    localnet.set_account(
        case.open_orders, aa.account(aa.open_orders_data(case.market.market, env.authority), book)
    )
    market = aa.market_data(case.market, case.coin_mint, case.pc_mint)
    localnet.set_account(case.market.market, aa.account(market, book))
    for form in FORMS:
        await swap_as_quoted(env, localnet, case.amm.pubkey(), case.market, form, coin_to_pc=form != "legacy")
    assert read_info(localnet, case.amm.pubkey()).status == rv.AmmStatus.SWAP_ONLY


REFUSALS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], int | str]] = [
    # (name, InitCase kwargs, ix kwargs, send kwargs, code)
    ("coin and pc mints equal", {"same_mints": True}, {}, {}, E.NOT_ALLOWED),
    ("vault not owned by the authority", {"vault_owner": Pubkey.new_unique()}, {}, {}, E.INVALID_OWNER),
    ("swap fee 1/1", {}, {"swap_fee_numerator": 1, "swap_fee_denominator": 1}, {}, E.INVALID_FEE),
    ("status 0", {}, {"status": 0}, {}, E.INVALID_STATUS),
    ("status 8", {}, {"status": 8}, {}, E.INVALID_STATUS),
    ("amm of 751 bytes", {}, {}, {"space": 751}, E.EXPECTED_ACCOUNT),
    ("amm owned by another program", {}, {}, {"owner": Pubkey.new_unique()}, E.INVALID_AMM_ACCOUNT_OWNER),
]


@pytest.mark.parametrize(
    ("name", "case_kw", "ix_kw", "send_kw", "code"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
async def test_initialize_refusals(
    env: AmmV4Env, localnet: Any, name: str, case_kw: dict[str, Any], ix_kw: dict[str, Any],
    send_kw: dict[str, Any], code: int,
) -> None:  # fmt: skip
    case = InitCase(localnet, **case_kw)
    status = await case.send(env.chain.client, case.ix(**ix_kw), **send_kw)
    assert status is not None and status.err == {"InstructionError": [1, {"Custom": int(code)}]}, (
        name,
        status,
    )


async def test_initialize_account_and_data_faults(env: AmmV4Env, localnet: Any) -> None:
    case = InitCase(localnet)
    assert (await case.send(env.chain.client, case.ix())).err is None
    blank = Pubkey.new_unique()  # a zeroed 752-byte account of the program, ready for `initialize`
    localnet.set_account(blank, aa.account(bytes(aa.AMM_INFO_SIZE), aa.PROGRAM_ID))
    good = case.ix(amm=blank)
    metas = list(good.accounts)

    def with_metas(new_metas: list[Any], data: bytes = bytes(good.data)) -> Instruction:
        return Instruction(good.program_id, data, new_metas)

    unsigned = [type(metas[0])(metas[0].pubkey, False, False), *metas[1:]]
    wrong_authority = [*metas[:2], type(metas[2])(Pubkey.new_unique(), False, False), *metas[3:]]
    cases: list[tuple[str, Instruction, list[Keypair], int | str]] = [
        ("already initialized", case.ix(), [case.creator], E.REPEAT_CREATE_AMM),
        ("creator did not sign", with_metas(unsigned), [env.fresh_payer()], E.INVALID_SIGN_ACCOUNT),
        ("authority not the nonce's PDA", with_metas(wrong_authority), [case.creator],
         E.INVALID_PROGRAM_ADDRESS),
        ("11 accounts", with_metas(metas[:11]), [case.creator], NOT_ENOUGH_ACCOUNT_KEYS),
        ("26 bytes of data", with_metas(metas, bytes(good.data)[:26]), [case.creator],
         INVALID_INSTRUCTION_DATA),
        ("coin mint is a token account", case.ix(amm=blank, coin_mint=case.coin_vault), [case.creator],
         E.EXPECTED_MINT),
        ("coin vault of the pc mint", case.ix(amm=blank, coin_vault=case.pc_vault), [case.creator],
         E.INVALID_COIN_VAULT),
    ]  # fmt: skip
    before = {k: bytes(localnet.get_account(k).data) for k in (case.amm.pubkey(), blank)}
    for name, ix, signers, code in cases:
        out = await env.chain.send(ix, signers)
        got = out.builtin_error if isinstance(code, str) else out.custom_error
        assert got == code, (name, out.error)
        assert {k: bytes(localnet.get_account(k).data) for k in before} == before, name
    assert (await env.chain.send(good, [case.creator])).ok  # the blank account does initialize
