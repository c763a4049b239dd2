"""The KPI page's tables: the decided cases (kpi_case), the counted satisfaction scores (kpi_score) and the counts
database triggers keep from them and from the task and instance rows (engine/kpi/; migrations 0023, 0025-0033).
Apart from models.py because they are one subject: the page's stored figures, none of them a row the engine's
commands read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, FetchedValue, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.base import Base
from engine.store.types import UTCDateTime


class KpiCase(Base):
    """One decided case of a KPI measure (engine/kpi/case_rows.py; migration 0023): an interval of an instance of a
    measured process that reached its end (done) or whose instance ended with one of its `unresolved` outcomes.
    Written by the step that completes one of the measure's start or end tasks or ends the instance (and by a
    migration of the instance to another version), with the page's own interval rule; open cases are not here
    (the page counts them live). The KPI page groups and ranks these rows in SQL instead of one per instance in
    Python."""

    __tablename__ = "kpi_case"
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    process: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the instance's registration: the page's window
    role: Mapped[str | None] = mapped_column(String(64))
    person: Mapped[str | None] = mapped_column(String(64))
    hours: Mapped[float] = mapped_column(Float)
    unresolved: Mapped[bool] = mapped_column(Boolean)
    # the company month of started_at (kpi_day's; '0000-00' outside it): set by triggers (migration 0034), never
    # by the engine
    month: Mapped[str | None] = mapped_column(String(7))


# the page's window over a measure's cases, from the index alone (its groups and the done hours it ranks)
Index("ix_kpi_case_window", KpiCase.measure, KpiCase.started_at, KpiCase.process, KpiCase.role, KpiCase.person,
      KpiCase.unresolved, KpiCase.hours)


# the median and p90 of a row of the page, read at their ranks (engine/kpi/quantiles.py; migration 0028): the done
# hours of the measure in order, per key of a breakdown (overall and month: the first; process, role, person)
Index("ix_kpi_case_hours", KpiCase.measure, KpiCase.unresolved, KpiCase.hours, KpiCase.started_at, KpiCase.process)
Index("ix_kpi_case_process_hours", KpiCase.measure, KpiCase.unresolved, KpiCase.process, KpiCase.hours,
      KpiCase.started_at)
Index("ix_kpi_case_role_hours", KpiCase.measure, KpiCase.unresolved, KpiCase.role, KpiCase.hours, KpiCase.started_at,
      KpiCase.process)
Index("ix_kpi_case_person_hours", KpiCase.measure, KpiCase.unresolved, KpiCase.person, KpiCase.hours,
      KpiCase.started_at, KpiCase.process)
# a window of a few months: each month's hours of a key in order (migration 0037; the month rows' too, 0034)
Index("ix_kpi_case_month_hours", KpiCase.measure, KpiCase.unresolved, KpiCase.month, KpiCase.hours,
      KpiCase.started_at, KpiCase.process)
Index("ix_kpi_case_process_month", KpiCase.measure, KpiCase.unresolved, KpiCase.process, KpiCase.month,
      KpiCase.hours, KpiCase.started_at)
Index("ix_kpi_case_role_month", KpiCase.measure, KpiCase.unresolved, KpiCase.role, KpiCase.month, KpiCase.hours,
      KpiCase.started_at, KpiCase.process)
Index("ix_kpi_case_person_month", KpiCase.measure, KpiCase.unresolved, KpiCase.person, KpiCase.month,
      KpiCase.hours, KpiCase.started_at, KpiCase.process)


# The KPI page's counts per company day (engine/kpi/rollups.py; migration 0024). Kept by database triggers on
# `task` and `instance` in the writing transaction (a command pays no statement for them), read by the page
# instead of counting the source rows: a few rows per day instead of every completed task of the range.
_CLUSTERED = {"sqlite_with_rowid": False}  # SQLite keeps the rows in key order: a range of days is one read


class KpiDay(Base):
    """Each company day's first instant in the zone `kpi_rollup_state.timezone`: how a trigger, which cannot
    convert time zones, finds the day of an instant (the last row starting at or before it)."""

    __tablename__ = "kpi_day"
    __table_args__ = (_CLUSTERED,)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the next day's start: past the last day is no day
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD


class KpiRollupState(Base):
    """One row: the zone kpi_day and the rollups were built for (None: not built; the page then counts the
    source rows)."""

    __tablename__ = "kpi_rollup_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the migration whose buckets of hours the kpi_hours_* counts hold (engine/kpi/hour_buckets.py mark_for: 0038 on
    # PostgreSQL, 0030 on SQLite; the database's default, set by migration 0038); the page reads them only when they
    # are the code's (quantiles.usable)
    hour_buckets: Mapped[str] = mapped_column(String(4), nullable=False, server_default=FetchedValue())


class KpiCompletedDay(Base):
    """User tasks completed per company day (of completed_at), process, role and person ('' for none)."""

    __tablename__ = "kpi_completed_day"
    __table_args__ = (_CLUSTERED,)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class KpiCompletedMonth(Base):
    """kpi_completed_day summed per company month (the day's YYYY-MM; '0000-00' for its OUTSIDE day), kept by
    triggers on kpi_completed_day (migration 0032): a window's whole months are read here (engine/kpi/month_rows.py)."""

    __tablename__ = "kpi_completed_month"
    __table_args__ = (_CLUSTERED,)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class KpiRegisteredDay(Base):
    """Instances registered per company day (of started_at), process and outcome ('' while none)."""

    __tablename__ = "kpi_registered_day"
    __table_args__ = (_CLUSTERED,)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class KpiCaseTarget(Base):
    """Each measure's target hours (kpi.yaml) as the kpi_case trigger counts `within` by (migration 0026): the
    page reads kpi_case_day only while these are kpi.yaml's targets (engine/kpi/case_days.py)."""

    __tablename__ = "kpi_case_target"
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_hours: Mapped[float] = mapped_column(Float)


class KpiCaseDay(Base):
    """The decided cases (kpi_case) per measure, company day of the registration, process, role and person ('' for
    none): done, done within the measure's target, ended unresolved (migration 0026, kept by triggers on kpi_case)."""

    __tablename__ = "kpi_case_day"
    __table_args__ = (_CLUSTERED,)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    done: Mapped[int] = mapped_column(Integer)
    within: Mapped[int] = mapped_column(Integer)
    unresolved: Mapped[int] = mapped_column(Integer)


class KpiCaseMonth(Base):
    """kpi_case_day summed per company month (the day's YYYY-MM; '0000-00' for its OUTSIDE day), kept by triggers
    on kpi_case_day (migration 0032): a window's whole months are read here (engine/kpi/month_rows.py)."""

    __tablename__ = "kpi_case_month"
    __table_args__ = (_CLUSTERED,)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    done: Mapped[int] = mapped_column(Integer)
    within: Mapped[int] = mapped_column(Integer)
    unresolved: Mapped[int] = mapped_column(Integer)


class KpiOpenEnd(Base):
    """The end tasks of each measured interval (kpi.yaml), as the open-case triggers read them (migration 0027):
    the page reads kpi_open_day only while these are kpi.yaml's (engine/kpi/open_cases.py)."""

    __tablename__ = "kpi_open_end"
    bpmn_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    process: Mapped[str] = mapped_column(String(128), primary_key=True)


class KpiOpenCase(Base):
    """One open case of a measure (a running or halted instance of its process without a decided row) and whom
    it is offered to: its first waiting end task's role and assignee (migration 0027, kept by triggers)."""

    __tablename__ = "kpi_open_case"
    # the key leads with the instance: the triggers compute an instance's rows again (one B-tree fewer to write)
    instance_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    process: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    role: Mapped[str | None] = mapped_column(String(64))
    person: Mapped[str | None] = mapped_column(String(64))


Index("ix_kpi_open_case_day", KpiOpenCase.measure, KpiOpenCase.process, KpiOpenCase.started_at)  # the late split


class KpiOpenDay(Base):
    """The open cases per measure, company day of the registration, process, role and person ('' for none)."""

    __tablename__ = "kpi_open_day"
    __table_args__ = (_CLUSTERED,)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class KpiHoursMonth(Base):
    """Done cases (kpi_case rows not unresolved) per measure, company month of registration, process and bucket of
    hours (hour_buckets.edges_for: b holds edge[b-1] < hours <= edge[b]; per person LADDER, per role and process
    migration 0030's on SQLite, finer ones on PostgreSQL from migration 0038), each
    counted three times: per process alone (dim 'process', label ''), per
    role and per person (dim 'role' / 'person', label: the role or person, '' for none). Kept by
    triggers on kpi_case (migration 0028): where the page's median and p90 lie before it reads them in the indexes
    on hours."""

    __tablename__ = "kpi_hours_month"
    __table_args__ = (_CLUSTERED,)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM of kpi_day; '0000-00' outside it
    dim: Mapped[str] = mapped_column(String(8), primary_key=True)
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)  # the role or person ('' for none or dim process)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class KpiHoursDay(Base):
    """kpi_hours_month per company day instead of month: the days of a window's partial months at its edges."""

    __tablename__ = "kpi_hours_day"
    __table_args__ = (_CLUSTERED,)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD of kpi_day; '0000-00-00' outside
    dim: Mapped[str] = mapped_column(String(8), primary_key=True)
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)  # the role or person ('' for none or dim process)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class KpiHoursDekad(Base):
    """kpi_hours_month per dekad (engine/kpi/dekads.py; migration 0036): the partial months at a window's edges as
    whole dekads and a few days, not every day."""

    __tablename__ = "kpi_hours_dekad"
    __table_args__ = (_CLUSTERED,)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    dekad: Mapped[str] = mapped_column(String(10), primary_key=True)  # its first day, YYYY-MM-01, -11 or -21
    dim: Mapped[str] = mapped_column(String(8), primary_key=True)
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)  # the role or person ('' for none or dim process)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class KpiHoursTotal(Base):
    """kpi_hours_month summed over every month (migration 0031): a range of many whole months, such as everything
    (the page's default), counts its rows per key and bucket from here less the few months outside it, instead of
    summing each month's."""

    __tablename__ = "kpi_hours_total"
    __table_args__ = (_CLUSTERED,)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[str] = mapped_column(String(8), primary_key=True)
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)  # the role or person ('' for none or dim process)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class KpiScore(Base):
    """One counted satisfaction score (engine/kpi/score_rows.py; migration 0033): of an instance of a process with a
    satisfaction source (kpi.yaml), its `seq`-th score as the page's rule counts them (the case's latest, or every
    response of a survey), when it was recorded and whom it is attributed to. Written by the step that completes one
    of the source's score or attribution tasks (and by a migration of the instance to another version)."""

    __tablename__ = "kpi_score"
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    process: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it was recorded: the page's window
    role: Mapped[str | None] = mapped_column(String(64))
    person: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer)


class KpiScoreDay(Base):
    """The kpi_score rows per company day of recording, process, role, person ('' for none) and value (1..5)
    (migration 0033, kept by triggers on kpi_score)."""

    __tablename__ = "kpi_score_day"
    __table_args__ = (_CLUSTERED,)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD of kpi_day; '0000-00-00' outside
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


# a process's first and last day of scores: two seeks (the key leads with the day), and its days' rows without a
# lookup of the row (migration 0035)
Index("ix_kpi_score_day_process", KpiScoreDay.process, KpiScoreDay.day, KpiScoreDay.n)


class KpiScoreMonth(Base):
    """kpi_score_day per company month (the day's YYYY-MM) instead of day: a window's whole months."""

    __tablename__ = "kpi_score_month"
    __table_args__ = (_CLUSTERED,)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM of kpi_day; '0000-00' outside
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


def _on_sqlite(index: Index) -> Index:
    return index.ddl_if(dialect="sqlite")


# The "everything" window's sums of the month rows per month and per their other keys (engine/kpi/month_rows.summed),
# each streamed on SQLite from a table's key or an index in its grouping's order (no hash aggregate there: each was a
# sort of a few thousand rows); PostgreSQL hashes them, and an index holding a count would cost the month rows their
# HOT updates (migration 0039)
GROUPED_ON_SQLITE = (
    _on_sqlite(Index("ix_kpi_case_month_keys", KpiCaseMonth.measure, KpiCaseMonth.process, KpiCaseMonth.role,
                     KpiCaseMonth.person, KpiCaseMonth.done, KpiCaseMonth.within, KpiCaseMonth.unresolved)),
    _on_sqlite(Index("ix_kpi_completed_month_keys", KpiCompletedMonth.role, KpiCompletedMonth.person,
                     KpiCompletedMonth.process_key, KpiCompletedMonth.n)),
    _on_sqlite(Index("ix_kpi_score_month_month", KpiScoreMonth.process, KpiScoreMonth.month, KpiScoreMonth.value,
                     KpiScoreMonth.n)),
    _on_sqlite(Index("ix_kpi_score_month_keys", KpiScoreMonth.process, KpiScoreMonth.role, KpiScoreMonth.person,
                     KpiScoreMonth.value, KpiScoreMonth.n)),
)
