"""Prefilled fields (engine/form_prefill.py): `x-prefill: <data name>` gives a task form's field the instance's
value; with `readOnly: true` the engine keeps that value whatever is posted, and a case without the value gets
an ordinary field. Malformed keywords are refused when the form is read, and a prefill nothing in the process
could fill (or one on a start form) is refused by the lint with the element."""

from __future__ import annotations

import pytest

from engine.definitions.form_file import load_form
from engine.errors import InvalidData
from engine.form_prefill import initial_values, keep_read_only, locked
from engine.forms import FormDef, validate
from tests.test_definitions__lint import OWNER, edit, owner, sources, texts  # noqa: F401 - owner is a fixture

REVIEW = """\
key: review
title: {zh: 复核, en: Review}
schema:
  type: object
  additionalProperties: false
  required: [customer_name, amount_yuan, approved]
  properties:
    customer_name: {type: string, maxLength: 200, x-prefill: customer_name, readOnly: true}
    amount_yuan: {type: number, minimum: 0, x-prefill: amount_yuan}
    approved: {type: boolean}
fields:
  - {name: customer_name, label: {zh: 客户名称, en: Customer name}}
  - {name: amount_yuan, label: {zh: 金额, en: Amount}}
  - {name: approved, label: {zh: 批准, en: Approved}}
"""
CASE = {"customer_name": "海螺建材", "amount_yuan": 1200, "level": "high"}


def load(text: str) -> FormDef:
    form, problems, _key = load_form(text, "review.yaml")
    assert problems == [], problems
    return form


@pytest.fixture
def review() -> FormDef:
    return load(REVIEW)


def test_the_engine_decides_the_initial_values_from_the_instance_data(review):
    assert initial_values(review.schema, CASE) == {"customer_name": "海螺建材", "amount_yuan": 1200}
    assert initial_values(review.schema, {}) == {}


def test_a_read_only_field_keeps_the_instance_value_whatever_is_posted(review):
    posted = {"customer_name": "别的客户", "amount_yuan": 900, "approved": True}
    # the case's value is checked (customer_name is required) and kept: the data stored leaves it as it is
    assert validate(review, posted, context=CASE) == {"amount_yuan": 900, "approved": True}
    assert keep_read_only(review.schema, posted, CASE)["customer_name"] == "海螺建材"


def test_a_read_only_field_named_otherwise_is_copied_from_its_source():
    form = load(REVIEW.replace("x-prefill: customer_name, readOnly", "x-prefill: client, readOnly"))
    assert validate(form, {"customer_name": "别的", "amount_yuan": 1, "approved": True},
                    context={"client": "海螺建材"})["customer_name"] == "海螺建材"


def test_an_editable_prefilled_field_takes_what_is_posted_and_is_checked(review):
    with pytest.raises(InvalidData) as info:
        validate(review, {"amount_yuan": -1, "approved": True}, context=CASE)
    assert set(info.value.fields) == {"amount_yuan"}


def test_a_case_without_the_value_gets_an_ordinary_field(review):
    case = {"amount_yuan": 5}
    assert locked(review.schema, case) == set()
    assert keep_read_only(review.schema, {"customer_name": "甲"}, case) == {"customer_name": "甲"}
    with pytest.raises(InvalidData) as info:
        validate(review, {"amount_yuan": 5, "approved": True}, context=case)
    assert set(info.value.fields) == {"customer_name"}  # required, and somebody has to give it


@pytest.mark.parametrize(("old", "new", "words", "zh"), [
    ("x-prefill: customer_name, readOnly: true", "readOnly: true", "needs x-prefill", "需要 x-prefill"),
    ("x-prefill: customer_name,", "x-prefill: 客户 名称,", "must name a data name", "必须写一个数据名"),
    ("x-prefill: customer_name,", "x-prefill: _secret,", "must name a data name", "必须写一个数据名"),
    ("readOnly: true", "readOnly: yes please", "readOnly", "readOnly"),  # JSON Schema refuses it first
    ("approved: {type: boolean}", "approved: {type: boolean, items: {x-prefill: a}}", "belongs on a property",
     "只能写在表单自身的属性上"),
], ids=["read_only_without_prefill", "not_a_name", "underscore", "read_only_not_boolean", "nested"])
def test_malformed_prefill_keywords_are_refused(old, new, words, zh):
    assert old in REVIEW
    form, problems, _key = load_form(REVIEW.replace(old, new, 1), "review.yaml")
    assert form is None
    # both languages: the owner's pages show the Chinese, the CLI and API clients read the English
    assert any(words in p.messages()["en"] and zh in p.messages()["zh"] for p in problems), problems


# -- the lint: a prefill must name something the process sets -------------------------------------------------
DECISION = "approval_decision.yaml"


def _with_prefill(source: str) -> dict[str, str]:
    files = texts()
    shown = f"shown: {{type: string, x-prefill: {source}, readOnly: true}}"
    files[DECISION] = edit(files[DECISION], "comment: {type: string, maxLength: 2000}",
                           f"comment: {{type: string, maxLength: 2000}}\n    {shown}")
    files[DECISION] = edit(files[DECISION], "  - {name: comment,",
                           "  - {name: shown, label: {zh: 客户, en: Customer}}\n  - {name: comment,")
    return files


def test_a_prefill_from_a_name_the_start_form_sets_deploys(owner):  # noqa: F811
    assert owner.lint(OWNER, sources(_with_prefill("customer_name"))) == []


def test_a_prefill_from_a_name_nothing_sets_is_refused(owner):  # noqa: F811
    found = owner.lint(OWNER, sources(_with_prefill("customer_nmae")))
    assert [(f["severity"], f["message"]) for f in found] == [(
        "error", "form approval_decision: shown is prefilled from customer_nmae, which no start form, other task "
                 "form, decision output, script, message or called process sets")]
    assert found[0]["element"]


def test_a_prefill_from_its_own_field_only_is_refused(owner):  # noqa: F811
    assert owner.lint(OWNER, sources(_with_prefill("approved")))  # only this form sets approved


def test_a_start_form_cannot_prefill(owner):  # noqa: F811
    files = texts()
    files["approval_request.yaml"] = edit(files["approval_request.yaml"], "amount_yuan: {type: number, minimum: 0}",
                                          "amount_yuan: {type: number, minimum: 0, x-prefill: level}")
    messages = [f["message"] for f in owner.lint(OWNER, sources(files))]
    assert any("a start form has no earlier data" in m for m in messages), messages
