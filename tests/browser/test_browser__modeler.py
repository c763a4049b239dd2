"""Issue 5, done when: a process owner opens the complaint process in the modeler, adds a user task in the
office lane with a form, sees a lint error until the form exists, deploys, and an instance started afterwards
reaches the new task while an instance of the previous version goes on unaffected until the owner migrates it
(Debian chromium; with SALESFLOW_SCREENSHOTS=1 screenshots of every step in test-artifacts/screenshots/<test>/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine import Engine
from tests.browser.conftest import ROOT
from tests.browser.modeler_helpers import ENGINE_RULE, SIZES, open_model, rename, snap, use_language
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
    # the same finding in the canvas lint, on the element it names
    on_canvas = page.locator(f'.djs-overlays[data-container-id="{NEW_TASK}"] li[data-rule="{ENGINE_RULE}"]')
    expect(on_canvas).to_have_count(1)
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
    expect(page.locator(f'.djs-overlays li[data-rule="{ENGINE_RULE}"]')).to_have_count(0)
    expect(page.locator("#deploy")).to_be_enabled()
    shot(page, "lint-clean")

    page.fill("#deploy-note", "每件投诉先由办公室初审")
    page.click("#deploy")
    expect(page.locator("#deploy-card")).to_have_attribute("data-state", "deployed", timeout=30_000)
    result = page.locator('#deploy-result .deployed[data-key="complaint"]')
    expect(result).to_have_attribute("data-version", "2")
    expect(result.locator(f'.diff-added li[data-id="{NEW_TASK}"]')).to_have_text("办公室初审")  # its name, not its id
    expect(result.locator(f'.diff-forms-added li[data-key="{NEW_FORM}"]')).to_have_count(1)
    shot(page, "deployed-with-diff")

    info = eng.versions("po1", "complaint")[0]
    assert (info["version"], info["deployed_by"], info["note"]) == (2, "po1", "每件投诉先由办公室初审")

    # a complaint registered now reaches the new task in the office's inbox; the old one is where it was
    new = eng.start("cs1", "complaint", dict(REGISTRATION))
    assert eng.instance("adm", new)["version"] == 2
    assert open_tasks(eng, new) == [NEW_TASK]
    office = open_as("off1", land=None)
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
    expect(page.locator(f'#confirm-list li[data-instance="{old}"]')).to_have_count(1)
    assert eng.instance("adm", old)["version"] == 1  # the button only asks
    page.click("#confirm-migrate")
    expect(page.locator("#migrate-result")).to_contain_text(f"#{old}")
    shot(page, "migrated")
    assert eng.instance("adm", old)["version"] == 2
    assert open_tasks(eng, old) == old_tasks
    assert all(result.ok for result in eng.verify_chains(old))
    assert browser_errors.messages == []


def test_bpmnlint_runs_in_the_browser_and_a_new_diagram_is_executable(complaint, open_as, shot, browser_errors):
    page = open_as("adm", land=None)
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


# -- issue 13: what process owners rely on, in zh and en, on a desktop and a phone ------------------------------
LEAVE = {"zh": "您的修改尚未部署", "en": "Your changes have not been deployed"}
VERSION = {"zh": "版本 {}", "en": "Version {}"}
NO_ISSUES = {"zh": "没有问题", "en": "No Issues"}
SALES_APPROVAL = {"zh": "销售部审批", "en": "Sales department approval"}  # the task's title in version 1
PALETTE = 146  # the canvas's left part the palette covers (modeler-page.js keeps the diagram clear of it)


@pytest.fixture(params=[(lang, size) for lang in ("zh", "en") for size in SIZES], ids=lambda p: f"{p[0]}-{p[1]}")
def owner_page(request, open_as):
    """A process owner's page in the given language and screen size: (page, lang, size)."""
    lang, size = request.param
    page = open_as("adm", land=None)
    page.set_viewport_size(SIZES[size])
    use_language(page, lang)
    return page, lang, size


def test_unsaved_edits_are_guarded_on_leaving_and_nothing_asks_when_nothing_changed(owner_page, browser_errors):
    page, lang, size = owner_page
    open_model(page, "/model/sample_request/1", lang)
    expect(page.locator("#model-page")).to_have_attribute("data-dirty", "false")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append((d.type, d.message)), d.dismiss()))

    rename(page, "sales_approval", "销售部审批（改）")
    expect(page.locator("#model-page")).to_have_attribute("data-dirty", "true")
    page.locator(".crumbs a").first.click()  # an in-app link: asks in the page's language, staying is the default
    page.wait_for_timeout(300)
    assert [(t, m[:len(LEAVE[lang])]) for t, m in dialogs] == [("confirm", LEAVE[lang])]
    assert page.url.endswith("/model/sample_request/1")
    snap(page, f"unsaved-guard-{lang}-{size}")

    # undoing the edit leaves nothing to lose: no question any more
    page.evaluate("() => window.salesflowModeler.get('commandStack').undo()")
    expect(page.locator("#model-page")).to_have_attribute("data-dirty", "false")
    page.locator(".crumbs a").first.click()
    page.wait_for_url("**/model")
    assert len(dialogs) == 1

    # closing the tab (or typing another address) with an edit: the browser's own beforeunload question
    open_model(page, "/model/sample_request/1", lang)
    page.locator("#canvas").click(position={"x": 200, "y": 40})  # beforeunload needs a user gesture first
    rename(page, "sales_approval", "销售部审批（改）")
    expect(page.locator("#model-page")).to_have_attribute("data-dirty", "true")
    with page.expect_event("dialog"):  # the question itself, rather than a fixed half second for it
        page.close(run_before_unload=True)
    assert dialogs[-1][0] == "beforeunload"
    assert browser_errors.messages == []


def test_engine_errors_show_on_the_canvas_and_its_lint_never_says_no_issues_meanwhile(owner_page, browser_errors):
    page, lang, size = owner_page
    open_model(page, "/model/sample_request/1", lang)
    button = page.locator("#canvas .bjsl-button")
    expect(button).to_contain_text(NO_ISSUES[lang])  # bpmnlint finds nothing in the shipped diagram
    page.evaluate("""() => { const m = window.salesflowModeler;
        m.get('modeling').updateProperties(m.get('elementRegistry').get('sales_approval'),
                                           {'camunda:formKey': 'no_such_form'}); }""")
    page.click("#check")
    expect(page.locator("#check-card")).to_have_attribute("data-state", "done", timeout=30_000)
    expect(page.locator('#problems li[data-element="sales_approval"][data-severity="error"]')).to_contain_text(
        "no_such_form")
    finding = page.locator(f'.djs-overlays[data-container-id="sales_approval"] li[data-rule="{ENGINE_RULE}"]')
    expect(finding).to_have_count(1)
    assert "no_such_form" in finding.text_content()
    expect(button).not_to_contain_text(NO_ISSUES[lang])
    expect(button).to_contain_text("1")
    expect(page.locator('#canvas .djs-element.has-problem-error[data-element-id="sales_approval"]')).to_have_count(1)
    # the problem list names the element by its name, not its id
    expect(page.locator('#problems li[data-element="sales_approval"] .where')).to_contain_text("销售部审批")
    snap(page, f"engine-findings-on-canvas-{lang}-{size}")

    page.evaluate("() => window.salesflowModeler.get('commandStack').undo()")
    page.click("#check")
    expect(page.locator("#check-card")).to_have_attribute("data-errors", "0", timeout=30_000)
    expect(page.locator(f'.djs-overlays li[data-rule="{ENGINE_RULE}"]')).to_have_count(0)
    expect(button).to_contain_text(NO_ISSUES[lang])
    assert browser_errors.messages == []


def test_the_diagram_opens_fit_to_the_viewport(owner_page, browser_errors):
    page, lang, size = owner_page
    open_model(page, "/model/sample_request/1", lang)
    view = page.evaluate("""() => { const c = window.salesflowModeler.get('canvas'); const b = c.viewbox();
        return {zoom: c.zoom(), x: b.x, y: b.y, width: b.width, height: b.height, inner: b.inner, outer: b.outer}; }""")
    inner, outer, zoom = view["inner"], view["outer"], view["zoom"]
    # the whole diagram is in view ...
    assert view["x"] <= inner["x"] and inner["x"] + inner["width"] <= view["x"] + view["width"] + 1
    assert view["y"] <= inner["y"] and inner["y"] + inner["height"] <= view["y"] + view["height"] + 1
    # ... and it fills the canvas beside the palette along one side (at most life size), not a quarter of it
    filled = max(inner["width"] * zoom / (outer["width"] - PALETTE), inner["height"] * zoom / (outer["height"] - 32))
    assert filled > 0.95 or zoom == 1, view
    if size == "desktop":
        assert zoom > 0.4, view
    snap(page, f"fit-to-viewport-{lang}-{size}")
    assert browser_errors.messages == []


def test_the_version_shown_is_the_new_one_after_deploying(owner_page, deployed, browser_errors):
    page, lang, size = owner_page
    open_model(page, "/model/sample_request/1", lang)
    expect(page.locator("#page-version")).to_have_text(VERSION[lang].format(1))
    rename(page, "sales_approval", "销售部经理审批")
    page.fill("#deploy-note", "改名")
    page.click("#deploy")
    expect(page.locator("#deploy-card")).to_have_attribute("data-state", "deployed", timeout=30_000)
    expect(page.locator("#page-version")).to_have_text(VERSION[lang].format(2))
    expect(page.locator("#model-page")).to_have_attribute("data-version", "2")
    assert page.url.endswith("/model/sample_request/2")
    assert VERSION[lang].format(2) in page.title()
    expect(page.locator("#model-page")).to_have_attribute("data-dirty", "false")  # deployed: nothing to lose
    snap(page, f"version-after-deploy-{lang}-{size}")
    assert deployed.versions("adm", "sample_request")[0]["version"] == 2
    page.reload()
    expect(page.locator("#page-version")).to_have_text(VERSION[lang].format(2))
    assert browser_errors.messages == []


def test_migration_lists_where_each_instance_stands_and_asks_before_moving(owner_page, deployed, browser_errors):
    page, lang, size = owner_page
    eng = deployed
    from tests.web.test_pages__model import SAMPLE_REQUEST

    waiting = [eng.start("rep1", "sample_request", dict(SAMPLE_REQUEST)) for _ in range(2)]
    open_model(page, "/model/sample_request/1", lang)
    rename(page, "sales_approval", "销售部经理审批")
    page.fill("#deploy-note", "改名")
    page.click("#deploy")
    expect(page.locator("#deploy-card")).to_have_attribute("data-state", "deployed", timeout=30_000)

    page.goto("/model/sample_request/migrate")
    for iid in waiting:
        row = page.locator(f'#plan tr[data-instance="{iid}"]')
        expect(row).to_have_attribute("data-movable", "true")
        expect(row.locator('.where li[data-task="sales_approval"]')).to_contain_text(SALES_APPROVAL[lang])
    snap(page, f"migration-plan-{lang}-{size}")
    page.click("#migrate")
    confirm = page.locator("#confirm-migration")
    expect(confirm).to_be_visible()
    expect(confirm.locator("#confirm-list > li")).to_have_count(len(waiting))
    assert {eng.instance("adm", iid)["version"] for iid in waiting} == {1}  # asking moved nothing
    snap(page, f"migration-confirm-{lang}-{size}")
    page.click("#cancel-migrate")
    expect(page.locator("#confirm-migration")).to_have_count(0)
    page.click("#migrate")
    page.click("#confirm-migrate")
    expect(page.locator("#migrate-result")).to_be_visible()
    assert {eng.instance("adm", iid)["version"] for iid in waiting} == {2}
    snap(page, f"migration-done-{lang}-{size}")
    assert browser_errors.messages == []
