"""Process owners' pages (issue 5): versions, the modeler's files, lint, form preview, deploy with its diff,
and the migration dry run. Only process owners and admins reach them; everyone else gets 403 and changes nothing."""

from __future__ import annotations

import re

import pytest

from engine import Engine
from tests.conftest import ROOT, add_users
from tests.web.conftest import SAMPLE_REQUEST, Pages, csrf_token_in

P5_FILES = [ROOT / "processes" / "sample_request.bpmn", ROOT / "processes" / "sample_routing.dmn",
            *sorted((ROOT / "forms").glob("sample_request_*.yaml"))]
BPMN = "sample_request.bpmn"
BPMN_TEXT = (ROOT / "processes" / BPMN).read_text(encoding="utf-8")

SCREENING_FORM = """key: sample_request_screening
title: {zh: 初审, en: Screening}
schema:
  type: object
  additionalProperties: false
  required: [screening_note]
  properties:
    screening_note: {type: string, minLength: 1, maxLength: 2000}
    urgent: {type: boolean}
fields:
  - name: screening_note
    label: {zh: 初审意见, en: Screening note}
    widget: textarea
  - name: urgent
    label: {zh: 是否加急, en: Urgent}
"""


@pytest.fixture
def owners(app):  # the Flask app with a plain process owner added
    add_users(app.extensions["salesflow"], {"po1": ["process_owner"]})
    return app


def bundle(**replaced: str) -> list[dict]:
    """The P5 bundle as the modeler posts it: [{name, content}], with some files' contents replaced."""
    files = [{"name": p.name, "content": p.read_text(encoding="utf-8")} for p in P5_FILES]
    for f in files:
        f["content"] = replaced.get(f["name"], f["content"])
    return files


def post_json(pages: Pages, path: str, body: dict):  # a test response
    """POST JSON as modeler-page.js does: the session's CSRF token in X-CSRFToken."""
    token = csrf_token_in(pages.get("/inbox").get_data(as_text=True))
    return pages.client.post(path, json=body, headers={"X-CSRFToken": token})


def versions(app, key: str = "sample_request") -> list[int]:
    return [v["version"] for v in app.extensions["salesflow"].versions("adm", key)]


# -- who may ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["rep1", "mgr1", "aud", "lead"])
def test_everyone_but_process_owners_and_admins_is_refused_and_changes_nothing(owners, pages, user):
    client = pages(user)
    for path in ("/model", "/model/new", "/model/sample_request/1", "/model/sample_request/1/changes",
                 "/model/sample_request/migrate"):
        assert client.get(path).status_code == 403, path
    for path in ("/model/sample_request/1/files.json", "/model/new/files.json"):
        response = client.get(path)
        assert response.status_code == 403 and response.get_json()["error"] == "forbidden", path
    assert post_json(client, "/model/lint", {"files": bundle()}).status_code == 403
    preview = post_json(client, "/model/form-preview", {"name": "x.yaml", "content": SCREENING_FORM})
    assert preview.status_code == 403
    changed = bundle(**{BPMN: BPMN_TEXT.replace('name="销售部审批"', 'name="销售审批"')})
    response = post_json(client, "/model/deploy", {"files": changed, "note": "not mine to change"})
    assert response.status_code == 403
    assert versions(owners) == [1]
    migrate = client.post("/model/sample_request/migrate",
                          data={"csrf_token": csrf_token_in(client.get("/inbox").get_data(as_text=True)), "to": "1"})
    assert migrate.status_code == 403
    assert 'id="nav-model"' not in client.get("/inbox").get_data(as_text=True)


def test_a_visitor_without_a_session_is_sent_to_log_in(owners, pages):
    client = pages()
    assert client.get("/model").status_code == 302 and "/login" in client.get("/model").location
    assert client.get("/model/sample_request/1/files.json").status_code == 401
    assert client.client.post("/model/lint", json={"files": bundle()}).status_code in (400, 401)  # no CSRF, no session


@pytest.mark.parametrize("user", ["adm", "po1"])
def test_process_owners_and_admins_reach_every_page(owners, pages, user):
    client = pages(user)
    assert 'id="nav-model"' in client.get("/inbox").get_data(as_text=True)
    for path in ("/model", "/model/new", "/model/sample_request/1", "/model/sample_request/1/changes",
                 "/model/sample_request/migrate", "/model/sample_request/1/files.json", "/model/new/files.json"):
        assert client.get(path).status_code == 200, path
    assert client.get("/model/sample_request/9").status_code == 404
    assert client.get("/model/no_such_process/1").status_code == 404


# -- versions ------------------------------------------------------------------------------------------------


def test_the_versions_page_lists_each_version_with_its_author_note_and_instances(owners, pages):
    eng: Engine = owners.extensions["salesflow"]
    first = eng.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
    eng.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
    eng.cancel("rep1", first, "entered twice")
    changed = bundle(**{BPMN: BPMN_TEXT.replace('name="销售部审批"', 'name="销售部经理审批"')})
    response = post_json(pages("po1"), "/model/deploy", {"files": changed, "note": "审批环节改名"})
    assert response.status_code == 201, response.get_json()

    html = pages("adm").get("/model").get_data(as_text=True)
    section = html.split('id="process-sample_request"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', section, re.S)
    assert [v for v, _ in rows] == ["2", "1"]  # newest first
    v2, v1 = rows[0][1], rows[1][1]
    assert "po1" in v2 and "审批环节改名" in v2
    assert re.search(r'class="running">0</span> / <span class="total">0<', v2)
    assert re.search(r'class="running">1</span> / <span class="total">2<', v1)  # one cancelled, one running
    assert 'href="/model/sample_request/2"' in v2 and 'href="/model/sample_request/1"' in v1
    assert 'href="/model/new"' in html
    assert 'href="/model/sample_request/migrate"' in section
    assert 'id="process-customer_visit"' in html


# -- the modeler page and its files ---------------------------------------------------------------------------


def test_the_modeler_page_carries_the_catalogue_and_loads_its_files_by_script(owners, pages):
    client = pages("adm")
    html = client.get("/model/sample_request/1").get_data(as_text=True)
    assert 'data-files-url="/model/sample_request/1/files.json"' in html
    for script in re.findall(r"<script[^>]*>", html):
        assert "src=" in script, f"inline script (the CSP refuses it): {script}"
    # one module: it imports the modeler, the DMN and forms tabs (dmn-js only when the DMN tab opens)
    assert '<script type="module" src="/static/dist/js/pages/model-editor.js"></script>' in html
    catalogue = html.split('id="role-catalogue"', 1)[1].split("</ul>", 1)[0]
    roles = owners.extensions["salesflow"].roles()
    for role in ("sales_rep", "sales_manager", "office", "quality"):
        assert f'data-role="{role}"' in catalogue and roles[role].zh in catalogue and roles[role].en in catalogue
    assert 'data-role="admin"' not in catalogue  # application roles are no lanes

    files = client.get("/model/sample_request/1/files.json").get_json()["files"]
    by_name = {f["name"]: f for f in files}
    assert set(by_name) == {p.name for p in P5_FILES}
    assert by_name[BPMN]["kind"] == "bpmn" and by_name["sample_routing.dmn"]["kind"] == "dmn"
    assert by_name["sample_request_apply.yaml"]["kind"] == "form"
    for p in P5_FILES:
        assert by_name[p.name]["content"] == p.read_text(encoding="utf-8")


def test_a_new_diagram_is_an_executable_process_in_a_lane_of_the_catalogue(owners, pages):
    client = pages("po1")
    assert 'data-new="true"' in client.get("/model/new").get_data(as_text=True)
    (new,) = client.get("/model/new/files.json").get_json()["files"]
    assert new["kind"] == "bpmn" and new["name"].endswith(".bpmn")
    assert re.search(r'<bpmn:process id="[a-z_]+"[^>]*isExecutable="true"', new["content"])
    lane = re.search(r'<bpmn:lane id="([a-z_]+)"', new["content"]).group(1)
    assert lane in owners.extensions["salesflow"].roles()
    problems = post_json(client, "/model/lint", {"files": [new]}).get_json()["problems"]
    assert not [p for p in problems if "executable" in p["message"] or "lane" in p["message"]], problems


# -- lint ------------------------------------------------------------------------------------------------------


def test_lint_names_file_and_element_of_each_problem(owners, pages):
    client = pages("adm")
    clean = post_json(client, "/model/lint", {"files": bundle()})
    assert clean.status_code == 200
    assert clean.get_json()["errors"] == 0, clean.get_json()

    unknown_lane = BPMN_TEXT.replace('<bpmn:lane id="dispatcher"', '<bpmn:lane id="shipping_clerk"').replace(
        'bpmnElement="dispatcher"', 'bpmnElement="shipping_clerk"')
    body = post_json(client, "/model/lint", {"files": bundle(**{BPMN: unknown_lane})}).get_json()
    lane_problems = [p for p in body["problems"] if p["element"] == "shipping_clerk"]
    assert lane_problems and lane_problems[0]["file"] == BPMN and lane_problems[0]["severity"] == "error"
    assert body["errors"] >= 1

    no_form = BPMN_TEXT.replace('camunda:formKey="sample_request_dispatch"', 'camunda:formKey="sample_request_route"')
    body = post_json(client, "/model/lint", {"files": bundle(**{BPMN: no_form})}).get_json()
    assert any(p["element"] == "dispatch_ship" and "sample_request_route" in p["message"] and p["severity"] == "error"
               for p in body["problems"]), body["problems"]

    broken = post_json(client, "/model/lint", {"files": bundle(**{BPMN: BPMN_TEXT[:500]})}).get_json()
    assert any(p["file"] == BPMN and p["severity"] == "error" for p in broken["problems"]), broken
    assert versions(owners) == [1]  # lint deploys nothing


def test_lint_refuses_a_file_that_is_no_bpmn_dmn_or_form(owners, pages):
    response = post_json(pages("adm"), "/model/lint", {"files": [{"name": "notes.txt", "content": "hello"}]})
    assert response.status_code == 422
    assert response.get_json()["problems"][0]["file"] == "notes.txt"
    assert post_json(pages("adm"), "/model/lint", {"files": []}).status_code == 422


# -- form preview ------------------------------------------------------------------------------------------------


def test_the_preview_renders_a_form_as_its_task_page_would(owners, pages):
    body = post_json(pages("adm"), "/model/form-preview",
                     {"name": "sample_request_screening.yaml", "content": SCREENING_FORM}).get_json()
    assert body["problems"] == [] and body["key"] == "sample_request_screening"
    html = body["html"]
    assert "初审" in html and "初审意见" in html and "是否加急" in html
    assert 'id="field-screening_note"' in html and "<textarea" in html
    assert 'name="data.urgent"' in html and 'type="radio"' in html


def test_the_preview_returns_the_problems_of_a_broken_form(owners, pages):
    client = pages("adm")
    missing_field = SCREENING_FORM.replace("  - name: urgent\n    label: {zh: 是否加急, en: Urgent}\n", "")
    body = post_json(client, "/model/form-preview",
                     {"name": "sample_request_screening.yaml", "content": missing_field}).get_json()
    assert any("urgent" in p["message"] and p["file"] == "sample_request_screening.yaml" for p in body["problems"])

    not_yaml = post_json(client, "/model/form-preview",
                         {"name": "bad.yaml", "content": "key: [unclosed\ntitle: x\n"}).get_json()
    assert not_yaml["html"] is None
    assert not_yaml["problems"] and not_yaml["problems"][0]["line"], not_yaml

    bad_name = post_json(client, "/model/form-preview", {"name": "form.txt", "content": SCREENING_FORM})
    assert bad_name.status_code == 422


# -- deploy -------------------------------------------------------------------------------------------------------


def test_deploy_makes_a_new_version_and_shows_what_changed(owners, pages):
    client = pages("adm")
    renamed = BPMN_TEXT.replace('name="销售部审批"', 'name="销售部经理审批"')
    files = bundle(**{BPMN: renamed}) + [{"name": "sample_request_screening.yaml", "content": SCREENING_FORM}]
    response = post_json(client, "/model/deploy", {"files": files, "note": "销售审批改名"})
    assert response.status_code == 201, response.get_json()
    (deployed,) = response.get_json()["deployed"]
    assert (deployed["key"], deployed["version"], deployed["status"]) == ("sample_request", 2, "deployed")
    diff = deployed["diff"]
    assert diff["against"] == 1
    assert {"id": "sales_approval", "from": "销售部审批", "to": "销售部经理审批"} in diff["renamed"]
    assert deployed["url"] == "/model/sample_request/2"
    assert "sales_approval" in deployed["html"] and "销售部经理审批" in deployed["html"]
    assert 'data-version="2"' in deployed["html"] and 'data-status="deployed"' in deployed["html"]

    info = owners.extensions["salesflow"].versions("adm", "sample_request")[0]
    assert (info["version"], info["deployed_by"], info["note"]) == (2, "adm", "销售审批改名")
    page = client.get("/model/sample_request/2/changes").get_data(as_text=True)
    assert "销售部经理审批" in page and "销售审批改名" in page

    again = post_json(client, "/model/deploy", {"files": files, "note": "same again"}).get_json()["deployed"]
    assert [(d["version"], d["status"], d["diff"]) for d in again] == [(2, "unchanged", None)]


def test_deploy_is_refused_while_an_error_remains(owners, pages):
    client = pages("adm")
    no_form = BPMN_TEXT.replace('camunda:formKey="sample_request_dispatch"', 'camunda:formKey="sample_request_route"')
    response = post_json(client, "/model/deploy", {"files": bundle(**{BPMN: no_form}), "note": "broken"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_definition"
    assert any(p["element"] == "dispatch_ship" and p["file"] == BPMN for p in body["problems"])
    assert versions(owners) == [1]


# -- migration ----------------------------------------------------------------------------------------------------


def test_the_migrate_page_shows_the_engines_dry_run_and_migrates_the_movable(owners, pages):
    eng: Engine = owners.extensions["salesflow"]
    waiting = [eng.start("rep1", "sample_request", dict(SAMPLE_REQUEST)) for _ in range(2)]
    renamed = BPMN_TEXT.replace('name="销售部审批"', 'name="销售部经理审批"')
    assert post_json(pages("adm"), "/model/deploy", {"files": bundle(**{BPMN: renamed}), "note": "rename"}
                     ).status_code == 201
    client = pages("po1")
    html = client.get("/model/sample_request/migrate").get_data(as_text=True)
    plan = eng.migration_plan("po1", "sample_request", 2)
    assert {p["instance_id"] for p in plan} == set(waiting)
    rows = dict(re.findall(r'<tr data-instance="(\d+)" data-movable="(true|false)"', html))
    assert rows == {str(p["instance_id"]): ("true" if p["movable"] else "false") for p in plan}
    movable = [p["instance_id"] for p in plan if p["movable"]]
    assert movable, "renaming a task keeps instances waiting there movable"
    assert 'id="migrate"' in html
    # each instance with the task it waits at (by its title) and who started it (by display name)
    assert html.count('data-task="sales_approval"') == len(waiting) and "销售部审批" in html  # v1 title, where it is

    # the button asks first: the instances that will move are listed again, nothing moves yet
    confirm = client.get("/model/sample_request/migrate?to=2&confirm=1").get_data(as_text=True)
    listed = re.findall(r'<li data-instance="(\d+)"', confirm.split('id="confirm-list"', 1)[1])
    assert sorted(map(int, listed)) == sorted(movable)
    token = csrf_token_in(confirm)
    unconfirmed = client.post("/model/sample_request/migrate", data={"csrf_token": token, "to": "2"})
    assert unconfirmed.status_code == 200 and 'id="confirm-migration"' in unconfirmed.get_data(as_text=True)
    assert all(eng.instance("adm", iid)["version"] == 1 for iid in waiting)

    result = client.post("/model/sample_request/migrate", data={"csrf_token": token, "to": "2", "confirmed": "yes"})
    assert result.status_code == 200
    page = result.get_data(as_text=True)
    assert 'id="migrate-result"' in page
    for iid in movable:
        assert f'href="/instances/{iid}"' in page.split('id="migrate-result"', 1)[1]
        assert eng.instance("adm", iid)["version"] == 2
    assert 'id="plan-empty"' in page  # nothing left on an older version


def test_the_migrate_page_refuses_an_unknown_target(owners, pages):
    assert pages("adm").get("/model/sample_request/migrate?to=7").status_code == 404



def test_the_model_pages_speak_chinese_first_and_english_on_the_switch(owners, pages):
    client = pages("adm")
    zh = client.get("/model").get_data(as_text=True)
    assert "流程建模" in zh and "新建流程图" in zh and "在建模器中打开" in zh
    editor = client.get("/model/sample_request/1").get_data(as_text=True)
    assert "检查全部文件" in editor and "部署为新版本" in editor and "角色（泳道 id）" in editor
    client.post("/language", {"lang": "en", "next": "/model"}, form_page="/inbox")
    en = client.get("/model").get_data(as_text=True)
    assert "Process models" in en and "New diagram" in en and "流程建模" not in en
    editor = client.get("/model/sample_request/1").get_data(as_text=True)
    assert "Check all files" in editor and "Deploy as a new version" in editor


def test_lint_answers_every_public_diagram_with_located_findings_never_a_server_error(owners, pages):
    # the files that once crashed the DMN parser or passed its raw exception text on (issue 16)
    foreign = ROOT / "tests" / "fixtures" / "foreign"
    client = pages("adm")
    for path in [foreign / "spiffworkflow/dmn/data/dmn_version_test/v1_3_unsupported/financial.dmn",
                 foreign / "camunda-bpm-examples/servicetask/rest-service/invokeRestService.bpmn"]:
        response = post_json(client, "/model/lint", {"files": [{"name": path.name,
                                                                 "content": path.read_text(encoding="utf-8")}]})
        assert response.status_code == 200, path
        errors = [p for p in response.get_json()["problems"] if p["severity"] == "error"]
        assert errors and all(p["file"] == path.name and (p["element"] or p["line"]) for p in errors), errors
        assert not any("Error:" in p["message"] or "Traceback" in p["message"] for p in errors), errors
