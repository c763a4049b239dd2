"""SpiffWorkflow's iteration depth, raised for instances that loop for a long time.

SpiffWorkflow 3.2 keeps every round of a loop in its task tree, each round a few levels deeper,
and its task iterators stop silently at depth 1,000 (`TaskIterator(max_depth=1000)`). Past that
depth the waiting task is out of sight: `is_completed()` turns True and the instance would end
with work never done (about 333 rounds of a task + gateway loop). The workflow has no setting
for it, so the iterators' default is raised here, once, for the runtime and replay alike.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

# A task tree this deep is ~30,000 loop rounds; walking it costs seconds per command long before then.
MAX_DEPTH = 100_000
_MAX_DEPTH_ARG = 1  # position of max_depth among the defaults of (end_at_spec, max_depth, ...)


def raise_iteration_depth(depth: int = MAX_DEPTH) -> None:
    for cls in (TaskIterator, BpmnTaskIterator):
        defaults = list(cls.__init__.__defaults__)
        defaults[_MAX_DEPTH_ARG] = depth
        cls.__init__.__defaults__ = tuple(defaults)


raise_iteration_depth()


# What one command may make SpiffWorkflow do between two waits (a user task, a timer, a message): a
# diagram that loops without one (a script and a gateway leading back to it) would otherwise run forever
# in the request, holding the instance's lock (on SQLite, the whole database's).
MAX_ENGINE_STEPS = 2_000  # engine tasks (scripts, gateways, events) one command may complete
MAX_COMMAND_SECONDS = 30.0  # and the time they may take together
# How deeply call activities may nest: real diagrams nest a few levels; a process that calls itself
# (directly or through others) would nest for ever, each level costlier to create than the last.
MAX_CALL_DEPTH = 20
