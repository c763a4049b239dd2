"""Notifications in a real browser (Debian chromium), in Chinese and English, on a desktop (1366x900) and a
phone (390x844): a manager sees the bell count a new sample request raised, opens the list, follows the
notification to the task, finds it read and the bell at zero; a requester chooses e-mail in the settings.
Screenshots (SALESFLOW_SCREENSHOTS=1): test-artifacts/notify/<language>-<width>/."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.conftest import Shots, log_in
from tests.browser.viewports import open_menu
from tests.conftest import ROOT
from tests.web.conftest import SAMPLE_REQUEST

SHOTS = ROOT / "test-artifacts" / "notify"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
WORDS = {
    "zh": {"title": "新任务：销售部审批", "settings": "通知设置", "saved": "通知设置已保存",
           "all_read": "全部标为已读"},
    "en": {"title": "New task: Sales department approval", "settings": "Notification settings",
           "saved": "Your notification settings were saved", "all_read": "Mark all as read"},
}


@pytest.fixture
def opener(new_context: Callable, live_server: str, browser_errors) -> Callable:
    def _open(username: str, lang: str, viewport: dict):  # a playwright Page
        context = new_context(base_url=live_server, viewport=viewport, locale="zh-CN" if lang == "zh" else "en-US")
        log_in(context, username)
        page = browser_errors.watch(context.new_page())
        page.goto("/inbox")  # where the login form leads
        assert "/login" not in page.url, f"{username} could not log in"
        if lang == "en":
            open_menu(page)
            page.click("form.lang button[value=en]")
            page.wait_for_load_state()
        return page

    return _open


def fits(page) -> bool:
    """Nothing of the notifications runs off the right edge of the window."""
    return page.evaluate("""() => [...document.querySelectorAll('#main .notification, #main form, #main table')]
        .every(el => el.getBoundingClientRect().right <= window.innerWidth + 1)""")


@pytest.mark.parametrize("screen", list(VIEWPORTS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_bell_the_list_and_the_settings(deployed, opener, browser_errors, lang, screen):
    shot = Shots(SHOTS / f"{lang}-{VIEWPORTS[screen]['width']}")
    words = WORDS[lang]
    iid = deployed.start("rep1", "sample_request", dict(SAMPLE_REQUEST))

    mgr = opener("mgr1", lang, VIEWPORTS[screen])
    mgr.goto("/inbox")
    assert mgr.locator("#bell-count").inner_text() == "1"
    shot(mgr, "bell")

    open_menu(mgr)  # on a phone the bell sits in the folded header menu
    mgr.click("#nav-bell")
    mgr.wait_for_url("**/notifications")
    item = mgr.locator(".notification").first
    assert words["title"] in item.inner_text() and f"#{iid}" in item.inner_text()
    assert "unread" in item.get_attribute("class")
    assert words["all_read"] in mgr.locator("#read-all").inner_text()
    assert fits(mgr)
    shot(mgr, "list")

    item.locator("button.title").click()
    mgr.wait_for_url("**/tasks/**")
    assert mgr.locator("#bell-count").inner_text() == "0"
    shot(mgr, "task")
    mgr.goto("/notifications")
    assert "read" in mgr.locator(".notification").first.get_attribute("class").split()

    rep = opener("rep1", lang, VIEWPORTS[screen])
    open_menu(rep)
    rep.click("#nav-notify-settings")
    assert words["settings"] in rep.locator("h1").inner_text()
    assert not rep.locator("#decided-email").is_checked()  # no address: no e-mail
    rep.fill("#email", "rep1@example.com")
    rep.select_option("#lang", lang)
    rep.check("#decided-email")
    rep.uncheck("#overdue-in-app")
    rep.click("#save-notifications")
    rep.wait_for_load_state()
    assert words["saved"] in rep.locator(".flashes").inner_text()
    assert rep.locator("#decided-email").is_checked() and not rep.locator("#overdue-in-app").is_checked()
    assert fits(rep)
    shot(rep, "settings")
    prefs = deployed.notification_preferences("rep1")
    assert prefs["email"] == "rep1@example.com" and prefs["lang"] == lang
    assert browser_errors.messages == []
