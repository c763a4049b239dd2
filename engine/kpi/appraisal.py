"""The appraisal per person (issue 14, P12; seed 80, 239-241, 312: 考核结果作为奖惩的依据): docs/kpi.md.

Per person (login id), for the range:
- `appraisals`: each approved monthly appraisal (P12a `monthly_appraisal`: the sales director's approval
  completed with approved = true) whose month (`appraisal_month`) the range touches: the person's row of the
  approved round's sales figures (sales, target met) and the rewards and penalties proposed for them
  (measure, bonus, deduction, reason) — the round the director approved, not a returned one;
- `violations`: each sanction of a staff member's violation (P12b `violation`) recorded in the range (the
  office served and recorded it): the sanction by its label, the fine or the days, the decision's number;
- totals: bonus, deduction and fines in yuan.
Which people's rows a user sees is decided in engine/runtime/access.py (kpi_view).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.kpi import records, stats
from engine.kpi.filters import Window
from engine.kpi.sections import Appraisal, Violations
from engine.store.models import User


def _month_touched(month: object, window: Window) -> bool:
    """Whether the range touches the month `YYYY-MM` (the whole month counts, as for sales)."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except (TypeError, ValueError):
        return False
    last = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (window.day_to is None or first <= window.day_to) and (window.day_from is None or window.day_from < last)


def _money(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _approved_rounds(session: Session, spec: Appraisal, window: Window) -> list[tuple[int, dict]]:
    """(instance id, the approved round's data) of the approved appraisals whose month the range touches."""
    found = records.instances(session, spec.process)
    done = records.completions(session, [i.id for i in found], {*spec.approved.tasks, *spec.proposed_by})
    rounds = []
    for inst in found:
        history = done.get(inst.id, [])
        approval = records.first(history, spec.approved)
        before = history[:history.index(approval)] if approval else []  # in the trail's order: one instant may
        proposals = [c for c in before if c.task in spec.proposed_by]    # hold several steps
        if not proposals:
            continue
        data = {**records.instance_data(inst), **proposals[-1].data}
        if _month_touched(data.get(spec.month), window):
            rounds.append((inst.id, data))
    return rounds


def _appraisal_rows(session: Session, spec: Appraisal, window: Window) -> dict[str, list[dict]]:
    people: dict[str, list[dict]] = {}
    for iid, data in _approved_rounds(session, spec, window):
        figures = {r["login_id"].strip(): r for r in data.get("figures") or []
                   if isinstance(r, dict) and isinstance(r.get("login_id"), str)}
        measures: dict[str, list[dict]] = {}
        for row in data.get("proposals") or []:
            if isinstance(row, dict) and isinstance(row.get("login_id"), str):
                measures.setdefault(row["login_id"].strip(), []).append(
                    {"measure": row.get("measure"), "bonus_yuan": _money(row.get("bonus_yuan")),
                     "deduction_yuan": _money(row.get("deduction_yuan")), "reason": row.get("reason")})
        for login in sorted(set(figures) | set(measures)):
            fig = figures.get(login, {})
            mine = measures.get(login, [])
            people.setdefault(login, []).append({
                "instance_id": iid, "month": data.get(spec.month), "sales_yuan": fig.get("sales_yuan"),
                "target_met": fig.get("target_met"), "remarks": fig.get("remarks"), "measures": mine,
                "bonus_yuan": stats.yuan(m["bonus_yuan"] for m in mine),
                "deduction_yuan": stats.yuan(m["deduction_yuan"] for m in mine)})
    return people


def _violation_rows(session: Session, spec: Violations, window: Window) -> dict[str, list[dict]]:
    found = {i.id: i for i in records.instances(session, spec.process)}
    done = records.completions(session, found, spec.recorded.tasks)
    labels = records.option_labels(session, spec.sanction)
    people: dict[str, list[dict]] = {}
    for iid, history in sorted(done.items()):
        recorded = records.first(history, spec.recorded)
        data = records.instance_data(found[iid])
        person = data.get(spec.person)
        if recorded is None or not window.contains(recorded.at) or data.get("violator_kind") != "staff" \
                or not isinstance(person, str):
            continue
        people.setdefault(person.strip(), []).append({
            "instance_id": iid, "recorded_at": recorded.at.isoformat(),
            "sanction": records.labelled(data.get(spec.sanction.field), labels),
            "fine_yuan": _money(data.get("fine_yuan")), "suspension_days": data.get("suspension_days"),
            "decision_no": data.get("decision_no"), "effective_date": data.get("effective_date")})
    return people


def _names(session: Session, logins: Iterable[str]) -> dict[str, str]:
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(list(logins))))
    return {r.username: r.display_name for r in rows}


def figures(session: Session, spec: Appraisal, window: Window, people: frozenset[str] | None) -> dict:
    """{process, people: [{key, name, appraisals, violations, bonus_yuan, deduction_yuan, fines_yuan}]};
    `people`: the logins the user may see (None: everyone)."""
    appraisals = _appraisal_rows(session, spec, window)
    violations = _violation_rows(session, spec.violations, window)
    logins = sorted(k for k in set(appraisals) | set(violations) if people is None or k in people)
    names = _names(session, logins)
    rows = []
    for login in logins:
        mine, sanctions = appraisals.get(login, []), violations.get(login, [])
        rows.append({"key": login, "name": names.get(login), "appraisals": mine, "violations": sanctions,
                     "bonus_yuan": stats.yuan(a["bonus_yuan"] for a in mine),
                     "deduction_yuan": stats.yuan(a["deduction_yuan"] for a in mine),
                     "fines_yuan": stats.yuan(v["fine_yuan"] for v in sanctions)})
    return {"process": spec.process, "violation_process": spec.violations.process, "people": rows}
