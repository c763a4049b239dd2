"""GET /openapi.json: the OpenAPI 3.1 document of this API, written to match the code exactly.

tests/web/test_api__schemathesis.py holds the code to it: every status code an
operation answers and every response body must be the one described here.
"""

from __future__ import annotations

from flask import Response, jsonify

from engine.runtime.loading import MAX_ID
from webui.api import KEY_PATTERN, blueprint, shapes
from webui.api.schema import NULLABLE_TEXT, NULLABLE_TIME, OUTCOME, OUTCOMES, STATUSES, TEXT, TIME, list_of, obj, ref

# the engine reads a file by its extension, in any letter case
FILE_NAME = r"\.([Bb][Pp][Mm][Nn]|[Dd][Mm][Nn]|[Yy][Aa][Mm][Ll]|[Yy][Mm][Ll])$"

# The answers shapes.py cuts are documented from its shapes; below are the request bodies, the error body and
# the answers the engine gives whole (tokens, replay, search, exports).
OTHER_SCHEMAS: dict[str, dict] = {
    "Error": obj({
        "error": {"type": "string", "description": "a stable code: bad_request, unauthorized, forbidden, not_found, "
                                                   "method_not_allowed, conflict, halted (a 409: the instance is "
                                                   "halted by an incident), too_large, invalid_data, "
                                                   "process_error, invalid_definition, locked, replaces_process "
                                                   "(a 409 of deployments: see `replacing`)"},
        "message": {"type": "string", "description": "what went wrong, for people"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "field name -> message, in the language of Accept-Language (zh by default)"},
        "problems": {"type": "array", "items": ref("Problem"),
                     "description": "invalid_definition only: each file's problems"},
        "messages": {**TEXT, "description": "replaces_process only: the message in each language"},
        "replacing": {"type": "array", "items": ref("Replacement"),
                      "description": "replaces_process only: the deployed processes the bundle would replace"},
    }, required=["error", "message"]),
    "Replacement": obj({
        "key": {"type": "string"}, "name": {"type": "string", "description": "of the process in force"},
        "version": {"type": "integer", "description": "the version in force"},
        "deployed_by": {"type": "string"}, "deployed_at": {"type": "string", "description": "YYYY-MM-DD HH:MM"},
        "new_name": {"type": "string", "description": "the process name of the diagram that would replace it"},
        "diff": {"type": "object", "description": "what would change: against (the version in force), added, "
                                                  "removed, renamed (element ids), names (id: name of the added "
                                                  "and removed), forms_added, forms_removed, forms_changed, "
                                                  "form_titles (key: title)"}}),
    "TokenRequest": obj({"username": {"type": "string"}, "password": {"type": "string"}}, closed=False),
    "Token": obj({"token": {"type": "string", "description": "send as `Authorization: Bearer <token>`; "
                                                            "valid for 12 hours"}}),
    "StartRequest": obj({"data": {"type": "object", "description": "the start form's fields"},
                          "business_key": {"type": "string", "minLength": 1, "maxLength": 128}},
                         required=[], closed=False),
    "CompleteRequest": obj({"data": {"type": "object", "description": "the task form's fields"}},
                            required=[], closed=False),
    "Replay": obj({
        "verified": {"type": "boolean", "description": "the trail is intact and replaying it gives the same result"},
        "steps": {"type": "integer", "minimum": 0},
        "first_mismatch": {"oneOf": [obj({"position": {"type": "integer"}, "kind": {"type": "string"},
                                           "reason": {"type": "string"}, "expected": {}, "actual": {}}),
                                     {"type": "null"}]},
        "state": {"type": ["object", "null"], "description": "the state after ?step=N; null without it"},
    }),
    "CancelRequest": obj({"reason": {"type": "string", "minLength": 1, "maxLength": 2000,
                                      "description": "why; the trail keeps it"}}, required=["reason"]),
    "DeployRequest": obj({
        "files": {"type": "array", "minItems": 1,
                  "items": obj({"name": {"type": "string", "minLength": 1, "maxLength": 255,
                                          "pattern": FILE_NAME, "description": "ends in .bpmn, .dmn, .yaml or .yml"},
                                 "content": {"type": "string"}}, closed=False)},
        "note": {"type": "string"},
        "emergency": {"type": "boolean", "description": "administrators: in force at once while governance is on, "
                                                        "acknowledged by the general manager afterwards"},
        "reason": {"type": "string", "description": "required with emergency: why it cannot wait"},
        "replace": {"type": "array", "items": {"type": "string"},
                    "description": "process ids whose deployed process the bundle may replace: a diagram that is "
                                   "not an edit of the process in force under its id (docs/modelling.md) is "
                                   "refused with 409 replaces_process unless its id is listed"},
    }, required=["files"], closed=False),
    "FoundInstance": obj({
        "id": {"type": "integer"}, "process_key": {"type": "string"}, "process_name": {"type": "string"},
        "process_names": TEXT, "version": {"type": "integer"}, "business_key": NULLABLE_TEXT,
        "customer_name": NULLABLE_TEXT,
        "status": {"type": "string", "enum": STATUSES}, "outcome": OUTCOME,
        "started_by": {"type": "string"}, "started_at": TIME, "ended_at": NULLABLE_TIME,
        "sla_breached": {"type": "boolean", "description": "an SLA timer fired, or a task was or is late "
                                                           "(docs/audit.md)"},
        "open_tasks": {"type": "integer", "minimum": 0}}),
    "SearchResult": obj({"items": {"type": "array", "items": {"$ref": "#/components/schemas/FoundInstance"}},
                          "total": {"type": "integer", "minimum": 0},
                          "total_capped": {"type": "boolean", "description": "counting stopped at 1,000 past the "
                                           "page's start: at least `total` match (docs/audit.md)"},
                          "page": {"type": "integer", "minimum": 1},
                          "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
                          "pages": {"type": "integer", "minimum": 1}}),
    "CancelIncidentRequest": obj({"reason": {"type": "string", "minLength": 1, "maxLength": 2000,
                                              "description": "why the case is cancelled (required)"}},
                                  closed=False),
    "ContactRequest": obj({
        "kind": {"type": "string", "enum": ["call", "letter", "visit", "other"]},
        "happened_on": {"type": "string", "format": "date", "description": "today or up to a year ago"},
        "summary": {"type": "string", "minLength": 1, "maxLength": 4000},
        "instance_id": {"type": ["integer", "null"], "minimum": 1, "description": "the case it was about"}},
        required=["kind", "happened_on", "summary"], closed=False),
    "OwnerRequest": obj({"owner": {"type": "string", "description": "the login id of an active sales representative"},
                          "reason": {"type": "string", "minLength": 1, "maxLength": 2000}}, closed=False),
    "Trail": obj({"format": {"const": "salesflow-audit/1"}, "chain": {"type": "string"},
                   "head": {"type": ["object", "null"]}, "hash": {"type": "string"},
                   "events": {"type": "array", "items": {"type": "object"}},
                   "instance": obj({"id": {"type": "integer"}, "process_key": {"type": "string"},
                                     "status": {"type": "string", "enum": STATUSES}, "outcome": OUTCOME},
                                    description="in a search export: the instance as it is now (not hashed)")},
                  required=["format", "chain", "head", "hash", "events"],
                  description="one chain, verifiable offline (docs/audit.md, tools/verify_trail.py)"),
    "TrailBundle": obj({"format": {"const": "salesflow-audit-bundle/1"}, "filters": {"type": "object"},
                         "exported_at": {"type": "string"}, "exported_by": {"type": "string"},
                         "count": {"type": "integer", "minimum": 0},
                         "instances": {"type": "array", "items": {"$ref": "#/components/schemas/Trail"}}}),
}
SCHEMAS: dict[str, dict] = {**{shape.name: shape.schema() for shape in shapes.SHAPES}, **OTHER_SCHEMAS}

WHY = {
    400: "the body is not a JSON object: empty, malformed, NaN or Infinity (not JSON), nested deeper than 64 levels, "
         "or not valid Unicode",
    401: "no valid bearer token",
    403: "the engine refuses the caller, who may see the object but not do this",
    404: "no such object, or one the caller may not see (answered alike, so that ids do not leak)",
    409: "the task is no longer ready, or someone else holds it, or (`halted`) its instance is halted by an incident;"
         " for incidents: the incident is already resolved; for deployments: a change awaits approval, or "
         "(`replaces_process`) a diagram would replace an unrelated process under its id (see `replacing`)",
    413: "the body is larger than the server accepts",
    415: "the body is sent as another media type (a form, plain text): send JSON as Content-Type: application/json",
    422: "invalid fields (see `fields`: a number that is not finite, such as 1e400, or beyond ±(2^53 - 1) in "
         "form data, full-width digits for a number; a text the API keeps may not hold NUL; an Idempotency-Key "
         "used before for another request; a query parameter the operation does not declare), or (deployments) "
         "invalid definitions (see `problems`)",
    429: "too many failed logins for this user name or from this address: locked out until Retry-After "
         "seconds have passed or an administrator unlocks it",
}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _errors(*codes: int) -> dict:
    responses = {str(c): _json(ref("Error"), WHY[c]) for c in codes}
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
             list_of("Deployed"), (400, 401, 403, 409, 413, 422), body="DeployRequest")
    op["responses"]["202"] = _json(list_of("Deployed"), "submitted for approval: the changed processes are drafts")
    return op


def _op(summary: str, ok: int, schema: dict, errors: tuple[int, ...], body: str | None = None,
        params: list | None = None, public: bool = False, headers: dict | None = None) -> dict:
    operation_id, summary = summary.split(": ", 1)
    if body:  # every JSON body is read by webui/api/body.py, which refuses another media type
        errors = tuple(sorted({*errors, 415}))
    errors = tuple(sorted({*errors, 422}))  # a query parameter the operation does not declare (query_names.py)
    op: dict = {"summary": summary, "operationId": operation_id,
                "responses": {str(ok): _json(schema, summary, headers), **_errors(*errors)}}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
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



def document() -> dict:
    paths = {
        "/tokens": {"post": _op("createToken: a bearer token for a user name and password", 201, ref("Token"),
                                (400, 401, 413, 422, 429), body="TokenRequest", public=True),
                    "get": _op("listTokens: my working tokens (not revoked, not expired), never their secret", 200,
                               list_of("TokenInfo"), (401,))},
        "/tokens/current": {"delete": _op("revokeCurrentToken: revoke the token this request is sent with; it "
                                          "answers 401 from now on", 200, ref("TokenInfo"), (401,))},
        "/tokens/{id}": {"delete": _op("revokeToken: revoke one of my tokens (an administrator: anyone's)", 200,
                                       ref("TokenInfo"), (401, 404),
                                       params=[_path("id", {"type": "integer", "minimum": 1, "maximum": MAX_ID})])},
        "/processes": {"get": _op("listProcesses: deployed processes, latest versions", 200, list_of("Process"),
                                  (401,))},
        "/processes/{key}": {"get": _op(
            "getProcess: the process's current version with its start form (JSON Schema, ui hints, zh/en labels) "
            "and whether the caller may start it", 200, ref("ProcessDetail"), (401, 404),
            params=[_path("key", {"type": "string", "pattern": f"^{KEY_PATTERN}$"})])},
        "/processes/{key}/instances": {"post": _op(
            "startInstance: start the process; the instance with its open tasks", 201, ref("Instance"),
            (400, 401, 403, 404, 409, 413, 422), body="StartRequest",
            params=[_path("key", {"type": "string", "pattern": f"^{KEY_PATTERN}$"}), IDEMPOTENCY_KEY],
            headers={"Location": {"schema": {"type": "string"}, "required": True}, **REPLAYED})},
        "/tasks": {"get": _op("listTasks: my inbox, ready tasks assigned to me or offered to my roles", 200,
                              list_of("InboxTask"), (401, 422), params=[
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
        "/tasks/{id}": {"get": _op("getTask: the task with its form", 200, ref("TaskDetail"), (401, 404),
                                   params=TASK_ID)},
        "/tasks/{id}/claim": {"post": _op("claimTask: assign the task to me", 200, ref("Task"),
                                          (401, 403, 404, 409, 422), params=[*TASK_ID, IDEMPOTENCY_KEY],
                                          headers=REPLAYED)},
        "/tasks/{id}/unclaim": {"post": _op("unclaimTask: release the task to its role", 200, ref("Task"),
                                            (401, 403, 404, 409), params=TASK_ID)},
        "/tasks/{id}/complete": {"post": _op("completeTask: complete it with the form's data; the instance "
                                             "afterwards", 200, ref("Instance"), (400, 401, 403, 404, 409, 413, 422),
                                             body="CompleteRequest", params=[*TASK_ID, IDEMPOTENCY_KEY],
                                             headers=REPLAYED)},
        "/instances/{id}": {"get": _op("getInstance: status, data, open tasks, version", 200, ref("Instance"),
                                       (401, 404), params=INSTANCE_ID)},
        "/instances/{id}/cancel": {"post": _op(
            "cancelInstance: withdraw it (its requester, before anyone else decided on it; outcome `withdrawn`) "
            "or cancel it (the roles its process allows; outcome `cancelled`), with a reason", 200,
            ref("Instance"), (400, 401, 403, 404, 409, 413, 422), body="CancelRequest", params=INSTANCE_ID)},
        "/instances/{id}/history": {"get": _op("getHistory: the audit events in order", 200, list_of("Event"),
                                               (401, 404), params=INSTANCE_ID)},
        "/instances/{id}/replay": {"get": _op(
            "replayInstance: verify the trail and replay it", 200, ref("Replay"), (401, 404, 422),
            params=[*INSTANCE_ID, _query("step", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                         "also return the state after this step")])},
        "/instances": {"get": _op(
            "searchInstances: the instances the caller may see that match every filter given, newest first", 200,
            ref("SearchResult"), (401, 422), params=[
                *SEARCH, _query("page", {"type": "integer", "minimum": 1, "maximum": 1000000}, "from 1"),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "25 by default")])},
        "/instances/export": {"get": _export(
            "exportSearch: every instance found (at most 1,000) with its whole trail: a JSON bundle of chains or "
            "CSV with one row per event", ref("TrailBundle"), (401, 422), [EXPORT_FORMAT, *SEARCH])},
        "/instances/{id}/export": {"get": _export(
            "exportInstance: the instance's trail as JSON (verifiable offline) or CSV", ref("Trail"),
            (401, 404, 422), [*INSTANCE_ID, EXPORT_FORMAT])},
        "/deployments": {"post": _deploy_op()},
        "/kpi": {"get": _op(
            "getKpi: the KPI figures (docs/kpi.md): response and resolution times against 24 h / 48 h, complaint "
            "resolution rate, satisfaction, volumes; overall and per process, month, role and person; monthly sales "
            "of delivered orders, their growth against the previous month and the repeat-customer rate; safety hazards "
            "open and overdue, accidents by cause and severity, the training pass rate, customer opinions answered "
            "within their deadline; the appraisal, rewards, penalties and sanctions per person. A member of the staff "
            "gets his own appraisal only (view `own`, the team's sections null)", 200, ref("Kpi"),
            (401, 403, 422), params=[
                _query("from", {"type": "string", "format": "date"}, "registered on or after this day (company time)"),
                _query("to", {"type": "string", "format": "date"}, "registered on or before this day (company time)"),
                _query("process", {"type": "string"}, "only this process key")])},
        "/prices": {"get": _op(
            "listPrices: the company's price list (every row, or those valid on a day), by product, specification, "
            "grade and start; sales staff, finance, the general manager and auditors may read it", 200,
            list_of("Price"), (401, 403, 422), params=[
                _query("on", {"type": "string", "format": "date"}, "only the rows valid on this day")])},
        "/customers": {"get": _op(
            "listCustomers: customers by name (at most 1,000), with their owners; the sales department, customer "
            "service, the management and auditors may read them", 200, list_of("Customer"), (401, 403, 422), params=[
                _query("owner", {"type": "string"}, "only customers this login id owns"),
                _query("name", {"type": "string"}, "only customers whose name contains this"),
                _query("status", {"type": "string", "enum": ["active", "rejected"]}, "only this status")])},
        "/customers/{id}": {"get": _op("getCustomer: the customer with its contact log", 200, ref("CustomerDetail"),
                                       (401, 403, 404), params=CUSTOMER_ID)},
        "/customers/{id}/contacts": {"post": _op(
            "logContact: log a call, letter or visit of an active customer (the sales department and customer "
            "service)", 201, ref("Contact"), (400, 401, 403, 404, 413, 422), body="ContactRequest",
            params=CUSTOMER_ID)},
        "/customers/{id}/owner": {"post": _op(
            "changeCustomerOwner: give the customer to another active sales representative, with the reason (the "
            "sales manager)", 200, ref("Customer"), (400, 401, 403, 404, 413, 422), body="OwnerRequest",
            params=CUSTOMER_ID)},
        "/incidents": {"get": _op(
            "listIncidents: administrators: the incidents, newest first (at most 500); each halts one instance "
            "until it is retried or cancelled", 200, list_of("Incident"), (401, 403, 422), params=[
                _query("status", {"type": "string", "enum": ["open", "resolved", "all"]}, "open (the default), "
                       "resolved or all"),
                _query("process", {"type": "string"}, "only this process key")])},
        "/incidents/{id}/retry": {"post": _op(
            "retryIncident: administrators: run the failed step again now; the incident afterwards, resolved "
            "(the instance runs again) or still open with the new error", 200, ref("Incident"),
            (401, 403, 404, 409), params=INCIDENT_ID)},
        "/incidents/{id}/cancel": {"post": _op(
            "cancelIncident: administrators: cancel the halted instance, with a reason, without running the "
            "failed step; the resolved incident", 200, ref("Incident"), (400, 401, 403, 404, 409, 413, 422),
            body="CancelIncidentRequest", params=INCIDENT_ID)},
        "/openapi.json": {"get": _op("openapi: this document", 200, {"type": "object"}, (), public=True)},
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
