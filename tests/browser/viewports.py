"""Browser helpers for the narrow-screen and flow tests: the two window sizes, logging in at one of them
in one language, opening the folded menu, and checking that a page fits the window's width."""

from __future__ import annotations

from tests.browser.conftest import log_in as log_in_context

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}


def fits(page) -> bool:
    """No sideways scrolling: the document is no wider than the window."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def too_wide(page) -> list[str]:
    """The innermost elements that reach past the window's right edge (what to fix when a page does not fit)."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5
                && ![...el.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5)
                && !el.closest('.table-wrap, .diagram'))
        .slice(0, 8).map(el => el.tagName + '.' + el.className + ' ' + (el.textContent || '').trim().slice(0, 40))""")


def open_menu(page) -> None:
    """On a phone the navigation is behind the menu button: open it (on a desktop it is always there)."""
    # the button stays hidden until the header's module script runs (before DOMContentLoaded): right after a
    # navigation it may not be shown yet, and a hidden button would read as "a desktop, nothing to open"
    page.wait_for_load_state("domcontentloaded")
    toggle = page.locator("#menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def log_in(new_context, live_server: str, username: str, viewport: dict, lang: str):
    """A page logged in as `username` showing the inbox (where the login form leads), in `lang`."""
    context = new_context(base_url=live_server, locale="zh-CN", viewport=viewport)
    log_in_context(context, username)
    page = context.new_page()
    page.goto("/inbox")
    page.wait_for_url("**/inbox")
    if lang == "en":
        open_menu(page)
        page.click('button[name="lang"][value="en"]')
        page.wait_for_load_state()
    return page
