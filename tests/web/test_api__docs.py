"""/api/v1/docs: the API's reference page for people, Swagger UI bundled from npm, rendering our own document."""

from __future__ import annotations

import json
import re

from tests.conftest import ROOT

FRONTEND = ROOT / "webui" / "frontend"


def test_a_logged_in_user_reads_the_docs_page_pointing_at_our_document(pages):
    response = pages("rep1").get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-openapi-url="/api/v1/openapi.json"' in html
    assert "/static/dist/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/dist/swagger-ui/swagger-ui.css" in html
    assert "<h1 id=\"api-docs-title\">API 文档</h1>" in html
    assert "Content-Type: application/json" in html and "/api/v1/tokens" in html  # how to get a token


def test_the_docs_page_loads_nothing_from_another_site(pages):
    html = pages("rep1").get("/api/v1/docs").get_data(as_text=True)
    loaded = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert "/static/dist/swagger-ui/swagger-ui-bundle.js" in loaded
    assert [url for url in loaded if re.match(r"^([a-z]+:)?//", url)] == []


def test_the_docs_page_in_english(pages):
    client = pages("rep1")
    client.post("/language", {"lang": "en", "next": "/api/v1/docs"})
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<h1 id="api-docs-title">API documentation</h1>' in html
    assert '<html lang="en">' in html


def test_without_a_login_the_docs_page_sends_to_the_login(pages):
    response = pages().get("/api/v1/docs")
    assert response.status_code == 302
    assert "/login" in response.location


def test_every_page_links_to_the_docs(pages):
    client = pages("mgr1")
    for path in ("/inbox", "/start", "/instances"):
        assert 'href="/api/v1/docs"' in client.get(path).get_data(as_text=True), path


def test_the_document_it_renders_stays_public(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_swagger_ui_is_pinned_in_the_front_end_build():
    package = json.loads((FRONTEND / "package.json").read_text(encoding="utf-8"))
    version = package["dependencies"]["swagger-ui-dist"]
    assert version[0].isdigit(), "an exact version, not a range"
    lock = json.loads((FRONTEND / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/swagger-ui-dist"]["version"] == version
    assert "swagger-ui-dist" in (FRONTEND / "scripts" / "copy-css.mjs").read_text(encoding="utf-8")
