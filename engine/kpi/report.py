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

- issue 14 (engine/kpi/safety.py, training.py, opinions.py, appraisal.py; kpi.yaml): `hazards` open and
  overdue as at the range's end, registered and removed in it; `accidents` by cause and severity;
  `training` pass rate; `opinions` answered within their deadline; `appraisal` per person.

Who may see what is decided in engine/runtime/access.py (kpi_view): auditors and administrators
everything; whoever manages roles (the sales manager, the sales director: they reassign their staff's
work, and these figures judge that work) the totals, with the per-role and per-person rows cut to the
roles they manage and those roles' holders; a member of the staff only his own appraisal.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from engine import outcomes
from engine.kpi import appraisal, definitions, measures, opinions, safety, sales, sections, stats, times, training
from engine.kpi import filters as filter_rules
from engine.kpi.day_rows import asked
from engine.kpi.parallel_reads import Beside, Pending, Sessions, beside
from engine.kpi.rollups import COMPLETED_DIMENSIONS
from engine.runtime import access
from engine.users import Person


def may_see(session: Session, user: Person) -> bool:
    """Whether the dashboard opens for this user at all (engine/runtime/access.py decides what they see)."""
    return access.kpi_view(session, user) is not None


def _ordered(keys: Iterable) -> list:
    """Row keys in the page's order: sorted, None (not attributed) last."""
    return sorted(keys, key=lambda k: (k is None, k or ""))


def _grouped(items: Iterable, key: Callable, figures: Callable[[list], dict]) -> list[dict]:
    """[{key, **figures(items of that key)}] sorted by key, None (not attributed) last."""
    groups: dict = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return [{"key": k, **figures(groups[k])} for k in _ordered(groups)]


_DIMENSIONS: dict[str, Callable] = {  # in this order: _timing_breakdown's keys
    "by_process": lambda x: x.process, "by_month": lambda x: x.month,
    "by_role": lambda x: x.role, "by_person": lambda x: x.person,
}


def _breakdown(items: list, figures: Callable[[list], dict]) -> dict:
    return {"overall": figures(items), **{name: _grouped(items, key, figures) for name, key in _DIMENSIONS.items()}}


def _timing_breakdown(cases: Iterable[measures.Case], target: float) -> dict:
    """_breakdown of stats.summarize, gathered case by case (the cases of a million instances are never held):
    one summary per combination of the dimensions, merged into each dimension's rows at the end."""
    combined: dict[tuple, stats.Summary] = {}
    for case in cases:
        key = (case.process, case.month, case.role, case.person)
        summary = combined.get(key)
        if summary is None:
            summary = combined[key] = stats.Summary(target)
        summary.add(case.timing)
    overall, groups = stats.Summary(target), {name: {} for name in _DIMENSIONS}
    for key, summary in combined.items():
        overall.merge(summary)
        for position, found in enumerate(groups.values()):
            if key[position] not in found:
                found[key[position]] = stats.Summary(target)
            found[key[position]].merge(summary)
    return {"overall": overall.figures(),
            **{name: [{"key": k, **found[k].figures()} for k in _ordered(found)] for name, found in groups.items()}}


def measure_times(session: Session, defs: definitions.Definitions, measure: definitions.Measure,
                  window: filter_rules.Window, now: datetime) -> dict:
    """One measure's breakdown: counted and ranked by the database from the decided cases' rows (engine/kpi/times.py),
    or, for an interval that starts at a task, every case summarized here."""
    if times.supported(session, measure):
        return times.breakdown(session, measure, window, now, defs.timezone)
    return _timing_breakdown(measures.cases(session, measure, window, now, defs.timezone), measure.target_hours)


def _start_times(parts: Beside, defs: definitions.Definitions, window: filter_rules.Window,
                 now: datetime) -> list[tuple[dict, Pending[dict]]]:
    """Each chosen measure's heading and its breakdown, started beside the rest of the page (the page's longest
    parts, independent of everything else it reads)."""
    started = []
    for measure in defs.measures:
        if window.process is not None and window.process not in {i.process for i in measure.intervals}:
            continue
        heading = {"measure": measure.key, "target_hours": measure.target_hours,
                   "processes": [i.process for i in measure.intervals]}
        started.append((heading, parts.start(
            lambda s, m=measure: measure_times(s, defs, m, window, now))))
    return started


def _times(session: Session, started: list[tuple[dict, Pending[dict]]]) -> list[dict]:
    return [{**heading, **pending.result(session)} for heading, pending in started]


def _rate(registered: int, resolved: int) -> dict:
    return {"registered": registered, "resolved": resolved, "rate": stats.share(resolved, registered)}


# the instances registered in the range, counted by the database
Registered = list[measures.Registrations]


def _resolution_rate(session: Session, defs: definitions.Definitions, window: filter_rules.Window,
                     instances: Registered) -> dict | None:
    if window.process not in (None, defs.rate_process):
        return None
    mine: Counter[str] = Counter()
    for row in instances:
        if row.process == defs.rate_process:
            mine[row.month] += row.count
    resolved = resolved_counts(session, defs, window)
    return {"process": defs.rate_process, "overall": _rate(sum(mine.values()), sum(resolved.values())),
            "by_month": [{"key": m, **_rate(mine[m], resolved[m])} for m in _ordered(mine)]}


def resolved_counts(session: Session, defs: definitions.Definitions, window: filter_rules.Window) -> Counter[str]:
    """The resolution rate's resolved instances per month: a measure's decided cases when one ends where the rate's
    `resolved` point is (kpi_case, a range of its index), else every instance read (measures.resolved)."""
    measure = times.reaching(defs.measures, defs.rate_process, defs.rate_resolved)
    if measure is not None and times.supported(session, measure):
        return times.reached(session, measure, defs.rate_process, window, defs.timezone)
    return measures.resolved(session, defs.rate_process, defs.rate_resolved, window, defs.timezone)


def _satisfaction(session: Session, defs: definitions.Definitions, window: filter_rules.Window) -> dict:
    """_breakdown of stats.scores, from each source's counts per month, role and person (measures.score_counts): a
    distribution per row of each breakdown; overall and per process from the months (each score counts once each)."""
    rows: dict[str, dict] = {name: {} for name in _DIMENSIONS}
    for source in defs.satisfaction:
        for c in measures.score_counts(session, source, window, defs.timezone):
            keys = ((c.dim, c.key), ("by_process", source.process)) if c.dim == "by_month" else ((c.dim, c.key),)
            for dim, key in keys:
                found = rows[dim]
                (found.get(key) or found.setdefault(key, [0] * 5))[c.value - 1] += c.n
    overall = [sum(n) for n in zip(*rows["by_process"].values(), strict=True)] or [0] * 5
    return {"overall": stats.distributed_scores(overall),
            **{name: [{"key": k, **stats.distributed_scores(found[k])} for k in _ordered(found)]
               for name, found in rows.items()}}


def _volume(session: Session, window: filter_rules.Window, instances: Registered, now: datetime,
            timezone: str) -> dict:
    done = measures.completed_tasks(session, window, now, timezone)

    def started(rows: list[measures.Registrations]) -> dict:
        processes: Counter[str] = Counter()
        for row in rows:
            processes[row.process] += row.count
        return {"started": sum(processes.values()), "processes": dict(sorted(processes.items()))}

    def completed(rows: list[measures.Completions]) -> dict:
        return {"completed": sum(r.count for r in rows)}

    per_dim = {name: [row for row in done if row.dim == name] for name in COMPLETED_DIMENSIONS}
    return {"by_process": _grouped(instances, lambda r: r.process,
                                   lambda rows: {"started": sum(r.count for r in rows)}),
            "by_month": _grouped(instances, lambda r: r.month, started),
            "tasks": {"overall": completed(per_dim["by_month"]),  # (a task is completed in one month)
                      **{name: _grouped(rows, lambda d: d.key, completed) for name, rows in per_dim.items()}}}


def _only_team(report: dict | list, team: tuple[frozenset[str], frozenset[str]]) -> dict | list:
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


def build(session: Session, user: Person, now: datetime, filters: dict,
          sessions: Sessions | None = None) -> dict:
    """The dashboard for `user` at `now`; Forbidden unless they may see it, InvalidData for a bad filter.
    What they see is access.kpi_view's: everything; a manager the totals and the rows of the roles he manages
    and their holders; a member of the staff his own appraisal only (the team's figures are None). With
    `sessions` (read sessions of their own), the measures' times are read beside the rest (parallel_reads)."""
    view = access.check_kpi_view(session, user)
    defs = definitions.load()
    window = filter_rules.parse(session, filters, defs.timezone)
    if not view.team:
        return {"filters": window.as_dict(), "timezone": defs.timezone, "generated_at": now.isoformat(),
                "view": "own", **dict.fromkeys(TEAM_SECTIONS), "appraisal": appraisal_figures(session, window,
                                                                                             view.people)}
    times.prepare(session, defs.measures, window, defs.timezone)  # (asked once for the page: its parts are told)
    with beside(sessions, asked(session)) as parts:
        started = _start_times(parts, defs, window, now)  # (authorized above: a part reads team figures only)
        people = appraisal_figures(session, window, view.people)
        instances = measures.registered(session, window, defs.timezone)  # counts, a few rows per month
        issue_14 = operations(session, window, now, defs.timezone)
        report = {**_report(session, defs, window, instances, now, started), **issue_14, "view": "team",
                  "appraisal": people}
    return report if view.roles is None else _only_team(report, (view.roles, view.people or frozenset()))


TEAM_SECTIONS = ("times", "resolution_rate", "satisfaction", "volume", "outcomes", "sales", "hazards", "accidents",
                 "training", "opinions")


def _chosen(window: filter_rules.Window, *processes: str) -> bool:
    return window.process is None or window.process in processes


def operations(session: Session, window: filter_rules.Window, now: datetime, timezone: str) -> dict:
    """Issue 14's team figures: hazards, accidents, training, opinions (None when another process is chosen)."""
    spec = sections.load()
    return {
        "hazards": safety.hazards(session, spec.hazards, window, now) if _chosen(window, spec.hazards.process)
        else None,
        "accidents": safety.accidents(session, spec.accidents, window) if _chosen(window, spec.accidents.process)
        else None,
        "training": training.figures(session, spec.training, window) if _chosen(window, spec.training.process)
        else None,
        "opinions": opinions.figures(session, spec.opinions, window, now, timezone)
        if _chosen(window, spec.opinions.process) else None,
    }


def appraisal_figures(session: Session, window: filter_rules.Window, people: frozenset[str] | None) -> dict | None:
    """The appraisal per person, for the people the user may see (None when another process is chosen)."""
    spec = sections.load().appraisal
    if not _chosen(window, spec.process, spec.violations.process):
        return None
    return appraisal.figures(session, spec, window, people)


def _report(session: Session, defs: definitions.Definitions, window: filter_rules.Window,
            instances: Registered, now: datetime, started: list[tuple[dict, Pending[dict]]]) -> dict:
    rest = {  # read while the times' parts run: their results are asked for last
        "resolution_rate": _resolution_rate(session, defs, window, instances),
        "satisfaction": _satisfaction(session, defs, window),
        "volume": _volume(session, window, instances, now, defs.timezone),
        "outcomes": _outcomes(instances),
        "sales": _sales(session, defs, window, now),
    }
    return {"filters": window.as_dict(), "timezone": defs.timezone, "generated_at": now.isoformat(),
            "times": _times(session, started), **rest}


def _sales(session: Session, defs: definitions.Definitions, window: filter_rules.Window, now: datetime) -> dict | None:
    source = defs.sales
    if source is None or window.process not in (None, *source.processes):
        return None
    if window.process is not None:  # one order process asked for: its orders only
        source = dataclasses.replace(source, processes=(window.process,))
    return sales.figures(session, source, window, now, defs.timezone)


def _outcomes(instances: Registered) -> dict:
    positive = outcomes.of_kind("positive")

    def figures(rows: list) -> dict:
        ended: Counter[str] = Counter()
        for row in rows:
            if row.outcome:
                ended[row.outcome] += row.count
        finished = sum(ended.values())
        return {"finished": finished, "open": sum(r.count for r in rows) - finished,
                "outcomes": dict(sorted(ended.items())),
                "positive_share": stats.share(sum(n for o, n in ended.items() if o in positive), finished)}

    return {"overall": figures(instances), "by_process": _grouped(instances, lambda r: r.process, figures),
            "by_month": _grouped(instances, lambda r: r.month, figures)}
