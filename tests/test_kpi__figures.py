"""The KPI figures against values computed by hand, on a data set driven through the real engine.

The processes of processes/ and forms/ are deployed; complaints (P4) and after-sales cases (P3)
are registered, answered and resolved at chosen instants of company time (Asia/Shanghai), so
every response and resolution time is known in whole hours, breaches included:

    complaint  registered          first response (who)      resolved = implement_solution (who)
    C1  service minor 03-02 09:00  03-02 11:00  2 h  mgr1    03-03 15:00  30 h  mgr1
    C2  service major 03-02 10:00  03-02 16:00  6 h  vp1     03-04 22:00  60 h  mgr2  (breach)
    C3  service minor 03-02 11:00  never: open, past 24 h    never: open, past 48 h
    C4  service minor 04-01 10:00  open, 10 h (inside 24 h)  open, 10 h (inside 48 h)

    aftersale  registered          first response (who)      resolution from the registration (who)
    A1  03-02 09:00                03-02 12:00  3 h  fix1    03-03 08:00  23 h  fix1  score 4, return visit 5
    A2  03-02 12:00                03-03 14:00 26 h  fix2    03-05 16:00  76 h  fix2  (breach) score 3
    A3  03-31 12:00                03-31 13:00  1 h  fix1    closed unresolved 22:00 (the customer agreed):
                                                             unresolved, a breach after 10 h, attributed to fix1
    A4  04-01 08:00                04-01 12:00  4 h  fix2    open, 12 h (inside 48 h)

A2's late first response gave the sales managers an escalation inside the handling, which mgr2
completes before the customer's confirmation (the handling closes when its escalations are done).

The April survey (fired 04-01 09:01) records the scores 4, 2, 5. The figures are read at
"now" = 04-01 20:00. The data set is built once for the module (its own database).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine import Engine
from engine.clock import ManualClock
from engine.errors import Forbidden, InvalidData
from engine.kpi import definitions, sections
from tests.conftest import ROOT, T0, add_users, own_database
from tests.scenarios.driver import PEOPLE, do, local_time

NOW = local_time("2026-04-01", "20:00")
AUDITOR = "aud"


# -- the data set -------------------------------------------------------------------------------------------------

def complaint(severity: str) -> dict:
    """A service complaint: minor goes to the sales managers, major to the sales vice president."""
    return {"customer_name": "合肥瑞丰装饰工程有限公司", "customer_class": "key_account",
            "customer_contact": "王工 13800000000", "complaint_kind": "service", "severity": severity,
            "description": "业务员多次承诺送货时间未兑现", "complained_party": "销售一部 李强"}


def request() -> dict:
    return {"customer_name": "马鞍山江东商砼有限公司", "customer_class": "key_account", "contact": "周工 13905550123",
            "product": "JS750 双卧轴混凝土搅拌机", "purchase_date": "2026-02-16", "kind": "repair",
            "urgency": "normal", "description": "搅拌机运行中主轴异响"}


PROPOSAL = {"responsible_party": "销售一部 李强", "service_proposal": "当面致歉，主管跟进送货"}
REVIEWED = {"severity": "minor"}
RESPONSE = {"response_channel": "phone", "response_note": "已电话联系，约定上门"}
DIAGNOSED = {"diagnosis": "主轴轴承磨损", "quality_fault": False, "proposed_solution": "更换轴承"}
RESOLVED = {"outcome": "resolved", "resolution": "已更换轴承，试运行正常"}
CLOSED = {"outcome": "close_requested", "closing_reason": "客户放弃维修"}
CONSENT = {"customer_agrees_to_close": True, "customer_closing_answer": "客户同意结案，自行外修"}


def at(clock: ManualClock, day: str, hhmm: str) -> None:
    clock.set(local_time(day, hhmm))


def settle_complaint(eng: Engine, iid: int, implementer: str) -> None:
    """The office decides, the form is filled in, the sales department handles it, the customer accepts;
    `implementer` carries it out (now)."""
    do(eng, "off1", "office_decision", {"office_decision": "同意销售部建议"}, iid)
    do(eng, "mgr1", "fill_service_form", {"service_form_no": f"FW-{iid}", "responsible_department": "sales"}, iid)
    do(eng, "mgr1", "handle_in_sales_department", {"department_handling": "已约谈"}, iid)
    do(eng, "svc1", "inform_customer", {"customer_accepts": True}, iid)
    do(eng, implementer, "implement_solution", {"implementation_record": "已落实", "implemented_on": "2026-03-03"},
       iid)


def build_data_set(eng: Engine, clock: ManualClock) -> dict[str, int]:
    ids: dict[str, int] = {}
    at(clock, "2026-03-02", "09:00")
    ids["C1"] = eng.start("svc1", "complaint", complaint("minor"))
    do(eng, "off1", "review_severity_by_office", REVIEWED, ids["C1"])  # the office confirms the grade at once
    ids["A1"] = eng.start("svc1", "aftersale", request())
    at(clock, "2026-03-02", "10:00")
    ids["C2"] = eng.start("svc1", "complaint", complaint("major"))
    do(eng, "off1", "review_severity_by_office", {"severity": "major"}, ids["C2"])
    at(clock, "2026-03-02", "11:00")
    ids["C3"] = eng.start("svc1", "complaint", complaint("minor"))
    do(eng, "off1", "review_severity_by_office", REVIEWED, ids["C3"])
    do(eng, "mgr1", "propose_service_by_manager", {**PROPOSAL, "handled_by": "office"}, ids["C1"])  # C1: 2 h
    at(clock, "2026-03-02", "12:00")
    ids["A2"] = eng.start("svc1", "aftersale", request())
    do(eng, "fix1", "first_response", RESPONSE, ids["A1"])  # A1: 3 h
    at(clock, "2026-03-02", "16:00")
    do(eng, "vp1", "propose_service_by_vp", PROPOSAL, ids["C2"])  # C2: 6 h
    at(clock, "2026-03-03", "08:00")
    do(eng, "fix1", "diagnose", DIAGNOSED, ids["A1"])
    do(eng, "fix1", "resolve", RESOLVED, ids["A1"])  # A1: 03-02 09:00 -> 03-03 08:00 = 23 h
    at(clock, "2026-03-03", "10:00")
    do(eng, "svc2", "confirm_resolution", {"resolution_confirmed": True, "satisfaction": 4}, ids["A1"])
    at(clock, "2026-03-03", "14:00")
    do(eng, "fix2", "first_response", RESPONSE, ids["A2"])  # A2: 26 h
    at(clock, "2026-03-03", "15:00")
    settle_complaint(eng, ids["C1"], "mgr1")  # C1: 03-02 09:00 -> 03-03 15:00 = 30 h
    at(clock, "2026-03-04", "22:00")
    settle_complaint(eng, ids["C2"], "mgr2")  # C2: 03-02 10:00 -> 03-04 22:00 = 60 h
    at(clock, "2026-03-05", "16:00")
    do(eng, "fix2", "diagnose", DIAGNOSED, ids["A2"])
    do(eng, "fix2", "resolve", RESOLVED, ids["A2"])  # A2: 03-02 12:00 -> 03-05 16:00 = 76 h
    at(clock, "2026-03-05", "17:00")
    do(eng, "mgr2", "response_escalation", {"response_escalation_note": "已督促"}, ids["A2"])
    do(eng, "svc1", "confirm_resolution", {"resolution_confirmed": True, "satisfaction": 3}, ids["A2"])
    at(clock, "2026-03-10", "10:01")  # seven days after A1's confirmation
    eng.fire_due_timers()
    at(clock, "2026-03-10", "11:00")
    do(eng, "svc1", "return_visit", {"satisfaction": 5, "usage_feedback": "运行正常"}, ids["A1"])
    at(clock, "2026-03-31", "12:00")
    ids["A3"] = eng.start("svc1", "aftersale", request())
    at(clock, "2026-03-31", "13:00")
    do(eng, "fix1", "first_response", RESPONSE, ids["A3"])  # A3: 1 h
    at(clock, "2026-03-31", "22:00")
    do(eng, "fix1", "diagnose", DIAGNOSED, ids["A3"])
    do(eng, "fix1", "resolve", CLOSED, ids["A3"])  # he only asks; the customer agrees: closed unresolved
    do(eng, "svc2", "confirm_closing", CONSENT, ids["A3"])
    at(clock, "2026-04-01", "08:00")
    ids["A4"] = eng.start("svc1", "aftersale", request())
    at(clock, "2026-04-01", "09:01")
    eng.fire_due_timers()  # the April survey starts (and the overdue timers of C3 and A2's return visit fire)
    at(clock, "2026-04-01", "10:00")
    survey = [t for t in eng.inbox("svc2") if t["name"] == "conduct_survey"][0]
    ids["S"] = survey["instance_id"]
    eng.complete("svc2", survey["id"], {"responses": [{"customer_name": n, "satisfaction": s, "usage": "正常使用"}
                                                      for n, s in (("芜湖商砼", 4), ("合肥建工", 2), ("滁州万家", 5))]})
    ids["C4"] = eng.start("svc1", "complaint", complaint("minor"))
    do(eng, "off1", "review_severity_by_office", REVIEWED, ids["C4"])
    at(clock, "2026-04-01", "12:00")
    do(eng, "fix2", "first_response", RESPONSE, ids["A4"])  # A4: 4 h
    clock.set(NOW)
    return ids


@pytest.fixture(scope="module")
def data_set(_schema, tmp_path_factory):
    """(engine, instance ids): the data set above, built once; every test here only reads it."""
    yield from repository_data_set(_schema, tmp_path_factory, build_data_set)


def repository_data_set(schema: str, tmp_path_factory, build) -> Iterator[tuple[Engine, dict]]:
    """A module's data set: on a fresh database, the repository deployed with PEOPLE, then
    `build(engine, clock)`; yields (engine, what build returned) and disposes of the engine after."""
    clock = ManualClock(T0)
    eng = Engine(own_database(schema, tmp_path_factory), clock=clock)
    eng.init()
    eng.deploy("system", [ROOT / "processes", ROOT / "forms"])
    add_users(eng, PEOPLE)
    ids = build(eng, clock)
    yield eng, ids
    eng.db.dispose()


@pytest.fixture(scope="module")
def kpi(data_set) -> dict:
    eng, _ = data_set
    return eng.kpi(AUDITOR)


def times(report: dict, measure: str) -> dict:
    [found] = [t for t in report["times"] if t["measure"] == measure]
    return found


def row(rows: list[dict], key: str | None) -> dict:
    [found] = [r for r in rows if r["key"] == key]
    return {k: v for k, v in found.items() if k != "key"}


def figures(count, open_, open_breached, within, breached, share, median, p90, unresolved=0) -> dict:
    return {"count": count, "open": open_, "open_breached": open_breached, "unresolved": unresolved,
            "within": within, "breached": breached,
            "share_within": pytest.approx(share) if share is not None else None,
            "median_hours": median, "p90_hours": p90}


# -- first response: target 24 h ----------------------------------------------------------------------------------

@pytest.mark.rule("K.SERVICE")
def test_first_response_overall(kpi):
    # done: C1 2, C2 6, A1 3, A2 26, A3 1, A4 4 -> sorted [1, 2, 3, 4, 6, 26]
    # median (3 + 4) / 2 = 3.5; p90 nearest rank ceil(0.9 * 6) = 6 -> 26
    # within 24 h: 1, 2, 3, 4, 6 = 5; breached: A2 (26 h) and C3 (open since 03-02 11:00) = 2; share 5 / 7
    # open: C3 (breached), C4 (10 h, inside its 24 h: in no share)
    fr = times(kpi, "first_response")
    assert fr["target_hours"] == 24
    assert fr["overall"] == figures(6, 2, 1, 5, 2, 5 / 7, 3.5, 26)


def test_first_response_per_process(kpi):
    fr = times(kpi, "first_response")
    # complaint: done [2, 6] median 4, p90 rank ceil(1.8) = 2 -> 6; within 2; breached C3; share 2 / 3
    assert row(fr["by_process"], "complaint") == figures(2, 2, 1, 2, 1, 2 / 3, 4, 6)
    # aftersale: done [1, 3, 4, 26] median 3.5, p90 rank ceil(3.6) = 4 -> 26; within 3, breached 1; share 3 / 4
    assert row(fr["by_process"], "aftersale") == figures(4, 0, 0, 3, 1, 3 / 4, 3.5, 26)


def test_first_response_per_month_of_registration(kpi):
    fr = times(kpi, "first_response")
    assert [r["key"] for r in fr["by_month"]] == ["2026-03", "2026-04"]
    # March: C1 2, C2 6, A1 3, A2 26, A3 1 -> [1, 2, 3, 6, 26] median 3, p90 rank ceil(4.5) = 5 -> 26;
    # within 4; breached A2 and C3 (open); share 4 / 6
    assert row(fr["by_month"], "2026-03") == figures(5, 1, 1, 4, 2, 4 / 6, 3, 26)
    # April: A4 4 done; C4 open inside its target
    assert row(fr["by_month"], "2026-04") == figures(1, 1, 0, 1, 0, 1.0, 4, 4)


def test_first_response_per_person_and_role(kpi):
    fr = times(kpi, "first_response")
    # fix1: A1 3, A3 1 -> median 2, p90 3; fix2: A2 26, A4 4 -> median 15, p90 26, share 1 / 2
    assert row(fr["by_person"], "fix1") == figures(2, 0, 0, 2, 0, 1.0, 2, 3)
    assert row(fr["by_person"], "fix2") == figures(2, 0, 0, 1, 1, 1 / 2, 15, 26)
    assert row(fr["by_person"], "mgr1") == figures(1, 0, 0, 1, 0, 1.0, 2, 2)
    assert row(fr["by_person"], "vp1") == figures(1, 0, 0, 1, 0, 1.0, 6, 6)
    # C3 and C4 wait, unclaimed, in the sales managers' inboxes: nobody yet, role sales_manager
    assert row(fr["by_person"], None) == figures(0, 2, 1, 0, 1, 0.0, None, None)
    assert [r["key"] for r in fr["by_person"]] == ["fix1", "fix2", "mgr1", "vp1", None]
    # sales_manager: C1 2 done, C3 open past 24 h, C4 open -> within 1, breached 1
    assert row(fr["by_role"], "sales_manager") == figures(1, 2, 1, 1, 1, 1 / 2, 2, 2)
    assert row(fr["by_role"], "sales_vp") == figures(1, 0, 0, 1, 0, 1.0, 6, 6)
    # aftersales_engineer: [1, 3, 4, 26]
    assert row(fr["by_role"], "aftersales_engineer") == figures(4, 0, 0, 3, 1, 3 / 4, 3.5, 26)


# -- resolution: target 48 h --------------------------------------------------------------------------------------

@pytest.mark.rule("K.SERVICE")
def test_resolution_overall_and_per_process(kpi):
    res = times(kpi, "resolution")
    assert res["target_hours"] == 48
    # done: C1 30, C2 60, A1 23, A2 76 -> [23, 30, 60, 76] median 45, p90 rank ceil(3.6) = 4 -> 76
    # within: 23, 30 = 2; breached: C2, A2, C3 (open since 03-02 11:00) and A3 (closed unresolved) = 4; share 2 / 6
    # open: C3 (breached), C4 (10 h), A4 (12 h since its registration); unresolved: A3 (in no median)
    assert res["overall"] == figures(4, 3, 1, 2, 4, 2 / 6, 45, 76, unresolved=1)
    # complaint: [30, 60] median 45, p90 60; breached C2 and C3; open C3, C4
    assert row(res["by_process"], "complaint") == figures(2, 2, 1, 1, 2, 1 / 3, 45, 60)
    # aftersale: [23, 76] median 49.5, p90 76; breached A2 and A3 (unresolved); A4 open
    assert row(res["by_process"], "aftersale") == figures(2, 1, 0, 1, 2, 1 / 3, 49.5, 76, unresolved=1)


def test_resolution_per_month_person_and_role(kpi):
    res = times(kpi, "resolution")
    # March: C1 30, C2 60, A1 23, A2 76 done, C3 open breached, A3 unresolved; April: C4, A4 open
    assert row(res["by_month"], "2026-03") == figures(4, 1, 1, 2, 4, 2 / 6, 45, 76, unresolved=1)
    assert row(res["by_month"], "2026-04") == figures(0, 2, 0, 0, 0, None, None, None)
    assert row(res["by_person"], "mgr2") == figures(1, 0, 0, 0, 1, 0.0, 60, 60)
    # fix1: A1 23 within, A3 closed unresolved at his request: a breach
    assert row(res["by_person"], "fix1") == figures(1, 0, 0, 1, 1, 1 / 2, 23, 23, unresolved=1)
    assert row(res["by_person"], "fix2") == figures(1, 0, 0, 0, 1, 0.0, 76, 76)
    # nobody has the last task of C3, C4 or A4 yet
    assert row(res["by_person"], None) == figures(0, 3, 1, 0, 1, 0.0, None, None)
    # sales_manager carried out both complaints' solutions: [30, 60]
    assert row(res["by_role"], "sales_manager") == figures(2, 0, 0, 1, 1, 1 / 2, 45, 60)
    assert row(res["by_role"], "aftersales_engineer") == figures(2, 0, 0, 1, 2, 1 / 3, 49.5, 76, unresolved=1)


# -- complaint resolution rate, satisfaction, volume --------------------------------------------------------------

def test_complaint_resolution_rate(kpi):
    rate = kpi["resolution_rate"]
    # registered C1..C4 = 4, resolved (solution carried out) C1, C2 = 2
    assert rate["overall"] == {"registered": 4, "resolved": 2, "rate": 0.5}
    assert rate["by_month"] == [{"key": "2026-03", "registered": 3, "resolved": 2, "rate": pytest.approx(2 / 3)},
                                {"key": "2026-04", "registered": 1, "resolved": 0, "rate": 0.0}]


@pytest.mark.rule("K.SATISFACTION")
def test_satisfaction(kpi):
    sat = kpi["satisfaction"]
    # A1: 4 at the confirmation, then 5 at the return visit -> the case counts 5; A2: 3; survey: 4, 2, 5
    # [5, 3, 4, 2, 5]: average 19 / 5 = 3.8; distribution 1:0, 2:1, 3:1, 4:1, 5:2
    assert sat["overall"] == {"count": 5, "average": 3.8, "distribution": [0, 1, 1, 1, 2]}
    assert row(sat["by_process"], "aftersale") == {"count": 2, "average": 4.0, "distribution": [0, 0, 1, 0, 1]}
    # 11 / 3 = 3.666.. -> 3.67
    assert row(sat["by_process"], "satisfaction_survey") == {"count": 3, "average": 3.67,
                                                             "distribution": [0, 1, 0, 1, 1]}
    # recorded in March (A1's return visit, A2's confirmation) and April (the survey)
    assert [(r["key"], r["count"], r["average"]) for r in sat["by_month"]] == [("2026-03", 2, 4.0),
                                                                              ("2026-04", 3, 3.67)]
    # a case's score goes to the engineer who resolved it; survey answers to nobody
    assert [(r["key"], r["count"], r["average"]) for r in sat["by_person"]] == [("fix1", 1, 5.0), ("fix2", 1, 3.0),
                                                                               (None, 3, 3.67)]


def test_volume(kpi):
    vol = kpi["volume"]
    # deploying arms the April survey and the April safety inspection (03-02); firing them arms May's (04-01);
    # it also arms the June emergency drill (03-02), which does not fire here, and the April appraisal (P12,
    # armed 03-02), which waits for 04-03, past this data set; likewise the January commendation round (P15)
    # and the counselling session of 15 April (P16)
    assert vol["by_process"] == [{"key": "aftersale", "started": 4}, {"key": "complaint", "started": 4},
                                 {"key": "monthly_appraisal", "started": 1},
                                 {"key": "safety_commendation_round", "started": 1},
                                 {"key": "safety_drill", "started": 1},
                                 {"key": "safety_inspection", "started": 2},
                                 {"key": "satisfaction_survey", "started": 2},
                                 {"key": "staff_counselling", "started": 1}]
    assert vol["by_month"] == [
        {"key": "2026-03", "started": 12, "processes": {"aftersale": 3, "complaint": 3, "monthly_appraisal": 1,
                                                        "safety_commendation_round": 1, "safety_drill": 1,
                                                        "staff_counselling": 1,
                                                       "safety_inspection": 1, "satisfaction_survey": 1}},
        {"key": "2026-04", "started": 4, "processes": {"aftersale": 1, "complaint": 1, "safety_inspection": 1,
                                                       "satisfaction_survey": 1}}]
    tasks = vol["tasks"]
    # C1: off1 (review), mgr1 x4, off1, svc1 | C2: off1 (review), vp1, off1, mgr1 x2, svc1, mgr2
    # C3: off1 (review) | A1: fix1 x3, svc2, svc1 | A2: fix2 x3, mgr2 (the response escalation), svc1
    # A3: fix1 x3, svc2 (the customer's consent) | survey: svc2 | A4: fix2 | C4: off1 (review)
    # -> 32 tasks, 3 of them in April (the survey, C4's review, A4's response)
    assert tasks["overall"] == {"completed": 32}
    assert tasks["by_month"] == [{"key": "2026-03", "completed": 29}, {"key": "2026-04", "completed": 3}]
    assert {r["key"]: r["completed"] for r in tasks["by_person"]} == {
        "fix1": 6, "fix2": 4, "mgr1": 6, "mgr2": 2, "off1": 6, "svc1": 4, "svc2": 3, "vp1": 1}
    assert {r["key"]: r["completed"] for r in tasks["by_role"]} == {
        "aftersales_engineer": 10, "customer_service": 7, "office": 6, "sales_manager": 8, "sales_vp": 1}


# -- filters --------------------------------------------------------------------------------------------------------

def test_date_range_keeps_what_was_registered_in_it(data_set):
    eng, _ = data_set
    april = eng.kpi(AUDITOR, {"from": "2026-04-01", "to": "2026-04-30"})
    assert april["filters"] == {"from": "2026-04-01", "to": "2026-04-30", "process": None}
    # only C4 (open) and A4 (4 h)
    assert times(april, "first_response")["overall"] == figures(1, 1, 0, 1, 0, 1.0, 4, 4)
    assert april["resolution_rate"]["overall"] == {"registered": 1, "resolved": 0, "rate": 0.0}
    assert april["satisfaction"]["overall"]["count"] == 3
    assert april["volume"]["tasks"]["overall"] == {"completed": 3}
    # `to` includes its whole day: 03-02 (company time) holds C1, C2, C3, A1, A2
    first_day = eng.kpi(AUDITOR, {"from": "2026-03-02", "to": "2026-03-02"})
    assert {r["key"]: r["started"] for r in first_day["volume"]["by_process"]} == {
        "aftersale": 2, "complaint": 3, "monthly_appraisal": 1, "safety_commendation_round": 1, "safety_drill": 1,
        "safety_inspection": 1, "staff_counselling": 1,
        "satisfaction_survey": 1}
    # 03-31 12:00 in Shanghai is 04:00 UTC: A3 belongs to March
    assert row(eng.kpi(AUDITOR, {"from": "2026-03-31", "to": "2026-03-31"})["volume"]["by_process"],
               "aftersale") == {"started": 1}


def test_process_filter(data_set):
    eng, _ = data_set
    only = eng.kpi(AUDITOR, {"process": "aftersale"})
    assert times(only, "first_response")["overall"] == figures(4, 0, 0, 3, 1, 3 / 4, 3.5, 26)
    assert only["resolution_rate"] is None
    assert only["sales"] is None  # sales are the in-sale orders' (tests/test_kpi__sales.py)
    assert eng.kpi(AUDITOR)["sales"]["by_month"] == []  # no order was delivered here
    assert only["satisfaction"]["overall"]["count"] == 2
    assert only["volume"]["by_process"] == [{"key": "aftersale", "started": 4}]
    survey = eng.kpi(AUDITOR, {"process": "satisfaction_survey"})
    assert survey["times"] == []


@pytest.mark.parametrize(("filters", "field", "en"), [
    ({"from": "2026-13-01"}, "from", "Enter a date as YYYY-MM-DD (for example 2026-03-01)"),
    ({"to": "9999-12-31"}, "to", "Enter a date as YYYY-MM-DD (for example 2026-03-01)"),
    ({"from": "0001-01-01"}, "from", "Enter a date as YYYY-MM-DD (for example 2026-03-01)"),
    ({"to": "01.04.2026"}, "to", "Enter a date as YYYY-MM-DD (for example 2026-03-01)"),
    ({"from": ""}, "from", "Enter a date as YYYY-MM-DD (for example 2026-03-01)"),
    ({"from": 20260401}, "from", "Enter a date as YYYY-MM-DD (for example 2026-03-01)"),
    ({"process": ""}, "process", "No deployed process has this key"),
    ({"from": "2026-04-02", "to": "2026-04-01"}, "to", "The end date is before the start date"),
    ({"process": "no_such_process"}, "process", "No deployed process has this key"),
    ({"process": "<script>"}, "process", "No deployed process has this key"),
    ({"sla": "yes"}, "sla", "Unknown filter (known: from, to, process)"),
])
def test_bad_filters_are_refused_with_a_message_per_field(data_set, filters, field, en):
    eng, _ = data_set
    with pytest.raises(InvalidData) as refused:
        eng.kpi(AUDITOR, filters)
    assert list(refused.value.fields) == [field]
    assert refused.value.fields[field]["en"] == en
    assert refused.value.fields[field]["zh"]


# -- who may see it -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("user", ["aud", "adm", "mgr1", "dir", "vp1"])
def test_auditors_admins_leaders_and_managers_see_the_dashboard(data_set, user):
    eng, _ = data_set
    assert times(eng.kpi(user), "first_response")["overall"]["count"] == 6


@pytest.mark.parametrize("user", ["qa1", "head1"])
def test_people_who_manage_nobody_and_are_nobodys_staff_are_refused(data_set, user):
    eng, _ = data_set
    with pytest.raises(Forbidden):
        eng.kpi(user)


@pytest.mark.parametrize("user", ["rep1", "fix1", "svc1"])
def test_the_staff_see_none_of_the_teams_figures(data_set, user):
    """A managed role's holder sees only his own appraisal (tests/test_kpi__operations.py), none of these."""
    eng, _ = data_set
    report = eng.kpi(user)
    assert report["view"] == "own" and report["times"] is None and report["volume"] is None


# -- the definitions match the diagrams -----------------------------------------------------------------------------

def test_every_element_the_definitions_name_is_a_user_task_of_its_process():
    from engine.definitions.bundle import load_paths
    from engine.definitions.compiler import compile_bundle
    from engine.roles import lane_roles, load_catalogue

    compiled = compile_bundle(load_paths([ROOT / "processes", ROOT / "forms"]), lane_roles(load_catalogue()))
    models = {p.key: p.models[p.key] for p in compiled}
    named = definitions.load().element_ids()
    for process, ids in sections.load().element_ids().items():  # issue 14's figures
        named.setdefault(process, set()).update(ids)
    for process, ids in named.items():
        tasks = {e.id for e in models[process].elements.values() if e.type == "userTask"}
        assert ids <= tasks, f"{process}: {sorted(ids - tasks)} are not user tasks of processes/{process}.bpmn"


def test_the_data_set_took_the_paths_it_describes(data_set):
    """Guard for the figures above: the instants are the ones the table says."""
    eng, ids = data_set
    a3 = eng.instance(AUDITOR, ids["A3"])
    assert (a3["status"], a3["outcome"], a3["data"]["outcome"]) == ("completed", "closed_unresolved",
                                                                     "close_requested")
    c3 = eng.instance(AUDITOR, ids["C3"])
    assert c3["status"] == "running"
    assert {t["name"] for t in c3["tasks"]} >= {"propose_service_by_manager"}
    assert eng.clock.now() - local_time("2026-03-02", "11:00") > timedelta(hours=48)


def test_a_manager_sees_every_total_but_only_the_rows_of_his_staff_and_himself(data_set):
    eng, _ = data_set
    everything, mine = eng.kpi(AUDITOR), eng.kpi("mgr1")
    staff = {"sales_rep", "sales_assistant", "order_clerk", "dispatcher", "customer_service", "aftersales_engineer"}
    tasks, all_tasks = mine["volume"]["tasks"], everything["volume"]["tasks"]
    assert tasks["overall"] == all_tasks["overall"] and tasks["by_month"] == all_tasks["by_month"]
    # of fix1 fix2 mgr1 mgr2 off1 svc1 svc2 vp1: the engineers, customer service and mgr1 himself
    assert [r["key"] for r in tasks["by_person"]] == ["fix1", "fix2", "mgr1", "svc1", "svc2"]
    assert [r["key"] for r in tasks["by_role"]] == [r["key"] for r in all_tasks["by_role"] if r["key"] in staff]
    first = times(mine, "first_response")
    assert first["overall"] == times(everything, "first_response")["overall"]
    assert "vp1" not in [r["key"] for r in first["by_person"]]
    assert None in [r["key"] for r in first["by_person"]]  # not yet attributed: kept
