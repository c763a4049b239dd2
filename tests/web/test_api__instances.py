"""GET /api/v1/instances/{id}, its history and its replay: who may read them, and what they say."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.store.models import AuditEvent

INSTANCE_KEYS = {"id", "process_key", "version", "business_key", "status", "data", "tasks"}


@pytest.fixture
def started(api) -> dict:
    """rep1's key-account sample request, approved by mgr1: quality_approval is open for qa1."""
    inst = api("rep1").start_sample()
    response = api("mgr1").post(f"/tasks/{inst['tasks'][0]['id']}/complete", json={"data": {"approved": True}})
    assert response.status_code == 200
    return response.get_json()


def test_participants_the_auditor_and_the_admin_read_the_instance(api, started):
    # the requester, who did a task, to whom a task is offered now, the auditor, the admin
    for user in ("rep1", "mgr1", "qa1", "aud", "adm"):
        response = api(user).get(f"/instances/{started['id']}")
        assert response.status_code == 200, user
        inst = response.get_json()
        assert set(inst) >= INSTANCE_KEYS
        assert inst == started


def test_others_get_404_as_for_a_missing_instance(api, started):
    """Item 8 of issue 11: an instance someone may not see is answered as if it did not exist."""
    for user in ("rep2", "mgr2", "disp", "lead"):
        response = api(user).get(f"/instances/{started['id']}")
        assert response.status_code == 404, user
        assert response.get_json() == {"error": "not_found", "message": f"no instance {started['id']}"}


def test_an_unknown_instance_gets_404(api):
    aud = api("aud")
    for path in ("/instances/999", "/instances/999/history", "/instances/999/replay"):
        response = aud.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("iid", ["0", "abc", "-1", str(2**31), "99999999999999999999999"])
def test_an_id_that_cannot_be_an_instance_gets_404_json(api, iid):
    response = api("aud").get(f"/instances/{iid}")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_the_history_lists_the_audit_events_in_order(api, started):
    response = api("rep1").get(f"/instances/{started['id']}/history")
    assert response.status_code == 200
    events = response.get_json()
    assert [e["position"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["kind"] == "started" and events[0]["actor"] == "rep1"
    assert ("completed", "sales_approval", "mgr1") in [(e["kind"], e["task"], e["actor"]) for e in events]
    assert all(set(e) == {"position", "at", "actor", "kind", "task", "payload", "hash"} for e in events)
    assert events[-1]["kind"] == "task_ready" and events[-1]["task"] == "quality_approval"


def test_the_history_is_hidden_from_others(api, started):
    assert api("rep2").get(f"/instances/{started['id']}/history").status_code == 404


def test_the_auditor_replays_an_intact_trail(api, started):
    aud = api("aud")
    steps = len(aud.get(f"/instances/{started['id']}/history").get_json())
    response = aud.get(f"/instances/{started['id']}/replay")
    assert response.status_code == 200
    assert response.get_json() == {"verified": True, "steps": steps, "first_mismatch": None, "state": None}


def test_replay_gives_the_state_after_a_step(api, started):
    response = api("aud").get(f"/instances/{started['id']}/replay?step=1")
    assert response.status_code == 200
    state = response.get_json()["state"]
    assert state["position"] == 1 and state["kind"] == "started"
    assert state["active"] == ["sales_approval", "sales_approval_overdue"]  # the approval and its deadline
    assert state["data"]["customer_name"] == "合肥建工集团"


@pytest.mark.parametrize("step", ["x", "0", "-1", "1.5", ""])
def test_a_step_that_is_not_a_positive_whole_number_gets_422(api, started, step):
    response = api("aud").get(f"/instances/{started['id']}/replay?step={step}")
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"step"}


def test_replay_is_hidden_from_others(api, started):
    response = api("rep2").get(f"/instances/{started['id']}/replay")
    assert response.status_code == 404


def test_replay_reports_the_first_mismatch_of_a_tampered_trail(api, engine, started):
    with engine.db.write() as s:
        row = s.scalar(select(AuditEvent).where(AuditEvent.kind == "completed"))
        payload = json.loads(row.payload)
        payload["data"]["approved"] = False
        row.payload = json.dumps(payload)
        position = row.position
    response = api("aud").get(f"/instances/{started['id']}/replay")
    assert response.status_code == 200
    body = response.get_json()
    assert body["verified"] is False
    assert body["first_mismatch"]["position"] == position
    assert set(body["first_mismatch"]) == {"position", "kind", "reason", "expected", "actual"}
