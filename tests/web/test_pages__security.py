"""Security around the pages: headers, CSRF on every form post, no inline script."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import PASSWORD, SAMPLE_FORM


def test_security_headers_on_pages(pages):
    rep1 = pages("rep1")
    for path in ("/login", "/inbox", "/start", "/start/sample_request"):
        response = rep1.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0], path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path


DEFAULT_HEADERS = {"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                   "Cache-Control"}


def test_an_api_call_without_a_cookie_gets_each_security_header_once_and_no_session_cookie(app, api_token):
    response = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {api_token('rep1')}"})
    assert response.status_code == 200
    names = [name.lower() for name, _ in response.headers]
    assert all(names.count(h.lower()) == 1 for h in DEFAULT_HEADERS), response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # the empty session of a bearer call is never written


def test_a_response_keeps_its_own_cache_header_and_gets_the_others(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers.get_all("Cache-Control") == ["no-cache"]  # Flask's own for a static file
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_session_cookie_is_still_read_after_login(pages):
    rep1 = pages("rep1")
    assert rep1.get("/inbox").status_code == 200  # logged in through the session cookie, not redirected


def test_pages_have_no_inline_script_or_event_handler(pages, engine):
    rep1 = pages("rep1")
    iid = rep1.start_sample()
    task_id = engine.instance("rep1", iid)["tasks"][0]["id"]
    for client, path in [(rep1, "/inbox"), (rep1, "/start/sample_request"), (rep1, f"/instances/{iid}"),
                         (pages("mgr1"), f"/tasks/{task_id}"), (pages(), "/login")]:
        html = client.get(path).get_data(as_text=True)
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
        assert all("src=" in attrs and not body.strip() for attrs, body in scripts), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "javascript:" not in html, path


@pytest.fixture
def strict_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_form_posts_without_the_csrf_token_are_refused(strict_csrf, pages, engine):
    rep1 = pages("rep1")
    iid = rep1.start_sample()
    task_id = engine.instance("rep1", iid)["tasks"][0]["id"]
    mgr1 = pages("mgr1")

    refused = [
        rep1.client.post("/start/sample_request", data={f"data.{k}": v for k, v in SAMPLE_FORM.items()}),
        mgr1.client.post(f"/tasks/{task_id}", data={"data.approved": "true"}),
        mgr1.client.post(f"/tasks/{task_id}/claim"),
        mgr1.client.post(f"/tasks/{task_id}/comments", data={"text": "hi"}),
        mgr1.client.post("/language", data={"lang": "en"}),
        mgr1.client.post("/logout"),
        pages().client.post("/login", data={"username": "rep1", "password": PASSWORD}),
        mgr1.client.post(f"/tasks/{task_id}", data={"data.approved": "true", "csrf_token": "forged"}),
    ]
    assert [r.status_code for r in refused] == [400] * len(refused)
    assert "表单已过期" in refused[1].get_data(as_text=True)
    assert len(engine.inbox("mgr1")) == 1  # nothing started twice
    task = engine.task("mgr1", task_id)
    assert (task["status"], task["assignee"]) == ("ready", None)
    assert engine.comments("mgr1", task_id) == []
    assert mgr1.get("/inbox").status_code == 200  # still logged in


def test_session_cookie_is_http_only(pages):
    client = pages().client
    from tests.web.conftest import csrf_token_in

    token = csrf_token_in(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "username": "rep1", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _key_in(root: str, barrier, results) -> None:  # runs in a forked process
    from pathlib import Path

    from webui import security

    security.PROJECT_ROOT = Path(root)
    barrier.wait()
    results.put(security._secret_key())


def test_web_workers_starting_together_share_one_secret_key(tmp_path, monkeypatch):
    import multiprocessing

    monkeypatch.delenv("SALESFLOW_SECRET_KEY", raising=False)  # the key file is what is under test

    ctx = multiprocessing.get_context("fork")
    for attempt in range(5):
        root = tmp_path / str(attempt)
        root.mkdir()
        barrier, results = ctx.Barrier(6), ctx.Queue()
        workers = [ctx.Process(target=_key_in, args=(str(root), barrier, results)) for _ in range(6)]
        for w in workers:
            w.start()
        keys = {results.get(timeout=30) for _ in workers}
        for w in workers:
            w.join(timeout=30)
        assert len(keys) == 1 and len(keys.pop()) == 64  # one key, never a half-written empty one
        assert [p.name for p in (root / "instance").iterdir()] == ["secret_key"]  # no drafts left behind


def test_session_headers_are_flasks_on_api_calls_and_at_logout(app, api_token, pages):
    """webui/security.py saves an empty, unchanged session without Flask's cookie settings: what reaches the
    client must stay Flask's own (the session is read on every request, so caches are told it varies)."""
    response = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {api_token('rep1')}"})
    assert response.headers.get_all("Vary") == ["Cookie"] and "Set-Cookie" not in response.headers
    rep1 = pages("rep1")
    out = rep1.post("/logout")
    assert out.status_code == 302 and "Cookie" in out.headers.get("Vary", "")
    cookies = out.headers.get_all("Set-Cookie")
    assert any(c.startswith("session=") for c in cookies), cookies  # the session cookie is rewritten or cleared
