"""No raw names on the pages people read: real instances of every process, driven to their end by the
scenario tests' own paths, rendered as instance, task, history and report pages in zh and en.

Nothing an owner typed for the engine may show: no data name (`sample_route`, `visit_approver`), no
element or flow id (`response_merge`), no condition's code, no process key. People appear by display
name, their login id only in a tooltip.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy import select

from engine import Engine
from engine.definitions.xmlsafe import parse_xml
from engine.store.models import DefinitionFile, Instance, ProcessVersion
from tests.conftest import ROOT, add_users
from tests.deployed_state import prepared
from tests.scenarios import insale_steps, presale_steps
from tests.scenarios import test_aftersale__paths as aftersale
from tests.scenarios import test_aftersale_archive__paths as archive
from tests.scenarios import test_complaint__paths as complaint
from tests.scenarios import test_customer_opinion__paths as opinion
from tests.scenarios import test_customer_register__paths as customer_register
from tests.scenarios import test_customer_visit__paths as visit
from tests.scenarios import test_dealer_order__paths as dealer
from tests.scenarios import test_insale__paths as insale
from tests.scenarios import test_monthly_appraisal__paths as appraisal
from tests.scenarios import test_presale__paths as presale
from tests.scenarios import test_rule_change__paths as rule_change
from tests.scenarios import test_safety_accident__paths as accident
from tests.scenarios import test_safety_commendation__paths as commendation
from tests.scenarios import test_safety_hazard__paths as safety
from tests.scenarios import test_sample_request__paths as sample
from tests.scenarios import test_satisfaction_survey__paths as survey
from tests.scenarios import test_staff_counselling__paths as counselling
from tests.scenarios import test_training__paths as training
from tests.scenarios import test_violation__paths as violation
from tests.scenarios.driver import PEOPLE
from tests.web.conftest import Pages, csrf_token_in
from webui.app import create_app

SURNAMES, GIVEN = "张王李刘陈杨赵黄周吴孙郑", "伟芳娜洋静磊敏勇杰霞"


def _everything(engine: Engine) -> Engine:
    engine.deploy("system", [ROOT / "processes", ROOT / "forms"])
    add_users(engine, PEOPLE)
    return engine


def _archives(engine: Engine) -> Engine:
    engine.deploy("system", archive.FILES)
    add_users(engine, PEOPLE)
    return engine


def _dealer(engine: Engine) -> Engine:
    return insale_steps.deploy_sales(engine, extra=dealer.DEALER_FILES)


# (process, how the scenario's engine is set up, the scenario: a path from the start to an end event)
SCENARIOS: list[tuple[str, Callable[[Engine], Engine], Callable]] = [
    ("sample_request", _everything, sample.test_key_account_approved_all_the_way),
    ("customer_visit", _everything, visit.test_local_approved_reception_overdue_reminder_then_followup_twice),
    ("presale", presale_steps.deploy_sales, presale.test_special_requirements_in_parallel_sample_manager_discount_won),
    ("insale", insale_steps.deploy_sales,
     insale.test_standard_contract_at_the_quoted_price_sealed_in_stock_paid_delivered_then_archived),
    ("dealer_order", _dealer,
     dealer.test_a_repeat_order_under_the_effective_contract_goes_straight_to_the_order_clerk_and_is_delivered),
    ("aftersale", _everything, aftersale.test_return_below_20000_approved_by_the_sales_manager),
    ("aftersale_archive", _archives,
     archive.test_a_key_account_is_called_30_days_after_then_every_month_until_the_archive_is_closed),
    ("complaint", _everything,
     complaint.test_major_quality_complaint_refund_refused_the_general_manager_decides_a_compensation),
    ("satisfaction_survey", _everything, survey.test_a_low_average_goes_to_the_sales_manager_for_improvement_actions),
    ("safety_hazard", _everything,
     safety.test_a_major_hazard_stops_work_at_once_and_the_general_manager_is_told),
    ("safety_inspection", _everything,
     safety.test_the_monthly_inspection_starts_by_its_timer_and_a_hazard_it_finds_starts_the_rectification),
    ("customer_opinion", _everything, opinion.test_a_major_event_goes_to_the_general_manager_before_the_department),
    ("safety_accident", _everything,
     accident.test_a_serious_accident_goes_to_the_general_manager_who_approves_a_demerit),
    ("safety_drill", _everything,
     accident.test_a_drill_starts_on_the_first_of_june_is_planned_and_recorded_and_december_follows),
    ("monthly_appraisal", _everything,
     appraisal.test_the_director_returns_the_proposals_then_approves_and_finance_records_them),
    ("violation", _everything, violation.test_a_shop_closure_refused_by_the_general_manager_is_investigated_again),
    ("training", _everything,
     training.test_results_not_recorded_three_days_after_the_session_remind_the_general_manager),
    ("safety_commendation", _everything,
     commendation.test_refusals_go_back_to_the_review_and_a_large_bonus_needs_headquarters),
    ("safety_commendation", _everything,
     commendation.test_an_overdue_review_reminds_the_general_manager_and_stays_open),
    ("safety_commendation_round", _everything,
     commendation.test_the_annual_round_on_10_january_passes_a_nomination_on_and_the_next_year_may_nominate_nobody),
    ("staff_counselling", _everything,
     counselling.test_a_session_starts_each_quarter_is_planned_and_recorded_and_the_next_follows),
    ("customer_register", _everything,
     customer_register.test_the_manager_may_give_the_new_customer_to_another_active_rep),
    ("rule_change", rule_change.governed_setup,
     lambda e, _clock: rule_change.test_rule_change__approved_by_the_general_manager_takes_effect(e)),
]


def _named(engine: Engine, names: dict[str, str] | None = None) -> dict[str, str]:
    """Every account created from now on gets a display name unlike its login id; {login id: name}
    (`names`: those given so far, which the next names follow)."""
    names = {} if names is None else names
    add = type(engine).add_user.__get__(engine)

    def add_named(username: str, roles: list[str], password: str, display_name: str | None = None) -> None:
        n = len(names)
        names[username] = display_name or SURNAMES[n % len(SURNAMES)] + GIVEN[n // len(SURNAMES) % len(GIVEN)] * 2
        add(username, roles, password, names[username])

    engine.add_user = add_named  # type: ignore[method-assign]
    return names


def _set_up(engine: Engine, setup: Callable[[Engine], Engine]) -> dict[str, str]:
    """setup(engine) with display names (see _named); {login id: name}. The same setup serves most cases
    (the whole repository deployed, PEOPLE added: a second or more with hashed passwords), so it is built
    once per test process and restored from its snapshot after that (tests/deployed_state.py)."""
    def build(eng: Engine) -> dict[str, str]:
        names = _named(eng)
        setup(eng)
        del eng.add_user  # the snapshot is of the database; the restored engine gets the wrapper again below
        return names

    names = prepared(engine, f"no raw names: {setup.__module__}.{setup.__qualname__}, named", build)
    return _named(engine, names)


def _raw_names(engine: Engine, iid: int) -> tuple[set[str], set[str]]:
    """(ids and data names of the instance's version, the code of its conditions)."""
    with engine.db.read() as s:
        inst = s.get(Instance, iid)
        pv = s.get(ProcessVersion, inst.process_version_id)
        files = s.execute(select(DefinitionFile.kind, DefinitionFile.name, DefinitionFile.content)
                          .where(DefinitionFile.process_version_id == pv.id)).all()
        names = {pv.key, *json.loads(inst.data_json)}
        for model in json.loads(pv.model_json).values():
            names |= set(model["elements"])
    conditions = set()
    for kind, name, content in files:
        if kind not in ("bpmn", "dmn"):
            continue
        for node in parse_xml(content.encode(), name).getroot().iter():
            local = node.tag.rsplit("}", 1)[-1] if isinstance(node.tag, str) else ""
            if kind == "bpmn" and local in ("sequenceFlow", "process", "lane"):
                names.add(node.get("id"))
            if kind == "bpmn" and local == "conditionExpression" and (node.text or "").strip():
                conditions.add(node.text.strip())
            if kind == "dmn" and local == "output" and node.get("name"):
                names.add(node.get("name"))
    return {n for n in names if n}, conditions


def _visible(page: str) -> tuple[str, list[str]]:
    """(the text a person reads, the tooltips): no scripts, styles, tags or data attributes."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    tooltips = [html_lib.unescape(t) for t in re.findall(r'\btitle="([^"]*)"', body)]
    shown = [html_lib.unescape(v) for v in re.findall(r'\b(?:aria-label|placeholder|alt)="([^"]*)"', body)]
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", body))
    return " ".join([text, *shown]), tooltips


def _word(name: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")


_WORD = re.compile(r"[A-Za-z0-9_]+")


def _shows_word(name: str, text: str, words: set[str]) -> bool:
    """_word(name) found in text. A name of word characters only can match nothing but a whole run of them,
    so the text's runs (`words`, found once per page) answer for it without a search per name."""
    return name in words if _WORD.fullmatch(name) else bool(_word(name).search(text))


def _check(path: str, page: str, lang: str, names: set[str], conditions: set[str],
           people: dict[str, str]) -> list[str]:
    text, tooltips = _visible(page)
    words = set(_WORD.findall(text))
    found = []
    for name in names:
        # in English an ordinary word may be a data name too ("approved"): there only the coded ones
        if (lang == "zh" or "_" in name) and _shows_word(name, text, words):
            found.append(f"{path} [{lang}]: raw name {name!r}")
    found += [f"{path} [{lang}]: condition {c!r}" for c in conditions if c in text]
    for login in people:
        if _shows_word(login, text, words):
            found.append(f"{path} [{lang}]: login id {login!r} shown instead of the display name")
    # a tooltip that reads like an id must be a login id (beside that person's display name)
    found += [f"{path} [{lang}]: tooltip {t!r}" for t in tooltips
              if re.fullmatch(r"[a-z0-9_]+", t) and t not in people and t != "system"]
    return found


def _paths(engine: Engine, iid: int) -> list[str]:
    inst = engine.instance("aud", iid)
    tasks = [t["id"] for t in inst["tasks"] + inst["history_tasks"]]
    return [f"/instances/{iid}", f"/instances/{iid}/history", f"/instances/{iid}/report",
            *[f"/tasks/{task}" for task in tasks]]


@pytest.mark.parametrize(("process", "setup", "scenario"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_no_raw_names_on_the_pages_of_a_finished_instance(engine: Engine, clock, process: str,
                                                           setup: Callable, scenario: Callable) -> None:
    people = _set_up(engine, setup)
    scenario(engine, clock)
    app = create_app(engine, {"TESTING": True, "SECRET_KEY": "test-secret"})
    with engine.db.read() as s:
        instances = list(s.scalars(select(Instance).where(Instance.process_key == process).order_by(Instance.id)))
        ended = [i.id for i in instances if i.status == "completed"]
    assert ended, f"the {process} scenario ended no instance"
    problems: list[str] = []
    auditor = Pages(app).login("aud")
    displayed = set()
    raw = {iid: _raw_names(engine, iid) for iid in ended[:2]}  # the same in both languages
    paths = {iid: _paths(engine, iid) for iid in ended[:2]}
    page = None
    for lang in ("zh", "en"):
        if page is None:
            switched = auditor.post("/language", {"lang": lang}, form_page="/inbox")
        else:  # every page has the language switch: post it with the last page's token, as a browser would
            switched = auditor.client.post("/language", data={"csrf_token": csrf_token_in(page), "lang": lang})
        assert switched.status_code == 302, lang
        for iid in ended[:2]:
            names, conditions = raw[iid]
            for path in paths[iid]:
                response = auditor.get(path)
                assert response.status_code == 200, path
                page = response.get_data(as_text=True)
                problems += _check(path, page, lang, names - set(people), conditions, people)
                displayed |= {name for name in people.values() if name in page}
    assert not problems, "\n".join(sorted(set(problems))[:60])
    assert displayed - {people["aud"]}, "the pages show the people who worked on the instance by display name"


def test_the_report_names_people_and_hides_internal_payload(engine: Engine, clock) -> None:
    people = _set_up(engine, _everything)
    sample.test_key_account_approved_all_the_way(engine, clock)
    app = create_app(engine, {"TESTING": True, "SECRET_KEY": "test-secret"})
    iid = next(i["id"] for i in engine.search("aud", {"process": "sample_request"})["items"])
    page = Pages(app).login("aud").get(f"/instances/{iid}/report").get_data(as_text=True)
    started_by = engine.instance("aud", iid)["started_by"]
    # the requester by name, the login id in the tooltip
    assert f'title="{started_by}">{people[started_by]}</span>' in page, re.findall(r'title="[^"]*">[^<]*<', page)
    for raw in ("process_key", "version:", "role:", "sample_route", "task_id", "digest"):
        assert raw not in _visible(page)[0], raw
