"""The PumpSwap adapter: `solarb quote` on the real pool dump, the cache row the detector screens and the
confirm quotes, shared GlobalConfig / FeeConfig / mints in the cache writer, refusals, and the swap leg.

The real pool (../shared/fixtures ipv4sq_pumpswap_pool_GUXAutv.json) comes without its GlobalConfig,
FeeConfig, vaults and mints: those are written by localnet's independent byte builders
(localnet/programs/pumpswap_accounts.py) with the mainnet FeeConfig schedules the SDK's own fixture lists.
Expected fee tiers are picked here from those schedules, not by the module under test.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from bot.cache import CacheWriter
from bot.cli import main
from localnet.programs import pumpswap_accounts as pa
from localnet.programs.cpmm_accounts import mint_data, token_account_data
from strategies import confirm, detector, layout
from strategies import routes as R
from strategies.venues import pumpswap as ps
from strategies.venues import registry
from strategies.venues.base import ROLE_CONFIG, ROLE_MINT_A, ROLE_VAULT_B, Venue
from strategies.venues.errors import QuoteError
from strategies.venues.spl import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, WSOL_MINT

FIXTURES = Path(os.environ["SOLARB_FIXTURES"])
ADAPTER = registry.adapter(Venue.pumpswap)
SOL = 10**9


def _fixture() -> tuple[Pubkey, bytes]:
    fx = json.loads((FIXTURES / "ipv4sq_pumpswap_pool_GUXAutv.json").read_text())
    return Pubkey.from_string(fx["pool_address"]), base64.b64decode(fx["account_data_base64"])


def _dump(directory: Path, pubkey: Pubkey, owner: Pubkey, data: bytes) -> None:
    account = {"lamports": 1, "data": [base64.b64encode(data).decode(), "base64"], "owner": str(owner)}
    (directory / f"{pubkey}.json").write_text(json.dumps({"pubkey": str(pubkey), "account": account}))


def _tier(tiers: list[pa.Tier], cap: int) -> pa.Fees:
    """The schedule a market cap pays: the last tier whose threshold is <= cap (the first below all)."""
    chosen = tiers[0][1]
    for threshold, fees in tiers:
        if threshold <= cap:
            chosen = fees
    return chosen


BASE, QUOTE, SUPPLY = 206_900_000 * 10**6, 300 * SOL, 10**15  # market cap ~1,450 SOL


def _real_pool_dumps(directory: Path, *, base_mint: bytes | None = None, base_owner: Pubkey = TOKEN_PROGRAM_ID,
                     fee_config: bool = True) -> tuple[Pubkey, ps.PumpPool]:  # fmt: skip
    address, data = _fixture()
    pool = ps.decode_pool(data, ps.PROGRAM_ID)
    _dump(directory, address, ps.PROGRAM_ID, data)
    _dump(directory, pa.global_config_address(), ps.PROGRAM_ID, pa.global_config_data(pa.GlobalFields()))
    if fee_config:
        _dump(directory, pa.fee_config_address(), ps.FEE_PROGRAM_ID, pa.fee_config_data())
    _dump(
        directory,
        pool.pool_base_token_account,
        TOKEN_PROGRAM_ID,
        token_account_data(pool.base_mint, address, BASE),
    )
    _dump(
        directory,
        pool.pool_quote_token_account,
        TOKEN_PROGRAM_ID,
        token_account_data(WSOL_MINT, address, QUOTE),
    )
    _dump(directory, pool.base_mint, base_owner, base_mint or mint_data(6, supply=SUPPLY))
    _dump(directory, WSOL_MINT, TOKEN_PROGRAM_ID, mint_data(9))
    return address, pool


def _quote(
    capsys: pytest.CaptureFixture[str], directory: Path, pool: Pubkey, amount: int, *flags: str
) -> dict:
    code = main(
        ["quote", "--accounts", str(directory), "--pool", str(pool), "--amount-in", str(amount), *flags]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)  # type: ignore[no-any-return]


def test_quote_on_the_real_pool_dump_sells_and_buys_at_the_market_cap_tier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address, pool = _real_pool_dumps(tmp_path)
    cap = QUOTE * SUPPLY // BASE
    lp, protocol, creator = _tier(pa.MAINNET_FEE_TIERS, cap)
    assert (lp, protocol, creator) == (20, 5, 95)  # 1,450 SOL: the 420-SOL tier of the mainnet schedule
    fees = ps.Fees(lp, protocol, creator)  # the pool has a coin creator: the creator rate applies

    sell = _quote(capsys, tmp_path, address, 5_000_000 * 10**6)
    exp = ps.sell_base_input(5_000_000 * 10**6, BASE, QUOTE, fees)
    assert (sell["venue"], sell["instruction"], sell["a_to_b"]) == ("pumpswap", "sell", True)
    assert (sell["mint_in"], sell["mint_out"]) == (str(pool.base_mint), str(WSOL_MINT))
    assert sell["amount_out"] == exp.user_quote_amount_out
    assert (sell["lp_fee"], sell["protocol_fee"], sell["coin_creator_fee"]) == (exp.lp_fee, exp.protocol_fee,
                                                                              exp.coin_creator_fee)  # fmt: skip
    assert sell["fee_bps"] == {"lp": lp, "protocol": protocol, "coin_creator": creator}
    assert (sell["market_cap"], sell["canonical_pool"]) == (cap, True)
    assert sell["reserves_after"] == [BASE + 5_000_000 * 10**6, QUOTE - exp.quote_amount_out + exp.lp_fee]

    buy = _quote(capsys, tmp_path, address, 2 * SOL, "--b-to-a")
    exp_buy = ps.buy_exact_quote_in(2 * SOL, BASE, QUOTE, fees)
    assert (buy["instruction"], buy["mint_in"]) == ("buy_exact_quote_in", str(WSOL_MINT))
    assert (buy["amount_out"], buy["user_quote_amount_in"]) == (
        exp_buy.base_amount_out,
        exp_buy.user_quote_amount_in,
    )
    assert buy["user_quote_amount_in"] <= 2 * SOL
    assert buy["price_after"] > buy["price_before"]  # buying base makes it dearer


def test_without_a_fee_config_the_global_config_rates_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address, _ = _real_pool_dumps(tmp_path, fee_config=False)
    g = pa.GlobalFields()
    fees = ps.Fees(g.lp_fee_basis_points, g.protocol_fee_basis_points, g.coin_creator_fee_basis_points)
    q = _quote(capsys, tmp_path, address, 10**12)
    assert q["amount_out"] == ps.sell_base_input(10**12, BASE, QUOTE, fees).user_quote_amount_out
    assert q["fee_config"] is None


def _transfer_fee_mint(basis_points: int) -> bytes:
    fee = struct.pack(
        "<32s32sQQQHQQH", bytes(32), bytes(32), 0, 0, 10**9, basis_points, 0, 10**9, basis_points
    )
    ext = struct.pack("<HH", 1, len(fee)) + fee
    return mint_data(6, supply=SUPPLY) + bytes(165 - 82) + b"\x01" + ext


def test_quote_refuses_token_2022_fees_and_names_missing_accounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address, pool = _real_pool_dumps(
        tmp_path, base_mint=_transfer_fee_mint(100), base_owner=TOKEN_2022_PROGRAM_ID
    )
    assert main(["quote", "--accounts", str(tmp_path), "--pool", str(address), "--amount-in", "1000"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refused" in err[0] and "token2022_transfer_fee" in err[0], err
    (tmp_path / f"{pool.pool_quote_token_account}.json").unlink()
    assert main(["quote", "--accounts", str(tmp_path), "--pool", str(address), "--amount-in", "1000"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and "pool_quote_token_account" in err[0]
        and str(pool.pool_quote_token_account) in err[0]
    )


# --- the cache row -------------------------------------------------------------------------------


def _load(setups: list[pa.PoolSetup], *, refusals: list[tuple[int, str]] | None = None,
          slot: int = 10) -> tuple[CacheWriter, R.RouteTable, dict[Pubkey, object]]:  # fmt: skip
    """A cache writer fed every account of `setups` the way the runtime does (pools, dependencies, attach)."""
    writer = CacheWriter(
        on_refusal=lambda e, r: refusals.append((e.idx, r)) if refusals is not None else None
    )
    accounts: dict[Pubkey, object] = {}
    for s in setups:
        writer.add_pool(Venue.pumpswap, str(s.pool), str(ps.PROGRAM_ID))
        accounts.update(s.accounts)

    def feed(keys: list[int]) -> None:
        for k in keys:
            acc = accounts[Pubkey.from_string(writer.watched[k].pubkey)]
            writer.apply(k, slot, bytes(acc.data), str(acc.owner), 0)  # type: ignore[attr-defined]

    feed([e.pool_key for e in writer.pools])
    feed(sorted({k for e in writer.pools for k in writer.dependencies(e)}))
    table = R.build_routes([R.PoolSpec(e.kind, str(e.mint_a), str(e.mint_b)) for e in writer.pools],
                           base_mints=[str(WSOL_MINT)])  # fmt: skip
    cache = layout.allocate(len(setups), len(table.mints))
    writer.attach(cache, table.token_index)
    return writer, table, accounts


def test_the_cache_row_holds_the_exact_state_and_quotes_like_the_module() -> None:
    g = pa.GlobalFields()
    setup = pa.make_pool(base_mint=Pubkey.new_unique(), base_reserve=BASE, quote_reserve=QUOTE, base_supply=SUPPLY,
                         global_fields=g, virtual_quote_reserves=-7 * SOL)  # fmt: skip
    writer, _, _ = _load([setup])
    cache = writer.arrays
    assert cache is not None and layout.is_usable(cache, 0)
    cap = (QUOTE - 7 * SOL) * SUPPLY // BASE  # on the effective quote reserve
    fees = ps.Fees(*_tier(pa.MAINNET_FEE_TIERS, cap))
    pu, pf = cache.pools_u, cache.pools_f
    assert (int(pu[0, layout.U_RES_A]), int(pu[0, layout.U_RES_B])) == (BASE, QUOTE)
    assert (int(pu[0, layout.U_FEE_NUM]), int(pu[0, layout.U_FEE_DEN])) == (fees.total_bps, 10_000)
    assert pf[0, layout.F_RES_B] == float(QUOTE - 7 * SOL)  # the detector prices on the effective reserve
    assert pf[0, layout.F_FEE_KEEP] == 1.0 - fees.total_bps / 10_000
    assert int(cache.pools_i[0, layout.I_KIND]) == layout.KIND_PUMPSWAP
    for amount in (1, 10**6, 3 * 10**12, BASE // 5):
        exp = ps.sell_base_input(amount, BASE, QUOTE, fees, -7 * SOL).user_quote_amount_out
        assert confirm.exact_leg_out(cache, 0, R.DIR_A_TO_B, amount) == exp
    for amount in (10_000, SOL, 20 * SOL):
        exp = ps.buy_exact_quote_in(amount, BASE, QUOTE, fees, -7 * SOL).base_amount_out
        assert confirm.exact_leg_out(cache, 0, R.DIR_B_TO_A, amount) == exp
    with pytest.raises(QuoteError):
        confirm.exact_leg_out(cache, 0, R.DIR_B_TO_A, 0)
    # quote_out: `buy` (exact base out) pays what its quote says; sells have no exact-out instruction,
    # so it is the least sell input that yields the output.
    buy_in = ADAPTER.quote_out(cache, 0, False, 10**12, None)
    assert buy_in == ps.buy_base_output(10**12, BASE, QUOTE, fees, -7 * SOL).user_quote_amount_in
    need = ADAPTER.quote_out(cache, 0, True, SOL // 3, None)
    assert (
        ADAPTER.quote_in(cache, 0, True, need, None)[0]
        >= SOL // 3
        > ADAPTER.quote_in(cache, 0, True, need - 1, None)[0]
    )


def test_shared_configs_and_mints_serve_every_pool_and_reprice_them() -> None:
    g = pa.GlobalFields()
    setups = [pa.make_pool(base_mint=Pubkey.new_unique(), base_reserve=BASE, quote_reserve=q, base_supply=SUPPLY,
                           global_fields=g) for q in (300 * SOL, 80_000 * SOL)]  # fmt: skip
    refusals: list[tuple[int, str]] = []
    writer, _, accounts = _load(setups, refusals=refusals)
    cache = writer.arrays
    assert cache is not None
    # GlobalConfig, FeeConfig and the wSOL mint are watched once for both pools.
    shared = {writer.pools[0].dep_keys[r] for r in (ROLE_CONFIG, ROLE_VAULT_B)} & {
        writer.pools[1].dep_keys[r] for r in (ROLE_CONFIG, ROLE_VAULT_B)}  # fmt: skip
    assert shared == {writer.pools[0].dep_keys[ROLE_CONFIG]}
    assert len({w.pubkey for w in writer.watched}) == len(writer.watched)
    # Different market caps, different tiers.
    totals = [int(cache.pools_u[i, layout.U_FEE_NUM]) for i in (0, 1)]
    for i, s in enumerate(setups):
        quote = struct.unpack_from("<Q", bytes(s.accounts[s.fields.pool_quote_token_account].data), 64)[0]
        assert totals[i] == sum(_tier(pa.MAINNET_FEE_TIERS, quote * SUPPLY // BASE))
    assert totals[0] != totals[1]
    # A burn halves the first base mint's supply: its market cap and tier drop, the other pool's stay.
    mint_key = writer.pools[0].dep_keys[ROLE_MINT_A]
    assert writer.apply(mint_key, 11, mint_data(6, supply=SUPPLY // 10), str(TOKEN_PROGRAM_ID), 0) == 0
    assert int(cache.pools_u[0, layout.U_FEE_NUM]) == sum(
        _tier(pa.MAINNET_FEE_TIERS, 300 * SOL * (SUPPLY // 10) // BASE)
    )
    assert int(cache.pools_u[1, layout.U_FEE_NUM]) == totals[1]
    # Disabling sells in the shared GlobalConfig refuses both pools, each with the reason.
    gk = writer.pools[0].dep_keys[ROLE_CONFIG]
    data = bytearray(accounts[pa.global_config_address()].data)  # type: ignore[attr-defined]
    data[pa.GLOBAL_DISABLE_FLAGS_OFFSET] = ps.DISABLE_SELL
    writer.apply(gk, 12, bytes(data), str(ps.PROGRAM_ID), 0)
    assert sorted(refusals) == [(0, "SWAP_DISABLED"), (1, "SWAP_DISABLED")]
    assert not layout.is_usable(cache, 0) and not layout.is_usable(cache, 1)


def test_token_2022_base_mints_with_a_transfer_fee_are_refused_with_the_reason() -> None:
    base = Pubkey.new_unique()
    setup = pa.make_pool(
        base_mint=base, base_reserve=BASE, quote_reserve=QUOTE, base_token_program=TOKEN_2022_PROGRAM_ID
    )
    setup.accounts[base] = pa.account(_transfer_fee_mint(25), TOKEN_2022_PROGRAM_ID)  # type: ignore[attr-defined]
    refusals: list[tuple[int, str]] = []
    writer, _, _ = _load([setup], refusals=refusals)
    # The vault's token program was found from its address (the pool's Token-2022 ATA), so it was read.
    assert refusals == [(0, "TOKEN2022_TRANSFER_FEE")]
    assert writer.arrays is not None and not layout.is_usable(writer.arrays, 0)
    assert ps.token_programs(setup.pool, writer.pools[0].static) == (TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID)


def test_a_pool_not_extended_yet_is_refused_until_it_grows() -> None:
    # A 211-byte pool predates coin_creator; extending it grows the account, the fields read 0 until set.
    setup = pa.make_pool(base_mint=Pubkey.new_unique(), base_reserve=BASE, quote_reserve=QUOTE, pool_size=211,
                         coin_creator=Pubkey.default())  # fmt: skip
    refusals: list[tuple[int, str]] = []
    writer, _, _ = _load([setup], refusals=refusals)
    assert refusals == [(0, "POOL_NOT_EXTENDED")]
    assert writer.arrays is not None and not layout.is_usable(writer.arrays, 0)
    # Someone's swap extends it (the SDK prepends extend_account): same keys, tradable from then on.
    grown = pa.pool_data(setup.fields, 300)
    # Newer than its vaults, the pool settles; the vaults did not change, so the next slots release it.
    writer.apply(writer.pools[0].pool_key, 11, grown, str(ps.PROGRAM_ID), 0)
    assert writer.on_slot(13, 0) == [0]
    assert layout.is_usable(writer.arrays, 0) and refusals == [(0, "POOL_NOT_EXTENDED")]


def test_a_vault_update_alone_settles_until_its_pair_arrives() -> None:
    setup = pa.make_pool(base_mint=Pubkey.new_unique(), base_reserve=BASE, quote_reserve=QUOTE)
    writer, _, _ = _load([setup])
    cache = writer.arrays
    assert cache is not None
    e = writer.pools[0]
    writer.apply(e.vault_a_key, 20, token_account_data(setup.fields.base_mint, setup.pool, BASE + 10**9),
                 str(TOKEN_PROGRAM_ID), 0)  # fmt: skip
    assert not layout.is_usable(cache, 0)
    assert writer.apply(e.vault_b_key, 20, token_account_data(WSOL_MINT, setup.pool, QUOTE - 1),
                        str(TOKEN_PROGRAM_ID), 0) == 0  # fmt: skip
    assert layout.is_usable(cache, 0) and int(cache.pools_u[0, layout.U_RES_A]) == BASE + 10**9


# --- detector screening and the swap leg ---------------------------------------------------------


def test_the_detector_screens_pumpswap_as_constant_product_and_confirm_is_exact() -> None:
    setup = pa.make_pool(
        base_mint=Pubkey.new_unique(), base_reserve=BASE, quote_reserve=QUOTE, base_supply=SUPPLY
    )
    writer, _, _ = _load([setup])
    # A second (CPMM-like) row where base is 5 % cheaper: buy it there, sell it into the PumpSwap pool.
    specs = [R.PoolSpec(layout.KIND_PUMPSWAP, str(setup.fields.base_mint), str(WSOL_MINT)),
             R.PoolSpec(layout.KIND_RAYDIUM_CPMM, str(WSOL_MINT), str(setup.fields.base_mint))]  # fmt: skip
    table = R.build_routes(specs, base_mints=[str(WSOL_MINT)])
    cache = layout.allocate(2, len(table.mints))
    writer.attach(cache, table.token_index)
    layout.register_pool(cache, 1, layout.KIND_RAYDIUM_CPMM, table.token_index[str(WSOL_MINT)],
                         table.token_index[str(setup.fields.base_mint)])  # fmt: skip
    layout.write_cp_pool(cache, 1, 3_000 * SOL, BASE * 10 * 105 // 100, 2_500, 1_000_000, 10, 0)
    layout.set_flags(cache, 1, tradable=True, settling=False)
    for t, mint in enumerate(table.mints):
        layout.write_token(
            cache.market, t, balance=10**13, max_notional=10**13, is_sol=mint == str(WSOL_MINT)
        )
    best = detector.detect(cache.state, table.graph, 0)
    assert best >= 0
    route = table.routes[best]
    assert [int(cache.pools_i[leg.pool, layout.I_KIND]) for leg in route.legs] == [layout.KIND_RAYDIUM_CPMM,
                                                                                  layout.KIND_PUMPSWAP]  # fmt: skip
    opp = confirm.confirm_best(cache, table, 0, slippage_bps=0)
    assert opp is not None and opp.expected_net_profit > 0
    pump_in = opp.legs[1].amount_in
    fees = ps.Fees(*_tier(pa.MAINNET_FEE_TIERS, QUOTE * SUPPLY // BASE))
    assert opp.legs[1].amount_out == ps.sell_base_input(pump_in, BASE, QUOTE, fees).user_quote_amount_out
    # The float screen is within a few basis points of the exact gross (fees taken on the quote side).
    gross = float(cache.market[layout.O_GROSS_OUT])
    assert abs(gross - opp.amount_out) / opp.amount_out < 5e-4


def test_the_swap_leg_names_the_global_configs_recipients_and_the_amount_offsets() -> None:
    g = pa.GlobalFields()
    setup = pa.make_pool(
        base_mint=Pubkey.new_unique(), base_reserve=BASE, quote_reserve=QUOTE, global_fields=g
    )
    writer, _, _ = _load([setup])
    e = writer.pools[0]
    payer, base_ata, quote_ata = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
    deps = e.dependency_values()
    accounts = ps.SwapAccounts(payer, base_ata, quote_ata, TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID,
                               g.protocol_fee_recipients[0], g.buyback_fee_recipients[0])  # fmt: skip
    sell = ADAPTER.swap_leg(e.static, setup.pool, ps.PROGRAM_ID, payer, base_ata, quote_ata, True, deps)
    (ix,) = sell.instructions
    assert ix == ps.build_sell_ix(pool_address=setup.pool, pool=e.static, accounts=accounts, base_amount_in=1,
                                  min_quote_amount_out=1)  # fmt: skip
    buy = ADAPTER.swap_leg(e.static, setup.pool, ps.PROGRAM_ID, payer, quote_ata, base_ata, False, deps)
    (bix,) = buy.instructions
    assert bix == ps.build_buy_exact_quote_in_ix(pool_address=setup.pool, pool=e.static, accounts=accounts,
                                                 spendable_quote_in=1, min_base_amount_out=1, track_volume=False)  # fmt: skip
    assert (
        len(ix.accounts) == 21 + 3 and len(bix.accounts) == 23 + 3
    )  # + pool-v2, buyback recipient and its ATA
    assert sell.arg_offsets == buy.arg_offsets == (8, 16)
    assert struct.unpack_from("<QQ", bytes(bix.data), 8) == (1, 1)
    with pytest.raises(ValueError, match="GlobalConfig"):
        ADAPTER.swap_leg(e.static, setup.pool, ps.PROGRAM_ID, payer, base_ata, quote_ata, True, {})
