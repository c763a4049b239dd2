"""What the timer worker does for notifications on each pass: announce deadlines that passed, then
send the e-mails waiting in the outbox. A failure here is logged and never stops the timers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.errors import Unavailable
from engine.notify import events, outbox

if TYPE_CHECKING:
    from engine.runtime.context import Context

log = logging.getLogger("salesflow.notify")


def run(ctx: Context) -> dict[str, int]:
    """One pass: {overdue, sent, retrying, failed, dropped}."""
    found = {"overdue": 0}
    try:
        found["overdue"] = events.scan_overdue(ctx)
    except Unavailable:
        raise
    except Exception:  # the e-mails still go out; the next pass scans again
        log.exception("the overdue scan failed")
    try:
        found.update(outbox.send_pending(ctx))
    except Unavailable:
        raise
    except Exception:
        log.exception("sending notification e-mails failed")
    return found
