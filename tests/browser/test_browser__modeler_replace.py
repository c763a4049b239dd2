"""Issue 16: a new diagram given the id of a deployed process is refused on the deploy card, which shows what
it would replace and a box to confirm; ticked, the same deploy goes through (Debian chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.modeler_helpers import open_model, snap, use_language

REPLACE_LABEL = {"zh": "以此图替换“样品提供申请”（第 1 版）",
                 "en": "Replace “样品提供申请” (version 1) by this diagram"}

# the process id as the properties panel's id field sets it (one command on bpmn-js's stack)
SET_PROCESS_ID = """(key) => { const m = window.salesflowModeler;
    const participant = m.get('elementRegistry').filter(e => e.type === 'bpmn:Participant')[0];
    m.get('modeling').updateModdleProperties(participant, participant.businessObject.processRef, {id: key}); }"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_new_diagram_under_a_deployed_id_deploys_only_once_the_replacement_is_ticked(
        lang, open_as, deployed, browser_errors):
    page = open_as("adm", land=None)
    use_language(page, lang)
    open_model(page, "/model/new", lang)
    page.evaluate(SET_PROCESS_ID, "sample_request")
    page.fill("#deploy-note", "新图")
    page.click("#deploy")
    expect(page.locator("#deploy-card")).to_have_attribute("data-state", "refused", timeout=30_000)
    box = page.locator('#deploy-replace input[name="replace"][value="sample_request"]')
    expect(box).not_to_be_checked()
    expect(page.locator("#deploy-replace label.check")).to_have_text(REPLACE_LABEL[lang])
    expect(page.locator("#deploy-replace .diff-removed")).to_contain_text("销售部审批")  # by name, not id
    expect(page.locator("#deploy-replace .notice")).to_contain_text("样品提供申请")
    page.click("#deploy-replace details summary")  # what would change, folded until asked for
    expect(page.locator("#deploy")).to_be_enabled()
    snap(page, f"replace-confirm-{lang}")
    assert [v["version"] for v in deployed.versions("adm", "sample_request")] == [1]

    box.check()
    page.click("#deploy")
    expect(page.locator("#deploy-card")).to_have_attribute("data-state", "deployed", timeout=30_000)
    expect(page.locator("#deploy-replace input")).to_have_count(0)
    assert [v["version"] for v in deployed.versions("adm", "sample_request")] == [2, 1]
    # chromium logs the refused deploy's 409 as a failed load; nothing else may fail
    refused = [m for m in browser_errors.messages if "with a status of 409 (CONFLICT)" in m]
    assert len(refused) == 1 and browser_errors.messages == refused
