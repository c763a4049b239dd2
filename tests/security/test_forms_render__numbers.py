"""Issue 11, finding 7 (edges) on the staff pages: `12345678901234567891` typed in a web form was
silently changed (read through a float), full-width digits were taken as a number, `1e400` became
infinity. Now each is refused beside its field, the typed text is shown again as it was, and
nothing is started. Since issue 13 the sample quantity has a maximum (1000 kg), so a number too large
for any form is reported as above that maximum (below zero: as not greater than zero); `1e400` is never
"required"."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import SAMPLE_FORM
from webui import forms_render

QUANTITY_ERROR = re.compile(r'<p class="field-error" id="error-quantity">([^<]*)</p>')
QUANTITY_VALUE = re.compile(r'name="data\.quantity"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="data\.quantity"')


def send_start_form(pages, quantity: str, lang: str = "zh"):
    rep1 = pages("rep1")
    if lang == "en":
        rep1.post("/language", {"lang": "en"}, form_page="/start")
    form = {f"data.{k}": v for k, v in {**SAMPLE_FORM, "quantity": quantity}.items()}
    return rep1.post("/start/sample_request", form)


def shown(html: str) -> tuple[str, str]:
    """(the quantity field's message, the text its input shows again)."""
    error = QUANTITY_ERROR.search(html)
    value = QUANTITY_VALUE.search(html)
    assert error and value, html
    return error.group(1), value.group(1) or value.group(2)


ABOVE = ("不能大于 1000", "Must be at most 1000")
BELOW = ("样品数量须大于零", "The quantity must be greater than zero")


@pytest.mark.parametrize(("typed", "messages"), [("12345678901234567891", ABOVE), ("9007199254740993", ABOVE),
                                                 ("-9007199254740992", BELOW), ("9" * 300, ABOVE)])
def test_a_whole_number_beyond_2_53_is_refused_not_silently_changed(pages, engine, typed, messages):
    response = send_start_form(pages, typed)
    assert response.status_code == 422
    assert shown(response.get_data(as_text=True)) == (messages[0], typed)
    english = send_start_form(pages, typed, lang="en")
    message, _text = shown(english.get_data(as_text=True))
    assert message == messages[1]
    assert engine.search("aud")["total"] == 0


def test_the_largest_exact_whole_number_is_refused_by_the_maximum_as_typed(pages, engine):
    response = send_start_form(pages, "9007199254740991")
    assert response.status_code == 422
    assert shown(response.get_data(as_text=True)) == (ABOVE[0], "9007199254740991")
    assert engine.search("aud")["total"] == 0


@pytest.mark.parametrize("typed", ["１２３", "１２.５", "１00"])
def test_full_width_digits_are_refused_asking_for_half_width_digits(pages, engine, typed):
    response = send_start_form(pages, typed)
    assert response.status_code == 422
    assert shown(response.get_data(as_text=True)) == ("请使用半角数字", typed)
    assert shown(send_start_form(pages, typed, lang="en").get_data(as_text=True))[0] == "Use half-width digits (0-9)"
    assert engine.search("aud")["total"] == 0


@pytest.mark.parametrize("typed", ["1e400", "9" * 5000])
def test_a_number_too_large_for_a_double_is_refused_as_too_large(pages, engine, typed):
    response = send_start_form(pages, typed)
    assert response.status_code == 422
    assert shown(response.get_data(as_text=True)) == (ABOVE[0], typed)
    assert engine.search("aud")["total"] == 0


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "inf", "1_000", "0x10", "12abc"])
def test_other_non_numbers_are_refused_as_not_a_number(pages, engine, typed):
    response = send_start_form(pages, typed)
    assert response.status_code == 422
    assert shown(response.get_data(as_text=True)) == ("格式不正确（应为数字）", typed)
    assert engine.search("aud")["total"] == 0


def test_the_converter_reads_whole_numbers_exactly_and_leaves_the_rest_to_the_engine():
    number, integer = {"type": "number"}, {"type": "integer"}
    assert forms_render._convert("12345678901234567891", number) == 12345678901234567891  # as typed, never a float
    assert forms_render._convert("1,234", integer) == 1234 and forms_render._convert("2.5", number) == 2.5
    assert forms_render._convert("１２３", number) == "１２３"  # text: the engine says "use half-width digits"
    assert forms_render._convert("1e400", number) == float("inf")  # the engine says "too large", never "required"
