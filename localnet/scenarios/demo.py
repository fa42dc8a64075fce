"""The `make run` demo: mispriced pools on localnet of Raydium CPMM, Raydium AMM v4, Orca Whirlpool and
PumpSwap (our C programs at their program ids).

Tokens: wSOL, dUSD, dJUP, dRAY, dWIF (6 decimals each). CPMM pools (trade fee 0.25 %, protocol 12 %,
fund 4 % of the fee, as Raydium's common config) and AMM v4 pools (swap fee 25/10,000, SwapOnly):

    P1  CPMM   SOL/dUSD   1,000 SOL : 150,000 dUSD   (150 dUSD per SOL)
    P2  CPMM   SOL/dUSD   1,000 SOL : 156,000 dUSD   (156)      -> 2-leg cycle P1 -> P2
    P3  CPMM   SOL/dJUP   1,000 SOL : 310,000 dJUP   (310)
    P4  CPMM   dJUP/dUSD  300,000 dJUP : 150,000 dUSD (0.5)     -> 3-leg cycle SOL -> dJUP -> dUSD -> SOL
    A1  AMM v4 SOL/dRAY   1,000 SOL : 200,000 dRAY   (200)
    Q1  CPMM   SOL/dRAY   1,000 SOL : 206,000 dRAY   (206)      -> 2-leg cycle CPMM <-> AMM v4 (A1, Q1)
    Q2  CPMM   SOL/dWIF   1,000 SOL : 420,000 dWIF   (420)
    A2  AMM v4 dWIF/dRAY  400,000 dWIF : 200,000 dRAY (0.5)     -> 3-leg cycle SOL -> dWIF -> dRAY -> SOL

The AMM v4 pools use their own tokens, so the CPMM cycles are what they were. Orca Whirlpools (our C program at Orca's id; fee 0.3 %, protocol 3 % of it; tick spacing 8), liquidity
concentrated around the price in nested positions whose edges initialize a tick every 16 ticks (0.16 %),
so a sized trade crosses several initialized ticks:

    W1  SOL/dUSD   at 153    -> CPMM <-> Whirlpool 2-leg cycles P2 -> W1 and W1 -> P1
    W2  dJUP/dUSD  at 0.5    -> 3-leg SOL -> dJUP (P3) -> dUSD (W2) -> SOL (P1) crossing W2's ticks

    P5  CPMM   SOL/dPUMP  500 SOL : 1,040,000,000 dPUMP       (2,080,000 dPUMP per SOL)

PumpSwap (our pumpswap.so at PumpSwap's id, `_seed_pumpswap`), a canonical pool with the mainnet
FeeConfig tiers: market cap 100 SOL x 2e9 supply / 2e8 = 1,000 SOL pays 20 + 5 + 95 bps:

    S1  dPUMP/SOL  200,000,000 dPUMP : 100 SOL (2,000,000 dPUMP per SOL) -> 2-leg cycle P5 -> S1
        (buy dPUMP on CPMM, sell it on PumpSwap)

Every address is derived from a fixed seed, so `config.toml` can list the pools. Funded wallets get
SOL by airdrop; the bot creates its own token accounts and wraps SOL in its set-up phase.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from localnet.programs import amm_v4_accounts as aa
from localnet.programs import cpmm_accounts as ca
from localnet.programs import program_path
from localnet.programs import pumpswap_accounts as pa
from localnet.programs import whirlpool_accounts as wa
from localnet.server import pack_token_account
from strategies.venues import whirlpool_math as wm

PROGRAM_DIR = Path(__file__).resolve().parents[1] / "programs"
NATIVE_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
FUND_LAMPORTS = 200 * 10**9
SOL = 10**9
USD = 10**6
RENT_165 = 2_039_280  # rent-exempt minimum of a 165-byte token account


def address(label: str) -> Pubkey:
    """A fixed address for `label` (a keypair from a fixed seed; its secret is public: demo only)."""
    return Keypair.from_seed(hashlib.sha256(f"solarb-demo/{label}".encode()).digest()).pubkey()


MINTS = {name: (address(f"mint/{name}"), 6) for name in ("dUSD", "dJUP", "dRAY", "dWIF", "dPUMP")}
POOLS = {  # Raydium CPMM
    "P1": ("SOL", "dUSD", 1_000 * SOL, 150_000 * USD),
    "P2": ("SOL", "dUSD", 1_000 * SOL, 156_000 * USD),
    "P3": ("SOL", "dJUP", 1_000 * SOL, 310_000 * USD),
    "P4": ("dJUP", "dUSD", 300_000 * USD, 150_000 * USD),
    "Q1": ("SOL", "dRAY", 1_000 * SOL, 206_000 * USD),
    "Q2": ("SOL", "dWIF", 1_000 * SOL, 420_000 * USD),
    "P5": ("SOL", "dPUMP", 500 * SOL, 1_040_000_000 * USD),
}
AMM_V4_POOLS = {  # Raydium AMM v4: (coin, pc, coin reserve, pc reserve)
    "A1": ("SOL", "dRAY", 1_000 * SOL, 200_000 * USD),
    "A2": ("dWIF", "dRAY", 400_000 * USD, 200_000 * USD),
}
# Reference prices in USD: the market simulator's random walk starts here and the CEX feed server quotes it
# (`--simulate`, `--cex-port`). dUSD is the demo's dollar: no CEX symbol, the bot values the USDC quote
# asset at 1 USD (config_toml maps the USDC alias to dUSD). P1 and P4 start at the reference, P2 and P3 above.
# dRAY, dWIF and dPUMP have fixed prices (no CEX symbol): A1, Q2 and S1 start at the reference, Q1, A2, P5 above.
REFERENCE = (
    ("SOLUSDC", NATIVE_MINT, 150.0),
    ("JUPUSDC", MINTS["dJUP"][0], 0.5),
    (None, MINTS["dUSD"][0], 1.0),
    (None, MINTS["dRAY"][0], 0.75),
    (None, MINTS["dWIF"][0], 150.0 / 420),
    (None, MINTS["dPUMP"][0], 0.000075),
)
CEX_PAIRS = {"SOLUSDC": "SOL/USDC", "JUPUSDC": "dJUP/USDC"}
CONFIG = address("amm_config")
TRADE_FEE, PROTOCOL_FEE, FUND_FEE = 2_500, 120_000, 40_000


# PumpSwap pools: name -> (base symbol, base reserve, SOL reserve); the pool address is its PDA.
PUMPSWAP_POOLS = {"S1": ("dPUMP", 200_000_000 * USD, 100 * SOL)}
PUMP_SUPPLY = 2_000_000_000 * USD  # dPUMP's supply: a canonical pool's market cap, so its fee tier


def _pumpswap_pool(base_mint: Pubkey) -> Pubkey:
    """The canonical pool of `base_mint` against wSOL: ["pool", 0u16, pump's pool authority, base, quote]."""
    seeds = [
        b"pool",
        bytes(2),
        bytes(pa.pump_pool_authority(base_mint)),
        bytes(base_mint),
        bytes(NATIVE_MINT),
    ]
    return Pubkey.find_program_address(seeds, pa.PROGRAM_ID)[0]


def _native(acc: Any) -> Any:
    """A wSOL token account as a native one (lamports = rent reserve + amount): transfers of wSOL move
    lamports, so every account the swaps touch must be native (make_pool writes plain token accounts)."""
    data = bytes(acc.data)
    if acc.owner != ca.TOKEN_PROGRAM_ID or len(data) != 165 or data[:32] != bytes(NATIVE_MINT):
        return acc
    amount = int.from_bytes(data[64:72], "little")
    packed = pack_token_account(NATIVE_MINT, Pubkey(data[32:64]), amount, native_rent=RENT_165)
    return ca.account(packed, ca.TOKEN_PROGRAM_ID, lamports=RENT_165 + amount)


def _seed_pumpswap(net: Any) -> None:
    """The PumpSwap program, its GlobalConfig / FeeConfig (mainnet schedules) and the S pools."""
    net.add_program(pa.PROGRAM_ID, PROGRAM_DIR / "pumpswap.so")
    g = pa.GlobalFields(
        protocol_fee_recipients=[address(f"pumpswap/protocol/{i}") for i in range(8)],
        reserved_fee_recipient=address("pumpswap/reserved"),
        reserved_fee_recipients=[address(f"pumpswap/reserved/{i}") for i in range(7)],
        buyback_fee_recipients=[address(f"pumpswap/buyback/{i}") for i in range(8)],
    )
    for name, (sym, base_reserve, quote_reserve) in PUMPSWAP_POOLS.items():
        mint, decimals = MINTS[sym]
        setup = pa.make_pool(
            base_mint=mint, base_reserve=base_reserve, quote_reserve=quote_reserve, base_supply=PUMP_SUPPLY,
            base_decimals=decimals, coin_creator=address(f"pumpswap/{name}/coin_creator"), global_fields=g,
            with_mints=False,
        )  # fmt: skip
        for key, acc in setup.accounts.items():
            net.set_account(key, _native(acc))
        net.set_account(mint, ca.account(ca.mint_data(decimals, supply=PUMP_SUPPLY), ca.TOKEN_PROGRAM_ID))


def amm_v4_market(name: str) -> Pubkey:
    """The (placeholder) OpenBook market of AMM v4 pool `name`: the pool's addresses derive from it."""
    return address(f"market/{name}")


def pool_venues() -> dict[str, tuple[str, str]]:
    """Pool name -> (venue as the config names it, address)."""
    out = {name: ("raydium_cpmm", str(address(f"pool/{name}"))) for name in POOLS}
    for name in AMM_V4_POOLS:
        amm = aa.associated_address(amm_v4_market(name), b"amm_associated_seed")
        out[name] = ("raydium_amm_v4", str(amm))
    for name, addr in whirlpool_addresses().items():
        out[name] = ("orca_whirlpool", addr)
    for name, (sym, _, _) in PUMPSWAP_POOLS.items():
        out[name] = ("pumpswap", str(_pumpswap_pool(MINTS[sym][0])))
    return out


def pool_addresses() -> dict[str, str]:
    return {name: a for name, (_, a) in pool_venues().items()}


# ---- Whirlpools ------------------------------------------------------------------------------------
# name: (token a, token b, price of a in b (decimal-adjusted), active liquidity at the price)
WHIRLPOOLS = {
    "W1": ("SOL", "dUSD", 153.0, 400_000_000_000),
    "W2": ("dJUP", "dUSD", 0.5, 220_000_000_000),
}
WP_SPACING = 8
WP_FEE_RATE, WP_PROTOCOL_FEE_RATE = 3_000, 300
WP_NESTED = 10  # nested positions [t - 16k, t + 16k), k = 1..10, under one wide base position
WP_BASE_SHARE = 4  # the base position holds 1/4 of the active liquidity
WP_VAULT = {"SOL": 5_000 * SOL, "dUSD": 1_000_000 * USD, "dJUP": 2_000_000 * USD}


def _whirlpool_setup(name: str) -> wa.PoolSetup:
    sym_a, sym_b, price, liquidity = WHIRLPOOLS[name]
    (mint_a, dec_a), (mint_b, dec_b) = _mint(sym_a), _mint(sym_b)
    if bytes(mint_b) < bytes(mint_a):  # the program orders mints bytewise
        (sym_a, mint_a, dec_a), (sym_b, mint_b, dec_b) = (sym_b, mint_b, dec_b), (sym_a, mint_a, dec_a)
        price = 1 / price
    # sqrt of the raw price (b units per a unit) in Q64.64; floats only to place the demo's price.
    sqrt_price = int(math.sqrt(price * 10**dec_b / 10**dec_a) * 2**64)
    at = wm.tick_index_from_sqrt_price(sqrt_price) // WP_SPACING * WP_SPACING
    nested = (liquidity - liquidity // WP_BASE_SHARE) // WP_NESTED
    positions = [wa.Position(at - 250 * WP_SPACING, at + 250 * WP_SPACING, liquidity // WP_BASE_SHARE)]
    positions += [
        wa.Position(at - 2 * k * WP_SPACING, at + 2 * k * WP_SPACING, nested) for k in range(1, WP_NESTED + 1)
    ]
    return wa.make_pool(
        mint_a=mint_a, mint_b=mint_b, tick_spacing=WP_SPACING, sqrt_price=sqrt_price, positions=positions,
        fee_rate=WP_FEE_RATE, protocol_fee_rate=WP_PROTOCOL_FEE_RATE, vault_a_amount=WP_VAULT[sym_a],
        vault_b_amount=WP_VAULT[sym_b], with_mints=False,
    )  # fmt: skip


def whirlpool_addresses() -> dict[str, str]:
    return {name: str(_whirlpool_setup(name).whirlpool) for name in WHIRLPOOLS}


def _seed_whirlpools(net: Any) -> None:
    net.add_program(wa.PROGRAM_ID, program_path("whirlpool"))
    for name in WHIRLPOOLS:
        setup = _whirlpool_setup(name)
        for key, acc in setup.accounts.items():
            if key in (setup.vault_a, setup.vault_b) and bytes(acc.data[:32]) == bytes(NATIVE_MINT):
                # A wSOL vault is "native": lamports = rent reserve + amount (transfers move lamports).
                amount = int.from_bytes(acc.data[64:72], "little")
                data = pack_token_account(NATIVE_MINT, setup.whirlpool, amount, native_rent=RENT_165)
                acc = ca.account(data, ca.TOKEN_PROGRAM_ID, lamports=RENT_165 + amount)
            net.set_account(key, acc)


def _mint(symbol: str) -> tuple[Pubkey, int]:
    return (NATIVE_MINT, 9) if symbol == "SOL" else MINTS[symbol]


def seed(net: Any, fund: list[Pubkey], *, amm_v4_program: Path | None = None) -> dict[str, Any]:
    """Write the demo's mints and pools and fund `fund`. `amm_v4_program`: another build of amm_v4.c at
    AMM v4's id (tests: `amm_v4_accounts.build_variant`); default the committed one."""
    program = ca.PROGRAM_ID
    net.add_program(program, PROGRAM_DIR / "cpmm.so")
    net.add_program(aa.PROGRAM_ID, amm_v4_program or program_path("amm_v4"))
    # (The wrapped-SOL mint is in every localnet's genesis, as on solana-test-validator: localnet/chain.py.)
    for mint, decimals in MINTS.values():
        net.set_account(mint, ca.account(ca.mint_data(decimals), ca.TOKEN_PROGRAM_ID))
    net.set_account(CONFIG, ca.account(ca.amm_config_data(TRADE_FEE, PROTOCOL_FEE, FUND_FEE), program))
    auth, bump = ca.authority(program)
    for name, (sym_a, sym_b, amount_a, amount_b) in POOLS.items():
        pool = address(f"pool/{name}")
        (mint_a, dec_a), (mint_b, dec_b) = _mint(sym_a), _mint(sym_b)
        # Token 0 is the smaller mint (bytewise), as Raydium orders them.
        if bytes(mint_b) < bytes(mint_a):
            (mint_a, dec_a, amount_a), (mint_b, dec_b, amount_b) = (
                (mint_b, dec_b, amount_b),
                (mint_a, dec_a, amount_a),
            )
        vault_a = Pubkey.find_program_address([b"pool_vault", bytes(pool), bytes(mint_a)], program)[0]
        vault_b = Pubkey.find_program_address([b"pool_vault", bytes(pool), bytes(mint_b)], program)[0]
        observation = Pubkey.find_program_address([b"observation", bytes(pool)], program)[0]
        for vault, mint, amount in ((vault_a, mint_a, amount_a), (vault_b, mint_b, amount_b)):
            # wSOL accounts are "native": lamports = rent reserve + amount, and transfers move lamports.
            native = RENT_165 if mint == NATIVE_MINT else None
            data = pack_token_account(mint, auth, amount, native_rent=native)
            net.set_account(
                vault, ca.account(data, ca.TOKEN_PROGRAM_ID, lamports=RENT_165 + (amount if native else 0))
            )
        net.set_account(observation, ca.account(ca.observation_data(pool), program))
        fields = ca.PoolFields(
            amm_config=CONFIG,
            token_0_vault=vault_a,
            token_1_vault=vault_b,
            token_0_mint=mint_a,
            token_1_mint=mint_b,
            observation_key=observation,
            auth_bump=bump,
            mint_0_decimals=dec_a,
            mint_1_decimals=dec_b,
        )
        net.set_account(pool, ca.account(ca.pool_data(fields), program))
    for name, (coin, pc, coin_amount, pc_amount) in AMM_V4_POOLS.items():
        (coin_mint, coin_dec), (pc_mint, pc_dec) = _mint(coin), _mint(pc)
        setup = aa.make_pool(coin_mint=coin_mint, pc_mint=pc_mint, coin_reserve=coin_amount, pc_reserve=pc_amount,
                             coin_decimals=coin_dec, pc_decimals=pc_dec, market=amm_v4_market(name),
                             with_mints=False)  # fmt: skip
        for key, acc in setup.accounts.items():
            net.set_account(key, acc)
        for vault, mint, amount in (
            (setup.coin_vault, coin_mint, coin_amount),
            (setup.pc_vault, pc_mint, pc_amount),
        ):
            if mint == NATIVE_MINT:  # a native wSOL vault, as the CPMM ones above
                data = pack_token_account(mint, setup.authority, amount, native_rent=RENT_165)
                net.set_account(vault, ca.account(data, ca.TOKEN_PROGRAM_ID, lamports=RENT_165 + amount))
    _seed_whirlpools(net)
    _seed_pumpswap(net)
    for wallet in fund:
        net.airdrop(wallet, FUND_LAMPORTS)
    return {"pools": pool_addresses(), "mints": {k: str(v[0]) for k, v in MINTS.items()}}


def feeds_toml(cex_url: str) -> str:
    """The [tokens] aliases and [feeds] tables for localnet's CEX feed server at `cex_url` (`--cex-port`)."""
    pairs = "".join(f'{sym} = "{pair}"\n' for sym, pair in CEX_PAIRS.items())
    symbols = ", ".join(f'"{sym}"' for sym in CEX_PAIRS)
    usd, jup = MINTS["dUSD"][0], MINTS["dJUP"][0]
    return (
        f'dUSD = "{usd}"\ndJUP = "{jup}"\nUSDC = "{usd}"\n[feeds.symbols]\n{pairs}'
        f'[[feeds.cex]]\nvenue = "binance"\nurl = "{cex_url}"\nsymbols = [{symbols}]\n'
    )


def config_toml(
    rpc_url: str,
    ws_url: str,
    payer_path: str,
    log_path: str,
    *,
    dry_run: bool = False,
    cex_url: str | None = None,
) -> str:
    """A bot config for this scenario (tests and `make run` use the same pools); with `cex_url`, the bot
    also reads the CEX feed server's SOL and dJUP prices."""
    pools = "".join(f'\n[[pools]]\nvenue = "{v}"\naddress = "{a}"\n' for v, a in pool_venues().values())
    feeds = feeds_toml(cex_url) if cex_url else ""
    return f"""
[cluster]
name = "localnet"
[keys]
payer = "{payer_path}"
[[rpc.endpoints]]
name = "localnet"
http = "{rpc_url}"
ws = "{ws_url}"
[tokens]
SOL = "{NATIVE_MINT}"
{feeds}[strategy]
base_tokens = ["SOL"]
max_legs = 3
min_profit_lamports = 100000
min_profit_bps = 1
max_notional_lamports = 20000000000
[execution]
dry_run = {"true" if dry_run else "false"}
cu_price_micro_lamports = 10000
working_balance_lamports = 100000000000
[risk]
sol_reserve_lamports = 1000000000
max_trades_per_minute = 600
[logging]
path = "{log_path}"
console = "never"
[ledger]
path = "{log_path}.ledger.sqlite3"
{pools}"""
