"""Static analysis of a loaded policy, for ``triage check``: what loads but is suspect.

Findings are warnings (``Problem`` with severity ``warning``), located at the rule or
entry concerned:

- ``shadowed-rule``: a ``first``-stage rule that can never fire, because a rule before it
  in the same stage holds whenever it does (same or wider words, values, ranges; see
  ``implication``);
- ``unused-vocabulary``, ``unused-pattern`` and ``unused-script``: defined, never
  referred to;
- ``slow-regex``: a regex with a large bounded repeat (``{0,200}``) or nested quantifiers,
  which RE2 runs in linear time but with a large automaton on long text;
- ``stage-gap`` (with a sample corpus): a stage whose default decides a large share of
  the sample, where rules are probably missing;
- ``score-no-effect``: a rule of a ``hit: score`` stage that can never change the
  outcome (weight 0, a decisive rule holds whenever it does, or all the rules for its
  value together stay below ``min_score``);
- ``score-tie``: a policy case on which two values of a scored stage tie, so the tie rule,
  not the evidence, decides it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import Problem, TriageError
from ..language.conditions import RegexTest as _Regex
from ..language.conditions import SpanTest, TextTest, walk, words_tested
from ..language.implication import implies
from ..language.schema import STAGE_OUTPUTS
from ..language.scoring import weight_text
from ..language.validate import RuleDef
from ..policy import Policy
from .cases import policy_cases

#: A bounded repeat at least this large is reported.
LARGE_REPEAT = 100
#: A stage whose default decides at least this share of the sample is reported.
GAP_SHARE = 0.9
_REPEAT = re.compile(r"\{(\d*),?(\d*)\}")
_NESTED = re.compile(r"\([^()]*[+*][^()]*\)[+*{]")


def analyse(policy: Policy, sample: Iterable[Mapping[str, Any]] = ()) -> list[Problem]:
    """Warnings about ``policy``; with ``sample`` complaints, also the stage gaps."""
    model = policy._model
    found: list[Problem] = []
    used_vocabularies: set[str] = set()
    for stage in model.stages.values():
        before: list[RuleDef] = []
        for rule in stage.rules:
            for cond in walk(rule.condition):
                if isinstance(cond, TextTest | SpanTest):
                    used_vocabularies.update(w.vocabulary for w in words_tested(cond)
                                             if w.vocabulary)
                if isinstance(cond, _Regex):
                    reason = slow_regex(cond.pattern)
                    if reason:
                        found.append(Problem(rule.file, rule.line, 1, "slow-regex",
                                             f"{rule.id}: regex /{cond.pattern}/ {reason}",
                                             "narrow the repeat, or use keywords",
                                             severity="warning"))
            if stage.hit != "first" or (stage.scored and not rule.decisive):
                continue
            shadow = next((earlier for earlier in before if implies(rule.condition,
                                                                     earlier.condition)), None)
            if shadow is not None:
                found.append(Problem(
                    rule.file, rule.line, 1, "shadowed-rule",
                    f"{rule.id} can never fire: {shadow.id} ({shadow.file}:{shadow.line}) "
                    f"comes first in the {stage.name} stage and holds whenever it does",
                    f"give {rule.id} a higher priority than {shadow.id}, narrow {shadow.id}, "
                    "or remove one of the two", severity="warning"))
            before.append(rule)
    for name in sorted(set(model.vocabularies) - used_vocabularies):
        file, line = model.vocabulary_places.get(name, ("", 1))
        found.append(Problem(file, line, 1, "unused-vocabulary",
                             f"vocabulary '{name}' is never used by a rule",
                             "use it as $" + name + " or remove it", severity="warning"))
    tested = {cond.pattern for stage in model.stages.values() for rule in stage.rules
              for cond in walk(rule.condition) if isinstance(cond, _Regex)}
    for name, pattern in sorted(model.patterns.items()):
        if pattern not in tested:
            file, line = model.pattern_places.get(name, ("", 1))
            found.append(Problem(file, line, 1, "unused-pattern",
                                 f"pattern '{name}' is never used by a rule",
                                 "use it as regex: $" + name + " or remove it",
                                 severity="warning"))
    if model.scripts is not None:
        chosen = {rule.outputs.get("script") for s in model.stages.values() for rule in s.rules}
        chosen |= {s.default.get("script") for s in model.stages.values()}
        for script_id in sorted(model.scripts.ids - chosen):
            script = model.scripts[script_id]
            if script.use == "agent":
                continue
            found.append(Problem(script.file, 1, 1, "unused-script",
                                 f"no rule chooses script '{script_id}' ({script.title})",
                                 "add a rule, or mark it 'use: agent' if agents pick it",
                                 severity="warning"))
    found += _gaps(policy, sample)
    found += _no_effect(policy)
    found += _case_ties(policy)
    return found


def _no_effect(policy: Policy) -> list[Problem]:
    """Scored rules that can never change what their stage decides."""
    found = []
    for stage in policy._model.stages.values():
        if not stage.scored:
            continue
        key = STAGE_OUTPUTS[stage.name][0]
        decisive = [r for r in stage.rules if r.decisive]
        reach: dict[str, int] = {}
        for rule in stage.rules:
            if not rule.decisive:
                value = rule.outputs[key]
                reach[value] = reach.get(value, 0) + max(rule.weight, 0)
        for rule in stage.rules:
            if rule.decisive:
                continue
            why = None
            if rule.weight == 0:
                why = "its weight is 0"
            elif (over := next((d for d in decisive if implies(rule.condition, d.condition)),
                               None)) is not None:
                why = (f"decisive rule {over.id} ({over.file}:{over.line}) holds whenever "
                       "it does")
            elif reach[rule.outputs[key]] < max(stage.score.min_score, 1):
                why = (f"all the rules for {rule.outputs[key]} together add "
                       f"{weight_text(reach[rule.outputs[key]])}, below min_score "
                       f"{weight_text(stage.score.min_score)}")
            if why:
                found.append(Problem(
                    rule.file, rule.line, 1, "score-no-effect",
                    f"{rule.id} can never change the {stage.name} stage's outcome: {why}",
                    "give it a weight that can count, or remove it", severity="warning"))
    return found


def _case_ties(policy: Policy) -> list[Problem]:
    """Policy cases on which a scored stage is decided by its tie rule."""
    if not any(s.scored for s in policy._model.stages.values()):
        return []
    found = []
    for case in policy_cases(policy.path):
        if isinstance(case, Problem):
            continue
        try:
            decision = policy.triage(case.complaint)
        except TriageError:
            continue  # a broken case is reported by ``triage test``
        for table in decision.scores.values():
            if table.outcome == "tie":
                tied = [v.value for v in table.values if v.total == table.values[0].total]
                found.append(Problem(
                    case.file, case.line, 1, "score-tie",
                    f"case '{case.name}': {' and '.join(tied)} tie at "
                    f"{table.values[0].total:g} in the {table.stage} stage, so the tie rule "
                    f"decides ({table.winner})",
                    "adjust a weight, or add a rule that tells them apart",
                    severity="warning"))
    return found


def slow_regex(pattern: str) -> str | None:
    """Why ``pattern`` may be slow on long text, or None."""
    for match in _REPEAT.finditer(pattern):
        numbers = [int(n) for n in match.groups() if n]
        if numbers and max(numbers) >= LARGE_REPEAT:
            return f"repeats up to {max(numbers)} times"
    if _NESTED.search(pattern):
        return "has a repeated group that itself repeats"
    return None


def _gaps(policy: Policy, sample: Iterable[Mapping[str, Any]]) -> list[Problem]:
    records = list(sample)
    if not records:
        return []
    defaults: dict[str, int] = {}
    decided = 0
    for record in records:
        try:
            decision = policy.triage(dict(record))
        except Exception:
            continue
        decided += 1
        for hit in decision.explanation:
            if hit.default:
                defaults[hit.stage] = defaults.get(hit.stage, 0) + 1
    found = []
    for stage_name, count in sorted(defaults.items()):
        share = count / decided if decided else 0.0
        stage = policy._model.stages.get(stage_name)
        if stage is None or share < GAP_SHARE or stage_name in ("flags", "deadlines"):
            continue
        found.append(Problem(
            stage.default_file, stage.default_line, 1, "stage-gap",
            f"the {stage_name} default decided {count} of {decided} sample complaints "
            f"({share:.0%})", "rules are probably missing for common cases",
            severity="warning"))
    return found
