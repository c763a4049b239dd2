"""/healthz for load balancers and /metrics for Prometheus: what an operator relies on."""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine import Engine
from webui.app import create_app


@pytest.fixture
def ops(approval: Engine):  # a Flask test client
    return create_app(approval, {"TESTING": True, "SECRET_KEY": "test"}).test_client()


def scrape(client) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one /metrics scrape."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_healthz_answers_ok_when_the_database_is_current(ops):
    response = ops.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["schema"]["current"] is True
    assert body["schema"]["revision"] == body["schema"]["head"]


def test_healthz_says_unavailable_when_the_database_is_unreachable_or_not_migrated(tmp_path):
    down = create_app(Engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"),
                      {"TESTING": True, "SECRET_KEY": "test"}).test_client()
    response = down.get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"
    empty = create_app(Engine(f"sqlite:///{tmp_path / 'empty.db'}"), {"TESTING": True, "SECRET_KEY": "t"})
    response = empty.test_client().get("/healthz")
    assert response.status_code == 503
    assert "salesflow init" in response.get_json()["error"]


def test_metrics_count_commands_with_their_outcome_and_latency(approval, ops):
    before = scrape(ops)
    iid = approval.start("rep", "approval", {"customer_name": "客户 ACME", "amount_yuan": 12000})
    task = approval.inbox("mgr")[0]["id"]
    approval.claim("mgr", task)
    with pytest.raises(Exception, match="already claimed"):
        approval.claim("mgr2", task)
    after = scrape(ops)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert delta("salesflow_commands_total", command="start", outcome="ok") == 1
    assert delta("salesflow_commands_total", command="claim", outcome="ok") == 1
    assert delta("salesflow_commands_total", command="claim", outcome="conflict") == 1
    assert delta("salesflow_command_seconds_count", command="claim") == 2
    assert delta("salesflow_command_seconds_sum", command="start") > 0
    assert approval.instance("aud", iid)["status"] == "running"


def test_metrics_show_open_and_overdue_tasks_and_due_timers(approval, clock, ops):
    approval.start("rep", "approval", {"customer_name": "客户 ACME", "amount_yuan": 12000})
    approval.start("rep", "approval", {"customer_name": "客户 B", "amount_yuan": 500})
    now = scrape(ops)
    assert now[("salesflow_open_tasks", (("role", "sales_manager"),))] == 2
    assert now[("salesflow_instances_running", ())] == 2
    assert now[("salesflow_timers_waiting", ())] == 2  # the 24 h escalation of each
    assert now[("salesflow_timers_due", ())] == 0

    clock.advance(hours=24, seconds=30)  # due, but the workers still have their minute
    later = scrape(ops)
    assert later[("salesflow_timers_due", ())] == 2 and later[("salesflow_timers_overdue", ())] == 0
    clock.advance(minutes=1)
    assert scrape(ops)[("salesflow_timers_overdue", ())] == 2
    approval.fire_due_timers()
    fired = scrape(ops)
    assert fired[("salesflow_timers_due", ())] == 0
    assert fired[("salesflow_open_tasks", (("role", "sales_director"),))] == 2  # the escalations


def test_metrics_can_require_a_token(ops, monkeypatch):
    monkeypatch.setenv("SALESFLOW_METRICS_TOKEN", "s3cret-token")
    assert ops.get("/metrics").status_code == 401
    assert ops.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = ops.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert response.status_code == 200
    assert re.search(r"^salesflow_timers_waiting \d", response.get_data(as_text=True), re.M)
