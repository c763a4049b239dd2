"""P13 rule_change (制度变更审批): a changed process takes effect only when the general manager approves it.

The repository is installed ungoverned (actor system at installation), then governance is switched on. The
process owner own1 deploys a changed sample_request (a step renamed): it becomes version 2, a draft, and
request R (an instance of rule_change) waits for the general manager. Until R is approved new sample
requests start on version 1; after it, on version 2. Returned and withdrawn drafts never start anything.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine import Engine
from engine.definitions.bundle import SourceFile, load_paths
from engine.definitions.current import NotActive
from engine.errors import Conflict, Forbidden, InvalidData
from engine.runtime.rule_changes import PendingChange
from engine.store.models import AuditEvent
from tests.conftest import ROOT, add_users
from tests.scenarios.conftest import deploy_repository
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    do,
    holders,
    inbox_task,
    local_time,
    offered_among,
    offered_to,
    parse,
    trail,
)
from tests.web.conftest import SAMPLE_REQUEST

OWNERS = {"own1": ["process_owner"], "own2": ["process_owner"], "own_gm": ["process_owner", "general_manager"],
          "adm_gm": ["admin", "general_manager"]}
GMS = holders("general_manager") | {"own_gm", "adm_gm"}
RENAMED = ("<bpmn:userTask id=\"sales_approval\" name=\"销售部审批\"",
           "<bpmn:userTask id=\"sales_approval\" name=\"销售部经理审批\"")


def governed_setup(engine: Engine) -> Engine:
    """The repository installed (ungoverned), PEOPLE and the owners, then governance switched on by adm."""
    deploy_repository(engine)
    add_users(engine, OWNERS)
    assert engine.set_governance("adm", True) is True
    return engine


@pytest.fixture
def governed(engine: Engine) -> Engine:
    return governed_setup(engine)


def changed(old: str = RENAMED[0], new: str = RENAMED[1], key: str = "sample_request",
            files: list[SourceFile] | None = None) -> list[SourceFile]:
    """The repository's processes and forms (or `files`), with `old` replaced by `new` in the diagram of `key`."""
    result = []
    for f in files or load_paths([ROOT / "processes", ROOT / "forms"]):
        if f.name.endswith(f"/{key}.bpmn"):
            text = f.content.decode("utf-8")
            assert old in text
            f = SourceFile(f.name, f.kind, text.replace(old, new).encode("utf-8"))
        result.append(f)
    return result


def offered(eng: Engine, task_name: str, iid: int) -> set[str]:
    """Everyone (the scenario people and the owners) whose inbox shows the task of this instance."""
    return offered_to(eng, task_name, iid) | offered_among(eng, OWNERS, task_name, iid)


def started_version(eng: Engine) -> int:
    iid = eng.start("rep1", "sample_request", SAMPLE_REQUEST)
    return eng.instance("rep1", iid)["version"]


def statuses(eng: Engine, key: str = "sample_request") -> dict[int, str]:
    return {v["version"]: v["status"] for v in eng.versions("own1", key)}


def chain(eng: Engine) -> list[tuple[str, str]]:
    with eng.db.read() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.chain == "deployments").order_by(AuditEvent.position))
        return [(r.kind, r.actor) for r in rows if r.kind != "deployed" or r.actor != "system"]


def submit(eng: Engine, who: str = "own1", note: str = "销售部审批改名为销售部经理审批") -> int:
    deployed = {d.key: d for d in eng.deploy(who, files=changed(), note=note)}
    drafts = {(k, d.version) for k, d in deployed.items() if d.status == "draft"}
    # presale calls sample_request: its content includes the callee, so it changes with it
    assert drafts == {("sample_request", 2), ("presale", 2)} or drafts == {("sample_request", 3), ("presale", 3)}
    assert {d.status for k, d in deployed.items() if k not in ("sample_request", "presale")} == {"unchanged"}
    assert deployed["sample_request"].request_id == deployed["presale"].request_id
    return deployed["sample_request"].request_id


@pytest.mark.rule("P13.1")
@pytest.mark.rule("P13.2")
@pytest.mark.rule("P13.3")
@pytest.mark.rule("P13.4")
def test_rule_change__approved_by_the_general_manager_takes_effect(governed: Engine) -> None:
    eng = governed
    request = submit(eng)
    assert statuses(eng) == {2: "draft", 1: "active"}
    assert started_version(eng) == 1  # the draft starts nothing
    assert offered(eng, "approve_change", request) == GMS
    task = eng.task("gm1", inbox_task(eng, "gm1", "approve_change", request)["id"])
    assert parse(task["due_at"]) == local_time("2026-03-09", "09:00")  # 5 working days after T0
    shown = task["instance_data"]
    rows = {row["process"]: row for row in shown["changes"]}
    assert rows["样品提供申请"] == {"process": "样品提供申请", "version": 2, "against": "1", "added": "", "removed": "",
                              "renamed": "销售部审批 → 销售部经理审批", "forms": ""}
    assert len(rows) == 2  # and presale, which calls it
    assert shown["remarks"] == "销售部审批改名为销售部经理审批" and shown["emergency"] is False
    do(eng, "gm1", "approve_change", {"approved": True}, request)
    assert eng.instance(AUDITOR, request)["outcome"] == "approved"
    assert statuses(eng) == {2: "active", 1: "active"}
    assert started_version(eng) == 2
    [v2] = [v for v in eng.versions("own1", "sample_request") if v["version"] == 2]
    assert (v2["decided_by"], v2["request_id"], v2["emergency_reason"]) == ("gm1", request, None)
    assert chain(eng) == [("governance_on", "adm"), ("drafted", "own1"), ("drafted", "own1"),
                          ("submitted", "own1"), ("approved", "gm1")]
    assert trail(eng, request) == [("started", None), ("gateway_taken", "emergency_gateway"),
                                   ("task_ready", "approve_change"), ("completed", "approve_change"),
                                   ("gateway_taken", "approved_gateway"), ("ended", None)]
    assert_audit_intact(eng, request)


@pytest.mark.rule("P13.2")
@pytest.mark.rule("P13.3")
def test_rule_change__returned_with_a_reason_never_takes_effect(governed: Engine) -> None:
    eng = governed
    request = submit(eng)
    task = inbox_task(eng, "gm1", "approve_change", request)
    with pytest.raises(InvalidData):
        eng.complete("gm1", task["id"], {"approved": False})
    do(eng, "gm1", "approve_change", {"approved": False, "comment": "名称与岗位职责不符"}, request)
    assert eng.instance(AUDITOR, request)["outcome"] == "returned"
    assert statuses(eng) == {2: "returned", 1: "active"}
    assert started_version(eng) == 1
    assert chain(eng)[-1] == ("returned", "gm1")
    assert submit(eng) != request  # a returned draft blocks nothing: the owner submits again (version 3)
    assert statuses(eng)[3] == "draft"


@pytest.mark.rule("P13.6")
def test_rule_change__withdrawn_by_its_submitter(governed: Engine) -> None:
    eng = governed
    request = submit(eng)
    with pytest.raises(Forbidden):
        eng.withdraw_change("own2", request, "不是我的申请")
    with pytest.raises(InvalidData):
        eng.withdraw_change("own1", request, " ")
    assert eng.withdraw_change("own1", request, "还要再改一处") == "withdrawn"
    inst = eng.instance(AUDITOR, request)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("cancelled", "withdrawn", [])
    assert statuses(eng) == {2: "withdrawn", 1: "active"}
    assert offered_to(eng, "approve_change", request) == set()
    assert started_version(eng) == 1
    assert chain(eng)[-1] == ("withdrawn", "own1")


@pytest.mark.rule("P13.5")
def test_rule_change__emergency_by_an_administrator(governed: Engine) -> None:
    eng = governed
    with pytest.raises(Forbidden):
        eng.deploy("own1", files=changed(), emergency=True, reason="系统故障")
    with pytest.raises(InvalidData):
        eng.deploy("adm", files=changed(), emergency=True, reason="")
    deployed = {d.key: d for d in eng.deploy("adm", files=changed(), emergency=True, reason="审批环节名称错误导致误派")}
    d = deployed["sample_request"]
    assert (d.version, d.status) == (2, "deployed")
    assert started_version(eng) == 2  # in force at once
    [v2] = [v for v in eng.versions("own1", "sample_request") if v["version"] == 2]
    assert (v2["status"], v2["emergency_reason"]) == ("active", "审批环节名称错误导致误派")
    assert v2["request_id"] == d.request_id
    assert offered(eng, "acknowledge_change", d.request_id) == GMS  # adm, who deployed it, is no general manager
    do(eng, "gm1", "acknowledge_change", {"approved": True}, d.request_id)
    assert chain(eng)[-3:] == [("deployed", "adm"), ("emergency", "adm"), ("acknowledged", "gm1")]
    assert statuses(eng) == {2: "active", 1: "active"}


@pytest.mark.rule("P13.2")
def test_rule_change__the_submitter_may_not_approve_his_own_change(governed: Engine) -> None:
    eng = governed
    deployed = {d.key: d for d in eng.deploy("own_gm", files=changed())}
    request = deployed["sample_request"].request_id
    assert offered(eng, "approve_change", request) == GMS - {"own_gm"}
    task = next(t for t in eng.instance(AUDITOR, request)["tasks"] if t["name"] == "approve_change")
    with pytest.raises(Forbidden):
        eng.claim("own_gm", task["id"])
    with pytest.raises(Forbidden):
        eng.complete("own_gm", task["id"], {"approved": True})
    assert statuses(eng)[2] == "draft"


@pytest.mark.rule("P13.2")
def test_rule_change__a_crafted_approval_by_a_non_gm_changes_nothing(governed: Engine) -> None:
    """A process owner's rule_change whose approval lane is the sales managers' (approved by the general
    manager, since rule_change is governed like any process) still cannot make a draft active."""
    eng = governed
    crafted = changed('<bpmn:lane id="general_manager" name="总经理">', '<bpmn:lane id="sales_manager" name="总经理">',
                      key="rule_change")
    [rc] = [d for d in eng.deploy("own2", files=crafted) if d.key == "rule_change"]
    do(eng, "gm1", "approve_change", {"approved": True}, rc.request_id)  # the general manager approves it
    assert statuses(eng, "rule_change") == {2: "active", 1: "active"}
    deployed = {d.key: d for d in eng.deploy("own1", files=changed(files=crafted))}
    assert deployed["rule_change"].status == "unchanged"
    request = deployed["sample_request"].request_id
    assert offered_to(eng, "approve_change", request) == holders("sales_manager")
    task = inbox_task(eng, "mgr1", "approve_change", request)
    with pytest.raises(Forbidden):
        eng.complete("mgr1", task["id"], {"approved": True})
    assert statuses(eng) == {2: "draft", 1: "active"}
    assert eng.instance(AUDITOR, request)["status"] == "running"  # nothing of the refused step was kept


@pytest.mark.rule("P13.6")
def test_rule_change__a_second_draft_while_one_is_pending_is_refused(governed: Engine) -> None:
    eng = governed
    request = submit(eng)
    with pytest.raises(PendingChange) as refused:
        eng.deploy("own2", files=changed(RENAMED[0], "<bpmn:userTask id=\"sales_approval\" name=\"销售审批\""))
    assert refused.value.request_id == request
    assert "样品提供申请" in refused.value.reason["zh"] and str(request) in refused.value.reason["en"]
    with pytest.raises(PendingChange):  # nor in force at once: a later approval would undo it
        eng.deploy("adm", files=changed(), emergency=True, reason="紧急")
    eng.set_governance("adm", False)
    with pytest.raises(PendingChange):
        eng.deploy("own2", files=changed())
    assert statuses(eng) == {2: "draft", 1: "active"}


@pytest.mark.rule("P13.1")
@pytest.mark.rule("P13.3")
def test_rule_change__no_migration_to_a_draft_and_no_start_of_one(governed: Engine) -> None:
    eng = governed
    submit(eng)
    with pytest.raises(NotActive):
        eng.migration_plan("own1", "sample_request", 2)
    with pytest.raises(NotActive):
        eng.migrate("own1", "sample_request", 2)
    assert started_version(eng) == 1
    assert [p["version"] for p in eng.processes() if p["key"] == "sample_request"] == [1]


@pytest.mark.rule("P13.7")
def test_rule_change__governance_switched_by_administrators_only(governed: Engine) -> None:
    eng = governed
    with pytest.raises(Forbidden):
        eng.set_governance("own1", False)
    with pytest.raises(Forbidden):
        eng.deploy("system", files=changed())  # the console deploys as a process owner while governed
    assert eng.governance("own1")["on"] is True
    assert eng.set_governance("adm", False) is True
    assert eng.set_governance("adm", False) is False  # nothing to change, nothing recorded
    d = {d.key: d for d in eng.deploy("own1", files=changed())}["sample_request"]
    assert (d.version, d.status, d.request_id) == (2, "deployed", None)  # ungoverned: one step
    assert chain(eng)[-4:] == [("governance_on", "adm"), ("governance_off", "adm"), ("deployed", "own1"),
                               ("deployed", "own1")]


@pytest.mark.rule("P13.3")
def test_rule_change__a_timer_started_process_is_armed_on_approval(governed: Engine) -> None:
    eng = governed
    old = "<bpmn:userTask id=\"review_performance\" name=\"核对业绩并提出奖惩\""
    files = changed(old, old.replace("核对业绩", "核对月度业绩"), key="monthly_appraisal")
    [d] = [d for d in eng.deploy("own1", files=files) if d.key == "monthly_appraisal"]

    def armed_versions() -> list[int]:
        found = eng.search(AUDITOR, {"process": "monthly_appraisal", "status": "running"})["items"]
        return sorted(i["version"] for i in found)

    assert armed_versions() == [1]
    do(eng, "gm1", "approve_change", {"approved": True}, d.request_id)
    assert armed_versions() == [2]
    with eng.db.read() as s:
        payloads = [json.loads(r.payload) for r in s.scalars(select(AuditEvent).where(
            AuditEvent.chain == "deployments", AuditEvent.kind == "approved"))]
    assert payloads[-1]["versions"] == [{"process_key": "monthly_appraisal", "version": 2}]


@pytest.mark.rule("P13.1")
def test_rule_change__a_process_owner_without_the_approval_process_is_told(engine: Engine) -> None:
    without = [f for f in load_paths([ROOT / "processes", ROOT / "forms"]) if not f.name.endswith("rule_change.bpmn")]
    engine.deploy("system", files=without)
    add_users(engine, {**OWNERS, "adm": ["admin"]})
    engine.set_governance("adm", True)
    with pytest.raises(Conflict) as refused:
        engine.deploy("own1", files=changed(files=without))
    assert "制度变更审批" in refused.value.reason["zh"]
