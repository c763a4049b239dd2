"""P8 aftersale_archive (售后服务档案): from the delivered order to the recorded follow-up call.

The process has one path: the sales assistant builds the customer's archive, and 30 days
later phones the customer and records the call. It is normally started by the message
order_delivered that P2 insale throws (tests/scenarios/test_insale__paths.py runs that
from the contract to the end of this process); here it is started by hand, with the same
data, as a sales assistant may do for a customer whose delivery was recorded elsewhere.
The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.conftest import ROOT, add_users
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
    do,
    end_events,
    events,
    holders,
    inbox_task,
    offered_to,
    parse,
    submissions,
    trail,
)

KEY = "aftersale_archive"
FILES = [ROOT / "processes" / "aftersale_archive.bpmn", *sorted((ROOT / "forms").glob("aftersale_archive_*.yaml"))]

DELIVERED = {"customer_name": "马鞍山建工集团", "customer_class": "local", "contact": "周强 0555-2221234",
             "address": "安徽省马鞍山市花山区湖东中路 1 号", "contract_no": "XS-2026-0322",
             "order_lines": [{"product": "复合硅酸盐水泥", "spec": "袋装 50kg", "model": "P·C 32.5R", "grade": "合格品",
                              "quantity": 120, "unit_price": 360}],
             "delivered_on": "2026-03-02"}
ARCHIVE = {"archive_no": "DA-2026-021", "existing_archive": False,
           "contacts": [{"name": "周强", "position": "物资部经理", "phone": "0555-2221234"},
                        {"name": "吴敏", "phone": "13905551234"}],
           "archive_products": [{k: v for k, v in DELIVERED["order_lines"][0].items()
                                 if k not in ("quantity", "unit_price")}],
           "archive_remarks": "地销客户，首次合作"}


@pytest.fixture
def archives(engine: Engine) -> Engine:
    assert {(d.key, d.status) for d in engine.deploy("system", FILES)} == {(KEY, "deployed")}
    add_users(engine, PEOPLE)
    return engine


def build_and_wait(eng: Engine, clock, iid: int, archive: dict) -> None:  # noqa: ANN001
    """The archive is every sales assistant's to build; the call falls due 30 days after it is built."""
    assert offered_to(eng, "build_archive", iid) == holders("sales_assistant")
    clock.advance(hours=2)
    do(eng, "asst2", "build_archive", archive, iid)
    built = clock.now()
    clock.set(built + timedelta(days=30) - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "followup_call", iid) == set()
    clock.set(built + timedelta(days=30, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "followup_call", iid) == holders("sales_assistant")
    call = inbox_task(eng, "asst1", "followup_call", iid)
    assert parse(call["created_at"]) == clock.now()
    assert parse(call["due_at"]) == clock.now() + timedelta(days=7)


def assert_completed(eng: Engine, iid: int, data: dict) -> None:
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["tasks"]) == ("completed", [])
    assert {t["status"] for t in inst["history_tasks"]} == {"completed"}
    assert inst["data"] == data


PATH = [("started", None), ("task_ready", "build_archive"), ("completed", "build_archive"), ("timers_due", None),
        ("timer_fired", "wait_followup"), ("task_ready", "followup_call"), ("completed", "followup_call"),
        ("ended", None)]


@pytest.mark.rule("P8.1")
@pytest.mark.rule("P8.2")
def test_a_new_customer_archive_then_the_follow_up_call_after_30_days(archives, clock):
    eng, starter = archives, "asst1"
    iid = eng.start(starter, KEY, DELIVERED, business_key="XS-2026-0322")
    assert eng.instance(AUDITOR, iid)["data"] == DELIVERED
    build_and_wait(eng, clock, iid, ARCHIVE)

    called = {"called_on": "2026-04-02", "contact_reached": "周强", "satisfaction": 5,
              "feedback": "产品质量稳定，发运准时", "followup_actions": ""}
    clock.advance(hours=3)
    do(eng, "asst1", "followup_call", called, iid)

    assert_completed(eng, iid, {**DELIVERED, **ARCHIVE, **called})
    assert submissions(eng, iid) == [("build_archive", ARCHIVE), ("followup_call", called)]
    assert trail(eng, iid) == PATH
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [["wait_followup"]]
    assert end_events(eng, iid) == ["archive_followed_up"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P8.1")
@pytest.mark.rule("P8.2")
def test_an_order_added_to_the_existing_archive_and_a_dissatisfied_customer_recorded(archives, clock):
    eng, starter = archives, "asst2"
    iid = eng.start(starter, KEY, DELIVERED)
    existing = {"archive_no": "DA-2025-104", "existing_archive": True,
                "contacts": [{"name": "周强", "phone": "0555-2221234"}],
                "archive_products": ARCHIVE["archive_products"]}
    build_and_wait(eng, clock, iid, existing)

    call = inbox_task(eng, "asst1", "followup_call", iid)
    base = {"called_on": "2026-04-02", "contact_reached": "吴敏", "feedback": "部分袋装破损，发运防潮不足"}
    for score in (0, 6, 2.5, "5"):
        with pytest.raises(InvalidData) as refused:
            eng.complete("asst1", call["id"], {**base, "satisfaction": score})
        assert set(refused.value.fields) == {"satisfaction"}
    with pytest.raises(InvalidData) as refused:
        eng.complete("asst1", call["id"], {**base, "satisfaction": 3, "feedback": " "})
    assert set(refused.value.fields) == {"feedback"}
    called = {**base, "satisfaction": 2, "followup_actions": "转计调室改进雨天发运防潮；破损袋补发"}
    do(eng, "asst1", "followup_call", called, iid)

    assert_completed(eng, iid, {**DELIVERED, **existing, **called})
    assert trail(eng, iid) == PATH
    assert end_events(eng, iid) == ["archive_followed_up"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P8.1")
def test_the_archive_form_needs_a_number_a_reachable_contact_and_the_products(archives):
    eng = archives
    iid = eng.start("asst1", KEY, DELIVERED)
    task = inbox_task(eng, "asst2", "build_archive", iid)

    def refused(data: dict) -> set[str]:
        with pytest.raises(InvalidData) as caught:
            eng.complete("asst2", task["id"], data)
        return set(caught.value.fields)

    assert refused({k: v for k, v in ARCHIVE.items() if k != "archive_no"}) == {"archive_no"}
    assert refused({**ARCHIVE, "contacts": []}) == {"contacts"}
    assert refused({**ARCHIVE, "archive_products": []}) == {"archive_products"}
    assert refused({**ARCHIVE, "contacts": [{"name": "周强", "phone": " "}]}) == {"contacts"}
    assert offered_to(eng, "build_archive", iid) == holders("sales_assistant")


def test_only_a_sales_assistant_opens_an_archive_by_hand(archives):
    with pytest.raises(Forbidden):
        archives.start("rep1", KEY, DELIVERED)
    assert offered_to(archives, "build_archive") == set()
