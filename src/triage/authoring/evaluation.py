"""``triage eval``: how right a policy is on labelled complaints, and how good each rule is.

Per field: accuracy and a confusion matrix (label against decision), overall and per
domain or channel. Per rule: how often it held, how often it decided its stage, how often
the value it sets was the label where it held (its precision), and the records it alone
decided: it gave the decision and no other rule that held would have given the same
value, so that deleting it changes them.

Flags count as right when the decision has at least the labelled flags (as in policy
cases); the other fields must be equal.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..decision import Decision
from ..errors import Problem
from ..language.schema import STAGE_OUTPUTS
from ..policy import Policy
from .labelled import Observed, decided_value

#: The fields ``eval`` compares, in the order it reports them.
FIELDS = ("request_type", "handling", "category", "subcategory", "severity", "owner",
          "flags")
#: The outputs whose rules get a precision: those a label can be compared with.
_JUDGED = frozenset({"request_type", "handling", "category", "severity", "owner", "flags",
                     "script"})
#: Group keys of ``--by``.
GROUPS = ("domain", "channel")


@dataclass(slots=True)
class FieldScore:
    """A field over the records labelled with it: how many, how many right, confusions."""

    labelled: int = 0
    right: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.right / self.labelled if self.labelled else 0.0


@dataclass(slots=True)
class RuleScore:
    """One rule over the labelled records."""

    stage: str
    rule_id: str
    file: str
    line: int
    value: str | None
    held: int = 0
    judged: int = 0  # held on a record labelled with the rule's field
    correct: int = 0  # ... and that label is the value the rule sets
    fired: int = 0
    alone: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.correct / self.judged if self.judged else None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The figures of ``triage eval``."""

    records: int
    fields: Mapping[str, FieldScore]
    groups: Mapping[str, Mapping[str, FieldScore]]
    by: str | None
    rules: tuple[RuleScore, ...]

    def to_dict(self, problems: Sequence[Problem] = ()) -> dict[str, Any]:
        def scores(table: Mapping[str, FieldScore]) -> dict[str, Any]:
            return {name: {"labelled": s.labelled, "right": s.right,
                           "accuracy": round(s.accuracy, 4)}
                    for name, s in table.items() if s.labelled}
        confusion: dict[str, dict[str, dict[str, int]]] = {}
        for name, score in self.fields.items():
            if name != "flags" and score.labelled:
                rows: dict[str, dict[str, int]] = {}
                for (label, got), count in sorted(score.confusion.items()):
                    rows.setdefault(label, {})[got] = count
                confusion[name] = rows
        return {"records": self.records, "fields": scores(self.fields),
                "confusion": confusion, "by": self.by,
                "groups": {key: scores(table) for key, table in self.groups.items()},
                "rules": [{"stage": r.stage, "rule": r.rule_id, "file": r.file,
                           "line": r.line, "value": r.value, "held": r.held,
                           "fired": r.fired, "precision": r.precision,
                           "alone": r.alone} for r in self.rules],
                "problems": [p.to_dict() for p in problems]}

    def to_json(self, problems: Sequence[Problem] = ()) -> str:
        return json.dumps(self.to_dict(problems), ensure_ascii=False)

    def format(self, confusions: Sequence[str] = ("request_type", "category")) -> str:
        """The report as a readable table."""
        out = [f"{self.records} labelled complaints", "",
               f"{'field':14s} {'accuracy':>8s} {'right':>6s} {'of':>6s}"]
        for name, s in self.fields.items():
            if s.labelled:
                out.append(f"{name:14s} {s.accuracy:8.1%} {s.right:6d} {s.labelled:6d}")
        if self.by:
            shown = [f for f in FIELDS if self.fields[f].labelled]
            out += ["", f"by {self.by}: " + " ".join(f"{f[:12]:>12s}" for f in shown)]
            for key, table in sorted(self.groups.items()):
                n = max(table[f].labelled for f in shown)
                out.append(f"  {key[:18]:18s} n={n:<5d}" + " ".join(
                    f"{table[f].accuracy:12.1%}" if table[f].labelled else f"{'-':>12s}"
                    for f in shown))
        for name in confusions:
            score = self.fields.get(name)
            if score is None or not score.labelled:
                continue
            labels = sorted({a for a, _ in score.confusion} | {b for _, b in score.confusion})
            out += ["", f"confusion of {name} (rows: label, columns: decided)",
                    " " * 18 + " ".join(f"{label[:10]:>10s}" for label in labels)]
            for a in labels:
                out.append(f"  {a[:16]:16s}" + " ".join(
                    f"{score.confusion[a, b]:10d}" for b in labels))
        out += ["", f"{'rule':44s} {'held':>5s} {'fired':>5s} {'prec.':>6s} {'alone':>5s}"]
        for r in self.rules:
            precision = f"{r.precision:6.0%}" if r.precision is not None else f"{'-':>6s}"
            out.append(f"{r.rule_id[:44]:44s} {r.held:5d} {r.fired:5d} {precision} "
                       f"{len(r.alone):5d}")
        never = [r.rule_id for r in self.rules if not r.held]
        if never:
            out += ["", f"{len(never)} rule(s) never held on these records: "
                    + ", ".join(never)]
        return "\n".join(out)


def evaluate(policy: Policy, observed: Sequence[Observed], by: str | None = None) -> Evaluation:
    """The accuracy per field (and per ``by`` group) and the figures of every rule."""
    fields = {name: FieldScore() for name in FIELDS}
    groups: dict[str, dict[str, FieldScore]] = {}
    model = policy._model
    rules: dict[str, list[RuleScore]] = {}
    for name, stage in model.stages.items():
        key = STAGE_OUTPUTS[name][0]
        rules[name] = [RuleScore(name, r.id, r.file, r.line,
                                 _text(r.outputs.get(key))) for r in stage.rules]
    for seen in observed:
        expected = seen.record.expected
        decision = seen.decision
        table = None
        if by is not None:
            table = groups.setdefault(seen.record.group[by],
                                      {name: FieldScore() for name in FIELDS})
        for name in FIELDS:
            if name not in expected:
                continue
            want, got = expected[name], decided_value(decision, name)
            if name == "flags":
                right = set([want] if isinstance(want, str) else want or ()) <= set(got)
            else:
                right = _text(want) == got
            for score in (fields[name], *((table[name],) if table else ())):
                score.labelled += 1
                score.right += right
                if name != "flags":
                    score.confusion[_text(want) or "none", str(got or "none")] += 1
        fired = _fired(decision)
        for stage_name, held in seen.holding.items():
            scores = rules[stage_name]
            key = STAGE_OUTPUTS[stage_name][0]
            label = expected.get(key)
            chosen = fired.get(stage_name, set())
            for i in held:
                rule = scores[i]
                rule.held += 1
                if label is not None and rule.value is not None and key in _JUDGED:
                    rule.judged += 1
                    rule.correct += (set(rule.value.split(",")) <= {str(v) for v in label}
                                     if isinstance(label, list) else rule.value == _text(label))
                if rule.rule_id in chosen:
                    rule.fired += 1
                    if rule.value is not None and key != "flags" and not any(
                            scores[j].value == rule.value for j in held if j != i):
                        rule.alone.append(seen.record.id)
    ordered = tuple(r for name in model.stages for r in rules[name])
    return Evaluation(len(observed), fields, groups, by, ordered)


def _fired(decision: Decision) -> dict[str, set[str]]:
    fired: dict[str, set[str]] = {}
    for hit in decision.explanation:
        if not hit.default:
            fired.setdefault(hit.stage, set()).add(hit.rule_id)
    return fired


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


__all__ = ["FIELDS", "GROUPS", "Evaluation", "evaluate"]
