"""The shapes the API keeps stable, cut out of the engine's richer views."""

from __future__ import annotations

from engine.errors import Problem

TASK_KEYS = ("id", "instance_id", "process_key", "name", "title", "role", "assignee", "status", "created_at",
             "due_at", "overdue")
INBOX_KEYS = (*TASK_KEYS, "business_key", "customer_name")
INSTANCE_KEYS = ("id", "process_key", "version", "business_key", "status", "outcome", "data", "started_by",
                 "started_at", "ended_at")
PROCESS_KEYS = ("key", "name", "version", "deployed_at", "starters", "summary", "start_form")
EVENT_KEYS = ("position", "at", "actor", "kind", "task", "payload", "hash")
PRICE_KEYS = ("id", "product", "spec", "grade", "unit", "price_fen", "price_yuan", "valid_from", "valid_to",
              "created_by", "created_at", "ended_by", "ended_at")
PROBLEM_KEYS = ("file", "element", "line", "message", "messages")
# GET /kpi (docs/kpi.md): the team's sections are null in a representative's own view ("view": "own")
KPI_KEYS = ("filters", "timezone", "generated_at", "view", "times", "resolution_rate", "satisfaction", "volume",
            "outcomes", "sales", "hazards", "accidents", "training", "opinions", "appraisal")
INCIDENT_KEYS = ("id", "instance_id", "process_key", "business_key", "instance_status", "kind", "element",
                 "element_name", "message", "raised_at", "attempts", "status", "resolved_by", "resolved_at",
                 "resolution", "reason")


def task(view: dict) -> dict:
    """{id, instance_id, process_key, name, title, role, assignee, status, created_at, due_at, overdue}"""
    return {k: view.get(k) for k in TASK_KEYS}


def inbox_row(view: dict) -> dict:
    return {k: view.get(k) for k in INBOX_KEYS}


def task_detail(view: dict) -> dict:
    """The task with its form {key, title, schema, ui} (null for a task without a form), the instance's data and
    the form's initial values (fields prefilled from the instance's data; read-only ones keep them)."""
    form = view.get("form")
    return {**task(view),
            "form": {k: form[k] for k in ("key", "title", "schema", "ui")} if form else None,
            "instance_data": view.get("instance_data") or {},
            "initial_data": view.get("initial_data") or {}}


def instance(view: dict) -> dict:
    """{id, process_key, version, business_key, status, outcome, data, tasks (open)} with who started it
    and when; `outcome` (processes/outcomes.yaml) is null while it runs."""
    return {**{k: view.get(k) for k in INSTANCE_KEYS}, "tasks": [task(t) for t in view.get("tasks", [])]}


def process(view: dict, startable: set[str]) -> dict:
    return {**{k: view.get(k) for k in PROCESS_KEYS}, "startable": view["key"] in startable}


def _in(lang: str, text: dict | str | None) -> str:
    """A {"zh", "en"} text in the language asked for (a plain text as it is)."""
    if isinstance(text, dict):
        return text.get(lang) or text.get("zh") or text.get("en") or ""
    return text or ""


def process_detail(view: dict, lang: str) -> dict:
    """{key, name and summary in `lang`, names {zh, en}, version, deployed_at, starters, start_form (its key),
    startable, form}: `form` is the start form {key, title, schema, ui} the start page shows (null: none)."""
    form = view.get("form")
    return {**{k: view.get(k) for k in PROCESS_KEYS}, "name": _in(lang, view.get("names") or view["name"]),
            "names": view.get("names") or {"zh": view["name"], "en": view["name"]},
            "summary": _in(lang, view.get("summaries") or view.get("summary")),
            "startable": bool(view.get("startable")),
            "form": {k: form[k] for k in ("key", "title", "schema", "ui")} if form else None}


def event(view: dict) -> dict:
    return {k: view.get(k) for k in EVENT_KEYS}


def incident(view: dict) -> dict:
    """{id, instance_id, process_key, business_key, instance_status, kind, element, element_name {zh, en},
    message, raised_at, attempts, status, resolved_by, resolved_at, resolution, reason}"""
    return {k: view.get(k) for k in INCIDENT_KEYS}


def problem(p: Problem) -> dict:
    """{file, element, line, message (English, as logs and the CLI give it), messages {zh, en}}: one problem
    of a refused definition; `messages` is both languages (the English where nobody translated it)."""
    return {"file": p.file, "element": p.element, "line": p.line, "message": p.message, "messages": p.messages()}


def price(view: dict) -> dict:
    """{id, product, spec, grade, unit, price_fen (exact), price_yuan ("420.00"), valid_from, valid_to (null:
    until ended), created_by, created_at, ended_by, ended_at}"""
    return {k: view.get(k) for k in PRICE_KEYS}


def kpi(report: dict) -> dict:
    """The KPI figures with every section of KPI_KEYS (null where the caller sees none of it)."""
    return {k: report.get(k) for k in KPI_KEYS}
CUSTOMER_KEYS = ("id", "name", "customer_class", "contact_person", "contact_phone", "address", "needs", "source",
                 "owner", "follow_up_strategy", "status", "refusal_reason", "registered_by", "registered_at",
                 "reviewed_by", "reviewed_at", "instance_id")
CONTACT_KEYS = ("id", "customer_id", "kind", "happened_on", "summary", "instance_id", "logged_by", "logged_at")


def customer(view: dict) -> dict:
    """{id, name, customer_class, contact_person, contact_phone, address, needs, source, owner (login id; null
    when refused), follow_up_strategy, status (active | rejected), refusal_reason, registered_by, registered_at,
    reviewed_by, reviewed_at, instance_id (the registration)}"""
    return {k: view.get(k) for k in CUSTOMER_KEYS}


def contact(view: dict) -> dict:
    """{id, customer_id, kind (call | letter | visit | other), happened_on, summary, instance_id, logged_by,
    logged_at}"""
    return {k: view.get(k) for k in CONTACT_KEYS}


def customer_detail(view: dict) -> dict:
    return {**customer(view), "contacts": [contact(c) for c in view.get("contacts", [])]}
