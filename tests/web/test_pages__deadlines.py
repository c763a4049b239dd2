"""Deadlines in the inbox and on the task page: a boundary timer's deadline is shown in company time,
with how far it is in the reader's language; overdue tasks are marked and found by "only overdue";
the inbox sorts by deadline across its pages."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.conftest import T0
from tests.scenarios.driver import company_day
from tests.web.conftest import SAMPLE_REQUEST
from tests.web.test_pages__inbox import _rows

VISIT = {"customer_name": "芜湖商砼有限公司", "customer_class": "local", "company": "芜湖商砼有限公司采购部",
         "visitors": "李明（采购经理）", "visitor_count": 1, "purpose": "考察熟料生产线",
         "visit_date": company_day(T0, 3), "places": "熟料生产线", "handling_suggestion": "由销售部陪同"}


def reception(engine) -> str:
    """A local customer's visit approved by the division leader: the applicant rep1 arranges the
    reception, due at 09:00 the day before the visit (2026-03-04) by its boundary timer only."""
    iid = engine.start("rep1", "customer_visit", dict(VISIT))
    [approval] = engine.instance("lead", iid)["tasks"]
    engine.complete("lead", approval["id"], {"approved": True, "comment": "同意"})
    [task] = engine.instance("rep1", iid)["tasks"]
    return task["id"]


def test_a_deadline_set_by_a_boundary_timer_is_shown_then_marked_overdue(pages, engine, clock):
    task_id = reception(engine)
    rep1 = pages("rep1")
    row = _rows(rep1.get("/inbox").get_data(as_text=True))[task_id]
    assert "2026-03-04 09:00" in row  # company time (Asia/Shanghai)
    assert "剩余2天0小时" in row and "overdue-mark" not in row
    assert _rows(rep1.get("/inbox?overdue=1").get_data(as_text=True)) == {}

    clock.set(T0 + timedelta(days=2, hours=3))  # the timer has not even been fired by the worker yet
    row = _rows(rep1.get("/inbox").get_data(as_text=True))[task_id]
    assert "overdue-mark" in row and "已逾期3小时0分钟" in row
    assert engine.fire_due_timers() == 1  # the sales managers are reminded; the task stays late
    html = rep1.get("/inbox?overdue=1").get_data(as_text=True)
    assert list(_rows(html)) == [task_id]
    assert re.search(r'<tr class="overdue" data-task-id="' + task_id, html)
    page = rep1.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "2026-03-04 09:00" in page and "overdue-mark" in page

    rep1.post("/language", {"lang": "en", "next": "/inbox"}, form_page="/inbox")
    row = _rows(rep1.get("/inbox").get_data(as_text=True))[task_id]
    assert "2026-03-04 09:00" in row and "3 h 0 min overdue" in row and ">Overdue<" in row


def test_a_manager_sees_the_deadlines_of_the_tasks_they_manage(pages, engine, clock):
    """The table of the roles one manages (an administrator manages every role) shows each task's
    deadline in company time and marks it once it has passed."""
    iid = pages("rep1").start_sample()
    [approval] = engine.instance("rep1", iid)["tasks"]  # the sales department's, due one working day later
    adm = pages("adm")

    def team_row() -> str:
        return _rows(adm.get("/inbox").get_data(as_text=True).split('id="team"')[1])[approval["id"]]

    assert "2026-03-03 09:00" in team_row() and "overdue-mark" not in team_row()
    clock.advance(days=1, minutes=1)
    assert "overdue-mark" in team_row()


def test_the_inbox_sorts_by_deadline_across_its_pages(pages, engine, clock):
    for _ in range(51):  # each due one working day after it became ready
        engine.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
        clock.advance(minutes=1)
    visit = engine.start("rep2", "customer_visit", {**VISIT, "customer_class": "key_account",
                                                    "visit_date": company_day(T0, 1)})
    # due at 09:00 the day before the visit: this morning, already past (its reminder went out at once)
    [urgent] = [t for t in engine.instance("rep2", visit)["tasks"] if t["name"] == "sales_approval"]
    mgr = pages("mgr1")
    oldest_first = mgr.get("/inbox").get_data(as_text=True)
    assert urgent["id"] not in _rows(oldest_first)
    assert 'id="sort-by-due"' in oldest_first

    by_due = mgr.get("/inbox?sort=due").get_data(as_text=True)
    rows = list(_rows(by_due))
    assert len(rows) == 50 and rows[0] == urgent["id"]
    assert re.search(r'id="page-next"[^>]*href="[^"]*sort=due', by_due) or re.search(
        r'href="[^"]*sort=due[^"]*"[^>]*id="page-next"', by_due)
    assert 'aria-sort="ascending"' in by_due and 'value="due" selected' in by_due
    second = list(_rows(mgr.get("/inbox?sort=due&page=2").get_data(as_text=True)))
    assert len(second) == 2 and not set(second) & set(rows)
    assert mgr.get("/inbox?sort=nonsense").status_code == 200  # an unknown order shows the oldest first
