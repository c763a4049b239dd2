"""A bundle: the files one `validate` or `deploy` call is given."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from engine.errors import DefinitionError, Problem

KINDS = {".bpmn": "bpmn", ".dmn": "dmn", ".yaml": "form", ".yml": "form"}
SKIPPED_NAMES = {"roles.yaml", "outcomes.yaml", "calendar.yaml"}  # catalogues read on their own


@dataclass(frozen=True)
class SourceFile:
    name: str
    kind: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")


def _kind(path: Path) -> str | None:
    return KINDS.get(path.suffix.lower())


MAX_NAME = 255  # the longest file name a version keeps


def source_files(named: list[tuple[str, bytes]]) -> list[SourceFile]:
    """Files given by name and content (an upload); refused together if any name is unusable."""
    problems = []
    for name, _content in named:
        if not name or len(name) > MAX_NAME or "\x00" in name or "/" in name or "\\" in name:
            problems.append(Problem(name[:80] or "(no name)", f"a file name is 1-{MAX_NAME} characters, no path",
                                    zh=f"文件名须为 1 到 {MAX_NAME} 个字符，且不含路径"))
        elif not _kind(Path(name)):
            problems.append(Problem(name, "not a .bpmn, .dmn or form (.yaml) file",
                                    zh="不是 .bpmn、.dmn 或表单（.yaml）文件"))
    if problems:
        raise DefinitionError(problems)
    if not named:
        raise DefinitionError([Problem("(nothing)", "no BPMN, DMN or form files given",
                                       zh="没有提供任何 BPMN、DMN 或表单文件")])
    return [SourceFile(name, _kind(Path(name)), content) for name, content in named]


def load_paths(paths: list[str | Path]) -> list[SourceFile]:
    """Files given by name, and the BPMN, DMN and form files inside folders given."""
    files: list[SourceFile] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and _kind(child) and child.name not in SKIPPED_NAMES:
                    files.append(SourceFile(str(child), _kind(child), child.read_bytes()))
        elif path.is_file():
            if path.name in SKIPPED_NAMES:
                continue
            if not _kind(path):
                problems.append(Problem(str(path), "not a .bpmn, .dmn or form (.yaml) file"))
                continue
            files.append(SourceFile(str(path), _kind(path), path.read_bytes()))
        else:
            problems.append(Problem(str(path), "no such file or folder"))
    if problems:
        raise DefinitionError(problems)
    if not files:
        raise DefinitionError([Problem(", ".join(map(str, paths)) or "(nothing)", "no BPMN, DMN or form files found")])
    return files
