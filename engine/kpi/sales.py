"""Sales figures (seed 74, 77: 每月销售额和销售增长率; 237: 销售额、客户满意度、客户回头率), docs/kpi.md.

Read from the `instance` rows of the order processes (kpi.yaml `sales`: P2 `insale` and the dealers'
`dealer_order`, one instance per order). An order counts when its instance ended with the outcome
`delivered`, in the month (company time) it ended, for the amount in its data (`amount_yuan`; missing
or not a number: 0 yuan), for the customer in `instance.customer_name` (spaces around the name
ignored; no name: no customer) and the person who started it (the sales representative the order
belongs to).

The figures are per whole calendar month: every month from the later of `from` and the first month
with a delivered order, to the earlier of `to` and the current month. A month's growth compares it
with the whole previous calendar month, which may lie before `from`. A repeat customer of a month is a
customer with a delivered order in that month who also had one in an earlier month (at any time
before it); over the range, a customer who was a repeat customer in at least one of its months.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.kpi import stats
from engine.kpi.definitions import SalesSource
from engine.kpi.filters import Window
from engine.kpi.measures import month_of
from engine.store.models import Instance


@dataclass(frozen=True)
class Order:
    instance_id: int
    month: str
    customer: str | None
    person: str
    amount: float


def _amount(data_json: str, field: str) -> float:
    value = json.loads(data_json or "{}").get(field)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return float(value)


def _customer(name: str | None) -> str | None:
    return (name or "").strip() or None


def orders(session: Session, source: SalesSource, timezone: str) -> list[Order]:
    """Every delivered order, oldest first (all of them: a repeat customer is judged by earlier months)."""
    query = (select(Instance.id, Instance.ended_at, Instance.customer_name, Instance.started_by, Instance.data_json)
             .where(Instance.process_key.in_(source.processes), Instance.outcome == source.outcome,
                    Instance.ended_at.is_not(None))
             .order_by(Instance.ended_at, Instance.id))
    return [Order(r.id, month_of(r.ended_at, timezone), _customer(r.customer_name), r.started_by,
                  _amount(r.data_json, source.amount)) for r in session.execute(query)]


def _next(month: str) -> str:
    year, number = (int(p) for p in month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def previous_month(month: str) -> str:
    year, number = (int(p) for p in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def months(window: Window, first: str | None, now: datetime, timezone: str) -> list[str]:
    """The whole months shown: from the later of `from` and the first month with an order, to the earlier
    of `to` and the current month."""
    if first is None:
        return []
    start = max(first, window.day_from.strftime("%Y-%m")) if window.day_from else first
    last = month_of(now, timezone)
    if window.day_to is not None:
        last = min(last, window.day_to.strftime("%Y-%m"))
    found = []
    while start <= last:
        found.append(start)
        start = _next(start)
    return found


def _customers(items: Iterable[Order]) -> set[str]:
    return {o.customer for o in items if o.customer}


def figures(session: Session, source: SalesSource, window: Window, now: datetime, timezone: str) -> dict:
    """{processes, outcome, overall, by_month, by_person} for the months the window touches."""
    every = orders(session, source, timezone)
    shown = months(window, every[0].month if every else None, now, timezone)
    by_month: dict[str, list[Order]] = defaultdict(list)
    for order in every:
        by_month[order.month].append(order)
    rows, returning = [], set()
    for month in shown:
        mine = by_month.get(month, [])
        buyers = _customers(mine)
        repeat = buyers & _customers(o for o in every if o.month < month)
        returning |= repeat
        amount, before = stats.yuan(o.amount for o in mine), stats.yuan(o.amount for o in by_month.get(
            previous_month(month), []))
        rows.append({"key": month, "orders": len(mine), "amount_yuan": amount, "previous_amount_yuan": before,
                     "growth": stats.growth(amount, before), "customers": len(buyers),
                     "repeat_customers": len(repeat), "repeat_rate": stats.share(len(repeat), len(buyers))})
    in_range = [o for o in every if o.month in set(shown)]
    buyers = _customers(in_range)
    overall = {"orders": len(in_range), "amount_yuan": stats.yuan(o.amount for o in in_range),
               "customers": len(buyers), "repeat_customers": len(returning),
               "repeat_rate": stats.share(len(returning), len(buyers))}
    by_person: dict[str, list[Order]] = defaultdict(list)
    for order in in_range:
        by_person[order.person].append(order)
    people = [{"key": person, "orders": len(items), "amount_yuan": stats.yuan(o.amount for o in items),
               "customers": len(_customers(items))} for person, items in sorted(by_person.items())]
    return {"processes": list(source.processes), "outcome": source.outcome, "overall": overall, "by_month": rows,
            "by_person": people}
