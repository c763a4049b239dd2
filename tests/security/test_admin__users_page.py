"""The administrators' page /admin/users (users, roles, active flag, lockouts, tokens and the actions on
them) and everyone's /account/password, with their links in the header; only administrators manage
accounts."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.security.conftest import ATTACKER, WRONG, browser, logged_in, post_form, post_login


def _row(html: str, username: str) -> str:
    return html.split(f'data-user="{username}"', 1)[1].split("</tr>", 1)[0]


def test_an_administrator_sees_every_user_and_acts_on_them(app, admin, api_token):
    api_token("rep1")
    for n in range(5):
        post_login(browser(app, ATTACKER), "rep2", f"{WRONG}{n}")
    html = admin.get("/admin/users").get_data(as_text=True)
    assert 'id="nav-users"' in html and 'id="nav-password"' in html
    assert "销售代表" in _row(html, "rep1") and 'data-token="' in _row(html, "rep1")
    assert "锁定至" in _row(html, "rep2") and 'id="unlock-rep2"' in _row(html, "rep2")

    assert post_form(admin, "/admin/users/rep1/deactivate", form_page="/admin/users").status_code == 302
    html = admin.get("/admin/users").get_data(as_text=True)
    assert "已停用" in _row(html, "rep1") and 'id="activate-rep1"' in _row(html, "rep1")
    assert 'data-token="' not in _row(html, "rep1")  # deactivation revoked the token
    assert post_login(browser(app), "rep1", PASSWORD).status_code == 401
    post_form(admin, "/admin/users/rep1/activate", form_page="/admin/users")
    post_form(admin, "/admin/unlock", {"username": "rep2"}, form_page="/admin/users")
    assert post_login(browser(app), "rep1", PASSWORD).status_code == 302
    assert post_login(browser(app), "rep2", PASSWORD).status_code == 302


def test_the_reset_form_refuses_a_weak_password_with_the_policys_words(app, admin):
    response = post_form(admin, "/admin/users/rep1/reset", {"new_password": "12345678", "repeat_password": "12345678"},
                         form_page="/admin/users/rep1/reset")
    assert response.status_code == 422
    assert "密码至少需要 12 个字符" in response.get_data(as_text=True)
    assert post_login(browser(app), "rep1", PASSWORD).status_code == 302


def test_others_may_not_open_the_page_nor_act(app):
    rep = logged_in(app, "rep1")
    assert 'id="nav-users"' not in rep.get("/inbox").get_data(as_text=True)
    assert rep.get("/admin/users").status_code == 403
    assert rep.get("/admin/users/rep2/reset").status_code == 403
    post_form(rep, "/admin/users/rep2/deactivate")
    assert post_login(browser(app), "rep2", PASSWORD).status_code == 302  # still active


def test_everyone_has_the_change_password_page(app):
    page = logged_in(app, "rep1").get("/account/password")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="current_password"' in html and 'id="new_password"' in html and "修改我的密码" in html
