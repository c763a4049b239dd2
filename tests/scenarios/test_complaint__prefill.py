"""P4 complaint: the forms after the registration show what the registrant entered instead of asking again.

The 《客户投诉质量处理表》 (taken by the sales manager or director), the investigations and the decision show the
seven details of the goods read-only, prefilled from the case; the service forms show who was complained about.
Whatever a client posts for them, the engine keeps the registered values. A quality complaint that came from an
after-sales case without those details asks for them in the handling form (tests/scenarios/test_complaint__closing).
The start form keeps the goods only for a quality complaint and who was complained about only for a service one.
"""

from __future__ import annotations

from engine import Engine
from tests.scenarios.driver import AUDITOR, assert_audit_intact, do, inbox_task, submissions
from tests.scenarios.test_complaint__paths import (
    KEY,
    PRODUCTION_FOUND,
    QUALITY_FOUND,
    QUALITY_REGISTRATION,
    complaints,  # noqa: F401 - a fixture
    registration,
    review,
)

SEVEN = set(QUALITY_REGISTRATION)


def read_only(task: dict) -> set[str]:
    props = task["form"]["schema"]["properties"]
    return {name for name, prop in props.items() if prop.get("readOnly")}


def test_the_quality_handling_forms_show_the_registered_goods_read_only(complaints, clock):  # noqa: F811
    eng: Engine = complaints
    iid = eng.start("svc1", KEY, registration("quality", "minor"))
    review(eng, iid, "minor")
    offered = eng.task("mgr1", inbox_task(eng, "mgr1", "take_quality_by_manager", iid)["id"])
    assert read_only(offered) == SEVEN
    assert offered["initial_data"] == QUALITY_REGISTRATION  # the engine decides what the form starts with

    # the taker fills in only what is new; a client that posts other goods does not change them
    taken = {"quality_form_no": "ZL-2026-101", "handling_arrangement": "通知品质部复检留样", "onsite_visit": False,
             "product": "别的产品", "quantity": 1}
    do(eng, "mgr1", "take_quality_by_manager", taken, iid)
    data = eng.instance(AUDITOR, iid)["data"]
    assert {k: data[k] for k in SEVEN} == QUALITY_REGISTRATION
    [(task, submitted)] = [s for s in submissions(eng, iid) if s[0] == "take_quality_by_manager"]
    assert not SEVEN & set(submitted)  # the trail records what the taker gave; the case holds the goods already

    for name, user, found in (("quality_investigation", "qa2", QUALITY_FOUND),
                              ("production_investigation", "prod1", PRODUCTION_FOUND)):
        task = eng.task(user, inbox_task(eng, user, name, iid)["id"])
        assert read_only(task) == SEVEN and task["initial_data"] == QUALITY_REGISTRATION
        do(eng, user, name, found, iid)
    decision = eng.task("mgr1", inbox_task(eng, "mgr1", "decide_quality_by_manager", iid)["id"])
    assert decision["initial_data"] == QUALITY_REGISTRATION
    assert_audit_intact(eng, iid)


def test_a_service_complaint_keeps_who_was_complained_about_and_not_the_goods(complaints, clock):  # noqa: F811
    eng: Engine = complaints
    form = {**registration("service", "minor"), "product": "抛光砖", "quantity": 3}  # typed before switching kind
    iid = eng.start("svc1", KEY, form)
    data = eng.instance(AUDITOR, iid)["data"]
    assert "product" not in data and "quantity" not in data  # hidden fields are not stored
    assert data["complained_party"] == "销售一部 李强"
    review(eng, iid, "minor")
    proposal = [t for t in eng.instance(AUDITOR, iid)["tasks"] if t["name"].startswith("propose_")]
    assert proposal, eng.instance(AUDITOR, iid)["tasks"]
    task = eng.task(AUDITOR, proposal[0]["id"])
    assert task["initial_data"] == {"complained_party": "销售一部 李强"}
    assert read_only(task) == {"complained_party"}
