"""Hash-chain verification: tampering found by engine.verify_chains and `salesflow audit verify`;
exports checked against an independent implementation of the documented hash rule."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text

from engine import Engine
from tests.cli_runner import run_cli
from tests.conftest import deploy_approval
from tests.deployed_state import prepared

GENESIS = "0" * 64


def run_instance(eng: Engine, clock, approved: bool = True, escalate: bool = False) -> int:
    """Run one approval instance to its end; returns its id."""
    iid = eng.start("rep", "approval", {"customer_name": "客户 ACME", "amount_yuan": 12000})
    if escalate:
        clock.advance(hours=25)
        assert eng.fire_due_timers() == 1
        eng.complete("dir", [t for t in eng.inbox("dir") if t["instance_id"] == iid][0]["id"], {"comment": "快"})
    approve = [t for t in eng.inbox("mgr") if t["instance_id"] == iid][0]["id"]
    eng.claim("mgr", approve)
    eng.complete("mgr", approve, {"approved": True} if approved else {"approved": False, "comment": "不行"})
    if approved:
        eng.complete("rep", [t for t in eng.inbox("rep") if t["instance_id"] == iid][0]["id"], {"archive_no": "A-1"})
    assert eng.instance("aud", iid)["status"] == "completed"
    return iid


@pytest.fixture
def three(engine: Engine) -> tuple[Engine, int, int, int]:
    """Three finished instances: the one to tamper with and two bystanders. Built once per worker, then
    restored (tests/deployed_state.py): the tests tamper with their own copy."""
    return engine, *prepared(engine, "audit verify: three finished approvals", _run_three)


def _run_three(eng: Engine) -> tuple[int, int, int]:
    deploy_approval(eng)
    target = run_instance(eng, eng.clock)
    other = run_instance(eng, eng.clock, approved=False)
    third = run_instance(eng, eng.clock, escalate=True)
    return target, other, third


def sql(db_url: str, statement: str, **params) -> None:
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:
            conn.execute(text(statement), params)
    finally:
        raw.dispose()


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return run_cli({**os.environ, "SALESFLOW_DATABASE_URL": db_url, "SALESFLOW_LANG": "en"}, *args)


def chain(iid: int) -> str:
    return f"instance:{iid}"


def positions(eng: Engine, iid: int) -> dict[str, list[int]]:
    by_kind: dict[str, list[int]] = {}
    for e in eng.history("aud", iid):
        by_kind.setdefault(e["kind"], []).append(e["position"])
    return by_kind


# -- tampering --------------------------------------------------------------------


def edit_payload(db_url: str, eng: Engine, iid: int) -> int:
    pos = positions(eng, iid)["completed"][0]  # the manager's decision
    [event] = [e for e in eng.history("aud", iid) if e["position"] == pos]
    payload = dict(event["payload"], data={"approved": False, "comment": "tampered"})
    sql(db_url, "UPDATE audit_event SET payload = :p WHERE chain = :c AND position = :n",
        p=json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False), c=chain(iid), n=pos)
    return pos


def edit_actor(db_url: str, eng: Engine, iid: int) -> int:
    pos = positions(eng, iid)["completed"][0]
    sql(db_url, "UPDATE audit_event SET actor = 'mgr2' WHERE chain = :c AND position = :n", c=chain(iid), n=pos)
    return pos


def delete_middle(db_url: str, eng: Engine, iid: int) -> int:
    pos = positions(eng, iid)["claimed"][0]
    sql(db_url, "DELETE FROM audit_event WHERE chain = :c AND position = :n", c=chain(iid), n=pos)
    return pos


def delete_last(db_url: str, eng: Engine, iid: int) -> int:
    last = eng.history("aud", iid)[-1]["position"]
    sql(db_url, "DELETE FROM audit_event WHERE chain = :c AND position = :n", c=chain(iid), n=last)
    return last  # audit_chain still records the old head


def swap_two(db_url: str, eng: Engine, iid: int) -> int:
    a = positions(eng, iid)["claimed"][0]
    b = a + 1
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:
            for old, new in ((a, -1), (b, a), (-1, b)):
                conn.execute(text("UPDATE audit_event SET position = :new WHERE chain = :c AND position = :old"),
                             {"new": new, "old": old, "c": chain(iid)})
    finally:
        raw.dispose()
    return a


TAMPERING: dict[str, Callable[[str, Engine, int], int]] = {
    "edit_payload": edit_payload, "edit_actor": edit_actor, "delete_middle": delete_middle,
    "delete_last": delete_last, "swap_two": swap_two,
}


def test_a_full_run_verifies(three):
    eng, *ids = three
    results = {r.chain: r for r in eng.verify_chains()}
    assert set(results) == {"deployments", *(chain(i) for i in ids)}
    for iid in ids:
        r = results[chain(iid)]
        assert r.ok and r.position is None, r.describe()
        assert r.events == len(eng.history("aud", iid))
    assert results["deployments"].ok
    for iid in ids:
        [single] = list(eng.verify_chains(iid))
        assert single.ok and single.chain == chain(iid)


def test_cli_audit_verify_passes_on_an_untouched_database(three, db_url):
    _eng, *ids = three
    done = cli(db_url, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(ids) + 1} trail(s) checked: {len(ids) + 1} verified, 0 broken; " \
           f"{len(ids)} instance(s) replayed as recorded" in done.stdout
    assert "verifying audit trails" in done.stderr  # the progress bar's label (drawn in full on a terminal)
    listed = cli(db_url, "audit", "verify", "--list", "--no-replay")
    for iid in ids:
        assert f"{chain(iid)}: verified (" in listed.stdout
    assert "replay matches" not in listed.stdout and "replayed" not in listed.stdout


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_found_at_the_first_bad_event(three, db_url, how):
    eng, target, other, third = three
    bad = TAMPERING[how](db_url, eng, target)

    [result] = list(eng.verify_chains(target))
    assert not result.ok
    assert result.chain == chain(target)
    assert result.position == bad, result.describe()
    for iid in (other, third):
        [ok] = list(eng.verify_chains(iid))
        assert ok.ok, ok.describe()
    everything = {r.chain: r for r in eng.verify_chains()}
    assert [c for c, r in everything.items() if not r.ok] == [chain(target)]
    assert not eng.replay(target).verified


@pytest.mark.parametrize("how", list(TAMPERING))
def test_cli_audit_verify_fails_and_names_the_chain_and_position(three, db_url, how):
    eng, target, other, third = three
    bad = TAMPERING[how](db_url, eng, target)

    done = cli(db_url, "audit", "verify")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output
    broken = [line for line in output.splitlines() if "BROKEN" in line]
    assert broken and all(chain(target) in line for line in broken), output
    assert f"{chain(target)}: BROKEN at event {bad}:" in output
    assert "3 verified, 1 broken" in done.stdout
    listed = cli(db_url, "audit", "verify", "--list")
    for iid in (other, third):
        assert f"{chain(iid)}: verified" in listed.stdout

    one = cli(db_url, "audit", "verify", "--instance", str(target))
    assert one.returncode != 0
    assert f"{chain(target)}: BROKEN at event {bad}:" in one.stdout + one.stderr
    fine = cli(db_url, "audit", "verify", "--instance", str(other))
    assert fine.returncode == 0, fine.stdout + fine.stderr


def test_deleting_every_event_of_a_chain_is_found(three, db_url):
    """The chain head (audit_chain) still records the length, so an emptied trail does not verify."""
    eng, target, other, _third = three
    sql(db_url, "DELETE FROM audit_event WHERE chain = :c", c=chain(target))
    [result] = list(eng.verify_chains(target))
    assert not result.ok and result.position == 1, result.describe()
    [fine] = list(eng.verify_chains(other))
    assert fine.ok


# -- export ---------------------------------------------------------------------------


def independent_hash(prev: str, event: dict, chain_name: str) -> str:
    payload = json.loads(event["payload"]) if isinstance(event["payload"], str) else event["payload"]
    body = {"chain": chain_name, "position": event["position"], "at": event["at"], "actor": event["actor"],
            "kind": event["kind"], "task": event["task"], "payload": payload}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()


def offline_verify(doc: dict) -> int | None:
    """The first bad position of an exported trail, or None when it verifies (written from the docs only)."""
    prev = GENESIS
    for n, event in enumerate(doc["events"], start=1):
        if event["position"] != n or event["prev_hash"] != prev:
            return n
        if independent_hash(prev, event, doc["chain"]) != event["hash"]:
            return n
        prev = event["hash"]
    if doc["head"] is not None and (doc["head"]["length"] != len(doc["events"]) or doc["head"]["head"] != prev):
        return len(doc["events"]) + 1
    return None


def test_json_export_verifies_offline_with_the_documented_rule(three):
    eng, target, other, third = three
    for iid in (target, other, third):
        doc = json.loads(eng.export(iid, "json"))
        history = eng.history("aud", iid)
        assert doc["chain"] == chain(iid)
        assert [e["hash"] for e in doc["events"]] == [e["hash"] for e in history]
        assert doc["head"] == {"length": len(history), "head": history[-1]["hash"]}
        assert offline_verify(doc) is None

    # the offline check is not vacuous: a changed field in the file is caught where it is
    doc = json.loads(eng.export(target, "json"))
    victim = next(e for e in doc["events"] if e["kind"] == "completed")
    payload = json.loads(victim["payload"])
    payload["data"]["approved"] = not payload["data"]["approved"]
    victim["payload"] = json.dumps(payload)
    assert offline_verify(doc) == victim["position"]
    doc = json.loads(eng.export(target, "json"))
    doc["events"].pop()
    assert offline_verify(doc) == len(doc["events"]) + 1


def test_json_export_keeps_chinese_text_as_it_was_hashed(three):
    eng, target, _other, _third = three
    doc = json.loads(eng.export(target, "json"))
    started = doc["events"][0]
    assert started["kind"] == "started"
    assert json.loads(started["payload"])["data"]["customer_name"] == "客户 ACME"


def test_csv_export_has_a_header_and_one_row_per_event(three):
    eng, target, _other, third = three
    for iid in (target, third):
        rows = list(csv.reader(io.StringIO(eng.export(iid, "csv"))))
        header, body = rows[0], rows[1:]
        assert header == ["position", "at", "actor", "kind", "task", "payload", "prev_hash", "hash"]
        history = eng.history("aud", iid)
        assert len(body) == len(history)
        for row, event in zip(body, history, strict=True):
            record = dict(zip(header, row, strict=True))
            assert int(record["position"]) == event["position"]
            assert (record["kind"], record["actor"], record["hash"]) == (event["kind"], event["actor"], event["hash"])
            assert record["task"] == (event["task"] or "")
            assert json.loads(record["payload"]) == event["payload"]


def test_export_of_a_missing_instance_is_not_found(approval):
    from engine.errors import NotFound

    with pytest.raises(NotFound):
        approval.export(999, "json")


# -- a forger who rewrites the whole chain ------------------------------------------------


def rechain(db_url: str, eng: Engine, iid: int, position: int, payload: dict) -> None:
    """Replace one event's payload and recompute every hash after it and the chain head, as someone
    with write access to the database and the documented hash rule could."""
    from engine.audit.chain import canonical, event_body, event_hash

    events = eng.history("aud", iid)
    prev = events[position - 2]["hash"] if position > 1 else GENESIS
    for ev in events[position - 1:]:
        body_payload = payload if ev["position"] == position else ev["payload"]
        digest = event_hash(prev, event_body(chain(iid), ev["position"], ev["at"], ev["actor"], ev["kind"],
                                             ev["task"], body_payload))
        sql(db_url, "UPDATE audit_event SET payload = :p, prev_hash = :prev, hash = :h "
                    "WHERE chain = :c AND position = :n",
            p=canonical(body_payload), prev=prev, h=digest, c=chain(iid), n=ev["position"])
        prev = digest
    sql(db_url, "UPDATE audit_chain SET head = :h WHERE chain = :c", h=prev, c=chain(iid))


def test_a_rewritten_chain_still_fails_verify_because_the_replay_differs(three, db_url):
    eng, target, other, third = three
    rejected = next(e for e in eng.history("aud", other) if e["kind"] == "completed" and e["task"] == "approve")
    forged = {**rejected["payload"], "data": {"approved": True}}  # claim the manager approved it
    rechain(db_url, eng, other, rejected["position"], forged)
    assert all(r.ok for r in eng.verify_chains(other))  # the hashes alone no longer show it

    done = cli(db_url, "audit", "verify")
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in output, output
    assert f"{chain(other)}: REPLAY DIFFERS at event {rejected['position']}: completed:" in done.stdout
    assert "3 verified, 1 broken; 2 instance(s) replayed as recorded" in done.stdout
    chain_only = cli(db_url, "audit", "verify", "--no-replay")
    assert chain_only.returncode == 0, chain_only.stdout + chain_only.stderr
