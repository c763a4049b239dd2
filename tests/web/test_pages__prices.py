"""The price list page (/prices) and GET /api/v1/prices.

Sales staff read it (the header links to it); the sales director also adds prices and ends a price's
validity there; everyone else is refused by the engine (403). A refused value is shown beside its field.
The clock is T0: Monday 2026-03-02 09:00 in Shanghai.
"""

from __future__ import annotations

import re

import pytest

from engine import Engine
from tests.conftest import FIXTURES, add_users

LIST = FIXTURES / "prices" / "list.csv"
NEW_PRICE = {"product": "P·O 42.5R", "spec": "散装", "grade": "一等品", "unit": "吨", "price_yuan": "436.50",
             "valid_from": "2026-03-02", "valid_to": ""}


@pytest.fixture
def priced(app, engine: Engine) -> Engine:
    add_users(engine, {"dir1": ["sales_director"], "fin1": ["finance"]})
    engine.import_prices("dir1", LIST.read_bytes(), LIST.name)
    return engine


def _nav(html: str) -> str:
    return html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]


def _row(html: str, price_id: int) -> str:
    return html.split(f'id="price-{price_id}"', 1)[1].split("</tr>", 1)[0]


def _id_of(engine: Engine, product: str, spec: str, valid_from: str) -> int:
    [row] = [r for r in engine.prices("system") if (r["product"], r["spec"], r["valid_from"]) == (
        product, spec, valid_from)]
    return row["id"]


@pytest.mark.rule("P1.PRICES")
def test_a_sales_rep_reads_the_list_with_its_validity_but_cannot_change_it(pages, priced):
    rep1 = pages("rep1")
    html = rep1.get("/prices").get_data(as_text=True)
    assert 'id="nav-prices"' in _nav(html) and "价格表" in _nav(html)
    row = _row(html, _id_of(priced, "P·O 42.5", "散装", "2026-01-01"))
    assert "P·O 42.5" in row and "420.00" in row and "2026-01-01" in row and "2026-03-31" in row
    assert "长期（至终止）" in _row(html, _id_of(priced, "P·O 42.5", "散装", "2026-04-01"))
    assert 'id="add-price-form"' not in html and "end-price" not in html
    response = rep1.post("/prices", NEW_PRICE, form_page="/prices")
    assert response.status_code == 403
    assert len(priced.prices("system")) == 5


def test_the_list_on_a_day_shows_the_prices_valid_then(pages, priced):
    html = pages("fin1").get("/prices?on=2026-04-01").get_data(as_text=True)
    assert "440.00" in html and "420.00" not in html and "360.00" not in html
    assert 'value="2026-04-01"' in html


def test_people_outside_sales_are_refused_and_see_no_link(pages, priced):
    qa1 = pages("qa1")
    assert 'id="nav-prices"' not in _nav(qa1.get("/inbox").get_data(as_text=True))
    assert qa1.get("/prices").status_code == 403


@pytest.mark.rule("P1.PRICES")
def test_the_sales_director_adds_a_price(pages, priced):
    dir1 = pages("dir1")
    html = dir1.get("/prices").get_data(as_text=True)
    assert 'id="add-price-form"' in html
    response = dir1.post("/prices", NEW_PRICE, form_page="/prices")
    assert response.status_code == 302
    html = dir1.get(response.location).get_data(as_text=True)
    assert "已添加价格" in html and "436.50 元/吨" in html
    [added] = [r for r in priced.prices("dir1") if r["product"] == "P·O 42.5R"]
    assert (added["price_fen"], added["valid_to"], added["created_by"]) == (43650, None, "dir1")


def test_a_refused_price_is_shown_beside_its_field_and_nothing_is_added(pages, priced):
    dir1 = pages("dir1")
    response = dir1.post("/prices", {**NEW_PRICE, "price_yuan": "436.555", "valid_from": "2026/3/2"},
                         form_page="/prices")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="price-price_yuan-error"' in html and "最多两位小数" in html
    assert 'id="price-valid_from-error"' in html and "YYYY-MM-DD" in html
    assert 'value="436.555"' in html  # what was typed stays in the field
    overlap = {**NEW_PRICE, "product": "P·O 52.5", "valid_from": "2026-01-01"}
    html = dir1.post("/prices", overlap, form_page="/prices").get_data(as_text=True)
    assert 'id="price-row-error"' in html and "有效期重叠" in html
    assert len(priced.prices("system")) == 5


def test_the_sales_director_ends_a_price_from_today_on(pages, priced):
    dir1 = pages("dir1")
    bagged = _id_of(priced, "P·O 42.5", "袋装 50kg", "2026-01-01")
    response = dir1.post(f"/prices/{bagged}/end", {"valid_to": "2026-02-27"}, form_page="/prices")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="end-{bagged}-error"' in html and "最早为昨天" in html
    response = dir1.post(f"/prices/{bagged}/end", {"valid_to": "2026-03-01"}, form_page="/prices")
    assert response.status_code == 302
    html = dir1.get("/prices").get_data(as_text=True)
    assert "2026-03-01" in _row(html, bagged) and "由 dir1 设定" in _row(html, bagged)
    assert dir1.post(f"/prices/{bagged}/end", {"valid_to": "2026-03-05"}, form_page="/prices").status_code == 422
    assert pages("rep1").post(f"/prices/{bagged}/end", {"valid_to": "2026-03-05"},
                              form_page="/prices").status_code == 403


def test_the_page_follows_the_language(pages, priced):
    dir1 = pages("dir1")
    dir1.post("/language", {"lang": "en", "next": "/prices"}, form_page="/prices")
    html = dir1.get("/prices").get_data(as_text=True)
    assert "Price list" in _nav(html) and "List price (yuan)" in html and "Add a price" in html
    assert re.search(r"until ended", html) and "价格表" not in html


# -- GET /api/v1/prices ---------------------------------------------------------------------------------------

def test_the_api_lists_the_prices_exactly(api, priced):
    body = api("rep1").get("/prices").get_json()
    assert [r["price_yuan"] for r in body] == ["360.00", "420.00", "440.00", "450.00", "430.00"]
    first = body[1]
    assert set(first) == {"id", "product", "spec", "grade", "unit", "price_fen", "price_yuan", "valid_from",
                          "valid_to", "created_by", "created_at", "ended_by", "ended_at"}
    assert (first["price_fen"], first["valid_from"], first["valid_to"]) == (42000, "2026-01-01", "2026-03-31")
    on = api("rep1").get("/prices?on=2026-03-02").get_json()
    assert [(r["product"], r["price_yuan"]) for r in on] == [("P·O 42.5", "420.00"), ("P·O 42.5", "450.00"),
                                                              ("P·O 52.5", "430.00")]


def test_the_api_refuses_a_bad_day_and_outsiders(api, priced):
    response = api("rep1", {"Accept-Language": "en"}).get("/prices?on=")
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"on": "Must be a date YYYY-MM-DD"}
    assert api("qa1").get("/prices").status_code == 403
    assert api().get("/prices").status_code == 401


# -- the quotation page --------------------------------------------------------------------------------------

@pytest.mark.rule("P1.5")
def test_the_quotation_page_shows_the_list_price_as_filled_in_by_the_system(pages, priced):
    from tests.conftest import ROOT
    from tests.scenarios.presale_steps import inquiry, needs

    priced.deploy("system", [ROOT / "processes", ROOT / "forms"])
    iid = priced.start("rep1", "presale", inquiry("key_account"))
    [analysis] = [t for t in priced.inbox("rep1") if t["instance_id"] == iid]
    priced.complete("rep1", analysis["id"], needs())
    [quote] = [t for t in priced.inbox("rep1") if t["instance_id"] == iid]
    rep1 = pages("rep1")
    html = rep1.get(f"/tasks/{quote['id']}").get_data(as_text=True)
    filled = html.split('id="row-list_price_yuan"', 1)[1].split("</div>", 1)[0]
    assert "提交时由系统按公司价格表填写。" in filled and "<input" not in filled
    assert 'name="data.list_price_yuan"' not in html and 'name="data.list_price_row"' not in html
    form = {"data.quotation_no": "BJ-7", "data.product": "P·O 42.5", "data.spec": "散装", "data.grade": "一等品",
            "data.quantity": "10", "data.discount_requested": "false",
            "data.list_price_yuan": "1"}  # a typed price sent anyway is not even read
    response = rep1.post(f"/tasks/{quote['id']}", form, form_page=f"/tasks/{quote['id']}")
    assert response.status_code == 302, response.get_data(as_text=True)
    data = priced.instance("rep1", iid)["data"]
    assert (data["list_price_yuan"], data["amount_yuan"], data["discount_approver"]) == (420, 4200, "none")
