"""Finding 6: an unknown user was answered in 2 ms and a known one in 80 ms, which told who exists. Now
every login checks exactly one password hash of the same method (a dummy one for unknown and inactive
users) and gives the same answer. Counted, not timed."""

from __future__ import annotations

import pytest

from engine.accounts import passwords
from tests.security.conftest import WRONG, browser, post_login


@pytest.fixture
def hash_checks(monkeypatch) -> list[str]:
    """The method part of every hash checked (werkzeug's 'pbkdf2:sha256:1000$salt$hash' -> 'pbkdf2:sha256:1000')."""
    checked: list[str] = []
    real = passwords.check_password_hash

    def counting(stored: str, password: str) -> bool:
        checked.append(stored.split("$", 1)[0])
        return real(stored, password)

    monkeypatch.setattr(passwords, "check_password_hash", counting)
    return checked


def test_unknown_inactive_and_known_users_cost_one_hash_check_each(app, engine, api, hash_checks):
    engine.deactivate_user("adm", "rep2")
    answers = {}
    for name in ("rep1", "nobody", "rep2", "x" * 300):
        before = len(hash_checks)
        page = post_login(browser(app), name, WRONG)
        token = api().post("/tokens", json={"username": name, "password": WRONG})
        answers[name] = (page.status_code, token.status_code, token.get_json()["message"])
        assert len(hash_checks) == before + 2, name  # one for the page, one for the API
    assert len(set(hash_checks)) == 1  # the dummy hash has the real ones' method
    assert set(answers.values()) == {(401, 401, "wrong user name or password")}
