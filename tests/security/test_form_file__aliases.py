"""Issue 11, finding 4: an 816-byte form with nested YAML aliases became a 102-million-character
form row, and every read of the task took 14-20 s and 2 GB. Aliases are refused where a form file is
read (deploy, the modeler's check and its preview), and a form's parsed size is capped."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.definitions.bundle import KINDS, SourceFile
from engine.definitions.form_file import MAX_FORM_CHARS, load_form
from engine.errors import DefinitionError
from tests.conftest import FIXTURES, PASSWORD, add_users
from webui.app import create_app

APPROVAL = FIXTURES / "approval"


def alias_bomb(levels: int = 8) -> str:
    """A valid form whose description expands tenfold per level (10**8 strings from ~800 bytes)."""
    lines = ["key: approval_request", "title: {zh: 申请, en: Request}", "lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, "
             "lol, lol, lol]"]
    for level in range(1, levels + 1):
        lines.append(f"lol{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    lines += ["schema: {type: object, properties: {}}", "fields: []"]
    return "\n".join(lines) + "\n"


def test_the_bomb_is_small_and_refused_before_it_expands():
    text = alias_bomb()
    assert len(text.encode()) < 1000
    form, problems, _key = load_form(text, "approval_request.yaml")
    assert form is None
    [problem] = problems
    assert "aliases" in problem.message and problem.line == 4
    assert "不允许使用锚点和别名" in problem.messages()["zh"]


def test_a_form_with_aliases_cannot_be_deployed(engine):
    files = [SourceFile(p.name, KINDS[Path(p.name).suffix], p.read_bytes()) for p in sorted(APPROVAL.iterdir())
             if p.name != "approval_request.yaml"]
    files.append(SourceFile("approval_request.yaml", "form", alias_bomb().encode()))
    with pytest.raises(DefinitionError) as info:
        engine.deploy("system", files=files)
    assert any(p.file == "approval_request.yaml" and "aliases" in p.message for p in info.value.problems)
    assert engine.processes() == []


def test_a_form_larger_than_the_cap_is_refused():
    text = "key: big\ntitle: {zh: 大, en: Big}\nschema: {type: object, properties: {}}\nfields: []\nnote: " + \
        "x" * (MAX_FORM_CHARS + 1) + "\n"
    _form, [problem], _key = load_form(text, "big.yaml")
    assert f"larger than {MAX_FORM_CHARS:,} characters" in problem.message
    assert problem.messages()["zh"] == f"表单过大：读取后超过 {MAX_FORM_CHARS:,} 个字符"


def test_the_modelers_preview_refuses_the_bomb_without_expanding_it(engine):
    add_users(engine, {"owner": ["process_owner"]})
    app = create_app(engine, {"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"username": "owner", "password": PASSWORD}).status_code == 302
    response = client.post("/model/form-preview", json={"name": "approval_request.yaml", "content": alias_bomb()})
    assert response.status_code == 200
    body = response.get_json()
    assert body["html"] is None
    # the page's language (zh by default) in `message`, both in `messages`
    assert any("不允许使用锚点和别名" in p["message"] and "aliases" in p["messages"]["en"] for p in body["problems"])
