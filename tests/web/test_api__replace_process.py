"""POST /api/v1/deployments of a diagram that would replace an unrelated process under its id: 409
replaces_process naming the process and what would change, deployed once `replace` lists its id."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES
from tests.web.test_api__deployments import versions


def other_diagram() -> list[dict]:
    """A diagram drawn elsewhere, given the id of P5 (sample_request) and its file name."""
    text = (FIXTURES / "replacing" / "approval.bpmn").read_text(encoding="utf-8")
    text = text.replace('process id="approval" name="测试审批"', 'process id="sample_request" name="样品申请（新图）"')
    return [{"name": "sample_request.bpmn", "content": text}]


def test_a_replacing_deploy_is_refused_with_the_process_it_would_replace(api):
    response = api("adm").post("/deployments", json={"files": other_diagram(), "note": "新图"})
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "replaces_process"
    (replaced,) = body["replacing"]
    assert (replaced["key"], replaced["name"], replaced["version"], replaced["deployed_by"]) == (
        "sample_request", "样品提供申请", 1, "system")
    assert replaced["new_name"] == "样品申请（新图）" and replaced["diff"]["against"] == 1
    assert "sales_approval" in replaced["diff"]["removed"] and "StartEvent_1" in replaced["diff"]["added"]
    assert '"replace": ["sample_request"]' in body["message"] and body["message"] == body["messages"]["en"]
    assert "“样品提供申请”（第 1 版，system 于 " in body["messages"]["zh"]
    assert versions(api) == {"sample_request": 1, "customer_visit": 1}


def test_listing_its_id_in_replace_deploys_it(api):
    response = api("adm").post("/deployments", json={"files": other_diagram(), "replace": ["sample_request"]})
    assert response.status_code == 201, response.get_json()
    assert [(d["key"], d["version"], d["status"]) for d in response.get_json()] == [("sample_request", 2, "deployed")]


@pytest.mark.parametrize("replace", ["sample_request", [1], {"sample_request": True}])
def test_replace_must_be_a_list_of_ids(api, replace):
    response = api("adm", {"Accept-Language": "en"}).post("/deployments",
                                                          json={"files": other_diagram(), "replace": replace})
    assert response.status_code == 422
    assert "replace" in response.get_json()["fields"]
    assert versions(api) == {"sample_request": 1, "customer_visit": 1}
