"""The navigation's counts stop at a cap (Engine.count_cap, 999 by default; a small one here): above it a role
shows cap + 1, read as "more than cap", below it the exact count of the inbox's rows (the `approval` fixture)."""

from __future__ import annotations

import pytest

from engine.store.models import Task
from tests.conftest import add_users

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}


def _approvals(eng, count: int, who: str = "rep") -> list[int]:
    ids = []
    for _ in range(count):
        ids.append(eng.start(who, "approval", dict(REQUEST)))
        eng.clock.advance(minutes=1)
    return ids


def _set(eng, iid: int, **values: object) -> None:
    with eng.db.write() as s:
        task = s.query(Task).filter_by(instance_id=iid, bpmn_id="approve", status="ready").one()
        for name, value in values.items():
            setattr(task, name, value)


def _per_role(rows: list[dict]) -> dict[str, int]:
    return {role: sum(1 for t in rows if t["role"] == role) for role in {t["role"] for t in rows}}


def test_above_the_cap_a_role_counts_cap_plus_one_and_up_to_it_exactly(approval):
    approval.count_cap = 3
    _approvals(approval, 3)
    assert approval.inbox_counts("mgr") == {"sales_manager": 3} == _per_role(approval.inbox("mgr"))
    _approvals(approval, 3)
    assert len(approval.inbox("mgr")) == 6
    assert approval.inbox_counts("mgr") == {"sales_manager": 4}  # cap + 1: "more than 3"
    approval.count_cap = 6
    assert approval.inbox_counts("mgr") == {"sales_manager": 6}


def test_a_role_sums_its_claimed_and_offered_tasks_exactly_below_the_cap(approval):
    approval.count_cap = 3
    claimed, _, offered = _approvals(approval, 3)
    _set(approval, claimed, assignee="mgr")
    _set(approval, offered, assignee="mgr2")  # claimed by another: not mgr's any more
    assert approval.inbox_counts("mgr") == {"sales_manager": 2} == _per_role(approval.inbox("mgr"))
    assert approval.inbox_counts("mgr2") == {"sales_manager": 2} == _per_role(approval.inbox("mgr2"))
    more = _approvals(approval, 2)
    _set(approval, more[0], assignee="mgr")  # mgr: 2 claimed + 2 offered, neither source above the cap
    assert approval.inbox_counts("mgr") == {"sales_manager": 4}
    approval.count_cap = 4
    assert approval.inbox_counts("mgr") == {"sales_manager": 4} == _per_role(approval.inbox("mgr"))


def test_tasks_claimed_under_roles_no_longer_held_keep_their_exact_split(approval):
    """Tasks assigned to a user under roles they do not hold are counted per role too, each role up to the cap."""
    add_users(approval, {"solo": ["sales_rep"]})
    approval.count_cap = 3
    ids = _approvals(approval, 5)
    for iid, role in zip(ids, ["after_sales", "after_sales", "quality", "quality", "quality"], strict=True):
        _set(approval, iid, assignee="solo", role=role)
    assert _per_role(approval.inbox("solo")) == {"after_sales": 2, "quality": 3}
    assert approval.inbox_counts("solo") == {"after_sales": 2, "quality": 3}
    approval.count_cap = 2
    assert approval.inbox_counts("solo") == {"after_sales": 2, "quality": 3}  # 3 = cap + 1


def test_the_cap_is_a_setting_of_at_least_one(monkeypatch):
    from engine.config import SettingError, inbox_count_cap

    monkeypatch.delenv("SALESFLOW_INBOX_COUNT_CAP", raising=False)
    assert inbox_count_cap() == 999
    monkeypatch.setenv("SALESFLOW_INBOX_COUNT_CAP", "50")
    assert inbox_count_cap() == 50
    monkeypatch.setenv("SALESFLOW_INBOX_COUNT_CAP", "0")
    with pytest.raises(SettingError):
        inbox_count_cap()
