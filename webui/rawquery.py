"""A query string sent as raw UTF-8 (`?customer=海螺`, as curl and some clients send it) reads the same
as its percent-encoded form (`?customer=%E6%B5%B7%E8%9E%BA`) on every page and API filter.

Why this is needed: by PEP 3333 a server hands the query string to the app as the latin-1 text of
its raw bytes, and werkzeug's Request turns that text back into the bytes and decodes them as UTF-8,
so a server that follows PEP 3333 needs nothing (gunicorn 27 goes further and refuses a request
target that is not ASCII with its own 400, as RFC 9112 allows; there a client must percent-encode,
and learns so at once). Werkzeug's own development server (`salesflow serve`,
`make run`, the live servers of the tests) does not: http.server reads the request line as latin-1,
then werkzeug encodes that text as UTF-8 once more before decoding it as latin-1 (its "WSGI encoding
dance", meant for text that is not yet bytes). The bytes arrive encoded twice: 海螺 reaches the app as
"æµ·è\\x9eº", which no customer name contains, and a filter silently finds nothing. Percent-encoded
queries are plain ASCII, which the extra step leaves alone; that is why only raw ones failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def _from_werkzeug_dev_server(environ: dict[str, Any]) -> bool:
    """Werkzeug's development server puts its socket in the environ; its test client and gunicorn do not."""
    return "werkzeug.socket" in environ and str(environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug/")


def undo_second_encoding(query: str) -> str:
    """The query as PEP 3333 wants it (latin-1 text of the raw bytes), from one encoded a second time.

    Text that was not encoded twice is returned unchanged: it either does not decode (its bytes are
    not UTF-8) or decodes to characters beyond latin-1, which no latin-1 text of bytes holds."""
    if query.isascii():
        return query
    try:
        once = query.encode("latin-1").decode("utf-8")
        once.encode("latin-1")
    except UnicodeError:
        return query
    return once


class RawUtf8Query:
    """WSGI middleware: repairs QUERY_STRING where werkzeug's development server encoded it twice."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if _from_werkzeug_dev_server(environ):
            environ["QUERY_STRING"] = undo_second_encoding(environ.get("QUERY_STRING", ""))
        return self.app(environ, start_response)
