"""Training pass rate (issue 14; seed 91, 94: 培训部 … 考核): docs/kpi.md "Training".

Read from the results the training officer recorded (P10 `training`, task `record_results`, one row per
participant) in the range, by the time they were recorded. A participant who attended was assessed; the pass
rate is passed / assessed. Someone absent was not assessed and is counted apart. Overall, per kind of
training (the plan's, labelled by its form) and per session (one instance: its topic and the day it was held).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from engine.kpi import records, stats
from engine.kpi.filters import Window
from engine.kpi.sections import Training


def _figures(rows: list[dict], spec: Training) -> dict:
    assessed = [r for r in rows if r.get(spec.attended) is True]
    passed = sum(1 for r in assessed if r.get(spec.passed) is True)
    return {"participants": len(rows), "assessed": len(assessed), "absent": len(rows) - len(assessed),
            "passed": passed, "failed": len(assessed) - passed, "pass_rate": stats.share(passed, len(assessed))}


def figures(session: Session, spec: Training, window: Window) -> dict:
    found = {i.id: i for i in records.instances(session, spec.process)}
    done = records.completions(session, found, [spec.task])
    labels = records.option_labels(session, spec.kind_option)
    per_kind: dict[str | None, list[dict]] = defaultdict(list)
    sessions, every = [], []
    for iid, completions in sorted(done.items()):
        recorded = [c for c in completions if window.contains(c.at)]
        if not recorded:
            continue
        latest = recorded[-1]  # the task is done once; a later version might let it be done again
        rows = [r for r in latest.data.get(spec.list_field) or [] if isinstance(r, dict)]
        data = {**records.instance_data(found[iid]), **latest.data}
        kind = data.get(spec.kind)
        per_kind[kind].extend(rows)
        every.extend(rows)
        sessions.append({"key": iid, "instance_id": iid, **{name: data.get(name) for name in spec.session},
                         "kind": records.labelled(kind, labels), **_figures(rows, spec)})
    kinds = [k for k in labels if k in per_kind] + sorted(k for k in per_kind if k not in labels and k is not None)
    if None in per_kind:
        kinds.append(None)
    return {"process": spec.process, "overall": _figures(every, spec),
            "by_kind": [{**records.labelled(k, labels), **_figures(per_kind[k], spec)} for k in kinds],
            "by_session": sessions}
