"""`Engine`: the one object the CLI, the worker, the tests and the web layer use.

It holds the database, the clock and the spec cache, and runs every command
with the clock frozen at the command's instant (so scripts, timers and the
audit trail agree on "now", and replay can reproduce it).

Its methods live in engine/facade/, one mixin per subject (accounts, definitions, governance,
commands, reading, audit, customers, prices, notifications, operations, header); what they all rely on
is declared in engine/facade/base.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from engine import clock as clock_mod
from engine.config import database_url, inbox_count_cap, replay_cache_size, workflow_cache_mb
from engine.errors import SalesflowError
from engine.facade.accounts import AccountsMixin
from engine.facade.audit import AuditMixin
from engine.facade.commands import CommandsMixin
from engine.facade.customers import CustomersMixin
from engine.facade.definitions import DefinitionsMixin
from engine.facade.governance import GovernanceMixin
from engine.facade.header import HeaderMixin
from engine.facade.notifications import NotificationsMixin
from engine.facade.operations import OperationsMixin
from engine.facade.prices import PricesMixin
from engine.facade.reading import ReadingMixin
from engine.process.specs import SpecCache
from engine.replay_cache import ReplayCache
from engine.roles import load_catalogue, sync_roles
from engine.runtime import labels as labels_mod
from engine.runtime.warm_workflows import WarmWorkflows
from engine.store.db import Database

T = TypeVar("T")


class Engine(AccountsMixin, DefinitionsMixin, GovernanceMixin, CommandsMixin, ReadingMixin, AuditMixin,
             CustomersMixin, PricesMixin, NotificationsMixin, OperationsMixin, HeaderMixin):
    def __init__(self, url: str | None = None, clock: clock_mod.Clock | None = None,
                 roles_path: Path | None = None) -> None:
        self.db = Database(url or database_url())
        self.clock = clock or clock_mod.SystemClock()
        self.specs = SpecCache()
        self.labels = labels_mod.LabelCache()
        self.replays = ReplayCache(replay_cache_size())
        self.workflows = WarmWorkflows(workflow_cache_mb() * 1_000_000)
        self.count_cap = inbox_count_cap()  # inbox_counts gives at most this + 1 per role: "more than count_cap"
        self._roles_path = roles_path
        # called after every command with (command, seconds, outcome): "ok" or the error's code
        self.observers: list[Callable[[str, float, str], None]] = []

    def _frozen(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        started, outcome = time.perf_counter(), "ok"
        try:
            with clock_mod.using(clock_mod.ManualClock(self.clock.now())):
                return fn(self, *args, **kwargs)
        except SalesflowError as exc:
            outcome = exc.code
            raise
        except Exception:
            outcome = "error"
            raise
        finally:
            for observe in self.observers:  # start_once counts as start: the same command, answered
                observe(fn.__name__.removesuffix("_once"), time.perf_counter() - started, outcome)

    # -- setup -------------------------------------------------------------
    def init(self) -> None:
        """Create or upgrade the schema and load the role catalogue."""
        self.db.upgrade()
        catalogue = load_catalogue(self._roles_path)
        with self.db.write() as s:
            sync_roles(s, catalogue)

    def rebuild_kpi(self, progress: Callable[[str], None] | None = None) -> dict[str, int]:
        """Every stored figure of the KPI page computed again from the source rows, in one transaction with their
        tables' triggers off (engine/kpi/rebuild.py: the decided cases, the satisfaction scores, then every count
        kept from them, the tasks and the instances), then, on PostgreSQL, the small rollups compacted; returns each
        table's count (`kpi_case`, `kpi_score` and rebuild_kpi_rollups' totals). `salesflow kpi rebuild`."""
        from engine.kpi import definitions, rebuild

        with self.db.write() as s:
            found = rebuild.everything(s, definitions.load().timezone, progress)
        with self.db.maintenance() as conn:  # (after the commit: VACUUM runs outside a transaction)
            rebuild.compact(conn, progress)
        return found

    def rebuild_kpi_cases(self, progress: Callable[[str], None] | None = None) -> int:
        """The KPI page's decided-case rows (kpi_case) computed again from every instance, in one transaction;
        returns how many were written. Migration 0022 fills them and the steps keep them: this is for a database
        whose rows were written around the engine (a bulk load, a restore of some tables)."""
        from engine.kpi import case_rows

        with self.db.write() as s:
            return case_rows.rebuild(s, progress)

    def rebuild_kpi_scores(self, progress: Callable[[str], None] | None = None) -> int:
        """The KPI page's counted satisfaction scores (kpi_score) computed again from the trail and tasks, in one
        transaction (its triggers count them per day); returns how many were written. Migration 0033 fills them and
        the steps keep them: this is for a trail written around the engine (a bulk load, a restore)."""
        from engine.kpi import score_rows

        with self.db.write() as s:
            return score_rows.rebuild(s, progress)

    def rebuild_kpi_rollups(self, progress: Callable[[str], None] | None = None) -> dict[str, int]:
        """The KPI page's day table for the configured zone and every count kept from it, counted again from the
        source rows in one transaction (rollups.rebuild: per day kpi_completed_day, kpi_registered_day, kpi_case_day,
        per month kpi_completed_month, kpi_case_month, the open cases kpi_open_case and kpi_open_day, the done cases
        per hour bucket kpi_hours_month, kpi_hours_day, kpi_hours_dekad and kpi_hours_total); returns each rollup's
        total. Migrations 0025-0036 fill them and database triggers keep them: this is for a changed kpi.yaml
        `timezone`, target or end task (until then the page counts the source rows) or a database restored without
        them."""
        from engine.kpi import definitions, rollups

        with self.db.write() as s:
            return rollups.rebuild(s, definitions.load().timezone, progress)
