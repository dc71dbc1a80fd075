"""The ``score`` hit policy as the policy writes it: stage settings and rule weights, checked.

A stage declares ``hit: score`` (with ``min_score`` and ``tie``) in any one of the files
that hold its rules; its rules then carry a ``weight`` (default 1) or are ``decisive``.
Weights are kept as whole thousandths (``Weight``), so that totals are exact sums and
the two engines, and every machine, find the same ties.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from .loader import PathKey, SourceFile
from .schema import HIT_POLICY, PolicyFile

#: A weight or score in thousandths: 1.25 is 1250.
Weight = int
#: The weight of a rule that gives none.
DEFAULT_WEIGHT: Weight = 1000
#: Largest weight (and ``min_score``) accepted, in either direction.
MAX_WEIGHT = 1_000_000


def weight_text(value: Weight) -> str:
    """A weight as the policy writes it: 1000 -> ``1``, 1250 -> ``1.25``."""
    whole, part = divmod(abs(value), 1000)
    sign = "-" if value < 0 else ""
    return f"{sign}{whole}" + (f".{part:03d}".rstrip("0") if part else "")


@dataclass(frozen=True, slots=True)
class ScoreSettings:
    """How a stage decides: ``first`` (no scoring), or ``score`` with its threshold and
    tie rule. ``min_score`` is in thousandths; a value also needs a total above zero."""

    hit: str = "first"
    min_score: Weight = 0
    tie: str = "default"


FIRST = ScoreSettings()


class ScoreChecker:
    """Reads and checks the scoring settings of stages and rules, adding to ``problems``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.settings: dict[str, ScoreSettings] = {}

    def stages(self, files: Iterable[tuple[SourceFile, PolicyFile]]) -> None:
        """The settings of each stage, from whichever file declares them (one may)."""
        declared: dict[str, tuple[SourceFile, int]] = {}
        for source, model in files:
            for name, stage in model.stages.items():
                given = {k: getattr(stage, k) for k in ("hit", "min_score", "tie")
                         if getattr(stage, k) is not None}
                if not given or name not in HIT_POLICY:
                    continue
                path: PathKey = ("stages", name)
                if name in declared:
                    other, line = declared[name]
                    self.problems.append(source.problem(
                        (*path, next(iter(given))), "conflict",
                        f"the {name} stage's hit policy is declared twice",
                        f"keep one: the other is in {other.name} line {line}", key=True))
                    continue
                declared[name] = (source, source.mark((*path, next(iter(given))), key=True)[0])
                settings = self._stage(source, name, given, path)
                if settings is not None:
                    self.settings[name] = settings

    def _stage(self, source: SourceFile, name: str, given: dict[str, Any],
               path: PathKey) -> ScoreSettings | None:
        hit = given.get("hit", "first")
        if hit == "score" and HIT_POLICY[name] != "first":
            self.problems.append(source.problem(
                (*path, "hit"), "not-scorable",
                f"the {name} stage cannot be scored: it combines its rules as "
                f"'{HIT_POLICY[name]}'",
                "score is for stages that set one value: request_type, category, handling, "
                "owner, script"))
            return None
        if hit != "score":
            extra = [k for k in ("min_score", "tie") if k in given]
            if extra:
                self.problems.append(source.problem(
                    (*path, extra[0]), "needs-score",
                    f"'{extra[0]}' counts only in a stage with 'hit: score'",
                    f"add 'hit: score' to the {name} stage, or remove '{extra[0]}'", key=True))
                return None
            return FIRST
        min_score = 0
        if "min_score" in given:
            parsed = self.weight(source, given["min_score"], (*path, "min_score"), "min_score")
            if parsed is None:
                return None
            min_score = parsed
        return ScoreSettings("score", min_score, given.get("tie", "default"))

    def weight(self, source: SourceFile, value: float, path: PathKey,
               what: str = "weight") -> Weight | None:
        """``value`` in thousandths, or None with the problem reported."""
        if not math.isfinite(value) or abs(value) > MAX_WEIGHT / 1000:
            self.problems.append(source.problem(
                path, "bad-weight", f"{what} {value} is out of range",
                f"give a number between -{MAX_WEIGHT // 1000} and {MAX_WEIGHT // 1000}"))
            return None
        milli = round(value * 1000)
        if abs(milli - value * 1000) > 1e-6:
            self.problems.append(source.problem(
                path, "bad-weight", f"{what} {value} has more than three decimals",
                f"write {weight_text(milli)}: totals are counted in thousandths"))
            return None
        return milli

    def rule(self, source: SourceFile, stage: str, weight: float | None, decisive: bool,
             path: PathKey) -> tuple[Weight, bool] | None:
        """A rule's weight (thousandths) and whether it is decisive; None when wrong."""
        scored = self.settings.get(stage, FIRST).hit == "score"
        if not scored:
            key = "weight" if weight is not None else "decisive" if decisive else None
            if key is None:
                return DEFAULT_WEIGHT, False
            self.problems.append(source.problem(
                (*path, key), "needs-score",
                f"'{key}' counts only in a stage with 'hit: score'",
                f"add 'hit: score' to the {stage} stage (stages: {{{stage}: {{hit: score}}}}),"
                f" or remove '{key}'", key=True))
            return None
        if decisive and weight is not None:
            self.problems.append(source.problem(
                (*path, "weight"), "conflict", "a decisive rule has no weight",
                "a decisive rule decides on its own, before any scoring: remove 'weight' "
                "or 'decisive'", key=True))
            return None
        if weight is None:
            return DEFAULT_WEIGHT, decisive
        parsed = self.weight(source, weight, (*path, "weight"))
        return None if parsed is None else (parsed, False)

    def order(self, stage: str, rules: Sequence[Any],
              sources: dict[str, SourceFile]) -> None:
        """Decisive rules must come above every scored rule of their stage by priority."""
        scored = [r for r in rules if not r.decisive]
        if not scored:
            return
        top = max(scored, key=lambda r: r.priority)
        for rule in rules:
            if rule.decisive and rule.priority <= top.priority:
                source = sources[rule.file]
                self.problems.append(Problem(
                    rule.file, rule.line, 1, "decisive-order",
                    f"decisive rule {rule.id} has priority {rule.priority}, not above the "
                    f"scored rule {top.id} (priority {top.priority})",
                    f"decisive rules are tried first: give {rule.id} a priority above "
                    f"{top.priority}",
                    source.lines[rule.line - 1] if rule.line <= len(source.lines) else None))
