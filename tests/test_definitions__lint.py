"""The engine's lint: definitions that compile but would misbehave when they run. Each bad case is one visible
edit of the good approval fixture (tests/fixtures/approval); `Engine.lint` lists it with file, element, line and
message, and `deploy` refuses errors with the same located problem and deploys nothing. Warnings do not block."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.definitions.bundle import KINDS, SourceFile, load_paths
from engine.errors import DefinitionError, Forbidden, Problem
from engine.store.models import ProcessVersion
from tests.conftest import FIXTURES, ROOT, add_users

APPROVAL = FIXTURES / "approval"
RELAY = FIXTURES / "relay"
BPMN = "approval.bpmn"
OWNER = "own"


# -- helpers -----------------------------------------------------------------
def texts(folder: Path = APPROVAL) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def edit(text: str, old: str, new: str) -> str:
    """Replace the first `old`; the fixture must contain it, so a changed fixture cannot turn a case into a no-op."""
    assert old in text, f"fixture no longer contains {old!r}"
    return text.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    assert needle in text, needle
    return text[: text.index(needle)].count("\n") + 1


def sources(files: dict[str, str]) -> list[SourceFile]:
    return [SourceFile(name, KINDS[Path(name).suffix], text.encode("utf-8")) for name, text in files.items()]


def approval_with(old: str, new: str) -> dict[str, str]:
    files = texts()
    return {**files, BPMN: edit(files[BPMN], old, new)}


def versions_deployed(engine) -> int:
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(ProcessVersion))


def refused(engine, files: dict[str, str]) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        engine.deploy(OWNER, files=sources(files))
    assert versions_deployed(engine) == 0
    return info.value.problems


@pytest.fixture
def owner(engine):
    add_users(engine, {OWNER: ["process_owner"], "adm": ["admin"], "rep": ["sales_rep"], "aud": ["auditor"]})
    return engine


# -- one failing diagram per error check -------------------------------------
# (old, new, element, needle, English message, Chinese message): the engine keeps both languages
ERROR_CASES = {
    "condition reads a name nothing sets": (
        "approved == True", "approved == True and vip_customer == True",
        "f_yes", "vip_customer == True",
        "the condition reads vip_customer, which no start form, task form, decision output, script, message or "
        "called process sets",
        "条件读取了数据 vip_customer，但没有任何开始表单、任务表单、决策输出、脚本、消息或被调用的流程设置它"),
    "element no path reaches": (
        'sourceRef="decide" targetRef="end_rejected"', 'sourceRef="decide" targetRef="end_ok"',
        "end_rejected", '<bpmn:endEvent id="end_rejected"',
        "no path from the start event reaches 已驳回: connect it with a sequence flow or remove it",
        "从开始事件出发没有路径到达「已驳回」：用顺序流连接它，或删除它"),
    "timer duration PT1D": (
        '"PT24H"', '"PT1D"',
        "sla", '"PT1D"',
        'timer value "PT1D" is not an ISO 8601 duration: days and longer come before T, hours, minutes and seconds '
        'after it ("P1D", "PT24H", "P1DT12H")',
        "定时器的值“PT1D”不是 ISO 8601 时长：天及以上写在 T 之前，小时、分钟、秒写在 T 之后"
        "（“P1D”、“PT24H”、“P1DT12H”）"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_lint_lists_the_error_with_file_element_line_and_message(owner, case):
    old, new, element, needle, message, zh = ERROR_CASES[case]
    files = approval_with(old, new)
    expected = {"file": BPMN, "element": element, "line": line_of(files[BPMN], needle), "message": message,
                "messages": {"zh": zh, "en": message}, "severity": "error"}
    assert owner.lint(OWNER, sources(files)) == [expected]
    assert versions_deployed(owner) == 0  # lint deploys nothing


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_deploy_refuses_the_error_with_the_same_located_problem(owner, case):
    old, new, element, needle, message, zh = ERROR_CASES[case]
    files = approval_with(old, new)
    problems = refused(owner, files)
    assert problems == [Problem(BPMN, message, element, line_of(files[BPMN], needle))]
    assert problems[0].messages() == {"zh": zh, "en": message}


def test_the_good_fixture_has_no_problem_and_deploys(owner):
    assert owner.lint(OWNER, sources(texts())) == []
    assert [d.status for d in owner.deploy(OWNER, files=sources(texts()))] == ["deployed"]


def test_an_unreachable_boundary_host_is_reported_once_not_with_its_boundary_event(owner):
    files = approval_with('<bpmn:sequenceFlow id="f2" sourceRef="set_level" targetRef="approve"/>',
                          '<bpmn:sequenceFlow id="f2" sourceRef="set_level" targetRef="end_ok"/>')
    found = {p["element"] for p in owner.lint(OWNER, sources(files))}
    assert "approve" in found and "escalation" in found
    assert "sla" not in found  # the timer on the unreachable task is not a separate problem


# -- where data comes from ---------------------------------------------------
def test_names_from_start_form_task_form_script_helpers_and_builtins_are_known(owner):
    condition = ("approved == True and level == 'high' and amount_yuan &gt; 0 and len(customer_name) &gt; 0 "
                 "and requested_on &lt;= today() and any(x for x in [approved]) and (lambda y: y)(1) == 1")
    files = approval_with("approved == True", condition)
    assert owner.lint(OWNER, sources(files)) == []
    owner.deploy(OWNER, files=sources(files))
    assert versions_deployed(owner) == 1


def test_a_name_any_form_of_the_process_sets_is_known_and_a_misspelt_one_is_not(owner):
    # archive_no is set by the archive task's form (later in the flow): the lint knows names, not their order.
    files = approval_with("approved == True", "approved == True or archive_no == ''")
    assert owner.lint(OWNER, sources(files)) == []
    files = approval_with("approved == True", "approved == True or archive_number == ''")
    assert [p["message"].split(",")[0] for p in owner.lint(OWNER, sources(files))] == [
        "the condition reads archive_number"]


def _callee(sets: str) -> str:
    """A small process that a call activity runs: its script sets one name."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_grading"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  targetNamespace="http://salesflow.example/test">
  <bpmn:process id="grading" name="定级" isExecutable="true">
    <bpmn:documentation>zh: 定级。
en: Grading.</bpmn:documentation>
    <bpmn:startEvent id="g_start"><bpmn:outgoing>g1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="g_calc"><bpmn:incoming>g1</bpmn:incoming><bpmn:outgoing>g2</bpmn:outgoing>
      <bpmn:script>{sets} = 'gold'</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="g_end"><bpmn:extensionElements><camunda:properties>
      <camunda:property name="outcome" value="completed"/></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>g2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="g1" sourceRef="g_start" targetRef="g_calc"/>
    <bpmn:sequenceFlow id="g2" sourceRef="g_calc" targetRef="g_end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _calling_approval() -> dict[str, str]:
    """The approval whose set_level script task is replaced by a call activity to `grading`."""
    files = texts()
    bpmn = files[BPMN]
    script_task = bpmn[bpmn.index('<bpmn:scriptTask id="set_level"'): bpmn.index("</bpmn:scriptTask>") + 18]
    call = ('<bpmn:callActivity id="set_level" name="定级" calledElement="grading">'
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>")
    bpmn = edit(bpmn, script_task, call)
    return {**files, BPMN: edit(bpmn, "approved == True", "approved == True and tier == 'gold'")}


def test_a_name_the_called_process_sets_is_known(owner):
    files = {**_calling_approval(), "grading.bpmn": _callee("tier")}
    assert owner.lint(OWNER, sources(files)) == []


def test_a_name_the_called_process_does_not_set_is_an_error(owner):
    files = {**_calling_approval(), "grading.bpmn": _callee("grade")}
    message = ("the condition reads tier, which no start form, task form, decision output, script, message or "
               "called process sets")
    assert refused(owner, files) == [Problem(BPMN, message, "f_yes", line_of(files[BPMN], "tier == 'gold'"))]


def _relay(receiver_condition: str, payload: str = "'quantity': quantity") -> dict[str, str]:
    """The relay fixture with a condition on the receiver's last flow, and the sender's payload as given."""
    files = {k: v for k, v in texts(RELAY).items() if k != "monthly.bpmn"}
    flow = '<bpmn:sequenceFlow id="f2" sourceRef="ship" targetRef="done"/>'
    conditional = ('<bpmn:sequenceFlow id="f2" sourceRef="ship" targetRef="done">'
                   f"<bpmn:conditionExpression>{receiver_condition}</bpmn:conditionExpression></bpmn:sequenceFlow>")
    files["receiver.bpmn"] = edit(files["receiver.bpmn"], flow, conditional)
    files["sender.bpmn"] = edit(files["sender.bpmn"], "'quantity': quantity", payload)
    return files


def test_a_key_of_the_starting_message_payload_is_known(owner):
    assert owner.lint(OWNER, sources(_relay("quantity &gt; 0"))) == []


def test_a_key_the_starting_message_does_not_carry_is_an_error(owner):
    files = _relay("quantity &gt; 0", payload="'qty': quantity")
    assert [(p["element"], p["severity"], p["message"].split(",")[0]) for p in owner.lint(OWNER, sources(files))] == [
        ("f2", "error", "the condition reads quantity")]


def test_without_the_sender_in_the_bundle_a_payload_name_is_only_a_warning(owner):
    files = {k: v for k, v in _relay("quantity &gt; 0").items() if k != "sender.bpmn"}
    [problem] = owner.lint(OWNER, sources(files))
    assert (problem["file"], problem["element"], problem["severity"]) == ("receiver.bpmn", "f2", "warning")
    assert problem["line"] == line_of(files["receiver.bpmn"], "quantity &gt; 0")
    assert "unless the message order_confirmed that starts the process carries it" in problem["message"]
    assert [d.key for d in owner.deploy(OWNER, files=sources(files))] == ["receiver"]


# -- gateways without a default flow (a warning) -------------------------------
def _no_default(gateway: str) -> dict[str, str]:
    files = approval_with(' default="f_no"', "")
    bpmn = edit(files[BPMN], '<bpmn:sequenceFlow id="f_no" sourceRef="decide" targetRef="end_rejected"/>',
                '<bpmn:sequenceFlow id="f_no" sourceRef="decide" targetRef="end_rejected">'
                "<bpmn:conditionExpression>approved == False</bpmn:conditionExpression></bpmn:sequenceFlow>")
    if gateway == "inclusiveGateway":
        bpmn = edit(edit(bpmn, "<bpmn:exclusiveGateway", "<bpmn:inclusiveGateway"),
                    "</bpmn:exclusiveGateway>", "</bpmn:inclusiveGateway>")
    return {**files, BPMN: bpmn}


@pytest.mark.parametrize("gateway", ["exclusiveGateway", "inclusiveGateway"])
def test_a_gateway_whose_flows_all_have_conditions_and_no_default_is_a_warning(owner, gateway):
    files = _no_default(gateway)
    assert owner.lint(OWNER, sources(files)) == [{
        "file": BPMN, "element": "decide", "line": line_of(files[BPMN], f'<bpmn:{gateway} id="decide"'),
        "message": "gateway 是否批准 has conditional flows and no default flow: when no condition holds the instance "
                   "stops with an error",
        "messages": {"zh": "网关「是否批准」的出口都带条件，却没有默认流：没有条件成立时，实例会出错停下",
                     "en": "gateway 是否批准 has conditional flows and no default flow: when no condition holds the "
                           "instance stops with an error"},
        "severity": "warning"}]


def test_a_warning_does_not_block_deploy(owner):
    [deployed] = owner.deploy(OWNER, files=sources(_no_default("exclusiveGateway")))
    assert (deployed.key, deployed.version, deployed.status) == ("approval", 1, "deployed")


def test_a_gateway_with_a_default_flow_is_no_warning(owner):
    assert owner.lint(OWNER, sources(texts())) == []  # decide has default="f_no"


# -- timer values --------------------------------------------------------------
TIMER_CASES = {
    '"P1D"': None,
    '"P1DT12H"': None,
    '"PT1D"': 'timer value "PT1D" is not an ISO 8601 duration',
    '"P"': 'timer value "P" is not an ISO 8601 duration',
    '"24H"': 'timer value "24H" is not an ISO 8601 duration',
    "PT24H": 'the timer expression PT24H is read as a data name; write it in quotes: "PT24H"',
    "24": "a timer expression must give ISO 8601 text; 24 is not text",
}


@pytest.mark.parametrize("value", list(TIMER_CASES))
def test_a_literal_timer_duration_must_be_iso_8601(owner, value):
    files = approval_with('"PT24H"', value)
    found = owner.lint(OWNER, sources(files))
    if TIMER_CASES[value] is None:
        assert found == []
        return
    [problem] = found
    line = line_of(files[BPMN], f">{value}</bpmn:timeDuration>")
    assert (problem["element"], problem["line"], problem["severity"]) == ("sla", line, "error")
    assert problem["message"].startswith(TIMER_CASES[value])


def test_a_literal_timer_date_must_be_an_iso_date(owner):
    files = approval_with('<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT24H"</bpmn:timeDuration>',
                          '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">"2026-02-30T09:00"</bpmn:timeDate>')
    [problem] = owner.lint(OWNER, sources(files))
    assert (problem["element"], problem["severity"]) == ("sla", "error")
    assert problem["message"] == ('timer value "2026-02-30T09:00" is not an ISO 8601 date or date-time '
                                  '("2026-03-01T09:00:00+08:00")')
    good = approval_with('<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT24H"</bpmn:timeDuration>',
                         '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">"2026-03-01T09:00:00+08:00"</bpmn:timeDate>')
    assert owner.lint(OWNER, sources(good)) == []


def test_a_computed_timer_value_is_left_to_run_time(owner):
    files = approval_with('"PT24H"', 'f"PT{24 if amount_yuan &gt; 10000 else 48}H"')
    assert owner.lint(OWNER, sources(files)) == []


def test_a_due_date_must_be_iso_8601(owner):
    files = approval_with('<bpmn:userTask id="archive" name="归档" camunda:formKey="approval_archive">',
                          '<bpmn:userTask id="archive" name="归档" camunda:formKey="approval_archive" '
                          'camunda:dueDate="PT3D">')
    [problem] = owner.lint(OWNER, sources(files))
    assert (problem["element"], problem["line"], problem["severity"]) == (
        "archive", line_of(files[BPMN], 'camunda:dueDate="PT3D"'), "error")
    assert problem["message"].startswith('camunda:dueDate "PT3D" is not an ISO 8601 duration')


# -- Engine.lint as a whole ------------------------------------------------------
def test_lint_also_lists_what_the_compiler_refuses(owner):
    files = approval_with('<bpmn:lane id="sales_director"', '<bpmn:lane id="sales_directr"')
    [problem] = owner.lint(OWNER, sources(files))
    assert problem == {"file": BPMN, "element": "sales_directr", "line": line_of(files[BPMN], 'id="sales_directr"'),
                       "message": "lane sales_directr is not a known role (see processes/roles.yaml)",
                       "messages": {"zh": "泳道 sales_directr 不是已知角色（见 processes/roles.yaml）",
                                    "en": "lane sales_directr is not a known role (see processes/roles.yaml)"},
                       "severity": "error"}


def test_lint_lists_errors_and_warnings_of_one_bundle_together(owner):
    files = _no_default("exclusiveGateway")
    files[BPMN] = edit(files[BPMN], '"PT24H"', '"PT1D"')
    found = owner.lint(OWNER, sources(files))
    assert sorted((p["element"], p["severity"]) for p in found) == [("decide", "warning"), ("sla", "error")]
    assert [p.element for p in refused(owner, files)] == ["sla"]  # only the error blocks


@pytest.mark.parametrize("actor", ["rep", "aud"])
def test_lint_is_for_process_owners_and_admins(owner, actor):
    with pytest.raises(Forbidden):
        owner.lint(actor, sources(texts()))
    assert owner.lint("adm", sources(texts())) == []


def test_the_real_processes_pass_the_lint_and_deploy(owner):
    files = load_paths([ROOT / "processes", ROOT / "forms"])
    found = owner.lint(OWNER, files)
    assert [p for p in found if p["severity"] == "error"] == []
    deployed = owner.deploy(OWNER, files=files)
    assert len(deployed) == len(list((ROOT / "processes").glob("*.bpmn")))
    assert {d.status for d in deployed} == {"deployed"}


def test_each_real_process_alone_passes_the_lint(owner):
    """As the modeler deploys it: only the files of that one process (its version's files)."""
    owner.deploy(OWNER, files=load_paths([ROOT / "processes", ROOT / "forms"]))
    for process in owner.processes():
        files = [SourceFile(f["name"], f["kind"], f["content"].encode("utf-8"))
                 for f in owner.version_files(OWNER, process["key"], process["version"])]
        errors = [p for p in owner.lint(OWNER, files) if p["severity"] == "error"]
        assert errors == [], process["key"]
