"""Which columns of a table hold which complaint fields, checked on the schema alone.

``plan_columns`` reads a Spark schema (duck-typed: fields with ``name`` and ``dataType``,
whose ``typeName()`` says the kind) and returns an ``InputPlan``, or raises
``ColumnError`` listing every missing, mistyped or ambiguous column at once, before a
task runs. ``InputPlan.records`` turns the rows of an Arrow batch into record dicts for
``Policy.triage`` on the executors. Nothing here imports pyspark or pyarrow.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..complaint import Complaint, Customer, Product
from ..errors import ColumnError, ComplaintError, FieldIssue, did_you_mean

#: How a column's value becomes a record field.
Kind = Literal["scalar", "struct", "map", "json"]

_STRING = frozenset({"string", "varchar", "char"})
_INTEGER = frozenset({"byte", "short", "integer", "long"})
_TIMESTAMP = frozenset({"timestamp", "timestamp_ntz"})

#: The Spark type names each top-level field accepts, and what they read as.
_TOP: Mapping[str, tuple[frozenset[str], str]] = {
    "id": (_STRING | _INTEGER, "a string or an integer"),
    "text": (_STRING, "a string"),
    "channel": (_STRING, "a string"),
    "request_type": (_STRING, "a string"),
    "received_at": (_TIMESTAMP | _STRING, "a timestamp, timestamp_ntz or ISO 8601 string"),
    "prior_rejections": (_INTEGER, "an integer (tinyint, smallint, int or bigint)"),
    "demands": (frozenset({"array"}), "an array of strings"),
    "attributes": (_STRING | frozenset({"map", "struct"}),
                   "a JSON object string, a map or a struct"),
}
#: The sub-records, their fields, and what each sub-field accepts.
_NESTED: Mapping[str, tuple[str, ...]] = {
    "customer": tuple(Customer.model_fields),
    "product": tuple(Product.model_fields),
}
_SUB_TYPES: Mapping[str, tuple[frozenset[str], str]] = {
    "purchase_date": (frozenset({"date"}) | _STRING, "a date or an ISO 8601 date string"),
}
_REQUIRED = ("id", "text", "channel")
#: Every field name ``columns=`` may map: top-level ones, the sub-records as structs, and
#: each sub-field (``customer.tier``), whose default column is ``customer_tier``.
FIELD_NAMES: tuple[str, ...] = (*_TOP, *_NESTED,
                                *(f"{n}.{s}" for n, subs in _NESTED.items() for s in subs))
assert set(_TOP) | set(_NESTED) == set(Complaint.model_fields)


@dataclass(frozen=True, slots=True)
class Source:
    """One column read into the record: the field path it fills and how it is read."""

    path: tuple[str, ...]
    column: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class InputPlan:
    """The columns a job reads (``sources``) and the key columns it passes through."""

    sources: tuple[Source, ...]
    keys: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every input column the job needs, each once, keys first."""
        return tuple(dict.fromkeys([*self.keys, *(s.column for s in self.sources)]))

    def records(self, rows: Iterable[Mapping[str, Any]]
                ) -> Iterator[dict[str, Any] | ComplaintError]:
        """Each row as a record dict for ``Policy.triage``, or the error that stops it
        (an attributes string that is not JSON). Null columns are left out of the record,
        so a null required field reads as missing."""
        for row in rows:
            try:
                yield self._record(row)
            except ComplaintError as exc:
                yield exc
            except Exception as exc:  # a value no field reads (a map with odd keys...)
                yield ComplaintError([FieldIssue("", f"unreadable row: {type(exc).__name__}: "
                                                     f"{exc}")])

    def _record(self, row: Mapping[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for source in self.sources:
            value = row[source.column]
            if value is None:
                continue
            kind = source.kind
            if kind == "struct":
                value = {k: v for k, v in value.items() if v is not None}
            elif kind == "map":
                value = dict(value)
            elif kind == "json":
                value = _json_object(value, source.column)
            if len(source.path) == 1:
                record[source.path[0]] = value
            else:
                record.setdefault(source.path[0], {})[source.path[1]] = value
        return record


def _json_object(value: str, column: str) -> Any:
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ComplaintError([FieldIssue(
            "attributes", f"column '{column}' is not valid JSON: {exc}")]) from None


def plan_columns(schema: Any, *, columns: Mapping[str, str] | None = None,
                 keys: Sequence[str] | None = None) -> InputPlan:
    """The ``InputPlan`` for a DataFrame schema; ``columns`` maps field names
    (``FIELD_NAMES``: ``text``, ``customer.tier``...) to column names that differ from
    them; ``keys`` are the input columns passed through (default: the id column).

    Raises ``ColumnError`` with every problem: a mapped name that is no field, a missing
    required column, a column of the wrong type, a sub-record given twice.
    """
    mapping = dict(columns or {})
    fields = {f.name: f.dataType for f in schema.fields}
    issues: list[FieldIssue] = []
    for name in mapping:
        if name not in FIELD_NAMES:
            hint = did_you_mean(name, FIELD_NAMES) or "fields: " + ", ".join(FIELD_NAMES)
            issues.append(FieldIssue(f"columns[{name!r}]", f"not a complaint field; {hint}"))
    sources: list[Source] = []
    for name, (accepted, wanted) in _TOP.items():
        column = mapping.get(name, name)
        if column not in fields:
            if name in mapping:
                issues.append(FieldIssue(name, f"mapped to column '{column}', which the "
                                               f"DataFrame does not have{_have(fields)}"))
            elif name in _REQUIRED:
                close = did_you_mean(name, fields)
                issues.append(FieldIssue(name, f"required column '{name}' is missing"
                                               f"{_have(fields)}; " + (close + " " if close else "")
                                         + f"(or map one: columns={{'{name}': 'COLUMN'}})"))
            continue
        kind = _type_name(fields[column])
        if kind not in accepted or (name == "demands"
                                    and _type_name(fields[column].elementType) not in _STRING):
            issues.append(FieldIssue(name, f"column '{column}' is {_show(fields[column])}; "
                                           f"expected {wanted}"))
            continue
        read: Kind = ("json" if name == "attributes" and kind in _STRING else
                      "map" if kind == "map" else "struct" if kind == "struct" else "scalar")
        sources.append(Source((name,), column, read))
    for name, subs in _NESTED.items():
        sources += _nested(name, subs, fields, mapping, issues)
    wanted_keys = tuple(keys) if keys is not None else (mapping.get("id", "id"),)
    for key in wanted_keys:
        if key not in fields:
            close = did_you_mean(key, fields)
            issues.append(FieldIssue(f"keys[{key!r}]", "no such column" + _have(fields)
                                     + (f"; {close}" if close else "")))
    if issues:
        raise ColumnError(issues)
    return InputPlan(tuple(sources), wanted_keys)


def _nested(name: str, subs: tuple[str, ...], fields: Mapping[str, Any],
            mapping: Mapping[str, str], issues: list[FieldIssue]) -> list[Source]:
    """The columns of a sub-record: one struct column, or flat ``<name>_<field>`` ones."""
    struct = mapping.get(name, name)
    flat = {sub: mapping.get(f"{name}.{sub}", f"{name}_{sub}") for sub in subs}
    present = {sub: col for sub, col in flat.items() if col in fields}
    for sub, col in flat.items():
        if f"{name}.{sub}" in mapping and col not in fields:
            issues.append(FieldIssue(f"{name}.{sub}", f"mapped to column '{col}', which the "
                                                      f"DataFrame does not have"))
    if struct in fields:
        dtype = fields[struct]
        if present:
            issues.append(FieldIssue(name, f"given twice: struct column '{struct}' and flat "
                                           f"column(s) {', '.join(present.values())}; keep one"))
            return []
        if _type_name(dtype) != "struct":
            issues.append(FieldIssue(name, f"column '{struct}' is {_show(dtype)}; expected a "
                                           f"struct of {', '.join(subs)}"))
            return []
        bad = False
        for sub in dtype.fields:
            if sub.name not in subs:
                hint = did_you_mean(sub.name, subs)
                issues.append(FieldIssue(f"{name}.{sub.name}", f"struct column '{struct}' has a "
                                         f"field {name} records do not have; "
                                         + (hint or "fields: " + ", ".join(subs))))
                bad = True
            elif not _sub_ok(sub.name, sub.dataType):
                issues.append(FieldIssue(f"{name}.{sub.name}", f"is {_show(sub.dataType)}; "
                                                               f"expected {_sub_wanted(sub.name)}"))
                bad = True
        return [] if bad else [Source((name,), struct, "struct")]
    elif name in mapping:
        issues.append(FieldIssue(name, f"mapped to column '{struct}', which the DataFrame "
                                       f"does not have"))
    out = []
    for sub, col in present.items():
        if not _sub_ok(sub, fields[col]):
            issues.append(FieldIssue(f"{name}.{sub}", f"column '{col}' is "
                                     f"{_show(fields[col])}; expected {_sub_wanted(sub)}"))
        else:
            out.append(Source((name, sub), col, "scalar"))
    return out


def _sub_ok(sub: str, dtype: Any) -> bool:
    return _type_name(dtype) in _SUB_TYPES.get(sub, (_STRING, ""))[0]


def _sub_wanted(sub: str) -> str:
    return _SUB_TYPES.get(sub, (_STRING, "a string"))[1]


def _type_name(dtype: Any) -> str:
    """Spark's name of a data type's kind (``string``, ``long``, ``struct``...)."""
    return str(dtype.typeName())


def _show(dtype: Any) -> str:
    return str(dtype.simpleString())


def _have(fields: Mapping[str, Any]) -> str:
    names = list(fields)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f" (the DataFrame has: {shown})" if names else " (the DataFrame has no columns)"
