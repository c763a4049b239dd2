"""What every part of `Engine` relies on, declared once so each mixin type-checks and reads on its own.

The attributes are set by `Engine.__init__` (engine/api.py); the methods below are defined in one part
and called from another, so they are declared here for type checkers only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from engine.clock import Clock
    from engine.definitions.bundle import SourceFile
    from engine.definitions.compiler import CompiledProcess
    from engine.process.specs import SpecCache, SpecSet
    from engine.replay import Replay
    from engine.replay_cache import ReplayCache
    from engine.runtime.labels import LabelCache
    from engine.runtime.warm_workflows import WarmWorkflows
    from engine.store.db import Database

T = TypeVar("T")


class EngineBase:
    db: Database
    clock: Clock
    specs: SpecCache
    labels: LabelCache
    replays: ReplayCache
    workflows: WarmWorkflows
    count_cap: int
    _roles_path: Path | None
    observers: list[Callable[[str, float, str], None]]

    if TYPE_CHECKING:  # defined in engine/api.py and the mixins named beside each
        def _frozen(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...  # api.py

        def compile(self, paths: list[str | Path] | None = None,  # definitions.py
                    files: list[SourceFile] | None = None) -> list[CompiledProcess]: ...

        def _specs_of_version(self, version_id: int) -> SpecSet: ...  # definitions.py

        def roles(self) -> dict: ...  # reading.py

        def _role_names(self) -> dict[str, dict[str, str]]: ...  # reading.py

        def history(self, actor: str, instance_id: int) -> list[dict]: ...  # reading.py

        def replay(self, instance_id: int, step: int | None = None, actor: str | None = None,  # audit.py
                   states: bool = False) -> Replay: ...
