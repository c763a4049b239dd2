"""The flow of work in a real browser, in Chinese and English, on a desktop and on a phone:
- the sales manager approves and is back in the inbox, told where the request went;
- the quality department's inbox counts grow while its page stays open (the poll, no reload);
- the quality approver approves and lands straight on the request's next task, also theirs;
- the requester finds the request in "my requests" with where it waits, and withdraws another one
  nobody has decided on yet, which then reads as withdrawn there.
Screenshots (SALESFLOW_SCREENSHOTS=1): test-artifacts/flow/<lang>-<width>/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine import Engine
from tests.browser.conftest import Shots, fill_field
from tests.browser.viewports import DESKTOP, PHONE, fits, log_in, open_menu, too_wide
from tests.conftest import ROOT
from tests.web.conftest import SAMPLE_REQUEST

ARTIFACTS = ROOT / "test-artifacts" / "flow"
TEXTS = {
    "zh": {"waits": "该申请现在等待：", "yours": "该申请的下一步也由你处理", "withdraw": "撤回申请",
           "withdrawn": "已撤回", "quality": "品质部", "waiting_for": "待销售部经理处理"},
    "en": {"waits": "The request now waits at: ", "yours": "The next step of this request is yours too",
           "withdraw": "Withdraw this request", "withdrawn": "Withdrawn", "quality": "Quality department",
           "waiting_for": "for Sales manager"},
}


@pytest.fixture
def started(deployed: Engine) -> dict:
    """Three of rep1's sample requests waiting for the sales manager."""
    ids = [deployed.start("rep1", "sample_request", {**SAMPLE_REQUEST, "customer_name": f"客户 {n}"})
           for n in range(3)]
    return {"approve": ids[0], "later": ids[1], "withdraw": ids[2]}


def ready(engine: Engine, iid: int) -> dict:
    return engine.instance("adm", iid)["tasks"][0]


def inbox_badge(page, phone: bool):
    """The count of ready tasks the header shows: on the menu button on a phone, beside 'Inbox' otherwise."""
    return page.locator("#menu-toggle .count" if phone else "#nav-inbox .count")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1366x900"])
def test_after_each_step_the_next_place_to_be(new_context, live_server, deployed, started, browser_errors,
                                              lang, viewport):
    shot = Shots(ARTIFACTS / f"{lang}-{viewport['width']}")
    texts, phone = TEXTS[lang], viewport is PHONE

    # -- the sales manager approves: back to the inbox, told where the request went -------------------
    mgr = browser_errors.watch(log_in(new_context, live_server, "mgr1", viewport, lang))
    mgr.goto("/inbox")
    mgr.locator(f'#inbox tr[data-instance-id="{started["approve"]}"] td.col-task a').click()
    fill_field(mgr, "approved", True)
    mgr.click("#complete")
    mgr.wait_for_url(re.compile(r"/inbox$"))
    went = mgr.locator(".flash").filter(has_text=texts["waits"])
    expect(went).to_contain_text(texts["quality"])
    shot(mgr, "manager-back-in-inbox")
    assert fits(mgr), too_wide(mgr)

    # -- the quality department's counts follow without a reload ------------------------------------
    qa = browser_errors.watch(log_in(new_context, live_server, "qa1", viewport, lang))
    qa.goto("/inbox")
    expect(inbox_badge(qa, phone)).to_have_text("1")
    expect(qa.locator("#inbox-changed")).to_be_hidden()
    qa.evaluate("window.stillTheSamePage = true")
    deployed.complete("mgr1", ready(deployed, started["later"])["id"], {"approved": True})
    qa.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # what coming back to the tab does
    expect(inbox_badge(qa, phone)).to_have_text("2")
    expect(qa.locator("#inbox-changed")).to_be_visible()
    assert qa.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    shot(qa, "counts-refreshed")
    qa.locator("#inbox-changed a").click()
    expect(qa.locator("#inbox tbody tr")).to_have_count(2)

    # -- the quality approver approves and lands on the request's next task, theirs as well -------------
    qa.locator(f'#inbox tr[data-instance-id="{started["approve"]}"] td.col-task a').click()
    fill_field(qa, "approved", True)
    qa.click("#complete")
    sampling = ready(deployed, started["approve"])
    qa.wait_for_url(re.compile(rf"/tasks/{sampling['id']}$"))
    expect(qa.locator(".flash").filter(has_text=texts["yours"])).to_be_visible()
    expect(qa.locator("#complete")).to_be_visible()
    shot(qa, "straight-to-the-next-task")
    assert fits(qa), too_wide(qa)

    # -- the requester: where each request waits, and withdrawing one nobody decided on ---------------
    rep = browser_errors.watch(log_in(new_context, live_server, "rep1", viewport, lang))
    open_menu(rep)
    rep.click("#nav-mine")
    row = rep.locator(f'#search-results tr[data-instance-id="{started["withdraw"]}"]')
    expect(row.locator(".col-waiting")).to_contain_text(texts["waiting_for"])
    rep.wait_for_load_state()  # the rows are there before the stylesheets that fold them for a phone
    shot(rep, "my-requests")
    assert fits(rep), too_wide(rep)
    row.locator("td.col-task a").click()
    rep.locator("#end-instance summary").click()
    expect(rep.locator("#end-instance summary")).to_have_text(texts["withdraw"])
    rep.fill("#end-reason", "客户取消了投标" if lang == "zh" else "The customer called the bid off")
    rep.click("#end-button")
    expect(rep.locator("#status-outcome")).to_have_text(texts["withdrawn"])
    shot(rep, "withdrawn")
    open_menu(rep)
    rep.click("#nav-mine")
    expect(row.locator(".badge.outcome")).to_have_text(texts["withdrawn"])
    expect(row.locator("ul.waiting")).to_have_count(0)
    shot(rep, "my-requests-after-withdrawing")
    assert not browser_errors.messages, browser_errors.messages
