"""The sales KPIs (seed 74, 77, 237): monthly sales, growth against the previous month, repeat-customer
rate, against figures computed by hand.

The orders run through a stand-in for P2 (tests/fixtures/kpi_sales/insale.bpmn, process key `insale`):
the KPIs rely only on the key, the outcome `delivered`, the data amount_yuan and customer_name, so the
figures do not move when P2's own steps change. Each order ends when the order clerk records it, at the
instant given in company time (Asia/Shanghai):

    order  customer          by    amount        ended              outcome
    O1     合肥建工集团       rep1  100,000.00    01-15 10:00        delivered
    O2     芜湖商砼           rep2   50,000.00    01-31 23:30        delivered  (UTC: still 01-31)
    O3     合肥建工集团       rep1   80,000.00    02-10 10:00        delivered  repeat (January)
    O4     滁州万家           rep2   20,000.00    02-01 00:30        delivered  (UTC: 01-31 16:30, a February order)
    O5     芜湖商砼           rep2   70,000.00    02-20 10:00        unpaid     not counted
    O6     滁州万家           rep1   30,000.00    02-25 10:00        delivered  second order in February: no repeat
    O7     芜湖商砼           rep1   90,000.00    still running      –          not counted
    O8     芜湖商砼           rep2   60,000.00    04-02 10:00        delivered  repeat (January)
    O9     马鞍山恒达         rep1   10,000.50    04-03 10:00        delivered  new customer
    O10    " 合肥建工集团 "   rep1   40,000.00    04-05 10:00        delivered  repeat: the same name once trimmed

Nothing is delivered in March. The figures are read at "now" = 2026-04-20 12:00.
"""

from __future__ import annotations

import pytest

from engine import Engine
from engine.clock import ManualClock
from tests.conftest import FIXTURES, T0, add_users, own_database
from tests.scenarios.driver import local_time

AUDITOR = "aud"
NOW = local_time("2026-04-20", "12:00")
PEOPLE = {"rep1": ["sales_rep"], "rep2": ["sales_rep"], "clerk1": ["order_clerk"], "aud": ["auditor"],
          "mgr1": ["sales_manager"], "svc1": ["customer_service"]}

# (name, customer, starter, amount, the day it ended, the time, delivered?)
ORDERS = [
    ("O1", "合肥建工集团", "rep1", 100000, "2026-01-15", "10:00", True),
    ("O2", "芜湖商砼", "rep2", 50000, "2026-01-31", "23:30", True),
    ("O3", "合肥建工集团", "rep1", 80000, "2026-02-10", "10:00", True),
    ("O4", "滁州万家", "rep2", 20000, "2026-02-01", "00:30", True),
    ("O5", "芜湖商砼", "rep2", 70000, "2026-02-20", "10:00", False),
    ("O6", "滁州万家", "rep1", 30000, "2026-02-25", "10:00", True),
    ("O8", "芜湖商砼", "rep2", 60000, "2026-04-02", "10:00", True),
    ("O9", "马鞍山恒达", "rep1", 10000.5, "2026-04-03", "10:00", True),
    ("O10", " 合肥建工集团 ", "rep1", 40000, "2026-04-05", "10:00", True),
]


@pytest.fixture(scope="module")
def orders(_schema, tmp_path_factory):
    """(engine, instance ids): the orders above, built once; every test here only reads them."""
    clock = ManualClock(T0)
    eng = Engine(own_database(_schema, tmp_path_factory), clock=clock)
    eng.init()
    eng.deploy("system", [FIXTURES / "kpi_sales"])
    add_users(eng, PEOPLE)
    ids = {}
    for name, customer, starter, amount, day, hhmm, delivered in sorted(ORDERS, key=lambda o: (o[4], o[5])):
        clock.set(local_time(day, "08:00") if hhmm > "08:00" else local_time(day, "00:00"))
        ids[name] = eng.start(starter, "insale", {"customer_name": customer, "amount_yuan": amount})
        clock.set(local_time(day, hhmm))
        [task] = [t for t in eng.inbox("clerk1") if t["instance_id"] == ids[name]]
        eng.complete("clerk1", task["id"], {"delivered": delivered})
    clock.set(local_time("2026-03-10", "09:00"))
    ids["O7"] = eng.start("rep1", "insale", {"customer_name": "芜湖商砼", "amount_yuan": 90000})
    clock.set(NOW)
    yield eng, ids
    eng.db.dispose()


def month(key: str, orders_: int, amount: float, previous: float, growth: float | None, customers: int,
          repeat: int, rate: float | None) -> dict:
    return {"key": key, "orders": orders_, "amount_yuan": amount, "previous_amount_yuan": previous,
            "growth": pytest.approx(growth) if growth is not None else None, "customers": customers,
            "repeat_customers": repeat, "repeat_rate": pytest.approx(rate) if rate is not None else None}


def totals(orders_: int, amount: float, customers: int, repeat: int, rate: float | None) -> dict:
    return {"orders": orders_, "amount_yuan": amount, "customers": customers, "repeat_customers": repeat,
            "repeat_rate": pytest.approx(rate) if rate is not None else None}


@pytest.mark.rule("K.SALES")
@pytest.mark.rule("K.GROWTH")
@pytest.mark.rule("K.REPEAT")
def test_every_month_from_the_first_delivery_to_now(orders):
    eng, _ = orders
    sales = eng.kpi(AUDITOR)["sales"]
    assert (sales["processes"], sales["outcome"]) == (["insale", "dealer_order"], "delivered")
    assert sales["by_month"] == [
        # O1 + O2; no December before it: no growth; nobody bought before January
        month("2026-01", 2, 150000.0, 0.0, None, 2, 0, 0.0),
        # O3 + O4 + O6 = 130,000 (O5 unpaid); (130,000 - 150,000) / 150,000 = -2/15;
        # customers 合肥建工集团, 滁州万家; repeat: 合肥建工集团 (January) -> 1 / 2
        month("2026-02", 3, 130000.0, 150000.0, -2 / 15, 2, 1, 0.5),
        # nothing delivered (O7 still runs): -100 %, no customer, no rate
        month("2026-03", 0, 0.0, 130000.0, -1.0, 0, 0, None),
        # O8 + O9 + O10 = 110,000.50; after an empty March: no growth;
        # customers 芜湖商砼, 马鞍山恒达, 合肥建工集团; repeat: 芜湖商砼 and 合肥建工集团 -> 2 / 3
        month("2026-04", 3, 110000.5, 0.0, None, 3, 2, 2 / 3)]
    # 8 orders, 390,000.50; customers 合肥建工集团, 芜湖商砼, 滁州万家, 马鞍山恒达; returned: 合肥建工集团, 芜湖商砼
    assert sales["overall"] == totals(8, 390000.5, 4, 2, 0.5)


@pytest.mark.rule("K.SALES")
def test_sales_per_person_who_started_the_order(orders):
    eng, _ = orders
    # rep1: O1, O3, O6, O9, O10 = 260,000.50 for 合肥建工集团, 滁州万家, 马鞍山恒达; rep2: O2, O4, O8 = 130,000
    assert eng.kpi(AUDITOR)["sales"]["by_person"] == [
        {"key": "rep1", "orders": 5, "amount_yuan": 260000.5, "customers": 3},
        {"key": "rep2", "orders": 3, "amount_yuan": 130000.0, "customers": 2}]
    # the sales manager manages the sales reps: he sees their rows
    assert [r["key"] for r in eng.kpi("mgr1")["sales"]["by_person"]] == ["rep1", "rep2"]


@pytest.mark.rule("K.GROWTH")
@pytest.mark.rule("K.REPEAT")
def test_a_date_range_shows_the_whole_months_it_touches(orders):
    eng, _ = orders
    sales = eng.kpi(AUDITOR, {"from": "2026-02-15", "to": "2026-03-10"})["sales"]
    # February whole (O4 on the 1st too), compared with the whole of January (outside the range)
    assert [r["key"] for r in sales["by_month"]] == ["2026-02", "2026-03"]
    assert sales["by_month"][0] == month("2026-02", 3, 130000.0, 150000.0, -2 / 15, 2, 1, 0.5)
    assert sales["overall"] == totals(3, 130000.0, 2, 1, 0.5)
    # only January: both customers new
    january = eng.kpi(AUDITOR, {"from": "2026-01-01", "to": "2026-01-31"})["sales"]
    assert january["overall"] == totals(2, 150000.0, 2, 0, 0.0)
    # O4 ended at 00:30 on 02-01 in Shanghai (01-31 16:30 UTC): a February order
    assert [r["orders"] for r in january["by_month"]] == [2]


@pytest.mark.rule("K.SALES")
@pytest.mark.parametrize("filters", [{"from": "2026-05-01"}, {"to": "2025-12-31"}])
def test_no_month_in_the_range_no_figures(orders, filters):
    eng, _ = orders
    sales = eng.kpi(AUDITOR, filters)["sales"]
    assert sales["by_month"] == [] and sales["by_person"] == []
    assert sales["overall"] == totals(0, 0.0, 0, 0, None)


def test_the_process_filter_keeps_the_orders(orders):
    eng, _ = orders
    assert eng.kpi(AUDITOR, {"process": "insale"})["sales"]["overall"]["orders"] == 8


def test_staff_who_manage_nobody_see_no_sales(orders):
    eng, _ = orders
    assert eng.kpi("rep1")["sales"] is None  # a representative sees only his own appraisal


def test_the_data_set_took_the_paths_it_describes(orders):
    eng, ids = orders
    outcomes = {name: eng.instance(AUDITOR, iid)["outcome"] for name, iid in ids.items()}
    assert outcomes == {**{o[0]: "delivered" if o[6] else "unpaid" for o in ORDERS}, "O7": None}
    assert eng.instance(AUDITOR, ids["O10"])["data"]["customer_name"] == " 合肥建工集团 "


@pytest.mark.rule("K.SALES")
@pytest.mark.rule("K.REPEAT")
def test_a_dealers_repeat_order_is_a_sale_and_makes_its_customer_a_repeat_customer(_schema, tmp_path_factory):
    clock = ManualClock(T0)
    eng = Engine(own_database(_schema, tmp_path_factory), clock=clock)
    try:
        eng.init()
        eng.deploy("system", [FIXTURES / "kpi_sales", FIXTURES / "kpi_sales_dealer"])
        add_users(eng, PEOPLE)
        for key, day, amount in (("insale", "2026-01-15", 100000), ("dealer_order", "2026-02-10", 30000)):
            clock.set(local_time(day, "09:00"))
            iid = eng.start("rep1", key, {"customer_name": "合肥建工集团", "amount_yuan": amount})
            [task] = [t for t in eng.inbox("clerk1") if t["instance_id"] == iid]
            eng.complete("clerk1", task["id"], {"delivered": True})
        clock.set(NOW)
        sales = eng.kpi(AUDITOR, {"from": "2026-01-01", "to": "2026-02-28"})["sales"]
        assert [(m["key"], m["amount_yuan"], m["repeat_customers"]) for m in sales["by_month"]] == [
            ("2026-01", 100000.0, 0), ("2026-02", 30000.0, 1)]
        dealers = eng.kpi(AUDITOR, {"process": "dealer_order"})["sales"]
        assert (dealers["processes"], dealers["overall"]["amount_yuan"]) == (["dealer_order"], 30000.0)
    finally:
        eng.db.dispose()
