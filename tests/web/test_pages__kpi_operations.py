"""The KPI page's issue 14 sections and the REST response, on the data set of tests/test_kpi__operations.py
(built once): hazards, accidents, training, opinions in people's words, in zh and en; the appraisal per person,
and a representative who sees only his own."""

from __future__ import annotations

import re

import pytest

from engine import Engine
from engine.clock import ManualClock
from tests.conftest import PASSWORD, ROOT, T0, add_users, own_database
from tests.scenarios.driver import PEOPLE
from tests.test_kpi__operations import build_data_set
from tests.web.conftest import Pages
from tests.web.test_pages__no_raw_names import _named, _visible, _word
from webui.app import create_app


@pytest.fixture(scope="module")
def app(_schema, tmp_path_factory):
    eng = Engine(own_database(_schema, tmp_path_factory), clock=ManualClock(T0))
    eng.init()
    eng.deploy("system", [ROOT / "processes", ROOT / "forms"])
    names = _named(eng)  # display names unlike the login ids, so a login id shown by mistake is caught
    add_users(eng, PEOPLE)
    ids = build_data_set(eng, eng.clock)
    yield create_app(eng, {"TESTING": True, "SECRET_KEY": "test-secret", "KPI_DATA_SET": ids, "NAMES": names})
    eng.db.dispose()


def page(app, user: str, path: str = "/kpi", lang: str = "zh") -> str:
    client = Pages(app).login(user)
    if lang == "en":
        client.post("/language", {"lang": "en", "next": path}, form_page="/inbox")
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(html: str, ident: str) -> str:
    return html.split(f'id="{ident}"', 1)[1].split("</section>", 1)[0]


def cells(html: str, table: str, key: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    row = body.split(f'data-key="{key}"', 1)[1].split("</tr>", 1)[0]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]


def token(app, user: str) -> str:
    response = app.test_client().post("/api/v1/tokens", json={"username": user, "password": PASSWORD})
    return response.get_json()["token"]


def api_kpi(app, user: str):  # a test response
    return app.test_client().get("/api/v1/kpi", headers={"Authorization": f"Bearer {token(app, user)}"})


@pytest.mark.rule("K.HAZARDS")
@pytest.mark.rule("K.ACCIDENTS")
@pytest.mark.rule("K.TRAINING")
@pytest.mark.rule("K.OPINIONS")
def test_the_auditor_reads_the_safety_training_and_opinion_figures_in_chinese(app):
    html = page(app, "aud")
    hazards = section(html, "kpi-hazards")
    assert "安全隐患" in hazards and "截至 2026-04-03 10:00" in hazards
    assert '<dd class="open">3</dd>' in hazards and '<dd class="overdue">1</dd>' in hazards
    assert cells(html, "kpi-hazards-by_level", "general") == ["一般隐患", "2", "1"]
    assert cells(html, "kpi-hazards-by_level", "") == ["尚未确定", "1", "0"]
    assert cells(html, "kpi-accidents-by_cause", "management") == ["管理缺陷（制度、检查、培训不到位）", "1"]
    assert cells(html, "kpi-accidents-by_severity", "serious") == ["重大事故（报告总经理）", "1"]
    assert '<dd class="rate">75%</dd>' in section(html, "kpi-training")
    assert cells(html, "kpi-training-by_kind", "safety")[1:] == ["2", "1", "1", "1", "50%"]
    opinions = section(html, "kpi-opinions")
    assert '<dd class="share">33%</dd>' in opinions and '<dd class="late">1</dd>' in opinions
    assert cells(html, "kpi-opinions-by_month", "2026-03") == ["2026-03", "4", "1", "1", "1", "1", "0", "33%"]


def test_the_same_in_english(app):
    html = page(app, "aud", lang="en")
    assert "Safety hazards" in html and "Past the rectification deadline" in html
    assert cells(html, "kpi-hazards-by_level", "") == ["Not decided yet", "1", "0"]
    assert cells(html, "kpi-accidents-by_cause", "unsafe_condition")[0] == \
        "Unsafe condition (faulty equipment or facilities)"
    assert "Customer opinions answered within their deadline" in html and "安全隐患" not in html


@pytest.mark.rule("K.APPRAISAL")
def test_a_manager_sees_each_representatives_appraisal_and_sanctions(app):
    html = page(app, "mgr1")
    appraisal = section(html, "kpi-appraisal")
    assert "人员考核与奖惩" in appraisal
    names = app.config["NAMES"]
    assert cells(html, "kpi-appraisal-people", "rep1") == [names["rep1"], "2,500.00", "0.00", "500.00", "1"]
    assert cells(html, "kpi-appraisal-months", "rep2:2026-03") == [
        names["rep2"], "2026-03", "50,000.50", "否", "绩效扣减（未达标）", "0.00", "300.00"]
    fine = cells(html, "kpi-appraisal-violations", f"rep1:{app.config['KPI_DATA_SET']['V1']}")
    assert fine[:4] == [names["rep1"], "罚款", "500.00", "WG-2026-003"]


@pytest.mark.rule("K.APPRAISAL")
def test_a_representative_sees_only_his_own_appraisal(app):
    html = page(app, "rep2")
    assert "我的考核与奖惩" in html
    assert 'data-key="rep2"' in html and 'data-key="rep1"' not in html
    for team in ("kpi-first_response", "kpi-hazards", "kpi-training", "kpi-volume"):
        assert f'id="{team}"' not in html
    mine = api_kpi(app, "rep2").get_json()
    assert mine["view"] == "own" and mine["hazards"] is None
    assert [p["key"] for p in mine["appraisal"]["people"]] == ["rep2"]


def test_the_rest_response_carries_the_labels_in_both_languages(app):
    report = api_kpi(app, "aud").get_json()
    assert report["view"] == "team"
    [cause] = [r for r in report["accidents"]["by_cause"] if r["key"] == "unsafe_condition"]
    assert cause["label"] == {"zh": "物的不安全状态（设备设施缺陷）",
                              "en": "Unsafe condition (faulty equipment or facilities)"}
    assert report["training"]["overall"]["pass_rate"] == 0.75
    assert report["opinions"]["overall"]["open_overdue"] == 1
    assert [p["key"] for p in report["appraisal"]["people"]] == ["rep1", "rep2"]


RAW = ("safety_hazard", "safety_accident", "customer_opinion", "monthly_appraisal", "hazard_level", "cause_category",
       "accident_severity", "training_kind", "answer_due", "appraisal_month", "unsafe_condition", "management",
       "general", "major", "serious", "product_knowledge", "fine", "login_id", "rectify_hazard", "answer_customer")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("user", ["aud", "rep1"])
def test_no_raw_names_and_people_by_display_name(app, lang, user):
    text, tooltips = _visible(page(app, user, lang=lang))
    # in English a stored value may also be a plain word of the page ("a general one"): only the coded names then
    raw = [name for name in RAW if lang == "zh" or "_" in name]
    assert [name for name in raw if _word(name).search(text)] == []
    logins = [login for login in PEOPLE if _word(login).search(text)]
    assert logins == []
    if user == "aud":
        assert "rep1" in tooltips and app.config["NAMES"]["rep1"] in text


@pytest.mark.parametrize("user", ["aud", "mgr1", "rep1"])
def test_the_rest_response_is_the_documented_shape(app, user):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    registry = Registry().with_resource("urn:salesflow", Resource.from_contents(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", **doc}))
    schema = {"$ref": "urn:salesflow#/components/schemas/Kpi"}
    errors = [e.message for e in Draft202012Validator(schema, registry=registry).iter_errors(
        api_kpi(app, user).get_json())]
    assert errors == []
