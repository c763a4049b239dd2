"""Which of the KPI page's stored counts the page cannot use, and so counts again from the source rows.

The counts are kept as steps run, for the zone, targets and end tasks of kpi.yaml at the time. When kpi.yaml
changes (a release), or an instant fell outside the listed days, the page still shows the right figures, read from
every task row of the range instead: at a million instances minutes, not milliseconds. /healthz names the stale
counts (webui/ops.py, through Engine.kpi_counts_state) so that whoever watches a release runs `salesflow kpi rebuild`
(our own choice: the page itself shows its figures either way, and is no place for an operator's message).

What this cannot see: a change of the rules that decide a case or a score (an interval's end data, its unresolved
outcomes, a satisfaction source) leaves `kpi_case` and `kpi_score` decided by the old rule, with no trace of which
rule that was. So such a change ships with a migration that decides them again (as 0023 and 0033 did):
tests/test_kpi__freshness.py holds kpi.yaml's rules to DECIDED_BY and says so when they change. Whoever edits
kpi.yaml outside a release runs `salesflow kpi rebuild` (docs/deployment.md).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.kpi import case_days, definitions, open_cases, quantiles, rollups, score_days

# definitions.decided_by of the kpi.yaml whose rules the migrations last decided every case and score by
DECIDED_BY = "85014e1562d73492"


def stale(session: Session, defs: definitions.Definitions) -> list[str]:
    """The stored counts (by table, and measure where they are per measure) the page would not use now."""
    zone = defs.timezone
    found = [] if rollups.usable(session, zone) else ["kpi_completed_day", "kpi_registered_day"]
    if not score_days.usable(session, zone):
        found.append("kpi_score_day")
    for measure in defs.measures:
        checks = (("kpi_case_day", case_days.usable), ("kpi_open_day", open_cases.usable),
                  ("kpi_hours_month", quantiles.usable))
        found += [f"{table} ({measure.key})" for table, usable in checks if not usable(session, measure, zone)]
    return found
