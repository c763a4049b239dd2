"""webui/forms_render: a form's schema as widgets, and posted fields back as the data the engine validates.

Uses the in-sale contract draft form as it was before issue 12 (tests/fixtures/legacy/insale/insale_contract_draft.yaml,
kept for the migration test): it has text, enum, number, integer with a default, date, boolean, textarea and a
table of order lines (an array of objects).
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from engine import clock as engine_clock
from engine import forms
from engine.definitions.form_file import load_form
from engine.errors import InvalidData
from tests.conftest import FIXTURES
from webui import forms_render


@pytest.fixture
def contract() -> tuple[dict, forms.FormDef]:
    path = FIXTURES / "legacy" / "insale" / "insale_contract_draft.yaml"
    form, problems, _key = load_form(path.read_text(encoding="utf-8"), path.name)
    assert form is not None, problems
    return {"key": form.key, "title": form.title, "schema": form.schema,
            "ui": {"fields": form.fields, "messages": form.messages}}, form


@pytest.fixture
def zh(app):
    with app.test_request_context("/"):
        yield


def _posted(**fields: str) -> MultiDict:
    return MultiDict({f"data.{k}": v for k, v in fields.items()})


GOOD = {"contract_no": "HT-2026-001", "customer_name": "合肥建工集团", "customer_class": "local",
        "contact": "王工 13800000000", "address": "合肥市蜀山区", "amount_yuan": "52000.5",
        "delivery_date": "2026-03-10", "delivery_address": "合肥工地", "contract_type": "standard",
        "template_modified": "false", "payment_term_days": "7",
        "order_lines.0.product": "P·O 42.5", "order_lines.0.spec": "袋装", "order_lines.0.model": "42.5",
        "order_lines.0.grade": "一等品", "order_lines.0.quantity": "100", "order_lines.0.unit_price": "520.005",
        "order_lines.1.product": "", "order_lines.1.spec": "", "order_lines.1.quantity": "",
        "order_lines.2.product": "P·C 32.5", "order_lines.2.spec": "散装", "order_lines.2.model": "32.5",
        "order_lines.2.grade": "合格品", "order_lines.2.quantity": "3", "order_lines.2.unit_price": "400"}


def test_widgets_follow_the_schema_and_the_ui_order(zh, contract):
    form, _definition = contract
    widgets = forms_render.widgets(form, forms_render.initial_values(form))
    kinds = {w.name: w.kind for w in widgets}
    assert [w.name for w in widgets][:6] == ["contract_no", "customer_name", "customer_class", "contact", "address",
                                             "order_lines"]
    assert kinds == {"contract_no": "text", "customer_name": "text", "customer_class": "select", "contact": "text",
                     "address": "text", "order_lines": "table", "amount_yuan": "number", "delivery_date": "date",
                     "delivery_address": "text", "contract_type": "select", "template_modified": "boolean",
                     "template_changes": "textarea", "payment_term_days": "integer",
                     "special_requirements": "textarea", "remarks": "textarea"}
    by_name = {w.name: w for w in widgets}
    assert by_name["contract_type"].options == [("standard", "标准销售合同"),
                                                ("exclusive_distribution", "产品包销合同")]
    assert by_name["payment_term_days"].value == "7"  # the schema's default
    assert by_name["payment_term_days"].attrs == {"step": "1", "min": 1, "max": 90}
    assert by_name["contract_no"].required and not by_name["remarks"].required
    table = by_name["order_lines"]
    assert [(c.name, c.label, c.kind) for c in table.columns] == [
        ("product", "产品名称", "text"), ("spec", "规格", "text"), ("model", "型号", "text"),
        ("grade", "等级", "text"), ("quantity", "数量", "number"), ("unit_price", "单价（元）", "number")]
    assert table.value == [{}]  # one blank row to start with


def test_posted_fields_become_data_the_engine_accepts(zh, contract, clock):
    form, definition = contract
    data, texts = forms_render.parse(form, _posted(**GOOD))
    assert data["order_lines"] == [
        {"product": "P·O 42.5", "spec": "袋装", "model": "42.5", "grade": "一等品", "quantity": 100,
         "unit_price": 520.005},
        {"product": "P·C 32.5", "spec": "散装", "model": "32.5", "grade": "合格品", "quantity": 3, "unit_price": 400}]
    assert data["amount_yuan"] == 52000.5 and data["payment_term_days"] == 7
    assert data["template_modified"] is False
    assert "remarks" not in data  # blank fields are left out
    assert len(texts["order_lines"]) == 2  # the blank row is dropped
    with engine_clock.using(clock):  # the delivery date must lie ahead of the engine's today
        assert forms.validate(definition, data) == data


def test_bad_input_is_passed_on_for_the_engine_to_name(zh, contract, clock):
    form, definition = contract
    posted = {**GOOD, "payment_term_days": "7.5", "amount_yuan": "many", "order_lines.0.quantity": "0"}
    data, texts = forms_render.parse(form, _posted(**posted))
    assert data["payment_term_days"] == "7.5" and data["amount_yuan"] == "many"
    with engine_clock.using(clock), pytest.raises(InvalidData) as refused:
        forms.validate(definition, data)
    assert set(refused.value.fields) == {"payment_term_days", "amount_yuan", "order_lines"}
    widgets = {w.name: w for w in forms_render.widgets(form, texts, refused.value.fields)}
    assert widgets["order_lines"].error == "数量和单价须大于零"  # the form's own message, beside the table
    assert widgets["order_lines"].value[0]["quantity"] == "0"  # what was typed stays
    assert widgets["amount_yuan"].value == "many" and widgets["amount_yuan"].error
    assert widgets["contract_no"].error is None


def test_add_row_gives_the_table_another_blank_row(zh, contract):
    form, _definition = contract
    posted = _posted(**GOOD)
    posted.add(forms_render.ADD_ROW, "order_lines")
    _data, texts = forms_render.parse(form, posted)
    extra = forms_render.rows_to_add(posted)
    assert extra == {"order_lines": 1}
    table = {w.name: w for w in forms_render.widgets(form, texts, extra_rows=extra)}["order_lines"]
    assert len(table.value) == 4  # two filled rows, the usual blank one and the one asked for


def test_shown_values_use_option_labels_and_yes_no(zh, contract):
    form, _definition = contract
    labels = forms_render.labels_of(form)
    assert forms_render.show("exclusive_distribution", labels["contract_type"]) == "产品包销合同"
    assert forms_render.show(True) == "是" and forms_render.show(False) == "否"
    assert forms_render.show(None) == ""
