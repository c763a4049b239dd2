"""`Engine`'s operations: the timer worker, housekeeping, health and the /metrics gauges."""

from __future__ import annotations

import threading

from engine import clock as clock_mod
from engine.facade.base import EngineBase
from engine.runtime import timers


class OperationsMixin(EngineBase):
    def fire_due_timers(self, limit: int = 100) -> int:
        with clock_mod.using(self.clock):
            return timers.run_due(self, limit)

    def run_worker(self, stop: threading.Event, interval: float = 1.0) -> None:
        with clock_mod.using(self.clock):
            timers.run_forever(self, stop, interval)

    def tidy(self) -> dict[str, int]:
        """Delete expired idempotency keys and old login records (the timer worker does it every 10 minutes)."""
        from engine.runtime import housekeeping

        return housekeeping.tidy(self)

    def health(self) -> dict:
        """Raises when the database cannot be reached; says whether its schema is the code's."""
        from engine import health

        with self.db.read() as s:
            return health.schema_state(s, self.db.url)

    def kpi_counts_state(self) -> dict:
        """{"current": bool, "stale": [...]}: whether the KPI page can use every count kept for it, or names the
        ones it would count again from the source rows (after a kpi.yaml change: `salesflow kpi rebuild`)."""
        from engine.kpi import definitions, freshness

        with self.db.read() as s:
            stale = freshness.stale(s, definitions.load())
        return {"current": not stale, "stale": stale}

    def gauges(self) -> dict:
        """Open and overdue tasks per role, waiting/due/overdue/retrying timers, running instances, open
        incidents per process (/metrics)."""
        from engine import health

        with self.db.read() as s:
            return health.gauges(s, self.clock.now())
