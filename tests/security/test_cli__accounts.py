"""`salesflow users …` and `salesflow tokens …`: the password policy's refusals at the console (finding 6:
`users add` took `12345678`, eight spaces or the user's own name), and the account commands an operator
uses when something went wrong. Passwords come from standard input, never from the command line."""

from __future__ import annotations

import json

import pytest

from engine import Engine
from tests.conftest import PASSWORD
from tests.test_cli__commands import environment, ok, sf

NEW = "velvet-compass-91"


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    e = environment(tmp_path_factory.mktemp("accounts") / "salesflow.db")
    ok(sf(e, "init"))
    ok(sf(e, "users", "add", "margaret.chen", "--role", "sales_rep", "--before-training", "--password-stdin",
          stdin=PASSWORD + "\n"))
    return e


@pytest.mark.parametrize(("password", "words"), [
    ("12345678", "at least 12 characters"),
    (" " * 12, "only spaces"),
    ("margaret.chen", "user name"),
    ("password1234", "common or easy to guess"),
], ids=["short", "spaces", "own name", "common"])
def test_users_add_refuses_a_weak_password_clearly(env, password, words):
    done = sf(env, "users", "add", "margaret.chen", "--role", "sales_rep", "--password-stdin", stdin=password + "\n")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    first, field = done.stderr.splitlines()
    assert first.startswith("error: the new password is refused: ") and words in first
    assert field.startswith("  password: ") and words in field


def test_the_account_commands(env):
    ok(sf(env, "users", "deactivate", "margaret.chen"))
    listed = ok(sf(env, "users", "list"))
    assert "margaret.chen" in listed and "DEACTIVATED" in listed
    [person] = json.loads(ok(sf(env, "users", "list", "--json")))["users"]
    assert (person["username"], person["active"]) == ("margaret.chen", False)
    ok(sf(env, "users", "activate", "margaret.chen"))
    ok(sf(env, "users", "reset", "margaret.chen", "--password-stdin", stdin=NEW + "\n"))
    refused = sf(env, "users", "password", "margaret.chen", "--password-stdin",
                 stdin=f"{PASSWORD}\namber-lighthouse-7\n")  # the old password is no longer the current one
    assert refused.returncode != 0 and "current_password: The current password is not correct" in refused.stderr
    ok(sf(env, "users", "password", "margaret.chen", "--password-stdin", stdin=f"{NEW}\namber-lighthouse-7\n"))

    eng = Engine(env["SALESFLOW_DATABASE_URL"])
    try:
        token = eng.issue_token("margaret.chen", "amber-lighthouse-7")
        [row] = json.loads(ok(sf(env, "tokens", "list", "--json")))
        assert row["username"] == "margaret.chen" and token not in json.dumps(row)
        ok(sf(env, "tokens", "revoke", str(row["id"])))
        assert "no working tokens" in ok(sf(env, "tokens", "list"))
        for n in range(5):
            with pytest.raises(Exception):  # noqa: B017 - Unauthorized, then Locked
                eng.authenticate("margaret.chen", f"wrong-password-{n}", "203.0.113.9")
        assert "locked until" in ok(sf(env, "users", "list"))
        assert "unlocked" in ok(sf(env, "users", "unlock", "margaret.chen"))
        eng.authenticate("margaret.chen", "amber-lighthouse-7", "203.0.113.9")
    finally:
        eng.db.dispose()
    verified = ok(sf(env, "audit", "verify", "--list", "--no-replay"))
    assert "security: verified (" in verified
