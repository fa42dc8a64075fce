"""Account bytes for the DLMM vector states (tests/data/meteora_dlmm_sdk_vectors.json), written at the IDL
offsets independently of the decoders, so the replay goes bytes -> decode -> quote like live data."""

from __future__ import annotations

import struct
from typing import Any

from solders.pubkey import Pubkey

from strategies.venues import dlmm_math as dm
from strategies.venues import meteora_dlmm as dlmm


def lb_pair_bytes(s: dict[str, Any]) -> bytes:
    """LbPair bytes for a vector state (fields the state does not carry are zero)."""
    b = bytearray(dlmm.LB_PAIR_SIZE)
    b[:8] = dlmm.LB_PAIR_DISCRIMINATOR
    p, v = s["params"], s["v"]
    struct.pack_into(
        "<HHHHIIiiHBBB",
        b,
        8,
        p["base_factor"],
        p["filter_period"],
        p["decay_period"],
        p["reduction_factor"],
        p["variable_fee_control"],
        p["max_volatility_accumulator"],
        p["min_bin_id"],
        p["max_bin_id"],
        p["protocol_share"],
        p["base_fee_power_factor"],
        p["function_type"],
        p["collect_fee_mode"],
    )
    struct.pack_into(
        "<IIi4xq",
        b,
        40,
        v["volatility_accumulator"],
        v["volatility_reference"],
        v["index_reference"],
        v["last_update_timestamp"],
    )
    struct.pack_into("<BHBiHB", b, 72, 255, s["bin_step"], s["pair_type"], s["active_id"], s["bin_step"], 0)
    struct.pack_into("<H", b, 84, p["base_factor"])
    b[86] = s["activation_type"]
    keys = s["keys"]
    for name, off in (("token_x_mint", 88), ("token_y_mint", 120), ("reserve_x", 152), ("reserve_y", 184)):
        b[off : off + 32] = bytes(Pubkey.from_string(keys[name]))
    b[552:584] = bytes(Pubkey.from_string(keys["oracle"]))
    bitmap = sum(1 << (i + 512) for i in s["bitmap"] if -512 <= i < 512)
    b[584:712] = bitmap.to_bytes(128, "little")
    return bytes(b)


def bin_array_bytes(
    pair: Pubkey, index: int, bin_step: int, bins: list[list[Any]], unpriced: frozenset[int] = frozenset()
) -> bytes:
    """BinArray bytes; bins are [offset, amount_x, amount_y]. Bins in `unpriced` keep a zero price (the
    quote then computes it from the bin id, as the program does for a bin whose price is not stored)."""
    b = bytearray(dlmm.BIN_ARRAY_SIZE)
    b[:8] = dlmm.BIN_ARRAY_DISCRIMINATOR
    struct.pack_into("<qB", b, 8, index, 3)
    b[24:56] = bytes(pair)
    for k, x, y in bins:
        price = 0 if k in unpriced else dm.price_from_id(index * dlmm.MAX_BIN_PER_ARRAY + k, bin_step)
        struct.pack_into(
            "<QQQQQQ",
            b,
            56 + dlmm.BIN_SIZE * k,
            int(x),
            int(y),
            price & (2**64 - 1),
            price >> 64,
            int(x) + int(y),
            0,
        )
    return bytes(b)


def state_bin_arrays(s: dict[str, Any], pair: Pubkey, unpriced_every: int = 3) -> list[bytes]:
    """All supplied bin arrays of a state; every `unpriced_every`-th non-empty bin has no stored price."""
    out = []
    for index, bins in s["arrays"]:
        unpriced = frozenset(k for n, (k, _, _) in enumerate(bins) if n % unpriced_every == 0)
        out.append(bin_array_bytes(pair, index, s["bin_step"], bins, unpriced))
    return out


def bitmap_extension_bytes(pair: Pubkey, indexes: list[int]) -> bytes:
    """BinArrayBitmapExtension bytes marking the given array indexes outside -512..511."""
    b = bytearray(dlmm.BITMAP_EXTENSION_SIZE)
    b[:8] = dlmm.BITMAP_EXTENSION_DISCRIMINATOR
    b[8:40] = bytes(pair)
    pos = sum(1 << (i - 512) for i in indexes if i >= 512)
    neg = sum(1 << (-i - 513) for i in indexes if i < -512)
    b[40:808] = pos.to_bytes(768, "little")
    b[808:1576] = neg.to_bytes(768, "little")
    return bytes(b)
