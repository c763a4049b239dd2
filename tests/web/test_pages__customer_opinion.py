"""P11 customer_opinion on the start page and through POST /api/v1/processes/customer_opinion/instances: customer
service and sales representatives find it under its Chinese name and summary and may start it, nobody else may."""

from __future__ import annotations

import pytest
from flask import Flask

from engine import Engine
from tests.conftest import ROOT, add_users
from tests.deployed_state import prepared
from tests.scenarios.driver import PEOPLE
from tests.scenarios.test_customer_opinion__paths import registration
from tests.web.conftest import WEB_PEOPLE
from webui.app import create_app


@pytest.fixture
def app(engine: Engine) -> Flask:
    """Every process of the repository (P11 and the complaint it may start), the scenario people and the web's:
    built once per test process, then restored (tests/deployed_state.py; the deploy was a second per test)."""
    prepared(engine, "customer opinion: the repository, PEOPLE and WEB_PEOPLE", _deploy)
    return create_app(engine, {"TESTING": True, "SECRET_KEY": "test-secret"})


def _deploy(engine: Engine) -> None:
    engine.deploy("system", [ROOT / "processes", ROOT / "forms"])
    add_users(engine, {**PEOPLE, **WEB_PEOPLE})


@pytest.mark.rule("P11.1")
def test_customer_service_and_sales_reps_find_it_on_the_start_page(pages):
    for user in ("svc1", "rep1"):
        html = pages(user).get("/start").get_data(as_text=True)
        assert "客户意见与建议" in html and 'href="/start/customer_opinion"' in html
        assert "客服或销售代表登记客户从任何渠道提出的意见或建议" in html  # the summary in the reader's language
    manager = pages("mgr1")
    assert "/start/customer_opinion" not in manager.get("/start").get_data(as_text=True)
    assert manager.get("/start/customer_opinion").status_code == 403


def test_the_start_form_asks_the_channel_the_kind_the_topic_and_whether_it_is_a_major_event(pages):
    html = pages("svc1").get("/start/customer_opinion").get_data(as_text=True)
    assert "客户意见与建议登记" in html  # the form's title
    for label in ("反映渠道", "来电", "来函", "来访", "电子邮件", "当面反映（拜访客户时）", "意见", "建议", "涉及方面",
                  "账款与发票", "重大事件（须报总经理）"):
        assert label in html, label


@pytest.mark.rule("P11.2")
def test_started_through_the_api_it_goes_to_the_department_of_its_topic(api):
    response = api("svc1").post("/processes/customer_opinion/instances",
                                json={"data": registration(topic="billing"), "business_key": "YJ-2026-0101"})
    assert response.status_code == 201, response.get_json()
    inst = response.get_json()
    assert (inst["process_key"], inst["business_key"], inst["started_by"]) == (
        "customer_opinion", "YJ-2026-0101", "svc1")
    assert inst["data"]["opinion_department"] == "finance"
    assert [(t["name"], t["role"]) for t in inst["tasks"]] == [("handle_by_finance", "finance")]

    refused = api("mgr1").post("/processes/customer_opinion/instances", json={"data": registration()})
    assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden")
    invalid = api("rep1").post("/processes/customer_opinion/instances",
                               json={"data": {**registration(), "channel": "fax"}})
    assert invalid.status_code == 422
