"""The modeler and DMN modules that `make setup` builds from npm load under the application's CSP, export
their entry points, and open the repository's real P5 files (the BPMN modeler with the Camunda properties
panel and bpmnlint, the DMN modeler with its decision table)."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, serve
from webui import security

CSS = ["diagram-js.css", "bpmn-js.css", "bpmn-font/css/bpmn-embedded.css", "properties-panel.css",
       "bpmn-js-bpmnlint.css", "bpmn-app.css"]
DMN_CSS = ["dmn/diagram-js.css", "dmn/dmn-js-shared.css", "dmn/dmn-js-drd.css", "dmn/dmn-js-decision-table.css",
           "dmn/dmn-js-decision-table-controls.css", "dmn/dmn-font/css/dmn-embedded.css"]


def page_html(css: list[str], bundle: str) -> str:
    links = "".join(f'<link rel="stylesheet" href="/static/dist/css/{c}">' for c in css)
    return (f'<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">{links}</head><body>'
            '<div id="canvas" style="height: 500px; width: 900px; display: inline-block"></div>'
            '<div id="properties" style="width: 300px; display: inline-block; vertical-align: top"></div>'
            f'<script type="module" src="/static/dist/js/{bundle}"></script></body></html>')


def bundles_app() -> Flask:
    app = Flask(__name__, static_folder=str(ROOT / "webui" / "static"), static_url_path="/static")
    app.after_request(security._headers)
    app.add_url_rule("/modeler", "modeler", lambda: page_html(CSS, "modeler.js"))
    app.add_url_rule("/dmn", "dmn", lambda: page_html(DMN_CSS, "dmn.js"))
    return app


def test_bpmn_modeler_opens_a_real_process_with_properties_and_lint(new_context, browser_errors, shot):
    xml = (ROOT / "processes" / "sample_request.bpmn").read_text(encoding="utf-8")
    with serve(bundles_app()) as base:
        page = browser_errors.watch(new_context(base_url=base).new_page())
        page.goto("/modeler")
        result = page.evaluate("""async (xml) => {
            const { createModeler } = await import('/static/dist/js/modeler.js');
            const modeler = createModeler({
                container: document.getElementById('canvas'), propertiesParent: document.getElementById('properties')});
            const { warnings } = await modeler.importXML(xml);
            modeler.get('canvas').zoom('fit-viewport');
            const task = modeler.get('elementRegistry').get('sales_approval');
            const issues = await modeler.get('linting').lint();
            return { warnings: warnings.length, formKey: task.businessObject.get('camunda:formKey'),
                     errors: Object.values(issues).flat().filter(i => i.category === 'error').map(i => i.message) };
        }""", xml)
        assert result["warnings"] == 0
        assert result["formKey"] == "sample_request_sales_approval"
        assert result["errors"] == []
        # the Camunda 7 properties of the user task clicked on, its form key among them
        page.locator('#canvas .djs-element[data-element-id="sales_approval"]').click()
        expect(page.locator("#properties .bio-properties-panel-header")).to_contain_text("销售部审批")
        forms_group = page.locator('#properties [data-group-id="group-CamundaPlatform__Form"]')
        forms_group.locator(".bio-properties-panel-group-header").click()
        expect(page.locator("#properties input[name=formKey]")).to_have_value("sample_request_sales_approval")
        shot(page, "modeler")
    assert browser_errors.messages == []


def test_dmn_modeler_opens_a_real_decision_table(new_context, browser_errors, shot):
    xml = (ROOT / "processes" / "sample_routing.dmn").read_text(encoding="utf-8")
    with serve(bundles_app()) as base:
        page = browser_errors.watch(new_context(base_url=base).new_page())
        page.goto("/dmn")
        result = page.evaluate("""async (xml) => {
            const { createDmnModeler } = await import('/static/dist/js/dmn.js');
            const modeler = createDmnModeler({ container: document.getElementById('canvas') });
            const { warnings } = await modeler.importXML(xml);
            const table = modeler.getViews().find(v => v.type === 'decisionTable');
            await modeler.open(table);
            return { warnings: warnings.length, saved: (await modeler.saveXML()).xml.length };
        }""", xml)
        assert result["warnings"] == 0 and result["saved"] > 0
        expect(page.locator("#canvas .tjs-table tbody tr")).to_have_count(2)
        shot(page, "dmn-decision-table")
    assert browser_errors.messages == []
