"""The ``score`` hit policy applied: the rules of a stage that held, added up per value.

Both engines find which scored rules hold, each its own way, and then call ``Tally`` on
their indexes, so that a scored stage is decided by one definition: the value with the
highest total wins when the total is above zero and at least ``min_score``; on a tie the
stage's ``tie`` rule decides (the default, or the tied value whose first rule comes
first by priority). The outputs applied are those of the winning value's strongest rule
(the highest weight; the first by priority among equals). Weights are whole thousandths,
so totals are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..decision import RuleShare, StageScores, ValueScore
from ..language.schema import STAGE_OUTPUTS
from ..language.validate import StageDef


@dataclass(frozen=True, slots=True)
class Tally:
    """A scored stage, compiled: for each rule its value and weight (thousandths)."""

    stage: str
    values: tuple[str, ...]
    weights: tuple[int, ...]
    rule_ids: tuple[str, ...]
    default: str
    min_score: int
    tie_by_priority: bool

    def totals(self, held: list[int]) -> tuple[dict[str, int], dict[str, int]]:
        """Each value's total, and its strongest rule, over the rules that held."""
        values, weights = self.values, self.weights
        totals: dict[str, int] = {}
        strongest: dict[str, int] = {}
        for i in held:
            value = values[i]
            totals[value] = totals.get(value, 0) + weights[i]
            best = strongest.get(value)
            if best is None or weights[i] > weights[best]:
                strongest[value] = i
        return totals, strongest

    def __call__(self, held: list[int]) -> int:
        """The rule whose outputs apply, -1 for the stage default."""
        return self.decide(held)[0]

    def decide(self, held: list[int]) -> tuple[int, str]:
        """The rule whose outputs apply (-1: the default) and the outcome of the stage."""
        if not held:
            return -1, "none"
        totals, strongest = self.totals(held)
        top = max(totals.values())
        if top <= 0 or top < self.min_score:
            return -1, "min_score"
        tied = [v for v, t in totals.items() if t == top]
        if len(tied) == 1:
            return strongest[tied[0]], "score"
        if not self.tie_by_priority:
            return -1, "tie"
        first = min(tied, key=lambda v: min(i for i in held if self.values[i] == v))
        return strongest[first], "tie"

    def table(self, held: list[int]) -> StageScores:
        """The totals per value, highest first, with each rule's share, for the decision."""
        winner, outcome = self.decide(held)
        totals, _ = self.totals(held)
        shares: dict[str, list[RuleShare]] = {}
        for i in held:
            shares.setdefault(self.values[i], []).append(
                RuleShare(self.rule_ids[i], self.weights[i] / 1000))
        order = sorted(totals, key=lambda v: (-totals[v], min(
            i for i in held if self.values[i] == v)))
        rows = tuple(ValueScore(v, totals[v] / 1000, tuple(shares[v])) for v in order)
        value = self.values[winner] if winner >= 0 else self.default
        return StageScores(self.stage, rows, outcome,  # type: ignore[arg-type]
                           value, self.min_score / 1000)


def compile_tally(stage: StageDef) -> Tally:
    """The tally of a ``hit: score`` stage (decisive rules get weight 0: never tallied)."""
    name = STAGE_OUTPUTS[stage.name][0]
    return Tally(stage.name, tuple(r.outputs.get(name, "") for r in stage.rules),
                 tuple(0 if r.decisive else r.weight for r in stage.rules),
                 tuple(r.id for r in stage.rules), str(stage.default[name]),
                 stage.score.min_score, stage.score.tie == "priority")
