"""Migrating running instances to a newer version: the dry run says per instance whether it can move
and why not (naming the blocking element); migrating moves exactly the movable ones, each with a
`migrated` event on its verified chain; replay verifies across the move; every moved instance runs
to its end on the new version. Only process owners and administrators may do it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import Engine
from engine.definitions.bundle import KINDS, SourceFile, load_paths
from engine.errors import Forbidden, NotFound
from engine.store.models import AuditChain, Instance
from tests.conftest import FIXTURES, ROOT, T0, add_users, deploy_approval
from tests.deployed_state import prepared

APPROVAL = FIXTURES / "approval"
REQUEST = {"customer_name": "ACME", "amount_yuan": 20000}
OLD_TITLE, NEW_TITLE = "经理审批", "经理审批（新）"
CONFIRM_FORM = """key: approval_confirm
title: {zh: 确认归档, en: Confirm the archive}
schema:
  type: object
  additionalProperties: false
  required: [confirmed]
  properties:
    confirmed: {type: boolean}
fields:
  - {name: confirmed, label: {zh: 已确认, en: Confirmed}}
"""
OWNER = "own"


# -- the versions --------------------------------------------------------------------------------
def texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(APPROVAL.iterdir())}


def edit(text: str, old: str, new: str) -> str:
    assert old in text, f"fixture no longer contains {old!r}"
    return text.replace(old, new, 1)


def sources(files: dict[str, str]) -> list[SourceFile]:
    return [SourceFile(name, KINDS[Path(name).suffix], text.encode("utf-8")) for name, text in files.items()]


OUTCOME = ('\n      <bpmn:extensionElements><camunda:properties><camunda:property name="outcome" value="approved" />'
           '</camunda:properties></bpmn:extensionElements>')


def add_confirm(files: dict[str, str]) -> None:
    """A new user task `confirm` (the requester confirms) between `archive` and `end_ok`."""
    bpmn = files["approval.bpmn"]
    bpmn = edit(bpmn, "<bpmn:flowNodeRef>end_ok</bpmn:flowNodeRef>",
                "<bpmn:flowNodeRef>confirm</bpmn:flowNodeRef><bpmn:flowNodeRef>end_ok</bpmn:flowNodeRef>")
    bpmn = edit(bpmn, '<bpmn:endEvent id="end_ok" name="完成">' + OUTCOME + '<bpmn:incoming>f_done</bpmn:incoming>',
                '<bpmn:userTask id="confirm" name="确认归档" camunda:formKey="approval_confirm">\n'
                '      <bpmn:incoming>f_done</bpmn:incoming><bpmn:outgoing>f_confirmed</bpmn:outgoing>\n'
                '    </bpmn:userTask>\n'
                '    <bpmn:endEvent id="end_ok" name="完成">' + OUTCOME + '<bpmn:incoming>f_confirmed</bpmn:incoming>')
    bpmn = edit(bpmn, '<bpmn:sequenceFlow id="f_done" sourceRef="archive" targetRef="end_ok"/>',
                '<bpmn:sequenceFlow id="f_done" sourceRef="archive" targetRef="confirm"/>\n'
                '    <bpmn:sequenceFlow id="f_confirmed" sourceRef="confirm" targetRef="end_ok"/>')
    files["approval.bpmn"] = bpmn
    files["approval_confirm.yaml"] = CONFIRM_FORM


def remove_escalation(files: dict[str, str]) -> None:
    """The overdue follow-up task `escalation` is gone: the SLA timer now only ends its branch."""
    bpmn = files["approval.bpmn"]
    bpmn = edit(bpmn, "<bpmn:flowNodeRef>escalation</bpmn:flowNodeRef>", "")
    bpmn = edit(bpmn, '    <bpmn:userTask id="escalation" name="超时督办" camunda:formKey="approval_escalation">\n'
                      '      <bpmn:incoming>f_esc</bpmn:incoming><bpmn:outgoing>f_esc_end</bpmn:outgoing>\n'
                      '    </bpmn:userTask>\n', "")
    bpmn = edit(bpmn, "<bpmn:incoming>f_esc_end</bpmn:incoming>", "<bpmn:incoming>f_esc</bpmn:incoming>")
    bpmn = edit(bpmn, 'sourceRef="sla" targetRef="escalation"', 'sourceRef="sla" targetRef="end_escalated"')
    bpmn = edit(bpmn, '    <bpmn:sequenceFlow id="f_esc_end" sourceRef="escalation" targetRef="end_escalated"/>\n', "")
    files["approval.bpmn"] = bpmn
    del files["approval_escalation.yaml"]


def version_2() -> list[SourceFile]:
    """v1 with `approve` renamed, a new task `confirm` after `archive` and `escalation` removed."""
    files = texts()
    files["approval.bpmn"] = edit(files["approval.bpmn"], f'name="{OLD_TITLE}"', f'name="{NEW_TITLE}"')
    add_confirm(files)
    remove_escalation(files)
    return sources(files)


# -- helpers -------------------------------------------------------------------------------------
def task_of(engine, user: str, iid: int, name: str) -> dict:
    found = [t for t in engine.inbox(user) if t["instance_id"] == iid and t["name"] == name]
    assert len(found) == 1, f"{user} has {len(found)} task(s) {name} of instance {iid}: {engine.inbox(user)}"
    return found[0]


def do(engine, user: str, iid: int, name: str, data: dict) -> None:
    engine.complete(user, task_of(engine, user, iid, name)["id"], data)


def version_of(engine, iid: int) -> int:
    return engine.instance("aud", iid)["version"]


def open_names(engine, iid: int) -> list[str]:
    return sorted(t["name"] for t in engine.instance("aud", iid)["tasks"])


def kinds(engine, iid: int) -> list[str]:
    return [e["kind"] for e in engine.history("aud", iid)]


def snapshot(engine) -> dict:
    """Everything a migration may change: instance rows (version, rev, state) and chain heads."""
    with engine.db.read() as s:
        rows = {i.id: (i.process_version_id, i.rev, i.state_json) for i in s.scalars(select(Instance))}
        heads = {c.chain: (c.length, c.head) for c in s.scalars(select(AuditChain))}
    return {"instances": rows, "chains": heads}


def assert_all_verified(engine, ids) -> None:
    failed = [r for r in engine.verify_chains() if not r.ok]
    assert failed == []
    for iid in ids:
        result = engine.replay(iid)
        assert (result.verified, result.first_mismatch) == (True, None), iid


@pytest.fixture
def fleet(engine: Engine) -> tuple[Engine, dict[str, int]]:
    """Approval instances at different steps on v1, then v2 deployed by a process owner (the clock at T0 + 27 h).
    Every test starts from the same fleet: built once per worker, then restored (tests/deployed_state.py)."""
    ids = prepared(engine, "migration: the approval fleet, v2 deployed", _build_fleet)
    assert engine.clock.now() == T0 + timedelta(hours=27)
    return engine, ids


def _build_fleet(engine: Engine) -> dict[str, int]:
    clock = engine.clock
    deploy_approval(engine)
    add_users(engine, {OWNER: ["process_owner"]})
    escalated = engine.start("rep", "approval", REQUEST)
    clock.advance(hours=25)
    assert engine.fire_due_timers() == 1  # its approval is overdue: `escalation` is ready
    fresh = engine.start("rep", "approval", REQUEST)  # just started: `approve` is ready
    approved = engine.start("rep", "approval", REQUEST)
    do(engine, "mgr", approved, "approve", {"approved": True})  # `archive` is ready
    finished = engine.start("rep", "approval", REQUEST)
    do(engine, "mgr", finished, "approve", {"approved": True})
    do(engine, "rep", finished, "archive", {"archive_no": "A-1"})
    rejected = engine.start("rep2", "approval", REQUEST)
    do(engine, "mgr", rejected, "approve", {"approved": False, "comment": "too expensive"})
    clock.advance(hours=1)
    [deployed] = engine.deploy(OWNER, files=version_2(), note="confirm step; no follow-up task")
    assert (deployed.version, deployed.status) == (2, "deployed")
    clock.advance(hours=1)
    ids = {"escalated": escalated, "fresh": fresh, "approved": approved, "finished": finished, "rejected": rejected}
    assert open_names(engine, escalated) == ["approve", "escalation"]
    assert open_names(engine, fresh) == ["approve"]
    assert open_names(engine, approved) == ["archive"]
    assert {engine.instance("aud", ids[k])["status"] for k in ("finished", "rejected")} == {"completed"}
    return ids


ESCALATION_GONE = "escalation: the instance is at this element (ready), which version 2 no longer has"
# what the owner reads: the element by its name in the version (the fixture names it in Chinese only)
ESCALATION_GONE_TEXT = {"zh": "“超时督办”：实例正停在这一步（待处理），而版本 2 中已没有这一步",
                        "en": "超时督办: the instance is at this element (ready), which version 2 no longer has"}


# -- dry run -------------------------------------------------------------------------------------
def test_the_dry_run_lists_running_instances_on_older_versions_with_what_blocks_them(fleet):
    engine, ids = fleet
    before = snapshot(engine)
    plan = engine.migration_plan(OWNER, "approval", 2)
    assert [(p["instance_id"], p["from_version"], p["movable"], p["reasons"], p["messages"]) for p in plan] == [
        (ids["escalated"], 1, False, [ESCALATION_GONE], [ESCALATION_GONE_TEXT]),
        (ids["fresh"], 1, True, [], []),
        (ids["approved"], 1, True, [], []),
    ]
    assert snapshot(engine) == before  # a dry run changes nothing
    assert engine.migration_plan("adm", "approval", 2) == plan  # administrators may look too


def test_nothing_is_listed_for_the_version_the_instances_already_run_on(fleet):
    engine, ids = fleet
    assert engine.migration_plan(OWNER, "approval", 1) == []
    assert engine.migrate(OWNER, "approval", 1) == {"migrated": [], "skipped": []}
    assert version_of(engine, ids["fresh"]) == 1


# -- migrating -----------------------------------------------------------------------------------
def test_migrate_moves_exactly_the_movable_instances_and_records_each_move(fleet):
    engine, ids = fleet
    plan = {p["instance_id"]: p for p in engine.migration_plan(OWNER, "approval", 2)}
    result = engine.migrate(OWNER, "approval", 2)
    assert result == {"migrated": [ids["fresh"], ids["approved"]],
                      "skipped": [{"instance_id": ids["escalated"], "reasons": plan[ids["escalated"]]["reasons"],
                                   "messages": [ESCALATION_GONE_TEXT]}]}

    assert {k: version_of(engine, iid) for k, iid in ids.items()} == {
        "escalated": 1, "fresh": 2, "approved": 2, "finished": 1, "rejected": 1}
    for name in ("fresh", "approved"):
        [moved] = [e for e in engine.history("aud", ids[name]) if e["kind"] == "migrated"]
        assert moved["actor"] == OWNER
        payload = {k: moved["payload"][k] for k in ("from_version", "to_version")}
        assert payload == {"from_version": 1, "to_version": 2}
        assert moved["payload"]["from_version_id"] != moved["payload"]["to_version_id"]
        assert kinds(engine, ids[name])[-1] == "migrated"
    for name in ("escalated", "finished", "rejected"):
        assert "migrated" not in kinds(engine, ids[name])
    assert_all_verified(engine, ids.values())


def test_open_tasks_take_their_title_from_the_new_version(fleet):
    engine, ids = fleet
    engine.migrate(OWNER, "approval", 2)
    assert task_of(engine, "mgr", ids["fresh"], "approve")["title"] == NEW_TITLE
    assert task_of(engine, "mgr", ids["escalated"], "approve")["title"] == OLD_TITLE  # stayed on v1
    assert open_names(engine, ids["fresh"]) == ["approve"]
    assert open_names(engine, ids["approved"]) == ["archive"]


def test_migrating_twice_is_a_no_op(fleet):
    engine, ids = fleet
    first = engine.migrate(OWNER, "approval", 2)
    after_first = snapshot(engine)
    second = engine.migrate(OWNER, "approval", 2)
    assert second == {"migrated": [], "skipped": first["skipped"]}
    assert snapshot(engine) == after_first
    assert [p["instance_id"] for p in engine.migration_plan(OWNER, "approval", 2)] == [ids["escalated"]]


@pytest.mark.parametrize("actor", ["rep", "mgr", "dir", "aud"])
def test_only_process_owners_and_administrators_may_plan_or_migrate(fleet, actor):
    engine, _ids = fleet
    before = snapshot(engine)
    with pytest.raises(Forbidden):
        engine.migration_plan(actor, "approval", 2)
    with pytest.raises(Forbidden):
        engine.migrate(actor, "approval", 2)
    assert snapshot(engine) == before


def test_an_administrator_may_migrate(fleet):
    engine, ids = fleet
    assert engine.migrate("adm", "approval", 2)["migrated"] == [ids["fresh"], ids["approved"]]


def test_an_unknown_process_or_version_is_not_found(fleet):
    engine, _ids = fleet
    for key, version in (("approval", 3), ("nope", 1)):
        with pytest.raises(NotFound):
            engine.migration_plan(OWNER, key, version)
        with pytest.raises(NotFound):
            engine.migrate(OWNER, key, version)


# -- after the move ------------------------------------------------------------------------------
def test_every_moved_instance_completes_on_the_new_version_through_the_new_task(fleet):
    engine, ids = fleet
    engine.migrate(OWNER, "approval", 2)
    fresh, approved = ids["fresh"], ids["approved"]
    do(engine, "mgr", fresh, "approve", {"approved": True})
    for iid in (fresh, approved):
        do(engine, "rep", iid, "archive", {"archive_no": f"A-{iid}"})
        confirm = task_of(engine, "rep", iid, "confirm")  # the requester's new step
        assert (confirm["title"], confirm["form_key"], confirm["role"]) == ("确认归档", "approval_confirm", "initiator")
        assert engine.instance("aud", iid)["status"] == "running"
        do(engine, "rep", iid, "confirm", {"confirmed": True})
        inst = engine.instance("aud", iid)
        assert (inst["status"], inst["tasks"], inst["data"]["confirmed"]) == ("completed", [], True)
        [ended] = [e for e in engine.history("aud", iid) if e["kind"] == "ended"]
        assert ended["payload"]["end_events"] == ["end_ok"]
    assert_all_verified(engine, ids.values())


def test_an_instance_left_on_the_old_version_still_runs_the_old_flow(fleet):
    engine, ids = fleet
    engine.migrate(OWNER, "approval", 2)
    iid = ids["escalated"]
    do(engine, "dir", iid, "escalation", {"comment": "chased"})
    do(engine, "mgr", iid, "approve", {"approved": True})
    do(engine, "rep", iid, "archive", {"archive_no": "A-9"})
    inst = engine.instance("aud", iid)
    assert (inst["status"], inst["version"]) == ("completed", 1)
    assert "confirm" not in {e["task"] for e in engine.history("aud", iid)}
    assert_all_verified(engine, [iid])


def test_a_waiting_timer_keeps_its_deadline_and_follows_the_new_flow(fleet, clock):
    engine, ids = fleet
    engine.migrate(OWNER, "approval", 2)
    fresh = ids["fresh"]
    due = T0 + timedelta(hours=25 + 24)  # it started at T0 + 25 h with a 24 h SLA
    clock.set(due - timedelta(minutes=1))
    assert engine.fire_due_timers() == 0
    clock.set(due + timedelta(minutes=1))
    assert engine.fire_due_timers() == 1
    fired = [e for e in engine.history("aud", fresh) if e["kind"] == "timer_fired"]
    assert [e["task"] for e in fired] == ["sla"]
    # version 2 has no follow-up task: the approval stays the only open task
    assert open_names(engine, fresh) == ["approve"]
    do(engine, "mgr", fresh, "approve", {"approved": False, "comment": "late and too expensive"})
    assert engine.instance("aud", fresh)["status"] == "completed"
    assert_all_verified(engine, [fresh])


def test_a_deadline_that_passed_before_the_move_counts_under_the_old_version(fleet, clock):
    """The dry run saw `fresh` waiting; by the time it is moved its SLA has passed unnoticed. The move
    fires the timer first, by version 1's rules (a follow-up task), which blocks it: nothing is kept."""
    engine, ids = fleet
    fresh = ids["fresh"]
    assert {p["instance_id"]: p["movable"] for p in engine.migration_plan(OWNER, "approval", 2)}[fresh] is True
    clock.set(T0 + timedelta(hours=25 + 24, minutes=1))
    before = snapshot(engine)
    result = engine.migrate(OWNER, "approval", 2)
    assert fresh not in result["migrated"]
    assert {"instance_id": fresh, "reasons": [ESCALATION_GONE], "messages": [ESCALATION_GONE_TEXT]} in result["skipped"]
    assert snapshot(engine)["instances"][fresh] == before["instances"][fresh]
    assert engine.fire_due_timers() == 1  # the worker fires it as usual, on version 1
    assert open_names(engine, fresh) == ["approve", "escalation"]
    assert version_of(engine, fresh) == 1
    assert_all_verified(engine, [fresh])


def test_replay_switches_versions_at_the_migrated_event(fleet):
    engine, ids = fleet
    engine.migrate(OWNER, "approval", 2)
    iid = ids["approved"]
    history = engine.history("aud", iid)
    [position] = [e["position"] for e in history if e["kind"] == "migrated"]
    before = engine.replay(iid, step=position - 1)
    after = engine.replay(iid, step=position)
    assert before.verified and after.verified
    assert before.state["active"] == after.state["active"] == ["archive"]
    assert after.state["data"] == before.state["data"]
    do(engine, "rep", iid, "archive", {"archive_no": "A-2"})
    assert engine.replay(iid, step=position + 2).state["active"] == ["confirm"]


# -- what blocks a move ------------------------------------------------------------------------------
def forms_variant(change: str) -> list[SourceFile]:
    files = texts()
    archive = files["approval_archive.yaml"]
    if change == "archive requires a new field":
        archive = edit(archive, "required: [archive_no]", "required: [archive_no, archive_location]")
        archive = edit(archive, "    archive_no: {type: string, minLength: 1, maxLength: 64}\n",
                       "    archive_no: {type: string, minLength: 1, maxLength: 64}\n"
                       "    archive_location: {type: string, minLength: 1}\n")
        archive += "  - {name: archive_location, label: {zh: 存放位置, en: Location}}\n"
    elif change == "archive gets an optional field":
        archive = edit(archive, "    archive_no: {type: string, minLength: 1, maxLength: 64}\n",
                       "    archive_no: {type: string, minLength: 1, maxLength: 64}\n"
                       "    archive_location: {type: string}\n")
        archive += "  - {name: archive_location, label: {zh: 存放位置, en: Location}}\n"
    elif change == "approve uses another form":
        files["approval_decision2.yaml"] = edit(files["approval_decision.yaml"], "key: approval_decision",
                                                "key: approval_decision2")
        files["approval.bpmn"] = edit(files["approval.bpmn"], 'camunda:formKey="approval_decision"',
                                      'camunda:formKey="approval_decision2"')
    files["approval_archive.yaml"] = archive
    return sources(files)


@pytest.mark.parametrize(("change", "blocked", "reason", "text"), [
    ("archive requires a new field", "approved",
     "archive: form approval_archive of version 2 requires archive_location, "
     "which the form of version 1 did not have",
     {"zh": "“归档”：版本 2 的表单 approval_archive 要求填写 archive_location，而版本 1 的表单中没有这些字段",
      "en": "归档: form approval_archive of version 2 requires archive_location, "
            "which the form of version 1 did not have"}),
    ("archive gets an optional field", None, None, None),
    ("approve uses another form", "fresh", "approve: its form changes from approval_decision to approval_decision2",
     {"zh": "“经理审批”：表单从 approval_decision 变为 approval_decision2",
      "en": "经理审批: its form changes from approval_decision to approval_decision2"}),
])
def test_a_ready_task_moves_only_with_a_compatible_form(approval, clock, change, blocked, reason, text):
    engine = approval
    add_users(engine, {OWNER: ["process_owner"]})
    ids = {"fresh": engine.start("rep", "approval", REQUEST), "approved": engine.start("rep", "approval", REQUEST)}
    do(engine, "mgr", ids["approved"], "approve", {"approved": True})
    clock.advance(hours=1)
    engine.deploy(OWNER, files=forms_variant(change))
    plan = {p["instance_id"]: (p["movable"], p["reasons"], p["messages"])
            for p in engine.migration_plan(OWNER, "approval", 2)}
    expected = {iid: (name != blocked, [reason] if name == blocked else [], [text] if name == blocked else [])
                for name, iid in ids.items()}
    assert plan == expected
    result = engine.migrate(OWNER, "approval", 2)
    assert result["migrated"] == [iid for name, iid in ids.items() if name != blocked]
    assert result["skipped"] == ([{"instance_id": ids[blocked], "reasons": [reason], "messages": [text]}]
                                 if blocked else [])
    assert {name: version_of(engine, iid) for name, iid in ids.items()} == {
        name: 1 if name == blocked else 2 for name in ids}
    assert_all_verified(engine, ids.values())


def test_a_task_that_already_ran_must_still_exist(approval, clock):
    """The approval already ran in every instance: a version without it takes none of them."""
    engine = approval
    add_users(engine, {OWNER: ["process_owner"]})
    iid = engine.start("rep", "approval", REQUEST)
    do(engine, "mgr", iid, "approve", {"approved": True})
    files = texts()
    bpmn = files["approval.bpmn"]
    bpmn = edit(bpmn, '<bpmn:scriptTask id="set_level" name="定级">', '<bpmn:scriptTask id="set_level2" name="定级">')
    bpmn = edit(bpmn, "<bpmn:flowNodeRef>set_level</bpmn:flowNodeRef>",
                "<bpmn:flowNodeRef>set_level2</bpmn:flowNodeRef>")
    bpmn = edit(bpmn, 'targetRef="set_level"', 'targetRef="set_level2"')
    bpmn = edit(bpmn, 'sourceRef="set_level"', 'sourceRef="set_level2"')
    files["approval.bpmn"] = bpmn
    engine.deploy(OWNER, files=sources(files))
    [entry] = engine.migration_plan(OWNER, "approval", 2)
    assert (entry["movable"], entry["reasons"]) == (
        False, ["set_level: already completed here, and version 2 no longer has it to keep that history"])
    assert engine.migrate(OWNER, "approval", 2)["migrated"] == []
    assert version_of(engine, iid) == 1


def test_an_open_task_must_stay_the_same_kind_of_element(approval, clock):
    """`archive` becomes a manual task: an instance waiting at it stays; one before it moves."""
    engine = approval
    add_users(engine, {OWNER: ["process_owner"]})
    ids = {"fresh": engine.start("rep", "approval", REQUEST), "approved": engine.start("rep", "approval", REQUEST)}
    do(engine, "mgr", ids["approved"], "approve", {"approved": True})
    files = texts()
    bpmn = edit(files["approval.bpmn"], '<bpmn:userTask id="archive" name="归档" camunda:formKey="approval_archive">',
                '<bpmn:manualTask id="archive" name="归档" camunda:formKey="approval_archive">')
    files["approval.bpmn"] = edit(bpmn, '<bpmn:outgoing>f_done</bpmn:outgoing>\n    </bpmn:userTask>',
                                  '<bpmn:outgoing>f_done</bpmn:outgoing>\n    </bpmn:manualTask>')
    engine.deploy(OWNER, files=sources(files))
    plan = {p["instance_id"]: p["reasons"] for p in engine.migration_plan(OWNER, "approval", 2)}
    assert plan == {ids["fresh"]: [],
                    ids["approved"]: ["archive: is a UserTask in version 1 but a ManualTask in version 2"]}
    assert engine.migrate(OWNER, "approval", 2)["migrated"] == [ids["fresh"]]
    do(engine, "mgr", ids["fresh"], "approve", {"approved": True})
    do(engine, "rep", ids["fresh"], "archive", {"archive_no": "A-4"})
    assert engine.instance("aud", ids["fresh"])["status"] == "completed"
    assert_all_verified(engine, ids.values())


def test_a_task_whose_lane_changed_goes_to_the_new_lane(approval, clock):
    engine = approval
    add_users(engine, {OWNER: ["process_owner"]})
    iid = engine.start("rep", "approval", REQUEST)
    do(engine, "mgr", iid, "approve", {"approved": True})
    assert task_of(engine, "rep", iid, "archive")["assignee"] == "rep"
    files = texts()
    bpmn = files["approval.bpmn"]
    bpmn = edit(bpmn, "<bpmn:flowNodeRef>archive</bpmn:flowNodeRef>", "")
    bpmn = edit(bpmn, "<bpmn:flowNodeRef>escalation</bpmn:flowNodeRef>",
                "<bpmn:flowNodeRef>escalation</bpmn:flowNodeRef><bpmn:flowNodeRef>archive</bpmn:flowNodeRef>")
    files["approval.bpmn"] = bpmn
    engine.deploy(OWNER, files=sources(files))
    assert engine.migrate(OWNER, "approval", 2)["migrated"] == [iid]
    assert [t for t in engine.inbox("rep") if t["instance_id"] == iid] == []
    moved = task_of(engine, "dir", iid, "archive")
    assert (moved["role"], moved["assignee"]) == ("sales_director", None)
    [event] = [e for e in engine.history("aud", iid) if e["kind"] == "migrated"]
    assert event["payload"]["lanes"] == {moved["id"]: ["initiator", "sales_director"]}
    do(engine, "dir", iid, "archive", {"archive_no": "A-3"})
    assert engine.instance("aud", iid)["status"] == "completed"
    assert_all_verified(engine, [iid])


# -- sub-processes -------------------------------------------------------------------------------
def test_an_instance_inside_nested_sub_processes_moves_and_completes(engine, clock):
    """P4 complaint: the open task sits in first_response inside handle_complaint, with a 24 h timer."""
    from tests.scenarios.repository import deploy_repository
    from tests.scenarios.test_complaint__paths import ACCEPTED, IMPLEMENTED, close, registration, review

    deploy_repository(engine)  # the scenarios' snapshot of the repository and PEOPLE, when this worker has it
    add_users(engine, {OWNER: ["process_owner"]})
    iid = engine.start("svc1", "complaint", registration("service", "major"))
    review(engine, iid, "major")
    old = 'id="propose_service_by_vp" name="受理服务投诉，提出处理建议"'
    files = [SourceFile(f.name, f.kind, edit(f.text, old, old[:-1] + '（副总）"').encode("utf-8"))
             if f.name.endswith("complaint.bpmn") else f for f in load_paths([ROOT / "processes", ROOT / "forms"])]
    clock.advance(hours=1)
    assert [(d.key, d.version) for d in engine.deploy(OWNER, files=files) if d.status == "deployed"] == [
        ("complaint", 2)]
    assert engine.migrate(OWNER, "complaint", 2) == {"migrated": [iid], "skipped": []}
    assert task_of(engine, "vp1", iid, "propose_service_by_vp")["title"] == "受理服务投诉，提出处理建议（副总）"

    clock.set(T0 + timedelta(hours=24, minutes=1))  # the response deadline counts from the start, not the move
    assert engine.fire_due_timers() == 1
    assert open_names(engine, iid) == ["propose_service_by_vp", "response_escalation"]
    do(engine, "rep_vp", iid, "propose_service_by_vp",
       {"responsible_party": "销售一部 李强", "service_proposal": "通报批评并罚款"})
    do(engine, "off1", iid, "office_decision", {"office_decision": "同意"})
    do(engine, "mgr1", iid, "fill_service_form", {"service_form_no": "FW-2026-011", "responsible_department": "sales"})
    do(engine, "mgr2", iid, "handle_in_sales_department", {"department_handling": "已约谈"})
    do(engine, "mgr2", iid, "response_escalation", {"response_escalation_note": "已督促"})
    do(engine, "svc2", iid, "inform_customer", ACCEPTED)
    do(engine, "mgr2", iid, "implement_solution", IMPLEMENTED)
    close(engine, iid, "assess_service_penalty", {"complaint_verified": True, "penalised_party": "销售一部 李强",
                                                  "service_penalty": "criticism_and_fine", "fine_yuan": 100})
    inst = engine.instance("aud", iid)
    assert (inst["status"], inst["version"]) == ("completed", 2)
    assert_all_verified(engine, [iid])
