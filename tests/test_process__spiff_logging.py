"""SpiffWorkflow's log messages (engine/process/spiff_logging.py): the state names it writes are its own,
and a workflow's records stay as unread as before while no walk of the task tree is spent on them."""

from __future__ import annotations

import logging

from SpiffWorkflow.util.task import TaskState

from engine.process import spiff_logging
from engine.process.spiff_logging import _spiff_get_name


def test_every_state_and_mask_is_named_as_spiffworkflow_names_it() -> None:
    values = [*range(TaskState.ANY_MASK + 1), TaskState.FINISHED_MASK, TaskState.DEFINITE_MASK,
              TaskState.PREDICTED_MASK, TaskState.NOT_FINISHED_MASK]
    for _round in range(2):  # computed, then kept
        for value in values:
            assert TaskState.get_name(value) == _spiff_get_name(value), value
    assert TaskState.get_name(TaskState.READY) == "READY"
    assert TaskState.get_name(TaskState.MAYBE | TaskState.READY) == "MAYBE|READY"


def test_applying_twice_keeps_one_wrapper() -> None:
    spiff_logging.quieten()
    assert TaskState.__dict__["get_name"].__func__ is spiff_logging._get_name
    assert TaskState.get_name(TaskState.COMPLETED) == "COMPLETED"


def test_spiffworkflow_workflow_logger_drops_info_of_its_own() -> None:
    """What SpiffWorkflow logs at INFO was dropped already (nothing configures its loggers; the root logger is
    at WARNING); its workflow logger now says so itself, so that it does not list every task for nothing."""
    log = logging.getLogger("spiff.workflow")
    assert log.level == logging.WARNING
    assert not log.isEnabledFor(logging.INFO)


def test_benchmarks_can_run_spiffworkflow_as_shipped_and_get_the_engines_tuning_back() -> None:
    """bench/'s yardstick is raw SpiffWorkflow as anyone installs it: inside as_shipped it is that (its own
    get_name, its logger's level unset, so INFO reaches whatever the root allows), after it the engine's again."""
    log = logging.getLogger("spiff.workflow")
    with spiff_logging.as_shipped():
        assert TaskState.__dict__["get_name"] is spiff_logging._SHIPPED
        assert log.level == logging.NOTSET
        assert TaskState.get_name(TaskState.READY) == "READY"
    assert TaskState.__dict__["get_name"].__func__ is spiff_logging._get_name
    assert log.level == logging.WARNING
