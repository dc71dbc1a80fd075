"""What a policy change does: rules added, removed and changed, and changed decisions.

``diff_policies(old, new, complaints)`` compares two loaded policies rule by rule (by id)
and decides every complaint with both, reporting each field whose value changes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..decision import Decision
from ..errors import TriageError
from ..policy import Policy

#: The decision fields compared, in the order reports list them.
FIELDS = ("request_type", "handling", "category", "subcategory", "severity", "flags",
          "owner", "escalation", "deadlines", "script")


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A rule present in one policy only, or in both with a different definition."""

    rule_id: str
    change: str  # added, removed, changed
    where: str
    what: str = ""


@dataclass(frozen=True, slots=True)
class DecisionChange:
    """A complaint whose decision differs: each changed field with before and after."""

    complaint_id: str
    fields: Mapping[str, tuple[Any, Any]]


@dataclass(frozen=True)
class DiffReport:
    """The whole comparison, readable (``format``) or as JSON (``to_json``)."""

    old_version: str
    new_version: str
    rules: tuple[RuleChange, ...]
    decisions: tuple[DecisionChange, ...]
    compared: int
    by_field: Mapping[str, int] = field(default_factory=dict)
    #: How many complaints change; None: all of them are in ``decisions``. Set when
    #: ``decisions`` is a sample (``triage.spark.diff_dataframe``).
    changed: int | None = None

    @property
    def changed_count(self) -> int:
        """How many complaints' decisions change (``decisions`` may be a sample of them)."""
        return len(self.decisions) if self.changed is None else self.changed

    def to_json(self) -> str:
        return json.dumps({
            "old_version": self.old_version, "new_version": self.new_version,
            "rules": [{"rule_id": r.rule_id, "change": r.change, "where": r.where,
                       "what": r.what} for r in self.rules],
            "compared": self.compared, "changed": self.changed_count,
            "by_field": dict(self.by_field),
            "decisions": [{"complaint_id": d.complaint_id,
                           "fields": {k: {"before": b, "after": a}
                                      for k, (b, a) in d.fields.items()}}
                          for d in self.decisions],
        }, ensure_ascii=False, indent=2)

    def format(self) -> str:
        lines = [f"policy {self.old_version} -> {self.new_version}", "", "Rules:"]
        lines += [f"  {r.change:8} {r.rule_id}  {r.where}" + (f"  ({r.what})" if r.what else "")
                  for r in self.rules] or ["  (no rule changed)"]
        lines += ["", f"Decisions: {self.changed_count} of {self.compared} complaints change"
                  + (f" (a sample of {len(self.decisions)} shown)"
                     if self.changed_count > len(self.decisions) else "")]
        for d in self.decisions:
            lines.append(f"  {d.complaint_id}:")
            lines += [f"    {k}: {show_value(b)} -> {show_value(a)}"
                      for k, (b, a) in d.fields.items()]
        if self.by_field:
            lines += ["", "| field | complaints changed |", "|---|--:|"]
            lines += [f"| {k} | {self.by_field[k]} |" for k in FIELDS if k in self.by_field]
        return "\n".join(lines)


def diff_policies(old: Policy, new: Policy,
                  complaints: Iterable[Mapping[str, Any]] = (), *,
                  now: datetime | None = None) -> DiffReport:
    """Compare ``old`` and ``new``: their rules, and their decisions on ``complaints``;
    ``now`` (default: the time of the call) stands in for a missing ``received_at``."""
    changes: list[DecisionChange] = []
    counts: Counter[str] = Counter()
    compared = 0
    if now is None:  # one clock for records without received_at, for both policies
        now = datetime.now(UTC)
    for record in complaints:
        try:
            a = decision_fields(old.triage(dict(record), now=now))
            b = decision_fields(new.triage(dict(record), now=now))
        except TriageError:
            continue
        compared += 1
        delta = changed_fields(a, b)
        if delta:
            counts.update(delta.keys())
            changes.append(DecisionChange(str(record.get("id", compared)), delta))
    return DiffReport(old.version, new.version, rule_changes(old, new), tuple(changes),
                      compared, dict(counts))


def rule_changes(old: Policy, new: Policy) -> tuple[RuleChange, ...]:
    """The rules added, removed and changed from ``old`` to ``new``, by rule id."""
    before, after = _rules(old), _rules(new)
    rules: list[RuleChange] = []
    for rule_id in sorted(before.keys() | after.keys()):
        if rule_id not in after:
            rules.append(RuleChange(rule_id, "removed", before[rule_id][0]))
        elif rule_id not in before:
            rules.append(RuleChange(rule_id, "added", after[rule_id][0]))
        elif before[rule_id][1] != after[rule_id][1]:
            what = ", ".join(k for k, b, a in zip(("stage", "priority", "when", "set"),
                                                  before[rule_id][1], after[rule_id][1],
                                                  strict=True) if b != a)
            rules.append(RuleChange(rule_id, "changed", after[rule_id][0], what))
    return tuple(rules)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]
                   ) -> dict[str, tuple[Any, Any]]:
    """The compared fields (``FIELDS``, in order) whose values differ, before and after."""
    return {k: (before[k], after[k]) for k in FIELDS if before[k] != after[k]}


def _rules(policy: Policy) -> dict[str, tuple[str, tuple[Any, ...]]]:
    out = {}
    for stage in policy._model.stages.values():
        for rule in stage.rules:
            outputs = json.dumps({k: _plain(v) for k, v in rule.outputs.items()},
                                 ensure_ascii=False, sort_keys=True)
            out[rule.id] = (f"{rule.file}:{rule.line}",
                            (stage.name, rule.priority, rule.condition.render(), outputs))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else value


def decision_fields(decision: Decision) -> dict[str, Any]:
    """The values of a decision that ``diff`` compares (``FIELDS``), as plain JSON."""
    return {
        "request_type": decision.request_type, "handling": decision.handling,
        "category": decision.category, "subcategory": decision.subcategory,
        "severity": decision.severity, "flags": list(decision.flags),
        "owner": decision.owner.role, "escalation": [r.role for r in decision.escalation],
        "deadlines": {d.milestone: d.due.isoformat() for d in decision.deadlines},
        "script": decision.reply.script_id if decision.reply else None,
    }


def show_value(value: Any) -> str:
    """An output value as the diff report shows it (``{k: v}``, ``[a, b]``, text)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
