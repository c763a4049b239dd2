"""A call activity that calls its own process (directly or through others) fails its step cleanly,
naming the call activity, instead of nesting sub-workflows until the command's time runs out.
Validation refuses such call graphs; this is the runtime's second guard, so the specs are parsed here
without it."""

from __future__ import annotations

import pytest

from engine.definitions.parser import Parser
from engine.errors import ProcessError
from engine.process import limits, workflow
from engine.process.specs import SpecSet
from tests.conftest import FIXTURES


def specs(process: str) -> SpecSet:
    parser = Parser()
    parser.add_bpmn_file(str(FIXTURES / "recursion" / "selfcall.bpmn"))
    return SpecSet(0, parser.get_spec(process), parser.get_subprocess_specs(process), {})


def test_a_process_calling_itself_fails_at_the_depth_limit_naming_the_call_activity():
    with pytest.raises(ProcessError, match=f"nested more than {limits.MAX_CALL_DEPTH} levels") as caught:
        workflow.start(specs("selfcall"), {})
    assert caught.value.element == "again"  # the depth limit, not the 30 s budget (which names "start")


def test_processes_calling_each_other_without_end_fail_naming_the_call_activity():
    with pytest.raises(ProcessError, match="nested more than") as caught:
        workflow.start(specs("ping"), {"levels": 10_000})
    assert caught.value.element in {"call_ping", "call_pong"}


def test_recursion_that_ends_within_the_limit_runs_to_the_end():
    wf = workflow.start(specs("ping"), {"levels": limits.MAX_CALL_DEPTH // 2 - 1})
    assert wf.is_completed() and wf.last_task.data["levels"] == 0
