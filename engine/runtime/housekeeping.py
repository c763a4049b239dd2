"""What the timer worker tidies now and then: records that stop mattering after a while.

Idempotency keys end after SALESFLOW_IDEMPOTENCY_HOURS, login records after
SALESFLOW_LOGIN_RECORDS_DAYS. Neither is part of any audit chain, so deleting them changes no
trail. One short transaction each, at most every `EVERY`, on whichever worker gets there.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.accounts import throttle
from engine.runtime import idempotency

if TYPE_CHECKING:
    from engine.runtime.context import Context

log = logging.getLogger("salesflow.housekeeping")
EVERY = timedelta(minutes=10)


def tidy(ctx: Context) -> dict[str, int]:
    """Delete what has expired; {what: rows deleted}."""
    now = ctx.clock.now()
    with ctx.db.write() as s:
        keys = idempotency.purge(s, now)
    with ctx.db.write() as s:
        logins = throttle.prune(s, now)
    if keys or logins:
        log.info("housekeeping: %s idempotency keys and %s login records deleted", keys, logins)
    return {"idempotency_keys": keys, "login_records": logins}


class Schedule:
    """Runs `tidy` on the first pass and then once every EVERY."""

    def __init__(self) -> None:
        self.last: datetime | None = None

    def maybe(self, ctx: Context) -> dict[str, int] | None:
        now = ctx.clock.now()
        if self.last is not None and now - self.last < EVERY:
            return None
        self.last = now
        return tidy(ctx)
