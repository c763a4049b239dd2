"""POST /api/v1/deployments: a process owner validates and deploys a bundle, all or nothing."""

from __future__ import annotations

import pytest

from tests.web.conftest import SAMPLE_REQUEST, p5_p6_files


def bundle(**changes: str) -> list[dict]:
    """The P5/P6 files as the API takes them; `changes` maps a file name to new content."""
    files = [{"name": p.name, "content": p.read_text(encoding="utf-8")} for p in p5_p6_files()]
    return [{**f, "content": changes.get(f["name"], f["content"])} for f in files]


def sample_bpmn() -> str:
    return next(f["content"] for f in bundle() if f["name"] == "sample_request.bpmn")


def versions(api) -> dict[str, int]:
    return {p["key"]: p["version"] for p in api("adm").get("/processes").get_json()}


def test_deploying_an_unchanged_bundle_creates_no_version(api):
    response = api("adm").post("/deployments", json={"files": bundle()})
    assert response.status_code == 201
    assert sorted((d["key"], d["version"], d["status"]) for d in response.get_json()) == [
        ("customer_visit", 1, "unchanged"), ("sample_request", 1, "unchanged")]
    assert versions(api) == {"sample_request": 1, "customer_visit": 1}


def test_a_changed_process_becomes_a_new_version_and_running_instances_keep_theirs(api):
    running = api("rep1").start_sample()
    changed = sample_bpmn().replace("</bpmn:definitions>", "<!-- v2 -->\n</bpmn:definitions>")
    response = api("adm").post("/deployments", json={"files": bundle(**{"sample_request.bpmn": changed}),
                                                     "note": "comment added"})
    assert response.status_code == 201
    deployed = {d["key"]: d for d in response.get_json()}
    assert (deployed["sample_request"]["version"], deployed["sample_request"]["status"]) == (2, "deployed")
    assert len(deployed["sample_request"]["sha256"]) == 64
    assert deployed["customer_visit"]["status"] == "unchanged"
    assert versions(api) == {"sample_request": 2, "customer_visit": 1}
    assert api("rep1").start_sample()["version"] == 2
    assert api("rep1").get(f"/instances/{running['id']}").get_json()["version"] == 1


def test_invalid_files_get_422_with_each_files_problems_and_nothing_is_deployed(api):
    broken_bpmn = sample_bpmn().replace('camunda:formKey="sample_request_sales_approval"',
                                        'camunda:formKey="no_such_form"').replace("</bpmn:definitions>",
                                                                                  "<!-- v2 -->\n</bpmn:definitions>")
    files = bundle(**{"sample_request.bpmn": broken_bpmn,
                      "customer_visit_record.yaml": "key: customer_visit_record\nschema: [unclosed\n"})
    response = api("adm").post("/deployments", json={"files": files})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_definition"
    problems = body["problems"]
    assert {"sample_request.bpmn", "customer_visit_record.yaml"} <= {p["file"] for p in problems}
    assert all(set(p) == {"file", "element", "line", "message", "messages"} for p in problems)
    assert all(p["messages"]["en"] == p["message"] for p in problems)  # both languages beside the English
    [missing] = [p for p in problems if p["file"] == "sample_request.bpmn"]
    assert missing["element"] == "sales_approval"
    assert isinstance(missing["line"], int) and missing["line"] > 1
    assert "no_such_form" in missing["message"]
    assert "no_such_form" in missing["messages"]["zh"] and missing["messages"]["zh"] != missing["message"]
    [form] = [p for p in problems if p["file"] == "customer_visit_record.yaml"]
    assert form["messages"]["zh"].startswith("不是有效的 YAML") and form["message"].startswith("not valid YAML")
    assert versions(api) == {"sample_request": 1, "customer_visit": 1}



def test_a_diagram_the_parser_cannot_run_gets_422_with_located_problems_never_500(api):
    # from tests/fixtures/foreign: a DMN file with only a decision service once crashed the DMN parser
    from tests.conftest import ROOT

    dmn = ROOT / "tests/fixtures/foreign/spiffworkflow/dmn/data/dmn_version_test/v1_3_unsupported/financial.dmn"
    response = api("adm").post("/deployments", json={"files": [{"name": dmn.name,
                                                                "content": dmn.read_text(encoding="utf-8")}]})
    assert response.status_code == 422
    [problem] = response.get_json()["problems"]
    assert (problem["file"], problem["line"]) == ("financial.dmn", 1) and "decision table" in problem["message"]

def test_a_file_that_is_not_bpmn_dmn_or_a_form_is_a_problem(api):
    response = api("adm").post("/deployments", json={"files": [*bundle(), {"name": "notes.txt", "content": "hi"}]})
    assert response.status_code == 422
    assert response.get_json()["problems"] == [
        {"file": "notes.txt", "element": None, "line": None, "message": "not a .bpmn, .dmn or form (.yaml) file",
         "messages": {"zh": "不是 .bpmn、.dmn 或表单（.yaml）文件", "en": "not a .bpmn, .dmn or form (.yaml) file"}}]
    assert versions(api) == {"sample_request": 1, "customer_visit": 1}


@pytest.mark.parametrize("user", ["rep1", "mgr1", "aud"])
def test_only_a_process_owner_or_admin_deploys(api, user):
    changed = sample_bpmn().replace("</bpmn:definitions>", "<!-- v2 -->\n</bpmn:definitions>")
    response = api(user).post("/deployments", json={"files": bundle(**{"sample_request.bpmn": changed})})
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert versions(api) == {"sample_request": 1, "customer_visit": 1}


def test_someone_who_may_not_deploy_learns_nothing_about_the_files(api):
    """The right to deploy is checked before the files are: a sales rep gets 403, not the bundle's problems."""
    response = api("rep1").post("/deployments", json={"files": [{"name": "x.bpmn", "content": "<broken"}]})
    assert response.status_code == 403


@pytest.mark.parametrize("body, field", [
    ({}, "files"),
    ({"files": []}, "files"),
    ({"files": "sample_request.bpmn"}, "files"),
    ({"files": [{"name": "a.bpmn"}]}, "files[0]"),
    ({"files": [{"name": "", "content": ""}]}, "files[0]"),
    ({"files": [{"name": "a.bpmn", "content": b"x".hex()}, "a.dmn"]}, "files[1]"),
    ({"files": [{"name": "a" * 256 + ".bpmn", "content": "x"}]}, "files[0]"),
    ({"files": [{"name": "a.bpmn", "content": "x"}], "note": 5}, "note"),
])
def test_a_malformed_request_gets_422_naming_the_field(api, body, field):
    response = api("adm", {"Accept-Language": "en"}).post("/deployments", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert versions(api) == {"sample_request": 1, "customer_visit": 1}


def test_a_deployed_version_can_be_started_through_the_api(api):
    changed = sample_bpmn().replace("</bpmn:definitions>", "<!-- v2 -->\n</bpmn:definitions>")
    assert api("adm").post("/deployments", json={"files": bundle(**{"sample_request.bpmn": changed})}).status_code \
        == 201
    inst = api("rep1").post("/processes/sample_request/instances", json={"data": SAMPLE_REQUEST}).get_json()
    assert (inst["version"], inst["tasks"][0]["name"]) == (2, "sales_approval")
