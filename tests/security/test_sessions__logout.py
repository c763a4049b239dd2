"""Finding 5: a session cookie saved before logout still worked after it. Logging out now ends the
session on the server, so a copy of the cookie (or a remember-me cookie) no longer logs anybody in."""

from __future__ import annotations

from flask_login.utils import encode_cookie

from tests.security.conftest import browser, logged_in, post_form


def _cookie(c) -> str:
    return c.get_cookie("session").value


def test_a_cookie_saved_before_logout_does_not_work_after_it(app):
    victim = logged_in(app, "rep1")
    assert victim.get("/inbox").status_code == 200
    stolen = _cookie(victim)

    assert post_form(victim, "/logout").location == "/login"

    thief = browser(app)
    thief.set_cookie("session", stolen)
    response = thief.get("/inbox")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_logging_in_again_gives_a_new_session_and_the_old_cookie_stays_dead(app):
    first = logged_in(app, "rep1")
    old = _cookie(first)
    post_form(first, "/logout")
    again = logged_in(app, "rep1")
    assert again.get("/inbox").status_code == 200
    replayed = browser(app)
    replayed.set_cookie("session", old)
    assert replayed.get("/inbox").status_code == 302


def test_a_remember_me_cookie_does_not_log_in(app):
    """flask-login would restore a session from a signed remember-me cookie carrying the session id; such a
    session has no time of last request, so the idle rule refuses it, even with a current session id."""
    user = logged_in(app, "rep1")
    with user.session_transaction() as s:
        session_id = s["_user_id"]
    with app.test_request_context():
        remembered = encode_cookie(session_id)
    intruder = browser(app)
    intruder.set_cookie("remember_token", remembered)
    assert intruder.get("/inbox").status_code == 302
    assert user.get("/inbox").status_code == 200  # the real session is untouched
