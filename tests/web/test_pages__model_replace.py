"""The modeler's deploy of a diagram that would replace an unrelated process under its id: refused with
what it would replace and a box to confirm it; deployed once the box is ticked. Editing a deployed
process in the modeler (steps renamed, the process renamed) deploys as before."""

from __future__ import annotations

from tests.web.test_pages__model import BPMN, owners, post_json, versions  # noqa: F401 - owners: fixture


def new_diagram_as(client, key: str) -> list[dict]:
    """/model/new's diagram given the id `key` and a step, named as the page names it (key + .bpmn)."""
    (new,) = client.get("/model/new/files.json").get_json()["files"]
    xml = new["content"].replace("new_process", key).replace(
        'name="开始" />', 'name="开始"><bpmn:outgoing>Flow_1x</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:endEvent id="Event_0k2"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="outcome" value="completed" /></camunda:properties></bpmn:extensionElements>'
        '<bpmn:incoming>Flow_1x</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="Flow_1x" sourceRef="start" targetRef="Event_0k2" />', 1)
    xml = xml.replace("<bpmn:flowNodeRef>start</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>Event_0k2</bpmn:flowNodeRef>")
    return [{"name": f"{key}.bpmn", "content": xml}]


def test_a_new_diagram_under_a_deployed_id_is_refused_with_the_diff_and_a_box_to_confirm(owners, pages):  # noqa: F811
    client = pages("po1")
    response = post_json(client, "/model/deploy", {"files": new_diagram_as(client, "sample_request"), "note": "新"})
    assert response.status_code == 409, response.get_json()
    body = response.get_json()
    assert body["error"] == "replaces_process"
    assert body["message"].startswith("此图将替换一个已部署的流程")  # the reader's language: Chinese first
    assert "“样品提供申请”（第 1 版，system 于 " in body["messages"]["zh"]
    html = body["html"]
    assert '<input type="checkbox" name="replace" value="sample_request">' in html
    assert "此图将替换“样品提供申请”" in html and "sales_approval" in html  # a step it would remove
    assert "属于“样品提供申请”（第 1 版，" in html and "删除 74 个" in html
    assert versions(owners) == [1]

    confirmed = post_json(client, "/model/deploy", {"files": new_diagram_as(client, "sample_request"), "note": "新",
                                                     "replace": ["sample_request"]})
    assert confirmed.status_code == 201, confirmed.get_json()
    assert [(d["key"], d["version"]) for d in confirmed.get_json()["deployed"]] == [("sample_request", 2)]


def test_the_refusal_speaks_english_on_the_switch(owners, pages):  # noqa: F811
    client = pages("po1")
    client.post("/language", {"lang": "en", "next": "/model"}, form_page="/inbox")
    body = post_json(client, "/model/deploy", {"files": new_diagram_as(client, "sample_request"), "note": "new"}
                     ).get_json()
    assert body["message"].startswith("The diagram would replace a deployed process")
    assert "This diagram would replace “样品提供申请”" in body["html"]
    assert "belongs to “样品提供申请” (version 1, deployed by " in body["html"]


def test_the_modelers_redeploy_of_a_version_it_opened_and_edited_is_no_replacement(owners, pages):  # noqa: F811
    client = pages("po1")
    files = client.get("/model/sample_request/1/files.json").get_json()["files"]
    for f in files:
        if f["name"] == BPMN:
            f["content"] = f["content"].replace('name="销售部审批"', 'name="销售部经理审批"').replace(
                'id="sample_request" name="样品提供申请"', 'id="sample_request" name="样品申请"')
    response = post_json(client, "/model/deploy", {"files": [{"name": f["name"], "content": f["content"]}
                                                             for f in files], "note": "改名"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["deployed"][0]["version"] == 2


def test_ticking_another_process_confirms_nothing(owners, pages):  # noqa: F811
    client = pages("po1")
    body = {"files": new_diagram_as(client, "sample_request"), "note": "新", "replace": ["customer_visit", 7]}
    assert post_json(client, "/model/deploy", body).status_code == 409
    assert versions(owners) == [1]
