"""Exporting an instance or a search result, and verifying the files offline with
tools/verify_trail.py (the documented procedure, run as a separate stdlib-only Python)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine import Engine
from engine.errors import InvalidData
from engine.runtime import search
from tests.conftest import ROOT, deploy_approval
from tests.deployed_state import prepared

VERIFY = ROOT / "tools" / "verify_trail.py"
AWKWARD = 'a comment, with "quotes"\nand a second line'


def ready(eng: Engine, user: str, iid: int, name: str) -> str:
    return next(t["id"] for t in eng.inbox(user) if t["instance_id"] == iid and t["name"] == name)


@pytest.fixture
def three(engine: Engine) -> dict[str, int]:
    """Three approvals: approved (with a comment the CSV must quote), rejected after an SLA escalation (its
    escalation task still open), and one waiting for a manager. Built once per worker, then restored with
    the clock where the build left it (tests/deployed_state.py)."""
    return prepared(engine, "export bundle: three approvals", _three)


@pytest.fixture
def approval(engine: Engine, three: dict[str, int]) -> Engine:
    """Here: the engine `three` was built on (the approval process and its people deployed first)."""
    return engine


def _three(eng: Engine) -> dict[str, int]:
    clock = eng.clock
    deploy_approval(eng)
    ok = eng.start("rep", "approval", {"customer_name": "合肥建工集团", "amount_yuan": 12000}, business_key="AP-1")
    eng.comment("mgr", ready(eng, "mgr", ok, "approve"), AWKWARD)
    eng.complete("mgr", ready(eng, "mgr", ok, "approve"), {"approved": True})
    eng.complete("rep", ready(eng, "rep", ok, "archive"), {"archive_no": "A-1"})
    clock.advance(minutes=5)
    late = eng.start("rep2", "approval", {"customer_name": "Acme", "amount_yuan": 300}, business_key="AP-2")
    clock.advance(hours=25)
    assert eng.fire_due_timers() == 1
    eng.complete("mgr2", ready(eng, "mgr2", late, "approve"), {"approved": False, "comment": "不行"})
    clock.advance(minutes=5)
    running = eng.start("rep", "approval", {"customer_name": "Acme East", "amount_yuan": 1}, business_key="AP-3")
    return {"ok": ok, "late": late, "running": running}


def verify(*files: Path) -> subprocess.CompletedProcess:
    """tools/verify_trail.py in a Python without site-packages (-S -I): salesflow cannot be imported there."""
    return subprocess.run([sys.executable, "-S", "-I", str(VERIFY), *map(str, files)], capture_output=True,
                          text=True, timeout=60, cwd=files[0].parent)


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_an_exported_instance_verifies_offline(approval, three, tmp_path):
    path = write(tmp_path, "trail.json", approval.export(three["ok"], "json", actor="aud"))
    result = verify(path)
    assert result.returncode == 0, result.stdout + result.stderr
    events = len(json.loads(path.read_text(encoding="utf-8"))["events"])
    assert f"instance:{three['ok']}: verified ({events} events)" in result.stdout
    assert result.stdout.strip().endswith(f"verified: 1 chains, {events} events")


def test_a_search_export_is_a_bundle_of_chains_that_verify(approval, three, tmp_path, clock):
    bundle = json.loads(approval.export_search("aud", {"customer": "acme"}, "json"))
    assert bundle["format"] == "salesflow-audit-bundle/1"
    assert bundle["filters"] == {"customer": "acme"}
    assert (bundle["exported_by"], bundle["exported_at"]) == ("aud", clock.now().isoformat(timespec="microseconds"))
    assert [d["chain"] for d in bundle["instances"]] == [f"instance:{three['running']}", f"instance:{three['late']}"]
    assert bundle["count"] == 2
    # each chain is exactly the single-instance export
    # each document is the instance's own export, plus (outside the hashed events) the instance as it is now
    late = dict(bundle["instances"][1])
    assert late.pop("instance") == {"id": three["late"], "process_key": "approval", "status": "running",
                                    "outcome": None}
    assert late == json.loads(approval.export(three["late"], "json"))
    path = write(tmp_path, "bundle.json", json.dumps(bundle, ensure_ascii=False))
    result = verify(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified: 2 chains" in result.stdout


def _edit(path: Path, change) -> None:  # a function changing the document in place
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_an_edited_event_fails_naming_it(approval, three, tmp_path):
    path = write(tmp_path, "bundle.json", approval.export_search("aud", {}, "json"))
    doc = json.loads(path.read_text(encoding="utf-8"))
    target = next(i for i, d in enumerate(doc["instances"]) if d["chain"] == f"instance:{three['late']}")
    event = next(e for e in doc["instances"][target]["events"] if e["kind"] == "completed")

    def forge(d: dict) -> None:
        for e in d["instances"][target]["events"]:
            if e["position"] == event["position"]:
                e["actor"] = "mgr"  # someone else takes the decision
    _edit(path, forge)
    result = verify(path)
    assert result.returncode == 1
    assert (f"instance:{three['late']}: BROKEN: event {event['position']} (completed, task approve): "
            "hash mismatch, the event was altered") in result.stdout
    assert "NOT verified: 1 of 3 chains are broken" in result.stdout
    assert result.stdout.count("verified (") == 2  # the other chains still verify


@pytest.mark.parametrize("tamper", ["payload", "drop_last", "drop_middle", "swap", "count"])
def test_every_kind_of_tampering_is_found(approval, three, tmp_path, tamper):
    path = write(tmp_path, "trail.json", approval.export(three["ok"], "json"))

    def change(doc: dict) -> None:
        events = doc["events"]
        if tamper == "payload":
            payload = json.loads(events[2]["payload"])
            payload["injected"] = True
            events[2]["payload"] = json.dumps(payload)
        elif tamper == "drop_last":
            events.pop()
        elif tamper == "drop_middle":
            events.pop(3)
        elif tamper == "swap":
            events[3], events[4] = events[4], events[3]
        else:
            doc["format"] = "salesflow-audit-bundle/1"
            doc.update(instances=[dict(doc)], count=2)
    _edit(path, change)
    result = verify(path)
    assert result.returncode == (2 if tamper == "count" else 1), result.stdout + result.stderr
    expected = {"payload": "BROKEN: event 3 (", "drop_last": "events were removed or added at the end",
                "drop_middle": "BROKEN: event 4 (", "swap": "BROKEN: event 4 (",
                "count": "says it holds 2 chains but holds 1"}[tamper]
    assert expected in result.stdout + result.stderr


def test_a_trail_edited_in_the_database_exports_as_broken(approval, three, tmp_path, db_url):
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:
            conn.execute(text("UPDATE audit_event SET actor = 'rep2' WHERE chain = :c AND position = 1"),
                         {"c": f"instance:{three['ok']}"})
    finally:
        raw.dispose()
    result = verify(write(tmp_path, "trail.json", approval.export(three["ok"], "json")))
    assert result.returncode == 1 and "BROKEN: event 1 (started)" in result.stdout


def _rows(content: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content, newline="")))


def test_a_search_exports_as_csv_one_row_per_event(approval, three):
    rows = _rows(approval.export_search("aud", {}, "csv"))
    assert rows[0] == ["instance_id", "instance_status", "instance_outcome", "position", "at", "actor", "kind",
                       "task", "payload", "prev_hash", "hash"]
    bundle = json.loads(approval.export_search("aud", {}, "json"))
    expected = [(d["chain"].split(":")[1], d["instance"]["status"], d["instance"]["outcome"] or "",
                 str(e["position"]), e["hash"]) for d in bundle["instances"] for e in d["events"]]
    assert [(r[0], r[1], r[2], r[3], r[10]) for r in rows[1:]] == expected
    comment = next(r for r in rows[1:] if r[7] == "approve" and r[6] == "commented")
    assert json.loads(comment[8])["text"] == AWKWARD  # quoted, so the line break stays inside one row


def test_one_instance_exports_as_csv_one_row_per_event(approval, three):
    rows = _rows(approval.export(three["late"], "csv", actor="aud"))
    events = approval.history("aud", three["late"])
    assert rows[0][0] == "position" and len(rows) == len(events) + 1
    assert [r[3] for r in rows[1:]] == [e["kind"] for e in events]


def test_a_search_export_holds_only_what_the_user_may_see(approval, three):
    bundle = json.loads(approval.export_search("rep2", {}, "json"))
    assert [d["chain"] for d in bundle["instances"]] == [f"instance:{three['late']}"]
    assert {r[0] for r in _rows(approval.export_search("rep", {}, "csv"))[1:]} == {
        str(three["ok"]), str(three["running"])}


def test_an_empty_search_exports_an_empty_bundle(approval, three, tmp_path):
    content = approval.export_search("aud", {"customer": "nobody"}, "json")
    assert json.loads(content)["instances"] == []
    assert verify(write(tmp_path, "empty.json", content)).returncode == 0
    assert _rows(approval.export_search("aud", {"customer": "nobody"}, "csv"))[1:] == []


def test_too_large_an_export_is_refused_with_a_message(approval, three, monkeypatch):
    monkeypatch.setattr(search, "MAX_EXPORT", 2)
    with pytest.raises(InvalidData) as caught:
        approval.export_search("aud", {}, "json")
    assert caught.value.fields["export"]["en"] == (
        "More than 2 instances found; an export holds at most 2: narrow the filters")
    assert json.loads(approval.export_search("aud", {"customer": "acme"}, "json"))["count"] == 2


def test_bad_format_or_filters_are_refused(approval, three):
    with pytest.raises(InvalidData) as caught:
        approval.export_search("aud", {}, "xml")
    assert caught.value.fields == {"format": {"zh": "须为 json 或 csv", "en": "Must be json or csv"}}
    with pytest.raises(InvalidData) as caught:
        approval.export_search("aud", {"status": "lost"}, "csv")
    assert set(caught.value.fields) == {"status"}


def test_the_verifier_imports_nothing_from_salesflow():
    source = VERIFY.read_text(encoding="utf-8")
    imports = {line.split()[1].split(".")[0] for line in source.splitlines()
               if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "hashlib", "json", "sys"}
