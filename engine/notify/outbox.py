"""The worker's e-mail outbox: pending notification e-mails are sent after the command that wrote them
committed, never inside it (a slow or failing mail server cannot hold or undo a command).

Each e-mail is sent once however many workers run: a worker first claims rows in a short transaction
of its own with a conditional UPDATE (`email_claim` empty and the row still pending); of two workers
racing for a row exactly one updates it (PostgreSQL: the second waits for the first's commit, then
finds the condition false; SQLite: writers run one at a time). It sends outside any transaction and
records the outcome only where its claim still stands. A failed attempt waits 1, 2, 4, 8, 16 minutes
(MAX_ATTEMPTS in all), then the e-mail is given up (`failed`, with the error); the in-app row is
unaffected. A claim older than LEASE (a worker that died mid-send) is taken over by another worker:
that is the one case an e-mail may go out twice, as with any mail queue that cannot see the server's
side of a lost connection.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from engine.notify import texts
from engine.notify.smtp import Connection, SmtpSettings, public_url
from engine.store.models import Notification, User

if TYPE_CHECKING:
    from engine.runtime.context import Context

log = logging.getLogger("salesflow.notify")
MAX_ATTEMPTS = 6
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=1)
LEASE = timedelta(minutes=10)
BATCH = 50


def backoff(attempts: int) -> timedelta:
    """How long after the `attempts`-th failed attempt the next one is made."""
    return min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)


def _sendable(now: datetime):  # noqa: ANN202 - where clauses
    return (Notification.email_status == "pending", Notification.email_next_at <= now,
            or_(Notification.email_claim.is_(None), Notification.email_claimed_at < now - LEASE))


def claim(ctx: Context, limit: int = BATCH) -> tuple[str, list[int]]:
    """Claim up to `limit` due e-mails for this worker: (its claim token, the ids it got)."""
    now = ctx.clock.now()
    with ctx.db.read() as s:
        candidates = list(s.scalars(select(Notification.id).where(*_sendable(now))
                                    .order_by(Notification.id).limit(limit)))
    token, got = str(uuid.uuid4()), []
    if not candidates:
        return token, got
    with ctx.db.write() as s:
        for nid in candidates:
            claimed = s.execute(update(Notification).where(Notification.id == nid, *_sendable(now))
                                .values(email_claim=token, email_claimed_at=now))
            if claimed.rowcount == 1:
                got.append(nid)
    return token, got


def send_pending(ctx: Context, settings: SmtpSettings | None = None, limit: int = BATCH) -> dict[str, int]:
    """One pass: send what is due; {sent, retrying, failed, dropped}. Nothing when no SMTP host is set."""
    result = {"sent": 0, "retrying": 0, "failed": 0, "dropped": 0}
    settings = settings or SmtpSettings.from_env()
    if settings is None:
        return result
    token, ids = claim(ctx, limit)
    if not ids:
        return result
    with ctx.db.read() as s:
        rows = s.execute(select(Notification, User.email, User.lang, User.active)
                         .join(User, User.username == Notification.username, isouter=True)
                         .where(Notification.id.in_(ids)).order_by(Notification.id)).all()
        letters = [(n.id, n.kind, json.loads(n.params or "{}"), n.instance_id, n.task_id, email, lang, active)
                   for n, email, lang, active in rows]
    connection = Connection(settings)
    try:
        for nid, kind, params, instance_id, task_id, email, lang, active in letters:
            if not email or not active:  # the address was removed, or the person left
                _finish(ctx, nid, token, status="dropped", error="no e-mail address")
                result["dropped"] += 1
                continue
            subject, body = texts.email(kind, params, instance_id, lang or "zh", _link(instance_id, task_id))
            try:
                connection.send(email, subject, body)
            except Exception as exc:  # any failure of the mail server is this e-mail's attempt
                result["failed" if _failed(ctx, nid, token, exc) else "retrying"] += 1
                continue
            _finish(ctx, nid, token, status="sent")
            result["sent"] += 1
    finally:
        connection.close()
    return result


def _link(instance_id: int, task_id: str | None) -> str | None:
    base = public_url()
    if base is None:
        return None
    return f"{base}/tasks/{task_id}" if task_id else f"{base}/instances/{instance_id}"


def _finish(ctx: Context, nid: int, token: str, status: str, error: str | None = None) -> None:
    now = ctx.clock.now()
    with ctx.db.write() as s:
        s.execute(update(Notification).where(Notification.id == nid, Notification.email_claim == token)
                  .values(email_status=status, email_claim=None, email_sent_at=now if status == "sent" else None,
                          email_error=error))


def _failed(ctx: Context, nid: int, token: str, exc: BaseException) -> bool:
    """Record a failed attempt; True when it was the last one (the e-mail is given up)."""
    now = ctx.clock.now()
    message = f"{type(exc).__name__}: {exc}"[:2000]
    with ctx.db.write() as s:
        row = s.get(Notification, nid)
        if row is None or row.email_claim != token:
            return False
        row.email_attempts += 1
        row.email_error, row.email_claim, row.email_claimed_at = message, None, None
        if row.email_attempts >= MAX_ATTEMPTS:
            row.email_status = "failed"
            log.error("e-mail of notification %s given up after %s attempts: %s", nid, row.email_attempts, message)
            return True
        row.email_next_at = now + backoff(row.email_attempts)
        log.warning("e-mail of notification %s failed (attempt %s), retrying: %s", nid, row.email_attempts, message)
        return False
