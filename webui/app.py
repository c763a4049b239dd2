"""Flask application factory: pages, the REST API and the security around them."""

from __future__ import annotations

import os
from collections.abc import Callable
from types import FunctionType
from typing import Any, ClassVar

from flask import Flask, request
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule

from engine import Engine
from webui import auth, i18n, ops, security
from webui.converters import IdConverter
from webui.rawquery import RawUtf8Query


def _trusted_proxies() -> int:
    """SALESFLOW_TRUSTED_PROXIES (0): how many reverse proxies in front of the app add X-Forwarded-For.
    Only then is the client address (what the login throttle counts) taken from that header, and only the
    entries those proxies added: with 0 the header is ignored, since any client can send one."""
    raw = os.environ.get("SALESFLOW_TRUSTED_PROXIES", "").strip() or "0"
    if not raw.isdigit():
        raise ValueError(f"SALESFLOW_TRUSTED_PROXIES must be a whole number, not {raw!r}")
    return int(raw)


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per process, not once per application: a server builds one app, but the
    test suite builds one per test, and compiling the pages again each time cost most of a page test.
    Jinja checks each template's source checksum, so an edited template is compiled anew."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class _Rule(Rule):
    """A URL rule whose two URL builders are compiled once per process, not once per application. Werkzeug
    builds each builder as Python source and compiles it when a rule joins an app's map: with ~100 rules
    that was most of create_app, which the test suite calls once per test. A builder reaches its rule only
    through its bound `self` (the converters, the query encoder), so its code follows from the rule's parsed
    parts (`_trace`), its default names and whether unknown arguments are appended: that is the cache key.
    A default that fills a variable of the rule is turned into text by its converter at compile time, so
    such rules (none today) and a Werkzeug without `_trace` compile as before."""

    _builders: ClassVar[dict[tuple, Callable[..., tuple[str, str]]]] = {}

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        trace: Any = getattr(self, "_trace", None)
        defaults = self.defaults or {}
        if trace is None or any(dynamic and data in defaults for dynamic, data in trace):
            return super()._compile_builder(append_unknown)
        key = (self.rule, append_unknown, tuple(trace), tuple(str(k) for k in defaults))
        builder = self._builders.get(key)
        if builder is None:
            builder = self._builders[key] = super()._compile_builder(append_unknown)
        return builder


class _Flask(Flask):
    url_rule_class = _Rule

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self._plain: set[Callable] = set()  # functions Flask returned as they are (not coroutine functions)

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's answer, remembered per function: Flask asks `inspect.iscoroutinefunction` of the view and of
        every request hook on every request (five times per API request), and a function's answer never
        changes. Only plain functions are remembered (a bound method is a new object at each access); a
        coroutine function is wrapped by Flask every time, as before."""
        if type(func) is not FunctionType:
            return super().ensure_sync(func)
        if func in self._plain:
            return func
        done = super().ensure_sync(func)
        if done is func:
            self._plain.add(func)
        return done


def create_app(engine: Engine, config: dict | None = None) -> Flask:
    app = _Flask(__name__)
    app.jinja_options = {**app.jinja_options, "bytecode_cache": _COMPILED}
    app.wsgi_app = RawUtf8Query(app.wsgi_app)  # `?customer=海螺` sent raw works like its percent-encoded form
    proxies = _trusted_proxies()
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)
    app.config.update(security.defaults())
    app.config.update(config or {})
    app.extensions["salesflow"] = engine
    app.url_map.converters["id"] = IdConverter
    security.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)

    from webui.api import blueprint as api
    from webui.pages import blueprint as pages

    app.register_blueprint(api, url_prefix="/api/v1")
    security.csrf.exempt(api)  # bearer tokens, not cookies: no CSRF exposure
    app.register_blueprint(pages)
    ops.init_app(app, engine)
    _error_pages(app)
    return app


def _error_pages(app: Flask) -> None:
    """HTTP errors: JSON inside the API, a page in our layout and the reader's language everywhere else
    (never Werkzeug's English page). Registered last, so it replaces the API's app-wide handler and
    hands API paths back to it."""
    from webui.api import PREFIX, _http_error_json
    from webui.pages.common import http_error_page

    def answer(exc: HTTPException):  # noqa: ANN202 - a Flask response
        if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
            return _http_error_json(exc)
        return http_error_page(exc)

    app.register_error_handler(HTTPException, answer)
