"""Sessions end after SALESFLOW_SESSION_IDLE_MINUTES (60 by default) without a request. The time of the
last request is kept in the signed session cookie; the tests set it back as if the browser had been left
alone, instead of waiting."""

from __future__ import annotations

from tests.security.conftest import logged_in


def _idle(client, minutes: float) -> None:
    with client.session_transaction() as s:
        s["_seen"] -= minutes * 60


def test_a_session_idle_for_more_than_an_hour_has_ended(app):
    rep = logged_in(app, "rep1")
    _idle(rep, 59)
    assert rep.get("/inbox").status_code == 200  # still within the hour, and the request renews it
    _idle(rep, 59)
    assert rep.get("/inbox").status_code == 200
    _idle(rep, 61)
    response = rep.get("/inbox")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_the_idle_limit_is_a_setting(app, monkeypatch):
    monkeypatch.setenv("SALESFLOW_SESSION_IDLE_MINUTES", "5")
    rep = logged_in(app, "rep1")
    _idle(rep, 4)
    assert rep.get("/inbox").status_code == 200
    _idle(rep, 6)
    assert rep.get("/inbox").status_code == 302


def test_a_session_without_the_time_of_its_last_request_is_refused(app):
    rep = logged_in(app, "rep1")
    with rep.session_transaction() as s:
        del s["_seen"]
    assert rep.get("/inbox").status_code == 302
