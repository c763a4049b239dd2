"""GET /openapi.json: the OpenAPI 3.1 document of this API, written to match the code exactly.

tests/web/test_api__schemathesis.py holds the code to it: every status code an
operation answers and every response body must be the one described here.
"""

from __future__ import annotations

from flask import Response, jsonify

from engine import outcomes
from engine.runtime.loading import MAX_ID
from webui.api import KEY_PATTERN, blueprint

NULLABLE_TEXT = {"type": ["string", "null"]}
# an instance's status; `incident`: halted by a failed timer or message step until an administrator acts
STATUSES = ["running", "incident", "completed", "cancelled", "error"]
# how a finished instance ended (processes/outcomes.yaml); null while it runs
OUTCOMES = sorted(outcomes.load())
OUTCOME = {"type": ["string", "null"], "enum": [*OUTCOMES, None],
           "description": "how it ended (processes/outcomes.yaml); null while it runs"}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
# the engine reads a file by its extension, in any letter case
FILE_NAME = r"\.([Bb][Pp][Mm][Nn]|[Dd][Mm][Nn]|[Yy][Aa][Mm][Ll]|[Yy][Mm][Ll])$"
TEXT = {"type": "object", "description": "a text in each language", "required": ["zh", "en"],
        "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, required: list[str] | None = None, closed: bool = True, **extra: object) -> dict:
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else required, **extra}
    if closed:
        schema["additionalProperties"] = False
    return schema


TASK = {
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
}

NULLABLE_OBJECT = {"type": ["object", "null"]}
# a row grouped by a form field's value: the value and what people read for it (null key: not decided yet)
LABELLED = {"key": {"type": ["string", "null"]}, "label": TEXT}
CUSTOMER = {
    "id": {"type": "integer", "minimum": 1}, "name": {"type": "string"}, "customer_class": NULLABLE_TEXT,
    "contact_person": {"type": "string"}, "contact_phone": {"type": "string"}, "address": NULLABLE_TEXT,
    "needs": {"type": "string"}, "source": NULLABLE_TEXT,
    "owner": {**NULLABLE_TEXT, "description": "the login id of the owning sales representative; null when refused"},
    "follow_up_strategy": {"type": "string", "description": "set by the sales manager's review"},
    "status": {"type": "string", "enum": ["active", "rejected"]},
    "refusal_reason": {"type": ["string", "null"], "enum": ["duplicate", "not_prospect", None]},
    "registered_by": {"type": "string"}, "registered_at": TIME, "reviewed_by": {"type": "string"},
    "reviewed_at": TIME, "instance_id": {"type": ["integer", "null"], "description": "the registration"},
}
CONTACT = {
    "id": {"type": "integer", "minimum": 1}, "customer_id": {"type": "integer", "minimum": 1},
    "kind": {"type": "string", "enum": ["call", "letter", "visit", "other"]},
    "happened_on": {"type": "string", "format": "date"}, "summary": {"type": "string"},
    "instance_id": {"type": ["integer", "null"]}, "logged_by": {"type": "string"}, "logged_at": TIME,
}

SCHEMAS: dict[str, dict] = {
    "Kpi": _obj({
        "filters": {"type": "object"}, "timezone": {"type": "string"}, "generated_at": TIME,
        "view": {"type": "string", "enum": ["team", "own"], "description": "own: a member of the staff, who sees "
                 "only his own appraisal"},
        "times": {"type": ["array", "null"], "items": {"type": "object"}},
        "resolution_rate": NULLABLE_OBJECT, "satisfaction": NULLABLE_OBJECT, "volume": NULLABLE_OBJECT,
        "outcomes": NULLABLE_OBJECT, "sales": NULLABLE_OBJECT,
        "hazards": {"oneOf": [{"type": "null"}, _obj({
            "process": {"type": "string"}, "as_at": TIME, "registered": {"type": "integer"},
            "removed": {"type": "integer"}, "open": {"type": "integer"}, "overdue": {"type": "integer"},
            "by_level": {"type": "array", "items": _obj({**LABELLED, "open": {"type": "integer"},
                                                         "overdue": {"type": "integer"}})}})]},
        "accidents": {"oneOf": [{"type": "null"}, _obj({
            "process": {"type": "string"}, "registered": {"type": "integer"},
            "by_cause": {"type": "array", "items": _obj({**LABELLED, "accidents": {"type": "integer"}})},
            "by_severity": {"type": "array", "items": _obj({**LABELLED, "accidents": {"type": "integer"}})}},
            closed=False)]},
        "training": {"oneOf": [{"type": "null"}, _obj({
            "process": {"type": "string"}, "overall": _ref("TrainingFigures"),
            "by_kind": {"type": "array", "items": {"type": "object"}},
            "by_session": {"type": "array", "items": {"type": "object"}}})]},
        "opinions": {"oneOf": [{"type": "null"}, _obj({
            "process": {"type": "string"}, "as_at": TIME, "overall": _ref("OpinionFigures"),
            "by_month": {"type": "array", "items": {"type": "object"}}})]},
        "appraisal": {"oneOf": [{"type": "null"}, _obj({
            "process": {"type": "string"}, "violation_process": {"type": "string"},
            "people": {"type": "array", "items": _ref("AppraisalPerson")}})]},
    }),
    "TrainingFigures": _obj({name: {"type": "integer"} for name in ("participants", "assessed", "absent", "passed",
                                                                      "failed")} | {
        "pass_rate": {"type": ["number", "null"], "description": "passed / assessed"}}),
    "OpinionFigures": _obj({name: {"type": "integer"} for name in ("registered", "answered", "on_time", "late",
                                                                     "open_overdue", "open", "not_measured")} | {
        "share_on_time": {"type": ["number", "null"], "description": "on time / (on time + late + open overdue)"}}),
    "AppraisalPerson": _obj({
        "key": {"type": "string", "description": "the login id"}, "name": NULLABLE_TEXT,
        "appraisals": {"type": "array", "items": {"type": "object"}},
        "violations": {"type": "array", "items": {"type": "object"}},
        "bonus_yuan": {"type": "number"}, "deduction_yuan": {"type": "number"}, "fines_yuan": {"type": "number"}}),
    "Error": _obj({
        "error": {"type": "string", "description": "a stable code: bad_request, unauthorized, forbidden, not_found, "
                                                   "method_not_allowed, conflict, halted (a 409: the instance is "
                                                   "halted by an incident), too_large, invalid_data, "
                                                   "process_error, invalid_definition, locked"},
        "message": {"type": "string", "description": "what went wrong, for people"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "field name -> message, in the language of Accept-Language (zh by default)"},
        "problems": {"type": "array", "items": _ref("Problem"),
                     "description": "invalid_definition only: each file's problems"},
    }, required=["error", "message"]),
    "Problem": _obj({"file": {"type": "string"}, "element": NULLABLE_TEXT, "line": {"type": ["integer", "null"]},
                     "message": {"type": "string", "description": "in English"},
                     "messages": {**TEXT, "description": "the same in each language (a message from the BPMN "
                                                          "parser has only English, given in both)"}}),
    "TokenRequest": _obj({"username": {"type": "string"}, "password": {"type": "string"}}, closed=False),
    "Token": _obj({"token": {"type": "string", "description": "send as `Authorization: Bearer <token>`; "
                                                            "valid for 12 hours"}}),
    "TokenInfo": _obj({"id": {"type": "integer", "minimum": 1}, "created_at": TIME, "expires_at": TIME,
                       "status": {"type": "string", "enum": ["active", "expired", "revoked"]},
                       "current": {"type": "boolean", "description": "the token this request was sent with"}},
                      description="a bearer token without its secret (only its hash is stored)"),
    "Process": _obj({
        "key": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "integer", "minimum": 1},
        "deployed_at": TIME, "starters": {"type": "array", "items": {"type": "string"}},
        "summary": {"type": "string"}, "start_form": NULLABLE_TEXT,
        "startable": {"type": "boolean", "description": "whether the caller may start it"},
    }),
    "ProcessDetail": _obj({
        "key": {"type": "string"},
        "name": {"type": "string", "description": "in the language of Accept-Language (zh by default)"},
        "names": TEXT, "version": {"type": "integer", "minimum": 1, "description": "the current version"},
        "deployed_at": TIME, "starters": {"type": "array", "items": {"type": "string"}},
        "summary": {"type": "string", "description": "one line, in the language of Accept-Language"},
        "start_form": {**NULLABLE_TEXT, "description": "the start form's key"},
        "startable": {"type": "boolean", "description": "whether the caller may start it"},
        "form": {"oneOf": [_ref("Form"), {"type": "null"}],
                 "description": "the start form the start page shows: JSON Schema, ui hints, labels in zh and en"},
    }),
    "StartRequest": _obj({"data": {"type": "object", "description": "the start form's fields"},
                          "business_key": {"type": "string", "minLength": 1, "maxLength": 128}},
                         required=[], closed=False),
    "Task": _obj(TASK),
    "InboxTask": _obj({**TASK, "business_key": NULLABLE_TEXT,
                       "customer_name": {"description": "the instance's customer_name, when it has one"}},
                      required=[*TASK, "business_key"]),
    "Form": _obj({"key": {"type": "string"}, "title": TEXT,
                  "schema": {"type": "object", "description": "the JSON Schema the data is validated against"},
                  "ui": _obj({"fields": {"type": "array", "items": {"type": "object"}},
                              "messages": {"type": "object"}}, closed=False)}),
    "TaskDetail": _obj({**TASK, "form": {"oneOf": [_ref("Form"), {"type": "null"}]},
                        "instance_data": {"type": "object"},
                        "initial_data": {"type": "object", "description": "the form's fields prefilled from the "
                                         "instance's data (x-prefill); a readOnly one keeps this value whatever "
                                         "is sent"}}),
    "CompleteRequest": _obj({"data": {"type": "object", "description": "the task form's fields"}},
                            required=[], closed=False),
    "Instance": _obj({
        "id": {"type": "integer"}, "process_key": {"type": "string"}, "version": {"type": "integer"},
        "business_key": NULLABLE_TEXT,
        "status": {"type": "string", "enum": STATUSES}, "outcome": OUTCOME,
        "data": {"type": "object"}, "started_by": {"type": "string"}, "started_at": TIME, "ended_at": NULLABLE_TIME,
        "tasks": {"type": "array", "items": _ref("Task"), "description": "the open tasks"},
    }),
    "Event": _obj({
        "position": {"type": "integer", "minimum": 1}, "at": {"type": "string"}, "actor": {"type": "string"},
        "kind": {"type": "string"}, "task": NULLABLE_TEXT, "payload": {"type": "object"},
        "hash": {"type": "string"},
    }),
    "Replay": _obj({
        "verified": {"type": "boolean", "description": "the trail is intact and replaying it gives the same result"},
        "steps": {"type": "integer", "minimum": 0},
        "first_mismatch": {"oneOf": [_obj({"position": {"type": "integer"}, "kind": {"type": "string"},
                                           "reason": {"type": "string"}, "expected": {}, "actual": {}}),
                                     {"type": "null"}]},
        "state": {"type": ["object", "null"], "description": "the state after ?step=N; null without it"},
    }),
    "CancelRequest": _obj({"reason": {"type": "string", "minLength": 1, "maxLength": 2000,
                                      "description": "why; the trail keeps it"}}, required=["reason"]),
    "DeployRequest": _obj({
        "files": {"type": "array", "minItems": 1,
                  "items": _obj({"name": {"type": "string", "minLength": 1, "maxLength": 255,
                                          "pattern": FILE_NAME, "description": "ends in .bpmn, .dmn, .yaml or .yml"},
                                 "content": {"type": "string"}}, closed=False)},
        "note": {"type": "string"},
        "emergency": {"type": "boolean", "description": "administrators: in force at once while governance is on, "
                                                        "acknowledged by the general manager afterwards"},
        "reason": {"type": "string", "description": "required with emergency: why it cannot wait"},
    }, required=["files"], closed=False),
    "Deployed": _obj({"key": {"type": "string"}, "version": {"type": "integer"},
                      "status": {"type": "string", "enum": ["deployed", "unchanged", "draft"],
                                 "description": "draft: awaits the general manager's approval (rule change)"},
                      "sha256": {"type": "string"},
                      "request_id": {"type": ["integer", "null"],
                                     "description": "the rule change request (an instance of rule_change)"}}),
    "FoundInstance": _obj({
        "id": {"type": "integer"}, "process_key": {"type": "string"}, "process_name": {"type": "string"},
        "process_names": TEXT, "version": {"type": "integer"}, "business_key": NULLABLE_TEXT,
        "customer_name": NULLABLE_TEXT,
        "status": {"type": "string", "enum": STATUSES}, "outcome": OUTCOME,
        "started_by": {"type": "string"}, "started_at": TIME, "ended_at": NULLABLE_TIME,
        "sla_breached": {"type": "boolean", "description": "an SLA timer fired, or a task was or is late "
                                                           "(docs/audit.md)"},
        "open_tasks": {"type": "integer", "minimum": 0}}),
    "SearchResult": _obj({"items": {"type": "array", "items": {"$ref": "#/components/schemas/FoundInstance"}},
                          "total": {"type": "integer", "minimum": 0}, "page": {"type": "integer", "minimum": 1},
                          "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
                          "pages": {"type": "integer", "minimum": 1}}),
    "Incident": _obj({
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
    }),
    "CancelIncidentRequest": _obj({"reason": {"type": "string", "minLength": 1, "maxLength": 2000,
                                              "description": "why the case is cancelled (required)"}},
                                  closed=False),
    "Price": _obj({
        "id": {"type": "integer", "minimum": 1}, "product": {"type": "string"}, "spec": {"type": "string"},
        "grade": {"type": "string"}, "unit": {"type": "string"},
        "price_fen": {"type": "integer", "minimum": 1, "description": "the list price per unit in fen (exact)"},
        "price_yuan": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "description": "the same in yuan"},
        "valid_from": {"type": "string", "format": "date", "description": "the first day it applies"},
        "valid_to": {"type": ["string", "null"], "format": "date",
                     "description": "the last day it applies; null: until it is ended"},
        "created_by": {"type": "string"}, "created_at": TIME, "ended_by": NULLABLE_TEXT, "ended_at": NULLABLE_TIME},
        description="a row of the company's price list (docs/prices.md)"),
    "Customer": _obj(CUSTOMER, description="a customer and the sales representative who owns it"),
    "CustomerDetail": _obj({**CUSTOMER, "contacts": {"type": "array", "items": _ref("Contact")}},
                           description="a customer with its log of calls, letters and visits, newest first"),
    "Contact": _obj(CONTACT, description="a call, letter or visit of a customer, as it was logged"),
    "ContactRequest": _obj({
        "kind": {"type": "string", "enum": ["call", "letter", "visit", "other"]},
        "happened_on": {"type": "string", "format": "date", "description": "today or up to a year ago"},
        "summary": {"type": "string", "minLength": 1, "maxLength": 4000},
        "instance_id": {"type": ["integer", "null"], "minimum": 1, "description": "the case it was about"}},
        required=["kind", "happened_on", "summary"], closed=False),
    "OwnerRequest": _obj({"owner": {"type": "string", "description": "the login id of an active sales representative"},
                          "reason": {"type": "string", "minLength": 1, "maxLength": 2000}}, closed=False),
    "Trail": _obj({"format": {"const": "salesflow-audit/1"}, "chain": {"type": "string"},
                   "head": {"type": ["object", "null"]}, "hash": {"type": "string"},
                   "events": {"type": "array", "items": {"type": "object"}},
                   "instance": _obj({"id": {"type": "integer"}, "process_key": {"type": "string"},
                                     "status": {"type": "string", "enum": STATUSES}, "outcome": OUTCOME},
                                    description="in a search export: the instance as it is now (not hashed)")},
                  required=["format", "chain", "head", "hash", "events"],
                  description="one chain, verifiable offline (docs/audit.md, tools/verify_trail.py)"),
    "TrailBundle": _obj({"format": {"const": "salesflow-audit-bundle/1"}, "filters": {"type": "object"},
                         "exported_at": {"type": "string"}, "exported_by": {"type": "string"},
                         "count": {"type": "integer", "minimum": 0},
                         "instances": {"type": "array", "items": {"$ref": "#/components/schemas/Trail"}}}),
}

WHY = {
    400: "the body is not a JSON object: empty, malformed, NaN or Infinity (not JSON), nested deeper than 64 levels, "
         "or not valid Unicode",
    401: "no valid bearer token",
    403: "the engine refuses the caller, who may see the object but not do this",
    404: "no such object, or one the caller may not see (answered alike, so that ids do not leak)",
    409: "the task is no longer ready, or someone else holds it, or (`halted`) its instance is halted by an incident;"
         " for incidents: the incident is already resolved",
    413: "the body is larger than the server accepts",
    415: "the body is sent as another media type (a form, plain text): send JSON as Content-Type: application/json",
    422: "invalid fields (see `fields`: a number that is not finite, such as 1e400, or beyond ±(2^53 - 1) in "
         "form data, full-width digits for a number; a text the API keeps may not hold NUL; an Idempotency-Key "
         "used before for another request), or (deployments) invalid definitions (see `problems`)",
    429: "too many failed logins for this user name or from this address: locked out until Retry-After "
         "seconds have passed or an administrator unlocks it",
}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _errors(*codes: int) -> dict:
    responses = {str(c): _json(_ref("Error"), WHY[c]) for c in codes}
    if "401" in responses:
        responses["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}
    if "429" in responses:
        responses["429"]["headers"] = {"Retry-After": {"schema": {"type": "string"}, "required": True,
                                                       "description": "seconds until the lockout ends"}}
    return responses


def _deploy_op() -> dict:
    """201 when the changes are in force; 202 when governance made them drafts of a rule change request."""
    op = _op("deploy: validate and deploy BPMN, DMN and form files, all or nothing; with rule-change governance on, "
             "a process owner's changes become drafts of one request for the general manager's approval (202)", 201,
             _list("Deployed"), (400, 401, 403, 409, 413, 422), body="DeployRequest")
    op["responses"]["202"] = _json(_list("Deployed"), "submitted for approval: the changed processes are drafts")
    return op


def _op(summary: str, ok: int, schema: dict, errors: tuple[int, ...], body: str | None = None,
        params: list | None = None, public: bool = False, headers: dict | None = None) -> dict:
    operation_id, summary = summary.split(": ", 1)
    if body:  # every JSON body is read by webui/api/body.py, which refuses another media type
        errors = tuple(sorted({*errors, 415}))
    op: dict = {"summary": summary, "operationId": operation_id,
                "responses": {str(ok): _json(schema, summary, headers), **_errors(*errors)}}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    if public:
        op["security"] = []
    return op


def _path(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


TASK_ID = [_path("id", {"type": "string", "format": "uuid"})]
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "Any unique string (a UUID, say) the caller chooses per request, so that the request can be "
                   "retried safely after a lost answer: a retry by the same user with the same key and the same "
                   "request (path and body) within 24 hours (SALESFLOW_IDEMPOTENCY_HOURS) gets the first answer, "
                   "status and body, without the command running again, marked with `Idempotent-Replayed: true`. "
                   "The same key with another request is 422. A request that failed kept nothing: its retry runs "
                   "again. Keys are each user's own."}
REPLAYED = {"Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}, "required": False,
                                    "description": "present when this is the stored answer of an earlier "
                                                   "request with the same Idempotency-Key"}}
SEARCH = [
    _query("process", {"type": "string"}, "only this process key"),
    _query("customer", {"type": "string", "maxLength": 200}, "part of the customer name, any letter case"),
    _query("business_key", {"type": "string", "maxLength": 128}, "the start of the business key"),
    _query("status", {"type": "string", "enum": STATUSES}, "only this status"),
    _query("outcome", {"type": "string", "enum": OUTCOMES}, "only instances that ended so"),
    _query("started_from", {"type": "string", "format": "date"}, "started on or after this day (Asia/Shanghai)"),
    _query("started_to", {"type": "string", "format": "date"}, "started on or before this day (Asia/Shanghai)"),
    _query("participant", {"type": "string", "maxLength": 64},
           "a user who started it, or was assigned or completed one of its tasks"),
    _query("started_by", {"type": "string", "maxLength": 64}, "the user who started it (a requester's own requests)"),
    _query("sla_breached", {"type": "string", "enum": ["true", "false"]}, "only instances that did (not) breach "
                                                                         "an SLA"),
]
EXPORT_FORMAT = _query("format", {"type": "string", "enum": ["json", "csv"]}, "json (the default) or csv")


def _export(summary: str, json_schema: dict, errors: tuple[int, ...], params: list) -> dict:
    """An export: a JSON document or CSV text, sent as a file (Content-Disposition: attachment)."""
    op = _op(summary, 200, json_schema, errors, params=params)
    op["responses"]["200"]["content"]["text/csv"] = {"schema": {"type": "string"}}
    op["responses"]["200"]["headers"] = {"Content-Disposition": {"schema": {"type": "string"}, "required": True}}
    return op
INSTANCE_ID = [_path("id", {"type": "integer", "minimum": 1, "maximum": MAX_ID})]
INCIDENT_ID = [_path("id", {"type": "integer", "minimum": 1, "maximum": MAX_ID})]
CUSTOMER_ID = [_path("id", {"type": "integer", "minimum": 1, "maximum": MAX_ID})]


def _list(name: str) -> dict:
    return {"type": "array", "items": _ref(name)}


def document() -> dict:
    paths = {
        "/tokens": {"post": _op("createToken: a bearer token for a user name and password", 201, _ref("Token"),
                                (400, 401, 413, 422, 429), body="TokenRequest", public=True),
                    "get": _op("listTokens: my working tokens (not revoked, not expired), never their secret", 200,
                               _list("TokenInfo"), (401,))},
        "/tokens/current": {"delete": _op("revokeCurrentToken: revoke the token this request is sent with; it "
                                          "answers 401 from now on", 200, _ref("TokenInfo"), (401,))},
        "/tokens/{id}": {"delete": _op("revokeToken: revoke one of my tokens (an administrator: anyone's)", 200,
                                       _ref("TokenInfo"), (401, 404),
                                       params=[_path("id", {"type": "integer", "minimum": 1, "maximum": MAX_ID})])},
        "/processes": {"get": _op("listProcesses: deployed processes, latest versions", 200, _list("Process"),
                                  (401,))},
        "/processes/{key}": {"get": _op(
            "getProcess: the process's current version with its start form (JSON Schema, ui hints, zh/en labels) "
            "and whether the caller may start it", 200, _ref("ProcessDetail"), (401, 404),
            params=[_path("key", {"type": "string", "pattern": f"^{KEY_PATTERN}$"})])},
        "/processes/{key}/instances": {"post": _op(
            "startInstance: start the process; the instance with its open tasks", 201, _ref("Instance"),
            (400, 401, 403, 404, 409, 413, 422), body="StartRequest",
            params=[_path("key", {"type": "string", "pattern": f"^{KEY_PATTERN}$"}), IDEMPOTENCY_KEY],
            headers={"Location": {"schema": {"type": "string"}, "required": True}, **REPLAYED})},
        "/tasks": {"get": _op("listTasks: my inbox, ready tasks assigned to me or offered to my roles", 200,
                              _list("InboxTask"), (401, 422), params=[
                                  _query("process", {"type": "string"}, "only this process key"),
                                  _query("role", {"type": "string"}, "only tasks of this role"),
                                  _query("overdue", {"type": "string", "enum": ["true", "false"]},
                                         "only overdue (true) or only not overdue (false) tasks"),
                                  _query("sort", {"type": "string", "enum": ["created", "due"]},
                                         "created (default): oldest first; due: earliest due_at first, "
                                         "tasks without one last"),
                                  _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000},
                                         "at most this many tasks in the sort order (default: all)"),
                                  _query("offset", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
                                         "skip this many first")])},
        "/tasks/{id}": {"get": _op("getTask: the task with its form", 200, _ref("TaskDetail"), (401, 404),
                                   params=TASK_ID)},
        "/tasks/{id}/claim": {"post": _op("claimTask: assign the task to me", 200, _ref("Task"),
                                          (401, 403, 404, 409, 422), params=[*TASK_ID, IDEMPOTENCY_KEY],
                                          headers=REPLAYED)},
        "/tasks/{id}/unclaim": {"post": _op("unclaimTask: release the task to its role", 200, _ref("Task"),
                                            (401, 403, 404, 409), params=TASK_ID)},
        "/tasks/{id}/complete": {"post": _op("completeTask: complete it with the form's data; the instance "
                                             "afterwards", 200, _ref("Instance"), (400, 401, 403, 404, 409, 413, 422),
                                             body="CompleteRequest", params=[*TASK_ID, IDEMPOTENCY_KEY],
                                             headers=REPLAYED)},
        "/instances/{id}": {"get": _op("getInstance: status, data, open tasks, version", 200, _ref("Instance"),
                                       (401, 404), params=INSTANCE_ID)},
        "/instances/{id}/cancel": {"post": _op(
            "cancelInstance: withdraw it (its requester, before anyone else decided on it; outcome `withdrawn`) "
            "or cancel it (the roles its process allows; outcome `cancelled`), with a reason", 200,
            _ref("Instance"), (400, 401, 403, 404, 409, 413, 422), body="CancelRequest", params=INSTANCE_ID)},
        "/instances/{id}/history": {"get": _op("getHistory: the audit events in order", 200, _list("Event"),
                                               (401, 404), params=INSTANCE_ID)},
        "/instances/{id}/replay": {"get": _op(
            "replayInstance: verify the trail and replay it", 200, _ref("Replay"), (401, 404, 422),
            params=[*INSTANCE_ID, _query("step", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                         "also return the state after this step")])},
        "/instances": {"get": _op(
            "searchInstances: the instances the caller may see that match every filter given, newest first", 200,
            _ref("SearchResult"), (401, 422), params=[
                *SEARCH, _query("page", {"type": "integer", "minimum": 1, "maximum": 1000000}, "from 1"),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "25 by default")])},
        "/instances/export": {"get": _export(
            "exportSearch: every instance found (at most 1,000) with its whole trail: a JSON bundle of chains or "
            "CSV with one row per event", _ref("TrailBundle"), (401, 422), [EXPORT_FORMAT, *SEARCH])},
        "/instances/{id}/export": {"get": _export(
            "exportInstance: the instance's trail as JSON (verifiable offline) or CSV", _ref("Trail"),
            (401, 404, 422), [*INSTANCE_ID, EXPORT_FORMAT])},
        "/deployments": {"post": _deploy_op()},
        "/kpi": {"get": _op(
            "getKpi: the KPI figures (docs/kpi.md): response and resolution times against 24 h / 48 h, complaint "
            "resolution rate, satisfaction, volumes; overall and per process, month, role and person; monthly sales "
            "of delivered orders, their growth against the previous month and the repeat-customer rate; safety hazards "
            "open and overdue, accidents by cause and severity, the training pass rate, customer opinions answered "
            "within their deadline; the appraisal, rewards, penalties and sanctions per person. A member of the staff "
            "gets his own appraisal only (view `own`, the team's sections null)", 200, _ref("Kpi"),
            (401, 403, 422), params=[
                _query("from", {"type": "string", "format": "date"}, "registered on or after this day (company time)"),
                _query("to", {"type": "string", "format": "date"}, "registered on or before this day (company time)"),
                _query("process", {"type": "string"}, "only this process key")])},
        "/prices": {"get": _op(
            "listPrices: the company's price list (every row, or those valid on a day), by product, specification, "
            "grade and start; sales staff, finance, the general manager and auditors may read it", 200,
            _list("Price"), (401, 403, 422), params=[
                _query("on", {"type": "string", "format": "date"}, "only the rows valid on this day")])},
        "/customers": {"get": _op(
            "listCustomers: customers by name (at most 1,000), with their owners; the sales department, customer "
            "service, the management and auditors may read them", 200, _list("Customer"), (401, 403, 422), params=[
                _query("owner", {"type": "string"}, "only customers this login id owns"),
                _query("name", {"type": "string"}, "only customers whose name contains this"),
                _query("status", {"type": "string", "enum": ["active", "rejected"]}, "only this status")])},
        "/customers/{id}": {"get": _op("getCustomer: the customer with its contact log", 200, _ref("CustomerDetail"),
                                       (401, 403, 404), params=CUSTOMER_ID)},
        "/customers/{id}/contacts": {"post": _op(
            "logContact: log a call, letter or visit of an active customer (the sales department and customer "
            "service)", 201, _ref("Contact"), (400, 401, 403, 404, 413, 422), body="ContactRequest",
            params=CUSTOMER_ID)},
        "/customers/{id}/owner": {"post": _op(
            "changeCustomerOwner: give the customer to another active sales representative, with the reason (the "
            "sales manager)", 200, _ref("Customer"), (400, 401, 403, 404, 413, 422), body="OwnerRequest",
            params=CUSTOMER_ID)},
        "/incidents": {"get": _op(
            "listIncidents: administrators: the incidents, newest first (at most 500); each halts one instance "
            "until it is retried or cancelled", 200, _list("Incident"), (401, 403, 422), params=[
                _query("status", {"type": "string", "enum": ["open", "resolved", "all"]}, "open (the default), "
                       "resolved or all"),
                _query("process", {"type": "string"}, "only this process key")])},
        "/incidents/{id}/retry": {"post": _op(
            "retryIncident: administrators: run the failed step again now; the incident afterwards, resolved "
            "(the instance runs again) or still open with the new error", 200, _ref("Incident"),
            (401, 403, 404, 409), params=INCIDENT_ID)},
        "/incidents/{id}/cancel": {"post": _op(
            "cancelIncident: administrators: cancel the halted instance, with a reason, without running the "
            "failed step; the resolved incident", 200, _ref("Incident"), (400, 401, 403, 404, 409, 413, 422),
            body="CancelIncidentRequest", params=INCIDENT_ID)},
        "/openapi.json": {"get": {"summary": "this document", "operationId": "openapi", "security": [],
                                  "responses": {"200": {"description": "the OpenAPI document",
                                                        "content": {"application/json": {
                                                            "schema": {"type": "object"}}}}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "salesflow", "version": "1",
                 "description": "Start requests, work the inbox, complete tasks, read and replay the audit trail, "
                                "deploy processes. Every error body is {error, message, fields?}."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "POST /tokens gives one"}}},
    }


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(document())
