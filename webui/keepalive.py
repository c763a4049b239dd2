"""HTTP/1.1 keep-alive for `salesflow serve` (webui/serving.py): one connection carries many requests.

Werkzeug's development server answers every request with `Connection: close`, because after a response
it reads whatever is left on the socket (so that a client whose body was refused sees the 413 instead of
a reset), which on a kept connection would swallow the next request. So every request of a client paid
for a new TCP connection, its accept and the hand-off to a thread: about a tenth of the server's CPU per
REST request (bench/rest_vs_raw.py, whose client keeps its connection when the server lets it).

This handler keeps a connection when that is safe, and closes it otherwise as werkzeug did:

- only HTTP/1.1 requests without `Connection: close` are kept (an HTTP/1.0 client gets `close`);
- the request body is read through a stream limited to its Content-Length, so the application can never
  read into the next request, and what it left unread is read and dropped after the answer; a body over
  DRAIN_LIMIT bytes or a chunked one closes the connection (after werkzeug's drain), as before;
- every answer is delimited (Content-Length, chunked, or no body), as werkzeug's already were;
- an error in the application closes the connection;
- an idle kept connection waits KEEPALIVE_IDLE seconds for its next request, then is closed quietly,
  so idle clients do not hold the server's threads (gunicorn's `keepalive` in deploy/gunicorn.conf.py is 5 s too).

Everything else (the environ, logging, the 500 page and its logged traceback, dropped connections) is
werkzeug's own WSGIRequestHandler.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable

from werkzeug.exceptions import ClientDisconnected, InternalServerError
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

KEEPALIVE_IDLE = 5.0  # seconds a kept connection waits for its next request before it is closed
DRAIN_LIMIT = 1 << 20  # bodies up to this size keep the connection (their unread rest is read and dropped)
_DROPPED = (ConnectionError, socket.timeout)


class KeepAliveHandler(WSGIRequestHandler):
    """Werkzeug's request handler with HTTP/1.1 persistent connections (see the module's docstring)."""

    protocol_version = "HTTP/1.1"
    wbufsize = -1  # buffered: an answer's head and (first part of its) body leave in one write, not two
    _answered = 0  # requests answered on this connection
    _held: tuple | None = None  # the request's log line, held while its answer's first part is sent

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Werkzeug's request log line, written once the answer's first part has left (see _Answer.write):
        the client no longer waits for it, while the line and the order of the log's lines are the same."""
        if self._held is not None:
            self._held = (code, size)
            return
        super().log_request(code, size)

    def log_held(self) -> None:
        held, self._held = self._held, None
        if held:
            super().log_request(*held)

    def setup(self) -> None:
        super().setup()
        # A long answer, or one streamed, goes out in several writes. On a connection that stays open, Nagle's
        # algorithm holds a write until the client acknowledges the one before, and the client delays its
        # acknowledgement (~40 ms on Linux); closing the connection used to push the last one out at once.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        if self._answered:  # a kept connection: wait a while for the next request, quietly close if none comes
            self.connection.settimeout(KEEPALIVE_IDLE)
            try:
                waiting = self.rfile.peek(1)  # type: ignore[attr-defined]  # a BufferedReader (rbufsize -1)
            except OSError:  # the idle timeout, or the client went away
                waiting = b""
            if not waiting:
                self.close_connection = True
                return
            self.connection.settimeout(self.timeout)  # werkzeug's (none): a slow request is not cut short
        self._answered += 1
        super().handle_one_request()

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        self.environ = environ = self.make_environ()
        keep = self.request_version == "HTTP/1.1" and not self.close_connection
        body = None
        if environ.get("wsgi.input_terminated"):  # chunked: where it ends is the dechunker's business
            keep = False
        else:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= DRAIN_LIMIT:  # decided before the answer, which says whether it closes
                keep = False
            if keep:
                body = environ["wsgi.input"] = LimitedStream(self.rfile, length)
        answer = _Answer(self, environ)
        try:
            answer.run(self.server.app, keep)
            keep = keep and _rest_read(body)
        except _DROPPED as e:
            keep = False
            self.connection_dropped(e, environ)
        except Exception as e:
            keep = False
            if self.server.passthrough_errors:
                raise
            with contextlib.suppress(Exception):  # as werkzeug: the 500 page cannot follow an answer begun
                answer.failed()
            from werkzeug.debug.tbtools import DebugTraceback

            self.server.log("error", f"Error on request:\n{DebugTraceback(e).render_traceback_text()}")
        finally:
            if not keep:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self._drain()

    def _drain(self) -> None:
        """Before a close, read what the client still sends, so that it sees the answer rather than a reset, as
        werkzeug's server does: each read waits at most 10 ms, and at most 1,000 reads (a timeout ends it)."""
        self.connection.settimeout(0.01)
        for _ in range(1000):
            if not self.rfile.read1(1 << 20):  # type: ignore[attr-defined]  # a BufferedReader (rbufsize -1)
                return


def _rest_read(body: LimitedStream | None) -> bool:
    """After the answer: read and drop what the application left of the body; False if the client went away."""
    if body is None or body.is_exhausted:
        return body is not None
    try:
        body.exhaust()
    except (ClientDisconnected, OSError):
        return False
    return True


class _Answer:
    """start_response and write of one request, as werkzeug's run_wsgi has them, with `Connection: close`
    sent only when the connection will not be kept."""

    def __init__(self, handler: KeepAliveHandler, environ: dict) -> None:
        self.handler, self.environ = handler, environ
        self.status_set: str | None = None
        self.headers_set: list[tuple[str, str]] | None = None
        self.status_sent: str | None = None
        self.chunked = False
        self.keep = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info=None) -> Callable[[bytes], None]:  # noqa: ANN001
        if exc_info:
            try:
                if self.status_sent is not None:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.headers_set:
            raise AssertionError("Headers already set")
        self.status_set, self.headers_set = status, headers
        return self.write

    def write(self, data: bytes) -> None:
        try:
            self._write(data)
        finally:  # logged even when the client went away meanwhile, as werkzeug logs before sending
            self.handler.log_held()

    def _write(self, data: bytes) -> None:
        h = self.handler
        assert self.status_set is not None, "write() before start_response"
        assert self.headers_set is not None, "write() before start_response"
        if self.status_sent is None:
            self.status_sent = self.status_set
            try:
                code_str, msg = self.status_sent.split(None, 1)
            except ValueError:
                code_str, msg = self.status_sent, ""
            code = int(code_str)
            h._held = ()  # send_response's log line waits until the head has been sent
            h.send_response(code, msg)
            header_keys = set()
            for key, value in self.headers_set:
                h.send_header(key, value)
                header_keys.add(key.lower())
            if not ("content-length" in header_keys or self.environ["REQUEST_METHOD"] == "HEAD"
                    or 100 <= code < 200 or code in {204, 304}):
                self.chunked = True
                h.send_header("Transfer-Encoding", "chunked")
            if not self.keep:
                h.send_header("Connection", "close")
            h.end_headers()
        assert isinstance(data, bytes), "applications must write bytes"
        if data:
            if self.chunked:
                h.wfile.write(hex(len(data))[2:].encode())
                h.wfile.write(b"\r\n")
            h.wfile.write(data)
            if self.chunked:
                h.wfile.write(b"\r\n")
        h.wfile.flush()

    def run(self, app, keep: bool) -> None:  # noqa: ANN001 - a WSGI application
        self.keep = keep
        application_iter = app(self.environ, self.start_response)
        try:
            for data in application_iter:
                self.write(data)
            if self.status_sent is None:
                self.write(b"")
            if self.chunked:
                self.handler.wfile.write(b"0\r\n\r\n")
                self.handler.wfile.flush()
        finally:
            if hasattr(application_iter, "close"):
                application_iter.close()

    def failed(self) -> None:
        """The 500 page after an error in the application (nothing when the answer had begun)."""
        if self.status_sent is None:
            self.status_set = self.headers_set = None
        self.run(InternalServerError(), keep=False)
