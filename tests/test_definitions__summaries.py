"""Process summaries in both languages (docs/modelling.md): the documentation opens with `zh: …` and `en: …`
lines; the start page shows the reader's, and the lint warns (in both languages) when one is missing."""

from __future__ import annotations

import pytest

from engine.definitions.bundle import load_paths
from engine.definitions.documentation import missing_languages, summaries
from tests.conftest import ROOT, add_users
from tests.test_definitions__lint import BPMN, OWNER, approval_with, sources

APPROVAL_DOC = "<bpmn:documentation>zh: 测试用的审批流程。\nen: Test approval process.</bpmn:documentation>"


@pytest.fixture
def owner(engine):
    add_users(engine, {OWNER: ["process_owner"]})
    return engine


def test_the_summary_lines_come_before_the_first_blank_line_and_the_notes_after_it_are_not_summaries():
    doc = "zh: 样品申请。\nen: Sample request.\n\nzh: not a summary: it is in the notes"
    assert summaries(doc) == {"zh": "样品申请。", "en": "Sample request."}
    assert summaries("en: Only English\n") == {"en": "Only English"}
    assert missing_languages("en: Only English") == ["zh"]
    assert missing_languages("Sample request approval (P5).") == ["zh", "en"]
    assert summaries("zh：全角冒号也可以。\nen: Also a full-width colon.") == {
        "zh": "全角冒号也可以。", "en": "Also a full-width colon."}


@pytest.mark.parametrize(("doc", "en", "zh"), [
    ("<bpmn:documentation>zh: 测试用的审批流程。</bpmn:documentation>",
     "the process has no English summary", "流程缺少英文摘要"),
    ("<bpmn:documentation>en: Test approval process.</bpmn:documentation>",
     "the process has no Chinese summary", "流程缺少中文摘要"),
    ("<bpmn:documentation>Test approval process.</bpmn:documentation>",
     "the process has no Chinese and English summary", "流程缺少中文和英文摘要"),
])
def test_a_process_without_a_summary_in_a_language_gets_a_warning_in_both_languages(owner, doc, en, zh):
    files = approval_with(APPROVAL_DOC, doc)
    [found] = owner.lint(OWNER, sources(files))
    assert (found["file"], found["element"], found["severity"]) == (BPMN, "approval", "warning")
    assert found["message"].startswith(en) and found["messages"]["en"] == found["message"]
    assert found["messages"]["zh"].startswith(zh)
    assert '"zh: …" and "en: …"' in found["message"] and "“zh: …”和“en: …”" in found["messages"]["zh"]
    assert [d.status for d in owner.deploy(OWNER, files=sources(files))] == ["deployed"]  # a warning only


def test_every_shipped_process_has_its_summary_in_both_languages(owner):
    found = owner.lint(OWNER, load_paths([ROOT / "processes", ROOT / "forms"]))
    assert [p for p in found if "summary" in p["message"]] == []
    owner.deploy("system", [ROOT / "processes", ROOT / "forms"])
    for process in owner.processes():
        assert set(process["summaries"]) == {"zh", "en"}, process["key"]
        assert process["summary"] == process["summaries"]["zh"]
