"""How an instance ended: the outcome vocabulary (processes/outcomes.yaml) and the outcome of a workflow.

An end event declares its outcome (Camunda property `outcome`); when the instance completes, its
outcome is the one declared by the last end event of the top level it reached. A non-interrupting
branch (a reminder) may end after the case itself ended; its end event declares nothing, so it
never overrides the case's outcome. Cancelling sets `cancelled`, or `withdrawn` when the requester
withdrew their own request.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from engine import vocabulary
from engine.config import outcomes_file

CANCELLED, WITHDRAWN, COMPLETED = "cancelled", "withdrawn", "completed"
KINDS = ("positive", "negative", "neutral")


@dataclass(frozen=True)
class OutcomeDef:
    id: str
    zh: str
    en: str
    kind: str  # positive | negative | neutral
    engine: bool = False  # set by the engine (cancel, withdraw), never declared on an end event


def load(path: Path | None = None) -> dict[str, OutcomeDef]:
    return _load(path or outcomes_file())


@functools.lru_cache(maxsize=8)
def _load(path: Path) -> dict[str, OutcomeDef]:
    found = {}
    for oid, spec in vocabulary.entries(path, "outcomes", "the outcome vocabulary").items():
        if spec.get("kind") not in KINDS:
            raise vocabulary.problem(path, f"outcome {oid} needs a kind ({', '.join(KINDS)})")
        found[oid] = OutcomeDef(oid, spec["zh"], spec["en"], spec["kind"], bool(spec.get("engine")))
    return found


def declarable() -> frozenset[str]:
    """The outcomes an end event may declare."""
    return frozenset(o.id for o in load().values() if not o.engine)


def labels() -> dict[str, dict[str, str]]:
    """{outcome: {"zh", "en"}} for the pages and the API."""
    return {o.id: {"zh": o.zh, "en": o.en} for o in load().values()}


def of_kind(kind: str) -> frozenset[str]:
    return frozenset(o.id for o in load().values() if o.kind == kind)
