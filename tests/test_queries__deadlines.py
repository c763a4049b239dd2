"""A task's deadline is its due date or the earliest boundary timer watching it, whichever is earlier.

Driven through the real processes on the manual clock (T0 = Monday 2026-03-02 09:00 in Shanghai):
the customer visit's "09:00 the day before the visit" on arranging the reception, the after-sales
"24 h to respond" (a due date and a timer on the task) inside "48 h to resolve" (a timer on the
sub-process), and the complaint's "24 h to take it" and "48 h to resolve" (timers on sub-processes).
The inbox shows the deadline, marks the task overdue once it passed, "only overdue" finds it, and the
auditor's search calls the instance SLA-breached at the same moment.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import InvalidData
from tests.conftest import T0
from tests.scenarios.driver import AUDITOR, company_day, do, inbox_task, local_time, parse
from tests.scenarios.repository import deploy_repository

VISIT_DAY = company_day(T0, 3)  # Thursday 2026-03-05
DAY_BEFORE = company_day(T0, 2)
VISIT = {"customer_name": "芜湖商砼有限公司", "customer_class": "local", "company": "芜湖商砼有限公司采购部",
         "visitors": "李明（采购经理）", "visitor_count": 1, "purpose": "考察熟料生产线", "visit_date": VISIT_DAY,
         "places": "熟料生产线", "handling_suggestion": "由销售部陪同"}
REPAIR = {"customer_name": "马鞍山江东商砼有限公司", "customer_class": "key_account", "contact": "周工 13905550123",
          "product": "JS750 双卧轴混凝土搅拌机", "purchase_date": "2026-02-16", "kind": "repair", "urgency": "normal",
          "description": "搅拌机运行中主轴异响"}
RESPONSE = {"response_channel": "phone", "response_note": "已电话联系周工", "planned_visit_date": "2026-03-03"}
COMPLAINT = {"customer_name": "合肥瑞丰装饰工程有限公司", "customer_class": "key_account",
             "customer_contact": "王工 13800000000", "complaint_kind": "service", "severity": "minor",
             "description": "业务员多次承诺送货时间未兑现", "complained_party": "销售一部 李强"}


@pytest.fixture
def flows(engine: Engine) -> Engine:
    deploy_repository(engine)
    return engine


def breached(eng: Engine, iid: int) -> bool:
    [found] = [i for i in eng.search(AUDITOR, {"process": eng.instance(AUDITOR, iid)["process_key"]})["items"]
               if i["id"] == iid]
    return found["sla_breached"]


def open_breached(eng: Engine, measure: str) -> int:
    """The KPI's open cases past their target (engine/kpi), for the complaint."""
    [times] = [t for t in eng.kpi(AUDITOR, {"process": "complaint"})["times"] if t["measure"] == measure]
    return times["overall"]["open_breached"]


def overdue_ids(eng: Engine, user: str) -> set[str]:
    return {t["id"] for t in eng.inbox(user, overdue=True)}


def test_arranging_the_reception_is_due_at_nine_the_day_before_the_visit(flows, clock):
    eng = flows
    iid = eng.start("rep1", "customer_visit", dict(VISIT))
    clock.advance(hours=1)
    do(eng, "lead", "leader_approval", {"approved": True, "comment": "同意"}, iid)
    task = inbox_task(eng, "rep1", "arrange_reception", iid)
    deadline = local_time(DAY_BEFORE, "09:00")
    assert parse(task["due_at"]) == deadline  # the timer's, the task has no due date of its own
    assert task["overdue"] is False and task["id"] not in overdue_ids(eng, "rep1")
    assert breached(eng, iid) is False

    clock.set(deadline + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1  # the sales managers are reminded; the task stays with the applicant
    task = inbox_task(eng, "rep1", "arrange_reception", iid)
    assert parse(task["due_at"]) == deadline
    assert task["overdue"] is True
    assert task["id"] in overdue_ids(eng, "rep1")
    assert task["id"] not in {t["id"] for t in eng.inbox("rep1", overdue=False)}
    assert breached(eng, iid) is True
    assert eng.task("rep1", task["id"])["due_at"] == task["due_at"]


def test_the_after_sales_response_is_due_in_24_hours_and_later_work_by_the_48_hour_resolution(flows, clock):
    eng = flows
    iid = eng.start("svc1", "aftersale", dict(REPAIR))
    first = inbox_task(eng, "fix1", "first_response", iid)
    assert parse(first["due_at"]) == T0 + timedelta(hours=24)  # its due date and its timer agree

    clock.set(T0 + timedelta(hours=30))
    assert eng.fire_due_timers() == 1
    assert inbox_task(eng, "fix1", "first_response", iid)["overdue"] is True
    escalation = inbox_task(eng, "mgr1", "response_escalation", iid)
    assert parse(escalation["due_at"]) == T0 + timedelta(hours=48)  # the follow-up is part of the handling
    assert breached(eng, iid) is True

    do(eng, "fix1", "first_response", RESPONSE, iid)
    diagnose = inbox_task(eng, "fix1", "diagnose", iid)
    # inside "resolved within 48 hours of the registration"
    assert parse(diagnose["due_at"]) == T0 + timedelta(hours=48)
    assert diagnose["overdue"] is False
    clock.set(T0 + timedelta(hours=48, minutes=1))
    assert inbox_task(eng, "fix1", "diagnose", iid)["overdue"] is True  # before the worker even ran
    assert diagnose["id"] in overdue_ids(eng, "fix1")


def test_a_complaint_is_due_to_be_taken_in_24_hours_and_resolved_in_48(flows, clock):
    eng = flows
    iid = eng.start("svc1", "complaint", dict(COMPLAINT))
    review = inbox_task(eng, "off1", "review_severity_by_office", iid)
    assert parse(review["due_at"]) == T0 + timedelta(hours=8)  # its own 8 h timer comes first

    do(eng, "off1", "review_severity_by_office", {"severity": "minor"}, iid)
    [taking] = [t for t in eng.inbox("mgr1") if t["instance_id"] == iid]
    assert parse(taking["due_at"]) == T0 + timedelta(hours=24)  # "taken within 24 hours" (its sub-process)

    clock.set(T0 + timedelta(hours=23, minutes=59))
    assert taking["id"] not in overdue_ids(eng, "mgr1")
    assert (breached(eng, iid), open_breached(eng, "first_response")) == (False, 0)
    clock.set(T0 + timedelta(hours=24, minutes=1))
    assert taking["id"] in overdue_ids(eng, "mgr1")  # the inbox, search and the KPI agree at once ...
    assert (breached(eng, iid), open_breached(eng, "first_response")) == (True, 1)
    assert eng.fire_due_timers() == 1  # ... and after the escalation
    assert taking["id"] in overdue_ids(eng, "mgr1")
    assert (breached(eng, iid), open_breached(eng, "first_response")) == (True, 1)


def test_the_inbox_sorts_by_deadline_with_tasks_without_one_last(flows, clock):
    eng = flows
    late_visit = eng.start("rep1", "customer_visit", {**VISIT, "visit_date": company_day(T0, 20)})
    soon_visit = eng.start("rep1", "customer_visit", dict(VISIT))
    for iid in (late_visit, soon_visit):
        clock.advance(minutes=1)
        do(eng, "lead", "leader_approval", {"approved": True, "comment": "同意"}, iid)
    clock.advance(minutes=5)
    survey = eng.start("rep1", "customer_visit", {**VISIT, "visit_date": company_day(T0, 10)})
    by_age = [t["instance_id"] for t in eng.inbox("rep1") if t["name"] == "arrange_reception"]
    assert by_age == [late_visit, soon_visit]
    by_due = [t["instance_id"] for t in eng.inbox("rep1", sort="due")]
    assert by_due[:2] == [soon_visit, late_visit]
    assert survey not in by_due  # the leader has it
    dues = [t["due_at"] for t in eng.inbox("lead", sort="due")]
    assert dues == sorted(dues, key=lambda d: (d is None, d or ""))
    # one page at a time gives the same order
    pages = [t["id"] for off in range(2) for t in eng.inbox("rep1", sort="due", limit=1, offset=off)]
    assert pages == [t["id"] for t in eng.inbox("rep1", sort="due")]
    with pytest.raises(InvalidData):
        eng.inbox("rep1", sort="name")
