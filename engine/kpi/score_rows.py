"""The counted satisfaction scores, one `kpi_score` row each (migration 0033), kept by the steps.

A score counts by the page's own rule (measures.recorded: per case the latest, or every response of a survey;
attributed to whoever completed the case's last `attributed_to` task). What an instance's rows are can change
only when a step completes one of its source's score tasks (a new, maybe replacing, score) or attribution tasks (a
later resolve re-attributes it), and when a version migration may have reset its tasks
(engine/runtime/migration.py). So the instance's rows are computed again then, by that rule restricted to the one
instance; steps of processes without a satisfaction source, or that complete none of those tasks, never pay a
statement here. Database triggers count the rows per company day (engine/kpi/score_days.py).

Trail and task rows of a scored process written through the ORM's unit of work rather than by a step (tests and
tools that add AuditEvent and Task objects; no command does) are followed too, as engine/kpi/case_rows.py follows
them: their instances get their rows again before the commit. Rows written around the ORM (a restore, a bulk load
of the trail) are not: `rebuild` computes every row again (migration 0033, `salesflow kpi rebuild`, the benches
after their bulk loads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, delete, event, insert, inspect, text
from sqlalchemy.orm import Session, UOWTransaction

from engine.kpi import definitions, measures
from engine.store.models import AuditEvent, Instance, KpiScore, Task
from engine.store.types import UTCDateTime

BATCH = 5000  # rows per INSERT while rebuilding


@lru_cache(maxsize=1)
def tracked() -> dict[str, tuple[definitions.SatisfactionSource, frozenset[str]]]:
    """process -> its satisfaction source and the tasks whose completion may change its score rows."""
    return {s.process: (s, frozenset((*s.tasks, *s.attributed_to))) for s in definitions.load().satisfaction}


def after_step(session: Session, instance_id: int, process: str, closed: Iterable[Task]) -> None:
    """The instance's score rows again when the step completed one of its source's score or attribution tasks.
    Decided by Python alone: any other step sends nothing."""
    found = tracked().get(process)
    if found is None:
        return
    if any(row.status == "completed" and row.bpmn_id in found[1] for row in closed):
        refresh(session, instance_id, process)


def _rows(event: measures.Recorded, first: int) -> list[dict]:
    return [{"instance_id": event.instance_id, "seq": first + k, "process": event.process, "at": event.at,
             "role": event.role, "person": event.person, "value": value} for k, value in enumerate(event.values)]


# the rows written over the instance's own (one statement, no DELETE): the trail is append-only, so its counted
# scores only grow (a survey) or are replaced in place (the latest per case: seq 0) and are re-attributed
_UPSERT = text(
    "INSERT INTO kpi_score (instance_id, seq, process, at, role, person, value) "
    "VALUES (:instance_id, :seq, :process, :at, :role, :person, :value) ON CONFLICT (instance_id, seq) DO UPDATE "
    "SET process = excluded.process, at = excluded.at, role = excluded.role, person = excluded.person, "
    "value = excluded.value").bindparams(bindparam("at", type_=UTCDateTime()))
_HAS_TABLE: WeakKeyDictionary = WeakKeyDictionary()  # database engine -> True once kpi_score was seen there


def _has_table(session: Session) -> bool:
    """Whether the database has kpi_score (not below migration 0033): asked of the schema until it has, then known
    for the database engine's life (a step that writes scores pays no statement for it)."""
    bind = session.get_bind()
    if not _HAS_TABLE.get(bind):
        _HAS_TABLE[bind] = inspect(session.connection()).has_table(KpiScore.__tablename__)
    return _HAS_TABLE[bind]


def refresh(session: Session, instance_id: int, process: str) -> None:
    """The instance's score rows as its trail and tasks stand now, in the caller's transaction (the step's own)."""
    found = tracked().get(process)
    if found is None:
        return
    session.info.setdefault(_DONE, set()).add(instance_id)
    session.flush()  # the rule reads through the connection: the step's trail and tasks must be there
    source = found[0]
    events = measures.recorded(session, source, lambda q: q.where(Instance.id == instance_id))
    if not events or not _has_table(session):  # the trail is append-only: no score now, none ever (no row to drop)
        return
    rows: list[dict] = []
    for found_event in events:
        rows.extend(_rows(found_event, len(rows)))
    if source.latest_per_case and source.list_field:  # a later list may be shorter than the one it replaces
        table = KpiScore.__table__
        session.execute(delete(table).where(table.c.instance_id == instance_id, table.c.seq >= len(rows)))
    session.execute(_UPSERT, rows)


def rebuild(session: Session, progress: Callable[[str], None] | None = None) -> int:
    """Every score row again, from the trail and tasks (in the caller's transaction); returns how many were
    written. `progress` is told of each source."""
    session.execute(delete(KpiScore.__table__))
    written = 0
    for source, _tasks in tracked().values():
        batch: list[dict] = []
        last, seq = None, 0
        for found in measures.recorded(session, source, lambda q: q):
            seq = seq if found.instance_id == last else 0
            batch.extend(_rows(found, seq))
            last, seq = found.instance_id, seq + len(found.values)
            if len(batch) >= BATCH:
                written += _insert(session, batch)
        written += _insert(session, batch)
        if progress is not None:
            progress(f"kpi_score {source.process}: done ({written:,} rows)")
    return written


def _insert(session: Session, batch: list[dict]) -> int:
    if batch:
        session.connection().execute(insert(KpiScore.__table__), batch)
    count = len(batch)
    batch.clear()
    return count


_PENDING, _DONE = "kpi_score_pending", "kpi_score_refreshed"  # session.info keys: instances to refresh, refreshed


@lru_cache(maxsize=1)
def _scored_tasks() -> frozenset[str]:
    """Every task named by a satisfaction source (its scores or its attribution), of any process."""
    return frozenset(task for _source, tasks in tracked().values() for task in tasks)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush: UOWTransaction) -> None:
    """Instances whose score rows the flush may have changed through the ORM: a `completed` event of a source's task
    added (its process is looked up at the commit), a task of a source completed."""
    for obj in (*session.new, *session.dirty):
        if _may_score(session, obj):
            session.info.setdefault(_PENDING, set()).add(obj.instance_id)


def _may_score(session: Session, obj: object) -> bool:
    if isinstance(obj, AuditEvent):
        return (obj in session.new and obj.kind == "completed" and obj.instance_id is not None
                and obj.task in _scored_tasks())
    return (isinstance(obj, Task) and obj.status == "completed" and obj.process_key in tracked()
            and obj.bpmn_id in tracked()[obj.process_key][1])


@event.listens_for(Session, "before_commit")
def _follow_orm_writes(session: Session) -> None:
    if not session.info.get(_PENDING):
        return
    session.flush()
    while pending := session.info.pop(_PENDING, None):
        for instance_id in sorted(pending - session.info.get(_DONE, set())):
            instance = session.get(Instance, instance_id)  # a step's own instance: from the identity map
            if instance is not None:
                refresh(session, instance_id, instance.process_key)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_DONE, None)
