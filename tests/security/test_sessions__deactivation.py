"""Finding 5: no user could be deactivated. Now a deactivated user's open sessions and API tokens stop
working at once, and they cannot log in or get a token until activated again."""

from __future__ import annotations

import pytest

from engine.errors import Forbidden
from tests.conftest import PASSWORD
from tests.security.conftest import browser, logged_in, post_login, security_events


def test_a_deactivated_users_cookie_and_tokens_fail(app, engine, api, api_token):
    rep = logged_in(app, "rep1")
    token = api_token("rep1")
    assert rep.get("/inbox").status_code == 200 and api("rep1").get("/tasks").status_code == 200

    assert engine.deactivate_user("adm", "rep1") is True

    assert rep.get("/inbox").status_code == 302
    assert api("rep1").get("/tasks").status_code == 401
    assert post_login(browser(app), "rep1", PASSWORD).status_code == 401  # the same answer as a wrong password
    assert api().post("/tokens", json={"username": "rep1", "password": PASSWORD}).status_code == 401
    [(kind, actor, payload)] = security_events(engine)
    assert (kind, actor, payload["username"]) == ("user_deactivated", "adm", "rep1")

    engine.activate_user("adm", "rep1")
    assert api().get("/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401  # revoked for good
    assert logged_in(app, "rep1").get("/inbox").status_code == 200
    assert [k for k, _, _ in security_events(engine)] == ["user_deactivated", "user_activated"]


def test_only_an_administrator_deactivates_and_not_themselves(engine, app):
    with pytest.raises(Forbidden):
        engine.deactivate_user("mgr1", "rep1")
    with pytest.raises(Forbidden):
        engine.deactivate_user("adm", "adm")
    assert security_events(engine) == []
