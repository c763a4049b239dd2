"""Replay an instance's recorded trail twice: cutting the finished part of its task tree at every
command it can (engine/process/pruning.py with MIN_CUT 1) and never. Both must verify against the
trail (the same digest at every command, the same derived events at every step), and the states
the history page shows after each event (data, elements that ran and wait, finished) must be equal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from engine import Engine
from engine.audit.chain import instance_chain
from engine.process import pruning
from engine.replay import Replay, first_version_id, replay
from engine.runtime.loading import get_instance, specs_for
from engine.store.models import AuditEvent, Instance

NEVER = 10**9  # a cut of at least this many tasks: never


@contextmanager
def min_cut(value: int) -> Iterator[dict]:
    """Run with pruning.MIN_CUT = value; yields {"cuts": n, "tasks": m}: the cuts made and the tasks they removed."""
    counts = {"cuts": 0, "tasks": 0}
    saved, original = pruning.MIN_CUT, pruning.prune

    def counting(wf, min_cut=None):
        gone = original(wf, min_cut)
        counts["cuts"] += bool(gone)
        counts["tasks"] += gone
        return gone

    pruning.MIN_CUT, pruning.prune = value, counting
    try:
        yield counts
    finally:
        pruning.MIN_CUT, pruning.prune = saved, original


def replay_both_ways(eng: Engine, iid: int) -> tuple[Replay, Replay, dict]:
    """(the replay cutting whenever it can, the replay never cutting, the cuts the first made)."""
    with eng.db.read() as s:
        inst = get_instance(s, iid)
        rows = s.scalars(select(AuditEvent).where(AuditEvent.chain == instance_chain(iid))
                         .order_by(AuditEvent.position, AuditEvent.id))
        events = [{"position": r.position, "at": r.at, "actor": r.actor, "kind": r.kind, "task": r.task,
                   "payload": json.loads(r.payload)} for r in rows]
        specs = specs_for(s, eng.specs, first_version_id(events, inst.process_version_id))
        started_by = inst.started_by
    with min_cut(1) as counts:
        pruned = replay(specs, started_by, events, loader=eng._specs_of_version, states=True)
    with min_cut(NEVER):
        whole = replay(specs, started_by, events, loader=eng._specs_of_version, states=True)
    return pruned, whole, counts


def assert_pruning_changes_nothing(eng: Engine) -> dict:
    """For every instance in the engine's database; returns the cuts made in all."""
    total = {"instances": 0, "cuts": 0, "tasks": 0}
    with eng.db.read() as s:
        ids = list(s.scalars(select(Instance.id).order_by(Instance.id)))
    for iid in ids:
        pruned, whole, counts = replay_both_ways(eng, iid)
        assert whole.verified == pruned.verified, (iid, whole.first_mismatch, pruned.first_mismatch)
        assert pruned.first_mismatch == whole.first_mismatch, iid
        assert pruned.states == whole.states, f"instance {iid}: the history differs when its tree is cut"
        total["instances"] += 1
        total["cuts"] += counts["cuts"]
        total["tasks"] += counts["tasks"]
    return total
