"""`Engine`'s reading: inbox, tasks, instances, processes, roles, search and the KPI figures.

Nothing here writes; what each user may see is decided in engine/runtime/access.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.orm import Session

from engine import users
from engine.facade.base import EngineBase
from engine.roles import load_catalogue
from engine.runtime import labels as labels_mod
from engine.runtime import queries
from engine.runtime.loading import specs_for, view_instance_as


class ReadingMixin(EngineBase):
    def processes(self) -> list[dict]:
        with self.db.read() as s:
            return queries.processes(s)

    def outcomes(self) -> dict[str, dict[str, str]]:
        """{outcome: {"zh", "en"}}: how instances can end (processes/outcomes.yaml)."""
        from engine import outcomes

        return outcomes.labels()

    def roles(self) -> dict:
        """The role catalogue: {id: RoleDef(id, zh, en, system, manages)}."""
        return load_catalogue(self._roles_path)

    def _role_names(self) -> dict[str, dict[str, str]]:
        return {rid: {"zh": r.zh, "en": r.en} for rid, r in self.roles().items()}

    def display_names(self) -> dict[str, str]:
        """{login id: display name} of every account: pages show people by name."""
        with self.db.read() as s:
            return labels_mod.display_names(s)

    def inbox(self, actor: str, process: str | None = None, role: str | None = None,
              overdue: bool | None = None, limit: int | None = None, offset: int = 0,
              sort: str = "created") -> list[dict]:
        """The actor's ready tasks, oldest first (`sort="due"`: earliest deadline first); `limit` rows
        from `offset` (a page), or all of them."""
        if self.db.is_sqlite or not queries.generic_plan_fits(process, role, overdue):
            with self.db.glance() as c:  # every page shows it, and the scenario tests ask ~50 people after each step
                return queries.inbox(c, users.get_actor(c, actor), self.clock.now(), process, role, overdue, limit,
                                     offset, sort)
        with self.db.read() as s:  # a transaction, for the setting that holds for this read only
            queries.generic_plan(s)
            return queries.inbox(s, users.get_actor(s, actor), self.clock.now(), process, role, overdue, limit, offset,
                                 sort)

    def inbox_counts(self, actor: str) -> dict[str, int]:
        """{role: ready tasks} of the actor's inbox, counted without fetching the tasks, each up to
        `self.count_cap`: a figure above it (count_cap + 1) means "more than count_cap"."""
        if self.db.is_sqlite:
            with self.db.glance() as c:
                return queries.inbox_counts(c, users.get_actor(c, actor), self.clock.now(), self.count_cap)
        with self.db.read() as s:  # a transaction, for the setting that holds for this read only
            queries.without_jit(s)
            return queries.inbox_counts(s, users.get_actor(s, actor), self.clock.now(), self.count_cap)

    def start_form(self, actor: str, key: str) -> dict | None:
        with self.db.read() as s:
            return queries.start_form(s, users.get_actor(s, actor), key)

    def process(self, actor: str, key: str) -> dict:
        """The latest version of a process with `startable` (for this actor) and its start `form`; NotFound."""
        with self.db.read() as s:
            return queries.process_detail(s, users.get_actor(s, actor), key)

    def managed_tasks(self, actor: str) -> list[dict]:
        with self.db.read() as s:
            return queries.managed_tasks(s, users.get_actor(s, actor), self.clock.now())

    def startable(self, actor: str) -> list[dict]:
        with self.db.read() as s:
            return queries.startable(s, users.get_actor(s, actor))

    def diagram(self, actor: str, instance_id: int) -> dict:
        with self.db.read() as s:
            return queries.diagram(s, users.get_actor(s, actor), instance_id, self.specs)

    def comments(self, actor: str, task_id: str) -> list[dict]:
        with self.db.read() as s:
            return queries.comments(s, users.get_actor(s, actor), task_id)

    def role_holders(self, role: str) -> list[str]:
        with self.db.read() as s:
            return queries.role_holders(s, role)

    def task(self, actor: str, task_id: str) -> dict:
        with self.db.read() as s:
            return queries.task_detail(s, users.get_actor(s, actor), task_id, self.clock.now())

    def instance(self, actor: str, instance_id: int) -> dict:
        """The instance as the actor may see it, with `fields`: {data name: ui entry (label, options,
        columns)} in the order the forms ask, the labelled names only (pages show nothing else)."""
        with self.db.read() as s:
            inst, user = view_instance_as(s, instance_id, actor)
            vid = inst.process_version_id
            forms = self.specs.version_forms(vid, lambda: queries.instance_forms(s, vid))
            rows = queries.instance_task_rows(s, inst)  # read once for the view and its field labels
            view = queries.instance_view(s, user, inst, self.clock.now(), specs_for(s, self.specs, vid), forms, rows)
            version = self.labels.get(s, vid, self._role_names)
            view["fields"] = labels_mod.instance_fields(s, inst, version, queries.tasks_of(rows))
            view["element_names"] = {**view["element_names"], **version.elements}
            return view

    def after_step(self, actor: str, instance_id: int) -> dict:
        """Where the instance stands right after the actor's step: {id, status, outcome, next_task (a
        ready task of it the actor may work now, or None), waiting (its ready tasks, with assignee_name)}."""
        from engine.runtime import progress

        with self.db.read() as s:
            return progress.after_step(s, users.get_actor(s, actor), instance_id, self.clock.now())

    def waiting(self, actor: str, instance_ids: list[int]) -> dict[int, list[dict]]:
        """{instance id: its ready tasks (with assignee_name, the display name)} for those of these
        instances (at most 200) the actor may see."""
        from engine.runtime import progress

        with self.db.read() as s:
            return progress.waiting(s, users.get_actor(s, actor), instance_ids, self.clock.now())

    def history(self, actor: str, instance_id: int) -> list[dict]:
        with self.db.read() as s:
            return queries.history(s, users.get_actor(s, actor), instance_id)

    def search(self, actor: str, filters: dict | None = None, page: int = 1, per_page: int = 25) -> dict:
        """Instances the actor may see matching `filters` (process, customer, business_key, status,
        started_from, started_to, participant, sla_breached): {items, total, page, per_page, pages}."""
        from engine.runtime import search

        with self.db.read() as s:
            return search.search(s, users.get_actor(s, actor), self.clock.now(), filters or {}, page, per_page)

    def export_search(self, actor: str, filters: dict | None = None, fmt: str = "json") -> str:
        """Every instance a search finds, with its full trail: JSON (each chain verifiable offline) or
        CSV (one row per event, with the instance id)."""
        from engine.runtime import search

        with self.db.read() as s:
            return search.export(s, users.get_actor(s, actor), self.clock.now(), filters or {}, fmt)

    def kpi(self, actor: str, filters: dict | None = None) -> dict:
        """The KPI dashboard's figures (engine/kpi): response and resolution times against their
        targets, complaint resolution rate, satisfaction, volumes; per month, role and person; safety,
        training, opinions and the appraisal per person (what each user sees: access.kpi_view)."""
        from engine.kpi import report

        # PostgreSQL: the measures' times read beside the rest, each on a session of its own (engine/kpi/
        # parallel_reads.py); SQLite's one read transaction is the page's one snapshot
        sessions = None if self.db.is_sqlite else self._kpi_session
        with self._kpi_session() as s:
            return report.build(s, users.get_actor(s, actor), self.clock.now(), filters or {}, sessions)

    @contextlib.contextmanager
    def _kpi_session(self) -> Iterator[Session]:
        with self.db.read() as s:
            if not self.db.is_sqlite:  # its few dozen statements each read a few thousand rows at most
                queries.without_jit_or_parallel_workers(s)
            yield s

    def may_see_kpi(self, actor: str) -> bool:
        """Whether the KPI dashboard is open to this user (for showing its link)."""
        from engine.kpi import report

        with self.db.read() as s:
            return report.may_see(s, users.get_actor(s, actor))
