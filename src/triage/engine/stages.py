"""The compiled policy: stages of compiled rules, run in order over one complaint.

Rules are indexed by the keywords they need: for each complaint only the rules whose
words occur (plus those that need no word) are tested, in priority order.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..decision import FieldEvidence, RuleHit
from ..validate import PolicyModel, RuleDef, StageDef
from .conditions import Explain, Test, compile_condition
from .context import Context


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    test: Test
    explain: Explain
    outputs: MappingProxyType[str, Any]
    triggers: frozenset[int] | None
    file: str
    line: int
    description: str | None
    condition: str

    def hit(self, stage: str, ctx: Context) -> RuleHit:
        return RuleHit(stage, self.id, self.file, self.line, self.condition, self.outputs,
                       tuple(self.explain(ctx)), self.description)


@dataclass(frozen=True, slots=True)
class CompiledStage:
    name: str
    hit_policy: str
    rules: tuple[CompiledRule, ...]
    always: tuple[int, ...]
    by_word: MappingProxyType[int, tuple[int, ...]]
    default: MappingProxyType[str, Any]
    default_hit: RuleHit

    def candidates(self, ctx: Context) -> list[int] | tuple[int, ...]:
        """Indexes of the rules that may hold for this complaint, in priority order."""
        by_word = self.by_word
        if not by_word:
            return self.always
        picked: set[int] | None = None
        for kid in ctx.hits:  # every trigger comes from a test that honours negation
            found = by_word.get(kid)
            if found is not None:
                if picked is None:
                    picked = set(self.always)
                picked.update(found)
        if picked is None:
            return self.always
        return sorted(picked)

    def run(self, ctx: Context) -> list[RuleHit]:
        """Evaluate the stage; return the hits (the default's when no rule holds)."""
        rules = self.rules
        if self.hit_policy == "first":
            for i in self.candidates(ctx):
                rule = rules[i]
                if rule.test(ctx):
                    return [rule.hit(self.name, ctx)]
            return [self.default_hit]
        fired = [rules[i].hit(self.name, ctx) for i in self.candidates(ctx) if rules[i].test(ctx)]
        return fired or [self.default_hit]


def compile_stages(model: PolicyModel, word_ids: dict[str, int]) -> dict[str, CompiledStage]:
    """Compile every stage of a validated policy."""
    return {name: _compile_stage(stage, word_ids) for name, stage in model.stages.items()}


def _compile_stage(stage: StageDef, word_ids: dict[str, int]) -> CompiledStage:
    rules = tuple(_compile_rule(rule, word_ids) for rule in stage.rules)
    always = tuple(i for i, r in enumerate(rules) if r.triggers is None)
    index: dict[int, list[int]] = {}
    for i, rule in enumerate(rules):
        for kid in rule.triggers or ():
            index.setdefault(kid, []).append(i)
    default = MappingProxyType(dict(stage.default))
    default_hit = RuleHit(stage.name, f"{stage.name}.default", stage.default_file,
                          stage.default_line, "no rule matched", default, (),
                          f"default of the {stage.name} stage", default=True)
    return CompiledStage(stage.name, stage.hit, rules, always,
                         MappingProxyType({k: tuple(v) for k, v in index.items()}),
                         default, default_hit)


def _compile_rule(rule: RuleDef, word_ids: dict[str, int]) -> CompiledRule:
    compiled = compile_condition(rule.condition, word_ids)
    return CompiledRule(rule.id, compiled.test, compiled.explain,
                        MappingProxyType(dict(rule.outputs)), compiled.triggers, rule.file,
                        rule.line, rule.description, rule.condition.render())


def given_request_type(value: str) -> RuleHit:
    """The explanation entry when the record itself names its request type."""
    return RuleHit("request_type", "request_type.given", "<record>", 0,
                   "request_type given in the record", MappingProxyType({"request_type": value}),
                   (FieldEvidence("request_type", "given", None, value),),
                   "the record names its request type; the stage's rules are not run")
