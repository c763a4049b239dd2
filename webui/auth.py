"""Who is asking: a logged-in session (pages) or a bearer token (API)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request, session
from flask_babel import lazy_gettext
from flask_login import LoginManager, UserMixin, current_user, login_user

from engine.errors import Unauthorized
from webui.context import engine

login_manager = LoginManager()
login_manager.login_view = "pages.login"
login_manager.login_message = lazy_gettext("Please log in to see this page.")
SEEN = "_seen"  # the session's last request (the engine's idle rule reads it)


@dataclass
class SessionUser(UserMixin):
    username: str
    display_name: str
    roles: list[str]
    session_id: str  # "<user name>:<generation>": the engine ends it by raising the generation

    def get_id(self) -> str:
        return self.session_id


def start_session(user: dict) -> None:
    """Log in a user the engine authenticated ({username, display_name, roles, session_id, seen})."""
    login_user(SessionUser(user["username"], user["display_name"], user["roles"], user["session_id"]))
    session[SEEN] = user["seen"]


@login_manager.user_loader
def _load(session_id: str) -> SessionUser | None:
    """Every request with a session (or a remember-me cookie) asks the engine whether it is still valid:
    logged out, password changed, deactivated or idle too long all end it here."""
    try:
        user = engine().session_user(session_id, session.get(SEEN))
    except Unauthorized:
        session.pop(SEEN, None)
        return None
    if session.get(SEEN) != user["seen"]:
        session[SEEN] = user["seen"]
    return SessionUser(user["username"], user["display_name"], user["roles"], user["session_id"])


def bearer_token() -> str:
    """The request's bearer token; Unauthorized when there is none."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token (POST /api/v1/tokens to get one)")
    return token.strip()


def api_actor() -> str:
    """The user name behind the request's bearer token; Unauthorized otherwise."""
    if "api_actor" not in g:
        g.api_actor = engine().token_user(bearer_token())
    return g.api_actor


def page_actor() -> str:
    return current_user.username


def client_address() -> str | None:
    """The address the throttle counts: the connection's peer. Behind a reverse proxy that is the proxy,
    so configure werkzeug's ProxyFix there (docs/deployment.md); X-Forwarded-For is never trusted here,
    because any client can send it."""
    return request.remote_addr


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
