"""Logging in and out of the staff pages."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, csrf_token_in


def _login_form(client, next_path: str = "") -> str:
    return csrf_token_in(client.get(f"/login?next={next_path}" if next_path else "/login").get_data(as_text=True))


def test_a_page_needs_login(pages):
    client = pages().client
    for path in ("/inbox", "/start", "/start/sample_request", "/instances/1"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/login?next="), path


def test_the_login_prompt_is_in_the_users_language(pages):
    client = pages().client
    page = client.get("/inbox", follow_redirects=True).get_data(as_text=True)
    assert "请先登录。" in page and "Please log in" not in page


def test_login_goes_to_the_page_asked_for_and_logout_ends_the_session(pages):
    client = pages().client
    asked = client.get("/start")
    token = _login_form(client, "/start")
    response = client.post("/login", data={"csrf_token": token, "username": "rep1", "password": PASSWORD,
                                           "next": "/start"})
    assert asked.status_code == 302
    assert response.status_code == 302
    assert response.location == "/start"
    page = client.get("/start")
    assert page.status_code == 200
    assert "样品提供申请" in page.get_data(as_text=True)

    token = csrf_token_in(page.get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).location == "/login"
    assert client.get("/start").status_code == 302  # logged out


def test_wrong_password_is_refused_with_a_message(pages):
    client = pages().client
    token = _login_form(client)
    response = client.post("/login", data={"csrf_token": token, "username": "rep1", "password": "wrong-password"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'id="login-error"' in html
    assert "用户名或密码错误" in html
    assert 'value="rep1"' in html  # the user name stays filled in
    assert client.get("/inbox").status_code == 302  # still not logged in


def test_unknown_user_gets_the_same_message(pages):
    client = pages().client
    token = _login_form(client)
    response = client.post("/login", data={"csrf_token": token, "username": "nobody", "password": PASSWORD})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_next_may_not_lead_to_another_site(pages):
    client = pages().client
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        token = _login_form(client)
        response = client.post("/login", data={"csrf_token": token, "username": "rep1", "password": PASSWORD,
                                               "next": target})
        assert response.status_code == 302
        assert response.location == "/inbox", target
