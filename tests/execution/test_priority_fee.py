from __future__ import annotations

from bot.runtime import percentile_fee


def test_percentile_fee_nearest_rank_and_cap():
    fees = sorted([0, 0, 100, 200, 300, 400, 500, 600, 700, 10_000])
    assert percentile_fee(fees, 50, 10**9) == 300
    assert percentile_fee(fees, 90, 10**9) == 700
    assert percentile_fee(fees, 100, 10**9) == 10_000
    assert percentile_fee(fees, 100, 5_000) == 5_000  # capped
    assert percentile_fee(fees, 0, 10**9) == 0
    assert percentile_fee([], 75, 10) == 0
