"""The shape of GET /kpi (docs/kpi.md): the figures engine/kpi computes, section by section.

A representative's own view ("view": "own") has the team's sections null, so every section may be null.
"""

from __future__ import annotations

from webui.api.schema import LABELLED, NULLABLE_OBJECT, TIME, obj, ref


def _maybe(schema: dict) -> dict:
    return {"oneOf": [{"type": "null"}, schema]}


def _grouped(count: str) -> dict:
    """Rows grouped by a form field's value, each with its count."""
    return {"type": "array", "items": obj({**LABELLED, count: {"type": "integer"}})}


KPI_FIELDS: dict[str, dict] = {
    "filters": {"type": "object"}, "timezone": {"type": "string"}, "generated_at": TIME,
    "view": {"type": "string", "enum": ["team", "own"], "description": "own: a member of the staff, who sees "
             "only his own appraisal"},
    "times": {"type": ["array", "null"], "items": {"type": "object"}},
    "resolution_rate": NULLABLE_OBJECT, "satisfaction": NULLABLE_OBJECT, "volume": NULLABLE_OBJECT,
    "outcomes": NULLABLE_OBJECT, "sales": NULLABLE_OBJECT,
    "hazards": _maybe(obj({
        "process": {"type": "string"}, "as_at": TIME, "registered": {"type": "integer"},
        "removed": {"type": "integer"}, "open": {"type": "integer"}, "overdue": {"type": "integer"},
        "by_level": {"type": "array", "items": obj({**LABELLED, "open": {"type": "integer"},
                                                    "overdue": {"type": "integer"}})}})),
    "accidents": _maybe(obj({
        "process": {"type": "string"}, "registered": {"type": "integer"},
        "by_cause": _grouped("accidents"), "by_severity": _grouped("accidents")}, closed=False)),
    "training": _maybe(obj({
        "process": {"type": "string"}, "overall": ref("TrainingFigures"),
        "by_kind": {"type": "array", "items": {"type": "object"}},
        "by_session": {"type": "array", "items": {"type": "object"}}})),
    "opinions": _maybe(obj({
        "process": {"type": "string"}, "as_at": TIME, "overall": ref("OpinionFigures"),
        "by_month": {"type": "array", "items": {"type": "object"}}})),
    "appraisal": _maybe(obj({
        "process": {"type": "string"}, "violation_process": {"type": "string"},
        "people": {"type": "array", "items": ref("AppraisalPerson")}})),
}

TRAINING_FIGURES = {name: {"type": "integer"} for name in ("participants", "assessed", "absent", "passed",
                                                           "failed")} | {
    "pass_rate": {"type": ["number", "null"], "description": "passed / assessed"}}
OPINION_FIGURES = {name: {"type": "integer"} for name in ("registered", "answered", "on_time", "late", "open_overdue",
                                                          "open", "not_measured")} | {
    "share_on_time": {"type": ["number", "null"], "description": "on time / (on time + late + open overdue)"}}
APPRAISAL_PERSON = {
    "key": {"type": "string", "description": "the login id"}, "name": {"type": ["string", "null"]},
    "appraisals": {"type": "array", "items": {"type": "object"}},
    "violations": {"type": "array", "items": {"type": "object"}},
    "bonus_yuan": {"type": "number"}, "deduction_yuan": {"type": "number"}, "fines_yuan": {"type": "number"}}
