"""Issue 6, Done when: an auditor opens a finished complaint, steps back to the step where the office
decided, sees the decision's data and the highlighted element, presses verify and sees "verified";
after a row of the trail is edited in the database, verify shows the broken step.

The real complaint process (processes/complaint.bpmn and forms/) is driven to its end through the
engine as in tests/scenarios/test_complaint__paths.py (a minor service complaint: the sales manager
proposes, the office decides); the auditor then works in chromium.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from engine import Engine
from engine.audit.chain import instance_chain
from engine.store.models import AuditEvent
from tests.scenarios.driver import do
from tests.scenarios.repository import deploy_repository

REGISTRATION = {"customer_name": "合肥瑞丰装饰工程有限公司", "customer_class": "key_account",
                "customer_contact": "王工 13800000000", "complaint_kind": "service", "severity": "minor",
                "description": "业务员多次承诺送货时间未兑现，且态度生硬", "complained_party": "销售一部 李强"}
DECISION = {"office_decision": "同意销售部建议：李强当面致歉，送货改由销售主管负责"}
STEPS = [
    ("off2", "review_severity_by_office", {"severity": "minor"}),
    ("mgr2", "propose_service_by_manager", {"responsible_party": "销售一部 李强", "handled_by": "office",
                                            "service_proposal": "通报批评，向客户当面致歉，由主管跟进后续送货"}),
    ("off1", "office_decision", DECISION),
    ("mgr1", "fill_service_form", {"service_form_no": "FW-2026-009", "responsible_department": "sales"}),
    ("mgr1", "handle_in_sales_department", {"department_handling": "销售一部已约谈李强"}),
    ("svc1", "inform_customer", {"customer_accepts": True}),
    ("mgr1", "implement_solution", {"implementation_record": "李强已当面致歉，后续两批货按期送达",
                                    "implemented_on": "2026-03-02"}),
    ("mgr1", "summarise_complaint", {"root_cause": "送货安排不当", "improvement_actions": "送货由主管统一安排"}),
    ("svc1", "notify_corrective_action", {"corrective_action_notified_on": "2026-03-02", "notice_channel": "phone",
                                          "corrective_action_notice": "已电话告知送货由主管统一安排"}),
    ("off2", "assess_service_penalty", {"complaint_verified": True, "penalised_party": "销售一部 李强",
                                        "service_penalty": "criticism_and_fine", "fine_yuan": 50}),
    ("off1", "archive_complaint", {"archive_no": "BGS-TS-2026-011"}),
]


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    """Overrides the P5/P6 fixture of tests/browser/conftest.py: every process and form of the
    repository, and the people of the scenario tests (password tests.conftest.PASSWORD)."""
    assert ("complaint", 1, "deployed") in deploy_repository(engine)
    return engine


@pytest.fixture
def finished_complaint(deployed: Engine, clock) -> int:
    iid = deployed.start("svc_off", "complaint", dict(REGISTRATION))
    for user, task, data in STEPS:
        clock.advance(hours=1)
        do(deployed, user, task, data, iid)
    assert deployed.instance("aud", iid)["status"] == "completed"
    return iid


def _has(cls: str) -> re.Pattern:
    return re.compile(rf"(^|\s){cls}(\s|$)")


def element(page, element_id: str):  # a Locator
    return page.locator(f'#diagram .djs-element[data-element-id="{element_id}"]')


def edit_trail(eng: Engine, iid: int, position: int) -> None:
    """Change the recorded decision in the audit_event row, as someone with database access could."""
    with eng.db.write() as s:
        row = s.scalar(select(AuditEvent).where(AuditEvent.chain == instance_chain(iid),
                                                AuditEvent.position == position))
        payload = json.loads(row.payload)
        payload["data"]["office_decision"] = "驳回销售部建议"
        s.execute(update(AuditEvent).where(AuditEvent.id == row.id)
                  .values(payload=json.dumps(payload, ensure_ascii=False)))


def test_auditor_steps_back_to_the_office_decision_and_verifies_the_trail(
        open_as, shot, browser_errors, deployed, finished_complaint):
    eng, iid = deployed, finished_complaint
    history = eng.history("aud", iid)
    total = len(history)
    decided = next(e["position"] for e in history if e["kind"] == "completed" and e["task"] == "office_decision")
    assert decided < total - 5

    page = open_as("aud", land=None)
    page.goto(f"/instances/{iid}")
    page.click("#history-link")
    expect(page.locator("#history-page")).to_have_attribute("data-ready", "true")
    expect(page.locator("#diagram")).to_have_attribute("data-rendered", "true")
    expect(page.locator("#step-number")).to_have_text(f"第 {total} 步，共 {total} 步")
    expect(element(page, "complaint_closed")).to_have_class(_has("highlight-completed"))
    shot(page, "history-last-step")

    # back with the previous button, then the last few with the keyboard on the slider
    for _ in range(total - decided - 2):
        page.click("#step-prev")
    page.focus("#step-slider")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#history-page")).to_have_attribute("data-step", str(decided))
    expect(page.locator("#step-number")).to_have_text(f"第 {decided} 步，共 {total} 步")
    current = page.locator(f"#step-{decided}")
    expect(current).to_have_class(_has("current"))
    expect(current).to_have_attribute("aria-current", "step")
    expect(current).to_contain_text("off1")
    expect(current).to_contain_text(DECISION["office_decision"])  # the change, old → new, in the timeline
    expect(page.locator('#step-data [data-field="office_decision"] dd')).to_have_text(DECISION["office_decision"])
    expect(page.locator('#step-data [data-field="fill_service_form"]')).to_have_count(0)
    expect(page.locator('#step-data [data-field="service_form_no"]')).to_have_count(0)  # not yet at this step
    expect(element(page, "office_decision")).to_have_class(_has("highlight-current"))
    expect(element(page, "office_decision")).to_have_class(_has("highlight-completed"))
    expect(element(page, "fill_service_form")).to_have_class(_has("highlight-active"))
    expect(element(page, "complaint_closed")).not_to_have_class(_has("highlight-completed"))
    shot(page, "history-office-decision")

    page.click("#verify")
    expect(page.locator("#verify-result")).to_have_attribute("data-state", "verified")
    expect(page.locator("#verify-result")).to_contain_text("已验证")
    expect(page.locator("#verify-result")).to_contain_text(str(total))
    expect(page.locator("#trail-warning")).to_be_hidden()
    shot(page, "history-verified")

    edit_trail(eng, iid, decided)
    page.reload()
    expect(page.locator("#history-page")).to_have_attribute("data-ready", "true")
    expect(page.locator("#trail-warning")).to_be_visible()
    expect(page.locator("#trail-warning")).to_contain_text(f"第 {decided} 步")
    expect(page.locator("#timeline > li.entry")).to_have_count(total)  # the recorded timeline still shows
    page.click("#verify")
    result = page.locator("#verify-result")
    expect(result).to_have_attribute("data-state", "broken")
    expect(result).to_have_attribute("data-position", str(decided))
    expect(result).to_contain_text(f"第 {decided} 步")
    expect(result).not_to_contain_text("已验证")
    expect(page.locator(f"#step-{decided}")).to_have_class(_has("broken"))
    expect(page.locator("#history-page")).to_have_attribute("data-step", str(decided))
    shot(page, "history-broken")
    assert browser_errors.messages == []


def test_history_page_in_english_says_verified(open_as, shot, deployed, finished_complaint):
    page = open_as("aud", land=None)
    page.goto(f"/instances/{finished_complaint}/history")
    page.click('form.lang button[value="en"]')
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#history-page")).to_have_attribute("data-ready", "true")
    page.click("#verify")
    expect(page.locator("#verify-result")).to_have_attribute("data-state", "verified")
    expect(page.locator("#verify-result")).to_contain_text("Verified")
    shot(page, "history-verified-en")
