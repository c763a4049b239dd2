"""The account settings read from the environment, with their defaults (stated in the README)."""

from __future__ import annotations

import os
from datetime import timedelta


def _whole_number(name: str, default: int) -> int:
    """A positive whole number from the environment; read on every use, so a test or an operator can change it."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def session_idle() -> timedelta:
    """SALESFLOW_SESSION_IDLE_MINUTES (60): a web session unused this long has ended."""
    return timedelta(minutes=_whole_number("SALESFLOW_SESSION_IDLE_MINUTES", 60))


def account_failures() -> int:
    """SALESFLOW_LOGIN_MAX_FAILURES (5): failed logins for one user name within the window that lock it."""
    return _whole_number("SALESFLOW_LOGIN_MAX_FAILURES", 5)


def address_failures() -> int:
    """SALESFLOW_LOGIN_MAX_FAILURES_PER_ADDRESS (30): failed logins from one client address within the window
    that lock the address (higher than per account: one office may share an address)."""
    return _whole_number("SALESFLOW_LOGIN_MAX_FAILURES_PER_ADDRESS", 30)


def lockout() -> timedelta:
    """SALESFLOW_LOGIN_LOCKOUT_MINUTES (15): both the window the failures are counted in and how long a
    lockout lasts (unless an administrator lifts it earlier)."""
    return timedelta(minutes=_whole_number("SALESFLOW_LOGIN_LOCKOUT_MINUTES", 15))


def login_records() -> timedelta:
    """SALESFLOW_LOGIN_RECORDS_DAYS (90): how long the record of each login attempt is kept."""
    return timedelta(days=_whole_number("SALESFLOW_LOGIN_RECORDS_DAYS", 90))
