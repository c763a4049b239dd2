"""Rule changes (P13) on the pages and the API: with governance on, the modeler's deploy button submits for
approval, POST /api/v1/deployments answers 202 with the drafts, the versions list shows each version's status,
the submitter withdraws a pending change, the general manager's task links to what changes."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT, add_users
from tests.web.conftest import Pages
from tests.web.test_pages__model import BPMN, BPMN_TEXT, bundle, post_json

RENAMED = BPMN_TEXT.replace('name="销售部审批"', 'name="销售部经理审批"')
APPROVAL = [ROOT / "processes" / "rule_change.bpmn", *sorted((ROOT / "forms").glob("rule_change_*.yaml"))]


@pytest.fixture
def governed(app):
    """The web app with the approval process deployed, a process owner, a general manager, governance on."""
    eng = app.extensions["salesflow"]
    eng.deploy("system", APPROVAL)
    add_users(eng, {"po1": ["process_owner"], "gm1": ["general_manager"]})
    eng.set_governance("adm", True)
    return app


def statuses(app) -> dict[int, str]:
    return {v["version"]: v["status"] for v in app.extensions["salesflow"].versions("adm", "sample_request")}


def test_the_modeler_submits_for_approval_and_shows_the_pending_change(governed, pages):
    client = pages("po1")
    editor = client.get("/model/sample_request/1").get_data(as_text=True)
    assert "提交审批" in editor and 'id="governance-hint"' in editor
    response = post_json(client, "/model/deploy", {"files": bundle(**{BPMN: RENAMED}), "note": "审批环节改名"})
    assert response.status_code == 202, response.get_json()
    (draft,) = response.get_json()["deployed"]
    assert (draft["version"], draft["status"]) == (2, "draft") and draft["request_id"]
    assert 'data-status="draft"' in draft["html"] and "已提交总经理审批" in draft["html"]
    assert statuses(governed) == {2: "draft", 1: "active"}

    again = post_json(client, "/model/deploy", {"files": bundle(**{BPMN: BPMN_TEXT.replace(
        'name="销售部审批"', 'name="销售审批"')}), "note": "再改"})
    assert again.status_code == 409
    assert f"制度变更申请 {draft['request_id']}" in again.get_json()["message"]

    listing = client.get("/model").get_data(as_text=True)
    section = listing.split('id="process-sample_request"', 1)[1].split("</section>", 1)[0]
    rows = dict(re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', section, re.S))
    assert "待审批" in rows["2"] and "生效" in rows["1"]
    assert 'id="pending-changes"' in listing and "撤回该制度变更" in listing
    assert 'id="pending-change"' in client.get("/model/sample_request/1").get_data(as_text=True)


def test_the_submitter_withdraws_a_pending_change_from_the_versions_page(governed, pages):
    client = pages("po1")
    response = post_json(client, "/model/deploy", {"files": bundle(**{BPMN: RENAMED}), "note": "改名"})
    request_id = response.get_json()["deployed"][0]["request_id"]
    empty = client.post(f"/model/changes/{request_id}/withdraw", data={"reason": " "}, form_page="/model")
    assert empty.status_code == 302 and statuses(governed)[2] == "draft"
    done = client.post(f"/model/changes/{request_id}/withdraw", data={"reason": "还要再改"}, form_page="/model")
    assert done.status_code == 302
    assert statuses(governed) == {2: "withdrawn", 1: "active"}
    listing = client.get("/model").get_data(as_text=True)
    assert "已撤回" in listing and 'id="pending-changes"' not in listing


def test_the_general_managers_task_links_to_what_changes(governed, pages):
    response = post_json(pages("po1"), "/model/deploy", {"files": bundle(**{BPMN: RENAMED}), "note": "改名"})
    request_id = response.get_json()["deployed"][0]["request_id"]
    gm = pages("gm1")
    [task] = [t for t in governed.extensions["salesflow"].inbox("gm1") if t["instance_id"] == request_id]
    html = gm.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert "销售部审批 → 销售部经理审批" in html and "样品提供申请" in html
    assert 'href="/model/sample_request/2/changes"' in html
    changes = gm.get("/model/sample_request/2/changes")
    assert changes.status_code == 200 and "销售部经理审批" in changes.get_data(as_text=True)
    assert pages("rep1").get("/model/sample_request/2/changes").status_code == 403


def test_the_api_answers_202_for_drafts_and_201_for_an_emergency(governed, api):
    files = bundle(**{BPMN: RENAMED})
    submitted = api("adm").post("/deployments", json={"files": files, "emergency": True})
    assert submitted.status_code == 422 and "reason" in submitted.get_json()["fields"]
    emergency = api("adm").post("/deployments", json={"files": files, "emergency": True, "reason": "误派任务"})
    assert emergency.status_code == 201, emergency.get_json()
    (active,) = emergency.get_json()
    assert (active["version"], active["status"]) == (2, "deployed") and active["request_id"]
    assert statuses(governed) == {2: "active", 1: "active"}
    again = BPMN_TEXT.replace('name="销售部审批"', 'name="销售审批"')
    draft = api("adm").post("/deployments", json={"files": bundle(**{BPMN: again}), "note": "再改"})
    assert draft.status_code == 202
    assert [(d["version"], d["status"]) for d in draft.get_json()] == [(3, "draft")]
    assert api("adm").post("/deployments", json={"files": files, "emergency": "yes"}).status_code == 422


def test_the_governance_state_is_shown_on_the_versions_page(app, pages: Pages):
    listing = pages("adm").get("/model").get_data(as_text=True)
    assert 'data-on="off"' in listing and "立即生效" in listing
