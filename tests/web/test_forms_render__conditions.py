"""The pages' side of prefill, conditional fields and bounds (webui/forms_render.py, pages/macros.html):
conditional rows carry their condition for the page's script and start hidden when it does not hold,
read-only prefilled fields show the case's value and post nothing, a yes-only acknowledgement is one
checkbox, and a failed submit lists every invalid field in an error summary (with the messages a person
needs: 1e400 is too large, a past wanted-by date is refused)."""

from __future__ import annotations

import json

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from engine.definitions.form_file import load_form
from tests.conftest import ROOT
from webui import forms_render

MACRO = '{% from "pages/macros.html" import fields %}{{ fields(widgets, "_add_row", None) }}'


def form_dict(key: str) -> dict:
    path = ROOT / "forms" / f"{key}.yaml"
    form, problems, _key = load_form(path.read_text(encoding="utf-8"), path.name)
    assert form is not None, problems
    return {"key": form.key, "title": form.title, "schema": form.schema,
            "ui": {"fields": form.fields, "messages": form.messages}}


@pytest.fixture
def zh(app):
    with app.test_request_context("/"):
        yield


def test_the_goods_rows_carry_their_condition_and_start_hidden(zh):
    form = form_dict("complaint_register")
    widgets = {w.name: w for w in forms_render.widgets(form, forms_render.initial_values(form))}
    assert json.loads(widgets["product"].show_if) == [{"complaint_kind": ["quality"]}]
    assert json.loads(widgets["complained_party"].show_if) == [{"complaint_kind": ["service"]}]
    assert widgets["product"].hidden and widgets["complained_party"].hidden
    assert not widgets["customer_name"].show_if and not widgets["customer_name"].hidden
    assert widgets["product"].required and not widgets["remarks"].required  # required whenever shown
    html = render_template_string(MACRO, widgets=list(widgets.values()))
    assert 'id="row-product" data-field="product" data-show-if=' in html
    assert 'data-show-if="[{&#34;complaint_kind&#34;: [&#34;quality&#34;]}]" hidden>' in html

    shown = forms_render.widgets(form, {**forms_render.initial_values(form), "complaint_kind": "quality"})
    assert {w.name for w in shown if w.hidden} == {"complained_party"}


def test_a_read_only_prefilled_field_shows_the_case_value_and_posts_nothing(zh):
    form = form_dict("complaint_quality_form")
    case = {"receipt_no": "XS-1", "product": "抛光砖", "spec": "800×800", "quantity": 120, "grade": "优等品",
            "colour_no": "PG8001", "purchase_date": "2026-02-17", "customer_name": "甲"}
    initial = {k: v for k, v in case.items() if k != "customer_name"}
    locked = forms_render.locked_fields(form, initial)
    assert locked == set(initial)
    values = {**forms_render.initial_values(form, initial), **initial}
    html = render_template_string(MACRO, widgets=forms_render.widgets(form, values, locked=locked))
    assert '<input id="field-product" type="text" value="抛光砖" readonly' in html
    assert 'name="data.product"' not in html and 'name="data.quality_form_no"' in html
    posted = MultiDict({"data.product": "别的", "data.quality_form_no": "ZL-1"})
    data, _texts = forms_render.parse(form, posted, locked)
    assert data == {"quality_form_no": "ZL-1"}
    # a case without the goods (a complaint from an after-sales case) gets ordinary inputs
    assert forms_render.locked_fields(form, {}) == set()


def test_a_yes_only_acknowledgement_is_one_checkbox(zh):
    form = form_dict("customer_visit_overdue_reminder")
    [confirm] = [w for w in forms_render.widgets(form, {}) if w.kind == "confirm"]
    html = render_template_string(MACRO, widgets=[confirm])
    assert 'type="checkbox"' in html and 'type="radio"' not in html and "已确认" in html
    assert forms_render.parse(form, MultiDict({f"data.{confirm.name}": "true"}))[0] == {confirm.name: True}


def test_a_failed_submit_lists_the_invalid_fields_and_says_1e400_is_too_large(pages):
    response = pages("rep1").post("/start/sample_request", {
        "data.customer_name": "合肥建工集团", "data.customer_class": "key_account", "data.product": "P·O 42.5",
        "data.spec": "袋装", "data.quantity": "1e400", "data.purpose": "project_bid", "data.delivery_address": "合肥",
        "data.wanted_by": "2026-03-20"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="form-error error-summary" role="alert" id="error-summary"' in html
    assert '<a href="#row-quantity" data-focus="field-quantity">样品数量（千克）: 不能大于 1000</a>' in html
    quantity_row = html[html.index('id="row-quantity"'):html.index('id="row-purpose"')]
    assert "此项必填" not in quantity_row
    assert 'value="1e400"' in quantity_row  # the person sees what they typed


def test_a_past_wanted_by_date_is_refused(pages):
    response = pages("rep1").post("/start/sample_request", {
        "data.customer_name": "合肥建工集团", "data.customer_class": "key_account", "data.product": "P·O 42.5",
        "data.spec": "袋装", "data.quantity": "20", "data.purpose": "project_bid", "data.delivery_address": "合肥",
        "data.wanted_by": "2026-03-01"})  # the engine's clock says 2026-03-02
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#row-wanted_by"' in html and "日期不能早于今天" in html


def test_a_large_quantity_is_refused_with_the_maximum(pages):
    response = pages("rep1").post("/start/sample_request", {
        "data.customer_name": "合肥建工集团", "data.customer_class": "key_account", "data.product": "P·O 42.5",
        "data.spec": "袋装", "data.quantity": "999999999", "data.purpose": "project_bid",
        "data.delivery_address": "合肥", "data.wanted_by": "2026-03-20"})
    assert response.status_code == 422
    assert "不能大于 1000" in response.get_data(as_text=True)
