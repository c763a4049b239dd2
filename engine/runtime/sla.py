"""When an instance counts as SLA-breached, kept in its row by every step for the search (issue 17, target 6).

The definition (engine/runtime/search.py, docs/audit.md): an instance breached an SLA when a boundary SLA timer
fired on it (an `escalated` event in its trail), one of its tasks was completed after its due time, or one of
its open (ready) tasks is past its due time now. Two columns of `instance` hold it:

- `sla_late_at`: the earliest instant of what never goes back (NULL: none): the due time of each task completed
  after it, and just before each escalation (ESCALATION_LEAD);
- `sla_breach_at`: the earlier of `sla_late_at` and the due time of each open task (NULL: none).

Breached at `now` <=> `sla_breach_at < now` (`breached_by`): an open task is late once now is past its due
time (strictly, as `due_at < now` always said); a late completion's due time is before its completion, so
before any later now; an escalation counts from the instant it is recorded, hence the microsecond before it.
`sla_late_at` is what lets a step keep `sla_breach_at` from the rows it holds (its open tasks, the ones it
closes, its events) without reading the instance's finished tasks or its trail: no statement of its own, the
values ride in the instance row's UPDATE (INSERT for a start).

Every change of task rows or escalations goes through a step (engine/runtime/step.py: commands, timers,
messages, cancelling, incident retries); claims and reassignments change no due time nor status. A migration
of an instance may reset a finished task to ready under its id (step._write_fresh), dropping its late
completion from the definition: it recomputes the columns from the rows (`refresh`), as migration 0019
filled them and bench/inbox_latency.py fills its bulk-loaded rows (`FILL`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, text
from sqlalchemy.orm import Session

from engine.store.models import Instance, Task

ESCALATION_LEAD = timedelta(microseconds=1)  # the columns' resolution on both databases


def breached_by(now: datetime) -> ColumnElement[bool]:
    """The search's condition: the instance is SLA-breached at `now` (NULL, not breached, when it never was)."""
    return Instance.sla_breach_at < now


def is_breached(breach_at: datetime | None, now: datetime) -> bool:
    return breach_at is not None and breach_at < now


def settle(inst: Instance, escalated_at: datetime | None, closed: Iterable[Task],
           open_dues: Iterable[datetime | None]) -> None:
    """Set the instance's columns after a step: `escalated_at` when the step escalated (its time), the task
    rows it closed (completed or cancelled), the due times of every task open after it. Assigned only when
    they change, so that a step that changes neither writes nothing more."""
    lasting = [t for t in (inst.sla_late_at, escalated_at and escalated_at - ESCALATION_LEAD) if t is not None]
    lasting += [r.due_at for r in closed if r.status == "completed" and r.due_at is not None
                and r.completed_at is not None and r.completed_at > r.due_at]
    late = min(lasting, default=None)
    breach = min([*([late] if late is not None else []), *(d for d in open_dues if d is not None)], default=None)
    if inst.sla_late_at != late:
        inst.sla_late_at = late
    if inst.sla_breach_at != breach:
        inst.sla_breach_at = breach


def _escalation_at(sqlite: bool) -> str:
    """An escalation event's `at` (engine.clock.iso: YYYY-MM-DDTHH:MM:SS.ffffff+00:00) less ESCALATION_LEAD, as
    the database keeps a UTC time: a timestamp on PostgreSQL, SQLAlchemy's text form on SQLite
    (YYYY-MM-DD HH:MM:SS.ffffff, which sorts as time), a second back when the microseconds are 0."""
    if not sqlite:
        return "(CAST(at AS timestamptz) AT TIME ZONE 'UTC' - interval '1 microsecond')"
    micro = "CAST(substr(at, 21, 6) AS INTEGER)"
    return (f"(strftime('%Y-%m-%d %H:%M:%S', substr(at, 1, 19), CASE WHEN {micro} = 0 THEN '-1 seconds' "
            f"ELSE '+0 seconds' END) || '.' || printf('%06d', ({micro} + 999999) % 1000000))")


def _fill(sqlite: bool, where: str = "") -> str:
    """One UPDATE that sets both columns of every instance with a breach (`where`: a condition on
    instance_id), from the rows of each kind of breach."""
    return (
        "UPDATE instance SET sla_late_at = b.late, sla_breach_at = b.breach FROM ("
        "SELECT instance_id, min(CASE WHEN lasting = 1 THEN at END) AS late, min(at) AS breach FROM ("
        f"SELECT instance_id, {_escalation_at(sqlite)} AS at, 1 AS lasting FROM audit_event "
        f"WHERE kind = 'escalated' AND instance_id IS NOT NULL{where} "
        "UNION ALL SELECT instance_id, due_at, 1 FROM task "
        f"WHERE status = 'completed' AND completed_at > due_at{where} "
        f"UNION ALL SELECT instance_id, due_at, 0 FROM task WHERE status = 'ready' AND due_at IS NOT NULL{where}"
        ") AS breaches GROUP BY instance_id) AS b WHERE instance.id = b.instance_id")


def fill_sql(sqlite: bool) -> str:
    """The fill of every instance whose columns are NULL (a new column's, a bulk load's)."""
    return _fill(sqlite)


def refresh(session: Session, instance_id: int) -> None:
    """Compute the instance's columns again from its rows (after writes a step cannot follow), in the database;
    the row's object forgets its values. Its changed rows go out first."""
    session.flush()
    sqlite = session.get_bind().dialect.name == "sqlite"
    params = {"iid": instance_id}
    session.execute(text("UPDATE instance SET sla_late_at = NULL, sla_breach_at = NULL WHERE id = :iid"), params)
    session.execute(text(_fill(sqlite, " AND instance_id = :iid")), params)
    inst = session.get(Instance, instance_id)
    if inst is not None:
        session.expire(inst, ["sla_late_at", "sla_breach_at"])
