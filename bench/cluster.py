"""A salesflow cluster on this machine, as production runs it: gunicorn web workers and
`salesflow worker` timer workers on one PostgreSQL database, and the failures to inflict on it.

    with Cluster(url, web_workers=4, timer_workers=2) as cluster:
        cluster.setup([PROCESSES / "load_approval.bpmn", FORMS], {"rep1": ["sales_rep"]})
        cluster.start()
        ... requests to cluster.base_url ...
        cluster.kill_web_worker()        # SIGKILL one gunicorn worker; the master forks a new one
        cluster.kill_timer_worker()      # SIGKILL one timer worker and start a replacement
        cluster.restart_postgres()       # pg_ctlcluster restart (every database on the server!)

Every process is started in a session (process group) of its own, and leaving the `with` block
stops them all (SIGTERM, then SIGKILL for what is left), whatever went wrong inside it. Should the
harness itself be killed, the kernel SIGKILLs its children (PR_SET_PDEATHSIG), and gunicorn's
workers exit once they notice their master is gone (within half the gunicorn timeout). Start and
kill from one thread: the death signal follows the thread that started a process.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn and salesflow live beside its python
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
PG_SERVER = os.environ.get("SALESFLOW_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PASSWORD = "load-test-password"


class ClusterError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Live child processes of pid (from /proc; gunicorn's workers are its master's children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "(comm)": state, ppid, ...
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the process that started it dies (Linux), so that a
    harness killed without a chance to clean up (SIGKILL, a CI timeout) leaves no server behind."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def busy_child(pids: list[int], seconds: float = 3.0) -> tuple[int, bool]:
    """(pid, True) for the first of pids seen running on a CPU within `seconds`; else (the last, False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(OSError, IndexError):
                if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "R":
                    return pid, True
        time.sleep(0.005)
    return pids[-1], False


@contextlib.contextmanager
def fresh_database(name: str, server: str = PG_SERVER) -> Iterator[str]:
    """A new empty PostgreSQL database on `server` (a URL without the database), dropped afterwards.
    Never one of the shared databases."""
    if name in ("test", "postgres", "template0", "template1") or not name.replace("_", "").isalnum():
        raise ClusterError(f"refusing to use database name {name!r}")
    # no pool: a connection kept from before a PostgreSQL restart would make the final DROP fail
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"{server}/{name}"
    finally:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception as exc:  # cleanup must not hide the run's own error
            print(f"could not drop database {name}: {exc}", file=sys.stderr)
        admin.dispose()


@dataclass
class Proc:
    role: str  # "web" or "timer-N"
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


@dataclass
class Cluster:
    url: str
    web_workers: int = 4
    timer_workers: int = 2
    timer_interval: float = 0.5
    web_threads: int = 1
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="salesflow-cluster-")))
    port: int = 0
    procs: list[Proc] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, what happened)

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.env = {**os.environ,
                    "SALESFLOW_DATABASE_URL": self.url,
                    "SALESFLOW_SECRET_KEY": secrets.token_hex(32),  # the same for every web worker
                    "SALESFLOW_PASSWORD_HASH": os.environ.get("SALESFLOW_PASSWORD_HASH", "pbkdf2:sha256:1000"),
                    "SALESFLOW_BIND": f"127.0.0.1:{self.port}",
                    "SALESFLOW_WEB_WORKERS": str(self.web_workers),
                    "SALESFLOW_WEB_THREADS": str(self.web_threads),
                    "PROMETHEUS_MULTIPROC_DIR": str(self.logs / "metrics"),
                    "PYTHONUNBUFFERED": "1"}
        self.env.pop("SALESFLOW_CONTROL_SOCKET", None)
        (self.logs / "metrics").mkdir(parents=True, exist_ok=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def note(self, what: str) -> None:
        self.events.append((time.monotonic(), what))

    # -- setting up ---------------------------------------------------------------------------
    def run_salesflow(self, *args: str, stdin: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
        """Run a `salesflow` command against the cluster's database."""
        return subprocess.run([str(BIN / "salesflow"), *args], env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=timeout, cwd=ROOT)

    def salesflow(self, *args: str, stdin: str | None = None, timeout: float = 180) -> str:
        """Run a `salesflow` command against the cluster's database; its output, or ClusterError."""
        done = self.run_salesflow(*args, stdin=stdin, timeout=timeout)
        if done.returncode != 0:
            raise ClusterError(f"salesflow {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def setup(self, paths: list[Path], people: dict[str, list[str]]) -> None:
        """`salesflow init`, `salesflow deploy PATHS`, then the users (all with PASSWORD). Users are
        added through the engine in this process: a CLI start per user costs seconds on a busy machine."""
        self.salesflow("init")
        self.salesflow("deploy", *map(str, paths), "--note", "load test")
        from engine import Engine

        eng = Engine(self.url)
        try:
            for name, roles in people.items():
                eng.add_user(name, roles, PASSWORD)
        finally:
            eng.db.dispose()

    # -- running --------------------------------------------------------------------------------
    def _spawn(self, role: str, argv: list[str]) -> Proc:
        log = self.logs / f"{role}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        proc = Proc(role, popen, log)
        self.procs.append(proc)
        return proc

    def start(self, timeout: float = 120) -> None:
        self._spawn("web", [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF)])
        for _ in range(self.timer_workers):
            self.start_timer_worker()
        self.wait_ready(timeout)
        self.note(f"cluster up: {self.web_workers} web workers on {self.base_url}, {self.timer_workers} timer workers")

    def serve(self, timeout: float = 120) -> None:
        """`salesflow serve` (Flask's threaded server, one process) instead of gunicorn; no timer
        worker. Build the Cluster with web_workers=0: this server forks no workers."""
        self._spawn("web", [str(BIN / "salesflow"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                            "--no-worker"])
        self.wait_ready(timeout)
        self.note(f"salesflow serve up on {self.base_url}")

    def start_timer_worker(self) -> Proc:
        n = sum(1 for p in self.procs if p.role.startswith("timer"))
        return self._spawn(f"timer-{n + 1}", [str(BIN / "salesflow"), "worker", "--interval", str(self.timer_interval)])

    @property
    def master(self) -> Proc:
        return next(p for p in self.procs if p.role == "web")

    def web_worker_pids(self) -> list[int]:
        return children_of(self.master.pid)

    def timer_procs(self) -> list[Proc]:
        return [p for p in self.procs if p.role.startswith("timer") and p.popen.poll() is None]

    def wait_ready(self, timeout: float = 120) -> None:
        """Until every web worker is up and /healthz answers 200 (the database is reachable)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.popen.poll() is not None and (p.role == "web" or p in self.timer_procs()):
                    raise ClusterError(f"{p.role} exited with {p.popen.returncode}; log: {p.log}\n{self.tail(p)}")
            health = self.health()
            if len(self.web_worker_pids()) >= self.web_workers and health.startswith("200"):
                return
            time.sleep(0.2)
        raise ClusterError(f"the cluster was not ready after {timeout}s (/healthz: {health}); logs in {self.logs}\n"
                           f"{self.tail(self.master)}")

    def health(self) -> str:
        """GET /healthz: "200 {...}", "503 {...}", or the connection error."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                return f"{response.status} {response.read()[:300].decode(errors='replace')}"
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            return f"no answer: {exc}"

    @staticmethod
    def tail(proc: Proc, lines: int = 30) -> str:
        try:
            return "\n".join(proc.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- failures -------------------------------------------------------------------------------
    def kill_web_worker(self, wait: float = 60) -> tuple[int, bool]:
        """SIGKILL one gunicorn worker, preferably one caught running (in the middle of a request);
        wait until the master has replaced it. Returns the killed pid and whether it was running."""
        before = self.web_worker_pids()
        if not before:
            raise ClusterError("no gunicorn worker to kill")
        victim, busy = busy_child(before)
        os.kill(victim, signal.SIGKILL)
        self.note(f"SIGKILL web worker {victim} ({'busy' if busy else 'idle'})")
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            now = self.web_worker_pids()
            if victim not in now and len(now) >= self.web_workers:
                self.note(f"web worker replaced: {sorted(set(now) - set(before))}")
                return victim, busy
            time.sleep(0.1)
        raise ClusterError(f"gunicorn did not replace worker {victim} within {wait}s")

    def kill_timer_worker(self, replace: bool = True) -> tuple[int, bool]:
        """SIGKILL one timer worker, preferably one caught running (firing timers), and start a
        replacement. Returns the killed pid and whether it was running."""
        alive = self.timer_procs()
        if not alive:
            raise ClusterError("no timer worker to kill")
        pid, busy = busy_child([p.pid for p in alive])
        victim = next(p for p in alive if p.pid == pid)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.popen.wait(10)
        self.note(f"SIGKILL timer worker {victim.role} ({victim.pid}, {'busy' if busy else 'idle'})")
        if replace:
            fresh = self.start_timer_worker()
            self.note(f"timer worker {fresh.role} ({fresh.pid}) started")
        return victim.pid, busy

    def restart_postgres(self, mode: str = "restart", restart: Callable[[], None] | None = None) -> float:
        """Break every database connection of the cluster; returns the seconds it took.

        "restart": `restart()` when given (the test suite's own throwaway server), else
        `pg_ctlcluster ... restart` (the whole server: other databases' clients see it too);
        "terminate": pg_terminate_backend on this database's connections only (no restart, for
        development on a shared server)."""
        started = time.monotonic()
        if mode == "restart" and restart is not None:
            restart()
        elif mode == "restart":
            version = sorted(os.listdir("/etc/postgresql"))[-1]
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                           check=True, capture_output=True, timeout=120)
        elif mode == "terminate":
            server, name = self.url.rsplit("/", 1)
            admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
            try:
                with admin.connect() as conn:
                    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            finally:
                admin.dispose()
        else:
            raise ValueError(f"unknown mode {mode}")
        took = time.monotonic() - started
        self.note(f"PostgreSQL {mode} ({took:.1f} s)")
        return took

    def connections(self) -> int | None:
        """How many connections the database has now (None when PostgreSQL does not answer)."""
        server, name = self.url.rsplit("/", 1)
        with contextlib.suppress(Exception):
            admin = create_engine(f"{server}/postgres", poolclass=NullPool)
            try:
                with admin.connect() as conn:
                    return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"),
                                        {"name": name}).scalar()
            finally:
                admin.dispose()
        return None

    # -- stopping -------------------------------------------------------------------------------
    def stop(self, grace: float = 20) -> None:
        """SIGTERM every process group (gunicorn lets workers finish their request), then SIGKILL
        whatever is still there after `grace` seconds. Never raises."""
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.popen.wait(max(0.1, deadline - time.monotonic()))
        for p in self.procs:  # the group too: a gunicorn worker may outlive its master
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.popen.wait(5)
        self.procs = [p for p in self.procs if p.popen.poll() is None]
