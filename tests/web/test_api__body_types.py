"""Bodies the API does not read: a form-encoded (or any other non-JSON) POST is 415 naming the media type
it takes, malformed JSON is 400; every JSON POST, the modeler's too, is read by one reader (webui/api/body.py)."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import PASSWORD, ROOT
from tests.web.conftest import SAMPLE_REQUEST, csrf_token_in

NOT_JSON = [
    ("application/x-www-form-urlencoded", f"username=rep1&password={PASSWORD}"),
    ("multipart/form-data; boundary=b",
     '--b\r\nContent-Disposition: form-data; name="username"\r\n\r\nrep1\r\n--b--\r\n'),
    ("text/plain", '{"username": "rep1", "password": "x"}'),
    ("application/xml", "<token/>"),
]


@pytest.mark.parametrize(("content_type", "body"), NOT_JSON)
def test_a_token_request_that_is_not_json_gets_415_naming_the_type_it_takes(api, content_type, body):
    response = api().post("/tokens", data=body.encode(), content_type=content_type)
    assert response.status_code == 415
    answer = response.get_json()
    assert answer["error"] == "unsupported_media_type"
    assert "application/json" in answer["message"]
    assert content_type.split(";")[0] in answer["message"]


def test_a_form_encoded_token_request_gets_no_token_even_with_the_right_password(api):
    response = api().post("/tokens", data={"username": "rep1", "password": PASSWORD})  # what curl -d sends
    assert response.status_code == 415
    assert "token" not in response.get_json()


def test_json_under_a_json_type_or_without_a_type_is_read(api):
    body = f'{{"username": "rep1", "password": "{PASSWORD}"}}'.encode()
    for content_type in ("application/json", "application/json; charset=utf-8", "application/vnd.api+json", None):
        response = api().post("/tokens", data=body, content_type=content_type)
        assert response.status_code == 201, content_type


@pytest.mark.parametrize("raw", ["{", '{"username": "rep1",}', "[1, 2", "\xff"])
def test_malformed_json_gets_400(api, raw):
    response = api().post("/tokens", data=raw.encode("latin-1"), content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert "JSON" in response.get_json()["message"]


def test_every_json_post_of_the_api_refuses_a_form(api, engine):
    iid = engine.start("rep1", "sample_request", SAMPLE_REQUEST)
    task_id = engine.instance("rep1", iid)["tasks"][0]["id"]
    for user, path in (("rep1", "/processes/sample_request/instances"), ("mgr1", f"/tasks/{task_id}/complete"),
                       ("rep1", f"/instances/{iid}/cancel"), ("adm", "/deployments"), ("adm", "/incidents/1/cancel")):
        response = api(user).post(path, data={"data": "x"})
        assert response.status_code == 415, path
        assert response.get_json()["error"] == "unsupported_media_type"
    assert engine.instance("rep1", iid)["status"] == "running"  # nothing was done


def test_the_modeler_reads_its_json_the_same_way(pages):
    owner = pages("adm")
    token = csrf_token_in(owner.get("/model").get_data(as_text=True))
    form = owner.client.post("/model/lint", data={"files": "x"}, headers={"X-CSRFToken": token})
    assert form.status_code == 415
    assert form.get_json()["error"] == "unsupported_media_type"
    broken = owner.client.post("/model/lint", data="{", content_type="application/json",
                               headers={"X-CSRFToken": token})
    assert broken.status_code == 400
    assert broken.get_json()["error"] == "bad_request"


def test_the_document_says_which_operations_answer_415(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, ops in paths.items():
        for method, op in ops.items():
            assert ("415" in op["responses"]) == ("requestBody" in op), (path, method)


def test_no_handler_reads_a_body_but_through_the_shared_reader():
    """request.get_json / request.json / request.get_data appear only in webui/api/body.py."""
    readers = {"get_json", "json", "get_data", "data"}
    for source in (ROOT / "webui").rglob("*.py"):
        if source == ROOT / "webui" / "api" / "body.py":
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in readers and getattr(node.value, "id", "") == "request":
                raise AssertionError(f"{source.relative_to(ROOT)} reads request.{node.attr} itself")
