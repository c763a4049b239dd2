"""GET /api/v1/instances (search), /instances/export and /instances/{id}/export."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from flask import Flask

from engine import Engine
from engine.audit.verify import check_events
from tests.deployed_state import prepared
from tests.web.conftest import SAMPLE_REQUEST, deploy_p5_p6
from webui.app import create_app


@pytest.fixture
def app(engine: Engine, request: pytest.FixtureRequest) -> Flask:
    """tests/web's app; for a test that uses `found`, on the database that fixture describes."""
    if "found" in request.fixturenames:
        request.getfixturevalue("_found")
    else:
        prepared(engine, "web: P5, P6 and WEB_PEOPLE", deploy_p5_p6)
    return create_app(engine, {"TESTING": True, "SECRET_KEY": "test-secret"})


@pytest.fixture
def _found(engine: Engine, clock) -> dict[str, int]:
    """_find's requests, built once per test process and restored for every later test (tests/deployed_state.py),
    with the clock where the build left it."""
    ids, now = prepared(engine, "web: P5, P6 and WEB_PEOPLE, then search's three requests", _find)
    clock.set(now)
    return ids


@pytest.fixture
def found(app: Flask, _found: dict[str, int]) -> dict[str, int]:
    return _found


def _find(engine: Engine) -> tuple[dict[str, int], datetime]:
    """rep1: two sample requests a day apart (the first approved); rep2: one. (Started through the engine:
    the tokens are issued afterwards, so the day that passes does not expire them.)"""
    deploy_p5_p6(engine)

    def start(who: str, customer: str) -> int:
        return engine.start(who, "sample_request", {**SAMPLE_REQUEST, "customer_name": customer})

    first = start("rep1", "合肥建工集团")
    engine.complete("mgr1", engine.instance("rep1", first)["tasks"][0]["id"], {"approved": True})
    now = engine.clock.advance(days=1)
    ids = {"first": first, "second": start("rep1", "Acme Trading"), "third": start("rep2", "Acme East")}
    return ids, now


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [i["id"] for i in response.get_json()["items"]]


def test_search_finds_what_the_caller_may_see_newest_first(api, found):
    assert ids(api("rep1").get("/instances")) == [found["second"], found["first"]]
    assert ids(api("aud").get("/instances")) == [found["third"], found["second"], found["first"]]
    body = api("aud").get("/instances?customer=ACME&per_page=1&page=2").get_json()
    assert (body["total"], body["page"], body["pages"], body["per_page"]) == (2, 2, 2, 1)
    item = body["items"][0]
    assert item["id"] == found["second"] and item["customer_name"] == "Acme Trading"
    assert item["process_names"] == {"zh": "样品提供申请", "en": "Sample request approval"}
    assert item["sla_breached"] is False and item["open_tasks"] == 1 and item["status"] == "running"


def test_search_filters(api, found):
    aud = api("aud")
    assert ids(aud.get("/instances?started_from=2026-03-03")) == [found["third"], found["second"]]
    assert ids(aud.get("/instances?started_to=2026-03-02")) == [found["first"]]
    assert ids(aud.get("/instances?participant=mgr1")) == [found["first"]]
    assert ids(aud.get("/instances?participant=rep2&process=sample_request&status=running")) == [found["third"]]
    assert ids(aud.get("/instances?sla_breached=true")) == []
    assert ids(aud.get("/instances?process=customer_visit")) == []
    assert ids(aud.get("/instances?customer=")) == ids(aud.get("/instances"))  # an empty text is no filter


@pytest.mark.parametrize(("query", "field", "message"), [
    ("status=open", "status", "Must be running, incident, completed, cancelled or error"),
    ("started_from=", "started_from", "Must be a date as YYYY-MM-DD"),
    ("started_to=2026-02-30", "started_to", "Must be a date as YYYY-MM-DD"),
    ("sla_breached=yes", "sla_breached", "Must be “breached” or “not breached”"),
    ("page=0", "page", "Must be a whole number from 1 to 1000000"),
    ("per_page=500", "per_page", "Must be a whole number from 1 to 100"),
    ("customer=a%00b", "customer", "May not contain a NUL character"),
])
def test_bad_filters_are_422_with_a_message_per_field(api, found, query, field, message):
    response = api("aud", {"Accept-Language": "en"}).get(f"/instances?{query}")
    assert response.status_code == 422
    assert response.get_json()["fields"] == {field: message}
    assert response.get_json()["error"] == "invalid_data"


def test_field_messages_are_chinese_by_default(api, found):
    body = api("aud").get("/instances?status=open").get_json()
    assert body["fields"] == {"status": "须为 running、incident、completed、cancelled 或 error"}


def test_the_api_needs_a_token(api, found):
    for path in ("/instances", "/instances/export", f"/instances/{found['first']}/export"):
        assert api().get(path).status_code == 401, path


def test_one_instance_exports_as_json_and_csv(api, engine, found):
    response = api("rep1").get(f"/instances/{found['first']}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="salesflow-instance-{found["first"]}.json"'
    doc = response.get_json()
    assert doc["format"] == "salesflow-audit/1"
    assert check_events(doc["chain"], doc["events"], doc["head"]).ok
    response = api("rep1").get(f"/instances/{found['first']}/export?format=csv")
    assert response.mimetype == "text/csv" and not response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert len(rows) == 1 + len(engine.history("rep1", found["first"]))


def test_instance_export_refusals(api, found):
    assert api("rep2").get(f"/instances/{found['first']}/export").status_code == 404  # as if it did not exist
    assert api("aud").get("/instances/999999/export").status_code == 404
    response = api("aud", {"Accept-Language": "en"}).get(f"/instances/{found['first']}/export?format=pdf")
    assert response.status_code == 422 and response.get_json()["fields"] == {"format": "Must be json or csv"}


def test_a_search_exports_as_a_bundle_or_csv(api, found):
    response = api("aud").get("/instances/export?customer=acme")
    assert response.status_code == 200 and response.mimetype == "application/json"
    bundle = response.get_json()
    assert bundle["format"] == "salesflow-audit-bundle/1" and bundle["filters"] == {"customer": "acme"}
    assert [d["chain"] for d in bundle["instances"]] == [f"instance:{found['third']}", f"instance:{found['second']}"]
    assert all(check_events(d["chain"], d["events"], d["head"]).ok for d in bundle["instances"])
    response = api("rep2").get("/instances/export?format=csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert rows[0][0] == "instance_id" and {r[0] for r in rows[1:]} == {str(found["third"])}


def test_search_export_refusals(api, found, monkeypatch):
    from engine.runtime import search

    en = api("aud", {"Accept-Language": "en"})
    assert en.get("/instances/export?format=xml").get_json()["fields"] == {"format": "Must be json or csv"}
    assert en.get("/instances/export?status=x").status_code == 422
    monkeypatch.setattr(search, "MAX_EXPORT", 2)
    response = en.get("/instances/export")
    assert response.status_code == 422
    assert response.get_json()["fields"]["export"].startswith("More than 2 instances found; an export holds at most 2")
