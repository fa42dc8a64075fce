"""A stalled blockhash source never produces a transaction signed with an expired or nearly expired
blockhash: the hot path refuses a blockhash fetched too many slots ago (it must keep at least
BLOCKHASH_MIN_REMAINING of its 150 blocks) or too long ago by the clock (the slot feed may stall too)."""

from __future__ import annotations

from solders.transaction import VersionedTransaction
from test_prove import _executor, _opportunity, _template

from bot.execution.executor import BLOCKHASH_MIN_REMAINING, BLOCKHASH_VALID_BLOCKS, BlockhashCache


def test_a_blockhash_too_old_by_slots_or_by_time_is_never_signed():
    *_, atas, kp, tmpl, keys = _template()
    ex = _executor(tmpl, keys, atas, kp)
    now = [10**30]
    ex.clock = lambda: now[0]
    slot = [1_000]
    ex.current_slot = lambda: slot[0]
    fresh_at = slot[0]
    ex.blockhash = BlockhashCache(bytes(range(32)), 2_000, fresh_at, fetched_ns=now[0])
    opp = _opportunity(ex.params)
    tx = ex.sign_opportunity(opp)
    assert tx is not None and bytes(VersionedTransaction.from_bytes(tx).message.recent_blockhash) == bytes(
        range(32)
    )
    # The source stalls: slots move on, the blockhash stays. Signed while enough of its validity is left...
    slot[0] = fresh_at + BLOCKHASH_VALID_BLOCKS - BLOCKHASH_MIN_REMAINING
    assert ex.sign_opportunity(opp) is not None
    # ...and never once fewer than BLOCKHASH_MIN_REMAINING blocks could be left.
    for ahead in (1, 20, BLOCKHASH_MIN_REMAINING, 500):
        slot[0] = fresh_at + BLOCKHASH_VALID_BLOCKS - BLOCKHASH_MIN_REMAINING + ahead
        assert ex.sign_opportunity(opp) is None
    assert ex.stats.stale_blockhash == 4
    # The slot feed stalls too (slots look fresh): the clock still bounds the blockhash's age.
    slot[0] = fresh_at
    now[0] += ex.policy.blockhash_max_age_ns + 1
    assert ex.sign_opportunity(opp) is None and ex.stats.stale_blockhash == 5
    # A fresh blockhash arrives: signing resumes, with it.
    ex.blockhash = BlockhashCache(bytes(reversed(range(32))), 2_100, slot[0], fetched_ns=now[0])
    tx = ex.sign_opportunity(opp)
    assert tx is not None and bytes(VersionedTransaction.from_bytes(tx).message.recent_blockhash) == bytes(
        reversed(range(32))
    )
