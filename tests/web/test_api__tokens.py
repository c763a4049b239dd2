"""POST /api/v1/tokens and the bearer tokens it gives: who gets one, and when a token stops working."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.store.models import Instance
from tests.web.conftest import PASSWORD, SAMPLE_REQUEST


def test_a_user_gets_a_token_that_authenticates_the_next_calls(api):
    response = api().post("/tokens", json={"username": "rep1", "password": PASSWORD})
    assert response.status_code == 201
    token = response.get_json()["token"]
    assert isinstance(token, str) and len(token) >= 32
    listed = api().get("/processes", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert {p["key"] for p in listed.get_json()} == {"sample_request", "customer_visit"}


def test_each_token_is_new(api):
    first = api().post("/tokens", json={"username": "rep1", "password": PASSWORD}).get_json()["token"]
    second = api().post("/tokens", json={"username": "rep1", "password": PASSWORD}).get_json()["token"]
    assert first != second


def test_a_wrong_password_or_an_unknown_user_gets_401(api):
    for body in ({"username": "rep1", "password": "password-2"}, {"username": "nobody", "password": PASSWORD}):
        response = api().post("/tokens", json=body)
        assert response.status_code == 401
        assert response.get_json() == {"error": "unauthorized", "message": "wrong user name or password"}
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_fields_get_422_with_each_field_named_in_chinese_by_default(api):
    response = api().post("/tokens", json={"username": "rep1"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_data"
    assert body["fields"] == {"password": "此项必填"}


def test_field_messages_follow_accept_language(api):
    response = api(headers={"Accept-Language": "en-US,en;q=0.9"}).post("/tokens", json={"username": 7})
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"username": "Must be a text", "password": "This field is required"}


def test_no_token_gets_401_with_a_bearer_challenge(api):
    response = api().get("/tasks")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="salesflow"'


def test_another_scheme_than_bearer_gets_401(api):
    response = api().get("/tasks", headers={"Authorization": "Basic cmVwMTpwYXNzd29yZC0x"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_forged_token_gets_401(api, api_token):
    real = api_token("rep1")
    for forged in ("forged-token", real[:-1] + ("A" if real[-1] != "A" else "B"), "x" * 43):
        response = api().get("/tasks", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401, forged
        assert response.get_json() == {"error": "unauthorized", "message": "invalid token"}
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_works_for_12_hours_and_then_gets_401(api, api_token, clock):
    rep = api("rep1")
    clock.advance(hours=11, minutes=59)
    assert rep.get("/tasks").status_code == 200
    clock.advance(minutes=2)
    expired = rep.get("/tasks")
    assert expired.status_code == 401
    assert expired.get_json() == {"error": "unauthorized", "message": "token expired"}
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    fresh = api().post("/tokens", json={"username": "rep1", "password": PASSWORD}).get_json()["token"]
    assert api().get("/tasks", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_the_expiry_is_12_hours_after_issue_not_after_last_use(api, clock):
    rep = api("rep1")
    for _ in range(2):
        clock.advance(hours=4)
        assert rep.get("/tasks").status_code == 200
    clock.advance(hours=4)  # 12 h after issue, though last used 4 h ago
    assert rep.get("/tasks").status_code == 401


def test_the_token_endpoint_needs_no_token(api):
    response = api().post("/tokens", json={"username": "mgr1", "password": PASSWORD},
                          headers={"Authorization": "Bearer forged"})
    assert response.status_code == 201


def test_commands_that_check_the_token_themselves_refuse_a_bad_one_and_change_nothing(api, engine, clock):
    """start, complete and claim check the token in their own transaction: a forged, expired or revoked
    token is still 401 there, and nothing of the command is saved."""
    rep = api("rep1")
    started = rep.start_sample()
    task = started["tasks"][0]
    forged = {"Authorization": "Bearer forged-token"}
    attempts = [("/processes/sample_request/instances", {"data": SAMPLE_REQUEST}),
                (f"/tasks/{task['id']}/complete", {"data": {}}), (f"/tasks/{task['id']}/claim", {})]
    for path, body in attempts:
        response = api().post(path, json=body, headers=forged)
        assert response.status_code == 401, path
        assert response.get_json() == {"error": "unauthorized", "message": "invalid token"}
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        assert api().post(path, json=body).status_code == 401  # no token at all
    clock.advance(hours=12, minutes=1)
    expired = rep.post(f"/tasks/{task['id']}/complete", json={"data": {}})
    assert expired.status_code == 401 and expired.get_json()["message"] == "token expired"
    fresh = api().post("/tokens", json={"username": "rep1", "password": PASSWORD}).get_json()["token"]
    engine.revoke_current_token(fresh)
    revoked = api().post("/processes/sample_request/instances", json={"data": SAMPLE_REQUEST},
                         headers={"Authorization": f"Bearer {fresh}"})
    assert revoked.status_code == 401
    with engine.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 1  # only the first start
    viewer = api().post("/tokens", json={"username": "rep1", "password": PASSWORD}).get_json()["token"]
    after = api().get(f"/instances/{started['id']}", headers={"Authorization": f"Bearer {viewer}"}).get_json()
    assert (after["tasks"], after["status"]) == (started["tasks"], started["status"])  # not claimed, not completed


def test_a_bad_token_is_401_before_anything_else_is_said_of_the_request(api):
    """The commands check the token late (in their transaction), but a request without a valid token still
    learns nothing else: a body that is not JSON, a missing field, an unknown task or process are all 401 for
    it, as for a request without a token; with a valid token they are what they are."""
    rep = api("rep1")
    task = rep.start_sample()["tasks"][0]
    forged = {"Authorization": "Bearer forged-token"}
    refused = [("/processes/sample_request/instances", {"data": "not an object"}),
               ("/processes/no_such_process/instances", {"data": {}}),
               (f"/tasks/{task['id']}/complete", {"data": ["a list"]}),
               ("/tasks/00000000-0000-4000-8000-000000000000/complete", {"data": {}}),
               (f"/tasks/{task['id']}/claim", None)]
    for path, body in refused:
        bad = api().post(path, json=body, headers=forged) if body is not None else \
            api().post(path, data="{not json", headers={**forged, "Content-Type": "application/json"})
        assert bad.status_code == 401, path
        assert bad.get_json()["error"] == "unauthorized"
        good = rep.post(path, json=body) if body is not None else \
            rep.post(path, data="{not json", headers={"Content-Type": "application/json"})
        assert good.status_code in (400, 403, 404, 422), (path, good.status_code)
