"""The compiled stages: each rule's description and closures, and the stage's default.

The generated program (``codegen.py``) decides which rules fire; a stage turns those
indexes into the rule hits of the explanation, which build their evidence only when read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ..decision import FieldEvidence, RuleHit, RuleInfo
from ..language.validate import PolicyModel, RuleDef, StageDef
from .codegen import Fired
from .conditions import Explain, Test, compile_condition
from .context import Context


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule: what it is (``info``), and its condition as closures."""

    info: RuleInfo
    test: Test
    explain: Explain

    def hit(self, ctx: Context) -> RuleHit:
        return RuleHit(self.info, None, self.explain, ctx)


@dataclass(frozen=True, slots=True)
class CompiledStage:
    """A stage's rules in priority order and the hit of its default."""

    name: str
    hit_policy: str
    rules: tuple[CompiledRule, ...]
    default_hit: RuleHit

    def hit(self, index: int, ctx: Context) -> RuleHit:
        """The hit of rule ``index`` as the program returned it (-1: the default)."""
        return self.rules[index].hit(ctx) if index >= 0 else self.default_hit

    def hits(self, indexes: list[int], ctx: Context) -> list[RuleHit]:
        """The hits of the rules a collecting stage fired (none: the default)."""
        rules = self.rules
        return [rules[i].hit(ctx) for i in indexes] if indexes else [self.default_hit]


def compile_stages(model: PolicyModel, word_ids: dict[str, int]) -> dict[str, CompiledStage]:
    """Compile every stage of a validated policy."""
    return {name: _compile_stage(stage, word_ids) for name, stage in model.stages.items()}


def _compile_stage(stage: StageDef, word_ids: dict[str, int]) -> CompiledStage:
    rules = tuple(_compile_rule(stage.name, rule, word_ids) for rule in stage.rules)
    default = MappingProxyType(dict(stage.default))
    default_hit = RuleHit(RuleInfo(stage.name, f"{stage.name}.default", stage.default_file,
                                   stage.default_line, "no rule matched", default,
                                   f"default of the {stage.name} stage", default=True))
    return CompiledStage(stage.name, stage.hit, rules, default_hit)


def _compile_rule(stage: str, rule: RuleDef, word_ids: dict[str, int]) -> CompiledRule:
    compiled = compile_condition(rule.condition, word_ids)
    info = RuleInfo(stage, rule.id, rule.file, rule.line, rule.condition.render(),
                    MappingProxyType(dict(rule.outputs)), rule.description)
    return CompiledRule(info, compiled.test, compiled.explain)


def given_request_type(value: str) -> RuleHit:
    """The explanation entry when the record itself names its request type."""
    info = RuleInfo("request_type", "request_type.given", "<record>", 0,
                    "request_type given in the record", MappingProxyType({"request_type": value}),
                    "the record names its request type; the stage's rules are not run")
    return RuleHit(info, (FieldEvidence("request_type", "given", None, value),))


def explain_fired(stages: Mapping[str, CompiledStage], fired: Fired,
                  ctx: Context) -> tuple[RuleHit, ...]:
    """The rule hits of a decision, stage by stage, from the rules the program fired."""
    given = ctx.complaint.request_type
    hits = [stages["request_type"].hit(fired.request_type, ctx) if given is None
            else given_request_type(given.value)]
    hits += stages["flags"].hits(fired.flags, ctx)
    hits.append(stages["category"].hit(fired.category, ctx))
    hits += stages["severity"].hits(fired.severity, ctx)
    hits.append(stages["handling"].hit(fired.handling, ctx))
    hits.append(stages["owner"].hit(fired.owner, ctx))
    if "deadlines" in stages:
        hits += stages["deadlines"].hits(fired.deadlines, ctx)
    if "script" in stages and isinstance(fired.script, int):  # [] when there is none
        hits.append(stages["script"].hit(fired.script, ctx))
    return tuple(hits)
