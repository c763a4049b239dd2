"""Versions: identical content is 'unchanged', changed content is a new immutable version, running
instances stay on the version they started on, every new version is a `deployed` event on the verified
"deployments" chain, and only process owners and administrators may deploy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.audit.chain import DEPLOYMENTS
from engine.definitions.bundle import KINDS, SourceFile
from engine.errors import Forbidden, InvalidData
from engine.store.models import AuditEvent, ProcessVersion
from tests.conftest import FIXTURES, add_users

APPROVAL = FIXTURES / "approval"
OLD_TITLE, NEW_TITLE = "经理审批", "经理审批（新）"
REQUEST = {"customer_name": "ACME", "amount_yuan": 20000}


def texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(APPROVAL.iterdir())}


def edit(text: str, old: str, new: str) -> str:
    assert old in text, f"fixture no longer contains {old!r}"
    return text.replace(old, new, 1)


def sources(files: dict[str, str]) -> list[SourceFile]:
    return [SourceFile(name, KINDS[Path(name).suffix], text.encode("utf-8")) for name, text in files.items()]


def version_2() -> list[SourceFile]:
    """The approval bundle with the approval task renamed and a stricter archive number (must start with B-)."""
    files = texts()
    files["approval.bpmn"] = edit(files["approval.bpmn"], f'name="{OLD_TITLE}"', f'name="{NEW_TITLE}"')
    files["approval_archive.yaml"] = edit(files["approval_archive.yaml"], "minLength: 1, maxLength: 64",
                                          "minLength: 1, maxLength: 64, pattern: '^B-'")
    return sources(files)


def deployed_events(engine) -> list[dict]:
    with engine.db.read() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.chain == DEPLOYMENTS).order_by(AuditEvent.position))
        return [{"position": r.position, "kind": r.kind, "actor": r.actor, "payload": json.loads(r.payload)}
                for r in rows]


def versions(engine, key: str = "approval") -> list[int]:
    with engine.db.read() as s:
        return list(s.scalars(select(ProcessVersion.version).where(ProcessVersion.key == key)
                              .order_by(ProcessVersion.version)))


def deployments_chain(engine):
    [result] = [r for r in engine.verify_chains() if r.chain == DEPLOYMENTS]
    return result


def the_task(engine, actor: str, iid: int, name: str) -> dict:
    matching = [t for t in engine.inbox(actor) if t["instance_id"] == iid and t["name"] == name]
    assert len(matching) == 1, engine.inbox(actor)
    return matching[0]


# -- unchanged / new version ---------------------------------------------------
def test_identical_content_is_unchanged_and_keeps_the_version(approval):
    [first] = deployed_events(approval)
    [again] = approval.deploy("system", [APPROVAL])
    assert (again.key, again.version, again.status) == ("approval", 1, "unchanged")
    assert again.sha256 == first["payload"]["sha256"]
    assert versions(approval) == [1]
    assert [(p["key"], p["version"]) for p in approval.processes()] == [("approval", 1)]
    assert len(deployed_events(approval)) == 1


def test_identical_content_from_another_folder_is_unchanged(approval, tmp_path):
    copy = tmp_path / "checkout" / "approval"
    shutil.copytree(APPROVAL, copy)
    [again] = approval.deploy("system", [copy])
    assert (again.version, again.status) == (1, "unchanged")
    [again] = approval.deploy("system", files=sources(texts()))
    assert (again.version, again.status) == (1, "unchanged")
    assert versions(approval) == [1]


def test_renamed_task_creates_version_2(approval):
    [v1] = deployed_events(approval)
    [result] = approval.deploy("system", files=version_2(), note="rename approval")
    assert (result.key, result.version, result.status) == ("approval", 2, "deployed")
    assert result.sha256 != v1["payload"]["sha256"]
    assert versions(approval) == [1, 2]
    assert [(p["key"], p["version"]) for p in approval.processes()] == [("approval", 2)]
    [again] = approval.deploy("system", files=version_2())
    assert (again.version, again.status) == (2, "unchanged")
    assert versions(approval) == [1, 2]


def test_changing_only_a_form_creates_a_new_version(approval):
    files = texts()
    files["approval_archive.yaml"] = edit(files["approval_archive.yaml"], "maxLength: 64", "maxLength: 32")
    [result] = approval.deploy("system", files=sources(files))
    assert (result.version, result.status) == (2, "deployed")


def test_instance_stays_on_its_version_and_completes_after_a_new_version(approval, clock):
    eng = approval
    old = eng.start("rep", "approval", REQUEST)
    assert eng.instance("rep", old)["version"] == 1
    old_task = the_task(eng, "mgr", old, "approve")
    assert old_task["title"] == OLD_TITLE

    [v2] = eng.deploy("system", files=version_2())
    assert v2.version == 2
    new = eng.start("rep2", "approval", REQUEST)
    assert eng.instance("rep2", new)["version"] == 2
    assert the_task(eng, "mgr", new, "approve")["title"] == NEW_TITLE

    # the old instance keeps its version: its timer, titles and forms are version 1's
    clock.advance(hours=25)
    assert eng.fire_due_timers() == 2  # one SLA timer per instance
    assert the_task(eng, "dir", old, "escalation")
    eng.complete("mgr", old_task["id"], {"approved": True})
    archive = the_task(eng, "rep", old, "archive")
    eng.complete("rep", archive["id"], {"archive_no": "A-1"})  # version 1's form has no B- rule
    view = eng.instance("rep", old)
    assert view["version"] == 1
    assert [t["name"] for t in view["tasks"]] == ["escalation"]  # non-interrupting: still open
    [esc] = view["tasks"]
    eng.complete("dir", esc["id"], {"comment": "done"})
    view = eng.instance("rep", old)
    assert (view["status"], view["version"]) == ("completed", 1)
    assert any(t["name"] == "approve" and t["title"] == OLD_TITLE for t in view["history_tasks"])
    assert eng.replay(old).verified

    # the new instance follows version 2's form
    eng.complete("mgr2", the_task(eng, "mgr2", new, "approve")["id"], {"approved": True})
    archive = the_task(eng, "rep2", new, "archive")
    with pytest.raises(InvalidData) as info:
        eng.complete("rep2", archive["id"], {"archive_no": "A-1"})
    assert "archive_no" in info.value.fields
    eng.complete("rep2", archive["id"], {"archive_no": "B-1"})
    assert eng.instance("rep2", new)["version"] == 2


def test_each_new_version_is_a_deployed_event_on_a_verified_chain(engine, clock):
    add_users(engine, {"owner": ["process_owner"]})
    [v1] = engine.deploy("owner", [APPROVAL], note="first")
    clock.advance(minutes=5)
    engine.deploy("owner", [APPROVAL])  # unchanged: no event
    clock.advance(minutes=5)
    [v2] = engine.deploy("owner", files=version_2(), note="second")
    events = deployed_events(engine)
    assert [e["kind"] for e in events] == ["deployed", "deployed"]
    assert [e["position"] for e in events] == [1, 2]
    assert [e["actor"] for e in events] == ["owner", "owner"]
    assert [(e["payload"]["process_key"], e["payload"]["version"]) for e in events] == [("approval", 1),
                                                                                       ("approval", 2)]
    assert [e["payload"]["sha256"] for e in events] == [v1.sha256, v2.sha256]
    assert [e["payload"]["note"] for e in events] == ["first", "second"]
    assert any(f.startswith("bpmn:approval.bpmn:") for f in events[0]["payload"]["files"])
    chain = deployments_chain(engine)
    assert chain.ok, chain.describe()
    assert chain.events == 2


def test_deployments_chain_detects_an_edited_deployed_event(engine):
    engine.deploy("system", [APPROVAL])
    engine.deploy("system", files=version_2())
    with engine.db.write() as s:
        row = s.scalar(select(AuditEvent).where(AuditEvent.chain == DEPLOYMENTS, AuditEvent.position == 1))
        payload = json.loads(row.payload)
        payload["note"] = "rewritten"
        row.payload = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    chain = deployments_chain(engine)
    assert not chain.ok
    assert chain.position == 1


# -- who may deploy --------------------------------------------------------------------
@pytest.mark.parametrize("actor", ["rep", "mgr", "dir", "aud"])
def test_deploy_by_someone_without_process_owner_or_admin_is_forbidden(approval, actor):
    before = approval.processes()
    with pytest.raises(Forbidden):
        approval.deploy(actor, files=version_2())
    assert approval.processes() == before
    assert versions(approval) == [1]
    assert len(deployed_events(approval)) == 1


def test_forbidden_deploy_on_an_empty_engine_deploys_nothing(engine):
    add_users(engine, {"rep": ["sales_rep"], "boss": ["sales_director", "general_manager"]})
    for actor in ("rep", "boss"):
        with pytest.raises(Forbidden):
            engine.deploy(actor, [APPROVAL])
    assert engine.processes() == []
    assert deployed_events(engine) == []


@pytest.mark.parametrize("roles", [["process_owner"], ["admin"], ["sales_rep", "process_owner"]])
def test_process_owner_or_admin_may_deploy(engine, roles):
    add_users(engine, {"someone": roles})
    [result] = engine.deploy("someone", [APPROVAL])
    assert (result.version, result.status) == (1, "deployed")
    [event] = deployed_events(engine)
    assert event["actor"] == "someone"
