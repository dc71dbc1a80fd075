"""The parser of the condition language: a rule's ``when`` tree -> frozen conditions.

Checks every test fully (keys, operators, field types, vocabularies, regexes, earlier
outputs), collecting each problem at its file, line and column instead of stopping at the
first. The objects it builds are in ``conditions``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..complaint import Channel, Demand, RequestType
from ..errors import Problem
from ..text.folding import fold
from ..text.regex import compile_pattern
from . import conditions as c
from .loader import PathKey, SourceFile

FIELD_OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "exists", "contains")
OUTPUT_TESTS = ("request_type", "category", "subcategory", "severity", "handling")
TEST_KEYS = ("all", "any", "not", "text", "near", "field", "regex", "flag", *OUTPUT_TESTS)
TEXT_MODES = ("any", "all", "none")
#: Where a positional test may look: ``in:`` a part, ``sentence:`` a kind, ``same:`` a unit.
PARTS = ("customer", "note", "reported")
SENTENCE_KINDS = ("question", "statement")
UNITS = ("clause", "sentence")
NEAR_KEYS = ("words", "with", "within", "ordered", "same", "in", "sentence", "negation")
#: ``near`` without ``within`` or ``same``: at most this many characters apart.
DEFAULT_WITHIN = 8
MAX_WITHIN = 200

#: Record fields rules may compare, with their value type; ``attributes.*`` is free-form.
FIELD_TYPES: dict[str, Any] = {
    "id": str,
    "text": str,
    "channel": Channel,
    "request_type": RequestType,
    "received_at": datetime,
    "prior_rejections": int,
    "demands": Demand,
    "customer.id": str,
    "customer.name": str,
    "customer.title": str,
    "customer.tier": str,
    "customer.locale": str,
    "product.domain": str,
    "product.line": str,
    "product.model": str,
    "product.purchase_date": date,
    "product.lot": str,
}
ORDERED_TYPES = (int, date, datetime)


@dataclass(frozen=True)
class ConditionScope:
    """What a condition may refer to: the policy's vocabularies, values, and earlier stages."""

    stage: str
    earlier_stages: tuple[str, ...]
    vocabularies: Mapping[str, tuple[c.Word, ...]]
    taxonomy: Mapping[str, frozenset[str]]
    #: Named regexes of the policy (``patterns:``), for ``regex: $name``.
    patterns: Mapping[str, str] = field(default_factory=dict)


class ConditionParser:
    """Parses one rule's ``when`` tree, collecting every problem instead of stopping."""

    def __init__(self, source: SourceFile, scope: ConditionScope) -> None:
        self.source = source
        self.scope = scope
        self.problems: list[Problem] = []

    def _fail(self, path: PathKey, code: str, message: str, hint: str | None = None,
              *, key: bool = False) -> None:
        self.problems.append(self.source.problem(path, code, message, hint, key=key))

    def parse(self, node: Any, path: PathKey) -> c.Condition | None:
        if not isinstance(node, dict):
            if isinstance(node, list):
                self._fail(path, "wrong-type", "a condition is a mapping, found a list",
                           "to require several tests write 'all:' (or 'any:') above the list")
            else:
                self._fail(path, "wrong-type",
                           f"a condition is a mapping such as 'text: [...]', found {node!r}")
            return None
        tests = [k for k in node if k in TEST_KEYS]
        unknown = [k for k in node if k not in TEST_KEYS and not (
            "field" in node and k in FIELD_OPS) and not ("text" in node and k == "negation")]
        for key in unknown:
            close = difflib.get_close_matches(key, [*TEST_KEYS, *FIELD_OPS], n=1)
            hint = f"did you mean '{close[0]}'?" if close else (
                f"a condition is one of: {', '.join(TEST_KEYS)}")
            if key in FIELD_OPS:
                hint = f"'{key}' compares a record field: write 'field: <path>' next to it"
            self._fail((*path, key), "unknown-key", f"unknown condition key '{key}'", hint,
                       key=True)
        if unknown and not tests:
            return None
        if not tests:
            self._fail(path, "empty-condition", "empty condition",
                       f"a condition is one of: {', '.join(TEST_KEYS)}")
            return None
        if len(tests) > 1:
            self._fail((*path, tests[1]), "ambiguous-condition",
                       f"one condition holds one test, found {', '.join(tests)}",
                       "put each test in its own list item under 'all:' or 'any:'", key=True)
            return None
        key = tests[0]
        value = node[key]
        sub = (*path, key)
        if key in ("all", "any"):
            return self._group(key, value, sub)
        if key == "not":
            inner = self.parse(value, sub)
            return c.NotOf(inner) if inner is not None else None
        if key == "text":
            return self._text(value, sub, node.get("negation", True), path)
        if key == "near":
            return self._near(value, sub)
        if key == "field":
            return self._field(node, path)
        if key == "regex":
            return self._regex(value, sub)
        if key == "flag":
            return self._outputs("flags", value, sub)
        return self._outputs(key, value, sub)

    def _group(self, key: str, value: Any, path: PathKey) -> c.Condition | None:
        if not isinstance(value, list) or not value:
            self._fail(path, "wrong-type", f"'{key}' takes a non-empty list of conditions")
            return None
        items = [self.parse(item, (*path, i)) for i, item in enumerate(value)]
        if any(item is None for item in items):
            return None
        kept = tuple(i for i in items if i is not None)
        if len(kept) == 1:
            return kept[0]
        return c.AllOf(kept) if key == "all" else c.AnyOf(kept)

    def _words(self, value: Any, path: PathKey) -> tuple[c.Word, ...] | None:
        raw = [value] if isinstance(value, str | int) and not isinstance(value, bool) else value
        if not isinstance(raw, list) or not raw:
            self._fail(path, "wrong-type", "expected a word or a list of words")
            return None
        words: list[c.Word] = []
        ok = True
        for i, raw_item in enumerate(raw):
            item = str(raw_item) if isinstance(raw_item, int) and not isinstance(
                raw_item, bool) else raw_item
            if isinstance(item, dict) and isinstance(item.get("word"), str) and set(item) <= {
                    "word", "except"} and isinstance(item.get("except", []), list):
                exceptions = tuple(fold(str(e)) for e in item.get("except", []))
                words.append(c.Word(item["word"], fold(item["word"]), None, exceptions))
                continue
            if not isinstance(item, str) or not item.strip():
                self._fail((*path, i) if isinstance(value, list) else path, "wrong-type",
                           f"expected a word (or {{word: ..., except: [...]}}), found {item!r}")
                ok = False
                continue
            if item.startswith("$"):
                name = item[1:]
                if name not in self.scope.vocabularies:
                    close = difflib.get_close_matches(name, list(self.scope.vocabularies), n=1)
                    hint = f"did you mean '${close[0]}'?" if close else (
                        "define it under 'vocabularies:'")
                    self._fail((*path, i) if isinstance(value, list) else path,
                               "undefined-vocabulary", f"vocabulary '{item}' is not defined", hint)
                    ok = False
                    continue
                words.extend(self.scope.vocabularies[name])
            else:
                words.append(c.Word(item, fold(item), None))
        return tuple(words) if ok else None

    def _text(self, value: Any, path: PathKey, negation: Any,
              parent: PathKey) -> c.Condition | None:
        if not isinstance(negation, bool):
            self._fail((*parent, "negation"), "wrong-type", "negation takes true or false")
            return None
        if not isinstance(value, dict):
            words = self._words(value, path)
            return c.TextTest("any", words, negation) if words is not None else None
        tests: list[c.Condition] = []
        ok = True
        place = {k: value[k] for k in ("in", "sentence") if k in value}
        if place:
            return self._placed_text(value, path, negation, place)
        for mode, words_value in value.items():
            if mode == "negation":
                if not isinstance(words_value, bool):
                    self._fail((*path, mode), "wrong-type", "negation takes true or false")
                    ok = False
                else:
                    negation = words_value
                continue
            if mode not in TEXT_MODES:
                close = difflib.get_close_matches(mode, [*TEXT_MODES, "negation"], n=1)
                self._fail((*path, mode), "unknown-key", f"unknown text test '{mode}'",
                           f"did you mean '{close[0]}'?" if close else
                           "a text test is any:, all: or none: with a list of words", key=True)
                ok = False
                continue
            words = self._words(words_value, (*path, mode))
            if words is None:
                ok = False
            else:
                tests.append(c.TextTest(mode, words, True))
        if not ok:
            return None
        if not tests:
            self._fail(path, "empty-condition", "text test without any:, all: or none:")
            return None
        tests = [c.TextTest(t.mode, t.words, negation) if isinstance(t, c.TextTest) else t
                 for t in tests]
        return tests[0] if len(tests) == 1 else c.AllOf(tuple(tests))

    def _choice(self, value: Any, choices: tuple[str, ...], path: PathKey,
                what: str) -> str | None:
        if value in choices:
            return str(value)
        close = difflib.get_close_matches(str(value), choices, n=1)
        self._fail(path, "unknown-value", f"{what} is one of {', '.join(choices)}, found "
                   f"{value!r}", f"did you mean '{close[0]}'?" if close else None)
        return None

    def _placed_text(self, value: dict[str, Any], path: PathKey, negation: Any,
                     place: dict[str, Any]) -> c.Condition | None:
        """``text: {any: [...], in: note, sentence: question}``: words in a part or a
        kind of sentence."""
        extra = sorted(set(value) - {"any", "in", "sentence", "negation"})
        for key in extra:
            self._fail((*path, key), "unknown-key" if key not in TEXT_MODES else "conflict",
                       f"'{key}' cannot be used with in:/sentence:" if key in TEXT_MODES
                       else f"unknown text test '{key}'",
                       "in: and sentence: place the words of any: (use not: for none)",
                       key=True)
        if "any" not in value:
            self._fail(path, "missing-key", "in:/sentence: need the words under any:")
            return None
        words = self._words(value["any"], (*path, "any"))
        part = self._choice(place["in"], PARTS, (*path, "in"), "in") if "in" in place \
            else None
        sentence = (self._choice(place["sentence"], SENTENCE_KINDS, (*path, "sentence"),
                                 "sentence") if "sentence" in place else None)
        negation = value.get("negation", negation)
        if not isinstance(negation, bool):
            self._fail((*path, "negation"), "wrong-type", "negation takes true or false")
            return None
        if words is None or extra or ("in" in place and part is None) or (
                "sentence" in place and sentence is None):
            return None
        return c.SpanTest(words, part=part, sentence=sentence, negation=negation)

    def _near(self, value: Any, path: PathKey) -> c.Condition | None:
        """``near: {words: [...], with: [...], within: 8, ordered: false, same: clause,
        in: customer, sentence: question, negation: true}``."""
        if not isinstance(value, dict):
            self._fail(path, "wrong-type", "'near' takes a mapping: {words: [...], with: "
                       "[...], within: 8}")
            return None
        ok = True
        for key in value:
            if key not in NEAR_KEYS:
                close = difflib.get_close_matches(str(key), NEAR_KEYS, n=1)
                self._fail((*path, key), "unknown-key", f"unknown key '{key}' of near",
                           f"did you mean '{close[0]}'?" if close else
                           "near takes: " + ", ".join(NEAR_KEYS), key=True)
                ok = False
        for key in ("words", "with"):
            if key not in value:
                self._fail(path, "missing-key", f"near needs '{key}': a list of words")
                ok = False
        words = self._words(value["words"], (*path, "words")) if "words" in value else None
        near = self._words(value["with"], (*path, "with")) if "with" in value else None
        within = value.get("within")
        if within is not None and (not isinstance(within, int) or isinstance(within, bool)
                                   or not 0 <= within <= MAX_WITHIN):
            self._fail((*path, "within"), "wrong-type", f"within is a number of characters "
                       f"from 0 to {MAX_WITHIN}, found {within!r}")
            ok = False
        same = (self._choice(value["same"], UNITS, (*path, "same"), "same")
                if "same" in value else None)
        part = self._choice(value["in"], PARTS, (*path, "in"), "in") if "in" in value else None
        sentence = (self._choice(value["sentence"], SENTENCE_KINDS, (*path, "sentence"),
                                 "sentence") if "sentence" in value else None)
        for key in ("ordered", "negation"):
            if key in value and not isinstance(value[key], bool):
                self._fail((*path, key), "wrong-type", f"{key} takes true or false")
                ok = False
        if not ok or words is None or near is None or ("same" in value and same is None) or (
                "in" in value and part is None) or ("sentence" in value and sentence is None):
            return None
        if within is None and same is None:
            within = DEFAULT_WITHIN
        return c.SpanTest(words, near, within, bool(value.get("ordered", False)), same, part,
                          sentence, bool(value.get("negation", True)))

    def _field(self, node: dict[str, Any], path: PathKey) -> c.Condition | None:
        field_path = node["field"]
        if not isinstance(field_path, str):
            self._fail((*path, "field"), "wrong-type", "'field' names a record field, as text")
            return None
        ops = [k for k in node if k in FIELD_OPS]
        if len(ops) != 1:
            self._fail((*path, "field"), "missing-operator" if not ops else "ambiguous-condition",
                       f"field test on '{field_path}' needs exactly one operator"
                       + (f", found {', '.join(ops)}" if ops else ""),
                       f"operators: {', '.join(FIELD_OPS)}", key=True)
            return None
        op = ops[0]
        value_path = (*path, op)
        if field_path.startswith("attributes.") and len(field_path) > len("attributes."):
            kind: Any = None
        elif field_path in FIELD_TYPES:
            kind = FIELD_TYPES[field_path]
        else:
            close = difflib.get_close_matches(field_path, [*FIELD_TYPES, "attributes.<name>"], n=1)
            self._fail((*path, "field"), "unknown-field", f"unknown record field '{field_path}'",
                       f"did you mean '{close[0]}'?" if close else
                       "custom data goes under attributes, e.g. attributes.score")
            return None
        value = node[op]
        checked = self._field_value(field_path, kind, op, value, value_path)
        if checked is _INVALID:
            return None
        return c.FieldTest(field_path, op, checked)

    def _field_value(self, field_path: str, kind: Any, op: str, value: Any,
                     path: PathKey) -> Any:
        if op == "exists":
            if not isinstance(value, bool):
                self._fail(path, "wrong-type", "'exists' takes true or false")
                return _INVALID
            return value
        if field_path in c.LIST_FIELDS and op != "contains":
            self._fail(path, "wrong-operator",
                       f"'{field_path}' is a list: use 'contains' or 'exists'")
            return _INVALID
        if op == "contains" and field_path not in c.LIST_FIELDS and kind is not None:
            self._fail(path, "wrong-operator",
                       f"'contains' tests list fields; '{field_path}' holds one value",
                       "use 'eq' or 'in'")
            return _INVALID
        if op in ("gt", "gte", "lt", "lte", "between") and kind is not None and (
                kind not in ORDERED_TYPES):
            self._fail(path, "wrong-operator",
                       f"'{op}' compares numbers or dates; '{field_path}' holds text",
                       "use 'eq', 'in' or a text test")
            return _INVALID
        many = op in ("in", "not_in", "between") or (op == "contains" and isinstance(value, list))
        if op == "between" and (not isinstance(value, list) or len(value) != 2):
            self._fail(path, "wrong-type", "'between' takes two values: [low, high]")
            return _INVALID
        if many and not isinstance(value, list):
            self._fail(path, "wrong-type", f"'{op}' takes a list of values")
            return _INVALID
        values = value if many else [value]
        checked = []
        for i, item in enumerate(values):
            where = (*path, i) if many else path
            result = self._coerce(field_path, kind, item, where)
            if result is _INVALID:
                return _INVALID
            checked.append(result)
        if op == "between" and checked[0] > checked[1]:
            self._fail(path, "invalid", "'between' needs [low, high] with low <= high")
            return _INVALID
        return tuple(checked) if many else checked[0]

    def _coerce(self, field_path: str, kind: Any, item: Any, path: PathKey) -> Any:
        if kind is None:
            if isinstance(item, dict | list):
                self._fail(path, "wrong-type", "compare with a single value (text, number, date)")
                return _INVALID
            return item
        try:
            result = TypeAdapter(kind).validate_python(item)
        except ValidationError:
            expected = {int: "a whole number", date: "a date (2026-05-01)",
                        datetime: "a date and time (2026-05-01T09:00:00+08:00)", str: "text"}
            if isinstance(kind, type) and issubclass(kind, Channel | RequestType | Demand):
                choices = [m.value for m in kind]
                close = difflib.get_close_matches(str(item), choices, n=1)
                self._fail(path, "unknown-value", f"{item!r} is not a {field_path} value",
                           f"did you mean '{close[0]}'?" if close else
                           f"allowed: {', '.join(choices)}")
            else:
                self._fail(path, "wrong-type",
                           f"{field_path} holds {expected.get(kind, kind)}, found {item!r}")
            return _INVALID
        if field_path == "product.domain":
            domains = self.scope.taxonomy.get("domain", frozenset())
            if domains and result not in domains:
                close = difflib.get_close_matches(result, sorted(domains), n=1)
                self._fail(path, "unknown-value", f"'{result}' is not a domain of the taxonomy",
                           f"did you mean '{close[0]}'?" if close else
                           f"domains: {', '.join(sorted(domains))}")
                return _INVALID
        return result.value if hasattr(result, "value") else result

    def _regex(self, value: Any, path: PathKey) -> c.Condition | None:
        if not isinstance(value, str) or not value:
            self._fail(path, "wrong-type", "'regex' takes a pattern, as text")
            return None
        if value.startswith("$") and value[1:].isidentifier():
            name = value[1:]
            if name not in self.scope.patterns:
                close = difflib.get_close_matches(name, list(self.scope.patterns), n=1)
                self._fail(path, "undefined-pattern", f"pattern '{value}' is not defined",
                           f"did you mean '${close[0]}'?" if close else
                           "define it under 'patterns:'")
                return None
            return c.RegexTest(self.scope.patterns[name])
        try:
            compile_pattern(value)
        except ValueError as exc:
            self._fail(path, "invalid-regex", f"invalid regex: {exc}",
                       "patterns use RE2 syntax, which has no look-around or back-references; "
                       "this keeps matching linear in the length of the text")
            return None
        unfolded = _unfolded_literal(value)
        if unfolded:
            self._fail(path, "regex-never-matches",
                       f"the pattern contains {unfolded!r}, which never occurs in folded text",
                       "regexes run on folded text (lower case, half-width, Simplified): "
                       f"write {fold(unfolded)!r}")
            return None
        return c.RegexTest(value)

    def _outputs(self, name: str, value: Any, path: PathKey) -> c.Condition | None:
        stage = "flags" if name == "flags" else ("category" if name == "subcategory" else name)
        label = "flag" if name == "flags" else name
        if stage not in self.scope.earlier_stages:
            self._fail(path, "stage-order",
                       f"the {self.scope.stage} stage cannot test '{label}': "
                       f"the {stage} stage has not run yet",
                       "stages run in this order: " + " -> ".join(
                           [*self.scope.earlier_stages, self.scope.stage]) + " -> ...",
                       key=True)
            return None
        raw = [value] if isinstance(value, str) else value
        if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
            self._fail(path, "wrong-type", f"'{label}' takes a value or a list of values")
            return None
        known = self.scope.taxonomy.get(name, frozenset())
        for i, v in enumerate(raw):
            if v not in known:
                close = difflib.get_close_matches(v, sorted(known), n=1)
                self._fail((*path, i) if isinstance(value, list) else path, "unknown-value",
                           f"'{v}' is not a {label} of the taxonomy",
                           f"did you mean '{close[0]}'?" if close else
                           f"known: {', '.join(sorted(known))}")
                return None
        return c.OutputTest(name, tuple(raw))


class _Invalid:
    pass


_INVALID: Any = _Invalid()


def _unfolded_literal(pattern: str) -> str:
    """Characters of a regex's literal text that folding would change, e.g. 'A' or '車'."""
    out = []
    escaped = False
    for ch in pattern:
        if escaped:
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            continue
        if fold(ch) != ch:
            out.append(ch)
    return "".join(out)
