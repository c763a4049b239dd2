"""The role catalogue (processes/roles.yaml) and its copy in the database."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
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
    manages: tuple[str, ...] = ()
    front_line: bool = False  # granting it needs a passed safety training (engine/runtime/training_gate.py)


def load_catalogue(path: Path | None = None) -> dict[str, RoleDef]:
    path = path or roles_file()
    try:
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = (0, -1)  # vocabulary.entries says what is wrong with the file
    return dict(_catalogue(path, *version))


@functools.lru_cache(maxsize=16)
def _catalogue(path: Path, _mtime_ns: int, _size: int) -> dict[str, RoleDef]:
    """Built once per version of the file: every page names roles (RoleDefs are frozen)."""
    return {rid: RoleDef(rid, spec["zh"], spec["en"], bool(spec.get("system")), tuple(spec.get("manages") or ()),
                         bool(spec.get("front_line")))
            for rid, spec in vocabulary.entries(path, "roles", "the role catalogue").items()}


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
