"""Notification e-mails through SMTP, against a local SMTP server the test starts (aiosmtpd): sent by the
worker after the command committed, in the reader's language, once however many workers race, again
after a failure (with back-off), given up after the last attempt; nothing without SMTP settings."""

from __future__ import annotations

import email
import socket
import threading
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select

from engine import Engine
from engine.notify import outbox
from engine.notify.smtp import SmtpSettings
from engine.store.models import Notification

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

REQUEST = {"customer_name": "海螺建材", "amount_yuan": 500}


class Mailbox:
    """The SMTP server's side: every message accepted, or the temporary refusal the test asks for."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.refuse = False
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook
        if self.refuse:
            return "451 4.3.0 mail server busy, try again later"
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def subjects(self) -> list[tuple[str, str]]:
        return [(m["To"], str(make_header(decode_header(m["Subject"])))) for m in self.messages]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mailbox() -> Mailbox:
    box = Mailbox()
    controller = aiosmtpd_controller.Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.settings = SmtpSettings(host="127.0.0.1", port=controller.port, sender="salesflow@example.com")
    yield box
    controller.stop()


@pytest.fixture
def mailing(approval: Engine) -> Engine:
    """mgr reads Chinese e-mails, mgr2 English ones; both want every kind by e-mail."""
    approval.set_notification_preferences("mgr", "mgr@example.com", "zh", {})
    approval.set_notification_preferences("mgr2", "mgr2@example.com", "en", {})
    return approval


def statuses(eng: Engine) -> list[tuple[str, str | None, int]]:
    with eng.db.read() as s:
        return [(n.username, n.email_status, n.email_attempts)
                for n in s.scalars(select(Notification).order_by(Notification.id))]


def test_the_worker_sends_each_e_mail_after_commit_in_the_readers_language(mailing, mailbox, monkeypatch):
    monkeypatch.setenv("SALESFLOW_PUBLIC_URL", "https://salesflow.example.com/")
    iid = mailing.start("rep", "approval", dict(REQUEST))
    assert mailbox.messages == []  # the command only wrote the rows
    assert statuses(mailing) == [("mgr", "pending", 0), ("mgr2", "pending", 0)]
    assert mailing.run_notifications(mailbox.settings)["sent"] == 2
    assert sorted(mailbox.subjects()) == [("mgr2@example.com", "New task: 经理审批"),
                                          ("mgr@example.com", "新任务：经理审批")]
    chinese = next(m for m in mailbox.messages if m["To"] == "mgr@example.com")
    body = chinese.get_payload(decode=True).decode("utf-8")
    assert f"测试审批 #{iid}（海螺建材）的任务「经理审批」等待您处理" in body
    task = mailing.inbox("mgr")[0]["id"]
    assert f"https://salesflow.example.com/tasks/{task}" in body
    assert chinese["From"] == "salesflow@example.com"
    assert statuses(mailing) == [("mgr", "sent", 0), ("mgr2", "sent", 0)]
    assert mailing.run_notifications(mailbox.settings)["sent"] == 0 and len(mailbox.messages) == 2


def test_nothing_is_sent_without_smtp_settings(mailing, monkeypatch):
    monkeypatch.delenv("SALESFLOW_SMTP_HOST", raising=False)
    mailing.start("rep", "approval", dict(REQUEST))
    assert mailing.run_notifications() == {"overdue": 0, "sent": 0, "retrying": 0, "failed": 0, "dropped": 0}
    assert [s for _, s, _ in statuses(mailing)] == ["pending", "pending"]  # kept for when it is set


def test_settings_come_from_the_environment(monkeypatch):
    for name, value in {"HOST": "mail.example.com", "PORT": "587", "USER": "sf", "PASSWORD": "secret",
                        "FROM": "流程 <salesflow@example.com>", "STARTTLS": "1"}.items():
        monkeypatch.setenv(f"SALESFLOW_SMTP_{name}", value)
    assert SmtpSettings.from_env() == SmtpSettings("mail.example.com", 587, "sf", "secret",
                                                   "流程 <salesflow@example.com>", True)
    monkeypatch.setenv("SALESFLOW_SMTP_HOST", "")
    assert SmtpSettings.from_env() is None


def test_a_failed_attempt_is_retried_after_a_back_off(mailing, mailbox, clock):
    mailing.start("rep", "approval", dict(REQUEST))
    mailbox.refuse = True
    assert mailing.run_notifications(mailbox.settings)["retrying"] == 2
    assert statuses(mailing) == [("mgr", "pending", 1), ("mgr2", "pending", 1)]
    mailbox.refuse = False
    assert mailing.run_notifications(mailbox.settings)["sent"] == 0  # waits out its back-off
    clock.advance(minutes=1)
    assert mailing.run_notifications(mailbox.settings)["sent"] == 2
    assert len(mailbox.messages) == 2 and [s for _, s, _ in statuses(mailing)] == ["sent", "sent"]


def test_an_e_mail_is_given_up_after_the_last_attempt_and_the_notification_stays(mailing, mailbox, clock):
    mailing.start("rep", "approval", dict(REQUEST))
    mailbox.refuse = True
    for _ in range(outbox.MAX_ATTEMPTS):
        mailing.run_notifications(mailbox.settings)
        clock.advance(hours=2)
    assert statuses(mailing) == [("mgr", "failed", outbox.MAX_ATTEMPTS), ("mgr2", "failed", outbox.MAX_ATTEMPTS)]
    mailbox.refuse = False
    mailing.run_notifications(mailbox.settings)
    assert mailbox.messages == []
    assert mailing.unread_notifications("mgr") == 1  # the bell still has it


def test_an_unreachable_server_counts_as_a_failed_attempt(mailing):
    mailing.start("rep", "approval", dict(REQUEST))
    closed = SmtpSettings(host="127.0.0.1", port=_free_port())
    assert mailing.run_notifications(closed)["retrying"] == 2


def test_two_workers_racing_send_each_e_mail_once(mailing, mailbox, clock, db_url):
    for _ in range(5):
        mailing.start("rep", "approval", dict(REQUEST))  # 10 e-mails: mgr and mgr2 for each
    workers = [Engine(db_url, clock=clock) for _ in range(3)]
    for w in workers:
        w.processes()  # connected before the race
    barrier, results = threading.Barrier(3), []

    def run(eng: Engine) -> None:
        barrier.wait(timeout=30)
        results.append(eng.run_notifications(mailbox.settings)["sent"])

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for w in workers:
        w.db.dispose()
    assert sum(results) == 10
    assert len(mailbox.messages) == 10
    assert len({(m["To"], m.get_payload(decode=True)) for m in mailbox.messages}) == 10  # no e-mail twice
    assert {s for _, s, _ in statuses(mailing)} == {"sent"}


def test_a_removed_address_drops_the_e_mail(mailing, mailbox):
    mailing.start("rep", "approval", dict(REQUEST))
    mailing.set_email("adm", "mgr2", None)
    assert mailing.run_notifications(mailbox.settings)["dropped"] == 1
    assert mailbox.subjects() == [("mgr@example.com", "新任务：经理审批")]
