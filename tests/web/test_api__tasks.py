"""The inbox and one task through the API: read it with its form, claim, unclaim, complete.

Who may see or do what is the engine's decision; these tests hold the API to the
status codes the API documents (openapi.json) (403 not yours, 404 no such task, 409 taken or no
longer ready, 422 field errors) and to the shapes it keeps stable.
"""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD

TASK_KEYS = {"id", "instance_id", "process_key", "name", "title", "role", "assignee", "status", "created_at",
             "due_at"}
INSTANCE_KEYS = {"id", "process_key", "version", "business_key", "status", "data", "tasks"}
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def started(api) -> dict:
    """A key-account sample request started by rep1: its sales_approval task is offered to the sales managers."""
    return api("rep1").start_sample()


def _task(inst: dict, name: str) -> dict:
    [task] = [t for t in inst["tasks"] if t["name"] == name]
    return task


# -- the inbox -------------------------------------------------------------------------------------------


def test_the_inbox_holds_the_tasks_offered_to_my_roles(api, started):
    task = _task(started, "sales_approval")
    for user in ("mgr1", "mgr2"):
        rows = api(user).get("/tasks").get_json()
        assert [r["id"] for r in rows] == [task["id"]]
        row = rows[0]
        assert set(row) >= TASK_KEYS
        assert row["customer_name"] == "合肥建工集团"
        assert row["business_key"] is None
        assert row["overdue"] is False
    for user in ("rep1", "rep2", "qa1", "disp", "aud", "adm"):
        assert api(user).get("/tasks").get_json() == [], user


def test_a_claimed_task_leaves_the_other_holders_inboxes(api, started):
    task = _task(started, "sales_approval")
    assert api("mgr1").post(f"/tasks/{task['id']}/claim").status_code == 200
    assert [r["id"] for r in api("mgr1").get("/tasks").get_json()] == [task["id"]]
    assert api("mgr2").get("/tasks").get_json() == []


def test_the_inbox_filters_by_process_and_role(api, started):
    mgr = api("mgr1")
    task_id = _task(started, "sales_approval")["id"]
    assert [r["id"] for r in mgr.get("/tasks?process=sample_request").get_json()] == [task_id]
    assert mgr.get("/tasks?process=customer_visit").get_json() == []
    assert [r["id"] for r in mgr.get("/tasks?role=sales_manager").get_json()] == [task_id]
    assert mgr.get("/tasks?role=quality").get_json() == []


def _to_feedback(api, inst: dict) -> dict:
    """Approve, sample and ship the request: the applicant's collect_feedback task (due in 14 days) opens."""
    steps = [("mgr1", "sales_approval", {"approved": True}), ("qa1", "quality_approval", {"approved": True}),
             ("qa1", "take_sample", {"batch_no": "QC-07"}),
             ("disp", "dispatch_ship", {"shipped_on": "2026-03-02", "carrier": "顺丰速运"})]
    for user, name, data in steps:
        response = api(user).post(f"/tasks/{_task(inst, name)['id']}/complete", json={"data": data})
        assert response.status_code == 200, response.get_json()
        inst = response.get_json()
    return _task(inst, "collect_feedback")


def _fresh_token(api, user: str) -> str:
    return api().post("/tokens", json={"username": user, "password": PASSWORD}).get_json()["token"]


def test_the_inbox_filters_overdue_tasks(api, started, clock):
    feedback = _to_feedback(api, started)
    assert feedback["due_at"] is not None
    rep = api("rep1")
    assert [r["id"] for r in rep.get("/tasks?overdue=false").get_json()] == [feedback["id"]]
    assert rep.get("/tasks?overdue=true").get_json() == []
    clock.advance(days=15)
    rep = api(headers={"Authorization": f"Bearer {_fresh_token(api, 'rep1')}"})  # the first one has expired
    rows = rep.get("/tasks?overdue=true").get_json()
    assert [(r["id"], r["overdue"]) for r in rows] == [(feedback["id"], True)]
    assert rep.get("/tasks?overdue=false").get_json() == []


@pytest.mark.parametrize("value", ["yes", "TRUE", "1", ""])
def test_an_overdue_filter_other_than_true_or_false_gets_422(api, value):
    response = api("mgr1").get(f"/tasks?overdue={value}")
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"overdue": "须为 true 或 false"}


# -- one task --------------------------------------------------------------------------------------------


def test_a_task_comes_with_its_form(api, started):
    task_id = _task(started, "sales_approval")["id"]
    response = api("mgr1").get(f"/tasks/{task_id}")
    assert response.status_code == 200
    task = response.get_json()
    assert set(task) >= TASK_KEYS
    assert (task["id"], task["name"], task["role"]) == (task_id, "sales_approval", "sales_manager")
    form = task["form"]
    assert form["key"] == "sample_request_sales_approval"
    assert form["schema"]["required"] == ["approved"]
    assert form["schema"]["properties"]["approved"] == {"type": "boolean"}
    assert [f["name"] for f in form["ui"]["fields"]] == ["approved", "comment"]
    assert task["instance_data"]["customer_name"] == "合肥建工集团"


def test_the_requester_sees_the_task_of_his_request(api, started):
    assert api("rep1").get(f"/tasks/{_task(started, 'sales_approval')['id']}").status_code == 200


def test_a_user_of_another_role_can_neither_see_nor_work_the_task(api, started):
    task_id = _task(started, "sales_approval")["id"]
    qa = api("qa1")
    for response in (qa.get(f"/tasks/{task_id}"), qa.post(f"/tasks/{task_id}/claim"),
                     qa.post(f"/tasks/{task_id}/complete", json={"data": {"approved": True}})):
        assert response.status_code in (403, 404)
        assert response.get_json()["error"] in ("forbidden", "not_found")
    inst = api("aud").get(f"/instances/{started['id']}").get_json()
    assert _task(inst, "sales_approval")["assignee"] is None  # nothing changed


def test_the_requester_may_not_approve_his_own_request(api, started):
    task_id = _task(started, "sales_approval")["id"]
    response = api("rep1").post(f"/tasks/{task_id}/complete", json={"data": {"approved": True}})
    assert response.status_code == 403


@pytest.mark.parametrize("action", ["", "/claim", "/unclaim", "/complete"])
def test_an_unknown_task_gets_404(api, action):
    method = "GET" if action == "" else "POST"
    kwargs = {"json": {"data": {}}} if action == "/complete" else {}
    response = api("mgr1").open(method, f"/tasks/{UNKNOWN}{action}", **kwargs)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_a_task_id_that_is_no_uuid_gets_404_json(api):
    response = api("mgr1").get("/tasks/42")
    assert response.status_code == 404
    assert set(response.get_json()) == {"error", "message"}


# -- claim and unclaim -----------------------------------------------------------------------------------


def test_claim_assigns_the_task_to_me_and_unclaim_gives_it_back(api, started):
    task_id = _task(started, "sales_approval")["id"]
    claimed = api("mgr1").post(f"/tasks/{task_id}/claim")
    assert claimed.status_code == 200
    assert claimed.get_json()["assignee"] == "mgr1"
    assert set(claimed.get_json()) >= TASK_KEYS
    assert api("mgr1").post(f"/tasks/{task_id}/claim").status_code == 200  # claiming one's own task again is fine
    released = api("mgr1").post(f"/tasks/{task_id}/unclaim")
    assert released.status_code == 200
    assert released.get_json()["assignee"] is None
    assert [r["id"] for r in api("mgr2").get("/tasks").get_json()] == [task_id]


def test_claiming_a_task_someone_else_holds_gets_409(api, started):
    task_id = _task(started, "sales_approval")["id"]
    api("mgr1").post(f"/tasks/{task_id}/claim")
    response = api("mgr2").post(f"/tasks/{task_id}/claim")
    assert response.status_code == 409
    assert response.get_json()["error"] == "conflict"


def test_unclaiming_a_task_nobody_holds_gets_409(api, started):
    response = api("mgr1").post(f"/tasks/{_task(started, 'sales_approval')['id']}/unclaim")
    assert response.status_code == 409


def test_unclaiming_another_holders_task_gets_403(api, started):
    task_id = _task(started, "sales_approval")["id"]
    api("mgr1").post(f"/tasks/{task_id}/claim")
    assert api("mgr2").post(f"/tasks/{task_id}/unclaim").status_code == 403
    assert api("rep1").post(f"/tasks/{task_id}/unclaim").status_code == 403


def test_claiming_a_task_no_longer_ready_gets_409(api, started):
    task_id = _task(started, "sales_approval")["id"]
    assert api("mgr1").post(f"/tasks/{task_id}/complete", json={"data": {"approved": True}}).status_code == 200
    assert api("mgr2").post(f"/tasks/{task_id}/claim").status_code == 409
    assert api("mgr1").post(f"/tasks/{task_id}/unclaim").status_code == 409


# -- complete --------------------------------------------------------------------------------------------


def test_complete_answers_the_instance_afterwards_in_designs_shape(api, started):
    task_id = _task(started, "sales_approval")["id"]
    response = api("mgr2").post(f"/tasks/{task_id}/complete", json={"data": {"approved": True, "comment": "同意"}})
    assert response.status_code == 200
    inst = response.get_json()
    assert set(inst) >= INSTANCE_KEYS
    assert (inst["id"], inst["process_key"], inst["version"], inst["business_key"], inst["status"]) == (
        started["id"], "sample_request", 1, None, "running")
    assert inst["data"]["approved"] is True
    assert inst["data"]["comment"] == "同意"
    assert [(t["name"], t["role"], t["assignee"]) for t in inst["tasks"]] == [
        ("quality_approval", "quality", None)]
    assert all(set(t) >= TASK_KEYS for t in inst["tasks"])
    history = api("aud").get(f"/instances/{inst['id']}/history").get_json()
    # completing an unclaimed task claims it for me in the same step
    assert [(e["kind"], e["actor"]) for e in history if e["task"] == "sales_approval"][-3:] == [
        ("task_ready", "rep1"), ("claimed", "mgr2"), ("completed", "mgr2")]


def test_completing_the_last_task_completes_the_instance(api, started):
    feedback = _to_feedback(api, started)
    response = api("rep1").post(f"/tasks/{feedback['id']}/complete",
                                json={"data": {"feedback": "强度达标", "satisfaction": 5}})
    assert response.status_code == 200
    inst = response.get_json()
    assert inst["status"] == "completed"
    assert inst["tasks"] == []
    assert inst["ended_at"] is not None


def test_completing_a_task_someone_else_holds_gets_403(api, started):
    task_id = _task(started, "sales_approval")["id"]
    api("mgr1").post(f"/tasks/{task_id}/claim")
    response = api("mgr2").post(f"/tasks/{task_id}/complete", json={"data": {"approved": True}})
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_completing_a_task_twice_gets_409(api, started):
    task_id = _task(started, "sales_approval")["id"]
    assert api("mgr1").post(f"/tasks/{task_id}/complete", json={"data": {"approved": True}}).status_code == 200
    again = api("mgr1").post(f"/tasks/{task_id}/complete", json={"data": {"approved": True}})
    assert again.status_code == 409
    assert again.get_json()["error"] == "conflict"


def test_invalid_task_data_gets_422_with_the_forms_own_message(api, started):
    task_id = _task(started, "sales_approval")["id"]
    mgr = api("mgr1")
    missing = mgr.post(f"/tasks/{task_id}/complete", json={"data": {}})
    assert missing.status_code == 422
    assert missing.get_json()["fields"] == {"approved": "此项必填"}
    rejected = mgr.post(f"/tasks/{task_id}/complete", json={"data": {"approved": False}})
    assert rejected.status_code == 422
    assert rejected.get_json()["fields"] == {"comment": "驳回时须填写驳回理由"}
    english = api("mgr1", {"Accept-Language": "en"}).post(f"/tasks/{task_id}/complete",
                                                         json={"data": {"approved": False, "extra": 1}})
    assert english.get_json()["fields"] == {"comment": "Give the reason when you reject", "extra": "Unknown field"}
    assert api("aud").get(f"/instances/{started['id']}").get_json()["tasks"][0]["id"] == task_id  # still open


def test_complete_without_data_is_checked_by_the_form(api, started):
    response = api("mgr1").post(f"/tasks/{_task(started, 'sales_approval')['id']}/complete", json={})
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"approved": "此项必填"}


def test_complete_with_a_body_that_is_not_an_object_gets_400(api, started):
    response = api("mgr1").post(f"/tasks/{_task(started, 'sales_approval')['id']}/complete", json=[True])
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


def test_the_inbox_comes_in_pages_oldest_first(api, clock):
    rep = api("rep1")
    for _ in range(5):
        rep.start_sample()
        clock.advance(minutes=1)
    everything = api("mgr1").get("/tasks").get_json()
    assert len(everything) == 5
    first = api("mgr1").get("/tasks?limit=2").get_json()
    rest = api("mgr1").get("/tasks?limit=2&offset=2").get_json() + api("mgr1").get("/tasks?offset=4").get_json()
    assert [t["id"] for t in first + rest] == [t["id"] for t in everything]
    for bad in ("limit=0", "limit=1001", "offset=-1", "limit=x"):
        response = api("mgr1").get(f"/tasks?{bad}")
        assert response.status_code == 422, bad
