"""Phones and desktops: at 390 x 844 the header folds behind a menu button and the inbox is a list of
cards; at 390 and at 1366 x 900 the inbox, instance, task, history and "my requests" pages fit the
window without sideways scrolling, in Chinese and in English; the price list is a card per price on a phone.
Screenshots (SALESFLOW_SCREENSHOTS=1): test-artifacts/mobile/<lang>-<width>/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine import Engine
from tests.browser.conftest import Shots
from tests.browser.viewports import DESKTOP, PHONE, fits, log_in, open_menu, too_wide
from tests.conftest import FIXTURES, PASSWORD, ROOT
from tests.web.conftest import SAMPLE_REQUEST

ARTIFACTS = ROOT / "test-artifacts" / "mobile"
# long words and long customer names are what pushed the pages sideways
LONG = {**SAMPLE_REQUEST, "customer_name": "安徽省合肥市蜀山区长江西路建筑工程集团有限公司第三项目部（重点工程）",
        "delivery_address": "合肥市蜀山区长江西路88号工地" * 4, "remarks": "Urgent-bid-sample-" * 8}
PRICES = FIXTURES / "prices" / "list.csv"
TEXTS = {"zh": {"inbox": "待办", "mine": "我的申请"}, "en": {"inbox": "Inbox", "mine": "My requests"}}


@pytest.fixture
def requests_of_mine(deployed: Engine) -> dict:
    """`both` starts sample requests (a sales rep) and approves others' (a sales manager): one person
    whose inbox, tasks and own requests all have something on them."""
    deployed.add_user("both", ["sales_rep", "sales_manager"], PASSWORD, display_name="王经理")
    mine = deployed.start("both", "sample_request", LONG, business_key="SR-2026-LONG-0001")
    theirs = [deployed.start("rep1", "sample_request", {**LONG, "customer_name": f"客户 {n}"}) for n in range(3)]
    task = deployed.instance("rep1", theirs[0])["tasks"][0]["id"]
    return {"mine": mine, "theirs": theirs, "task": task}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1366x900"])
def test_the_pages_fit_the_window(new_context, live_server, requests_of_mine, browser_errors, lang, viewport):
    shot = Shots(ARTIFACTS / f"{lang}-{viewport['width']}")
    page = browser_errors.watch(log_in(new_context, live_server, "both", viewport, lang))
    phone = viewport is PHONE

    page.goto("/inbox")
    expect(page.locator("h1")).to_have_text(TEXTS[lang]["inbox"])
    cards = page.locator("#inbox tbody tr")
    expect(cards).to_have_count(3)
    if phone:
        header = page.locator(".topbar").bounding_box()
        assert header["height"] < 0.15 * viewport["height"], "the folded header takes too much of the screen"
        expect(page.locator("#nav-inbox")).to_be_hidden()
        assert cards.first.evaluate("tr => getComputedStyle(tr).display") == "block"  # a card, not a table row
        box = cards.first.bounding_box()
        assert box["width"] <= viewport["width"] and box["height"] > 60
        cell, title = (cards.first.locator(sel).bounding_box() for sel in ("td.col-task", "td.col-task a"))
        assert cell["width"] > 300 and title["height"] < 32, "the task name must read across, on one line"
        expect(cards.first.locator("button[name=claim]")).to_be_visible()
        shot(page, "inbox-cards")
        page.click("#menu-toggle")
        expect(page.locator("#nav-inbox")).to_be_visible()
        expect(page.locator("#menu-toggle")).to_have_attribute("aria-expanded", "true")
        shot(page, "menu-open")
        page.click("#menu-toggle")
        expect(page.locator("#nav-inbox")).to_be_hidden()
    else:
        expect(page.locator("#menu-toggle")).to_be_hidden()
        expect(page.locator("#nav-inbox")).to_be_visible()
        assert cards.first.evaluate("tr => getComputedStyle(tr).display") == "table-row"
        shot(page, "inbox")
    assert fits(page), f"the inbox scrolls sideways: {too_wide(page)}"

    for name, path in [("task", f"/tasks/{requests_of_mine['task']}"),
                       ("instance", f"/instances/{requests_of_mine['mine']}"),
                       ("history", f"/instances/{requests_of_mine['mine']}/history")]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        shot(page, name)
        assert fits(page), f"the {name} page scrolls sideways: {too_wide(page)}"

    open_menu(page)
    page.click("#nav-mine")
    expect(page.locator("h1")).to_have_text(TEXTS[lang]["mine"])
    row = page.locator(f'#search-results tr[data-instance-id="{requests_of_mine["mine"]}"]')
    expect(row.locator(".col-waiting")).to_be_visible()
    page.wait_for_load_state()  # the rows are there before the stylesheets that fold them for a phone
    shot(page, "my-requests")
    assert fits(page), f"my requests scroll sideways: {too_wide(page)}"
    assert not browser_errors.messages, browser_errors.messages


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1366x900"])
def test_the_price_list_reads_whole_on_a_phone(new_context, live_server, deployed, browser_errors, viewport):
    """A sales rep checks a list price at the customer's: on a phone each price is a card whose every
    figure is in sight (no column cut off at the window's edge); the director's form to end a price's
    validity fits too. On a desktop it stays a table."""
    deployed.add_user("dir1", ["sales_director"], PASSWORD, display_name="赵敏")
    deployed.import_prices("dir1", PRICES.read_bytes(), PRICES.name)
    page = browser_errors.watch(log_in(new_context, live_server, "dir1", viewport, "zh"))
    page.goto("/prices")
    rows = page.locator("#prices tbody tr")
    expect(rows.first).to_be_visible()
    page.wait_for_load_state()  # the rows are there before the stylesheets that fold them for a phone
    first = rows.first
    if viewport is PHONE:
        assert first.evaluate("tr => getComputedStyle(tr).display") == "block"  # a card, not a table row
        expect(first.locator("td[data-label='有效期至']")).to_be_visible()
        cells = first.locator("td")
        for i in range(cells.count()):
            box = cells.nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (
                f"a price's cell {i} is cut off: {box}")
        expect(first.locator("form.end-price button")).to_be_in_viewport()
    else:
        assert first.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    assert fits(page), f"the price list scrolls sideways: {too_wide(page)}"
    assert not browser_errors.messages, browser_errors.messages
