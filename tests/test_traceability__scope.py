"""The scope record (docs/rules/scope.yaml): a decision for every line of the company's rules.

The rules file (the seed) lies outside the repository and is not read here: the record's own line count
and ranges are checked to cover 1..N without a gap or an overlap, every section to have a decision, and
every rule id to be a rule of docs/rules/*.yaml.
"""

from __future__ import annotations

from click.testing import CliRunner

from engine import scope, traceability
from salesflow.cli.rules import rules
from tests.conftest import ROOT


def seeds(root=ROOT) -> dict[str, list[int]]:
    return {t.id: t.seed for t in traceability.trace(root)}


def test_every_line_of_the_company_rules_has_a_decision():
    record = scope.load(ROOT)
    assert (record.seed_file, record.seed_lines) == ("000_30214c8f4dff782e.txt", 445)
    assert scope.problems(record, seeds()) == []
    counts = record.counts()
    assert set(counts) == set(scope.DECISIONS) - {"planned"}  # issue 14 modelled the last planned sections
    assert sum(lines for _, lines in counts.values()) == 445
    assert sum(n for n, _ in counts.values()) == len(record.sections)


def test_the_procedures_once_planned_for_issue_14_are_modelled_not_out_of_scope():
    by_first = {s.first: s for s in scope.load(ROOT).sections}
    # rule governance (39, 126, 129-130, 219-221) is modelled by P13 rule_change (issue 14, item 6)
    for first, rule in ((39, "P13.1"), (126, "P13.1"), (129, "P13.2"), (219, "P13.3")):
        assert (by_first[first].decision, rule in by_first[first].rules) == ("modelled", True), first
    # safety rewards (217, 289) are P15 safety commendation, counselling (288) P16; the other safety
    # sections are carried by P8 and P9, their operating rules (210-213) are conduct, out of scope
    for first, rule in ((217, "P15.1"), (289, "P15.3"), (285, "P16.1"), (197, "P8.1"), (271, "P9.7")):
        assert (by_first[first].decision, rule in by_first[first].rules) == ("modelled", True), first
    assert by_first[210].decision == "out_of_scope" and by_first[210].reason["en"]
    # the departments' duties (training, appraisal, supervision) are the processes P10 and P12
    for first in (92, 121, 155, 161, 184, 307, 321, 326, 353):
        assert by_first[first].decision in ("modelled", "other_process") and by_first[first].rules, first
    # customer opinions (93, 262, 387 3.1) are modelled by P11 (issue 14, item 4)
    for first, rule in ((93, "P11.1"), (258, "P11.2"), (387, "P11.3")):
        assert (by_first[first].decision, rule in by_first[first].rules) == ("modelled", True), first
    # training (P10) models the training sections, the safety training's gate among them (205, 280)
    for first in (7, 24, 40, 43, 94, 204, 243, 279, 331):
        assert by_first[first].decision == "modelled" and "P10.1" in by_first[first].rules, first
    assert "P10.5" in by_first[204].rules and "P10.5" in by_first[279].rules
    # what the seed names as KPIs is modelled by the dashboard's rules
    assert set(by_first[74].rules) >= {"K.SALES", "K.GROWTH", "K.SATISFACTION", "K.SERVICE"}
    assert set(by_first[237].rules) >= {"K.SALES", "K.REPEAT"}


def test_the_command_prints_the_record_with_counts_per_decision():
    done = CliRunner().invoke(rules, ["--scope"], env={"SALESFLOW_LANG": "en"})
    assert done.exit_code == 0, done.output
    assert " 362-366  modelled " in done.output and "rules: P6.1, P6.2" in done.output
    assert " 219-221  modelled " in done.output and " 207-209  modelled " in done.output
    assert "planned" not in done.output
    assert " 217-217  modelled " in done.output and "rules: P15.1, P15.2" in done.output
    assert "seed 000_30214c8f4dff782e.txt: 445 lines" in done.output
    counts = scope.load(ROOT).counts()
    for name, decision in (("modelled", "modelled"), ("in another process", "other_process"),
                           ("out of scope", "out_of_scope")):
        sections, lines = counts[decision]
        assert f"  {name:18} {sections:>4} section(s) {lines:>5} line(s)" in done.output


# -- the checks themselves, on a small record ----------------------------------------------------------------

RULES = """process: approval
rules:
  - {id: A.1, seed: [2, 3], text: {zh: 经理审批, en: The manager approves}, elements: []}
"""
GOOD = """seed: {file: rules.txt, lines: 6}
sections:
  - {lines: [1, 1], title: {zh: 标题, en: Title}, decision: out_of_scope, reason: {zh: 标题, en: A title}}
  - {lines: [2, 3], title: {zh: 审批, en: Approval}, decision: modelled, rules: [A.1]}
  - {lines: [4, 4], title: {zh: 又一份, en: Again}, decision: other_process, rules: [A.1]}
  - {lines: [5, 6], title: {zh: 培训, en: Training}, decision: planned, issue: 14, note: {zh: 培训, en: Training}}
"""


def _problems(tmp_path, record: str) -> list[str]:
    (tmp_path / "docs" / "rules").mkdir(parents=True, exist_ok=True)
    (tmp_path / "tests").mkdir(exist_ok=True)
    (tmp_path / "docs" / "rules" / "approval.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "docs" / "rules" / "scope.yaml").write_text(record, encoding="utf-8")
    return scope.problems(scope.load(tmp_path), seeds(tmp_path))


def test_a_complete_record_has_no_problem(tmp_path):
    assert _problems(tmp_path, GOOD) == []


def test_a_gap_an_overlap_and_uncovered_lines_at_the_end_are_flagged(tmp_path):
    gap = GOOD.replace("lines: [4, 4]", "lines: [5, 4]").replace("lines: [2, 3]", "lines: [2, 2]")
    assert _problems(tmp_path, gap) == ["lines 5-4: not a range [first, last] within 1..6",
                                        "lines 3-4: no section covers them"]
    overlap = GOOD.replace("lines: [4, 4]", "lines: [3, 4]")
    assert _problems(tmp_path, overlap) == ["lines 3-4: overlaps the section before (which ends at line 3)"]
    longer = GOOD.replace("lines: 6}", "lines: 8}")  # the seed's line count says 8: lines 7-8 are not covered
    assert _problems(tmp_path, longer) == ["lines 7-8: no section covers them"]


def test_a_section_without_a_decision_or_what_its_decision_needs_is_flagged(tmp_path):
    record = GOOD.replace("decision: out_of_scope, reason: {zh: 标题, en: A title}", "reason: {zh: 标题, en: A title}")
    assert _problems(tmp_path, record) == ["lines 1-1: no decision"]
    record = GOOD.replace(", reason: {zh: 标题, en: A title}", "")
    assert _problems(tmp_path, record) == ["lines 1-1: out of scope without a reason in zh and en"]
    record = GOOD.replace("issue: 14, ", "")
    assert _problems(tmp_path, record) == ["lines 5-6: planned needs the issue and a note in zh and en"]
    record = GOOD.replace("decision: other_process, rules: [A.1]", "decision: other_process")
    assert _problems(tmp_path, record) == ["lines 4-4: other_process names no rule"]
    record = GOOD.replace("decision: planned", "decision: later")
    assert _problems(tmp_path, record) == ["lines 5-6: unknown decision later"]


def test_an_unknown_rule_or_a_modelled_section_its_rules_do_not_cite_is_flagged(tmp_path):
    record = GOOD.replace("rules: [A.1]}\n  - {lines: [4, 4]", "rules: [A.9]}\n  - {lines: [4, 4]")
    assert _problems(tmp_path, record) == ["lines 2-3: names rule A.9, which docs/rules/*.yaml does not define"]
    record = GOOD.replace("decision: other_process", "decision: modelled")  # A.1 cites 2 and 3, not 4
    assert _problems(tmp_path, record) == ["lines 4-4: modelled, but none of its rules cites one of its lines"]


def test_the_scope_record_is_not_read_as_rules():
    assert "scope" not in {t.process for t in traceability.trace(ROOT)}
