"""P14 customer_register (新客户登记与审核): a prospect registered by a sales representative and reviewed by the
sales manager, who confirms its owner and sets the follow-up strategy, or refuses it.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai; the review is due one working day later.
"""

from __future__ import annotations

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.scenarios.conftest import deploy_repository
from tests.scenarios.customer_steps import KEY, STRATEGY, accepted, registration
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    do,
    end_events,
    holders,
    inbox_task,
    local_time,
    offered_to,
    parse,
    trail,
)

NAME = "芜湖嘉和建材有限公司"
REVIEW_DUE = local_time("2026-03-03", "09:00")


@pytest.fixture
def reg(engine: Engine) -> Engine:
    assert (KEY, 1, "deployed") in deploy_repository(engine)
    return engine


def the_customer(eng: Engine, name: str = NAME) -> dict:
    [c] = [c for c in eng.customers(AUDITOR, name=name) if c["name"] == name]
    return c


def customer_events(eng: Engine) -> list[tuple[str, str]]:
    """The customers chain as (kind, actor)."""
    with eng.db.read() as s:
        from sqlalchemy import select

        from engine.store.models import AuditEvent

        rows = s.scalars(select(AuditEvent).where(AuditEvent.chain == "customers").order_by(AuditEvent.position))
        return [(e.kind, e.actor) for e in rows]


@pytest.mark.rule("P14.1")
@pytest.mark.rule("P14.2")
def test_an_accepted_prospect_becomes_the_registering_reps_customer_with_the_strategy(reg, clock):
    eng = reg
    iid = eng.start("rep1", KEY, registration(NAME))
    assert offered_to(eng, "review_customer", iid) == holders("sales_manager")
    task = inbox_task(eng, "mgr1", "review_customer", iid)
    assert parse(task["due_at"]) == REVIEW_DUE
    assert eng.customer_registrations(AUDITOR) == [{"instance_id": iid, "name": NAME, "registered_by": "rep1",
                                                   "registered_at": eng.instance(AUDITOR, iid)["started_at"]}]
    do(eng, "mgr1", "review_customer", accepted(), iid)
    c = the_customer(eng)
    assert (c["owner"], c["status"], c["follow_up_strategy"]) == ("rep1", "active", STRATEGY)
    assert (c["registered_by"], c["reviewed_by"], c["instance_id"]) == ("rep1", "mgr1", iid)
    assert (c["contact_person"], c["contact_phone"], c["source"]) == ("赵经理", "0553-5551234", "own_development")
    assert eng.instance(AUDITOR, iid)["outcome"] == "approved"
    assert end_events(eng, iid) == ["customer_accepted"]
    assert trail(eng, iid) == [("started", None), ("task_ready", "review_customer"), ("completed", "review_customer"),
                               ("gateway_taken", "review_gateway"), ("ended", None)]
    assert customer_events(eng) == [("customer_registered", "mgr1")]
    assert eng.customer_registrations(AUDITOR) == []
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P14.2")
def test_the_manager_may_give_the_new_customer_to_another_active_rep(reg, clock):
    eng = reg
    iid = eng.start("rep1", KEY, registration(NAME))
    do(eng, "mgr2", "review_customer", accepted(owner="rep2"), iid)
    assert the_customer(eng)["owner"] == "rep2"


@pytest.mark.rule("P14.2")
@pytest.mark.parametrize("owner", ["qa1", "nobody", "mgr1"])
def test_an_owner_who_is_no_sales_rep_is_refused_and_nothing_is_saved(reg, owner):
    eng = reg
    iid = eng.start("rep1", KEY, registration(NAME))
    task = inbox_task(eng, "mgr1", "review_customer", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("mgr1", task["id"], accepted(owner=owner))
    assert "销售代表" in refused.value.fields["owner"]["zh"]
    assert eng.customers(AUDITOR) == []
    assert inbox_task(eng, "mgr1", "review_customer", iid)["status"] == "ready"


@pytest.mark.rule("P14.2")
def test_a_deactivated_rep_cannot_be_given_the_customer(reg):
    eng = reg
    eng.deactivate_user("adm", "rep2")
    iid = eng.start("rep1", KEY, registration(NAME))
    with pytest.raises(InvalidData):
        eng.complete("mgr1", inbox_task(eng, "mgr1", "review_customer", iid)["id"], accepted(owner="rep2"))


@pytest.mark.rule("P14.3")
@pytest.mark.parametrize("reason", ["duplicate", "not_prospect"])
def test_a_refused_registration_needs_its_reason_and_leaves_a_refused_record(reg, reason):
    eng = reg
    iid = eng.start("rep1", KEY, registration(NAME))
    task = inbox_task(eng, "mgr1", "review_customer", iid)
    with pytest.raises(InvalidData) as missing:
        eng.complete("mgr1", task["id"], {"approved": False})
    assert set(missing.value.fields) == {"refusal_reason", "comment"}
    do(eng, "mgr1", "review_customer", {"approved": False, "refusal_reason": reason, "comment": "查无此单位"}, iid)
    c = the_customer(eng)
    assert (c["status"], c["owner"], c["refusal_reason"]) == ("rejected", None, reason)
    assert eng.instance(AUDITOR, iid)["outcome"] == "rejected"
    assert end_events(eng, iid) == ["customer_refused"]
    assert customer_events(eng) == [("customer_refused", "mgr1")]
    # a refused name may be registered again, and accepted this time
    again = eng.start("rep2", KEY, registration(NAME))
    do(eng, "mgr1", "review_customer", accepted(), again)
    assert (the_customer(eng)["status"], the_customer(eng)["owner"]) == ("active", "rep2")
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P14.4")
def test_a_name_already_registered_is_refused_naming_its_owner(reg):
    eng = reg
    do(eng, "mgr1", "review_customer", accepted(), eng.start("rep1", KEY, registration(NAME)))
    with pytest.raises(InvalidData) as refused:
        eng.start("rep2", KEY, registration("  芜湖嘉和建材有限公司 "))
    assert refused.value.fields["customer_name"] == {"zh": f"客户“{NAME}”已登记，由rep1负责",
                                                     "en": f"“{NAME}” is already a customer, owned by rep1"}
    assert eng.search(AUDITOR, {"process": KEY})["total"] == 1


@pytest.mark.rule("P14.4")
def test_a_name_waiting_for_review_is_refused_naming_who_registered_it(reg):
    eng = reg
    eng.start("rep1", KEY, registration(NAME))
    with pytest.raises(InvalidData) as refused:
        eng.start("rep2", KEY, registration("芜湖嘉和建材有限公司"))
    assert "等待审核" in refused.value.fields["customer_name"]["zh"]
    assert "waits for review" in refused.value.fields["customer_name"]["en"]


@pytest.mark.rule("P14.4")
def test_the_review_refuses_to_accept_a_name_registered_meanwhile(reg):
    """Two registrations of one name that raced past the start check: the second acceptance is refused."""
    eng = reg
    first = eng.start("rep1", KEY, registration(NAME))
    do(eng, "mgr1", "review_customer", accepted(), first)
    with eng.db.write() as s:  # a registration started before the first was accepted (the check passed then)
        from sqlalchemy import update

        from engine.store.models import Customer

        s.execute(update(Customer).values(status="rejected"))
    second = eng.start("rep2", KEY, registration(NAME))
    with eng.db.write() as s:
        s.execute(update(Customer).values(status="active"))
    with pytest.raises(InvalidData) as refused:
        eng.complete("mgr2", inbox_task(eng, "mgr2", "review_customer", second)["id"], accepted())
    assert "重复登记" in refused.value.fields["approved"]["zh"]
    assert the_customer(eng)["owner"] == "rep1"


@pytest.mark.rule("P14.1")
def test_the_registering_rep_may_not_review_his_own_registration(reg):
    eng = reg
    iid = eng.start("rep_mgr", KEY, registration(NAME))
    assert offered_to(eng, "review_customer", iid) == holders("sales_manager") - {"rep_mgr"}
    task = inbox_task(eng, "mgr1", "review_customer", iid)
    with pytest.raises(Forbidden):
        eng.complete("rep_mgr", task["id"], accepted())


def test_only_sales_reps_register_customers(reg):
    with pytest.raises(Forbidden):
        reg.start("svc1", KEY, registration(NAME))


def test_bad_registration_data_is_refused_by_field(reg):
    with pytest.raises(InvalidData) as refused:
        reg.start("rep1", KEY, {**registration(NAME), "contact_phone": "call me", "needs": " "})
    assert set(refused.value.fields) == {"contact_phone", "needs"}


def _crafted(tmp_path, reg: Engine) -> None:
    """A new version of customer_register whose review sits in the sales representatives' lane."""
    from tests.conftest import ROOT

    xml = (ROOT / "processes" / "customer_register.bpmn").read_text(encoding="utf-8")
    xml = xml.replace("<bpmn:flowNodeRef>register_customer</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>register_customer</bpmn:flowNodeRef>\n"
                      "        <bpmn:flowNodeRef>review_customer</bpmn:flowNodeRef>", 1)
    xml = xml.replace("<bpmn:flowNodeRef>review_customer</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>review_gateway",
                      "<bpmn:flowNodeRef>review_gateway", 1)
    xml = xml.replace('<camunda:property name="sod" value="initiator" />', "")
    (tmp_path / "customer_register.bpmn").write_text(xml, encoding="utf-8")
    files = [tmp_path / "customer_register.bpmn", ROOT / "forms" / "customer_register_start.yaml",
             ROOT / "forms" / "customer_register_review.yaml"]
    assert [(d.key, d.version) for d in reg.deploy("system", files)] == [(KEY, 2)]


@pytest.mark.rule("P14.2")
def test_a_crafted_diagram_without_the_managers_review_creates_no_customer(reg, tmp_path):
    from engine.errors import ProcessError

    eng = reg
    _crafted(tmp_path, eng)
    iid = eng.start("rep1", KEY, registration(NAME))
    assert offered_to(eng, "review_customer", iid) == holders("sales_rep")
    task = inbox_task(eng, "rep2", "review_customer", iid)
    with pytest.raises(ProcessError):
        eng.complete("rep2", task["id"], accepted())
    assert eng.customers(AUDITOR) == []
    assert eng.instance(AUDITOR, iid)["status"] == "running"


@pytest.mark.rule("P14.8")
@pytest.mark.rule("P14.9")
def test_audit_verify_finds_a_customer_or_contact_changed_behind_the_engines_back(reg):
    from sqlalchemy import update

    from engine.store.models import Customer, CustomerContact

    eng = reg
    iid = eng.start("rep1", KEY, registration(NAME))
    do(eng, "mgr1", "review_customer", accepted(), iid)
    cid = the_customer(eng)["id"]
    eng.log_contact("rep1", cid, {"kind": "visit", "happened_on": "2026-03-02", "summary": "上门拜访，介绍新品"})
    eng.change_customer_owner("mgr1", cid, {"owner": "rep2", "reason": "片区调整"})
    assert "customers" in eng.audit_chains()
    check = eng.check_trail("customers")
    assert (check.ok, check.events) == (True, 3)
    with eng.db.write() as s:
        s.execute(update(Customer).values(owner="rep1"))
    check = eng.check_trail("customers")
    assert not check.ok and check.position == 3 and "owner" in check.reason
    with eng.db.write() as s:
        s.execute(update(Customer).values(owner="rep2"))
        s.execute(update(CustomerContact).values(summary="改过的记录"))
    check = eng.check_trail("customers")
    assert not check.ok and check.position == 2 and "summary" in check.reason
