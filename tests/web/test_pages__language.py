"""Chinese by default; English after the switch, kept in the session; labels from data follow."""

from __future__ import annotations

import re


def _nav(html: str) -> str:
    return html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]


def test_the_switch_changes_the_labels_and_is_remembered(pages):
    rep1 = pages("rep1")
    html = rep1.get("/start").get_data(as_text=True)
    assert re.search(r'id="nav-inbox"[^>]*>待办', _nav(html))
    assert '<html lang="zh-CN">' in html
    assert "发起申请" in _nav(html)

    response = rep1.post("/language", {"lang": "en", "next": "/start"}, form_page="/start")
    assert response.status_code == 302 and response.location == "/start"
    html = rep1.get("/start").get_data(as_text=True)
    assert re.search(r'id="nav-inbox"[^>]*>Inbox', _nav(html))
    assert "New request" in _nav(html) and "待办" not in _nav(html)
    assert '<html lang="en">' in html
    assert "Log out" in html

    rep1.post("/language", {"lang": "zh", "next": "/start"}, form_page="/start")
    assert re.search(r'id="nav-inbox"[^>]*>待办', _nav(rep1.get("/start").get_data(as_text=True)))


def test_form_labels_and_options_come_from_the_form_in_the_chosen_language(pages):
    rep1 = pages("rep1")
    zh = rep1.get("/start/sample_request").get_data(as_text=True)
    assert "客户名称" in zh and "统销客户" in zh and "请选择" in zh
    rep1.post("/language", {"lang": "en"}, form_page="/start")
    en = rep1.get("/start/sample_request").get_data(as_text=True)
    assert "Sample request form" in en  # the form's title in English
    assert "Customer name" in en and "Key account" in en and "Choose…" in en
    assert "客户名称" not in en


def test_field_messages_follow_the_language(pages):
    rep1 = pages("rep1")
    rep1.post("/language", {"lang": "en"}, form_page="/start")
    html = rep1.post("/start/sample_request", {"data.quantity": "0"}).get_data(as_text=True)
    assert "The quantity must be greater than zero" in html
    assert "This field is required" in html


def test_the_login_page_can_switch_before_logging_in(pages):
    client = pages()
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.post("/language", {"lang": "en", "next": "/login"}, form_page="/login")
    html = client.get("/login").get_data(as_text=True)
    assert "Log in" in html and "User name" in html


def test_an_unknown_language_is_refused(pages):
    rep1 = pages("rep1")
    assert rep1.post("/language", {"lang": "fr"}, form_page="/start").status_code == 400


def test_process_and_task_names_follow_the_language(pages, app):
    from tests.web.conftest import SAMPLE_REQUEST

    engine = app.extensions["salesflow"]
    engine.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
    mgr1 = pages("mgr1")
    zh = mgr1.get("/inbox").get_data(as_text=True)
    assert "销售部审批" in zh and "样品提供申请" in zh
    mgr1.post("/language", {"lang": "en"}, form_page="/inbox")
    en = mgr1.get("/inbox").get_data(as_text=True)
    assert "Sales department approval" in en and "Sample request approval" in en
    assert "销售部审批" not in en
