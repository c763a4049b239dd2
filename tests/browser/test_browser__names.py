"""Issue 13 items 5 and 9 in chromium: an auditor reads a finished sample request's instance page,
history and report in Chinese and in English, on a desktop (1366 x 900) and a phone (390 x 844).

Gateways read as their question and the chosen flow's name, data as the forms' labels, people by
display name with the login id in the tooltip; no data name, element id or condition code shows.
Screenshots (SALESFLOW_SCREENSHOTS=1): test-artifacts/names/<lang>-<width>-<page>.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine import Engine
from tests.browser.conftest import log_in, screenshot
from tests.browser.viewports import open_menu
from tests.conftest import ROOT, add_users
from tests.scenarios import test_sample_request__paths as sample
from tests.scenarios.driver import PEOPLE

SHOTS = ROOT / "test-artifacts" / "names"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
DISPLAY = {"rep_mgr": "王建国", "mgr1": "李明", "qa1": "赵敏", "qa2": "陈静", "disp": "周杰", "aud": "孙审计"}
RAW = ("sample_route", "sales_approved_gateway", "approved == True", "customer_class", "process_key", "rep_mgr",
       "mgr1", "qa2")
WORDS = {
    "zh": {"gateway": "销售部同意？", "flow": "同意", "label": "客户类别", "value": "统销客户",
           "started": "发起了申请"},
    "en": {"gateway": "Sales department agrees?", "flow": "Approved", "label": "Customer class", "value": "Key account",
           "started": "started the request"},
}


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    """Overrides the P5/P6 fixture of tests/browser/conftest.py: every process of the repository, and
    the scenario tests' people, some with display names unlike their login ids."""
    engine.deploy("system", [ROOT / "processes", ROOT / "forms"])
    add = engine.add_user
    engine.add_user = lambda name, roles, password, display_name=None: add(  # type: ignore[method-assign]
        name, roles, password, display_name or DISPLAY.get(name))
    add_users(engine, PEOPLE)
    return engine


@pytest.fixture
def finished_sample(deployed: Engine, clock) -> int:
    sample.test_key_account_approved_all_the_way(deployed, clock)
    return next(i["id"] for i in deployed.search("aud", {"process": "sample_request"})["items"]
                if i["status"] == "completed")


def _login(new_context, live_server: str, browser_errors, viewport: dict, lang: str):
    context = new_context(base_url=live_server, viewport=viewport, locale="zh-CN" if lang == "zh" else "en-US")
    log_in(context, "aud")
    page = browser_errors.watch(context.new_page())
    if lang == "en":  # the switch is in the header of any page; the test goes to its own pages next
        page.goto("/inbox")
        open_menu(page)
        page.click('form.lang button[value="en"]')
        page.wait_for_load_state()
    return page


def _no_raw_names(page) -> None:
    text = page.locator("main").inner_text()
    assert not [raw for raw in RAW if raw in text], text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_auditor_reads_names_not_ids(new_context, live_server, browser_errors,
                                        finished_sample, lang) -> None:
    words = WORDS[lang]
    iid = finished_sample
    for viewport in VIEWPORTS.values():
        page = _login(new_context, live_server, browser_errors, viewport, lang)

        page.goto(f"/instances/{iid}")
        requester = page.locator(".facts .person-name")
        expect(requester).to_have_text(DISPLAY["rep_mgr"])
        expect(requester).to_have_attribute("title", "rep_mgr")  # the login id only in the tooltip
        expect(page.locator("#done-tasks")).to_contain_text(DISPLAY["mgr1"])
        expect(page.locator("dl.data").first).to_contain_text(words["label"])
        expect(page.locator("dl.data").first).to_contain_text(words["value"])
        _no_raw_names(page)
        screenshot(page, SHOTS / f"{lang}-{viewport['width']}-instance.png")

        page.goto(f"/instances/{iid}/history")
        expect(page.locator("#history-page")).to_have_attribute("data-ready", "true")
        # the gateway's question, and the chosen flow's name rather than its condition
        gateway = page.locator("#timeline li.kind-gateway_taken", has_text=words["gateway"])
        expect(gateway).to_have_count(1)
        expect(gateway.locator(".flow")).to_have_text(words["flow"])
        expect(page.locator("#timeline li.kind-started")).to_contain_text(words["started"])
        expect(page.locator('#timeline .person[title="mgr1"]').first).to_have_text(DISPLAY["mgr1"])
        _no_raw_names(page)
        screenshot(page, SHOTS / f"{lang}-{viewport['width']}-history.png")

        page.goto(f"/instances/{iid}/report")
        expect(page.locator("#report-facts")).to_contain_text(DISPLAY["rep_mgr"])
        _no_raw_names(page)
        screenshot(page, SHOTS / f"{lang}-{viewport['width']}-report.png")
        page.context.close()
    assert browser_errors.messages == []
