"""Every account change, lockout and lifting, and revoked token is an event in the `security` hash chain,
which `salesflow audit verify` checks with every other chain: an edited event is found."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.conftest import PASSWORD
from tests.security.conftest import ATTACKER, WRONG, browser, post_login, security_events
from tests.test_audit__verify import cli

NEW = "velvet-compass-91"


def _everything(app, engine, api) -> None:
    engine.deactivate_user("adm", "rep2")
    engine.activate_user("adm", "rep2")
    engine.reset_password("adm", "rep2", NEW)
    engine.change_password("rep2", NEW, "amber-lighthouse-7")
    token = api().post("/tokens", json={"username": "rep1", "password": PASSWORD}).get_json()["token"]
    api().open("DELETE", "/tokens/current", headers={"Authorization": f"Bearer {token}"})
    for n in range(5):
        post_login(browser(app, ATTACKER), "mgr1", f"{WRONG}{n}")
    engine.unlock("adm", "mgr1")


def test_each_change_is_a_security_event(app, engine, api):
    _everything(app, engine, api)
    assert [(kind, actor) for kind, actor, _ in security_events(engine)] == [
        ("user_deactivated", "adm"), ("user_activated", "adm"), ("password_reset", "adm"),
        ("password_changed", "rep2"), ("token_revoked", "rep1"), ("account_locked", "system"),
        ("unlocked", "adm")]
    payloads = [payload for _, _, payload in security_events(engine)]
    assert payloads[5]["username"] == "mgr1" and payloads[5]["failures"] == 5
    assert payloads[6] == {"scope": "account", "key": "mgr1"}


def test_audit_verify_checks_the_security_chain(app, engine, api, db_url):
    _everything(app, engine, api)
    done = cli(db_url, "audit", "verify", "--list", "--no-replay")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "security: verified (7 events)" in done.stdout

    raw = create_engine(db_url)
    with raw.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'someone' WHERE chain = 'security' AND position = 3"))
    raw.dispose()
    broken = cli(db_url, "audit", "verify", "--no-replay")
    assert broken.returncode != 0
    assert "security: BROKEN at event 3" in broken.stderr + broken.stdout
