"""`Engine`'s process definitions: compiling and linting a bundle, the deployed versions and their
diff, and moving running instances to a newer version (deploying itself: engine/facade/governance.py).
"""

from __future__ import annotations

from pathlib import Path

from engine.definitions.bundle import SourceFile, load_paths
from engine.definitions.compiler import CompiledProcess, compile_bundle
from engine.facade.base import EngineBase
from engine.roles import lane_roles, load_catalogue
from engine.runtime import access
from engine.runtime.loading import specs_for


class DefinitionsMixin(EngineBase):
    def compile(self, paths: list[str | Path] | None = None, files: list[SourceFile] | None = None
                ) -> list[CompiledProcess]:
        files = files if files is not None else load_paths(paths or [])
        return compile_bundle(files, lane_roles(load_catalogue(self._roles_path)))

    def lint(self, actor: str, files: list[SourceFile]) -> list[dict]:
        """Every problem of a bundle, deploying nothing: [{file, element, line, message, severity}];
        `deploy` refuses while any "error" remains, "warning"s do not block."""
        from engine.definitions.compiler import lint_bundle

        with self.db.read() as s:
            access.check_process_owner(s, actor)
        return [f.to_dict() for f in lint_bundle(files, lane_roles(load_catalogue(self._roles_path)))]

    def versions(self, actor: str, key: str) -> list[dict]:
        """[{version, sha256, deployed_by, deployed_at, note, running, total, status (active, draft, returned,
        withdrawn), decided_by, decided_at, request_id, emergency_reason}], newest first."""
        from engine.definitions import versions

        with self.db.read() as s:
            access.check_process_owner(s, actor)
            return versions.versions(s, key)

    def version_files(self, actor: str, key: str, version: int) -> list[dict]:
        """[{name, kind, content}]: the files a deployed version was built from, to open it in the editor."""
        from engine.definitions import versions

        with self.db.read() as s:
            access.check_process_owner(s, actor)
            return versions.version_files(s, key, version)

    def version_diff(self, actor: str, key: str, version: int) -> dict:
        """{against, added, removed, renamed: [{id, from, to}], forms_added, forms_removed, forms_changed}."""
        from engine.definitions import versions

        with self.db.read() as s:
            access.check_may_read_versions(s, actor)  # the general manager reads what he approves
            return versions.version_diff(s, key, version)

    def _specs_of_version(self, version_id: int):  # noqa: ANN202 - SpecSet
        with self.db.read() as s:
            return specs_for(s, self.specs, version_id)

    def migration_plan(self, actor: str, key: str, to_version: int) -> list[dict]:
        """Dry run: per running instance of `key` on an older version, whether it can move to
        `to_version` and, if not, why (each reason names the element that blocks it)."""
        from engine.runtime import migration

        return self._frozen(migration.plan, actor, key, to_version)

    def migration_preview(self, actor: str, key: str, to_version: int) -> list[dict]:
        """The dry run as the owner confirms it: migration_plan's entries, each with the instance's open
        tasks ({id, bpmn_id, title, title_en, role, assignee, assignee_name}) and `started_by_name`."""
        from engine.runtime import migration_preview

        return self._frozen(migration_preview.preview, actor, key, to_version)

    def migrate(self, actor: str, key: str, to_version: int) -> dict:
        """Move every movable instance (each in its own transaction, with a `migrated` audit event):
        {"migrated": [ids], "skipped": [{"instance_id", "reasons", "messages"}]} (reasons: English by
        element id; messages: {zh, en} by element name)."""
        from engine.runtime import migration

        return self._frozen(migration.migrate, actor, key, to_version)
