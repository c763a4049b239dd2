"""The server `salesflow serve` runs: werkzeug's development server, its connections handled by reused threads
and kept open between requests (HTTP/1.1 keep-alive: webui/keepalive.py).

Werkzeug's threaded server starts a thread for every connection, and it closed every connection after
one response (it has no keep-alive), so every request paid for a new thread: on the REST benchmark
(bench/rest_vs_raw.py) ~0.1 ms of the server's ~2.9 ms of CPU per request, for the thread's start and
the cold state of a new thread. Here a thread that has answered waits for the next connection instead;
one is started only when none is idle, so requests run as concurrently as before (without a limit), and
at most KEEP_IDLE idle threads stay after a burst. A thread stays with its connection while the client keeps
it (at most keepalive.KEEPALIVE_IDLE seconds idle). The request handling is werkzeug's own but for keep-alive.
"""

from __future__ import annotations

import gc
import queue
import socket
import sys
import threading
from typing import TextIO

import werkzeug.serving
from flask import Flask
from werkzeug.serving import ThreadedWSGIServer

from webui.keepalive import KeepAliveHandler

KEEP_IDLE = 16  # idle threads kept for the next connections; the others end after their request


class PooledWSGIServer(ThreadedWSGIServer):
    """ThreadedWSGIServer (daemon threads, one request per connection) whose threads are reused."""

    def __init__(self, host: str, port: int, app: Flask) -> None:
        super().__init__(host, port, app, handler=KeepAliveHandler)
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads that will take the next queued connection (each put is matched by one)
        self._closed = False

    def process_request(self, request: socket.socket, client_address: tuple) -> None:  # type: ignore[override]
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._waiting.put((request, client_address))
                return
        threading.Thread(target=self._work, args=(request, client_address), daemon=True,
                         name="salesflow-request").start()

    def _work(self, request: socket.socket, client_address: tuple) -> None:
        while True:
            self.process_request_thread(request, client_address)  # the connection's requests, then its close
            with self._lock:
                if self._closed or self._idle >= KEEP_IDLE:
                    return
                self._idle += 1
            taken = self._waiting.get()
            if taken is None:  # the server closed
                return
            request, client_address = taken

    def server_close(self) -> None:
        """Close the socket and end the idle threads (a thread still answering ends after its request)."""
        super().server_close()
        with self._lock:
            idle, self._idle, self._closed = self._idle, 0, True
        for _ in range(idle):
            self._waiting.put(None)


def colour_log_on_terminal_only(stream: TextIO) -> None:
    """Werkzeug colours each request line's status with terminal escape codes wherever its log goes (it checks
    only for Windows); in a log file, as `salesflow serve 2> server.log` or a service manager writes one, they are
    noise around every line. Its switch is a module-level flag (werkzeug.serving._log_add_style), read per line."""
    werkzeug.serving._log_add_style = stream.isatty()


def serve(app: Flask, host: str, port: int) -> None:
    """Serve `app` until interrupted (Ctrl-C), as Flask's app.run(threaded=True) did."""
    colour_log_on_terminal_only(sys.stderr)  # werkzeug's log handler writes to stderr
    server = PooledWSGIServer(host, port, app)
    # What was built to serve (the app, the engine's caches, the imported libraries: most of the process's
    # objects) lives as long as the process. Frozen, the cyclic garbage collector's full passes no longer walk
    # it all again: ~0.05 ms of CPU per REST request on bench/rest_vs_raw.py (its GC time more than halved).
    gc.collect()
    gc.freeze()
    server.log_startup()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
