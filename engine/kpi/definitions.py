"""The KPI definitions, read from engine/kpi/kpi.yaml (data, not code: docs/kpi.md explains them).

Which elements start and end each measured interval, the targets, where satisfaction scores are
recorded. Loading checks the file's shape so that a mistake there fails loudly, not as an empty figure.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).with_name("kpi.yaml")
REGISTRATION = "registration"


@dataclass(frozen=True)
class Point:
    """One end of an interval: the registration, or the first completion of one of `tasks`
    whose submitted data has the values in `data`."""

    tasks: tuple[str, ...] = ()
    data: dict = field(default_factory=dict)

    @property
    def is_registration(self) -> bool:
        return not self.tasks


@dataclass(frozen=True)
class Interval:
    process: str
    start: Point
    end: Point
    unresolved: tuple[str, ...] = ()  # instance outcomes that end the interval unresolved (a breach)


@dataclass(frozen=True)
class Measure:
    key: str
    target_hours: float
    intervals: tuple[Interval, ...]


@dataclass(frozen=True)
class SatisfactionSource:
    process: str
    tasks: tuple[str, ...]
    field: str
    list_field: str | None = None  # the scores are rows of this list (one per surveyed customer)
    latest_per_case: bool = False
    attributed_to: tuple[str, ...] = ()  # the tasks whose last completer the score is attributed to


@dataclass(frozen=True)
class SalesSource:
    """Where the sales figures come from: the instances of `processes` (one per order: P2's contracts
    and dealers' repeat orders) that ended with `outcome`, the amount in yuan under `amount` in their
    data, the customer in instance.customer_name."""

    processes: tuple[str, ...]
    outcome: str
    amount: str


@dataclass(frozen=True)
class Definitions:
    timezone: str
    measures: tuple[Measure, ...]
    rate_process: str
    rate_resolved: Point
    satisfaction: tuple[SatisfactionSource, ...]
    sales: SalesSource | None = None

    def element_ids(self) -> dict[str, set[str]]:
        """Every BPMN element id this file names, per process (checked against the diagrams)."""
        ids: dict[str, set[str]] = {}
        for m in self.measures:
            for i in m.intervals:
                ids.setdefault(i.process, set()).update(i.start.tasks, i.end.tasks)
        ids.setdefault(self.rate_process, set()).update(self.rate_resolved.tasks)
        for s in self.satisfaction:
            ids.setdefault(s.process, set()).update(s.tasks, s.attributed_to)
        return ids


class DefinitionsError(ValueError):
    pass


def _point(raw: object, where: str) -> Point:
    if raw == REGISTRATION:
        return Point()
    if not isinstance(raw, dict) or not raw.get("tasks") or not isinstance(raw["tasks"], list):
        raise DefinitionsError(f"{where}: either `registration` or {{tasks: [...], data?: {{...}}}}")
    data = raw.get("data") or {}
    if not isinstance(data, dict):
        raise DefinitionsError(f"{where}.data: a mapping of field -> value")
    return Point(tuple(str(t) for t in raw["tasks"]), dict(data))


def point(raw: object, where: str) -> Point:
    """One end of an interval or a condition on a task's completion, as kpi.yaml writes it."""
    return _point(raw, where)


def _unresolved(raw: object, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    outcomes = raw.get("outcomes") if isinstance(raw, dict) else None
    if not isinstance(outcomes, list) or not outcomes or not all(isinstance(o, str) for o in outcomes):
        raise DefinitionsError(f"{where}: {{outcomes: [...]}}, the instance outcomes that leave it unresolved")
    return tuple(outcomes)


def _measure(key: str, raw: dict) -> Measure:
    target = raw.get("target_hours")
    if not isinstance(target, int | float) or target <= 0:
        raise DefinitionsError(f"intervals.{key}.target_hours: a positive number")
    intervals = tuple(Interval(process, _point(spec.get("start"), f"intervals.{key}.{process}.start"),
                               _point(spec.get("end"), f"intervals.{key}.{process}.end"),
                               _unresolved(spec.get("unresolved"), f"intervals.{key}.{process}.unresolved"))
                      for process, spec in (raw.get("processes") or {}).items())
    if not intervals:
        raise DefinitionsError(f"intervals.{key}.processes: at least one process")
    return Measure(key, float(target), intervals)


def _task_list(raw: object) -> tuple[str, ...]:
    """One task id, or a list of them (a case resolved by either task)."""
    if raw is None:
        return ()
    return (str(raw),) if isinstance(raw, str) else tuple(str(t) for t in raw)


def _source(process: str, raw: dict) -> SatisfactionSource:
    if not raw.get("tasks") or not raw.get("field"):
        raise DefinitionsError(f"satisfaction.{process}: needs tasks and field")
    return SatisfactionSource(process, tuple(raw["tasks"]), raw["field"], raw.get("list"),
                              raw.get("per_case") == "latest", _task_list(raw.get("attributed_to")))


def _sales(raw: object) -> SalesSource | None:
    if raw is None:
        return None
    processes = raw.get("processes") if isinstance(raw, dict) else None
    if (not isinstance(processes, list) or not processes or not all(isinstance(p, str) and p for p in processes)
            or not all(isinstance(raw.get(k), str) and raw[k] for k in ("outcome", "amount"))):
        raise DefinitionsError("sales: needs processes (a list of process keys), outcome and amount (texts)")
    return SalesSource(tuple(processes), raw["outcome"], raw["amount"])


def parse(raw: dict) -> Definitions:
    rate = raw.get("resolution_rate") or {}
    if not rate.get("process"):
        raise DefinitionsError("resolution_rate.process: the process whose resolution rate is reported")
    return Definitions(
        timezone=raw.get("timezone") or "Asia/Shanghai",
        measures=tuple(_measure(k, v) for k, v in (raw.get("intervals") or {}).items()),
        rate_process=rate["process"],
        rate_resolved=_point(rate.get("resolved"), "resolution_rate.resolved"),
        satisfaction=tuple(_source(p, v) for p, v in (raw.get("satisfaction") or {}).items()),
        sales=_sales(raw.get("sales")),
    )


@lru_cache(maxsize=4)
def load(path: Path = DEFAULT_PATH) -> Definitions:
    with path.open(encoding="utf-8") as fh:
        return parse(yaml.safe_load(fh))


def decided_by(defs: Definitions) -> str:
    """A digest of the rules the stored decided cases (`kpi_case`) and scores (`kpi_score`) were decided by: each
    measure's intervals and the satisfaction sources. Their targets and the zone are not in it: the stored counts
    record those, and the page checks them itself (engine/kpi/freshness.py)."""
    rules = {"intervals": {m.key: [asdict(i) for i in m.intervals] for m in defs.measures},
             "satisfaction": [asdict(s) for s in defs.satisfaction]}
    return hashlib.sha256(json.dumps(rules, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
