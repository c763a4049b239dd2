"""Restored workflows kept between commands: a command restores its instance's state from the
database only when someone else changed it since this process last saved it.

An entry is the state text a command saved and the workflow that text came from. The next command
on the instance takes the entry out (no other command can use that workflow meanwhile) and uses the
workflow only if the state the database holds now, read under the instance lock, is that very text.
Whatever changed the instance since (another web server, a timer worker, a migration, a rolled-back
step), the text differs and the state is restored as before. A saved workflow goes in only once its
transaction has committed; any rollback in the session drops what it would have kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "warm_workflows"  # session.info: {instance id: (cache, state text, workflow)} to keep at commit


class WarmWorkflows:
    """The most recently saved workflows, up to `budget` characters of state text in all (a restored
    workflow takes several times its text in memory: measured in docs/deployment.md); 0 keeps none."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._used = 0
        self._items: OrderedDict[int, tuple[str, BpmnWorkflow, object]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: int, state_json: str) -> BpmnWorkflow | None:
        """The instance's workflow if it is exactly the state the database holds, else None (restore it)."""
        found = self.take_standing(instance_id, state_json)
        return found[0] if found is not None else None

    def take_standing(self, instance_id: int, state_json: str) -> tuple[BpmnWorkflow, object] | None:
        """`take`, with what the step that saved the workflow knew of it then (`standing`, engine/runtime/step.py:
        its task states, data and timers, as they still are), so that the next step need not walk its tree
        again for them."""
        with self._lock:
            entry = self._items.pop(instance_id, None)
            if entry is not None:
                self._used -= len(entry[0])
        if entry is None or entry[0] != state_json:
            return None
        return entry[1], entry[2]

    def keep_on_commit(self, session: Session, instance_id: int, state_json: str, wf: BpmnWorkflow,
                       standing: object = None) -> None:
        """Keep the workflow a step saved as `state_json` (and what the step knew of it: `standing`), once the
        session's transaction commits (the last step of an instance in the transaction is the one kept)."""
        if 0 < len(state_json) <= self._budget:
            session.info.setdefault(_PENDING, {})[instance_id] = (self, state_json, wf, standing)

    def _put(self, instance_id: int, state_json: str, wf: BpmnWorkflow, standing: object) -> None:
        with self._lock:
            old = self._items.pop(instance_id, None)
            self._used += len(state_json) - (len(old[0]) if old else 0)
            self._items[instance_id] = (state_json, wf, standing)
            while self._used > self._budget:
                _iid, (text, _wf, _standing) = self._items.popitem(last=False)
                self._used -= len(text)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the transaction may still roll back
        return
    for instance_id, (cache, state_json, wf, standing) in session.info.pop(_PENDING, {}).items():
        cache._put(instance_id, state_json, wf, standing)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _transaction: object) -> None:
    session.info.pop(_PENDING, None)  # whatever was saved may be gone; restoring costs time, never correctness
