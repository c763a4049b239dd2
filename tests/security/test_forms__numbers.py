"""Issue 11, finding 7 (edges) in engine/forms.py, the one home of form validation: what no form
accepts, whoever sends it (the API, a page, the CLI, a message): numbers that are not finite,
numbers beyond ±(2**53 - 1), full-width digits for a number, data nested deeper than 64 levels."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidData
from engine.forms import FormDef, check_data_keys, validate
from engine.store.models import AuditEvent, Instance
from tests.conftest import add_users

FORM = FormDef(
    key="order", title={"zh": "订单", "en": "Order"},
    schema={"type": "object", "properties": {
        "quantity": {"type": "integer", "minimum": 1}, "price": {"type": "number"}, "note": {"type": "string"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "number"}}}}}},
    fields=[], messages={})


def refused(data: dict, form: FormDef | None = FORM) -> dict[str, dict[str, str]]:
    with pytest.raises(InvalidData) as info:
        validate(form, data) if form else check_data_keys(data)
    return info.value.fields


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
@pytest.mark.parametrize("form", [FORM, None], ids=["form", "no form"])
def test_numbers_that_are_not_finite_are_refused_naming_the_field(value, form):
    assert refused({"price": value}, form) == {"price": {"zh": "须为有限的数字", "en": "Must be a finite number"}}
    assert set(refused({"lines": [{"qty": 1}, {"qty": value}]}, form)) == {"lines"}  # inside a table row


@pytest.mark.parametrize("value", [2**53, 2**53 + 1, -(2**53) - 1, 12345678901234567891, 1e300, -1e20])
@pytest.mark.parametrize("form", [FORM, None], ids=["form", "no form"])
def test_numbers_beyond_2_53_are_refused_in_both_languages(value, form):
    fields = refused({"price": value}, form)
    assert fields == {"price": {"zh": "数值超出范围（绝对值不能超过 9007199254740991）",
                                "en": "Out of range: the number may be at most 9007199254740991 either side of zero"}}


def test_numbers_up_to_2_53_minus_1_are_kept_exactly():
    data = {"quantity": 2**53 - 1, "price": -(2**53 - 1), "note": "12345678901234567891"}
    assert validate(FORM, data) == data
    assert check_data_keys(dict(data)) == data


@pytest.mark.parametrize("typed", ["１２３", "１２.５", "１23", "٣"])
def test_full_width_digits_for_a_number_are_refused_with_use_half_width_digits(typed):
    fields = refused({"quantity": typed, "price": typed})
    assert fields == {"quantity": {"zh": "请使用半角数字", "en": "Use half-width digits (0-9)"},
                      "price": {"zh": "请使用半角数字", "en": "Use half-width digits (0-9)"}}
    assert validate(FORM, {"note": typed}) == {"note": typed}  # a text may hold them


def test_data_nested_deeper_than_64_levels_is_refused_without_a_recursion_error():
    deep = _nested(100_000)
    for form in (FORM, None):
        assert refused({"note": deep}, form)["note"]["en"] == "Nested too deeply (at most 64 levels)"


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _counts(engine) -> tuple[int, int]:
    with engine.db.read() as s:
        return (s.scalar(select(func.count()).select_from(Instance)),
                s.scalar(select(func.count()).select_from(AuditEvent)))


def test_the_engine_refuses_them_on_start_and_saves_nothing(approval):
    """The CLI's `--data` is json.loads'ed too, so `1e400` reaches the engine as infinity."""
    add_users(approval, {"rep3": ["sales_rep"]})
    before = _counts(approval)
    for value in (json.loads("1e400"), 2**53 + 1, "１２３"):
        with pytest.raises(InvalidData) as info:
            approval.start("rep3", "approval", {"customer_name": "ACME", "amount_yuan": value})
        assert set(info.value.fields) == {"amount_yuan"}
    assert _counts(approval) == before
