"""`Context`: what the runtime functions need of whoever calls them, and nothing more.

`Engine` (engine/api.py) is one, passed as `ctx` to every command; typing the runtime against this
Protocol instead of `Engine` keeps engine/runtime free of the facade (no import cycle) and says
what a command may reach: the database, the clock, the cache of compiled specs and the restored
workflows kept between commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from engine.clock import Clock
    from engine.process.specs import SpecCache
    from engine.runtime.warm_workflows import WarmWorkflows
    from engine.store.db import Database


class Context(Protocol):
    db: Database
    clock: Clock
    specs: SpecCache
    workflows: WarmWorkflows
