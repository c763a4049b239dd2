"""The history page's timeline: who acted in which role, what changed old -> new, which branch and why."""

from __future__ import annotations

import pytest

from engine.audit import timeline
from engine.errors import NotFound
from tests.conftest import PASSWORD
from tests.test_replay__steps import REQUEST, escalated_run, first


def by_position(entries: list[dict]) -> dict[int, dict]:
    return {e["position"]: e for e in entries}


def test_every_event_is_an_entry_in_trail_order(approval, clock):
    iid = escalated_run(approval, clock)
    history = approval.history("aud", iid)
    entries = approval.timeline("aud", iid)
    assert [(e["position"], e["kind"], e["task"], e["at"], e["actor"], e["hash"]) for e in entries] == [
        (e["position"], e["kind"], e["task"], e["at"], e["actor"], e["hash"]) for e in history]


def test_roles_follow_the_task_offered_the_start_and_the_timers(approval, clock):
    iid = escalated_run(approval, clock)
    roles = [(e["kind"], e["task"], e["actor"], e["role"]) for e in approval.timeline("aud", iid)]
    assert roles == [
        ("started", None, "rep", "initiator"),
        ("task_ready", "approve", "rep", "initiator"),  # caused by the start
        ("timers_due", None, "system", "system"),
        ("timer_fired", "sla", "system", "system"),
        ("escalated", "sla", "system", "system"),
        ("task_ready", "escalation", "system", "system"),
        ("claimed", "approve", "mgr", "sales_manager"),
        ("completed", "approve", "mgr", "sales_manager"),
        ("gateway_taken", "decide", "mgr", "sales_manager"),
        ("task_ready", "archive", "mgr", "sales_manager"),
        ("claimed", "escalation", "dir", "sales_director"),
        ("completed", "escalation", "dir", "sales_director"),
        ("completed", "archive", "rep", "initiator"),  # the requester's own task
        ("ended", None, "rep", "initiator"),
    ]


def test_changes_titles_branches_and_escalation(approval, clock):
    iid = escalated_run(approval, clock)
    entries = approval.timeline("aud", iid)
    started, approved = entries[0], next(e for e in entries if e["kind"] == "completed" and e["task"] == "approve")
    assert {(c["field"], c["old"], c["new"]) for c in started["changes"]} >= {
        ("customer_name", None, "华东客户"), ("amount_yuan", None, 20000)}
    assert [(c["field"], c["old"], c["new"], c["label"]) for c in approved["changes"]] == [
        ("approved", None, True, {"zh": "是否批准", "en": "Approved"})]
    assert approved["title"] == {"zh": "经理审批", "en": "经理审批"}
    gateway = next(e for e in entries if e["kind"] == "gateway_taken")
    # the target's title is known although the archive task is offered after the gateway event
    assert gateway["branches"] == [{"target": "archive", "title": {"zh": "归档", "en": "归档"}, "flow": None,
                                    "condition": "approved == True", "default": False}]
    escalated = next(e for e in entries if e["kind"] == "escalated")
    assert escalated["escalation"] == {"timer": "sla", "attached_to": "approve",
                                       "attached_title": {"zh": "经理审批", "en": "经理审批"}, "interrupting": False}
    offered = next(e for e in entries if e["kind"] == "task_ready" and e["task"] == "archive")
    assert (offered["offered_to"], offered["assignee"], offered["title"]["zh"]) == ("initiator", "rep", "归档")
    assert entries[-1]["end_events"] == ["end_ok"] and entries[-1]["success"] is True
    # derived events carry no data changes of their own
    assert all(e["changes"] == [] for e in entries if e["kind"] not in timeline.COMMANDS)


def test_a_changed_value_shows_old_and_new(approval):
    iid = approval.start("rep", "approval", dict(REQUEST))
    approval.complete("mgr", first(approval, "mgr", iid, "approve"), {"approved": True, "comment": "同意"})
    task = first(approval, "rep", iid, "archive")
    approval.comment("rep", task, "请尽快归档")
    entries = approval.timeline("aud", iid)
    commented = next(e for e in entries if e["kind"] == "commented")
    assert (commented["comment"], commented["role"], commented["title"]["zh"]) == ("请尽快归档", "initiator", "归档")

    events = approval.history("aud", iid)
    events.append({"position": len(events) + 1, "at": events[-1]["at"], "actor": "rep", "kind": "completed",
                   "task": "archive", "payload": {"task_id": task, "changes": {"comment": ["同意", "已归档"]}}})
    last = timeline.build(events)[-1]
    assert last["changes"] == [{"field": "comment", "old": "同意", "new": "已归档"}]


def test_default_branches_messages_reassignment_and_lane_moves():
    at = "2026-03-02T01:00:00.000000+00:00"
    events = [
        {"position": 1, "at": at, "actor": "rep", "kind": "started", "task": None,
         "payload": {"data": {}, "changes": {"x": [None, 1]}, "business_key": "BK-1", "version": 1}},
        {"position": 2, "at": at, "actor": "rep", "kind": "gateway_taken", "task": "gw",
         "payload": {"taken": ["t1"], "conditions": {"t1": "default"}}},
        {"position": 3, "at": at, "actor": "rep", "kind": "task_ready", "task": "t1",
         "payload": {"role": "sales_manager", "assignee": None, "title": "审批", "task_id": "a"}},
        {"position": 4, "at": at, "actor": "rep", "kind": "message_sent", "task": None,
         "payload": {"name": "notice", "payload": {"n": 1}, "delivered": [7]}},
        {"position": 5, "at": at, "actor": "mgr", "kind": "reassigned", "task": "t1",
         "payload": {"task_id": "a", "from": None, "to": "mgr2"}},
        {"position": 6, "at": at, "actor": "owner", "kind": "migrated", "task": None,
         "payload": {"from_version": 1, "to_version": 2, "lanes": {"a": ["sales_manager", "sales_director"]},
                     "changes": {}}},
        {"position": 7, "at": at, "actor": "dir", "kind": "completed", "task": "t1",
         "payload": {"task_id": "a", "data": {}, "changes": {}}},
        {"position": 8, "at": at, "actor": "system", "kind": "message", "task": None,
         "payload": {"name": "paid", "payload": {"amount": 5}, "changes": {"amount": [None, 5]}}},
    ]
    entries = by_position(timeline.build(events))
    assert entries[1]["business_key"] == "BK-1" and entries[1]["changes"] == [{"field": "x", "old": None, "new": 1}]
    assert entries[2]["branches"] == [{"target": "t1", "title": "审批", "flow": None, "condition": None,
                                       "default": True}]
    assert entries[4]["message"] == {"name": "notice", "payload": {"n": 1}, "direction": "out",
                                     "from_instance": None,
                                     "shown": [{"field": "n", "label": None, "ui": None, "value": 1}]}
    # a manager reassigns in a role the trail does not record, not in the task's own
    assert entries[5]["assignment"] == {"from": None, "to": "mgr2"} and entries[5]["role"] is None
    assert entries[6]["role"] is None and entries[6]["migration"] == {"from_version": 1, "to_version": 2}
    assert entries[7]["role"] == "sales_director"  # the lane the migration moved the task to
    assert (entries[8]["role"], entries[8]["message"]["direction"]) == ("system", "in")
    assert entries[8]["changes"] == [{"field": "amount", "old": None, "new": 5}]


def test_the_timeline_is_checked_like_the_history(approval):
    iid = approval.start("rep", "approval", dict(REQUEST))
    approval.add_user("outsider", ["sales_rep"], PASSWORD)
    with pytest.raises(NotFound):  # as if it did not exist
        approval.timeline("outsider", iid)
    assert approval.timeline("rep", iid)[0]["kind"] == "started"


def test_releasing_and_commenting_take_the_task_role_only_from_whoever_holds_the_task():
    at = "2026-03-02T01:00:00+00:00"

    def ev(position: int, actor: str, kind: str, **payload: object) -> dict:
        return {"position": position, "at": at, "actor": actor, "kind": kind, "task": "t1",
                "payload": {"task_id": "a", **payload}}

    events = [
        {"position": 1, "at": at, "actor": "rep", "kind": "started", "task": None, "payload": {"data": {}}},
        ev(2, "rep", "task_ready", role="sales_manager", assignee=None, title="审批"),
        ev(3, "mgr", "claimed"),
        ev(4, "mgr", "commented", text="在看"),
        ev(5, "rep", "commented", text="请尽快"),
        ev(6, "dir", "unclaimed", **{"from": "mgr"}),
        ev(7, "mgr2", "claimed"),
        ev(8, "mgr2", "unclaimed", **{"from": "mgr2"}),
    ]
    roles = {e["position"]: e["role"] for e in timeline.build(events)}
    assert roles[3] == roles[4] == "sales_manager"  # the holder claims and comments in the task's role
    assert roles[5] == "initiator"  # the requester's remark
    assert roles[6] is None  # a manager releasing someone else's task
    assert roles[7] == roles[8] == "sales_manager"
