"""The counted satisfaction scores (engine/kpi/score_rows.py, kpi_score) and their counts per company day
(engine/kpi/score_days.py, kpi_score_day; migration 0033) give the page the figures it reads from the trail:

- on test_kpi__figures' data set (after-sales cases driven through the engine: a confirmation's score replaced by
  the return visit's, the April survey's three responses) plus A5, resolved by fix1, scored 2 and refused, then
  closed by fix2 (the later resolve re-attributes the score), plus 300 instances written around the engine with
  random scores in random trails (several per case, replaced; invalid values; survey lists; other kinds and tasks),
  recorded at random instants, at Shanghai's midnights and month ends and Berlin's daylight-saving edges; for
  windows mid-month, of whole months, everything, open-ended, each process; as an auditor and a sales manager;
  in Asia/Shanghai and, rebuilt, in Europe/Berlin;
- the rows the steps wrote are the ones `salesflow kpi rebuild` writes; the counts a count of the rows;
- a step of a process without a satisfaction source, or completing none of the source's tasks, sends nothing;
- migration 0033 fills them on upgrade (same page); the downgrade removes tables and triggers;
- the benchmarks' loader writes scores and counts them.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import create_engine, event, func, insert, inspect, select, text

from bench import inbox_latency
from bench.common import deploy, engine_on
from engine import Engine
from engine.audit.chain import instance_chain
from engine.clock import ManualClock, iso
from engine.kpi import definitions, measures, rollups, score_days, score_rows
from engine.store.db import alembic_config
from engine.store.models import AuditEvent, Instance, KpiScore, KpiScoreMonth, ProcessVersion, Task
from tests import test_kpi__figures as figures
from tests.conftest import PG_URL, ROOT, add_users
from tests.scenarios.driver import PEOPLE, do, local_time

BERLIN = "Europe/Berlin"
EDGES = ["2026-03-28T22:59:59.999999", "2026-03-28T23:00", "2026-03-29T21:59:59.999999", "2026-03-29T22:00",
         "2026-10-24T21:59:59.999999", "2026-10-24T22:00", "2026-10-25T22:59:59.999999", "2026-10-25T23:00",
         "2026-03-31T15:59:59.999999", "2026-03-31T16:00", "2026-04-30T16:00", "2026-03-09T16:00"]
FILTERS = [{}, {"from": "2026-03-01", "to": "2026-03-31"}, {"from": "2026-03-03", "to": "2026-03-10"},
           {"from": "2026-03-10", "to": "2026-03-10"}, {"from": "2026-04-01"}, {"to": "2026-03-02"},
           {"from": "2026-03-15", "to": "2026-04-20"}, {"process": "aftersale"}, {"process": "satisfaction_survey"},
           {"from": "2026-03-20", "to": "2026-04-05", "process": "aftersale"}, {"process": "complaint"},
           {"from": "2026-03-29", "to": "2026-03-29"}, {"from": "2026-10-25", "to": "2026-10-25"},
           {"from": "2026-05-01"}, {"from": "2026-03-01", "to": "2026-04-30"},
           {"from": "2026-02-15", "to": "2026-04-30"},
           {"to": "2026-03-31"}, {"from": "2026-03-02", "to": "2026-03-31"}, {"from": "2026-03-01", "to": "2026-03-30"},
           {"from": "2026-02-28", "to": "2026-04-01"}, {"from": "2026-04-01", "process": "aftersale"}]
CLOSED = {"outcome": "close_requested", "closing_reason": "客户放弃维修"}
CONSENT = {"customer_agrees_to_close": True, "customer_closing_answer": "客户同意结案"}
SCORED_TASKS = {"aftersale": ["confirm_resolution", "return_visit", "diagnose"],
                "satisfaction_survey": ["conduct_survey"]}
VALUES = [1, 2, 3, 4, 5, 5, 4, 0, 6, "3", True, None, 2.5]


def _utc(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


def kept_rows(eng: Engine) -> set[tuple]:
    with eng.db.read() as s:
        return {tuple(r) for r in s.execute(select(*KpiScore.__table__.columns))}


def kept_days(eng: Engine) -> set[tuple]:
    with eng.db.read() as s:
        return score_days.nonzero_rows(s)


def counted_days(eng: Engine, timezone: str) -> set[tuple]:
    """kpi_score_day's non-zero rows as a count of kpi_score, each row's day by zoneinfo."""
    zone = ZoneInfo(timezone)
    with eng.db.read() as s:
        found = Counter((r.at.astimezone(zone).date().isoformat(), r.process, r.role or "", r.person or "", r.value)
                        for r in s.execute(select(KpiScore)).scalars())
    return {(*k, n) for k, n in found.items()}


def usable(eng: Engine) -> bool:
    with eng.db.read() as s:
        return score_days.usable(s, definitions.load().timezone)


def pages(eng: Engine, user: str, filters: dict, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """(the page from the counts, which may not read the trail; the page from the trail)."""
    def reading(*_args: object) -> list:
        raise AssertionError("the scores were read from the trail")

    with monkeypatch.context() as m:
        m.setattr(measures, "scores", reading)
        page = eng.kpi(user, filters)
    with monkeypatch.context() as m:
        m.setattr(score_days, "usable", lambda *_: False)
        m.setattr(rollups, "usable", lambda *_: False)
        return page, eng.kpi(user, filters)


def counted_months(eng: Engine, timezone: str) -> set[tuple]:
    """kpi_score_month's non-zero rows as a count of kpi_score, each row's month by zoneinfo."""
    found = Counter()
    for day, *key, n in counted_days(eng, timezone):
        found[(day[:7], *key)] += n
    return {(*k, n) for k, n in found.items()}


def same_pages(eng: Engine, timezone: str, monkeypatch: pytest.MonkeyPatch, users: tuple = ("aud", "mgr1")) -> None:
    assert usable(eng)
    assert kept_days(eng) == counted_days(eng, timezone)
    with eng.db.read() as s:
        assert score_days.nonzero_rows(s, KpiScoreMonth) == counted_months(eng, timezone)
    for user in users:
        for filters in FILTERS:
            page, old = pages(eng, user, filters, monkeypatch)
            assert page["satisfaction"] == old["satisfaction"], (user, filters)
            assert page == old, (user, filters)


def _reattributed(eng: Engine, clock: ManualClock) -> int:
    """A5: fix1 resolves it and the customer refuses with a 2; fix2 then has it closed: the 2 is fix2's."""
    figures.at(clock, "2026-04-02", "09:00")
    iid = eng.start("svc1", "aftersale", figures.request())
    do(eng, "fix1", "first_response", figures.RESPONSE, iid)
    do(eng, "fix1", "diagnose", figures.DIAGNOSED, iid)
    do(eng, "fix1", "resolve", figures.RESOLVED, iid)
    figures.at(clock, "2026-04-02", "12:00")
    do(eng, "svc1", "confirm_resolution", {"resolution_confirmed": False, "satisfaction": 2}, iid)
    figures.at(clock, "2026-04-03", "10:00")
    do(eng, "fix2", "diagnose", figures.DIAGNOSED, iid)
    do(eng, "fix2", "resolve", CLOSED, iid)
    do(eng, "svc2", "confirm_closing", CONSENT, iid)
    return iid


def _random_scores(eng: Engine, rng: random.Random, count: int, first_id: int) -> None:
    """`count` instances written around the engine (core inserts), each with resolve rows (its attribution) and a
    trail of score events in time order: several per case, invalid values, survey lists, other kinds and tasks."""
    with eng.db.write() as s:
        versions = dict(s.execute(select(Instance.process_key, func.max(Instance.process_version_id))
                                  .group_by(Instance.process_key)).all())
        edges = [_utc(e) for e in EDGES]
        for n in range(count):
            iid, process = first_id + n, rng.choice(["aftersale", "aftersale", "satisfaction_survey"])
            start = _utc("2026-02-25T00:00") + timedelta(seconds=rng.randrange(60 * 86400))
            s.execute(insert(Instance).values(
                id=iid, process_version_id=versions[process], process_key=process, status="running",
                started_by="svc1", started_at=start, state_json="{}", serializer_version="x"))
            for k in range(rng.randrange(4) if process == "aftersale" else 0):
                s.execute(insert(Task).values(
                    id=f"r-{iid}-{k}", instance_id=iid, process_key=process,
                    bpmn_id=rng.choice(["resolve", "resolve_otherwise", "diagnose"]), title="任务",
                    role=rng.choice(["aftersales_engineer", "sales_manager"]), created_at=start,
                    status=rng.choice(["completed", "completed", "cancelled"]),
                    completed_by=rng.choice(["fix1", "fix2", "mgr1", None]),
                    completed_at=start + timedelta(hours=rng.choice([5, 5, 9]))))
            ats = sorted(edges[n % len(edges)] if n < 3 * len(edges) and k == 0
                         else start + timedelta(seconds=rng.randrange(20 * 86400)) for k in range(rng.randrange(1, 5)))
            for position, at in enumerate(ats, start=1):
                if process == "aftersale":
                    data = {"satisfaction": rng.choice(VALUES)} if rng.random() < 0.9 else {"other": 1}
                else:
                    data = {"responses": [{"satisfaction": rng.choice(VALUES)} for _ in range(rng.randrange(4))]}
                s.execute(insert(AuditEvent).values(
                    chain=instance_chain(iid), position=position, instance_id=iid, at=iso(at), actor="svc1",
                    kind=rng.choice(["completed", "completed", "completed", "claimed"]),
                    task=rng.choice(SCORED_TASKS[process]), payload=json.dumps({"task_id": "x", "data": data}),
                    prev_hash="0" * 64, hash="0" * 64))


@pytest.fixture(scope="module")
def scored(_schema, tmp_path_factory):
    def build(eng: Engine, clock: ManualClock) -> dict:
        ids = figures.build_data_set(eng, clock)
        ids["A5"] = _reattributed(eng, clock)
        ids["by_steps"] = kept_rows(eng)
        _random_scores(eng, random.Random(32), 300, 10_000)
        eng.rebuild_kpi_scores()  # the rows written around the engine
        clock.set(figures.NOW)
        return ids

    yield from figures.repository_data_set(_schema, tmp_path_factory, build)


def test_the_rows_the_steps_wrote_are_the_rule_s_and_the_ones_a_rebuild_writes(scored):
    eng, ids = scored
    rebuilt = kept_rows(eng)
    engine_driven = {r for r in rebuilt if r[0] < 10_000}
    assert ids["by_steps"] == engine_driven
    by_instance = {}
    for iid, seq, process, _at, role, person, value in engine_driven:
        by_instance.setdefault(iid, []).append((seq, process, role, person, value))
    assert by_instance[ids["A1"]] == [(0, "aftersale", "aftersales_engineer", "fix1", 5)]  # the visit's replaced 4
    assert by_instance[ids["A2"]] == [(0, "aftersale", "aftersales_engineer", "fix2", 3)]
    assert by_instance[ids["A5"]] == [(0, "aftersale", "aftersales_engineer", "fix2", 2)]  # re-attributed
    assert sorted(by_instance[ids["S"]]) == [(0, "satisfaction_survey", None, None, 4),
                                             (1, "satisfaction_survey", None, None, 2),
                                             (2, "satisfaction_survey", None, None, 5)]
    assert len(rebuilt) > 200


def test_the_counts_per_day_are_kpi_score_counted_and_give_the_same_page(scored, monkeypatch):
    eng, _ = scored
    same_pages(eng, "Asia/Shanghai", monkeypatch)
    page = eng.kpi("aud", {})["satisfaction"]
    assert page["overall"]["count"] == len(kept_rows(eng))
    assert {r["key"] for r in page["by_person"]} >= {"fix1", "fix2", "mgr1", None}


def test_in_a_zone_with_daylight_saving_after_a_rebuild(scored, monkeypatch):
    eng, _ = scored
    with monkeypatch.context() as m:
        defs = dataclasses.replace(definitions.load(), timezone=BERLIN)
        m.setattr(definitions, "load", lambda *_: defs)
        assert not usable(eng)  # built for Shanghai: read from the trail
        eng.rebuild_kpi_rollups()
        same_pages(eng, BERLIN, monkeypatch, users=("aud",))
        days = {row[0] for row in kept_days(eng)}
        assert {"2026-03-28", "2026-03-29"} <= days and {"2026-10-24", "2026-10-25"} & days
    eng.rebuild_kpi_rollups()  # Shanghai again for the tests after this one
    assert usable(eng)


def test_a_later_score_and_a_later_resolve_move_the_counts(scored, monkeypatch):
    eng, ids = scored
    clock = eng.clock
    figures.at(clock, "2026-04-10", "10:00")  # A2's return visit is due since 03-12
    do(eng, "svc1", "return_visit", {"satisfaction": 1, "usage_feedback": "又坏了"}, ids["A2"])  # replaces the 3
    rows = {r[0]: r for r in kept_rows(eng)}
    assert rows[ids["A2"]][-1] == 1
    same_pages(eng, "Asia/Shanghai", monkeypatch, users=("aud",))
    clock.set(figures.NOW)


# -- what a step pays ------------------------------------------------------------------------------------------

def _statements(eng: Engine, act) -> list[str]:
    sent: list[str] = []
    listener = lambda *args: sent.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(eng.db._writer, "before_cursor_execute", listener)
    try:
        act()
    finally:
        event.remove(eng.db._writer, "before_cursor_execute", listener)
    return sent


def _scores_read(sent: list[str]) -> list[str]:
    """The statements of the score rows: theirs, and the score rule's read of the trail (the only one of `at`)."""
    return [t for t in sent if "kpi_score" in t or "audit_event.at" in t]


def test_steps_of_other_processes_and_tasks_send_nothing_for_scores(engine, clock):
    eng = engine
    eng.deploy("system", [ROOT / "processes", ROOT / "forms"])
    add_users(eng, PEOPLE)
    clock.set(local_time("2026-03-02", "09:00"))
    complaint = eng.start("svc1", "complaint", figures.complaint("minor"))
    sent = _statements(eng, lambda: do(eng, "off1", "review_severity_by_office", figures.REVIEWED, complaint))
    assert sent and _scores_read(sent) == []
    case = eng.start("svc1", "aftersale", figures.request())
    for task, data in (("first_response", figures.RESPONSE), ("diagnose", figures.DIAGNOSED)):
        sent = _statements(eng, lambda t=task, d=data: do(eng, "fix1", t, d, case))
        assert sent and _scores_read(sent) == []
    sent = _statements(eng, lambda: do(eng, "fix1", "resolve", figures.RESOLVED, case))
    assert len(_scores_read(sent)) == 1  # the case's score events: none yet, so no row to write
    sent = _statements(eng, lambda: do(eng, "svc1", "confirm_resolution",
                                       {"resolution_confirmed": True, "satisfaction": 4}, case))
    assert any(t.startswith("INSERT INTO kpi_score") for t in sent)
    assert [r[-1] for r in kept_rows(eng)] == [4]


# -- migration 0033 and the loader -----------------------------------------------------------------------------

def _schema_objects(raw) -> set[str]:
    with raw.connect() as conn:
        if raw.dialect.name == "postgresql":
            query = ("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'kpi_score%' "
                     "UNION SELECT proname FROM pg_proc WHERE proname = 'kpi_score_rollup' "
                     "UNION SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'kpi_score%'")
        else:
            query = "SELECT name FROM sqlite_master WHERE name LIKE 'kpi_score%' AND type IN ('trigger', 'table')"
        return set(conn.scalars(text(query)))


def test_the_upgrade_fills_what_the_trail_holds_and_the_downgrade_removes_it(engine, clock, db_url, monkeypatch):
    eng = engine
    eng.deploy("system", [ROOT / "processes", ROOT / "forms"])
    add_users(eng, PEOPLE)
    figures.build_data_set(eng, clock)
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    objects = {"kpi_score", "kpi_score_day", "kpi_score_month", "kpi_score_insert", "kpi_score_update",
               "kpi_score_delete"}
    users_filters = [(u, f) for u in ("aud", "mgr1") for f in FILTERS]
    by_steps, days = kept_rows(eng), kept_days(eng)
    assert len(by_steps) == 5 and usable(eng)  # A1, A2, the survey's three
    before = [eng.kpi(u, f) for u, f in users_filters]
    try:
        assert objects <= _schema_objects(raw)
        command.downgrade(cfg, "0032")
        raw.dispose()
        assert not _schema_objects(raw)
        eng.db.dispose()
        assert [eng.kpi(u, f) for u, f in users_filters] == before  # from the trail
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    eng.db.dispose()  # a connection opened before the tables came may not see them (SQLite)
    assert objects <= _schema_objects(raw)
    raw.dispose()
    assert kept_rows(eng) == by_steps and kept_days(eng) == days == counted_days(eng, "Asia/Shanghai")
    assert [eng.kpi(u, f) for u, f in users_filters] == before
    for filters in FILTERS:
        page, old = pages(eng, "aud", filters, monkeypatch)
        assert page == old


def test_0035_indexes_the_days_by_process_and_its_downgrade_drops_it(engine, db_url):
    """A process's first and last day of scores are two seeks in ix_kpi_score_day_process (the key leads with the
    day: a process with no score scanned every row), which holds the counts too; the downgrade to 0034 drops the
    index, the upgrade puts it back."""
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)

    def indexes() -> set[str]:
        with raw.connect() as conn:
            return {i["name"] for i in inspect(conn).get_indexes("kpi_score_day")
                    if i["column_names"] == ["process", "day", "n"]}

    try:
        assert "ix_kpi_score_day_process" in indexes()
        command.downgrade(cfg, "0034")
        assert "ix_kpi_score_day_process" not in indexes()
    finally:
        command.upgrade(cfg, "head")
    assert "ix_kpi_score_day_process" in indexes()
    raw.dispose()


def test_the_loader_scores_most_resolved_cases_and_revisits_some():
    stats = {"events": 0, "first_event": 0}
    rng, resolved = random.Random("scores 1"), _utc("2026-03-01T00:00")
    drawn = [inbox_latency._score_events(stats, rng, 1, resolved, resolved + timedelta(days=30)) for _ in range(4000)]
    assert 0.55 < sum(bool(d) for d in drawn) / 4000 < 0.65
    assert 0.25 < sum(len(d) == 2 for d in drawn) / sum(bool(d) for d in drawn) < 0.35
    for events in drawn:  # (id, chain, position, instance, at, actor, kind, task, payload, ...)
        assert [e[7] for e in events] == ["confirm_resolution", "return_visit"][:len(events)]
        assert [e[4] for e in events] == sorted(e[4] for e in events) and all(e[4] > iso(resolved) for e in events)
    assert not inbox_latency._score_events(stats, rng, 1, resolved, resolved)  # none after the clock


def test_the_loader_writes_scores_and_counts_them(monkeypatch, capsys):
    clock = ManualClock(inbox_latency.now_after(800))
    with engine_on("postgres" if PG_URL else "sqlite", "scores", clock=clock) as eng:
        deploy(eng, "approval5.bpmn")
        stats = inbox_latency.load(eng, 8000, 800)
        capsys.readouterr()
        with eng.db.read() as s:
            values = Counter(s.scalars(select(KpiScore.value)))
        assert stats["scores"] == sum(values.values()) > 50 and set(values) == {1, 2, 3, 4, 5}
        assert usable(eng) and kept_days(eng) == counted_days(eng, "Asia/Shanghai")
        page, old = pages(eng, "auditor_0", {}, monkeypatch)  # (the bench deploys no after-sales process to filter)
        assert page == old and page["satisfaction"]["overall"]["count"] == stats["scores"]
        day = inbox_latency.T0.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
        page, old = pages(eng, "auditor_0", {"from": day, "to": day}, monkeypatch)
        assert page == old and 0 < page["satisfaction"]["overall"]["count"] < stats["scores"]


def test_a_latest_list_that_is_shorter_drops_the_rows_it_no_longer_holds(engine, clock, monkeypatch):
    """A source with both `list` and `per_case: latest` (none in kpi.yaml): a later, shorter list replaces the
    earlier one's rows, written through the ORM (followed before the commit) as a step's would be."""
    eng = engine
    eng.deploy("system", [ROOT / "processes", ROOT / "forms"])
    defs = definitions.load()
    sources = tuple(dataclasses.replace(s, latest_per_case=True) if s.list_field else s for s in defs.satisfaction)
    monkeypatch.setattr(definitions, "load", lambda *_: dataclasses.replace(defs, satisfaction=sources))
    score_rows.tracked.cache_clear()
    score_rows._scored_tasks.cache_clear()
    try:
        with eng.db.write() as s:
            version = s.scalar(select(func.max(ProcessVersion.id)).where(ProcessVersion.key == "satisfaction_survey"))
            s.add(Instance(id=500, process_version_id=version, process_key="satisfaction_survey", status="running",
                           started_by="svc1", started_at=_utc("2026-03-01T00:00"), state_json="{}",
                           serializer_version="x"))

        def answered(position: int, at: str, values: list[int]) -> None:
            with eng.db.write() as s:
                s.add(AuditEvent(chain=instance_chain(500), position=position, instance_id=500, at=iso(_utc(at)),
                                 actor="svc2", kind="completed", task="conduct_survey", prev_hash="0" * 64,
                                 hash="0" * 64, payload=json.dumps(
                                     {"data": {"responses": [{"satisfaction": v} for v in values]}})))

        answered(1, "2026-03-02T02:00", [4, 2, 5])
        assert sorted((r[1], r[-1]) for r in kept_rows(eng)) == [(0, 4), (1, 2), (2, 5)]
        answered(2, "2026-03-05T02:00", [1])
        by_steps = kept_rows(eng)
        assert [(r[1], r[-1]) for r in by_steps] == [(0, 1)]
        eng.rebuild_kpi_scores()
        assert kept_rows(eng) == by_steps and kept_days(eng) == counted_days(eng, "Asia/Shanghai")
    finally:
        score_rows.tracked.cache_clear()
        score_rows._scored_tasks.cache_clear()
