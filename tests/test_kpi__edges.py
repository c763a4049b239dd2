"""The KPI figures on the cases the engine-driven data sets do not reach, written as rows (instance, task, the
audit trail's `completed` events) so each case is exactly what it says. The expected figures are the ones the
page gave before its reads were pushed into SQL (tests/fixtures/kpi_edges.json, captured from that code on this
data): counting by the database and streaming the intervals must not change a single figure.

    aftersale  A1  resolve completed with close_requested first (fix1), then resolve_otherwise resolved (fix2)
               A2  resolved once (fix1), reopened, asked to close (fix2): closed unresolved, attributed to fix2
               A3  running, resolve offered to aftersales_engineer, claimed by fix1; A4 halted (incident), unclaimed
    complaint  C1  cancelled after its first response: the response counts, the resolution is not measured
               C2  incident: implement_solution offered to quality, open; C3 completed without any measured task
               C4/C5 registered a second either side of midnight 03-01 in Asia/Shanghai (02-28 15:59:59 / 16:00 UTC)
                     and their tasks completed either side of midnight 04-01 (a month apart in company time)
               C6  two end tasks, the earlier one completed by nobody (a system step): attributed to no person
    scores     A1 4 in March, its return visit's 5 on 04-01 00:30 in Shanghai (the latest: A1 is in no March score);
               A2 2, attributed to fix2 (its last resolve); a survey of 04-01 00:30 with 3, 5 and two invalid answers
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import count

import pytest

from engine import Engine
from engine.clock import iso
from engine.store.models import AuditEvent, Instance, ProcessVersion, Task
from tests.conftest import FIXTURES

EXPECTED = FIXTURES / "kpi_edges.json"
NOW = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
SECTIONS = ("times", "resolution_rate", "satisfaction", "volume", "outcomes")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Rows:
    def __init__(self, session, version: int) -> None:
        self.session, self.version, self.ids, self.events = session, version, count(1), count(1)

    def instance(self, iid: int, key: str, started: str, status: str = "running", ended: str | None = None,
                 outcome: str | None = None) -> None:
        self.session.add(Instance(id=iid, process_version_id=self.version, process_key=key, business_key=None,
                                  status=status, started_by="rep", started_at=utc(started),
                                  ended_at=utc(ended) if ended else None, state_json="{}", serializer_version="t",
                                  data_json="{}", outcome=outcome, rev=1))

    def task(self, iid: int, key: str, bpmn_id: str, role: str, created: str, done: str | None = None,
             by: str | None = None, assignee: str | None = None, status: str | None = None,
             data: dict | None = None) -> None:
        tid = f"00000000-0000-4000-8000-{next(self.ids):012x}"
        self.session.add(Task(id=tid, instance_id=iid, process_key=key, bpmn_id=bpmn_id, title=bpmn_id, role=role,
                              form_key=None, assignee=assignee or by, created_at=utc(created),
                              status=status or ("completed" if done else "ready"), completed_by=by,
                              completed_at=utc(done) if done else None))
        if data is not None:
            self.session.add(AuditEvent(chain=f"kpi-edges-{iid}", position=next(self.events), instance_id=iid,
                                        at=iso(utc(done)), actor=by or "system", kind="completed", task=bpmn_id,
                                        payload=json.dumps({"task_id": tid, "data": data}),
                                        prev_hash="0" * 64, hash="0" * 64))


def build(rows: Rows) -> None:
    a, c = "aftersale", "complaint"
    rows.instance(1, a, "2026-03-02 01:00")
    rows.task(1, a, "first_response", "aftersales_engineer", "2026-03-02 01:00", "2026-03-02 03:00", "fix1")
    rows.task(1, a, "resolve", "aftersales_engineer", "2026-03-02 04:00", "2026-03-02 06:00", "fix1",
              data={"outcome": "close_requested"})
    rows.task(1, a, "resolve_otherwise", "aftersales_engineer", "2026-03-02 07:00", "2026-03-03 09:30", "fix2",
              data={"outcome": "resolved"})
    rows.instance(2, a, "2026-03-03 02:00", "completed", "2026-03-06 02:00", "closed_unresolved")
    rows.task(2, a, "first_response", "aftersales_engineer", "2026-03-03 02:00", "2026-03-04 05:00", "fix2")
    rows.task(2, a, "resolve", "aftersales_engineer", "2026-03-03 05:00", "2026-03-03 08:00", "fix1",
              data={"outcome": "resolved"})
    rows.task(2, a, "resolve", "aftersales_engineer", "2026-03-04 05:00", "2026-03-05 08:00", "fix2",
              data={"outcome": "close_requested"})
    rows.task(1, a, "confirm_resolution", "customer_service", "2026-03-03 09:30", "2026-03-03 10:00", "cs1",
              data={"satisfaction": 4})
    rows.task(1, a, "return_visit", "customer_service", "2026-03-31 00:00", "2026-03-31 16:30", "cs1",
              data={"satisfaction": 5})
    rows.task(2, a, "confirm_resolution", "customer_service", "2026-03-05 08:00", "2026-03-05 09:00", "cs1",
              data={"satisfaction": 2})
    rows.instance(21, "satisfaction_survey", "2026-03-31 16:00", "completed", "2026-03-31 16:40")
    rows.task(21, "satisfaction_survey", "conduct_survey", "customer_service", "2026-03-31 16:00",
              "2026-03-31 16:30", "cs1", data={"responses": [{"satisfaction": 3}, {"satisfaction": 5},
                                                            {"satisfaction": True}, {"satisfaction": 9}, "x"]})
    rows.instance(3, a, "2026-03-20 02:00")
    rows.task(3, a, "resolve", "aftersales_engineer", "2026-03-20 03:00", assignee="fix1")
    rows.instance(4, a, "2026-03-21 02:00", "incident")
    rows.task(4, a, "resolve", "aftersales_engineer", "2026-03-21 03:00")
    rows.instance(11, c, "2026-03-05 01:00", "cancelled", "2026-03-08 01:00", "cancelled")
    rows.task(11, c, "take_quality_by_director", "sales_director", "2026-03-05 01:00", "2026-03-05 20:00", "dir1")
    rows.task(11, c, "implement_solution", "quality", "2026-03-06 01:00", status="cancelled")
    rows.instance(12, c, "2026-03-06 01:00", "incident")
    rows.task(12, c, "take_quality_by_manager", "sales_manager", "2026-03-06 01:00", "2026-03-06 02:00", "mgr1")
    rows.task(12, c, "implement_solution", "quality", "2026-03-07 01:00")
    rows.instance(13, c, "2026-03-07 01:00", "completed", "2026-03-07 05:00", "rejected")
    rows.task(13, c, "review_complaint", "customer_service", "2026-03-07 01:00", "2026-03-07 04:00", "cs1")
    rows.instance(14, c, "2026-02-28 15:59:59")
    rows.task(14, c, "take_quality_by_manager", "sales_manager", "2026-02-28 16:00", "2026-03-31 15:59:59", "mgr1")
    rows.instance(15, c, "2026-02-28 16:00", "completed", "2026-04-01 00:00", "resolved")
    rows.task(15, c, "propose_service_by_vp", "sales_vp", "2026-02-28 16:00", "2026-03-31 16:00", "vp1")
    rows.task(15, c, "implement_solution", "quality", "2026-03-31 16:00", "2026-04-01 00:00", "q1")
    rows.instance(16, c, "2026-03-10 01:00", "completed", "2026-03-12 01:00", "resolved")
    rows.task(16, c, "take_quality_by_manager", "sales_manager", "2026-03-10 01:00", "2026-03-10 03:00")
    rows.task(16, c, "take_quality_by_director", "sales_director", "2026-03-10 02:00", "2026-03-10 04:00", "dir1")
    rows.task(16, c, "implement_solution", "quality", "2026-03-11 01:00", "2026-03-12 01:00", "q1")


@pytest.fixture
def edges(approval: Engine) -> Engine:
    approval.clock.set(NOW)
    with approval.db.write() as s:
        rows = Rows(s, s.query(ProcessVersion.id).first()[0])
        build(rows)
    return approval


FILTERS = {"everything": {}, "march": {"from": "2026-03-01", "to": "2026-03-31"},
           "to the last of february": {"to": "2026-02-28"}, "april": {"from": "2026-04-01"}}


@pytest.mark.parametrize("name", FILTERS)
def test_the_figures_are_the_ones_the_page_gave_before(edges: Engine, name: str) -> None:
    report = edges.kpi("aud", FILTERS[name])
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))[name]
    assert {k: report[k] for k in SECTIONS} == expected


def row(rows: list[dict], key: str | None) -> dict:
    return next(r for r in rows if r["key"] == key)


def test_the_cases_attributed_as_the_rules_say(edges: Engine) -> None:
    times = {t["measure"]: t for t in edges.kpi("aud", {})["times"]}
    resolution = times["resolution"]
    # A1 resolved by fix2 (the close request did not end it); A2 unresolved, on fix2 who asked to close it
    assert row(resolution["by_person"], "fix2")["count"] == 1
    assert row(resolution["by_person"], "fix2")["unresolved"] == 1
    assert row(resolution["by_person"], "fix1")["open"] == 1  # A3, claimed by fix1
    assert row(resolution["by_role"], "quality")["open"] == 1  # C2, halted but open; C1 cancelled: not measured
    first = times["first_response"]
    assert row(first["by_month"], "2026-02")["count"] == 1  # C4, registered 02-28 23:59:59 in Shanghai
    assert row(first["by_person"], "dir1")["count"] == 1  # C1 (cancelled later); C6's director came second
    assert row(first["by_person"], None)["count"] == 1  # C6: the manager's task, completed by nobody, came first


def test_months_are_company_months(edges: Engine) -> None:
    report = edges.kpi("aud", {"from": "2026-04-01"})
    # only the survey, registered 04-01 00:00 in Shanghai (C4, a second before midnight 03-01, is in February)
    assert report["volume"]["by_month"] == [{"key": "2026-04", "started": 1, "processes": {"satisfaction_survey": 1}}]
    # C5's response (04-01 00:00 in Shanghai) and resolution, the survey and A1's return visit (00:30); C4's
    # response came a second before midnight
    assert [r["key"] for r in report["volume"]["tasks"]["by_person"]] == ["cs1", "q1", "vp1"]
    assert row(edges.kpi("aud", {})["resolution_rate"]["by_month"], "2026-02")["registered"] == 1  # C4
