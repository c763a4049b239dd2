"""Issue 11, finding 7: `1e400` was stored as Infinity, and the auditor's history page then said
"chain breaks at step 1" while the server verified (JSON has no Infinity: only Python read it back).
Inputs are refused by the forms (test_forms__numbers.py); this is the last line: no audit event, and
so no instance data, is ever stored with NaN or an infinity, whatever a script computes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.audit.chain import append
from engine.definitions.bundle import KINDS, SourceFile
from engine.errors import ProcessError
from engine.store.models import AuditEvent, Instance
from tests.conftest import FIXTURES, add_users

SCRIPT = "requested_on = today()"


def approval_with_script(script: str) -> list[SourceFile]:
    files = []
    for path in sorted((FIXTURES / "approval").iterdir()):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".bpmn":
            assert SCRIPT in text
            text = text.replace(SCRIPT, script, 1)
        files.append(SourceFile(path.name, KINDS[Path(path.name).suffix], text.encode("utf-8")))
    return files


def stored(engine) -> tuple[int, int]:
    with engine.db.read() as s:
        return (s.scalar(select(func.count()).select_from(Instance)),
                s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.chain.like("instance:%"))))


@pytest.mark.parametrize("script", ["requested_on = amount_yuan * 1e308 * 10",
                                    "requested_on = {'rows': [amount_yuan * 1e308 * 10 - amount_yuan * 1e308 * 10]}",
                                    "requested_on = -1e309"])
def test_a_script_that_makes_a_non_finite_number_fails_the_step_and_saves_nothing(engine, script):
    engine.deploy("system", files=approval_with_script(script))
    add_users(engine, {"rep": ["sales_rep"], "mgr": ["sales_manager"]})
    with pytest.raises(ProcessError, match="requested_on"):
        engine.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 20000})
    assert stored(engine) == (0, 0)
    assert engine.inbox("mgr") == []


def test_no_event_with_nan_or_infinity_is_ever_appended(engine):
    for bad in (math.inf, -math.inf, math.nan):
        with engine.db.write() as s, pytest.raises(ProcessError, match=r"payload\.x\[1\]"):
            append(s, "instance:1", "2026-03-02T01:00:00+00:00", "system", "started", None,
                   {"payload": {"x": [1, bad]}})
    with engine.db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0

