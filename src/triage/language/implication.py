"""What one rule condition says about another, read from their structure alone.

``implies(a, b)``: every complaint for which ``a`` holds makes ``b`` hold too.
``exclusive(a, b)``: no complaint makes both hold. Both are conservative: ``True`` is
proved, ``False`` means "not proved" (the policy analysis then stays silent rather than
cry wolf). They serve ``triage check``: shadowed rules (a later rule implies an earlier
one of the same stage) and priority ties (two rules that are not exclusive).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .conditions import (
    LIST_FIELDS,
    AllOf,
    AnyOf,
    Condition,
    FieldTest,
    NotOf,
    OutputTest,
    RegexTest,
    SpanTest,
    TextTest,
)

#: Outputs with one value per complaint (two different values exclude each other).
_SINGLE_OUTPUTS = frozenset({"request_type", "category", "subcategory", "severity", "handling"})
_Bound = tuple[Any, bool]  # (value, inclusive)


def implies(a: Condition, b: Condition) -> bool:
    """True when ``a`` holding proves that ``b`` holds."""
    if isinstance(b, AllOf) and not b.items:
        return True
    if a == b:
        return True
    if isinstance(a, AnyOf):
        return all(implies(x, b) for x in a.items)
    if isinstance(b, AllOf):
        return all(implies(a, y) for y in b.items)
    if isinstance(a, AllOf) and any(implies(x, b) for x in a.items):
        return True
    if isinstance(b, AnyOf) and any(implies(a, y) for y in b.items):
        return True
    if isinstance(b, NotOf):
        return exclusive(a, b.item)
    if isinstance(a, NotOf):
        return isinstance(b, NotOf) and implies(b.item, a.item)
    if isinstance(a, TextTest) and isinstance(b, TextTest):
        return _text_implies(a, b)
    if isinstance(a, SpanTest) and isinstance(b, TextTest):
        return _span_implies(a, b)
    if isinstance(a, FieldTest) and isinstance(b, FieldTest):
        return a.path == b.path and _field_implies(a, b)
    if isinstance(a, OutputTest) and isinstance(b, OutputTest):
        return a.name == b.name and set(a.values) <= set(b.values)
    # a match no cue negates is a match: the negation-aware test implies the other
    return (isinstance(a, RegexTest) and isinstance(b, RegexTest) and a.pattern == b.pattern
            and (a.negation or not b.negation))


def exclusive(a: Condition, b: Condition) -> bool:
    """True when no complaint makes both ``a`` and ``b`` hold."""
    for x, y in ((a, b), (b, a)):
        if isinstance(x, AnyOf):
            return all(exclusive(item, y) for item in x.items)
    for x, y in ((a, b), (b, a)):
        if isinstance(x, AllOf) and any(exclusive(item, y) for item in x.items):
            return True
        if isinstance(x, NotOf) and implies(y, x.item):
            return True
    if isinstance(a, TextTest) and isinstance(b, TextTest):
        return _text_exclusive(a, b) or _text_exclusive(b, a)
    if isinstance(a, FieldTest) and isinstance(b, FieldTest):
        return a.path == b.path and _field_exclusive(a, b)
    if isinstance(a, OutputTest) and isinstance(b, OutputTest):
        return (a.name == b.name and a.name in _SINGLE_OUTPUTS
                and not set(a.values) & set(b.values))
    return False


# -- text --------------------------------------------------------------------------------
# With negation on, a test reads the words found un-negated, a subset of all words found.


def _words(test: TextTest) -> frozenset[str]:
    return frozenset(w.folded for w in test.words)


def _finds_at_least(a: TextTest, b: TextTest) -> bool:
    """Whatever ``a`` counts as found, ``b`` counts as found too."""
    return a.negation or not b.negation


def _text_implies(a: TextTest, b: TextTest) -> bool:
    wa, wb = _words(a), _words(b)
    if a.mode == "none" or b.mode == "none":
        # none(A) implies none(B) when B's words are among A's, read no more strictly.
        return (a.mode == b.mode == "none" and wb <= wa and _finds_at_least(b, a))
    if not _finds_at_least(a, b):
        return False
    if a.mode == "any":
        return wa <= wb if b.mode == "any" else (len(wb) == 1 and wa == wb)
    return bool(wa & wb) if b.mode == "any" else wb <= wa


def _text_exclusive(found: TextTest, none: TextTest) -> bool:
    """``found`` (any/all) holding proves that ``none`` fails."""
    if found.mode == "none" or none.mode != "none" or not _finds_at_least(found, none):
        return False
    wf, wn = _words(found), _words(none)
    return wf <= wn if found.mode == "any" else bool(wf & wn)


# -- fields ------------------------------------------------------------------------------


def _span_implies(a: SpanTest, b: TextTest) -> bool:
    """A positional test finds a word of its list (and one of ``near``): an ``any`` test
    holding all of either list holds too (when it honours negation no more than ``a``)."""
    if b.mode != "any" or (b.negation and not a.negation):
        return False
    wanted = {w.folded for w in b.words}
    return any(ws and {w.folded for w in ws} <= wanted for ws in (a.words, a.near))


def _field_implies(a: FieldTest, b: FieldTest) -> bool:
    if b.op == "exists":
        if not b.value:
            return a.op == "exists" and not a.value
        if a.op == "exists":
            return bool(a.value)
        values = _values(a)
        return a.op not in ("ne", "not_in") and not (values and values & {"", ()})
    if a.op == b.op == "contains":
        return _set_of(a.value) <= _set_of(b.value)
    if a.op == b.op == "not_in":
        return set(b.value) <= set(a.value)
    if a.op == "not_in" and b.op == "ne":
        return b.value in a.value
    if a.path in LIST_FIELDS or a.op in ("exists", "contains", "ne", "not_in"):
        return False
    values = _values(a)
    if values is not None:  # eq / in: every value allowed by a must pass b
        return all(_passes(v, b) for v in values)
    low, high = _interval(a)
    if b.op in ("gt", "gte", "lt", "lte", "between"):
        b_low, b_high = _interval(b)
        return _within_low(low, b_low) and _within_high(high, b_high)
    return False


def _field_exclusive(a: FieldTest, b: FieldTest) -> bool:
    if a.path in LIST_FIELDS:
        return False
    for x, y in ((a, b), (b, a)):
        if x.op == "exists" and not x.value:
            return y.op not in ("exists", "ne", "not_in") or (y.op == "exists" and y.value)
    if "exists" in (a.op, b.op) or "contains" in (a.op, b.op):
        return False
    for x, y in ((a, b), (b, a)):
        values = _values(x)
        if values is not None:
            return not any(_passes(v, y) for v in values)
    if "ne" in (a.op, b.op) or "not_in" in (a.op, b.op):
        return False
    (a_low, a_high), (b_low, b_high) = _interval(a), _interval(b)
    return _apart(a_high, b_low) or _apart(b_high, a_low)


def _set_of(value: Any) -> frozenset[Any]:
    return frozenset(value) if isinstance(value, tuple | list) else frozenset([value])


def _values(test: FieldTest) -> frozenset[Any] | None:
    """The values an ``eq`` or ``in`` test allows, or None for other operators."""
    if test.op == "eq":
        return frozenset([test.value])
    if test.op == "in":
        return frozenset(test.value)
    return None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def _passes(value: Any, test: FieldTest) -> bool:
    """Whether a field equal to ``value`` passes ``test`` (False when not comparable)."""
    try:
        if test.op == "eq":
            return bool(value == test.value)
        if test.op == "ne":
            return bool(value != test.value)
        if test.op == "in":
            return value in test.value
        if test.op == "not_in":
            return value not in test.value
        if test.op == "between":
            return bool(test.value[0] <= value <= test.value[1])
        if test.op in _COMPARE:
            return _COMPARE[test.op](value, test.value)
    except TypeError:
        return False
    return False


def _interval(test: FieldTest) -> tuple[_Bound | None, _Bound | None]:
    """(low, high) bounds of an order test; None is unbounded."""
    if test.op == "between":
        return (test.value[0], True), (test.value[1], True)
    if test.op in ("gt", "gte"):
        return (test.value, test.op == "gte"), None
    if test.op in ("lt", "lte"):
        return None, (test.value, test.op == "lte")
    return None, None


def _within_low(low: _Bound | None, bound: _Bound | None) -> bool:
    """Every value above ``low`` is above ``bound`` too."""
    if bound is None:
        return True
    if low is None:
        return False
    try:
        return bool(low[0] > bound[0] or (low[0] == bound[0] and (bound[1] or not low[1])))
    except TypeError:
        return False


def _within_high(high: _Bound | None, bound: _Bound | None) -> bool:
    """Every value below ``high`` is below ``bound`` too."""
    if bound is None:
        return True
    if high is None:
        return False
    try:
        return bool(high[0] < bound[0] or (high[0] == bound[0] and (bound[1] or not high[1])))
    except TypeError:
        return False


def _apart(high: _Bound | None, low: _Bound | None) -> bool:
    """No value is both below ``high`` and above ``low``."""
    if high is None or low is None:
        return False
    try:
        return bool(high[0] < low[0] or (high[0] == low[0] and not (high[1] and low[1])))
    except TypeError:
        return False
