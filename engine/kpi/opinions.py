"""Customer opinions answered within their deadline (issue 14 item 4; seed 93, 262: 及时处理并反馈): docs/kpi.md.

Opinions (P11 `customer_opinion`) registered in the range. Each one's deadline is `answer_due` in its data (5
working days after the registration, fixed then; the timer `answer_overdue` waits for the same instant). As at
the end of the range (records.as_at):
- answered on time: the customer answered (`answer_customer` completed) at or before the deadline;
- answered late: answered after it;
- open past the deadline: not answered, still running, and the deadline has passed;
- open: not answered, still inside the deadline;
- not measured: ended without an answer (passed on as a complaint, which P4 answers; cancelled).
share_on_time = on time / (on time + late + open past the deadline), like the share within target of the times:
an opinion still inside its deadline may yet be answered on time. Per month of registration too.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from engine.kpi import records, stats
from engine.kpi.filters import Window
from engine.kpi.measures import month_of
from engine.kpi.sections import Opinions

STATES = ("on_time", "late", "open_overdue", "open", "not_measured")


def _deadline(data: dict, field: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(str(data[field]))
    except (KeyError, ValueError):
        return None
    return value.astimezone(UTC) if value.tzinfo else None


def state(answered: datetime | None, deadline: datetime | None, ended: datetime | None, at: datetime) -> str:
    """Which of STATES an opinion is in as at the instant."""
    if answered is not None and answered <= at:
        return "late" if deadline is not None and answered > deadline else "on_time"
    if ended is not None and ended <= at:
        return "not_measured"
    return "open_overdue" if deadline is not None and deadline < at else "open"


def _figures(states: list[str]) -> dict:
    counts = {s: states.count(s) for s in STATES}
    decided = counts["on_time"] + counts["late"] + counts["open_overdue"]
    return {"registered": len(states), **counts, "answered": counts["on_time"] + counts["late"],
            "share_on_time": stats.share(counts["on_time"], decided)}


def figures(session: Session, spec: Opinions, window: Window, now: datetime, timezone: str) -> dict:
    at = records.as_at(window, now)
    found = [i for i in records.instances(session, spec.process, window) if i.started_at < at]
    done = records.completions(session, [i.id for i in found], spec.answered.tasks)
    per_month: dict[str, list[str]] = defaultdict(list)
    every = []
    for inst in found:
        answer = records.first(done.get(inst.id, []), spec.answered)
        s = state(answer.at if answer else None, _deadline(records.instance_data(inst), spec.deadline),
                  inst.ended_at, at)
        every.append(s)
        per_month[month_of(inst.started_at, timezone)].append(s)
    return {"process": spec.process, "as_at": at.astimezone(UTC).isoformat(), "overall": _figures(every),
            "by_month": [{"key": m, **_figures(per_month[m])} for m in sorted(per_month)]}
