"""What a rule change changes, in people's terms: per process its name, the new version, the version in
force it is compared with, the steps added, removed and renamed by their names, the forms changed by
their titles. Never an element id or a form key (the general manager decides on it)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.current import active_before
from engine.definitions.diff import process_elements
from engine.definitions.versions import version_diff
from engine.store.models import DefinitionFile, Form, ProcessVersion


def _names(session: Session, pv: ProcessVersion | None) -> dict[str, str]:
    if pv is None:
        return {}
    files = session.scalars(select(DefinitionFile).where(DefinitionFile.process_version_id == pv.id,
                                                         DefinitionFile.kind == "bpmn"))
    return process_elements(pv.key, [(f.name, f.content) for f in files])


def _titles(session: Session, *versions: ProcessVersion | None) -> dict[str, str]:
    titles: dict[str, str] = {}
    for pv in versions:
        if pv is None:
            continue
        for row in session.scalars(select(Form).where(Form.process_version_id == pv.id)):
            title = json.loads(row.definition).get("title") or {}
            titles.setdefault(row.form_key, title.get("zh") or title.get("en") or "")
    return titles


def _join(names: list[str]) -> str:
    """Named elements by name; the unnamed ones (plain flows) only counted."""
    named = [n for n in names if n]
    unnamed = len(names) - len(named)
    return "、".join(named) + (f"（+{unnamed}）" if unnamed else "")


def summary_row(session: Session, pv: ProcessVersion) -> dict:
    """One row of the rule change's table (forms/rule_change_request.yaml, `changes`)."""
    diff = version_diff(session, pv.key, pv.version)
    previous = active_before(session, pv.key, pv.version)
    old, new = _names(session, previous), _names(session, pv)
    titles = _titles(session, pv, previous)
    forms = [titles.get(k, "") for k in (*diff["forms_added"], *diff["forms_removed"], *diff["forms_changed"])]
    return {"process": pv.name, "version": pv.version,
            "against": str(previous.version) if previous is not None else "",
            "added": _join([new.get(i, "") for i in diff["added"]]),
            "removed": _join([old.get(i, "") for i in diff["removed"]]),
            "renamed": _join([f"{r['from'] or '…'} → {r['to'] or '…'}" for r in diff["renamed"]]),
            "forms": _join(forms)}
