"""The venue registry: every `Venue` and its adapter. Adding a venue is one module and one line here
(see strategies/venues/README.md)."""

from __future__ import annotations

from strategies.venues import meteora_dlmm, orca_whirlpool, pumpswap, raydium_amm_v4, raydium_cpmm
from strategies.venues.base import Venue, VenueAdapter

ADAPTERS: dict[Venue, VenueAdapter] = {
    Venue.raydium_cpmm: raydium_cpmm.ADAPTER,
    Venue.raydium_amm_v4: raydium_amm_v4.ADAPTER,
    Venue.orca_whirlpool: orca_whirlpool.ADAPTER,
    Venue.pumpswap: pumpswap.ADAPTER,
    Venue.meteora_dlmm: meteora_dlmm.ADAPTER,
}
# By pool kind (the cache's `I_KIND`): a list for the confirm stage's per-leg lookup.
_BY_KIND: list[VenueAdapter | None] = [None] * (max(Venue) + 1)
for _venue, _adapter in ADAPTERS.items():
    _BY_KIND[_venue] = _adapter


def adapter(venue: Venue) -> VenueAdapter:
    return ADAPTERS[venue]


def by_kind(kind: int) -> VenueAdapter:
    """The adapter of a cache pool kind; ValueError for a kind no venue has."""
    found = _BY_KIND[kind] if 0 <= kind < len(_BY_KIND) else None
    if found is None:
        raise ValueError(f"no venue has pool kind {kind}")
    return found


def by_name(name: str) -> Venue:
    """The `Venue` of a config string; ValueError naming the valid ones."""
    try:
        return Venue[name]
    except KeyError:
        raise ValueError(f'unknown venue "{name}" (one of: {", ".join(v.name for v in Venue)})') from None


def by_program(program_ids: dict[Venue, str], owner: str) -> Venue | None:
    """The venue whose program id (per the cluster's ids) owns an account, or None."""
    for venue, pid in program_ids.items():
        if pid == owner:
            return venue
    return None


__all__ = ["ADAPTERS", "Venue", "VenueAdapter", "adapter", "by_kind", "by_name", "by_program"]
