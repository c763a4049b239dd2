"""Reading deployed versions: the list per process with its instance counts, a version's files, its diff."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.definitions.current import active_before
from engine.definitions.diff import VersionContent
from engine.definitions.diff import version_diff as diff_versions
from engine.errors import NotFound
from engine.store.models import DefinitionFile, Form, Instance, ProcessVersion


def _instance_counts(session: Session, key: str) -> dict[int, tuple[int, int]]:
    """Process version id -> (running, total); an instance halted by an incident counts as running (it has
    not ended, and migration moves it)."""
    rows = session.execute(select(Instance.process_version_id, Instance.status, func.count())
                           .where(Instance.process_key == key)
                           .group_by(Instance.process_version_id, Instance.status))
    counts: dict[int, tuple[int, int]] = {}
    for pv_id, status, n in rows:
        running, total = counts.get(pv_id, (0, 0))
        counts[pv_id] = (running + (n if status in ("running", "incident") else 0), total + n)
    return counts


def versions(session: Session, key: str) -> list[dict]:
    rows = list(session.scalars(select(ProcessVersion).where(ProcessVersion.key == key)
                                .order_by(ProcessVersion.version.desc())))
    if not rows:
        raise NotFound(f"no process {key}")
    counts = _instance_counts(session, key)
    return [{"version": pv.version, "sha256": pv.sha256, "deployed_by": pv.deployed_by,
             "deployed_at": pv.deployed_at.isoformat(), "note": pv.note,
             "running": counts.get(pv.id, (0, 0))[0], "total": counts.get(pv.id, (0, 0))[1],
             "status": pv.status, "decided_by": pv.decided_by,
             "decided_at": pv.decided_at.isoformat() if pv.decided_at else None,
             "request_id": pv.change_request_id, "emergency_reason": pv.emergency_reason} for pv in rows]


def _version(session: Session, key: str, version: int) -> ProcessVersion:
    pv = session.scalar(select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.version == version))
    if pv is None:
        raise NotFound(f"no version {version} of process {key}")
    return pv


def _files(session: Session, pv: ProcessVersion) -> list[DefinitionFile]:
    return list(session.scalars(select(DefinitionFile).where(DefinitionFile.process_version_id == pv.id)
                                .order_by(DefinitionFile.kind, DefinitionFile.name)))


def version_files(session: Session, key: str, version: int) -> list[dict]:
    """Every file the version was built from, as deployed: enough to open it in the editor and deploy again."""
    files = _files(session, _version(session, key, version))
    return [{"name": f.name, "kind": f.kind, "content": f.content} for f in files]


def content(session: Session, pv: ProcessVersion) -> VersionContent:
    """A stored version as the diff reads it."""
    forms = {f.form_key: json.loads(f.definition)
             for f in session.scalars(select(Form).where(Form.process_version_id == pv.id))}
    bpmn = [(f.name, f.content) for f in _files(session, pv) if f.kind == "bpmn"]
    return VersionContent(pv.version, pv.key, bpmn, forms)


def version_diff(session: Session, key: str, version: int) -> dict:
    """What this version changed against the one before it (elements added, removed, renamed; forms)."""
    current = _version(session, key, version)
    previous = active_before(session, key, version)  # a draft shows what its approval would change
    return diff_versions(content(session, previous) if previous else None, content(session, current))
