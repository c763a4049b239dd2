"""Fixtures for the attacks of issue 11 on accounts, sessions and logins: the web app of tests/web (P5/P6
deployed, one person per role, password tests.conftest.PASSWORD) and helpers that act as a browser or a
script would, from a chosen client address."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import Engine
from engine.audit.verify import verify_chain
from engine.store.models import AuditEvent
from tests.conftest import PASSWORD
from tests.web.conftest import (  # noqa: F401 - fixtures shared with the web tests
    _compiled_translations,
    api,
    api_token,
    app,
    client,
    csrf_token_in,
    pages,
)

ATTACKER = "203.0.113.9"  # documentation addresses (RFC 5737)
OFFICE = "198.51.100.7"
WRONG = "not-the-password-9"


def browser(web_app: Flask, address: str = OFFICE) -> FlaskClient:
    """A test client whose requests come from `address` (request.remote_addr)."""
    c = web_app.test_client()
    c.environ_base["REMOTE_ADDR"] = address
    return c


def post_login(c: FlaskClient, username: str, password: str):  # a test response
    token = csrf_token_in(c.get("/login").get_data(as_text=True))
    return c.post("/login", data={"csrf_token": token, "username": username, "password": password})


def logged_in(web_app: Flask, username: str, address: str = OFFICE) -> FlaskClient:
    c = browser(web_app, address)
    response = post_login(c, username, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return c


def post_form(c: FlaskClient, path: str, data: dict | None = None, form_page: str = "/inbox"):
    """POST like the browser after showing `form_page` (for its CSRF token)."""
    token = csrf_token_in(c.get(form_page).get_data(as_text=True))
    return c.post(path, data={"csrf_token": token, **(data or {})})


def security_events(engine: Engine) -> list[tuple[str, str, dict]]:
    """(kind, actor, payload) of every event in the security chain, after checking the chain verifies."""
    import json

    from sqlalchemy import select

    with engine.db.read() as s:
        assert verify_chain(s, "security").ok
        rows = s.scalars(select(AuditEvent).where(AuditEvent.chain == "security").order_by(AuditEvent.position))
        return [(r.kind, r.actor, json.loads(r.payload)) for r in rows]


@pytest.fixture
def admin(app: Flask) -> FlaskClient:  # noqa: F811 - the `app` fixture of tests/web
    return logged_in(app, "adm")
