"""Issue 11, finding 3: a failure in a message delivery must affect its own instance only. A message
thrown by one instance is routed in the sender's command; when the receiver's step failed, the
sender's command failed with it. Now the receiver's step is rolled back on its own (a SAVEPOINT):
a waiting receiver is halted by an incident that keeps the message, a message-started receiver is
created halted, and the sender's command succeeds. A retry delivers the kept message (or starts the
instance) once the receiver's process is fixed."""

from __future__ import annotations

import pytest

from engine.errors import Halted
from tests.security._incidents import deploy, events, fixed_version, kinds, start, verified

GO_SCRIPT = "handled = 1 / 0 if go['mode'] == 'raise' else 'ok'"
HELLO_SCRIPT = "answered = 1 / 0 if mode == 'raise' else 'ok'"


@pytest.fixture
def eng(engine):
    return deploy(engine)


def send(eng, mode: str, business_key: str) -> int:
    """A `waiter` waits with this business key; a `ping` with the same key throws `go` and `hello`
    when its task is completed. Returns the ping; the sender's complete must succeed."""
    start(eng, "ok", key="waiter", business_key=business_key)
    ping = start(eng, mode, key="ping", business_key=business_key)
    [task] = [t for t in eng.inbox("rep") if t["instance_id"] == ping]
    eng.complete("rep", task["id"], {"done": True})
    return ping


def by_process(eng, business_key: str) -> dict[str, dict]:
    found = eng.search("adm", {"business_key": business_key})["items"]
    return {i["process_key"]: eng.instance("aud", i["id"]) for i in found}


def test_healthy_receivers_take_the_message_as_before(eng):
    ping = send(eng, "ok", "K-OK")
    found = by_process(eng, "K-OK")
    assert found["ping"]["status"] == "completed"
    assert found["waiter"]["status"] == "running" and found["waiter"]["data"]["handled"] == "ok"
    assert found["pong"]["status"] == "running" and found["pong"]["data"]["answered"] == "ok"
    assert eng.incidents("adm") == []
    sent = events(eng, ping, "message_sent")
    assert [e["payload"].get("halted") for e in sent] == [None, None]


def test_a_receiver_that_fails_is_halted_and_the_sender_goes_on(eng):
    ping = send(eng, "raise", "K-1")

    found = by_process(eng, "K-1")
    assert found["ping"]["status"] == "completed"  # the sender's command succeeded, its trail is whole
    waiter, pong = found["waiter"], found["pong"]
    assert waiter["status"] == "incident" and "handled" not in waiter["data"]
    assert pong["status"] == "incident" and pong["data"] == {"mode": "raise", "customer_name": "ACME"}
    go, hello = events(eng, ping, "message_sent")
    assert go["payload"]["delivered"] == [waiter["id"]] and go["payload"]["halted"] == [waiter["id"]]
    assert hello["payload"]["started"] == [pong["id"]] and hello["payload"]["halted"] == [pong["id"]]

    incidents = {i["instance_id"]: i for i in eng.incidents("adm")}
    assert incidents[waiter["id"]]["kind"] == "message" and incidents[waiter["id"]]["element"] == "after_go"
    assert "division by zero" in incidents[waiter["id"]]["message"]
    assert incidents[pong["id"]]["kind"] == "message" and incidents[pong["id"]]["element"] == "answer"
    assert kinds(eng, waiter["id"])[-1] == "incident"
    assert kinds(eng, pong["id"]) == ["incident"]  # created halted: nothing of its first step was kept
    for iid in (ping, waiter["id"], pong["id"]):
        verified(eng, iid)


def test_a_message_for_a_halted_receiver_is_kept_on_an_incident_of_its_own(eng):
    first = send(eng, "raise", "K-2")
    waiter = by_process(eng, "K-2")["waiter"]["id"]
    # another sender with the halted waiter's key: the halted one runs nothing, the message is kept
    second = start(eng, "ok", key="ping", business_key="K-2")
    [task] = [t for t in eng.inbox("rep") if t["instance_id"] == second]
    eng.complete("rep", task["id"], {"done": True})

    old, kept = sorted((i for i in eng.incidents("adm") if i["instance_id"] == waiter), key=lambda i: i["id"])
    assert kept["kind"] == "message" and kept["element"] == "wait_go" and "halted" in kept["message"]
    assert eng.instance("aud", waiter)["status"] == "incident"
    assert events(eng, second, "message_sent")[0]["payload"]["halted"] == [waiter]

    eng.migrate("own", "waiter", fixed_version(eng, "waiter", GO_SCRIPT, "handled = 'ok'"))
    assert eng.retry_incident("adm", old["id"])["status"] == "resolved"
    assert eng.instance("aud", waiter)["status"] == "incident"  # the kept message is still open
    assert eng.retry_incident("adm", kept["id"])["status"] == "resolved"
    inst = eng.instance("aud", waiter)
    assert inst["status"] == "running" and inst["data"]["go"] == {"mode": "raise"}  # the first message's
    assert events(eng, waiter, "retried")[-1]["payload"]["dropped"] is True  # nothing waited for the second
    for iid in (first, second, waiter):
        verified(eng, iid)


def test_retrying_after_a_fix_delivers_the_kept_message_and_starts_the_halted_start(eng):
    ping = send(eng, "raise", "K-4")
    found = by_process(eng, "K-4")
    waiter, pong = found["waiter"]["id"], found["pong"]["id"]
    with pytest.raises(Halted):
        eng.deliver_message("adm", waiter, "go", {"mode": "ok"})

    fixed_waiter = fixed_version(eng, "waiter", GO_SCRIPT, "handled = 'ok'")
    assert eng.migrate("own", "waiter", fixed_waiter)["migrated"] == [waiter]
    fixed_pong = fixed_version(eng, "pong", HELLO_SCRIPT, "answered = 'ok'")
    incidents = {i["instance_id"]: i for i in eng.incidents("adm")}

    assert eng.retry_incident("adm", incidents[waiter]["id"])["status"] == "resolved"
    assert eng.retry_incident("adm", incidents[pong]["id"])["status"] == "resolved"

    w, p = eng.instance("aud", waiter), eng.instance("aud", pong)
    assert w["status"] == "running" and w["data"]["handled"] == "ok" and w["data"]["go"] == {"mode": "raise"}
    assert p["status"] == "running" and p["data"]["answered"] == "ok" and p["version"] == fixed_pong
    assert [t["name"] for t in p["tasks"]] == ["handle"]
    [retried] = events(eng, pong, "retried")
    assert retried["payload"]["step"] == "started" and retried["payload"]["data"] == {"mode": "raise",
                                                                                     "customer_name": "ACME"}
    for iid in (ping, waiter, pong):
        verified(eng, iid)

    [task] = [t for t in eng.inbox("mgr") if t["instance_id"] == pong]
    eng.complete("mgr", task["id"], {"done": True})
    assert eng.instance("aud", pong)["status"] == "completed"
    verified(eng, pong)


def test_a_halted_start_can_be_cancelled_without_ever_running(eng):
    send(eng, "raise", "K-5")
    pong = by_process(eng, "K-5")["pong"]["id"]
    [incident] = [i for i in eng.incidents("adm") if i["instance_id"] == pong]
    eng.cancel_incident("adm", incident["id"], "重复的问候")
    assert eng.instance("aud", pong)["status"] == "cancelled"
    assert kinds(eng, pong) == ["incident", "cancelled"]
    verified(eng, pong)
    assert eng.diagram("aud", pong)["active"] == []
