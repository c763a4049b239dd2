"""Versions of a process as a process owner sees them: every version newest first with its author, note and how
many instances run on it; the files a version was built from (to open it in the editor); and what a version changed
against the one before it: diagram elements added, removed and renamed, forms added, removed and changed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine import Engine
from engine.definitions.bundle import KINDS, SourceFile
from engine.errors import Forbidden, NotFound
from tests.conftest import FIXTURES, T0, add_users
from tests.deployed_state import prepared

APPROVAL = FIXTURES / "approval"
BPMN = "approval.bpmn"
OWNER = "own"
REQUEST = {"customer_name": "ACME", "amount_yuan": 20000}
V1_FORMS = ["approval_archive", "approval_decision", "approval_escalation", "approval_request"]


def texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(APPROVAL.iterdir())}


def replace_all(text: str, old: str, new: str, times: int) -> str:
    """Replace every `old`, which the fixture must contain exactly `times` times (so a changed fixture fails here)."""
    assert text.count(old) == times, f"fixture has {text.count(old)} x {old!r}, expected {times}"
    return text.replace(old, new)


def sources(files: dict[str, str]) -> list[SourceFile]:
    return [SourceFile(name, KINDS[Path(name).suffix], text.encode("utf-8")) for name, text in files.items()]


def version_2() -> dict[str, str]:
    """Archive task renamed; end event end_escalated becomes end_followed_up; the escalation task's form
    approval_escalation replaced by a new form approval_followup; the decision form's comment limit lowered."""
    files = texts()
    bpmn = replace_all(files[BPMN], 'name="归档"', 'name="归档入库"', 1)
    bpmn = replace_all(bpmn, "end_escalated", "end_followed_up", 3)
    bpmn = replace_all(bpmn, 'camunda:formKey="approval_escalation"', 'camunda:formKey="approval_followup"', 1)
    followup = replace_all(files.pop("approval_escalation.yaml"), "key: approval_escalation", "key: approval_followup",
                           1)
    decision = replace_all(files["approval_decision.yaml"], "maxLength: 2000", "maxLength: 500", 1)
    return {**files, BPMN: bpmn, "approval_followup.yaml": followup, "approval_decision.yaml": decision}


def _owners(engine: Engine) -> None:
    add_users(engine, {OWNER: ["process_owner"], "adm": ["admin"], "rep": ["sales_rep"], "mgr": ["sales_manager"],
                       "aud": ["auditor"]})


def _two_versions(engine: Engine) -> None:
    _owners(engine)
    engine.deploy(OWNER, files=sources(texts()), note="first")
    engine.clock.advance(hours=1)
    engine.deploy(OWNER, files=sources(version_2()), note="follow-up form")


# both built once per worker, then restored (tests/deployed_state.py), two_versions with its clock an hour on
@pytest.fixture
def owned(engine: Engine) -> Engine:
    prepared(engine, "diff: the owners", _owners)
    return engine


@pytest.fixture
def two_versions(engine: Engine) -> Engine:
    prepared(engine, "diff: the owners and two versions of approval", _two_versions)
    return engine


# -- the diff --------------------------------------------------------------------
def test_diff_lists_added_removed_and_renamed_elements(two_versions):
    diff = two_versions.version_diff(OWNER, "approval", 2)
    assert diff["against"] == 1
    assert diff["added"] == ["end_followed_up"]
    assert diff["removed"] == ["end_escalated"]
    assert diff["renamed"] == [{"id": "archive", "from": "归档", "to": "归档入库"}]


def test_diff_lists_changed_added_and_removed_forms(two_versions):
    diff = two_versions.version_diff(OWNER, "approval", 2)
    assert diff["forms_added"] == ["approval_followup"]
    assert diff["forms_removed"] == ["approval_escalation"]
    assert diff["forms_changed"] == ["approval_decision"]  # approval_archive and approval_request are as they were


def test_a_new_or_removed_sequence_flow_is_an_added_or_removed_element(owned):
    owned.deploy(OWNER, files=sources(texts()))
    files = texts()
    files[BPMN] = replace_all(files[BPMN], 'id="f_done"', 'id="f_archived"', 1)
    files[BPMN] = replace_all(files[BPMN], "<bpmn:outgoing>f_done</bpmn:outgoing>",
                              "<bpmn:outgoing>f_archived</bpmn:outgoing>", 1)
    files[BPMN] = replace_all(files[BPMN], "<bpmn:incoming>f_done</bpmn:incoming>",
                              "<bpmn:incoming>f_archived</bpmn:incoming>", 1)
    owned.deploy(OWNER, files=sources(files))
    diff = owned.version_diff(OWNER, "approval", 2)
    assert (diff["added"], diff["removed"], diff["renamed"]) == (["f_archived"], ["f_done"], [])
    assert (diff["forms_added"], diff["forms_removed"], diff["forms_changed"]) == ([], [], [])


def test_the_first_version_is_compared_with_nothing(two_versions):
    diff = two_versions.version_diff(OWNER, "approval", 1)
    assert diff["against"] is None
    elements = {"start", "set_level", "approve", "sla", "escalation", "end_escalated", "decide", "archive",
                "end_ok", "end_rejected", "f1", "f2", "f3", "f_esc", "f_esc_end", "f_yes", "f_no", "f_done",
                "sales_rep", "sales_manager", "sales_director", "initiator"}
    assert diff["added"] == sorted(elements)
    assert (diff["removed"], diff["renamed"]) == ([], [])
    assert diff["forms_added"] == V1_FORMS
    assert (diff["forms_removed"], diff["forms_changed"]) == ([], [])


# -- the version list ---------------------------------------------------------------
def test_versions_newest_first_with_author_time_note_and_hash(owned, clock):
    [v1] = owned.deploy(OWNER, files=sources(texts()), note="first")
    clock.advance(hours=1)
    [v2] = owned.deploy("adm", files=sources(version_2()), note="follow-up form")
    listed = owned.versions(OWNER, "approval")
    assert [(v["version"], v["sha256"], v["deployed_by"], v["note"]) for v in listed] == [
        (2, v2.sha256, "adm", "follow-up form"), (1, v1.sha256, OWNER, "first")]
    assert [v["deployed_at"] for v in listed] == [(T0 + timedelta(hours=1)).isoformat(), T0.isoformat()]


def test_an_unchanged_deploy_adds_no_version(two_versions):
    assert two_versions.deploy(OWNER, files=sources(version_2()))[0].status == "unchanged"
    assert [v["version"] for v in two_versions.versions(OWNER, "approval")] == [2, 1]


def test_versions_without_instances_count_zero(two_versions):
    assert [(v["running"], v["total"]) for v in two_versions.versions(OWNER, "approval")] == [(0, 0), (0, 0)]


def test_instances_are_counted_on_the_version_they_run_on(owned):
    owned.deploy(OWNER, files=sources(texts()))
    first = owned.start("rep", "approval", REQUEST)
    owned.start("rep", "approval", REQUEST)
    owned.cancel("rep", first, "entered twice")
    owned.deploy(OWNER, files=sources(version_2()))
    owned.start("rep", "approval", REQUEST)
    counts = {v["version"]: (v["running"], v["total"]) for v in owned.versions(OWNER, "approval")}
    assert counts == {2: (1, 1), 1: (1, 2)}


def test_a_completed_instance_counts_in_total_not_running(owned):
    owned.deploy(OWNER, files=sources(texts()))
    iid = owned.start("rep", "approval", REQUEST)
    [task] = [t for t in owned.inbox("mgr") if t["instance_id"] == iid]
    owned.claim("mgr", task["id"])
    owned.complete("mgr", task["id"], {"approved": False, "comment": "too expensive"})
    assert owned.instance("rep", iid)["status"] == "completed"
    assert [(v["running"], v["total"]) for v in owned.versions(OWNER, "approval")] == [(0, 1)]


# -- the files of a version ------------------------------------------------------------
def test_version_files_are_the_deployed_files_and_redeploy_unchanged(two_versions):
    files = two_versions.version_files(OWNER, "approval", 1)
    original = texts()
    assert sorted((f["name"], f["kind"]) for f in files) == sorted(
        (name, KINDS[Path(name).suffix]) for name in original)
    assert {f["name"]: f["content"] for f in files} == original
    again = [SourceFile(f["name"], f["kind"], f["content"].encode("utf-8")) for f in
             two_versions.version_files(OWNER, "approval", 2)]
    assert two_versions.deploy(OWNER, files=again)[0].status == "unchanged"


def test_version_2_files_have_the_new_form_and_not_the_old(two_versions):
    names = {f["name"] for f in two_versions.version_files(OWNER, "approval", 2)}
    assert "approval_followup.yaml" in names and "approval_escalation.yaml" not in names


# -- who may look, and what is not there ----------------------------------------------
@pytest.mark.parametrize("actor", ["rep", "mgr", "aud"])
def test_versions_files_and_diff_are_forbidden_for_a_non_owner(two_versions, actor):
    with pytest.raises(Forbidden):
        two_versions.versions(actor, "approval")
    with pytest.raises(Forbidden):
        two_versions.version_files(actor, "approval", 1)
    with pytest.raises(Forbidden):
        two_versions.version_diff(actor, "approval", 2)


def test_an_admin_may_look(two_versions):
    assert [v["version"] for v in two_versions.versions("adm", "approval")] == [2, 1]
    assert two_versions.version_diff("adm", "approval", 2)["against"] == 1


def test_forbidden_is_checked_before_not_found(two_versions):
    with pytest.raises(Forbidden):
        two_versions.versions("rep", "no_such_process")


@pytest.mark.parametrize("call", ["versions", "version_files", "version_diff"])
def test_an_unknown_process_or_version_is_not_found(two_versions, call):
    with pytest.raises(NotFound):
        if call == "versions":
            two_versions.versions(OWNER, "no_such_process")
        else:
            getattr(two_versions, call)(OWNER, "approval", 3)
    if call != "versions":
        with pytest.raises(NotFound):
            getattr(two_versions, call)(OWNER, "no_such_process", 1)
