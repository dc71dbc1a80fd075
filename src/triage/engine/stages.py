"""The compiled stages: each rule's description and closures, and the stage's default.

The generated program (``codegen.py``) decides which rules fire; a stage turns those
indexes into the rule hits of the explanation, which build their evidence only when read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ..decision import FieldEvidence, RuleHit, RuleInfo, StageScores
from ..language.validate import PolicyModel, RuleDef, StageDef
from .codegen import Fired
from .conditions import Explain, Test, compile_condition
from .context import Context
from .tally import Tally, compile_tally


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
    #: The scoring of a ``hit: score`` stage; None for the others.
    tally: Tally | None = None

    def hit(self, index: int, ctx: Context) -> RuleHit:
        """The hit of rule ``index`` as the program returned it (-1: the default)."""
        return self.rules[index].hit(ctx) if index >= 0 else self.default_hit

    def chosen(self, index: int, held: Mapping[str, list[int]], ctx: Context) -> list[RuleHit]:
        """The hits of a single-value stage: the rule applied (or the default), then, when
        the stage scored, the other rules that added to the winning value."""
        first = self.hit(index, ctx)
        scored = held.get(self.name) if self.tally is not None else None
        if not scored or index < 0:
            return [first]
        value = self.tally.values[index]  # type: ignore[union-attr]
        values = self.tally.values  # type: ignore[union-attr]
        return [first, *(self.rules[i].hit(ctx) for i in scored
                         if i != index and values[i] == value)]

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
    return CompiledStage(stage.name, stage.hit, rules, default_hit,
                         compile_tally(stage) if stage.scored else None)


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
    held = fired.held
    hits = (stages["request_type"].chosen(fired.request_type, held, ctx) if given is None
            else [given_request_type(given.value)])
    hits += stages["flags"].hits(fired.flags, ctx)
    hits += stages["category"].chosen(fired.category, held, ctx)
    hits += stages["severity"].hits(fired.severity, ctx)
    hits += stages["handling"].chosen(fired.handling, held, ctx)
    hits += stages["owner"].chosen(fired.owner, held, ctx)
    if "deadlines" in stages:
        hits += stages["deadlines"].hits(fired.deadlines, ctx)
    if "script" in stages and isinstance(fired.script, int):  # [] when there is none
        hits += stages["script"].chosen(fired.script, held, ctx)
    return tuple(hits)


def fired_ids(stages: Mapping[str, CompiledStage], fired: Fired,
              ctx: Context) -> dict[str, list[str]]:
    """The rule ids ``explain_fired`` would give, per stage (default: an empty list),
    straight from the program's indexes: what lean decisions carry."""
    held = fired.held

    def chosen(name: str, index: int) -> list[str]:
        stage = stages[name]
        if index < 0:
            return []
        rules = stage.rules
        first = rules[index].info.rule_id
        scored = held.get(name) if stage.tally is not None else None
        if not scored:
            return [first]
        values = stage.tally.values  # type: ignore[union-attr]
        return [first, *(rules[i].info.rule_id for i in scored
                         if i != index and values[i] == values[index])]

    def collected(name: str, indexes: list[int]) -> list[str]:
        rules = stages[name].rules
        return [rules[i].info.rule_id for i in indexes]

    out = {"request_type": (chosen("request_type", fired.request_type)
                            if ctx.complaint.request_type is None else ["request_type.given"]),
           "flags": collected("flags", fired.flags),
           "category": chosen("category", fired.category),
           "severity": collected("severity", fired.severity),
           "handling": chosen("handling", fired.handling),
           "owner": chosen("owner", fired.owner)}
    if "deadlines" in stages:
        out["deadlines"] = collected("deadlines", fired.deadlines)
    if "script" in stages and isinstance(fired.script, int):
        out["script"] = chosen("script", fired.script)
    return out


def stage_scores(stages: Mapping[str, CompiledStage],
                 held: Mapping[str, list[int]]) -> Mapping[str, StageScores]:
    """The score tables of the stages that scored, for ``Decision.scores``."""
    tables = {}
    for name, indexes in held.items():
        tally = stages[name].tally
        if tally is not None:
            tables[name] = tally.table(indexes)
    return MappingProxyType(tables)
