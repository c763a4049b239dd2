"""Engine methods for deploying under rule-change governance (P13, engine/runtime/rule_changes.py).

Every way in (the CLI, POST /api/v1/deployments, the modeler's deploy button) calls `Engine.deploy`, so
the rule is decided here once: with governance off a deploy is in force at once; with it on, a process
owner's deploy becomes a request for the general manager's approval, and an administrator may deploy an
emergency change with a reason. The installation (`salesflow init`, actor system) is never governed.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from engine import clock as clock_mod
from engine.definitions import deploy as deploy_mod
from engine.definitions import governance, replacing
from engine.definitions.bundle import SourceFile
from engine.facade.base import EngineBase
from engine.runtime import access, commands, rule_changes, starting
from engine.users import SYSTEM, get_actor


class GovernanceMixin(EngineBase):
    def deploy(self, actor: str, paths: list[str | Path] | None = None,
               files: list[SourceFile] | None = None, note: str = "", emergency: bool = False, reason: str = "",
               installation: bool = False, replace: Collection[str] = ()) -> list[deploy_mod.Deployed]:
        """Validate and deploy a bundle, all or nothing. Each changed process becomes a version that is
        `deployed` (in force), or a `draft` of one rule change request (`request_id`) when governance is on;
        `emergency` (administrators, with a `reason`) is in force at once and approved afterwards.
        `installation`: the console's own deploy at `salesflow init`, never governed. A diagram that would
        replace a deployed process rather than edit it (engine/definitions/replacing.py) is refused with
        ReplacesProcess unless its key is in `replace`."""
        if actor != SYSTEM:  # before reading a byte: outsiders learn nothing about the files
            with self.db.read() as s:
                access.check_process_owner(s, actor)
                if emergency:
                    access.check_may_deploy_emergency(s, actor)
        why = rule_changes.emergency_reason(reason) if emergency else None
        compiled = self.compile(paths, files)
        with self.db.write() as s, clock_mod.using(clock_mod.ManualClock(self.clock.now())):
            at = clock_mod.now()
            replacing.refuse_unconfirmed(s, compiled, replace, actor, at)
            if actor == SYSTEM and installation:  # the installation is never governed (salesflow init)
                return self._deploy_at_once(s, compiled, actor, note, why, at, pending_ok=True)
            if not governance.is_on(s):
                return self._deploy_at_once(s, compiled, actor, note, why, at)
            if emergency:
                return rule_changes.emergency(s, self, actor, compiled, note, why, at)
            if actor == SYSTEM:
                raise rule_changes.ConsoleGoverned()
            return rule_changes.submit(s, self, actor, compiled, note, at)

    def _deploy_at_once(self, s, compiled, actor: str, note: str, why: str | None,  # noqa: ANN001
                        at, pending_ok: bool = False) -> list[deploy_mod.Deployed]:  # noqa: ANN001
        if not pending_ok:
            rule_changes.refuse_pending(s, compiled)
        stored = deploy_mod.deploy(s, compiled, actor, at, note, emergency_reason=why)
        for d, _ in stored:
            if d.status == "deployed":
                starting.arm(s, self, d.key)  # a timer-started process waits for its first time
        return [d for d, _ in stored]

    def governance(self, actor: str) -> dict:
        """{on, changed_by, changed_at, pending: [{id, submitted_by, submitted_at, versions}]}."""
        with self.db.read() as s:
            access.check_process_owner(s, actor)
            return {**governance.state(s), "pending": rule_changes.pending(s)}

    def set_governance(self, actor: str, on: bool) -> bool:
        """Switch governance on or off (administrators; recorded in the deployments chain); whether it changed."""
        with self.db.write() as s:
            access.check_may_switch_governance(None if actor == SYSTEM else get_actor(s, actor))
            return governance.switch(s, actor, on, self.clock.now())

    def withdraw_change(self, actor: str, request_id: int, reason: str) -> str:
        """The submitter withdraws a pending rule change: its drafts are withdrawn, the request is ended with
        the reason (the same step as withdrawing any case: commands.cancel)."""
        with self.db.read() as s:
            inst = rule_changes.request_of(s, request_id)
            access.check_may_withdraw_change(get_actor(s, actor), inst)
        return self._frozen(commands.cancel, actor, request_id, reason)

    def change_request(self, actor: str, request_id: int) -> list[dict]:
        """The versions a rule change request decides: [{key, name, version, status, emergency}], for whoever
        may see the request (its submitter, the general manager, process owners, auditors)."""
        with self.db.read() as s:
            inst = rule_changes.request_of(s, request_id)
            user = get_actor(s, actor)
            if not access.holds_owner_role(access.roles_of(user)):
                access.check_may_see(s, user, inst)
            return rule_changes.request_versions(s, request_id)
