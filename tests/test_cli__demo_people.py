"""`salesflow init --demo` gives every demo user a person's name: pages show people by it, never by login id."""

from __future__ import annotations

import yaml

from salesflow.cli.admin import DEMO_PEOPLE, _demo_users
from tests.test_cli__commands import environment, ok, sf


def test_every_demo_user_has_a_display_name_of_their_own(tmp_path):
    env = environment(tmp_path / "demo.db")
    out = ok(sf(env, "init", "--demo"))
    people = yaml.safe_load(DEMO_PEOPLE.read_text(encoding="utf-8"))
    logins = [name for name, _roles in _demo_users()]
    assert sorted(people) == sorted(logins)
    assert len(set(people.values())) == len(people)
    assert "张伟" in out and "sales_rep" in out
    listing = ok(sf(env, "users", "list"))
    for login in logins:
        row = next(line for line in listing.splitlines() if line.split()[0] == login)
        assert people[login] in row
