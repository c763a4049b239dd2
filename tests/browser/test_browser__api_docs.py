"""/api/v1/docs in a real browser: Swagger UI, bundled from npm, renders our own OpenAPI document under the
application's CSP (nothing from another site), inside our page chrome in Chinese and English, on a desktop
and on a phone; the footer of every page links to it. Screenshots (SALESFLOW_SCREENSHOTS=1): test-artifacts/api/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, screenshot
from tests.browser.viewports import open_menu

ARTIFACTS = ROOT / "test-artifacts" / "api"
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
CHROME = {"zh": ("API 文档", "访问令牌", "zh-CN"), "en": ("API documentation", "bearer token", "en")}


def _switch_to(page, lang: str) -> None:  # playwright Page
    if lang == "en":
        open_menu(page)
        page.locator("form.lang button[value=en]").click()
        page.wait_for_load_state()


def _shoot(page, name: str) -> None:  # playwright Page
    """What the screen shows now (the whole page is some 15 screens of operations)."""
    screenshot(page, ARTIFACTS / f"{name}.png", full_page=False)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_browser__api_docs_render_our_operations(open_as, browser_errors, lang, size):
    page = open_as("rep1")
    page.set_viewport_size(SIZES[size])
    _switch_to(page, lang)
    heading, intro_word, html_lang = CHROME[lang]

    # every page's footer leads to the docs
    page.goto("/inbox")
    page.locator("#foot-api-docs").click()
    page.wait_for_load_state()
    assert page.url.endswith("/api/v1/docs")

    expect(page.locator("#api-docs-title")).to_have_text(heading)
    expect(page.locator(".api-docs-intro")).to_contain_text(intro_word)
    expect(page.locator("html")).to_have_attribute("lang", html_lang)
    expect(page.locator("#foot-api-docs")).to_have_text(heading)
    # Swagger UI has read /api/v1/openapi.json: our title, and our operations by path
    ui = page.locator("#swagger-ui .swagger-ui")
    expect(ui.locator(".info .title")).to_contain_text("salesflow")
    for path in ("/tokens", "/processes/{key}", "/processes/{key}/instances", "/tasks", "/instances"):
        expect(ui.locator(f'.opblock-summary-path[data-path="{path}"]').first).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    _shoot(page, f"api-docs-{lang}-{size}")
    # one operation opened: its parameters and answers
    ui.locator('.opblock-summary-path[data-path="/processes/{key}"]').first.click()
    expect(ui.locator(".opblock.is-open .responses-table").first).to_contain_text("404")

    # nothing runs wider than the screen on a phone
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow}px of sideways scrolling at {size}"
    _shoot(page, f"api-docs-{lang}-{size}-operation")
    assert browser_errors.messages == []


def test_browser__api_docs_need_a_login(new_context, live_server):
    page = new_context(base_url=live_server).new_page()
    page.goto("/api/v1/docs")
    assert "/login" in page.url
