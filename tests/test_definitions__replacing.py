"""A diagram whose process id belongs to an unrelated deployed process is refused unless the deployer
confirms the replacement; editing a process (renaming a step, the process or its file) is never refused."""

from __future__ import annotations

import pytest

from engine.definitions.replacing import ReplacesProcess
from tests.conftest import FIXTURES
from tests.scenarios.test_rule_change__paths import governed_setup
from tests.test_definitions__versions import deployed_events, edit, sources, texts, version_2, versions

PAYMENT = FIXTURES / "payment"
BPMN_IO = FIXTURES / "replacing" / "approval.bpmn"


def payment_as_approval() -> list:
    """The payment diagram copied with its process id changed to `approval` (file and process name kept)."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(PAYMENT.iterdir())}
    files["payment.bpmn"] = edit(files["payment.bpmn"], 'processRef="payment"', 'processRef="approval"')
    files["payment.bpmn"] = edit(files["payment.bpmn"], 'process id="payment"', 'process id="approval"')
    return sources(files)


def test_a_copied_diagram_with_another_file_and_name_is_refused_and_says_what_it_would_replace(approval):
    with pytest.raises(ReplacesProcess) as refused:
        approval.deploy("adm", files=payment_as_approval(), note="订单收款")
    assert versions(approval) == [1]
    (replaced,) = refused.value.replaced
    assert (replaced.key, replaced.name, replaced.version, replaced.deployed_by) == ("approval", "测试审批", 1,
                                                                                      "system")
    assert replaced.new_name == "测试收款" and replaced.diff["against"] == 1
    assert "confirm" in replaced.diff["added"] and "approve" in replaced.diff["removed"]
    reason = refused.value.reason
    assert "“测试审批”（第 1 版，system 于 " in reason["zh"] and "--replace-process approval" in reason["zh"]
    assert "“测试审批” (version 1, deployed by system at " in reason["en"]
    assert '"replace": ["approval"]' in reason["en"] and refused.value.status == 409


def test_a_diagram_drawn_elsewhere_under_the_same_id_name_and_file_name_is_refused(approval):
    with pytest.raises(ReplacesProcess):
        approval.deploy("adm", files=sources({"approval.bpmn": BPMN_IO.read_text(encoding="utf-8")}))
    assert versions(approval) == [1]


def test_a_confirmed_replacement_becomes_the_next_version_and_the_trail_keeps_who_confirmed_it(approval):
    (deployed,) = approval.deploy("adm", files=payment_as_approval(), note="替换", replace=["approval"])
    assert (deployed.key, deployed.version, deployed.status) == ("approval", 2, "deployed")
    replaced, stored = deployed_events(approval)[-2:]
    assert (replaced["kind"], replaced["actor"]) == ("replacement_confirmed", "adm")
    assert replaced["payload"] == {"process_key": "approval", "version": 1, "name": "测试审批", "new_name": "测试收款"}
    assert (stored["kind"], stored["payload"]["version"]) == ("deployed", 2)
    (again,) = approval.deploy("adm", [BPMN_IO], replace={"approval"})
    assert again.version == 3


def test_confirming_another_process_does_not_confirm_this_one(approval):
    with pytest.raises(ReplacesProcess):
        approval.deploy("adm", files=payment_as_approval(), replace=["payment"])


def test_editing_a_process_is_not_a_replacement(approval):
    assert approval.deploy("adm", files=version_2())[0].version == 2
    files = texts()
    renamed = edit(files.pop("approval.bpmn"), 'process id="approval" name="测试审批"',
                   'process id="approval" name="测试审批（改名）"')
    (d,) = approval.deploy("adm", files=sources({**files, "approval.bpmn": renamed}))  # the process renamed
    assert (d.version, d.status) == (3, "deployed")
    moved = edit(renamed, 'name="经理审批"', 'name="经理审核"')
    (d,) = approval.deploy("adm", files=sources({**files, "approval_v4.bpmn": moved}))
    assert (d.version, d.status) == (4, "deployed")  # its file renamed, and a step



def test_under_governance_a_confirmed_replacement_is_a_draft_for_the_general_manager(engine):
    governed_setup(engine)
    other = (FIXTURES / "replacing" / "approval.bpmn").read_text(encoding="utf-8").replace(
        'process id="approval"', 'process id="sample_request"')
    with pytest.raises(ReplacesProcess):
        engine.deploy("own1", files=sources({"sample_request.bpmn": other}), note="新图")
    (d,) = engine.deploy("own1", files=sources({"sample_request.bpmn": other}), note="新图", replace=["sample_request"])
    assert (d.key, d.status, d.version) == ("sample_request", "draft", 2) and d.request_id
