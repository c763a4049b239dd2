"""The KPI dashboard's figures (docs/kpi.md): who may see them, and how they are grouped.

`build(session, user, now, filters)` returns, for the instances registered in the date range
(company time, Asia/Shanghai; `from` and `to` both included) and optionally one process:

- `times`: per measure (first_response: target 24 h; resolution: target 48 h, both from
  engine/kpi/kpi.yaml) — complaint first response: registration -> the first of
  take_quality_by_manager / take_quality_by_director / propose_service_by_manager /
  propose_service_by_vp completed; aftersale first response: registration -> first_response;
  complaint resolution: registration -> implement_solution; aftersale resolution: registration
  -> the first `resolve`/`resolve_otherwise` completed with outcome resolved, a case closed unresolved
  being a breach — the figures of engine.kpi.stats.summarize: count (done), open, open_breached,
  unresolved, within, breached, share_within, median_hours, p90_hours — overall and per
  process, month (of the registration), role and person (who completed the measured task;
  for an interval still open, the role its task is offered to and its assignee, if any);
- `resolution_rate`: complaints registered, resolved (the accepted solution carried out), rate;
  overall and per month of registration;
- `satisfaction`: count, average, distribution 1..5 of the scores recorded in the range;
  overall and per process, month (of recording), role and person (aftersale: the engineer who
  resolved the case);
- `volume`: instances registered per process and month; user tasks completed in the range
  per role, person and month;
- `outcomes`: how the instances registered in the range ended (processes/outcomes.yaml), per
  process and per month: finished, still open, the count of each outcome, and the share of the
  finished ones whose outcome is positive (approved, won, delivered, resolved);
- `sales` (engine/kpi/sales.py): per whole month the range touches, the delivered orders' amount,
  the growth against the previous month, customers, repeat customers and the repeat-customer rate;
  overall and per person (who started the order). None when another process is chosen.

Who may see them: auditors and administrators, and whoever manages roles (the sales manager,
the sales director: they reassign their staff's work, and these figures judge that work). A
manager's per-role and per-person rows are cut to the roles they manage and those roles' holders.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import outcomes
from engine.errors import Forbidden
from engine.kpi import definitions, measures, sales, stats
from engine.kpi import filters as filter_rules
from engine.runtime.access import READ_ALL
from engine.store.models import User, UserRole
from engine.users import managed_roles, roles_of


def may_see(session: Session, user: User) -> bool:
    return bool(roles_of(user) & READ_ALL) or bool(managed_roles(session, user))


def check_may_see(session: Session, user: User) -> None:
    if not may_see(session, user):
        raise Forbidden(f"{user.username} may not see the KPI dashboard (auditors, administrators and managers may)")


def _grouped(items: Iterable, key: Callable, figures: Callable[[list], dict]) -> list[dict]:
    """[{key, **figures(items of that key)}] sorted by key, None (not attributed) last."""
    groups: dict = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    ordered = sorted(groups, key=lambda k: (k is None, k or ""))
    return [{"key": k, **figures(groups[k])} for k in ordered]


_DIMENSIONS: dict[str, Callable] = {
    "by_process": lambda x: x.process, "by_month": lambda x: x.month,
    "by_role": lambda x: x.role, "by_person": lambda x: x.person,
}


def _breakdown(items: list, figures: Callable[[list], dict]) -> dict:
    return {"overall": figures(items), **{name: _grouped(items, key, figures) for name, key in _DIMENSIONS.items()}}


def _times(session: Session, defs: definitions.Definitions, window: filter_rules.Window, now: datetime) -> list[dict]:
    found = []
    for measure in defs.measures:
        if window.process is not None and window.process not in {i.process for i in measure.intervals}:
            continue
        cases = measures.cases(session, measure, window, now, defs.timezone)

        def figures(items: list, target: float = measure.target_hours) -> dict:
            return stats.summarize((c.timing for c in items), target)

        found.append({"measure": measure.key, "target_hours": measure.target_hours,
                      "processes": [i.process for i in measure.intervals], **_breakdown(cases, figures)})
    return found


def _rate(registered: int, resolved: int) -> dict:
    return {"registered": registered, "resolved": resolved, "rate": stats.share(resolved, registered)}


def _resolution_rate(session: Session, defs: definitions.Definitions, window: filter_rules.Window,
                     instances: list[measures.Registered]) -> dict | None:
    if window.process not in (None, defs.rate_process):
        return None
    mine = [r for r in instances if r.process == defs.rate_process]
    resolved = measures.resolved_ids(session, defs.rate_process, defs.rate_resolved, window)

    def figures(items: list) -> dict:
        return _rate(len(items), sum(1 for r in items if r.instance_id in resolved))

    return {"process": defs.rate_process, "overall": figures(mine),
            "by_month": _grouped(mine, lambda r: r.month, figures)}


def _satisfaction(session: Session, defs: definitions.Definitions, window: filter_rules.Window) -> dict:
    found = [s for source in defs.satisfaction for s in measures.scores(session, source, window, defs.timezone)]
    return _breakdown(found, lambda items: stats.scores([s.value for s in items]))


def _volume(session: Session, window: filter_rules.Window, instances: list[measures.Registered], timezone: str) -> dict:
    done = measures.completed_tasks(session, window, timezone)

    def started(items: list) -> dict:
        return {"started": len(items), "processes": dict(sorted(Counter(r.process for r in items).items()))}

    def completed(items: list) -> dict:
        return {"completed": len(items)}

    return {"by_process": _grouped(instances, lambda r: r.process, lambda items: {"started": len(items)}),
            "by_month": _grouped(instances, lambda r: r.month, started),
            "tasks": {"overall": completed(done), "by_month": _grouped(done, lambda d: d.month, completed),
                      "by_role": _grouped(done, lambda d: d.role, completed),
                      "by_person": _grouped(done, lambda d: d.person, completed)}}


def _team(session: Session, user: User) -> tuple[set[str], set[str]] | None:
    """(roles, people) a manager may see broken down: the roles they manage, whoever holds them,
    and themselves. None: everything (auditors and administrators)."""
    if roles_of(user) & READ_ALL:
        return None
    roles = set(managed_roles(session, user))
    people = set(session.scalars(select(User.username).join(UserRole, UserRole.user_id == User.id)
                                 .where(UserRole.role_id.in_(roles))))
    return roles, people | {user.username}  # and their own row


def _only_team(report: dict | list, team: tuple[set[str], set[str]]) -> dict | list:
    """The report with its per-role and per-person rows cut to the team (totals stay whole)."""
    roles, people = team
    if isinstance(report, list):
        return [_only_team(item, team) if isinstance(item, dict | list) else item for item in report]
    kept = {}
    for name, value in report.items():
        if name in ("by_role", "by_person"):
            allowed = roles if name == "by_role" else people
            value = [row for row in value if row["key"] is None or row["key"] in allowed]
        elif isinstance(value, dict | list):
            value = _only_team(value, team)
        kept[name] = value
    return kept


def build(session: Session, user: User, now: datetime, filters: dict) -> dict:
    """The dashboard for `user` at `now`; Forbidden unless they may see it, InvalidData for a bad filter.
    A manager sees the totals and the rows of the roles they manage and their holders only."""
    check_may_see(session, user)
    defs = definitions.load()
    window = filter_rules.parse(session, filters, defs.timezone)
    instances = measures.registered(session, window, defs.timezone)
    report = _report(session, defs, window, instances, now)
    team = _team(session, user)
    return report if team is None else _only_team(report, team)


def _report(session: Session, defs: definitions.Definitions, window: filter_rules.Window,
            instances: list[measures.Registered], now: datetime) -> dict:
    return {
        "filters": window.as_dict(),
        "timezone": defs.timezone,
        "generated_at": now.isoformat(),
        "times": _times(session, defs, window, now),
        "resolution_rate": _resolution_rate(session, defs, window, instances),
        "satisfaction": _satisfaction(session, defs, window),
        "volume": _volume(session, window, instances, defs.timezone),
        "outcomes": _outcomes(instances),
        "sales": _sales(session, defs, window, now),
    }


def _sales(session: Session, defs: definitions.Definitions, window: filter_rules.Window, now: datetime) -> dict | None:
    source = defs.sales
    if source is None or window.process not in (None, *source.processes):
        return None
    if window.process is not None:  # one order process asked for: its orders only
        source = dataclasses.replace(source, processes=(window.process,))
    return sales.figures(session, source, window, now, defs.timezone)


def _outcomes(instances: list[measures.Registered]) -> dict:
    positive = outcomes.of_kind("positive")

    def figures(items: list) -> dict:
        ended = [r.outcome for r in items if r.outcome]
        return {"finished": len(ended), "open": len(items) - len(ended),
                "outcomes": dict(sorted(Counter(ended).items())),
                "positive_share": stats.share(sum(1 for o in ended if o in positive), len(ended))}

    return {"overall": figures(instances), "by_process": _grouped(instances, lambda r: r.process, figures),
            "by_month": _grouped(instances, lambda r: r.month, figures)}
