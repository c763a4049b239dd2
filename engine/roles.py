"""The role catalogue (processes/roles.yaml) and its copy in the database."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import vocabulary
from engine.config import roles_file
from engine.store.models import Role


@dataclass(frozen=True)
class RoleDef:
    id: str
    zh: str
    en: str
    system: bool = False
    manages: list[str] = field(default_factory=list)
    front_line: bool = False  # granting it needs a passed safety training (engine/runtime/training_gate.py)


def load_catalogue(path: Path | None = None) -> dict[str, RoleDef]:
    return {rid: RoleDef(rid, spec["zh"], spec["en"], bool(spec.get("system")), list(spec.get("manages") or []),
                         bool(spec.get("front_line")))
            for rid, spec in vocabulary.entries(path or roles_file(), "roles", "the role catalogue").items()}


def lane_roles(catalogue: dict[str, RoleDef]) -> set[str]:
    return {r.id for r in catalogue.values() if not r.system}


def front_line_roles(catalogue: dict[str, RoleDef]) -> dict[str, RoleDef]:
    return {r.id: r for r in catalogue.values() if r.front_line}


def sync_roles(session: Session, catalogue: dict[str, RoleDef]) -> None:
    """Insert or update every role of the catalogue (roles are never deleted: users may hold them)."""
    existing = {r.id: r for r in session.scalars(select(Role))}
    for rd in catalogue.values():
        row = existing.get(rd.id) or Role(id=rd.id)
        row.name_zh, row.name_en, row.system, row.manages = rd.zh, rd.en, rd.system, json.dumps(rd.manages)
        session.add(row)
