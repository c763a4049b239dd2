"""`Engine`'s runtime commands: start, claim, complete, cancel, messages, and resolving incidents.

Each runs through `Engine._frozen` (engine/api.py): one transaction, at one frozen instant; the work is in
engine/runtime/commands.py and engine/runtime/resolving.py.
"""

from __future__ import annotations

from engine import users
from engine.errors import InvalidData
from engine.facade.base import EngineBase
from engine.runtime import access, commands
from engine.runtime.idempotency import Answer
from engine.tokens import Bearer


class CommandsMixin(EngineBase):
    def start(self, actor: str, key: str, data: dict | None = None, business_key: str | None = None) -> int:
        return self._frozen(commands.start, actor, key, data, business_key)

    def claim(self, actor: str, task_id: str) -> None:
        self._frozen(commands.claim, actor, task_id)

    # The same commands answering what they did, retry-safe with an idempotency key
    # (engine/runtime/idempotency.py). The answer is read in the command's own transaction: the
    # instance (start, complete) or the task (claim) right after it. With a key (the REST API's
    # Idempotency-Key header, a page's form token) it is kept for SALESFLOW_IDEMPOTENCY_HOURS
    # (default 24): the same user retrying with the same key and request gets it back without the
    # command running again (Answer.repeated); the same key with another request is 422. The actor may be a
    # Bearer (engine.tokens): an API token, checked in the command's transaction rather than in one of its own.
    def start_once(self, actor: str | Bearer, key: str, data: dict | None = None, business_key: str | None = None,
                   idempotency_key: str | None = None) -> Answer:
        return self._frozen(commands.start_once, actor, key, data, business_key, idempotency_key)

    def complete_once(self, actor: str | Bearer, task_id: str, data: dict | None = None,
                      idempotency_key: str | None = None) -> Answer:
        return self._frozen(commands.complete_once, actor, task_id, data, idempotency_key)

    def claim_once(self, actor: str | Bearer, task_id: str, idempotency_key: str | None = None) -> Answer:
        return self._frozen(commands.claim_once, actor, task_id, idempotency_key)

    def unclaim(self, actor: str, task_id: str) -> None:
        self._frozen(commands.unclaim, actor, task_id)

    def reassign(self, actor: str, task_id: str, to_user: str) -> None:
        self._frozen(commands.reassign, actor, task_id, to_user)

    def complete(self, actor: str, task_id: str, data: dict | None = None) -> int:
        return self._frozen(commands.complete, actor, task_id, data)

    def comment(self, actor: str, task_id: str, text: str) -> None:
        self._frozen(commands.comment, actor, task_id, text)

    def cancel(self, actor: str, instance_id: int, reason: str = "") -> str:
        """End an instance early, with a reason the trail keeps; returns its outcome: `withdrawn` (its
        requester, before anyone else decided on it) or `cancelled` (the roles the process allows)."""
        return self._frozen(commands.cancel, actor, instance_id, reason)

    def deliver_message(self, actor: str, instance_id: int, name: str, payload: dict | None = None) -> None:
        self._frozen(commands.deliver_message, actor, instance_id, name, payload)

    def incidents(self, actor: str, status: str = "open", process: str | None = None) -> list[dict]:
        """Administrators: incidents newest first (at most 500), `status` open (default), resolved or all:
        [{id, instance_id, process_key, business_key, instance_status, kind, element, element_name,
        message, raised_at, attempts, status, resolved_by, resolved_at, resolution, reason}]."""
        from engine.runtime import incidents

        with self.db.read() as s:
            access.check_may_resolve_incidents(users.get_actor(s, actor))
            if status not in (*incidents.STATUSES, "all"):
                raise InvalidData("status must be open, resolved or all", {"status": {
                    "zh": "须为 open、resolved 或 all", "en": "Must be open, resolved or all"}})
            return incidents.listing(s, None if status == "all" else status, process)

    def retry_incident(self, actor: str, incident_id: int) -> dict:
        """Run the failed step again now; the incident afterwards (`status` resolved, or open with the
        new message and one more attempt)."""
        from engine.runtime import resolving

        return self._frozen(resolving.retry_incident, actor, incident_id)

    def cancel_incident(self, actor: str, incident_id: int, reason: str) -> dict:
        """Cancel the halted instance (a reason is required) without running the failed step."""
        from engine.runtime import resolving

        return self._frozen(resolving.cancel_incident, actor, incident_id, reason)

    def may_resolve_incidents(self, actor: str) -> bool:
        """Whether the incidents page is open to this user (for showing its link)."""
        with self.db.read() as s:
            return access.may_resolve_incidents(users.get_actor(s, actor))
