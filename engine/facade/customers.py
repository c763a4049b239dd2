"""`Engine`'s customer methods (issue 14 item 7): the records, their owners and the contact log.

Who may do what is decided in engine/runtime/access.py; the work is in engine/customers/service.py.
"""

from __future__ import annotations

from engine.customers import service
from engine.facade.base import EngineBase


class CustomersMixin(EngineBase):
    def customers(self, actor: str, owner: str | None = None, name: str | None = None,
                  status: str | None = None) -> list[dict]:
        """Customers by name: [{id, name, customer_class, contact_person, contact_phone, address, needs, source,
        owner, follow_up_strategy, status (active | rejected), refusal_reason, registered_by, registered_at,
        reviewed_by, reviewed_at, instance_id}], filtered by owner (login id), part of the name, status."""
        with self.db.read() as s:
            return service.listing(s, actor, owner, name, status)

    def customer_registrations(self, actor: str) -> list[dict]:
        """Registrations waiting for the sales manager's review: [{instance_id, name, registered_by,
        registered_at}]."""
        with self.db.read() as s:
            return service.pending(s, actor)

    def customer(self, actor: str, customer_id: int) -> dict:
        """One customer with `contacts`, its log of calls, letters and visits (newest first)."""
        with self.db.read() as s:
            return service.detail(s, actor, customer_id)

    def log_contact(self, actor: str, customer_id: int, entry: dict) -> dict:
        """Log {kind (call | letter | visit | other), happened_on (YYYY-MM-DD), summary, instance_id?}."""
        with self.db.write() as s:
            return service.log_contact(s, actor, self.clock.now(), customer_id, entry)

    def change_customer_owner(self, actor: str, customer_id: int, change: dict) -> dict:
        """Give the customer to another active sales representative: {owner, reason} (the sales manager)."""
        with self.db.write() as s:
            return service.change_owner(s, actor, self.clock.now(), customer_id, change)

    def customer_owners(self) -> list[str]:
        """The active sales representatives, who may own customers."""
        with self.db.read() as s:
            return service.sales_reps(s)

    def customer_rights(self, actor: str) -> dict[str, bool]:
        """What the actor may do with customers: {read, log, change_owner} (hints for pages)."""
        from engine.runtime import access

        with self.db.read() as s:
            user = service.acting(s, actor)
            return {"read": access.READ_CUSTOMERS.allows(user), "log": access.LOG_CONTACTS.allows(user),
                    "change_owner": access.CHANGE_OWNER.allows(user)}
