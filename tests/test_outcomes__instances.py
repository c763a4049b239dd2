"""Issue 12 item 1: a finished instance says how it ended. Each end event on a case's path declares
its outcome; the instance keeps the outcome of the end event it reached, and withdrawing or
cancelling it gives `withdrawn` or `cancelled`. The requester sees it in their own list."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.definitions.bundle import KINDS, SourceFile
from engine.errors import DefinitionError, Forbidden, InvalidData, NotFound
from tests.conftest import FIXTURES

APPROVAL = FIXTURES / "approval"
START = {"customer_name": "合肥建工集团", "amount_yuan": 20000}


def decide(engine, iid: int, approved: bool) -> None:
    [task] = [t for t in engine.inbox("mgr") if t["instance_id"] == iid]
    engine.complete("mgr", task["id"], {"approved": approved, **({} if approved else {"comment": "价格不合适"})})


def archive(engine, iid: int) -> None:
    [task] = [t for t in engine.inbox("rep") if t["instance_id"] == iid and t["name"] == "archive"]
    engine.complete("rep", task["id"], {"archive_no": "GD-2026-001"})


def test_an_approved_request_ends_approved_and_a_rejected_one_rejected(approval):
    yes, no = approval.start("rep", "approval", START), approval.start("rep", "approval", START)
    assert approval.instance("rep", yes)["outcome"] is None  # still running
    decide(approval, yes, True)
    archive(approval, yes)
    decide(approval, no, False)
    assert (approval.instance("rep", yes)["status"], approval.instance("rep", yes)["outcome"]) == ("completed",
                                                                                                     "approved")
    assert (approval.instance("rep", no)["status"], approval.instance("rep", no)["outcome"]) == ("completed",
                                                                                                   "rejected")


def test_a_reminder_branch_that_ends_last_does_not_override_the_cases_outcome(approval, clock):
    iid = approval.start("rep", "approval", START)
    clock.advance(hours=25)  # the 24 h SLA fires: a non-interrupting escalation task for the director
    approval.fire_due_timers()
    decide(approval, iid, False)  # the case itself ends at end_rejected; the escalation is still open
    assert approval.instance("rep", iid)["status"] == "running"
    [escalation] = [t for t in approval.inbox("dir") if t["instance_id"] == iid]
    approval.complete("dir", escalation["id"], {"comment": "已督办"})
    inst = approval.instance("rep", iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "rejected")


def test_the_requester_finds_their_requests_by_outcome(approval):
    yes, no = approval.start("rep", "approval", START), approval.start("rep", "approval", START)
    other = approval.start("rep2", "approval", START)
    decide(approval, yes, True)
    archive(approval, yes)
    decide(approval, no, False)
    mine = approval.search("rep", {"started_by": "rep"})
    assert {(i["id"], i["outcome"]) for i in mine["items"]} == {(yes, "approved"), (no, "rejected")}
    assert [i["id"] for i in approval.search("aud", {"outcome": "rejected"})["items"]] == [no]
    assert other not in [i["id"] for i in approval.search("aud", {"outcome": "approved"})["items"]]
    with pytest.raises(InvalidData) as info:
        approval.search("aud", {"outcome": "maybe"})
    assert "outcome" in info.value.fields


def test_the_kpis_count_outcomes_per_process(approval):
    for approved in (True, False, False):
        iid = approval.start("rep", "approval", START)
        decide(approval, iid, approved)
        if approved:
            archive(approval, iid)
    approval.start("rep", "approval", START)  # still open
    figures = approval.kpi("aud")["outcomes"]
    assert figures["overall"] == {"finished": 3, "open": 1, "outcomes": {"approved": 1, "rejected": 2},
                                  "positive_share": pytest.approx(1 / 3)}
    assert [row["key"] for row in figures["by_process"]] == ["approval"]


def test_a_search_export_carries_each_instances_outcome(approval):
    iid = approval.start("rep", "approval", START)
    decide(approval, iid, False)
    import json

    bundle = json.loads(approval.export_search("aud", {"outcome": "rejected"}, "json"))
    assert [d["instance"] for d in bundle["instances"]] == [
        {"id": iid, "process_key": "approval", "status": "completed", "outcome": "rejected"}]
    rows = approval.export_search("aud", {"outcome": "rejected"}, "csv").splitlines()
    assert rows[0].startswith("instance_id,instance_status,instance_outcome,position")
    assert rows[1].startswith(f"{iid},completed,rejected,1,")


# -- withdrawing and cancelling --------------------------------------------------------------------
def test_the_requester_may_withdraw_until_someone_else_decides(approval):
    iid = approval.start("rep", "approval", START)
    assert approval.instance("rep", iid)["may_end"] == "withdrawn"
    assert approval.cancel("rep", iid, "客户已改为采购其他型号") == "withdrawn"
    inst = approval.instance("rep", iid)
    assert (inst["status"], inst["outcome"]) == ("cancelled", "withdrawn")
    [ended] = [e for e in approval.history("aud", iid) if e["kind"] == "cancelled"]
    assert (ended["actor"], ended["payload"]["reason"], ended["payload"]["outcome"]) == (
        "rep", "客户已改为采购其他型号", "withdrawn")
    assert approval.replay(iid).verified


def test_after_a_decision_the_requester_can_no_longer_withdraw_but_an_administrator_can_cancel(approval):
    iid = approval.start("rep", "approval", START)
    decide(approval, iid, True)  # the manager approved: the archive task is the requester's now
    assert approval.instance("rep", iid)["may_end"] is None
    with pytest.raises(Forbidden, match="someone has already decided on it"):
        approval.cancel("rep", iid, "不要了")
    assert approval.instance("adm", iid)["may_end"] == "cancelled"
    assert approval.cancel("adm", iid, "客户破产") == "cancelled"
    assert approval.instance("rep", iid)["outcome"] == "cancelled"


def test_cancelling_always_takes_a_reason(approval):
    iid = approval.start("rep", "approval", START)
    for reason in ("", "   ", "x" * 2001, None):
        with pytest.raises(InvalidData) as info:
            approval.cancel("rep", iid, reason)
        assert "reason" in info.value.fields
    assert approval.instance("rep", iid)["status"] == "running"


def test_people_who_may_see_a_case_but_not_end_it_are_refused(approval):
    iid = approval.start("rep", "approval", START)
    with pytest.raises(Forbidden):
        approval.cancel("mgr", iid, "越权")  # the manager sees it (his task) but may not cancel it
    with pytest.raises(NotFound):
        approval.cancel("rep2", iid, "越权")  # another rep takes no part: for him it does not exist
    assert approval.instance("mgr", iid)["may_end"] is None


# -- the lint ---------------------------------------------------------------------------------------
def bundle(old: str, new: str) -> list[SourceFile]:
    files = []
    for path in sorted(APPROVAL.iterdir()):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".bpmn":
            assert old in text
            text = text.replace(old, new)
        files.append(SourceFile(path.name, KINDS[Path(path.name).suffix], text.encode("utf-8")))
    return files


@pytest.mark.parametrize(("new", "message"), [
    ("", "the end event 已驳回 ends the case but declares no outcome"),
    ('<camunda:property name="outcome" value="maybe" />', "declares the unknown outcome 'maybe'"),
    ('<camunda:property name="outcome" value="withdrawn" />', "declares the unknown outcome 'withdrawn'"),
])
def test_an_end_event_on_the_cases_path_must_declare_a_known_outcome(engine, new, message):
    with pytest.raises(DefinitionError) as info:
        engine.deploy("system", files=bundle('<camunda:property name="outcome" value="rejected" />', new))
    [problem] = info.value.problems
    assert problem.element == "end_rejected" and message in problem.message, problem


def test_a_reminder_branchs_end_declares_nothing(engine):
    [deployed] = engine.deploy("system", files=bundle("", ""))  # end_escalated (after the SLA timer) has none
    assert deployed.status == "deployed"
