"""The shapes the API keeps stable, each defined once: its fields with their JSON Schema.

A Shape both cuts an answer out of the engine's richer view (`Shape.cut`: exactly its fields, in its order)
and gives the OpenAPI component schema of that answer (`Shape.schema`, read by openapi.py), so a field added
to a shape here is answered and documented alike. tests/web/test_api__schemathesis.py holds the answers to
the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import Problem
from webui.api.kpi_shape import APPRAISAL_PERSON, KPI_FIELDS, OPINION_FIGURES, TRAINING_FIGURES
from webui.api.schema import NULLABLE_TEXT, NULLABLE_TIME, OUTCOME, STATUSES, TEXT, TIME, obj, ref


@dataclass(frozen=True, eq=False)
class Shape:
    """One object the API answers with: its component name and its fields (field -> JSON Schema fragment)."""

    name: str
    fields: dict[str, dict]
    required: list[str] | None = None  # None: every field
    closed: bool = True  # no property beyond `fields`
    description: str | None = None

    def cut(self, view: Mapping[str, Any]) -> dict:
        """The shape's fields out of a view (null where the view has none)."""
        return {k: view.get(k) for k in self.fields}

    def schema(self) -> dict:
        extra = {"description": self.description} if self.description else {}
        return obj(self.fields, self.required, self.closed, **extra)


def _nullable(name: str, **extra: str) -> dict:
    return {"oneOf": [ref(name), {"type": "null"}], **extra}


TASK = Shape("Task", {
    "id": {"type": "string", "format": "uuid"},
    "instance_id": {"type": "integer"},
    "process_key": {"type": "string"},
    "name": {"type": "string", "description": "the BPMN element id of the user task"},
    "title": NULLABLE_TEXT,
    "role": {"type": "string", "description": "a role id, or `initiator` (the requester)"},
    "assignee": NULLABLE_TEXT,
    "status": {"type": "string", "description": "`ready` while open; `completed` or `cancelled` afterwards"},
    "created_at": TIME,
    "due_at": {**NULLABLE_TIME, "description": "the deadline: the task's due date or the earliest boundary timer "
                                              "on it or on a sub-process it runs in, whichever is earlier (UTC); "
                                              "null when nothing sets one"},
    "overdue": {"type": "boolean", "description": "ready and past its due time"},
})
INBOX_TASK = Shape("InboxTask", {**TASK.fields, "business_key": NULLABLE_TEXT,
                                 "customer_name": {"description": "the instance's customer_name, when it has one"}},
                   required=[*TASK.fields, "business_key"])
FORM = Shape("Form", {
    "key": {"type": "string"}, "title": TEXT,
    "schema": {"type": "object", "description": "the JSON Schema the data is validated against"},
    "ui": obj({"fields": {"type": "array", "items": {"type": "object"}}, "messages": {"type": "object"}},
              closed=False)})
TASK_DETAIL = Shape("TaskDetail", {
    **TASK.fields, "form": _nullable("Form"), "instance_data": {"type": "object"},
    "initial_data": {"type": "object", "description": "the form's fields prefilled from the instance's data "
                                                      "(x-prefill); a readOnly one keeps this value whatever is sent"}})
INSTANCE = Shape("Instance", {
    "id": {"type": "integer"}, "process_key": {"type": "string"}, "version": {"type": "integer"},
    "business_key": NULLABLE_TEXT,
    "status": {"type": "string", "enum": STATUSES}, "outcome": OUTCOME,
    "data": {"type": "object"}, "started_by": {"type": "string"}, "started_at": TIME, "ended_at": NULLABLE_TIME,
    "tasks": {"type": "array", "items": ref("Task"), "description": "the open tasks"},
})
STARTABLE = {"type": "boolean", "description": "whether the caller may start it"}
PROCESS = Shape("Process", {
    "key": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "integer", "minimum": 1},
    "deployed_at": TIME, "starters": {"type": "array", "items": {"type": "string"}},
    "summary": {"type": "string"}, "start_form": NULLABLE_TEXT, "startable": STARTABLE,
})
PROCESS_DETAIL = Shape("ProcessDetail", {
    "key": {"type": "string"},
    "name": {"type": "string", "description": "in the language of Accept-Language (zh by default)"},
    "names": TEXT, "version": {"type": "integer", "minimum": 1, "description": "the current version"},
    "deployed_at": TIME, "starters": {"type": "array", "items": {"type": "string"}},
    "summary": {"type": "string", "description": "one line, in the language of Accept-Language"},
    "start_form": {**NULLABLE_TEXT, "description": "the start form's key"},
    "startable": STARTABLE,
    "form": _nullable("Form", description="the start form the start page shows: JSON Schema, ui hints, labels in "
                                          "zh and en"),
})
EVENT = Shape("Event", {
    "position": {"type": "integer", "minimum": 1}, "at": {"type": "string"}, "actor": {"type": "string"},
    "kind": {"type": "string"}, "task": NULLABLE_TEXT, "payload": {"type": "object"}, "hash": {"type": "string"},
})
PROBLEM = Shape("Problem", {
    "file": {"type": "string"}, "element": NULLABLE_TEXT, "line": {"type": ["integer", "null"]},
    "message": {"type": "string", "description": "in English"},
    "messages": {**TEXT, "description": "the same in each language (a message from the BPMN parser has only "
                                        "English, given in both)"}})
INCIDENT = Shape("Incident", {
    "id": {"type": "integer"}, "instance_id": {"type": "integer"}, "process_key": {"type": "string"},
    "business_key": NULLABLE_TEXT,
    "instance_status": {"type": "string", "enum": STATUSES},
    "kind": {"type": "string", "enum": ["timer", "message"],
             "description": "the step that failed: a due timer's, or a message's in its receiver"},
    "element": {**NULLABLE_TEXT, "description": "the BPMN id of the element that failed, when known"},
    "element_name": {"oneOf": [TEXT, {"type": "null"}]},
    "message": {"type": "string", "description": "the error"},
    "raised_at": TIME,
    "attempts": {"type": "integer", "minimum": 1, "description": "the worker's attempts, then one per retry"},
    "status": {"type": "string", "enum": ["open", "resolved"]},
    "resolved_by": NULLABLE_TEXT, "resolved_at": NULLABLE_TIME,
    "resolution": {"type": ["string", "null"], "enum": ["retried", "cancelled", None]},
    "reason": {**NULLABLE_TEXT, "description": "why the case was cancelled"},
})
PRICE = Shape("Price", {
    "id": {"type": "integer", "minimum": 1}, "product": {"type": "string"}, "spec": {"type": "string"},
    "grade": {"type": "string"}, "unit": {"type": "string"},
    "price_fen": {"type": "integer", "minimum": 1, "description": "the list price per unit in fen (exact)"},
    "price_yuan": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "description": "the same in yuan"},
    "valid_from": {"type": "string", "format": "date", "description": "the first day it applies"},
    "valid_to": {"type": ["string", "null"], "format": "date",
                 "description": "the last day it applies; null: until it is ended"},
    "created_by": {"type": "string"}, "created_at": TIME, "ended_by": NULLABLE_TEXT, "ended_at": NULLABLE_TIME},
    description="a row of the company's price list (docs/prices.md)")
CUSTOMER = Shape("Customer", {
    "id": {"type": "integer", "minimum": 1}, "name": {"type": "string"}, "customer_class": NULLABLE_TEXT,
    "contact_person": {"type": "string"}, "contact_phone": {"type": "string"}, "address": NULLABLE_TEXT,
    "needs": {"type": "string"}, "source": NULLABLE_TEXT,
    "owner": {**NULLABLE_TEXT, "description": "the login id of the owning sales representative; null when refused"},
    "follow_up_strategy": {"type": "string", "description": "set by the sales manager's review"},
    "status": {"type": "string", "enum": ["active", "rejected"]},
    "refusal_reason": {"type": ["string", "null"], "enum": ["duplicate", "not_prospect", None]},
    "registered_by": {"type": "string"}, "registered_at": TIME, "reviewed_by": {"type": "string"},
    "reviewed_at": TIME, "instance_id": {"type": ["integer", "null"], "description": "the registration"},
}, description="a customer and the sales representative who owns it")
CUSTOMER_DETAIL = Shape("CustomerDetail", {**CUSTOMER.fields, "contacts": {"type": "array", "items": ref("Contact")}},
                        description="a customer with its log of calls, letters and visits, newest first")
CONTACT = Shape("Contact", {
    "id": {"type": "integer", "minimum": 1}, "customer_id": {"type": "integer", "minimum": 1},
    "kind": {"type": "string", "enum": ["call", "letter", "visit", "other"]},
    "happened_on": {"type": "string", "format": "date"}, "summary": {"type": "string"},
    "instance_id": {"type": ["integer", "null"]}, "logged_by": {"type": "string"}, "logged_at": TIME,
}, description="a call, letter or visit of a customer, as it was logged")
TOKEN_INFO = Shape("TokenInfo", {
    "id": {"type": "integer", "minimum": 1}, "created_at": TIME, "expires_at": TIME,
    "status": {"type": "string", "enum": ["active", "expired", "revoked"]},
    "current": {"type": "boolean", "description": "the token this request was sent with"}},
    description="a bearer token without its secret (only its hash is stored)")
DEPLOYED = Shape("Deployed", {
    "key": {"type": "string"}, "version": {"type": "integer"},
    "status": {"type": "string", "enum": ["deployed", "unchanged", "draft"],
               "description": "draft: awaits the general manager's approval (rule change)"},
    "sha256": {"type": "string"},
    "request_id": {"type": ["integer", "null"], "description": "the rule change request (an instance of rule_change)"}})
# the fields of an incident, as tests/security/test_incidents__web.py checks them
INCIDENT_KEYS = tuple(INCIDENT.fields)
KPI = Shape("Kpi", KPI_FIELDS)
# parts of the KPI figures, named so that the document can refer to them
KPI_PARTS = (Shape("TrainingFigures", TRAINING_FIGURES), Shape("OpinionFigures", OPINION_FIGURES),
             Shape("AppraisalPerson", APPRAISAL_PERSON))

# every shape, for the OpenAPI document's components
SHAPES = (TASK, INBOX_TASK, FORM, TASK_DETAIL, INSTANCE, PROCESS, PROCESS_DETAIL, EVENT, PROBLEM, INCIDENT, PRICE,
          CUSTOMER, CUSTOMER_DETAIL, CONTACT, TOKEN_INFO, DEPLOYED, KPI, *KPI_PARTS)


def task(view: dict) -> dict:
    return TASK.cut(view)


def inbox_row(view: dict) -> dict:
    return INBOX_TASK.cut(view)


def _form(form: dict | None) -> dict | None:
    return FORM.cut(form) if form else None


def task_detail(view: dict) -> dict:
    """The task with its form (null for a task without one), the instance's data and the form's initial values
    (fields prefilled from the instance's data; read-only ones keep them)."""
    return {**TASK_DETAIL.cut(view), "form": _form(view.get("form")),
            "instance_data": view.get("instance_data") or {}, "initial_data": view.get("initial_data") or {}}


def instance(view: dict) -> dict:
    """The instance with its open tasks; `outcome` (processes/outcomes.yaml) is null while it runs."""
    return {**INSTANCE.cut(view), "tasks": [task(t) for t in view.get("tasks", [])]}


def process(view: dict, startable: set[str]) -> dict:
    return {**PROCESS.cut(view), "startable": view["key"] in startable}


def _in(lang: str, text: dict | str | None) -> str:
    """A {"zh", "en"} text in the language asked for (a plain text as it is)."""
    if isinstance(text, dict):
        return text.get(lang) or text.get("zh") or text.get("en") or ""
    return text or ""


def process_detail(view: dict, lang: str) -> dict:
    """The process with its name and summary in `lang`, its names in both and its start form (null: none)."""
    return {**PROCESS_DETAIL.cut(view), "name": _in(lang, view.get("names") or view["name"]),
            "names": view.get("names") or {"zh": view["name"], "en": view["name"]},
            "summary": _in(lang, view.get("summaries") or view.get("summary")),
            "startable": bool(view.get("startable")), "form": _form(view.get("form"))}


def event(view: dict) -> dict:
    return EVENT.cut(view)


def incident(view: dict) -> dict:
    return INCIDENT.cut(view)


def problem(p: Problem) -> dict:
    """One problem of a refused definition: `message` in English (as logs and the CLI give it), `messages` in
    both languages (the English where nobody translated it)."""
    return PROBLEM.cut({"file": p.file, "element": p.element, "line": p.line, "message": p.message,
                        "messages": p.messages()})


def price(view: dict) -> dict:
    return PRICE.cut(view)


def kpi(report: dict) -> dict:
    """The KPI figures with every section (null where the caller sees none of it)."""
    return KPI.cut(report)


def customer(view: dict) -> dict:
    return CUSTOMER.cut(view)


def contact(view: dict) -> dict:
    return CONTACT.cut(view)


def customer_detail(view: dict) -> dict:
    return {**CUSTOMER_DETAIL.cut(view), "contacts": [contact(c) for c in view.get("contacts", [])]}


def token_info(view: dict) -> dict:
    """A token without its secret; times in ISO 8601."""
    return {k: view[k].isoformat() if k.endswith("_at") else view.get(k) for k in TOKEN_INFO.fields}


def deployed(d: object) -> dict:
    """What one deployed (or drafted, or unchanged) definition became."""
    return {k: getattr(d, k) for k in DEPLOYED.fields}
