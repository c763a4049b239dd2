"""Finding 6: password guessing was free (60 wrong passwords, then the right one, 201). Now five failures
for a user name within 15 minutes lock it for 15 minutes (thirty from one address lock the address), the
right password is refused meanwhile with a clear message (429 with Retry-After for the API), and an
administrator can lift the lockout."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.security.conftest import ATTACKER, OFFICE, WRONG, browser, logged_in, post_form, post_login


def test_60_wrong_passwords_then_the_right_one_is_refused_until_an_admin_unlocks(app, api, engine, admin):
    attacker = browser(app, ATTACKER)
    answers = [post_login(attacker, "rep1", f"{WRONG}{n}").status_code for n in range(60)]
    assert answers[:4] == [401] * 4 and set(answers[4:]) == {429}

    refused = post_login(browser(app, OFFICE), "rep1", PASSWORD)  # the right password, from anywhere
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 14 * 60
    token = api().post("/tokens", json={"username": "rep1", "password": PASSWORD})
    assert token.status_code == 429 and token.get_json()["error"] == "locked"
    assert 0 < int(token.headers["Retry-After"]) <= 15 * 60

    assert "rep1" in admin.get("/admin/users").get_data(as_text=True).split('id="locks"', 1)[1]
    assert post_form(admin, "/admin/unlock", {"username": "rep1"}, form_page="/admin/users").status_code == 302
    assert post_login(browser(app, OFFICE), "rep1", PASSWORD).status_code == 302


def test_the_lockout_ends_by_itself_after_15_minutes(app, clock):
    attacker = browser(app, ATTACKER)
    for n in range(5):
        post_login(attacker, "rep1", f"{WRONG}{n}")
    assert post_login(browser(app), "rep1", PASSWORD).status_code == 429
    clock.advance(minutes=15, seconds=1)
    assert post_login(browser(app), "rep1", PASSWORD).status_code == 302


def test_the_english_page_says_the_same(app):
    attacker = browser(app, ATTACKER)
    token = post_form(attacker, "/language", {"lang": "en", "next": "/login"}, form_page="/login")
    assert token.status_code == 302
    for n in range(6):
        response = post_login(attacker, "rep1", f"{WRONG}{n}")
    assert response.status_code == 429
    assert "Too many failed logins" in response.get_data(as_text=True)


def test_thirty_failures_from_one_address_lock_the_address_not_the_others(app, engine):
    attacker = browser(app, ATTACKER)
    for n in range(30):  # a spray: a few guesses each for many names, below the per-name limit
        assert post_login(attacker, f"user{n % 10}", f"{WRONG}{n}").status_code in (401, 429)
    assert post_login(attacker, "rep2", PASSWORD).status_code == 429
    assert post_login(browser(app, OFFICE), "rep2", PASSWORD).status_code == 302
    engine.unlock("system", address=ATTACKER)
    assert post_login(attacker, "rep2", PASSWORD).status_code == 302


def test_a_lockout_does_not_end_a_session_already_open(app):
    rep = logged_in(app, "rep1")
    attacker = browser(app, ATTACKER)
    for n in range(6):
        post_login(attacker, "rep1", f"{WRONG}{n}")
    assert rep.get("/inbox").status_code == 200


def test_unknown_names_are_locked_the_same_way(app, api):
    """Otherwise a lockout would tell an attacker which names exist."""
    answers = {name: [api().post("/tokens", json={"username": name, "password": f"{WRONG}{n}"}).status_code
                      for n in range(6)] for name in ("rep1", "nobody")}
    assert answers["rep1"] == answers["nobody"] == [401, 401, 401, 401, 429, 429]


def test_an_ipv6_client_cannot_escape_the_address_limit_by_changing_its_address(app):
    """One IPv6 client usually holds a whole /64: the throttle counts the /64, not each address."""
    for n in range(30):
        post_login(browser(app, f"2001:db8:1:2::{n + 1:x}"), f"user{n % 10}", f"{WRONG}{n}")
    assert post_login(browser(app, "2001:db8:1:2::ffff"), "rep2", PASSWORD).status_code == 429
    assert post_login(browser(app, "2001:db8:1:3::1"), "rep2", PASSWORD).status_code == 302
