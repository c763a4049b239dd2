"""What the modeler's browser tests share: the two screen sizes, the page language switch, opening a
diagram, selecting an element, and screenshots under test-artifacts/modeler/."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import ROOT, screenshot

ENGINE_RULE = "salesflow-engine"  # the canvas lint's name for the engine's findings (src/engine-findings.js)
SIZES = {"desktop": {"width": 1366, "height": 900}, "mobile": {"width": 390, "height": 844}}
ARTIFACTS = ROOT / "test-artifacts" / "modeler"


def use_language(page, lang: str) -> None:  # playwright Page
    """Switch the session's language with the header's buttons (any page will do)."""
    page.goto("/model")
    if page.locator("#menu-toggle").is_visible():  # on a phone the header's tools sit behind the menu button
        page.click("#menu-toggle")
    page.locator(f'form.lang button[value="{lang}"]').click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh" else "en")


def open_model(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#model-page")).to_have_attribute("data-ready", "true", timeout=30_000)


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
