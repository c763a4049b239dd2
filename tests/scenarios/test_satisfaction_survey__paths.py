"""P7 satisfaction_survey (满意度回访): the monthly timer start, the survey and both outcomes.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai: deploying arms the survey of
Wednesday 2026-04-01 09:00 (company time); when it starts, the engine arms 2026-05-01 09:00.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.conftest import ROOT
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
    branches,
    do,
    end_events,
    events,
    holders,
    inbox_of,
    inbox_task,
    local_time,
    offered_to,
    open_task,
    parse,
    submissions,
    trail,
)
from tests.scenarios.repository import deploy_repository

KEY = "satisfaction_survey"
USAGE = "用于商砼站 C30 混凝土，运行稳定"
APRIL, MAY = local_time("2026-04-01", "09:00"), local_time("2026-05-01", "09:00")


@pytest.fixture
def surveys(engine: Engine) -> Engine:
    """processes/ and forms/ deployed as they are in the repository, and PEOPLE."""
    assert (KEY, 1, "deployed") in deploy_repository(engine)
    return engine


def survey_instances(eng: Engine) -> list[dict]:
    """Every instance of the survey, oldest first, as an auditor sees it."""
    ids = sorted(int(r.chain.split(":")[1]) for r in eng.verify_chains() if r.chain.startswith("instance:"))
    return [view for view in (eng.instance(AUDITOR, i) for i in ids) if view["process_key"] == KEY]


def armed(eng: Engine) -> list[dict]:
    """Survey instances waiting at their start timer: running, nothing to do yet."""
    return [v for v in survey_instances(eng) if v["status"] == "running" and v["tasks"] == []
            and not [e for e in eng.history(AUDITOR, v["id"]) if e["kind"] == "timer_fired"]]


def start_april_survey(eng: Engine, clock) -> int:
    """Nothing before 09:00 on the 1st; at 09:01 the armed instance starts in customer service's inboxes."""
    clock.set(APRIL - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "conduct_survey") == set()
    clock.set(APRIL + timedelta(minutes=1))
    assert eng.fire_due_timers() == 2  # and the safety inspection (P8), armed for the same minute
    assert offered_to(eng, "conduct_survey") == holders("customer_service")
    task = inbox_task(eng, "svc1", "conduct_survey")
    assert (task["role"], task["assignee"], task["title"]) == ("customer_service", None, "抽样回访客户满意度")
    assert parse(task["created_at"]) == APRIL + timedelta(minutes=1)
    assert parse(task["due_at"]) == APRIL + timedelta(days=7, minutes=1)
    return task["instance_id"]


def responses(*scores: int) -> list[dict]:
    names = ["芜湖商砼有限公司", "合肥建工集团", "马鞍山恒达建材", "安庆长江水泥制品厂", "滁州万家装饰"]
    return [{"customer_name": names[i], "satisfaction": s, "usage": USAGE,
             **({"comment": "送货及时"} if s >= 4 else {})} for i, s in enumerate(scores)]


@pytest.mark.rule("P7.1")
def test_deploying_arms_one_survey_that_waits_for_the_first_of_next_month(surveys, clock):
    eng = surveys
    [waiting] = armed(eng)
    assert (waiting["status"], waiting["started_by"], waiting["tasks"], waiting["data"]) == (
        "running", "system", [], {})
    assert [e["kind"] for e in eng.history(AUDITOR, waiting["id"])] == ["started"]
    with pytest.raises(Forbidden, match="started by its timer"):
        eng.start("svc1", KEY, {})
    assert all(t["process_key"] != KEY for u in PEOPLE for t in inbox_of(eng, u))

    # deploying the same files again keeps the one armed instance
    assert {(d.key, d.status) for d in eng.deploy("system", [ROOT / "processes", ROOT / "forms"])
            if d.key == KEY} == {(KEY, "unchanged")}
    assert [v["id"] for v in armed(eng)] == [waiting["id"]]

    clock.set(local_time("2026-03-31", "23:59"))
    assert eng.fire_due_timers() == 0
    assert [v["id"] for v in armed(eng)] == [waiting["id"]]


@pytest.mark.rule("P7.1")
@pytest.mark.rule("P7.2")
def test_the_monthly_survey_starts_at_nine_on_the_first_and_arms_the_next_month(surveys, clock):
    eng = surveys
    [april_armed] = armed(eng)
    iid = start_april_survey(eng, clock)
    assert iid == april_armed["id"]
    inst = eng.instance(AUDITOR, iid)
    assert (inst["started_by"], inst["status"]) == ("system", "running")
    [may_armed] = armed(eng)
    assert may_armed["id"] > iid and may_armed["started_by"] == "system"

    # the May survey waits for May the 1st, 09:00
    clock.set(MAY - timedelta(minutes=1))
    assert eng.fire_due_timers() == 2  # the monthly appraisal of 3 April (P12), the counselling of 15 April (P16)
    clock.set(MAY + timedelta(minutes=1))
    assert eng.fire_due_timers() == 2  # and the safety inspection (P8)
    assert {t["instance_id"] for t in eng.inbox("svc2") if t["name"] == "conduct_survey"} == {iid, may_armed["id"]}
    [june_armed] = armed(eng)
    assert june_armed["id"] > may_armed["id"]
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [["monthly_survey_start"]]
    assert trail(eng, iid) == [("started", None), ("timers_due", None), ("timer_fired", "monthly_survey_start"),
                               ("task_ready", "conduct_survey")]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P7.2")
def test_a_normal_average_without_a_dissatisfied_customer_ends_the_survey(surveys, clock):
    eng = surveys
    iid = start_april_survey(eng, clock)
    survey = {"responses": responses(4, 3, 3, 5, 3), "survey_notes": "总体满意，个别客户反映送货延误"}
    clock.advance(days=2)
    do(eng, "svc2", "conduct_survey", survey, iid)

    assert offered_to(eng, "review_improvement", iid) == set()
    inst = eng.instance(AUDITOR, iid)
    assert inst["status"] == "completed"
    assert inst["data"] == {**survey, "surveyed_customers": 5, "average_satisfaction": 3.6, "dissatisfied_customers": 0}
    assert submissions(eng, iid) == [("conduct_survey", survey)]
    assert trail(eng, iid) == [("started", None), ("timers_due", None), ("timer_fired", "monthly_survey_start"),
                               ("task_ready", "conduct_survey"), ("completed", "conduct_survey"),
                               ("gateway_taken", "low_score_gateway"), ("ended", None)]
    assert branches(eng, iid) == [("low_score_gateway", "survey_completed", "default")]
    assert end_events(eng, iid) == ["survey_completed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P7.2")
def test_an_average_of_exactly_three_is_not_low(surveys, clock):
    eng = surveys
    iid = start_april_survey(eng, clock)
    do(eng, "svc1", "conduct_survey", {"responses": responses(3, 3, 3)}, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["data"]["average_satisfaction"]) == ("completed", 3)
    assert end_events(eng, iid) == ["survey_completed"]


@pytest.mark.rule("P7.3")
def test_a_low_average_goes_to_the_sales_manager_for_improvement_actions(surveys, clock):
    eng = surveys
    iid = start_april_survey(eng, clock)
    survey = {"responses": responses(2, 3, 1)}
    clock.advance(days=1)
    do(eng, "svc1", "conduct_survey", survey, iid)

    assert eng.instance(AUDITOR, iid)["data"]["average_satisfaction"] == 2
    assert offered_to(eng, "review_improvement", iid) == holders("sales_manager")
    review = inbox_task(eng, "mgr1", "review_improvement", iid)
    assert parse(review["due_at"]) == parse(review["created_at"]) + timedelta(days=7)
    with pytest.raises(InvalidData) as past:
        eng.complete("mgr1", review["id"], {"improvement_actions": "加强送货调度", "improvement_owner": "计调室",
                                            "improvement_due": "2026-03-31"})
    assert past.value.fields["improvement_due"]["zh"] == "完成期限不能早于今天"
    reviewed = {"improvement_actions": "送货调度每日核对；对三家客户上门回访致歉", "improvement_owner": "销售部 王经理",
                "improvement_due": "2026-04-15"}
    clock.advance(hours=4)
    do(eng, "mgr2", "review_improvement", reviewed, iid)

    inst = eng.instance(AUDITOR, iid)
    assert inst["status"] == "completed"
    assert inst["data"] == {**survey, "surveyed_customers": 3, "average_satisfaction": 2, "dissatisfied_customers": 2,
                            **reviewed}
    assert submissions(eng, iid) == [("conduct_survey", survey), ("review_improvement", reviewed)]
    assert trail(eng, iid) == [("started", None), ("timers_due", None), ("timer_fired", "monthly_survey_start"),
                               ("task_ready", "conduct_survey"), ("completed", "conduct_survey"),
                               ("gateway_taken", "low_score_gateway"), ("task_ready", "review_improvement"),
                               ("completed", "review_improvement"), ("ended", None)]
    assert branches(eng, iid) == [("low_score_gateway", "review_improvement",
                                   "average_satisfaction < 3 or dissatisfied_customers > 0")]
    assert end_events(eng, iid) == ["survey_reviewed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P7.2")
@pytest.mark.parametrize(("answers", "message"), [
    pytest.param([], "至少回访一位客户", id="nobody_surveyed"),
    pytest.param([{"customer_name": "合肥建工集团", "satisfaction": 0, "usage": USAGE}], "满意度为 1 至 5 分",
                 id="score_0"),
    pytest.param([{"customer_name": "合肥建工集团", "satisfaction": 6, "usage": USAGE}], "满意度为 1 至 5 分",
                 id="score_6"),
    pytest.param([{"customer_name": "合肥建工集团", "satisfaction": 4.5, "usage": USAGE}], "格式不正确（应为整数）",
                 id="score_not_whole"),
    pytest.param([{"customer_name": " ", "satisfaction": 4, "usage": USAGE}], "格式不正确", id="no_customer_name"),
])
def test_the_survey_form_refuses_scores_outside_1_to_5_and_an_empty_sample(surveys, clock, answers, message):
    eng = surveys
    iid = start_april_survey(eng, clock)
    task = open_task(eng, iid, "conduct_survey")
    with pytest.raises(InvalidData) as refused:
        eng.complete("svc1", task["id"], {"responses": answers})
    assert set(refused.value.fields) == {"responses"}
    assert refused.value.fields["responses"]["zh"] == message
    assert refused.value.fields["responses"]["en"]
    assert open_task(eng, iid, "conduct_survey")["status"] == "ready"
    assert eng.instance(AUDITOR, iid)["data"] == {}


@pytest.mark.rule("P7.4")
def test_one_dissatisfied_customer_goes_to_the_sales_manager_whatever_the_average(surveys, clock):
    eng = surveys
    iid = start_april_survey(eng, clock)
    survey = {"responses": responses(5, 5, 4, 1), "survey_notes": "一位客户对送货延误很不满意"}
    clock.advance(days=1)
    do(eng, "svc2", "conduct_survey", survey, iid)

    data = eng.instance(AUDITOR, iid)["data"]
    assert (data["average_satisfaction"], data["dissatisfied_customers"]) == (3.75, 1)  # a good average ...
    assert offered_to(eng, "review_improvement", iid) == holders("sales_manager")  # ... and still a review
    reviewed = {"improvement_actions": "向安庆长江水泥制品厂上门致歉，调整其送货时段",
                "improvement_owner": "计调室 张工", "improvement_due": "2026-04-10"}
    do(eng, "mgr1", "review_improvement", reviewed, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "completed")
    assert inst["data"] == {**survey, "surveyed_customers": 4, "average_satisfaction": 3.75,
                            "dissatisfied_customers": 1, **reviewed}
    assert submissions(eng, iid) == [("conduct_survey", survey), ("review_improvement", reviewed)]
    assert branches(eng, iid) == [("low_score_gateway", "review_improvement",
                                   "average_satisfaction < 3 or dissatisfied_customers > 0")]
    assert end_events(eng, iid) == ["survey_reviewed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P7.2")
def test_every_customer_surveyed_needs_how_they_use_the_product(surveys, clock):
    eng = surveys
    iid = start_april_survey(eng, clock)
    task = open_task(eng, iid, "conduct_survey")
    for row in ({"customer_name": "合肥建工集团", "satisfaction": 4},
                {"customer_name": "合肥建工集团", "satisfaction": 4, "usage": "  "}):
        with pytest.raises(InvalidData) as refused:
            eng.complete("svc1", task["id"], {"responses": [row]})
        assert set(refused.value.fields) == {"responses"}
        assert refused.value.fields["responses"]["en"]
    assert open_task(eng, iid, "conduct_survey")["status"] == "ready"
    assert eng.instance(AUDITOR, iid)["data"] == {}
