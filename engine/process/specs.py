"""Parsed specs per deployed version, restored once and shared read-only."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

from engine.definitions.model import ProcessModel
from engine.definitions.serializer import SERIALIZER


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
    models = {k: ProcessModel.from_dict(v) for k, v in json.loads(model_json).items()}
    return SpecSet(version_id, spec, subs, models)


class SpecCache:
    """An LRU of SpecSets keyed by version id; versions are immutable, so entries never go stale."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[int, SpecSet] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version_id: int, load) -> SpecSet:  # noqa: ANN001 - load() -> (spec_json, model_json)
        with self._lock:
            if version_id in self._items:
                self._items.move_to_end(version_id)
                return self._items[version_id]
        spec_json, model_json = load()
        specs = restore(version_id, spec_json, model_json)
        with self._lock:
            self._items[version_id] = specs
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return specs
