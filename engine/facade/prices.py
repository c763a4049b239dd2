"""`Engine`'s price list (issue 12): reading, importing, adding and ending rows.

The work is in engine/prices/service.py; who may do what in engine/runtime/access.py.
"""

from __future__ import annotations

from engine.facade.base import EngineBase


class PricesMixin(EngineBase):
    def prices(self, actor: str, on: str | None = None) -> list[dict]:
        """Every row of the price list, or those valid on `on` (YYYY-MM-DD): [{id, product, spec, grade, unit,
        price_fen, price_yuan ("420.00"), valid_from, valid_to (None: open), created_by, created_at, ended_by,
        ended_at}]. Sales staff, finance, the general manager and auditors may read it."""
        from engine.prices import service

        with self.db.read() as s:
            return service.listing(s, actor, on)

    def import_prices(self, actor: str, content: bytes, source: str = "", dry_run: bool = False) -> dict:
        """Add the rows of a CSV file (engine/prices/csvfile.py), all or none, in the `prices` chain:
        {dry_run, source, added: [row], ended: [{id, product, spec, grade, valid_to, previous_valid_to}]}.
        The sales director (or the console operator, "system"); InvalidData names every bad line."""
        from engine.prices import service

        if dry_run:
            with self.db.read() as s:
                return service.import_file(s, actor, self.clock.now(), content, source, dry_run=True)
        with self.db.write() as s:
            return service.import_file(s, actor, self.clock.now(), content, source)

    def add_price(self, actor: str, row: dict) -> dict:
        """One new row {product, spec, grade, unit, price_yuan, valid_from, valid_to?} (the sales director)."""
        from engine.prices import service

        with self.db.write() as s:
            return service.add(s, actor, self.clock.now(), row)

    def end_price(self, actor: str, price_id: int, valid_to: str) -> dict:
        """Set the last day a row applies: yesterday (it stops today) or later (the sales director)."""
        from engine.prices import service

        with self.db.write() as s:
            return service.end(s, actor, self.clock.now(), price_id, valid_to)

    def may_read_prices(self, actor: str) -> bool:
        from engine.prices import service

        with self.db.read() as s:
            return service.may_read(s, actor)

    def may_edit_prices(self, actor: str) -> bool:
        from engine.prices import service

        with self.db.read() as s:
            return service.may_edit(s, actor)
