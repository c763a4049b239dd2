"""What the modeler's browser tests share: the two screen sizes, the page language switch, opening a
diagram, selecting an element, and screenshots under test-artifacts/modeler/."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import CSRF_FIELD, ROOT, screenshot

ENGINE_RULE = "salesflow-engine"  # the canvas lint's name for the engine's findings (src/engine-findings.js)
SIZES = {"desktop": {"width": 1366, "height": 900}, "mobile": {"width": 390, "height": 844}}
ARTIFACTS = ROOT / "test-artifacts" / "modeler"


def use_language(page, lang: str) -> None:  # playwright Page
    """Set the session's language as the header's switch does, with its form's POST (CSRF token and all)
    from the page's request client: the next page the test opens is in that language (open_model checks).
    Loading /model to press the button cost chromium two page loads a test; pressing the buttons themselves,
    on a phone too, is what test_browser__flow, __forms, __names and __notifications do."""
    form = page.context.request.get("/login")
    token = CSRF_FIELD.search(form.text())
    assert token, f"no CSRF token on /login ({form.status})"
    answer = page.context.request.post("/language", form={"csrf_token": token.group(1), "lang": lang},
                                       max_redirects=0)
    assert answer.status == 302, f"the language switch answered {answer.status}"


def open_model(page, url: str, lang: str | None = None) -> None:
    """Open `url` in the modeler and wait until the diagram is drawn; in `lang` ("zh" or "en") when given."""
    page.goto(url)
    expect(page.locator("#model-page")).to_have_attribute("data-ready", "true", timeout=30_000)
    if lang:
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh" else "en")


def select(page, element_id: str) -> None:
    page.evaluate("""(id) => { const m = window.salesflowModeler;
        m.get('selection').select(m.get('elementRegistry').get(id)); }""", element_id)


def rename(page, element_id: str, name: str) -> None:
    """An edit as the properties panel's name field makes it (one command on bpmn-js's stack)."""
    page.evaluate("""([id, name]) => { const m = window.salesflowModeler;
        m.get('modeling').updateProperties(m.get('elementRegistry').get(id), {name}); }""", [element_id, name])


def snap(page, name: str) -> Path | None:
    """test-artifacts/modeler/<name>.png, with SALESFLOW_SCREENSHOTS=1 only (tests/browser/conftest.py)."""
    return screenshot(page, ARTIFACTS / f"{name}.png")
