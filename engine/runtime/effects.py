"""What the engine's own records learn when an instance of certain processes completes.

A few processes decide something the engine keeps outside the instance: an approved rule change makes
its draft the version new instances start on; a reviewed customer registration becomes a customer
record with its owner. Each such process key names one handler here. `Step.finish` calls it inside the
command's transaction, so the decision and its effect commit together or not at all; a handler that
raises fails the step like any other failure (the instance's incident, never anyone else's).

A handler must not trust the diagram alone (a process owner could deploy a version that reaches its
end without the decision): it checks who completed the deciding task before it acts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from engine.runtime import rule_changes
from engine.store.models import Instance

# (session, the completed instance, its data, the actor of the step, the step's instant)
Handler = Callable[[Session, Instance, dict, str, datetime], None]
# (session, the cancelled or withdrawn instance, the actor, the step's instant, the reason given)
CancelHandler = Callable[[Session, Instance, str, datetime, str], None]

def _customer_register(session: Session, instance: Instance, data: dict, actor: str, at: datetime) -> None:
    from engine.runtime.customers import registration_completed  # it imports the runtime: resolved at call time

    registration_completed(session, instance, data, actor, at)


HANDLERS: dict[str, Handler] = {
    "rule_change": rule_changes.ended,
    "customer_register": _customer_register,
}
# what the engine's records learn when such an instance is withdrawn or cancelled instead
ON_CANCEL: dict[str, CancelHandler] = {
    "rule_change": rule_changes.cancelled,
}



def completed(session: Session, instance: Instance, data: dict, actor: str, at: datetime) -> None:
    """Run the handler of the instance's process, if it has one."""
    handler = HANDLERS.get(instance.process_key)
    if handler is not None:
        handler(session, instance, data, actor, at)


def cancelled(session: Session, instance: Instance, actor: str, at: datetime, reason: str) -> None:
    """Run the cancel handler of the instance's process, if it has one."""
    handler = ON_CANCEL.get(instance.process_key)
    if handler is not None:
        handler(session, instance, actor, at, reason)
