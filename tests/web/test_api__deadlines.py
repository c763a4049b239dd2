"""`due_at` in the API: a task's deadline is its due date or the earliest boundary timer watching it;
`overdue=true` finds it once passed; `sort=due` orders the inbox by it (documented in openapi.json)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import create_engine, text

from tests.conftest import PASSWORD, T0
from tests.web.conftest import Api
from tests.web.test_pages__deadlines import VISIT, reception


def fresh(app, username: str) -> Api:
    """An API client with a token taken now (a token lasts 12 hours; the clock moves days here)."""
    response = app.test_client().post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    return Api(app.test_client(), response.get_json()["token"])


def test_a_boundary_timers_deadline_is_the_tasks_due_at_and_makes_it_overdue(app, api, engine, clock):
    task_id = reception(engine)
    rep1 = api("rep1")
    [row] = rep1.get("/tasks").get_json()
    assert row["id"] == task_id
    assert datetime.fromisoformat(row["due_at"]) == datetime.fromisoformat("2026-03-04T09:00:00+08:00")
    assert row["overdue"] is False
    assert rep1.get("/tasks?overdue=true").get_json() == []

    clock.set(T0 + timedelta(days=2, minutes=1))
    rep1 = fresh(app, "rep1")
    assert [r["id"] for r in rep1.get("/tasks?overdue=true").get_json()] == [task_id]
    assert rep1.get("/tasks?overdue=false").get_json() == []
    detail = rep1.get(f"/tasks/{task_id}").get_json()
    assert (detail["due_at"], detail["overdue"]) == (row["due_at"], True)


def test_the_inbox_sorts_by_due_at_with_tasks_without_one_last(api, engine, clock, db_url):
    later = reception(engine)
    mgr = api("mgr1")
    undated, *samples = [api("rep1").start_sample()["tasks"][0]["id"] for _ in range(3)]  # due a working day later
    clock.advance(minutes=1)
    sooner = engine.start("rep1", "customer_visit", {**VISIT, "customer_class": "key_account",
                                                     "visit_date": (T0 + timedelta(days=1)).date().isoformat()})
    sooner_task = [t for t in engine.instance("rep1", sooner)["tasks"] if t["name"] == "sales_approval"][0]
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:  # a task nothing gives a deadline (no due date, no timer)
            conn.execute(text("UPDATE task SET due_at = NULL WHERE id = :id"), {"id": undated})
    finally:
        raw.dispose()
    # the visit is due this morning; the samples have the same deadline and age: by id
    order = [sooner_task["id"], *sorted(samples), undated]
    assert [r["id"] for r in mgr.get("/tasks?sort=due").get_json()] == order
    assert [r["id"] for r in mgr.get("/tasks?sort=due&limit=2&offset=1").get_json()] == order[1:3]
    assert [r["id"] for r in mgr.get("/tasks").get_json()][-1] == sooner_task["id"]  # oldest first by default
    assert [r["id"] for r in api("rep1").get("/tasks?sort=due").get_json()] == [later]
    response = mgr.get("/tasks?sort=name")
    assert response.status_code == 422 and "sort" in response.get_json()["fields"]


def test_the_document_describes_due_at_and_the_sort_order(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "boundary timer" in doc["components"]["schemas"]["Task"]["properties"]["due_at"]["description"]
    params = {p["name"]: p for p in doc["paths"]["/tasks"]["get"]["parameters"]}
    assert params["sort"]["schema"]["enum"] == ["created", "due"]
