"""The bpmn-js viewer and the instance page's module (webui/frontend/src/pages/instance.js) in a real
browser, without the pages: a tiny Flask app serves webui/static, one HTML page under the application's
own CSP, and the engine's diagram() of a real P5 instance as JSON. What is drawn: completed elements, the
active task and the sequence flows taken between them; ids the diagram lacks are reported, a failed fetch
is shown."""

from __future__ import annotations

import re

import pytest
from flask import Flask, abort, jsonify
from playwright.sync_api import expect

from engine import Engine
from tests.browser.conftest import ROOT, serve
from webui import security

PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>diagram</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/dist/css/diagram-js.css">
<link rel="stylesheet" href="/static/dist/css/bpmn-js.css">
<link rel="stylesheet" href="/static/dist/css/bpmn-app.css">
</head><body>
<div id="diagram" data-diagram-url="{url}" style="height: 600px; border: 1px solid #ccc"></div>
<script type="module" src="/static/dist/js/pages/instance.js"></script>
</body></html>"""

FORM = {"customer_name": "合肥建工集团", "customer_class": "key_account", "product": "P·O 42.5 普通硅酸盐水泥",
        "spec": "袋装 50kg", "quantity": 100, "purpose": "project_bid",
        "delivery_address": "合肥市蜀山区长江西路 88 号工地", "wanted_by": "2026-03-20"}


def diagram_app(state: dict) -> Flask:
    app = Flask(__name__, static_folder=str(ROOT / "webui" / "static"), static_url_path="/static")
    app.after_request(security._headers)  # the application's CSP: no inline script may run

    @app.get("/page/<name>")
    def page(name: str) -> str:
        return PAGE.format(url=f"/{name}.json")

    @app.get("/diagram.json")
    def diagram():
        return jsonify(state)

    @app.get("/gone.json")
    def gone():
        abort(404)

    return app


@pytest.fixture
def sales_approved(deployed: Engine) -> tuple[Engine, int]:
    """A key-account sample request that the sales department approved: quality approval waits."""
    iid = deployed.start("rep1", "sample_request", FORM)
    task = next(t for t in deployed.inbox("mgr1") if t["name"] == "sales_approval")
    deployed.complete("mgr1", task["id"], {"approved": True, "comment": "同意"})
    return deployed, iid


def marker_of(page, element_id: str):
    return page.locator(f'#diagram .djs-element[data-element-id="{element_id}"]')


def test_viewer_marks_what_ran_what_waits_and_the_flows_taken(new_context, browser_errors, shot, sales_approved):
    eng, iid = sales_approved
    state = eng.diagram("rep1", iid)
    assert "quality_approval" in state["active"] and "sales_approval" in state["completed"]
    with serve(diagram_app(state)) as base:
        page = browser_errors.watch(new_context(base_url=base).new_page())
        page.goto("/page/diagram")
        expect(page.locator("#diagram")).to_have_attribute("data-rendered", "true")
        shot(page, "instance-diagram")

        expect(marker_of(page, "quality_approval")).to_have_class(_has("highlight-active"))
        for done in ("fill_request_form", "determine_route", "route_gateway", "sales_approval",
                     "sales_approved_gateway"):
            expect(marker_of(page, done)).to_have_class(_has("highlight-completed"))
        for untouched in ("rejected_by_sales", "quality_countersign", "leader_approval", "take_sample"):
            expect(marker_of(page, untouched)).not_to_have_class(_has("highlight-(completed|active)"))
        for taken in ("flow_start", "flow_route", "flow_route_key_account", "flow_sales_done", "flow_sales_approved"):
            expect(marker_of(page, taken)).to_have_class(_has("highlight-taken"))
        for other in ("flow_route_local", "flow_sales_rejected", "flow_quality_done"):
            expect(marker_of(page, other)).not_to_have_class(_has("highlight-taken"))

        # bpmn-js paints fill inline; the marker style must still win (it is !important)
        fill = marker_of(page, "quality_approval").locator(".djs-visual > :nth-child(1)").evaluate(
            "el => getComputedStyle(el).fill")
        assert fill == "rgb(255, 243, 205)"
        expect(page.locator("#diagram")).not_to_have_attribute("data-missing", _has("."))
    assert browser_errors.messages == []


def test_viewer_reports_ids_missing_from_the_diagram(new_context, browser_errors, sales_approved):
    eng, iid = sales_approved
    state = eng.diagram("rep1", iid)
    state["active"] = [*state["active"], "no_such_task"]
    with serve(diagram_app(state)) as base:
        page = browser_errors.watch(new_context(base_url=base).new_page())
        page.goto("/page/diagram")
        expect(page.locator("#diagram")).to_have_attribute("data-rendered", "true")
        expect(page.locator("#diagram")).to_have_attribute("data-missing", "no_such_task")
        expect(marker_of(page, "quality_approval")).to_have_class(_has("highlight-active"))
    assert browser_errors.messages == []


def test_a_failed_fetch_is_shown_instead_of_the_diagram(new_context, shot):
    with serve(diagram_app({})) as base:
        page = new_context(base_url=base).new_page()
        page.goto("/page/gone")
        expect(page.locator("#diagram")).to_have_attribute("data-error", "HTTP 404")
        expect(page.locator("#diagram .diagram-error")).to_be_visible()
        shot(page, "diagram-fetch-failed")


def _has(cls: str) -> re.Pattern:
    return re.compile(rf"(^|\s){cls}(\s|$)")
