"""Starting a request from the start page: the list, the start form, the instance page after it."""

from __future__ import annotations

from tests.web.conftest import SAMPLE_FORM


def test_the_start_page_lists_what_this_user_may_start(pages):
    html = pages("rep1").get("/start").get_data(as_text=True)
    assert "样品提供申请" in html and "客户参观申请" in html
    assert "业务员为客户申请样品：按客户类别审批" in html  # the summary in the reader's language
    assert "A sales representative requests a sample" not in html and "(P5," not in html
    assert 'href="/start/sample_request"' in html

    others = pages("qa1")
    assert "/start/sample_request" not in others.get("/start").get_data(as_text=True)
    assert others.get("/start/sample_request").status_code == 403


def test_the_start_page_shows_the_english_summary_after_the_switch(pages):
    rep1 = pages("rep1")
    rep1.post("/language", {"lang": "en", "next": "/start"}, form_page="/start")
    html = rep1.get("/start").get_data(as_text=True)
    assert "A sales representative requests a sample for a customer" in html
    assert "业务员为客户申请样品" not in html


def test_the_start_form_is_rendered_from_its_schema(pages):
    html = pages("rep1").get("/start/sample_request").get_data(as_text=True)
    assert "样品提供申请表" in html  # the form's title
    assert '<input id="field-customer_name" name="data.customer_name" type="text"' in html
    # typed as text with a numeric keyboard: a number input would post nothing for 1e400 (then "required")
    assert 'name="data.quantity" type="text"' in html and 'inputmode="decimal"' in html
    assert 'name="data.wanted_by" type="date"' in html
    assert '<textarea id="field-remarks" name="data.remarks"' in html
    assert '<option value="key_account" >统销客户</option>' in html  # enum with localized option labels


def test_rep1_starts_a_sample_request_and_sees_it(pages, engine):
    rep1 = pages("rep1")
    iid = rep1.start_sample()

    inst = engine.instance("rep1", iid)
    assert inst["started_by"] == "rep1"
    assert inst["data"]["customer_name"] == SAMPLE_FORM["customer_name"]
    assert inst["data"]["quantity"] == 100  # the number field arrived as a number
    page = rep1.get(f"/instances/{iid}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "你的申请已发起" in html  # the flash after the redirect
    assert "合肥建工集团" in html
    assert "销售部审批" in html  # the open task it waits for


def test_an_invalid_start_form_shows_the_message_beside_the_field_and_keeps_the_values(pages, engine):
    rep1 = pages("rep1")
    response = rep1.post("/start/sample_request",
                         {f"data.{k}": v for k, v in {**SAMPLE_FORM, "quantity": "0"}.items()})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    quantity = html.split('id="row-quantity"', 1)[1].split('<div class="field', 1)[0]
    assert 'id="error-quantity"' in quantity and "样品数量须大于零" in quantity  # the form's own message
    assert 'value="合肥建工集团"' in html  # other values kept
    assert '<option value="key_account" selected>' in html
    assert 'value="2026-03-20"' in html
    assert "投标急用</textarea>" in html
    assert engine.inbox("mgr1") == []  # nothing started


def test_an_unknown_process_is_404(pages):
    response = pages("rep1").get("/start/no_such_process")
    assert response.status_code == 404
    assert "该事项已不存在" in response.get_data(as_text=True)
