"""P4 complaint, after the solution: the message complaint_resolved reaches the after-sales case that started
the complaint (P3 waits for it so a fault is not remedied twice), and customer service tells the customer
the corrective action (seed 267) within one working day (issue 12 items 3 and 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.definitions.bundle import SourceFile
from engine.errors import InvalidData
from tests.conftest import T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    do,
    events,
    holders,
    local_time,
    offered_to,
    open_task,
    parse,
)
from tests.scenarios.test_complaint__paths import (
    ACCEPTED,
    IMPLEMENTED,
    KEY,
    SUMMARY,
    investigate,
    registration,
    review,
    taken,
)

# An after-sales case as P3 could model it: it reports the quality fault, then waits for the complaint's
# outcome under the same business key before it goes on.
WAITER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://salesflow.example/test">
  <bpmn:message id="m1" name="quality_complaint"/>
  <bpmn:message id="m2" name="complaint_resolved"/>
  <bpmn:process id="fault_case" name="测试：等待投诉结果" isExecutable="true"
                camunda:candidateStarterGroups="aftersales_engineer">
    <bpmn:laneSet id="ls"><bpmn:lane id="aftersales_engineer" name="售后服务人员">
      <bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>t</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>w</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateThrowEvent id="t"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m1" camunda:expression="{'customer_name': customer_name,
        'customer_class': customer_class, 'product': product, 'purchase_date': purchase_date,
        'description': description, 'complaint_kind': 'quality', 'severity': severity}"/>
    </bpmn:intermediateThrowEvent>
    <bpmn:intermediateCatchEvent id="w"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m2" camunda:resultVariable="complaint_outcome"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="e"><bpmn:extensionElements><camunda:properties>
      <camunda:property name="outcome" value="completed"/></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="w"/>
    <bpmn:sequenceFlow id="f3" sourceRef="w" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
"""
FAULT = {"customer_name": "合肥瑞丰装饰工程有限公司", "customer_class": "local", "product": "抛光砖 800×800",
         "purchase_date": "2026-02-17", "description": "砖面吸水发暗", "severity": "minor"}


@pytest.mark.rule("P4.MSG")
@pytest.mark.parametrize(("resolution", "amount", "remedy", "paid"), [
    pytest.param("refund", 1500, "refund", 1500, id="refunded"),
    pytest.param("reject_with_reasons", None, "reject_with_reasons", 0, id="not_a_quality_fault")])
def test_the_after_sales_case_that_started_the_complaint_gets_its_outcome(flows, resolution, amount, remedy,
                                                                          paid):
    eng = flows
    eng.deploy("system", files=[SourceFile("fault_case.bpmn", "bpmn", WAITER.encode())])
    case = eng.start("fix1", "fault_case", FAULT, business_key="SH-2026-0401")
    [sent] = events(eng, case, "message_sent")
    [iid] = sent["payload"]["started"]
    assert eng.instance(AUDITOR, iid)["business_key"] == "SH-2026-0401"

    review(eng, iid, "minor")
    do(eng, "mgr1", "take_quality_by_manager", taken("ZL-2026-090", onsite_visit=False), iid)
    investigate(eng, iid)
    decision = {"quality_resolution": resolution, "resolution_details": "按复检结论处理",
                **({"compensation_yuan": amount} if amount is not None else {})}
    do(eng, "mgr1", "decide_quality_by_manager", decision, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    assert eng.instance(AUDITOR, case)["status"] == "running"  # waits for the complaint's outcome
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)

    outcome = {"outcome": "resolved", "complaint_kind": "quality", "remedy": remedy, "compensation_yuan": paid,
               "implemented_on": "2026-03-02"}
    [resolved] = events(eng, iid, "message_sent")
    assert {k: resolved["payload"][k] for k in ("name", "business_key", "delivered", "started", "payload")} == {
        "name": "complaint_resolved", "business_key": "SH-2026-0401", "delivered": [case], "started": [],
        "payload": outcome}
    waited = eng.instance(AUDITOR, case)
    assert (waited["status"], waited["data"]["complaint_outcome"]) == ("completed", outcome)
    [received] = events(eng, case, "message")
    assert received["payload"]["from_instance"] == iid
    # the complaint itself goes on to its summary, unaffected
    assert [t["name"] for t in eng.instance(AUDITOR, iid)["tasks"]] == ["summarise_complaint"]
    assert_audit_intact(eng, iid)
    assert_audit_intact(eng, case)


@pytest.mark.rule("P4.NOTIFY")
def test_customer_service_tells_the_customer_the_corrective_action_within_one_working_day(flows, clock):
    eng = flows
    iid = eng.start("svc1", KEY, registration("service", "minor"))
    review(eng, iid, "minor")
    do(eng, "mgr1", "propose_service_by_manager", {"responsible_party": "李强", "service_proposal": "致歉",
                                                   "handled_by": "sales_department"}, iid)
    do(eng, "mgr1", "fill_service_form", {"service_form_no": "FW-2026-030", "responsible_department": "sales"}, iid)
    do(eng, "mgr1", "handle_in_sales_department", {"department_handling": "已致歉"}, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    clock.advance(hours=2)
    do(eng, "mgr2", "summarise_complaint", SUMMARY, iid)

    assert offered_to(eng, "notify_corrective_action", iid) == holders("customer_service")
    notice = open_task(eng, iid, "notify_corrective_action")
    assert (notice["title"], parse(notice["due_at"])) == ("将纠正措施通知客户", T0 + timedelta(days=1, hours=2))
    assert offered_to(eng, "assess_service_penalty", iid) == set()  # the customer is told first
    with pytest.raises(InvalidData) as incomplete:
        eng.complete("svc2", notice["id"], {"notice_channel": "fax", "corrective_action_notice": " "})
    assert set(incomplete.value.fields) == {"corrective_action_notified_on", "notice_channel",
                                            "corrective_action_notice"}
    assert incomplete.value.fields["corrective_action_notice"]["zh"] == "须写明告知客户的纠正措施"
    clock.set(local_time("2026-03-03", "10:00"))  # the next morning, within the working day allowed
    told = {"corrective_action_notified_on": "2026-03-03", "notice_channel": "letter",
            "corrective_action_notice": "书面函告：送货由主管统一安排，业务员服务纳入考核"}
    do(eng, "svc2", "notify_corrective_action", told, iid)
    assert offered_to(eng, "assess_service_penalty", iid) == holders("office")
    data = eng.instance(AUDITOR, iid)["data"]
    assert {k: data[k] for k in told} == told
    assert_audit_intact(eng, iid)
