"""One command's effect on one instance: events, task rows, timer rows, state.

Every command that changes an instance ends in `Step.finish`, inside the
command's single transaction: the audit events are appended, the inbox rows and
the timer index follow the workflow, and the state is saved with rev + 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from engine import outcomes
from engine.audit.chain import append, append_many, instance_chain, new_chain
from engine.clock import iso
from engine.definitions.serializer import SERIALIZER_VERSION
from engine.errors import ProcessError
from engine.kpi import case_rows, score_rows
from engine.notify import events as notify
from engine.process import observe, waits, workflow
from engine.process.deadlines import task_deadline
from engine.process.routing import Offer, due_at, offer
from engine.process.specs import SpecSet
from engine.runtime import customer_names, customers, effects, sla
from engine.runtime.incidents import LIVE
from engine.runtime.loading import open_tasks
from engine.runtime.warm_workflows import WarmWorkflows
from engine.sandbox.values import OutputRefused, storable
from engine.scripting import FAILURES
from engine.store.driver_sql import DriverStatement
from engine.store.models import Instance, Task, Timer
from engine.store.writes import insert_now, mark_written, write_changes


@dataclass
class Step:
    session: Session
    instance: Instance
    specs: SpecSet
    wf: BpmnWorkflow | None
    actor: str
    at: datetime
    warm: WarmWorkflows | None = None  # keeps the saved workflow for the instance's next command
    new: bool = False  # the instance is not in the database yet: `finish` inserts it (starting.begin)
    # what the step that saved `wf` knew of it, when `wf` is that very workflow, unchanged since (a kept one:
    # engine/runtime/warm_workflows.py): its snapshot and data are not computed again
    standing: observe.Standing | None = None

    def __post_init__(self) -> None:
        self.thrown: list[tuple[str, dict]] = []  # messages to route once the step is recorded
        self._later: list[tuple[str, str | None, dict]] = []
        if self.standing is not None:
            self.before, self.data_before = self.standing.snapshot, self.standing.data
        else:
            seen = observe.Seen.of(self.wf) if self.wf else None
            self.before = observe.snapshot(self.wf, seen)
            self.data_before = observe.instance_data(self.wf, seen) if self.wf else {}

    def event(self, kind: str, task: str | None, payload: dict) -> None:
        append(self.session, instance_chain(self.instance.id), iso(self.at), self.actor, kind, task, payload,
               self.instance.id)

    def later(self, kind: str, task: str | None, payload: dict) -> None:
        """An event recorded by `finish`, before the command's own: written with the step's other events."""
        self._later.append((kind, task, payload))

    def _record(self, events: list[tuple[str, str | None, dict]]) -> None:
        at = iso(self.at)
        append_many(self.session, instance_chain(self.instance.id),
                    [(at, self.actor, kind, task, payload) for kind, task, payload in events], self.instance.id)

    def finish(self, kind: str, task: str | None, payload: dict, status: str | None = None,
               outcome: str | None = None) -> list[observe.Derived]:
        """Record the command (with the digest replay checks) and everything it caused.

        The rows it changes are read first (the open tasks, which the command's task read usually
        brought already; the timers when the workflow waits or waited on any), so that the writes that
        follow go out together: the events and the new task rows in one statement each, the changed
        rows in one flush at the commit, instead of a flush before every read."""
        wf = self.wf
        self.thrown = workflow.take_messages(wf)  # before the state is saved, or they would be sent twice
        states: dict[str, int] = {}
        completed = wf.is_completed()  # asked once: the workflow does not change in `finish` (and it walks the tree)
        derived = observe.derive(self.specs, wf, self.before, self.instance.started_by, states, completed)
        seen = observe.Seen.of(wf)  # one walk for the data, the digest and the timers
        raw_data = observe.instance_data(wf, seen)
        data = stored_data(raw_data)
        data_text = observe.data_json(data)
        ready = [d for d in derived if d.kind == "task_ready"]
        timer_tasks = waits.timer_tasks(wf, seen.waiting)
        due_timers = workflow.waiting_timers(wf, timer_tasks)
        waiting = {str(t.id): (t, due) for t, due in due_timers}
        offerings = [self._offering(d) for d in ready]
        escalated_at = self.at if any(d.kind == "escalated" for d in derived) else None
        if self.new:  # inserted with its first state (one INSERT, no UPDATE after it); its trail starts here
            self._save_state(wf, data, data_text)
            sla.settle(self.instance, escalated_at, (), (due for _, _, due in offerings))
            insert_now(self.session, self.instance)
            new_chain(self.session, instance_chain(self.instance.id))
        with self.session.no_autoflush:  # what they read is the database's; our changes go out together later
            rows = self._task_rows()
            timers = self._timer_rows() if waiting or self.before.waits_on_timers else {}
            self._record([*self._later, (kind, task, {**payload, "changes": observe.changes(self.data_before, data),
                                                      "digest": observe.digest(wf, data, data_text, seen, completed)}),
                          *((d.kind, d.task, {**d.payload, **({"task_id": d.task_id} if d.task_id else {})})
                            for d in derived)])
        self._later = []
        fresh: list[Task] = []
        offered = [self._offer(d, offering, rows, fresh) for d, offering in zip(ready, offerings, strict=True)]
        closed = self._close_tasks(rows)
        # after the rows it closed and the tasks open now; in the UPDATE below (sla.py)
        sla.settle(self.instance, escalated_at, closed,
                   [*(r.due_at for r in rows.values() if r.status == "ready"), *(r.due_at for r in offered)])
        self._write_fresh(fresh, closed)
        self._sync_timers(waiting, timers)
        inst = self.instance
        if not self.new:
            self._save_state(wf, data, data_text)
        if self.warm is not None:  # the workflow does not change after this point: what is known of it holds
            standing = observe.Standing(observe.Snapshot(states, completed, bool(timer_tasks)), raw_data,
                                        due_timers)
            self.warm.keep_on_commit(self.session, inst.id, inst.state_json, wf, standing)
        if status:
            inst.status = status
            if status == "cancelled":
                inst.outcome = outcome or outcomes.CANCELLED
                effects.cancelled(self.session, inst, self.actor, self.at, str(payload.get("reason") or ""))
        elif completed:
            inst.status, inst.outcome = "completed", observe.outcome(self.specs, wf, inst.process_key)
            effects.completed(self.session, inst, data, self.actor, self.at)
        ended = inst.status not in LIVE and inst.ended_at is None
        if ended:
            inst.ended_at = self.at
        model = self.specs.models[inst.process_key]
        notify.after_step(self.session, inst, offered, ended, self.actor, self.at,  # rows now; e-mails after commit
                          {"zh": model.name, "en": model.name_en or model.name})
        write_changes(self.session, inst)  # one UPDATE now, not the unit of work's at the flush
        case_rows.after_step(self.session, inst.id, inst.process_key, closed, ended, self.at)  # KPI cases decided
        score_rows.after_step(self.session, inst.id, inst.process_key, closed)  # KPI satisfaction scores
        return derived

    def _save_state(self, wf: BpmnWorkflow, data: dict, data_text: str) -> None:
        """The workflow's state and data (`data_text`: observe.data_json(data)) into the instance row, one
        revision on."""
        inst = self.instance
        inst.state_json, inst.serializer_version = workflow.dump(wf), SERIALIZER_VERSION
        inst.data_json = data_text
        customer = customer_names.copied(data.get("customer_name"))
        if customer is not None and customer != inst.customer_name:  # the instance's row was read: no statement
            customer_names.remember(self.session, customer)
        inst.customer_name = customer
        inst.rev += 1

    def _task_rows(self) -> dict[str, Task]:
        """The instance's open task rows (none before its first step): usually those the command's task
        read found under the lock (loading.lock_task), else read here."""
        if self.new or (self.before.states == {} and self.instance.rev == 0):
            return {}
        known = open_tasks(self.session, self.instance.id)
        if known is not None:
            return dict(known)
        query = select(Task).where(Task.instance_id == self.instance.id, Task.status == "ready")
        return {row.id: row for row in self.session.scalars(query)}

    def _offering(self, d: observe.Derived) -> tuple:
        """(the SpiffWorkflow task, to whom it is offered, its deadline) of a task that became ready: known
        before a new instance's row is inserted, whose SLA columns follow the deadlines (sla.py)."""
        task = workflow.find_task(self.wf, d.task_id)
        o = offer(self.specs, task, self.instance.started_by)
        return task, o, self._due(o, task, d.task)

    def _offer(self, d: observe.Derived, offering: tuple, rows: dict[str, Task], fresh: list[Task]) -> Task:
        """The inbox row of a task that became ready (`offering`: `_offering`'s). An open row under its id
        is updated; any other goes into `fresh`, written by `_write_fresh`."""
        task, o, due = offering
        row = rows.pop(d.task_id, None)
        if row is None:
            row = Task(id=d.task_id)
            fresh.append(row)
        row.instance_id, row.process_key, row.bpmn_id = self.instance.id, self.instance.process_key, d.task
        row.title, row.title_en, row.role, row.form_key, row.assignee = o.title, o.title_en, o.role, o.form_key, \
            o.assignee
        row.status, row.created_at, row.due_at = "ready", self.at, due
        row.sod = " ".join(o.sod)
        row.completed_by = row.completed_at = None
        if o.owner_lane:
            customers.route(self.session, self.instance, row, task.data, self.event)
        return row

    def _write_fresh(self, fresh: list[Task], closed: list[Task]) -> None:
        """The rows of tasks that became ready and had no open row, in one statement. Almost always the
        id is new (SpiffWorkflow draws a UUID per task), but a task reset by a migration becomes ready
        again under its id, whose closed row then takes the new values: an upsert covers both without
        reading first. The objects stay out of the session (nothing else in the step changes them).

        The rows the step closed ride in the same statement (their whole row, as read under the instance
        lock and changed since), instead of an UPDATE of their own at the flush; their values are then
        marked as the database's, so that the flush sends nothing more for them. A step that only closes
        rows sends them in the same statement too."""
        if not fresh and not closed:
            return
        for row in fresh:  # a closed row of the same id loaded earlier in this transaction is stale now
            known = self.session.identity_map.get(identity_key(Task, row.id))
            if known is not None:
                self.session.expire(known)
        _UPSERT_TASK.execute(self.session, [{c: getattr(row, c) for c in _TASK_COLUMNS} for row in fresh + closed])
        for row in closed:
            mark_written(self.session, row)

    def _close_tasks(self, open_rows: dict[str, Task]) -> list[Task]:
        """Open rows whose task is no longer ready: completed, or cancelled (also when it is gone). Returns
        them (and any other open row changed in this command, such as a claim)."""
        changed = []
        for row in open_rows.values():
            if row.status != "ready":
                continue
            task = workflow.find_task(self.wf, row.id)
            state = task.state if task is not None else TaskState.CANCELLED
            if state == TaskState.COMPLETED:
                row.status, row.completed_at = "completed", row.completed_at or self.at
            elif state != TaskState.READY:
                row.status = "cancelled"
            if inspect(row).modified:
                changed.append(row)
        return changed

    def _due(self, o: Offer, task, element: str) -> datetime | None:  # noqa: ANN001 - a SpiffWorkflow Task
        """The task's deadline: its due date or the earliest boundary timer watching it, whichever is
        earlier (engine/process/deadlines.py). A due date expression that fails fails the step, naming
        the task."""
        try:
            due = due_at(o.due, self.at, task.data)
        except (*FAILURES, ValueError, TypeError) as exc:
            raise ProcessError(f'the due date of "{o.title}" ({element}) cannot be computed: {exc}',
                               element, o.title) from None
        return task_deadline(due, task)

    def _timer_rows(self) -> dict[str, Timer]:
        return {r.task_id: r for r in self.session.scalars(
            select(Timer).where(Timer.instance_id == self.instance.id, Timer.status == "waiting"))}

    def _sync_timers(self, waiting: dict[str, tuple], rows: dict[str, Timer]) -> None:
        """The timer index follows the timers the workflow waits on: new ones armed, moved ones
        re-dated, the others marked fired or cancelled."""
        for task_id, row in rows.items():
            if task_id in waiting:
                row.due_at = waiting[task_id][1]
                if row.due_at > self.at:  # a cycle timer's next round (or a new deadline): no failed attempts yet
                    row.attempts, row.next_attempt_at, row.last_error = 0, None, None
                continue
            task = workflow.find_task(self.wf, task_id)
            fired = task is not None and task.state == TaskState.COMPLETED and waits.is_timer(task)
            row.status = "fired" if fired else "cancelled"
            row.fired_at = self.at if fired else None
        for task_id, (task, due) in waiting.items():
            if task_id not in rows:
                self.session.add(Timer(instance_id=self.instance.id, task_id=task_id, bpmn_id=task.task_spec.bpmn_id,
                                       due_at=due, status="waiting", attempts=0))


_TASK_COLUMNS = tuple(c.name for c in Task.__table__.columns)
# Written out once, in the SQL SQLite and PostgreSQL share: SQLAlchemy's own upsert construct cannot be
# cached and was compiled again for every step (7 ms of a 40 ms profiled command). Typed parameters keep
# the columns' conversions (UTC times).
_UPSERT_TASK = DriverStatement(text(
    f"INSERT INTO task ({', '.join(_TASK_COLUMNS)}) VALUES ({', '.join(':' + c for c in _TASK_COLUMNS)}) "
    f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _TASK_COLUMNS if c != 'id')}"
).bindparams(*(bindparam(c, type_=Task.__table__.c[c].type) for c in _TASK_COLUMNS)))


def stored_data(data: dict) -> dict:
    """The instance data as JSON will keep it; a value JSON cannot hold fails the step, naming it."""
    try:
        return {name: storable(name, value) for name, value in data.items()}
    except OutputRefused as exc:
        raise ProcessError(f"the process cannot store its data: {exc}") from None
