"""Notifications: who is told that a task is offered, a request decided, a task overdue; nobody else;
nothing when the command fails; each person's choices respected; reading and marking read."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine import Engine
from engine.errors import NotFound
from engine.store.models import Notification
from tests.conftest import add_users
from tests.web.conftest import SAMPLE_REQUEST, p5_p6_files

REQUEST = {"customer_name": "海螺建材", "amount_yuan": 500}


def rows(eng: Engine) -> list[tuple[str, str, int]]:
    """(username, kind, instance) of every notification row, in order."""
    with eng.db.read() as s:
        return [(n.username, n.kind, n.instance_id) for n in s.scalars(select(Notification).order_by(Notification.id))]


def told(eng: Engine, kind: str) -> set[str]:
    return {user for user, k, _ in rows(eng) if k == kind}


@pytest.fixture
def samples(engine: Engine) -> Engine:
    """P5 (the sales department's approval is due in one working day) with two managers and two reps."""
    engine.deploy("system", p5_p6_files())
    add_users(engine, {"rep1": ["sales_rep"], "rep2": ["sales_rep"], "mgr1": ["sales_manager"],
                       "mgr2": ["sales_manager"], "qa1": ["quality"], "aud": ["auditor"]})
    return engine


def test_a_new_task_is_offered_to_every_holder_of_its_role_and_nobody_else(approval):
    iid = approval.start("rep", "approval", dict(REQUEST))
    assert told(approval, "offered") == {"mgr", "mgr2"}
    assert {i for _, _, i in rows(approval)} == {iid}
    item = approval.notifications("mgr")["items"][0]
    assert item["title"] == {"zh": "新任务：经理审批", "en": "New task: 经理审批"}
    assert f"测试审批 #{iid}（海螺建材）" in item["text"]["zh"]
    assert item["target"] == "task" and item["task_id"] == approval.inbox("mgr")[0]["id"]
    for outsider in ("rep", "rep2", "dir", "aud", "adm"):
        assert approval.notifications(outsider)["items"] == []


def test_a_task_assigned_to_the_requester_is_offered_to_them_alone(approval):
    iid = approval.start("rep", "approval", dict(REQUEST))
    approval.complete("mgr", approval.inbox("mgr")[0]["id"], {"approved": True})
    archive = [n for n in rows(approval) if n[0] == "rep"]
    assert archive == [("rep", "offered", iid)]  # the archive task is the requester's (lane initiator)
    assert told(approval, "offered") == {"mgr", "mgr2", "rep"}  # mgr did it: not told of his own step


def test_the_requester_is_told_the_outcome_in_words(approval):
    iid = approval.start("rep", "approval", dict(REQUEST))
    approval.complete("mgr", approval.inbox("mgr")[0]["id"], {"approved": False, "comment": "预算不足"})
    assert [(u, k) for u, k, _ in rows(approval) if k == "decided"] == [("rep", "decided")]
    item = approval.notifications("rep")["items"][0]
    assert item["title"] == {"zh": "您的申请有结果了：已驳回", "en": "Your request was decided: Rejected"}
    assert item["target"] == "instance" and item["instance_id"] == iid
    assert approval.unread_notifications("rep") == 1


def test_whoever_ends_the_request_themselves_is_not_told(approval):
    approval.start("rep", "approval", dict(REQUEST))
    approval.cancel("rep", 1, "不需要了")  # withdrawn by the requester
    assert told(approval, "decided") == set()


def test_a_request_cancelled_by_an_administrator_is_reported_to_the_requester(approval):
    approval.start("rep", "approval", dict(REQUEST))
    approval.cancel("adm", 1, "重复申请")
    assert told(approval, "decided") == {"rep"}
    assert "已取消" in approval.notifications("rep")["items"][0]["title"]["zh"]


def test_a_reassigned_task_is_offered_to_its_new_assignee_naming_who_gave_it(approval):
    approval.add_user("boss", ["sales_director"], "tulip-harbor-42", display_name="王总监")
    approval.start("rep", "approval", dict(REQUEST))
    task = approval.inbox("mgr")[0]["id"]
    approval.claim("mgr", task)
    with approval.db.write() as s:  # the first offer is read: the new one must stand out
        for n in s.scalars(select(Notification)):
            s.delete(n)
    approval.reassign("boss", task, "mgr2")
    assert rows(approval) == [("mgr2", "offered", 1)]
    assert "王总监" in approval.notifications("mgr2")["items"][0]["text"]["zh"]


def test_a_failed_command_leaves_no_notification(approval, monkeypatch):
    from engine.runtime import messaging

    approval.start("rep", "approval", dict(REQUEST))
    before = rows(approval)

    def broken(*_args, **_kwargs) -> None:
        raise RuntimeError("the routing broke after the step was recorded")

    monkeypatch.setattr(messaging, "route", broken)
    with pytest.raises(RuntimeError):
        approval.complete("mgr", approval.inbox("mgr")[0]["id"], {"approved": False, "comment": "否"})
    assert rows(approval) == before  # neither the requester's "decided" nor anything else


def test_an_overdue_task_is_announced_once_to_who_holds_it(samples, clock):
    iid = samples.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
    task = samples.inbox("mgr1")[0]
    samples.claim("mgr1", task["id"])
    assert samples.run_notifications()["overdue"] == 0
    clock.advance(days=3)  # one working day passed
    assert samples.run_notifications()["overdue"] == 1
    assert [(u, k) for u, k, i in rows(samples) if k == "overdue"] == [("mgr1", "overdue")]
    item = samples.notifications("mgr1")["items"][0]
    assert item["title"]["zh"] == f"任务已逾期：{task['title']}" and item["instance_id"] == iid
    assert "到期" in item["text"]["zh"] and "was due" in item["text"]["en"]
    assert samples.run_notifications()["overdue"] == 0  # announced once


def test_an_overdue_unclaimed_task_is_announced_to_every_holder_of_its_role(samples, clock):
    samples.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
    clock.advance(days=3)
    samples.run_notifications()
    assert told(samples, "overdue") == {"mgr1", "mgr2"}


def test_two_workers_racing_announce_a_deadline_once(samples, clock, db_url):
    samples.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
    samples.start("rep2", "sample_request", dict(SAMPLE_REQUEST))
    clock.advance(days=3)
    workers = [Engine(db_url, clock=clock) for _ in range(3)]
    barrier, results = threading.Barrier(3), []

    def run(eng: Engine) -> None:
        barrier.wait(timeout=30)
        results.append(eng.run_notifications()["overdue"])

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for w in workers:
        w.db.dispose()
    assert sum(results) == 2
    assert sorted((u, i) for u, k, i in rows(samples) if k == "overdue") == [
        ("mgr1", 1), ("mgr1", 2), ("mgr2", 1), ("mgr2", 2)]


def test_a_completed_task_is_never_announced_overdue(samples, clock):
    samples.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
    done = samples.inbox("mgr1")[0]["id"]
    samples.complete("mgr1", done, {"approved": True})
    clock.advance(days=30)
    samples.run_notifications()
    with samples.db.read() as s:
        overdue = set(s.scalars(select(Notification.task_id).where(Notification.kind == "overdue")))
    assert done not in overdue
    assert overdue == {t["id"] for t in samples.inbox("qa1")}  # the task open now is


def test_each_person_chooses_what_they_get(approval):
    everything = {"in_app": True, "email": True}
    approval.set_notification_preferences("mgr2", None, "en", {"offered": {"in_app": False, "email": False}})
    approval.set_notification_preferences("mgr", "mgr@example.com", "zh", {"offered": {"in_app": False,
                                                                                      "email": True}})
    assert approval.notification_preferences("mgr")["kinds"]["decided"] == everything  # the defaults stand
    approval.start("rep", "approval", dict(REQUEST))
    with approval.db.read() as s:
        found = [(n.username, n.in_app, n.email_status) for n in s.scalars(select(Notification))]
    assert found == [("mgr", False, "pending")]  # mgr2: neither; mgr: e-mail only
    assert approval.notifications("mgr")["items"] == [] and approval.unread_notifications("mgr") == 0


def test_e_mail_is_off_until_an_address_is_set(approval):
    assert approval.notification_preferences("rep")["kinds"]["offered"] == {"in_app": True, "email": False}
    approval.set_email("adm", "rep", "rep@example.com")
    assert approval.notification_preferences("rep") == {
        "email": "rep@example.com", "lang": "zh",
        "kinds": {k: {"in_app": True, "email": True} for k in ("offered", "decided", "overdue")}}


def test_addresses_are_checked_and_only_administrators_set_another_ones(approval):
    from engine.errors import Forbidden, InvalidData

    with pytest.raises(InvalidData) as bad:
        approval.set_notification_preferences("rep", "not an address", "zh", {})
    assert "email" in bad.value.fields
    with pytest.raises(Forbidden):
        approval.set_email("mgr", "rep", "rep@example.com")
    approval.set_email("rep", "rep", "rep@example.com")  # their own
    approval.set_email("adm", "rep", "")
    assert approval.notification_preferences("rep")["email"] is None


def test_reading_marks_only_ones_own(approval, clock):
    approval.start("rep", "approval", dict(REQUEST))
    approval.start("rep", "approval", dict(REQUEST))
    mine = approval.notifications("mgr")
    assert mine["unread"] == 2 and [i["instance_id"] for i in mine["items"]] == [2, 1]  # newest first
    theirs = approval.notifications("mgr2")["items"][0]["id"]
    with pytest.raises(NotFound):
        approval.read_notification("mgr", theirs)
    clock.advance(minutes=1)
    assert approval.read_notification("mgr", mine["items"][0]["id"])["read"] is True
    assert approval.unread_notifications("mgr") == 1
    assert approval.read_all_notifications("mgr") == 1
    assert approval.unread_notifications("mgr") == 0 and approval.unread_notifications("mgr2") == 2
    page = approval.notifications("mgr", limit=1)
    assert page["more"] is True and len(page["items"]) == 1
    assert approval.notifications("mgr", limit=1, before=page["items"][0]["id"])["more"] is False
