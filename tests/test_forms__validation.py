"""Form validation (engine/forms.py): one message per field, in Chinese and English, never a jsonschema string;
the `_` key rule, unknown fields, `x-min-days-ahead` by the engine's clock in company time; and through the engine,
bad data is refused with `.fields` and changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import clock as engine_clock
from engine.clock import ManualClock
from engine.definitions.bundle import KINDS, SourceFile
from engine.definitions.form_file import load_form
from engine.errors import InvalidData
from engine.forms import FormDef, check_data_keys, field_errors, validate
from engine.store.models import AuditEvent, Instance
from tests.conftest import FIXTURES, ROOT, T0, add_users

APPROVAL = FIXTURES / "approval"
CJK = re.compile(r"[\u4e00-\u9fff]")
JSONSCHEMA_WORDS = ("is a required property", "is not of type", "is not one of", "is too long", "is too short",
                    "is less than", "is greater than", "does not match", "is not a '", "were unexpected",
                    "Additional properties", "is not valid under")

VISIT_FORM = """\
key: visit
title: {zh: 参观申请, en: Visit request}
schema:
  type: object
  additionalProperties: false
  required: [customer_name, head_count, visit_date]
  properties:
    customer_name: {type: string, minLength: 1, maxLength: 10}
    head_count: {type: integer, minimum: 1, maximum: 20}
    customer_class: {type: string, enum: [key_account, local]}
    visit_date: {type: string, format: date, x-min-days-ahead: 1}
    leave_date: {type: string, format: date, x-min-days-ahead: 2}
fields:
  - {name: customer_name, label: {zh: 客户名称, en: Customer name}}
  - {name: head_count, label: {zh: 人数, en: Head count}}
  - {name: customer_class, label: {zh: 客户类别, en: Customer class}}
  - {name: visit_date, label: {zh: 参观日期, en: Visit date}}
  - {name: leave_date, label: {zh: 离开日期, en: Leave date}}
messages:
  visit_date:
    x-min-days-ahead: {zh: 参观须至少提前一天申请, en: Apply at least one day before the visit}
"""
CUSTOM = {"zh": "参观须至少提前一天申请", "en": "Apply at least one day before the visit"}
GOOD_VISIT = {"customer_name": "ACME", "head_count": 3, "customer_class": "local", "visit_date": "2026-03-03"}


def load(text: str, name: str) -> FormDef:
    form, problems, _key = load_form(text, name)
    assert problems == [], problems
    return form


@pytest.fixture
def visit() -> FormDef:
    return load(VISIT_FORM, "visit.yaml")


@pytest.fixture
def decision() -> FormDef:
    path = APPROVAL / "approval_decision.yaml"
    return load(path.read_text(encoding="utf-8"), path.name)


@pytest.fixture
def at_t0():
    """The engine clock at Monday 2026-03-02 09:00 in Shanghai."""
    with engine_clock.using(ManualClock(T0)) as c:
        yield c


def errors_of(form: FormDef, data: dict) -> dict[str, dict[str, str]]:
    with pytest.raises(InvalidData) as info:
        validate(form, data)
    assert info.value.fields, "InvalidData without per-field messages"
    for name in info.value.fields:
        assert name in str(info.value), f"the error's message does not name {name}"
    return info.value.fields


def assert_bilingual(message: dict[str, str]) -> None:
    assert set(message) == {"zh", "en"}, message
    assert CJK.search(message["zh"]), f"zh message has no Chinese: {message}"
    assert message["en"] and not CJK.search(message["en"]), f"en message is not English: {message}"
    for text in message.values():
        assert not any(w in text for w in JSONSCHEMA_WORDS), f"a raw jsonschema message leaked: {text!r}"


# -- one message per field --------------------------------------------------------------------
def test_valid_data_is_returned_unchanged(visit, at_t0):
    assert validate(visit, dict(GOOD_VISIT)) == GOOD_VISIT
    assert field_errors(visit, GOOD_VISIT) == {}


def test_required_fields_each_get_a_message(visit, at_t0):
    fields = errors_of(visit, {})
    assert set(fields) == {"customer_name", "head_count", "visit_date"}
    for message in fields.values():
        assert_bilingual(message)
        assert "requir" in message["en"].lower()
    assert fields["customer_name"]["zh"] != fields["customer_name"]["en"]


@pytest.mark.parametrize(("field", "value", "words"), [
    ("head_count", "3", ["whole number"]),
    ("head_count", 2.5, ["whole number"]),
    ("head_count", True, ["whole number"]),
    ("customer_name", 42, ["text"]),
    ("head_count", 0, ["1"]),
    ("head_count", 21, ["20"]),
    ("customer_class", "foreign", []),
    ("visit_date", "2026-02-30", ["date"]),
    ("visit_date", "3/3/2026", ["date"]),
    ("customer_name", "x" * 11, ["10"]),
], ids=["type_string_for_integer", "type_float_for_integer", "type_bool_for_integer", "type_int_for_string",
        "minimum", "maximum", "enum", "format_date_impossible", "format_date_us", "maxLength"])
def test_each_kind_of_error_is_reported_on_its_field(visit, at_t0, field, value, words):
    fields = errors_of(visit, {**GOOD_VISIT, field: value})
    assert set(fields) == {field}
    assert_bilingual(fields[field])
    for word in words:
        assert word in fields[field]["en"], fields[field]
    limit = [w for w in words if w.isdigit()]
    for word in limit:  # the limit is told in Chinese too
        assert word in fields[field]["zh"], fields[field]


def test_every_bad_field_is_reported_at_once(visit, at_t0):
    bad = {"customer_name": "x" * 11, "head_count": 21, "customer_class": "foreign", "visit_date": "2026-02-30"}
    fields = errors_of(visit, bad)
    assert set(fields) == set(bad)
    assert len({m["en"] for m in fields.values()}) == 4, "each field must say what is wrong with it"


def test_minimum_and_maximum_messages_differ(visit, at_t0):
    low = errors_of(visit, {**GOOD_VISIT, "head_count": 0})["head_count"]
    high = errors_of(visit, {**GOOD_VISIT, "head_count": 21})["head_count"]
    assert low != high
    assert "1" in low["en"] and "20" in high["en"]


# -- the decision form: comment required when rejecting -------------------------------------------
def test_rejecting_without_comment_is_an_error_on_comment(decision):
    fields = errors_of(decision, {"approved": False})
    assert set(fields) == {"comment"}
    assert_bilingual(fields["comment"])


def test_rejecting_with_empty_comment_is_an_error_on_comment(decision):
    fields = errors_of(decision, {"approved": False, "comment": ""})
    assert set(fields) == {"comment"}
    assert_bilingual(fields["comment"])


def test_approving_needs_no_comment_and_rejecting_with_one_is_fine(decision):
    assert validate(decision, {"approved": True}) == {"approved": True}
    assert validate(decision, {"approved": False, "comment": "预算不足"})["comment"] == "预算不足"


def test_comment_too_long_and_approved_not_a_boolean(decision):
    fields = errors_of(decision, {"approved": "yes", "comment": "x" * 2001})
    assert set(fields) == {"approved", "comment"}
    assert "2000" in fields["comment"]["en"] and "2000" in fields["comment"]["zh"]
    assert "yes/no" in fields["approved"]["en"]


# -- keys: `_` and unknown ----------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["_state", "__class__", "_"])
def test_underscore_key_is_refused_with_a_message_on_that_key(decision, key):
    fields = errors_of(decision, {"approved": True, key: 1})
    assert set(fields) == {key}
    assert_bilingual(fields[key])
    assert "_" in fields[key]["en"]


def test_underscore_key_is_refused_without_a_form_too():
    with pytest.raises(InvalidData) as info:
        check_data_keys({"ok": 1, "_engine": 2})
    assert set(info.value.fields) == {"_engine"}
    assert check_data_keys({"ok": 1}) == {"ok": 1}


def test_unknown_field_is_refused(decision):
    fields = errors_of(decision, {"approved": True, "amount": 5})
    assert set(fields) == {"amount"}
    assert_bilingual(fields["amount"])


def test_every_unknown_field_is_named(decision):
    fields = errors_of(decision, {"approved": True, "amount": 5, "discount": 0.5})
    assert set(fields) == {"amount", "discount"}


def test_unknown_and_underscore_fields_together_are_each_named(decision):
    fields = errors_of(decision, {"approved": True, "_state": 1, "amount": 5})
    assert set(fields) == {"_state", "amount"}
    assert fields["_state"] != fields["amount"]


def test_data_that_is_not_an_object_is_refused(decision):
    for data in ([], "approved", None, 1):
        with pytest.raises(InvalidData):
            validate(decision, data)


# -- x-min-days-ahead -------------------------------------------------------------------------------
def test_min_days_ahead_by_the_engine_clock(visit, at_t0):
    fields = errors_of(visit, {**GOOD_VISIT, "visit_date": "2026-03-02"})
    assert set(fields) == {"visit_date"}
    assert validate(visit, {**GOOD_VISIT, "visit_date": "2026-03-03"})["visit_date"] == "2026-03-03"
    errors_of(visit, {**GOOD_VISIT, "visit_date": "2026-03-01"})


def test_min_days_ahead_uses_the_custom_message(visit, at_t0):
    fields = errors_of(visit, {**GOOD_VISIT, "visit_date": "2026-03-02"})
    assert fields["visit_date"] == CUSTOM


def test_min_days_ahead_default_message_names_the_days(visit, at_t0):
    fields = errors_of(visit, {**GOOD_VISIT, "leave_date": "2026-03-03"})
    assert set(fields) == {"leave_date"}
    assert_bilingual(fields["leave_date"])
    assert "2" in fields["leave_date"]["zh"] and "2" in fields["leave_date"]["en"]
    assert fields["leave_date"] != CUSTOM
    assert validate(visit, {**GOOD_VISIT, "leave_date": "2026-03-04"})


@pytest.mark.parametrize(("instant", "refused", "accepted"), [
    (datetime(2026, 3, 1, 16, 30, tzinfo=UTC), "2026-03-02", "2026-03-03"),  # 00:30 on 2 March in Shanghai
    (datetime(2026, 3, 2, 15, 59, tzinfo=UTC), "2026-03-02", "2026-03-03"),  # 23:59 on 2 March in Shanghai
    (datetime(2026, 3, 2, 16, 0, tzinfo=UTC), "2026-03-03", "2026-03-04"),  # midnight: 3 March in Shanghai
])
def test_min_days_ahead_counts_days_in_shanghai(visit, instant, refused, accepted):
    with engine_clock.using(ManualClock(instant)):
        assert "visit_date" in errors_of(visit, {**GOOD_VISIT, "visit_date": refused})
        assert validate(visit, {**GOOD_VISIT, "visit_date": accepted})


# -- x-max-days-ahead: a date of something that happened ---------------------------------------------
HAPPENED = """key: happened
title: {zh: 事故报告, en: Accident report}
schema:
  type: object
  properties:
    happened_on: {type: string, format: date, x-max-days-ahead: 0}
fields:
  - {name: happened_on, label: {zh: 发生日期, en: Date it happened}}
"""


@pytest.mark.parametrize(("instant", "refused", "accepted"), [
    (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "2026-03-03", "2026-03-02"),  # 09:00 on 2 March in Shanghai
    (datetime(2026, 3, 2, 15, 59, tzinfo=UTC), "2026-03-03", "2026-03-02"),  # 23:59 on 2 March in Shanghai
    (datetime(2026, 3, 2, 16, 0, tzinfo=UTC), "2026-03-04", "2026-03-03"),  # midnight: 3 March in Shanghai
])
def test_max_days_ahead_refuses_a_date_after_today_in_shanghai(instant, refused, accepted):
    form = load(HAPPENED, "happened.yaml")
    with engine_clock.using(ManualClock(instant)):
        assert errors_of(form, {"happened_on": refused})["happened_on"] == {
            "zh": "日期不能晚于今天", "en": "The date cannot be in the future"}
        assert validate(form, {"happened_on": accepted}) == {"happened_on": accepted}
        assert validate(form, {"happened_on": "2025-12-31"})  # long ago is fine


# the fields of the repository's forms that record something that happened: none may lie ahead
HAPPENED_FIELDS = [
    ("aftersale_archive_followup_call", "called_on"), ("complaint_corrective_notice", "corrective_action_notified_on"),
    ("complaint_implementation", "implemented_on"), ("complaint_onsite_visit", "onsite_date"),
    ("customer_opinion_answer", "answered_on"), ("dealer_order_delivery_record", "delivered_on"),
    ("dealer_order_invoice", "invoice_date"), ("dealer_order_payment_confirm", "received_on"),
    ("dealer_order_production_report", "production_completed_on"), ("dealer_order_shipment", "shipped_on"),
    ("insale_contract_seal", "sealed_on"), ("insale_delivery_record", "delivered_on"),
    ("insale_invoice", "invoice_date"), ("insale_payment_confirm", "received_on"),
    ("insale_production_report", "production_completed_on"), ("insale_sample_board", "sample_board_received_on"),
    ("insale_shipment", "shipped_on"), ("insale_trial_production", "trial_completed_on"),
    ("presale_outcome", "outcome_date"), ("safety_accident_sanction_record", "sanction_date"),
    ("sample_request_dispatch", "shipped_on"), ("sample_request_sales_ship", "shipped_on"),
    ("training_record", "held_on"), ("violation_record", "acknowledged_on"),
]


def _field_problems(form: FormDef, data: dict) -> dict[str, dict[str, str]]:
    try:
        validate(form, data)
    except InvalidData as refused:
        return refused.fields
    return {}


@pytest.mark.parametrize(("form_key", "field"), HAPPENED_FIELDS, ids=[f"{k}.{f}" for k, f in HAPPENED_FIELDS])
def test_a_record_of_what_happened_refuses_tomorrow_in_both_languages_and_takes_today(at_t0, form_key, field):
    """A shipment, a seal, a payment ... dated tomorrow (3 March, the clock at 2 March 09:00 in Shanghai) is
    refused on that field; today and any day before are taken."""
    path = ROOT / "forms" / f"{form_key}.yaml"
    form = load(path.read_text(encoding="utf-8"), path.name)
    assert _field_problems(form, {field: "2026-03-03"})[field] == {
        "zh": "日期不能晚于今天", "en": "The date cannot be in the future"}
    for day in ("2026-03-02", "2026-02-27"):
        assert field not in _field_problems(form, {field: day})


def test_max_days_ahead_must_be_a_whole_number_of_days():
    _form, problems, _key = load_form(HAPPENED.replace("x-max-days-ahead: 0", "x-max-days-ahead: -1"), "h.yaml")
    assert [p.messages() for p in problems] == [{
        "en": "x-max-days-ahead must be a whole number of days from 0 to 3650",
        "zh": "x-max-days-ahead 必须是 0 到 3650 之间的整数（天数）"}]


# -- through the engine ------------------------------------------------------------------------------
def instance_count(engine) -> int:
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(Instance))


def event_count(engine) -> int:
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


@pytest.mark.parametrize(("data", "bad"), [
    ({"approved": False}, {"comment"}),
    ({"approved": False, "comment": ""}, {"comment"}),
    ({}, {"approved"}),
    ({"approved": "yes"}, {"approved"}),
    ({"approved": True, "_state": "x"}, {"_state"}),
    ({"approved": True, "amount_yuan": 1}, {"amount_yuan"}),
], ids=["reject_without_comment", "reject_empty_comment", "nothing", "not_boolean", "underscore", "unknown"])
def test_complete_with_bad_data_is_refused_and_changes_nothing(approval, data, bad):
    eng = approval
    iid = eng.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 20000})
    [task] = eng.inbox("mgr")
    instance = eng.instance("rep", iid)
    history = eng.history("rep", iid)
    events = event_count(eng)

    with pytest.raises(InvalidData) as info:
        eng.complete("mgr", task["id"], data)
    assert set(info.value.fields) == bad
    for message in info.value.fields.values():
        assert_bilingual(message)

    assert eng.inbox("mgr") == [task]  # still ready, still unclaimed
    assert eng.task("mgr", task["id"])["status"] == "ready"
    assert eng.history("rep", iid) == history
    assert event_count(eng) == events
    assert eng.instance("rep", iid) == instance
    # the task still works with good data
    eng.complete("mgr", task["id"], {"approved": False, "comment": "预算不足"})
    assert eng.instance("rep", iid)["status"] == "completed"


def test_start_with_bad_data_is_refused_and_creates_nothing(approval):
    with pytest.raises(InvalidData) as info:
        approval.start("rep", "approval", {"customer_name": "", "amount_yuan": -1, "_x": 1})
    assert set(info.value.fields) == {"customer_name", "amount_yuan", "_x"}
    assert instance_count(approval) == 0
    assert approval.inbox("mgr") == []


def _bundle_with_visit_date() -> list[SourceFile]:
    files = []
    for path in sorted(APPROVAL.iterdir()):
        text = path.read_text(encoding="utf-8")
        if path.name == "approval_request.yaml":
            text = text.replace("    amount_yuan: {type: number, minimum: 0}\n",
                                "    amount_yuan: {type: number, minimum: 0}\n"
                                "    visit_date: {type: string, format: date, x-min-days-ahead: 1}\n", 1)
            text = text.replace("  - {name: amount_yuan, label: {zh: 金额（元）, en: Amount (yuan)}}\n",
                                "  - {name: amount_yuan, label: {zh: 金额（元）, en: Amount (yuan)}}\n"
                                "  - {name: visit_date, label: {zh: 参观日期, en: Visit date}}\n", 1)
            assert "x-min-days-ahead" in text and "name: visit_date" in text
        files.append(SourceFile(path.name, KINDS[Path(path.name).suffix], text.encode("utf-8")))
    return files


def test_start_form_min_days_ahead_uses_the_engine_clock(engine, clock):
    engine.deploy("system", files=_bundle_with_visit_date())
    add_users(engine, {"rep": ["sales_rep"]})
    data = {"customer_name": "ACME", "amount_yuan": 1}
    with pytest.raises(InvalidData) as info:
        engine.start("rep", "approval", {**data, "visit_date": "2026-03-02"})
    assert set(info.value.fields) == {"visit_date"}
    assert instance_count(engine) == 0
    iid = engine.start("rep", "approval", {**data, "visit_date": "2026-03-03"})
    assert engine.instance("rep", iid)["data"]["visit_date"] == "2026-03-03"
    clock.advance(days=1)  # now 3 March: the same date is too early
    with pytest.raises(InvalidData):
        engine.start("rep", "approval", {**data, "visit_date": "2026-03-03"})
