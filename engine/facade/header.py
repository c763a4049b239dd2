"""`Engine`'s answer for a page header: which links a person sees and the bell's count, in one read."""

from __future__ import annotations

from engine import users
from engine.facade.base import EngineBase
from engine.runtime import access


class HeaderMixin(EngineBase):
    def header(self, actor: str) -> dict:
        """For a person's page header: {prices, customers, kpi, users, incidents}, whether each of those pages
        opens to them, and `unread`, their unread notifications. The same answers as may_read_prices,
        customer_rights()["read"], may_see_kpi, may_manage_users, may_resolve_incidents and
        unread_notifications, from the same rules, with the person read once in one session: every page
        asked these six apart, each reading the user again."""
        from engine.kpi import report
        from engine.notify import reading

        with self.db.read() as s:
            user = users.get_actor(s, actor)
            return {"prices": access.READ_PRICES.allows(user), "customers": access.READ_CUSTOMERS.allows(user),
                    "kpi": report.may_see(s, user), "users": access.may_manage_users(user),
                    "incidents": access.may_resolve_incidents(user),
                    "unread": reading.unread_count(s, user.username)}
