"""The e2e harness's market: the demo's topology (localnet/scenarios/demo.py) on Raydium AMM v4 pools,
as account bytes, and the swaps that move it. Pure: shared by the harness and its market server.

Tokens wSOL, dUSD, dJUP; pools (fee 25 / 10,000):

    P1  SOL/dUSD   1,000 SOL : 150,000 dUSD       P3  SOL/dJUP   1,000 SOL : 310,000 dJUP
    P2  SOL/dUSD   1,000 SOL : 156,000 dUSD       P4  dJUP/dUSD  300,000 dJUP : 150,000 dUSD

so a 2-leg cycle (P1 <-> P2) and 3-leg cycles (SOL -> dJUP -> dUSD -> SOL) are open all the time.
Update `seq` is one swap as a node notifies it: the swapped pool's AmmInfo and both vaults, all in slot
`FIRST_SLOT + seq`. Swaps alternate between P1 and P2 and move their reserves by a few parts per
million, different for every seq, so every update leaves a cycle to trade and every trade has its own
amounts (its own signature).
"""

from __future__ import annotations

import hashlib
import struct

from solders.pubkey import Pubkey

# --- cluster presets: the bench market is AMM v4 pools (a fixture, like a cluster preset)
from strategies.venues import raydium_amm_v4 as amm

# --- end of cluster presets
from strategies.venues.spl import TOKEN_PROGRAM_ID

SOL = 10**9
USD = 10**6
FIRST_SLOT = 1_000
WSOL_MINT = "So11111111111111111111111111111111111111112"
TOKEN_PROGRAM = str(TOKEN_PROGRAM_ID)
AMM_PROGRAM = str(amm.PROGRAM_ID)
VAULT_LAMPORTS = 2_039_280
POOL_LAMPORTS = 6_124_800


def address(label: str) -> Pubkey:
    """A fixed address for `label` (not a key anyone holds: the market is never on a chain)."""
    return Pubkey(hashlib.sha256(f"solarb-e2e/{label}".encode()).digest())


MINTS = {"SOL": Pubkey.from_string(WSOL_MINT), "dUSD": address("mint/dUSD"), "dJUP": address("mint/dJUP")}
POOLS = {
    "P1": ("SOL", "dUSD", 1_000 * SOL, 150_000 * USD),
    "P2": ("SOL", "dUSD", 1_000 * SOL, 156_000 * USD),
    "P3": ("SOL", "dJUP", 1_000 * SOL, 310_000 * USD),
    "P4": ("dJUP", "dUSD", 300_000 * USD, 150_000 * USD),
}
MOVING = ("P1", "P2")  # the pools the swaps alternate between


def pool_bytes(name: str) -> bytes:
    """The pool's AmmInfo: SwapOnly, fee 25/10,000, its vaults and mints (the rest zero)."""
    sym_a, sym_b, _, _ = POOLS[name]
    raw = bytearray(amm.AMM_INFO_SIZE)
    struct.pack_into("<QQ", raw, 0, 6, 254)  # status SwapOnly, nonce
    struct.pack_into("<QQ", raw, 32, 9, 6)  # decimals (coin, pc)
    struct.pack_into("<QQ", raw, 176, 25, 10_000)  # swap fee
    raw[336:368], raw[368:400] = bytes(vault(name, "a")), bytes(vault(name, "b"))
    raw[400:432], raw[432:464] = bytes(MINTS[sym_a]), bytes(MINTS[sym_b])
    raw[464:496] = bytes(address(f"lp/{name}"))
    return bytes(raw)


def vault(name: str, side: str) -> Pubkey:
    return address(f"vault/{name}/{side}")


def token_account(mint: Pubkey, owner: Pubkey, amount: int) -> bytes:
    """An initialized SPL token account (165 bytes): mint, owner, amount, state 1."""
    return bytes(mint) + bytes(owner) + struct.pack("<Q", amount) + bytes(36) + b"\x01" + bytes(56)


_AUTHORITY = address("amm-authority")


def reserves(name: str, seq: int) -> tuple[int, int]:
    """The pool's vault amounts after update `seq` (the start amounts before any)."""
    _, _, a, b = POOLS[name]
    if seq < 0 or name not in MOVING:
        return a, b
    # A swap of a few ppm, keeping about the constant product, different for every seq.
    bump = 1 + ((seq * 7919) % 100_003) * 1e-9
    return int(a * bump), int(b / bump)


def accounts_at_start() -> list[tuple[str, bytes, str, int]]:
    """(pubkey, data, owner, lamports) of every account, as a snapshot at slot FIRST_SLOT - 1."""
    out = []
    for name, (sym_a, sym_b, a, b) in POOLS.items():
        out.append((str(address(f"pool/{name}")), pool_bytes(name), AMM_PROGRAM, POOL_LAMPORTS))
        out.append(
            (str(vault(name, "a")), token_account(MINTS[sym_a], _AUTHORITY, a), TOKEN_PROGRAM, VAULT_LAMPORTS)
        )
        out.append(
            (str(vault(name, "b")), token_account(MINTS[sym_b], _AUTHORITY, b), TOKEN_PROGRAM, VAULT_LAMPORTS)
        )
    return out


def moving_pool(seq: int) -> str:
    return MOVING[seq % len(MOVING)]


def swap_accounts(seq: int) -> list[tuple[str, bytes, str, int]]:
    """The notifications of update `seq`, in the order a node sends them: pool, vault a, vault b."""
    name = moving_pool(seq)
    sym_a, sym_b, _, _ = POOLS[name]
    a, b = reserves(name, seq)
    return [
        (str(address(f"pool/{name}")), pool_bytes(name), AMM_PROGRAM, POOL_LAMPORTS),
        (str(vault(name, "a")), token_account(MINTS[sym_a], _AUTHORITY, a), TOKEN_PROGRAM, VAULT_LAMPORTS),
        (str(vault(name, "b")), token_account(MINTS[sym_b], _AUTHORITY, b), TOKEN_PROGRAM, VAULT_LAMPORTS),
    ]


def config_toml() -> str:
    """The bot's config for this market (parsed by the real loader; pools in the order of POOLS)."""
    tokens = "".join(f'{k} = "{v}"\n' for k, v in MINTS.items() if k != "SOL")
    # --- cluster presets: the bench market's venue
    venue = "raydium_amm_v4"
    # --- end of cluster presets
    pools = "".join(f'[[pools]]\nvenue = "{venue}"\naddress = "{address(f"pool/{n}")}"\n\n' for n in POOLS)
    return (
        "[tokens]\n" + tokens + '\n[strategy]\nbase_tokens = ["SOL"]\nmin_profit_lamports = 10000\n'
        "min_profit_bps = 5\nmax_notional_lamports = 10000000000\n\n[execution]\ndry_run = false\n"
        'tip_policy = "fixed"\ntip_lamports = 10000\ntip_accounts = ["'
        + str(address("tip"))
        + '"]\ncu_price_micro_lamports = 1000\nslippage_bps = 30\n\n'
        + pools
    )
