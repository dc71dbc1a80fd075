"""The parser of the condition language: a rule's ``when`` tree -> frozen conditions.

Checks every test fully (keys, operators, field types, vocabularies, regexes, earlier
outputs), collecting each problem at its file, line and column instead of stopping at the
first. The objects it builds are in ``conditions``. The tree, text, regex and output tests
are read here; record-field tests in ``parse_fields``, positional tests in
``parse_positions``, on the shared ``parse_base``.
"""

from __future__ import annotations

import difflib
from typing import Any

from ..errors import did_you_mean
from ..text.folding import fold
from ..text.regex import compile_pattern
from . import conditions as c
from .loader import PathKey
from .parse_fields import FIELD_OPS, FieldParsing
from .parse_positions import TEXT_MODES, PositionParsing

OUTPUT_TESTS = ("request_type", "category", "subcategory", "severity", "handling")
TEST_KEYS = ("all", "any", "not", "text", "near", "field", "regex", "flag", *OUTPUT_TESTS)


class ConditionParser(FieldParsing, PositionParsing):
    """Parses one rule's ``when`` tree, collecting every problem instead of stopping."""

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
            "field" in node and k in FIELD_OPS) and not (
                ("text" in node or "regex" in node) and k == "negation")]
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
            return self._regex(value, sub, node.get("negation", True), path)
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

    def _regex(self, value: Any, path: PathKey, negation: Any,
               parent: PathKey) -> c.Condition | None:
        if not isinstance(negation, bool):
            self._fail((*parent, "negation"), "wrong-type", "negation takes true or false")
            return None
        if not isinstance(value, str) or not value:
            self._fail(path, "wrong-type", "'regex' takes a pattern, as text")
            return None
        if value.startswith("$") and value[1:].isidentifier():
            name = value[1:]
            if name not in self.scope.patterns:
                self._fail(path, "undefined-pattern", f"pattern '{value}' is not defined",
                           did_you_mean(name, self.scope.patterns, prefix="$")
                           or "define it under 'patterns:'")
                return None
            return c.RegexTest(self.scope.patterns[name], negation)
        problem = regex_problem(value)
        if problem is not None:
            self._fail(path, *problem)
            return None
        return c.RegexTest(value, negation)

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




def regex_problem(pattern: str) -> tuple[str, str, str] | None:
    """Why ``pattern`` cannot be a policy regex (code, message, hint), or None: it must be
    RE2 and match folded text. Used for inline regexes and named ``patterns:`` alike."""
    try:
        compile_pattern(pattern)
    except ValueError as exc:
        return ("invalid-regex", f"invalid regex: {exc}",
                "patterns use RE2 syntax, which has no look-around or back-references; "
                "this keeps matching linear in the length of the text")
    unfolded = _unfolded_literal(pattern)
    if unfolded:
        return ("regex-never-matches",
                f"the pattern contains {unfolded!r}, which never occurs in folded text",
                "regexes run on folded text (lower case, half-width, Simplified): "
                f"write {fold(unfolded)!r}")
    return None


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
