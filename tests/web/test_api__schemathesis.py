"""The API against its own OpenAPI document: generated requests never get a 500, and every
status code, content type, header and body is the one the document declares.

The document is read from the app (GET /api/v1/openapi.json of an app built at import);
each operation then runs against the test's own `app` (a fresh database with one started
sample request) with a bounded, deterministic number of examples. Besides what the
document generates, some path ids and bodies are ones that exist or are valid, so that the
success responses are checked too; each operation is called by someone who may use it.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from engine import Engine
from webui.app import create_app

SAMPLE = {"customer_name": "ACME", "customer_class": "key_account", "product": "PVC", "spec": "S1",
          "quantity": 5, "purpose": "project_bid", "delivery_address": "Shanghai", "wanted_by": "2026-03-20"}
CONFIG = schemathesis.Config.from_dict({
    # the token is the test's own (sent with each call), so schemathesis generates no Authorization itself;
    # 401 without a token, with a forged one and with an expired one is in test_api__tokens.py
    "generation": {"max-examples": 25, "deterministic": True, "with-security-parameters": False,
                   "allow-extra-parameters": False},
    # a request the document calls valid may still be refused by the engine: the form's own rules (422),
    # who may do it (403), ids that do not exist (404), a task no longer ready (409), a user name the login
    # throttle locked after the generated wrong passwords (429); never a 400
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 401, 403, 404, 409, 422, 429]}},
})
# the document needs no database: an app on an engine that is never used serves it
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", create_app(Engine("sqlite://"), {"TESTING": True, "SECRET_KEY": "x"}), config=CONFIG)

EXISTING: dict[str, dict] = {}  # path part -> path parameters naming a real object of the running test
VALID_BODIES = {"/processes/{key}/instances": {"data": SAMPLE, "business_key": "S-2"},
                "/tasks/{id}/complete": {"data": {"approved": True}}}


def caller(path: str) -> str:
    """Who calls: the sales rep starts requests, the sales manager works the open task, the admin does the rest."""
    if path.startswith("/processes/"):
        return "rep1"
    return "mgr1" if path.startswith("/tasks") else "adm"


@schema.hook
def before_generate_path_parameters(context, strategy):  # schemathesis' hook protocol
    for part in ("processes", "instances", "tasks"):
        if context.operation.path.startswith(f"/{part}/"):
            return st.one_of(strategy, st.builds(lambda p=part: EXISTING[p]))
    return strategy


@schema.hook
def before_generate_body(context, strategy):
    valid = VALID_BODIES.get(context.operation.path)
    return strategy if valid is None else st.one_of(strategy, st.just(valid))


@pytest.fixture
def existing(engine: Engine) -> None:
    iid = engine.start("rep1", "sample_request", SAMPLE, business_key="S-1")
    EXISTING["processes"] = {"key": "sample_request"}
    EXISTING["instances"] = {"id": iid}
    EXISTING["tasks"] = {"id": engine.instance("rep1", iid)["tasks"][0]["id"]}


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api__conforms_to_its_openapi_document(case, app: Flask, api_token, existing) -> None:
    token = api_token(caller(case.operation.path))
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"})

