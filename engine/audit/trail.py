"""One trail's full check, as the auditor's `audit verify` reports it.

An instance's trail is intact when its hash chain verifies *and* replaying its
recorded commands on the deployed definitions gives the recorded states and
events; the `deployments` chain has nothing to replay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.audit.verify import ChainResult
from engine.replay import Replay


@dataclass(frozen=True)
class TrailCheck:
    chain: str
    events: int
    ok: bool
    position: int | None = None  # the first event that does not verify or replay
    reason: str = ""
    replayed: bool = False  # the replay ran to the end and matched
    broken_chain: bool = False  # False with ok False: the chain is intact but the replay differs

    def describe(self) -> str:
        if self.ok:
            return f"{self.chain}: verified ({self.events} events{'; replay matches' if self.replayed else ''})"
        if self.broken_chain:
            return f"{self.chain}: BROKEN at event {self.position}: {self.reason}"
        return f"{self.chain}: REPLAY DIFFERS at event {self.position}: {self.reason}"


def instance_id_of(chain: str) -> int | None:
    kind, _, rest = chain.partition(":")
    return int(rest) if kind == "instance" and rest.isdigit() else None


def check(chain_result: ChainResult, replay: Callable[[int], Replay] | None) -> TrailCheck:
    """Combine the chain's verification with the instance's replay (None: chain only)."""
    r = chain_result
    if not r.ok:
        return TrailCheck(r.chain, r.events, False, r.position, r.reason, broken_chain=True)
    iid = instance_id_of(r.chain)
    if replay is None or iid is None:
        return TrailCheck(r.chain, r.events, True)
    result = replay(iid)
    if result.verified:
        return TrailCheck(r.chain, r.events, True, replayed=True)
    m = result.first_mismatch
    reason = f"{m.kind}: {m.reason}" if m else "the replay does not match"
    return TrailCheck(r.chain, r.events, False, m.position if m else None, reason)
