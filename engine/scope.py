"""The scope record: a decision for every section of the company's rules (docs/rules/scope.yaml).

The rules themselves (the seed) lie outside the repository and are never read here: the record keeps
their line count and the line range of each section, and `problems` checks that the ranges cover
lines 1..N without a gap or an overlap, that each section has a decision with what that decision
needs, and that every rule id it names is a rule of docs/rules/*.yaml — for `modelled`, one that cites
a line of the section. `salesflow rules --scope` prints it (salesflow/cli/rules.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from engine.config import PROJECT_ROOT
from engine.errors import DefinitionError, Problem
from engine.traceability import SCOPE_FILE

# modelled: the rules named implement the section; other_process: modelled by rules written for another
# section stating the same duty; out_of_scope: nothing to model, for a reason; planned: a later issue
DECISIONS = ("modelled", "other_process", "out_of_scope", "planned")


@dataclass(frozen=True)
class Section:
    first: int
    last: int
    title: dict[str, str]
    decision: str | None
    rules: tuple[str, ...] = ()
    reason: dict[str, str] = field(default_factory=dict)
    note: dict[str, str] = field(default_factory=dict)
    issue: int | None = None

    @property
    def label(self) -> str:
        return f"lines {self.first}-{self.last}"


@dataclass(frozen=True)
class Scope:
    seed_file: str
    seed_lines: int
    sections: tuple[Section, ...]

    def counts(self) -> dict[str | None, tuple[int, int]]:
        """decision -> (sections, seed lines), in the order of DECISIONS (then any other, None: no decision)."""
        found: dict[str | None, tuple[int, int]] = {}
        for s in self.sections:
            sections, lines = found.get(s.decision, (0, 0))
            found[s.decision] = (sections + 1, lines + max(0, s.last - s.first + 1))
        order = [d for d in DECISIONS if d in found] + [d for d in found if d not in DECISIONS]
        return {d: found[d] for d in order}


def _texts(raw: object) -> dict[str, str]:
    return {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}


def _section(raw: dict) -> Section:
    lines = raw.get("lines")
    first, last = lines if isinstance(lines, list) and len(lines) == 2 else (None, None)
    return Section(first=first if isinstance(first, int) else 0, last=last if isinstance(last, int) else -1,
                   title=_texts(raw.get("title")), decision=raw.get("decision"),
                   rules=tuple(str(r) for r in raw.get("rules") or []), reason=_texts(raw.get("reason")),
                   note=_texts(raw.get("note")), issue=raw.get("issue"))


def load(root: Path = PROJECT_ROOT) -> Scope:
    path = root / "docs" / "rules" / SCOPE_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError([Problem(str(path), f"cannot read the scope record: {exc}")]) from None
    seed = raw.get("seed") or {}
    return Scope(str(seed.get("file") or ""), seed.get("lines") if isinstance(seed.get("lines"), int) else 0,
                 tuple(_section(s) for s in raw.get("sections") or [] if isinstance(s, dict)))


def _coverage(scope: Scope) -> list[str]:
    found = []
    if scope.seed_lines <= 0:
        return ["seed.lines: the seed's line count (a whole number above 0) is missing"]
    expected = 1
    for s in sorted(scope.sections, key=lambda s: (s.first, s.last)):
        if s.first < 1 or s.last < s.first or s.last > scope.seed_lines:
            found.append(f"{s.label}: not a range [first, last] within 1..{scope.seed_lines}")
            continue
        if s.first > expected:
            found.append(f"lines {expected}-{s.first - 1}: no section covers them")
        elif s.first < expected:
            found.append(f"{s.label}: overlaps the section before (which ends at line {expected - 1})")
        expected = max(expected, s.last + 1)
    if expected <= scope.seed_lines:
        found.append(f"lines {expected}-{scope.seed_lines}: no section covers them")
    return found


def _decision(s: Section, rule_seeds: dict[str, list[int]]) -> list[str]:
    both = ("zh", "en")
    if s.decision not in DECISIONS:
        return [f"{s.label}: no decision" if s.decision is None else f"{s.label}: unknown decision {s.decision}"]
    found = []
    if not all(s.title.get(k) for k in both):
        found.append(f"{s.label}: a title in zh and en is missing")
    if s.decision in ("modelled", "other_process") and not s.rules:
        found.append(f"{s.label}: {s.decision} names no rule")
    if s.decision == "out_of_scope" and not all(s.reason.get(k) for k in both):
        found.append(f"{s.label}: out of scope without a reason in zh and en")
    if s.decision == "planned" and (not isinstance(s.issue, int) or not all(s.note.get(k) for k in both)):
        found.append(f"{s.label}: planned needs the issue and a note in zh and en")
    unknown = [r for r in s.rules if r not in rule_seeds]
    found += [f"{s.label}: names rule {r}, which docs/rules/*.yaml does not define" for r in unknown]
    cited = {line for r in s.rules for line in rule_seeds.get(r, [])}
    if s.decision == "modelled" and not unknown and not any(s.first <= line <= s.last for line in cited):
        found.append(f"{s.label}: modelled, but none of its rules cites one of its lines")
    return found


def problems(scope: Scope, rule_seeds: dict[str, list[int]]) -> list[str]:
    """Everything wrong with the record; empty when every line of the seed has a decision."""
    found = _coverage(scope)
    for s in scope.sections:
        found += _decision(s, rule_seeds)
    return found
