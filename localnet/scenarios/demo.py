"""The `make run` demo: mispriced Raydium-CPMM-compatible pools on localnet (our C program at the CPMM id)
and a PumpSwap pool (our C program at the PumpSwap id).

Tokens: wSOL, dUSD (6 decimals), dJUP (6 decimals). Pools (trade fee 0.25 %, protocol 12 %, fund 4 %
of the fee, as Raydium's common config):

    P1  SOL/dUSD   1,000 SOL : 150,000 dUSD   (150 dUSD per SOL)
    P2  SOL/dUSD   1,000 SOL : 156,000 dUSD   (156)      -> 2-leg cycle P1 -> P2
    P3  SOL/dJUP   1,000 SOL : 310,000 dJUP   (310)
    P4  dJUP/dUSD  300,000 dJUP : 150,000 dUSD (0.5)     -> 3-leg cycle SOL -> dJUP -> dUSD -> SOL
    P5  SOL/dPUMP  500 SOL : 1,040,000,000 dPUMP       (2,080,000 dPUMP per SOL)

PumpSwap (our pumpswap.so at PumpSwap's id, `_seed_pumpswap`), a canonical pool with the mainnet
FeeConfig tiers: market cap 100 SOL x 2e9 supply / 2e8 = 1,000 SOL pays 20 + 5 + 95 bps:

    S1  dPUMP/SOL  200,000,000 dPUMP : 100 SOL (2,000,000 dPUMP per SOL) -> 2-leg cycle P5 -> S1
        (buy dPUMP on CPMM, sell it on PumpSwap)

Every address is derived from a fixed seed, so `config.toml` can list the pools. Funded wallets get
SOL by airdrop; the bot creates its own token accounts and wraps SOL in its set-up phase.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from localnet.programs import cpmm_accounts as ca
from localnet.programs import pumpswap_accounts as pa
from localnet.server import pack_token_account

PROGRAM_DIR = Path(__file__).resolve().parents[1] / "programs"
NATIVE_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
FUND_LAMPORTS = 200 * 10**9
SOL = 10**9
USD = 10**6
RENT_165 = 2_039_280  # rent-exempt minimum of a 165-byte token account


def address(label: str) -> Pubkey:
    """A fixed address for `label` (a keypair from a fixed seed; its secret is public: demo only)."""
    return Keypair.from_seed(hashlib.sha256(f"solarb-demo/{label}".encode()).digest()).pubkey()


MINTS = {"dUSD": (address("mint/dUSD"), 6), "dJUP": (address("mint/dJUP"), 6), "dPUMP": (address("mint/dPUMP"), 6)}
POOLS = {
    "P1": ("SOL", "dUSD", 1_000 * SOL, 150_000 * USD),
    "P2": ("SOL", "dUSD", 1_000 * SOL, 156_000 * USD),
    "P3": ("SOL", "dJUP", 1_000 * SOL, 310_000 * USD),
    "P4": ("dJUP", "dUSD", 300_000 * USD, 150_000 * USD),
    "P5": ("SOL", "dPUMP", 500 * SOL, 1_040_000_000 * USD),
}
CONFIG = address("amm_config")
TRADE_FEE, PROTOCOL_FEE, FUND_FEE = 2_500, 120_000, 40_000


# PumpSwap pools: name -> (base symbol, base reserve, SOL reserve); the pool address is its PDA.
PUMPSWAP_POOLS = {"S1": ("dPUMP", 200_000_000 * USD, 100 * SOL)}
PUMP_SUPPLY = 2_000_000_000 * USD  # dPUMP's supply: a canonical pool's market cap, so its fee tier


def pool_addresses() -> dict[str, str]:
    cpmm = {name: str(address(f"pool/{name}")) for name in POOLS}
    return cpmm | {name: str(_pumpswap_pool(MINTS[sym][0])) for name, (sym, _, _) in PUMPSWAP_POOLS.items()}


def pool_venues() -> dict[str, str]:
    """The config's venue of each pool of `pool_addresses()`."""
    return {name: "pumpswap" if name in PUMPSWAP_POOLS else "raydium_cpmm" for name in pool_addresses()}


def _pumpswap_pool(base_mint: Pubkey) -> Pubkey:
    """The canonical pool of `base_mint` against wSOL: ["pool", 0u16, pump's pool authority, base, quote]."""
    seeds = [b"pool", bytes(2), bytes(pa.pump_pool_authority(base_mint)), bytes(base_mint), bytes(NATIVE_MINT)]
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


def _mint(symbol: str) -> tuple[Pubkey, int]:
    return (NATIVE_MINT, 9) if symbol == "SOL" else MINTS[symbol]


def seed(net: Any, fund: list[Pubkey]) -> dict[str, Any]:
    program = ca.PROGRAM_ID
    net.add_program(program, PROGRAM_DIR / "cpmm.so")
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
            (mint_a, dec_a, amount_a), (mint_b, dec_b, amount_b) = (mint_b, dec_b, amount_b), (mint_a, dec_a, amount_a)
        vault_a = Pubkey.find_program_address([b"pool_vault", bytes(pool), bytes(mint_a)], program)[0]
        vault_b = Pubkey.find_program_address([b"pool_vault", bytes(pool), bytes(mint_b)], program)[0]
        observation = Pubkey.find_program_address([b"observation", bytes(pool)], program)[0]
        for vault, mint, amount in ((vault_a, mint_a, amount_a), (vault_b, mint_b, amount_b)):
            # wSOL accounts are "native": lamports = rent reserve + amount, and transfers move lamports.
            native = RENT_165 if mint == NATIVE_MINT else None
            data = pack_token_account(mint, auth, amount, native_rent=native)
            net.set_account(vault, ca.account(data, ca.TOKEN_PROGRAM_ID, lamports=RENT_165 + (amount if native else 0)))
        net.set_account(observation, ca.account(ca.observation_data(pool), program))
        fields = ca.PoolFields(
            amm_config=CONFIG, token_0_vault=vault_a, token_1_vault=vault_b, token_0_mint=mint_a,
            token_1_mint=mint_b, observation_key=observation, auth_bump=bump, mint_0_decimals=dec_a,
            mint_1_decimals=dec_b,
        )
        net.set_account(pool, ca.account(ca.pool_data(fields), program))
    _seed_pumpswap(net)
    for wallet in fund:
        net.airdrop(wallet, FUND_LAMPORTS)
    return {"pools": pool_addresses(), "mints": {k: str(v[0]) for k, v in MINTS.items()}}


def config_toml(rpc_url: str, ws_url: str, payer_path: str, log_path: str, *, dry_run: bool = False) -> str:
    """A bot config for this scenario (tests and `make run` use the same pools)."""
    venues = pool_venues()
    pools = "".join(f'\n[[pools]]\nvenue = "{venues[n]}"\naddress = "{a}"\n' for n, a in pool_addresses().items())
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
[strategy]
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
