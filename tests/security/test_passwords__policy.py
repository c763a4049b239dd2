"""Finding 6: `users add` accepted `12345678`, eight spaces or the user's own name. Every new password
(users add, a user's change, an administrator's reset) must now have at least 12 characters, not be only
spaces, not be or contain the user name, and not be common or easy to guess (zxcvbn), with a clear
message in Chinese and English."""

from __future__ import annotations

import pytest

from engine.errors import InvalidData
from tests.conftest import PASSWORD

REFUSED = {
    "12345678": "at least 12 characters",
    " " * 12: "only spaces",
    "margaret.chen": "user name",
    "Margaret.Chen-2026": "user name",
    "password1234": "common or easy to guess",
    "qwertyuiop123": "common or easy to guess",
}
ZH = {"at least 12 characters": "至少需要 12 个字符", "only spaces": "只由空格", "user name": "用户名",
      "common or easy to guess": "常见或容易猜到"}


@pytest.mark.parametrize("password", list(REFUSED), ids=lambda p: repr(p))
def test_users_add_refuses_a_weak_password_with_a_clear_message(engine, password):
    with pytest.raises(InvalidData) as refused:
        engine.add_user("margaret.chen", ["sales_rep"], password)
    message = refused.value.fields["password"]
    assert REFUSED[password] in message["en"]
    assert ZH[REFUSED[password]] in message["zh"]
    assert engine.accounts("system")["users"] == []  # nothing saved


def test_change_and_reset_apply_the_policy(engine):
    engine.add_user("margaret.chen", ["sales_rep"], PASSWORD)
    engine.add_user("boss", ["admin"], PASSWORD)
    with pytest.raises(InvalidData) as changed:
        engine.change_password("margaret.chen", PASSWORD, "12345678")
    assert "new_password" in changed.value.fields
    with pytest.raises(InvalidData) as reset:
        engine.reset_password("boss", "margaret.chen", "margaret.chen")
    assert "user name" in reset.value.fields["password"]["en"]
    engine.authenticate("margaret.chen", PASSWORD)  # the old password still works


def test_the_demo_and_test_passwords_pass(engine):
    from salesflow.cli.admin import DEMO_PASSWORD

    for name, password in (("sales_rep", DEMO_PASSWORD), ("admin", DEMO_PASSWORD), ("rep1", PASSWORD)):
        engine.add_user(name, ["sales_rep"], password)
