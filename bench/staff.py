"""Simulated staff: threads that log in, start instances and work them to the end through the
REST API, as people at their desks would, and keep a ledger of every command the server
acknowledged (2xx) so that a test can check afterwards that each one is in the database.

Retries: a connection error or a 5xx is retried with a growing pause (the web worker may have been
killed, PostgreSQL may be restarting); a 4xx is an answer. A 409 on claim or complete means somebody
else got there first: the task is read again. A command retried after its answer was lost may
already have happened: a complete that then gets 409 although the task shows as ours is counted as
"ambiguous" (its first attempt committed), never as acknowledged.

Only the standard library (http.client, one keep-alive connection per thread).
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

API = "/api/v1"


@dataclass(frozen=True)
class Ack:
    """A command the server acknowledged with a 2xx."""

    kind: str  # start | claim | complete
    user: str
    task_id: str | None
    instance_id: int | None
    bpmn_id: str | None = None


class Ledger:
    """What the staff did and saw, shared by every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.acks: list[Ack] = []
        self.counts: Counter[str] = Counter()
        self.ambiguous: list[tuple[str, str]] = []  # (task id, user)
        self.latencies: dict[str, list[float]] = {}  # command -> seconds of its successful calls
        self.errors: list[str] = []
        self.retry_times: list[float] = []  # time.monotonic() of every failed attempt (connection error, 5xx)

    def ack(self, a: Ack) -> None:
        with self._lock:
            self.acks.append(a)
            self.counts[f"ack_{a.kind}"] += 1

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def latency(self, command: str, seconds: float) -> None:
        with self._lock:
            self.latencies.setdefault(command, []).append(seconds)

    def error(self, text: str) -> None:
        with self._lock:
            self.counts["unexpected"] += 1
            if len(self.errors) < 50:
                self.errors.append(text)


class Unavailable(Exception):
    """The server did not answer usefully within the retry budget."""


class Client:
    """JSON over one keep-alive HTTP connection, with retries on connection errors and 5xx."""

    def __init__(self, base_url: str, ledger: Ledger, retry_for: float = 90.0, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.ledger, self.retry_for, self.timeout = ledger, retry_for, timeout
        self.token: str | None = None
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def once(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        """One attempt; OSError/HTTPException on a broken connection."""
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        conn = self._connection()
        try:
            conn.request(method, API + path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")

    def call(self, method: str, path: str, body: dict | None = None, command: str = "") -> tuple[int, object, int]:
        """(status, body, retries): retried on connection errors and 5xx until retry_for seconds pass."""
        deadline = time.monotonic() + self.retry_for
        pause, retries = 0.05, 0
        while True:
            started = time.perf_counter()
            try:
                status, answer = self.once(method, path, body)
                if status < 500:
                    if command and 200 <= status < 300:
                        self.ledger.latency(command, time.perf_counter() - started)
                    return status, answer, retries
                self.ledger.count(f"http_{status}")
            except (OSError, http.client.HTTPException) as exc:
                self.ledger.count(f"conn_{type(exc).__name__}")
            with self.ledger._lock:
                self.ledger.retry_times.append(time.monotonic())
            if time.monotonic() > deadline:
                raise Unavailable(f"{method} {path}: no answer after {retries} retries")
            retries += 1
            self.ledger.count("retries")
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 2.0)


def logged_in(base_url: str, ledger: Ledger, username: str, password: str, **client_options: float) -> Client:
    """A client holding a bearer token of `username` (POST /tokens)."""
    client = Client(base_url, ledger, **client_options)
    status, body, _ = client.call("POST", "/tokens", {"username": username, "password": password})
    if status != 201:
        raise RuntimeError(f"{username} could not log in: {status} {body}")
    client.token = body["token"]
    return client


def form_data(task: dict) -> dict:
    """What a person types into each task of bench/processes (load_approval, rest_steps)."""
    if task.get("name") in ("review", "approve"):
        return {"approved": True, "comment": f"ok from {task.get('assignee') or 'staff'}"}
    return {"note": "done"}


@dataclass
class Staff:
    """One simulated person. Holders of a starter role start instances (at most `open_cap` of their
    own running at once); everyone works the tasks their inbox offers: claim, then complete."""

    name: str
    password: str
    client: Client
    ledger: Ledger
    process: str | None = None  # the process key to start (None: never starts)
    open_cap: int = 2
    think: float = 0.0  # seconds to "read" a task before completing it
    started: set[int] = field(default_factory=set)
    finished_own: set[int] = field(default_factory=set)

    def login(self) -> None:
        status, body, _ = self.client.call("POST", "/tokens", {"username": self.name, "password": self.password})
        if status != 201:
            raise RuntimeError(f"{self.name} could not log in: {status} {body}")
        self.client.token = body["token"]

    def run(self, stop: threading.Event) -> None:
        try:
            self.login()
            while not stop.is_set():
                worked = self.start_one() if self.process else False
                worked = self.work_inbox(stop) or worked
                if not worked:
                    stop.wait(0.2)
        except Unavailable as exc:
            self.ledger.error(f"{self.name}: {exc}")
        except Exception as exc:  # a crashed thread must show up in the summary
            self.ledger.error(f"{self.name}: {type(exc).__name__}: {exc}")
        finally:
            self.client.close()

    def start_one(self) -> bool:
        if len(self.started) - len(self.finished_own) >= self.open_cap:
            return False
        data = {"customer_name": f"客户 {self.name}", "amount_yuan": random.randint(1, 50000)}
        status, body, retries = self.client.call("POST", f"/processes/{self.process}/instances", {"data": data},
                                                 command="start")
        if status == 201:
            self.started.add(body["id"])
            self.ledger.ack(Ack("start", self.name, None, body["id"]))
            if retries:
                self.ledger.count("start_retried")  # the lost first attempt may have started one too
            return True
        self.ledger.error(f"{self.name}: start answered {status} {body}")
        return False

    def work_inbox(self, stop: threading.Event) -> bool:
        status, tasks, _ = self.client.call("GET", "/tasks", command="inbox")
        if status != 200:
            self.ledger.error(f"{self.name}: inbox answered {status} {tasks}")
            return False
        random.shuffle(tasks)  # people do not all pick the top task
        worked = False
        for task in tasks:
            if stop.is_set():
                break
            worked = self.work(task) or worked
        return worked

    def work(self, task: dict) -> bool:
        tid = task["id"]
        if task.get("assignee") not in (None, self.name):
            return False
        if task.get("assignee") is None:
            status, body, _ = self.client.call("POST", f"/tasks/{tid}/claim", command="claim")
            if status == 409:
                self.ledger.count("conflict_claim")
                return False
            if status != 200:
                self.ledger.error(f"{self.name}: claim {tid} answered {status} {body}")
                return False
            self.ledger.ack(Ack("claim", self.name, tid, task["instance_id"], task.get("name")))
        if self.think:
            time.sleep(self.think * random.random())
        status, body, retries = self.client.call("POST", f"/tasks/{tid}/complete", {"data": form_data(task)},
                                                 command="complete")
        if status == 200:
            self.ledger.ack(Ack("complete", self.name, tid, task["instance_id"], task.get("name")))
            if task.get("name") == "archive":  # the requester's last task (a reminder branch may still run)
                self.finished_own.add(task["instance_id"])
            return True
        if status == 409:
            self.ledger.count("conflict_complete")
            self.reread(tid, retries)
            return False
        self.ledger.error(f"{self.name}: complete {tid} answered {status} {body}")
        return False

    def reread(self, tid: str, retries: int) -> None:
        """After a 409: who has the task now? If it is completed and was ours while our command had to
        be retried, our lost first attempt did it."""
        status, body, _ = self.client.call("GET", f"/tasks/{tid}")
        if status == 200 and body.get("status") == "completed" and body.get("assignee") == self.name and retries:
            with self.ledger._lock:
                self.ledger.ambiguous.append((tid, self.name))
            self.ledger.count("ambiguous_complete")


def run_staff(people: list[Staff], seconds: float, on_tick=None) -> None:  # noqa: ANN001
    """Run everyone for `seconds`; on_tick(elapsed) is called every 0.2 s from this thread (to inflict
    failures at set times). Each person finishes the command in hand before the thread ends."""
    stop = threading.Event()
    threads = [threading.Thread(target=p.run, args=(stop,), name=f"staff-{p.name}", daemon=True) for p in people]
    for t in threads:
        t.start()
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            if on_tick is not None:
                on_tick(time.monotonic() - started)
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(120)
