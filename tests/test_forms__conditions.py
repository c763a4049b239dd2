"""Conditional fields (engine/form_conditions.py): a field named by the `then` of an `if` marked
`x-hidden-otherwise` is shown, required and stored only while the `if` holds; otherwise whatever was sent
for it is dropped. Malformed conditions are refused at deploy with their place in the form."""

from __future__ import annotations

import pytest

from engine.definitions.form_file import load_form
from engine.errors import InvalidData
from engine.form_conditions import required_when_shown, show_if, visible
from engine.forms import FormDef, validate
from tests.conftest import ROOT

PENALTY = """\
key: penalty
title: {zh: 处罚, en: Penalty}
schema:
  type: object
  additionalProperties: false
  required: [verified]
  properties:
    verified: {type: boolean}
    penalty: {type: string, enum: [fine, dismissal]}
    fine_yuan: {type: integer, minimum: 20, maximum: 100}
    notes: {type: string, maxLength: 200}
  allOf:
    - if: {properties: {verified: {const: true}}, required: [verified]}
      then: {required: [penalty]}
      x-hidden-otherwise: true
    - if: {properties: {penalty: {const: fine}}, required: [penalty]}
      then: {required: [fine_yuan]}
      x-hidden-otherwise: true
fields:
  - {name: verified, label: {zh: 属实, en: Verified}}
  - {name: penalty, label: {zh: 处罚, en: Penalty}}
  - {name: fine_yuan, label: {zh: 罚款, en: Fine}}
  - {name: notes, label: {zh: 备注, en: Notes}}
"""


def load(text: str) -> FormDef:
    form, problems, _key = load_form(text, "form.yaml")
    assert problems == [], problems
    return form


def problems_of(text: str) -> list[dict[str, str]]:
    """The problems' {zh, en} texts."""
    form, problems, _key = load_form(text, "form.yaml")
    assert form is None
    return [p.messages() for p in problems]


@pytest.fixture
def penalty() -> FormDef:
    return load(PENALTY)


def test_a_field_is_shown_only_while_its_condition_holds(penalty):
    assert visible(penalty.schema, {}) == {"verified", "notes"}
    assert visible(penalty.schema, {"verified": False}) == {"verified", "notes"}
    assert visible(penalty.schema, {"verified": True}) == {"verified", "notes", "penalty"}
    assert visible(penalty.schema, {"verified": True, "penalty": "fine"}) == {"verified", "notes", "penalty",
                                                                              "fine_yuan"}


def test_a_field_hidden_hides_the_fields_that_depend_on_it(penalty):
    # the penalty is hidden (not verified), so its value `fine` shows no fine either
    assert visible(penalty.schema, {"verified": False, "penalty": "fine"}) == {"verified", "notes"}


def test_hidden_fields_are_not_required_and_not_stored(penalty):
    sent = {"verified": False, "penalty": "fine", "fine_yuan": 5000, "notes": "查无实据"}
    assert validate(penalty, sent) == {"verified": False, "notes": "查无实据"}  # 5000 is not even checked


def test_shown_fields_are_required_and_checked(penalty):
    with pytest.raises(InvalidData) as info:
        validate(penalty, {"verified": True, "penalty": "fine", "fine_yuan": 5000})
    assert set(info.value.fields) == {"fine_yuan"}
    with pytest.raises(InvalidData) as info:
        validate(penalty, {"verified": True})
    assert set(info.value.fields) == {"penalty"}
    assert validate(penalty, {"verified": True, "penalty": "dismissal", "fine_yuan": 50}) == {
        "verified": True, "penalty": "dismissal"}


def test_show_if_gives_the_page_each_fields_conditions(penalty):
    assert show_if(penalty.schema) == {"penalty": [{"verified": [True]}], "fine_yuan": [{"penalty": ["fine"]}]}
    assert required_when_shown(penalty.schema) == {"penalty", "fine_yuan"}


def test_an_if_then_without_the_marker_hides_nothing():
    form = load(PENALTY.replace("      x-hidden-otherwise: true\n", ""))
    assert visible(form.schema, {}) == {"verified", "penalty", "fine_yuan", "notes"}
    assert validate(form, {"verified": False, "penalty": "dismissal"}) == {"verified": False, "penalty": "dismissal"}


@pytest.mark.parametrize(("old", "new", "words", "zh"), [
    ("{properties: {verified: {const: true}}, required: [verified]}", "{properties: {verified: {const: true}}}",
     "must require exactly the fields it tests", "必须恰好列出它判断的字段"),
    ("{properties: {verified: {const: true}}, required: [verified]}",
     "{properties: {verified: {type: boolean}}, required: [verified]}", "only with `const` or `enum`",
     "只能用 `const` 或 `enum` 判断 verified"),
    ("{properties: {verified: {const: true}}, required: [verified]}",
     "{properties: {verifed: {const: true}}, required: [verifed]}", "verifed, which is not a field",
     "verifed 不是本表单的字段"),
    ("{properties: {verified: {const: true}}, required: [verified]}", "{required: [verified]}",
     "may only test properties", "`if` 只能判断用 `const` 或 `enum` 判断的 properties"),
    ("then: {required: [penalty]}", "then: {required: [penalti]}", "penalti that `then` shows is not a property",
     "`then` 显示的字段 penalti 不是本表单的属性"),
    ("then: {required: [penalty]}", "then: {required: [verified]}", "always required", "始终必填"),
    ("      x-hidden-otherwise: true\n", "      x-hidden-otherwise: yes please\n", "must be true",
     "x-hidden-otherwise 只能是 true"),
], ids=["if_without_required", "if_not_const", "if_unknown_field", "if_without_properties", "then_unknown_field",
        "then_names_a_required_field", "marker_not_true"])
def test_a_condition_the_page_could_not_follow_is_refused(old, new, words, zh):
    assert old in PENALTY
    messages = problems_of(PENALTY.replace(old, new, 1))
    assert any(words in m["en"] and zh in m["zh"] for m in messages), messages


def test_the_complaint_start_form_asks_for_the_goods_only_for_a_quality_complaint():
    path = ROOT / "forms" / "complaint_register.yaml"
    form = load(path.read_text(encoding="utf-8"))
    goods = {"receipt_no", "product", "spec", "quantity", "grade", "colour_no", "purchase_date"}
    common = {"customer_name", "customer_class", "customer_contact", "complaint_kind", "severity", "description",
              "remarks"}
    assert visible(form.schema, {}) == common
    assert visible(form.schema, {"complaint_kind": "quality"}) == common | goods
    assert visible(form.schema, {"complaint_kind": "service"}) == common | {"complained_party"}
    service = {"customer_name": "甲", "customer_class": "local", "complaint_kind": "service", "severity": "minor",
               "description": "态度差", "complained_party": "销售一部", "product": "抛光砖", "quantity": 3}
    assert validate(form, service) == {k: v for k, v in service.items() if k not in ("product", "quantity")}
