"""Issue 11, finding 7 (edges) in the REST API: numbers JSON cannot hold, JSON nested ~1000 deep and
ids out of range used to be stored as Infinity or answered with 500. Each is now a clear 4xx."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.web.conftest import SAMPLE_REQUEST

START = "/processes/sample_request/instances"


def start_body(quantity: str) -> str:
    """A start request whose quantity is written exactly as given (json.dumps cannot write 1e400)."""
    return json.dumps({"data": {**SAMPLE_REQUEST, "quantity": 0}}).replace('"quantity": 0', f'"quantity": {quantity}')


def post_raw(client, path: str, text: str):
    return client.post(path, data=text.encode("utf-8"), content_type="application/json")


def instances_seen_by_the_auditor(api) -> int:
    return api("aud").get("/instances").get_json()["total"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_and_get_400(api, constant):
    response = post_raw(api("rep1"), START, start_body(constant))
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_request"
    assert constant.lstrip("-") in body["message"] and "JSON" in body["message"]
    assert instances_seen_by_the_auditor(api) == 0


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1E999"])
def test_a_number_too_large_for_a_double_gets_422_naming_the_field(api, number):
    """json.loads reads 1e400 as infinity, which used to be stored and break the auditor's history page."""
    response = post_raw(api("rep1"), START, start_body(number))
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"quantity": "须为有限的数字"}
    english = post_raw(api("rep1", {"Accept-Language": "en"}), START, start_body(number))
    assert english.get_json()["fields"] == {"quantity": "Must be a finite number"}
    assert instances_seen_by_the_auditor(api) == 0


def test_infinity_in_a_completion_gets_422_and_changes_nothing(api):
    started = api("rep1").start_sample()
    task_id = started["tasks"][0]["id"]
    before = api("rep1").get(f"/instances/{started['id']}/history").get_json()
    response = post_raw(api("mgr1"), f"/tasks/{task_id}/complete", '{"data": {"approved": true, "score": 1e400}}')
    assert response.status_code == 422 and set(response.get_json()["fields"]) == {"score"}
    assert api("rep1").get(f"/instances/{started['id']}/history").get_json() == before


def test_a_whole_number_beyond_2_53_gets_422_and_one_within_is_kept_exactly(api):
    # the sample quantity has a maximum of 1000 kg (issue 13): beyond it, and beyond 2**53, it is told as such
    response = post_raw(api("rep1", {"Accept-Language": "en"}), START, start_body(str(2**53 + 1)))
    assert response.status_code == 422
    assert response.get_json()["fields"]["quantity"] == "Must be at most 1000"
    kept = post_raw(api("rep1"), START, start_body("999.999"))
    assert kept.status_code == 201 and kept.get_json()["data"]["quantity"] == 999.999


@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_json_nested_deeper_than_64_levels_gets_400_with_a_clear_message(api, depth):
    for nested in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        response = post_raw(api("rep1"), START, '{"data": {"remarks": ' + nested + "}}")
        assert response.status_code == 400, depth
        assert "nested deeper than 64 levels" in response.get_json()["message"]
    token = post_raw(api(), "/tokens", '{"username": ' + "[" * depth + "]" * depth + "}")
    assert token.status_code == 400
    assert instances_seen_by_the_auditor(api) == 0


def test_nesting_within_the_limit_reaches_the_form_check(api):
    remarks = json.loads("[" * 60 + "]" * 60)  # 62 levels with the body and its data: within the limit
    response = api("rep1").post(START, json={"data": {**SAMPLE_REQUEST, "remarks": remarks}})
    assert response.status_code == 422 and set(response.get_json()["fields"]) == {"remarks"}  # not a text


OUT_OF_RANGE = ["99999999999999999999", str(2**31), "2147483648", "0", "１", "-1", "1e3"]


@pytest.mark.parametrize("iid", OUT_OF_RANGE)
def test_instance_ids_that_no_instance_can_have_get_404(api, iid):
    api("rep1").start_sample()  # instance 1 exists: "１" must not name it
    for path in (f"/instances/{iid}", f"/instances/{iid}/history", f"/instances/{iid}/replay",
                 f"/instances/{iid}/export"):
        response = api("aud").get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("task_id", ["not-a-uuid", "99999999999999999999", "%00", str(uuid.UUID(int=0)),
                                     "x" * 5000])
def test_task_ids_that_are_not_tasks_get_404(api, task_id):
    mgr = api("mgr1")
    assert mgr.get(f"/tasks/{task_id}").status_code == 404
    for action in ("claim", "unclaim", "complete"):
        response = mgr.post(f"/tasks/{task_id}/{action}", json={"data": {}})
        assert response.status_code == 404, action
        assert response.get_json()["error"] == "not_found"


def test_numbers_of_thousands_of_digits_are_4xx_not_500(api):
    """int() refuses more than 4,300 digits with a ValueError: every reader of digits bounds them first."""
    digits = "9" * 5000
    for path in (f"/tasks?limit={digits}", f"/tasks?offset={digits}", f"/instances?page={digits}",
                 f"/instances?per_page={digits}", f"/instances/1/replay?step={digits}"):
        assert api("aud").get(path).status_code in (404, 422), path
    assert post_raw(api("rep1"), START, start_body(digits)).status_code == 400  # not JSON we read
    assert post_raw(api("rep1"), START, start_body("9" * 4000)).status_code == 422  # out of range
