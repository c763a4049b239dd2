"""Issue 11, finding 3: incidents are for administrators, on a page (/admin/incidents, linked from
the header) and in the API (GET /api/v1/incidents, POST .../retry and .../cancel); everybody else
gets 403. A halted instance's task answers 409 `halted`. /metrics counts open incidents per process."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from engine import Engine
from tests.security._incidents import deploy, fix_poison, run_out_of_attempts, start
from tests.web.conftest import (
    PASSWORD,
    Api,
    Pages,
    _compiled_translations,  # noqa: F401 - autouse: the pages' catalogues
)
from webui.api.shapes import INCIDENT_KEYS
from webui.app import create_app


@pytest.fixture
def app(engine: Engine, clock) -> Flask:
    deploy(engine)
    return create_app(engine, {"TESTING": True, "SECRET_KEY": "test-secret"})


@pytest.fixture
def halted(app: Flask, engine: Engine, clock) -> int:
    iid = start(engine, "raise", "坏客户")
    clock.advance(hours=2)
    run_out_of_attempts(engine, clock)
    return iid


def api(app: Flask, username: str) -> Api:
    response = app.test_client().post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201
    return Api(app.test_client(), response.get_json()["token"])


def pages(app: Flask, username: str) -> Pages:
    return Pages(app).login(username)


def test_the_api_lists_incidents_to_administrators_only(app, engine, halted):
    response = api(app, "adm").get("/incidents")
    assert response.status_code == 200
    [incident] = response.get_json()
    assert set(incident) == set(INCIDENT_KEYS)
    assert incident["instance_id"] == halted and incident["kind"] == "timer" and incident["element"] == "check"
    assert incident["element_name"] == {"zh": "核对", "en": "核对"} and incident["status"] == "open"
    assert api(app, "adm").get("/incidents?status=resolved").get_json() == []
    assert api(app, "adm").get("/incidents?status=bogus").status_code == 422
    for who in ("rep", "mgr", "aud", "own"):
        assert api(app, who).get("/incidents").status_code == 403
        assert api(app, who).post(f"/incidents/{incident['id']}/retry").status_code == 403
        assert api(app, who).post(f"/incidents/{incident['id']}/cancel", json={"reason": "x"}).status_code == 403
    assert Api(app.test_client(), None).get("/incidents").status_code == 401


def test_the_api_refuses_to_complete_a_task_of_a_halted_instance(app, engine, halted):
    [task] = engine.inbox("mgr")
    response = api(app, "mgr").post(f"/tasks/{task['id']}/complete", json={"data": {"done": True}})
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "halted" and "an administrator must retry or cancel it" in body["message"]


def test_the_api_retries_after_a_fix_and_cancels_with_a_reason(app, engine, clock, halted):
    other = start(engine, "raise", "另一个")
    clock.advance(hours=2)
    run_out_of_attempts(engine, clock)
    admin = api(app, "adm")
    by_instance = {i["instance_id"]: i for i in admin.get("/incidents").get_json()}

    engine.migrate("own", "poison", fix_poison(engine))
    retried = admin.post(f"/incidents/{by_instance[halted]['id']}/retry")
    assert retried.status_code == 200
    assert retried.get_json()["status"] == "resolved" and retried.get_json()["instance_status"] == "running"
    assert admin.post(f"/incidents/{by_instance[halted]['id']}/retry").status_code == 409

    target = f"/incidents/{by_instance[other]['id']}/cancel"
    for body in ({}, {"reason": ""}, {"reason": 5}):
        refused = admin.post(target, json=body)
        assert refused.status_code == 422 and set(refused.get_json()["fields"]) == {"reason"}, body
    cancelled = admin.post(target, json={"reason": "客户撤单"})
    assert cancelled.status_code == 200
    assert cancelled.get_json()["resolution"] == "cancelled" and cancelled.get_json()["instance_status"] == "cancelled"
    assert admin.post("/incidents/999999/retry").status_code == 404


def test_the_page_lists_incidents_for_administrators_in_both_languages(app, halted):
    admin = pages(app, "adm")
    inbox = admin.get("/inbox").get_data(as_text=True)
    assert 'id="nav-incidents"' in inbox and "异常" in inbox
    page = admin.get("/admin/incidents")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row = re.search(rf'<tr id="incident-\d+" [^>]*data-instance-id="{halted}".*?</tr>', html, re.S).group(0)
    assert "测试定时核对" in row and "核对" in row and "division by zero" in row
    assert '<td class="attempts">5</td>' in row and "定时器" in row and "重试" in row
    admin.post("/language", {"lang": "en"})
    english = admin.get("/admin/incidents").get_data(as_text=True)
    assert "<h1>Incidents</h1>" in english and "Timer" in english and "Retry" in english
    assert "Reason for cancelling" in english


def test_the_page_is_closed_to_everybody_else(app, halted):
    for who in ("rep", "mgr", "aud", "own"):
        client = pages(app, who)
        assert 'id="nav-incidents"' not in client.get("/inbox").get_data(as_text=True)
        assert client.get("/admin/incidents").status_code == 403
        incident_id = 1
        assert client.post(f"/admin/incidents/{incident_id}/retry", {}).status_code == 403
        assert client.post(f"/admin/incidents/{incident_id}/cancel", {"reason": "x"}).status_code == 403
    assert Pages(app).get("/admin/incidents").status_code in (302, 401)


def test_the_page_cancels_only_with_a_reason_and_retries(app, engine, halted):
    admin = pages(app, "adm")
    [incident] = engine.incidents("adm")
    refused = admin.post(f"/admin/incidents/{incident['id']}/cancel", {"reason": "  "}, form_page="/admin/incidents")
    assert refused.status_code == 422
    assert 'id="reason-error-' in refused.get_data(as_text=True)
    assert engine.instance("aud", halted)["status"] == "incident"

    failed = admin.post(f"/admin/incidents/{incident['id']}/retry", form_page="/admin/incidents")
    assert failed.status_code == 302
    assert "重试仍然失败" in admin.get("/admin/incidents").get_data(as_text=True)

    done = admin.post(f"/admin/incidents/{incident['id']}/cancel", {"reason": "客户撤单"}, form_page="/admin/incidents")
    assert done.status_code == 302
    assert engine.instance("aud", halted)["status"] == "cancelled"
    resolved = admin.get("/admin/incidents?status=resolved").get_data(as_text=True)
    assert "客户撤单" in resolved and "实例已取消" in resolved


def test_the_instance_and_task_pages_say_the_case_is_halted(app, engine, halted):
    [task] = engine.inbox("mgr")
    manager = pages(app, "mgr")
    inbox = manager.get("/inbox").get_data(as_text=True)
    assert re.search(rf'data-instance-id="{halted}".*?badge status-incident', inbox, re.S)
    instance = manager.get(f"/instances/{halted}").get_data(as_text=True)
    assert 'id="halted"' in instance and "异常" in instance
    task_page = manager.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert 'id="halted"' in task_page and 'id="complete"' not in task_page
    refused = manager.post(f"/tasks/{task['id']}", {"data.done": "true"}, form_page=f"/tasks/{task['id']}")
    assert refused.status_code == 302
    assert "须由管理员重试或取消" in manager.get(f"/tasks/{task['id']}").get_data(as_text=True)


def test_metrics_count_open_incidents_per_process(app, engine, halted):
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert re.search(r'^salesflow_incidents_open\{process="poison"\} 1\.0$', text, re.M), text
    assert re.search(r"^salesflow_timers_overdue 0\.0$", text, re.M)  # a halted timer is no worker's backlog
    engine.cancel_incident("adm", engine.incidents("adm")[0]["id"], "测试")
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert not re.search(r"^salesflow_incidents_open\{", text, re.M)
