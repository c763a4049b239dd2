"""Real-browser fixtures: Debian's chromium driven by Playwright (pytest-playwright), a live server
around the Flask app on a fresh database, and helpers to log in, fill forms and take screenshots.

Playwright never downloads a browser here: `browser_type_launch_args` points it at /usr/bin/chromium
(`make browser-deps` installs it). The bpmn-js bundles come from `make setup` (webui/static/dist/).

Screenshots: a failing test leaves one of every page it still has open in
test-artifacts/screenshots/<test id>/failed-NN.png (`new_context` below). The screenshots of every step
(test-artifacts/screenshots/<test name>/, test-artifacts/<area>/) are taken only with SALESFLOW_SCREENSHOTS=1:
a full-page PNG costs chromium about a tenth of a CPU-second, and the suite takes some 250 of them.

Logging in goes through the login form's own POST (its CSRF token included) from the browser context's
request client, so the context holds the session cookie a person's login would give it; chromium does not
draw the login form for every user of every test (tests/web/test_pages__login.py covers that page).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from engine import Engine
from tests.conftest import PASSWORD, ROOT, add_users
from tests.deployed_state import prepared

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--process-per-site"]
DIST = ROOT / "webui" / "static" / "dist"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
TAKE_SCREENSHOTS = os.environ.get("SALESFLOW_SCREENSHOTS") == "1"
IDLE_PAGE = "/__idle__"  # what a pooled context's own page shows between tests (`_ContextPool`)
CLEAR_STORAGE = """async () => { localStorage.clear(); sessionStorage.clear();
    for (const db of await indexedDB.databases()) indexedDB.deleteDatabase(db.name); }"""
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()

# The users of tests/web (rep1 ... adm); their roles decide what each one sees.
USERS: dict[str, list[str]] = {
    "rep1": ["sales_rep"], "rep2": ["sales_rep"],
    "mgr1": ["sales_manager"], "mgr2": ["sales_manager"],
    "qa1": ["quality"], "disp": ["dispatcher"], "lead": ["division_leader"],
    "aud": ["auditor"], "adm": ["admin", "process_owner"],
}
# P5 sample_request and P6 customer_visit with their DMN tables and forms, nothing else.
P5_P6 = [ROOT / "processes" / name for name in
         ("sample_request.bpmn", "sample_routing.dmn", "customer_visit.bpmn", "visit_approval.dmn")]
P5_P6 += sorted(p for p in (ROOT / "forms").glob("*.yaml") if p.name.startswith(("sample_request_", "customer_visit_")))


def pytest_configure(config: pytest.Config) -> None:
    # pytest-playwright 0.10's own `base_url` fixture trips a pytest 9 deprecation; nothing to fix on our side
    config.addinivalue_line("filterwarnings",
                            "ignore:Session-scoped fixtures defined as instance methods are deprecated")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a browser or the built bundles these tests cannot run: say which `make` target is missing."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append("chromium (run `make browser-deps`)")
    if not (DIST / "js" / "viewer.js").exists():
        missing.append("webui/static/dist/js/viewer.js (run `make setup`)")
    if not missing:
        return
    reason = "browser tests need " + " and ".join(missing)
    if os.environ.get("SALESFLOW_REQUIRE_BROWSER") == "1":  # `make test`: a skipped browser test is a failure
        raise pytest.UsageError(reason)
    skip = pytest.mark.skip(reason=reason)
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the item: `new_context` looks at it to screenshot a failed test's pages."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Extend pytest-playwright's arguments (so --headed/--slowmo still work) with Debian's chromium."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    """The engine of tests/conftest.py with P5/P6 deployed and the users of USERS (password tests.conftest.PASSWORD)."""
    found = prepared(engine, "browser: P5, P6 and USERS", _deploy)  # built once per worker, then restored
    assert found == {("sample_request", "deployed"), ("customer_visit", "deployed")}
    return engine


def _deploy(engine: Engine) -> set[tuple[str, str]]:
    found = {(d.key, d.status) for d in engine.deploy("system", P5_P6)}
    add_users(engine, USERS)
    return found


@pytest.fixture
def web_app(deployed: Engine):  # flask.Flask
    """The real application, CSRF and CSP included (the browser has to cope with both)."""
    from webui.app import create_app

    return create_app(deployed, {"TESTING": True, "SECRET_KEY": "browser-tests", "WTF_CSRF_ENABLED": True})


@contextmanager
def serve(app) -> Iterator[str]:  # any WSGI app
    """Serve `app` on a free port (port 0: the OS picks it) in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


class _CurrentApp:
    """The WSGI app of the worker's one live server: it hands every request to the app of the test running
    now (`live_server`), or answers 503 between tests."""

    def __init__(self) -> None:
        self.app = None  # a flask.Flask while a test runs

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        app = self.app
        if environ.get("PATH_INFO") == IDLE_PAGE:
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [b"<!doctype html><title>idle</title>"]
        if app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"no test is running"]
        return app(environ, start_response)


@pytest.fixture(scope="session")
def _live_origin() -> Iterator[tuple[_CurrentApp, str]]:
    """One server (one port) per worker rather than one per test: the browser's HTTP cache is keyed by origin,
    so only a stable origin lets a reused context (`_ContextPool`) load the bundles from its cache."""
    current = _CurrentApp()
    with serve(current) as url:
        yield current, url


@pytest.fixture
def live_server(web_app, _live_origin: tuple[_CurrentApp, str]) -> Iterator[str]:
    """The worker's live server, answering with this test's app (its own fresh database) until the test ends."""
    current, url = _live_origin
    current.app = web_app
    try:
        yield url
    finally:
        current.app = None


class _ContextPool:
    """Browser contexts on the worker's live server, kept for the worker's life and handed to one test at a time.

    A new context starts cold: chromium fetched, parsed and compiled the page bundles again for every test, and the
    modeler's (some 3 MB of bpmn-js and dmn-js) cost 1.5 CPU-s a load where a warm one costs 0.6. What keeps a
    context warm is its renderer process (V8 keeps the compiled scripts per process) besides its HTTP cache: each
    pooled context keeps one page of its own open on IDLE_PAGE (a script-free page of the same site), and chromium
    runs with --process-per-site, so the test's pages of that site join that process instead of starting one.
    A context given back is as a new one to the next test: the test's pages closed, its cookies, local and session
    storage and IndexedDB emptied. A context that cannot be tidied, or whose test failed, is closed instead."""

    def __init__(self, browser) -> None:  # playwright Browser
        self.browser = browser
        self.idle: dict[str, list] = {}  # repr(options): contexts given back

    def take(self, options: dict):  # playwright BrowserContext
        key = repr(sorted(options.items()))
        idle = self.idle.setdefault(key, [])
        context = idle.pop() if idle else self.browser.new_context(**options)
        context._pool_key = key
        return context

    def give_back(self, context) -> None:  # playwright BrowserContext
        try:
            keeper = getattr(context, "_idle_page", None)
            if keeper is None or keeper.is_closed():
                keeper = context._idle_page = context.new_page()
                keeper.goto(IDLE_PAGE)
            for page in context.pages:
                if page is not keeper:
                    page.close()
            keeper.evaluate(CLEAR_STORAGE)
            context.clear_cookies()
            context.unroute_all(behavior="ignoreErrors")  # no test uses routes yet; none may leak into the next
        except Exception:  # a crashed page or a closed context: nothing to keep
            type(context).close(context)
            return
        self.idle[context._pool_key].append(context)


def _test_pages(context) -> list:  # of playwright Pages
    return [page for page in context.pages if not page.is_closed() and page is not getattr(context, "_idle_page", None)]


@pytest.fixture(scope="session")
def _context_pool(browser) -> _ContextPool:  # playwright Browser
    return _ContextPool(browser)


@pytest.fixture
def new_context(new_context: Callable, request: pytest.FixtureRequest, browser_context_args: dict,
                _context_pool: _ContextPool) -> Iterator[Callable]:
    """pytest-playwright's `new_context`, with contexts on the worker's live server taken from `_ContextPool`
    (any other server, or --tracing/--video, gets pytest-playwright's own fresh context). When the test failed
    (or its setup did), every page still open is saved as test-artifacts/screenshots/<test id>/failed-NN.png
    before the contexts close. A test's `context.close()` gives a pooled context back."""
    contexts, pooled = [], []
    recording = any(request.config.getoption(option, "off") != "off" for option in ("--tracing", "--video"))
    live = request.getfixturevalue("_live_origin")[1] if "live_server" in request.fixturenames else None

    def _new(**kwargs):  # a playwright BrowserContext
        if recording or live is None or kwargs.get("base_url") != live:
            context = new_context(**kwargs)
        else:
            context = _context_pool.take({**browser_context_args, **kwargs})
            pooled.append(context)
            context.close = lambda *args, **kw: _give_back(context)
        contexts.append(context)
        return context

    def _give_back(context) -> None:
        pooled.remove(context)
        _context_pool.give_back(context)

    yield _new
    reports = request.node.stash.get(_REPORTS, {})
    failed = any(r.failed for r in reports.values())
    if failed:
        _screenshot_pages(request, contexts)
    for context in pooled:
        if failed:  # whatever state it was left in stays out of the pool
            type(context).close(context)
        else:
            _context_pool.give_back(context)


def _screenshot_pages(request: pytest.FixtureRequest, contexts: list) -> None:
    folder = SCREENSHOTS / re.sub(r"[^\w.\[\]-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    pages = [page for context in contexts for page in _test_pages(context)]
    for n, page in enumerate(pages, 1):
        try:
            page.screenshot(path=str(folder / f"failed-{n:02d}.png"), full_page=True, timeout=5_000)
        except Exception as exc:  # a crashed or hung page must not hide the test's own failure
            print(f"no screenshot of {page.url}: {exc}")


def screenshot(page, path: Path, full_page: bool = True) -> Path | None:  # playwright Page
    """A screenshot for people to look at, taken only with SALESFLOW_SCREENSHOTS=1 (see the docstring above)."""
    if not TAKE_SCREENSHOTS:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


class Shots:
    """Numbered screenshots of one test: <folder>/<nn>-<step>.png (with SALESFLOW_SCREENSHOTS=1 only)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        shutil.rmtree(folder, ignore_errors=True)  # no stale pictures of an earlier run beside the new ones

    def __call__(self, page, step: str) -> Path | None:  # playwright Page
        self.count += 1
        return screenshot(page, self.folder / f"{self.count:02d}-{step}.png")


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shots:
    return Shots(SCREENSHOTS / request.node.originalname)


class BrowserErrors:
    """Console errors and uncaught exceptions of every page it watches (a CSP violation is a console error)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    # A page that answers a form with its field errors says 422 (401 for a wrong password) on purpose;
    # chromium logs that status of the document itself as a console error. Any other failed load still counts.
    EXPECTED_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of (401|422)\b")

    def watch(self, page):  # playwright Page
        def console(msg) -> None:
            if msg.type != "error":
                return
            if self.EXPECTED_STATUS.match(msg.text) and msg.location.get("url") == page.url:
                return
            self.messages.append(f"{page.url}: {msg.text}")

        page.on("console", console)
        page.on("pageerror", lambda exc: self.messages.append(f"{page.url}: uncaught {exc}"))
        return page


@pytest.fixture
def browser_errors() -> BrowserErrors:
    return BrowserErrors()


def log_in(context, username: str, password: str = PASSWORD) -> None:  # playwright BrowserContext
    """Log the context in as `username`: the login form's POST, CSRF token and all, from the context's own
    request client (it shares the context's cookies). Chromium is spared drawing the form and the page it
    redirects to, a third of a CPU-second a login; the session cookie is the one the form would have given."""
    form = context.request.get("/login")
    token = CSRF_FIELD.search(form.text())
    assert token, f"no CSRF token on /login ({form.status})"
    answer = context.request.post("/login", form={"csrf_token": token.group(1), "username": username,
                                                  "password": password}, max_redirects=0)
    assert answer.status == 302 and "/login" not in answer.headers.get("location", "/login"), \
        f"{username} could not log in ({answer.status})"


@pytest.fixture
def open_as(new_context: Callable, live_server: str, browser_errors: BrowserErrors) -> Callable:
    """open_as(username) -> a page in a new browser context (its own cookies), logged in as that user and
    showing the inbox (where the login form leads), or nothing yet with land=None."""

    def _open(username: str, password: str = PASSWORD, land: str | None = "/inbox"):
        context = new_context(base_url=live_server, locale="zh-CN")
        log_in(context, username, password)
        page = browser_errors.watch(context.new_page())
        if land:
            page.goto(land)
            assert "/login" not in page.url, f"{username} could not log in"
        return page

    return _open


def field_error(page, name: str):  # a Locator
    """The error message shown for the form field `name` (agreed: .field-error[data-field=name]; the pages put
    data-field on the field's row instead, so both are accepted)."""
    return page.locator(f'.field-error[data-field="{name}"], [data-field="{name}"] .field-error')


def fill_field(page, name: str, value) -> None:
    """Set the form field `name` (id field-<name>) whatever widget the page chose for it.
    A yes/no radio group has no single element to carry the id: it is found by its row, [data-field=name]."""
    field = page.locator(f"#field-{name}")
    # count() does not wait: right after a navigation it would see no field yet and take the radio branch.
    page.locator(f'#field-{name}, [data-field="{name}"]').first.wait_for(state="attached")
    if field.count() == 0:
        page.locator(f'[data-field="{name}"] input[type=radio][value="{_option(value)}"]').check()
        return
    tag, kind = field.evaluate("el => [el.tagName.toLowerCase(), (el.type || '').toLowerCase()]")
    if tag == "select":
        field.select_option(value=_option(value))
    elif kind == "checkbox":
        field.set_checked(bool(value))
    elif kind == "radio" or tag in ("fieldset", "div"):
        field.locator(f"input[type=radio][value='{_option(value)}']").check()
    else:
        field.fill(str(value))


def _option(value) -> str:
    return {True: "true", False: "false"}.get(value, str(value)) if isinstance(value, bool) else str(value)
