"""Cookies, CSRF and response headers."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect

from engine.config import PROJECT_ROOT

csrf = CSRFProtect()

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def _secret_key() -> str:
    """SALESFLOW_SECRET_KEY, or a random key kept in instance/secret_key (created once, mode 0600)."""
    if os.environ.get("SALESFLOW_SECRET_KEY"):
        return os.environ["SALESFLOW_SECRET_KEY"]
    path = PROJECT_ROOT / "instance" / "secret_key"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        _create_once(path, secrets.token_hex(32))
    return Path(path).read_text().strip()


def _create_once(path: Path, key: str) -> None:
    """Several gunicorn workers start at once: the first link wins and every worker reads its key
    (a plain exists-then-write let two workers keep different keys, or read a half-written file)."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others
    with os.fdopen(fd, "w") as out:
        out.write(key)
    try:
        os.link(draft, path)  # atomic, and fails if the file exists
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: still never replace a key another worker wrote
        if not path.exists():
            os.rename(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def defaults() -> dict:
    return {
        "SECRET_KEY": _secret_key(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # behind HTTPS in production set SALESFLOW_SECURE_COOKIES=1; plain http on 127.0.0.1 needs it off
        "SESSION_COOKIE_SECURE": os.environ.get("SALESFLOW_SECURE_COOKIES") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
    }


# (lower-case name, name, value): added to every response that has not set its own
_DEFAULT_HEADERS = tuple((name.lower(), name, value) for name, value in (
    ("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"), ("Cache-Control", "no-store")))


def _headers(response: Response) -> Response:
    """Each default header unless the response set its own (a page's Cache-Control). One pass over the
    headers instead of five `setdefault`s, each of which scanned them twice: every request pays this."""
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    headers.extend([(name, value) for low, name, value in _DEFAULT_HEADERS if low not in present])
    return response


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, but a request without the session cookie (every API call with a
    bearer token) gets its empty session without Flask building a signing serializer to read nothing, and
    the same session left empty and unmodified is saved without Flask reading the seven cookie settings
    it would then not use: what reaches the client (a `Vary: Cookie` if the session was read) is Flask's."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # no Cookie header at all: nothing to parse (werkzeug parses every cookie to find one)
        if app.secret_key and ("HTTP_COOKIE" not in request.environ
                               or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if session or session.modified:  # a cookie to set or to delete: Flask's own way
            super().save_session(app, session, response)
        elif session.accessed:  # as Flask does for an empty session it returns early for
            response.vary.add("Cookie")


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.session_interface = _CookieSessions()
    app.after_request(_headers)
