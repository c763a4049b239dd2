"""Every problem a form file can have is given in both languages: the owner's pages show the reader's
(docs/modelling.md, "The engine's messages to modellers are in both languages")."""

from __future__ import annotations

import pytest

from engine.definitions.form_file import load_form

GOOD = """key: f
title: {zh: 表, en: Form}
schema:
  type: object
  properties:
    a: {type: number, x-decimals: 2}
    b: {type: string}
fields:
  - {name: a, label: {zh: 甲, en: A}}
  - {name: b, label: {zh: 乙, en: B}}
"""


def test_the_good_form_loads():
    form, problems, key = load_form(GOOD, "f.yaml")
    assert problems == [] and form is not None and key == "f"


@pytest.mark.parametrize(("text", "en", "zh"), [
    ("key: [unclosed\n", "not valid YAML", "不是有效的 YAML"),
    ("- a\n- b\n", "a form file must be a mapping", "表单文件必须是包含 key、title、schema 和 fields 的映射"),
    ("key: f\ntitle: {zh: 表, en: Form}\n", "missing schema, fields", "缺少 schema、fields"),
    (GOOD.replace("type: object", "type: 7"), "schema is not valid JSON Schema at schema.type",
     "schema.type 处不是有效的 JSON Schema"),
    (GOOD.replace("x-decimals: 2", "x-decimals: 11"), "x-decimals must be a whole number",
     "x-decimals 必须是 0 到 10 之间的整数"),
    (GOOD.replace("    b: {type: string}\n", "    b: {type: string}\n    c: {type: string}\n"),
     "schema property c is missing from fields", "schema 的属性 c 不在 fields 中"),
    (GOOD + "  - {name: d, label: {zh: 丁, en: D}}\n", "field d is not a schema property", "字段 d 不是 schema 的属性"),
    (GOOD + "  - {name: b, label: {zh: 乙, en: B}}\n", "field b is listed twice", "字段 b 在 fields 中出现了两次"),
    (GOOD.replace("label: {zh: 乙, en: B}", "label: {en: B}"), "field b needs a label in zh and en",
     "字段 b 需要中文（zh）和英文（en）两种 label"),
    (GOOD.replace("{name: b, label: {zh: 乙, en: B}}", "{name: b, label: {zh: 乙, en: B}, item_fields: []}"),
     "field b: unknown key item_fields (allowed: name, label, widget, options, columns)",
     "字段 b：未知的键 item_fields"),
    (GOOD.replace("{name: b, label: {zh: 乙, en: B}}", "{name: b, label: {zh: 乙, en: B}, widget: slider}"),
     "field b: unknown widget slider", "字段 b：未知的 widget slider"),
    (GOOD.replace("{name: b, label: {zh: 乙, en: B}}",
                  "{name: b, label: {zh: 乙, en: B}, columns: [{name: x, label: {zh: 甲, en: X}, width: 3}]}"),
     "field b, column 1: unknown key width", "字段 b 第 1 列：未知的键 width"),
    (GOOD + "help: {zh: 说明, en: Help}\n", "the form: unknown key help", "表单：未知的键 help"),
    (GOOD.replace("{name: b, label: {zh: 乙, en: B}}", "{name: b, label: {zh: 乙, en: B}, options: [x, y]}"),
     "field b: options must map each value to its label in zh and en", "字段 b：options 须把每个取值映射到中英文标签"),
    (GOOD.replace("b: {type: string}", "b: {type: string, enum: [x, y]}").replace(
        "{name: b, label: {zh: 乙, en: B}}", "{name: b, label: {zh: 乙, en: B}, options: {x: {zh: 叉, en: X}}}"),
     "field b: options lack a label for y", "字段 b：options 缺少取值 y 的标签"),
    (GOOD.replace("{name: b, label: {zh: 乙, en: B}}", "{name: b, label: {zh: 乙, en: B}, columns: {x: 1}}"),
     "field b: columns must be a list", "字段 b：columns 须是 {name, label} 的列表"),
    (GOOD.replace("{name: b, label: {zh: 乙, en: B}}", "{name: b, label: {zh: 乙, en: B}, columns: [{name: x}]}"),
     "field b, column 1: needs a name and a label in zh and en", "字段 b 第 1 列：需要 name 和中英文 label"),
    (GOOD.replace("{name: b, label: {zh: 乙, en: B}}",
                  "{name: b, label: {zh: 乙, en: B}, columns: [{name: x, label: {zh: 甲, en: X}, widget: slider}]}"),
     "field b, column 1: unknown widget slider (allowed: person)", "字段 b 第 1 列：未知的 widget slider"),
], ids=["not_yaml", "not_a_mapping", "missing", "bad_schema", "keyword", "property_not_a_field", "field_not_a_property",
        "field_twice", "label_one_language", "unknown_field_key", "unknown_widget", "unknown_column_key",
        "unknown_form_key", "options_a_list", "option_missing", "columns_not_a_list", "column_without_label",
        "unknown_column_widget"])
def test_each_problem_has_its_chinese_text(text, en, zh):
    form, problems, _key = load_form(text, "f.yaml")
    assert form is None and problems
    assert all(p.zh for p in problems), problems  # none falls back to the English
    assert any(en in p.messages()["en"] and zh in p.messages()["zh"] for p in problems), \
        [p.messages() for p in problems]
