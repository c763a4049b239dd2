"""The safety-training gate (seed 205, 280: 新员工入职前必须参加安全教育培训，合格后方可上岗).

A front-line role (processes/roles.yaml `front_line: true`) is granted to an existing account only when
a completed `training` instance of kind `safety` records that person as passed. Only grants through the
administrators' commands ask (`salesflow users roles`, the /admin/users page: engine/accounts/manage.py);
creating an account (`salesflow users add`, the demo, the tests' fixtures) does not, see
docs/processes/training.md for why. The rule is read from the process's data, so a training recorded on
paper is entered by running the process, and nothing else can make someone pass.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Forbidden
from engine.roles import RoleDef
from engine.store.models import Instance

PROCESS = "training"
SAFETY = "safety"


def passed_safety_training(session: Session, username: str) -> bool:
    """Whether a completed safety training records this login as passed."""
    rows = session.scalars(select(Instance.data_json).where(
        Instance.process_key == PROCESS, Instance.status == "completed", Instance.outcome == "completed"))
    for raw in rows:
        data = json.loads(raw or "{}")
        if data.get("training_kind") != SAFETY:
            continue
        results = data.get("results")
        if isinstance(results, list) and any(
                isinstance(r, dict) and r.get("login") == username and r.get("passed") is True for r in results):
            return True
    return False


class TrainingRequired(Forbidden):
    """A front-line role refused for want of a passed safety training; `reason` is {zh, en} for the pages."""

    def __init__(self, reason: dict[str, str]) -> None:
        super().__init__(reason["en"])
        self.reason = reason


def check_front_line_grant(session: Session, username: str, granted: set[str],
                           front_line: dict[str, RoleDef]) -> None:
    """Refuse granting a front-line role to someone without a passed safety training, saying why (the
    roles by their names: the pages never show an id)."""
    needing = sorted(granted & set(front_line))
    if needing and not passed_safety_training(session, username):
        en = ", ".join(front_line[r].en for r in needing)
        zh = "、".join(front_line[r].zh for r in needing)
        raise TrainingRequired({
            "en": f"{username} has no passed safety training, so the front-line role(s) {en} "
                  f"cannot be granted (safety rules art. 8: new staff pass the safety training before they "
                  f"start work; record it with the process 培训 Training)",
            "zh": f"{username} 尚无合格的安全教育培训记录，不能授予一线岗位角色 {zh}"
                  f"（安全管理制度第八条：新员工须经安全教育培训合格后方可上岗；请先通过“培训”流程记录培训结果）"})
