"""What issue 14's figures read, in one place: task completions with their data (the audit trail's
`completed` events), the labels of a form field's options, and the instant "as at" which open cases count.

Read-only; every source is written by the engine in the command's own transaction, so they agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, defer

from engine.kpi.definitions import Point
from engine.kpi.filters import Window
from engine.kpi.sections import Option
from engine.store.models import AuditEvent, Form, Instance, ProcessVersion

Text = dict[str, str]
# a case not yet graded (a hazard before its verification, an accident before its investigation)
NOT_YET: Text = {"zh": "尚未确定", "en": "Not decided yet"}


@dataclass(frozen=True)
class Completion:
    """One completion of a user task: when (UTC), by whom, with which data."""

    instance_id: int
    task: str
    at: datetime
    actor: str
    data: dict

    def reaches(self, point: Point) -> bool:
        return self.task in point.tasks and all(self.data.get(k) == v for k, v in point.data.items())


def as_at(window: Window, now: datetime) -> datetime:
    """The instant open cases are counted at: the end of the range, or now if that is earlier or there is none."""
    return now if window.end is None or window.end > now else window.end


def instances(session: Session, process: str, window: Window | None = None) -> list[Instance]:
    """The process's instances, oldest first; with a window, those registered in it."""
    # ordered here, not by the query: asked for the ids' order, SQLite read the whole table in it rather than sort
    # the rows of one range of ix_instance_process_started (its statistics give every process a quarter of them)
    return sorted(session.scalars(instances_query(process, window)), key=lambda inst: inst.id)


def instances_query(process: str, window: Window | None = None) -> Select:
    """`instances`' query, in no order: one range of ix_instance_process_started (migration 0029). Without the saved
    workflow state (tens of KB an instance, read by no figure: touching it raises rather than loading it)."""
    query = select(Instance).options(defer(Instance.state_json, raiseload=True)).where(Instance.process_key == process)
    if window is not None:  # by registration only: the process is this function's own
        query = window.narrow(query, Instance.started_at)
    return query


def instance_data(inst: Instance) -> dict:
    """The instance's data as its last step left it."""
    data = json.loads(inst.data_json or "{}")
    return data if isinstance(data, dict) else {}


# ids asked per statement: a list of ids is one bound parameter each, and SQLite (32,766; 250,000 as Debian builds
# it) and PostgreSQL's protocol (65,535) refuse a statement with more; a busy year can hold more instances of a
# process than that
IDS_PER_STATEMENT = 10_000


def batches(ids: Iterable[int], size: int = IDS_PER_STATEMENT) -> Iterator[list[int]]:
    """`ids` in lists of at most `size`, for `IN` conditions."""
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def completions(session: Session, ids: Iterable[int], tasks: Iterable[str]) -> dict[int, list[Completion]]:
    """instance id -> the completions of these tasks, in the order they happened."""
    found: dict[int, list[Completion]] = {}
    tasks = list(tasks)
    for batch in batches(ids):  # an instance is in one batch only: its completions stay in order
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.kind == "completed", AuditEvent.task.in_(tasks), AuditEvent.instance_id.in_(batch))
            .order_by(AuditEvent.instance_id, AuditEvent.position))
        for event in events:
            data = json.loads(event.payload).get("data") or {}
            at = datetime.fromisoformat(event.at).astimezone(UTC)
            found.setdefault(event.instance_id, []).append(
                Completion(event.instance_id, event.task, at, event.actor, data))
    return found


def first(done: list[Completion], point: Point, by: datetime | None = None) -> Completion | None:
    """The first completion reaching the point (before `by`, if given)."""
    return next((c for c in done if c.reaches(point) and (by is None or c.at < by)), None)


def latest_value(done: list[Completion], task: str, field: str, by: datetime | None = None) -> object:
    """The value the task's latest completion (before `by`) recorded for the field; None when none did."""
    values = [c.data.get(field) for c in done if c.task == task and field in c.data and (by is None or c.at < by)]
    return values[-1] if values else None


def option_labels(session: Session, option: Option) -> dict[str, Text]:
    """value -> {zh, en} of the field's options in every deployed version of the form, the newest label winning:
    a value an older version offered keeps its label after a newer version dropped it. Ordered as the newest
    version lists them, then the older values."""
    newest_first = (select(Form.definition).join(ProcessVersion, ProcessVersion.id == Form.process_version_id)
                    .where(Form.form_key == option.form).order_by(ProcessVersion.deployed_at.desc(), Form.id.desc()))
    versions = session.scalars(newest_first)
    labels: dict[str, Text] = {}
    for definition in versions:
        for f in json.loads(definition).get("fields") or []:
            if isinstance(f, dict) and f.get("name") == option.field and isinstance(f.get("options"), dict):
                for value, text in f["options"].items():
                    if isinstance(text, dict):
                        labels.setdefault(str(value), dict(text))
    return labels


def labelled(key: object, labels: dict[str, Text]) -> dict:
    """A row's key with what people read for it: the option's label; none: "not decided yet". A value no version
    of the form offers cannot be submitted (the forms take only their options); should one be in the data
    anyway it is shown as recorded rather than silently dropped from the count."""
    if key is None:
        return {"key": None, "label": dict(NOT_YET)}
    text = str(key)
    return {"key": text, "label": dict(labels.get(text) or {"zh": text, "en": text})}
