"""A disabled route (quarantined, or with no transaction) is never the kernel's candidate: detection
falls to the best route that can trade, in the jitted kernel and the pure-Python reference alike."""

from __future__ import annotations

from strategies import detector
from strategies import reference_detector as ref
from strategies.synthetic import build_synthetic


def test_disabling_the_best_route_yields_the_next_one_and_enabling_restores_it():
    syn = build_synthetic(60, seed=3)
    state, graph = syn.cache.state, syn.table.graph
    checked = 0
    for pool in range(len(syn.cache.pools_i)):
        best = detector.detect(state, graph, pool)
        if best < 0:
            continue
        syn.table.set_disabled(best)
        assert syn.table.is_disabled(best)
        nxt = detector.detect(state, graph, pool)
        assert nxt != best
        assert ref.detect(state, graph, pool) == nxt  # the reference skips it too
        # No other pool's detection returns it while disabled.
        for other in range(len(syn.cache.pools_i)):
            assert detector.detect(state, graph, other) != best
        syn.table.set_disabled(best, False)
        assert detector.detect(state, graph, pool) == best and not syn.table.is_disabled(best)
        checked += 1
        if checked >= 5:
            break
    assert checked >= 3
