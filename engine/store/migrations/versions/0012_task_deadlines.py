"""task.due_at from boundary timers too, and the inbox's indexes for sorting by deadline

From now on a task's due_at is the earlier of its due date and the earliest boundary timer watching
it (one on the task, or on a sub-process or call activity it runs inside), computed by the engine when
the task becomes ready (engine/process/deadlines.py). Open tasks that became ready before get theirs
here, on upgrade: for each running (or halted) instance, the timers' target times are read from its
saved workflow state, as SpiffWorkflow 3.2 keeps them (`internal_data.event_value` of the boundary
event tasks, the children of the `<activity>.BoundaryEventSplit` task that is the activity's
parent; a sub-workflow is keyed by the id of the task that runs it). The JSON is read directly so
that this migration does not depend on the engine's code of the day. A task keeps its due date if
that is earlier. Downgrading drops the indexes and leaves the deadlines (they stay true).

Revision ID: 0012
Revises: 0010
"""

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 200
WAITING, READY, COMPLETED = 8, 16, 64  # SpiffWorkflow's TaskState values (serializer 1.4 and 1.5)
SPLIT = ".BoundaryEventSplit"

instance = sa.table("instance", sa.column("id", sa.Integer), sa.column("status", sa.String),
                    sa.column("state_json", sa.Text))
task = sa.table("task", sa.column("id", sa.String), sa.column("instance_id", sa.Integer),
                sa.column("status", sa.String), sa.column("due_at", sa.DateTime))


def upgrade() -> None:
    op.create_index("ix_task_inbox_role_due", "task", ["status", "role", "due_at", "created_at", "id"])
    op.create_index("ix_task_inbox_assignee_due", "task", ["status", "assignee", "due_at", "created_at", "id"])
    _backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_task_inbox_assignee_due", table_name="task")
    op.drop_index("ix_task_inbox_role_due", table_name="task")


def _backfill(conn) -> None:  # noqa: ANN001
    last = 0
    while True:
        ids = list(conn.execute(sa.select(sa.distinct(task.c.instance_id)).join(
            instance, instance.c.id == task.c.instance_id).where(
            task.c.status == "ready", instance.c.status.in_(("running", "incident")), task.c.instance_id > last)
            .order_by(task.c.instance_id).limit(BATCH)).scalars())
        if not ids:
            return
        states = dict(conn.execute(sa.select(instance.c.id, instance.c.state_json).where(instance.c.id.in_(ids))).all())
        rows = conn.execute(sa.select(task.c.id, task.c.instance_id, task.c.due_at).where(
            task.c.instance_id.in_(ids), task.c.status == "ready")).all()
        for task_id, instance_id, due in rows:
            deadline = _deadline(states.get(instance_id), task_id)
            if deadline is not None and (due is None or deadline < due):
                conn.execute(task.update().where(task.c.id == task_id).values(due_at=deadline))
        last = ids[-1]


def _deadline(state_json: str | None, task_id: str) -> datetime | None:
    """The earliest boundary timer target watching the task, naive UTC as the column keeps it."""
    if not state_json:
        return None
    try:
        state = json.loads(state_json)
        where = {tid: (state["tasks"], None) for tid in state["tasks"]}
        for runner, sub in state.get("subprocesses", {}).items():
            where.update({tid: (sub["tasks"], runner) for tid in sub["tasks"]})
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # not a state this migration knows: the task keeps what it has
    found = []
    current = task_id
    seen = set()
    while current in where and current not in seen:
        seen.add(current)
        tasks, runner = where[current]
        parent = tasks.get(tasks[current].get("parent") or "")
        if parent is not None and str(parent.get("task_spec", "")).endswith(SPLIT):
            for child in parent.get("children", []):
                event = tasks.get(child)
                if child == current or event is None or not event.get("state", 0) & (WAITING | READY | COMPLETED):
                    continue
                target = _target((event.get("internal_data") or {}).get("event_value"))
                if target is not None:
                    found.append(target)
        current = runner
    return min(found, default=None)


def _target(value: object) -> datetime | None:
    if isinstance(value, dict):  # a cycle timer: its next round
        value = value.get("next")
    if not value:
        return None
    try:
        return TimerEventDefinition.get_datetime(str(value)).replace(tzinfo=None)
    except ValueError:
        return None
