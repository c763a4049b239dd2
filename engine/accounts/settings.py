"""The account settings read from the environment, with their defaults (stated in the README)."""

from __future__ import annotations

from datetime import timedelta

from engine.config import whole_number


def session_idle() -> timedelta:
    """SALESFLOW_SESSION_IDLE_MINUTES (60): a web session unused this long has ended."""
    return timedelta(minutes=whole_number("SALESFLOW_SESSION_IDLE_MINUTES", 60, minimum=1))


def account_failures() -> int:
    """SALESFLOW_LOGIN_MAX_FAILURES (5): failed logins for one user name within the window that lock it."""
    return whole_number("SALESFLOW_LOGIN_MAX_FAILURES", 5, minimum=1)


def address_failures() -> int:
    """SALESFLOW_LOGIN_MAX_FAILURES_PER_ADDRESS (30): failed logins from one client address within the window
    that lock the address (higher than per account: one office may share an address)."""
    return whole_number("SALESFLOW_LOGIN_MAX_FAILURES_PER_ADDRESS", 30, minimum=1)


def lockout() -> timedelta:
    """SALESFLOW_LOGIN_LOCKOUT_MINUTES (15): both the window the failures are counted in and how long a
    lockout lasts (unless an administrator lifts it earlier)."""
    return timedelta(minutes=whole_number("SALESFLOW_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))


def login_records() -> timedelta:
    """SALESFLOW_LOGIN_RECORDS_DAYS (90): how long the record of each login attempt is kept."""
    return timedelta(days=whole_number("SALESFLOW_LOGIN_RECORDS_DAYS", 90, minimum=1))
