"""Parts of the KPI page read side by side, each on a read session of its own (PostgreSQL; docs/kpi.md "Side by side").

At a million instances the page spends about as long waiting for PostgreSQL (phase 2's index steps above all) as it
spends in Python, and each measure's times (engine/kpi/times.py) depend on nothing else the page reads. A `Beside`
starts such a part on a small pool of threads shared by the process, with a session of its own, while the caller
goes on with the rest on its own session; `Pending.result` then waits for it. A part no thread has taken yet is run
by the caller itself, on the caller's session: a page never waits for a thread that is busy with another page's
work, and never needs more than the connections its started parts already hold (a pool of connections used up by
pages waiting for connections cannot happen).

The figures are the same either way: on PostgreSQL each statement of a read transaction (READ COMMITTED) sees what
was committed when it started, so the page's statements never shared one snapshot; a part on its own session is one
more such statement sequence. SQLite's read transaction is one snapshot for the whole page: there the page reads
one part after another (`Beside(None)`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
Sessions = Callable[[], AbstractContextManager[Session]]  # a read session of its own, configured as the page's

# threads shared by every page of the process: a page starts at most its measures' times (two), and a process of a
# sync server answers one request at a time; a threaded server's pages beyond that run their parts themselves
THREADS = 2
_pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="kpi-part")


class Pending(Generic[T]):
    """A part of the page started beside the caller (or to be run by it)."""

    def __init__(self, part: Callable[[Session], T], future: Future | None) -> None:
        self._part, self._future = part, future

    def result(self, session: Session) -> T:
        """The part's result: waited for when a thread runs it, else run here on `session` (the caller's)."""
        if self._future is None or self._future.cancel():
            return self._part(session)
        return self._future.result()


class Beside:
    """Starts parts of the page on sessions of their own (`sessions`), or (None) leaves them to the caller."""

    def __init__(self, sessions: Sessions | None, known: dict | None = None) -> None:
        self._sessions, self._known = sessions, dict(known or {})
        self._started: list[Future] = []

    def start(self, part: Callable[[Session], T]) -> Pending[T]:
        if self._sessions is None:
            return Pending(part, None)
        future = _pool.submit(self._run, part)
        self._started.append(future)
        return Pending(part, future)

    def _run(self, part: Callable[[Session], T]) -> T:
        with self._sessions() as session:
            session.info.update(self._known)  # what the page asked already (day_rows.asked)
            return part(session)

    def settle(self) -> None:
        """Cancels what no thread has taken and waits for what one has (a failed page leaves nothing running that
        would hold a connection after it)."""
        # every one cancelled before any is waited for: a thread freed meanwhile takes none of them
        running = [future for future in self._started if not future.cancel()]
        for future in running:
            with contextlib.suppress(Exception):  # the page's own error is the one raised
                future.result()


@contextlib.contextmanager
def beside(sessions: Sessions | None, known: dict | None = None) -> Iterator[Beside]:
    """A `Beside` that is settled when the block ends, however it ends; `known`: what the caller's session learnt
    that holds for the whole page (its `info` entries), given to each part's session."""
    parts = Beside(sessions, known)
    try:
        yield parts
    finally:
        parts.settle()
