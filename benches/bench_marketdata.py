"""accountNotification -> cache cost per venue type, against the bare parse of the same frames.

`python -m benches.bench_marketdata [--frames N] [--rounds R] [--json]`

Per account type (Raydium CPMM pool 637 B, AMM v4 pool 752 B, Orca Whirlpool 653 B, SPL vault 165 B of an
AMM v4 pool and of a PumpSwap pool: every second one rewrites the row, PumpSwap's with its fee tier),
N real-shaped notification frames with increasing slots are pushed through:
  floor - `orjson.loads(frame)` + `pybase64.b64decode(data)`: what any client pays to read the frame;
  full  - `PubSubClient._on_frame`: typed parse at the edge -> `CacheWriter.apply` (owner check, venue
          decoder, latest-slot rule, consistency gate, cache row write).
Reported: p50 / p90 / p99 ns per frame and the full/floor ratio at p50.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import struct
from pathlib import Path

import orjson
import pybase64
from solders.pubkey import Pubkey

from benches.timing import summary, time_chunks
from bot.accounts import AccountFeed
from bot.cache import CacheWriter
from localnet.programs import pumpswap_accounts as pa
from rpc.client import RpcClient
from rpc.pubsub import PubSubClient, _Sub
from strategies import layout
from strategies.venues import raydium_amm_v4 as amm
from strategies.venues import raydium_cpmm as cpmm

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "shared"
TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
WHIRL = "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"


def _fixture_b64(name: str, key: str = "account_data_base64") -> bytes:
    doc = json.loads((FIXTURES / name).read_text())
    if key in doc:
        return base64.b64decode(doc[key])
    return base64.b64decode(doc["account"]["data"][0])


def amm_v4_bytes(coin_vault: Pubkey, pc_vault: Pubkey) -> bytes:
    raw = bytearray(amm.AMM_INFO_SIZE)
    struct.pack_into("<QQ", raw, 0, 6, 254)  # status SwapOnly, nonce
    struct.pack_into("<QQ", raw, 32, 9, 6)
    struct.pack_into("<QQ", raw, 176, 25, 10_000)
    raw[336:368], raw[368:400] = bytes(coin_vault), bytes(pc_vault)
    raw[400:432], raw[432:464] = bytes(Pubkey.new_unique()), bytes(Pubkey.new_unique())
    return bytes(raw)


def token_account(mint: Pubkey, amount: int) -> bytes:
    return bytes(mint) + bytes(32) + struct.pack("<Q", amount) + bytes(36) + b"\x01" + bytes(56)


def frame(sub_id: int, slot: int, data: bytes, owner: str) -> bytes:
    return orjson.dumps(
        {
            "jsonrpc": "2.0",
            "method": "accountNotification",
            "params": {
                "subscription": sub_id,
                "result": {
                    "context": {"slot": slot},
                    "value": {
                        "data": [base64.b64encode(data).decode(), "base64"],
                        "executable": False,
                        "lamports": 2_039_280,
                        "owner": owner,
                        "rentEpoch": 18446744073709551615,
                        "space": len(data),
                    },
                },
            },
        }
    )


def setup(n: int) -> tuple[PubSubClient, dict[str, list[bytes]]]:
    market = CacheWriter(layout.allocate(4, 8), now_unix=lambda: 2_000_000_000)
    # The bot's own wiring (AccountFeed.on_account), never connected: frames are fed to the reader's parser.
    feed = AccountFeed(market, RpcClient("http://127.0.0.1:1"))
    client = PubSubClient("ws://127.0.0.1:1", on_account=feed.on_account, on_error=lambda err: None)
    cp_data = _fixture_b64("ipv4sq_raydium_cpmm_pool_Q2sPH.json")
    cp = market.add_pool("raydium_cpmm", "Q2sPHPdUWFMg7M7wwrQKLrn619cAucfRsmhVJffodSp", str(cpmm.PROGRAM_ID))
    market.apply(cp.pool_key, 1, cp_data, str(cpmm.PROGRAM_ID), 0)
    va, vb = Pubkey.new_unique(), Pubkey.new_unique()
    av4 = market.add_pool("raydium_amm_v4", str(Pubkey.new_unique()), str(amm.PROGRAM_ID))
    av4_data = amm_v4_bytes(va, vb)
    market.apply(av4.pool_key, 1, av4_data, str(amm.PROGRAM_ID), 0)
    wp_data = _fixture_b64("orca_rpr_whirlpool.json")
    wp = market.add_pool("orca_whirlpool", "EgxU92G34jw6QDG59Gsy1TU8VsdZZM6PMmK4b3G3VsSU", WHIRL)
    pump = pa.make_pool(base_mint=Pubkey.new_unique(), base_reserve=2 * 10**14, quote_reserve=10**11,
                        base_supply=10**15)  # fmt: skip
    ps_entry = market.add_pool("pumpswap", str(pump.pool), str(pa.PROGRAM_ID))
    pool_acc = pump.accounts[pump.pool]
    market.apply(ps_entry.pool_key, 1, bytes(pool_acc.data), str(pool_acc.owner), 0)
    for key in market.dependencies(ps_entry):
        acc = pump.accounts[Pubkey.from_string(market.watched[key].pubkey)]
        market.apply(key, 1, bytes(acc.data), str(acc.owner), 0)
    assert layout.is_usable(market.arrays, ps_entry.idx)  # type: ignore[arg-type]
    subs = {}
    for key in range(len(market.watched)):
        client._active[key + 1] = _Sub("account", key, "accountSubscribe", "accountUnsubscribe", [])
        subs[key] = key + 1
    frames: dict[str, list[bytes]] = {"cpmm_pool": [], "amm_v4_pool": [], "whirlpool": [], "vault": [],
                                      "pumpswap_vault": []}  # fmt: skip
    for i in range(n):
        slot = 10 + i
        frames["cpmm_pool"].append(frame(subs[cp.pool_key], slot, cp_data, str(cpmm.PROGRAM_ID)))
        frames["amm_v4_pool"].append(frame(subs[av4.pool_key], slot, av4_data, str(amm.PROGRAM_ID)))
        frames["whirlpool"].append(frame(subs[wp.pool_key], slot, wp_data, WHIRL))
        key = av4.vault_a_key if i % 2 == 0 else av4.vault_b_key
        frames["vault"].append(frame(subs[key], 10 + i // 2, token_account(va, 10**12 + i), TOKEN))
        side = ps_entry.vault_a_key if i % 2 == 0 else ps_entry.vault_b_key
        mint = pump.fields.base_mint if i % 2 == 0 else pump.fields.quote_mint
        frames["pumpswap_vault"].append(
            frame(subs[side], 10 + i // 2, token_account(mint, 10**11 + i), TOKEN)
        )
    return client, frames


def floor(f: bytes) -> object:
    msg = orjson.loads(f)
    return pybase64.b64decode(msg["params"]["result"]["value"]["data"][0])


def run(n: int, rounds: int) -> dict[str, dict[str, dict[str, float]]]:
    results: dict[str, dict[str, list[float]]] = {}
    for _ in range(rounds):
        client, frames = setup(n)  # fresh slots every round: the latest-slot rule must accept each frame
        gc.disable()
        try:
            for name, fs in frames.items():
                res = results.setdefault(name, {"floor": [], "full": []})
                time_chunks(floor, fs, res["floor"])
                time_chunks(client._on_frame, fs, res["full"])
        finally:
            gc.enable()
        assert client.stats.malformed == 0 and client.stats.callback_errors == 0, client.stats
    return {name: {k: summary(v) for k, v in res.items()} for name, res in results.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=5_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = run(args.frames, args.rounds)
    if args.json:
        print(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        return
    print(
        f"{'account':<12} {'floor p50':>10} {'full p50':>10} {'full p90':>10} {'full p99':>10} {'ratio':>7}   (ns/frame)"
    )
    for name, res in out.items():
        f, s = res["floor"], res["full"]
        print(
            f"{name:<12} {f['p50']:>10.0f} {s['p50']:>10.0f} {s['p90']:>10.0f} {s['p99']:>10.0f} {s['p50'] / f['p50']:>7.2f}"
        )


if __name__ == "__main__":
    main()
