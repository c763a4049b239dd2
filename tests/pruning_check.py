"""Replay an instance's recorded trail twice: cutting the finished part of its task tree at every
command it can (engine/process/pruning.py with MIN_CUT 1) and never. Both must verify against the
trail (the same digest at every command, the same derived events at every step), and the states
the history page shows after each event (data, elements that ran and wait, finished) must be equal.
assert_pruning_changes_nothing does so for every instance of a database, without replaying a trail the run
proved already, and taking a cut replay the engine kept when its caller vouches that it was cut.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from engine import Engine
from engine.audit.chain import GENESIS, instance_chain
from engine.process import pruning
from engine.process.specs import SpecSet
from engine.replay import Replay, first_version_id, replay
from engine.runtime.loading import get_instance, specs_for
from engine.store.models import AuditEvent, Instance, ProcessVersion

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


def _trail(eng: Engine, iid: int) -> tuple[list[dict], SpecSet, str, tuple]:
    """(the instance's events as replay takes them, the specs it started on, who started it, the key the
    engine's replay cache files a replay of this very trail under: engine/facade/audit.py)."""
    with eng.db.read() as s:
        inst = get_instance(s, iid)
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.chain == instance_chain(iid))
                              .order_by(AuditEvent.position, AuditEvent.id)))
        events = [{"position": r.position, "at": r.at, "actor": r.actor, "kind": r.kind, "task": r.task,
                   "payload": json.loads(r.payload)} for r in rows]
        specs = specs_for(s, eng.specs, first_version_id(events, inst.process_version_id))
        key = (iid, len(rows), rows[-1].hash if rows else GENESIS)
        return events, specs, inst.started_by, key


def replay_both_ways(eng: Engine, iid: int) -> tuple[Replay, Replay, dict]:
    """(the replay cutting whenever it can, the replay never cutting, the cuts the first made)."""
    events, specs, started_by, _key = _trail(eng, iid)
    with min_cut(1) as counts:
        pruned = replay(specs, started_by, events, loader=eng._specs_of_version, states=True)
    with min_cut(NEVER):
        whole = replay(specs, started_by, events, loader=eng._specs_of_version, states=True)
    return pruned, whole, counts


# Trails seen to replay the same cut and whole (_signature), by this process and, through a folder they share
# (share_proven_trails), by the other test processes of the run. Replay is a function of the specs, the starter
# and the events alone (it runs in memory, on a manual clock at each event's instant; task ids are random per
# run and only mapped), so a trail equal to a proven one but for its task ids is proven too: the scenarios
# start many instances that run the very same steps (2,045 instances, 466 distinct trails, 2026-12-05).
_PROVEN: set[str] = set()
_SHARED: list[Path] = []  # the shared folder, if any: one empty file per proven trail, named by its signature
_OTHER_VERSIONS = ("migrated", "retried")  # the replay loads another version: such a trail is always replayed


def share_proven_trails(folder: Path) -> None:
    """Share the trails proven with the other processes of this test run (the xdist workers) through `folder`."""
    folder.mkdir(exist_ok=True)
    _SHARED[:] = [folder]


def _proven(signature: str | None) -> bool:
    if signature is None:
        return False
    return signature in _PROVEN or bool(_SHARED) and (_SHARED[0] / signature).exists()


def _prove(signature: str | None) -> None:
    if signature is not None:
        _PROVEN.add(signature)
        if _SHARED:
            (_SHARED[0] / signature).touch()


def _signature(eng: Engine, iid: int, events: list[dict], started_by: str) -> str | None:
    """The trail with its task ids numbered in order of appearance, the starter, and the content of the version
    it started on; None for a trail whose replay loads another version."""
    if any(ev["kind"] in _OTHER_VERSIONS for ev in events):
        return None
    numbers: dict[str, int] = {}
    numbered = [ev if not isinstance(task_id := ev["payload"].get("task_id"), str) else
                {**ev, "payload": {**ev["payload"], "task_id": numbers.setdefault(task_id, len(numbers))}}
                for ev in events]
    with eng.db.read() as s:
        version = s.get(ProcessVersion, get_instance(s, iid).process_version_id)
        content = (version.spec_json, version.model_json, version.serializer_version)
    text = json.dumps([content, started_by, numbered], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def assert_pruning_changes_nothing(eng: Engine, cut_replays_kept: bool = False) -> dict:
    """For every instance in the engine's database; returns how many instances it checked, how many of their
    trails were proven before in this run, and for how many the cut replay was one the engine kept.

    With `cut_replays_kept` the caller vouches that every replay the engine ran and kept (its replay cache,
    engine/replay_cache.py) ran with MIN_CUT 1, as the scenarios' do (tests/scenarios/conftest.py): a replay
    with every state the engine kept of this very trail (same instance, length and last hash) is then that
    trail replayed cut at every command, and is not run a second time."""
    total = {"instances": 0, "proven_before": 0, "cut_replays_kept": 0}
    with eng.db.read() as s:
        ids = list(s.scalars(select(Instance.id).order_by(Instance.id)))
    for iid in ids:
        total["instances"] += 1
        events, specs, started_by, key = _trail(eng, iid)
        signature = _signature(eng, iid, events, started_by)
        if _proven(signature):
            total["proven_before"] += 1
            continue
        pruned = eng.replays.find(key, None, True) if cut_replays_kept else None
        total["cut_replays_kept"] += pruned is not None
        if pruned is None:
            with min_cut(1):
                pruned = replay(specs, started_by, events, loader=eng._specs_of_version, states=True)
        with min_cut(NEVER):
            whole = replay(specs, started_by, events, loader=eng._specs_of_version, states=True)
        assert whole.verified == pruned.verified, (iid, whole.first_mismatch, pruned.first_mismatch)
        assert pruned.first_mismatch == whole.first_mismatch, iid
        assert pruned.states == whole.states, f"instance {iid}: the history differs when its tree is cut"
        _prove(signature)
    return total
