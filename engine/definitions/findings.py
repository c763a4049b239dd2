"""What the checks of a bundle find: a located problem and how grave it is."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import Problem

ERROR, WARNING = "error", "warning"
Text = tuple[str, str]  # a message in (English, Chinese): the engine keeps both (docs/modelling.md)


@dataclass(frozen=True)
class Finding:
    problem: Problem
    severity: str  # ERROR | WARNING

    def to_dict(self) -> dict:
        p = self.problem
        return {"file": p.file, "element": p.element, "line": p.line, "message": p.message,
                "messages": p.messages(), "severity": self.severity}


def errors(findings: list[Finding]) -> list[Problem]:
    return [f.problem for f in findings if f.severity == ERROR]
