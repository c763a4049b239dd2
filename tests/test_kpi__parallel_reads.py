"""The KPI page's parts read side by side (engine/kpi/parallel_reads.py): a started part runs on a session of its own
told what the page asked already, a part no thread took is run by the page itself on its own session, a part's
error is the page's, a failed page leaves nothing running; on PostgreSQL the page's figures are the same read side
by side as read one after another, and on SQLite (one snapshot) nothing runs beside the page."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import pytest

from engine import users
from engine.kpi import parallel_reads, report
from engine.kpi.parallel_reads import Beside, beside
from tests import test_kpi__case_rows as case_rows_test
from tests import test_kpi__figures as figures


class _Session:
    """What a part is given: a session's `info`, and which session it is."""

    def __init__(self, name: str) -> None:
        self.name, self.info = name, {}


def _own_sessions(opened: list[_Session]):
    @contextlib.contextmanager
    def sessions() -> Iterator[_Session]:
        session = _Session(f"own {len(opened)}")
        opened.append(session)
        yield session

    return sessions


@contextlib.contextmanager
def _threads_busy() -> Iterator[None]:
    """Every thread of the pool held by another page's part until the block ends."""
    release = threading.Event()
    started = [threading.Event() for _ in range(parallel_reads.THREADS)]
    held = [parallel_reads._pool.submit(lambda e=e: (e.set(), release.wait(10))) for e in started]
    for event in started:
        assert event.wait(5)
    try:
        yield
    finally:
        release.set()
        for future in held:
            future.result(5)


def test_a_started_part_runs_on_a_session_of_its_own_told_what_the_page_asked():
    opened: list[_Session] = []
    caller = _Session("caller")
    known = {"kpi_tables": frozenset({"kpi_case"}), ("kpi_checked", "m", "usable", "()"): True}
    taken = threading.Event()

    def part(session: _Session) -> tuple:
        taken.set()
        return session.name, dict(session.info), threading.current_thread().name

    with beside(_own_sessions(opened), known) as parts:
        pending = parts.start(part)
        assert taken.wait(5)  # (the page asks for it later, after its own sections)
        name, info, thread = pending.result(caller)
    assert name == "own 0" and info == known and thread.startswith("kpi-part")
    assert caller.info == {}


def test_a_part_no_thread_took_is_run_by_the_page_on_its_own_session():
    opened: list[_Session] = []
    caller = _Session("caller")
    with _threads_busy(), beside(_own_sessions(opened)) as parts:
        pending = parts.start(lambda s: (s.name, threading.current_thread().name))
        assert pending.result(caller) == ("caller", threading.current_thread().name)
    assert opened == []  # no connection of its own was taken


def test_without_sessions_of_their_own_the_page_reads_each_part_itself():
    caller = _Session("caller")
    with beside(None) as parts:
        pending = parts.start(lambda s: s.name)
    assert pending.result(caller) == "caller"


def test_a_parts_error_is_raised_where_the_page_asks_for_its_result():
    def failing(_session: _Session) -> None:
        raise LookupError("the part failed")

    with beside(_own_sessions([])) as parts:
        pending = parts.start(failing)
        with pytest.raises(LookupError, match="the part failed"):
            pending.result(_Session("caller"))


def test_a_failed_page_waits_for_its_running_parts_and_cancels_the_others():
    opened: list[_Session] = []
    running = [threading.Event() for _ in range(parallel_reads.THREADS)]
    release, ran = threading.Event(), []

    def slow(started: threading.Event) -> Callable[[_Session], None]:
        def part(_session: _Session) -> None:
            started.set()
            release.wait(5)
            ran.append("slow")
        return part

    with pytest.raises(RuntimeError, match="the page failed"), beside(_own_sessions(opened)) as parts:
        for started in running:  # every thread taken
            parts.start(slow(started))
        assert all(started.wait(5) for started in running)
        parts.start(lambda _s: ran.append("queued"))  # no thread free for it
        threading.Timer(0.2, release.set).start()
        raise RuntimeError("the page failed")
    assert ran == ["slow"] * parallel_reads.THREADS  # waited for; the queued one never ran, took no session
    assert len(opened) == parallel_reads.THREADS


@pytest.fixture(scope="module")
def data_set(_schema, tmp_path_factory):
    yield from figures.repository_data_set(_schema, tmp_path_factory, case_rows_test.build)


@pytest.mark.parametrize("user", ["aud", "mgr1"])
@pytest.mark.parametrize("filters", [{}, {"from": "2026-03-01", "to": "2026-03-15"}, {"process": "complaint"}],
                         ids=["all", "days", "complaint"])
def test_the_page_read_side_by_side_equals_the_page_read_one_part_after_another(data_set, user, filters,
                                                                               monkeypatch):
    eng, _ = data_set
    side_by_side: list[bool] = []
    real = Beside.__init__

    def spy(self: Beside, sessions: object, known: dict | None = None) -> None:
        side_by_side.append(sessions is not None)
        real(self, sessions, known)

    monkeypatch.setattr(Beside, "__init__", spy)
    page = eng.kpi(user, filters)
    with eng.db.read() as s:
        alone = report.build(s, users.get_actor(s, user), eng.clock.now(), filters, None)
    assert side_by_side == [not eng.db.is_sqlite, False]  # SQLite: its one read transaction, no part beside it
    assert page == alone and page["times"] and all(t["overall"]["count"] for t in page["times"])
