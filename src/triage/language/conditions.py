"""The condition language under ``when``: parsed into small frozen objects, checked fully.

A condition is a mapping with exactly one test: ``all``, ``any``, ``not``, ``text``,
``field`` (with one operator), ``regex``, ``flag`` or an earlier stage's output
(``request_type``, ``category``, ``subcategory``, ``severity``, ``handling``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

LIST_FIELDS = frozenset({"demands"})


@dataclass(frozen=True, slots=True)
class Word:
    """A word as the policy wrote it, its folded form, and the vocabulary it came from."""

    text: str
    folded: str
    vocabulary: str | None
    #: Folded phrases in which an occurrence of the word does not count (防漏水 for 漏水).
    exceptions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TextTest:
    mode: str
    words: tuple[Word, ...]
    negation: bool = True

    def render(self) -> str:
        suffix = "" if self.negation else " (negation off)"
        return f"text {self.mode} [{word_labels(self.words)}]{suffix}"


@dataclass(frozen=True, slots=True)
class SpanTest:
    """Words tested where they stand: near words of a second list (within some characters,
    in order, or in the same clause or sentence), in one part of the text (the customer's
    words, an agent's note, speech reported from the company), in a question."""

    words: tuple[Word, ...]
    near: tuple[Word, ...] = ()
    within: int | None = None
    ordered: bool = False
    same: str | None = None
    part: str | None = None
    sentence: str | None = None
    negation: bool = True

    def render(self) -> str:
        parts = [f"text [{word_labels(self.words)}]"]
        if self.near:
            how = ("in the same " + self.same) if self.same else f"within {self.within}"
            parts.append(f"{'then' if self.ordered else 'near'} [{word_labels(self.near)}] {how}")
        if self.part:
            parts.append(f"in {self.part}")
        if self.sentence:
            parts.append(f"in a {self.sentence}")
        return " ".join(parts) + ("" if self.negation else " (negation off)")


def word_labels(words: tuple[Word, ...]) -> str:
    """The words of a test as the policy wrote them: ``$vocabulary`` or the word itself."""
    shown: list[str] = []
    for w in words:
        label = f"${w.vocabulary}" if w.vocabulary else w.text
        if label not in shown:
            shown.append(label)
    return ", ".join(shown)


@dataclass(frozen=True, slots=True)
class FieldTest:
    path: str
    op: str
    value: Any

    def render(self) -> str:
        symbol = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
        if self.op in symbol:
            return f"{self.path} {symbol[self.op]} {_show(self.value)}"
        if self.op == "exists":
            return f"{self.path} {'exists' if self.value else 'is missing'}"
        return f"{self.path} {self.op.replace('_', ' ')} {_show(self.value)}"


@dataclass(frozen=True, slots=True)
class RegexTest:
    """The pattern matches the folded text; with ``negation`` (the default, as for words)
    a match right after a negation cue, in its clause, does not count."""

    pattern: str
    negation: bool = True

    def render(self) -> str:
        return f"text matches /{self.pattern}/" + ("" if self.negation else " (negated too)")


@dataclass(frozen=True, slots=True)
class OutputTest:
    name: str
    values: tuple[str, ...]

    def render(self) -> str:
        shown = self.values[0] if len(self.values) == 1 else f"any of [{', '.join(self.values)}]"
        return f"{'flag' if self.name == 'flags' else self.name} is {shown}"


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Condition, ...]

    def render(self) -> str:
        return "all(" + "; ".join(c.render() for c in self.items) + ")"


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]

    def render(self) -> str:
        return "any(" + "; ".join(c.render() for c in self.items) + ")"


@dataclass(frozen=True, slots=True)
class NotOf:
    item: Condition

    def render(self) -> str:
        return f"not({self.item.render()})"


Condition = TextTest | SpanTest | FieldTest | RegexTest | OutputTest | AllOf | AnyOf | NotOf


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def words_tested(condition: TextTest | SpanTest) -> tuple[Word, ...]:
    """Every word a text or positional test looks for (both lists of ``near``)."""
    return (*condition.words, *condition.near) if isinstance(condition, SpanTest) \
        else condition.words


def walk(condition: Condition) -> list[Condition]:
    """Every condition in the tree, the root first."""
    out: list[Condition] = [condition]
    if isinstance(condition, AllOf | AnyOf):
        for item in condition.items:
            out.extend(walk(item))
    elif isinstance(condition, NotOf):
        out.extend(walk(condition.item))
    return out


ConditionFn = Callable[..., bool]


def reads_history(condition: Condition) -> bool:
    """Whether the condition tests a ``history.*`` fact (counted from a case store)."""
    return any(isinstance(c, FieldTest) and c.path.startswith("history.")
               for c in walk(condition))
