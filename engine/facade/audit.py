"""`Engine`'s audit trail: verifying the chains, exporting, replaying and the history page's timeline."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import users
from engine.audit import export as audit_export
from engine.audit import trail
from engine.audit.chain import GENESIS, instance_chain
from engine.audit.trail import TrailCheck
from engine.audit.verify import all_chains, check_events, row_dict, verify_all, verify_chain
from engine.customers import chain as customers_chain
from engine.errors import InvalidData
from engine.facade.base import EngineBase
from engine.replay import Mismatch, Replay, first_version_id, replay
from engine.runtime import access
from engine.runtime import labels as labels_mod
from engine.runtime.loading import get_instance, specs_for
from engine.store.models import AuditChain, AuditEvent


class AuditMixin(EngineBase):
    def verify_chains(self, instance_id: int | None = None):  # noqa: ANN201 - Iterator[ChainResult]
        chains = [instance_chain(instance_id)] if instance_id is not None else None
        return verify_all(self.db.read, chains)

    def audit_chains(self, instance_id: int | None = None) -> list[str]:
        """The chains `check_trail` can check: every one (deployments first), or one instance's."""
        from engine.prices import chain as prices_chain

        with self.db.read() as s:
            if instance_id is None:
                found = all_chains(s)
                if prices_chain.PRICES not in found and prices_chain.has_rows(s):
                    found.insert(0, prices_chain.PRICES)  # rows without a chain: the check must say so
                if customers_chain.CUSTOMERS not in found and customers_chain.has_rows(s):
                    found.insert(0, customers_chain.CUSTOMERS)
                return found
            get_instance(s, instance_id)
            return [instance_chain(instance_id)]

    def check_trail(self, chain: str, replay: bool = True) -> TrailCheck:
        """Verify one chain's hashes and, for an instance, replay it (`audit verify`); for the `prices` and
        `customers` chains, also that their tables are what the chain says."""
        from engine.prices import chain as prices_chain

        with self.db.read() as s:
            chain_result = verify_chain(s, chain)
            if chain in (prices_chain.PRICES, customers_chain.CUSTOMERS) and chain_result.ok:
                position, reason = (prices_chain if chain == prices_chain.PRICES else customers_chain).check_table(s)
                if reason:
                    return TrailCheck(chain, chain_result.events, False, position or chain_result.events + 1,
                                      reason, broken_chain=True)
        return trail.check(chain_result, self.replay if replay else None)

    def export(self, instance_id: int, fmt: str = "json", actor: str | None = None) -> str:
        """One instance's trail as JSON (verifiable offline, docs/audit.md) or CSV; `actor`, when
        given, must be allowed to see the instance."""
        if fmt not in ("json", "csv"):
            raise InvalidData(f"unknown export format {fmt!r}: json or csv",
                              {"format": {"zh": "导出格式须为 json 或 csv", "en": "The format is json or csv"}})
        with self.db.read() as s:
            inst = get_instance(s, instance_id)
            if actor is not None:
                access.check_may_see(s, users.get_actor(s, actor), inst)
            chain = instance_chain(instance_id)
            return audit_export.to_json(s, chain) if fmt == "json" else audit_export.to_csv(s, chain)

    def replay(self, instance_id: int, step: int | None = None, actor: str | None = None,
               states: bool = False) -> Replay:
        """Verify the chain, then replay it; `actor` (when given) must be allowed to see the instance.
        With `states`, `Replay.states` holds the state after every event (the history page's slider).
        The access check and the chain's verification run on every call; only the replay is kept
        (engine/replay_cache.py)."""
        name = instance_chain(instance_id)
        with self.db.read() as s:
            inst = get_instance(s, instance_id)
            if actor is not None:
                access.check_may_see(s, users.get_actor(s, actor), inst)
            rows = list(s.scalars(select(AuditEvent).where(AuditEvent.chain == name)
                                  .order_by(AuditEvent.position, AuditEvent.id)))
            chain = check_events(name, (row_dict(r) for r in rows), _head(s, name))
            if not chain.ok:
                return Replay(False, chain.events, Mismatch(chain.position or 0, "chain", chain.reason))
            # the key comes from the very rows replayed, so it always names what was replayed
            key = (instance_id, len(rows), rows[-1].hash if rows else GENESIS)
            kept = self.replays.find(key, step, states)
            if kept is not None:
                return kept
            events = [{"position": r.position, "at": r.at, "actor": r.actor, "kind": r.kind, "task": r.task,
                       "payload": json.loads(r.payload)} for r in rows]
            specs = specs_for(s, self.specs, first_version_id(events, inst.process_version_id))
            started_by = inst.started_by
        result = replay(specs, started_by, events, step, loader=self._specs_of_version, states=states)
        self.replays.keep(key, step, states, result)
        return result

    def timeline(self, actor: str, instance_id: int) -> list[dict]:
        """The history page's timeline: every audit event with who, their role, when, the data
        changed (old -> new) and, for gateways, the branch taken and why."""
        from engine.audit import timeline

        events = self.history(actor, instance_id)
        with self.db.read() as s:
            inst = get_instance(s, instance_id)
            roles = self._role_names
            current = self.labels.get(s, inst.process_version_id, roles)
            numbers = labels_mod.event_versions(events, labels_mod.version_number(s, inst))
            found = labels_mod.versions_by_number(s, self.labels, inst.process_key, set(numbers), roles)
        return timeline.build(events, [found.get(n, current) for n in numbers])


def _head(s: Session, chain: str) -> dict:
    """The chain's recorded head, as `check_events` takes it (it notices events removed from the end)."""
    head = s.get(AuditChain, chain)
    return {"length": head.length, "head": head.head} if head else {"length": 0, "head": GENESIS}
