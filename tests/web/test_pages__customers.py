"""The customer pages (/customers, /customers/<id>) and the API (GET /api/v1/customers, GET /customers/{id},
POST /customers/{id}/contacts, POST /customers/{id}/owner).

The sales department, customer service, the management and auditors read the customers; the sales
department and customer service log calls, letters and visits; the sales manager gives a customer to
another representative; auditors only read. A refused value is shown beside its field, in zh by default.
The clock is T0: Monday 2026-03-02 09:00 in Shanghai.
"""

from __future__ import annotations

import pytest

from engine import Engine
from tests.conftest import ROOT, add_users
from tests.scenarios.customer_steps import STRATEGY, register

NAME = "芜湖嘉和建材有限公司"
CALL = {"kind": "call", "happened_on": "2026-03-02", "summary": "客户来电询问 3 月份散装水泥到货时间"}


@pytest.fixture
def cust(app, engine: Engine) -> int:
    """customer_register deployed; rep1 owns NAME (accepted by mgr1); the customer's id."""
    engine.deploy("system", [ROOT / "processes" / "customer_register.bpmn",
                             ROOT / "forms" / "customer_register_start.yaml",
                             ROOT / "forms" / "customer_register_review.yaml"])
    add_users(engine, {"svc1": ["customer_service"], "fin1": ["finance"]})
    return register(engine, "rep1", NAME, "mgr1")


def _nav(html: str) -> str:
    return html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]


@pytest.mark.rule("P14.7")
def test_the_list_shows_each_customer_with_its_owner_and_filters_by_owner(pages, cust):
    html = pages("rep2").get("/customers").get_data(as_text=True)
    assert 'id="nav-customers"' in _nav(html) and "客户档案" in _nav(html)
    assert NAME in html and 'title="rep1"' in html and "审核通过" in html
    assert NAME not in pages("rep2").get("/customers?owner=rep2").get_data(as_text=True)
    assert NAME in pages("rep2").get("/customers?name=嘉和").get_data(as_text=True)


@pytest.mark.rule("P14.7")
def test_the_customer_page_shows_owner_strategy_status_log_and_cases(pages, cust, engine):
    html = pages("svc1").get(f"/customers/{cust}").get_data(as_text=True)
    assert STRATEGY in html and "审核通过" in html and 'id="log-contact"' in html
    assert 'id="change-owner"' not in html  # only the sales manager
    registration = engine.customers("aud")[0]["instance_id"]
    assert 'id="cases-empty"' in html  # customer service takes no part in the registration: it sees no case
    html = pages("rep1").get(f"/customers/{cust}").get_data(as_text=True)
    assert f'data-instance-id="{registration}"' in html  # its registrant sees the registration among its cases


@pytest.mark.rule("P14.8")
def test_a_call_logged_on_the_page_is_in_the_log_and_the_customers_chain(pages, cust, engine):
    svc = pages("svc1")
    response = svc.post(f"/customers/{cust}/contacts", CALL, form_page=f"/customers/{cust}")
    assert response.status_code == 302
    html = svc.get(f"/customers/{cust}").get_data(as_text=True)
    assert CALL["summary"] in html and "来电" in html
    [entry] = engine.customer("aud", cust)["contacts"]
    assert (entry["kind"], entry["logged_by"], entry["happened_on"]) == ("call", "svc1", "2026-03-02")
    assert all(r.ok for r in engine.verify_chains())
    assert "customers" in {r.chain for r in engine.verify_chains()}


@pytest.mark.rule("P14.8")
def test_a_bad_entry_on_the_page_is_refused_beside_its_fields(pages, cust, engine):
    bad = {"kind": "", "happened_on": "2026-03-09", "summary": " ", "instance_id": "abc"}
    response = pages("rep2").post(f"/customers/{cust}/contacts", bad, form_page=f"/customers/{cust}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请选择来电、来函、来访或其他" in html and "日期不能晚于今天" in html and "请填写联系内容" in html
    assert "请填写案卷编号（数字），或留空" in html
    assert engine.customer("aud", cust)["contacts"] == []


@pytest.mark.rule("P14.8")
def test_auditors_and_finance_cannot_log_and_finance_cannot_read(pages, cust, engine):
    aud = pages("aud")
    assert aud.get(f"/customers/{cust}").status_code == 200
    assert 'id="log-contact"' not in aud.get(f"/customers/{cust}").get_data(as_text=True)
    assert aud.post(f"/customers/{cust}/contacts", CALL, form_page="/customers").status_code == 403
    fin = pages("fin1")
    assert 'id="nav-customers"' not in _nav(fin.get("/inbox").get_data(as_text=True))
    assert fin.get("/customers").status_code == 403
    assert engine.customer("aud", cust)["contacts"] == []


@pytest.mark.rule("P14.9")
def test_the_sales_manager_gives_the_customer_to_another_rep_with_a_reason(pages, cust, engine):
    mgr = pages("mgr1")
    page = f"/customers/{cust}"
    refused = mgr.post(f"{page}/owner", {"owner": "rep2", "reason": ""}, form_page=page)
    assert refused.status_code == 422 and "请填写原因" in refused.get_data(as_text=True)
    assert mgr.post(f"{page}/owner", {"owner": "rep2", "reason": "片区调整"}, form_page=page).status_code == 302
    assert engine.customer("aud", cust)["owner"] == "rep2"
    taken_back = pages("rep1").post(f"{page}/owner", {"owner": "rep1", "reason": "x"}, form_page="/customers")
    assert taken_back.status_code == 403


# -- the API ------------------------------------------------------------------------------------------------------


@pytest.mark.rule("P14.8")
def test_the_api_lists_reads_and_logs_contacts(api, cust):
    listed = api("rep2").get("/customers?owner=rep1")
    assert listed.status_code == 200 and [c["name"] for c in listed.get_json()] == [NAME]
    logged = api("rep1").post(f"/customers/{cust}/contacts", json={**CALL, "kind": "visit"})
    assert logged.status_code == 201, logged.get_json()
    assert logged.get_json()["kind"] == "visit"
    detail = api("aud").get(f"/customers/{cust}").get_json()
    assert [e["summary"] for e in detail["contacts"]] == [CALL["summary"]]


@pytest.mark.rule("P14.8")
def test_the_api_refuses_bad_entries_by_field_and_readers_who_may_not(api, cust):
    bad = api("rep1").post(f"/customers/{cust}/contacts", json={"kind": "fax", "happened_on": "yesterday"},
                           headers={"Accept-Language": "en"})
    assert bad.status_code == 422
    assert set(bad.get_json()["fields"]) == {"kind", "happened_on", "summary"}
    assert bad.get_json()["fields"]["kind"] == "Choose call, letter, visit or other"
    assert api("aud").post(f"/customers/{cust}/contacts", json=CALL).status_code == 403
    assert api("rep1").get("/customers/999").status_code == 404
    assert api("rep1").post(f"/customers/{cust}/owner", json={"owner": "rep2", "reason": "x"}).status_code == 403
    changed = api("mgr1").post(f"/customers/{cust}/owner", json={"owner": "rep2", "reason": "片区调整"})
    assert changed.status_code == 200 and changed.get_json()["owner"] == "rep2"
