"""``triage fit``: the weights of a scored stage, fitted from labelled complaints.

Every rule of the stage is a feature (it holds on a complaint or not) and its weight the
parameter. The fit minimises the L1-regularised multinomial logistic loss of the tally:
a value's score is the sum of the weights of its rules that hold; the default value
scores ``min_score`` plus its own rules. The loss is convex, so the result does not
depend on where the fit starts or on the order of the records; the L1 term sets the
weights of rules that add nothing to exactly zero, which names them as candidates to
delete. Weights are kept at zero or above (a rule is evidence for its value), solved by
cyclic coordinate descent (Newton steps) in plain Python over the distinct patterns of
rules that hold, so that a fit of the default policy takes seconds.

Accuracy is always counted with the stage's own ``Tally`` (the rounded weights, the
decisive rules, ``min_score`` and the tie rule exactly as the engine decides), before the
fit and in k-fold cross-validation after it. Nothing is written to the policy: the
result is a patch (``patch.py``) for a person to review.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..engine.tally import Tally
from ..errors import Problem, TriageError
from ..language.schema import STAGE_OUTPUTS, STAGES
from ..language.scoring import MAX_WEIGHT, weight_text
from ..policy import Policy
from .labelled import Observed
from .patch import WeightChange

#: The L1 strengths tried when none is given: the one with the best cross-validated
#: accuracy is used (the larger on a tie, for fewer rules).
L1_GRID = (0.03, 0.01, 0.003, 0.001)
_MAX_SWEEPS = 500
#: The fit stops when a sweep moves no weight more than this (weights are rounded to
#: hundredths).
_TOLERANCE = 1e-4
#: The largest move of one weight in one step: Newton steps overshoot where the loss is
#: flat.
_MAX_STEP = 2.0


class FitError(TriageError):
    """A stage that cannot be fitted (not scored, unknown, no labelled records)."""


@dataclass(frozen=True, slots=True)
class RuleWeight:
    """One rule of the fitted stage: its weight before and after, and how often it held."""

    rule_id: str
    file: str
    line: int
    value: str
    before: float
    after: float
    held: int

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class Miss:
    """A labelled complaint the fitted weights still decide wrongly."""

    id: str
    source: str
    line: int
    expected: str
    decided: str


@dataclass(frozen=True, slots=True)
class StageFit:
    """The fit of one stage: what was used, the accuracies, the weights, what is wrong."""

    stage: str
    field: str
    records: int
    trained: int
    skipped: Mapping[str, int]
    l1: float
    folds: int
    before: float
    after: float
    final: float
    weights: tuple[RuleWeight, ...]
    unseen: tuple[str, ...]
    wrong: tuple[Miss, ...]

    @property
    def zeroed(self) -> tuple[str, ...]:
        """The rules the fit gave weight 0: they add nothing the other rules do not."""
        return tuple(w.rule_id for w in self.weights if w.after == 0 and w.rule_id
                     not in self.unseen)

    def to_dict(self) -> dict[str, object]:
        return {"stage": self.stage, "field": self.field, "records": self.records,
                "trained": self.trained, "skipped": dict(self.skipped), "l1": self.l1,
                "folds": self.folds, "accuracy": {"before": self.before,
                                                  "cross_validated": self.after,
                                                  "fitted": self.final},
                "weights": [{"rule": w.rule_id, "file": w.file, "line": w.line,
                             "value": w.value, "before": w.before, "after": w.after,
                             "held": w.held} for w in self.weights],
                "zeroed": list(self.zeroed), "unseen": list(self.unseen),
                "wrong": [{"id": m.id, "source": m.source, "line": m.line,
                           "expected": m.expected, "decided": m.decided}
                          for m in self.wrong]}


def stages_to_fit(policy: Policy, asked: Sequence[str]) -> list[str]:
    """The stages ``fit`` works on, in the order they run: those asked, else every scored
    stage. Raises ``FitError`` for a stage that is unknown or not scored."""
    stages = policy._model.stages
    scored = [name for name in STAGES if name in stages and stages[name].scored]
    for name in asked:
        if name not in stages:
            raise FitError(f"the policy has no stage {name!r}; stages: {', '.join(stages)}")
        if not stages[name].scored:
            raise FitError(f"the {name} stage is not scored: add 'hit: score' to it "
                           f"(stages: {{{name}: {{hit: score, ...}}}}) and fit again")
    if not asked and not scored:
        raise FitError("the policy has no scored stage: add 'hit: score' to a stage "
                       "(request_type, category, ...) to fit its weights")
    return [name for name in STAGES if name in (asked or scored)]


@dataclass(frozen=True, slots=True)
class _Example:
    """One labelled complaint, as the stage sees it."""

    index: int
    held: tuple[int, ...]  # the scored (not decisive) rules that hold
    fixed: str | None  # the value a decisive rule gives, which no weight changes
    label: str


def fit_stage(policy: Policy, observed: Sequence[Observed], stage: str, *,
              folds: int = 5, seed: int = 0, l1: float | None = None) -> StageFit:
    """Fit the weights of ``stage`` (scored) from the labelled complaints ``observed``."""
    compiled = policy._stages[stage]
    tally = compiled.tally
    if tally is None:
        raise FitError(f"the {stage} stage is not scored")
    field = STAGE_OUTPUTS[stage][0]
    rules = policy._model.stages[stage].rules
    examples, skipped = _examples(observed, stage, field, tally, [r.decisive for r in rules])
    if not examples:
        raise FitError(f"no labelled complaint gives {field}: nothing to fit the {stage} "
                       "stage on")
    reachable = set(tally.values) | {tally.default}
    trainable = [e for e in examples if e.fixed is None and e.label in reachable]
    skipped["decided by a decisive rule"] = sum(e.fixed is not None for e in examples)
    skipped["value no rule sets"] = sum(e.fixed is None and e.label not in reachable
                                        for e in examples)
    seen_rules = {j for e in trainable for j in e.held}
    start = tally.weights
    folds = max(2, min(folds, len(trainable))) if len(trainable) >= 2 else 1
    order = [e.index for e in examples]
    random.Random(seed).shuffle(order)
    fold_of = {index: n % folds for n, index in enumerate(order)}

    def cross_validated(strength: float) -> float:
        if folds < 2:
            return _accuracy(tally, examples)
        right = 0
        for fold in range(folds):
            train = [e for e in trainable if fold_of[e.index] != fold]
            weights = _fit(tally, train, strength, start, seen_rules)
            test = [e for e in examples if fold_of[e.index] == fold]
            right += round(_accuracy(replace(tally, weights=weights), test) * len(test))
        return right / len(examples)

    if l1 is None:
        scored = [(cross_validated(s), s) for s in L1_GRID]
        after, l1 = max(scored, key=lambda pair: pair[0])  # first (larger) on a tie
    else:
        after = cross_validated(l1)
    final = _fit(tally, trainable, l1, start, seen_rules)
    fitted = replace(tally, weights=final)
    wrong = tuple(_miss(observed[e.index], e.label, v) for e in examples
                  if (v := _decide(fitted, e)) != e.label)
    held_count = Counter(j for e in examples for j in set(e.held))
    weights = tuple(RuleWeight(r.id, r.file, r.line, tally.values[j], start[j] / 1000,
                               final[j] / 1000, held_count[j])
                    for j, r in enumerate(rules) if not r.decisive)
    unseen = tuple(r.id for j, r in enumerate(rules) if not r.decisive and j not in seen_rules)
    return StageFit(stage, field, len(examples), len(trainable), dict(skipped), l1, folds,
                    _accuracy(tally, examples), after, _accuracy(fitted, examples), weights,
                    unseen, wrong)


def _examples(observed: Sequence[Observed], stage: str, field: str, tally: Tally,
              decisive: list[bool]) -> tuple[list[_Example], Counter[str]]:
    """The labelled complaints as the stage sees them, and how many were left out, why."""
    skipped: Counter[str] = Counter()
    examples: list[_Example] = []
    for i, seen in enumerate(observed):
        label = seen.record.expected.get(field)
        if not isinstance(label, str):
            skipped["without a label"] += 1
            continue
        if stage == "request_type" and seen.record.complaint.get("request_type"):
            skipped["with the request type given in the record"] += 1
            continue
        held = seen.holding.get(stage, [])
        first = next((j for j in held if decisive[j]), None)
        fixed = tally.values[first] if first is not None else None
        examples.append(_Example(i, tuple(j for j in held if not decisive[j]), fixed, label))
    return examples, skipped


def _miss(seen: Observed, expected: str, decided: str) -> Miss:
    return Miss(seen.record.id, seen.record.source, seen.record.line, expected, decided)


def _decide(tally: Tally, example: _Example) -> str:
    if example.fixed is not None:
        return example.fixed
    winner = tally(list(example.held))
    return tally.values[winner] if winner >= 0 else tally.default


def _accuracy(tally: Tally, examples: Sequence[_Example]) -> float:
    if not examples:
        return 0.0
    return sum(_decide(tally, e) == e.label for e in examples) / len(examples)


def _fit(tally: Tally, train: Sequence[_Example], strength: float,
         start: Sequence[int], fitted_rules: set[int]) -> tuple[int, ...]:
    """The weights (thousandths) minimising the L1-regularised logistic loss over
    ``train``; rules outside ``fitted_rules`` keep their ``start`` weight.

    Cyclic coordinate descent: each rule's weight moves by a Newton step on the rows where
    it holds, shrunk by the L1 term and kept at zero or above, until a sweep over all
    rules moves none by more than ``_TOLERANCE``."""
    values = sorted(set(tally.values) | {tally.default})
    column = {v: k for k, v in enumerate(values)}
    rule_value = [column[v] for v in tally.values]
    patterns = Counter((e.held, column[e.label]) for e in train)
    rows = sorted(patterns.items())
    total = sum(patterns.values())
    weights = [w / 1000 for w in start]
    on_rows: dict[int, list[int]] = {}
    for r, ((held, _), _) in enumerate(rows):
        for j in held:
            if j in fitted_rules:
                on_rows.setdefault(j, []).append(r)
    if not on_rows or not total:
        return tuple(start)
    for j in on_rows:
        weights[j] = max(0.0, weights[j])
    scores = []
    for (held, _), _ in rows:
        row = [0.0] * len(values)
        row[column[tally.default]] = tally.min_score / 1000
        for j in held:
            row[rule_value[j]] += weights[j]
        scores.append(row)
    chances = [_softmax(row) for row in scores]
    labels = [label for (_, label), _ in rows]
    counts = [count for _, count in rows]
    free = sorted(on_rows)
    for _ in range(_MAX_SWEEPS):
        moved = 0.0
        for j in free:
            k = rule_value[j]
            gradient = curvature = 0.0
            for r in on_rows[j]:
                p = chances[r][k]
                gradient += counts[r] * (p - (labels[r] == k))
                curvature += counts[r] * p * (1 - p)
            gradient /= total
            curvature = max(curvature / total, 1e-6)
            step = max(-_MAX_STEP, min(_MAX_STEP, (gradient + strength) / curvature))
            new = max(0.0, weights[j] - step)
            delta = new - weights[j]
            if delta == 0.0:
                continue
            weights[j] = new
            moved = max(moved, abs(delta))
            for r in on_rows[j]:
                scores[r][k] += delta
                chances[r] = _softmax(scores[r])
        if moved < _TOLERANCE:
            break
    cap = MAX_WEIGHT / 1000
    return tuple(round(min(weights[j], cap) * 100) * 10 if j in on_rows else start[j]
                 for j in range(len(weights)))


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    norm = sum(exps)
    return [e / norm for e in exps]


def weight_changes(fits: Sequence[StageFit]) -> list[WeightChange]:
    """The fitted weights that differ from the policy's, as the patch writes them."""
    return [WeightChange(w.rule_id, w.file, w.line, _show(w.after))
            for fit in fits for w in fit.weights if w.changed]


def format_fit(fits: Sequence[StageFit], problems: Sequence[Problem] = (),
               show_wrong: int = 20) -> str:
    """The fit as policy staff read it: accuracies, changed and zeroed weights, misses."""
    lines: list[str] = []
    for fit in fits:
        lines.append(f"{fit.stage}: {fit.records} complaints labelled with {fit.field}, "
                     f"{fit.trained} fitted on (L1 {fit.l1:g}, {fit.folds}-fold "
                     "cross-validation)")
        for reason, count in fit.skipped.items():
            if count:
                lines.append(f"  left out of the fit: {count} {reason}")
        lines.append(f"  {fit.field} accuracy: {fit.before:.1%} with the policy's weights, "
                     f"{fit.after:.1%} cross-validated with fitted weights "
                     f"({fit.final:.1%} on the records fitted)")
        changed = [w for w in fit.weights if w.changed]
        lines.append(f"  weights: {len(changed)} of {len(fit.weights)} change")
        for w in changed:
            lines.append(f"    {w.rule_id:40s} {_show(w.before):>6s} -> {_show(w.after):<6s} "
                         f"({w.value}; held on {w.held})  {w.file}:{w.line}")
        if fit.zeroed:
            lines.append("  weight 0, candidates to delete: " + ", ".join(fit.zeroed))
        if fit.unseen:
            lines.append("  never held on these records, weight kept: " + ", ".join(fit.unseen))
        if fit.wrong:
            lines.append(f"  still wrong with the fitted weights: {len(fit.wrong)}")
            for miss in fit.wrong[:show_wrong]:
                lines.append(f"    {miss.source}:{miss.line} {miss.id}: expected "
                             f"{miss.expected}, decided {miss.decided}")
            if len(fit.wrong) > show_wrong:
                lines.append(f"    ... and {len(fit.wrong) - show_wrong} more (--format json "
                             "lists them all)")
    if problems:
        lines.append(f"{len(problems)} labelled record(s) left out: see the messages above")
    return "\n".join(lines)


def fit_json(fits: Sequence[StageFit], patch: str, problems: Sequence[Problem]) -> str:
    return json.dumps({"stages": [f.to_dict() for f in fits], "patch": patch,
                       "problems": [p.to_dict() for p in problems]}, ensure_ascii=False)


def _show(weight: float) -> str:
    return weight_text(round(weight * 1000))
