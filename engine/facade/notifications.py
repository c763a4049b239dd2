"""`Engine`'s notifications (issue 13): the in-app list, preferences, e-mail addresses and the worker's pass."""

from __future__ import annotations

from engine import clock as clock_mod
from engine import users
from engine.accounts import manage
from engine.facade.base import EngineBase
from engine.runtime import access


class NotificationsMixin(EngineBase):
    def notifications(self, actor: str, limit: int = 50, before: int | None = None) -> dict:
        """The actor's notifications shown in the app, newest first: {items: [{id, kind, instance_id, task_id,
        created_at, read, title: {zh, en}, text: {zh, en}, target: task|instance}], unread, more}."""
        from engine.notify import reading

        with self.db.read() as s:
            return reading.listing(s, users.get_actor(s, actor).username, limit, before)

    def unread_notifications(self, actor: str) -> int:
        """How many of the actor's notifications are unread (the bell)."""
        from engine.notify import reading

        with self.db.read() as s:
            return reading.unread_count(s, users.get_actor(s, actor).username)

    def read_notification(self, actor: str, notification_id: int) -> dict:
        """Mark one of the actor's own notifications read; returns it (NotFound for anyone else's)."""
        from engine.notify import reading

        with self.db.write() as s:
            return reading.mark_read(s, users.get_actor(s, actor).username, notification_id, self.clock.now())

    def read_all_notifications(self, actor: str) -> int:
        from engine.notify import reading

        with self.db.write() as s:
            return reading.mark_all_read(s, users.get_actor(s, actor).username, self.clock.now())

    def notification_preferences(self, actor: str) -> dict:
        """{email, lang, kinds: {offered|decided|overdue: {in_app, email}}} (defaults where none was saved)."""
        from engine.notify import preferences

        with self.db.read() as s:
            return preferences.view(s, users.get_user(s, actor))

    def set_notification_preferences(self, actor: str, email: str | None, lang: str, kinds: dict) -> dict:
        """The actor's own e-mail address, e-mail language and choices per kind; returns them as stored."""
        from engine.notify import preferences

        with self.db.write() as s:
            return preferences.save(s, users.get_user(s, actor), email, lang, kinds)

    def set_email(self, actor: str, username: str, email: str | None) -> None:
        """An administrator sets (or clears, with None) a user's e-mail address; everyone their own."""
        from engine.notify import preferences

        with self.db.write() as s:
            access.check_may_set_email(manage.acting(s, actor), username)
            user = users.get_user(s, username)
            user.email = preferences.clean_email(email)

    def run_notifications(self, settings=None) -> dict[str, int]:  # noqa: ANN001 - engine.notify.smtp.SmtpSettings
        """One worker pass: announce deadlines that passed, send pending e-mails (SMTP settings from the
        environment unless given): {overdue, sent, retrying, failed, dropped}."""
        from engine.notify import events, outbox

        with clock_mod.using(self.clock):
            return {"overdue": events.scan_overdue(self), **outbox.send_pending(self, settings)}
