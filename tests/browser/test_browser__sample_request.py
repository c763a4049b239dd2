"""A sample request (P5) through the real pages in a real browser: the sales rep starts it, the sales
manager finds it in the inbox, is stopped by the form's rule (a rejection needs a reason), switches to
English, approves it, and the instance page draws the diagram with bpmn-js: what ran, what waits now.
With SALESFLOW_SCREENSHOTS=1 every step leaves a screenshot in test-artifacts/screenshots/<test name>/."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import field_error, fill_field

REQUEST = {"customer_name": "合肥建工集团", "customer_class": "key_account", "product": "P·O 42.5 普通硅酸盐水泥",
           "spec": "袋装 50kg", "quantity": "100", "purpose": "project_bid",
           "delivery_address": "合肥市蜀山区长江西路 88 号工地", "wanted_by": "2026-03-20", "remarks": "投标急用"}
REASON_REQUIRED = "驳回时须填写驳回理由"
TASK_TITLES = {"sales_approval": "销售部审批"}
COMMENT_LABEL_EN = "Sales department comment (required when rejecting)"
# The selectors agreed for the pages first, then what the pages render today: either one passes.
START_LINK = 'a.start-process[data-key="{key}"], a[href$="/start/{key}"]'
LANG_EN = '#lang-en, button[name="lang"][value="en"]'


def has_class(name: str) -> re.Pattern:
    return re.compile(rf"(^|\s){name}(\s|$)")


def element(page, element_id: str):  # a Locator in the bpmn-js SVG
    return page.locator(f'#diagram .djs-element[data-element-id="{element_id}"]')


def inbox_rows(page, task_name: str):
    """Inbox rows of this task (BPMN element id). data-name on the row was agreed; while the page's rows carry
    only data-task-id, the row is found by the task's title instead."""
    page.wait_for_url(re.compile(r"/inbox"))
    page.wait_for_load_state()
    named = page.locator(f'tr.task-row[data-name="{task_name}"], tr[data-task-id][data-name="{task_name}"]')
    if named.count() or page.locator("tr[data-task-id][data-name]").count():
        return named
    return page.locator("tr[data-task-id]").filter(has_text=TASK_TITLES[task_name])


def assert_beside(page, field: str) -> None:
    """The field's error message is shown next to the field (within a line or two of it), not elsewhere."""
    box = page.locator(f'#field-{field}, [data-field="{field}"] fieldset').first.bounding_box()
    err = field_error(page, field).bounding_box()
    assert box and err, "field or its error message is not laid out"
    gap = max(err["y"] - (box["y"] + box["height"]), box["y"] - (err["y"] + err["height"]), 0)
    assert gap < 60, f"the error for {field} is {gap:.0f}px away from its field"


def test_sample_request_from_start_page_to_the_diagram(open_as, shot, browser_errors):
    # -- rep1 (sales_rep) starts a sample request from the start page -----------------------------------
    rep = open_as("rep1")
    rep.click("#nav-start")
    start_link = rep.locator(START_LINK.format(key="sample_request"))
    expect(start_link).to_be_visible()
    shot(rep, "rep1-start-page")
    start_link.click()
    for name, value in REQUEST.items():
        fill_field(rep, name, value)
    shot(rep, "rep1-start-form-filled")
    rep.click("#start")
    rep.wait_for_url(re.compile(r"/instances/\d+$"))
    instance_url = rep.url
    # it has left the rep: it waits for the sales department, and is not in the rep's own inbox
    expect(rep.locator("body")).to_contain_text("销售部审批")
    shot(rep, "rep1-request-started")
    rep.click("#nav-inbox")
    expect(inbox_rows(rep, "sales_approval")).to_have_count(0)
    shot(rep, "rep1-inbox-without-it")

    # -- mgr1 (sales_manager), in a browser context of its own, finds it in the inbox -------------------
    mgr = open_as("mgr1")
    mgr.click("#nav-inbox")
    row = inbox_rows(mgr, "sales_approval")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("合肥建工集团")
    task_id = row.get_attribute("data-task-id")
    shot(mgr, "mgr1-inbox")
    row.locator("a").first.click()
    mgr.wait_for_url(re.compile(rf"/tasks/{re.escape(task_id)}$"))
    shot(mgr, "mgr1-task")

    # -- a rejection without a reason is refused, with the message beside the comment field -------------
    fill_field(mgr, "approved", False)
    mgr.click("#complete")
    error = field_error(mgr, "comment")
    expect(error).to_have_text(REASON_REQUIRED)
    expect(error).to_be_visible()
    assert_beside(mgr, "comment")
    shot(mgr, "mgr1-reject-without-reason")

    # -- English labels after the language switch -----------------------------------------------------------
    mgr.click(LANG_EN)
    expect(mgr.locator('label[for="field-comment"]')).to_contain_text(COMMENT_LABEL_EN)
    expect(mgr.locator("html")).to_have_attribute("lang", "en")
    shot(mgr, "mgr1-task-in-english")

    # -- approved properly: the task leaves the inbox ----------------------------------------------------
    fill_field(mgr, "approved", True)
    fill_field(mgr, "comment", "Agreed: key account, project bid.")
    mgr.click("#complete")
    mgr.wait_for_url(re.compile(r"/inbox"))
    expect(mgr.locator(f'tr[data-task-id="{task_id}"]')).to_have_count(0)
    shot(mgr, "mgr1-inbox-after-approval")

    # -- the instance page: bpmn-js draws the diagram, quality approval waits, the path so far is marked -
    rep.goto(instance_url)
    diagram = rep.locator("#diagram")
    expect(diagram.locator("svg").first).to_be_visible()
    expect(element(rep, "quality_approval")).to_have_class(has_class("highlight-active"))
    for done in ("fill_request_form", "determine_route", "route_gateway", "sales_approval", "sales_approved_gateway"):
        expect(element(rep, done)).to_have_class(has_class("highlight-completed"))
    for flow in ("flow_route_key_account", "flow_sales_approved"):
        expect(element(rep, flow)).to_have_class(has_class("highlight-taken"))
    for untouched in ("quality_countersign", "rejected_by_sales", "take_sample"):
        expect(element(rep, untouched)).not_to_have_class(re.compile("highlight-"))
    shot(rep, "rep1-instance-diagram")

    assert browser_errors.messages == []
