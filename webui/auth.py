"""Who is asking: a logged-in session (pages) or a bearer token (API)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request
from flask_login import LoginManager, UserMixin, current_user

from engine.errors import NotFound, Unauthorized
from webui.context import engine

login_manager = LoginManager()
login_manager.login_view = "pages.login"


@dataclass
class SessionUser(UserMixin):
    username: str
    display_name: str
    roles: list[str]

    def get_id(self) -> str:
        return self.username


@login_manager.user_loader
def _load(username: str) -> SessionUser | None:
    try:
        return SessionUser(**engine().user(username))
    except NotFound:
        return None  # deactivated: the session ends


def api_actor() -> str:
    """The user name behind the request's bearer token; Unauthorized otherwise."""
    if "api_actor" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("missing bearer token (POST /api/v1/tokens to get one)")
        g.api_actor = engine().token_user(token.strip())
    return g.api_actor


def page_actor() -> str:
    return current_user.username


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
