"""P3A aftersale_archive: instances running on the previous version (tests/fixtures/legacy/aftersale_archive,
one follow-up call 30 days after the archive, then the end) when the new version is deployed.

Those waiting to build the archive or for the first call move, keep the deadline of the timer they wait
on, and then follow the new schedule until the archive is closed. One whose first call is already
offered stays: the new call form requires `close_archive_proposed`, which the old one did not have.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import FIXTURES, ROOT, add_users
from tests.scenarios.driver import AUDITOR, PEOPLE, assert_audit_intact, do, end_events, events, offered_to

KEY = "aftersale_archive"
OWNER = "own"
LEGACY = sorted((FIXTURES / "legacy" / "aftersale_archive").iterdir())
CURRENT = [ROOT / "processes" / "aftersale_archive.bpmn", *sorted((ROOT / "forms").glob("aftersale_archive_*.yaml"))]
DELIVERED = {"customer_name": "芜湖商砼有限公司", "customer_class": "key_account", "contact": "李明 0553-5551234",
             "address": "芜湖市镜湖区", "contract_no": "XS-2026-0311",
             "order_lines": [{"product": "普通硅酸盐水泥", "spec": "散装", "model": "P·O 42.5", "grade": "合格品",
                              "quantity": 300, "unit_price": 420}],
             "delivered_on": "2026-03-02"}
ARCHIVE = {"archive_no": "DA-2026-015", "existing_archive": False,
           "contacts": [{"name": "李明", "phone": "0553-5551234"}],
           "archive_products": [{"product": "普通硅酸盐水泥", "spec": "散装", "model": "P·O 42.5", "grade": "合格品"}]}
OLD_CALL = {"called_on": "2026-04-01", "contact_reached": "李明", "satisfaction": 4, "feedback": "质量稳定"}
CALL_FORM_GAP = ("followup_call: form aftersale_archive_followup_call of version 2 requires close_archive_proposed, "
                 "close_archive_reason, which the form of version 1 did not have")


@pytest.fixture
def running(engine, clock):
    [old] = engine.deploy("system", LEGACY)
    assert (old.key, old.version) == (KEY, 1)
    add_users(engine, {**PEOPLE, OWNER: ["process_owner"]})
    ids = {name: engine.start("asst1", KEY, DELIVERED) for name in ("building", "waiting", "calling")}
    clock.advance(hours=2)
    do(engine, "asst2", "build_archive", ARCHIVE, ids["calling"])
    clock.advance(hours=1)
    do(engine, "asst2", "build_archive", ARCHIVE, ids["waiting"])
    built = clock.now()
    clock.set(built - timedelta(hours=1) + timedelta(days=30, minutes=1))
    assert engine.fire_due_timers() == 1  # the first call of `calling` is offered
    [new] = engine.deploy(OWNER, CURRENT, note="issue 12: calls on a schedule until the archive is closed")
    assert (new.key, new.version, new.status) == (KEY, 2, "deployed")
    return engine, ids, built


def test_the_dry_run_moves_what_waits_for_the_archive_or_the_first_call(running):
    engine, ids, _built = running
    plan = {p["instance_id"]: (p["movable"], p["reasons"]) for p in engine.migration_plan(OWNER, KEY, 2)}
    assert plan == {ids["building"]: (True, []), ids["waiting"]: (True, []),
                    ids["calling"]: (False, [CALL_FORM_GAP])}


def test_moved_instances_keep_their_deadline_then_follow_the_schedule_until_closed(running, clock):
    engine, ids, built = running
    result = engine.migrate(OWNER, KEY, 2)
    assert sorted(result["migrated"]) == sorted([ids["building"], ids["waiting"]])
    assert [s["instance_id"] for s in result["skipped"]] == [ids["calling"]]
    assert {name: engine.instance(AUDITOR, iid)["version"] for name, iid in ids.items()} == {
        "building": 2, "waiting": 2, "calling": 1}

    # `waiting`: its first call falls due 30 days after its archive was built, as the old timer said
    clock.set(built + timedelta(days=30) - timedelta(minutes=1))
    engine.fire_due_timers()
    assert offered_to(engine, "followup_call", ids["waiting"]) == set()
    clock.set(built + timedelta(days=30, minutes=1))
    engine.fire_due_timers()
    assert [e["task"] for e in events(engine, ids["waiting"], "timer_fired")] == ["wait_followup"]
    do(engine, "asst1", "followup_call", {**OLD_CALL, "close_archive_proposed": False}, ids["waiting"])
    assert engine.instance(AUDITOR, ids["waiting"])["status"] == "running"  # the calls go on: monthly
    clock.advance(days=31)
    engine.fire_due_timers()
    do(engine, "asst1", "followup_call", {**OLD_CALL, "close_archive_proposed": True,
                                          "close_archive_reason": "工程竣工"}, ids["waiting"])
    do(engine, "mgr1", "approve_archive_closing", {"approved": True, "comment": "同意"}, ids["waiting"])
    assert end_events(engine, ids["waiting"]) == ["archive_closed"]

    # `building` goes the new way from the start: an order filed in the existing archive ends it
    do(engine, "asst2", "build_archive", {**ARCHIVE, "existing_archive": True}, ids["building"])
    assert end_events(engine, ids["building"]) == ["order_filed"]

    # `calling` ends after its one call, on version 1
    do(engine, "asst1", "followup_call", OLD_CALL, ids["calling"])
    assert end_events(engine, ids["calling"]) == ["archive_followed_up"]
    for iid in ids.values():
        assert engine.instance(AUDITOR, iid)["outcome"] == "completed"
        assert_audit_intact(engine, iid)
