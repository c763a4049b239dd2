"""Errors inside /api/v1 are JSON {"error", "message", "fields"?}, whatever raised them."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, SAMPLE_REQUEST

ERROR_KEYS = {"error", "message", "fields", "problems"}


def test_an_unknown_path_gets_404_json(api):
    for user in (None, "rep1"):
        response = api(user).get("/no/such/thing")
        assert response.status_code == 404
        assert response.is_json
        body = response.get_json()
        assert body["error"] == "not_found"
        assert "/api/v1/no/such/thing" in body["message"]


def test_a_method_the_path_does_not_take_gets_405_json_with_allow(api):
    response = api("rep1").open("DELETE", "/tasks")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
    response = api("rep1").open("PUT", "/tokens")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_a_body_over_the_size_limit_gets_413_json(app, api):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = api().post("/tokens", json={"username": "rep1", "password": PASSWORD, "pad": "x" * 4096})
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert api().post("/tokens", json={"username": "rep1", "password": PASSWORD}).status_code == 201


def test_the_default_limit_is_4_mib(api):
    response = api("adm").post("/deployments", json={"files": [{"name": "big.bpmn", "content": "x" * 4 * 2**20}]})
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"


def test_malformed_json_gets_400_json(api):
    for raw in ("{", "[1, 2", "\xff", "null", "42", '"text"', "[]"):
        response = api().post("/tokens", data=raw.encode("latin-1"), content_type="application/json")
        assert response.status_code == 400, raw
        body = response.get_json()
        assert body["error"] == "bad_request"
        assert "JSON" in body["message"]


def test_text_with_a_nul_character_gets_422(api):
    response = api().post("/tokens", json={"username": "rep1\x00", "password": PASSWORD})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"username"}
    response = api("rep1").get("/tasks?process=sample%00request")
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"process"}


def test_a_lone_surrogate_anywhere_in_the_body_gets_400(api):
    """"\\ud800" alone is no character: such a body is not valid Unicode, and nothing of it is kept."""
    data = {**SAMPLE_REQUEST, "customer_name": "合肥\ud800"}
    response = api("rep1").post("/processes/sample_request/instances", json={"data": data})
    assert response.status_code == 400
    assert "Unicode" in response.get_json()["message"]
    assert api("rep1").start_sample()["id"] == 1  # nothing was started before


def test_every_error_body_has_the_same_shape(api):
    responses = [api().get("/tasks"), api("rep1").get("/nothing"), api("rep1").open("PUT", "/processes"),
                 api().post("/tokens", json={}), api().post("/tokens", data="x"),
                 api("qa1").post("/processes/sample_request/instances", json={"data": {}})]
    for response in responses:
        body = response.get_json()
        assert {"error", "message"} <= set(body) <= ERROR_KEYS, body
        assert isinstance(body["error"], str) and isinstance(body["message"], str) and body["message"]


def test_api_errors_stay_json_when_the_app_answers_other_404s_with_html(app, api):
    @app.errorhandler(404)
    def html_not_found(exc):  # as a page blueprint might register
        return "<h1>not here</h1>", 404

    response = api("rep1").get("/no/such/thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"] == "not_found"
    assert not app.test_client().get("/no-such-page").is_json


def test_pages_outside_the_api_keep_their_own_errors(app):
    response = app.test_client().get("/definitely/not/a/page")
    assert response.status_code == 404
    assert not response.is_json


def test_an_unreachable_database_is_503_with_retry_after_not_an_internal_error():
    from engine import Engine
    from webui.app import create_app

    down = create_app(Engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"),
                      {"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False}).test_client()
    response = down.get("/api/v1/tasks", headers={"Authorization": "Bearer some-token"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"
    assert response.headers["Retry-After"] == "5"
    page = down.post("/login", data={"username": "rep1", "password": "x"})
    assert page.status_code == 503
    assert "暂时无法连接数据库" in page.get_data(as_text=True)


def test_a_logged_in_page_and_metrics_say_503_when_the_database_goes_away(pages, engine, app, monkeypatch):
    from engine.errors import Unavailable

    auditor = pages("aud")

    def away(*_args, **_kwargs):
        raise Unavailable("the database is unavailable (OperationalError)")

    for method in ("user", "inbox", "inbox_counts", "gauges", "search"):
        monkeypatch.setattr(engine, method, away)
    for path in ("/inbox", "/instances"):
        response = auditor.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "5"
        html = response.get_data(as_text=True)
        assert 'id="unavailable"' in html and "无法连接数据库" in html and "nav-inbox" not in html
    metrics = app.test_client().get("/metrics")
    assert metrics.status_code == 503 and "unavailable" in metrics.get_data(as_text=True)
