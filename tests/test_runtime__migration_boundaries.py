"""Migrating an instance that waits at a task whose boundary events change (issue 12 adds deadlines, which are
boundary timers, to approvals that instances may be waiting at).

A waiting task runs inside the split its boundary events hang on. SpiffWorkflow cannot wrap a task that is
already waiting in a new split: moved anyway, the instance broke when the task was completed ("Split at
archive.BoundaryEventSplit was not reached"). So the dry run refuses such a move and names the task; the
instance stays on its version and can move once it is past the task. A task that keeps its boundary events
moves as before.
"""

from __future__ import annotations

from pathlib import Path

from engine.definitions.bundle import KINDS, SourceFile
from tests.conftest import FIXTURES, add_users

APPROVAL = FIXTURES / "approval"
OWNER = "own"
DEADLINE = """<bpmn:boundaryEvent id="archive_late" name="归档逾期" attachedToRef="archive" cancelActivity="false">
      <bpmn:outgoing>f_late</bpmn:outgoing>
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P1D"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="late_noted" name="逾期已记录"><bpmn:incoming>f_late</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_late" sourceRef="archive_late" targetRef="late_noted"/>
  </bpmn:process>"""


def sources(files: dict[str, str]) -> list[SourceFile]:
    return [SourceFile(name, KINDS[Path(name).suffix], text.encode("utf-8")) for name, text in files.items()]


def with_deadline_on_archive(files: dict[str, str]) -> dict[str, str]:
    bpmn = files["approval.bpmn"]
    bpmn = bpmn.replace("<bpmn:flowNodeRef>archive</bpmn:flowNodeRef>",
                        "<bpmn:flowNodeRef>archive</bpmn:flowNodeRef><bpmn:flowNodeRef>archive_late</bpmn:flowNodeRef>"
                        "<bpmn:flowNodeRef>late_noted</bpmn:flowNodeRef>", 1)
    assert bpmn.count("</bpmn:process>") == 1
    return {**files, "approval.bpmn": bpmn.replace("</bpmn:process>", DEADLINE)}


def test_a_task_that_gains_a_deadline_keeps_the_instance_waiting_there_on_its_version(engine, clock):
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(APPROVAL.iterdir())}
    engine.deploy("system", files=sources(files))
    add_users(engine, {"rep": ["sales_rep"], "mgr": ["sales_manager"], "dir": ["sales_director"],
                       OWNER: ["process_owner"], "aud": ["auditor"]})
    at_archive = engine.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 20000})
    approve = next(t for t in engine.inbox("mgr") if t["instance_id"] == at_archive)
    engine.complete("mgr", approve["id"], {"approved": True})
    at_approval = engine.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 500})
    assert [d.version for d in engine.deploy("system", files=sources(with_deadline_on_archive(files)))] == [2]

    plan = {p["instance_id"]: p for p in engine.migration_plan(OWNER, "approval", 2)}
    assert plan[at_archive]["movable"] is False
    assert plan[at_archive]["reasons"] == [
        "archive: the instance is at this element (ready), which gains boundary events (a deadline, a reminder) "
        "in version 2; it can move once it is past it"]
    assert (plan[at_approval]["movable"], plan[at_approval]["reasons"]) == (True, [])  # its timer was there before
    due_before = next(t["due_at"] for t in engine.inbox("mgr") if t["instance_id"] == at_approval)
    assert due_before is not None  # the approval's boundary timer is its deadline
    assert engine.migrate(OWNER, "approval", 2)["migrated"] == [at_approval]
    # the moved task keeps that deadline: the migration reads the boundary timer as well as the due date
    assert next(t["due_at"] for t in engine.inbox("mgr") if t["instance_id"] == at_approval) == due_before

    # the one left behind finishes on version 1; the moved one reaches the new deadline on version 2
    [archive] = [t for t in engine.inbox("rep") if t["instance_id"] == at_archive]
    engine.complete("rep", archive["id"], {"archive_no": "GD-1"})
    assert (engine.instance("aud", at_archive)["version"], engine.instance("aud", at_archive)["status"]) == (
        1, "completed")
    approve = next(t for t in engine.inbox("mgr") if t["instance_id"] == at_approval)
    engine.complete("mgr", approve["id"], {"approved": True})
    clock.advance(days=1, minutes=1)
    assert engine.fire_due_timers() == 1
    assert [e["task"] for e in engine.history("aud", at_approval) if e["kind"] == "timer_fired"] == ["archive_late"]
    for iid in (at_archive, at_approval):
        assert engine.replay(iid, actor="aud").verified
