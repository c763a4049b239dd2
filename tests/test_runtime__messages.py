"""Messages: an instance waiting for a message continues when it arrives; the payload is
stored under the message name (or the event's camunda:resultVariable)."""

import pytest

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from tests.conftest import FIXTURES, PASSWORD, add_users


@pytest.fixture
def payment(engine):
    engine.deploy("system", [FIXTURES / "payment"])
    add_users(engine, {"rep": ["sales_rep"], "fin": ["finance"], "other": ["sales_rep"], "adm": ["admin"]})
    return engine


def test_message_resumes_the_instance_with_its_payload(payment):
    iid = payment.start("rep", "payment", {})
    assert payment.inbox("fin") == []
    payment.deliver_message("system", iid, "payment_received", {"paid_amount": 1200.5})
    [task] = payment.inbox("fin")
    assert task["name"] == "confirm"
    payment.complete("fin", task["id"], {"voucher_no": "V-9"})
    view = payment.instance("rep", iid)
    assert view["status"] == "completed"
    assert view["data"]["payment_received"] == {"paid_amount": 1200.5}
    assert view["data"]["voucher_no"] == "V-9"
    kinds = [(e["kind"], e["task"]) for e in payment.history("rep", iid)]
    assert ("message", None) in kinds and ("task_ready", "confirm") in kinds
    assert payment.replay(iid).verified


def test_a_message_the_instance_does_not_wait_for_is_refused_and_nothing_changes(payment):
    iid = payment.start("rep", "payment", {})
    before = payment.history("rep", iid)
    with pytest.raises(Conflict, match="not waiting for message wrong_name"):
        payment.deliver_message("system", iid, "wrong_name", {})
    assert payment.history("rep", iid) == before


def test_only_the_requester_an_admin_or_the_system_may_send_messages(payment):
    iid = payment.start("rep", "payment", {})
    with pytest.raises(NotFound):  # "other" takes no part: the instance does not exist for them
        payment.deliver_message("other", iid, "payment_received", {})
    payment.add_user("aud", ["auditor"], PASSWORD)
    with pytest.raises(Forbidden):  # the auditor reads it, and changes nothing
        payment.deliver_message("aud", iid, "payment_received", {})
    payment.deliver_message("adm", iid, "payment_received", {})
    assert [t["name"] for t in payment.inbox("fin")] == ["confirm"]


def test_payload_keys_starting_with_underscore_are_refused(payment):
    iid = payment.start("rep", "payment", {})
    with pytest.raises(InvalidData):
        payment.deliver_message("system", iid, "payment_received", {"_getattr_": 1})
    assert payment.inbox("fin") == []
