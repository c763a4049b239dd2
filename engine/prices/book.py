"""The price table: listing it, the price valid on a day, adding rows and ending a row's validity.

A row is never edited: a new price is a new row. No two rows of one product, specification and grade
may be valid on the same day. A new row that starts after an open-ended row of the same item ends that
row the day before it starts (a new price list supersedes the old one), but only from today on: the
past is never rewritten, so a validity can be ended from today at the earliest (its last day yesterday),
and quotations already made keep the price they were made at (they record the row in their own trail).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.config import COMPANY_TZ
from engine.errors import InvalidData, NotFound
from engine.prices import chain, rows
from engine.prices.money import yuan_number, yuan_text
from engine.store.models import Price

Text = dict[str, str]
OPEN = {"zh": "长期", "en": "open"}


def company_day(at: datetime) -> date:
    return at.astimezone(ZoneInfo(COMPANY_TZ)).date()


def shape(p: Price) -> dict:
    """A row as the API, the CLI and the pages show it."""
    return {"id": p.id, "product": p.product, "spec": p.spec, "grade": p.grade, "unit": p.unit,
            "price_fen": p.price_fen, "price_yuan": yuan_text(p.price_fen),
            "valid_from": p.valid_from.isoformat(), "valid_to": p.valid_to.isoformat() if p.valid_to else None,
            "created_by": p.created_by, "created_at": p.created_at.isoformat(),
            "ended_by": p.ended_by, "ended_at": p.ended_at.isoformat() if p.ended_at else None}


def _valid_on(day: date):  # noqa: ANN202 - a SQL condition
    return (Price.valid_from <= day) & (Price.valid_to.is_(None) | (Price.valid_to >= day))


def listing(session: Session, on: date | None = None) -> list[dict]:
    """Every row (or those valid on `on`), by product, specification, grade and start."""
    query = select(Price).order_by(Price.product, Price.spec, Price.grade, Price.valid_from)
    if on is not None:
        query = query.where(_valid_on(on))
    return [shape(p) for p in session.scalars(query)]


class PricesOn:
    """The list as it stands on one day (engine.forms.PriceBook): what a quotation reads."""

    def __init__(self, session: Session, day: date) -> None:
        self._session, self._day = session, day
        self.day = day.isoformat()

    def find(self, product: str, spec: str, grade: str) -> dict | None:
        p = self._session.scalar(select(Price).where(
            Price.product == product.strip(), Price.spec == spec.strip(), Price.grade == grade.strip(),
            _valid_on(self._day)))
        if p is None:
            return None
        return {**chain.row_payload(p), "on": self.day, "price_yuan": yuan_number(p.price_fen)}

    def alternatives(self, product: str, limit: int = 5) -> list[str]:
        """"spec / grade" of the rows of this product valid that day, to say what could be meant."""
        found = self._session.scalars(select(Price).where(Price.product == product.strip(), _valid_on(self._day))
                                      .order_by(Price.spec, Price.grade).limit(limit))
        return [f"{p.spec} / {p.grade}" for p in found]


# -- adding rows -----------------------------------------------------------------------------------------


@dataclass
class _Entry:
    label: str  # "line 3" (an import) or "row" (the page's form)
    row: dict
    price: Price | None = None  # an existing row


def _overlap(a: dict, b: dict) -> bool:
    far = date.max
    return a["valid_from"] <= (b["valid_to"] or far) and b["valid_from"] <= (a["valid_to"] or far)


def _describe(e: _Entry) -> Text:
    r = e.row
    until = r["valid_to"].isoformat() if r["valid_to"] else None
    price = yuan_text(r["price_fen"])
    zh_money, en_money = f"{price} 元/{r['unit']}", f"{price} yuan per {r['unit']}"
    if e.price is None:
        return {"zh": f"本次导入的第 {e.label.removeprefix('line ')} 行（{r['valid_from']} 至 {until or OPEN['zh']}）",
                "en": f"{e.label} of this import ({r['valid_from']} to {until or OPEN['en']})"}
    return {"zh": f"已有价格 #{e.price.id}（{r['valid_from']} 至 {until or OPEN['zh']}，{zh_money}）",
            "en": f"price #{e.price.id} ({r['valid_from']} to {until or OPEN['en']}, {en_money})"}


def _clash(new: _Entry, old: _Entry, today: date) -> Text:
    other = _describe(old)
    text = {"zh": f"与{other['zh']}的有效期重叠", "en": f"overlaps {other['en']}"}
    if (old.price is not None and old.row["valid_to"] is None and old.row["valid_from"] < new.row["valid_from"]
            and new.row["valid_from"] < today):
        text = {"zh": text["zh"] + "；新价格只能从今天起取代现行价格（不改写过去）",
                "en": text["en"] + "; a new price can replace the current one from today on only (the past is not "
                                   "rewritten)"}
    return text


def plan(session: Session, given: list[tuple[str, dict]], today: date) -> tuple[list[_Entry], list[_Entry]]:
    """(the new rows, the existing rows whose validity they end), or InvalidData naming every row that
    overlaps another. `given`: (label, a row checked by rows.check)."""
    keys = {(r["product"], r["spec"], r["grade"]) for _label, r in given}
    timeline: dict[tuple, list[_Entry]] = {}
    for p in session.scalars(select(Price).where(Price.product.in_({k[0] for k in keys}))):
        key = (p.product, p.spec, p.grade)
        if key in keys:
            timeline.setdefault(key, []).append(_Entry(f"#{p.id}", {
                "product": p.product, "spec": p.spec, "grade": p.grade, "unit": p.unit, "price_fen": p.price_fen,
                "valid_from": p.valid_from, "valid_to": p.valid_to}, p))
    errors: dict[str, Text] = {}
    added, ended = [], []
    for label, row in sorted(given, key=lambda g: (g[1]["product"], g[1]["spec"], g[1]["grade"], g[1]["valid_from"])):
        new = _Entry(label, dict(row))
        others = timeline.setdefault((row["product"], row["spec"], row["grade"]), [])
        clashes = []
        for old in others:
            if not _overlap(old.row, new.row):
                continue
            supersedes = old.row["valid_to"] is None and old.row["valid_from"] < new.row["valid_from"]
            if supersedes and (old.price is None or new.row["valid_from"] >= today):
                old.row["valid_to"] = new.row["valid_from"] - timedelta(days=1)
                if old.price is not None and old not in ended:
                    ended.append(old)
            else:
                clashes.append(_clash(new, old, today))
        if clashes:
            errors[label] = {"zh": "；".join(c["zh"] for c in clashes), "en": "; ".join(c["en"] for c in clashes)}
        else:
            others.append(new)
            added.append(new)
    if errors:
        by_line = dict(sorted(errors.items(), key=lambda item: _line_number(item[0])))
        raise InvalidData(f"{len(errors)} row(s) overlap prices of the same product, specification and grade",
                          by_line)
    return added, ended


def _line_number(label: str) -> int:
    number = label.removeprefix("line ")
    return int(number) if number.isdigit() else 0


def add(session: Session, actor: str, at: datetime, given: list[tuple[str, dict]], source: str,
        content: bytes | None = None, dry_run: bool = False) -> dict:
    """Add the rows (all or none) and record them in the chain; with dry_run, only say what would happen."""
    if not dry_run:
        chain.lock(session)
    added, ended = plan(session, given, company_day(at))
    summary = {"dry_run": dry_run, "source": source,
               "added": [{"label": e.label, **_plain(e.row)} for e in added],
               "ended": [{"id": e.price.id, "product": e.row["product"], "spec": e.row["spec"], "grade": e.row["grade"],
                          "valid_to": e.row["valid_to"].isoformat(),
                          "previous_valid_to": None} for e in ended]}
    if dry_run:
        return summary
    for e in ended:
        e.price.valid_to, e.price.ended_by, e.price.ended_at = e.row["valid_to"], actor, at
    prices = []
    for e in added:
        p = Price(**{k: e.row[k] for k in chain.FIELDS}, created_by=actor, created_at=at)
        session.add(p)
        prices.append(p)
    session.flush()
    payload = {"source": source, "sha256": hashlib.sha256(content).hexdigest() if content is not None else None,
               "added": [chain.row_payload(p) for p in prices],
               "ended": [{k: v for k, v in end.items() if k in ("id", "valid_to", "previous_valid_to")}
                         for end in summary["ended"]]}
    chain.record(session, at, actor, "prices_added", payload)
    summary["added"] = [shape(p) for p in prices]
    return summary


def _plain(row: dict) -> dict:
    return {**{k: row[k] for k in ("product", "spec", "grade", "unit", "price_fen")},
            "price_yuan": yuan_text(row["price_fen"]), "valid_from": row["valid_from"].isoformat(),
            "valid_to": row["valid_to"].isoformat() if row["valid_to"] else None}


# -- ending a row's validity -----------------------------------------------------------------------------


def end(session: Session, actor: str, at: datetime, price_id: int, valid_to: object) -> dict:
    """Set the last day a row applies (today or later; yesterday ends it from today on)."""
    chain.lock(session)
    p = session.get(Price, price_id) if isinstance(price_id, int) else None
    if p is None:
        raise NotFound(f"no price {price_id}")
    errors: dict[str, Text] = {}
    day = rows.day_field({"valid_to": valid_to}, "valid_to", errors, required=True)
    if errors:
        raise InvalidData(f"valid_to: {errors['valid_to']['en']}", errors)
    today = company_day(at)
    if p.valid_to is not None and p.valid_to < today:
        _refuse(f"price {p.id} no longer applies since {p.valid_to + timedelta(days=1)}: the past is not rewritten",
                f"该价格自 {p.valid_to + timedelta(days=1)} 起已失效，不能改写过去")
    if day < today - timedelta(days=1):
        _refuse(f"the last valid day can be yesterday at the earliest ({today - timedelta(days=1)}): "
                "quotations made until today relied on this price",
                f"有效期至最早为昨天（{today - timedelta(days=1)}）：今天之前的报价已按此价格报出")
    if day < p.valid_from:
        _refuse("the last valid day cannot be before the first", rows.BACKWARDS["zh"])
    if day == p.valid_to:
        _refuse(f"price {p.id} already ends on {day}", f"该价格的有效期已至 {day}")
    if p.valid_to is not None and day > p.valid_to:
        later = session.scalar(select(Price).where(
            Price.product == p.product, Price.spec == p.spec, Price.grade == p.grade, Price.id != p.id,
            Price.valid_from > p.valid_to, Price.valid_from <= day))
        if later is not None:
            _refuse(f"price {later.id} of the same item starts on {later.valid_from}, within the longer validity",
                    f"同一品名、规格、等级的价格 #{later.id} 自 {later.valid_from} 起有效，与延长的有效期重叠")
    previous = p.valid_to.isoformat() if p.valid_to else None
    p.valid_to, p.ended_by, p.ended_at = day, actor, at
    chain.record(session, at, actor, "price_ended", {"id": p.id, "valid_to": day.isoformat(),
                                                     "previous_valid_to": previous})
    return shape(p)


def _refuse(en: str, zh: str) -> None:
    raise InvalidData(en, {"valid_to": {"zh": zh, "en": en}})
