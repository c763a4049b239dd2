"""Deadlines in working days (issue 12 item 6: "one working day where the rules are silent"): the
calendar (processes/calendar.yaml), the helper working_days_after(N) for due dates and timers, and a
task's camunda:dueDate given as such an expression."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine import workdays
from engine.definitions.bundle import KINDS, SourceFile
from engine.errors import DefinitionError, ProcessError
from tests.conftest import FIXTURES, add_users

SHANGHAI = ZoneInfo("Asia/Shanghai")
APPROVAL = FIXTURES / "approval"
START = {"customer_name": "合肥建工集团", "amount_yuan": 20000}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(("start", "days", "due"), [
    ("2026-03-06T15:00", 1, "2026-03-09T15:00"),  # Friday afternoon -> Monday afternoon
    ("2026-03-02T09:00", 1, "2026-03-03T09:00"),  # Monday -> Tuesday
    ("2026-03-07T10:00", 1, "2026-03-09T10:00"),  # from a Saturday the count starts on Monday
    ("2026-03-06T15:00", 5, "2026-03-13T15:00"),
    ("2026-03-06T15:00", 0, "2026-03-06T15:00"),
])
def test_weekends_are_not_working_days(start, days, due):
    assert workdays.add_working_days(at(start), days, workdays.Calendar()) == at(due)


def test_the_companys_holidays_and_make_up_working_days_count():
    from datetime import date

    calendar = workdays.Calendar(holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2)}),
                                 workdays=frozenset({date(2026, 10, 10)}))  # a Saturday worked (调休)
    assert workdays.add_working_days(at("2026-09-30T17:00"), 1, calendar) == at("2026-10-05T17:00")
    assert workdays.add_working_days(at("2026-10-09T17:00"), 1, calendar) == at("2026-10-10T17:00")


@pytest.mark.parametrize("days", [-1, 400, 1.5, True, "1"])
def test_a_count_of_working_days_is_a_small_whole_number(days):
    with pytest.raises(ValueError, match="working days must be a whole number"):
        workdays.add_working_days(at("2026-03-02T09:00"), days, workdays.Calendar())


def test_the_calendar_file_lists_holidays_and_workdays(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text("holidays: [2026-10-01]\nworkdays: ['2026-10-10']\n", encoding="utf-8")
    calendar = workdays.load(path)
    assert not calendar.is_working(at("2026-10-01T00:00").date())
    assert calendar.is_working(at("2026-10-10T00:00").date())


# -- a task whose due date is one working day after it became ready -----------------------------------
def bundle(due: str, sla: str | None = None) -> list[SourceFile]:
    """The approval fixture with this due date on `approve` (and another time on its SLA timer)."""
    files = []
    for path in sorted(APPROVAL.iterdir()):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".bpmn":
            old = '<bpmn:userTask id="approve" name="经理审批" camunda:formKey="approval_decision">'
            assert old in text
            text = text.replace(old, old.replace('camunda:formKey', f'camunda:dueDate="{due}" camunda:formKey'))
            if sla is not None:
                assert '>"PT24H"</bpmn:timeDuration>' in text
                text = text.replace('>"PT24H"</bpmn:timeDuration>', f">{sla}</bpmn:timeDuration>")
        files.append(SourceFile(path.name, KINDS[Path(path.name).suffix], text.encode("utf-8")))
    return files


def test_a_task_ready_on_friday_afternoon_is_due_on_monday_afternoon(engine, clock):
    engine.deploy("system", files=bundle("working_days_after(1)", sla='"P5D"'))
    add_users(engine, {"rep": ["sales_rep"], "mgr": ["sales_manager"]})
    clock.set(at("2026-03-06T15:00").astimezone(UTC))
    engine.start("rep", "approval", START)
    [task] = engine.inbox("mgr")
    assert datetime.fromisoformat(task["due_at"]) == at("2026-03-09T15:00")


def test_a_boundary_timer_earlier_than_the_due_date_is_the_deadline(engine, clock):
    engine.deploy("system", files=bundle("working_days_after(1)"))  # the fixture's 24 h SLA timer
    add_users(engine, {"rep": ["sales_rep"], "mgr": ["sales_manager"]})
    clock.set(at("2026-03-06T15:00").astimezone(UTC))
    engine.start("rep", "approval", START)
    [task] = engine.inbox("mgr")
    assert datetime.fromisoformat(task["due_at"]) == at("2026-03-07T15:00")


def test_a_due_date_expression_that_fails_refuses_the_step_naming_the_task(engine):
    engine.deploy("system", files=bundle("working_days_after(amount_yuan)"))  # 20,000 days: out of range
    add_users(engine, {"rep": ["sales_rep"], "mgr": ["sales_manager"]})
    with pytest.raises(ProcessError, match=r'the due date of "经理审批" \(approve\) cannot be computed'):
        engine.start("rep", "approval", START)


@pytest.mark.parametrize(("due", "message"), [
    ("working_days_after(", "is an expression the sandbox refuses"),
    ("P1W2", "is not an ISO 8601 duration"),
])
def test_a_due_date_that_cannot_work_is_refused_at_deploy(engine, due, message):
    with pytest.raises(DefinitionError) as info:
        engine.deploy("system", files=bundle(due))
    [problem] = info.value.problems
    assert problem.element == "approve" and message in problem.message, problem
