"""``triage explain --why-not FIELD=VALUE``: why a complaint did not get a value.

For each rule that sets the value, either the first test of its condition that failed
and why (the word that is absent, the occurrence a negation cue vetoes, the part of the
text or the kind of sentence it was not in, the words too far apart, the field or earlier
output that differs), or, when the rule held, what beat it: a rule first by priority, a
higher total in a scored stage, a decisive rule, a more severe value. Conditions are
re-tested piece by piece with the engine's own compiled tests, so the answer is what the
engine saw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..decision import Decision
from ..engine.conditions import compile_condition, field_reader
from ..engine.context import Context
from ..errors import TriageError, did_you_mean
from ..language.conditions import (
    AllOf,
    AnyOf,
    Condition,
    FieldTest,
    NotOf,
    OutputTest,
    RegexTest,
    SpanTest,
    TextTest,
    Word,
    word_labels,
)
from ..language.schema import STAGE_OUTPUTS
from ..language.scoring import weight_text
from ..language.validate import RuleDef
from ..policy import Policy, Record
from ..text.regex import compile_pattern
from .labelled import decided_value

#: The fields ``--why-not`` can ask about.
ASKABLE = ("request_type", "handling", "category", "subcategory", "severity", "owner",
           "flags", "script")
#: At most this many words are named when none of a list occurs.
_SHOWN_WORDS = 6


class QueryError(TriageError):
    """A ``--why-not`` question that cannot be asked: unknown field or value."""


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of the complaint text an answer points at."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class RuleAnswer:
    """Why one rule that sets the value did not give it."""

    rule_id: str
    file: str
    line: int
    held: bool
    #: The test that failed (rendered as ``triage explain`` shows conditions), or the
    #: rule's whole condition when it held.
    test: str
    why: str
    spans: tuple[Span, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule_id, "file": self.file, "line": self.line,
                "held": self.held, "test": self.test, "why": self.why,
                "spans": [{"start": s.start, "end": s.end, "text": s.text}
                          for s in self.spans]}


@dataclass(frozen=True, slots=True)
class WhyNot:
    """The answer to "why not FIELD=VALUE" for one complaint."""

    field: str
    value: str
    decided: str | None
    stage: str
    summary: str
    rules: tuple[RuleAnswer, ...]

    def format(self) -> str:
        lines = [f"why not {self.field}={self.value}? {self.summary}"]
        for answer in self.rules:
            state = "held" if answer.held else "failed"
            lines.append(f"  {answer.rule_id}  {answer.file}:{answer.line}  ({state})")
            if not answer.held:
                lines.append(f"    test: {answer.test}")
            lines.append(f"    why:  {answer.why}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "decided": self.decided,
                "stage": self.stage, "summary": self.summary,
                "rules": [a.to_dict() for a in self.rules]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


def parse_question(text: str) -> tuple[str, str]:
    """``category=service`` -> ("category", "service")."""
    field, sep, value = text.partition("=")
    field, value = field.strip(), value.strip()
    if not sep or not field or not value:
        raise QueryError(f"--why-not takes FIELD=VALUE (category=service), not {text!r}")
    return field, value


def why_not(policy: Policy, complaint: Record, field: str, value: str, *,
            now: Any = None) -> WhyNot:
    """Why ``complaint`` did not get ``field=value`` under ``policy``: for every rule that
    sets that value, the first failing test or what beat it. Raises ``QueryError`` for a
    field or value the policy does not have, and as ``Policy.triage`` for a bad record."""
    stage = _stage_of(policy, field)
    _check_value(policy, field, value)
    decision, holding, ctx = policy._holding(complaint, now=now)
    rules = policy._model.stages[stage].rules
    decided = decided_value(decision, field)
    has = value in decided if isinstance(decided, tuple) else decided == value
    shown = (", ".join(decided) or "with no flag" if isinstance(decided, tuple)
             else str(decided))
    held = set(holding.get(stage, ()))
    candidates = [i for i, r in enumerate(rules) if _sets(r, field, value)]
    if has:
        summary = f"the decision has {field}={value}"
    elif stage == "request_type" and ctx.complaint.request_type is not None:
        summary = ("the record gives its request type "
                   f"({ctx.complaint.request_type.value}); the stage's rules are not run")
    elif not candidates:
        default = policy._model.stages[stage].default.get(field)
        summary = (f"no rule of the {stage} stage sets {field}={value}; it is decided "
                   f"{shown}" + (f" (the default is {_text(default)})" if default else ""))
    else:
        summary = f"it is decided {shown}"
    answers = []
    word_ids = dict(policy._word_ids)
    for i in candidates:
        rule = rules[i]
        if i in held:
            answers.append(RuleAnswer(rule.id, rule.file, rule.line, True,
                                      rule.condition.render(),
                                      _beaten(policy, decision, stage, rule, i, has)))
        else:
            failed = _failure(rule.condition, ctx, word_ids, policy)
            answers.append(RuleAnswer(rule.id, rule.file, rule.line, False, *failed))
    return WhyNot(field, value, None if decided is None else shown, stage, summary,
                  tuple(answers))


def _stage_of(policy: Policy, field: str) -> str:
    if field not in ASKABLE:
        raise QueryError(f"cannot ask why not {field!r}; " + (
            did_you_mean(field, ASKABLE) or "fields: " + ", ".join(ASKABLE)))
    for stage, outputs in STAGE_OUTPUTS.items():
        if field in outputs and stage in policy._model.stages:
            return stage
    raise QueryError(f"the policy has no stage that sets {field}")


def _check_value(policy: Policy, field: str, value: str) -> None:
    if field == "script":
        known: tuple[str, ...] | list[str] = policy.script_ids
    elif field == "owner":
        known = list(policy._owners)
    else:
        known = list(policy.taxonomy.get(field, {}))
    if known and value not in known:
        raise QueryError(f"{value!r} is not a {field} of this policy; " + (
            did_you_mean(value, known) or f"{field}: " + ", ".join(known)))


def _sets(rule: RuleDef, field: str, value: str) -> bool:
    given = rule.outputs.get(field)
    if isinstance(given, list | tuple):
        return value in given
    return given is not None and str(given) == value


def _text(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _beaten(policy: Policy, decision: Decision, stage: str, rule: RuleDef, index: int,
            has: bool) -> str:
    """What a rule that held lost to."""
    if has:
        return "it held; the decision has the value"
    defs = policy._model.stages[stage]
    fired = [h for h in decision.explanation if h.stage == stage and not h.default]
    scores = decision.scores.get(stage) if decision.scores else None
    if stage == "severity":
        top = decision.severity
        return f"it held, but severity takes the most severe value that holds: {top}" + (
            f" ({', '.join(h.rule_id for h in fired)})" if fired else "")
    if defs.scored and not rule.decisive:
        decisive = [h for h in fired if any(r.id == h.rule_id and r.decisive
                                            for r in defs.rules)]
        if decisive:
            return (f"it held, but the decisive rule {decisive[0].rule_id} decided first "
                    f"({decisive[0].file}:{decisive[0].line})")
        if scores is not None:
            mine = next((row for row in scores.values
                         if row.value == rule.outputs.get(STAGE_OUTPUTS[stage][0])), None)
            total = mine.total if mine is not None else 0.0
            best = scores.values[0] if scores.values else None
            value = _text(rule.outputs.get(STAGE_OUTPUTS[stage][0]))
            own = f"it added {weight_text(rule.weight)} to {value} (total {total:g})"
            if scores.outcome == "min_score":
                return f"{own}, below the stage's min_score {scores.min_score:g}"
            if scores.outcome == "tie":
                return f"{own}; values tied and the tie went to {scores.winner}"
            if best is not None:
                return f"{own}; {best.value} won with {best.total:g}"
    if fired:
        winner = fired[0]
        rival = next((r for r in defs.rules if r.id == winner.rule_id), None)
        by = f"priority {rival.priority}" if rival is not None else "priority"
        return (f"it held (priority {rule.priority}), but {winner.rule_id} ({by}, "
                f"{winner.file}:{winner.line}) comes first and sets "
                f"{_text(winner.outputs.get(STAGE_OUTPUTS[stage][0]))}")
    return "it held, but the stage did not take its value"


def _failure(condition: Condition, ctx: Context, word_ids: dict[str, int],
             policy: Policy) -> tuple[str, str, tuple[Span, ...]]:
    """The first test of ``condition`` that fails on ``ctx``, why, and the spans shown."""
    if isinstance(condition, AllOf):
        for item in condition.items:
            if not compile_condition(item, word_ids).test(ctx):
                return _failure(item, ctx, word_ids, policy)
    if isinstance(condition, AnyOf):
        reasons = [_failure(item, ctx, word_ids, policy) for item in condition.items]
        why = "none of its alternatives held: " + "; ".join(
            f"({r[1]})" for r in reasons)
        return condition.render(), why, tuple(s for r in reasons for s in r[2])
    if isinstance(condition, NotOf):
        inner = compile_condition(condition.item, word_ids)
        spans = tuple(_evidence_spans(inner.explain(ctx), ctx))
        return (condition.render(), f"the rule excludes this and it holds: "
                f"{condition.item.render()}", spans)
    if isinstance(condition, TextTest):
        return condition.render(), *_text_failure(condition, ctx, word_ids, policy)
    if isinstance(condition, SpanTest):
        return condition.render(), *_span_failure(condition, ctx, word_ids, policy)
    if isinstance(condition, FieldTest):
        actual = _field_value(ctx, condition.path)
        return condition.render(), f"{condition.path} is {actual!r}", ()
    if isinstance(condition, RegexTest):
        if condition.negation and compile_pattern(condition.pattern).search(ctx.folded):
            return (condition.render(), "every match of the pattern comes right after a "
                    "negation cue (negation: false counts them)", ())
        return condition.render(), "the text does not match the pattern", ()
    if not isinstance(condition, OutputTest):  # an all() whose items each hold alone
        return condition.render(), "its tests hold one by one but not together", ()
    if condition.name == "flags":
        flags = ", ".join(sorted(ctx.flags)) or "none"
        return condition.render(), f"the flags decided are: {flags}", ()
    return (condition.render(), f"{condition.name} was decided "
            f"{ctx.outputs.get(condition.name)}", ())


def _text_failure(cond: TextTest, ctx: Context, word_ids: dict[str, int],
                  policy: Policy) -> tuple[str, tuple[Span, ...]]:
    if cond.mode == "none":
        seen = ctx.present if cond.negation else ctx.all
        hits = [w for w in cond.words if word_ids[w.folded] in seen]
        spans = tuple(_occurrence(ctx, w, word_ids, cond.negation) for w in hits[:3])
        return ("the text has a word the rule excludes: "
                + ", ".join(f"「{s.text}」 at {s.start}" for s in spans), spans)
    words = cond.words
    if cond.mode == "all":
        seen = ctx.present if cond.negation else ctx.all
        words = tuple(w for w in cond.words if word_ids[w.folded] not in seen)
        why, spans = _absent(words, ctx, word_ids, policy, cond.negation)
        return f"not every word is there: {why}", spans
    return _absent(words, ctx, word_ids, policy, cond.negation)


def _absent(words: tuple[Word, ...], ctx: Context, word_ids: dict[str, int],
            policy: Policy, negation: bool) -> tuple[str, tuple[Span, ...]]:
    """Why none of ``words`` counts: absent, negated (with the cue), or excepted."""
    reasons: list[str] = []
    spans: list[Span] = []
    index = policy._index
    for word in words:
        kid = word_ids[word.folded]
        at = ctx.folded.find(word.folded)
        if at < 0:
            continue
        end = at + len(word.folded)
        if kid not in ctx.all:
            reasons.append(f"「{ctx.text[at:end]}」 at {at} is only inside a phrase its "
                           f"vocabulary excepts ({', '.join(word.exceptions)})")
            spans.append(Span(at, end, ctx.text[at:end]))
        elif negation and kid not in ctx.present:
            cue = index.negating_cue(ctx.folded, at)
            cue_text = f" by 「{ctx.text[cue[0]:cue[1]]}」 at {cue[0]}" if cue else ""
            reasons.append(f"「{ctx.text[at:end]}」 at {at} is negated{cue_text}")
            spans.append(Span(at, end, ctx.text[at:end]))
            if cue:
                spans.append(Span(cue[0], cue[1], ctx.text[cue[0]:cue[1]]))
    if reasons:
        return "; ".join(reasons), tuple(spans)
    return f"no word of [{_word_list(words)}] is in the text", ()


def _span_failure(cond: SpanTest, ctx: Context, word_ids: dict[str, int],
                  policy: Policy) -> tuple[str, tuple[Span, ...]]:
    seen = ctx.present if cond.negation else ctx.all
    first = [w for w in cond.words if word_ids[w.folded] in seen]
    if not first:
        return _absent(cond.words, ctx, word_ids, policy, cond.negation)
    layout = ctx.layout()
    placed = []
    misplaced: list[tuple[Span, str]] = []
    for word in first:
        for start in ctx.starts(word_ids[word.folded], cond.negation)[:20]:
            span = Span(start, start + len(word.folded),
                        ctx.text[start:start + len(word.folded)])
            if cond.part is not None and not layout.in_part(start, cond.part):
                misplaced.append((span, f"in {layout.part(start)}, not in {cond.part}"))
            elif cond.sentence is not None and layout.is_question(start) != (
                    cond.sentence == "question"):
                kind = "question" if layout.is_question(start) else "statement"
                misplaced.append((span, f"in a {kind}, not in a {cond.sentence}"))
            else:
                placed.append(span)
    if not placed:
        shown = misplaced[:3]
        return ("; ".join(f"「{s.text}」 at {s.start} is {why}" for s, why in shown),
                tuple(s for s, _ in shown))
    near = [w for w in cond.near if word_ids[w.folded] in seen]
    if not near:
        why, spans = _absent(cond.near, ctx, word_ids, policy, cond.negation)
        return f"「{placed[0].text}」 at {placed[0].start} is there, but {why}", (
            placed[0], *spans)
    others = [Span(s, s + len(w.folded), ctx.text[s:s + len(w.folded)])
              for w in near for s in ctx.starts(word_ids[w.folded], cond.negation)[:20]]
    a = placed[0]
    b = min(others, key=lambda o: abs(o.start - a.start))
    if cond.same is not None:
        how = f"not in the same {cond.same}"
    elif cond.ordered and b.start < a.end:
        how = "in the wrong order"
    else:
        gap = b.start - a.end if b.start >= a.end else a.start - b.end
        how = f"{gap} characters apart (within {cond.within})"
    return f"「{a.text}」 at {a.start} and 「{b.text}」 at {b.start} are {how}", (a, b)


def _occurrence(ctx: Context, word: Word, word_ids: dict[str, int], negation: bool) -> Span:
    starts = ctx.starts(word_ids[word.folded], negation)
    start = starts[0] if starts else max(0, ctx.folded.find(word.folded))
    return Span(start, start + len(word.folded), ctx.text[start:start + len(word.folded)])


def _evidence_spans(evidence: list[Any], ctx: Context) -> list[Span]:
    spans = []
    for item in evidence:
        start, end = getattr(item, "start", None), getattr(item, "end", None)
        if isinstance(start, int) and isinstance(end, int):
            spans.append(Span(start, end, ctx.text[start:end]))
    return spans


def _field_value(ctx: Context, path: str) -> Any:
    try:
        value = field_reader(path)(ctx)
    except (AttributeError, TypeError):
        return None
    return list(value) if isinstance(value, tuple) else value


def _word_list(words: tuple[Word, ...]) -> str:
    """The words as the rule writes them; one vocabulary is shown with its first words."""
    if words and all(w.vocabulary == words[0].vocabulary for w in words) and (
            words[0].vocabulary):
        sample = ", ".join(w.text for w in words[:_SHOWN_WORDS])
        more = ", ..." if len(words) > _SHOWN_WORDS else ""
        return f"${words[0].vocabulary}: {sample}{more}"
    return word_labels(words)
