"""Web sessions that the server can end.

A session's id is "<user name>:<generation>", the user's `session_generation` when it began. Logging out,
changing or resetting the password and deactivation raise the generation, so every session (and every
remember-me cookie, which would carry the same id) of that user stops working at once, on every worker,
although the cookies themselves still exist. A session also ends after `settings.session_idle()` without
a request: the web layer keeps the time of the last request in the (signed) session cookie, and a session
without that time, such as one restored from a remember-me cookie, is refused.

Idle time is measured on the wall clock, not the engine's clock: tests and replay move the engine's
clock through days of business time while a person's browser session stays the same.
"""

from __future__ import annotations

import time

from engine.accounts import settings
from engine.errors import Unauthorized
from engine.store.models import User
from engine.users import Actor

SEPARATOR = ":"
# the stamp in the cookie is renewed only when it is this old: otherwise every response would re-send it
RENEW_AFTER_SECONDS = 30


def wall_clock() -> float:
    return time.time()


def session_id(user: User) -> str:
    return f"{user.username}{SEPARATOR}{user.session_generation}"


def parse(session: str) -> tuple[str, int | None]:
    """(user name, generation); generation None for anything that is not a session id we made."""
    username, _, generation = (session or "").rpartition(SEPARATOR)
    if not username or not generation.isascii() or not generation.isdigit():
        return session or "", None
    return username, int(generation)


def check(user: User | Actor, generation: int | None, last_seen: float | None, now: float) -> None:
    """Unauthorized when the session was ended on the server or has been idle too long."""
    if generation is None or generation != user.session_generation:
        raise Unauthorized("the session has ended (logged out, password changed or account deactivated)")
    if not isinstance(last_seen, int | float) or now - last_seen > settings.session_idle().total_seconds():
        raise Unauthorized("the session has been idle too long")


def end_all(user: User) -> None:
    """End every web session of the user (the caller's transaction saves it)."""
    user.session_generation = (user.session_generation or 0) + 1


def renewed_stamp(last_seen: float | None, now: float) -> float:
    """The last-request time to keep in the cookie: unchanged while it is recent."""
    if isinstance(last_seen, int | float) and 0 <= now - last_seen < RENEW_AFTER_SECONDS:
        return last_seen
    return now
