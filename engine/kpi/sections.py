"""The definitions of issue 14's figures in engine/kpi/kpi.yaml: hazards, accidents, training, opinions, appraisal.

Data, not code: which process, task and field each figure reads. Loading checks the shape, so a mistake in
the file fails loudly instead of emptying a figure; tests/test_kpi__operations.py checks the ids, forms and
fields against the repository's diagrams and forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from engine.kpi.definitions import DEFAULT_PATH, DefinitionsError, Point
from engine.kpi.definitions import point as _point


@dataclass(frozen=True)
class Option:
    """A form field with `options`: the labels people read for its stored values."""

    form: str
    field: str


@dataclass(frozen=True)
class Field:
    """A value a task records (its latest completion's), labelled by a form's options."""

    task: str
    field: str
    option: Option


@dataclass(frozen=True)
class Hazards:
    process: str
    level: Field
    removed: Point
    rectify: Point


@dataclass(frozen=True)
class Accidents:
    process: str
    groups: dict[str, Field]


@dataclass(frozen=True)
class Training:
    process: str
    task: str
    list_field: str
    attended: str
    passed: str
    kind: str
    kind_option: Option
    session: tuple[str, ...]


@dataclass(frozen=True)
class Opinions:
    process: str
    answered: Point
    deadline: str


@dataclass(frozen=True)
class Violations:
    process: str
    recorded: Point
    person: str
    sanction: Option


@dataclass(frozen=True)
class Appraisal:
    process: str
    approved: Point
    proposed_by: tuple[str, ...]
    month: str
    violations: Violations


@dataclass(frozen=True)
class Sections:
    hazards: Hazards
    accidents: Accidents
    training: Training
    opinions: Opinions
    appraisal: Appraisal

    def element_ids(self) -> dict[str, set[str]]:
        """Every user task these sections name, per process (checked against the diagrams)."""
        v = self.appraisal.violations
        return {self.hazards.process: {self.hazards.level.task, *self.hazards.removed.tasks,
                                       *self.hazards.rectify.tasks},
                self.accidents.process: {g.task for g in self.accidents.groups.values()},
                self.training.process: {self.training.task},
                self.opinions.process: set(self.opinions.answered.tasks),
                self.appraisal.process: {*self.appraisal.approved.tasks, *self.appraisal.proposed_by},
                v.process: set(v.recorded.tasks)}

    def options(self) -> list[Option]:
        """Every form field whose option labels a figure shows."""
        return [self.hazards.level.option, *(g.option for g in self.accidents.groups.values()),
                self.training.kind_option, self.appraisal.violations.sanction]


def _text(raw: dict, name: str, where: str) -> str:
    value = raw.get(name) if isinstance(raw, dict) else None
    if not isinstance(value, str) or not value:
        raise DefinitionsError(f"{where}.{name}: a text")
    return value


def _texts(raw: object, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(t, str) and t for t in raw):
        raise DefinitionsError(f"{where}: a list of texts")
    return tuple(raw)


def _option(raw: object, where: str) -> Option:
    return Option(_text(raw, "form", where), _text(raw, "field", where))


def _field(raw: object, where: str) -> Field:
    if not isinstance(raw, dict):
        raise DefinitionsError(f"{where}: {{task, field, option: {{form, field}}}}")
    return Field(_text(raw, "task", where), _text(raw, "field", where), _option(raw.get("option"), f"{where}.option"))


def _section(raw: dict, name: str) -> dict:
    section = raw.get(name)
    if not isinstance(section, dict):
        raise DefinitionsError(f"{name}: a mapping (engine/kpi/kpi.yaml)")
    return section


def _appraisal(raw: dict) -> Appraisal:
    v = raw.get("violations")
    if not isinstance(v, dict):
        raise DefinitionsError("appraisal.violations: a mapping")
    violations = Violations(_text(v, "process", "appraisal.violations"),
                            _point(v.get("recorded"), "appraisal.violations.recorded"),
                            _text(v, "person", "appraisal.violations"),
                            _option(v.get("sanction"), "appraisal.violations.sanction"))
    return Appraisal(_text(raw, "process", "appraisal"), _point(raw.get("approved"), "appraisal.approved"),
                     _texts(raw.get("proposed_by"), "appraisal.proposed_by"), _text(raw, "month", "appraisal"),
                     violations)


def parse(raw: dict) -> Sections:
    h, a, t, o = (_section(raw, n) for n in ("hazards", "accidents", "training", "opinions"))
    groups = a.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise DefinitionsError("accidents.groups: a mapping of name -> {task, field, option}")
    kind = t.get("kind") if isinstance(t.get("kind"), dict) else {}
    return Sections(
        hazards=Hazards(_text(h, "process", "hazards"), _field(h.get("level"), "hazards.level"),
                        _point(h.get("removed"), "hazards.removed"), _point(h.get("rectify"), "hazards.rectify")),
        accidents=Accidents(_text(a, "process", "accidents"),
                            {str(k): _field(v, f"accidents.groups.{k}") for k, v in groups.items()}),
        training=Training(_text(t, "process", "training"), _text(t, "task", "training"),
                          _text(t, "list", "training"), _text(t, "attended", "training"),
                          _text(t, "passed", "training"), _text(kind, "field", "training.kind"),
                          _option(kind.get("option"), "training.kind.option"),
                          _texts(t.get("session"), "training.session")),
        opinions=Opinions(_text(o, "process", "opinions"), _point(o.get("answered"), "opinions.answered"),
                          _text(o, "deadline", "opinions")),
        appraisal=_appraisal(_section(raw, "appraisal")),
    )


@lru_cache(maxsize=4)
def load(path: Path = DEFAULT_PATH) -> Sections:
    with path.open(encoding="utf-8") as fh:
        return parse(yaml.safe_load(fh))
