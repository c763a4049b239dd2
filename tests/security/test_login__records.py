"""Finding 6: failed logins left no trace. Now every login attempt is recorded with the user name tried,
the client address and the time; administrators see the latest failures."""

from __future__ import annotations

from sqlalchemy import select

from engine.store.models import LoginAttempt
from tests.conftest import PASSWORD, T0
from tests.security.conftest import ATTACKER, WRONG, browser, post_login


def test_failed_logins_are_recorded_with_name_address_and_time(app, api, engine, admin):
    post_login(browser(app, ATTACKER), "nobody", WRONG)
    api().post("/tokens", json={"username": "rep1", "password": WRONG})
    post_login(browser(app, ATTACKER), "rep1", PASSWORD)

    with engine.db.read() as s:
        rows = [(r.username, r.address, r.outcome, r.at) for r in s.scalars(select(LoginAttempt)
                                                                            .order_by(LoginAttempt.id))]
    assert rows[-3:] == [("nobody", ATTACKER, "failed", T0), ("rep1", "127.0.0.1", "failed", T0),
                         ("rep1", ATTACKER, "succeeded", T0)]

    failures = engine.accounts("adm")["failures"]
    assert [(f["username"], f["address"]) for f in failures] == [("rep1", "127.0.0.1"), ("nobody", ATTACKER)]
    page = admin.get("/admin/users").get_data(as_text=True).split('id="failures"', 1)[1]
    assert "nobody" in page and ATTACKER in page


def test_a_name_no_database_column_could_hold_is_recorded_safely(app, engine):
    assert post_login(browser(app), "evil\x00" + "n" * 500, WRONG).status_code == 401
    with engine.db.read() as s:
        [row] = s.scalars(select(LoginAttempt).where(LoginAttempt.outcome == "failed"))
    assert row.username.startswith("evil\ufffd") and len(row.username) == 64
