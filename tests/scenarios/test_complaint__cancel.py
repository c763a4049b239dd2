"""P4 complaint: 100 % resolved (seed 412). Its registrant cannot cancel or withdraw a complaint, nor
can an administrator; the general manager can, with a reason the trail keeps."""

from __future__ import annotations

import pytest

from engine.errors import Forbidden, InvalidData
from tests.scenarios.repository import deploy_repository
from tests.scenarios.test_complaint__paths import registration


@pytest.fixture
def complaint(engine):
    deploy_repository(engine)
    return engine, engine.start("svc1", "complaint", registration("service", "minor"))


@pytest.mark.rule("P4.CANCEL")
def test_the_registrant_cannot_withdraw_a_complaint(complaint):
    engine, iid = complaint
    assert engine.instance("svc1", iid)["may_end"] is None
    with pytest.raises(Forbidden, match="cannot be withdrawn by its requester; only general_manager may cancel it"):
        engine.cancel("svc1", iid, "客户说算了")
    assert engine.instance("svc1", iid)["status"] == "running"


@pytest.mark.rule("P4.CANCEL")
def test_an_administrator_cannot_cancel_a_complaint_either(complaint):
    engine, iid = complaint
    assert engine.instance("adm", iid)["may_end"] is None
    with pytest.raises(Forbidden, match="only general_manager may cancel instances of complaint"):
        engine.cancel("adm", iid, "清理数据")


@pytest.mark.rule("P4.CANCEL")
def test_the_general_manager_finds_every_complaint_and_cancels_with_a_reason_the_trail_keeps(complaint):
    engine, iid = complaint
    assert [i["id"] for i in engine.search("gm1", {"process": "complaint"})["items"]] == [iid]
    assert engine.instance("gm1", iid)["may_end"] == "cancelled"
    with pytest.raises(InvalidData):
        engine.cancel("gm1", iid, "")
    assert engine.cancel("gm1", iid, "客户撤诉并书面确认，经总经理批准结案") == "cancelled"
    inst = engine.instance("aud", iid)
    assert (inst["status"], inst["outcome"]) == ("cancelled", "cancelled")
    [ended] = [e for e in engine.history("aud", iid) if e["kind"] == "cancelled"]
    assert (ended["actor"], ended["payload"]["reason"]) == ("gm1", "客户撤诉并书面确认，经总经理批准结案")
    assert engine.replay(iid).verified
