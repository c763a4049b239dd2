"""`salesflow serve`'s server (webui/serving.py): requests still run side by side, each connection on a
thread of its own, and a thread that answered takes a later connection instead of a new thread starting."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from webui.serving import KEEP_IDLE, PooledWSGIServer


@contextmanager
def _served(app: Flask) -> Iterator[PooledWSGIServer]:
    server = PooledWSGIServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def _get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _app(release: threading.Event, inside: threading.Semaphore) -> Flask:
    app = Flask(__name__)
    serials, mine = itertools.count(1), threading.local()  # a number per thread, never reused (idents are)

    @app.get("/wait")
    def wait() -> str:  # holds its thread until the test releases it
        inside.release()
        release.wait(30)
        return threading.current_thread().name

    @app.get("/who")
    def who() -> str:
        if not hasattr(mine, "serial"):
            mine.serial = next(serials)
        return str(mine.serial)

    return app


def test_requests_run_side_by_side_and_threads_are_reused() -> None:
    release, inside = threading.Event(), threading.Semaphore(0)
    with _served(_app(release, inside)) as server:
        port = server.server_port
        answers: list[tuple[int, str]] = []
        slow = [threading.Thread(target=lambda: answers.append(_get(port, "/wait"))) for _ in range(3)]
        for t in slow:
            t.start()
        for _ in slow:  # all three are inside the app at once: none waits for another to finish
            assert inside.acquire(timeout=10)
        assert _get(port, "/who")[0] == 200  # and a fourth is answered meanwhile
        release.set()
        for t in slow:
            t.join(10)
        assert [status for status, _ in answers] == [200, 200, 200]
        idle = set()
        for _ in range(20):  # one after another, each once the thread that answered the last is back waiting
            _until_idle(server)  # (its client has the answer a moment before: under load the next may come first)
            idle.add(_get(port, "/who")[1])
        assert len(idle) <= 4  # served by the threads there, no new one each


def _until_idle(server: PooledWSGIServer, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while server._idle < 1:
        assert time.monotonic() < deadline, "no thread went back to waiting"
        time.sleep(0.005)


def test_at_most_keep_idle_threads_stay_after_a_burst() -> None:
    release, inside = threading.Event(), threading.Semaphore(0)
    with _served(_app(release, inside)) as server:
        burst = KEEP_IDLE + 4
        clients = [threading.Thread(target=_get, args=(server.server_port, "/wait")) for _ in range(burst)]
        for t in clients:
            t.start()
        for _ in clients:
            assert inside.acquire(timeout=10)
        release.set()
        for t in clients:
            t.join(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and server._idle < KEEP_IDLE:
            time.sleep(0.05)
        time.sleep(0.2)
        assert server._idle == KEEP_IDLE
        assert sum(t.name == "salesflow-request" for t in threading.enumerate()) == KEEP_IDLE
