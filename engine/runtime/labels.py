"""Read side of the names people see: a version's labels (cached: versions never change), an
instance's data labels, the versions each event of a trail ran on, and users' display names."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions import labels as version_labels
from engine.definitions.labels import VersionLabels
from engine.definitions.model import stored_models
from engine.lru import Lru
from engine.store.models import DefinitionFile, Form, Instance, ProcessVersion, Task, User

RoleNames = dict[str, dict[str, str]] | Callable[[], dict[str, dict[str, str]]]


class LabelCache:
    """VersionLabels by version id, the most recently used kept (one per Engine: ids are per database)."""

    def __init__(self, size: int = 128) -> None:
        self._items: Lru[VersionLabels] = Lru(size)

    def get(self, session: Session, version_id: int, roles: RoleNames) -> VersionLabels:
        """`roles`: the role names a version's labels are built with, or a function giving them, called only
        when they are built (the catalogue's names cost a tenth of an instance view when built for each)."""
        return self._items.get(version_id, lambda: _load(session, version_id, roles if isinstance(roles, dict)
                                                         else roles()))


def _load(session: Session, version_id: int, roles: dict[str, dict[str, str]]) -> VersionLabels:
    pv = session.get(ProcessVersion, version_id)
    models = stored_models(pv.model_json)
    files = session.execute(select(DefinitionFile.name, DefinitionFile.kind, DefinitionFile.content)
                            .where(DefinitionFile.process_version_id == version_id)).all()
    forms = {key: json.loads(definition) for key, definition in session.execute(
        select(Form.form_key, Form.definition).where(Form.process_version_id == version_id))}
    return version_labels.build(models, pv.key, {n: c for n, k, c in files if k == "bpmn"},
                                {n: c for n, k, c in files if k == "dmn"}, forms, roles)


def instance_fields(session: Session, inst: Instance, labels: VersionLabels,
                    tasks: list | None = None) -> dict[str, dict]:
    """{field: ui} for an instance's data, in the order the forms ask. A field that several steps
    write (an approval's comment) takes the label of the last finished step that has it: that step
    wrote the value shown. `tasks`: the instance's task rows if read already (queries.instance_task_rows)."""
    fields = dict(labels.fields)
    rows = None if tasks is None else _completed_in_order(tasks)
    if rows is None:
        rows = session.scalars(select(Task).where(Task.instance_id == inst.id, Task.status == "completed")
                               .order_by(Task.completed_at, Task.id))
    for row in rows:
        fields.update(labels.forms.get(row.form_key or "", {}))
    return fields


def _completed_in_order(tasks: list) -> list | None:
    """The completed rows in the order instance_fields reads them (completed_at, id); None when one has no
    time (where the databases sort NULLs differs: the query decides)."""
    done = [t for t in tasks if t.status == "completed"]
    if any(t.completed_at is None for t in done):
        return None
    return sorted(done, key=lambda t: (t.completed_at, t.id))


def event_versions(events: list[dict], current: int) -> list[int]:
    """The version number each event ran on: the one the instance started on, then each migration's
    target from the event after it (the `migrated` event itself still belongs to the old version).
    `current` is the instance's version now, for a trail that names none."""
    migrations = [e["payload"] for e in events if e["kind"] == "migrated" and e["payload"].get("from_version")]
    started = next((e["payload"].get("version") for e in events if e["kind"] == "started"), None)
    version = started or (migrations[0]["from_version"] if migrations else current)
    result = []
    for event in events:
        result.append(version)
        if event["kind"] == "migrated":
            version = event["payload"].get("to_version") or version
    return result


def version_number(session: Session, inst: Instance) -> int:
    return session.get(ProcessVersion, inst.process_version_id).version


def versions_by_number(session: Session, cache: LabelCache, key: str, numbers: set[int],
                       roles: RoleNames) -> dict[int, VersionLabels]:
    rows = session.execute(select(ProcessVersion.version, ProcessVersion.id)
                           .where(ProcessVersion.key == key, ProcessVersion.version.in_(numbers))).all()
    return {number: cache.get(session, version_id, roles) for number, version_id in rows}


def display_names(session: Session) -> dict[str, str]:
    """{login id: display name} of every account (people who left stay named in old trails)."""
    return {username: name or username for username, name in session.execute(select(User.username, User.display_name))}
