"""The condition parser's record-field tests: ``field: <path>`` with one operator.

Each value is checked against the field's type (channels, request types and demands take
the library's values, ``product.domain`` the taxonomy's domains, dates and times are
parsed), so that a rule that can never hold is refused when the policy loads.
"""

from __future__ import annotations

import difflib
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..complaint import Channel, Demand, RequestType
from . import conditions as c
from .loader import PathKey
from .parse_base import ParserBase

FIELD_OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "exists", "contains")
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
    # Counted from a case store (Policy.triage(history=...)); absent without one.
    "history.open_cases_same_topic": int,
    "history.complaints_30d": int,
    "history.rejected_answers": int,
    "history.team_week_count": int,
    "history.first_case_level": int,
}
#: History facts depend on the topic (category, subcategory) and the team (owner): the
#: stages that decide those, and the ones before them, may not test them.
HISTORY_BLIND_STAGES = frozenset({"request_type", "category"})
ORDERED_TYPES = (int, date, datetime)


class _Invalid:
    """A value that failed its check (``None`` is a valid value to compare with)."""


_INVALID: Any = _Invalid()


class FieldParsing(ParserBase):
    """``field:`` tests."""

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
        if field_path.startswith("history.") and self.scope.stage in HISTORY_BLIND_STAGES:
            self._fail((*path, "field"), "history-too-early",
                       f"the {self.scope.stage} stage cannot test '{field_path}': history "
                       "facts are counted on the topic the category stage decides",
                       "test history in the flags, severity, handling, owner, deadlines or "
                       "script stage")
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
