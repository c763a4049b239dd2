"""The instance view reads the instance's task rows once (queries.instance_view): whether someone else
decided (access.decided) and the field labels (labels.instance_fields) come from those rows. These tests
hold them to the answers of the queries they replace, at every state of a case."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import text

from engine import Engine
from engine.runtime import access, labels, queries
from engine.runtime.loading import get_instance, specs_for
from engine.users import get_actor

START = {"customer_name": "合肥建工集团", "amount_yuan": 20000}


def queried(engine: Engine, iid: int) -> tuple[dict, bool]:
    """The fields and `decided` as the queries answer them, with no rows remembered."""
    with engine.db.read() as s:
        inst = get_instance(s, iid)
        version = engine.labels.get(s, inst.process_version_id, engine._role_names())
        return labels.instance_fields(s, inst, version), access.decided(s, inst)


def check_view(engine: Engine, iid: int, decided: bool) -> dict:
    view = engine.instance("rep", iid)
    fields, asked = queried(engine, iid)
    assert asked is decided
    assert list(view["fields"].items()) == list(fields.items())  # the same labels, in the same order
    with engine.db.read() as s:
        inst = get_instance(s, iid)
        rows = s.execute(text("SELECT status, completed_by FROM task WHERE instance_id = :i"), {"i": iid}).all()
        assert access.decided(s, inst, rows) is asked
    return view


def test_the_views_task_rows_answer_as_the_queries_do(approval):
    iid = approval.start("rep", "approval", START)
    assert check_view(approval, iid, decided=False)["may_end"] == "withdrawn"
    [task] = [t for t in approval.inbox("mgr") if t["instance_id"] == iid]
    approval.complete("mgr", task["id"], {"approved": True, "comment": "同意"})
    assert check_view(approval, iid, decided=True)["may_end"] is None
    [task] = [t for t in approval.inbox("rep") if t["instance_id"] == iid]
    approval.complete("rep", task["id"], {"archive_no": "GD-2026-001"})
    assert check_view(approval, iid, decided=True)["status"] == "completed"


def test_a_task_the_requester_completed_is_not_a_decision(approval):
    """A completed row whose completed_by is the requester, or NULL, is nobody else's decision."""
    iid = approval.start("rep", "approval", START)
    with approval.db.read() as s:
        inst = get_instance(s, iid)
        started_by = inst.started_by

        class Row:
            def __init__(self, status: str, completed_by: str | None) -> None:
                self.status, self.completed_by = status, completed_by

        assert not access.decided(s, inst, [Row("completed", started_by), Row("completed", None),
                                            Row("ready", None), Row("cancelled", "mgr")])
        assert access.decided(s, inst, [Row("completed", "mgr")])


def fields_both_ways(engine: Engine, iid: int, version: object) -> tuple[dict, dict]:
    """instance_fields from the rows the view read (remembered), and in a session of its own (queried)."""
    with engine.db.read() as s:
        inst = get_instance(s, iid)
        rows = queries.instance_task_rows(s, inst)
        queries.instance_view(s, get_actor(s, "rep"), inst, engine.clock.now(),
                              specs_for(s, engine.specs, inst.process_version_id), {}, rows)
        remembered = labels.instance_fields(s, inst, version, queries.tasks_of(rows))
    with engine.db.read() as s:
        return remembered, labels.instance_fields(s, get_instance(s, iid), version)


def test_a_field_two_steps_write_takes_the_label_of_the_later_one_either_way(approval, clock):
    """The decision and the director's follow-up both write `comment`; with labels that differ, the one
    shown is the step that finished last, whether the rows come from the view's read or a query."""
    version = SimpleNamespace(fields={}, forms={"approval_decision": {"comment": {"label": "decision"}},
                                                "approval_escalation": {"comment": {"label": "follow-up"}}})
    iid = approval.start("rep", "approval", START)
    clock.advance(hours=25)  # the 24 h SLA fires: a follow-up task for the director
    approval.fire_due_timers()
    [escalation] = [t for t in approval.inbox("dir") if t["instance_id"] == iid]
    approval.complete("dir", escalation["id"], {"comment": "已督办"})
    remembered, asked = fields_both_ways(approval, iid, version)
    assert remembered == asked == {"comment": {"label": "follow-up"}}
    clock.advance(minutes=5)
    [task] = [t for t in approval.inbox("mgr") if t["instance_id"] == iid]
    approval.complete("mgr", task["id"], {"approved": True, "comment": "同意"})
    remembered, asked = fields_both_ways(approval, iid, version)
    assert remembered == asked == {"comment": {"label": "decision"}}
