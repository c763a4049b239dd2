"""One process starting another by message, answering it back, and timer-started processes."""

from datetime import UTC, datetime

import pytest

from engine.errors import Forbidden
from tests.conftest import FIXTURES, add_users


@pytest.fixture
def relay(engine):
    engine.deploy("system", [FIXTURES / "relay"])
    add_users(engine, {"rep": ["sales_rep"], "disp": ["dispatcher"], "cs": ["customer_service"],
                       "aud": ["auditor"]})
    return engine


def kinds(eng, iid):
    return [(e["kind"], e["task"]) for e in eng.history("aud", iid)]


def test_a_thrown_message_starts_the_receiver_in_the_same_step_and_its_reply_resumes_the_sender(relay):
    sender = relay.start("rep", "sender", {}, business_key="ORDER-1")
    [confirm] = relay.inbox("rep")
    relay.complete("rep", confirm["id"], {"customer_name": "ACME", "quantity": 3})

    [sent] = [e for e in relay.history("aud", sender) if e["kind"] == "message_sent"]
    assert sent["payload"]["name"] == "order_confirmed"
    assert sent["payload"]["payload"] == {"customer_name": "ACME", "quantity": 3}
    [receiver] = sent["payload"]["started"]
    view = relay.instance("aud", receiver)
    assert (view["process_key"], view["business_key"], view["started_by"]) == ("receiver", "ORDER-1", "rep")
    assert view["data"] == {"customer_name": "ACME", "quantity": 3}
    started = relay.history("aud", receiver)[0]
    assert started["payload"]["via_message"] == {"name": "order_confirmed", "from_instance": sender}

    [ship] = relay.inbox("disp")
    relay.complete("disp", ship["id"], {"tracking_no": "SF-1"})
    assert relay.instance("aud", receiver)["status"] == "completed"
    back = relay.instance("aud", sender)
    assert back["status"] == "completed"
    assert back["data"]["order_shipped"] == {"tracking_no": "SF-1"}
    assert ("message", None) in kinds(relay, sender)
    assert relay.replay(sender).verified and relay.replay(receiver).verified


def test_a_message_start_process_can_be_started_by_hand_with_the_payload_as_data(relay):
    iid = relay.start("rep", "receiver", {"customer_name": "ACME", "quantity": 1})
    assert relay.instance("aud", iid)["data"] == {"customer_name": "ACME", "quantity": 1}
    assert [t["name"] for t in relay.inbox("disp")] == ["ship"]
    assert relay.replay(iid).verified


def test_a_timer_started_process_is_armed_on_deploy_and_rearmed_each_time_it_fires(relay, clock):
    with pytest.raises(Forbidden, match="started by its timer"):
        relay.start("cs", "monthly", {})
    assert relay.inbox("cs") == []
    clock.set(datetime(2026, 4, 1, 0, 59, tzinfo=UTC))  # 08:59 in Shanghai
    assert relay.fire_due_timers() == 0
    clock.set(datetime(2026, 4, 1, 1, 1, tzinfo=UTC))
    assert relay.fire_due_timers() == 1
    [report] = relay.inbox("cs")
    first = report["instance_id"]
    assert relay.instance("aud", first)["started_by"] == "system"
    assert relay.fire_due_timers() == 0  # the next one waits for May
    clock.set(datetime(2026, 5, 1, 1, 1, tzinfo=UTC))
    assert relay.fire_due_timers() == 1
    assert len(relay.inbox("cs")) == 2
    assert relay.replay(first).verified


def test_deploying_a_new_version_rearms_on_the_new_version_only(relay, clock):
    text = (FIXTURES / "relay" / "monthly.bpmn").read_text(encoding="utf-8").replace("月度报告", "月度总结")
    from engine.definitions.bundle import SourceFile

    files = [SourceFile("monthly.bpmn", "bpmn", text.encode()),
             SourceFile("relay_report.yaml", "form", (FIXTURES / "relay" / "relay_report.yaml").read_bytes())]
    [deployed] = relay.deploy("system", files=files)
    assert deployed.version == 2
    clock.set(datetime(2026, 4, 1, 1, 1, tzinfo=UTC))
    assert relay.fire_due_timers() == 1
    [report] = relay.inbox("cs")
    assert report["title"] == "月度总结"
    assert relay.instance("aud", report["instance_id"])["version"] == 2
