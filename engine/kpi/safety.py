"""Safety figures (issue 14; seed 207-209 hazards, 215 accidents): docs/kpi.md "Safety hazards" and "Accidents".

Hazards (P8 `safety_hazard`), as at the end of the range (records.as_at):
- open: registered before it, not removed (the check accepted the rectification) and not ended before it;
  grouped by the grade the verification gave (none yet: "not decided yet");
- overdue: open, with a rectification round that was offered before the instant, not completed before it, and
  whose due date (task.due_at: the non-interrupting timer `rectification_overdue`, the table's period counted
  from when the round was offered; a round sent back gets its own) lies before it;
- registered / removed in the range: reported in it / the rectification accepted in it.
Accidents (P9 `safety_accident`) registered in the range, by each group of kpi.yaml (cause, severity): the value
the group's task recorded last; an accident whose task is not done yet counts under "not decided yet".
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.kpi import records
from engine.kpi.filters import Window
from engine.kpi.sections import Accidents, Field, Hazards
from engine.store.models import Instance, Task


def _open_at(inst: Instance, done: list[records.Completion], spec: Hazards, at: datetime) -> bool:
    if inst.started_at >= at or (inst.ended_at is not None and inst.ended_at <= at):
        return False
    return records.first(done, spec.removed, by=at) is None


def _overdue_ids(session: Session, spec: Hazards, ids: list[int], at: datetime) -> set[int]:
    """The hazards with a rectification round open at the instant and past its due date."""
    late: set[int] = set()
    for batch in records.batches(ids):
        rows = session.scalars(select(Task).where(Task.instance_id.in_(batch), Task.bpmn_id.in_(spec.rectify.tasks),
                                                  Task.created_at <= at, Task.due_at.is_not(None), Task.due_at < at))
        late.update(r.instance_id for r in rows if r.completed_at is None or r.completed_at > at)
    return late


def _levels(counts: Counter, overdue: Counter, labels: dict) -> list[dict]:
    """One row per grade of the form (also when 0), then any other value, then "not decided yet"."""
    keys = [*labels, *sorted(k for k in counts if k is not None and k not in labels)]
    if counts.get(None):
        keys.append(None)
    return [{**records.labelled(k, labels), "open": counts.get(k, 0), "overdue": overdue.get(k, 0)} for k in keys]


def hazards(session: Session, spec: Hazards, window: Window, now: datetime) -> dict:
    at = records.as_at(window, now)
    every = [i for i in records.instances(session, spec.process) if i.started_at < at]
    done = records.completions(session, [i.id for i in every],
                               {spec.level.task, *spec.removed.tasks})
    still_open = [i for i in every if _open_at(i, done.get(i.id, []), spec, at)]
    late = _overdue_ids(session, spec, [i.id for i in still_open], at)
    level = {i.id: records.latest_value(done.get(i.id, []), spec.level.task, spec.level.field, by=at)
             for i in still_open}
    counts, overdue = Counter(level.values()), Counter(level[i] for i in late)
    removed = [records.first(cs, spec.removed) for cs in done.values()]
    return {"process": spec.process, "as_at": at.astimezone(UTC).isoformat(),
            "registered": sum(1 for i in every if window.contains(i.started_at)),
            "removed": sum(1 for c in removed if c is not None and window.contains(c.at)),
            "open": len(still_open), "overdue": len(late),
            "by_level": _levels(counts, overdue, records.option_labels(session, spec.level.option))}


def _group(session: Session, group: Field, found: list[Instance], done: dict) -> list[dict]:
    labels = records.option_labels(session, group.option)
    counts = Counter(records.latest_value(done.get(i.id, []), group.task, group.field) for i in found)
    keys = [k for k in labels if counts.get(k)] + sorted(k for k in counts if k is not None and k not in labels)
    if counts.get(None):
        keys.append(None)
    return [{**records.labelled(k, labels), "accidents": counts[k]} for k in keys]


def accidents(session: Session, spec: Accidents, window: Window) -> dict:
    found = records.instances(session, spec.process, window)
    done = records.completions(session, [i.id for i in found], {g.task for g in spec.groups.values()})
    return {"process": spec.process, "registered": len(found),
            **{f"by_{name}": _group(session, group, found, done) for name, group in spec.groups.items()}}
