"""Conditions compiled into plain closures: ``test`` decides, ``explain`` gives evidence.

``test`` runs for every candidate rule and does no allocation it can avoid; ``explain``
runs only for the rules that fired, to build the evidence the decision carries.
"""

from __future__ import annotations

import operator
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..decision import (
    AbsenceEvidence,
    Evidence,
    FieldEvidence,
    KeywordEvidence,
    OutputEvidence,
    RegexEvidence,
    SpanEvidence,
)
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
)
from ..text.layout import Layout
from ..text.regex import compile_pattern
from .context import Context

Test = Callable[[Context], bool]
Explain = Callable[[Context], list[Evidence]]

#: At most this many occurrences of one word are listed as evidence.
MAX_OCCURRENCES = 5


class CompiledCondition:
    """A condition ready to run: ``test`` decides, ``explain`` lists the evidence."""

    __slots__ = ("explain", "test")

    def __init__(self, test: Test, explain: Explain) -> None:
        self.test = test
        self.explain = explain


def compile_condition(condition: Condition, word_ids: dict[str, int]) -> CompiledCondition:
    """Compile ``condition``; ``word_ids`` maps each folded word to its keyword id."""
    if isinstance(condition, TextTest):
        return _text(condition, word_ids)
    if isinstance(condition, SpanTest):
        return _span(condition, word_ids)
    if isinstance(condition, FieldTest):
        return _field(condition)
    if isinstance(condition, RegexTest):
        return _regex(condition)
    if isinstance(condition, OutputTest):
        return _output(condition)
    if isinstance(condition, AllOf):
        return _all([compile_condition(c, word_ids) for c in condition.items])
    if isinstance(condition, AnyOf):
        return _any([compile_condition(c, word_ids) for c in condition.items])
    assert isinstance(condition, NotOf)
    return _not(condition, compile_condition(condition.item, word_ids))


def _text(cond: TextTest, word_ids: dict[str, int]) -> CompiledCondition:
    by_id: dict[int, Word] = {}
    for word in cond.words:
        by_id.setdefault(word_ids[word.folded], word)
    ids = frozenset(by_id)
    negation = cond.negation

    test: Test
    if cond.mode == "any":
        def test(ctx: Context) -> bool:
            return not (ctx.present if negation else ctx.all).isdisjoint(ids)
    elif cond.mode == "all":
        def test(ctx: Context) -> bool:
            return ids.issubset(ctx.present if negation else ctx.all)
    else:
        def test(ctx: Context) -> bool:
            return (ctx.present if negation else ctx.all).isdisjoint(ids)

    if cond.mode == "none":
        rendered = cond.render()

        def explain_absent(ctx: Context) -> list[Evidence]:
            return [AbsenceEvidence(rendered)]

        return CompiledCondition(test, explain_absent)

    def explain(ctx: Context) -> list[Evidence]:
        text = ctx.text
        out: list[KeywordEvidence] = []
        # The words of one complaint are few, the words of a condition many: walk the former.
        for kid in ids.intersection(ctx.present if negation else ctx.all):
            word = by_id[kid]
            length = len(word.folded)
            for start in ctx.starts(kid, negation)[:MAX_OCCURRENCES]:
                out.append(KeywordEvidence(word.text, word.vocabulary, start, start + length,
                                           text[start:start + length]))
        out.sort(key=_evidence_order)
        return list(out)

    return CompiledCondition(test, explain)


def _evidence_order(evidence: KeywordEvidence) -> tuple[int, str]:
    return evidence.start, evidence.word


#: Occurrences of one word a positional test looks at (a hostile text repeating a word a
#: million times stays linear: the first ones decide).
MAX_POSITIONS = 2_000
Occurrence = tuple[int, int, Word]


def _span(cond: SpanTest, word_ids: dict[str, int]) -> CompiledCondition:
    """Words where they stand: in a part, in a question, near the words of a second list."""
    first = {word_ids[w.folded]: w for w in reversed(cond.words)}
    second = {word_ids[w.folded]: w for w in reversed(cond.near)}
    negation, part, sentence = cond.negation, cond.part, cond.sentence
    within, ordered, same = cond.within, cond.ordered, cond.same
    reach = max((len(w.folded) for w in cond.near), default=0)

    def occurrences(ctx: Context, words: dict[int, Word]) -> list[Occurrence]:
        seen = ctx.present if negation else ctx.all
        layout = ctx.layout() if part is not None or sentence is not None else None
        out: list[Occurrence] = []
        for kid in words.keys() & seen:
            word = words[kid]
            length = len(word.folded)
            for start in ctx.starts(kid, negation)[:MAX_POSITIONS]:
                if layout is not None and not _placed(layout, start, part, sentence):
                    continue
                out.append((start, start + length, word))
        out.sort(key=lambda o: (o[0], -o[1]))
        return out

    def find(ctx: Context) -> tuple[Occurrence, Occurrence | None] | None:
        found = occurrences(ctx, first)
        if not found:
            return None
        if not second:
            return found[0], None
        others = occurrences(ctx, second)
        if not others:
            return None
        layout = ctx.layout() if same is not None else None
        unit = None if layout is None else (layout.clause if same == "clause" else
                                            layout.sentence)
        return _pair(found, others, within, ordered, unit, reach)

    def test(ctx: Context) -> bool:
        return find(ctx) is not None

    def explain(ctx: Context) -> list[Evidence]:
        pair = find(ctx)
        if pair is None:
            return []
        (start, end, word), other = pair
        layout = ctx.layout()
        text = ctx.text
        where = "question" if layout.is_question(start) else "statement"
        if other is None:
            return [SpanEvidence(word.text, word.vocabulary, start, end, text[start:end],
                                 layout.part(start), where)]
        near_start, near_end, near = other
        return [SpanEvidence(word.text, word.vocabulary, start, end, text[start:end],
                             layout.part(start), where, near.text, near_start, near_end,
                             text[near_start:near_end])]

    return CompiledCondition(test, explain)


def _pair(found: list[Occurrence], others: list[Occurrence], within: int | None,
          ordered: bool, unit: Callable[[int], int] | None,
          reach: int) -> tuple[Occurrence, Occurrence] | None:
    """The first occurrence of ``found`` with one of ``others`` close enough: at most
    ``within`` characters apart, in the same ``unit`` (clause or sentence), after it when
    ``ordered``; never the same characters. Each side is sorted by start."""
    starts = [o[0] for o in others]
    by_unit: dict[int, list[Occurrence]] = {}
    if within is None and unit is not None:  # same clause or sentence, at any distance
        for b in others:
            by_unit.setdefault(unit(b[0]), []).append(b)
    for a in found:
        if within is None:
            candidates = by_unit.get(unit(a[0]), []) if unit is not None else others
        else:
            candidates = others[bisect_left(starts, a[0] - within - reach):
                                bisect_right(starts, a[1] + within)]
        for b in candidates:
            if ordered and b[0] < a[1]:
                continue
            if not (a[1] <= b[0] or b[1] <= a[0]):
                continue  # the same characters: 不上去 is not near itself
            gap = b[0] - a[1] if b[0] >= a[1] else a[0] - b[1]
            if within is not None and gap > within:
                continue
            if unit is not None and unit(a[0]) != unit(b[0]):
                continue
            return a, b
    return None


def _placed(layout: Layout, start: int, part: str | None, sentence: str | None) -> bool:
    """True when the word at ``start`` is in the wanted part and kind of sentence."""
    if part is not None and not layout.in_part(start, part):
        return False
    return sentence is None or layout.is_question(start) == (sentence == "question")


_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
}


def field_reader(path: str) -> Callable[[Context], Any]:
    """Read the record field (or ``attributes`` path) ``path`` of the complaint in a context."""
    return _getter(path)


def _getter(path: str) -> Callable[[Context], Any]:
    if path == "received_at":
        return lambda ctx: ctx.received_at()
    parts = path.split(".")
    if parts[0] == "history":  # facts of a case store, absent (None) without one
        fact = parts[1]
        return lambda ctx: None if ctx.history is None else getattr(ctx.history, fact, None)
    if parts[0] == "attributes":
        keys = parts[1:]

        def get_attribute(ctx: Context) -> Any:
            value: Any = ctx.complaint.attributes
            for key in keys:
                if not isinstance(value, dict):
                    return None
                value = value.get(key)
            return value

        return get_attribute
    if len(parts) == 1:
        name = parts[0]
        return lambda ctx: getattr(ctx.complaint, name)
    outer, inner = parts

    def get_nested(ctx: Context) -> Any:
        holder = getattr(ctx.complaint, outer)
        return None if holder is None else getattr(holder, inner)

    return get_nested


def _field(cond: FieldTest) -> CompiledCondition:
    get = _getter(cond.path)
    op, expected = cond.op, cond.value
    check: Callable[[Any], bool]
    if op == "exists":
        def check(v: Any) -> bool:
            return (v is not None and v not in ((), "")) is expected
    elif op == "eq":
        def check(v: Any) -> bool:
            return v is not None and v == expected
    elif op == "ne":
        def check(v: Any) -> bool:
            return v is None or v != expected
    elif op == "in":
        allowed = frozenset(_hashable(e) for e in expected)

        def check(v: Any) -> bool:
            return v is not None and _hashable(v) in allowed
    elif op == "not_in":
        banned = frozenset(_hashable(e) for e in expected)

        def check(v: Any) -> bool:
            return v is None or _hashable(v) not in banned
    elif op == "contains":
        wanted = frozenset(expected) if isinstance(expected, tuple) else frozenset([expected])

        def check(v: Any) -> bool:
            return isinstance(v, tuple | list) and not wanted.isdisjoint(v)
    elif op == "between":
        low, high = expected

        def check(v: Any) -> bool:
            return v is not None and _ordered(v, low) and low <= v <= high
    else:
        compare = _ORDER_OPS[op]

        def check(v: Any) -> bool:
            return v is not None and _ordered(v, expected) and compare(v, expected)

    def test(ctx: Context) -> bool:
        try:
            return check(get(ctx))
        except TypeError:
            return False

    def explain(ctx: Context) -> list[Evidence]:
        actual = get(ctx)
        if isinstance(actual, tuple):
            actual = list(actual)
        return [FieldEvidence(cond.path, op, expected, actual)]

    return CompiledCondition(test, explain)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def _ordered(value: Any, expected: Any) -> bool:
    """Whether value and expected can be compared: both numbers, or the same kind of date."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return False
    if isinstance(value, int | float) and isinstance(expected, int | float):
        return True
    if isinstance(value, datetime) != isinstance(expected, datetime):
        return False
    return type(value) is type(expected) or (
        isinstance(value, str) and isinstance(expected, str))


def _regex(cond: RegexTest) -> CompiledCondition:
    pattern = compile_pattern(cond.pattern)
    negation = cond.negation

    def standing(ctx: Context) -> Any:
        """The first match that counts: any match, or with negation one no cue negates."""
        for match in pattern.finditer(ctx.folded):
            if not negation or not ctx.negated_at(match.start()):
                return match
        return None

    def test(ctx: Context) -> bool:
        return standing(ctx) is not None

    def explain(ctx: Context) -> list[Evidence]:
        match = standing(ctx)
        if match is None:
            return []
        start, end = match.span()
        return [RegexEvidence(cond.pattern, start, end, ctx.text[start:end])]

    return CompiledCondition(test, explain)


def _output(cond: OutputTest) -> CompiledCondition:
    values = frozenset(cond.values)
    name = cond.name
    if name == "flags":
        def test(ctx: Context) -> bool:
            return not ctx.flags.isdisjoint(values)

        def explain(ctx: Context) -> list[Evidence]:
            return [OutputEvidence("flag", f) for f in cond.values if f in ctx.flags]
    else:
        def test(ctx: Context) -> bool:
            return ctx.outputs.get(name) in values

        def explain(ctx: Context) -> list[Evidence]:
            return [OutputEvidence(name, str(ctx.outputs.get(name)))]

    return CompiledCondition(test, explain)


def _all(items: list[CompiledCondition]) -> CompiledCondition:
    tests = tuple(i.test for i in items)
    test: Test
    if len(tests) == 2:
        first, second = tests

        def test(ctx: Context) -> bool:
            return first(ctx) and second(ctx)
    else:
        def test(ctx: Context) -> bool:
            return all(t(ctx) for t in tests)

    def explain(ctx: Context) -> list[Evidence]:
        return [e for i in items for e in i.explain(ctx)]

    return CompiledCondition(test, explain)


def _any(items: list[CompiledCondition]) -> CompiledCondition:
    tests = tuple(i.test for i in items)

    def test(ctx: Context) -> bool:
        return any(t(ctx) for t in tests)

    def explain(ctx: Context) -> list[Evidence]:
        return [e for i in items if i.test(ctx) for e in i.explain(ctx)]

    return CompiledCondition(test, explain)


def _not(cond: NotOf, item: CompiledCondition) -> CompiledCondition:
    inner = item.test
    rendered = cond.item.render()

    def test(ctx: Context) -> bool:
        return not inner(ctx)

    def explain(ctx: Context) -> list[Evidence]:
        return [AbsenceEvidence(rendered)]

    return CompiledCondition(test, explain)
