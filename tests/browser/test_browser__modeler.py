"""Issue 5, done when: a process owner opens the complaint process in the modeler, adds a user task in the
office lane with a form, sees a lint error until the form exists, deploys, and an instance started afterwards
reaches the new task while an instance of the previous version goes on unaffected until the owner migrates it
(Debian chromium; screenshots of every step in test-artifacts/screenshots/<test>/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine import Engine
from tests.browser.conftest import ROOT
from tests.conftest import add_users

COMPLAINT = [ROOT / "processes" / "complaint.bpmn", *sorted((ROOT / "processes").glob("complaint_*.dmn")),
             *sorted((ROOT / "forms").glob("complaint_*.yaml"))]
REGISTRATION = {"customer_name": "合肥瑞丰装饰工程有限公司", "customer_class": "key_account",
                "customer_contact": "王工 13800000000", "complaint_kind": "service", "severity": "minor",
                "description": "业务员多次承诺送货时间未兑现", "complained_party": "销售一部 李强"}
NEW_TASK, NEW_FORM = "office_screening", "complaint_office_screening"
FORM_YAML = f"""key: {NEW_FORM}
title: {{zh: 办公室初审, en: Office screening}}
schema:
  type: object
  additionalProperties: false
  required: [screening_note]
  properties:
    screening_note: {{type: string, minLength: 1, maxLength: 2000}}
fields:
  - name: screening_note
    label: {{zh: 初审意见, en: Screening note}}
    widget: textarea
"""

# Through bpmn-js's own modeling API, as a person dragging the palette's user task into the office lane would:
# a user task in the office lane (the participant is its parent; bpmn-js files it under the lane by position),
# between the start event and the routing table, naming its form.
ADD_TASK = """([taskId, formKey]) => {
  const m = window.salesflowModeler;
  const registry = m.get('elementRegistry'), modeling = m.get('modeling'), factory = m.get('elementFactory');
  const office = registry.get('office');
  const x = office.x + 130, y = office.y + office.height / 2;
  const task = modeling.createShape(factory.createShape({type: 'bpmn:UserTask'}), {x, y},
                                    registry.get('complaint_participant'));
  modeling.updateProperties(task, {id: taskId, name: '办公室初审'});
  modeling.removeConnection(registry.get('flow_registered'));
  modeling.connect(registry.get('register_complaint'), task);
  modeling.connect(task, registry.get('determine_route'));
  modeling.updateProperties(task, {'camunda:formKey': formKey});
  return (office.businessObject.flowNodeRef || []).map(e => e.id);
}"""


@pytest.fixture
def complaint(deployed: Engine) -> Engine:
    found = deployed.deploy("system", COMPLAINT, note="P4 as in the repository")
    assert [(d.key, d.version, d.status) for d in found] == [("complaint", 1, "deployed")]
    add_users(deployed, {"cs1": ["customer_service"], "off1": ["office"], "po1": ["process_owner"]})
    return deployed


def open_tasks(eng: Engine, iid: int) -> list[str]:
    return sorted(t["name"] for t in eng.instance("adm", iid)["tasks"])


def test_a_process_owner_adds_a_task_with_its_form_deploys_and_new_instances_reach_it(
        complaint, open_as, shot, browser_errors):
    eng = complaint
    old = eng.start("cs1", "complaint", dict(REGISTRATION))
    old_tasks = open_tasks(eng, old)
    assert old_tasks and NEW_TASK not in old_tasks

    page = open_as("po1")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.click("#nav-model")
    row = page.locator('#process-complaint tr[data-version="1"]')
    expect(row.locator(".running")).to_have_text("1")
    shot(page, "versions")

    row.locator("a.open-version").click()
    expect(page.locator("#model-page")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator('#canvas [data-element-id="office"]')).to_have_count(1)
    expect(page.locator('#role-catalogue li[data-role="office"]')).to_contain_text("公司办公室")
    expect(page.locator('#form-keys li[data-key="complaint_office_decision"]')).to_have_count(1)
    shot(page, "modeler-opened")

    lane_members = page.evaluate(ADD_TASK, [NEW_TASK, NEW_FORM])
    assert NEW_TASK in lane_members
    expect(page.locator(f'#canvas [data-element-id="{NEW_TASK}"]')).to_have_count(1)

    # the check: the engine finds the missing form, on the list and on the diagram element; deploy is refused
    page.click("#check")
    expect(page.locator("#check-card")).to_have_attribute("data-state", "done", timeout=30_000)
    problem = page.locator(f'#problems li[data-element="{NEW_TASK}"][data-severity="error"]')
    expect(problem).to_contain_text(NEW_FORM)
    expect(page.locator(f'.model-problem-badge[data-element="{NEW_TASK}"]')).to_be_visible()
    expect(page.locator("#deploy")).to_be_disabled()
    problem.click()  # selects the task and scrolls the diagram to it
    expect(page.locator(f'#canvas .djs-element.selected[data-element-id="{NEW_TASK}"]')).to_have_count(1)
    shot(page, "lint-error-on-the-new-task")

    # the form, written in the forms tab with its live preview
    page.click("#tab-forms")
    page.fill("#new-form-key", NEW_FORM)
    page.click("#add-form")
    card = page.locator(f'.form-card[data-file="{NEW_FORM}.yaml"]')
    expect(card).to_have_attribute("data-preview-state", "done")
    card.locator("textarea.form-yaml").fill(FORM_YAML)
    expect(card.locator(".form-preview-box")).to_contain_text("初审意见")
    expect(card).to_have_attribute("data-errors", "0")
    expect(card.locator("#field-screening_note")).to_have_count(1)
    expect(page.locator(f'#form-keys li[data-key="{NEW_FORM}"]')).to_have_count(1)
    shot(page, "form-with-preview")

    page.click("#check")
    expect(page.locator("#check-card")).to_have_attribute("data-errors", "0", timeout=30_000)
    expect(page.locator('#problems li[data-severity="error"]')).to_have_count(0)
    expect(page.locator(".model-problem-badge.error")).to_have_count(0)
    expect(page.locator("#deploy")).to_be_enabled()
    shot(page, "lint-clean")

    page.fill("#deploy-note", "每件投诉先由办公室初审")
    page.click("#deploy")
    expect(page.locator("#deploy-card")).to_have_attribute("data-state", "deployed", timeout=30_000)
    result = page.locator('#deploy-result .deployed[data-key="complaint"]')
    expect(result).to_have_attribute("data-version", "2")
    expect(result.locator(".diff-added")).to_contain_text(NEW_TASK)
    expect(result.locator(".diff-forms-added")).to_contain_text(NEW_FORM)
    shot(page, "deployed-with-diff")

    info = eng.versions("po1", "complaint")[0]
    assert (info["version"], info["deployed_by"], info["note"]) == (2, "po1", "每件投诉先由办公室初审")

    # a complaint registered now reaches the new task in the office's inbox; the old one is where it was
    new = eng.start("cs1", "complaint", dict(REGISTRATION))
    assert eng.instance("adm", new)["version"] == 2
    assert open_tasks(eng, new) == [NEW_TASK]
    office = open_as("off1")
    office.set_viewport_size({"width": 1440, "height": 900})
    office.goto("/inbox")
    expect(office.locator("body")).to_contain_text("办公室初审")
    shot(office, "office-inbox-with-the-new-task")
    task = next(t for t in eng.inbox("off1") if t["name"] == NEW_TASK)
    office.goto(f"/tasks/{task['id']}")
    expect(office.locator("#field-screening_note")).to_be_visible()
    shot(office, "new-task-form")

    assert eng.instance("adm", old)["version"] == 1
    assert open_tasks(eng, old) == old_tasks
    page.goto("/model")
    expect(page.locator('#process-complaint tr[data-version="1"] .running')).to_have_text("1")
    expect(page.locator('#process-complaint tr[data-version="2"] .running')).to_have_text("1")
    shot(page, "versions-after-deploy")

    # until the owner migrates it: the dry run says it can move, one action moves it, its audit chain holds
    page.click("#process-complaint a.migrate-link")
    expect(page.locator(f'#plan tr[data-instance="{old}"]')).to_have_attribute("data-movable", "true")
    shot(page, "migration-dry-run")
    page.click("#migrate")
    expect(page.locator("#migrate-result")).to_contain_text(f"#{old}")
    shot(page, "migrated")
    assert eng.instance("adm", old)["version"] == 2
    assert open_tasks(eng, old) == old_tasks
    assert all(result.ok for result in eng.verify_chains(old))
    assert browser_errors.messages == []


def test_bpmnlint_runs_in_the_browser_and_a_new_diagram_is_executable(complaint, open_as, shot, browser_errors):
    page = open_as("adm")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/model/complaint/1")
    expect(page.locator("#model-page")).to_have_attribute("data-ready", "true", timeout=30_000)
    # bpmnlint's recommended rules: the two unnamed start events inside the complaint's sub-processes
    lint = page.locator("#bpmnlint-problems li.bpmnlint")
    expect(lint.first).to_be_visible()
    assert {lint.nth(i).get_attribute("data-element") for i in range(lint.count())} >= {"handling_start",
                                                                                         "response_start"}
    # the DMN tab: dmn-js opens the routing table
    page.click("#tab-dmn")
    expect(page.locator("#dmn-canvas")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("#dmn-canvas .tjs-table")).to_contain_text("quality_sales_manager")
    shot(page, "dmn-table")
    # files opened and left as they were go back byte for byte: deploying them makes no new version
    files = {f["name"]: f["content"] for f in page.evaluate("() => window.salesflowPage.collectFiles()")}
    assert files == {p.name: p.read_text(encoding="utf-8") for p in COMPLAINT}
    page.fill("#deploy-note", "nothing changed")
    page.click("#deploy")
    expect(page.locator("#deploy-card")).to_have_attribute("data-state", "deployed", timeout=30_000)
    expect(page.locator('#deploy-result .deployed[data-key="complaint"]')).to_have_attribute("data-status",
                                                                                             "unchanged")
    assert [v["version"] for v in complaint.versions("adm", "complaint")] == [1]

    page.goto("/model/new")
    expect(page.locator("#model-page")).to_have_attribute("data-ready", "true", timeout=30_000)
    executable = page.evaluate("""() => window.salesflowModeler.getDefinitions().rootElements
        .filter(e => e.$type === 'bpmn:Process').map(e => e.isExecutable)""")
    assert executable == [True]
    # a lane takes its id (and name) from the role catalogue: select it, then "use for lane"
    lane = page.evaluate("""() => {
        const lane = window.salesflowModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane')[0];
        window.salesflowModeler.get('selection').select(lane);
        return lane.id; }""")
    assert lane != "office"
    page.click('#role-catalogue li[data-role="office"] button.use-role')
    expect(page.locator('#canvas [data-element-id="office"]')).to_have_count(1)
    expect(page.locator(f'#canvas [data-element-id="{lane}"]')).to_have_count(0)
    shot(page, "new-diagram-lane-from-the-catalogue")
    assert browser_errors.messages == []
