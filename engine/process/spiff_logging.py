"""SpiffWorkflow's log messages, made cheap where it builds them whether or not anyone logs them.

SpiffWorkflow 3.2 (pinned) logs every task state change at INFO, and builds the message and its extras
before `logging` decides whether the record goes anywhere:

- `TaskState.get_name` builds a dict of every state name at each call, and `Task._set_state` calls it
  for every state change (about a dozen per command); the names never change, so each state's name is
  kept after the first call (SpiffWorkflow's own function computes it).
- `Workflow.collect_log_extras` lists every task of the tree when its logger's own level is below INFO,
  which a logger nobody configured (level NOTSET, 0) always is: a walk of the whole tree at "Workflow
  completed". Nothing here configures SpiffWorkflow's logging, so its INFO records never went anywhere
  (the root logger's WARNING); its `spiff.workflow` logger is set to WARNING when it has no level of its
  own. A deployment that wants those records sets that logger's level itself (then it gets the list too).

Applied once, on import (engine/process/__init__.py), for the runtime and replay alike, as limits.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from SpiffWorkflow.util.task import TaskState

_SHIPPED = TaskState.__dict__["get_name"]  # SpiffWorkflow's own classmethod, as shipped
_spiff_get_name = TaskState.get_name  # the same, bound to its class
_WORKFLOW_LOG = logging.getLogger("spiff.workflow")
_NAMES: dict[int, str] = {}


def _get_name(cls: type, state: int) -> str:
    name = _NAMES.get(state)
    if name is None:
        name = _spiff_get_name(state)
        if type(state) is int and 0 <= state <= TaskState.ANY_MASK:  # a bounded set of keys
            _NAMES[state] = name
    return name


def quieten() -> None:
    if TaskState.__dict__["get_name"].__func__ is not _get_name:
        TaskState.get_name = classmethod(_get_name)
    if _WORKFLOW_LOG.level == logging.NOTSET:
        _WORKFLOW_LOG.setLevel(logging.WARNING)


@contextmanager
def as_shipped() -> Iterator[None]:
    """SpiffWorkflow as anyone installing it runs it, for a while: its own get_name, its logger's level unset.
    For the benchmarks (bench/), whose yardstick is raw SpiffWorkflow: with the two changes above in the same
    process it ran ~15 % faster than as shipped, and every ratio against it read low."""
    level = _WORKFLOW_LOG.level
    TaskState.get_name = _SHIPPED
    _WORKFLOW_LOG.setLevel(logging.NOTSET)
    try:
        yield
    finally:
        TaskState.get_name = classmethod(_get_name)
        _WORKFLOW_LOG.setLevel(level)


quieten()
