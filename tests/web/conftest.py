"""Web fixtures shared by the page, API and browser tests.

`app`: the Flask app on the `engine` fixture (a fresh database per test) with the
P5 sample_request and P6 customer_visit processes deployed from processes/ and
forms/, and one person per role they need (password tests.conftest.PASSWORD).
`client`: Flask's test client. `api_token(username)`: a bearer token for that user.
`api(username)`: calls /api/v1 with that user's token (see Api).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import Engine
from tests.conftest import PASSWORD, ROOT, add_users
from tests.deployed_state import prepared
from webui.app import create_app

WEB_PEOPLE: dict[str, list[str]] = {
    "rep1": ["sales_rep"],
    "rep2": ["sales_rep"],
    "mgr1": ["sales_manager"],
    "mgr2": ["sales_manager"],
    "qa1": ["quality"],
    "disp": ["dispatcher"],
    "lead": ["division_leader"],
    "aud": ["auditor"],
    "adm": ["admin", "process_owner"],
}


def p5_p6_files() -> list[Path]:
    """The P5/P6 bundle: both BPMN files, the DMN tables they call and their forms."""
    processes = ROOT / "processes"
    forms = sorted((ROOT / "forms").glob("sample_request_*.yaml")) + sorted(
        (ROOT / "forms").glob("customer_visit_*.yaml"))
    return [processes / "sample_request.bpmn", processes / "sample_routing.dmn",
            processes / "customer_visit.bpmn", processes / "visit_approval.dmn", *forms]


def deploy_p5_p6(engine: Engine) -> None:
    engine.deploy("system", p5_p6_files())
    add_users(engine, WEB_PEOPLE)


@pytest.fixture
def app(engine: Engine) -> Flask:
    prepared(engine, "web: P5, P6 and WEB_PEOPLE", deploy_p5_p6)  # built once per worker, then restored
    return create_app(engine, {"TESTING": True, "SECRET_KEY": "test-secret"})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api_token(app: Flask) -> Callable[[str], str]:
    """api_token("rep1") -> a bearer token from POST /api/v1/tokens (one per user, cached for the test)."""
    tokens: dict[str, str] = {}

    def token(username: str) -> str:
        if username not in tokens:
            response = app.test_client().post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
            assert response.status_code == 201, response.get_json()
            tokens[username] = response.get_json()["token"]
        return tokens[username]

    return token


# -- REST API (tests/web/test_api__*.py) -------------------------------------------------------------

SAMPLE_REQUEST = {"customer_name": "合肥建工集团", "customer_class": "key_account",
                  "product": "P·O 42.5 普通硅酸盐水泥", "spec": "袋装 50kg", "quantity": 100, "purpose": "project_bid",
                  "delivery_address": "合肥市蜀山区长江西路 88 号工地", "wanted_by": "2026-03-20"}


class Api:
    """Calls /api/v1 as a user: api("rep1").post("/processes/sample_request/instances", json={...})."""

    def __init__(self, client: FlaskClient, token: str | None, headers: dict | None = None):
        self.client, self.token, self.headers = client, token, headers or {}

    def open(self, method: str, path: str, **kwargs):  # a test response
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def start_sample(self, **changes: object) -> dict:
        """Start a P5 sample request (key account unless changed); returns the instance the API answered."""
        response = self.post("/processes/sample_request/instances", json={"data": {**SAMPLE_REQUEST, **changes}})
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture
def api(app: Flask, api_token: Callable[[str], str]) -> Callable[..., Api]:
    """api("mgr1") -> an Api client with mgr1's bearer token; api() -> one without a token;
    api("mgr1", {"Accept-Language": "en"}) -> with headers sent on every call."""
    return lambda username=None, headers=None: Api(app.test_client(), api_token(username) if username else None,
                                                   headers)


# -- staff pages (tests/web/test_pages__*.py) ---------------------------------------------------------

SAMPLE_FORM = {"customer_name": "合肥建工集团", "customer_class": "key_account", "product": "P·O 42.5 普通硅酸盐水泥",
               "spec": "袋装 50kg", "quantity": "100", "purpose": "project_bid",
               "delivery_address": "合肥市蜀山区长江西路 88 号工地", "wanted_by": "2026-03-20", "remarks": "投标急用"}


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form on a page."""
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Pages:
    """A browser-like test client for the staff pages: logs in and posts forms with their CSRF token."""

    def __init__(self, app: Flask):
        self.app = app
        self.client = app.test_client()

    def login(self, username: str, password: str = PASSWORD) -> Pages:
        token = csrf_token_in(self.client.get("/login").get_data(as_text=True))
        response = self.client.post("/login", data={"csrf_token": token, "username": username, "password": password})
        assert response.status_code == 302, f"{username} could not log in"
        return self

    def get(self, path: str, **kwargs):  # a test response
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, form_page: str | None = None, **kwargs):
        """POST like the browser would after showing `form_page` (default: the path itself, else the inbox)."""
        page = self.client.get(form_page or (path if path.startswith(("/start/", "/login")) else "/inbox"))
        fields = {"csrf_token": csrf_token_in(page.get_data(as_text=True)), **(data or {})}
        return self.client.post(path, data=fields, **kwargs)

    def start_sample(self, **changes: str) -> int:
        """Start a P5 sample request through the start page; returns the new instance's id."""
        form = {f"data.{k}": v for k, v in {**SAMPLE_FORM, **changes}.items()}
        response = self.post("/start/sample_request", form)
        assert response.status_code == 302, response.get_data(as_text=True)
        return int(response.location.rstrip("/").rsplit("/", 1)[-1])


@pytest.fixture
def pages(app: Flask) -> Callable[[str | None], Pages]:
    """pages("rep1") -> a Pages client logged in as rep1; pages() -> one not logged in."""
    return lambda username=None: Pages(app).login(username) if username else Pages(app)


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations() -> None:
    """The pages' .mo catalogues, compiled from the .po files when missing or older (as `make setup` does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (ROOT / "webui" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog)
