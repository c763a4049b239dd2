"""Finding 5: no password could be changed. Changing it (with the current one) ends every other session
and API token of the user; the browser that changed it stays logged in."""

from __future__ import annotations

import pytest

from engine.errors import InvalidData
from tests.conftest import PASSWORD
from tests.security.conftest import browser, logged_in, post_form, post_login, security_events

NEW = "velvet-compass-91"


def test_a_password_change_ends_the_other_sessions_and_tokens(app, engine, api, api_token):
    laptop, phone = logged_in(app, "rep1"), logged_in(app, "rep1")
    api_token("rep1")
    response = post_form(laptop, "/account/password", {"current_password": PASSWORD, "new_password": NEW,
                                                       "repeat_password": NEW}, form_page="/account/password")
    assert response.status_code == 302

    assert laptop.get("/inbox").status_code == 200  # the session that changed it continues
    assert phone.get("/inbox").status_code == 302
    assert api("rep1").get("/tasks").status_code == 401
    assert post_login(browser(app), "rep1", PASSWORD).status_code == 401
    assert post_login(browser(app), "rep1", NEW).status_code == 302
    [(kind, actor, payload)] = security_events(engine)
    assert (kind, actor, payload["username"]) == ("password_changed", "rep1", "rep1")


def test_a_wrong_current_password_changes_nothing_and_says_so(app, engine):
    rep = logged_in(app, "rep1")
    response = post_form(rep, "/account/password", {"current_password": "guess-guess-guess", "new_password": NEW,
                                                    "repeat_password": NEW}, form_page="/account/password")
    assert response.status_code == 422
    assert "当前密码不正确" in response.get_data(as_text=True)
    assert rep.get("/inbox").status_code == 200
    assert post_login(browser(app), "rep1", PASSWORD).status_code == 302
    assert security_events(engine) == []


def test_an_administrators_reset_ends_the_users_sessions(app, engine, admin):
    rep = logged_in(app, "rep1")
    response = post_form(admin, "/admin/users/rep1/reset", {"new_password": NEW, "repeat_password": NEW},
                         form_page="/admin/users/rep1/reset")
    assert response.status_code == 302
    assert rep.get("/inbox").status_code == 302
    assert post_login(browser(app), "rep1", NEW).status_code == 302
    assert [(k, a) for k, a, _ in security_events(engine)] == [("password_reset", "adm")]


def test_only_administrators_reset_passwords(engine, app):
    from engine.errors import Forbidden

    with pytest.raises(Forbidden):
        engine.reset_password("mgr1", "rep1", NEW)
    with pytest.raises(InvalidData):
        engine.change_password("rep1", "wrong-current-pw", NEW)
