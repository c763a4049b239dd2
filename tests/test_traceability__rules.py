"""`salesflow rules`: every rule traced to the elements that implement it and the tests that prove it."""

import shutil

from engine import traceability
from tests.conftest import FIXTURES, ROOT


def test_every_rule_of_the_company_is_traced_to_elements_and_tests():
    traces = traceability.trace(ROOT)
    assert {t.process for t in traces} >= {"sample_request", "customer_visit"}
    assert [(t.id, t.problems) for t in traces if t.problems] == []
    assert traceability.unknown_marks(traces, ROOT) == {}


def _project(tmp_path, rules_yaml: str, test_source: str):
    (tmp_path / "docs" / "rules").mkdir(parents=True)
    (tmp_path / "processes").mkdir()
    (tmp_path / "tests").mkdir()
    shutil.copy(FIXTURES / "approval" / "approval.bpmn", tmp_path / "processes" / "approval.bpmn")
    (tmp_path / "docs" / "rules" / "approval.yaml").write_text(rules_yaml, encoding="utf-8")
    (tmp_path / "tests" / "test_x.py").write_text(test_source, encoding="utf-8")
    return tmp_path


RULES = """process: approval
rules:
  - {id: A.1, seed: [1], text: {zh: 经理审批, en: The manager approves}, elements: [approve]}
  - {id: A.2, seed: [2], text: {zh: 归档, en: Archive}, elements: [archive, no_such_element]}
"""


def test_a_rule_without_a_test_or_with_an_unknown_element_is_flagged(tmp_path):
    root = _project(tmp_path, RULES, "import pytest\n\n\n@pytest.mark.rule('A.1')\ndef test_a():\n    pass\n")
    traces = {t.id: t for t in traceability.trace(root)}
    assert traces["A.1"].problems == []
    assert traces["A.1"].tests == ["tests/test_x.py::test_a"]
    assert traces["A.1"].elements == {"approve": True}
    assert traces["A.2"].problems == ["element no_such_element is not in processes/approval.bpmn",
                                      "no test proves this rule"]


def test_a_test_marking_a_rule_nobody_wrote_is_flagged(tmp_path):
    root = _project(tmp_path, RULES, "import pytest\n\n\n@pytest.mark.rule('Z.9')\ndef test_z():\n    pass\n")
    assert traceability.unknown_marks(traceability.trace(root), root) == {"Z.9": ["tests/test_x.py::test_z"]}
