"""Searching instances: every filter, combinations, paging, who finds what, and the messages for bad filters.

The data set (times UTC; company days are Asia/Shanghai):
  A  approval        rep1  3/2 01:00 (3/2)  合肥建工集团     AP-001      completed
  B  approval        rep2  3/2 15:30 (3/2)  Acme Trading Co  AP-002      completed, SLA timer fired (escalated)
  E  approval        rep1  3/2 16:00 (3/3)  acme east        ap-003      running, waiting for a manager
  C  sample_request  rep1  3/3 15:45 (3/3)  安徽海螺水泥       SR-2026-01  running, feedback due 3/17 15:45
  D  approval        rep2  3/4 02:00 (3/4)  Acme Trading Co  AP-004      cancelled
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from engine import Engine
from engine.errors import InvalidData, NotFound
from tests.conftest import FIXTURES, add_users
from tests.deployed_state import prepared
from tests.web.conftest import SAMPLE_REQUEST, WEB_PEOPLE, p5_p6_files

PEOPLE = {**WEB_PEOPLE, "dir": ["sales_director"]}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def ready(eng: Engine, user: str, iid: int, name: str) -> str:
    found = [t["id"] for t in eng.inbox(user) if t["instance_id"] == iid and t["name"] == name]
    assert len(found) == 1, (user, name, eng.inbox(user))
    return found[0]


def approval(eng: Engine, who: str, customer: str, key: str) -> int:
    return eng.start(who, "approval", {"customer_name": customer, "amount_yuan": 5000}, business_key=key)


def sample_to_feedback(eng: Engine, who: str, customer: str, key: str) -> int:
    """A P5 sample request approved, sampled and shipped: the requester's feedback task (due in 14 days) opens."""
    iid = eng.start(who, "sample_request", {**SAMPLE_REQUEST, "customer_name": customer}, business_key=key)
    for user, name, data in [("mgr1", "sales_approval", {"approved": True}),
                             ("qa1", "quality_approval", {"approved": True}),
                             ("qa1", "take_sample", {"batch_no": "QC-07"}),
                             ("disp", "dispatch_ship", {"shipped_on": "2026-03-03", "carrier": "顺丰速运"})]:
        eng.complete(user, ready(eng, user, iid, name), data)
    return iid


@pytest.fixture
def world(engine: Engine, clock) -> dict[str, int]:
    """Five instances in every state the filters tell apart (built once per worker, then restored); the
    clock at 3/10 01:00."""
    ids = prepared(engine, "search: five instances", lambda eng: _build_world(eng, clock))
    clock.set(at(3, 10, 1))
    return ids


def _build_world(engine: Engine, clock) -> dict[str, int]:
    engine.deploy("system", [FIXTURES / "approval", *p5_p6_files()])
    add_users(engine, PEOPLE)
    ids: dict[str, int] = {}
    clock.set(at(3, 2, 1))
    ids["A"] = approval(engine, "rep1", "合肥建工集团", "AP-001")
    engine.complete("mgr1", ready(engine, "mgr1", ids["A"], "approve"), {"approved": True})
    engine.complete("rep1", ready(engine, "rep1", ids["A"], "archive"), {"archive_no": "A-1"})
    clock.set(at(3, 2, 15, 30))
    ids["B"] = approval(engine, "rep2", "Acme Trading Co", "AP-002")
    clock.set(at(3, 2, 16))
    ids["E"] = approval(engine, "rep1", "acme east", "ap-003")
    clock.set(at(3, 3, 15, 31))
    assert engine.fire_due_timers() == 1  # B's 24 h SLA; E's is due only at 3/3 16:00
    engine.complete("dir", ready(engine, "dir", ids["B"], "escalation"), {"comment": "请尽快"})
    engine.complete("mgr2", ready(engine, "mgr2", ids["B"], "approve"), {"approved": False, "comment": "不行"})
    clock.set(at(3, 3, 15, 45))
    ids["C"] = sample_to_feedback(engine, "rep1", "安徽海螺水泥", "SR-2026-01")
    clock.set(at(3, 4, 2))
    ids["D"] = approval(engine, "rep2", "Acme Trading Co", "AP-004")
    engine.cancel("rep2", ids["D"], "客户撤回")
    clock.set(at(3, 10, 1))
    return ids


def found(eng: Engine, ids: dict[str, int], actor: str = "aud", **filters: object) -> list[str]:
    """The letters of the instances the search finds, in the order it gives them."""
    names = {v: k for k, v in ids.items()}
    result = eng.search(actor, filters, per_page=100)
    assert result["total"] == len(result["items"])
    return [names[item["id"]] for item in result["items"]]


def test_without_filters_everything_is_found_newest_first(engine, world):
    assert found(engine, world) == ["D", "C", "E", "B", "A"]


def test_by_process_and_status(engine, world):
    assert found(engine, world, process="sample_request") == ["C"]
    assert found(engine, world, process="approval") == ["D", "E", "B", "A"]
    assert found(engine, world, process="no_such_process") == []
    assert found(engine, world, status="running") == ["C", "E"]
    assert found(engine, world, status="completed") == ["B", "A"]
    assert found(engine, world, status="cancelled") == ["D"]
    assert found(engine, world, status="error") == []


def test_by_customer_is_a_case_insensitive_part_of_the_name(engine, world):
    assert found(engine, world, customer="acme") == ["D", "E", "B"]
    assert found(engine, world, customer="ACME TRADING") == ["D", "B"]
    assert found(engine, world, customer="海螺") == ["C"]
    assert found(engine, world, customer="  建工  ") == ["A"]  # surrounding blanks are ignored
    assert found(engine, world, customer="%") == []  # LIKE wildcards are plain characters
    assert found(engine, world, customer="_") == []


def test_by_business_key_is_its_start_with_letter_case_kept(engine, world):
    assert found(engine, world, business_key="AP-") == ["D", "B", "A"]
    assert found(engine, world, business_key="AP-001") == ["A"]
    assert found(engine, world, business_key="ap") == ["E"]
    assert found(engine, world, business_key="SR-2026-01") == ["C"]
    assert found(engine, world, business_key="P-0") == []  # the start, not any part
    assert found(engine, world, business_key="AP_") == []


def test_by_start_date_in_company_days_both_ends_included(engine, world):
    # B started 23:30 and E 00:00 Shanghai time: on either side of midnight
    assert found(engine, world, started_from="2026-03-02", started_to="2026-03-02") == ["B", "A"]
    assert found(engine, world, started_from="2026-03-03", started_to="2026-03-03") == ["C", "E"]
    assert found(engine, world, started_from="2026-03-03") == ["D", "C", "E"]
    assert found(engine, world, started_to="2026-03-03") == ["C", "E", "B", "A"]
    assert found(engine, world, started_from="2026-03-05") == []


def test_by_participant_who_started_or_worked_a_task(engine, world):
    assert found(engine, world, participant="rep1") == ["C", "E", "A"]
    assert found(engine, world, participant="mgr1") == ["C", "A"]  # E is only offered to his role
    assert found(engine, world, participant="dir") == ["B"]  # completed the escalation
    assert found(engine, world, participant="disp") == ["C"]
    assert found(engine, world, participant="nobody") == []


def test_sla_breached_by_a_fired_sla_timer_or_a_task_past_its_due_time(engine, world, clock):
    # B: the escalated event; E: its approval is past its 24 h SLA timer (its deadline), fired or not yet
    assert found(engine, world, sla_breached=True) == ["E", "B"]
    assert found(engine, world, sla_breached=False) == ["D", "C", "A"]
    clock.set(at(3, 17, 15, 46))  # C's feedback task is now past its due time
    assert found(engine, world, sla_breached=True) == ["C", "E", "B"]
    assert found(engine, world, sla_breached="false") == ["D", "A"]
    engine.complete("rep1", ready(engine, "rep1", world["C"], "collect_feedback"), {"feedback": "满意"})
    clock.set(at(4, 1, 1))
    assert found(engine, world, sla_breached="true") == ["C", "E", "B"]  # C: completed after its due time
    items = {i["id"]: i for i in engine.search("aud")["items"]}
    assert items[world["C"]]["sla_breached"] is True and items[world["A"]]["sla_breached"] is False


def test_filters_combine(engine, world):
    assert found(engine, world, customer="acme", status="completed") == ["B"]
    assert found(engine, world, process="approval", sla_breached=False) == ["D", "A"]
    assert found(engine, world, participant="rep2", started_from="2026-03-04") == ["D"]
    assert found(engine, world, business_key="AP", customer="合肥", status="running") == []


def test_an_item_says_what_the_results_table_shows(engine, world):
    item = next(i for i in engine.search("aud", {"business_key": "SR-2026-01"})["items"])
    assert item == {"id": world["C"], "process_key": "sample_request", "process_name": "样品提供申请",
                    "process_names": {"zh": "样品提供申请", "en": "Sample request approval"}, "version": 1,
                    "business_key": "SR-2026-01", "customer_name": "安徽海螺水泥", "status": "running", "outcome": None,
                    "started_by": "rep1", "started_at": "2026-03-03T15:45:00+00:00", "ended_at": None,
                    "sla_breached": False, "open_tasks": 1}
    done = engine.search("aud", {"business_key": "AP-001"})["items"][0]
    assert done["ended_at"] == "2026-03-02T01:00:00+00:00" and done["open_tasks"] == 0


def test_pages(engine, world):
    names = {v: k for k, v in world.items()}
    pages = [engine.search("aud", {}, page=n, per_page=2) for n in (1, 2, 3, 4)]
    assert [[names[i["id"]] for i in p["items"]] for p in pages] == [["D", "C"], ["E", "B"], ["A"], []]
    assert {(p["total"], p["pages"], p["per_page"]) for p in pages} == {(5, 3, 2)}
    assert [p["page"] for p in pages] == [1, 2, 3, 4]
    empty = engine.search("aud", {"customer": "nobody"})
    assert (empty["items"], empty["total"], empty["pages"]) == ([], 0, 1)
    assert engine.search("aud", {}, page="2", per_page="4")["items"][0]["id"] == world["A"]  # query strings


def test_instances_started_at_the_same_instant_keep_one_order(engine, world):
    same = [approval(engine, "rep1", f"同时 {n}", f"SAME-{n}") for n in range(3)]
    pages = [engine.search("aud", {"business_key": "SAME-"}, page=n, per_page=1)["items"][0]["id"]
             for n in (1, 2, 3)]
    assert pages == sorted(same, reverse=True)


@pytest.mark.parametrize(("user", "expected"), [
    ("rep1", ["C", "E", "A"]), ("rep2", ["D", "B"]), ("mgr1", ["C", "E", "A"]), ("mgr2", ["E", "B"]),
    ("dir", ["B"]), ("qa1", ["C"]), ("lead", []), ("aud", ["D", "C", "E", "B", "A"]),
    ("adm", ["D", "C", "E", "B", "A"])])
def test_each_user_finds_only_what_he_may_see(engine, world, user, expected):
    assert found(engine, world, user) == expected
    for letter, iid in world.items():  # the same rule as opening the instance
        try:
            engine.instance(user, iid)
            may_see = True
        except NotFound:
            may_see = False
        assert may_see == (letter in expected), (user, letter)


def test_visibility_holds_with_every_filter_and_page(engine, world):
    assert found(engine, world, "rep2", customer="acme") == ["D", "B"]
    assert found(engine, world, "mgr1", participant="rep2") == []
    result = engine.search("rep1", {}, page=1, per_page=2)
    assert (result["total"], result["pages"]) == (3, 2)


def errors_of(eng: Engine, filters: dict, **paging: object) -> dict:
    with pytest.raises(InvalidData) as caught:
        eng.search("aud", filters, **paging)
    return caught.value.fields


def test_bad_filters_are_refused_with_a_message_per_field(engine, world):
    fields = errors_of(engine, {"status": "done", "started_from": "2026-13-01", "started_to": "3/4/2026",
                                "sla_breached": "yes", "process": "no spaces", "colour": "red"})
    assert set(fields) == {"status", "started_from", "started_to", "sla_breached", "process", "colour"}
    assert fields["status"]["en"] == "Must be running, incident, completed, cancelled or error"
    assert fields["started_from"] == {"zh": "须为有效日期，格式 YYYY-MM-DD", "en": "Must be a date as YYYY-MM-DD"}
    assert fields["sla_breached"]["zh"] == "须为“超时”或“未超时”"
    assert fields["colour"]["en"].startswith("Unknown filter")
    assert errors_of(engine, {"started_from": "2026-03-05", "started_to": "2026-03-04"}) == {
        "started_to": {"zh": "结束日期不能早于开始日期", "en": "Must not be before the start date"}}
    assert set(errors_of(engine, {"started_from": "0001-01-01", "started_to": "9999-12-31"})) == {
        "started_from", "started_to"}  # the day after or the time zone would overflow
    assert errors_of(engine, {"customer": "x" * 201})["customer"]["en"] == "At most 200 characters"
    assert errors_of(engine, {"participant": "a\x00b"})["participant"]["en"] == "May not contain a NUL character"
    assert errors_of(engine, {"customer": 7})["customer"]["en"] == "Must be a text"


@pytest.mark.parametrize(("paging", "field"), [({"page": 0}, "page"), ({"page": "x"}, "page"),
                                                ({"per_page": 101}, "per_page"), ({"per_page": 0}, "per_page"),
                                                ({"page": True}, "page")])
def test_bad_paging_is_refused(engine, world, paging, field):
    fields = errors_of(engine, {}, **paging)
    assert list(fields) == [field] and fields[field]["zh"].startswith("须为 1 到")


def test_the_customer_column_follows_the_instance_data(engine, world):
    raw = create_engine(engine.db.url)
    try:
        with raw.connect() as conn:
            stored = dict(conn.execute(text("SELECT id, customer_name FROM instance")).all())
    finally:
        raw.dispose()
    assert stored[world["C"]] == "安徽海螺水泥" and stored[world["B"]] == "Acme Trading Co"
