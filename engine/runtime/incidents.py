"""Incidents: a step that failed where no person waited for the answer halts its own instance.

A timer's step (after the worker's last attempt, engine/runtime/timers.py) or a message's step in
the receiver (engine/runtime/messaging.py) that fails opens an incident: the instance's status
becomes `incident`, an `incident` row keeps the element, the message, when, the attempts and what a
retry runs again (`step`, JSON), and an `incident` event goes into the instance's trail. Nothing of
the failed step is saved: the instance stays as it was before it. Its open tasks stay in the inbox,
but no command advances it (`loading.require_running` answers 409 `halted`) until an administrator
retries the step or cancels the instance (engine/runtime/resolving.py).

`step` is one of
  {"step": "timers_due"}                                       fire what is due
  {"step": "message", "name", "payload", "from_instance"}      deliver the message again
  {"step": "started", "data", "business_key", "via_message"}   start the instance (a message-started
                                                               instance whose first step failed)

A failure of a command a person gives (start, complete, ...) is not an incident: that person gets
the error (422) and nothing is saved.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from engine.audit.chain import append, forget_heads, instance_chain
from engine.clock import iso
from engine.errors import Unavailable
from engine.process import failures
from engine.store.models import Incident, Instance, ProcessVersion, Timer

HALTED = "incident"  # the instance status while an incident is open
LIVE = ("running", HALTED)  # statuses of an instance that has not ended
OPEN, RESOLVED = "open", "resolved"
NOT_THE_INSTANCE = (Unavailable, OperationalError, InterfaceError)  # the database itself: the command fails


def isolated(session: Session, fn: Callable[[], object]) -> BaseException | None:
    """Run `fn` inside a SAVEPOINT. On any failure only what `fn` did is rolled back and the exception
    is returned, so that it can become the incident of the instance `fn` worked on while the command
    around it (the sender's, the worker's) goes on. A lost or locked database is raised: that is no
    instance's fault, and the whole command fails as before."""
    try:
        with session.begin_nested():
            fn()
    except NOT_THE_INSTANCE:
        raise
    except Exception as exc:  # any failure of one instance's step stays with that instance
        forget_heads(session)  # the rolled-back events moved the chain heads this session remembers
        return exc
    return None


def locate(session: Session, inst: Instance, exc: BaseException, wf=None,  # noqa: ANN001 - a BpmnWorkflow
           fallback: str | None = None) -> tuple[str, str | None]:
    """(message, element) of a failure of this instance's step."""
    names = element_names(session, inst.process_version_id)
    return failures.describe(exc), failures.failed_element(exc, set(names), wf, fallback)


def element_names(session: Session, version_id: int) -> dict[str, dict[str, str]]:
    from engine.runtime.queries import element_names as names_of

    pv = session.get(ProcessVersion, version_id)
    return names_of(pv) if pv is not None else {}


def open_incident(session: Session, inst: Instance, kind: str, step: dict, at: datetime, message: str,
                  element: str | None, attempts: int = 1, event: dict | None = None) -> Incident:
    """Halt the instance with a new open incident and record it in the instance's trail."""
    name = element_names(session, inst.process_version_id).get(element or "", {}).get("zh")
    row = Incident(instance_id=inst.id, process_key=inst.process_key, kind=kind, element=element,
                   element_name=name, message=message[:2000], step=_dumps(step), raised_at=at,
                   attempts=attempts, status=OPEN)
    session.add(row)
    session.flush()
    inst.status = HALTED
    record(session, inst, row, at, event)
    return row


def update(session: Session, inst: Instance, row: Incident, message: str, element: str | None) -> None:
    """A retry failed again: the incident shows the new error (and where, when that is known)."""
    row.message = message[:2000]
    if element and element != row.element:
        row.element = element
        row.element_name = element_names(session, inst.process_version_id).get(element, {}).get("zh")


def record(session: Session, inst: Instance, row: Incident, at: datetime, extra: dict | None = None,
           actor: str = "system") -> None:
    """The `incident` event: the incident as it stands (raised, or a retry that failed again)."""
    payload = {"incident_id": row.id, "kind": row.kind, "element": row.element, "message": row.message,
               "attempts": row.attempts, **(extra or {})}
    append(session, instance_chain(inst.id), iso(at), actor, "incident", row.element, payload, inst.id)


def open_incidents(session: Session, instance_id: int) -> list[Incident]:
    return list(session.scalars(select(Incident).where(Incident.instance_id == instance_id, Incident.status == OPEN)
                                .order_by(Incident.id)))


def resolve(rows: list[Incident], actor: str, at: datetime, resolution: str, reason: str | None = None) -> None:
    for row in rows:
        row.status, row.resolved_by, row.resolved_at = RESOLVED, actor, at
        row.resolution, row.reason = resolution, reason or None


def fresh_attempts(session: Session, instance_id: int) -> None:
    """After an administrator's successful retry the worker counts a timer's attempts afresh."""
    for timer in session.scalars(select(Timer).where(Timer.instance_id == instance_id, Timer.status == "waiting")):
        timer.attempts, timer.next_attempt_at, timer.last_error = 0, None, None


def never_started(inst: Instance) -> bool:
    """A message-started instance whose first step failed has no workflow state yet."""
    return inst.rev == 0


def _dumps(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# -- reading ---------------------------------------------------------------------------------------
def incident_dict(session: Session, row: Incident, inst: Instance, cache: dict | None = None) -> dict:
    cache = {} if cache is None else cache
    if inst.process_version_id not in cache:
        cache[inst.process_version_id] = element_names(session, inst.process_version_id)
    names = cache[inst.process_version_id].get(row.element or "")
    name = names or ({"zh": row.element_name, "en": row.element_name} if row.element_name else None)
    return {"id": row.id, "instance_id": row.instance_id, "process_key": row.process_key,
            "business_key": inst.business_key, "instance_status": inst.status, "kind": row.kind,
            "element": row.element, "element_name": name, "message": row.message,
            "raised_at": row.raised_at.isoformat(), "attempts": row.attempts, "status": row.status,
            "resolved_by": row.resolved_by,
            "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
            "resolution": row.resolution, "reason": row.reason}


STATUSES = (OPEN, RESOLVED)
MAX_LISTED = 500  # the newest first; an operator with more open incidents has a bigger problem than paging


def listing(session: Session, status: str | None = OPEN, process: str | None = None) -> list[dict]:
    """Incidents, newest first: the open ones (default), the resolved ones, or all (status None)."""
    query = select(Incident, Instance).join(Instance, Instance.id == Incident.instance_id)
    if status is not None:
        query = query.where(Incident.status == status)
    if process:
        query = query.where(Incident.process_key == process)
    rows = session.execute(query.order_by(Incident.id.desc()).limit(MAX_LISTED)).tuples()
    cache: dict = {}
    return [incident_dict(session, row, inst, cache) for row, inst in rows]


def open_counts(session: Session) -> dict[str, int]:
    """{process key: open incidents} (for /metrics)."""
    return dict(session.execute(select(Incident.process_key, func.count()).where(Incident.status == OPEN)
                                .group_by(Incident.process_key)).tuples().all())
