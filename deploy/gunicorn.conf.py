"""gunicorn settings for the salesflow web application: `gunicorn -c deploy/gunicorn.conf.py`.

Every setting can be changed through the environment (one web server = one set of variables),
so the same file serves a laptop, each of several hosts behind a load balancer, and bench/cluster.py:

  SALESFLOW_BIND            address:port to listen on                 (default 127.0.0.1:8000)
  SALESFLOW_WEB_WORKERS     worker processes                          (default 2 x CPU cores + 1)
  SALESFLOW_WEB_THREADS     threads per worker; >1 uses gthread       (default 1: sync workers)
  SALESFLOW_WEB_TIMEOUT     seconds a request may run before its worker is killed and replaced (default 30)
  SALESFLOW_WEB_PRELOAD     1: import the app once in the master, then fork (default 0, see below)
  SALESFLOW_ACCESS_LOG      a file, or - for stderr; unset: no access log
  SALESFLOW_LOG_LEVEL       gunicorn's error log level                (default info)
  SALESFLOW_CONTROL_SOCKET  a path for gunicornc, gunicorn's control socket (default: none)
  PROMETHEUS_MULTIPROC_DIR  where the workers' /metrics counters live (default: a fresh temporary folder)

The application itself reads SALESFLOW_DATABASE_URL and SALESFLOW_SECRET_KEY (docs/deployment.md).
"""

from __future__ import annotations

import glob
import os
import tempfile

from engine.config import SettingError, whole_number

_env = os.environ.get


def _whole(name: str, default: int) -> int:
    """A whole number of at least 1 (engine.config's one reading of it); an unusable value stops gunicorn
    with one line naming the variable (SystemExit passes gunicorn's traceback-printing config loader)."""
    try:
        return whole_number(name, default, minimum=1)
    except SettingError as exc:
        raise SystemExit(f"error: {exc}") from None


# -- where and how many -------------------------------------------------------------------------
wsgi_app = "webui.wsgi:app"
bind = [_env("SALESFLOW_BIND", "127.0.0.1:8000")]

# A request is CPU-bound Python (SpiffWorkflow restores and runs the workflow) plus a few database
# round trips, so processes, not threads, give the parallelism; gunicorn's rule of thumb
# 2 x cores + 1 keeps every core busy while some workers wait on PostgreSQL.
workers = _whole("SALESFLOW_WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1)
# Threads only help while requests wait (slow clients, lock waits). Each thread may hold one
# database connection: connections per web server = workers x threads (docs/deployment.md).
threads = _whole("SALESFLOW_WEB_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

# -- time limits --------------------------------------------------------------------------------
# A command normally takes milliseconds; 30 s only catches a stuck worker (it is SIGKILLed and
# replaced, its transaction rolled back by PostgreSQL when the connection drops).
timeout = _whole("SALESFLOW_WEB_TIMEOUT", 30)
# On SIGTERM/SIGHUP a worker finishes the request in hand (and commits it) before it exits.
graceful_timeout = 30
# Behind a load balancer that keeps connections open; must be shorter than the balancer's idle timeout.
keepalive = 5

# -- recycling ----------------------------------------------------------------------------------
# Replace each worker after about 1000 requests: bounds any slow growth (the per-process spec
# cache holds every process version a worker has run). The jitter keeps workers from restarting
# all at once.
max_requests = 1000
max_requests_jitter = 100

# -- forking and the database pool ----------------------------------------------------------------
# Off by default: each worker imports the app after the fork and builds its own SQLAlchemy engine,
# so no database connection can ever be shared between processes. With preload on (faster worker
# starts, less memory), the engine built in the master is copied into every worker; post_fork below
# then drops the copied pool without closing its sockets (dispose(close=False), SQLAlchemy's advice
# for forking), so each worker opens fresh connections of its own.
preload_app = _env("SALESFLOW_WEB_PRELOAD", "0") == "1"

# Heartbeat files in memory, not on a disk that may stall (gunicorn's advice for containers too).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# gunicorn 25+ opens a control socket for `gunicornc` at one fixed path per user
# (~/.gunicorn/gunicorn.ctl): a second server on the same host (a second site, bench/cluster.py)
# would take it over. Only with a path of its own.
control_socket = _env("SALESFLOW_CONTROL_SOCKET") or "gunicorn.ctl"
control_socket_disable = not _env("SALESFLOW_CONTROL_SOCKET")

# -- logging ------------------------------------------------------------------------------------
accesslog = _env("SALESFLOW_ACCESS_LOG") or None
errorlog = "-"
loglevel = _env("SALESFLOW_LOG_LEVEL", "info")
proc_name = "salesflow-web"

# -- /metrics across workers ----------------------------------------------------------------------
# prometheus_client keeps each worker's counters in files in this folder, so a scrape answered by any
# worker adds up all of them. Set before any worker imports prometheus_client (workers inherit it).
if not _env("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="salesflow-metrics-")


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn's Arbiter
    """A new master starts counting from zero: files of an earlier run would be added in."""
    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(path)


def post_fork(server, worker) -> None:  # noqa: ANN001 - gunicorn's Arbiter and Worker
    if not server.cfg.preload_app:
        return
    from webui.wsgi import app

    app.extensions["salesflow"].db.dispose(close=False)  # the master's connections stay the master's


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's Worker
    """What the worker built to serve (the app, the engine's caches, the imported libraries) lives as long as it:
    frozen, the garbage collector's full passes no longer walk it all again during a request (as `salesflow serve`
    does, webui/serving.py: a full pass over them took 25-60 ms in the middle of a KPI page)."""
    import gc

    gc.collect()
    gc.freeze()


def child_exit(server, worker) -> None:  # noqa: ANN001
    """A dead worker's live gauges must not linger in /metrics (its counters are kept)."""
    try:
        from prometheus_client import multiprocess
    except ImportError:
        return
    multiprocess.mark_process_dead(worker.pid)
