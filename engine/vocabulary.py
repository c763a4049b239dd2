"""Reading a vocabulary file of the repository (processes/roles.yaml, processes/outcomes.yaml): a mapping
of ids to entries, each with a Chinese and an English name; a file that cannot be read, or an entry without
both names, is a definition problem naming the file."""

from __future__ import annotations

import functools
from copy import deepcopy
from pathlib import Path

import yaml

from engine.errors import DefinitionError, Problem

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # PyYAML's wheels bundle libyaml


def entries(path: Path, section: str, what: str) -> dict[str, dict]:
    """{id: entry} of `section`; `what` names the file's content in the message ("the role catalogue")."""
    try:
        stat = path.stat()
        raw = deepcopy(_parsed(path, stat.st_mtime_ns, stat.st_size)) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError([Problem(str(path), f"cannot read {what}: {exc}")]) from None
    found = raw.get(section) if isinstance(raw, dict) else None
    if not isinstance(found, dict | None):
        raise DefinitionError([Problem(str(path), f"{what}: `{section}` must map ids to entries")])
    for eid, spec in (found or {}).items():
        if not isinstance(spec, dict) or not {"zh", "en"} <= set(spec):
            raise DefinitionError([Problem(str(path), f"{what}: {eid} needs zh and en names")])
    return dict(found or {})


@functools.lru_cache(maxsize=16)
def _parsed(path: Path, _mtime_ns: int, _size: int) -> object:
    """The file parsed once per version of it: every page and inbox reads the role catalogue."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)


def problem(path: Path, message: str) -> DefinitionError:
    return DefinitionError([Problem(str(path), message)])
