"""The safety-training gate (seed 205, 280: 新员工入职前必须参加安全教育培训，合格后方可上岗).

A front-line role (processes/roles.yaml `front_line: true`) is granted to an existing account only when
a completed `training` instance of kind `safety` records that person as passed. The administrators'
commands ask (`salesflow users roles`, the /admin/users page: engine/accounts/manage.py), and so does
`salesflow users add`: a new account has no training yet, so it is refused a front-line role unless the
installer says `--before-training` (first installation), which the security trail records. The demo and
the tests' fixtures create accounts through `Engine.add_user` without the check, see
docs/processes/training.md. The rule is read from the process's data, so a training recorded on
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


def _names(needing: list[str], front_line: dict[str, RoleDef]) -> tuple[str, str]:
    return ", ".join(front_line[r].en for r in needing), "、".join(front_line[r].zh for r in needing)


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
        en, zh = _names(needing, front_line)
        raise TrainingRequired({
            "en": f"{username} has no passed safety training, so the front-line role(s) {en} "
                  f"cannot be granted (safety rules art. 8: new staff pass the safety training before they "
                  f"start work; record it with the process 培训 Training)",
            "zh": f"{username} 尚无合格的安全教育培训记录，不能授予一线岗位角色 {zh}"
                  f"（安全管理制度第八条：新员工须经安全教育培训合格后方可上岗；请先通过“培训”流程记录培训结果）"})


def check_new_account(username: str, roles: set[str], front_line: dict[str, RoleDef]) -> None:
    """A new account has passed no training: refuse it a front-line role, saying what to do instead."""
    needing = sorted(roles & set(front_line))
    if needing:
        en, zh = _names(needing, front_line)
        raise TrainingRequired({
            "en": f"a new account has no safety training yet, so {username} cannot start with the front-line "
                  f"role(s) {en} (safety rules art. 8): add the account with its other roles, record the safety "
                  f"training with the process 培训 Training, then grant the role with `salesflow users roles "
                  f"{username} --add ROLE`; at the first installation only, --before-training grants it now "
                  f"and the security trail records that",
            "zh": f"新账号尚无安全教育培训记录，{username} 不能直接获得一线岗位角色 {zh}（安全管理制度第八条）："
                  f"请先以其他角色创建账号，通过“培训”流程记录安全培训结果，再用 `salesflow users roles {username} "
                  f"--add 角色` 授予；仅在首次安装时可用 --before-training 立即授予，安全审计链会记录此事"})
