"""Event-based gateways and catch events with several definitions: whichever event comes first
moves the instance on, and the others are dropped (a timer row ends as cancelled)."""

from __future__ import annotations

import pytest

from engine.errors import Conflict
from tests.conftest import FIXTURES, add_users
from tests.test_timers__worker import timer_rows


@pytest.fixture
def race(engine):
    engine.deploy("system", [FIXTURES / "race"])
    add_users(engine, {"rep": ["sales_rep"], "fin": ["finance"]})
    return engine


def kinds(eng, iid: int) -> list[tuple[str, str | None]]:
    return [(e["kind"], e["task"]) for e in eng.history("rep", iid)]


def test_the_gateway_arms_its_timer_and_waits(race, clock, db_url):
    iid = race.start("rep", "race", {})
    assert timer_rows(db_url, iid) == [("wait_timeout", "waiting")]
    clock.advance(hours=23)
    assert race.fire_due_timers() == 0
    assert race.inbox("rep") == [] and race.inbox("fin") == []


def test_timer_first_the_timer_wins_and_the_message_is_no_longer_awaited(race, clock, db_url):
    iid = race.start("rep", "race", {})
    clock.advance(hours=25)
    assert race.fire_due_timers() == 1
    [task] = race.inbox("rep")
    assert task["name"] == "chase" and race.inbox("fin") == []
    assert timer_rows(db_url, iid) == [("wait_timeout", "fired")]
    assert ("timer_fired", "wait_timeout") in kinds(race, iid)
    with pytest.raises(Conflict, match="not waiting for message payment_received"):
        race.deliver_message("system", iid, "payment_received", {"paid_amount": 1})
    race.complete("rep", task["id"], {"voucher_no": "V-1"})
    assert race.instance("rep", iid)["status"] == "completed"
    assert race.replay(iid).verified


def test_message_first_the_message_wins_and_the_timer_is_cancelled(race, clock, db_url):
    iid = race.start("rep", "race", {})
    clock.advance(hours=2)
    race.deliver_message("system", iid, "payment_received", {"paid_amount": 1200.5})
    [task] = race.inbox("fin")
    assert task["name"] == "confirm" and race.inbox("rep") == []
    assert timer_rows(db_url, iid) == [("wait_timeout", "cancelled")]
    clock.advance(hours=30)
    assert race.fire_due_timers() == 0
    race.complete("fin", task["id"], {"voucher_no": "V-2"})
    view = race.instance("rep", iid)
    assert view["status"] == "completed"
    assert view["data"]["payment_received"] == {"paid_amount": 1200.5}
    assert race.replay(iid).verified


def test_a_message_after_the_deadline_comes_too_late(race, clock, db_url):
    """A command fires the overdue timers first (a deadline that passed is never skipped), so the message
    finds the gateway gone and is refused; the worker's next pass records the timer's win."""
    iid = race.start("rep", "race", {})
    clock.advance(hours=25)
    with pytest.raises(Conflict, match="not waiting for message payment_received"):
        race.deliver_message("system", iid, "payment_received", {})
    assert race.fire_due_timers() == 1
    assert [t["name"] for t in race.inbox("rep")] == ["chase"]
    assert timer_rows(db_url, iid) == [("wait_timeout", "fired")]


@pytest.mark.parametrize("name", ["payment_received", "payment_waived"])
def test_a_catch_event_with_two_messages_moves_on_either_with_its_payload(race, name):
    iid = race.start("rep", "either", {})
    race.deliver_message("system", iid, name, {"note": "ok"})
    [task] = race.inbox("fin")
    assert task["name"] == "confirm"
    race.complete("fin", task["id"], {"voucher_no": "V-3"})
    view = race.instance("rep", iid)
    assert view["status"] == "completed" and view["data"][name] == {"note": "ok"}
    assert race.replay(iid).verified


def test_a_send_task_of_another_case_reaches_the_waiting_gateway(race, clock, db_url):
    iid = race.start("rep", "race", {}, business_key="ORD-7")
    payer = race.start("rep", "payer", {}, business_key="ORD-7")
    [pay] = race.inbox("rep")
    race.complete("rep", pay["id"], {"voucher_no": "V-7"})
    [sent] = [e["payload"] for e in race.history("rep", payer) if e["kind"] == "message_sent"]
    assert (sent["name"], sent["payload"], sent["delivered"]) == ("payment_received", {"voucher_no": "V-7"}, [iid])
    assert [t["name"] for t in race.inbox("fin")] == ["confirm"]
    assert race.instance("rep", iid)["data"]["payment_received"] == {"voucher_no": "V-7"}
    assert timer_rows(db_url, iid) == [("wait_timeout", "cancelled")]


def test_a_receive_task_waits_for_its_message_and_a_send_task_throws_one(race):
    iid = race.start("rep", "receive", {})
    assert race.inbox("fin") == []
    race.deliver_message("system", iid, "payment_received", {"paid_amount": 80})
    [task] = race.inbox("fin")
    race.complete("fin", task["id"], {"voucher_no": "V-8"})
    view = race.instance("rep", iid)
    assert view["status"] == "completed" and view["data"]["payment_received"] == {"paid_amount": 80}
    [sent] = [e["payload"] for e in race.history("rep", iid) if e["kind"] == "message_sent"]
    assert (sent["name"], sent["payload"]) == ("payment_booked", {"voucher_no": "V-8"})
    assert race.replay(iid).verified


def test_a_catch_event_with_a_message_and_a_timer_fires_on_the_timer(race, clock, db_url):
    iid = race.start("rep", "mixed", {})
    assert timer_rows(db_url, iid) == [("wait_either", "waiting")]
    clock.advance(hours=2)
    assert race.fire_due_timers() == 1
    assert [t["name"] for t in race.inbox("fin")] == ["confirm"]
    assert timer_rows(db_url, iid) == [("wait_either", "fired")]
    assert ("timer_fired", "wait_either") in kinds(race, iid)


def test_a_catch_event_with_a_message_and_a_timer_moves_on_the_message(race, clock, db_url):
    iid = race.start("rep", "mixed", {})
    race.deliver_message("system", iid, "payment_received", {"paid_amount": 5})
    assert [t["name"] for t in race.inbox("fin")] == ["confirm"]
    [(_element, status)] = timer_rows(db_url, iid)
    assert status == "cancelled"  # the message won: its timer never fired
    assert ("timer_fired", "wait_either") not in kinds(race, iid)
    assert race.instance("rep", iid)["data"]["payment_received"] == {"paid_amount": 5}
    clock.advance(hours=2)
    assert race.fire_due_timers() == 0
