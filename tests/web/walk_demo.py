"""A demo database for the page walk: every shipped process deployed, the demo users (one per role, as
`salesflow init --demo` makes them, plus the scenario people who do the work), and instances of every
process in several states: waiting at the first task, claimed, further along, finished (approved,
rejected, won), withdrawn or cancelled, escalated by timers.

The data comes from the scenario tests' own vocabularies (tests/scenarios), so a process whose forms
change keeps working here as it does there. Advancing is best effort: a step the process no longer takes
stops that instance where it is (`Demo.skipped` says which), since the walk is about what pages say,
not about the paths; every process must still have instances (the walk checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine import Engine
from engine.errors import SalesflowError
from salesflow.cli.admin import DEMO_PRICES, _demo_users
from tests.conftest import PASSWORD, ROOT, T0
from tests.scenarios.insale_steps import STAFF as PEOPLE  # the scenario people, with the branch GMs
from tests.web.conftest import SAMPLE_REQUEST

SHANGHAI = ZoneInfo("Asia/Shanghai")
AUDITOR = "aud"
# display names: people are shown by name, never by login id (the walk flags login ids in the text)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬"


@dataclass
class Demo:
    engine: Engine
    people: dict[str, list[str]]  # login id -> roles
    display: dict[str, str]  # login id -> display name
    instances: dict[str, list[int]] = field(default_factory=dict)  # process key -> instance ids
    skipped: list[str] = field(default_factory=list)  # steps that did not work (the instance stays where it was)

    def demo_users(self) -> list[str]:
        """The people `salesflow init --demo` creates: one per role, plus owner, auditor and admin."""
        return [name for name, _roles in _demo_users()]


def _display_names(names: list[str]) -> dict[str, str]:
    return {name: SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + ("" if i < len(SURNAMES) else str(i))
            for i, name in enumerate(names)}


def day(offset: int) -> str:
    """A company day counted from T0."""
    return (T0.astimezone(SHANGHAI) + timedelta(days=offset)).date().isoformat()


def _today(demo: Demo) -> str:
    """The company day the demo's clock has reached: what happened is dated no later than that."""
    return demo.engine.clock.now().astimezone(SHANGHAI).date().isoformat()


def build(engine: Engine) -> Demo:
    deployed = engine.deploy("system", [ROOT / "processes", ROOT / "forms"], note="demo")
    assert {d.status for d in deployed} == {"deployed"}
    people = {**{name: roles for name, roles in _demo_users()}, **PEOPLE}
    display = _display_names(sorted(people))
    for name, roles in people.items():
        engine.add_user(name, roles, PASSWORD, display[name])
    engine.import_prices("system", DEMO_PRICES.read_bytes(), DEMO_PRICES.name)
    demo = Demo(engine, people, display)
    for build_process in (_sample_requests, _visits, _sales, _aftersale, _archives, _complaints, _safety,
                          _accidents, _opinions, _violations, _training, _commendations, _customers, _rule_changes):
        build_process(demo)
    _timers(demo)
    return demo


# -- helpers ---------------------------------------------------------------------------------------
def _start(demo: Demo, user: str, key: str, data: dict, business_key: str | None = None) -> int | None:
    try:
        iid = demo.engine.start(user, key, data, business_key=business_key)
    except SalesflowError as exc:
        demo.skipped.append(f"start {key} as {user}: {exc}")
        return None
    demo.instances.setdefault(key, []).append(iid)
    return iid


def _task(demo: Demo, iid: int, name: str) -> dict | None:
    return next((t for t in demo.engine.instance(AUDITOR, iid)["tasks"] if t["name"] == name), None)


def _step(demo: Demo, iid: int | None, user: str, name: str, data: dict | Callable[[], dict]) -> bool:
    """Complete the open task `name` of the instance as `user`; False (and noted) when it cannot be done."""
    if iid is None:
        return False
    task = _task(demo, iid, name)
    if task is None:
        demo.skipped.append(f"{iid}: no open task {name}")
        return False
    try:
        demo.engine.complete(user, task["id"], data() if callable(data) else data)
    except SalesflowError as exc:
        demo.skipped.append(f"{iid}: {user} could not complete {name}: {exc}")
        return False
    demo.engine.clock.advance(minutes=30)
    return True


def _claim(demo: Demo, iid: int | None, user: str, name: str) -> None:
    task = _task(demo, iid, name) if iid else None
    if task:
        try:
            demo.engine.claim(user, task["id"])
        except SalesflowError as exc:
            demo.skipped.append(f"{iid}: {user} could not claim {name}: {exc}")


def _cancel(demo: Demo, iid: int | None, user: str, reason: str) -> None:
    if iid is None:
        return
    try:
        demo.engine.cancel(user, iid, reason)
    except SalesflowError as exc:
        demo.skipped.append(f"{iid}: {user} could not cancel: {exc}")


# -- the processes ----------------------------------------------------------------------------------
def _sample_requests(demo: Demo) -> None:
    from tests.scenarios.test_sample_request__paths import FEEDBACK, SAMPLING, SHIPPED

    waiting = _start(demo, "rep1", "sample_request", dict(SAMPLE_REQUEST))
    _claim(demo, waiting, "mgr1", "sales_approval")
    _start(demo, "rep2", "sample_request", {**SAMPLE_REQUEST, "customer_class": "local",
                                             "customer_name": "巢湖建材商行"})
    rejected = _start(demo, "rep1", "sample_request", {**SAMPLE_REQUEST, "customer_name": "六安恒信商砼"})
    _step(demo, rejected, "mgr1", "sales_approval", {"approved": False, "comment": "该客户暂无合作计划"})
    done = _start(demo, "sales_rep", "sample_request", {**SAMPLE_REQUEST, "customer_name": "芜湖港务建设"})
    if _step(demo, done, "mgr2", "sales_approval", {"approved": True, "comment": "同意"}):
        _step(demo, done, "qa1", "quality_approval", {"approved": True, "comment": "同意，取出厂批"})
        _step(demo, done, "qa2", "take_sample", SAMPLING)
        _step(demo, done, "disp", "dispatch_ship", SHIPPED)
        _step(demo, done, "sales_rep", "collect_feedback", FEEDBACK)
    withdrawn = _start(demo, "rep2", "sample_request", {**SAMPLE_REQUEST, "customer_name": "马鞍山钢城建设"})
    _cancel(demo, withdrawn, "rep2", "客户已改用其他品种")


def _visits(demo: Demo) -> None:
    from tests.scenarios.test_customer_visit__paths import RECEPTION, visit_form

    _start(demo, "rep1", "customer_visit", visit_form("key_account"))
    approved = _start(demo, "rep2", "customer_visit", visit_form("local"))
    if _step(demo, approved, "lead", "leader_approval", {"approved": True, "comment": "同意接待"}):
        _step(demo, approved, "rep2", "arrange_reception", RECEPTION)
    rejected = _start(demo, "sales_rep", "customer_visit", visit_form("key_account"))
    _step(demo, rejected, "mgr1", "sales_approval", {"approved": False, "comment": "近期生产线检修，暂不接待"})


def _sales(demo: Demo) -> None:
    """Pre-sale inquiries (one lost, one won: the won deal starts the in-sale order, whose sealed contract
    lets a dealer order under it), each further along than the last."""
    from tests.scenarios.insale_steps import STANDARD, chain, contract, review_and_seal
    from tests.scenarios.presale_steps import inquiry, needs, quotation
    from tests.scenarios.test_dealer_order__paths import ORDER

    _start(demo, "rep1", "presale", inquiry("key_account"))
    lost = _start(demo, "rep2", "presale", inquiry("local", "web"), business_key="XJ-2026-0302-02")
    if _step(demo, lost, "rep2", "analyse_needs", needs()):
        _step(demo, lost, "rep2", "prepare_quotation", quotation(product="P·O 42.5", spec="散装", grade="一等品"))
        _step(demo, lost, "rep2", "record_outcome", {"outcome": "lost", "outcome_date": _today(demo),
                                                      "outcome_notes": "客户选择了价格更低的供应商",
                                                      "lost_reason": "价格"})
    won = _start(demo, "rep1", "presale", inquiry("key_account"), business_key="DEAL-2026-0302-01")
    if not (_step(demo, won, "rep1", "analyse_needs", needs())
            and _step(demo, won, "rep1", "prepare_quotation", quotation())
            and _step(demo, won, "rep1", "record_outcome", {"outcome": "won", "outcome_date": _today(demo),
                                                            "outcome_notes": "客户接受报价，签订年度供货合同"})):
        return
    orders = _found(demo, "insale")
    demo.instances["insale"] = orders
    if not orders:
        demo.skipped.append("the won deal started no in-sale order")
        return
    [order] = orders
    price = demo.engine.instance(AUDITOR, order)["data"].get("unit_price_yuan", 432)
    if _step(demo, order, "rep1", "draft_contract", contract(STANDARD, False, price=price)):
        try:
            review_and_seal(demo.engine, demo.engine.clock, order, "rep1", chain(STANDARD, False))
        except (AssertionError, SalesflowError) as exc:
            demo.skipped.append(f"{order}: review and seal: {exc}")
            return
        _start(demo, "rep1", "dealer_order", dict(ORDER), business_key="DEAL-2026-0302-01")


def _aftersale(demo: Demo) -> None:
    from tests.scenarios.test_aftersale__migration import DIAGNOSED, REQUEST, RESPONSE

    _start(demo, "svc1", "aftersale", dict(REQUEST))
    answered = _start(demo, "customer_service", "aftersale", {**REQUEST, "kind": "maintenance"})
    if _step(demo, answered, "fix1", "first_response", RESPONSE):
        _claim(demo, answered, "fix1", "diagnose")
    diagnosed = _start(demo, "svc2", "aftersale", {**REQUEST, "customer_name": "池州海创商砼"})
    if _step(demo, diagnosed, "fix2", "first_response", RESPONSE):
        _step(demo, diagnosed, "fix2", "diagnose", DIAGNOSED)


def _archives(demo: Demo) -> None:
    from tests.scenarios.test_aftersale_archive__migration import ARCHIVE, DELIVERED

    if not demo.instances.get("aftersale_archive"):
        started = _start(demo, "asst1", "aftersale_archive", dict(DELIVERED))
        _step(demo, started, "asst1", "build_archive", ARCHIVE)
    _start(demo, "sales_assistant", "aftersale_archive", {**DELIVERED, "customer_name": "宣城华骏建材"})


def _complaints(demo: Demo) -> None:
    from tests.scenarios.test_complaint__paths import registration

    _start(demo, "svc1", "complaint", registration("quality", "minor"))
    _start(demo, "rep1", "complaint", registration("service", "major"))
    cancelled = _start(demo, "customer_service", "complaint", registration("service", "minor"))
    _cancel(demo, cancelled, "gm1", "重复登记，已合并到另一投诉")


def _safety(demo: Demo) -> None:
    """Safety hazards: one waiting for its verification, a major one at the stop-work, one not a hazard, one closed
    with its reward."""
    from tests.scenarios.test_safety_hazard__paths import CASH, GENERAL, MAJOR, RECTIFIED, REPORT

    _start(demo, "rep1", "safety_hazard", dict(REPORT))
    major = _start(demo, "svc1", "safety_hazard", {**REPORT, "hazard_location": "合肥仓库配电间"})
    _step(demo, major, "head1", "verify_hazard", MAJOR)
    refused = _start(demo, "department_head", "safety_hazard", {**REPORT, "photo_note": ""})
    _step(demo, refused, "head1", "verify_hazard", {"hazard_confirmed": False, "verification_note": "货架已固定"})
    closed = _start(demo, "safety_officer", "safety_hazard", dict(REPORT))
    _step(demo, closed, "head2", "verify_hazard", GENERAL)
    _step(demo, closed, "head2", "rectify_hazard", RECTIFIED)
    _step(demo, closed, "safe1", "check_rectification", {"rectification_accepted": True})
    _step(demo, closed, "safe2", "record_reward", CASH)


def _opinions(demo: Demo) -> None:
    from tests.scenarios.test_customer_opinion__paths import GM_REVIEWED, HANDLED, registration

    _start(demo, "svc1", "customer_opinion", registration())  # at the sales department
    major = _start(demo, "rep1", "customer_opinion",
                   registration(topic="product_quality", kind="opinion", major=True, channel="visit"))
    if _step(demo, major, "gm1", "gm_review", GM_REVIEWED):
        _step(demo, major, "qa1", "handle_by_quality", HANDLED)  # the registrant answers next


def _accidents(demo: Demo) -> None:
    """Safety accidents: one just reported, a serious one with the general manager, one closed with a warning
    the department head approved."""
    from tests.scenarios.test_safety_accident__paths import (
        CORRECTED,
        EMERGENCY,
        GENERAL,
        RECORDED,
        REPORT,
        RESPONSIBLE,
        SERIOUS,
    )

    _start(demo, "rep1", "safety_accident", dict(REPORT))
    serious = _start(demo, "svc1", "safety_accident", {**REPORT, "people_injured": 2})
    _step(demo, serious, "head1", "start_emergency_plan", EMERGENCY)
    _step(demo, serious, "safe1", "register_accident", SERIOUS)
    closed = _start(demo, "disp", "safety_accident", {**REPORT, "accident_location": "合肥仓库装卸区"})
    _step(demo, closed, "head2", "start_emergency_plan", {**EMERGENCY, "emergency_plan": "traffic"})
    _step(demo, closed, "safe2", "register_accident", GENERAL)
    _step(demo, closed, "safe2", "investigate_accident", {**RESPONSIBLE, "sanction": "warning"})
    _step(demo, closed, "head1", "approve_sanction_head", {"approved": True})
    _step(demo, closed, "safe1", "record_sanction", RECORDED)
    _step(demo, closed, "head2", "carry_out_corrections", CORRECTED)
    _step(demo, closed, "safe1", "check_corrections", {"corrections_accepted": True})


def _violations(demo: Demo) -> None:
    """Violations: one waiting for the investigation, a closure waiting for the general manager, one not
    confirmed, a small fine approved by the sales director and recorded."""
    from tests.scenarios.test_violation__paths import RECORD, SHOP, STAFF

    _start(demo, "sales_manager", "violation", dict(STAFF))
    closure = _start(demo, "mgr1", "violation", dict(SHOP))
    _step(demo, closure, "audit1", "investigate_violation",
          {"violation_confirmed": True, "findings": "两周未报表，且拒绝整改", "sanction": "closure",
           "closure_days": 15})
    refused = _start(demo, "department_head", "violation", dict(SHOP))
    _step(demo, refused, "audit1", "investigate_violation",
          {"violation_confirmed": False, "findings": "门店已按时在系统中填报，报告有误"})
    fined = _start(demo, "mgr2", "violation", dict(STAFF))
    _step(demo, fined, "audit1", "investigate_violation",
          {"violation_confirmed": True, "findings": "经核查报价单，确系擅自降价", "sanction": "fine",
           "fine_yuan": 500})
    _step(demo, fined, "dir", "director_approve_sanction", {"approved": True})
    _step(demo, fined, "off1", "record_sanction", {**RECORD, "effective_date": day(3), "acknowledged_on": _today(demo)})


def _training(demo: Demo) -> None:
    """Trainings: a plan waiting for approval, one rejected, one approved waiting for its results (its
    reminder fires with the timers below), one completed with a row per person."""
    from tests.scenarios.test_training__paths import APPROVED, PLAN, RESULTS

    session = (demo.engine.clock.now().astimezone(SHANGHAI) + timedelta(days=2)).date().isoformat()
    plan = {**PLAN, "session_date": session}  # at least a day ahead of whatever time the demo has reached
    _start(demo, "train1", "training", dict(plan))
    rejected = _start(demo, "training_officer", "training", {**plan, "training_kind": "induction"})
    _step(demo, rejected, "gm1", "approve_plan", {"approved": False, "comment": "与季度安全月活动合并举办"})
    waiting = _start(demo, "train2", "training", {**plan, "training_kind": "product_knowledge"})
    _step(demo, waiting, "gm1", "approve_plan", APPROVED)
    done = _start(demo, "train1", "training", dict(plan))
    _step(demo, done, "general_manager", "approve_plan", APPROVED)
    held = datetime.combine(datetime.fromisoformat(session).date(), time(17, 0), SHANGHAI)
    demo.engine.clock.advance(seconds=(held - demo.engine.clock.now()).total_seconds())  # results come after it
    _step(demo, done, "train2", "record_results", {**RESULTS, "held_on": session})


def _commendations(demo: Demo) -> None:
    """Safety commendations: one waiting for the review, one declined, a large bonus waiting for headquarters,
    one approved and recorded (its review reminder fires with the timers below for the first)."""
    from tests.scenarios.test_safety_commendation__paths import BONUS, PERSON, RECORDED, TEAM

    _start(demo, "head1", "safety_commendation", dict(PERSON))
    declined = _start(demo, "safety_officer", "safety_commendation", dict(TEAM))
    _step(demo, declined, "safe1", "review_nomination",
          {"nomination_confirmed": False, "review_comment": "该店12月发生一起一般事故，不符合条件"})
    large = _start(demo, "department_head", "safety_commendation", dict(TEAM))
    _step(demo, large, "safe2", "review_nomination", {**BONUS, "reward_amount_yuan": 20000})
    _step(demo, large, "gm1", "gm_approve_reward", {"approved": True})
    done = _start(demo, "head2", "safety_commendation", dict(PERSON))
    _step(demo, done, "safe1", "review_nomination", BONUS)
    _step(demo, done, "general_manager", "gm_approve_reward", {"approved": True})
    _step(demo, done, "safe2", "record_commendation", {**RECORDED, "announced_on": day(0)})
def _customers(demo: Demo) -> None:
    """One customer accepted (with a call logged), one given to another representative, one refused, one
    waiting for the sales manager's review."""
    from tests.scenarios.customer_steps import accepted, registration

    first = _start(demo, "rep1", "customer_register", registration("芜湖长江建材有限公司"))
    if _step(demo, first, "mgr1", "review_customer", accepted()):
        [c] = demo.engine.customers(AUDITOR, name="芜湖长江建材有限公司")
        demo.engine.log_contact("rep1", c["id"], {"kind": "call", "happened_on": day(0),
                                                  "summary": "客户来电询问散装水泥到货时间，已答复三日内送达"})
    given = _start(demo, "rep2", "customer_register", registration("马鞍山恒信商砼公司"))
    _step(demo, given, "mgr2", "review_customer", accepted(owner="rep1"))
    refused = _start(demo, "rep1", "customer_register", registration("某某物资贸易行"))
    _step(demo, refused, "mgr1", "review_customer",
          {"approved": False, "refusal_reason": "not_prospect", "comment": "经核实为同行打探价格"})
    _start(demo, "rep2", "customer_register", registration("铜陵海螺建材经销部"))


def _rule_changes(demo: Demo) -> None:
    """Rule changes (P13): governance switched on by the administrator, as `init --demo` does; a renamed step
    of the sample request approved by the general manager, then another change awaiting his approval."""
    from tests.scenarios.test_rule_change__paths import changed

    eng = demo.engine
    eng.set_governance("admin", True)
    changes = (("销售部经理审批", "审批环节改为销售部经理审批", True), ("销售部负责人审批", "再次改名", False))
    for name, note, approve in changes:
        try:
            deployed = eng.deploy("owner", files=changed(new=f'<bpmn:userTask id="sales_approval" name="{name}"'),
                                  note=note)
        except SalesflowError as exc:
            demo.skipped.append(f"rule change {note}: {exc}")
            return
        request = next(d.request_id for d in deployed if d.request_id)
        demo.instances.setdefault("rule_change", []).append(request)
        if approve:
            _step(demo, request, "general_manager", "approve_change", {"approved": True})


def _timers(demo: Demo) -> None:
    """Let time pass to the first of next month at 09:00: deadlines fire (escalations, reminders) and the
    monthly satisfaction survey and safety inspection start."""
    now = demo.engine.clock.now().astimezone(SHANGHAI)
    first = (now.replace(day=1) + timedelta(days=32)).replace(day=1)
    target = datetime.combine(first.date(), time(9, 1), SHANGHAI)
    demo.engine.clock.advance(seconds=(target - demo.engine.clock.now()).total_seconds())
    while demo.engine.fire_due_timers():
        pass
    for key in ("satisfaction_survey", "safety_inspection", "safety_drill", "monthly_appraisal", "aftersale_archive",
                "insale", "safety_commendation_round", "staff_counselling"):
        demo.instances[key] = sorted(set(demo.instances.get(key, [])) | set(_found(demo, key)))


def _found(demo: Demo, key: str) -> list[int]:
    """Instances started by a message or a timer: the search finds them."""
    return [i["id"] for i in demo.engine.search(AUDITOR, {"process": key}, per_page=100)["items"]]
