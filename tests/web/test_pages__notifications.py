"""The bell, the notifications page and the notification settings, in Chinese and in English."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import SAMPLE_REQUEST


def bell(html: str) -> int:
    found = re.search(r'id="bell-count">(\d+)<', html)
    assert found, "the page has no bell"
    return int(found.group(1))


@pytest.fixture
def offered(engine, app) -> list[int]:
    """Two sample requests by rep1: the sales department's approval is offered to mgr1 and mgr2 twice."""
    return [engine.start("rep1", "sample_request", dict(SAMPLE_REQUEST)) for _ in range(2)]


def english(client) -> None:
    client.post("/language", {"lang": "en"}, form_page="/inbox")


def test_the_bell_counts_unread_notifications_in_both_languages(pages, offered):
    mgr1 = pages("mgr1")
    html = mgr1.get("/inbox").get_data(as_text=True)
    assert bell(html) == 2 and 'aria-label="通知：2 条未读"' in html
    english(mgr1)
    html = mgr1.get("/inbox").get_data(as_text=True)
    assert bell(html) == 2 and 'aria-label="Notifications: 2 unread"' in html
    assert bell(pages("rep1").get("/inbox").get_data(as_text=True)) == 0  # nothing waits for the requester


def test_the_page_lists_newest_first_in_the_readers_language(pages, offered, engine):
    mgr1 = pages("mgr1")
    html = mgr1.get("/notifications").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'data-notification-id="(\d+)"', html)]
    assert ids == sorted(ids, reverse=True) and len(ids) == 2
    assert "新任务：销售部审批" in html and f"样品提供申请 #{offered[1]}（合肥建工集团）" in html
    assert "全部标为已读（2）" in html and "New task" not in html
    english(mgr1)
    html = mgr1.get("/notifications").get_data(as_text=True)
    assert "New task: Sales department approval" in html and "Mark all as read (2)" in html and "新任务" not in html


def test_opening_a_notification_marks_it_read_and_leads_to_the_task(pages, offered, engine):
    mgr1 = pages("mgr1")
    newest = engine.notifications("mgr1")["items"][0]
    response = mgr1.post(f"/notifications/{newest['id']}/read", {"open": "1"}, form_page="/notifications")
    assert response.status_code == 302 and response.location == f"/tasks/{newest['task_id']}"
    assert engine.unread_notifications("mgr1") == 1
    engine.complete("mgr2", newest["task_id"], {"approved": True})  # done by someone else meanwhile
    response = mgr1.post(f"/notifications/{newest['id']}/read", {"open": "1"}, form_page="/notifications")
    assert response.location == f"/instances/{newest['instance_id']}"  # the task is gone: its request


def test_mark_read_and_all_read(pages, offered, engine):
    mgr1 = pages("mgr1")
    oldest = engine.notifications("mgr1")["items"][-1]["id"]
    mgr1.post(f"/notifications/{oldest}/read", {"next": "/notifications"}, form_page="/notifications")
    assert engine.unread_notifications("mgr1") == 1
    response = mgr1.post("/notifications/read", {}, form_page="/notifications")
    assert response.status_code == 302
    html = mgr1.get("/notifications").get_data(as_text=True)
    assert "所有通知均已标为已读" in html and bell(html) == 0 and 'id="read-all"' not in html
    assert engine.unread_notifications("mgr2") == 2  # mgr2's stay unread


def test_another_persons_notification_cannot_be_marked(pages, offered, engine):
    theirs = engine.notifications("mgr2")["items"][0]["id"]
    response = pages("mgr1").post(f"/notifications/{theirs}/read", {}, form_page="/notifications")
    assert response.status_code == 302
    assert engine.unread_notifications("mgr2") == 2


def test_no_notifications_yet(pages):
    assert "暂无通知" in pages("rep2").get("/notifications").get_data(as_text=True)


def test_settings_page_saves_address_language_and_choices(pages, engine):
    rep1 = pages("rep1")
    html = rep1.get("/account/notifications").get_data(as_text=True)
    assert "通知设置" in html and "填写地址之前不会发送邮件" in html
    assert 'id="offered-in-app" aria-label="有新任务交给我 · 系统内" checked' in html
    assert "checked" not in re.search(r'id="offered-email"[^>]*>', html).group(0)  # no address yet
    form = {"email": "rep1@example.com", "lang": "en", "offered.in_app": "on", "decided.in_app": "on",
            "decided.email": "on"}
    response = rep1.post("/account/notifications", form)
    assert response.status_code == 302
    assert engine.notification_preferences("rep1") == {
        "email": "rep1@example.com", "lang": "en",
        "kinds": {"offered": {"in_app": True, "email": False}, "decided": {"in_app": True, "email": True},
                  "overdue": {"in_app": False, "email": False}}}
    assert "通知设置已保存" in rep1.get("/account/notifications").get_data(as_text=True)


def test_a_bad_address_is_refused_in_the_readers_language(pages, engine):
    rep1 = pages("rep1")
    response = rep1.post("/account/notifications", {"email": "rep1 at example", "lang": "zh"})
    assert response.status_code == 422
    assert "请填写有效的电子邮件地址" in response.get_data(as_text=True)
    english(rep1)
    response = rep1.post("/account/notifications", {"email": "rep1 at example", "lang": "zh"},
                         form_page="/account/notifications")
    assert "Enter an e-mail address" in response.get_data(as_text=True)
    assert engine.notification_preferences("rep1")["email"] is None


def test_the_header_links_to_the_settings_in_both_languages(pages):
    rep1 = pages("rep1")
    assert re.search(r'id="nav-notify-settings"[^>]*>通知设置<', rep1.get("/inbox").get_data(as_text=True))
    english(rep1)
    assert re.search(r'id="nav-notify-settings"[^>]*>Notification settings<', rep1.get("/inbox").get_data(as_text=True))


def test_an_administrator_sets_an_address_on_the_users_page(pages, engine):
    adm = pages("adm")
    assert 'id="email-rep1"' in adm.get("/admin/users").get_data(as_text=True)
    response = adm.post("/admin/users/rep1/email", {"email": "rep1@example.com"}, form_page="/admin/users")
    assert response.status_code == 302
    assert "电子邮件地址已保存" in adm.get("/admin/users").get_data(as_text=True)
    assert engine.notification_preferences("rep1")["email"] == "rep1@example.com"
    refused = pages("mgr1").post("/admin/users/rep1/email", {"email": "x@example.com"}, form_page="/inbox")
    assert refused.status_code == 302
    assert engine.notification_preferences("rep1")["email"] == "rep1@example.com"
