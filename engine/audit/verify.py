"""Recomputing hash chains: any edited, deleted, inserted or reordered event is found."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit.chain import GENESIS, event_body, event_hash
from engine.store.models import AuditChain, AuditEvent


@dataclass(frozen=True)
class ChainResult:
    chain: str
    events: int
    ok: bool
    position: int | None = None  # the first event that does not verify
    reason: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"{self.chain}: verified ({self.events} events)"
        return f"{self.chain}: BROKEN at event {self.position}: {self.reason}"


def check_events(chain: str, events: Iterable[dict], head: dict | None) -> ChainResult:
    """Verify one chain given as plain dicts (the DB rows or an exported file)."""
    prev, count = GENESIS, 0
    for expected, ev in enumerate(events, start=1):
        count = expected
        if ev["position"] != expected:
            return ChainResult(chain, count, False, expected,
                               f"event {expected} is missing or out of order (found position {ev['position']})")
        if ev["prev_hash"] != prev:
            return ChainResult(chain, count, False, expected, "prev_hash does not match the previous event")
        try:
            payload = json.loads(ev["payload"]) if isinstance(ev["payload"], str) else ev["payload"]
        except json.JSONDecodeError:
            return ChainResult(chain, count, False, expected, "payload is not valid JSON")
        body = event_body(chain, ev["position"], ev["at"], ev["actor"], ev["kind"], ev["task"], payload)
        if event_hash(prev, body) != ev["hash"]:
            return ChainResult(chain, count, False, expected,
                               f"hash mismatch: the {ev['kind']} event was altered")
        prev = ev["hash"]
    if head is not None and (head["length"] != count or head["head"] != prev):
        return ChainResult(chain, count, False, count + 1 if head["length"] > count else count,
                           f"the chain head records {head['length']} events ending in {head['head'][:12]}…, "
                           f"found {count}: events were removed or added at the end")
    return ChainResult(chain, count, True)


def row_dict(ev: AuditEvent) -> dict:
    return {"position": ev.position, "at": ev.at, "actor": ev.actor, "kind": ev.kind, "task": ev.task,
            "payload": ev.payload, "prev_hash": ev.prev_hash, "hash": ev.hash}


def verify_chain(session: Session, chain: str) -> ChainResult:
    events = session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.position,
                                                                                          AuditEvent.id))
    head = session.get(AuditChain, chain)
    head_dict = {"length": head.length, "head": head.head} if head else {"length": 0, "head": GENESIS}
    return check_events(chain, (row_dict(e) for e in events), head_dict)


def all_chains(session: Session) -> list[str]:
    named = set(session.scalars(select(AuditChain.chain)))
    named.update(session.scalars(select(AuditEvent.chain).distinct()))
    return sorted(named, key=_chain_order)


def _chain_order(chain: str) -> tuple[int, int | str]:
    kind, _, rest = chain.partition(":")
    return (1, int(rest)) if kind == "instance" and rest.isdigit() else (0, chain)


def verify_all(session_factory, chains: list[str] | None = None) -> Iterator[ChainResult]:  # noqa: ANN001
    """Yield one result per chain; each chain is read in its own short transaction."""
    if chains is None:
        with session_factory() as s:
            chains = all_chains(s)
    for chain in chains:
        with session_factory() as s:
            yield verify_chain(s, chain)
