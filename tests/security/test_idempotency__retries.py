"""Issue 11, finding 8: a start retried after a lost answer made a second instance (seen in the load
run). With an Idempotency-Key, start, complete and claim run once per key: a retry with the same key
and body gets the first answer (status, body, Location), another body is 422, keys are each user's
own and expire after SALESFLOW_IDEMPOTENCY_HOURS (24 by default)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.store.models import IdempotencyKey
from tests.web.conftest import SAMPLE_REQUEST

START = "/processes/sample_request/instances"


def start(api, user: str = "rep1", key: str | None = "order-7781", **changes: object):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api(user).post(START, json={"data": {**SAMPLE_REQUEST, **changes}}, headers=headers)


def instance_count(engine) -> int:
    return engine.search("aud")["total"]


def test_a_start_retried_with_the_same_key_starts_one_instance_and_answers_the_same(api, engine):
    first = start(api)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    api("mgr1").post(f"/tasks/{first.get_json()['tasks'][0]['id']}/claim")  # the instance moves on meanwhile
    again = start(api)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()  # the first answer, not today's state
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert instance_count(engine) == 1


def test_the_same_key_with_another_body_is_422_and_starts_nothing(api, engine):
    assert start(api).status_code == 201
    for other in ({"quantity": 7}, {"customer_class": "local"}):
        response = start(api, **other)
        assert response.status_code == 422
        assert set(response.get_json()["fields"]) == {"Idempotency-Key"}
        assert "different request" in response.get_json()["message"]
    english = api("rep1", {"Accept-Language": "en"}).post(START, json={"data": {**SAMPLE_REQUEST, "quantity": 3}},
                                                           headers={"Idempotency-Key": "order-7781"})
    assert english.get_json()["fields"]["Idempotency-Key"].startswith("This Idempotency-Key was already used")
    assert instance_count(engine) == 1


def test_a_key_is_each_users_own(api, engine):
    mine, theirs = start(api, "rep1"), start(api, "rep2")
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert instance_count(engine) == 2


def test_without_a_key_every_request_runs(api, engine):
    assert start(api, key=None).status_code == start(api, key=None).status_code == 201
    assert instance_count(engine) == 2


def test_a_failed_request_keeps_no_key(api, engine):
    """Nothing was saved, the key included: the corrected retry with the same key runs."""
    refused = start(api, quantity=-1)
    assert refused.status_code == 422 and set(refused.get_json()["fields"]) == {"quantity"}
    assert start(api).status_code == 201
    assert instance_count(engine) == 1


@pytest.mark.parametrize("key", ["", "a b", "x" * 256, "ключ"])
def test_a_key_that_is_not_1_to_255_visible_ascii_characters_is_422(api, engine, key):
    response = api("rep1").post(START, json={"data": SAMPLE_REQUEST}, headers={"Idempotency-Key": key.encode().decode(
        "latin-1")})
    assert response.status_code == 422 and set(response.get_json()["fields"]) == {"Idempotency-Key"}
    assert instance_count(engine) == 0


def engine_start(engine, key: str) -> int:
    """Start as rep1 through the engine (API tokens last 12 hours; these tests move the clock further)."""
    return engine.start_once("rep1", "sample_request", dict(SAMPLE_REQUEST), idempotency_key=key).view["id"]


def test_keys_expire_after_24_hours_by_default(app, engine, clock):
    first = engine_start(engine, "order-7781")
    clock.advance(hours=23, minutes=59)
    assert engine_start(engine, "order-7781") == first
    clock.advance(minutes=1)
    answer = engine.start_once("rep1", "sample_request", dict(SAMPLE_REQUEST), idempotency_key="order-7781")
    assert answer.view["id"] != first and not answer.repeated  # a day later the key is free: a new request
    assert instance_count(engine) == 2


def test_the_window_is_a_setting(app, engine, clock, monkeypatch):
    monkeypatch.setenv("SALESFLOW_IDEMPOTENCY_HOURS", "1")
    first = engine_start(engine, "order-7781")
    clock.advance(minutes=59)
    assert engine_start(engine, "order-7781") == first
    clock.advance(minutes=1)
    assert engine_start(engine, "order-7781") != first


def test_expired_keys_are_purged(app, engine, clock):
    engine_start(engine, "k1")
    clock.advance(hours=12)
    engine_start(engine, "k2")
    clock.advance(hours=12)
    assert engine.tidy()["idempotency_keys"] == 1  # k1 is a day old, k2 half a day
    with engine.db.read() as s:
        assert list(s.scalars(select(IdempotencyKey.key))) == ["k2"]
    clock.advance(hours=12)
    assert engine.tidy()["idempotency_keys"] == 1
    with engine.db.read() as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_a_completion_retried_with_its_key_completes_once(api, engine):
    started = api("rep1").start_sample()
    task = f"/tasks/{started['tasks'][0]['id']}/complete"
    key = {"Idempotency-Key": "approve-1"}
    first = api("mgr1").post(task, json={"data": {"approved": True}}, headers=key)
    again = api("mgr1").post(task, json={"data": {"approved": True}}, headers=key)
    assert first.status_code == again.status_code == 200  # not 409: the retry gets the first answer
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    events = api("aud").get(f"/instances/{started['id']}/history").get_json()
    assert [e["kind"] for e in events].count("completed") == 1
    other = api("mgr1").post(task, json={"data": {"approved": False}}, headers=key)
    assert other.status_code == 422 and set(other.get_json()["fields"]) == {"Idempotency-Key"}


def test_a_claim_retried_with_its_key_claims_once(api, engine):
    started = api("rep1").start_sample()
    task_id = started["tasks"][0]["id"]
    key = {"Idempotency-Key": "claim-1"}
    first = api("mgr1").post(f"/tasks/{task_id}/claim", headers=key)
    api("mgr1").post(f"/tasks/{task_id}/unclaim")
    again = api("mgr1").post(f"/tasks/{task_id}/claim", headers=key)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and first.get_json()["assignee"] == "mgr1"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api("mgr1").get(f"/tasks/{task_id}").get_json()["assignee"] is None  # the retry did not claim again
    same_key_other_task = api("mgr1").post(f"/tasks/{api('rep1').start_sample()['tasks'][0]['id']}/claim",
                                           headers=key)
    assert same_key_other_task.status_code == 422
