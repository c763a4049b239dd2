"""P11 customer_opinion (客户意见与建议): every path from the registered opinion to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. Customer service or a sales rep registers the
opinion; the DMN table customer_opinion_routing picks the department by topic (opinion_department); a major
event goes to the general manager first; the department records its handling and the answer, or finds a
complaint; the registrant answers the customer within 5 working days (answer_due: Monday 03-09 09:00; the
sales manager follows a late answer up, the sales director after 7 working days, 03-11 09:00); the sales
assistant files it. A complaint starts P4 (message quality_complaint) and the opinion ends transferred.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.scenarios.conftest import deploy_repository
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    assert_completed,
    branches,
    dated,
    do,
    end_events,
    events,
    holders,
    inbox_task,
    local_time,
    offered_to,
    parse,
    ready_and_done,
    submissions,
    trail,
)

KEY = "customer_opinion"
ANSWER_DUE = local_time("2026-03-09", "09:00")       # 5 working days after T0
ESCALATION_DUE = local_time("2026-03-11", "09:00")   # 7 working days after T0
DEPARTMENTS = {  # topic: (the DMN's department, the task, the role offered it)
    "sales_service": ("sales_manager", "handle_by_sales", "sales_manager"),
    "product_quality": ("quality", "handle_by_quality", "quality"),
    "production_delivery": ("production", "handle_by_production", "production"),
    "technical": ("technical", "handle_by_technical", "technical"),
    "billing": ("finance", "handle_by_finance", "finance"),
    "other": ("office", "handle_by_office", "office"),
}
HANDLED = {"department_handling": "已核实：送货司机未提前电话通知，已要求物流组今后提前一天通知客户",
           "is_complaint": False, "customer_answer": "感谢您的建议，今后送货前一天会电话通知您"}
ANSWERED = {"answer_given": "感谢您的建议，今后送货前一天会电话通知您", "answer_channel": "phone",
            "answered_on": "2026-03-02", "customer_feedback": "客户表示满意"}
ARCHIVED = {"archive_no": "KH-2026-0042"}
GM_REVIEWED = {"gm_acknowledged": True, "gm_instructions": "请品质部三日内查明并当面向客户说明，结果报我"}


@pytest.fixture
def opinions(engine: Engine) -> Engine:
    """processes/ and forms/ deployed as they are in the repository (the complaint an opinion may start is
    one of them), and PEOPLE."""
    assert {(KEY, 1, "deployed"), ("complaint", 1, "deployed")} <= deploy_repository(engine)
    return engine


def registration(topic: str = "sales_service", kind: str = "suggestion", major: bool = False,
                 channel: str = "phone") -> dict:
    return {"customer_name": "芜湖嘉和建材有限公司", "customer_class": "local",
            "customer_contact": "赵经理 13956001234", "channel": channel, "opinion_kind": kind, "topic": topic,
            "content": "建议送货前提前一天电话通知，方便安排卸货人员", "major_event": major}


def deadlines() -> dict:
    return {"answer_due": ANSWER_DUE.isoformat(), "escalation_due": ESCALATION_DUE.isoformat()}


def fire(eng: Engine, iid: int) -> list[str]:
    """Run the timer worker once; the timers of this instance that fired."""
    before = len(events(eng, iid, "timer_fired"))
    eng.fire_due_timers()
    return [e["task"] for e in events(eng, iid, "timer_fired")[before:]]


def routes(eng: Engine, iid: int) -> list[tuple]:
    return [b for b in branches(eng, iid) if not b[0].endswith("merge")]


def department_trail(task: str, major: bool = False) -> list[tuple[str, str | None]]:
    """From the start to the department's handling done."""
    gm = [*ready_and_done("gm_review")] if major else []
    return [("started", None), ("gateway_taken", "major_event_gateway"), *gm, ("gateway_taken", "major_merge"),
            ("gateway_taken", "department_gateway"), *ready_and_done(task), ("gateway_taken", "department_merge"),
            ("gateway_taken", "complaint_gateway")]


ANSWER_AND_FILE = [*ready_and_done("answer_customer"), ("gateway_taken", "transfer_gateway"),
                   *ready_and_done("archive_opinion"), ("ended", None)]


def answer_and_file(eng: Engine, iid: int, registrant: str) -> dict:
    """The registrant (only he) answers, with the department's draft prefilled, dated the day he answers;
    the sales assistant files it. Returns the answer."""
    assert offered_to(eng, "answer_customer", iid) == {registrant}
    task = inbox_task(eng, registrant, "answer_customer", iid)
    assert parse(task["due_at"]) == ANSWER_DUE
    customer_answer = eng.instance(AUDITOR, iid)["data"]["customer_answer"]
    assert eng.task(registrant, task["id"])["initial_data"]["answer_given"] == customer_answer
    answered = dated(ANSWERED, eng.clock.now(), "answered_on")
    do(eng, registrant, "answer_customer", answered, iid)
    assert offered_to(eng, "archive_opinion", iid) == holders("sales_assistant")
    do(eng, "asst2", "archive_opinion", ARCHIVED, iid)
    return answered


# -- routine opinions and suggestions -------------------------------------------------------------------------


@pytest.mark.rule("P11.1")
@pytest.mark.rule("P11.2")
@pytest.mark.rule("P11.4")
@pytest.mark.rule("P11.6")
def test_a_routine_suggestion_is_handled_answered_in_time_and_filed(opinions, clock):
    eng, starter = opinions, "rep1"
    form = registration()
    iid = eng.start(starter, KEY, form)
    data = eng.instance(AUDITOR, iid)["data"]
    assert {k: data[k] for k in ("answer_due", "escalation_due", "opinion_department")} == {
        **deadlines(), "opinion_department": "sales_manager"}

    assert offered_to(eng, "gm_review", iid) == set()  # not a major event
    assert offered_to(eng, "handle_by_sales", iid) == holders("sales_manager")
    handling = inbox_task(eng, "mgr1", "handle_by_sales", iid)
    assert handling["role"] == "sales_manager"
    clock.advance(days=1)
    do(eng, "mgr2", "handle_by_sales", HANDLED, iid)
    clock.advance(days=1)
    answered = answer_and_file(eng, iid, starter)
    assert answered["answered_on"] == "2026-03-04"  # two days after the registration, within the deadline

    assert_completed(eng, iid, starter, {**form, **deadlines(), "opinion_department": "sales_manager", **HANDLED,
                                         **answered, **ARCHIVED})
    assert eng.instance(starter, iid)["outcome"] == "completed"
    assert submissions(eng, iid) == [("handle_by_sales", HANDLED), ("answer_customer", answered),
                                     ("archive_opinion", ARCHIVED)]
    assert trail(eng, iid) == [*department_trail("handle_by_sales"), *ANSWER_AND_FILE]
    assert end_events(eng, iid) == ["opinion_archived"]
    assert routes(eng, iid) == [
        ("major_event_gateway", "major_merge", "default"),
        ("department_gateway", "handle_by_sales", "opinion_department == 'sales_manager'"),
        ("complaint_gateway", "answer_customer", "default"),
        ("transfer_gateway", "archive_opinion", "default")]
    clock.advance(days=10)  # answered in time: no reminder is left to fire
    assert fire(eng, iid) == []
    assert events(eng, iid, "message_sent") == []
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P11.2")
@pytest.mark.parametrize("topic", sorted(DEPARTMENTS))
def test_each_topic_goes_to_its_department(opinions, clock, topic):
    eng, starter = opinions, "svc1"
    department, task, role = DEPARTMENTS[topic]
    form = registration(topic=topic, kind="opinion", channel="letter")
    iid = eng.start(starter, KEY, form)
    assert eng.instance(AUDITOR, iid)["data"]["opinion_department"] == department
    for other_task in {t for _d, t, _r in DEPARTMENTS.values()} - {task}:
        assert offered_to(eng, other_task, iid) == set()
    assert offered_to(eng, task, iid) == holders(role)
    do(eng, sorted(holders(role))[0], task, HANDLED, iid)
    answer_and_file(eng, iid, starter)

    assert eng.instance(AUDITOR, iid)["outcome"] == "completed"
    assert trail(eng, iid) == [*department_trail(task), *ANSWER_AND_FILE]
    condition = "default" if department == "office" else f"opinion_department == '{department}'"
    assert ("department_gateway", task, condition) in routes(eng, iid)
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P11.1")
def test_only_customer_service_and_sales_reps_register_opinions(opinions):
    eng = opinions
    for user in ("mgr1", "qa1", "asst1", "gm1"):
        with pytest.raises(Forbidden):
            eng.start(user, KEY, registration())
    with pytest.raises(InvalidData):
        eng.start("svc1", KEY, {**registration(), "channel": "fax"})
    with pytest.raises(InvalidData):
        eng.start("svc1", KEY, {k: v for k, v in registration().items() if k != "major_event"})


@pytest.mark.rule("P11.2")
def test_the_forms_refuse_what_is_missing(opinions):
    eng = opinions
    iid = eng.start("svc1", KEY, registration())
    task = inbox_task(eng, "mgr1", "handle_by_sales", iid)
    with pytest.raises(InvalidData):  # an opinion needs the answer to give
        eng.complete("mgr1", task["id"], {"department_handling": "已处理", "is_complaint": False})
    with pytest.raises(InvalidData):  # a complaint needs its kind and severity
        eng.complete("mgr1", task["id"], {"department_handling": "属投诉", "is_complaint": True})
    with pytest.raises(InvalidData):  # a service complaint names whom it is about
        eng.complete("mgr1", task["id"], {"department_handling": "属投诉", "is_complaint": True,
                                          "complaint_kind": "service", "severity": "minor"})
    do(eng, "mgr1", "handle_by_sales", HANDLED, iid)
    answer = inbox_task(eng, "svc1", "answer_customer", iid)
    with pytest.raises(InvalidData):
        eng.complete("svc1", answer["id"], {**ANSWERED, "answered_on": "4 March"})


# -- a major event: the general manager first ----------------------------------------------------------------


@pytest.mark.rule("P11.3")
def test_a_major_event_goes_to_the_general_manager_before_the_department(opinions, clock):
    eng, starter = opinions, "svc2"
    form = {**registration(topic="product_quality", kind="opinion", major=True, channel="visit"),
            "content": "客户反映近三批地砖色差明显，已影响其两个工程项目交付，要求公司高层出面"}
    iid = eng.start(starter, KEY, form)
    assert offered_to(eng, "handle_by_quality", iid) == set()  # the general manager reads it first
    assert offered_to(eng, "gm_review", iid) == holders("general_manager")
    review = inbox_task(eng, "gm1", "gm_review", iid)
    assert eng.task("gm1", review["id"])["initial_data"]["content"] == form["content"]
    clock.advance(hours=3)
    do(eng, "gm1", "gm_review", GM_REVIEWED, iid)

    assert offered_to(eng, "handle_by_quality", iid) == holders("quality")
    handled = {**HANDLED, "department_handling": "按总经理批示复检三批留样，色差在标准内；已派员当面说明"}
    do(eng, "qa1", "handle_by_quality", handled, iid)
    answered = answer_and_file(eng, iid, starter)

    assert_completed(eng, iid, starter, {**form, **deadlines(), "opinion_department": "quality", **GM_REVIEWED,
                                         **handled, **answered, **ARCHIVED})
    assert trail(eng, iid) == [*department_trail("handle_by_quality", major=True), *ANSWER_AND_FILE]
    assert routes(eng, iid)[:2] == [
        ("major_event_gateway", "gm_review", "major_event == True"),
        ("department_gateway", "handle_by_quality", "opinion_department == 'quality'")]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P11.5")
@pytest.mark.rule("P11.6")
def test_once_the_customer_is_answered_no_reminder_comes_even_if_the_filing_waits(opinions, clock):
    eng, starter = opinions, "svc2"
    iid = eng.start(starter, KEY, registration(topic="technical"))
    do(eng, "tech1", "handle_by_technical", HANDLED, iid)
    do(eng, starter, "answer_customer", ANSWERED, iid)
    assert offered_to(eng, "archive_opinion", iid) == holders("sales_assistant")

    clock.set(ESCALATION_DUE + timedelta(days=1))  # both timers ended with the handling
    assert fire(eng, iid) == []
    assert offered_to(eng, "answer_overdue_reminder", iid) | offered_to(eng, "answer_escalation", iid) == set()
    do(eng, "asst1", "archive_opinion", ARCHIVED, iid)
    assert eng.instance(AUDITOR, iid)["outcome"] == "completed"
    assert events(eng, iid, "timer_fired") == []
    assert_audit_intact(eng, iid)


# -- a late answer: reminder, then escalation ------------------------------------------------------------------


@pytest.mark.rule("P11.5")
def test_a_late_answer_is_reminded_to_the_sales_manager_then_escalated_to_the_sales_director(opinions, clock):
    eng, starter = opinions, "rep2"
    form = registration(topic="billing")
    iid = eng.start(starter, KEY, form)
    assert parse(inbox_task(eng, "fin1", "handle_by_finance", iid)["due_at"]) == local_time("2026-03-05", "09:00")

    clock.set(ANSWER_DUE - timedelta(minutes=1))
    assert fire(eng, iid) == []
    clock.set(ANSWER_DUE + timedelta(minutes=1))  # a timer fires once its instant has passed
    assert fire(eng, iid) == ["answer_overdue"]
    assert offered_to(eng, "answer_overdue_reminder", iid) == holders("sales_manager")
    assert offered_to(eng, "handle_by_finance", iid) == holders("finance")  # the handling goes on
    do(eng, "mgr1", "answer_overdue_reminder", {"reminder_note": "已电话催财务部今日内核对并答复"}, iid)

    do(eng, "fin2", "handle_by_finance", HANDLED, iid)
    clock.set(ESCALATION_DUE - timedelta(minutes=1))
    assert fire(eng, iid) == []
    clock.set(ESCALATION_DUE + timedelta(minutes=1))
    assert fire(eng, iid) == ["answer_escalated"]
    assert offered_to(eng, "answer_escalation", iid) == holders("sales_director")
    do(eng, "dir", "answer_escalation", {"escalation_note": "已要求登记人今天答复客户"}, iid)
    answer_and_file(eng, iid, starter)

    assert eng.instance(AUDITOR, iid)["outcome"] == "completed"
    assert [e["task"] for e in events(eng, iid, "timer_fired")] == ["answer_overdue", "answer_escalated"]
    assert trail(eng, iid) == [
        *department_trail("handle_by_finance")[:5], ("timers_due", None), ("timer_fired", "answer_overdue"),
        ("escalated", "answer_overdue"), *ready_and_done("answer_overdue_reminder"),
        ("completed", "handle_by_finance"), ("gateway_taken", "department_merge"),
        ("gateway_taken", "complaint_gateway"), ("task_ready", "answer_customer"),
        ("timers_due", None), ("timer_fired", "answer_escalated"), ("escalated", "answer_escalated"),
        *ready_and_done("answer_escalation"), *ANSWER_AND_FILE[1:]]
    assert submissions(eng, iid)[:2] == [
        ("answer_overdue_reminder", {"reminder_note": "已电话催财务部今日内核对并答复"}),
        ("handle_by_finance", HANDLED)]
    assert end_events(eng, iid) == ["opinion_archived"]
    clock.advance(days=10)
    assert fire(eng, iid) == []
    assert_audit_intact(eng, iid)


# -- an opinion that is a complaint: passed on to P4 -----------------------------------------------------------


@pytest.mark.rule("P11.7")
@pytest.mark.parametrize("kind", ["quality", "service"])
def test_an_opinion_that_is_a_complaint_starts_a_customer_complaint_and_ends_transferred(opinions, clock, kind):
    eng, starter = opinions, "svc1"
    form = registration(topic="product_quality" if kind == "quality" else "sales_service", kind="opinion")
    iid = eng.start(starter, KEY, form, business_key="YJ-2026-0007")
    task, user = ("handle_by_quality", "qa2") if kind == "quality" else ("handle_by_sales", "mgr2")
    found = {"department_handling": "客户所述实为对产品（服务）的投诉，转投诉处理", "is_complaint": True,
             "complaint_kind": kind, "severity": "major",
             **({"complained_party": "物流组 张师傅"} if kind == "service" else {})}
    clock.advance(hours=4)
    do(eng, user, task, found, iid)

    assert offered_to(eng, "answer_customer", iid) == set()
    assert offered_to(eng, "archive_opinion", iid) == set()
    [sent] = events(eng, iid, "message_sent")
    assert sent["actor"] == user
    payload = {"customer_name": form["customer_name"], "customer_class": "local",
               "customer_contact": form["customer_contact"], "complaint_kind": kind, "severity": "major",
               "description": form["content"], "remarks": "客户意见转投诉：" + found["department_handling"],
               **({"complained_party": "物流组 张师傅"} if kind == "service" else {})}
    assert (sent["payload"]["name"], sent["payload"]["payload"]) == ("quality_complaint", payload)
    [complaint_id] = sent["payload"]["started"]
    complaint = eng.instance(AUDITOR, complaint_id)
    assert (complaint["process_key"], complaint["business_key"], complaint["status"]) == (
        "complaint", "YJ-2026-0007", "running")
    assert {k: complaint["data"][k] for k in payload} == payload
    [started] = events(eng, complaint_id, "started")
    assert started["payload"]["via_message"] == {"name": "quality_complaint", "from_instance": iid}
    reviewer = "review_severity_by_director" if kind == "quality" else "review_severity_by_office"
    assert offered_to(eng, reviewer, complaint_id) == holders("sales_director" if kind == "quality" else "office")

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("completed", "transferred", [])
    assert inst["data"] == {**form, **deadlines(), "opinion_department": "quality" if kind == "quality"
                            else "sales_manager", **found}
    assert trail(eng, iid) == [
        *department_trail(task), ("gateway_taken", "transfer_gateway"), ("ended", None), ("message_sent", None)]
    assert end_events(eng, iid) == ["handling_transferred", "opinion_transferred"]
    assert routes(eng, iid)[-2:] == [("complaint_gateway", "handling_transferred", "is_complaint == True"),
                                     ("transfer_gateway", "pass_to_complaint", "is_complaint == True")]
    clock.advance(days=10)
    assert fire(eng, iid) == []
    assert_audit_intact(eng, iid)
    assert_audit_intact(eng, complaint_id)
