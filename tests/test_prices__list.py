"""The price list (engine/prices): importing a CSV file all or nothing with every bad line named, the rule
that no two rows of an item are valid on the same day, a new price replacing the current one from today
on, ending a price's validity without rewriting the past, and the `prices` hash chain that
`audit verify` checks against the table. The clock is T0: Monday 2026-03-02 09:00 in Shanghai."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update

from engine import Engine
from engine.errors import Forbidden, InvalidData, NotFound
from engine.prices.money import parse_yuan
from engine.store.models import Price
from tests.conftest import FIXTURES, add_users
from tests.deployed_state import prepared

LIST = FIXTURES / "prices" / "list.csv"
HEADER = "product,spec,grade,unit,price_yuan,valid_from,valid_to\n"


def _people(engine: Engine) -> None:
    add_users(engine, {"dir1": ["sales_director"], "rep1": ["sales_rep"], "clerk1": ["order_clerk"],
                       "fin1": ["finance"], "qa1": ["quality"], "aud": ["auditor"], "adm": ["admin"],
                       "mgr1": ["sales_manager"], "vp1": ["sales_vp"]})


@pytest.fixture
def book(engine: Engine) -> Engine:
    """The people of the price list, no price yet: built once per worker, then restored (tests/deployed_state.py)."""
    prepared(engine, "prices: the people", _people)
    return engine


def csv(*lines: str, header: str = HEADER) -> bytes:
    return (header + "".join(line + "\n" for line in lines)).encode("utf-8")


def rows(eng: Engine, on: str | None = None) -> list[tuple]:
    return [(r["product"], r["spec"], r["grade"], r["price_yuan"], r["valid_from"], r["valid_to"])
            for r in eng.prices("system", on)]


def refused(eng: Engine, content: bytes) -> dict:
    before = rows(eng)
    with pytest.raises(InvalidData) as info:
        eng.import_prices("dir1", content, "bad.csv")
    assert rows(eng) == before  # nothing of the file was saved
    return info.value.fields


# -- importing --------------------------------------------------------------------------------------------------


@pytest.mark.rule("P1.PRICES")
def test_an_import_adds_every_row_and_records_it_in_the_prices_chain(book):
    result = book.import_prices("dir1", LIST.read_bytes(), "list.csv")
    assert (result["dry_run"], len(result["added"]), result["ended"]) == (False, 5, [])
    assert rows(book, "2026-03-02") == [("P·O 42.5", "散装", "一等品", "420.00", "2026-01-01", "2026-03-31"),
                                        ("P·O 42.5", "袋装 50kg", "一等品", "450.00", "2026-01-01", None),
                                        ("P·O 52.5", "散装", "一等品", "430.00", "2026-01-01", None)]
    check = book.check_trail("prices")
    assert check.ok and check.events == 1
    assert "prices" in book.audit_chains()


def test_a_dry_run_checks_everything_and_saves_nothing(book):
    result = book.import_prices("dir1", LIST.read_bytes(), "list.csv", dry_run=True)
    assert (result["dry_run"], len(result["added"])) == (True, 5)
    assert result["added"][0]["label"].startswith("line ")
    assert rows(book) == []
    assert "prices" not in book.audit_chains()


def test_every_bad_line_is_named_and_nothing_is_saved(book):
    fields = refused(book, csv("P·O 42.5,散装,一等品,吨,420,2026-01-01,",
                               ",散装,一等品,吨,-1,2026-1-1,",
                               "P·O 52.5,散装,一等品,吨,430.123,2026-01-01,2025-12-31",
                               "P·O 52.5,散装,一等品,吨,430,2026-01-01"))
    assert set(fields) == {"line 3", "line 4", "line 5"}
    assert fields["line 3"]["zh"] == ("品名：此项必填；单价（元）：须为大于 0 的金额，最多两位小数，"
                                      "不超过 1000000.00 元；有效期自：须为日期 YYYY-MM-DD")
    assert fields["line 4"]["en"] == ("price (yuan): Must be an amount above 0 with at most two decimals, up to "
                                      "1000000.00 yuan; valid to: The last valid day cannot be before the first")
    assert fields["line 5"] == {"zh": "有 6 列，表头有 7 列", "en": "6 cells where the header has 7"}
    assert list(fields) == ["line 3", "line 4", "line 5"]  # in the file's order


@pytest.mark.parametrize(("content", "key", "text"), [
    (b"", "file", "the file is empty"),
    (csv(header="product,spec,grade,price,valid_from\n"), "line 1", "unknown column(s) price"),
    (csv(header="product,spec,grade,unit,price_yuan,valid_from,product\n"), "line 1", "given twice: product"),
    (csv(header="product,spec,grade,unit,price_yuan,valid_from\n"), "file", "a header but no rows"),
    ("product,spec,grade,unit,price_yuan,valid_from\nP·O,散装,一等品,吨,1,2026-01-01\n".encode("gbk"), "file",
     "not UTF-8"),
])
def test_a_file_that_is_not_such_a_table_is_refused_with_the_reason(book, content, key, text):
    fields = refused(book, content)
    assert list(fields) == [key] and text in fields[key]["en"]


def test_chinese_headers_and_a_spreadsheets_bom_are_read(book):
    content = "\ufeff品名,规格,等级,单位,单价（元）,有效期自,有效期至\nP·O 42.5,散装,一等品,吨,420.5,2026-01-01,\n"
    book.import_prices("dir1", content.encode("utf-8"), "价格表.csv")
    assert rows(book) == [("P·O 42.5", "散装", "一等品", "420.50", "2026-01-01", None)]


def test_no_two_rows_of_an_item_are_valid_on_the_same_day(book):
    book.import_prices("dir1", LIST.read_bytes(), "list.csv")
    fields = refused(book, csv("P·O 52.5,散装,一等品,吨,435,2026-02-01,2026-02-28",
                               "P·O 42.5,袋装 50kg,一等品,吨,455,2026-05-01,",
                               "P·O 42.5,袋装 50kg,一等品,吨,456,2026-05-01,"))
    assert set(fields) == {"line 2", "line 4"}  # line 3 replaces the open bag price; line 4 clashes with it
    [current] = [r["id"] for r in book.prices("system") if r["product"] == "P·O 52.5"]
    assert fields["line 2"]["zh"] == (f"与已有价格 #{current}（2026-01-01 至 长期，430.00 元/吨）的有效期重叠；"
                                      "新价格只能从今天起取代现行价格（不改写过去）")
    assert fields["line 4"]["en"] == "overlaps line 3 of this import (2026-05-01 to open)"


@pytest.mark.rule("P1.PRICES")
def test_a_new_price_replaces_the_open_one_from_today_on_but_never_in_the_past(book, clock):
    book.import_prices("dir1", LIST.read_bytes(), "list.csv")
    fields = refused(book, csv("P·O 52.5,散装,一等品,吨,435,2026-03-01,"))  # yesterday: the past stays
    assert fields["line 2"]["zh"].endswith("新价格只能从今天起取代现行价格（不改写过去）")
    result = book.import_prices("dir1", csv("P·O 52.5,散装,一等品,吨,435,2026-03-02,"), "change.csv")
    [ended] = result["ended"]
    assert (ended["valid_to"], ended["previous_valid_to"]) == ("2026-03-01", None)
    assert [r[3:] for r in rows(book) if r[0] == "P·O 52.5"] == [("430.00", "2026-01-01", "2026-03-01"),
                                                                  ("435.00", "2026-03-02", None)]
    [old] = [r for r in book.prices("system") if r["id"] == ended["id"]]
    assert (old["ended_by"], old["ended_at"]) == ("dir1", clock.now().isoformat())
    assert book.check_trail("prices").ok


# -- ending a validity -----------------------------------------------------------------------------------------


def test_a_price_ends_from_today_on_at_the_earliest(book):
    book.import_prices("dir1", LIST.read_bytes(), "list.csv")
    [bag] = [r for r in book.prices("system") if r["spec"] == "袋装 50kg"]
    with pytest.raises(InvalidData) as info:
        book.end_price("dir1", bag["id"], "2026-02-28")
    assert "yesterday at the earliest (2026-03-01)" in info.value.fields["valid_to"]["en"]
    with pytest.raises(InvalidData) as info:
        book.end_price("dir1", bag["id"], "2026-13-01")
    assert info.value.fields == {"valid_to": {"zh": "须为日期 YYYY-MM-DD", "en": "Must be a date YYYY-MM-DD"}}
    after = book.end_price("dir1", bag["id"], "2026-03-01")  # it no longer applies today
    assert (after["valid_to"], after["ended_by"]) == ("2026-03-01", "dir1")
    assert bag["id"] not in {r["id"] for r in book.prices("system", "2026-03-02")}
    with pytest.raises(InvalidData, match="the past is not rewritten"):
        book.end_price("dir1", bag["id"], "2026-06-30")
    with pytest.raises(NotFound):
        book.end_price("dir1", 999, "2026-06-30")
    assert book.check_trail("prices").ok and book.check_trail("prices").events == 2


def test_a_future_end_may_move_but_not_over_the_next_price(book):
    book.import_prices("dir1", LIST.read_bytes(), "list.csv")
    [march] = [r for r in book.prices("system") if r["valid_to"] == "2026-03-31"]
    assert book.end_price("dir1", march["id"], "2026-03-20")["valid_to"] == "2026-03-20"
    with pytest.raises(InvalidData, match="starts on 2026-04-01, within the longer validity"):
        book.end_price("dir1", march["id"], "2026-04-15")
    with pytest.raises(InvalidData, match="already ends on 2026-03-20"):
        book.end_price("dir1", march["id"], "2026-03-20")


# -- who may read and change it (engine/runtime/access.py) --------------------------------------------------


@pytest.mark.rule("P1.PRICES")
@pytest.mark.parametrize("reader", ["rep1", "clerk1", "mgr1", "vp1", "fin1", "aud", "adm", "dir1"])
def test_sales_staff_finance_and_auditors_read_the_list(book, reader):
    book.import_prices("system", LIST.read_bytes(), "list.csv")
    assert len(book.prices(reader)) == 5 and book.may_read_prices(reader)


def test_others_may_not_read_it(book):
    with pytest.raises(Forbidden, match="may not read the price list"):
        book.prices("qa1")
    assert not book.may_read_prices("qa1")


@pytest.mark.rule("P1.PRICES")
@pytest.mark.parametrize("editor", ["rep1", "mgr1", "vp1", "fin1", "aud", "adm", "clerk1"])
def test_only_the_sales_director_changes_it(book, editor):
    """Attack: a representative (or anyone but the sales director) lowers a list price to quote below it
    without a discount approval. Refused, and nothing is recorded."""
    book.import_prices("dir1", LIST.read_bytes(), "list.csv")
    with pytest.raises(Forbidden, match="only the sales director keeps the company's prices"):
        book.import_prices(editor, csv("P·O 52.5,散装,一等品,吨,300,2026-03-02,"), "cheap.csv")
    with pytest.raises(Forbidden):
        book.add_price(editor, {"product": "P·O 52.5", "spec": "散装", "grade": "一等品", "unit": "吨",
                                "price_yuan": "300", "valid_from": "2026-03-02"})
    with pytest.raises(Forbidden):
        book.end_price(editor, 1, "2026-03-01")
    assert not book.may_edit_prices(editor) and book.may_edit_prices("dir1")
    assert book.check_trail("prices").events == 1


# -- the chain against the table ---------------------------------------------------------------------------------


@pytest.mark.rule("P1.PRICES")
def test_audit_verify_finds_a_price_changed_behind_the_engines_back(book):
    book.import_prices("dir1", LIST.read_bytes(), "list.csv")
    with book.db.write() as s:
        s.execute(update(Price).where(Price.price_fen == 43000).values(price_fen=33000))
    check = book.check_trail("prices")
    assert (check.ok, check.position) == (False, 1)
    assert "price_fen = 33000, the chain says 43000" in check.reason
    assert check.describe().startswith("prices: BROKEN at event 1:")


def test_audit_verify_finds_prices_without_any_chain(book):
    with book.db.write() as s:
        s.add(Price(product="P·O 42.5", spec="散装", grade="一等品", unit="吨", price_fen=1, created_by="x",
                    valid_from=date(2026, 1, 1), created_at=book.clock.now()))
    assert "prices" in book.audit_chains()
    check = book.check_trail("prices")
    assert not check.ok and "no event of the chain added it" in check.reason


@pytest.mark.parametrize(("text", "fen"), [("420", 42000), ("420.5", 42050), (" 420.05 ", 42005), (420.5, 42050),
                                           ("0", None), ("420.005", None), ("1,420", None), ("１２", None),
                                           ("1000000.01", None), (True, None), ("NaN", None)])
def test_money_is_read_exactly_in_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.rule("P1.PRICES")
def test_two_directors_adding_overlapping_prices_at_once_get_one_price(book, db_url, clock):
    """Racing writers (two web workers) see each other's rows: the chain's lock serialises every change."""
    from tests.test_runtime__concurrency import race

    def add(valid_from: str, valid_to: str):
        row = {"product": "P·O 42.5R", "spec": "散装", "grade": "一等品", "unit": "吨", "price_yuan": "436",
               "valid_from": valid_from, "valid_to": valid_to}
        return lambda eng: eng.add_price("dir1", row)

    results = race(db_url, clock, [add("2026-03-02", "2026-03-31"), add("2026-03-10", "2026-04-30")])
    assert sorted(kind for kind, _ in results) == ["error", "ok"]
    [(_, error)] = [r for r in results if r[0] == "error"]
    assert isinstance(error, InvalidData) and "row" in error.fields
    assert len(book.prices("system")) == 1
    assert book.check_trail("prices").ok and book.check_trail("prices").events == 1
