"""`Engine`: the one object the CLI, the worker, the tests and the web layer use.

It holds the database, the clock and the spec cache, and runs every command
with the clock frozen at the command's instant (so scripts, timers and the
audit trail agree on "now", and replay can reproduce it).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from engine import clock as clock_mod
from engine import tokens, users
from engine.accounts import events as account_events
from engine.accounts import login, manage, passwords, sessions
from engine.audit import export as audit_export
from engine.audit import trail
from engine.audit.chain import instance_chain
from engine.audit.trail import TrailCheck
from engine.audit.verify import ChainResult, all_chains, verify_all, verify_chain
from engine.config import database_url
from engine.customers import chain as customers_chain
from engine.definitions.bundle import SourceFile, load_paths
from engine.definitions.compiler import CompiledProcess, compile_bundle
from engine.errors import InvalidData, NotFound, SalesflowError, Unauthorized
from engine.facade.customers import CustomersMixin
from engine.facade.governance import GovernanceMixin
from engine.process.specs import SpecCache
from engine.replay import Replay, first_version_id, replay
from engine.roles import front_line_roles, lane_roles, load_catalogue, sync_roles
from engine.runtime import access, commands, queries, timers, training_gate
from engine.runtime import labels as labels_mod
from engine.runtime.idempotency import Answer
from engine.runtime.loading import get_instance, specs_for
from engine.store.db import Database
from engine.store.models import AuditEvent

T = TypeVar("T")


class Engine(CustomersMixin, GovernanceMixin):
    def __init__(self, url: str | None = None, clock: clock_mod.Clock | None = None,
                 roles_path: Path | None = None) -> None:
        self.db = Database(url or database_url())
        self.clock = clock or clock_mod.SystemClock()
        self.specs = SpecCache()
        self.labels = labels_mod.LabelCache()
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

    def add_user(self, username: str, roles: list[str], password: str, display_name: str | None = None,
                 training: str = "unchecked") -> None:
        """Create an account. `training` (engine/runtime/training_gate.py): "unchecked" for the demo and
        the tests' fixtures; "required" refuses a front-line role; "waived" grants it before any training
        (first installation) and records that in the security trail."""
        if username == commands.SYSTEM:
            raise InvalidData(f"{commands.SYSTEM} is reserved for the engine itself")
        checked = training != "unchecked"  # the demo and the fixtures skip reading the catalogue too
        front_line = front_line_roles(load_catalogue(self._roles_path)) if checked else {}
        with self.db.write() as s:
            users.add_user(s, username, roles, password, display_name)  # its checks first: name, password, roles
            if training == "required":
                training_gate.check_new_account(username, set(roles), front_line)  # rolls the account back
            waived = sorted(set(roles) & set(front_line))
            if training == "waived" and waived:
                account_events.record(s, self.clock.now(), commands.SYSTEM, "front_line_before_training",
                                      {"username": username, "roles": waived})

    def authenticate(self, username: str, password: str, address: str | None = None) -> dict:
        """Log in to the pages: the user and the web session to keep ({username, display_name, roles,
        session_id, seen}); Unauthorized for a wrong name or password, Locked while locked out."""
        return login.login(self.db, username, password, address, self.clock.now(), self._new_session)

    def issue_token(self, username: str, password: str, address: str | None = None) -> str:
        """A bearer token for POST /api/v1/tokens, under the same throttle as the login page."""
        now = self.clock.now()
        return login.login(self.db, username, password, address, now, lambda s, user: tokens.issue(s, user, now))

    def token_user(self, token: str) -> str:
        with self.db.read() as s:
            username = tokens.resolve(s, token, self.clock.now())
            try:
                users.get_user(s, username)
            except NotFound:
                raise Unauthorized("the token's user is no longer active") from None
            return username

    def session_user(self, session_id: str, last_seen: float | None) -> dict:
        """The user of a web session that is still valid (not ended on the server, not idle too long),
        with `seen`, the last-request time to keep; Unauthorized otherwise."""
        username, generation = sessions.parse(session_id)
        with self.db.read() as s:
            try:
                user = users.get_user(s, username)
            except NotFound:
                raise Unauthorized("the session's user is no longer active") from None
            now = sessions.wall_clock()
            sessions.check(user, generation, last_seen, now)
            return {**self._user_view(user), "session_id": session_id,
                    "seen": sessions.renewed_stamp(last_seen, now)}

    def logout(self, session_id: str) -> None:
        """End the user's web sessions (all of them: the generation in their ids is no longer current)."""
        username, generation = sessions.parse(session_id)
        with self.db.write() as s:
            try:
                user = users.get_user(s, username)
            except NotFound:
                return
            if generation == user.session_generation:
                sessions.end_all(user)

    def change_password(self, actor: str, current: str, new: str, address: str | None = None) -> dict:
        """The actor's own password, given the current one; ends their other sessions and revokes their
        tokens; returns the new web session (as authenticate does)."""
        return login.change_password(self.db, actor, current, new, address, self.clock.now(), self._new_session)

    def reset_password(self, actor: str, username: str, new: str) -> None:
        """An administrator sets another user's password (the policy applies); ends that user's sessions
        and revokes their tokens."""
        with self.db.read() as s:
            manage.check_may_reset(s, actor, username)
        passwords.check_policy(username, new)
        new_hash = passwords.make_hash(new)  # before the transaction: hashing takes a while on purpose
        with self.db.write() as s:
            manage.reset_password(s, actor, username, new_hash, self.clock.now())

    def deactivate_user(self, actor: str, username: str) -> bool:
        """False when the user already was inactive."""
        with self.db.write() as s:
            return manage.set_active(s, actor, username, False, self.clock.now())

    def activate_user(self, actor: str, username: str) -> bool:
        with self.db.write() as s:
            return manage.set_active(s, actor, username, True, self.clock.now())

    def set_user_roles(self, actor: str, username: str, add: list[str] | tuple[str, ...] = (),
                       remove: list[str] | tuple[str, ...] = ()) -> list[str]:
        """Grant and take away roles of an existing account (administrators); its roles afterwards. A
        front-line role needs a passed safety training (engine/runtime/training_gate.py)."""
        front_line = front_line_roles(load_catalogue(self._roles_path))
        with self.db.write() as s:
            return manage.set_roles(s, actor, username, list(add), list(remove), front_line, self.clock.now())

    def unlock(self, actor: str, username: str | None = None, address: str | None = None) -> int:
        """Lift the login lockout of a user name and/or a client address; how many lockouts ended."""
        with self.db.write() as s:
            return manage.unlock(s, actor, username, address, self.clock.now())

    def may_manage_users(self, actor: str) -> bool:
        """Whether the actor may manage accounts (for showing the administrators' page link)."""
        with self.db.read() as s:
            return access.may_manage_users(manage.acting(s, actor))

    def accounts(self, actor: str) -> dict:
        """For administrators: {users: [...with roles, active, locked_until, tokens], locks, failures}."""
        with self.db.read() as s:
            return manage.overview(s, actor, self.clock.now())

    def tokens(self, actor: str, username: str | None = None, current_token: str | None = None) -> list[dict]:
        """Working API tokens (never their secret): the actor's own, or (administrators) the named user's; the
        console operator ("system") without a name: everyone's. `current` marks the one given as `current_token`."""
        with self.db.read() as s:
            now = self.clock.now()
            current = tokens.row_of(s, current_token, now) if current_token else None
            return manage.token_list(s, actor, username, now, current)

    def revoke_token(self, actor: str, token_id: int) -> dict:
        with self.db.write() as s:
            return manage.revoke_token(s, actor, token_id, self.clock.now())

    def revoke_current_token(self, token: str) -> dict:
        """Revoke the bearer token itself (DELETE /api/v1/tokens/current)."""
        with self.db.write() as s:
            row = tokens.row_of(s, token, self.clock.now())
            return manage.revoke_row(s, row.username, row, self.clock.now())

    def _new_session(self, session, user) -> dict:  # noqa: ANN001 - (Session, User), inside login's transaction
        return {**self._user_view(user), "session_id": sessions.session_id(user), "seen": sessions.wall_clock()}

    @staticmethod
    def _user_view(user) -> dict:  # noqa: ANN001 - a User row
        return {"username": user.username, "display_name": user.display_name, "roles": sorted(users.roles_of(user))}

    def user(self, username: str) -> dict:
        with self.db.read() as s:
            return self._user_view(users.get_user(s, username))

    # -- definitions -------------------------------------------------------
    def compile(self, paths: list[str | Path] | None = None, files: list[SourceFile] | None = None
                ) -> list[CompiledProcess]:
        files = files if files is not None else load_paths(paths or [])
        return compile_bundle(files, lane_roles(load_catalogue(self._roles_path)))

    # deploy (governed by the rule-change setting): engine/facade/governance.py

    def processes(self) -> list[dict]:
        with self.db.read() as s:
            return queries.processes(s)

    # -- runtime commands --------------------------------------------------
    def start(self, actor: str, key: str, data: dict | None = None, business_key: str | None = None) -> int:
        return self._frozen(commands.start, actor, key, data, business_key)

    def claim(self, actor: str, task_id: str) -> None:
        self._frozen(commands.claim, actor, task_id)

    # -- the same commands answering what they did, retry-safe with an idempotency key -------
    # (engine/runtime/idempotency.py). The answer is read in the command's own transaction: the
    # instance (start, complete) or the task (claim) right after it. With a key (the REST API's
    # Idempotency-Key header, a page's form token) it is kept for SALESFLOW_IDEMPOTENCY_HOURS
    # (default 24): the same user retrying with the same key and request gets it back without the
    # command running again (Answer.repeated); the same key with another request is 422.
    def start_once(self, actor: str, key: str, data: dict | None = None, business_key: str | None = None,
                   idempotency_key: str | None = None) -> Answer:
        return self._frozen(commands.start_once, actor, key, data, business_key, idempotency_key)

    def complete_once(self, actor: str, task_id: str, data: dict | None = None,
                      idempotency_key: str | None = None) -> Answer:
        return self._frozen(commands.complete_once, actor, task_id, data, idempotency_key)

    def claim_once(self, actor: str, task_id: str, idempotency_key: str | None = None) -> Answer:
        return self._frozen(commands.claim_once, actor, task_id, idempotency_key)

    def tidy(self) -> dict[str, int]:
        """Delete expired idempotency keys and old login records (the timer worker does it every 10 minutes)."""
        from engine.runtime import housekeeping

        return housekeeping.tidy(self)

    def unclaim(self, actor: str, task_id: str) -> None:
        self._frozen(commands.unclaim, actor, task_id)

    def reassign(self, actor: str, task_id: str, to_user: str) -> None:
        self._frozen(commands.reassign, actor, task_id, to_user)

    def complete(self, actor: str, task_id: str, data: dict | None = None) -> int:
        return self._frozen(commands.complete, actor, task_id, data)

    def comment(self, actor: str, task_id: str, text: str) -> None:
        self._frozen(commands.comment, actor, task_id, text)

    def cancel(self, actor: str, instance_id: int, reason: str = "") -> str:
        """End an instance early, with a reason the trail keeps; returns its outcome: `withdrawn` (its
        requester, before anyone else decided on it) or `cancelled` (the roles the process allows)."""
        return self._frozen(commands.cancel, actor, instance_id, reason)

    def outcomes(self) -> dict[str, dict[str, str]]:
        """{outcome: {"zh", "en"}}: how instances can end (processes/outcomes.yaml)."""
        from engine import outcomes

        return outcomes.labels()

    def deliver_message(self, actor: str, instance_id: int, name: str, payload: dict | None = None) -> None:
        self._frozen(commands.deliver_message, actor, instance_id, name, payload)

    def fire_due_timers(self, limit: int = 100) -> int:
        with clock_mod.using(self.clock):
            return timers.run_due(self, limit)

    def run_worker(self, stop: threading.Event, interval: float = 1.0) -> None:
        with clock_mod.using(self.clock):
            timers.run_forever(self, stop, interval)

    # -- issue 11: incidents (a failed timer or message step halts its own instance) ---------------
    def incidents(self, actor: str, status: str = "open", process: str | None = None) -> list[dict]:
        """Administrators: incidents newest first (at most 500), `status` open (default), resolved or all:
        [{id, instance_id, process_key, business_key, instance_status, kind, element, element_name,
        message, raised_at, attempts, status, resolved_by, resolved_at, resolution, reason}]."""
        from engine.runtime import incidents

        with self.db.read() as s:
            access.check_may_resolve_incidents(users.get_user(s, actor))
            if status not in (*incidents.STATUSES, "all"):
                raise InvalidData("status must be open, resolved or all", {"status": {
                    "zh": "须为 open、resolved 或 all", "en": "Must be open, resolved or all"}})
            return incidents.listing(s, None if status == "all" else status, process)

    def retry_incident(self, actor: str, incident_id: int) -> dict:
        """Run the failed step again now; the incident afterwards (`status` resolved, or open with the
        new message and one more attempt)."""
        from engine.runtime import resolving

        return self._frozen(resolving.retry_incident, actor, incident_id)

    def cancel_incident(self, actor: str, incident_id: int, reason: str) -> dict:
        """Cancel the halted instance (a reason is required) without running the failed step."""
        from engine.runtime import resolving

        return self._frozen(resolving.cancel_incident, actor, incident_id, reason)

    def may_resolve_incidents(self, actor: str) -> bool:
        """Whether the incidents page is open to this user (for showing its link)."""
        with self.db.read() as s:
            return access.may_resolve_incidents(users.get_user(s, actor))

    # -- operations ----------------------------------------------------------
    def health(self) -> dict:
        """Raises when the database cannot be reached; says whether its schema is the code's."""
        from engine import health

        with self.db.read() as s:
            return health.schema_state(s, self.db.url)

    def gauges(self) -> dict:
        """Open and overdue tasks per role, waiting/due/overdue/retrying timers, running instances, open
        incidents per process (/metrics)."""
        from engine import health

        with self.db.read() as s:
            return health.gauges(s, self.clock.now())

    # -- reading -----------------------------------------------------------
    def inbox(self, actor: str, process: str | None = None, role: str | None = None,
              overdue: bool | None = None, limit: int | None = None, offset: int = 0,
              sort: str = "created") -> list[dict]:
        """The actor's ready tasks, oldest first (`sort="due"`: earliest deadline first); `limit` rows
        from `offset` (a page), or all of them."""
        with self.db.read() as s:
            return queries.inbox(s, users.get_user(s, actor), self.clock.now(), process, role, overdue, limit, offset,
                                 sort)

    def inbox_counts(self, actor: str) -> dict[str, int]:
        """{role: ready tasks} of the actor's inbox, counted without fetching the tasks."""
        with self.db.read() as s:
            return queries.inbox_counts(s, users.get_user(s, actor), self.clock.now())

    def start_form(self, actor: str, key: str) -> dict | None:
        with self.db.read() as s:
            return queries.start_form(s, users.get_user(s, actor), key)

    def process(self, actor: str, key: str) -> dict:
        """The latest version of a process with `startable` (for this actor) and its start `form`; NotFound."""
        with self.db.read() as s:
            return queries.process_detail(s, users.get_user(s, actor), key)

    def managed_tasks(self, actor: str) -> list[dict]:
        with self.db.read() as s:
            return queries.managed_tasks(s, users.get_user(s, actor), self.clock.now())

    def roles(self) -> dict:
        """The role catalogue: {id: RoleDef(id, zh, en, system, manages)}."""
        return load_catalogue(self._roles_path)

    def startable(self, actor: str) -> list[dict]:
        with self.db.read() as s:
            return queries.startable(s, users.get_user(s, actor))

    def diagram(self, actor: str, instance_id: int) -> dict:
        with self.db.read() as s:
            return queries.diagram(s, users.get_user(s, actor), instance_id, self.specs)

    def comments(self, actor: str, task_id: str) -> list[dict]:
        with self.db.read() as s:
            return queries.comments(s, users.get_user(s, actor), task_id)

    def role_holders(self, role: str) -> list[str]:
        with self.db.read() as s:
            return queries.role_holders(s, role)

    def task(self, actor: str, task_id: str) -> dict:
        with self.db.read() as s:
            return queries.task_detail(s, users.get_user(s, actor), task_id, self.clock.now())

    def instance(self, actor: str, instance_id: int) -> dict:
        """The instance as the actor may see it, with `fields`: {data name: ui entry (label, options,
        columns)} in the order the forms ask, the labelled names only (pages show nothing else)."""
        with self.db.read() as s:
            view = queries.instance_view(s, users.get_user(s, actor), instance_id, self.clock.now())
            inst = get_instance(s, instance_id)
            version = self.labels.get(s, inst.process_version_id, self._role_names())
            view["fields"] = labels_mod.instance_fields(s, inst, version)
            view["element_names"] = {**view["element_names"], **version.elements}
            return view

    def _role_names(self) -> dict[str, dict[str, str]]:
        return {rid: {"zh": r.zh, "en": r.en} for rid, r in self.roles().items()}

    def display_names(self) -> dict[str, str]:
        """{login id: display name} of every account: pages show people by name."""
        with self.db.read() as s:
            return labels_mod.display_names(s)

    def after_step(self, actor: str, instance_id: int) -> dict:
        """Where the instance stands right after the actor's step: {id, status, outcome, next_task (a
        ready task of it the actor may work now, or None), waiting (its ready tasks, with assignee_name)}."""
        from engine.runtime import progress

        with self.db.read() as s:
            return progress.after_step(s, users.get_user(s, actor), instance_id, self.clock.now())

    def waiting(self, actor: str, instance_ids: list[int]) -> dict[int, list[dict]]:
        """{instance id: its ready tasks (with assignee_name, the display name)} for those of these
        instances (at most 200) the actor may see."""
        from engine.runtime import progress

        with self.db.read() as s:
            return progress.waiting(s, users.get_user(s, actor), instance_ids, self.clock.now())

    def history(self, actor: str, instance_id: int) -> list[dict]:
        with self.db.read() as s:
            return queries.history(s, users.get_user(s, actor), instance_id)

    # -- audit ---------------------------------------------------------------
    def verify_chains(self, instance_id: int | None = None):  # noqa: ANN201 - Iterator[ChainResult]
        chains = [instance_chain(instance_id)] if instance_id is not None else None
        return verify_all(self.db.read, chains)

    def audit_chains(self, instance_id: int | None = None) -> list[str]:
        """The chains `check_trail` can check: every one (deployments first), or one instance's."""
        from engine.prices import chain as prices_chain

        with self.db.read() as s:
            if instance_id is None:
                found = all_chains(s)
                if prices_chain.PRICES not in found and prices_chain.has_rows(s):
                    found.insert(0, prices_chain.PRICES)  # rows without a chain: the check must say so
                if customers_chain.CUSTOMERS not in found and customers_chain.has_rows(s):
                    found.insert(0, customers_chain.CUSTOMERS)
                return found
            get_instance(s, instance_id)
            return [instance_chain(instance_id)]

    def check_trail(self, chain: str, replay: bool = True) -> TrailCheck:
        """Verify one chain's hashes and, for an instance, replay it (`audit verify`); for the `prices` and
        `customers` chains, also that their tables are what the chain says."""
        from engine.prices import chain as prices_chain

        with self.db.read() as s:
            chain_result = verify_chain(s, chain)
            if chain in (prices_chain.PRICES, customers_chain.CUSTOMERS) and chain_result.ok:
                position, reason = (prices_chain if chain == prices_chain.PRICES else customers_chain).check_table(s)
                if reason:
                    return TrailCheck(chain, chain_result.events, False, position or chain_result.events + 1,
                                      reason, broken_chain=True)
        return trail.check(chain_result, self.replay if replay else None)

    def export(self, instance_id: int, fmt: str = "json", actor: str | None = None) -> str:
        """One instance's trail as JSON (verifiable offline, docs/audit.md) or CSV; `actor`, when
        given, must be allowed to see the instance."""
        if fmt not in ("json", "csv"):
            raise InvalidData(f"unknown export format {fmt!r}: json or csv",
                              {"format": {"zh": "导出格式须为 json 或 csv", "en": "The format is json or csv"}})
        with self.db.read() as s:
            inst = get_instance(s, instance_id)
            if actor is not None:
                access.check_may_see(s, users.get_user(s, actor), inst)
            chain = instance_chain(instance_id)
            return audit_export.to_json(s, chain) if fmt == "json" else audit_export.to_csv(s, chain)

    def replay(self, instance_id: int, step: int | None = None, actor: str | None = None,
               states: bool = False) -> Replay:
        """Verify the chain, then replay it; `actor` (when given) must be allowed to see the instance.
        With `states`, `Replay.states` holds the state after every event (the history page's slider)."""
        with self.db.read() as s:
            inst = get_instance(s, instance_id)
            if actor is not None:
                access.check_may_see(s, users.get_user(s, actor), inst)
            chain: ChainResult = verify_chain(s, instance_chain(instance_id))
            rows = s.scalars(select(AuditEvent).where(AuditEvent.chain == instance_chain(instance_id))
                             .order_by(AuditEvent.position))
            events = [{"position": r.position, "at": r.at, "actor": r.actor, "kind": r.kind, "task": r.task,
                       "payload": json.loads(r.payload)} for r in rows]
            specs = specs_for(s, self.specs, first_version_id(events, inst.process_version_id))
            started_by = inst.started_by
        if not chain.ok:
            from engine.replay import Mismatch

            return Replay(False, chain.events, Mismatch(chain.position or 0, "chain", chain.reason))
        return replay(specs, started_by, events, step, loader=self._specs_of_version, states=states)

    def timeline(self, actor: str, instance_id: int) -> list[dict]:
        """The history page's timeline: every audit event with who, their role, when, the data
        changed (old -> new) and, for gateways, the branch taken and why."""
        from engine.audit import timeline

        events = self.history(actor, instance_id)
        with self.db.read() as s:
            inst = get_instance(s, instance_id)
            roles = self._role_names()
            current = self.labels.get(s, inst.process_version_id, roles)
            numbers = labels_mod.event_versions(events, labels_mod.version_number(s, inst))
            found = labels_mod.versions_by_number(s, self.labels, inst.process_key, set(numbers), roles)
        return timeline.build(events, [found.get(n, current) for n in numbers])

    # -- issue 6: search, search export and KPIs ------------------------------------------------
    def search(self, actor: str, filters: dict | None = None, page: int = 1, per_page: int = 25) -> dict:
        """Instances the actor may see matching `filters` (process, customer, business_key, status,
        started_from, started_to, participant, sla_breached): {items, total, page, per_page, pages}."""
        from engine.runtime import search

        with self.db.read() as s:
            return search.search(s, users.get_user(s, actor), self.clock.now(), filters or {}, page, per_page)

    def export_search(self, actor: str, filters: dict | None = None, fmt: str = "json") -> str:
        """Every instance a search finds, with its full trail: JSON (each chain verifiable offline) or
        CSV (one row per event, with the instance id)."""
        from engine.runtime import search

        with self.db.read() as s:
            return search.export(s, users.get_user(s, actor), self.clock.now(), filters or {}, fmt)

    def kpi(self, actor: str, filters: dict | None = None) -> dict:
        """The KPI dashboard's figures (engine/kpi): response and resolution times against their
        targets, complaint resolution rate, satisfaction, volumes; per month, role and person; safety,
        training, opinions and the appraisal per person (what each user sees: access.kpi_view)."""
        from engine.kpi import report

        with self.db.read() as s:
            return report.build(s, users.get_user(s, actor), self.clock.now(), filters or {})

    def may_see_kpi(self, actor: str) -> bool:
        """Whether the KPI dashboard is open to this user (for showing its link)."""
        from engine.kpi import report

        with self.db.read() as s:
            return report.may_see(s, users.get_user(s, actor))

    # -- issue 12: the price list (engine/prices; who may do what: engine/runtime/access.py) ------------
    def prices(self, actor: str, on: str | None = None) -> list[dict]:
        """Every row of the price list, or those valid on `on` (YYYY-MM-DD): [{id, product, spec, grade, unit,
        price_fen, price_yuan ("420.00"), valid_from, valid_to (None: open), created_by, created_at, ended_by,
        ended_at}]. Sales staff, finance, the general manager and auditors may read it."""
        from engine.prices import service

        with self.db.read() as s:
            return service.listing(s, actor, on)

    def import_prices(self, actor: str, content: bytes, source: str = "", dry_run: bool = False) -> dict:
        """Add the rows of a CSV file (engine/prices/csvfile.py), all or none, in the `prices` chain:
        {dry_run, source, added: [row], ended: [{id, product, spec, grade, valid_to, previous_valid_to}]}.
        The sales director (or the console operator, "system"); InvalidData names every bad line."""
        from engine.prices import service

        if dry_run:
            with self.db.read() as s:
                return service.import_file(s, actor, self.clock.now(), content, source, dry_run=True)
        with self.db.write() as s:
            return service.import_file(s, actor, self.clock.now(), content, source)

    def add_price(self, actor: str, row: dict) -> dict:
        """One new row {product, spec, grade, unit, price_yuan, valid_from, valid_to?} (the sales director)."""
        from engine.prices import service

        with self.db.write() as s:
            return service.add(s, actor, self.clock.now(), row)

    def end_price(self, actor: str, price_id: int, valid_to: str) -> dict:
        """Set the last day a row applies: yesterday (it stops today) or later (the sales director)."""
        from engine.prices import service

        with self.db.write() as s:
            return service.end(s, actor, self.clock.now(), price_id, valid_to)

    def may_read_prices(self, actor: str) -> bool:
        from engine.prices import service

        with self.db.read() as s:
            return service.may_read(s, actor)

    def may_edit_prices(self, actor: str) -> bool:
        from engine.prices import service

        with self.db.read() as s:
            return service.may_edit(s, actor)

    # -- issue 5: migrating running instances to a newer version (MIGRATION helper) ---------------
    def _specs_of_version(self, version_id: int):  # noqa: ANN202 - SpecSet
        with self.db.read() as s:
            return specs_for(s, self.specs, version_id)

    def migration_plan(self, actor: str, key: str, to_version: int) -> list[dict]:
        """Dry run: per running instance of `key` on an older version, whether it can move to
        `to_version` and, if not, why (each reason names the element that blocks it)."""
        from engine.runtime import migration

        return self._frozen(migration.plan, actor, key, to_version)

    def migration_preview(self, actor: str, key: str, to_version: int) -> list[dict]:
        """The dry run as the owner confirms it: migration_plan's entries, each with the instance's open
        tasks ({id, bpmn_id, title, title_en, role, assignee, assignee_name}) and `started_by_name`."""
        from engine.runtime import migration_preview

        return self._frozen(migration_preview.preview, actor, key, to_version)

    def migrate(self, actor: str, key: str, to_version: int) -> dict:
        """Move every movable instance (each in its own transaction, with a `migrated` audit event):
        {"migrated": [ids], "skipped": [{"instance_id", "reasons", "messages"}]} (reasons: English by
        element id; messages: {zh, en} by element name)."""
        from engine.runtime import migration

        return self._frozen(migration.migrate, actor, key, to_version)

    # -- issue 5: lint, versions and their diff (LINT helper) --------------------------------------
    def lint(self, actor: str, files: list[SourceFile]) -> list[dict]:
        """Every problem of a bundle, deploying nothing: [{file, element, line, message, severity}];
        `deploy` refuses while any "error" remains, "warning"s do not block."""
        from engine.definitions.compiler import lint_bundle

        with self.db.read() as s:
            access.check_process_owner(s, actor)
        return [f.to_dict() for f in lint_bundle(files, lane_roles(load_catalogue(self._roles_path)))]

    def versions(self, actor: str, key: str) -> list[dict]:
        """[{version, sha256, deployed_by, deployed_at, note, running, total, status (active, draft, returned,
        withdrawn), decided_by, decided_at, request_id, emergency_reason}], newest first."""
        from engine.definitions import versions

        with self.db.read() as s:
            access.check_process_owner(s, actor)
            return versions.versions(s, key)

    def version_files(self, actor: str, key: str, version: int) -> list[dict]:
        """[{name, kind, content}]: the files a deployed version was built from, to open it in the editor."""
        from engine.definitions import versions

        with self.db.read() as s:
            access.check_process_owner(s, actor)
            return versions.version_files(s, key, version)

    def version_diff(self, actor: str, key: str, version: int) -> dict:
        """{against, added, removed, renamed: [{id, from, to}], forms_added, forms_removed, forms_changed}."""
        from engine.definitions import versions

        with self.db.read() as s:
            access.check_may_read_versions(s, actor)  # the general manager reads what he approves
            return versions.version_diff(s, key, version)

    # -- issue 13: notifications (engine/notify) -------------------------------------------------------
    def notifications(self, actor: str, limit: int = 50, before: int | None = None) -> dict:
        """The actor's notifications shown in the app, newest first: {items: [{id, kind, instance_id, task_id,
        created_at, read, title: {zh, en}, text: {zh, en}, target: task|instance}], unread, more}."""
        from engine.notify import reading

        with self.db.read() as s:
            return reading.listing(s, users.get_user(s, actor).username, limit, before)

    def unread_notifications(self, actor: str) -> int:
        """How many of the actor's notifications are unread (the bell)."""
        from engine.notify import reading

        with self.db.read() as s:
            return reading.unread_count(s, users.get_user(s, actor).username)

    def read_notification(self, actor: str, notification_id: int) -> dict:
        """Mark one of the actor's own notifications read; returns it (NotFound for anyone else's)."""
        from engine.notify import reading

        with self.db.write() as s:
            return reading.mark_read(s, users.get_user(s, actor).username, notification_id, self.clock.now())

    def read_all_notifications(self, actor: str) -> int:
        from engine.notify import reading

        with self.db.write() as s:
            return reading.mark_all_read(s, users.get_user(s, actor).username, self.clock.now())

    def notification_preferences(self, actor: str) -> dict:
        """{email, lang, kinds: {offered|decided|overdue: {in_app, email}}} (defaults where none was saved)."""
        from engine.notify import preferences

        with self.db.read() as s:
            return preferences.view(s, users.get_user(s, actor))

    def set_notification_preferences(self, actor: str, email: str | None, lang: str, kinds: dict) -> dict:
        """The actor's own e-mail address, e-mail language and choices per kind; returns them as stored."""
        from engine.notify import preferences

        with self.db.write() as s:
            return preferences.save(s, users.get_user(s, actor), email, lang, kinds)

    def set_email(self, actor: str, username: str, email: str | None) -> None:
        """An administrator sets (or clears, with None) a user's e-mail address; everyone their own."""
        from engine.notify import preferences

        with self.db.write() as s:
            access.check_may_set_email(manage.acting(s, actor), username)
            user = users.get_user(s, username)
            user.email = preferences.clean_email(email)

    def run_notifications(self, settings=None) -> dict[str, int]:  # noqa: ANN001 - engine.notify.smtp.SmtpSettings
        """One worker pass: announce deadlines that passed, send pending e-mails (SMTP settings from the
        environment unless given): {overdue, sent, retrying, failed, dropped}."""
        from engine.notify import events, outbox

        with clock_mod.using(self.clock):
            return {"overdue": events.scan_overdue(self), **outbox.send_pending(self, settings)}
