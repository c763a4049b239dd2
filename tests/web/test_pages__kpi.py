"""The KPI dashboard page (/kpi) and its JSON view (GET /api/v1/kpi).

Two after-sales requests are registered at T0 (Monday 2026-03-02 09:00, Shanghai) and answered
after 3 h and 30 h: first response median (3 + 30) / 2 = 16.5 h, p90 (nearest rank 2 of 2) 30 h,
within 24 h: 1 of 2 = 50 %.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask import Flask

from engine import Engine
from tests.conftest import ROOT, add_users
from tests.deployed_state import prepared
from tests.scenarios.driver import local_time
from tests.web.conftest import deploy_p5_p6
from webui.app import create_app

REQUEST = {"customer_name": "马鞍山江东商砼有限公司", "customer_class": "key_account", "contact": "周工 13905550123",
           "product": "JS750 双卧轴混凝土搅拌机", "purchase_date": "2026-02-16", "kind": "repair",
           "urgency": "normal", "description": "搅拌机运行中主轴异响"}
RESPONSE = {"response_channel": "phone", "response_note": "已电话联系"}


@pytest.fixture
def app(engine: Engine, clock, request: pytest.FixtureRequest) -> Flask:
    """tests/web's app, and for a test that uses `answered` or `delivered` the state that fixture describes
    on top of it, built once per test process and restored for every later test (tests/deployed_state.py),
    with the clock where the build left it."""
    states = {"answered": _answer, "delivered": _deliver}
    [wanted] = [name for name in states if name in request.fixturenames] or [None]
    if wanted is None:
        prepared(engine, "web: P5, P6 and WEB_PEOPLE", deploy_p5_p6)
    else:
        clock.set(prepared(engine, f"web: P5, P6 and WEB_PEOPLE, then kpi's {wanted}", states[wanted]))
    return create_app(engine, {"TESTING": True, "SECRET_KEY": "test-secret"})


@pytest.fixture
def answered(app) -> None:
    """Two after-sales requests answered after 3 h and 30 h (_answer), on the `app`'s database."""


def _answer(engine: Engine) -> datetime:
    deploy_p5_p6(engine)
    clock = engine.clock
    # P3 alone (its diagram, its decision table, its forms): deploying everything would take seconds per test
    engine.deploy("system", [ROOT / "processes" / "aftersale.bpmn", ROOT / "processes" / "return_approval.dmn",
                             *sorted((ROOT / "forms").glob("aftersale_*.yaml"))])
    add_users(engine, {"svc1": ["customer_service"], "fix1": ["aftersales_engineer"], "dir": ["sales_director"]})
    first, second = (engine.start("svc1", "aftersale", REQUEST) for _ in range(2))
    for iid, hours in ((first, 3), (second, 27)):  # the clock moves on: 3 h, then 3 + 27 = 30 h after T0
        clock.advance(hours=hours)
        [task] = [t for t in engine.inbox("fix1") if t["instance_id"] == iid]
        engine.complete("fix1", task["id"], RESPONSE)
    return clock.now()


def _section(html: str, ident: str) -> str:
    return html.split(f'id="{ident}"', 1)[1].split("</section>", 1)[0]


def _cells(html: str, table: str, key: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    row = body.split(f'data-key="{key}"', 1)[1].split("</tr>", 1)[0]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]


def test_the_auditor_sees_the_figures_as_charts_and_numbers(pages, answered):
    response = pages("aud").get("/kpi")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    first = _section(html, "kpi-first_response")
    assert "首次响应" in first and "目标 24 小时" in first
    assert '<dd class="share">50%</dd>' in first
    assert '<dd class="median">16.5 h</dd>' in first and '<dd class="p90">30 h</dd>' in first
    # the month table: done 2, within 1, breached 1, open 0, 50 %, median 16.5, p90 30
    assert _cells(html, "kpi-first_response-by_month", "2026-03") == [
        "2026-03", "2", "1", "1", "0", "50%", "16.5", "30"]
    assert _cells(html, "kpi-first_response-by_person", "fix1")[:3] == ["fix1", "2", "1"]
    # the chart beside it: one bar per month, as wide as its share (260 px = 100 %)
    chart = html.split('id="chart-first_response-month"', 1)[1].split("</figure>", 1)[0]
    assert "<svg" in chart and 'width="130.0"' in chart and ">50%</text>" in chart
    assert "<script" not in html.split("<main", 1)[-1]  # charts without script (CSP)


def test_the_page_follows_the_language(pages, answered):
    aud = pages("aud")
    aud.post("/language", {"lang": "en", "next": "/kpi"}, form_page="/inbox")
    html = aud.get("/kpi").get_data(as_text=True)
    assert "KPI dashboard" in html and "First response" in html and "target 24 h" in html
    assert "Within target" in html and "首次响应" not in html
    assert "Beijing time" in html and "Asia/Shanghai" not in html


def test_the_company_time_is_named_in_the_readers_terms(pages, answered):
    html = pages("aud").get("/kpi").get_data(as_text=True)
    assert "北京时间" in html and "Asia/Shanghai" not in html  # a zone identifier is not a reader's word


def test_a_bad_date_is_shown_under_its_field(pages, answered):
    html = pages("aud").get("/kpi?from=2026-02-30&to=2026-03-31").get_data(as_text=True)
    assert 'id="error-from"' in html and "请输入日期，格式为 YYYY-MM-DD" in html
    assert 'id="error-to"' not in html
    assert 'value="2026-02-30"' in html  # what was typed stays in the field
    assert 'id="kpi-first_response"' not in html
    html = pages("aud").get("/kpi?from=2026-04-01&to=2026-03-01").get_data(as_text=True)
    assert 'id="error-to"' in html and "结束日期不能早于开始日期" in html


def test_a_date_range_narrows_the_figures(pages, answered):
    html = pages("aud").get("/kpi?from=2026-04-01").get_data(as_text=True)
    assert '<dd class="count">0</dd>' in _section(html, "kpi-first_response")
    assert 'value="2026-04-01"' in html


def test_the_general_manager_sees_the_whole_dashboard(pages, engine, answered):
    add_users(engine, {"gm9": ["general_manager"]})
    html = pages("gm9").get("/kpi").get_data(as_text=True)
    assert '<dd class="median">16.5 h</dd>' in _section(html, "kpi-first_response")
    assert _cells(html, "kpi-first_response-by_person", "fix1")[:3] == ["fix1", "2", "1"]


def test_someone_who_manages_nobody_and_is_nobodys_staff_is_refused(pages, answered):
    assert pages("qa1").get("/kpi").status_code == 403


def test_a_sales_rep_sees_only_his_own_appraisal(pages, answered):
    html = pages("rep1").get("/kpi").get_data(as_text=True)
    assert 'id="kpi-appraisal"' in html and 'id="kpi-first_response"' not in html


def test_a_sales_manager_may_see_it(pages, answered):
    assert pages("mgr1").get("/kpi").status_code == 200


def test_the_page_needs_a_login(pages):
    response = pages().get("/kpi")
    assert response.status_code == 302 and "/login" in response.location


# -- GET /api/v1/kpi ------------------------------------------------------------------------------------------

def test_the_api_gives_the_same_figures(api, answered):
    response = api("aud").get("/kpi")
    assert response.status_code == 200
    body = response.get_json()
    [first] = [t for t in body["times"] if t["measure"] == "first_response"]
    assert first["overall"]["median_hours"] == 16.5 and first["overall"]["p90_hours"] == 30
    assert first["overall"]["share_within"] == 0.5
    assert body["filters"] == {"from": None, "to": None, "process": None}
    only = api("aud").get("/kpi?process=aftersale&from=2026-03-01&to=2026-03-31").get_json()
    assert only["filters"] == {"from": "2026-03-01", "to": "2026-03-31", "process": "aftersale"}
    assert only["resolution_rate"] is None


def test_the_api_refuses_bad_filters_with_field_messages(api, answered):
    response = api("aud", {"Accept-Language": "en"}).get("/kpi?to=tomorrow&process=nope")
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_data"
    assert body["fields"] == {"to": "Enter a date as YYYY-MM-DD (for example 2026-03-01)",
                              "process": "No deployed process has this key"}


def test_the_api_refuses_an_empty_date(api, answered):
    response = api("aud").get("/kpi?to=")
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"to": "请输入日期，格式为 YYYY-MM-DD（例如 2026-03-01）"}


def test_the_api_refuses_the_quality_department_and_needs_a_token(api, answered):
    assert api("qa1").get("/kpi").status_code == 403
    assert api("rep1").get("/kpi").get_json()["times"] is None  # a representative: his own appraisal only
    assert api().get("/kpi").status_code == 401


def test_the_main_navigation_links_the_dashboard_only_for_those_it_is_open_to(pages):
    for user in ("aud", "mgr1", "adm", "rep1"):  # a representative: for his own appraisal
        assert 'id="nav-kpi"' in pages(user).get("/inbox").get_data(as_text=True), user
    assert 'id="nav-kpi"' not in pages("qa1").get("/inbox").get_data(as_text=True)


# -- sales (seed 74, 77, 237) ------------------------------------------------------------------------------------

@pytest.fixture
def delivered(app) -> None:
    """Three orders through the stand-in order process (_deliver), on the `app`'s database."""


def _deliver(engine: Engine) -> datetime:
    """Three orders through the stand-in order process (tests/fixtures/kpi_sales): January 100,000 for
    合肥建工集团; February 50,000.50 for 合肥建工集团 again and 30,000 for 芜湖商砼. "Now" is 03-02 (T0)."""
    deploy_p5_p6(engine)
    clock = engine.clock
    engine.deploy("system", [ROOT / "tests" / "fixtures" / "kpi_sales"])
    add_users(engine, {"clerk1": ["order_clerk"]})
    now = clock.now()
    for customer, starter, amount, day in (("合肥建工集团", "rep1", 100000, "2026-01-15"),
                                           ("合肥建工集团", "rep1", 50000.5, "2026-02-10"),
                                           ("芜湖商砼", "rep2", 30000, "2026-02-11")):
        clock.set(local_time(day, "10:00"))
        iid = engine.start(starter, "insale", {"customer_name": customer, "amount_yuan": amount})
        [task] = [t for t in engine.inbox("clerk1") if t["instance_id"] == iid]
        engine.complete("clerk1", task["id"], {"delivered": True})
    clock.set(now)
    return now


@pytest.mark.rule("K.SALES")
@pytest.mark.rule("K.GROWTH")
@pytest.mark.rule("K.REPEAT")
def test_sales_growth_and_repeat_customers_as_charts_and_numbers(pages, delivered):
    html = pages("aud").get("/kpi").get_data(as_text=True)
    sales = _section(html, "kpi-sales")
    assert "销售业绩" in sales and "客户回头率" in sales
    assert '<dd class="amount">180,000.50</dd>' in sales and '<dd class="orders">3</dd>' in sales
    # customers 合肥建工集团 and 芜湖商砼; 合肥建工集团 came back in February: 1 of 2
    assert '<dd class="customers">2</dd>' in sales and '<dd class="rate">50%</dd>' in sales
    # February: 80,000.50 against January's 100,000: -20 %; 1 of its 2 customers bought before
    assert _cells(html, "kpi-sales-by_month", "2026-02") == [
        "2026-02", "2", "80,000.50", "100,000.00", "-20.0%", "2", "1", "50%"]
    assert _cells(html, "kpi-sales-by_month", "2026-01") == ["2026-01", "1", "100,000.00", "0.00", "–", "1", "0", "0%"]
    assert _cells(html, "kpi-sales-by_month", "2026-03") == ["2026-03", "0", "0.00", "80,000.50", "-100.0%", "0",
                                                             "0", "–"]
    assert _cells(html, "kpi-sales-by_person", "rep1") == ["rep1", "2", "150,000.50", "1"]
    # the growth chart draws a decline in the warning colour; the sales chart's longest bar is January's
    growth = html.split('id="chart-sales-growth"', 1)[1].split("</figure>", 1)[0]
    assert 'class="bar negative"' in growth and ">-20.0%</text>" in growth
    amounts = html.split('id="chart-sales-month"', 1)[1].split("</figure>", 1)[0]
    assert 'width="260.0"' in amounts and ">100,000.00</text>" in amounts


def test_the_sales_section_follows_the_language(pages, delivered):
    aud = pages("aud")
    aud.post("/language", {"lang": "en", "next": "/kpi"}, form_page="/inbox")
    sales = _section(aud.get("/kpi").get_data(as_text=True), "kpi-sales")
    assert "Sales" in sales and "Repeat-customer rate" in sales and "Growth against the previous month" in sales
    assert "销售业绩" not in sales


def test_the_api_gives_the_sales_figures(api, delivered):
    body = api("aud").get("/kpi").get_json()
    assert body["sales"]["overall"] == {"orders": 3, "amount_yuan": 180000.5, "customers": 2, "repeat_customers": 1,
                                        "repeat_rate": 0.5}
    assert [(r["key"], r["growth"]) for r in body["sales"]["by_month"]] == [
        ("2026-01", None), ("2026-02", pytest.approx(-0.199995)), ("2026-03", -1.0)]
    assert api("aud").get("/kpi?process=sample_request").get_json()["sales"] is None
