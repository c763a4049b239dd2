"""Parsed specs per deployed version, restored once and shared read-only."""

from __future__ import annotations

import json
from dataclasses import dataclass

from engine.definitions.model import ProcessModel, stored_models
from engine.definitions.serializer import SERIALIZER
from engine.lru import Lru


@dataclass(frozen=True)
class SpecSet:
    version_id: int
    spec: object
    subprocess_specs: dict
    models: dict[str, ProcessModel]

    def element(self, process_id: str, bpmn_id: str):  # noqa: ANN201 - Element | None
        model = self.models.get(process_id)
        return model.elements.get(bpmn_id) if model else None


def restore(version_id: int, spec_json: str, model_json: str) -> SpecSet:
    raw = json.loads(spec_json)
    spec = SERIALIZER.from_dict(raw["spec"])
    subs = {k: SERIALIZER.from_dict(v) for k, v in raw["subprocess_specs"].items()}
    return SpecSet(version_id, spec, subs, stored_models(model_json))


class SpecCache:
    """SpecSets by version id, the most recently used kept; versions are immutable, so entries never go stale."""

    def __init__(self, size: int = 64) -> None:
        self._items: Lru[SpecSet] = Lru(size)
        self._forms: Lru[object] = Lru(size * 16)  # (version id, form key): FormDef or None

    def get(self, version_id: int, load) -> SpecSet:  # noqa: ANN001 - load() -> (spec_json, model_json)
        return self._items.get(version_id, lambda: restore(version_id, *load()))

    def form(self, version_id: int, form_key: str, load):  # noqa: ANN001, ANN201 - load() -> FormDef | None
        """A version's form by key: forms are deployed with their version and never change either."""
        return self._forms.get((version_id, form_key), load)

    def version_forms(self, version_id: int, load):  # noqa: ANN001, ANN201 - load() -> {key: form view}
        """Every form of a version, as the instance page shows them (read-only: shared between requests)."""
        return self._forms.get((version_id, ""), load)  # "" is no form's key
