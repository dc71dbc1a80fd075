"""``triage test --coverage``: which rules of a policy its own cases exercise.

A rule is exercised when it fired on at least one case: it gave the decision of its stage,
added to the winning value of a scored stage, or was one of the rules of a collecting
stage (flags, severity, deadlines). A rule that only held, behind one that won by
priority, is not exercised: the cases never show what it decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import Problem
from ..policy import Policy
from .cases import CaseResult


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule and where it is written."""

    rule_id: str
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Coverage:
    """The rules the cases exercised, and those they did not."""

    rules: int
    exercised: tuple[RuleRef, ...]
    missed: tuple[RuleRef, ...]

    @property
    def percent(self) -> float:
        return 100.0 * len(self.exercised) / self.rules if self.rules else 100.0

    def format(self) -> str:
        lines = [f"coverage: {len(self.exercised)}/{self.rules} rules fired on some case "
                 f"({self.percent:.1f}%)"]
        if self.missed:
            lines.append("rules no case fires:")
            lines += [f"  {r.file}:{r.line}: {r.rule_id}" for r in self.missed]
        return "\n".join(lines)


def coverage(policy: Policy, results: Iterable[CaseResult | Problem]) -> Coverage:
    """The coverage of ``policy``'s rules by the decisions of its case ``results``."""
    fired: set[str] = set()
    for result in results:
        if isinstance(result, CaseResult) and result.decision is not None:
            fired.update(hit.rule_id for hit in result.decision.explanation if not hit.default)
    every = [RuleRef(r.id, r.file, r.line) for s in policy._model.stages.values()
             for r in s.rules]
    return Coverage(len(every), tuple(r for r in every if r.rule_id in fired),
                    tuple(r for r in every if r.rule_id not in fired))
