"""Refused bundles: every bad file is reported with its file, element and line, and nothing of the bundle is
deployed. Each bad case is one visible edit of the good approval fixture (tests/fixtures/approval)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.audit.chain import DEPLOYMENTS
from engine.definitions.bundle import KINDS, SourceFile
from engine.definitions.xmlsafe import MAX_FILE_BYTES
from engine.errors import DefinitionError, Problem
from engine.store.models import AuditEvent, Base, DefinitionFile, Form, ProcessVersion
from tests.conftest import FIXTURES

APPROVAL = FIXTURES / "approval"
BPMN = "approval.bpmn"
DECISION_FORM = "approval_decision.yaml"
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'


# -- helpers -----------------------------------------------------------------
def good_texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(APPROVAL.iterdir())}


def edit(text: str, old: str, new: str) -> str:
    """Replace the first `old`; the fixture must contain it, so a changed fixture cannot turn a case into a no-op."""
    assert old in text, f"fixture no longer contains {old!r}"
    return text.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    assert needle in text, needle
    return text[: text.index(needle)].count("\n") + 1


def second_process(bpmn: str) -> str:
    """A second, good process (key approval_b) made from the approval diagram, for multi-file bundles."""
    text = edit(bpmn, 'id="defs_approval"', 'id="defs_approval_b"')
    text = edit(text, 'processRef="approval"', 'processRef="approval_b"')
    return edit(text, '<bpmn:process id="approval"', '<bpmn:process id="approval_b"')


def sources(texts: dict[str, str | bytes]) -> list[SourceFile]:
    out = []
    for name, content in texts.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        out.append(SourceFile(name, KINDS[Path(name).suffix], data))
    return out


def with_second_process(texts: dict[str, str]) -> dict[str, str]:
    return {**texts, "approval_b.bpmn": second_process(good_texts()[BPMN])}


def deployment_events(engine) -> list[AuditEvent]:
    with engine.db.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.chain == DEPLOYMENTS)
                              .order_by(AuditEvent.position)))


def count(engine, model) -> int:
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def assert_nothing_deployed(engine) -> None:
    assert engine.processes() == []
    assert count(engine, ProcessVersion) == 0
    assert count(engine, DefinitionFile) == 0
    assert count(engine, Form) == 0
    assert deployment_events(engine) == []


def all_stored_text(engine) -> str:
    with engine.db.read() as s:
        rows = [repr(tuple(r)) for table in Base.metadata.sorted_tables for r in s.execute(table.select())]
    return "\n".join(rows)


def problems_for(exc: DefinitionError, filename: str) -> list[Problem]:
    return [p for p in exc.problems if Path(p.file).name == filename]


def refuse(engine, texts: dict[str, str | bytes], actor: str = "system") -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        engine.deploy(actor, files=sources(texts))
    assert info.value.problems, "a refusal must list its problems"
    return info.value


# -- located refusals: one edit of a good file each ---------------------------
# (id, file, old, new, element, first line, last line, words the message must contain)
# The line must lie between the element's opening tag and the edited text (for a form whose fields and
# properties disagree, anywhere in the file: the mismatch has two ends).
def _cases() -> list[tuple]:
    g = good_texts()
    bpmn, form = g[BPMN], g[DECISION_FORM]
    return [
        ("malformed_xml", BPMN, "</bpmn:userTask>", "</bpmn:usertask>", None, None, None, ["XML"]),
        ("lane_not_a_role", BPMN, '<bpmn:lane id="sales_director"', '<bpmn:lane id="sales_wizard"',
         "sales_wizard", None, None, ["sales_wizard", "role"]),
        ("user_task_without_form", BPMN, ' camunda:formKey="approval_archive"', "", "archive",
         None, None, ["formKey"]),
        ("form_key_unknown", BPMN, 'camunda:formKey="approval_archive"', 'camunda:formKey="approval_nothere"',
         "archive", None, None, ["approval_nothere"]),
        ("condition_does_not_parse", BPMN, "approved == True", "approved == = True", "f_yes",
         line_of(bpmn, 'id="f_yes"'), None, ["condition"]),
        ("script_imports_a_module", BPMN, "requested_on = today()", "import os\nrequested_on = os.getcwd()",
         "set_level", line_of(bpmn, 'id="set_level"'), None, ["import"]),
        ("condition_uses___import__", BPMN, "approved == True", "__import__('os').system('true') == 0",
         "f_yes", line_of(bpmn, 'id="f_yes"'), None, ["__import__"]),
        ("condition_walks_subclasses", BPMN, "approved == True", "len(().__class__.__base__.__subclasses__()) > 0",
         "f_yes", line_of(bpmn, 'id="f_yes"'), None, ["__class__"]),
        ("process_not_executable", BPMN, 'isExecutable="true"', 'isExecutable="false"', "approval",
         None, None, ["executable"]),
        ("form_schema_invalid", DECISION_FORM, "approved: {type: boolean}", "approved: {type: yesno}", "approved",
         None, None, ["schema"]),
        ("form_field_missing", DECISION_FORM, "  - {name: comment, label: {zh: 意见, en: Comment}, widget: textarea}\n",
         "", "comment", 1, form.count("\n"), ["fields"]),
        ("form_field_not_in_schema", DECISION_FORM, "{name: comment,", "{name: remark,", "remark",
         1, form.count("\n"), ["remark"]),
    ]


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_refused_with_file_element_and_line(engine, case):
    _id, filename, old, new, element, first, last, words = case
    texts = good_texts()
    original = texts[filename]
    texts[filename] = edit(original, old, new)
    edited_line = line_of(texts[filename], new) if new.strip() else line_of(original, old)
    first = first or edited_line
    last = last or edited_line

    exc = refuse(engine, with_second_process(texts))

    mine = problems_for(exc, filename)
    assert mine, f"no problem names {filename}: {exc.problems}"
    located = [p for p in mine if element is None or p.element == element or element in p.message]
    assert located, f"no problem of {filename} names {element}: {mine}"
    problem = located[0]
    assert problem.line is not None, f"the problem has no line: {problem}"
    assert first <= problem.line <= last, f"line {problem.line} is not where the error is ({first}-{last})"
    text = str(exc)
    assert filename in text
    assert f":{problem.line}" in str(problem)
    if element:
        assert element in text
    for word in words:
        assert word.lower() in problem.message.lower(), f"{word!r} not in {problem.message!r}"
    assert_nothing_deployed(engine)


def test_form_key_whose_file_is_missing_from_the_bundle(engine):
    texts = good_texts()
    del texts["approval_archive.yaml"]
    exc = refuse(engine, with_second_process(texts))
    bpmn = good_texts()[BPMN]
    [problem] = [p for p in problems_for(exc, BPMN) if p.element == "archive"]
    assert "approval_archive" in problem.message
    assert problem.line == line_of(bpmn, '<bpmn:userTask id="archive"')
    # the second process also uses the form, and is refused with it
    assert [p for p in problems_for(exc, "approval_b.bpmn") if p.element == "archive"]
    assert_nothing_deployed(engine)


def test_every_problem_of_every_file_is_listed(engine):
    texts = good_texts()
    texts[BPMN] = edit(texts[BPMN], '<bpmn:lane id="sales_director"', '<bpmn:lane id="sales_wizard"')
    texts[DECISION_FORM] = edit(texts[DECISION_FORM], "approved: {type: boolean}", "approved: {type: yesno}")
    texts["approval_b.bpmn"] = edit(second_process(good_texts()[BPMN]), "approved == True", "approved ==")
    exc = refuse(engine, texts)
    assert any(p.element == "sales_wizard" for p in problems_for(exc, BPMN))
    assert problems_for(exc, DECISION_FORM)
    assert any(p.element == "f_yes" for p in problems_for(exc, "approval_b.bpmn"))
    assert_nothing_deployed(engine)


def test_compile_reports_the_same_problems_and_deploys_nothing(engine):
    texts = good_texts()
    texts[BPMN] = edit(texts[BPMN], 'isExecutable="true"', 'isExecutable="false"')
    with pytest.raises(DefinitionError) as info:
        engine.compile(files=sources(texts))
    assert any(p.element == "approval" and "executable" in p.message for p in info.value.problems)
    compiled = engine.compile(files=sources(with_second_process(good_texts())))
    assert sorted(cp.key for cp in compiled) == ["approval", "approval_b"]
    assert_nothing_deployed(engine)


def test_bad_file_in_a_bundle_leaves_the_deployed_version_alone(engine):
    engine.deploy("system", [APPROVAL])
    before = engine.processes()
    assert [(p["key"], p["version"]) for p in before] == [("approval", 1)]
    texts = good_texts()
    texts[BPMN] = edit(texts[BPMN], 'name="经理审批"', 'name="经理审批（新）"')  # would be version 2 on its own
    texts[DECISION_FORM] = edit(texts[DECISION_FORM], "approved: {type: boolean}", "approved: {type: yesno}")
    refuse(engine, with_second_process(texts))
    assert engine.processes() == before
    assert count(engine, ProcessVersion) == 1
    assert [e.kind for e in deployment_events(engine)] == ["deployed"]


# -- hostile XML ---------------------------------------------------------------
@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[Path, str]:
    secret = "xxe-secret-7f3a9c1e"
    path = tmp_path / "secret.txt"
    path.write_text(secret, encoding="utf-8")
    return path, secret


def _xxe(text: str, target: str, anchor: str) -> str:
    doctype = f'<!DOCTYPE x [<!ENTITY e SYSTEM "{target}">]>'
    return edit(edit(text, XML_DECL, XML_DECL + "\n" + doctype), anchor, "&e;")


def test_external_entity_in_bpmn_is_refused_and_never_read(engine, secret_file, tmp_path):
    path, secret = secret_file
    texts = good_texts()
    texts[BPMN] = _xxe(texts[BPMN], path.as_uri(), "Test approval process.")
    # also through paths, as the CLI deploys: the bad file lies on disk among good ones
    folder = tmp_path / "bundle"
    shutil.copytree(APPROVAL, folder)
    (folder / BPMN).write_text(texts[BPMN], encoding="utf-8")

    exc_files = refuse(engine, with_second_process(texts))
    with pytest.raises(DefinitionError) as info:
        engine.deploy("system", [folder])
    for exc in (exc_files, info.value):
        [problem] = [p for p in exc.problems if Path(p.file).name == BPMN]
        assert problem.line is not None and problem.line <= line_of(texts[BPMN], "<!DOCTYPE")
        assert "DOCTYPE" in problem.message or "entit" in problem.message.lower()
        assert secret not in str(exc)
        assert all(secret not in f"{p.file} {p.message} {p.element}" for p in exc.problems)
    assert_nothing_deployed(engine)
    assert secret not in all_stored_text(engine)


def test_external_entity_of_etc_hostname_is_refused(engine):
    texts = good_texts()
    texts[BPMN] = _xxe(texts[BPMN], "file:///etc/hostname", "Test approval process.")
    exc = refuse(engine, texts)
    assert [p for p in problems_for(exc, BPMN) if p.line]
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    if hostname:
        assert hostname not in str(exc)
        assert hostname not in all_stored_text(engine)
    assert_nothing_deployed(engine)


MINI_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="mini_defs" name="mini"
             namespace="http://salesflow.example/test">
  <decision id="mini" name="mini">
    <decisionTable id="mini_table" hitPolicy="UNIQUE">
      <input id="mini_in" label="amount"><inputExpression id="mini_in_expr" typeRef="number">
        <text>amount_yuan</text></inputExpression></input>
      <output id="mini_out" label="level" name="level" typeRef="string"/>
      <rule id="mini_rule">
        <inputEntry id="mini_rule_in"><text>&gt; 10000</text></inputEntry>
        <outputEntry id="mini_rule_out"><text>"high"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_mini_dmn_on_its_own_is_accepted(engine):
    # the DMN cases below are edits of this file: it must be good as it stands
    assert engine.compile(files=sources({**good_texts(), "mini.dmn": MINI_DMN}))


def test_external_entity_in_dmn_is_refused(engine, secret_file):
    path, secret = secret_file
    texts = {**good_texts(), "mini.dmn": _xxe(MINI_DMN, path.as_uri(), '"high"')}
    exc = refuse(engine, texts)
    assert [p for p in problems_for(exc, "mini.dmn") if p.line]
    assert secret not in str(exc)
    assert_nothing_deployed(engine)
    assert secret not in all_stored_text(engine)


def test_dmn_cell_that_escapes_is_refused_with_its_id_and_line(engine):
    dmn = edit(MINI_DMN, '<text>"high"</text>', "<text>__import__('os').getcwd()</text>")
    exc = refuse(engine, {**good_texts(), "mini.dmn": dmn})
    [problem] = problems_for(exc, "mini.dmn")
    assert problem.element == "mini_rule_out"
    assert problem.line == line_of(dmn, "__import__")
    assert_nothing_deployed(engine)


def _billion_laughs(root_open: str, root_close: str) -> str:
    entities = ['<!ENTITY lol "lol">']
    for i in range(1, 10):
        prev = "lol" if i == 1 else f"lol{i - 1}"
        entities.append(f'<!ENTITY lol{i} "{("&" + prev + ";") * 10}">')
    return f'{XML_DECL}\n<!DOCTYPE lolz [\n{chr(10).join(entities)}\n]>\n{root_open}&lol9;{root_close}\n'


@pytest.mark.parametrize("filename", [BPMN, "laughs.dmn"])
def test_billion_laughs_is_refused_quickly(engine, filename):
    texts = good_texts()
    texts[filename] = _billion_laughs("<lolz>", "</lolz>")
    started = time.monotonic()
    exc = refuse(engine, with_second_process(texts))
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"refusing took {elapsed:.1f}s"
    [problem] = problems_for(exc, filename)
    assert problem.line is not None
    assert "lollol" not in str(exc)
    assert_nothing_deployed(engine)


# -- size, paths -------------------------------------------------------------------
@pytest.mark.parametrize("filename", [BPMN, DECISION_FORM])
def test_file_over_the_size_limit_is_refused(engine, filename):
    texts = good_texts()
    padding = "x" * (MAX_FILE_BYTES + 1)
    if filename.endswith(".bpmn"):
        texts[filename] = edit(texts[filename], "<!-- A small", f"<!-- {padding} -->\n<!-- A small")
    else:
        texts[filename] = texts[filename] + f"# {padding}\n"
    assert len(texts[filename].encode()) > MAX_FILE_BYTES
    exc = refuse(engine, with_second_process(texts))
    [problem] = problems_for(exc, filename)
    assert str(MAX_FILE_BYTES) in problem.message
    assert filename in str(exc)
    assert_nothing_deployed(engine)


def test_file_at_the_size_limit_is_accepted(engine):
    text = good_texts()[BPMN]
    room = MAX_FILE_BYTES - len(text.encode()) - len("<!--  -->\n")
    texts = {**good_texts(), BPMN: edit(text, "<!-- A small", f"<!-- {'x' * room} -->\n<!-- A small")}
    assert len(texts[BPMN].encode()) == MAX_FILE_BYTES
    [deployed] = engine.deploy("system", files=sources(texts))
    assert (deployed.key, deployed.version) == ("approval", 1)


def test_path_that_does_not_exist_is_refused(engine, tmp_path):
    missing = tmp_path / "nowhere" / "approval_v2.bpmn"
    with pytest.raises(DefinitionError) as info:
        engine.deploy("system", [APPROVAL, missing])
    [problem] = info.value.problems
    assert problem.file == str(missing)
    assert str(missing) in str(info.value)
    assert_nothing_deployed(engine)
    with pytest.raises(DefinitionError):
        engine.compile([missing])
