"""`salesflow serve` keeps HTTP/1.1 connections (webui/keepalive.py): several requests on one connection,
each answered whole, and a connection closed whenever keeping it would not be safe."""

from __future__ import annotations

import http.client
import io
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask, Response, request

from webui import keepalive
from webui import serving as serving_module
from webui.serving import PooledWSGIServer


def _app() -> Flask:
    app = Flask(__name__)

    @app.post("/echo")
    def echo() -> dict:
        return {"got": request.get_json()["n"]}

    @app.post("/ignore")
    def ignore() -> str:  # answers without reading the body
        return "ignored"

    @app.get("/stream")
    def stream() -> Response:  # no Content-Length: sent chunked
        return Response((f"part{i};" for i in range(3)), mimetype="text/plain")

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = True  # as a crash in the application reaches the server
    return app


@contextmanager
def _served() -> Iterator[PooledWSGIServer]:
    server = PooledWSGIServer("127.0.0.1", 0, _app())
    accepted = []
    original = server.get_request

    def counting() -> tuple:
        got = original()
        accepted.append(got[1])
        return got

    server.get_request = counting  # type: ignore[method-assign]
    server.accepted = accepted  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def _exchange(sock: socket.socket, raw: bytes) -> bytes:
    """Send raw bytes, read one whole answer (Content-Length or chunked) off the socket."""
    sock.sendall(raw)
    reader = sock.makefile("rb")
    response = http.client.HTTPResponse(sock)
    response.fp = reader
    response.begin()
    body = response.read()
    return response.status, dict((k.lower(), v) for k, v in response.getheaders()), body  # type: ignore[return-value]


def test_requests_share_one_connection() -> None:
    with _served() as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        for n in range(5):
            conn.request("POST", "/echo", body=f'{{"n": {n}}}', headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            assert response.status == 200
            assert response.getheader("Connection") is None
            assert response.read() == f'{{"got":{n}}}\n'.encode()
        conn.request("GET", "/stream")
        response = conn.getresponse()
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.read() == b"part0;part1;part2;"
        conn.request("POST", "/echo", body='{"n": 9}', headers={"Content-Type": "application/json"})
        assert conn.getresponse().read() == b'{"got":9}\n'
        conn.close()
        assert len(server.accepted) == 1  # type: ignore[attr-defined]


def test_an_unread_body_does_not_become_the_next_request() -> None:
    with _served() as server, socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        junk = b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n"  # a body that looks like a request
        first = (b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: " + str(len(junk)).encode() + b"\r\n\r\n" + junk)
        assert _exchange(sock, first)[::2] == (200, b"ignored")
        status, headers, body = _exchange(sock, b'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                                                b'Content-Length: 8\r\n\r\n{"n": 7}')
        assert (status, body) == (200, b'{"got":7}\n')
        assert "connection" not in headers


@pytest.mark.parametrize("request_head", [
    b"GET /stream HTTP/1.0\r\nHost: x\r\n\r\n",  # HTTP/1.0
    b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",  # the client asks to close
    b"POST /ignore HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",  # chunked body
])
def test_connections_that_cannot_be_kept_are_closed(request_head: bytes) -> None:
    with _served() as server, socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        sock.sendall(request_head)
        answer = b""
        while chunk := sock.recv(65536):  # ends: the server closes
            answer += chunk
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        assert head.startswith((b"http/1.0 200", b"http/1.1 200"))
        assert b"connection: close" in head


def test_an_error_answers_500_and_closes() -> None:
    with _served() as server, socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        status, headers, _ = _exchange(sock, b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 500
        assert headers["connection"] == "close"
        assert sock.recv(10) == b""


def test_an_idle_connection_is_closed_and_its_thread_freed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keepalive, "KEEPALIVE_IDLE", 0.3)
    with _served() as server, socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        assert _exchange(sock, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200
        started = time.monotonic()
        assert sock.recv(10) == b""  # closed by the server, without an answer of any kind
        assert 0.2 < time.monotonic() - started < 5
        deadline = time.monotonic() + 5
        while server._idle < 1:  # the thread waits for another connection
            assert time.monotonic() < deadline
            time.sleep(0.01)


def test_a_client_expecting_100_continue_is_told_to_go_on() -> None:
    with _served() as server, socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        sock.settimeout(5)
        # before the body was sent (http.server and werkzeug each send one: as before, the client skips both)
        assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.settimeout(10)
        status, _, body = _exchange(sock, b'{"n": 3}')
        assert (status, body) == (200, b'{"got":3}\n')


class _BlockingLog(logging.Handler):
    """Werkzeug's request log held up (a slow disk, a full pipe) until released; the lines it got."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.go.wait(10)
        self.lines.append(record.getMessage())


def test_the_answer_does_not_wait_for_the_request_log() -> None:
    log, werkzeug_log = _BlockingLog(), logging.getLogger("werkzeug")
    werkzeug_log.addHandler(log)
    try:
        with _served() as server:
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
            conn.request("POST", "/echo", body=b'{"n": 7}', headers={"Content-Type": "application/json"})
            response = conn.getresponse()  # before the log line is released
            assert (response.status, response.read()) == (200, b'{"got":7}\n')
            assert log.lines == []
            log.go.set()
            deadline = time.monotonic() + 10
            while not log.lines and time.monotonic() < deadline:
                time.sleep(0.01)
            conn.close()
    finally:
        werkzeug_log.removeHandler(log)
    assert len(log.lines) == 1 and log.lines[0].endswith('"POST /echo HTTP/1.1" 200 -')


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.mark.parametrize(("stream", "coloured"), [(io.StringIO(), False), (_Terminal(), True)])
def test_the_request_log_is_coloured_on_a_terminal_only(stream: io.StringIO, coloured: bool,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A log file (`salesflow serve 2> server.log`) gets plain lines; a terminal keeps werkzeug's colours."""
    monkeypatch.setattr(serving_module.werkzeug.serving, "_log_add_style", not coloured)
    serving_module.colour_log_on_terminal_only(stream)
    log, werkzeug_log = _Lines(), logging.getLogger("werkzeug")
    werkzeug_log.addHandler(log)
    try:
        with _served() as server:
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
            conn.request("GET", "/nowhere")
            assert conn.getresponse().status == 404
            conn.close()
            deadline = time.monotonic() + 10
            while not log.lines and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        werkzeug_log.removeHandler(log)
    assert len(log.lines) == 1 and "GET /nowhere HTTP/1.1" in log.lines[0] and log.lines[0].endswith(" 404 -")
    assert ("\x1b[" in log.lines[0]) is coloured
