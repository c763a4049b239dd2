"""Cookies, CSRF and response headers."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, Response
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


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.after_request(_headers)
