"""Replays kept in memory, so the history page of a long instance does not replay it on every view.

An entry is keyed by the instance and the chain it replayed (its length and the hash of its last event).
A chain that grew, or one a forger rewrote and re-hashed, has another key, so a stale entry is never
found; an edit that breaks the hashes keeps the old key, which is why the caller verifies the chain
before every lookup. Only verified replays are kept: a mismatch is replayed again on the next view, so a
failure can never come back as a success.
Entries are kept pickled: every caller gets its own copy to change freely, and the bytes kept are what an
entry costs (bench/cost_growth.py measures it for a 500-step instance).
"""

from __future__ import annotations

import pickle

from engine.lru import Lru
from engine.replay import Replay

ChainKey = tuple[int, int, str]  # instance id, chain length, hash of the chain's last event


class ReplayCache:
    def __init__(self, size: int) -> None:
        self._items: Lru[bytes] = Lru(size)

    def find(self, chain: ChainKey, step: int | None, states: bool) -> Replay | None:
        """The kept replay of this chain as asked, or None. A replay with every state answers any
        question about the same chain, so the history page's one view serves the verify button too."""
        full = self._items.peek((*chain, None, True))
        if full is not None:
            return narrow(pickle.loads(full), step, states)
        kept = self._items.peek((*chain, step, states))
        return pickle.loads(kept) if kept is not None else None

    def keep(self, chain: ChainKey, step: int | None, states: bool, result: Replay) -> None:
        if result.verified:
            self._items.put((*chain, step, states), pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))

    def entry_bytes(self, chain: ChainKey, step: int | None = None, states: bool = True) -> int | None:
        """What one entry costs in memory (its pickled size), for the benchmark."""
        kept = self._items.peek((*chain, step, states))
        return len(kept) if kept is not None else None


def narrow(full: Replay, step: int | None, states: bool) -> Replay:
    """`full` (a verified replay with every state) as `replay(step=step, states=states)` would give it."""
    state = next((s for s in full.states if s["position"] == step), None) if step is not None else None
    return Replay(full.verified, full.steps, full.first_mismatch, state, full.states if states else [])
