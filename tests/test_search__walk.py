"""The search of someone who sees a part of the instances sorts its page from the ids the count collected when
they are all there are, else walks the matches newest first, a window at a time, asking which of each window he
may see (search._partial_page, _walked_page), and finds and counts the SLA-breached ones. Each way of taking part finds
the instance and nothing else does; every page and total is the one of the whole list, across windows and
instances started at the same moment.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from engine import Engine
from engine.runtime import access, search
from engine.store.models import Instance, ProcessVersion, Task
from engine.users import get_actor
from tests.conftest import T0, add_users, deploy_approval
from tests.test_search__visibility import PEOPLE, mixed  # noqa: F401 - the fixture, 60 seeded instances

WAYS = {"started": True, "assigned a ready task": True, "assigned a task since cancelled": True,
        "completed a task": True, "a ready task of his role": True, "his role's task, done by another": False,
        "his role's task, cancelled": False, "another's instance": False}


@pytest.fixture(params=["walked", "sorted from the count"])
def small_windows(request, monkeypatch) -> None:
    """Each way to a page: walked in windows of 1, 2, then 3 instances (every page read across several), or
    sorted from the ids the count collected (all there are: fewer than search.KNOWN)."""
    monkeypatch.setattr(search, "WINDOW", 1)
    monkeypatch.setattr(search, "MAX_WINDOW", 3)
    if request.param == "walked":
        monkeypatch.setattr(search, "KNOWN", 0)


@pytest.fixture
def ways(engine: Engine) -> dict[str, int]:
    """{way: instance id}: one instance per way in which eve (finance) might take part, all started by ann
    but the first; the same start time for every second one (the order then falls back on the id)."""
    deploy_approval(engine)
    add_users(engine, {"ann": ["sales_rep"], "eve": ["finance"], "fay": ["finance"]})
    tasks = {"assigned a ready task": ("sales_rep", "eve", "ready", None),
             "assigned a task since cancelled": ("sales_rep", "eve", "cancelled", None),
             "completed a task": ("sales_rep", None, "completed", "eve"),
             "a ready task of his role": ("finance", None, "ready", None),
             "his role's task, done by another": ("finance", "fay", "completed", "fay"),
             "his role's task, cancelled": ("finance", None, "cancelled", None),
             "another's instance": ("sales_rep", "ann", "ready", None)}
    ids = {}
    with engine.db.write() as s:
        version = s.query(ProcessVersion).first()
        for n, way in enumerate(WAYS):
            inst = Instance(process_version_id=version.id, process_key=version.key, business_key=f"WAY-{n}",
                            status="running", started_by="eve" if way == "started" else "ann",
                            started_at=T0 - timedelta(hours=n // 2), state_json="{}", serializer_version="test",
                            data_json="{}", rev=1)
            s.add(inst)
            s.flush()
            ids[way] = inst.id
            if way in tasks:
                role, assignee, status, done_by = tasks[way]
                s.add(Task(id=f"way-{n}", instance_id=inst.id, process_key=version.key, bpmn_id="step", title="t",
                           role=role, assignee=assignee, status=status, created_at=T0, completed_by=done_by,
                           completed_at=T0 if done_by else None))
    return ids


def newest_first(engine: Engine, ids: list[int]) -> list[int]:
    with engine.db.read() as s:
        rows = s.query(Instance.id, Instance.started_at).filter(Instance.id.in_(ids)).all()
    return [r.id for r in sorted(rows, key=lambda r: (r.started_at, r.id), reverse=True)]


def pages(engine: Engine, user: str, filters: dict, per_page: int) -> tuple[list[list[int]], list[int]]:
    """Every page's ids, and the total each page states, up to the first empty page."""
    found, totals = [], []
    for page in range(1, 100):
        result = engine.search(user, filters, page=page, per_page=per_page)
        totals.append(result["total"])
        assert result["total_capped"] is False
        if not result["items"]:
            return found, totals
        found.append([item["id"] for item in result["items"]])
    raise AssertionError("more pages than instances")


def test_each_way_of_taking_part_finds_the_instance_and_no_other_does(engine, ways, small_windows):
    expected = newest_first(engine, [i for way, i in ways.items() if WAYS[way]])
    assert len(expected) == 5
    for per_page in (1, 2, 5):
        found, totals = pages(engine, "eve", {}, per_page)
        assert [i for page in found for i in page] == expected
        assert set(totals) == {5}
    assert engine.search("eve", {"business_key": "WAY-6"})["items"] == []  # his role's, cancelled: not his
    assert [i["id"] for i in engine.search("eve", {"business_key": "WAY-4"})["items"]] == [ways[
        "a ready task of his role"]]


def test_a_version_whose_cases_he_may_end_shows_him_every_case_of_it(engine, ways, small_windows, monkeypatch):
    with engine.db.read() as s:
        version = s.query(ProcessVersion).first().id
    # the test process names no cancel_roles; the rule is access.visible's either way
    monkeypatch.setattr(access, "overseen_versions", lambda session, user: {version} if user.username == "fay"
                        else set())
    found, totals = pages(engine, "fay", {}, 3)
    assert [i for page in found for i in page] == newest_first(engine, list(ways.values()))
    assert set(totals) == {len(ways)}


@pytest.mark.parametrize("user", list(PEOPLE))
def test_every_page_walked_is_that_page_of_the_whole_list(engine, mixed, small_windows, user):  # noqa: F811
    with engine.db.write() as s:  # pairs of instances started at the same moment
        for first in list(mixed)[::2]:
            s.execute(update(Instance).where(Instance.id == first + 1).values(
                started_at=s.get(Instance, first).started_at))
    with engine.db.read() as s:
        actor = get_actor(s, user)
        visible = [i for i in mixed if access.may_see_instance(s, actor, s.get(Instance, i))]
    expected = newest_first(engine, visible)
    for per_page in (1, 4, 25):
        found, totals = pages(engine, user, {}, per_page)
        assert found == [expected[k:k + per_page] for k in range(0, len(expected), per_page)]
        assert set(totals) == {len(expected)}


@pytest.mark.parametrize("user", list(PEOPLE))
def test_sla_breached_of_a_participant_found_and_counted(engine, mixed, small_windows, user):  # noqa: F811
    with engine.db.read() as s:
        actor = get_actor(s, user)
        expected = [i for i in mixed if mixed[i]["breached"]
                    and access.may_see_instance(s, actor, s.get(Instance, i))]
    found, totals = pages(engine, user, {"sla_breached": True}, 4)
    assert [i for page in found for i in page] == newest_first(engine, expected)
    assert set(totals) == {len(expected)}
