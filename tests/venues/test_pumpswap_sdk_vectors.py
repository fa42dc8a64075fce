"""PumpSwap decoders, fee selection, quotes and builders against the official @pump-fun/pump-swap-sdk.

tests/data/pumpswap_sdk_vectors.json is produced by tools/oracles/pumpswap_vectors.mjs; the `node` test
re-runs that script and requires the same bytes. Where the SDK returns a value the program cannot
produce, our refusal is asserted instead:
  * zero amounts (buy 0 base, sell 0 base, spend 0 quote): the SDK returns zeros, the program has
    ZeroBaseAmount / ZeroQuoteAmount;
  * buy_exact_quote_in whose quote does not cover the fees: the SDK returns base <= 0;
  * amounts or vault balances beyond u64: the SDK uses big integers, the program cannot.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from solders.instruction import Instruction
from solders.pubkey import Pubkey

from strategies.venues import pumpswap as ps
from strategies.venues.errors import (
    BuyMoreBaseAmountThanPoolReserves,
    BuyNotEnoughQuoteTokensToCoverFees,
    InsufficientLiquidity,
    InsufficientRealQuoteReserves,
    InvalidInput,
    PumpSwapOverflow,
    ZeroBaseAmount,
    ZeroQuoteAmount,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "data" / "pumpswap_sdk_vectors.json"
ORACLES = ROOT / "tools" / "oracles"
U64 = (1 << 64) - 1

# SDK error messages (src/sdk/buy.ts, sell.ts, util.ts) -> the error our quote raises for the same state.
SDK_ERRORS: dict[str, type[Exception]] = {
    "Invalid input: 'baseReserve' or 'quoteReserve' cannot be zero.": InsufficientLiquidity,
    "Cannot buy more base tokens than the pool reserves.": BuyMoreBaseAmountThanPoolReserves,
    "Pool would be depleted; denominator is zero.": BuyMoreBaseAmountThanPoolReserves,
    "Insufficient real quote reserves to cover the sell output.": InsufficientRealQuoteReserves,
    "Fees exceed total output; final quote is negative.": InvalidInput,
}


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    return json.loads(VECTORS.read_text())


def _ceil_fee(amount: int, bps: int) -> int:
    return -(-amount * bps // 10_000)


def decoded(
    vectors: dict[str, Any],
) -> tuple[list[ps.PumpPool], list[ps.GlobalConfig], list[ps.FeeConfig | None]]:
    pools = [ps.decode_pool(bytes.fromhex(p["hex"]), ps.PROGRAM_ID) for p in vectors["pools"]]
    globals_ = [ps.decode_global_config(bytes.fromhex(h), ps.PROGRAM_ID) for h in vectors["global_configs"]]
    fee_configs = [
        None if f["hex"] is None else ps.decode_fee_config(bytes.fromhex(f["hex"]), ps.FEE_PROGRAM_ID)
        for f in vectors["fee_configs"]
    ]
    return pools, globals_, fee_configs


def _charged(pool: ps.PumpPool, sdk_fees: list[str]) -> ps.Fees:
    """computeFeesBps' rates with the quote functions' rule: no coin creator, no creator fee."""
    lp, protocol, creator = map(int, sdk_fees)
    return ps.Fees(lp, protocol, 0 if pool.coin_creator == Pubkey.default() else creator)


def test_fee_selection_matches_compute_fees_bps(vectors: dict[str, Any]) -> None:
    pools, globals_, fee_configs = decoded(vectors)
    compared = 0
    for row in vectors["quotes"]:
        _kind, p, g, f, supply, base, quote, _amount, sdk_fees, _result = row
        pool = pools[p]
        args = (pool, globals_[g], fee_configs[f], int(supply), int(base), int(quote))
        if sdk_fees[0].startswith("error"):
            with pytest.raises((InsufficientLiquidity, InvalidInput)):
                ps.pool_fees(*args)
            continue
        assert ps.pool_fees(*args) == _charged(pool, sdk_fees), row
        compared += 1
    assert compared >= 2_500


def _tier_index(tiers: tuple[ps.FeeTier, ...], cap: int) -> int:
    """Index of the tier a market cap falls in (thresholds ascending, as on mainnet)."""
    return max((i for i, tier in enumerate(tiers) if cap >= tier.market_cap_threshold), default=0)


def test_every_fee_schedule_and_tier_is_exercised(vectors: dict[str, Any]) -> None:
    pools, _globals, fee_configs = decoded(vectors)
    mainnet = fee_configs[0]
    assert mainnet is not None and len(mainnet.fee_tiers) == 25 and len(mainnet.stable_fee_tiers) == 25
    schedules: Counter[str] = Counter()
    sol_tiers: set[int] = set()
    stable_tiers: set[int] = set()
    for _kind, p, _g, f, supply, base, quote, _amount, sdk_fees, result in vectors["quotes"]:
        fee_config, pool = fee_configs[f], pools[p]
        if sdk_fees[0].startswith("error") or result[0].startswith("error"):
            continue
        if fee_config is None:
            schedules["global_config"] += 1
            continue
        pump = ps.is_pump_pool(pool.base_mint, pool.creator)
        q = pool.quote_mint
        cap = ps.market_cap(
            int(supply), int(base), int(quote) + pool.virtual_quote_reserves, pool.is_mayhem_mode
        )
        if not pump:
            schedules["flat"] += 1
        elif q in ps.SOL_LIKE_QUOTE_MINTS:
            schedules[f"sol_tiers:{f}"] += 1
            if f == 0:
                sol_tiers.add(_tier_index(mainnet.fee_tiers, cap))
        elif q in ps.STABLE_QUOTE_MINTS:
            schedules[f"stable_tiers:{f}"] += 1
            if f == 0:
                stable_tiers.add(_tier_index(mainnet.stable_fee_tiers, cap))
        else:
            schedules[f"exotic:{f}"] += 1
        if pool.is_mayhem_mode:
            schedules["mayhem"] += 1
        if pool.creator_fee_bps:
            schedules["per_pool_creator_fee"] += 1
    assert sol_tiers == set(range(25)) and stable_tiers == set(range(25))
    for name in ("global_config", "flat", "sol_tiers:0", "sol_tiers:1", "sol_tiers:2", "stable_tiers:0",
                 "stable_tiers:1", "stable_tiers:2", "exotic:0", "exotic:1", "mayhem", "per_pool_creator_fee"):  # fmt: skip
        assert schedules[name] >= 10, (name, schedules)


def test_quotes_match_the_sdk(vectors: dict[str, Any]) -> None:
    pools, _globals, _fee_configs = decoded(vectors)
    exact: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for row in vectors["quotes"]:
        kind, p, _g, _f, _supply, base_s, quote_s, amount_s, sdk_fees, result = row
        if sdk_fees[0].startswith("error"):
            continue
        pool = pools[p]
        fees = _charged(pool, sdk_fees)
        base, quote, amount = int(base_s), int(quote_s), int(amount_s)
        vqr = pool.virtual_quote_reserves
        args = (amount, base, quote, fees, vqr)
        if result[0].startswith("error"):
            message = result[0].removeprefix("error: ")
            expected = SDK_ERRORS[message]
            if kind == "buy_exact_quote_in" and expected is BuyMoreBaseAmountThanPoolReserves:
                expected = BuyNotEnoughQuoteTokensToCoverFees  # Q_eff + (q - 1) == 0: q was 0
            fn = {
                "buy": ps.buy_base_output,
                "sell": ps.sell_base_input,
                "buy_exact_quote_in": ps.buy_exact_quote_in,
            }
            with pytest.raises(expected):
                fn[kind](*args)
            refused[f"{kind}:sdk_error"] += 1
            continue
        a, b = map(int, result)
        if kind == "buy":
            lp_and_quote_in = a + _ceil_fee(a, fees.lp_fee_bps)
            if amount == 0:
                with pytest.raises(ZeroBaseAmount):
                    ps.buy_base_output(*args)
                refused["buy:zero"] += 1
            elif b > U64 or quote + lp_and_quote_in > U64:
                with pytest.raises(PumpSwapOverflow):
                    ps.buy_base_output(*args)
                refused["buy:overflow"] += 1
            else:
                q = ps.buy_base_output(*args)
                assert (q.base_amount_out, q.quote_amount_in, q.user_quote_amount_in) == (amount, a, b), row
                assert (
                    q.user_quote_amount_in
                    == q.quote_amount_in + q.lp_fee + q.protocol_fee + q.coin_creator_fee
                )
                exact["buy"] += 1
        elif kind == "sell":
            if amount == 0:
                with pytest.raises(ZeroBaseAmount):
                    ps.sell_base_input(*args)
                refused["sell:zero"] += 1
            elif base + amount > U64:
                with pytest.raises(PumpSwapOverflow):
                    ps.sell_base_input(*args)
                refused["sell:overflow"] += 1
            else:
                s = ps.sell_base_input(*args)
                assert (s.quote_amount_out, s.user_quote_amount_out) == (a, b), row
                assert (
                    s.user_quote_amount_out
                    == s.quote_amount_out - s.lp_fee - s.protocol_fee - s.coin_creator_fee
                )
                exact["sell"] += 1
        else:
            base_out, quote_in = a, b
            if amount == 0:
                with pytest.raises(ZeroQuoteAmount):
                    ps.buy_exact_quote_in(*args)
                refused["exact:zero"] += 1
            elif quote_in <= 0:
                with pytest.raises(BuyNotEnoughQuoteTokensToCoverFees):
                    ps.buy_exact_quote_in(*args)
                refused["exact:fees"] += 1
            elif base_out <= 0:
                with pytest.raises(ZeroBaseAmount):
                    ps.buy_exact_quote_in(*args)
                refused["exact:zero_out"] += 1
            elif (
                quote + quote_in + _ceil_fee(amount * 10_000 // (10_000 + fees.total_bps), fees.lp_fee_bps)
                > U64
            ):
                with pytest.raises(PumpSwapOverflow):
                    ps.buy_exact_quote_in(*args)
                refused["exact:overflow"] += 1
            else:
                e = ps.buy_exact_quote_in(*args)
                assert (e.base_amount_out, e.quote_amount_in) == (base_out, quote_in), row
                assert e.user_quote_amount_in <= amount
                exact["buy_exact_quote_in"] += 1
    assert sum(exact.values()) >= 2_000, exact
    assert min(exact.values()) >= 600, exact
    for name in (
        "buy:zero",
        "buy:sdk_error",
        "sell:zero",
        "sell:overflow",
        "sell:sdk_error",
        "exact:zero",
        "exact:fees",
    ):
        assert refused[name] >= 3, (name, refused)


def _same(ours: object, theirs: object) -> bool:
    if isinstance(ours, Pubkey):
        return str(ours) == theirs
    if isinstance(ours, bool):
        return ours == theirs
    if isinstance(ours, tuple):
        return isinstance(theirs, list) and len(ours) == len(theirs) and all(map(_same, ours, theirs))
    if isinstance(ours, ps.Fees):
        return isinstance(theirs, dict) and _same(
            (ours.lp_fee_bps, ours.protocol_fee_bps, ours.creator_fee_bps),
            [theirs["lpFeeBps"], theirs["protocolFeeBps"], theirs["creatorFeeBps"]],
        )
    if isinstance(ours, ps.FeeTier):
        return (
            isinstance(theirs, dict)
            and int(theirs["marketCapLamportsThreshold"]) == ours.market_cap_threshold
            and _same(ours.fees, theirs["fees"])
        )
    return int(ours) == int(theirs)  # type: ignore[call-overload]


POOL_FIELDS = {
    "pool_bump": "poolBump", "index": "index", "creator": "creator", "base_mint": "baseMint",
    "quote_mint": "quoteMint", "lp_mint": "lpMint", "pool_base_token_account": "poolBaseTokenAccount",
    "pool_quote_token_account": "poolQuoteTokenAccount", "lp_supply": "lpSupply", "coin_creator": "coinCreator",
    "is_mayhem_mode": "isMayhemMode", "is_cashback_coin": "isCashbackCoin",
    "virtual_quote_reserves": "virtualQuoteReserves", "creator_fee_bps": "creatorFeeBps",
    "can_edit_creator_fee": "canEditCreatorFee",
}  # fmt: skip
GLOBAL_FIELDS = {
    "admin": "admin", "lp_fee_basis_points": "lpFeeBasisPoints", "protocol_fee_basis_points": "protocolFeeBasisPoints",
    "disable_flags": "disableFlags", "protocol_fee_recipients": "protocolFeeRecipients",
    "coin_creator_fee_basis_points": "coinCreatorFeeBasisPoints",
    "admin_set_coin_creator_authority": "adminSetCoinCreatorAuthority", "whitelist_pda": "whitelistPda",
    "reserved_fee_recipient": "reservedFeeRecipient", "mayhem_mode_enabled": "mayhemModeEnabled",
    "reserved_fee_recipients": "reservedFeeRecipients", "is_cashback_enabled": "isCashbackEnabled",
    "buyback_fee_recipients": "buybackFeeRecipients", "buyback_basis_points": "buybackBasisPoints",
    "boost_authority": "boostAuthority", "boost_enabled": "boostEnabled",
    "creator_fee_configurable": "creatorFeeConfigurable",
    "max_configurable_creator_fee_bps": "maxConfigurableCreatorFeeBps",
}  # fmt: skip
FEE_CONFIG_FIELDS = {
    "bump": "bump", "admin": "admin", "flat_fees": "flatFees", "fee_tiers": "feeTiers",
    "stable_fee_tiers": "stableFeeTiers", "exotic_flat_fees": "exoticFlatFees",
}  # fmt: skip


def test_decoders_agree_with_the_sdk_for_every_layout_version(vectors: dict[str, Any]) -> None:
    layouts = vectors["layouts"]
    cases = [
        (layouts["pool"], lambda d: ps.decode_pool(d, ps.PROGRAM_ID), POOL_FIELDS),
        (layouts["global_config"], lambda d: ps.decode_global_config(d, ps.PROGRAM_ID), GLOBAL_FIELDS),
        (layouts["fee_config"], lambda d: ps.decode_fee_config(d, ps.FEE_PROGRAM_ID), FEE_CONFIG_FIELDS),
    ]
    sizes: Counter[tuple[str, int]] = Counter()
    compared = 0
    for entries, decode, fields in cases:
        for entry in entries:
            data = bytes.fromhex(entry["hex"])
            value = decode(data)
            for ours, theirs in fields.items():
                assert _same(getattr(value, ours), entry["sdk"][theirs]), (ours, theirs, len(data))
                compared += 1
            sizes[(type(value).__name__, len(data))] += 1
    assert {size for kind, size in sizes if kind == "PumpPool"} == {211, 243, 244, 245, 261, 270, 300}
    assert {size for kind, size in sizes if kind == "GlobalConfig"} == {907, 940, 949}
    assert {size for kind, size in sizes if kind == "FeeConfig"} == {2512, 4073, 4097}
    assert compared > 1_000


def test_the_mainnet_fee_config_decodes_to_the_sdk_fixture_tiers(vectors: dict[str, Any]) -> None:
    entry = next(e for e in vectors["layouts"]["fee_config"] if e["name"] == "mainnet_post_stable")
    config = ps.decode_fee_config(bytes.fromhex(entry["hex"]), ps.FEE_PROGRAM_ID)
    assert config.data_len == 4073 and config.exotic_flat_fees == ps.ZERO_FEES
    assert config.flat_fees == ps.Fees(25, 5, 0)
    # First and last SOL tiers as the SDK's fixture lists them (feeConfigMainnetFixture.ts).
    assert config.fee_tiers[0] == ps.FeeTier(0, ps.Fees(2, 93, 30))
    assert config.fee_tiers[1] == ps.FeeTier(420_000_000_000, ps.Fees(20, 5, 95))
    assert config.fee_tiers[-1] == ps.FeeTier(98_240_000_000_000, ps.Fees(20, 5, 5))
    assert config.stable_fee_tiers[1] == ps.FeeTier(59_000_000_000, ps.Fees(20, 5, 95))


def _metas(ix: Instruction) -> list[list[object]]:
    return [[str(m.pubkey), m.is_signer, m.is_writable] for m in ix.accounts]


def _accounts(case: dict[str, Any], sdk_keys: list[list[Any]]) -> ps.SwapAccounts:
    """The user side of a case, and the fee recipients the SDK picked at random for that instruction
    (protocol fee recipient = account 9, buyback recipient = the second-to-last remaining account)."""
    return ps.SwapAccounts(
        user=Pubkey.from_string(case["user"]),
        user_base_token_account=Pubkey.from_string(case["user_base"]),
        user_quote_token_account=Pubkey.from_string(case["user_quote"]),
        base_token_program=Pubkey.from_string(case["base_token_program"]),
        quote_token_program=Pubkey.from_string(case["quote_token_program"]),
        protocol_fee_recipient=Pubkey.from_string(sdk_keys[9][0]),
        buyback_fee_recipient=Pubkey.from_string(sdk_keys[-2][0]),
    )


def test_builders_reproduce_the_sdk_instructions(vectors: dict[str, Any]) -> None:
    pools, globals_, _fee_configs = decoded(vectors)
    seen: Counter[str] = Counter()
    for case in vectors["instructions"]:
        pool, config = pools[case["pool"]], globals_[case["global"]]
        address = Pubkey.from_string(case["pool_address"])
        a, b = int(case["a"]), int(case["b"])
        buy_acc, sell_acc = _accounts(case, case["buy"]["keys"]), _accounts(case, case["sell"]["keys"])
        for acc in (buy_acc, sell_acc):
            assert acc.protocol_fee_recipient in ps.protocol_fee_recipients(config, pool.is_mayhem_mode)
            assert acc.buyback_fee_recipient in config.buyback_fee_recipients
        buy = ps.build_buy_ix(
            pool_address=address, pool=pool, accounts=buy_acc, base_amount_out=a, max_quote_amount_in=b
        )
        sell = ps.build_sell_ix(
            pool_address=address, pool=pool, accounts=sell_acc, base_amount_in=a, min_quote_amount_out=b
        )
        exact = ps.build_buy_exact_quote_in_ix(
            pool_address=address, pool=pool, accounts=buy_acc, spendable_quote_in=a, min_base_amount_out=b
        )
        assert (_metas(buy), bytes(buy.data).hex()) == (case["buy"]["keys"], case["buy"]["data"])
        assert (_metas(sell), bytes(sell.data).hex()) == (case["sell"]["keys"], case["sell"]["data"])
        assert (_metas(exact), bytes(exact.data).hex()) == (
            case["buy"]["keys"],
            case["buy_exact_quote_in_data"],
        )
        assert int.from_bytes(buy.data[ps.ARG0_OFFSET : ps.ARG0_OFFSET + 8], "little") == a
        assert int.from_bytes(sell.data[ps.ARG1_OFFSET : ps.ARG1_OFFSET + 8], "little") == b
        seen["cashback" if pool.is_cashback_coin else "plain"] += 1
        seen["coin_creator" if pool.coin_creator != Pubkey.default() else "no_coin_creator"] += 1
        seen["mayhem"] += pool.is_mayhem_mode
        seen[f"buy:{len(buy.accounts)}"] += 1
        seen[f"sell:{len(sell.accounts)}"] += 1
    # 23 (buy) / 21 (sell) named accounts, then the SDK's remaining accounts: buyback recipient and
    # its ATA always, pool-v2 with a coin creator, the cashback accumulator's ATA (and, on sells, the
    # accumulator) on cashback coins.
    assert seen["cashback"] >= 2 and seen["no_coin_creator"] >= 10 and seen["mayhem"] >= 2
    assert {k for k in seen if k.startswith("buy:")} == {"buy:25", "buy:26", "buy:27"}
    assert {k for k in seen if k.startswith("sell:")} == {"sell:23", "sell:24", "sell:26"}


@pytest.mark.node
@pytest.mark.slow
def test_generator_reproduces_the_committed_vectors() -> None:
    node = shutil.which("node")
    if node is None or not (ORACLES / "node_modules" / "@pump-fun" / "pump-swap-sdk").is_dir():
        pytest.skip("node or tools/oracles/node_modules missing (run `make oracles`)")
    result = subprocess.run(
        [node, "pumpswap_vectors.mjs"], cwd=ORACLES, capture_output=True, text=True, timeout=180, check=True
    )
    assert result.stdout == VECTORS.read_text()
