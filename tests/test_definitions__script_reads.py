"""The lint reads what scripts and DMN inputs read, as it reads conditions: a name that no form, start data,
script output, decision or message sets is refused at deploy, located, instead of failing the step when an
instance gets there (a script written for plain Python reaches for `datetime`)."""

from __future__ import annotations

import pytest

from engine.definitions.bundle import SourceFile
from engine.errors import DefinitionError
from tests.conftest import ROOT, add_users
from tests.test_definitions__lint import BPMN, OWNER, approval_with, line_of, refused, sources, versions_deployed

SCRIPT_LINE = "<bpmn:script>level = 'high' if amount_yuan"


@pytest.fixture
def owner(engine):
    add_users(engine, {OWNER: ["process_owner"], "rep": ["sales_rep"]})
    return engine


def test_a_script_reading_a_python_module_is_refused_with_the_helpers_to_use(owner):
    files = approval_with("requested_on = today()", "requested_on = datetime.now().isoformat()")
    [problem] = refused(owner, files)
    assert (problem.file, problem.element, problem.line) == (BPMN, "set_level", line_of(files[BPMN], SCRIPT_LINE))
    assert problem.message.startswith("the script reads datetime, which no start form")
    assert "datetime is a Python module" in problem.message and "now(), today()" in problem.message
    assert "datetime 是 Python 模块" in problem.messages()["zh"]


@pytest.mark.parametrize("builtin", ["print", "getattr", "type"])
def test_a_python_builtin_the_sandbox_lacks_is_refused_with_what_diagram_code_has(owner, builtin):
    """It compiles, and it used to pass the lint: the instance then failed when it got there."""
    files = approval_with("requested_on = today()", f"requested_on = today()\n{builtin}(requested_on)")
    [problem] = refused(owner, files)
    assert (problem.file, problem.element) == (BPMN, "set_level")
    assert problem.message.startswith(f"the script uses {builtin}, a Python builtin that diagram code does not have")
    assert "(it has: abs, all, any," in problem.message and "working_days_after, zip)" in problem.message
    assert problem.messages()["zh"].startswith(f"脚本使用了 {builtin}：这是 Python 内置函数，图中的代码不能使用")


def test_a_builtin_the_sandbox_has_passes_and_a_form_field_named_like_a_builtin_is_data(owner):
    files = approval_with("requested_on = today()", "requested_on = today()\nlevels = sorted([len(customer_name)])")
    assert owner.lint(OWNER, sources(files)) == []
    files = approval_with("requested_on = today()", "type = 'gold'\nrequested_on = today() if type else None")
    assert owner.lint(OWNER, sources(files)) == []


def test_a_script_reading_a_name_nothing_sets_is_listed_by_lint_and_refused(owner):
    files = approval_with("amount_yuan &gt; 10000", "amount_yuan &gt; credit_limit")
    message = ("the script reads credit_limit, which no start form, task form, decision output, script, message "
               "or called process sets")
    [finding] = owner.lint(OWNER, sources(files))
    assert (finding["element"], finding["line"], finding["message"], finding["severity"]) == (
        "set_level", line_of(files[BPMN], SCRIPT_LINE), message, "error")
    assert finding["messages"]["zh"].startswith("脚本读取了数据 credit_limit，")
    assert [p.message for p in refused(owner, files)] == [message]


def test_a_script_reading_what_it_set_itself_or_a_helper_gives_deploys(owner):
    files = approval_with("requested_on = today()",
                          "limit = 10000\nrequested_on = today()\nif amount_yuan &gt; limit:\n    level = 'high'\n"
                          "days = [d for d in range(3)]\nlabel = f'{customer_name}: {len(days)}'")
    assert owner.lint(OWNER, sources(files)) == []
    owner.deploy(OWNER, files=sources(files))
    assert versions_deployed(owner) == 1


# -- DMN inputs -----------------------------------------------------------------------------------------
DMN = (ROOT / "processes" / "sample_routing.dmn").read_text(encoding="utf-8")
INPUT = "<text>customer_class</text>"


def sample_bundle(dmn_text: str) -> list[SourceFile]:
    files = [SourceFile("sample_request.bpmn", "bpmn", (ROOT / "processes" / "sample_request.bpmn").read_bytes()),
             SourceFile("sample_routing.dmn", "dmn", dmn_text.encode())]
    return files + [SourceFile(p.name, "form", p.read_bytes())
                    for p in sorted((ROOT / "forms").glob("sample_request_*"))]


def test_a_dmn_input_reading_a_name_nothing_sets_is_refused_in_the_dmn_file(owner):
    assert INPUT in DMN
    dmn = DMN.replace(INPUT, "<text>customer_tier</text>", 1)
    with pytest.raises(DefinitionError) as info:
        owner.deploy(OWNER, files=sample_bundle(dmn))
    [problem] = info.value.problems
    assert (problem.file, problem.element) == ("sample_routing.dmn", "sample_routing_input_customer_class_expression")
    assert problem.line == line_of(dmn, '<inputExpression id="sample_routing_input_customer_class_expression"')
    assert problem.message.startswith("the input of decision sample_routing reads customer_tier, which no start form")
    assert versions_deployed(owner) == 0


def test_a_dmn_input_the_start_form_sets_deploys(owner):
    [result] = owner.deploy(OWNER, files=sample_bundle(DMN))
    assert result.status == "deployed"


def test_without_a_start_form_an_unknown_name_is_a_warning_but_a_module_stays_an_error(owner):
    formless = approval_with(' camunda:formKey="approval_request"', "")
    findings = [f for f in owner.lint(OWNER, sources(formless)) if f["element"] == "set_level"]
    assert [(f["severity"], f["message"].split(",")[0]) for f in findings] == [
        ("warning", "the script reads amount_yuan")]
    assert findings[0]["message"].endswith("(unless the process is started with it: its start event has no form)")
    with_module = {**formless, BPMN: formless[BPMN].replace("requested_on = today()", "requested_on = datetime.now()")}
    assert "the script reads datetime" in [p.message.split(",")[0] for p in refused(owner, with_module)]
