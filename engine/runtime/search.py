"""Searching instances, and exporting what a search finds with every trail.

Filters (all optional, combined with AND; docs/audit.md lists them for users):
- `process`: a process key; `status`: running | incident | completed | cancelled | error (`incident`:
  halted by a failed timer or message step, engine/runtime/incidents.py);
- `outcome`: how a finished instance ended (processes/outcomes.yaml: approved, rejected, won, ...);
- `customer`: part of the customer's name, any letter case (`instance.customer_name`, copied from
  the instance data's `customer_name` by every step);
- `business_key`: the start of the business key (an exact key matches itself), letter case kept;
- `started_from` / `started_to`: dates YYYY-MM-DD, both inclusive, as calendar days in company time
  (Asia/Shanghai): 2026-03-02 covers 2026-03-01 16:00 to 2026-03-02 16:00 UTC;
- `participant`: a user name that started the instance, or was assigned or completed one of its tasks;
- `started_by`: the user name that started it (a requester's "my requests");
- `sla_breached` true/false: an instance breached an SLA when a boundary SLA timer fired on it
  (an `escalated` event in its trail), one of its tasks was completed after its due time, or one
  of its open tasks is past its due time now: read from `instance.sla_breach_at`, which every step
  keeps (engine/runtime/sla.py).

Who finds what is access.may_see_instance, as the SQL condition access.visible gives, so that
counting and paging happen in the database: auditors and admins find every instance, everybody
else the instances they take part in (their page is sorted from the ids counted, or walked newest
first a window at a time: _partial_page).

The total is counted up to TOTAL_CAP instances past the page's start and no further: beyond that it
is "at least" (`total_capped`; the page shows "1,000+"). An exact count of every match would read
every instance found (at a million instances, a hundred thousand SLA breaches, or every instance a
busy sales manager takes part in) for a figure nobody pages through; our own choice (issue 17).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from engine import outcomes
from engine.audit.chain import instance_chain
from engine.audit.export import bundle_csv, bundle_json
from engine.clock import iso
from engine.config import COMPANY_TZ
from engine.days import day_start, parse_day
from engine.definitions.model import stored_model
from engine.errors import InvalidData
from engine.runtime import access, customer_names, sla
from engine.store.models import Instance, ProcessVersion, Task
from engine.users import Person

FILTERS = ("process", "customer", "business_key", "status", "outcome", "started_from", "started_to",
           "participant", "started_by", "sla_breached")
STATUSES = ("running", "incident", "completed", "cancelled", "error")
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
KNOWN = 2000  # ids counted that a page may be sorted from (_partial_page)
WINDOW, MAX_WINDOW = 200, 6400  # instances asked at once when a page is walked (_walked_page), first and at most
TOTAL_CAP = 1000  # instances counted past a page's start: beyond, the total is "at least" (module docstring)
MAX_EXPORT = 1000  # instances in one export: a larger file is better asked for in parts
FORMATS = ("json", "csv")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
_LIMITS = {"customer": 200, "business_key": 128, "participant": 64, "started_by": 64}


@dataclass(frozen=True)
class Filters:
    process: str | None = None
    customer: str | None = None
    business_key: str | None = None
    status: str | None = None
    outcome: str | None = None
    started_from: date | None = None
    started_to: date | None = None
    participant: str | None = None
    started_by: str | None = None
    sla_breached: bool | None = None

    def as_dict(self) -> dict:
        """The filters that are set, as JSON values (dates as YYYY-MM-DD)."""
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v is not None}


def _msg(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def _text(raw: dict, name: str, errors: dict, free: bool = False) -> str | None:
    """A text filter. Free texts (names) are trimmed and empty means no filter; codes (a process key,
    a status) must be given exactly."""
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = _msg("须为文本", "Must be a text")
        return None
    if "\x00" in value:
        errors[name] = _msg("不能含有 NUL 字符", "May not contain a NUL character")
        return None
    limit = _LIMITS.get(name, 128)
    if len(value) > limit:
        errors[name] = _msg(f"最多 {limit} 个字符", f"At most {limit} characters")
        return None
    return (value.strip() or None) if free else value


def _date(raw: dict, name: str, errors: dict) -> date | None:
    value = raw.get(name)
    if value is None:
        return None
    day = parse_day(value)
    if day is None:
        errors[name] = _msg("须为有效日期，格式 YYYY-MM-DD", "Must be a date as YYYY-MM-DD")
    return day


def _flag(raw: dict, name: str, errors: dict) -> bool | None:
    value = raw.get(name)
    if value is None or isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    # in the page's terms, the two choices it offers (the API documents the values: true or false)
    errors[name] = _msg("须为“超时”或“未超时”", "Must be “breached” or “not breached”")
    return None


def parse_filters(raw: dict[str, Any]) -> Filters:
    """The filters, checked; InvalidData naming every bad one (zh/en messages per field). A filter
    that is absent or None is no filter; so is an empty or blank customer, business key or participant."""
    if not isinstance(raw, dict):
        raise InvalidData("the filters must be an object")
    errors: dict[str, dict[str, str]] = {}
    for name in sorted(set(raw) - set(FILTERS)):
        errors[name] = _msg("未知的筛选条件", f"Unknown filter; the filters are {', '.join(FILTERS)}")
    texts = {name: _text(raw, name, errors, free=name in _LIMITS)
             for name in ("process", "customer", "business_key", "status", "outcome", "participant", "started_by")}
    if texts["process"] is not None and not _KEY.fullmatch(texts["process"]):
        errors["process"] = _msg("不是有效的流程标识", "Not a process key")
    if texts["status"] is not None and texts["status"] not in STATUSES:
        errors["status"] = _msg("须为 running、incident、completed、cancelled 或 error",
                                "Must be running, incident, completed, cancelled or error")
    known = outcomes.load()
    if texts["outcome"] is not None and texts["outcome"] not in known:
        errors["outcome"] = _msg(f"须为 {'、'.join(known)} 之一", f"Must be one of {', '.join(known)}")
    started_from, started_to = _date(raw, "started_from", errors), _date(raw, "started_to", errors)
    if started_from and started_to and started_to < started_from:
        errors["started_to"] = _msg("结束日期不能早于开始日期", "Must not be before the start date")
    sla = _flag(raw, "sla_breached", errors)
    if errors:
        raise InvalidData(f"invalid search filters: {', '.join(sorted(errors))}", errors)
    return Filters(texts["process"], texts["customer"], texts["business_key"], texts["status"], texts["outcome"],
                   started_from, started_to, texts["participant"], texts["started_by"], sla)


def _whole(value: object, name: str, low: int, high: int) -> int:
    """A page number or size given as an int or as digits (a query string's)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    raise InvalidData(f"{name} must be a whole number from {low} to {high}",
                      {name: _msg(f"须为 {low} 到 {high} 之间的整数", f"Must be a whole number from {low} to {high}")})


# -- the SQL -----------------------------------------------------------------------------------


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _breach_filter(f: Filters, now: datetime) -> ColumnElement[bool] | None:
    """The SLA filter (None: not asked), read from the instance's own row (sla.py). Breached: the partial index
    ix_instance_sla_breach walked newest first (migration 0019); not breached: row by row, as most are."""
    if f.sla_breached is None:
        return None
    if f.sla_breached:
        return sla.breached_by(now)
    return or_(Instance.sla_breach_at.is_(None), ~sla.breached_by(now))


def conditions(session: Session, f: Filters, user: Person, now: datetime) -> list[ColumnElement[bool]]:
    """The SQL conditions of the filters and of what the user may see, for a page (or an export)."""
    return _conditions(session, f, access.visible(session, user), _breach_filter(f, now))


def _conditions(session: Session, f: Filters, seen: ColumnElement[bool] | None,
                breach: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    """The filters' conditions with what the user may see (`seen`, None: everything) and the SLA filter as
    _breach_filter gives it. The SLA filter first, then `seen`: a database that keeps the written order
    probes visibility only for the rows that pass."""
    where = [c for c in (breach, seen) if c is not None]
    if f.process:
        where.append(Instance.process_key == f.process)
    if f.status:
        where.append(Instance.status == f.status)
    if f.outcome:
        where.append(Instance.outcome == f.outcome)
    if f.started_by:
        where.append(Instance.started_by == f.started_by)
    if f.customer:  # a part of a name matches anywhere: in the few distinct names, then their instances by index
        where.append(Instance.customer_name.in_(customer_names.matching(f"%{_like_escape(f.customer)}%", "\\")))
    if f.business_key:
        # LIKE lets PostgreSQL use the index; the substr comparison keeps letter case on SQLite too
        where.append(Instance.business_key.like(f"{_like_escape(f.business_key)}%", escape="\\"))
        where.append(func.substr(Instance.business_key, 1, len(f.business_key)) == f.business_key)
    if f.started_from:
        where.append(Instance.started_at >= day_start(f.started_from, COMPANY_TZ))
    if f.started_to:
        where.append(Instance.started_at < day_start(f.started_to + timedelta(days=1), COMPANY_TZ))
    if f.participant:
        took_part = select(Task.id).where(Task.instance_id == Instance.id, or_(
            Task.assignee == f.participant, Task.completed_by == f.participant)).exists()
        where.append(or_(Instance.started_by == f.participant, took_part))
    return where


NEWEST_FIRST = (Instance.started_at.desc(), Instance.id.desc())


def _partial_page(session: Session, f: Filters, seen: ColumnElement[bool], breach: ColumnElement[bool] | None,
                  offset: int, per_page: int) -> tuple[int, Select | list[int]]:
    """(the matches counted, up to one past TOTAL_CAP past the page's start; the page's ids) for someone who
    sees a part of the instances (`seen`). The count keeps the ids it counted: when they are all there are
    and few (KNOWN), the page is sorted from them, no instance probed twice (for someone who takes part in
    few, probing every candidate is the search's whole cost); else the page is walked (_walked_page)."""
    counted = offset + TOTAL_CAP
    ids = list(session.scalars(select(Instance.id).where(*_conditions(session, f, seen, breach))
                               .limit(counted + 1)))
    if len(ids) <= min(counted, KNOWN):
        return len(ids), (select(Instance.id).where(Instance.id.in_(ids)).order_by(*NEWEST_FIRST).limit(per_page)
                          .offset(offset))
    return len(ids), _walked_page(session, _conditions(session, f, None, breach), seen, offset, per_page)


def _walked_page(session: Session, where: list[ColumnElement[bool]], seen: ColumnElement[bool], offset: int,
                 per_page: int) -> list[int]:
    """The page's ids for someone who sees a part of the instances: those that match the filters (`where`),
    newest first, a window at a time, and of each window the ones he may see (`seen`, asked of its ids), until
    the page is full. In one query SQLite would probe what he may see for every instance found before it
    sorts them (34,000 for a common customer name at a million instances, benchmark 9), not for the newest
    few hundred."""
    wanted = offset + per_page
    found: list[int] = []
    after: tuple | None = None
    size = WINDOW
    while len(found) < wanted:
        query = select(Instance.id, Instance.started_at).where(*where)
        if after is not None:  # past the last window: newest first is (started_at, id) descending
            query = query.where(or_(Instance.started_at < after[0],
                                    and_(Instance.started_at == after[0], Instance.id < after[1])))
        window = session.execute(query.order_by(*NEWEST_FIRST).limit(size)).all()
        ids = [row.id for row in window]
        mine = set(session.scalars(select(Instance.id).where(Instance.id.in_(ids), seen))) if ids else set()
        found += [i for i in ids if i in mine]
        if len(window) < size:
            break
        after = (window[-1].started_at, window[-1].id)
        size = min(2 * size, MAX_WINDOW)
    return found[offset:wanted]


def _process_names(session: Session, version_ids: set[int]) -> dict[int, dict[str, str]]:
    rows = session.execute(select(ProcessVersion.id, ProcessVersion.key, ProcessVersion.name,
                                  ProcessVersion.model_json).where(ProcessVersion.id.in_(version_ids)))
    names = {}
    for vid, key, name, model_json in rows:
        name_en = stored_model(model_json, key).name_en
        names[vid] = {"zh": name, "en": name_en or name}
    return names


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# -- the commands ------------------------------------------------------------------------------


def search(session: Session, user: Person, now: datetime, filters: dict, page: int = 1, per_page: int = 25) -> dict:
    """{items, total, total_capped, page, per_page, pages}: one page of the instances found, newest first
    (`pages` is at least 1; a page past the last is empty). `total` is exact unless `total_capped`: then
    at least that many match (TOTAL_CAP past the page's start), and `pages` goes as far."""
    f = parse_filters(filters)
    page, per_page = _whole(page, "page", 1, MAX_PAGE), _whole(per_page, "per_page", 1, MAX_PER_PAGE)
    seen = access.visible(session, user)
    breach = _breach_filter(f, now)
    offset = (page - 1) * per_page
    counted = offset + TOTAL_CAP
    if seen is None:
        where = _conditions(session, f, None, breach)
        found = session.scalar(select(func.count()).select_from(
            select(Instance.id).where(*where).limit(counted + 1).subquery())) or 0
        # the page's ids first, then its columns: a database computes the selected columns (the SLA and open
        # task subqueries) before it sorts, for every instance found, not for the page's only
        page_ids: Select | list[int] = (select(Instance.id).where(*where).order_by(*NEWEST_FIRST).limit(per_page)
                                        .offset(offset))
    else:
        found, page_ids = _partial_page(session, f, seen, breach, offset, per_page)
    total = min(found, counted)
    open_tasks = (select(func.count(Task.id)).where(Task.instance_id == Instance.id, Task.status == "ready")
                  .scalar_subquery())
    # the version as a subquery, not a join: with a join SQLite may drive the query from process_version
    version = select(ProcessVersion.version).where(ProcessVersion.id == Instance.process_version_id).scalar_subquery()
    query = (select(Instance.id, Instance.process_key, Instance.process_version_id, version.label("version"),
                    Instance.business_key, Instance.customer_name, Instance.status, Instance.outcome,
                    Instance.started_by, Instance.started_at, Instance.ended_at,
                    Instance.sla_breach_at, open_tasks.label("open_tasks"))
             .where(Instance.id.in_(page_ids)).order_by(*NEWEST_FIRST))
    rows = session.execute(query).all()
    names = _process_names(session, {r.process_version_id for r in rows})
    items = [{"id": r.id, "process_key": r.process_key, "process_name": names[r.process_version_id]["zh"],
              "process_names": names[r.process_version_id], "version": r.version, "business_key": r.business_key,
              "customer_name": r.customer_name, "status": r.status, "outcome": r.outcome,
              "started_by": r.started_by, "started_at": _ts(r.started_at), "ended_at": _ts(r.ended_at),
              "sla_breached": sla.is_breached(r.sla_breach_at, now),
              "open_tasks": r.open_tasks} for r in rows]
    return {"items": items, "total": total, "total_capped": found > counted, "page": page, "per_page": per_page,
            "pages": max(1, math.ceil(total / per_page))}


def export(session: Session, user: Person, now: datetime, filters: dict, fmt: str) -> str:
    """Every instance the search finds (at most MAX_EXPORT), each with its whole trail: a JSON
    bundle of chain documents (each verifiable offline, docs/audit.md) or CSV, one row per event."""
    if fmt not in FORMATS:
        raise InvalidData("format must be json or csv", {"format": _msg("须为 json 或 csv", "Must be json or csv")})
    f = parse_filters(filters)
    where = conditions(session, f, user, now)
    # counted no further than one past the limit: at a million instances an exact count of a wide search
    # takes seconds, and all the refusal needs to say is that there are more than an export holds
    found = session.scalar(select(func.count()).select_from(
        select(Instance.id).where(*where).limit(MAX_EXPORT + 1).subquery())) or 0
    if found > MAX_EXPORT:
        raise InvalidData(f"more than {MAX_EXPORT} instances found; an export holds at most {MAX_EXPORT}: "
                          "narrow the filters (a date range, a process)",
                          {"export": _msg(f"找到超过 {MAX_EXPORT} 个实例，一次最多导出 {MAX_EXPORT} 个：请缩小筛选范围",
                                          f"More than {MAX_EXPORT} instances found; an export holds at most "
                                          f"{MAX_EXPORT}: narrow the filters")})
    rows = session.execute(select(Instance.id, Instance.process_key, Instance.status, Instance.outcome)
                           .where(*where).order_by(*NEWEST_FIRST)).all()
    summaries = {instance_chain(r.id): {"id": r.id, "process_key": r.process_key, "status": r.status,
                                        "outcome": r.outcome} for r in rows}
    if fmt == "json":
        return bundle_json(session, [instance_chain(r.id) for r in rows], f.as_dict(), iso(now), user.username,
                           summaries)
    return bundle_csv(session, [(r.id, instance_chain(r.id)) for r in rows], summaries)
