"""The throttle holds across several web workers and servers: its counts live in the database, so two
applications (two processes in production) on one database share them."""

from __future__ import annotations

from engine import Engine
from tests.conftest import PASSWORD
from tests.security.conftest import ATTACKER, WRONG, browser, post_login
from webui.app import create_app


def test_failures_on_two_app_instances_add_up(app, db_url, clock):
    other_engine = Engine(db_url, clock=clock)
    try:
        other = create_app(other_engine, {"TESTING": True, "SECRET_KEY": "test-secret"})
        first, second = browser(app, ATTACKER), browser(other, ATTACKER)
        for n in range(3):
            assert post_login(first, "rep1", f"{WRONG}{n}").status_code == 401
        assert post_login(second, "rep1", f"{WRONG}3").status_code == 401
        assert post_login(second, "rep1", f"{WRONG}4").status_code == 429  # the fifth, counted across both
        assert post_login(browser(app), "rep1", PASSWORD).status_code == 429
        assert post_login(browser(other), "rep1", PASSWORD).status_code == 429
        other_engine.unlock("system", "rep1")  # lifted on one server, lifted on all
        assert post_login(browser(app), "rep1", PASSWORD).status_code == 302
    finally:
        other_engine.db.dispose()
