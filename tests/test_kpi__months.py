"""The KPI page counts rows per company month in SQL (engine/kpi/months.py, a CASE over month boundaries computed
with zoneinfo): the months it gives must be month_of's for every row, on both databases and in any zone — zones
whose clocks jump at midnight (Havana, Santiago), half-hour offsets (Kolkata, Tehran), the date line (Apia)."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from engine import Engine
from engine.kpi import measures, months
from engine.kpi.filters import Window
from engine.store.models import Instance, ProcessVersion

ZONES = ("Asia/Shanghai", "America/Havana", "America/Santiago", "Asia/Kolkata", "Asia/Tehran", "Pacific/Apia")
FIRST, LAST = datetime(2025, 10, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)


def instants() -> list[datetime]:
    """A microsecond either side of every month boundary of every zone, and each boundary itself."""
    edges = {start for zone in ZONES for _label, start, _end in months.span(FIRST, LAST, zone)}
    return sorted(edge + timedelta(microseconds=d) for edge in edges for d in (-1, 0, 1))


@pytest.fixture
def registered(approval: Engine) -> Engine:
    with approval.db.write() as s:
        version = s.scalar(select(ProcessVersion.id))
        for n, at in enumerate(instants(), start=1000):
            s.add(Instance(id=n, process_version_id=version, process_key="edge", status="running", started_by="rep",
                           started_at=at, state_json="{}", serializer_version="t", data_json="{}", rev=1))
    return approval


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("guess", ["exact", "too narrow", "unknown"])
def test_sql_months_are_month_of(registered: Engine, zone: str, guess: str) -> None:
    bounds = {"exact": (instants()[0], instants()[-1]), "unknown": (None, None),
              "too narrow": (FIRST + timedelta(days=40), FIRST + timedelta(days=100))}[guess]  # counted again
    query = select(Instance.id).where(Instance.process_key == "edge")
    with registered.db.read() as s:
        rows = months.counts(s, query, Instance.started_at, [], bounds, zone)
    assert dict(rows) == Counter(months.month_of(at, zone) for at in instants())


@pytest.mark.parametrize("zone", ZONES)
def test_month_of_remembering_its_last_month(zone: str) -> None:
    month = months.Months(zone)
    assert [month(at) for at in instants()] == [months.month_of(at, zone) for at in instants()]


def test_the_registrations_bounds_are_the_first_and_last_and_seek_the_index_ends(registered: Engine) -> None:
    """measures.registration_bounds with an open window: the first and last registration, each one seek of
    ix_instance_started_at on SQLite (min() and max() in one SELECT made SQLite read every entry of it)."""
    everything = Window(start=None, end=None, process=None)
    with registered.db.read() as s:
        first, last = measures.registration_bounds(s, everything)
        assert (first, last) == (s.scalar(select(Instance.started_at).order_by(Instance.started_at).limit(1)),
                                 s.scalar(select(Instance.started_at).order_by(Instance.started_at.desc()).limit(1)))
        assert first <= instants()[0] and last == instants()[-1]
        asked_again: list[str] = []  # once per session (the page's parts are handed the answer: day_rows.asked)
        with measures_statements(s, asked_again):
            assert measures.registration_bounds(s, everything) == (first, last)
        assert asked_again == []
    with registered.db.read() as s:
        if s.get_bind().dialect.name == "sqlite":
            seen: list[str] = []
            with measures_statements(s, seen):
                measures.registration_bounds(s, everything)
            plan = [row[3] for row in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + seen[0])]
            assert [line for line in plan if "instance" in line] == [
                "SEARCH instance USING COVERING INDEX ix_instance_started_at"] * 2, plan


@contextlib.contextmanager
def measures_statements(session, seen: list, parameters: bool = False):
    """The SQL text of the statements the session's connection runs meanwhile (parameters inlined: none here), or
    with `parameters` (statement, its parameters) pairs."""
    conn = session.connection()

    def note(_conn, _cursor, statement, bound, *_args) -> None:
        seen.append((statement, bound) if parameters else statement)

    event.listen(conn, "before_cursor_execute", note)
    try:
        yield
    finally:
        event.remove(conn, "before_cursor_execute", note)
